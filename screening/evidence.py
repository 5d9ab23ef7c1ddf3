"""Evidence: from raw application entries to whole-number facts per applicant (pandas).

Everything an applicant's rules need is computed here, vectorised over the whole batch:
dates and full-time-equivalent credit per calendar day (overlaps capped at full time, in
whole units so there is no floating-point drift at a threshold), how each job is
classified against each experience requirement and what matched, degree levels, fields
and education years, license and certificate codes — each as a *certain* and a
*possible* value. Classification of text runs once per distinct value, not per row.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from screening import facts as F
from screening.columns import EDUCATION_FIELDS, JOB_FIELDS
from screening.jobclass import ANY_AREA as ANY_AREA
from screening.jobclass import NOT_QUALIFYING as NOT_QUALIFYING
from screening.jobclass import QUALIFYING as QUALIFYING
from screening.jobclass import UNCERTAIN as UNCERTAIN
from screening.jobclass import job_classifier
from screening.places import US_STATES
from screening.results import InputIssue
from screening.spec import (
    LEVEL_ORDER,
    LEVEL_YEARS,
    Certificate,
    EducationRequirement,
    ExperienceRequirement,
    JobSpec,
    Level,
    License,
    Pattern,
    Substitution,
    condition_holds,
)
from screening.vocabulary import Vocabulary, normalise_text, phrase_pattern

INVALID = "invalid"

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9

_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_US_DAY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_US_MONTH = re.compile(r"^(\d{1,2})/(\d{4})$")
_NAMED_MONTH = re.compile(r"^([A-Za-z]+)\.?\s+(\d{4})$")
_PRESENT = {"present", "current"}
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}

NO_DAY = -1

#: Years of study a completed degree stands for when education beyond the required level
#: replaces experience (a master's is two years beyond a bachelor's, a doctorate four more).
ADVANCED_YEARS = {
    Level.none: 0,
    Level.high_school: 0,
    Level.associate: 2,
    Level.bachelor: 4,
    Level.master: 6,
    Level.doctorate: 8,
}


@lru_cache(maxsize=65536)
def parse_date(text: str) -> tuple[int, int] | None:
    """(first day, last day) as ordinals for an accepted date text, else None.

    A full date has first == last; a month-only date spans its month.
    """
    value = text.strip()
    try:
        if m := _ISO_DAY.match(value):
            day = date(int(m[1]), int(m[2]), int(m[3])).toordinal()
            return day, day
        if m := _US_DAY.match(value):
            day = date(int(m[3]), int(m[1]), int(m[2])).toordinal()
            return day, day
        year_month: tuple[int, int] | None = None
        if m := _ISO_MONTH.match(value):
            year_month = int(m[1]), int(m[2])
        elif m := _US_MONTH.match(value):
            year_month = int(m[2]), int(m[1])
        elif (m := _NAMED_MONTH.match(value)) and m[1].lower() in _MONTHS:
            year_month = int(m[2]), _MONTHS[m[1].lower()]
        if year_month is None:
            return None
        year, month = year_month
        last = calendar.monthrange(year, month)[1]
        return date(year, month, 1).toordinal(), date(year, month, last).toordinal()
    except ValueError:
        return None


def _parse_number(text: str) -> float | None:
    try:
        value = float(text.strip().rstrip("%").replace(",", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def window_start(as_of: date, years: int) -> int:
    """First day inside "within the last N years" of the as-of date (an ordinal)."""
    try:
        boundary = as_of.replace(year=as_of.year - years)
    except ValueError:  # 29 February in a year that has none
        boundary = date(as_of.year - years, 2, 28)
    return boundary.toordinal() + 1


@dataclass
class Evidence:
    """Facts per applicant plus how every entry was read, for reasons and the detail view."""

    facts: pd.DataFrame
    jobs: pd.DataFrame
    education: pd.DataFrame
    issues: list[InputIssue]


def _text_column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        return pd.Series([""] * len(frame), index=frame.index, dtype=object)
    return pd.Series(frame[name].to_numpy(dtype=object), index=frame.index, dtype=object).fillna("")


def _texts(values: Any, index: pd.Index) -> pd.Series:
    """A text column kept as Python objects: pandas would otherwise convert every assigned
    array to Arrow strings and back again on each use."""
    if isinstance(values, pd.Series):
        values = values.to_numpy(dtype=object)
    return pd.Series(values, index=index, dtype=object)


def _map_unique(series: pd.Series, func: Any) -> pd.Series:
    """Apply a function once per distinct value and spread the results back."""
    return pd.Series(lookup(series, func), index=series.index, dtype=object)


def lookup(series: pd.Series, func: Any, dtype: Any = object) -> np.ndarray[Any, Any]:
    """func applied once per distinct value of a text column, spread back as an array.

    Text columns repeat a lot (titles, industries, date spellings), so this is where
    per-value Python work stays cheap on large batches.
    """
    codes, uniques = distinct(series)
    spread: np.ndarray[Any, Any] = per_distinct(uniques, func, dtype)[codes]
    return spread


def distinct(values: Any) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """(code of each value, distinct values in order of first appearance) of a column."""
    if isinstance(values, pd.Series):
        values = values.to_numpy(dtype=object)
    # the sentinel form is cheaper (no separate missing-value pass); a missing value, rare
    # in text columns already filled with "", is then coded as a value of its own
    codes, uniques = pd.factorize(values)
    if len(codes) and codes.min() < 0:
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return codes, np.asarray(uniques, dtype=object)


def per_distinct(uniques: Any, func: Any, dtype: Any = object) -> np.ndarray[Any, Any]:
    """func of each distinct value, as a table to index with `distinct`'s codes."""
    table = np.empty(len(uniques), dtype=object)
    for index, value in enumerate(uniques):
        table[index] = func(value)
    if dtype is not object:
        table = table.astype(dtype)
    return table


