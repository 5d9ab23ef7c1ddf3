"""An independent, deliberately plain reference evaluator of the screening semantics.

It exists to be compared with the real engine (a differential test), so it is written to be
obviously right rather than fast: plain Python, one applicant at a time, experience credit
summed calendar day by calendar day, years as exact fractions. It shares nothing with the
engine except the JobSpec and Vocabulary models; text matching, date parsing, education
reading and the decision logic are all written again here from DESIGN.md ("Semantics") and
docs/semantics.md.

Readings this module takes where neither document decides (each is the one an HR
professional would expect):

- blank markers ("", "N/A", "none", "-") are compared case-insensitively after trimming,
  so "NONE" or "None" in a major is blank; only the degree column keeps "None" as a value;
- a job whose title or duties match several areas is classified against each matched area
  (with that area's industries) and the most favourable classification counts;
- a ``completed`` value that is neither yes nor no (e.g. "in progress") is certainly not
  completed and possibly completed;
- the field a degree names (``degree_fields``) is looked up as a whole phrase in the degree
  text, longest form first ("MBA, Finance" names business administration);
- an education requirement's level and its years are each the best over the entries, not
  necessarily from the same entry ("high school diploma" plus "60 semester units");
- an ``accredited`` value other than no counts (only an explicit no excludes an entry);
- a ``unit_type`` that is neither semester nor quarter is read like a blank one;
- a license of a kind other than a driver's license cannot be read from the applicant
  file: unknown (review at screening); a driver's license held where the spec requires a
  class is review too (the applicant file reports no class);
- a driver's license state is compared with the spec's state case-insensitively, and a US
  state's full name equals its postal code ("California" = "CA");
- certificate aliases are the spec's and the vocabulary's;
- discretionary equivalency applies when the substitution in force for any pattern is
  discretionary; "education above level none" uses the possible level of an entry;
- a pattern without an experience requirement cannot substitute experience for education;
- the closest pattern of a rejection: one that holds possibly first, then fewest not_met
  criteria, then fewest review criteria, then spec order;
- hours_per_week and qualifying_percent are range-checked as written, then kept to two
  decimals (half up); month names are full or three-letter, ISO dates have two-digit
  months and days;
- units per education year come from the substitution in force (30 semester / 45 quarter
  unless the spec says otherwise).
"""

from __future__ import annotations

import calendar
import csv
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import lru_cache
from math import ceil, floor
from pathlib import Path

from screening.results import Outcome, Status
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
)
from screening.vocabulary import Vocabulary

# --------------------------------------------------------------------------- text

BLANK_MARKERS = {"", "n/a", "none", "-"}
YES_WORDS = {"yes", "y", "true", "1"}
NO_WORDS = {"no", "n", "false", "0"}
KEPT_PUNCTUATION = set("/&+#-")


@lru_cache(maxsize=65536)  # pure; cached only because every keyword is tried on every job
def normalise(text: str) -> str:
    """Lower-case; anything but a letter, digit, `_`, space or / & + # - becomes a space."""
    kept = [
        ch if (ch.isalnum() or ch == "_" or ch.isspace() or ch in KEPT_PUNCTUATION) else " "
        for ch in text.lower()
    ]
    return " ".join("".join(kept).split())


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def contains_phrase(text: str, phrase: str) -> bool:
    """True when the normalised phrase occurs in the normalised text as whole words."""
    haystack = normalise(text)
    needle = normalise(phrase)
    if not needle:
        return False
    start = haystack.find(needle)
    while start != -1:
        end = start + len(needle)
        before_ok = start == 0 or not _is_word_char(haystack[start - 1])
        after_ok = end == len(haystack) or not _is_word_char(haystack[end])
        if before_ok and after_ok:
            return True
        start = haystack.find(needle, start + 1)
    return False


def matching_phrase(text: str, phrases: list[str]) -> str | None:
    """The first phrase (in the order given) found in the text as whole words, if any."""
    for phrase in phrases:
        if contains_phrase(text, phrase):
            return phrase
    return None


def is_blank(value: str | None) -> bool:
    """True for a missing cell or a blank marker ("", "N/A", "n/a", "none", "-")."""
    return value is None or value.strip().lower() in BLANK_MARKERS


def yes_no(value: str) -> bool | None:
    """yes → True, no → False, anything else (including blank) → None (unknown)."""
    word = value.strip().lower()
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    return None


