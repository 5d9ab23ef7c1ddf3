"""The Streamlit app, driven by streamlit.testing.v1.AppTest.

AppTest cannot operate st.file_uploader, so uploaded bytes are handed to the Screen page
the way its upload button does: as ``st.session_state["pending_uploads"]`` (role ->
Upload). Everything after that is the app's own code path.
"""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import screening.uploads
from app_pages import ledger, state
from app_pages.text import plain, unescape
from app_pages.widgets import override_key
from screening.audit.impact import UNKNOWN
from screening.browse import filter_results, results_with_names
from screening.review import (
    Judgement,
    applicants_in_group,
    changed_outcomes,
    review_groups,
    review_items,
    settle,
)
from screening.run.stages import screen_files
from screening.spec import load_spec
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
    "audit_run_details": ["", "value"],
    "audit_run_outcomes": ["outcome", "engine", "after review"],
    "audit_impact": ["measure", "decided", "note"],
}


def shown_frame(at: AppTest, name: str) -> Any:
    """The table element told apart by its columns."""
    wanted = TABLE_COLUMNS[name]
    for frame in at.dataframe:
        value = frame.value
        if isinstance(value, pd.DataFrame) and all(c in value.columns for c in wanted):
            return frame
    raise AssertionError(f"no {name} table shown")


def shown_table(at: AppTest, name: str) -> pd.DataFrame:
    return shown_frame(at, name).value  # type: ignore[no-any-return]


def shows_missing_as_blank(frame: Any) -> bool:
    """Whether a table shows its missing cells empty (Streamlit writes "None" otherwise)."""
    return bool(frame.proto.HasField("placeholder") and frame.proto.placeholder == "")


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
        assert plain(criterion.reason.removeprefix(f"{criterion.id}: ")) in text
    for reason in decision.reasons:
        assert f"**{plain(reason.split(': ', 1)[0])}** (below)" in text
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


def by_label(widgets: Any, label: str) -> Any:
    """The one widget with this label (review widgets are keyed by what they show)."""
    found = [w for w in widgets if w.label == label]
    assert len(found) == 1, f"{len(found)} widgets labelled {label!r}"
    return found[0]


def form_widgets(at: AppTest, applicant_id: str, form: str = "queue") -> dict[str, Any]:
    """The override form's outcome radio, justification and name for one applicant."""
    suffix = override_key(form, applicant_id)
    found = {
        "outcome": at.radio(key=f"override_to_{suffix}"),
        "why": at.text_area(key=f"override_why_{suffix}"),
    }
    names = [t for t in at.text_input if t.key == f"override_reviewer_{suffix}"]
    if names:
        found["name"] = names[0]
    return found


def _review_page_on(at: AppTest, kind: str, value: str) -> None:
    groups = review_groups(at.session_state["run"].items)
    label = next(
        f"{g.kind}: {g.value} ({g.applicants})"
        for g in groups.itertuples()
        if g.kind == kind and g.value == value
    )
    by_label(at.selectbox, "Group").set_value(label)
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
    applicant = by_label(at.selectbox, "Applicant").value
    form = form_widgets(at, applicant)
    form["outcome"].set_value("qualified")
    form["name"].input("Pat Reviewer")
    button(at, "Record decision").click()
    at.run()
    assert any("write a justification" in e for e in errors(at))
    assert at.session_state["run"].ledger.overrides() == []

    form = form_widgets(at, applicant)
    form["why"].input("Verified the utility experience by phone")
    form["name"].input("")
    button(at, "Record decision").click()
    at.run()
    assert any("name the reviewer" in e for e in errors(at))
    assert at.session_state["run"].ledger.overrides() == []

    form_widgets(at, applicant)["name"].input("Pat Reviewer")
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
    form = form_widgets(at, by_label(at.selectbox, "Applicant").value)
    assert "name" not in form
    assert any(plain("Recorded as reviewer@example.org") in c.value for c in at.caption)
    form["outcome"].set_value("not_qualified")
    form["why"].input("Industry is retail, not related")
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
    group = by_label(at.selectbox, "Group")
    assert group.value == group.options[0]
    assert "Software" not in set(shown_table(at, "review_groups")["value"])


