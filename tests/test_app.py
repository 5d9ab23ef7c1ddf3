"""The Streamlit app, driven by streamlit.testing.v1.AppTest.

AppTest cannot operate st.file_uploader, so uploaded bytes are handed to the Screen page
the way its upload button does: as ``st.session_state["pending_uploads"]`` (role ->
Upload). Everything after that is the app's own code path.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import screening.uploads
from app_pages import ledger, state
from app_pages.text import plain, unescape
from screening.browse import filter_results, results_with_names
from screening.pipeline import screen_files
from screening.review import Judgement, changed_outcomes, review_groups, review_items, settle
from screening.uploads import Upload

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")
SAMPLE = REPO / "data" / "account-manager-applicants.csv"
LONG = REPO / "data" / "account-manager-long"
SPEC = REPO / "rules" / "alameda-7616-account-manager.yaml"
AS_OF = date(2026, 11, 1)

SMALL_CSV = (
    "applicant_id,first_name,last_name,edu1_degree,edu1_major,job1_title,job1_employer,"
    "job1_industry,job1_start,job1_end,eeo_sex\n"
    "A1,Ada,Lovelace,BA,Economics,Key Account Manager,Valley Power,Electric utility,"
    "2019-01-01,2024-12-31,Female\n"
    "A2,Bo,Chen,High School Diploma,,Cashier,Corner Store,Retail,2020-01-01,2021-01-01,Male\n"
    "=1+2,Cy,Formula,BA,Economics,Account Manager,Gadget Co,Software,2015-01-01,2024-12-31,"
    "Female\n"
)


@pytest.fixture(autouse=True)
def audit_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own audit database; runs stay in the session unless a test asks
    for the audit store (recording every sample run would only slow the other tests)."""
    monkeypatch.setenv("SCREENING_DATABASE_URL", f"sqlite:///{tmp_path / 'audit.db'}")
    monkeypatch.setenv(ledger.AUDIT_ENV, "0")
    monkeypatch.setenv(state.SETTLED_DIR_ENV, str(tmp_path / "settled"))


@pytest.fixture()
def audit_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs and overrides go to the (per-test) audit store."""
    monkeypatch.setenv(ledger.AUDIT_ENV, "1")
    assert ledger.audit_available(), "the audit store is part of the package"


def start(page: str | None = None) -> AppTest:
    """The app run once on the sample (fixed as-of date), optionally on another page."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["as_of"] = AS_OF
    at.run()
    assert not at.exception, at.exception
    if page is not None:
        at.switch_page(page)
        at.run()
        assert not at.exception, at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def upload(at: AppTest, **files: Upload) -> None:
    at.session_state["pending_uploads"] = files
    at.run()
    assert not at.exception, at.exception


def errors(at: AppTest) -> list[str]:
    """Error messages as the reader sees them (markup characters unescaped)."""
    return [unescape(e.value) for e in at.error]


# Tables are told apart by their columns (AppTest does not expose a dataframe's key).
TABLE_COLUMNS = {
    "audit_runs": ["run", "decisions", "revision"],
    "audit_statuses": ["criterion", "status"],
    "results_table": ["applicant_id", "name", "final_outcome"],
    "errors_table": ["problem", "fix"],
    "map_preview_applicants": ["header", "read as"],
    "review_groups": ["kind", "value", "settleable"],
    "review_overrides": ["engine outcome", "reviewer's outcome"],
    "settle_changes": ["applicant_id", "before", "after"],
    "detail_jobs": ["what matched"],
    "detail_education": ["field_match"],
}


def shown_table(at: AppTest, name: str) -> pd.DataFrame:
    wanted = TABLE_COLUMNS[name]
    for frame in at.dataframe:
        value = frame.value
        if isinstance(value, pd.DataFrame) and all(c in value.columns for c in wanted):
            return value
    raise AssertionError(f"no {name} table shown")


def button(at: AppTest, label: str) -> object:
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r}; buttons: {[b.label for b in at.button]}"
    return found[0]


@pytest.fixture(scope="module")
def sample_result():  # type: ignore[no-untyped-def]
    return screen_files(SAMPLE, SPEC, as_of=AS_OF)


# ------------------------------------------------------------------ first run and uploads