def combined_codes(
    *codes: np.ndarray[Any, Any],
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.int64]]]:
    """Codes of the distinct combinations of several code columns, and one row of each.

    Returns (combination code per row, in order of first appearance; position of the
    first row of each combination). Columns are folded in one at a time and re-coded, so
    the numbers never exceed rows squared.
    """
    rows = len(codes[0]) if codes else 0
    key = np.zeros(rows, dtype=np.int64)
    for column in codes:
        column = np.asarray(column, dtype=np.int64)
        if rows:
            key = key * (int(column.max()) + 1) + column
        key = pd.factorize(key)[0].astype(np.int64)
    # factorize numbers values in order of first appearance, so the running maximum steps
    # up exactly at each combination's first row
    climbed = np.diff(np.maximum.accumulate(key), prepend=-1) > 0
    return key, np.flatnonzero(climbed).astype(np.int64)


def _conditional_items(spec: JobSpec) -> list[License | Certificate]:
    items: list[License | Certificate] = [*spec.licenses, *spec.certificates]
    for pattern in spec.patterns:
        items += [*pattern.licenses, *pattern.certificates]
    return [i for i in items if i.applies == "position_requires"]


def compute_evidence(
    spec: JobSpec,
    vocab: Vocabulary,
    applicants: pd.DataFrame,
    jobs: pd.DataFrame,
    education: pd.DataFrame,
    *,
    as_of: date,
    requires_driving: bool,
    position_requires: frozenset[str] = frozenset(),
    absent_fields: Sequence[str] = (),
) -> Evidence:
    """Compute every fact of every applicant.

    `absent_fields` are applicant fields the file has no column for: a certificate such a
    file cannot report is unknown (review), not missing.

    `applicants` has one row per applicant (an `applicant_id` column); `jobs` and
    `education` have one row per entry with an `applicant_id` column and the raw text fields
    of DESIGN.md, plus `file`, `row` and `column_prefix` to name where a bad value is.
    """
    count = len(applicants)
    position = pd.Series(
        np.arange(count, dtype=np.int64), index=applicants["applicant_id"].to_numpy()
    )
    issues: list[InputIssue] = []
    facts: dict[str, np.ndarray[Any, Any]] = {
        F.KEY: np.arange(count, dtype=np.int64),
        F.REQUIRES_DRIVING: np.full(count, int(requires_driving), dtype=np.int64),
    }
    # "Some positions may require ...": whether this position does is a run setting.
    for item in _conditional_items(spec):
        holds = condition_holds(item, position_requires)
        facts[F.position_requires(item.id)] = np.full(count, int(holds), dtype=np.int64)
    job_frame = _read_jobs(spec, jobs, position, as_of)
    job_rows: list[pd.DataFrame] = []
    any_evidence = np.zeros(count, dtype=bool)
    for pattern in spec.patterns:
        for req in pattern.experience:
            classified = _classify_jobs(job_frame, req, spec, vocab, as_of)
            certain, possible = _credit(classified, req, spec.full_time_hours, count, as_of)
            facts[F.experience_certain(req.id)] = certain
            facts[F.experience_possible(req.id)] = possible
            any_evidence |= possible > 0
            job_rows.append(classified)
    jobs_evidence = (
        pd.concat(job_rows, ignore_index=True) if job_rows else job_frame.assign(requirement="")
    )
    # every requirement's rows carry the same problems as the jobs read once
    issues += _job_issues(job_frame)
    edu_frame = _read_education(education, position)
    edu_rows: list[pd.DataFrame] = []
    for pattern in spec.patterns:
        if pattern.education is None:
            continue
        education_req = pattern.education
        assessed = _assess_education(
            edu_frame, education_req, spec, vocab, spec.substitution_for(pattern)
        )
        for name, value in _education_facts(
            assessed, education_req, spec, pattern_id=pattern.id, count=count
        ).items():
            facts[name] = value
        edu_rows.append(assessed)
    for pattern in spec.patterns:
        if pattern.experience:
            first = pattern.experience[0]
            certain_extra, possible_extra = _education_for_experience(
                edu_frame, pattern, spec, vocab, count
            )
            facts[F.education_for_experience_certain(first.id)] = certain_extra
            facts[F.education_for_experience_possible(first.id)] = possible_extra
    if len(edu_frame):
        # "an education entry above level none" for discretionary equivalency: the entry's
        # own possible degree level, whatever its field or accreditation
        may_be_completed = _yes_no(edu_frame["completed"])[1]
        levels = np.where(
            may_be_completed, _degree_columns(edu_frame["degree"], vocab).level_possible, 0
        )
        has_level = np.zeros(count, dtype=bool)
        has_level[edu_frame["applicant_pos"].to_numpy()[levels > 0]] = True
        any_evidence |= has_level
    facts[F.ANY_EVIDENCE] = any_evidence.astype(np.int64)
    for lic in [*spec.licenses, *(lic for p in spec.patterns for lic in p.licenses)]:
        facts[F.license_code(lic.id)] = _license_codes(
            applicants, lic.kind, lic.state, lic.license_class
        )
    for cert in [*spec.certificates, *(c for p in spec.patterns for c in p.certificates)]:
        facts[F.certificate_code(cert.id)] = (
            np.full(count, F.UNKNOWN, dtype=np.int64)
            if "certificates" in absent_fields
            else _certificate_codes(
                applicants, [cert.name, *cert.aliases, *vocab.certificates.get(cert.name, [])]
            )
        )
    education_evidence = (
        pd.concat(edu_rows, ignore_index=True) if edu_rows else edu_frame.assign(requirement="")
    )
    return Evidence(pd.DataFrame(facts), jobs_evidence, education_evidence, issues)