def test_the_decision_form_has_no_preselected_outcome() -> None:
    at = start("app_pages/review_queue.py")
    applicant = by_label(at.selectbox, "Applicant").value
    form = form_widgets(at, applicant)
    assert form["outcome"].value is None and form["outcome"].index is None
    form["why"].input("Checked the references")
    form["name"].input("Pat Reviewer")
    button(at, "Record decision").click()
    at.run()
    assert any("choose the reviewer's decision" in e for e in errors(at))
    assert at.session_state["run"].ledger.overrides() == []


def test_after_a_settlement_the_form_acts_on_the_applicant_it_shows(sample_result) -> None:  # type: ignore[no-untyped-def]
    at = start("app_pages/review_queue.py")
    _review_page_on(at, "industry", "Software")
    before = {"group": by_label(at.selectbox, "Group"), "who": by_label(at.selectbox, "Applicant")}
    before["who"].set_value(before["who"].options[-1])
    at.run()
    at.button(key="settle_related").click()
    at.run()
    assert not at.exception
    group, who = by_label(at.selectbox, "Group"), by_label(at.selectbox, "Applicant")
    items = at.session_state["run"].items
    labels = [f"{g.kind}: {g.value} ({g.applicants})" for g in review_groups(items).itertuples()]
    assert group.options == labels and group.value == labels[0]
    # a browser keeps a widget's value under its key: new groups and members, new keys
    assert group.key != before["group"].key and who.key != before["who"].key
    kind, value = labels[0].rsplit(" (", 1)[0].split(": ", 1)
    members = applicants_in_group(items, kind, value)
    assert who.options == members and who.value == members[0]
    shown = who.value
    assert any(f"Decision on applicant **{plain(shown)}**" in m.value for m in at.markdown)
    form = form_widgets(at, shown)
    form["outcome"].set_value("not_qualified")
    form["why"].input("Retail experience is not account management")
    form["name"].input("Pat Reviewer")
    button(at, "Record decision").click()
    at.run()
    assert errors(at) == []
    [override] = at.session_state["run"].ledger.overrides()
    assert override.applicant_id == shown
    assert any(f"{shown} needs_review → not_qualified" in unescape(s.value) for s in at.success)


def test_two_sessions_settling_from_one_base_get_two_revisions_and_two_files() -> None:
    first = start("app_pages/review_queue.py")
    second = start("app_pages/review_queue.py")
    for at, verdict in ((first, "settle_related"), (second, "settle_unrelated")):
        _review_page_on(at, "industry", "Software")
        at.button(key=verdict).click()
        at.run()
        assert not at.exception and errors(at) == []
    one, two = first.session_state["run"], second.session_state["run"]
    assert one.result.spec.revision.endswith("+settled.1")
    assert two.result.spec.revision.endswith("+settled.2")
    assert one.active.path != two.active.path
    # each saved file still screens as the session that saved it did
    for run in (one, two):
        again = screen_files(SAMPLE, Path(run.active.path), as_of=AS_OF)
        assert again.spec.sha256() == run.result.spec.sha256()
        assert list(again.results["outcome"]) == list(run.result.results["outcome"])
    assert any(plain(Path(two.active.path).name) in s.value for s in second.success)


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