# --------------------------------------------------------------------------- dates

MONTHS: dict[str, int] = {}
for _number in range(1, 13):
    MONTHS[calendar.month_name[_number].lower()] = _number
    MONTHS[calendar.month_abbr[_number].lower()] = _number

ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
US_DAY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
ISO_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
US_MONTH = re.compile(r"^(\d{1,2})/(\d{4})$")
NAMED_MONTH = re.compile(r"^([A-Za-z]+) (\d{4})$")


def parse_date(text: str, *, is_end: bool) -> date | None:
    """A date in one of the accepted formats; month-only → first day (start) or last (end)."""
    value = " ".join(text.split())
    try:
        if m := ISO_DAY.match(value):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := US_DAY.match(value):
            return date(int(m[3]), int(m[1]), int(m[2]))
        year_month: tuple[int, int] | None = None
        if m := ISO_MONTH.match(value):
            year_month = (int(m[1]), int(m[2]))
        elif m := US_MONTH.match(value):
            year_month = (int(m[2]), int(m[1]))
        elif (m := NAMED_MONTH.match(value)) and m[1].lower() in MONTHS:
            year_month = (int(m[2]), MONTHS[m[1].lower()])
        if year_month is None:
            return None
        year, month = year_month
        day = calendar.monthrange(year, month)[1] if is_end else 1
        return date(year, month, day)
    except ValueError:
        return None  # e.g. month 13 or 30 February


def years_before(day: date, years: int) -> date:
    """The same calendar day N years earlier; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


NUMBER = re.compile(r"^(\d+(\.\d*)?|\.\d+)$")


def parse_number(text: str) -> Decimal | None:
    """A plain non-negative decimal number, or None."""
    value = text.strip()
    return Decimal(value) if NUMBER.match(value) else None


def hundredths(value: Decimal) -> int:
    """The value kept to two decimals, as a whole number of hundredths."""
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --------------------------------------------------------------------------- entries


@dataclass
class Job:
    """One work entry of one applicant, fields already blanked (None)."""

    number: int
    title: str | None
    employer: str | None
    industry: str | None
    start: str | None
    end: str | None
    hours_per_week: str | None
    duties: str | None
    qualifying_percent: str | None


@dataclass
class Education:
    """One education entry of one applicant."""

    number: int
    degree: str | None
    major: str | None
    institution: str | None
    accredited: str | None
    completed: str | None
    units: str | None
    unit_type: str | None


JOB_FIELDS = (
    "title",
    "employer",
    "industry",
    "start",
    "end",
    "hours_per_week",
    "duties",
    "qualifying_percent",
)
EDU_FIELDS = ("degree", "major", "institution", "accredited", "completed", "units", "unit_type")
ENTRY_COLUMN = re.compile(r"^(job|edu)(\d+)_(\w+)$")


def _cell(row: dict[str, str | None], column: str, *, keep_none_word: bool = False) -> str | None:
    value = row.get(column)
    if value is None:
        return None
    if keep_none_word and value.strip().lower() == "none":
        return value.strip()
    return None if is_blank(value) else value.strip()


def read_entries(row: dict[str, str | None]) -> tuple[list[Job], list[Education]]:
    """The non-blank job and education entries of a wide row, in entry-number order."""
    numbers: dict[str, set[int]] = {"job": set(), "edu": set()}
    for column in row:
        if column and (m := ENTRY_COLUMN.match(column)):
            numbers[m[1]].add(int(m[2]))
    jobs: list[Job] = []
    for n in sorted(numbers["job"]):
        job_values = [_cell(row, f"job{n}_{f}") for f in JOB_FIELDS]
        if any(v is not None for v in job_values):
            jobs.append(Job(n, *job_values))
    educations: list[Education] = []
    for n in sorted(numbers["edu"]):
        edu_values = [_cell(row, f"edu{n}_{f}", keep_none_word=(f == "degree")) for f in EDU_FIELDS]
        if any(v is not None for v in edu_values):
            educations.append(Education(n, *edu_values))
    return jobs, educations


# --------------------------------------------------------------------------- experience

QUALIFYING = "qualifying"
UNCERTAIN = "uncertain"
NOT_QUALIFYING = "not_qualifying"
INVALID = "invalid"


@dataclass
class JobSpan:
    """A readable job's counted days and its per-day weight in 1/10000 hour-percent units."""

    first: date
    last: date
    weight: int