# ---------------------------------------------------------------------------- jobs


#: A job that started longer ago than this is a typing mistake (1900 for 2019), not a
#: working life: its entry is invalid rather than worth a century of experience.
MAX_JOB_YEARS = 60


def _read_jobs(spec: JobSpec, jobs: pd.DataFrame, position: pd.Series, as_of: date) -> pd.DataFrame:
    """Parse dates, hours and percentages of every job once; note what is invalid."""
    frame = pd.DataFrame(
        {name: _text_column(jobs, name) for name in JOB_FIELDS},
        index=jobs.index,
    )
    for extra in ("applicant_id", "file", "row", "column_prefix", "entry"):
        frame[extra] = jobs[extra].to_numpy() if extra in jobs.columns else None
    frame = frame.reset_index(drop=True)
    frame["applicant_pos"] = position.reindex(frame["applicant_id"].to_numpy()).to_numpy()
    frame = frame[frame["applicant_pos"].notna()].reset_index(drop=True)
    frame["applicant_pos"] = frame["applicant_pos"].astype(np.int64)
    as_of_day = as_of.toordinal()

    def start_of(text: str) -> int:
        parsed = parse_date(text) if text else None
        return parsed[0] if parsed else NO_DAY

    start_day = lookup(frame["start"], start_of, np.int64)

    def end_of(text: str) -> int:
        if not text or text.strip().lower() in _PRESENT:
            return as_of_day
        parsed = parse_date(text)
        return parsed[1] if parsed else NO_DAY

    end_day = lookup(frame["end"], end_of, np.int64)

    def number_or(default: float) -> Any:
        def read(text: str) -> float:
            if not text:
                return default
            value = _parse_number(text)
            return np.nan if value is None else value

        return read

    hours_value = lookup(frame["hours_per_week"], number_or(float(spec.full_time_hours)), float)
    percent_value = lookup(frame["qualifying_percent"], number_or(100.0), float)

    problem = np.full(len(frame), "", dtype=object)
    column = np.full(len(frame), "", dtype=object)

    def flag(mask: np.ndarray[Any, Any], field: str, text: str) -> None:
        new = mask & (problem == "")
        problem[new] = text
        column[new] = field

    flag(frame["start"].to_numpy(dtype=object) == "", "start", "start date is missing")
    flag(start_day == NO_DAY, "start", "start date is not a date in an accepted format")
    flag(end_day == NO_DAY, "end", "end date is not a date in an accepted format")
    flag(
        (start_day != NO_DAY) & (start_day > as_of_day),
        "start",
        "start date is after the as-of date",
    )
    earliest = window_start(as_of, MAX_JOB_YEARS) - 1  # exactly 60 years before is kept
    flag(
        (start_day != NO_DAY) & (start_day < earliest),
        "start",
        f"start date is more than {MAX_JOB_YEARS} years before the as-of date",
    )
    flag(
        (start_day != NO_DAY) & (end_day != NO_DAY) & (end_day < start_day),
        "end",
        "end date is before the start date",
    )
    flag(
        np.isnan(hours_value) | (hours_value < 1) | (hours_value > 168),
        "hours_per_week",
        "hours per week must be a number from 1 to 168",
    )
    flag(
        np.isnan(percent_value) | (percent_value < 0) | (percent_value > 100),
        "qualifying_percent",
        "qualifying percent must be a number from 0 to 100",
    )

    valid = problem == ""
    hours_units = np.where(valid, np.round(np.nan_to_num(hours_value) * F.VALUE_SCALE), 0).astype(
        np.int64
    )
    percent_units = np.where(
        valid, np.round(np.nan_to_num(percent_value) * F.VALUE_SCALE), 0
    ).astype(np.int64)
    frame["start_day"] = start_day
    frame["end_day"] = np.minimum(end_day, as_of_day)
    frame["rate"] = hours_units * percent_units
    frame["hours_value"] = hours_value
    frame["percent_value"] = percent_value
    frame["problem"] = _texts(problem, frame.index)
    frame["problem_column"] = _texts(column, frame.index)
    return frame