def test_first_run_shows_the_sample_results(sample_result) -> None:  # type: ignore[no-untyped-def]
    at = start()
    counts = sample_result.outcome_counts()
    shown = metrics(at)
    assert shown["Screened"] == f"{len(sample_result.results):,}"
    assert shown["Qualified"] == f"{counts['qualified']:,}"
    assert shown["Not qualified"] == f"{counts['not_qualified']:,}"
    assert shown["Needs review"] == f"{counts['needs_review']:,}"
    assert shown["Rows in error"] == str(sample_result.batch.error_rows)
    assert len(at.get("vega_lite_chart")) == 3  # outcomes, rejections, years
    assert any("sample batch" in c.value for c in at.caption)
    table = shown_table(at, "results_table")
    assert list(table["applicant_id"]) == list(sample_result.results["applicant_id"])
    assert not [c for c in table.columns if str(c).startswith("eeo_")]


def test_upload_wide_file_screens_it_without_showing_eeo() -> None:
    at = start()
    upload(at, applicants=Upload("my-batch.csv", SMALL_CSV.encode()))
    assert errors(at) == []
    assert metrics(at)["Screened"] == "3"
    assert any("uploaded my-batch.csv" in c.value for c in at.caption)
    table = shown_table(at, "results_table")
    assert set(table["applicant_id"]) == {"A1", "A2", "=1+2"}
    assert not [c for c in table.columns if "eeo" in str(c)]
    assert "Female" not in table.to_string()


def test_upload_through_the_file_uploader_widgets() -> None:
    at = start()
    mapping = "columns:\n  Ref: applicant_id\n"
    csv = SMALL_CSV.replace("applicant_id,", "Ref,", 1)
    at.file_uploader(key="upload_applicants").set_value(("ats.csv", csv.encode(), "text/csv"))
    at.file_uploader(key="upload_mapping").set_value(("map.yaml", mapping.encode(), "text/yaml"))
    at.run()
    button(at, "Screen these files").click()
    at.run()
    assert not at.exception, at.exception
    assert errors(at) == []
    assert metrics(at)["Screened"] == "3"
    assert at.session_state["column_mapping"] == {"Ref": "applicant_id"}


def test_upload_excel_file() -> None:
    frame = pd.read_csv(io.StringIO(SMALL_CSV), dtype=str, keep_default_na=False).iloc[:2]
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    at = start()
    upload(at, applicants=Upload("batch.xlsx", buffer.getvalue()))
    assert errors(at) == []
    assert metrics(at)["Screened"] == "2"
    assert set(shown_table(at, "results_table")["applicant_id"]) == {"A1", "A2"}


def test_upload_long_form_gives_the_wide_form_decisions(sample_result) -> None:  # type: ignore[no-untyped-def]
    at = start()
    upload(
        at,
        applicants=Upload("applicants.csv", (LONG / "applicants.csv").read_bytes()),
        jobs=Upload("jobs.csv", (LONG / "jobs.csv").read_bytes()),
        education=Upload("education.csv", (LONG / "education.csv").read_bytes()),
    )
    assert errors(at) == []
    counts = sample_result.outcome_counts()
    assert metrics(at)["Qualified"] == f"{counts['qualified']:,}"
    assert metrics(at)["Needs review"] == f"{counts['needs_review']:,}"
    table = shown_table(at, "results_table")
    expected = sample_result.results.set_index("applicant_id")["outcome"]
    assert (table.set_index("applicant_id")["outcome"] == expected.loc[table["applicant_id"]]).all()


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("batch.csv", b"%PDF-1.7 binary stuff", "is a PDF document"),
        ("batch.docx", b"PK\x03\x04 something", "is a .docx file, not a CSV or Excel file"),
        ("batch.csv", b"", "is empty"),
        ("batch.csv", b"applicant_id,first_name\n1,Ada\n", "no job and no education column"),
    ],
)
def test_bad_files_get_a_clear_message_and_keep_the_previous_batch(
    name: str, data: bytes, expected: str
) -> None:
    at = start()
    before = metrics(at)
    upload(at, applicants=Upload(name, data))
    shown = errors(at)
    assert len(shown) == 1 and expected in shown[0], shown
    assert name in shown[0]
    assert "/tmp" not in shown[0] and "Traceback" not in shown[0]
    assert metrics(at) == before  # the sample is still on screen


def test_oversized_upload_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(screening.uploads, "DEFAULT_MAX_BYTES", 100)
    at = start()
    upload(at, applicants=Upload("big.csv", SMALL_CSV.encode()))
    shown = errors(at)
    assert len(shown) == 1 and "over the 100 bytes limit" in shown[0]
    assert "command line" in shown[0]


