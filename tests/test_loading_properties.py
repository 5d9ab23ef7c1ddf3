"""Loader properties: no row is ever lost; the wide and the long form load the same data."""

from __future__ import annotations

import csv
import random
import tempfile
from collections import Counter
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screening.columns import EDUCATION_FIELDS, JOB_FIELDS
from screening.loading import load_batch

# Cell text: letters, accents, the delimiters, quotes, blank markers and padding.
CELL = st.one_of(
    st.text(alphabet="abcXYZ é,;\"'-/0", max_size=8),
    st.sampled_from(["", " ", "N/A", "n/a", "none", "None", "-", "NA", "00123"]),
)
IDS = st.one_of(st.sampled_from(["", " ", "N/A", "A1", "A1 ", "a1", "007", "7"]), CELL)


def write_csv(path: Path, header: list[str], rows: list[list[str]], delimiter: str = ",") -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ids=st.lists(IDS, max_size=25),
    cells=st.data(),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_every_input_row_is_screened_or_an_error_row(
    ids: list[str], cells: st.DataObject, delimiter: str
) -> None:
    header = ["applicant_id", "first_name", "job1_title", "job1_start", "edu1_degree", "eeo_sex"]
    rows = [
        [applicant_id, *cells.draw(st.lists(CELL, min_size=5, max_size=5))] for applicant_id in ids
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "applicants.csv"
        write_csv(path, header, rows, delimiter)
        batch = load_batch(path)

    assert batch.input_rows == len(rows)
    assert batch.input_rows == len(batch.applicants) + batch.error_rows
    screened = set(batch.applicants["row"])
    errored = {i.row for i in batch.issues if i.severity == "error"}
    assert screened.isdisjoint(errored)
    assert screened | errored == set(range(2, len(rows) + 2))
    assert len(errored) == batch.error_rows

    # The rule itself: blank ids and shared ids are the error rows, nothing else.
    stripped = [i.strip() for i in ids]
    counts = Counter(stripped)
    blank = {"", "n/a", "none", "-"}
    expected_errors = {n + 2 for n, i in enumerate(stripped) if i.lower() in blank or counts[i] > 1}
    assert errored == expected_errors
    assert list(batch.applicants["applicant_id"]) == [
        i for n, i in enumerate(stripped) if n + 2 not in expected_errors
    ]
    # Jobs and education belong to screened applicants only.
    assert set(batch.jobs["applicant_id"]) <= set(batch.applicants["applicant_id"])
    assert set(batch.education["applicant_id"]) <= set(batch.applicants["applicant_id"])


ENTRY_CELL = st.one_of(
    st.text(alphabet='abcXYZ é,"-/0', min_size=1, max_size=8).filter(
        lambda s: s.strip().lower() not in {"", "n/a", "none", "-"}
    ),
    st.sampled_from(["", "N/A", "none", "-", " 2019-03 "]),
)


def entry(fields: tuple[str, ...]) -> st.SearchStrategy[dict[str, str]]:
    """One entry with at least one non-blank field (entries are written without gaps)."""
    return st.fixed_dictionaries({f: ENTRY_CELL for f in fields}).filter(
        lambda e: (
            any(v.strip().lower() not in {"", "n/a", "none", "-"} for v in e.values())
            or e.get("degree", "").strip().lower() == "none"
        )
    )


APPLICANT = st.fixed_dictionaries(
    {
        "first_name": ENTRY_CELL,
        "jobs": st.lists(entry(JOB_FIELDS), max_size=3),
        "education": st.lists(entry(EDUCATION_FIELDS), max_size=2),
    }
)

CONTENT_JOBS = ["applicant_id", "entry", *JOB_FIELDS]
CONTENT_EDUCATION = ["applicant_id", "entry", *EDUCATION_FIELDS]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(applicants=st.lists(APPLICANT, min_size=1, max_size=8), shuffle=st.randoms())
def test_wide_and_long_form_load_the_same_entries(
    applicants: list[dict[str, object]], shuffle: random.Random
) -> None:
    ids = [f"{n:04d}" for n in range(len(applicants))]
    max_jobs = max(3, *(len(a["jobs"]) for a in applicants))  # type: ignore[arg-type]
    max_edu = max(2, *(len(a["education"]) for a in applicants))  # type: ignore[arg-type]
    wide_header = ["applicant_id", "first_name"]
    wide_header += [f"job{n}_{f}" for n in range(1, max_jobs + 1) for f in JOB_FIELDS]
    wide_header += [f"edu{n}_{f}" for n in range(1, max_edu + 1) for f in EDUCATION_FIELDS]
    wide_rows = []
    job_rows: list[list[str]] = []
    edu_rows: list[list[str]] = []
    for applicant_id, applicant in zip(ids, applicants, strict=True):
        jobs: list[dict[str, str]] = applicant["jobs"]  # type: ignore[assignment]
        education: list[dict[str, str]] = applicant["education"]  # type: ignore[assignment]
        row = [applicant_id, str(applicant["first_name"])]
        for n in range(max_jobs):
            row += [jobs[n][f] if n < len(jobs) else "" for f in JOB_FIELDS]
        for n in range(max_edu):
            row += [education[n][f] if n < len(education) else "" for f in EDUCATION_FIELDS]
        wide_rows.append(row)
        job_rows += [[applicant_id, *(j[f] for f in JOB_FIELDS)] for j in jobs]
        edu_rows += [[applicant_id, *(e[f] for f in EDUCATION_FIELDS)] for e in education]
    # The long files list entries grouped by nothing in particular: the order of appearance
    # per applicant is what counts, so interleave applicants but keep each one's order.
    job_rows = interleave(job_rows, shuffle)
    edu_rows = interleave(edu_rows, shuffle)
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        write_csv(base / "wide.csv", wide_header, wide_rows)
        write_csv(
            base / "applicants.csv", ["applicant_id", "first_name"], [r[:2] for r in wide_rows]
        )
        write_csv(base / "jobs.csv", ["applicant_id", *JOB_FIELDS], job_rows)
        write_csv(base / "education.csv", ["applicant_id", *EDUCATION_FIELDS], edu_rows)
        wide = load_batch(base / "wide.csv")
        long = load_batch(
            base / "applicants.csv", jobs=base / "jobs.csv", education=base / "education.csv"
        )
    assert wide.issues == [] and long.issues == []
    columns = ["applicant_id", "row", "first_name", "last_name", "email"]
    pd.testing.assert_frame_equal(wide.applicants[columns], long.applicants[columns])
    pd.testing.assert_frame_equal(wide.jobs[CONTENT_JOBS], long.jobs[CONTENT_JOBS])
    pd.testing.assert_frame_equal(
        wide.education[CONTENT_EDUCATION], long.education[CONTENT_EDUCATION]
    )
    expected_jobs = sum(len(a["jobs"]) for a in applicants)  # type: ignore[arg-type]
    assert len(wide.jobs) == expected_jobs


def interleave(rows: list[list[str]], rng: random.Random) -> list[list[str]]:
    """Shuffle rows across applicants while keeping each applicant's own order."""
    keys = [rng.random() for _ in rows]
    by_applicant: dict[str, list[float]] = {}
    for row, key in zip(rows, keys, strict=True):
        by_applicant.setdefault(row[0], []).append(key)
    for applicant_keys in by_applicant.values():
        applicant_keys.sort()
    position = {k: 0 for k in by_applicant}
    sorted_keys = []
    for row in rows:
        sorted_keys.append(by_applicant[row[0]][position[row[0]]])
        position[row[0]] += 1
    # Stable sort on the key alone: equal keys keep the rows' own order.
    ordered = sorted(zip(sorted_keys, rows, strict=True), key=lambda pair: pair[0])
    return [row for _, row in ordered]