def _classify_jobs(
    frame: pd.DataFrame,
    req: ExperienceRequirement,
    spec: JobSpec,
    vocab: Vocabulary,
    as_of: date,
) -> pd.DataFrame:
    """Classify every job against one experience requirement and say what matched."""
    classify = job_classifier(req, vocab).classify
    out = frame.copy()
    title = out["title"].to_numpy(dtype=object)
    duties = out["duties"].to_numpy(dtype=object)
    industry = out["industry"].to_numpy(dtype=object)
    employer = out["employer"].to_numpy(dtype=object)
    # classified once per distinct (title, duties, industry, employer) combination
    combination, first = combined_codes(
        distinct(title)[0], distinct(duties)[0], distinct(industry)[0], distinct(employer)[0]
    )
    tables = [np.empty(len(first), dtype=object) for _ in range(3)]
    for index, row in enumerate(first):
        found = classify(title[row], duties[row], industry[row], employer[row])
        for table, value in zip(tables, found, strict=True):
            table[index] = value
    area, classification, matched = (table[combination] for table in tables)
    invalid = (out["problem"].to_numpy(dtype=object) != "") & (classification != NOT_QUALIFYING)
    classification[invalid] = INVALID
    out["area"] = _texts(area, out.index)
    out["matched"] = _texts(matched, out.index)
    out["classification"] = _texts(classification, out.index)
    out["requirement"] = req.id
    out["window_start"] = (
        window_start(as_of, req.within_years)
        if req.within_years is not None
        else np.iinfo(np.int64).min
    )
    cap = F.daily_cap(spec.full_time_hours)
    days = np.maximum(
        0,
        out["end_day"].to_numpy()
        - np.maximum(out["start_day"].to_numpy(), out["window_start"].to_numpy())
        + 1,
    )
    counted = np.isin(classification, [QUALIFYING, UNCERTAIN])
    out["credit"] = np.where(counted, np.minimum(out["rate"].to_numpy(), cap) * days, 0)
    return out


def _credit(
    classified: pd.DataFrame,
    req: ExperienceRequirement,
    full_time_hours: int,
    count: int,
    as_of: date,
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.int64]]]:
    """Certain and possible credit per applicant: per day min(full time, sum of rates)."""
    cap = F.daily_cap(full_time_hours)
    classification = classified["classification"].to_numpy(dtype=object)
    certain = _sweep(classified[classification == QUALIFYING], cap, count)
    possible = _sweep(classified[np.isin(classification, [QUALIFYING, UNCERTAIN])], cap, count)
    unreadable = classified.loc[classification == INVALID, "applicant_pos"].to_numpy(dtype=np.int64)
    possible[unreadable] = F.UNBOUNDED
    return certain, possible