def test_compiled_document_is_read_beside_the_draft_corrected_and_saved_reviewed(
    tmp_path: Path,
) -> None:
    at = start("app_pages/spec_view.py")
    at.session_state["pending_document"] = Upload("analyst.txt", CLASS_SPEC)
    at.run()
    assert not at.exception, at.exception
    assert errors(at) == []
    assert any("1 clause(s) of the minimum qualifications" in w.value for w in at.warning)
    shown = "\n".join(m.value for m in at.markdown)
    # each sentence of the document highlighted with where it went
    assert ":red-background[Applicants must be able to juggle flaming torches" in shown
    assert ":green-background[Two years of professional experience" in shown
    assert "`pattern_1.experience`" in shown and "`pattern_1.education`" in shown
    # a draft with an unparsed sentence screens nobody before it is reviewed
    draft = at.session_state["compiled_draft"]
    at.session_state["custom_spec"] = state.ActiveSpec(draft, VOCABULARY_OF(), None, "draft")
    at.switch_page("app_pages/screen.py").run()
    assert any("has not been reviewed" in e for e in errors(at))
    at.session_state["custom_spec"] = None
    del at.session_state["custom_spec"]
    at.switch_page("app_pages/spec_view.py").run()

    # correct the years, preview whom it changes on the loaded (sample) batch
    at.number_input(key="review_years_0_0").set_value(9.0)
    at.button(key="review_preview").click()
    at.run()
    assert not at.exception, at.exception
    assert any("change outcome with the corrections" in m.value for m in at.markdown)
    changed = [f.value for f in at.dataframe if "before" in getattr(f.value, "columns", [])]
    assert changed and set(changed[0]["after"]) == {"not_qualified"}

    # saving needs a reviewer; then every save is a new revision file
    at.text_input(key="review_by").input("")
    at.button(key="review_save").click()
    at.run()
    assert any("needs a name" in e for e in errors(at))
    folder = Path(str(state.settled_folder()))
    assert not folder.exists() or list(folder.glob("*.yaml")) == []
    at.text_input(key="review_by").input("A. Analyst")
    at.button(key="review_save").click()
    at.run()
    at.button(key="review_save").click()
    at.run()
    assert not at.exception, at.exception
    saved = sorted(folder.glob("*.yaml"))
    assert [p.name.rsplit("+", 1)[1] for p in saved] == ["reviewed.1.yaml", "reviewed.2.yaml"]
    first = load_spec(saved[0])
    assert first.reviewed is not None and first.reviewed.by == "A. Analyst"
    assert [e.years for e in first.patterns[0].experience] == [9.0]
    assert first.unparsed == draft.unparsed  # the unparsed sentence stays listed, now reviewed

    at.button(key="use_reviewed").click()
    at.run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Screen applicants"]
    run = at.session_state["run"]
    assert run.result.spec.reviewed is not None
    assert run.active.origin.startswith("reviewed ")
    assert metrics(at)["Screened"] == f"{len(run.result.results):,}"


def VOCABULARY_OF() -> object:  # noqa: N802
    """The project vocabulary, as the Spec page gives a compiled draft."""
    return state.rule_file_spec(state.DEFAULT_SPEC_FILE).vocabulary


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


def _record_and_wait(at: AppTest, button_key: str) -> int:
    """Click a "Record this screening" button; the run id the page then shows."""
    at.button(key=button_key).click()
    at.run()
    assert not at.exception, at.exception
    return _shown_run_id(at)


def _shown_run_id(at: AppTest) -> int:
    run = at.session_state["run"]
    run.ledger.run_id(timeout=120)  # recorded in the background: wait, then look again
    at.run()
    shown = [s.value for s in at.success if "Recorded as **audit run" in s.value]
    assert len(shown) == 1, [s.value for s in at.success]
    return int(shown[0].split("audit run ")[1].split("**")[0])


def test_page_loads_and_reruns_record_no_audit_run(audit_on) -> None:  # type: ignore[no-untyped-def]
    at = start()
    at.run()
    for page in ("app_pages/applicant.py", "app_pages/review_queue.py", "app_pages/audit_view.py"):
        at.switch_page(page)
        at.run()
        assert not at.exception, at.exception
    store = ledger.audit_store()
    assert store.runs() == []
    assert not at.session_state["run"].ledger.started
    assert any("not recorded in the audit store yet" in i.value for i in at.info)
    assert any(b.key == "record_run_audit" for b in at.button)


