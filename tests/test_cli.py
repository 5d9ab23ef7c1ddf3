"""`screening screen`: outputs, summary and exit codes as DESIGN.md states them."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from screening.cli import main
from screening.columns import FileLevelError
from screening.results import ERROR_COLUMNS
from tests.builders import ALAMEDA, ROOT, VOCABULARY

SAMPLE = ROOT / "data" / "account-manager-applicants.csv"
LONG = ROOT / "data" / "account-manager-long"
AS_OF = "2026-11-26"
RESULT_COLUMNS = [
    "applicant_id", "outcome", "typical.education", "typical.experience", "ca_drivers_license",
    "qualifying_years", "possible_years", "pattern", "reasons", "conditions",
]  # fmt: skip


def read_rows(path: Path | str, text: str | None = None) -> list[dict[str, str]]:
    """CSV rows as text (ids stay text)."""
    if text is not None:
        return list(csv.DictReader(io.StringIO(text, newline="")))
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def screen_args(applicants: Path, *more: str) -> list[str]:
    return ["screen", str(applicants), "--spec", str(ALAMEDA), "--as-of", AS_OF, *more]


def test_screen_writes_results_errors_and_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, errors = tmp_path / "results.csv", tmp_path / "errors.csv"
    code, stdout, stderr = run(
        screen_args(SAMPLE, "--out", str(out), "--errors", str(errors)), capsys
    )
    assert code == 0
    assert stdout == ""
    results = read_rows(out)
    assert list(results[0])[: len(RESULT_COLUMNS)] == RESULT_COLUMNS
    # input order, error rows (blank or repeated ids) left out
    ids = [r["applicant_id"].strip() for r in read_rows(SAMPLE)]
    screened = [i for i in ids if i and ids.count(i) == 1]
    assert [r["applicant_id"] for r in results] == screened
    problems = read_rows(errors)
    assert problems, "the sample batch has bad rows; the errors file lists them"
    assert list(problems[0]) == ERROR_COLUMNS
    assert {p["severity"] for p in problems} <= {"error", "warning"}
    error_rows = {
        p["row"] for p in problems if p["severity"] == "error" and p["file"].endswith(SAMPLE.name)
    }
    assert len(screened) + len(error_rows) == len(ids)
    # the summary: counts per outcome that match the results, error rows, warnings
    for outcome in ("qualified", "not_qualified", "needs_review"):
        shown = re.search(rf"\b{outcome}: (\d+)", stderr)
        assert shown, stderr
        assert int(shown.group(1)) == sum(r["outcome"] == outcome for r in results)
    assert f"error rows not screened: {len(error_rows)}" in stderr
    assert "warning(s)" in stderr
    assert set(r["outcome"] for r in results) == {"qualified", "not_qualified", "needs_review"}


def test_results_go_to_stdout_without_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results.csv"
    assert run(screen_args(SAMPLE, "--out", str(out)), capsys)[0] == 0
    code, stdout, stderr = run(screen_args(SAMPLE), capsys)
    assert code == 0
    assert stdout.encode("utf-8") == out.read_bytes()
    assert "qualified:" in stderr and "qualified:" not in stdout.splitlines()[0]


def test_long_form_gives_byte_identical_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wide, long = tmp_path / "wide.csv", tmp_path / "long.csv"
    assert run(screen_args(SAMPLE, "--out", str(wide)), capsys)[0] == 0
    argv = screen_args(
        LONG / "applicants.csv",
        "--jobs", str(LONG / "jobs.csv"),
        "--education", str(LONG / "education.csv"),
        "--out", str(long),
    )  # fmt: skip
    assert run(argv, capsys)[0] == 0
    assert long.read_bytes() == wide.read_bytes()


def test_console_command_exit_code_and_streams() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "screening", *screen_args(ROOT / "data" / "edge-cases.csv")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(",".join(RESULT_COLUMNS))
    assert "Screened 49 applicant(s)" in done.stderr
    assert "Traceback" not in done.stderr


def unusable_inputs(tmp_path: Path) -> dict[str, tuple[list[str], list[str]]]:
    """name → (argv, words the message must contain)."""
    pdf = tmp_path / "batch.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    binary = tmp_path / "batch.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    no_id = tmp_path / "no-id.csv"
    no_id.write_text("name,job1_title\nAna,Account Manager\n", encoding="utf-8")
    no_entries = tmp_path / "no-entries.csv"
    no_entries.write_text(
        "applicant_id,first_name,favourite_colour\n1,Ana,blue\n", encoding="utf-8"
    )
    bad_spec = tmp_path / "bad-spec.yaml"
    bad_spec.write_text(
        ALAMEDA.read_text(encoding="utf-8")
        .replace("years: 3\n", "years: three\n")
        .replace("vocabulary: vocabulary.yaml", f"vocabulary: {VOCABULARY.as_posix()}"),
        encoding="utf-8",
    )
    sample = str(SAMPLE)
    spec = ["--spec", str(ALAMEDA)]
    return {
        "missing file": (["screen", str(tmp_path / "nope.csv"), *spec], ["nope.csv", "not found"]),
        "pdf": (["screen", str(pdf), *spec], ["batch.pdf", "PDF", "CSV"]),
        "binary": (["screen", str(binary), *spec], ["batch.csv", "binary"]),
        "no applicant_id": (["screen", str(no_id), *spec], ["no-id.csv", "applicant_id"]),
        "no entry columns": (
            ["screen", str(no_entries), *spec],
            ["no-entries.csv", "job", "education"],
        ),
        "bad spec": (
            ["screen", sample, "--spec", str(bad_spec)],
            ["bad-spec.yaml", "patterns[0].experience[0].years", "three"],
        ),
        "bad as-of": (
            ["screen", sample, *spec, "--as-of", "2026-13-01"],
            ["--as-of", "2026-13-01", "YYYY-MM-DD"],
        ),
    }


CASES = [
    "missing file",
    "pdf",
    "binary",
    "no applicant_id",
    "no entry columns",
    "bad spec",
    "bad as-of",
]


@pytest.mark.parametrize("case", CASES)
def test_unusable_input_exits_2_with_a_clear_message_and_no_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    argv, words = unusable_inputs(tmp_path)[case]
    out, errors = tmp_path / "out" / "results.csv", tmp_path / "out" / "errors.csv"
    out.parent.mkdir()
    argv = [*argv, "--out", str(out), "--errors", str(errors)]
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse rejects a bad option value itself
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    for word in words:
        assert word in captured.err, f"{word!r} not in message: {captured.err}"
    assert "Traceback" not in captured.err
    assert list(out.parent.iterdir()) == []


def test_a_run_on_worker_processes_writes_and_records_what_one_process_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from screening import processes
    from screening.audit.store import AuditStore
    from screening.run import chunks as parallel

    database = f"sqlite:///{tmp_path / 'runs.db'}"
    outputs: dict[str, tuple[bytes, bytes]] = {}
    for mode in ("one process", "workers"):
        if mode == "workers":
            monkeypatch.setattr(processes, "PARALLEL_MINIMUM_BYTES", 0)
            monkeypatch.setattr(parallel, "CHUNK_ROWS", 43)
        out, errors = tmp_path / f"{mode}.csv", tmp_path / f"{mode}-errors.csv"
        code, _, err = run(
            ["screen", str(SAMPLE), "--spec", str(ALAMEDA), "--as-of", AS_OF, "--out", str(out),
             "--errors", str(errors), "--database", database, "--user", "tester"],
            capsys,
        )  # fmt: skip
        assert code == 0, err
        outputs[mode] = (out.read_bytes(), errors.read_bytes())
    assert outputs["workers"] == outputs["one process"]
    with AuditStore(database) as store:
        assert store.verify().ok
        first, second = (info.run_id for info in store.runs())
        outcomes = store.final_outcomes(first)
        assert outcomes.equals(store.final_outcomes(second))
        assert store.input_records(first) == store.input_records(second)
        for applicant_id in outcomes["applicant_id"].astype(str).iloc[::37]:
            one, other = store.decision(first, applicant_id), store.decision(second, applicant_id)
            assert (one.detail, one.statuses) == (other.detail, other.statuses)


def _fail_at_second_chunk(monkeypatch: pytest.MonkeyPatch, failure: BaseException) -> None:
    """Make the second chunk of a (one-process) run raise `failure`."""
    from screening.run import chunks as parallel

    load = parallel.load_chunk

    def load_or_fail(plan: Any, chunk: Any, **options: Any) -> Any:
        if chunk.index == 1:
            raise failure
        return load(plan, chunk, **options)

    monkeypatch.setattr(parallel, "CHUNK_ROWS", 50)
    monkeypatch.setattr(parallel, "load_chunk", load_or_fail)


@pytest.mark.parametrize(
    ("failure", "code", "message"),
    [
        (FileLevelError("applicants file 'a.csv' changed while it was being read"), 2,
         "changed while it was being read; no results were written"),
        (KeyboardInterrupt(), 130, "interrupted; no results were written"),
        (ZeroDivisionError("division by zero"), 2, "screening stopped unexpectedly"),
    ],
)  # fmt: skip
def test_a_run_that_fails_part_way_leaves_no_output_and_no_audit_record(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    failure: BaseException,
    code: int,
    message: str,
) -> None:
    from screening.audit.store import AuditStore

    _fail_at_second_chunk(monkeypatch, failure)
    out, errors = tmp_path / "out" / "results.csv", tmp_path / "out" / "errors.csv"
    out.parent.mkdir()
    out.write_text("results of an earlier run\n")
    database = f"sqlite:///{tmp_path / 'runs.db'}"
    status, stdout, err = run(
        ["screen", str(SAMPLE), "--spec", str(ALAMEDA), "--as-of", AS_OF, "--out", str(out),
         "--errors", str(errors), "--database", database],
        capsys,
    )  # fmt: skip
    assert status == code
    assert message in err and "Traceback" not in err
    assert out.read_text() == "results of an earlier run\n"
    assert sorted(p.name for p in out.parent.iterdir()) == ["results.csv"]
    with AuditStore(database) as store:
        assert store.runs() == []


def test_results_on_standard_output_cut_short_are_called_incomplete(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_at_second_chunk(monkeypatch, FileLevelError("the file changed"))
    status, stdout, err = run(
        ["screen", str(SAMPLE), "--spec", str(ALAMEDA), "--as-of", AS_OF, "--no-audit"], capsys
    )
    assert status == 2
    assert stdout.startswith("applicant_id,")
    assert "results already written to standard output are incomplete" in err


def test_an_output_that_names_an_input_is_refused_and_the_input_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    applicants = tmp_path / "applicants.csv"
    applicants.write_bytes(SAMPLE.read_bytes())
    status, _, err = run(
        ["screen", str(applicants), "--spec", str(ALAMEDA), "--as-of", AS_OF,
         "--out", str(tmp_path / "." / "applicants.csv")],
        capsys,
    )  # fmt: skip
    assert status == 2
    assert "--out" in err and "is the applicants file" in err
    assert applicants.read_bytes() == SAMPLE.read_bytes()


def test_an_output_folder_that_does_not_exist_is_one_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "missing" / "results.csv"
    status, _, err = run(
        ["screen", str(SAMPLE), "--spec", str(ALAMEDA), "--as-of", AS_OF, "--out", str(target),
         "--no-audit"],
        capsys,
    )  # fmt: skip
    assert status == 2
    assert err.startswith("error: --out") and "Traceback" not in err
    assert "does not exist" in err


def test_an_audit_store_that_cannot_open_keeps_the_earlier_results_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results.csv"
    out.write_text("earlier\n")
    status, _, err = run(
        ["screen", str(SAMPLE), "--spec", str(ALAMEDA), "--as-of", AS_OF, "--out", str(out),
         "--database", f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'a.db'}"],
        capsys,
    )  # fmt: skip
    assert status == 2 and err.startswith("error:")
    assert out.read_text() == "earlier\n"


def test_results_go_to_a_standard_output_without_a_byte_buffer(tmp_path: Path) -> None:
    import contextlib

    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        status = main(
            ["screen", str(SAMPLE), "--spec", str(ALAMEDA), "--as-of", AS_OF, "--no-audit"]
        )
    assert status == 0
    expected = tmp_path / "results.csv"
    assert main(
        ["screen", str(SAMPLE), "--spec", str(ALAMEDA), "--as-of", AS_OF, "--no-audit",
         "--out", str(expected)]
    ) == 0  # fmt: skip
    assert captured.getvalue().encode("utf-8") == expected.read_bytes()


# --- ATS headers, and files without the entries the spec decides on ---------------------------

WORKDAY_FIELDS = {
    "title": "Job Title", "employer": "Company", "industry": "Industry", "start": "From",
    "end": "To", "hours_per_week": "Hours per Week", "duties": "Description",
    "qualifying_percent": "Qualifying %", "degree": "Degree", "major": "Field of Study",
    "institution": "School", "accredited": "Accredited", "completed": "Graduated",
    "units": "Credits", "unit_type": "Credit Type",
}  # fmt: skip


def _rename_headers(source: Path, target: Path, rename: Any) -> None:
    """The sample batch with each header renamed by `rename(header)`."""
    with open(source, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[0] = [rename(h) for h in rows[0]]
    with open(target, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


def _workday(header: str) -> str:
    match = re.fullmatch(r"(job|edu)(\d+)_(\w+)", header)
    if not match:
        return header
    kind = "Work Experience" if match[1] == "job" else "Education"
    return f"{kind} {match[2]} - {WORKDAY_FIELDS[match[3]]}"


def test_an_ats_export_with_workday_headers_screens_as_the_canonical_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "workday.csv"
    _rename_headers(SAMPLE, export, _workday)
    canonical, renamed = tmp_path / "canonical.csv", tmp_path / "renamed.csv"
    assert run(screen_args(SAMPLE, "--out", str(canonical), "--no-audit"), capsys)[0] == 0
    code, _, stderr = run(screen_args(export, "--out", str(renamed), "--no-audit"), capsys)
    assert code == 0, stderr
    assert renamed.read_bytes() == canonical.read_bytes()


def _unreadable_jobs(header: str) -> str:
    # job headers no export uses: nothing recognises them
    match = re.fullmatch(r"job(\d+)_(\w+)", header)
    return f"Stint {'ABCDE'[int(match[1]) - 1]} {match[2]}" if match else header


def test_a_spec_needing_experience_refuses_a_file_without_job_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "export.csv"
    _rename_headers(SAMPLE, export, _unreadable_jobs)
    out = tmp_path / "results.csv"
    code, stdout, stderr = run(screen_args(export, "--out", str(out)), capsys)
    assert code == 2 and stdout == "" and not out.exists()
    message = stderr.strip()
    assert message.count("\n") == 0 and "Traceback" not in message
    for words in ("export.csv", "experience", "no job column", "'Stint A title'",
                  "--columns", "--no-job-columns"):  # fmt: skip
        assert words in message, message
    # declared: the file has no job entries, so experience counts as none
    code, _, stderr = run(screen_args(export, "--out", str(out), "--no-job-columns"), capsys)
    assert code == 0, stderr
    results = read_rows(out)
    assert results and {r["typical.experience"] for r in results} <= {"not_met", "substituted"}


def test_a_spec_needing_education_refuses_a_file_without_education_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "export.csv"
    _rename_headers(SAMPLE, export, lambda h: h.replace("edu", "schooling_"))
    code, _, stderr = run(screen_args(export, "--no-audit"), capsys)
    assert code == 2
    assert "requires education" in stderr and "--no-education-columns" in stderr
    assert "'schooling_1_degree'" in stderr
    code, stdout, stderr = run(screen_args(export, "--no-audit", "--no-education-columns"), capsys)
    assert code == 0, stderr
    assert "met" not in {r["typical.education"] for r in read_rows("", stdout)}


def test_without_errors_the_summary_shows_the_file_problems_and_where_the_rest_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = tmp_path / "batch.csv"
    batch.write_text(
        "applicant_id,job1_title,edu1_degree,Favourite Colour\n"
        "1,Analyst,BA,blue\n"
        "2,Clerk,,red\n"
        ",Nobody,,green\n",
        encoding="utf-8",
    )
    code, _, stderr = run(
        screen_args(batch, "--no-audit", "--out", str(tmp_path / "r.csv")), capsys
    )
    assert code == 0
    counts = re.search(r"problems reported: (\d+) error\(s\), (\d+) warning\(s\)", stderr)
    assert counts is not None
    assert "  - unknown column 'Favourite Colour' is ignored" in stderr
    unshown = int(counts[1]) + int(counts[2]) - 1
    assert f"the other {unshown} problem(s) are not shown" in stderr
    assert "--errors ERRORS.csv" in stderr
    # row problems stay in the errors file: applicant data is not printed
    assert "blue" not in stderr and "Nobody" not in stderr