def test_unrecognised_headers_go_through_the_mapping_step() -> None:
    csv = (
        "Ref,Occupation 1,Firm 1,Sector 1,Began 1,Left 1\n"
        "R1,Key Account Manager,Valley Power,Electric utility,2019-01-01,2024-12-31\n"
        "R2,Cashier,Corner Store,Retail,2020-01-01,2021-01-01\n"
    )
    at = start()
    upload(at, applicants=Upload("ats-export.csv", csv.encode()))
    assert any("headers are not recognised" in w.value for w in at.warning)
    assert button(at, "Apply the mapping and screen").disabled  # no applicant_id yet
    assert any("map the column holding the applicant id" in e for e in errors(at))
    # "Sector 1" and "Began 1" are known ATS spellings; the others need mapping
    at.selectbox(key="map_applicants_Ref").set_value("applicant_id")
    at.selectbox(key="map_applicants_Firm 1").set_value("job1_start")  # Began 1 is that
    at.run()
    assert any("two columns are read as job1_start" in e for e in errors(at))
    assert button(at, "Apply the mapping and screen").disabled
    at.selectbox(key="map_applicants_Occupation 1").set_value("job1_title")
    at.selectbox(key="map_applicants_Firm 1").set_value("job1_employer")
    at.selectbox(key="map_applicants_Left 1").set_value("job1_end")
    at.run()
    # the spec decides on education too: the file has none, and the user says so
    assert any("decides on education entries" in e for e in errors(at))
    assert button(at, "Apply the mapping and screen").disabled
    at.checkbox(key="declare_no_education_columns").check()
    at.run()
    preview = shown_table(at, "map_preview_applicants")
    assert dict(zip(preview["header"], preview["read as"], strict=True))["Ref"] == "applicant_id"
    assert any(d.label == "Save this mapping (YAML)" for d in at.get("download_button"))
    button(at, "Apply the mapping and screen").click()
    at.run()
    assert not at.exception
    assert errors(at) == []
    assert metrics(at)["Screened"] == "2"
    assert at.session_state["column_mapping"]["Ref"] == "applicant_id"
    table = shown_table(at, "results_table")
    assert dict(zip(table["applicant_id"], table["outcome"], strict=True))["R2"] == "not_qualified"


WORKDAY_CSV = (
    "Applicant ID,Work Experience 1 - Job Title,Work Experience 1 - Company,"
    "Work Experience 1 - Industry,Work Experience 1 - From,Work Experience 1 - To,"
    "Education 1 - Degree,Education 1 - Field of Study\n"
    "W1,Key Account Manager,Valley Power,Electric utility,2019-01-01,Present,BA,Economics\n"
    "W2,Cashier,Corner Store,Retail,2020-01-01,Current,High School Diploma,\n"
)


def test_workday_headers_are_recognised_and_screened_without_a_mapping_step() -> None:
    at = start()
    upload(at, applicants=Upload("workday.csv", WORKDAY_CSV.encode()))
    assert not at.exception, at.exception
    assert errors(at) == [] and "mapping_step" not in at.session_state
    assert metrics(at)["Screened"] == "2"
    table = shown_table(at, "results_table")
    assert dict(zip(table["applicant_id"], table["outcome"], strict=True))["W1"] == "qualified"


def _without_job_columns() -> str:
    # education and ids recognised; the job headers are no export's wording
    return (
        "Applicant ID,Stint A title,Stint A firm,Education 1 - Degree\n"
        "N1,Key Account Manager,Valley Power,BA\n"
        "N2,Cashier,Corner Store,BA\n"
    )


def test_a_file_without_job_columns_is_refused_until_the_user_says_it_has_none() -> None:
    at = start()
    upload(at, applicants=Upload("no-jobs.csv", _without_job_columns().encode()))
    assert not at.exception, at.exception
    assert any("decides on job entries" in e for e in errors(at))
    assert button(at, "Apply the mapping and screen").disabled
    at.checkbox(key="declare_no_job_columns").check()
    at.run()
    assert not any("decides on job entries" in e for e in errors(at))
    button(at, "Apply the mapping and screen").click()
    at.run()
    assert not at.exception, at.exception
    assert metrics(at)["Screened"] == "2"
    assert set(shown_table(at, "results_table")["outcome"]) == {"not_qualified"}