def test_an_upload_records_one_run_and_the_pages_show_its_id(audit_on) -> None:  # type: ignore[no-untyped-def]
    at = start()
    upload(at, applicants=Upload("my-batch.csv", SMALL_CSV.encode()))
    run_id = _shown_run_id(at)
    store = ledger.audit_store()
    assert [r.run_id for r in store.runs()] == [run_id]
    assert store.show(run_id).info.decisions == 3
    # reruns and page changes add nothing; the Audit page opens on that run, marked
    at.run()
    at.switch_page("app_pages/audit_view.py")
    at.run()
    assert not at.exception, at.exception
    assert [r.run_id for r in store.runs()] == [run_id]
    chosen = at.selectbox(key="audit_run")
    assert chosen.value == run_id
    assert chosen.format_func(run_id).endswith("(the screening on the Screen page)")
    assert any(f"Recorded as **audit run {run_id}**" in s.value for s in at.success)


def test_a_settings_change_is_recorded_by_the_click_that_records_it(audit_on) -> None:  # type: ignore[no-untyped-def]
    at = start()
    first = _record_and_wait(at, "record_run_screen")
    store = ledger.audit_store()
    at.session_state["as_of"] = date(2026, 6, 1)
    at.run()
    assert [r.run_id for r in store.runs()] == [first]  # changed, shown, not recorded
    assert any("not recorded in the audit store yet" in i.value for i in at.info)
    second = _record_and_wait(at, "record_run_screen")
    assert [r.run_id for r in store.runs()] == [first, second]
    assert store.show(second).as_of == "2026-06-01"


