"""The package functions behind the app: uploads, review grouping, settled judgements,
overrides, chart data and browsing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from screening.browse import filter_results, results_with_names, spec_in_words
from screening.charts import (
    job_timeline,
    outcome_counts_frame,
    rejections_by_criterion,
    required_years,
    years_distribution,
)
from screening.review import (
    Judgement,
    OverrideLog,
    ReviewError,
    SettleError,
    applicants_in_group,
    changed_outcomes,
    final_outcomes,
    review_groups,
    review_items,
    save_settled,
    settle,
)
from screening.run.stages import ScreeningResult, screen_batch
from screening.spec import load_spec
from screening.uploads import (
    Upload,
    UploadError,
    check_upload,
    header_statuses,
    load_uploads,
    mapping_yaml,
    needs_mapping,
    read_headers,
    read_mapping_upload,
)
from screening.vocabulary import vocabulary_for

REPO = Path(__file__).resolve().parent.parent
SPEC_PATH = REPO / "rules" / "alameda-7616-account-manager.yaml"
AS_OF = date(2026, 11, 1)

HEADER = (
    "applicant_id,first_name,last_name,edu1_degree,edu1_major,job1_title,job1_employer,"
    "job1_industry,job1_start,job1_end,eeo_sex\n"
)
BATCH = HEADER + (
    # an area matches, the industry is one the vocabulary does not know: review
    "R1,Ann,One,BA,Economics,Key Account Manager,Sunny Panels,Photovoltaics,"
    "2019-01-01,2024-12-31,F\n"
    "R2,Ben,Two,BS,Economics,Account Manager,Bright Cells,photovoltaics,2018-01-01,2024-12-31,M\n"
    # six utility years, an unknown major: the degree may count (3 years) or not (7 years)
    "R3,Cat,Three,BA,Basket Weaving,Account Manager,SMUD,Electric utility,2019-01-01,2024-12-31,F\n"
    "R4,Dan,Four,BA,Economics,Account Manager,SMUD,Electric utility,2019-01-01,2024-12-31,M\n"
    "R5,Eve,Five,High School Diploma,,Cashier,Corner Store,Retail,2020-01-01,2021-01-01,F\n"
)


@pytest.fixture(scope="module")
def result() -> ScreeningResult:
    spec = load_spec(SPEC_PATH)
    batch = load_uploads(Upload("batch.csv", BATCH.encode()))
    return screen_batch(
        spec, batch, as_of=AS_OF, spec_path=SPEC_PATH, vocabulary=vocabulary_for(spec, SPEC_PATH)
    )


def outcomes(result: ScreeningResult) -> dict[str, str]:
    return dict(zip(result.results["applicant_id"], result.results["outcome"], strict=True))


# ------------------------------------------------------------------ uploads


def test_check_upload_refuses_wrong_kind_oversized_and_empty() -> None:
    with pytest.raises(UploadError, match=r"'cv\.pdf' is a \.pdf file, not a CSV or Excel"):
        check_upload(Upload("cv.pdf", b"%PDF"), "applicants")
    with pytest.raises(UploadError, match=r"is 2,000 bytes, over the 1,000 bytes limit"):
        check_upload(Upload("big.csv", b"x" * 2000), "applicants", max_bytes=1000)
    with pytest.raises(UploadError, match="is empty"):
        check_upload(Upload("blank.csv", b" \r\n"), "jobs")
    check_upload(Upload("fine.xlsx", b"PK"), "applicants")  # kind is checked by suffix here


def test_load_uploads_names_the_uploaded_file_never_a_temporary_path() -> None:
    batch = load_uploads(Upload("../../etc/My Batch.csv", (BATCH + "R4,Dup,,,,,,,,,\n").encode()))
    assert [f.path for f in batch.files] == ["../../etc/My Batch.csv"]
    assert {i.file for i in batch.issues} == {"../../etc/My Batch.csv"}
    assert set(batch.applicants["file"]) == {"../../etc/My Batch.csv"}
    assert batch.error_rows == 2  # both rows of the duplicated id
    with pytest.raises(UploadError) as caught:
        load_uploads(Upload("ids.csv", b"name,job1_title\nAda,Manager\n"))
    message = str(caught.value)
    assert "'ids.csv'" in message and "no applicant_id column" in message
    assert "tmp" not in message and "--columns" not in message


def test_mapping_round_trip_and_header_statuses() -> None:
    mapping = {"Ref": "applicant_id", "Occupation 1": "job1_title"}
    text = mapping_yaml(mapping)
    assert read_mapping_upload(Upload("m.yaml", text.encode())) == mapping
    with pytest.raises(UploadError, match="not a column name"):
        read_mapping_upload(Upload("m.yaml", b"columns:\n  Ref: applicant_number\n"))

    headers = read_headers(
        Upload("ats.csv", b"Ref,Occupation 1,Start Date 1,Colour\nR1,x,y,z\n"), "applicants"
    )
    assert headers == ["Ref", "Occupation 1", "Start Date 1", "Colour"]
    before = header_statuses(headers)
    assert [s.recognised_as for s in before] == [None, None, "job1_start", None]
    assert needs_mapping(before)
    after = header_statuses(headers, mapping=mapping)
    assert [s.recognised_as for s in after] == ["applicant_id", "job1_title", "job1_start", None]
    assert not needs_mapping(after)
    # everything recognised but incomplete: mapping cannot help, the loader explains
    assert not needs_mapping(header_statuses(["applicant_id", "first_name"]))
    # long form: the applicants file needs no entry column
    assert not needs_mapping(header_statuses(["applicant_id", "Colour"]), long_form=True)
    assert needs_mapping(header_statuses(["applicant_id", "Colour"]))


# ------------------------------------------------------------------ review and settling


def test_review_items_name_the_deciding_evidence(result: ScreeningResult) -> None:
    assert outcomes(result) == {
        "R1": "needs_review",
        "R2": "needs_review",
        "R3": "needs_review",
        "R4": "qualified",
        "R5": "not_qualified",
    }
    items = review_items(result)
    assert set(items["applicant_id"]) == {"R1", "R2", "R3"}
    groups = review_groups(items)
    first = groups.iloc[0]
    assert (first["kind"], first["value"].lower(), first["applicants"]) == (
        "industry",
        "photovoltaics",
        2,
    )
    assert bool(first["settleable"])
    assert applicants_in_group(items, "industry", "PHOTOVOLTAICS") == ["R1", "R2"]
    major = items[items["applicant_id"] == "R3"]
    assert list(major["kind"]) == ["major"] and list(major["value"]) == ["Basket Weaving"]


def test_settling_an_industry_as_related_or_unrelated_rescreens_everybody(
    result: ScreeningResult,
) -> None:
    related = settle(result.spec, result.vocabulary, Judgement("industry", "Photovoltaics", True))
    assert related.spec.revision == "2019-01-09+settled.1"
    assert related.spec.vocabulary == related.vocabulary_file
    assert related.spec.sha256() != result.spec.sha256()
    assert "# settled: treat industry 'Photovoltaics' as related" in related.vocabulary_yaml
    again = screen_batch(related.spec, result.batch, as_of=AS_OF, vocabulary=related.vocabulary)
    changed = changed_outcomes(result.results, again.results)
    assert changed.to_dict("records") == [
        {"applicant_id": "R1", "before": "needs_review", "after": "qualified"},
        {"applicant_id": "R2", "before": "needs_review", "after": "qualified"},
    ]

    unrelated = settle(
        related.spec, result.vocabulary, Judgement("industry", "photovoltaics", False)
    )
    assert unrelated.spec.revision == "2019-01-09+settled.2"
    again = screen_batch(unrelated.spec, result.batch, as_of=AS_OF, vocabulary=unrelated.vocabulary)
    assert outcomes(again)["R1"] == outcomes(again)["R2"] == "not_qualified"


def test_saved_settled_spec_reproduces_its_decisions(
    result: ScreeningResult, tmp_path: Path
) -> None:
    settled = settle(result.spec, result.vocabulary, Judgement("industry", "Photovoltaics", True))
    saved, path = save_settled(settled, tmp_path / "settled")
    assert path.name == "alameda-7616-account-manager-2019-01-09+settled.1.yaml"
    assert saved.spec == settled.spec
    reloaded = load_spec(path)
    assert reloaded.sha256() == settled.spec.sha256()
    vocabulary = vocabulary_for(reloaded, path)
    assert vocabulary == settled.vocabulary
    again = screen_batch(reloaded, result.batch, as_of=AS_OF, spec_path=path, vocabulary=vocabulary)
    assert outcomes(again)["R1"] == "qualified"


def test_a_settled_revision_is_never_reused_and_no_file_replaced(
    result: ScreeningResult, tmp_path: Path
) -> None:
    folder = tmp_path / "settled"
    first = settle(result.spec, result.vocabulary, Judgement("industry", "Photovoltaics", True))
    second = settle(result.spec, result.vocabulary, Judgement("industry", "Photovoltaics", False))
    assert first.spec.revision == second.spec.revision  # both settled from the same base
    first_saved, first_path = save_settled(first, folder)
    first_text = first_path.read_text(encoding="utf-8")
    second_saved, second_path = save_settled(second, folder)
    assert first_path != second_path
    assert first_saved.spec.revision == "2019-01-09+settled.1"
    assert second_saved.spec.revision == "2019-01-09+settled.2"
    assert first_path.read_text(encoding="utf-8") == first_text  # not replaced
    assert load_spec(second_path).sha256() == second_saved.spec.sha256()
    again = screen_batch(
        load_spec(second_path), result.batch, as_of=AS_OF, vocabulary=second_saved.vocabulary
    )
    assert outcomes(again)["R1"] == "not_qualified"
    # the same judgement saved twice is two revisions too; the vocabulary file is shared
    _, third_path = save_settled(first, folder)
    assert third_path.name.endswith("+settled.3.yaml")
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []


def test_settlements_saved_at_once_claim_distinct_revisions(
    result: ScreeningResult, tmp_path: Path
) -> None:
    settled = settle(result.spec, result.vocabulary, Judgement("industry", "Photovoltaics", True))
    with ThreadPoolExecutor(max_workers=8) as pool:
        saved = list(pool.map(lambda _: save_settled(settled, tmp_path), range(8)))
    paths = {path for _, path in saved}
    revisions = {spec.spec.revision for spec, _ in saved}
    assert len(paths) == len(revisions) == 8
    assert revisions == {f"2019-01-09+settled.{n}" for n in range(1, 9)}
    for spec, path in saved:
        assert load_spec(path).revision == spec.spec.revision


def test_saving_refuses_to_replace_an_edited_vocabulary_file(
    result: ScreeningResult, tmp_path: Path
) -> None:
    settled = settle(result.spec, result.vocabulary, Judgement("industry", "Photovoltaics", True))
    (tmp_path / settled.vocabulary_file).write_text("edited by hand\n", encoding="utf-8")
    with pytest.raises(SettleError, match="exists with other content"):
        save_settled(settled, tmp_path)
    assert (tmp_path / settled.vocabulary_file).read_text(encoding="utf-8") == "edited by hand\n"


def test_settling_a_major_as_related_or_unrelated(result: ScreeningResult) -> None:
    settled = settle(result.spec, result.vocabulary, Judgement("major", "Basket Weaving", True))
    again = screen_batch(settled.spec, result.batch, as_of=AS_OF, vocabulary=settled.vocabulary)
    assert changed_outcomes(result.results, again.results)["applicant_id"].tolist() == ["R3"]
    assert outcomes(again)["R3"] == "qualified"
    unrelated = settle(result.spec, result.vocabulary, Judgement("major", "basket weaving", False))
    again = screen_batch(unrelated.spec, result.batch, as_of=AS_OF, vocabulary=unrelated.vocabulary)
    # six years of utility experience without a counting degree: seven are needed
    assert outcomes(again)["R3"] == "not_qualified"
    reason = again.decision("R3").criteria[0].reason
    assert "major 'Basket Weaving' is ruled out as a related field" in reason
    with pytest.raises(SettleError, match="blank value"):
        settle(result.spec, result.vocabulary, Judgement("major", "(blank)", True))


def test_overrides_need_reviewer_justification_and_a_change(result: ScreeningResult) -> None:
    log = OverrideLog(outcomes(result))
    with pytest.raises(ReviewError, match="justification"):
        log.record("R1", to_outcome="qualified", reviewer="Pat", justification="  ")
    with pytest.raises(ReviewError, match="reviewer"):
        log.record("R1", to_outcome="qualified", reviewer="", justification="checked")
    with pytest.raises(ReviewError, match="already qualified"):
        log.record("R4", to_outcome="qualified", reviewer="Pat", justification="checked")
    with pytest.raises(ReviewError, match="no screened applicant"):
        log.record("R9", to_outcome="qualified", reviewer="Pat", justification="checked")
    first = log.record("R1", to_outcome="qualified", reviewer="Pat", justification="phoned")
    second = log.record("R1", to_outcome="not_qualified", reviewer="Sam", justification="no")
    assert (first.from_outcome, second.from_outcome) == ("needs_review", "qualified")
    final = final_outcomes(result.results, log.overrides()).set_index("applicant_id")
    assert final.loc["R1", "outcome"] == "needs_review"
    assert final.loc["R1", "final_outcome"] == "not_qualified"
    assert final.loc["R1", "reviewer"] == "Sam"
    assert final.loc["R4", "final_outcome"] == "qualified"


# ------------------------------------------------------------------ charts and browsing


def test_chart_data(result: ScreeningResult) -> None:
    counts = outcome_counts_frame(result)
    assert counts.to_dict("records") == [
        {"outcome": "qualified", "applicants": 1},
        {"outcome": "not_qualified", "applicants": 1},
        {"outcome": "needs_review", "applicants": 3},
    ]
    rejections = rejections_by_criterion(result).set_index("criterion")["rejected"]
    assert rejections["typical.experience"] == 1 and rejections["typical.education"] == 1
    assert required_years(result.spec)["years"].tolist() == [3.0, 7.0]
    years = years_distribution(result)
    assert len(years) == 5 and "applicant_id" not in years.columns
    assert years["shown_years"].max() < 11  # capped at 7 + 4 years
    timeline = job_timeline(result.decision("R4"), AS_OF)
    assert timeline[["start", "end", "credit"]].to_dict("records") == [
        {
            "start": pd.Timestamp("2019-01-01"),
            "end": pd.Timestamp("2024-12-31"),
            "credit": "qualifying credit",
        }
    ]


def test_results_with_names_filters_and_spec_in_words(result: ScreeningResult) -> None:
    table = results_with_names(result)
    assert table["name"].tolist()[:2] == ["Ann One", "Ben Two"]
    assert not [c for c in table.columns if c.startswith("eeo")]
    assert filter_results(table, text="ben")["applicant_id"].tolist() == ["R2"]
    assert filter_results(table, text="r5")["applicant_id"].tolist() == ["R5"]
    review = filter_results(
        table, outcomes=["needs_review"], criterion="typical.education", statuses=["review"]
    )
    assert review["applicant_id"].tolist() == ["R3"]
    words = spec_in_words(result.spec)
    assert words[0].startswith("[typical.education] a bachelor's degree from an accredited school")
    assert any("substitutes for education year for year" in w for w in words)
    assert any(w.startswith("[ca_drivers_license] A valid CA driver's license") for w in words)
