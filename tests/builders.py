"""Small builders for screening tests: wide and long CSV files from dicts, inline specs."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from screening import columns
from screening import facts as F
from screening.run.stages import ScreeningResult, screen_files

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
ALAMEDA = RULES / "alameda-7616-account-manager.yaml"
VOCABULARY = RULES / "vocabulary.yaml"
AS_OF = date(2026, 11, 26)

#: Credit of one full-time day and one full-time year (40 h/week specs).
DAY = F.daily_cap(40)
YEAR = F.year_credit(40)

JOB_FIELDS = list(columns.JOB_FIELDS)
EDUCATION_FIELDS = list(columns.EDUCATION_FIELDS)


def job(
    n: int = 1,
    title: str = "Key Account Manager",
    employer: str = "Alameda Municipal Power",
    industry: str = "Electric utility",
    start: str = "2020-03-01",
    end: str = "2023-02-28",
    **more: str,
) -> dict[str, str]:
    """Columns of work entry n of a wide row (a qualifying full-time job by default)."""
    cells = {
        "title": title,
        "employer": employer,
        "industry": industry,
        "start": start,
        "end": end,
        **more,
    }
    return {f"job{n}_{key}": value for key, value in cells.items()}


def edu(
    n: int = 1, degree: str = "BA", major: str = "Business Administration", **more: str
) -> dict[str, str]:
    """Columns of education entry n of a wide row (a listed bachelor's by default)."""
    cells = {"degree": degree, "major": major, **more}
    return {f"edu{n}_{key}": value for key, value in cells.items()}


def row(applicant_id: str = "A1", *parts: Mapping[str, str], **cells: str) -> dict[str, str]:
    """A wide applicant row from entry dicts and applicant cells."""
    out = {"applicant_id": applicant_id}
    for part in parts:
        out.update(part)
    out.update(cells)
    return out


def days_after(start: date, days: int) -> str:
    """ISO end date such that start..end (both counted) is `days` days long."""
    return (start + timedelta(days=days - 1)).isoformat()


def write_csv_rows(
    path: Path,
    rows: Iterable[Mapping[str, Any]],
    header: list[str] | None = None,
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> Path:
    """Write rows as CSV; the header is the union of the rows' keys in first-seen order."""
    rows = list(rows)
    if header is None:
        header = []
        for r in rows:
            header += [k for k in r if k not in header]
    with path.open("w", encoding=encoding, newline="") as out:
        writer = csv.writer(out, delimiter=delimiter)
        writer.writerow(header)
        for r in rows:
            writer.writerow(["" if r.get(h) is None else str(r.get(h)) for h in header])
    return path


def to_long(rows: Iterable[Mapping[str, str]]) -> tuple[list[dict[str, str]], ...]:
    """The long form (applicants, jobs, education rows) of wide rows."""
    applicants: list[dict[str, str]] = []
    jobs: list[dict[str, str]] = []
    education: list[dict[str, str]] = []
    for r in rows:
        applicants.append({k: v for k, v in r.items() if not k.startswith(("job", "edu"))})
        for prefix, fields, target in (
            ("job", JOB_FIELDS, jobs),
            ("edu", EDUCATION_FIELDS, education),
        ):
            numbers = sorted(
                {int(k[len(prefix) :].split("_", 1)[0]) for k in r if k.startswith(prefix)}
            )
            for n in numbers:
                entry = {f: r.get(f"{prefix}{n}_{f}", "") for f in fields}
                if any(entry.values()):
                    target.append({"applicant_id": r.get("applicant_id", ""), **entry})
    return applicants, jobs, education


def spec_file(tmp_path: Path, body: str, name: str = "spec.yaml") -> Path:
    """An inline YAML spec using the project vocabulary (by absolute path)."""
    path = tmp_path / name
    path.write_text(f"vocabulary: {VOCABULARY.as_posix()}\n" + body, encoding="utf-8")
    return path


def screen(
    tmp_path: Path,
    rows: Iterable[Mapping[str, str]],
    spec: Path = ALAMEDA,
    *,
    name: str = "applicants.csv",
    **options: Any,
) -> ScreeningResult:
    """Write wide rows to a CSV and screen them as of 2026-11-26."""
    path = write_csv_rows(tmp_path / name, rows)
    options.setdefault("as_of", AS_OF)
    return screen_files(path, spec, **options)


def status(result: ScreeningResult, criterion: str, applicant_id: str = "A1") -> str:
    """One criterion status of one applicant."""
    return str(result.results.loc[result.position_of(applicant_id), criterion])


def outcome(result: ScreeningResult, applicant_id: str = "A1") -> str:
    """The overall outcome of one applicant."""
    return str(result.results.loc[result.position_of(applicant_id), "outcome"])


def cell(result: ScreeningResult, column: str, applicant_id: str = "A1") -> str:
    """One results cell of one applicant, as text."""
    return str(result.results.loc[result.position_of(applicant_id), column])


def fact(result: ScreeningResult, name: str, applicant_id: str = "A1") -> int:
    """One fact value of one applicant."""
    return int(result.evidence.facts[name].iloc[result.position_of(applicant_id)])


EXPERIENCE = F.experience_certain("typical.experience")
EXPERIENCE_POSSIBLE = F.experience_possible("typical.experience")