def test_the_readme_audit_session_acts_on_the_command_lines_run(
    audit_on, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    at = start("app_pages/review_queue.py")  # someone looks at the app first
    assert ledger.audit_store().runs() == []
    from screening.launch import main

    monkeypatch.chdir(tmp_path)
    argv = [
        "screen", str(SAMPLE), "--spec", str(SPEC), "--as-of", "2026-11-26",
        "--out", "results.csv", "--user", "Dana Recruiter",
    ]  # fmt: skip
    assert main(argv) == 0
    assert "audit: run 1 recorded" in capsys.readouterr().err
    assert (
        main(
            [
                "audit",
                "override",
                "1",
                "100001",
                "--to",
                "qualified",
                "--reviewer",
                "Sam Auditor",
                "--justification",
                "reference call",
            ]
        )  # fmt: skip
        == 0
    )
    assert ledger.audit_store().decision(1, "100001").final_outcome == "qualified"
    assert not at.session_state["run"].ledger.started


def expected_reference(rows: pd.DataFrame, min_group: int) -> str:
    """The group an impact table must take as reference: the highest selection rate among
    the groups with at least `min_group` decided applicants (not the unknown answer)."""
    eligible = rows[(rows["decided"] >= min_group) & (rows["group"] != UNKNOWN)]
    ranked = eligible.sort_values(
        ["selection_rate", "decided", "group"], ascending=[False, False, True]
    )
    return str(ranked.iloc[0]["group"])


def test_audit_view_history_lookup_verify_and_impact(sample_result, audit_on) -> None:  # type: ignore[no-untyped-def]
    at = start("app_pages/audit_view.py")
    run_id = _record_and_wait(at, "record_run_audit")
    runs = shown_table(at, "audit_runs")
    assert list(runs["run"]) == [run_id]
    assert runs.iloc[-1]["decisions"] == len(sample_result.results)
    assert runs.iloc[-1]["needs_review"] == sample_result.outcome_counts()["needs_review"]
    assert len(runs.iloc[-1]["at"]) == len("2026-11-01 09:30:00 UTC")  # to the second
    details = shown_table(at, "audit_run_details")
    facts = dict(zip(details[""], details["value"], strict=True))
    assert facts["run"] == str(run_id) and facts["settings"] == "requires driving: False"
    assert facts["spec file"].endswith("alameda-7616-account-manager.yaml")
    assert facts["as of"] == str(AS_OF)
    shown = "\n".join(details["value"])
    assert "{" not in shown and "None" not in shown
    assert "." not in facts["recorded"] and facts["recorded"].endswith("UTC")
    outcomes = shown_table(at, "audit_run_outcomes")
    counts = sample_result.outcome_counts()
    assert dict(zip(outcomes["outcome"], outcomes["engine"], strict=True)) == counts
    assert not any("{" in m.value for m in at.markdown)
    button(at, "Verify").click()
    at.run()
    assert any("The log is intact" in s.value for s in at.success)
    at.text_input(key="audit_applicant").input("100001")
    at.run()
    expected = sample_result.decision("100001").outcome.value
    assert any(f"Engine outcome **{expected}**" in m.value for m in at.markdown)
    statuses = shown_table(at, "audit_statuses")
    assert set(statuses["criterion"]) == set(sample_result.spec.criterion_ids())
    impact = shown_table(at, "audit_impact")
    assert "applicant_id" not in impact.columns and len(impact) > 0
    ids = set(sample_result.results["applicant_id"])
    assert not ids & set(impact.astype(str).to_numpy().ravel())  # aggregates only
    pending = counts["needs_review"]
    assert any(f"{pending} pending review" in c.value for c in at.caption)
    for name in ("audit_runs", "audit_run_details", "audit_impact"):
        assert shows_missing_as_blank(shown_frame(at, name)), name
    # the minimum group size is a report setting: 1 lets the tiniest group be the reference
    overall = impact[(impact["measure"] == "overall") & (impact["dimension"] == "sex")]
    at.number_input(key="impact_min_group").set_value(1)
    at.run()
    smaller = shown_table(at, "audit_impact")
    small_overall = smaller[(smaller["measure"] == "overall") & (smaller["dimension"] == "sex")]
    assert set(overall["reference_group"]) == {expected_reference(overall, 30)}
    assert set(small_overall["reference_group"]) == {expected_reference(small_overall, 1)}
    license_rows = smaller[smaller["measure"] == "ca_drivers_license"]
    assert set(license_rows["note"]) == {"criterion not applicable"}


# ------------------------------------------------------------------ what a reader sees


def test_the_principal_reason_is_next_to_the_outcome_wide_and_wrapped(sample_result) -> None:  # type: ignore[no-untyped-def]
    at = start()
    frame = shown_frame(at, "results_table")
    table = frame.value
    assert list(table.columns[:5]) == [
        "applicant_id", "name", "outcome", "final_outcome", "principal reason",
    ]  # fmt: skip
    firsts = [r.split(" | ")[0] for r in sample_result.results["reasons"]]
    assert list(table["principal reason"]) == firsts
    config = json.loads(frame.proto.columns)
    assert config["principal reason"]["width"] >= 400
    assert frame.proto.row_height > 64  # taller than 4rem: the browser wraps the text
    assert shows_missing_as_blank(frame)


def test_the_applicant_page_names_the_applicant_and_says_each_reason_once(
    sample_result,
) -> None:  # type: ignore[no-untyped-def]
    at = start()
    at.selectbox(key="open_applicant_choice").set_value("100001")
    at.button(key="open_applicant").click()
    at.run()
    names = results_with_names(sample_result).set_index("applicant_id")["name"]
    assert names["100001"]
    assert any(plain(names["100001"]) in m.value for m in at.markdown if m.value.startswith("###"))
    text = "\n".join(m.value for m in at.markdown)
    decision = sample_result.decision("100001")
    assert decision.reasons
    for criterion in decision.criteria:
        sentence = plain(criterion.reason.removeprefix(f"{criterion.id}: "))
        assert text.count(sentence) == 1, criterion.id
        assert text.count(f"{plain(criterion.id)}: ") == 0, criterion.id  # the id once, bold
    for reason in decision.reasons:
        criterion_id = reason.split(": ", 1)[0]
        assert f"**{plain(criterion_id)}** (below)" in text