def test_a_declaration_taken_back_refuses_the_file_again() -> None:
    at = start()
    at.checkbox(key="declare_no_job_columns").check()
    at.run()
    upload(at, applicants=Upload("no-jobs.csv", _without_job_columns().encode()))
    assert metrics(at)["Screened"] == "2"
    at.checkbox(key="declare_no_job_columns").uncheck()
    at.run()
    assert not at.exception, at.exception
    message = " ".join(errors(at))
    assert "no job column is recognised" in message and "'Stint A title'" in message
    assert "The file has no job entries" in message
    assert not at.metric  # no results on screen that the refusal would contradict


def test_the_mapping_step_preselects_its_suggestions() -> None:
    csv = "Ref,Job Titel 1,Employer 1,Degree 1\nR1,Key Account Manager,Valley Power,BA\n"
    at = start()
    upload(at, applicants=Upload("typo.csv", csv.encode()))
    assert at.selectbox(key="map_applicants_Job Titel 1").value == "job1_title"
    at.selectbox(key="map_applicants_Ref").set_value("applicant_id")
    at.run()
    button(at, "Apply the mapping and screen").click()
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["column_mapping"]["Job Titel 1"] == "job1_title"
    assert metrics(at)["Screened"] == "1"


def test_repeated_and_blank_headers_do_not_break_the_mapping_step() -> None:
    csv = (
        "Ref,Notes,Stint A title,,Notes,Education 1 - Degree\n"
        "R1,first,Key Account Manager,x,second,BA\n"
    )
    at = start()
    upload(at, applicants=Upload("notes.csv", csv.encode()))
    assert not at.exception, at.exception
    for header in ("Ref", "Notes", "Notes (2)", "column 4", "Stint A title"):
        assert at.selectbox(key=f"map_applicants_{header}") is not None
    at.selectbox(key="map_applicants_Ref").set_value("applicant_id")
    at.selectbox(key="map_applicants_Stint A title").set_value("job1_title")
    at.selectbox(key="map_applicants_Notes (2)").set_value("job1_duties")
    at.run()
    button(at, "Apply the mapping and screen").click()
    at.run()
    assert not at.exception, at.exception
    assert metrics(at)["Screened"] == "1"
    problems = shown_table(at, "errors_table")
    assert any("both headed 'Notes'" in p for p in problems["problem"])


def test_an_excel_title_row_above_the_headers_is_left_out_and_said() -> None:
    frame = pd.read_csv(io.StringIO(SMALL_CSV), dtype=str, keep_default_na=False).iloc[:2]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Applicant export -- City of Alameda"])
    sheet.append([])
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    at = start()
    upload(at, applicants=Upload("titled.xlsx", buffer.getvalue()))
    assert not at.exception, at.exception
    assert errors(at) == []
    assert metrics(at)["Screened"] == "2"
    problems = shown_table(at, "errors_table")
    assert any("column names are in row 3" in p for p in problems["problem"])


def test_input_problems_are_a_table_with_row_column_value_problem_fix(sample_result) -> None:  # type: ignore[no-untyped-def]
    at = start()
    problems = shown_table(at, "errors_table")
    for column in ("row", "column", "value", "problem", "fix"):
        assert column in problems.columns
    assert len(problems) == len(sample_result.errors_frame())
    assert (problems["severity"] == "error").sum() == sample_result.batch.error_rows


# ------------------------------------------------------------------ filters and detail


def test_filters_by_outcome_criterion_and_search(sample_result) -> None:  # type: ignore[no-untyped-def]
    at = start()
    at.multiselect(key="filter_outcomes").set_value(["qualified"])
    at.run()
    table = shown_table(at, "results_table")
    assert len(table) == sample_result.outcome_counts()["qualified"]
    assert set(table["outcome"]) == {"qualified"}

    at.multiselect(key="filter_outcomes").set_value([])
    at.selectbox(key="filter_criterion").set_value("typical.education")
    at.run()
    at.multiselect(key="filter_statuses").set_value(["substituted"])
    at.run()
    table = shown_table(at, "results_table")
    expected = (sample_result.results["typical.education"] == "substituted").sum()
    assert len(table) == expected > 0
    assert set(table["typical.education"]) == {"substituted"}

    at.selectbox(key="filter_criterion").set_value("(any)")
    at.text_input(key="filter_text").input("müller")
    at.run()
    table = shown_table(at, "results_table")
    names = filter_results(results_with_names(sample_result), text="müller")
    assert list(table["applicant_id"]) == list(names["applicant_id"]) and len(table) > 0