def read_span(job: Job, *, as_of: date, full_time_hours: int) -> JobSpan | None:
    """The job's dates and weight, or None when a value is bad (the entry is invalid)."""
    if job.start is None:
        return None
    start = parse_date(job.start, is_end=False)
    if start is None or start > as_of or start < years_before(as_of, 60):
        return None  # (more than 60 years before the as-of date is a typing mistake)
    if job.end is None or job.end.strip().lower() in ("present", "current"):
        end = as_of
    else:
        parsed_end = parse_date(job.end, is_end=True)
        if parsed_end is None or parsed_end < start:
            return None
        end = min(parsed_end, as_of)
    if job.hours_per_week is None:
        hours = Decimal(full_time_hours)
    else:
        parsed_hours = parse_number(job.hours_per_week)
        if parsed_hours is None or not Decimal(1) <= parsed_hours <= Decimal(168):
            return None
        hours = parsed_hours
    if job.qualifying_percent is None:
        percent = Decimal(100)
    else:
        parsed_percent = parse_number(job.qualifying_percent)
        if parsed_percent is None or parsed_percent > Decimal(100):
            return None
        percent = parsed_percent
    return JobSpan(first=start, last=end, weight=hundredths(hours) * hundredths(percent))


def industry_standing(
    industry_text: str | None, industries: list[str], vocabulary: Vocabulary, allow_related: bool
) -> str:
    """listed / related / unrelated / unknown for a job's industry text against a list."""
    if industry_text is None:
        return "unknown"
    for name in industries:
        family = vocabulary.industries.get(name)
        if matching_phrase(industry_text, [name, *(family.keywords if family else [])]):
            return "listed"
    if allow_related:
        for name in industries:
            family = vocabulary.industries.get(name)
            if family and matching_phrase(industry_text, family.related):
                return "related"
    for name in industries:
        family = vocabulary.industries.get(name)
        if family and matching_phrase(industry_text, family.unrelated):
            return "unrelated"
    return "unknown"


def classify_job(
    job: Job,
    requirement: ExperienceRequirement,
    vocabulary: Vocabulary,
    *,
    as_of: date,
    full_time_hours: int,
) -> tuple[str, JobSpan | None]:
    """The job's classification against a requirement and, when readable, its span."""
    text_fields = [t for t in (job.title, job.duties) if t is not None]
    matched_areas = [
        area
        for area, spec_keywords in requirement.areas.items()
        if any(
            matching_phrase(text, [area, *spec_keywords, *vocabulary.areas.get(area, [])])
            for text in text_fields
        )
    ]
    if not matched_areas:
        return NOT_QUALIFYING, None
    industry_text = job.industry if job.industry is not None else job.employer
    best = NOT_QUALIFYING
    for area in matched_areas:
        industries = requirement.area_industries.get(area, requirement.industries)
        if not industries:
            standing = "listed"
        else:
            standing = industry_standing(
                industry_text, industries, vocabulary, requirement.allow_related_industries
            )
        if standing in ("listed", "related"):
            best = QUALIFYING
        elif standing == "unknown" and best == NOT_QUALIFYING:
            best = UNCERTAIN
    if best == NOT_QUALIFYING:
        return NOT_QUALIFYING, None
    if (
        best == QUALIFYING
        and requirement.professional
        and job.title is not None
        and matching_phrase(job.title, vocabulary.non_professional_words)
    ):
        best = UNCERTAIN
    span = read_span(job, as_of=as_of, full_time_hours=full_time_hours)
    if span is None:
        return INVALID, None
    return best, span


@dataclass
class Credit:
    """Certain and possible credit of one requirement, in 1/10000 hour-percent day units."""

    certain: int
    possible: int | None  # None: unbounded


def sum_credit(spans: list[JobSpan], cap: int, window_after: date | None) -> int:
    """Σ over calendar days of min(cap, Σ weights of the spans covering the day)."""
    per_day: dict[date, int] = {}
    for span in spans:
        day = span.first
        while day <= span.last:
            if window_after is None or day > window_after:
                per_day[day] = per_day.get(day, 0) + span.weight
            day += timedelta(days=1)
    return sum(min(cap, total) for total in per_day.values())