def _sweep(jobs: pd.DataFrame, cap: int, count: int) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Credit per applicant from job intervals, overlapping days capped at `cap`."""
    credit = np.zeros(count, dtype=np.int64)
    if jobs.empty:
        return credit
    start = np.maximum(
        jobs["start_day"].to_numpy(dtype=np.int64), jobs["window_start"].to_numpy(dtype=np.int64)
    )
    end = jobs["end_day"].to_numpy(dtype=np.int64)
    keep = end >= start
    start, end = start[keep], end[keep]
    who = jobs["applicant_pos"].to_numpy(dtype=np.int64)[keep]
    rate = jobs["rate"].to_numpy(dtype=np.int64)[keep]
    if not len(who):
        return credit
    app = np.concatenate([who, who])
    day = np.concatenate([start, end + 1])
    delta = np.concatenate([rate, -rate])
    order = np.lexsort((day, app))
    app, day, delta = app[order], day[order], delta[order]
    # merge events of the same applicant and day
    boundary = np.ones(len(app), dtype=bool)
    boundary[1:] = (app[1:] != app[:-1]) | (day[1:] != day[:-1])
    starts = np.flatnonzero(boundary)
    app, day = app[starts], day[starts]
    delta = np.add.reduceat(delta, starts)
    level = np.cumsum(delta)  # each applicant's events sum to zero, so one running sum serves
    same_next = np.zeros(len(app), dtype=bool)
    same_next[:-1] = app[1:] == app[:-1]
    length = np.zeros(len(app), dtype=np.int64)
    length[:-1] = day[1:] - day[:-1]
    segment = np.where(same_next, np.minimum(level, cap) * length, 0)
    np.add.at(credit, app, segment)
    return credit


def _job_issues(jobs: pd.DataFrame) -> list[InputIssue]:
    """A warning for each job entry with a bad value (once, whatever the requirement)."""
    bad = jobs[jobs["problem"].to_numpy(dtype=object) != ""].drop_duplicates(
        subset=["applicant_pos", "entry", "row", "file"]
    )
    wanted = ["file", "row", "applicant_id", "column_prefix", "problem", "problem_column"]
    flagged = set(bad["problem_column"].tolist())
    fields = [name for name in JOB_FIELDS if name in flagged]
    columns = {name: bad[name].tolist() for name in [*wanted, *fields]}
    issues = []
    for i in range(len(bad)):
        problem_column = str(columns["problem_column"][i])
        row = columns["row"][i]
        # built without validation: every value is already of its field's type
        issues.append(
            InputIssue.model_construct(
                file=str(columns["file"][i] or ""),
                row=int(row) if row is not None and not pd.isna(row) else None,
                applicant_id=str(columns["applicant_id"][i]),
                column=f"{columns['column_prefix'][i] or ''}{problem_column}",
                value=str(columns[problem_column][i]),
                problem=f"job entry: {columns['problem'][i]}",
                fix=_JOB_FIXES[problem_column],
                severity="warning",
            )
        )
    return issues


_JOB_FIXES = {
    "start": "give the start as 2019-03-15, 03/15/2019, 2019-03, 03/2019 or Mar 2019, "
    f"not after the as-of date nor more than {MAX_JOB_YEARS} years before it",
    "end": "give the end as a date on or after the start, or leave it blank / 'present' "
    "for a current job",
    "hours_per_week": "give hours per week as a number from 1 to 168, or leave it blank for "
    "full time",
    "qualifying_percent": "give the share of qualifying duties as a number from 0 to 100, or "
    "leave it blank for 100",
}


# ---------------------------------------------------------------------------- education


@dataclass(frozen=True)
class _Degree:
    level_certain: Level
    level_possible: Level
    recognised: bool
    field: str | None


#: Degree readers of the vocabularies in use, by identity (a worker screens many chunks
#: with one vocabulary; the reader's patterns and its answers are built once).
_DEGREE_READERS: dict[int, tuple[Vocabulary, Any]] = {}


def _degree_reader(vocab: Vocabulary) -> Any:
    cached = _DEGREE_READERS.get(id(vocab))
    if cached is not None and cached[0] is vocab:
        return cached[1]
    read = _build_degree_reader(vocab)
    if len(_DEGREE_READERS) >= 8:
        _DEGREE_READERS.clear()
    _DEGREE_READERS[id(vocab)] = (vocab, read)
    return read


def _build_degree_reader(vocab: Vocabulary) -> Any:
    forms: list[tuple[int, int, Level, re.Pattern[str]]] = []
    for level, spellings in vocab.degrees.items():
        for spelling in spellings:
            normalised = normalise_text(spelling)
            pattern = phrase_pattern([normalised])
            if pattern is not None:
                forms.append((len(normalised), level.rank, level, pattern))
    forms.sort(key=lambda f: (f[0], f[1]), reverse=True)
    degree_fields = {normalise_text(k): v for k, v in vocab.degree_fields.items()}
    field_forms = [
        (p, value)
        for key, value in sorted(degree_fields.items(), key=lambda kv: -len(kv[0]))
        if (p := phrase_pattern([key])) is not None
    ]

    @lru_cache(maxsize=65536)
    def read(text: str) -> _Degree:
        normalised = normalise_text(text)
        field = degree_fields.get(normalised)
        if field is None:
            for p, value in field_forms:
                if p.search(normalised):
                    field = value
                    break
        if normalised == "none":
            return _Degree(Level.none, Level.none, True, None)
        for _, _, level, pattern in forms:
            if pattern.search(normalised):
                return _Degree(level, level, True, field)
        return _Degree(Level.none, Level.doctorate, False, field)

    return read


@dataclass
class _DegreeColumns:
    """How each entry's degree text reads, as columns (each distinct text read once)."""

    level_certain: np.ndarray[Any, np.dtype[np.int64]]
    level_possible: np.ndarray[Any, np.dtype[np.int64]]
    recognised: np.ndarray[Any, np.dtype[np.bool_]]
    #: per entry, an index into `fields` (the field the degree names, "" when none)
    field_code: np.ndarray[Any, np.dtype[np.int64]]
    fields: np.ndarray[Any, Any]