def test_applicant_detail_shows_criteria_jobs_education_and_timeline(sample_result) -> None:  # type: ignore[no-untyped-def]
    at = start()
    at.selectbox(key="open_applicant_choice").set_value("100001")
    at.button(key="open_applicant").click()
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Applicant"]
    decision = sample_result.decision("100001")
    text = "\n".join(m.value for m in at.markdown)
    for criterion in decision.criteria:
        assert f"**{plain(criterion.id)}**" in text
        assert plain(criterion.reason) in text
    for reason in decision.reasons:
        assert plain(reason) in text
    jobs = shown_table(at, "detail_jobs")
    assert list(jobs["title"]) == [j.title for j in decision.jobs]
    assert list(jobs["classification"]) == [j.classification for j in decision.jobs]
    assert "what matched" in jobs.columns
    education = shown_table(at, "detail_education")
    assert list(education["degree"]) == [e.degree for e in decision.education]
    assert len(at.get("vega_lite_chart")) == 1  # the timeline


def test_applicant_text_is_shown_as_text_not_markup() -> None:
    title = "Account Manager [prize](http://evil.example) :red[alarm] $x^2$ *bold*"
    csv = (
        "applicant_id,job1_title,job1_employer,job1_industry,job1_start,job1_end,edu1_degree\n"
        f'M1,"{title}",Valley Power,Electric utility,2015-01-01,2024-12-31,BA\n'
    )
    at = start()
    upload(at, applicants=Upload("markup.csv", csv.encode()))
    at.session_state["applicant_id"] = "M1"
    at.switch_page("app_pages/applicant.py")
    at.run()
    assert not at.exception
    shown = [m.value for m in at.markdown]
    with_title = [m for m in shown if "prize" in m]
    assert with_title, shown
    for markdown in with_title:
        assert "[prize](http" not in markdown and ":red[" not in markdown
        assert "$x^2$" not in markdown and "*bold*" not in markdown
        assert title in unescape(markdown)


# ------------------------------------------------------------------ review


def _review_page_on(at: AppTest, kind: str, value: str) -> None:
    groups = review_groups(at.session_state["run"].items)
    label = next(
        f"{g.kind}: {g.value} ({g.applicants})"
        for g in groups.itertuples()
        if g.kind == kind and g.value == value
    )
    at.selectbox(key="review_group").set_value(label)
    at.run()


def test_review_queue_groups_needs_review_by_deciding_evidence(sample_result) -> None:  # type: ignore[no-untyped-def]
    at = start("app_pages/review_queue.py")
    groups = shown_table(at, "review_groups")
    expected = review_groups(review_items(sample_result))
    assert list(groups["kind"]) == list(expected["kind"])
    assert list(groups["applicants"]) == list(expected["applicants"])
    waiting = set(sample_result.results.query("outcome == 'needs_review'")["applicant_id"])
    assert set(review_items(sample_result)["applicant_id"]) == waiting