def requirement_credit(
    jobs: list[Job],
    requirement: ExperienceRequirement,
    vocabulary: Vocabulary,
    *,
    as_of: date,
    full_time_hours: int,
) -> Credit:
    """The requirement's certain and possible credit over the applicant's jobs."""
    certain_spans: list[JobSpan] = []
    possible_spans: list[JobSpan] = []
    unbounded = False
    for job in jobs:
        kind, span = classify_job(
            job, requirement, vocabulary, as_of=as_of, full_time_hours=full_time_hours
        )
        if kind == INVALID:
            unbounded = True
        elif span is not None and kind == QUALIFYING:
            certain_spans.append(span)
            possible_spans.append(span)
        elif span is not None and kind == UNCERTAIN:
            possible_spans.append(span)
    cap = full_time_hours * 100 * 10000
    window_after = (
        years_before(as_of, requirement.within_years) if requirement.within_years else None
    )
    certain = sum_credit(certain_spans, cap, window_after)
    possible = None if unbounded else sum_credit(possible_spans, cap, window_after)
    return Credit(certain=certain, possible=possible)


# --------------------------------------------------------------------------- education


def degree_level(degree: str | None, vocabulary: Vocabulary) -> Level | None:
    """The level the degree text names; None when blank or unrecognised."""
    if degree is None:
        return None
    if degree.strip().lower() == "none":
        return Level.none
    best: tuple[int, int, Level] | None = None
    for level, forms in vocabulary.degrees.items():
        for form in forms:
            if contains_phrase(degree, form):
                key = (len(normalise(form)), level.rank, level)
                if best is None or key[:2] > best[:2]:
                    best = key
    return best[2] if best else None


def degree_field(degree: str | None, vocabulary: Vocabulary) -> str | None:
    """The field a degree names (BBA → business administration), longest form first."""
    if degree is None:
        return None
    forms = sorted(vocabulary.degree_fields, key=lambda f: len(normalise(f)), reverse=True)
    for form in forms:
        if contains_phrase(degree, form):
            return vocabulary.degree_fields[form]
    return None


def field_standing(
    entry: Education, requirement: EducationRequirement, vocabulary: Vocabulary
) -> str:
    """certain / uncertain / not for the entry's major against the requirement's fields."""
    if not requirement.fields:
        return "certain"
    major = entry.major if entry.major is not None else degree_field(entry.degree, vocabulary)
    if major is None:
        return "uncertain"
    for name in requirement.fields:
        family = vocabulary.fields.get(name)
        if matching_phrase(major, [name, *(family.aliases if family else [])]):
            return "certain"
    for name in requirement.fields:
        family = vocabulary.fields.get(name)
        if family and matching_phrase(major, family.related):
            return "certain"
    return "uncertain" if requirement.allow_related else "not"


@dataclass
class EntryValue:
    """Certain and possible level and education years of one education entry."""

    level_certain: Level
    level_possible: Level
    years_certain: Fraction
    years_possible: Fraction


def entry_value(
    entry: Education, substitution: Substitution | None, vocabulary: Vocabulary
) -> EntryValue:
    """The level and education years the entry stands for, certain and possible."""
    semester = substitution.semester_units_per_year if substitution else 30
    quarter = substitution.quarter_units_per_year if substitution else 45
    level = degree_level(entry.degree, vocabulary)
    completed_word = yes_no(entry.completed) if entry.completed is not None else True
    # Completed reading.
    if level is None:
        done = EntryValue(Level.none, Level.doctorate, Fraction(0), Fraction(4))
    else:
        years = Fraction(LEVEL_YEARS[level])
        done = EntryValue(level, level, years, years)
    # Not-completed reading: units only.
    units = parse_number(entry.units) if entry.units is not None else Decimal(0)
    if units is None:
        partial = EntryValue(Level.none, Level.none, Fraction(0), Fraction(4))
    else:
        unit_type = normalise(entry.unit_type) if entry.unit_type is not None else ""
        units_fraction = Fraction(units)
        if unit_type == "semester":
            certain = possible = units_fraction / semester
        elif unit_type == "quarter":
            certain = possible = units_fraction / quarter
        else:
            certain, possible = units_fraction / quarter, units_fraction / semester
        partial = EntryValue(
            Level.none, Level.none, min(certain, Fraction(4)), min(possible, Fraction(4))
        )
    if completed_word is True:
        return done
    if completed_word is False:
        return partial
    return EntryValue(  # unknown completion: certainly the worse, possibly the better
        level_certain=partial.level_certain,
        level_possible=done.level_possible,
        years_certain=min(done.years_certain, partial.years_certain),
        years_possible=max(done.years_possible, partial.years_possible),
    )