def _degree_columns(degree: pd.Series, vocab: Vocabulary) -> _DegreeColumns:
    codes, texts = distinct(degree)
    read = per_distinct(texts, _degree_reader(vocab))
    field_codes, fields = distinct(np.array([d.field or "" for d in read], dtype=object))
    return _DegreeColumns(
        level_certain=np.array([d.level_certain.rank for d in read], dtype=np.int64)[codes],
        level_possible=np.array([d.level_possible.rank for d in read], dtype=np.int64)[codes],
        recognised=np.array([d.recognised for d in read], dtype=bool)[codes],
        field_code=field_codes.astype(np.int64)[codes],
        fields=fields,
    )


def _yes_no(column: pd.Series) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """(yes or blank, anything but no) of a yes/no text column, case-insensitively."""
    codes, texts = distinct(column)
    lowered = [text.lower() for text in texts]
    yes = np.array([text in _YES or text == "" for text in lowered], dtype=bool)
    not_no = np.array([text not in _NO for text in lowered], dtype=bool)
    return yes[codes], not_no[codes]


def _read_education(education: pd.DataFrame, position: pd.Series) -> pd.DataFrame:
    frame = pd.DataFrame(
        {name: _text_column(education, name) for name in EDUCATION_FIELDS},
        index=education.index,
    )
    for extra in ("applicant_id", "file", "row", "column_prefix", "entry"):
        frame[extra] = education[extra].to_numpy() if extra in education.columns else None
    frame = frame.reset_index(drop=True)
    frame["applicant_pos"] = position.reindex(frame["applicant_id"].to_numpy()).to_numpy()
    frame = frame[frame["applicant_pos"].notna()].reset_index(drop=True)
    frame["applicant_pos"] = frame["applicant_pos"].astype(np.int64)
    return frame