@pytest.mark.parametrize("store", ["session", "audit store"])
def test_override_needs_a_justification_and_a_name(
    sample_result, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(ledger.AUDIT_ENV, "1" if store == "audit store" else "0")
    at = start("app_pages/review_queue.py")
    applicant = at.selectbox(key="review_applicant").value
    at.radio(key="override_to_queue").set_value("qualified")
    at.text_input(key="override_reviewer_queue").input("Pat Reviewer")
    button(at, "Record decision").click()
    at.run()
    assert any("write a justification" in e for e in errors(at))
    assert at.session_state["run"].ledger.overrides() == []

    at.text_area(key="override_why_queue").input("Verified the utility experience by phone")
    at.text_input(key="override_reviewer_queue").input("")
    button(at, "Record decision").click()
    at.run()
    assert any("name the reviewer" in e for e in errors(at))
    assert at.session_state["run"].ledger.overrides() == []

    at.text_input(key="override_reviewer_queue").input("Pat Reviewer")
    button(at, "Record decision").click()
    at.run()
    assert errors(at) == []
    overrides = at.session_state["run"].ledger.overrides()
    assert [(o.applicant_id, o.to_outcome, o.reviewer) for o in overrides] == [
        (applicant, "qualified", "Pat Reviewer")
    ]
    reviewed = shown_table(at, "review_overrides")
    assert reviewed.iloc[0]["engine outcome"] == "needs_review"
    assert reviewed.iloc[0]["reviewer's outcome"] == "qualified"
    export = state.export_frame(at.session_state["run"])
    row = export[export["applicant_id"] == applicant].iloc[0]
    assert (row["outcome"], row["final_outcome"]) == ("needs_review", "qualified")
    assert row["review_justification"] == "Verified the utility experience by phone"
    run_ledger = at.session_state["run"].ledger
    assert isinstance(run_ledger, ledger.AuditLedger) == (store == "audit store")
    if isinstance(run_ledger, ledger.AuditLedger):
        stored = run_ledger.store.decision(run_ledger.run_id(), applicant)
        assert (stored.outcome, stored.final_outcome) == ("needs_review", "qualified")
        assert stored.overrides[-1].justification == "Verified the utility experience by phone"


def test_signed_in_reviewer_is_recorded_without_typing_a_name() -> None:
    at = AppTest.from_file(APP, default_timeout=120)
    at.user = {"is_logged_in": True, "email": "reviewer@example.org", "name": "Rae Viewer"}
    at.session_state["as_of"] = AS_OF
    at.run()
    at.switch_page("app_pages/review_queue.py")
    at.run()
    assert not [t for t in at.text_input if t.key == "override_reviewer_queue"]
    assert any(plain("Recorded as reviewer@example.org") in c.value for c in at.caption)
    at.radio(key="override_to_queue").set_value("not_qualified")
    at.text_area(key="override_why_queue").input("Industry is retail, not related")
    button(at, "Record decision").click()
    at.run()
    assert errors(at) == []
    [override] = at.session_state["run"].ledger.overrides()
    assert override.reviewer == "reviewer@example.org"


def test_settling_an_industry_makes_a_spec_revision_and_shows_who_changed(sample_result) -> None:  # type: ignore[no-untyped-def]
    at = start("app_pages/review_queue.py")
    _review_page_on(at, "industry", "Software")
    at.button(key="settle_related").click()
    at.run()
    assert not at.exception
    run = at.session_state["run"]
    assert run.result.spec.revision.endswith("+settled.1")
    assert run.result.spec.sha256() != sample_result.spec.sha256()
    settled = settle(
        sample_result.spec, sample_result.vocabulary, Judgement("industry", "Software", True)
    )
    assert run.result.spec.vocabulary == settled.vocabulary_file
    # the revision is saved with its vocabulary: the command line reproduces the decisions
    saved = Path(run.active.path)
    assert (
        saved.parent == state.settled_folder() and (saved.parent / settled.vocabulary_file).exists()
    )
    again = screen_files(SAMPLE, saved, as_of=AS_OF)
    assert again.spec.sha256() == run.result.spec.sha256()
    assert list(again.results["outcome"]) == list(run.result.results["outcome"])
    shown = shown_table(at, "settle_changes")
    assert len(shown) > 0
    assert set(shown["before"]) == {"needs_review"}
    assert list(shown["applicant_id"]) == list(
        changed_outcomes(sample_result.results, run.result.results)["applicant_id"]
    )
    assert any(plain("treat industry 'Software' as related") in s.value for s in at.success)
    # the group selection starts again on the new groups
    assert at.selectbox(key="review_group").value == at.selectbox(key="review_group").options[0]
    assert "Software" not in set(shown_table(at, "review_groups")["value"])


# ------------------------------------------------------------------ downloads


def test_downloads_are_formula_safe_without_eeo_columns() -> None:
    at = start()
    upload(at, applicants=Upload("batch.csv", SMALL_CSV.encode()))
    labels = [d.label for d in at.get("download_button")]
    offered = state.downloads(at.session_state["run"])
    assert [d.label for d in offered] == labels
    files = {d.file_name: d.make() for d in offered}

    results = files["screening-results.csv"].decode("utf-8-sig")
    frame = pd.read_csv(io.StringIO(results), dtype=str, keep_default_na=False)
    assert "final_outcome" in frame.columns and "outcome" in frame.columns
    assert not [c for c in frame.columns if c.startswith("eeo_")]
    assert "Female" not in results
    assert "'=1+2" in set(frame["applicant_id"])
    assert not any(v.startswith(("=", "+", "@")) for v in frame.to_numpy().ravel() if v)

    book = openpyxl.load_workbook(io.BytesIO(files["screening-results.xlsx"]))
    rows = list(book.active.iter_rows(values_only=True))
    assert not [h for h in rows[0] if str(h).startswith("eeo_")]
    assert "'=1+2" in [r[0] for r in rows[1:]]
    assert all(not (isinstance(v, str) and v.startswith("=")) for r in rows for v in r)
    assert files["screening-errors.csv"].decode("utf-8-sig").startswith("file,row,")


# ------------------------------------------------------------------ spec and audit


def test_spec_view_shows_criteria_in_words_and_the_ruleset_with_its_hash(sample_result) -> None:  # type: ignore[no-untyped-def]
    at = start("app_pages/spec_view.py")
    text = "\n".join(m.value for m in at.markdown)
    assert plain("[typical.education] a bachelor's degree") in text
    assert plain("[typical.experience] 3 years of professional experience") in text
    assert sample_result.compiled.sha256 in text
    assert sample_result.compiled.name in text
    code = [c.value for c in at.code]
    assert any(sample_result.compiled.name in c and '"all"' in c for c in code)
    assert any(sample_result.spec.sha256() in c.value for c in at.caption)


CLASS_SPEC = b"""CITY OF EXAMPLEVILLE

PROGRAM ANALYST

Class Code: 4321

MINIMUM QUALIFICATIONS

Education: Graduation from an accredited four-year college or university with a major in
business administration or a related field.

Experience: Two years of professional experience in program management.

Applicants must be able to juggle flaming torches while reciting poetry.
"""


def test_compiled_document_is_reviewed_before_it_screens() -> None:
    at = start("app_pages/spec_view.py")
    at.session_state["pending_document"] = Upload("analyst.txt", CLASS_SPEC)
    at.run()
    assert not at.exception, at.exception
    assert errors(at) == []
    assert any("1 clause(s) of the minimum qualifications" in w.value for w in at.warning)
    assert any("juggle flaming torches" in m.value for m in at.markdown)
    use = at.button(key="use_draft")
    assert use.disabled  # the unparsed clause has not been reviewed yet
    at.checkbox(key="draft_reviewed").check()
    at.run()
    assert not at.button(key="use_draft").disabled
    at.button(key="use_draft").click()
    at.run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Screen applicants"]
    run = at.session_state["run"]
    assert run.result.spec.title == "Program Analyst"
    assert run.active.origin == "compiled from analyst.txt"
    assert metrics(at)["Screened"] == f"{len(run.result.results):,}"
    assert "pattern_1.experience" in shown_table(at, "results_table").columns


def test_unreadable_document_gets_a_message() -> None:
    at = start("app_pages/spec_view.py")
    at.session_state["pending_document"] = Upload("analyst.xls", b"\xd0\xcf\x11\xe0 old")
    at.run()
    assert not at.exception
    shown = errors(at)
    assert len(shown) == 1 and "analyst.xls" in shown[0]


def test_audit_view_without_a_store_identifies_the_run(sample_result) -> None:  # type: ignore[no-untyped-def]
    at = start("app_pages/audit_view.py")
    assert any("No audit store" in i.value for i in at.info)
    text = "\n".join(m.value for m in at.markdown)
    assert sample_result.ruleset_hash in text and sample_result.spec.sha256() in text
    files = at.dataframe[0].value
    assert list(files["sha256"]) == [f.sha256 for f in sample_result.files]


def test_audit_view_history_lookup_verify_and_impact(sample_result, audit_on) -> None:  # type: ignore[no-untyped-def]
    at = start("app_pages/audit_view.py")
    runs = shown_table(at, "audit_runs")
    assert runs.iloc[-1]["decisions"] == len(sample_result.results)
    assert runs.iloc[-1]["needs_review"] == sample_result.outcome_counts()["needs_review"]
    assert any("audit run" in c.value for c in at.caption) or len(runs) >= 1
    button(at, "Verify").click()
    at.run()
    assert any("The log is intact" in s.value for s in at.success)
    at.text_input(key="audit_applicant").input("100001")
    at.run()
    expected = sample_result.decision("100001").outcome.value
    assert any(f"Engine outcome **{expected}**" in m.value for m in at.markdown)
    statuses = shown_table(at, "audit_statuses")
    assert set(statuses["criterion"]) == set(sample_result.spec.criterion_ids())
    impact = at.dataframe[-1].value
    assert "applicant_id" not in impact.columns and len(impact) > 0
    ids = set(sample_result.results["applicant_id"])
    assert not ids & set(impact.astype(str).to_numpy().ravel())  # aggregates only