@dataclass
class EducationStanding:
    """The best level and years over an applicant's entries, certain and possible."""

    level_certain: Level = Level.none
    level_possible: Level = Level.none
    years_certain: Fraction = Fraction(0)
    years_possible: Fraction = Fraction(0)


def education_standing(
    educations: list[Education],
    requirement: EducationRequirement,
    substitution: Substitution | None,
    vocabulary: Vocabulary,
) -> EducationStanding:
    """Best certain values over field-certain entries, possible over certain-or-uncertain."""
    standing = EducationStanding()
    for entry in educations:
        excluded = entry.accredited is not None and yes_no(entry.accredited) is False
        if requirement.accredited and excluded:
            continue
        field_kind = field_standing(entry, requirement, vocabulary)
        if field_kind == "not":
            continue
        value = entry_value(entry, substitution, vocabulary)
        if field_kind == "certain":
            standing.level_certain = max(standing.level_certain, value.level_certain, key=_rank)
            standing.years_certain = max(standing.years_certain, value.years_certain)
        standing.level_possible = max(standing.level_possible, value.level_possible, key=_rank)
        standing.years_possible = max(standing.years_possible, value.years_possible)
    return standing


def _rank(level: Level) -> int:
    return LEVEL_ORDER.index(level)


def education_met(level: Level, years: Fraction, requirement: EducationRequirement) -> bool:
    """Level at least the minimum and, when asked, years at least the minimum."""
    if _rank(level) < _rank(requirement.min_level):
        return False
    if requirement.min_years is None:
        return True
    return years >= Fraction(str(requirement.min_years))


# --------------------------------------------------------------------------- licenses

US_STATES = {
    "alabama": "al", "alaska": "ak", "arizona": "az", "arkansas": "ar", "california": "ca",
    "colorado": "co", "connecticut": "ct", "delaware": "de", "florida": "fl", "georgia": "ga",
    "hawaii": "hi", "idaho": "id", "illinois": "il", "indiana": "in", "iowa": "ia",
    "kansas": "ks", "kentucky": "ky", "louisiana": "la", "maine": "me", "maryland": "md",
    "massachusetts": "ma", "michigan": "mi", "minnesota": "mn", "mississippi": "ms",
    "missouri": "mo", "montana": "mt", "nebraska": "ne", "nevada": "nv",
    "new hampshire": "nh", "new jersey": "nj", "new mexico": "nm", "new york": "ny",
    "north carolina": "nc", "north dakota": "nd", "ohio": "oh", "oklahoma": "ok",
    "oregon": "or", "pennsylvania": "pa", "rhode island": "ri", "south carolina": "sc",
    "south dakota": "sd", "tennessee": "tn", "texas": "tx", "utah": "ut", "vermont": "vt",
    "virginia": "va", "washington": "wa", "west virginia": "wv", "wisconsin": "wi",
    "wyoming": "wy", "district of columbia": "dc",
}  # fmt: skip


def _state_code(text: str) -> str:
    word = normalise(text)
    return US_STATES.get(word, word)


def license_status(
    requirement: License, row: dict[str, str | None], *, requires_driving: bool
) -> Status:
    """The status of a license requirement for one applicant."""
    if requirement.applies == "position_requires_driving" and not requires_driving:
        return Status.not_applicable
    if requirement.enforce_at == "appointment":
        return Status.condition
    if not contains_phrase(requirement.kind, "driver") and not contains_phrase(
        requirement.kind, "drivers"
    ):
        return Status.review  # no column reports other kinds of license
    held_text = _cell(row, "drivers_license")
    held = yes_no(held_text) if held_text is not None else None
    if held is False:
        return Status.not_met
    if held is None:
        return Status.review
    if requirement.license_class is not None:
        return Status.review  # the applicant file reports no license class
    if requirement.state is None:
        return Status.met
    state = _cell(row, "drivers_license_state")
    if state is not None and _state_code(state) == _state_code(requirement.state):
        return Status.met
    return Status.review