def _units_credit(
    units: pd.Series,
    unit_type: pd.Series,
    one_year: int,
    semester_per_year: int = 30,
    quarter_per_year: int = 45,
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Certain and possible education credit of partial study (units ÷ 30 or ÷ 45, ≤ 4 years).

    Units are kept to two decimals and the division is done in whole numbers: certain
    credit rounds down and possible credit rounds up, so partial study is never
    over-credited for certain.
    """
    parsed = _map_unique(units, lambda t: _parse_number(t) if t else 0.0).to_numpy(
        dtype=float, na_value=np.nan
    )
    unreadable = np.isnan(parsed) | (parsed < 0)
    # at most 10,000 units: a larger figure is a typo, and it would overflow whole numbers
    hundredths = np.where(
        unreadable, 0, np.round(np.minimum(np.nan_to_num(parsed), 10_000) * 100)
    ).astype(np.int64)
    kind_codes, kinds = distinct(unit_type)
    lowered = [kind.strip().lower() for kind in kinds]
    semester = np.array([k.startswith("sem") for k in lowered], dtype=bool)[kind_codes]
    quarter = np.array([k.startswith("quar") for k in lowered], dtype=bool)[kind_codes]
    divisor_certain = np.where(semester, semester_per_year, quarter_per_year) * 100
    divisor_possible = np.where(quarter, quarter_per_year, semester_per_year) * 100
    scaled = hundredths * one_year
    certain = scaled // divisor_certain
    possible = -((-scaled) // divisor_possible)
    most = 4 * one_year
    certain = np.minimum(certain, most)
    possible = np.where(unreadable, most, np.minimum(possible, most))
    return certain, possible


def _assess_education(
    frame: pd.DataFrame,
    req: EducationRequirement,
    spec: JobSpec,
    vocab: Vocabulary,
    substitution: Substitution | None = None,
) -> pd.DataFrame:
    out = frame.copy()
    one_year = F.year_credit(spec.full_time_hours)
    degrees = _degree_columns(out["degree"], vocab)
    completed_certain, completed_possible = _yes_no(out["completed"])
    if req.accredited:
        accredited_certain, accredited_possible = _yes_no(out["accredited"])
    else:
        accredited_certain = np.ones(len(out), dtype=bool)
        accredited_possible = np.ones(len(out), dtype=bool)

    family_of: dict[str, str] = {}
    for f in req.fields:
        for alias in vocab.field_aliases(f):
            family_of.setdefault(normalise_text(alias), f)
    related_of: dict[str, str] = {}
    for f in req.fields:
        for alias in vocab.field_related(f):
            related_of.setdefault(normalise_text(alias), f)
    listed = phrase_pattern(list(family_of))
    related = phrase_pattern(list(related_of))
    unrelated = phrase_pattern([u for f in req.fields for u in vocab.field_unrelated(f)])

    def field_status(major: str, degree_field: str) -> tuple[str, str]:
        if not req.fields:
            return "any", ""
        subject = major or degree_field
        source = "major" if major else "degree"
        if not subject:
            return "uncertain", "major is blank"
        normalised = normalise_text(subject)
        if listed is not None and (m := listed.search(normalised)):
            family = family_of[normalise_text(m.group(0))]
            return "listed", f"{source} '{subject}' is in field '{family}'"
        if related is not None and (m := related.search(normalised)):
            family = related_of[normalise_text(m.group(0))]
            return "related", f"{source} '{subject}' is a related field of '{family}'"
        if unrelated is not None and unrelated.search(normalised):
            return "not_met", f"{source} '{subject}' is ruled out as a related field"
        if req.allow_related:
            return "uncertain", f"{source} '{subject}' is not a listed or recognised related field"
        return "not_met", f"{source} '{subject}' is not a listed field"

    # classified once per distinct (major, field the degree names) pair
    major_codes, majors = distinct(out["major"])
    pair, first = combined_codes(major_codes, degrees.field_code)
    status_table = np.empty(len(first), dtype=object)
    note_table = np.empty(len(first), dtype=object)
    for index, row in enumerate(first):
        status_table[index], note_table[index] = field_status(
            majors[major_codes[row]], degrees.fields[degrees.field_code[row]]
        )
    out["field_status"] = _texts(status_table[pair], out.index)
    out["field_note"] = _texts(note_table[pair], out.index)
    field_status_values = out["field_status"].to_numpy(dtype=object)
    field_certain = np.isin(field_status_values, ["listed", "related", "any"])
    field_possible = field_certain | (field_status_values == "uncertain")

    recognised = degrees.recognised
    level_c = np.where(completed_certain, degrees.level_certain, 0)
    level_p = np.where(completed_possible, degrees.level_possible, 0)
    degree_years = np.array([LEVEL_YEARS[level] for level in LEVEL_ORDER], dtype=np.int64)
    degree_credit_c = np.where(recognised & completed_certain, degree_years[level_c], 0) * one_year
    degree_credit_p = (
        np.where(completed_possible, np.where(recognised, degree_years[level_p], 4), 0) * one_year
    )
    per_year = substitution if substitution is not None else Substitution()
    unit_c, unit_p = _units_credit(
        out["units"],
        out["unit_type"],
        one_year,
        per_year.semester_units_per_year,
        per_year.quarter_units_per_year,
    )

    counts_c = field_certain & accredited_certain
    counts_p = field_possible & accredited_possible
    names = np.array([level.value for level in LEVEL_ORDER], dtype=object)
    out["level_certain"] = _texts(names[level_c], out.index)
    out["level_possible"] = _texts(names[level_p], out.index)
    out["level_certain_rank"] = np.where(counts_c, level_c, 0)
    out["level_possible_rank"] = np.where(counts_p, level_p, 0)
    out["entry_level_possible_rank"] = level_p
    out["credit_certain"] = np.where(counts_c, np.maximum(degree_credit_c, unit_c), 0)
    out["credit_possible"] = np.where(counts_p, np.maximum(degree_credit_p, unit_p), 0)
    out["recognised"] = recognised
    out["counts_certain"] = counts_c
    out["counts_possible"] = counts_p
    out["accredited_excluded"] = ~accredited_certain if req.accredited else np.zeros(len(out), bool)
    out["requirement"] = req.id
    return out


def _education_for_experience(
    edu_frame: pd.DataFrame, pattern: Pattern, spec: JobSpec, vocab: Vocabulary, count: int
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Credit of education beyond the pattern's required level that may replace experience.

    Zero unless the substitution in force says education replaces experience; capped at
    the years it allows. Only entries that count for the pattern's education requirement
    (its fields, its accreditation) count; with no education requirement, any entry does.
    """
    certain = np.zeros(count, dtype=np.int64)
    possible = np.zeros(count, dtype=np.int64)
    substitution = spec.substitution_for(pattern)
    if substitution is None or not substitution.education_for_experience or not len(edu_frame):
        return certain, possible
    one_year = F.year_credit(spec.full_time_hours)
    requirement = pattern.education or EducationRequirement(
        id=f"{pattern.id}.education_for_experience", min_level=Level.none
    )
    assessed = _assess_education(edu_frame, requirement, spec, vocab, substitution)
    advanced = np.array([ADVANCED_YEARS[level] for level in LEVEL_ORDER], dtype=np.int64)
    level_c = assessed["level_certain_rank"].to_numpy(dtype=np.int64)
    level_p = assessed["level_possible_rank"].to_numpy(dtype=np.int64)
    total_c = np.maximum(advanced[level_c] * one_year, assessed["credit_certain"].to_numpy())
    total_p = np.maximum(advanced[level_p] * one_year, assessed["credit_possible"].to_numpy())
    required = ADVANCED_YEARS[requirement.min_level] * one_year
    cap = (
        F.credit_for_years(substitution.max_education_for_experience_years, spec.full_time_hours)
        if substitution.max_education_for_experience_years is not None
        else F.UNBOUNDED
    )
    who = assessed["applicant_pos"].to_numpy(dtype=np.int64)
    np.maximum.at(certain, who, np.clip(total_c - required, 0, cap))
    np.maximum.at(possible, who, np.clip(total_p - required, 0, cap))
    return certain, possible


def _education_facts(
    assessed: pd.DataFrame, req: EducationRequirement, spec: JobSpec, *, pattern_id: str, count: int
) -> dict[str, np.ndarray[Any, Any]]:
    F.year_credit(spec.full_time_hours)
    pattern = next(p for p in spec.patterns if p.id == pattern_id)
    substitution = spec.substitution_for(pattern)
    required_years = (
        substitution.education_years
        if substitution is not None and substitution.education_years is not None
        else LEVEL_YEARS[req.min_level]
    )
    level_c = np.zeros(count, dtype=np.int64)
    level_p = np.zeros(count, dtype=np.int64)
    years_c = np.zeros(count, dtype=np.int64)
    years_p = np.zeros(count, dtype=np.int64)
    who = assessed["applicant_pos"].to_numpy(dtype=np.int64)
    # the best entry counts, never a sum
    np.maximum.at(level_c, who, assessed["level_certain_rank"].to_numpy(dtype=np.int64))
    np.maximum.at(level_p, who, assessed["level_possible_rank"].to_numpy(dtype=np.int64))
    np.maximum.at(years_c, who, assessed["credit_certain"].to_numpy(dtype=np.int64))
    np.maximum.at(years_p, who, assessed["credit_possible"].to_numpy(dtype=np.int64))
    cap = F.credit_for_years(required_years, spec.full_time_hours)
    return {
        F.education_level_certain(req.id): level_c,
        F.education_level_possible(req.id): level_p,
        F.education_years_certain(req.id): years_c,
        F.education_years_possible(req.id): years_p,
        F.education_substitution_certain(req.id): np.minimum(years_c, cap),
        F.education_substitution_possible(req.id): np.minimum(years_p, cap),
    }


# ---------------------------------------------------------------------------- licenses


def state_code(text: str) -> str | None:
    """A US state's two-letter code from its code or name, else None."""
    value = normalise_text(text)
    if value.upper() in US_STATES:
        return value.upper()
    for code, name in US_STATES.items():
        if value == name:
            return code
    return None


def _license_codes(
    applicants: pd.DataFrame, kind: str, state: str | None, license_class: str | None = None
) -> np.ndarray[Any, Any]:
    if "driver" in kind.lower():
        # read once per distinct answer
        answer_codes, answers = distinct(_text_column(applicants, "drivers_license"))
        said = [answer.strip().lower() for answer in answers]
        said_no = np.array([a in _NO for a in said], dtype=bool)[answer_codes]
        said_yes = np.array([a in _YES for a in said], dtype=bool)[answer_codes]
        where = _text_column(applicants, "drivers_license_state")
        wanted = state_code(state) if state else None
        state_ok = (
            _map_unique(where, lambda t: state_code(t) == wanted).to_numpy(dtype=bool)
            if wanted
            else np.ones(len(applicants), dtype=bool)
        )
        codes = np.full(len(applicants), F.UNKNOWN, dtype=np.int64)
        codes[said_no] = F.NOT_HELD
        # the applicant file never shows a license's class: a required class stays unknown
        codes[said_yes & state_ok] = F.UNKNOWN if license_class else F.HELD
        return codes
    # Other licenses have no column of their own: one listed among the certificates is
    # held; one not listed may still be held (the export has no place for it), so review.
    listed = _certificate_codes(applicants, [kind])
    return np.where(listed == F.HELD, F.HELD, F.UNKNOWN).astype(np.int64)


def _certificate_codes(applicants: pd.DataFrame, names: list[str]) -> np.ndarray[Any, Any]:
    pattern = phrase_pattern(names)
    listed = _text_column(applicants, "certificates")

    def holds(text: str) -> bool:
        return pattern is not None and any(
            pattern.search(normalise_text(item)) for item in text.split(";")
        )

    held = _map_unique(listed, holds).to_numpy(dtype=bool)
    return np.where(held, F.HELD, F.NOT_HELD).astype(np.int64)