def certificate_status(
    requirement: Certificate,
    row: dict[str, str | None],
    vocabulary: Vocabulary,
    *,
    requires_driving: bool,
) -> Status:
    """The status of a certificate requirement for one applicant."""
    if requirement.applies == "position_requires_driving" and not requires_driving:
        return Status.not_applicable
    if requirement.enforce_at == "appointment":
        return Status.condition
    names = [
        requirement.name,
        *requirement.aliases,
        *vocabulary.certificates.get(requirement.name, []),
    ]
    listed = _cell(row, "certificates") or ""
    for item in listed.split(";"):
        if item.strip() and matching_phrase(item, names):
            return Status.met
    return Status.not_met


# --------------------------------------------------------------------------- decision

PASSING = {Status.met, Status.substituted, Status.condition, Status.not_applicable}
POSSIBLY_PASSING = PASSING | {Status.review}


@dataclass(frozen=True)
class ReferenceDecision:
    """The reference's decision for one applicant.

    qualifying_years / possible_years are those of the named pattern's first experience
    requirement (possible None: unbounded); pattern_credit holds them for every pattern.
    """

    outcome: str
    statuses: dict[str, str]
    qualifying_years: Fraction
    possible_years: Fraction | None  # None: unbounded
    pattern: str | None = None
    pattern_credit: dict[str, tuple[Fraction, Fraction | None]] = field(default_factory=dict)


def evaluate(
    spec: JobSpec,
    vocabulary: Vocabulary,
    row: dict[str, str],
    *,
    as_of: date,
    requires_driving: bool,
) -> ReferenceDecision:
    """Screen one wide-form applicant row against the spec, the plain way."""
    cells: dict[str, str | None] = dict(row)
    jobs, educations = read_entries(cells)
    full_time = spec.full_time_hours
    year_credit = 365 * full_time * 100 * 10000

    statuses: dict[str, Status] = {}
    for lic in spec.licenses:
        statuses[lic.id] = license_status(lic, cells, requires_driving=requires_driving)
    for cert in spec.certificates:
        statuses[cert.id] = certificate_status(
            cert, cells, vocabulary, requires_driving=requires_driving
        )
    spec_wide = [lic.id for lic in spec.licenses] + [c.id for c in spec.certificates]

    any_possible_experience = False
    pattern_years: dict[str, tuple[Fraction, Fraction | None]] = {}
    pattern_criteria: dict[str, list[str]] = {}
    discretionary = False
    for pattern in spec.patterns:
        substitution = spec.substitution_for(pattern)
        if substitution is not None and substitution.education_for_experience:
            raise NotImplementedError(
                f"pattern {pattern.id!r}: education_for_experience is not modelled by the "
                "reference evaluator"
            )
        discretionary = discretionary or bool(substitution and substitution.discretionary)
        credits = [
            requirement_credit(jobs, req, vocabulary, as_of=as_of, full_time_hours=full_time)
            for req in pattern.experience
        ]
        for credit in credits:
            if credit.possible is None or credit.possible > 0:
                any_possible_experience = True
        ids = _evaluate_pattern(
            pattern,
            substitution,
            credits,
            educations,
            cells,
            vocabulary,
            statuses,
            year_credit=year_credit,
            requires_driving=requires_driving,
        )
        pattern_criteria[pattern.id] = ids + spec_wide
        if credits:
            first = credits[0]
            pattern_years[pattern.id] = (
                Fraction(first.certain, year_credit),
                None if first.possible is None else Fraction(first.possible, year_credit),
            )
        else:
            pattern_years[pattern.id] = (Fraction(0), Fraction(0))

    holds_certainly = [
        p.id for p in spec.patterns if all(statuses[c] in PASSING for c in pattern_criteria[p.id])
    ]
    holds_possibly = [
        p.id
        for p in spec.patterns
        if all(statuses[c] in POSSIBLY_PASSING for c in pattern_criteria[p.id])
    ]
    if holds_certainly:
        outcome = Outcome.qualified
        chosen = holds_certainly[0]
    else:
        outcome = Outcome.needs_review if holds_possibly else Outcome.not_qualified

        def closeness(pattern_id: str) -> tuple[int, int, int]:
            criteria = [statuses[c] for c in pattern_criteria[pattern_id]]
            return (
                0 if pattern_id in holds_possibly else 1,
                criteria.count(Status.not_met),
                criteria.count(Status.review),
            )

        chosen = min((p.id for p in spec.patterns), key=closeness)  # min keeps spec order
    if outcome == Outcome.not_qualified and discretionary:
        some_education = any(
            entry_value(e, None, vocabulary).level_possible != Level.none for e in educations
        )
        if any_possible_experience or some_education:
            outcome = Outcome.needs_review
    certain_years, possible_years = pattern_years[chosen]
    return ReferenceDecision(
        outcome=outcome.value,
        statuses={cid: statuses[cid].value for cid in spec.criterion_ids()},
        qualifying_years=certain_years,
        possible_years=possible_years,
        pattern=chosen,
        pattern_credit=pattern_years,
    )


def _evaluate_pattern(
    pattern: Pattern,
    substitution: Substitution | None,
    credits: list[Credit],
    educations: list[Education],
    cells: dict[str, str | None],
    vocabulary: Vocabulary,
    statuses: dict[str, Status],
    *,
    year_credit: int,
    requires_driving: bool,
) -> list[str]:
    """Fill in the statuses of one pattern's own criteria; return their ids."""
    ids: list[str] = []
    for req, credit in zip(pattern.experience, credits, strict=True):
        needed = req.years_fraction * year_credit
        if credit.certain >= needed:
            statuses[req.id] = Status.met
        elif credit.possible is None or credit.possible >= needed:
            statuses[req.id] = Status.review
        else:
            statuses[req.id] = Status.not_met
        ids.append(req.id)
    if pattern.education is not None:
        requirement = pattern.education
        standing = education_standing(educations, requirement, substitution, vocabulary)
        met_certain = education_met(standing.level_certain, standing.years_certain, requirement)
        met_possible = education_met(standing.level_possible, standing.years_possible, requirement)
        substituted_certain = substituted_possible = False
        if substitution is not None and substitution.experience_for_education and credits:
            required_years = pattern.experience[0].years_fraction
            if substitution.education_years is not None:
                education_years = Fraction(str(substitution.education_years))
            else:
                education_years = Fraction(LEVEL_YEARS[requirement.min_level])
            # Education credit in whole units: certain rounded down, possible rounded up.
            credited_certain = Fraction(floor(standing.years_certain * year_credit))
            credited_possible = Fraction(ceil(standing.years_possible * year_credit))
            full_education = education_years * year_credit
            base = (required_years + education_years) * year_credit
            first = credits[0]
            substituted_certain = first.certain >= base - min(full_education, credited_certain)
            substituted_possible = first.possible is None or (
                first.possible >= base - min(full_education, credited_possible)
            )
        if met_certain:
            statuses[requirement.id] = Status.met
        elif substituted_certain:
            statuses[requirement.id] = Status.substituted
        elif met_possible or substituted_possible:
            statuses[requirement.id] = Status.review
        else:
            statuses[requirement.id] = Status.not_met
        ids.append(requirement.id)
    for lic in pattern.licenses:
        statuses[lic.id] = license_status(lic, cells, requires_driving=requires_driving)
        ids.append(lic.id)
    for cert in pattern.certificates:
        statuses[cert.id] = certificate_status(
            cert, cells, vocabulary, requires_driving=requires_driving
        )
        ids.append(cert.id)
    return ids


DEGREE_COLUMN = re.compile(r"^edu\d+_degree$")


def apply_blank_markers(row: dict[str, str | None]) -> dict[str, str]:
    """Blank markers become ""; a degree of "None" stays (it is the level none)."""
    cleaned: dict[str, str] = {}
    for column, value in row.items():
        if not column:
            continue  # surplus cells of a ragged row
        text = value if isinstance(value, str) else ""
        keep_none = DEGREE_COLUMN.match(column) and text.strip().lower() == "none"
        cleaned[column] = text if keep_none or not is_blank(text) else ""
    return cleaned


def evaluate_file(
    spec: JobSpec,
    vocabulary: Vocabulary,
    path: Path,
    *,
    as_of: date,
    requires_driving: bool,
) -> dict[str, ReferenceDecision]:
    """Screen every row of a wide UTF-8 CSV; keyed by applicant_id, in file order."""
    decisions: dict[str, ReferenceDecision] = {}
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            applicant_id = (row.get("applicant_id") or "").strip()
            if not applicant_id:
                raise ValueError(f"{path}: row {line} has no applicant_id")
            if applicant_id in decisions:
                raise ValueError(f"{path}: row {line} repeats applicant_id {applicant_id!r}")
            decisions[applicant_id] = evaluate(
                spec,
                vocabulary,
                apply_blank_markers(row),
                as_of=as_of,
                requires_driving=requires_driving,
            )
    return decisions
