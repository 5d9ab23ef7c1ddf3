"""Header recognition for applicant files: canonical names, ATS export headers, mapping files.

A header is matched on its *key*: lower case with everything but letters and digits removed,
so "Applicant ID", "APPLICANT_ID" and "applicant-id" are the same column. Entry columns carry
their number anywhere in the header ("job2_title", "Job Title 2", "Job 2 Title"), and are
also read as words: a field's spelling, the entry number and words naming the kind of entry
in any order ("Work Experience 2 - Company", "Employer 2 Start Date", "Job Title (2)").
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from screening.errors import UserError

APPLICANT_FIELDS: tuple[str, ...] = (
    "applicant_id",
    "first_name",
    "last_name",
    "email",
    "drivers_license",
    "drivers_license_state",
    "certificates",
)
#: The applicant fields besides the id: what a screened person's input record holds.
APPLICANT_DETAIL_FIELDS: tuple[str, ...] = APPLICANT_FIELDS[1:]
JOB_FIELDS: tuple[str, ...] = (
    "title",
    "employer",
    "industry",
    "start",
    "end",
    "hours_per_week",
    "duties",
    "qualifying_percent",
)
EDUCATION_FIELDS: tuple[str, ...] = (
    "degree",
    "major",
    "institution",
    "accredited",
    "completed",
    "units",
    "unit_type",
)

EntryGroup = Literal["job", "edu"]
ENTRY_FIELDS: dict[EntryGroup, tuple[str, ...]] = {"job": JOB_FIELDS, "edu": EDUCATION_FIELDS}
#: Canonical wide-form prefix of each entry group: job{n}_title, edu{n}_degree.
CANONICAL_PREFIX: dict[EntryGroup, str] = {"job": "job", "edu": "edu"}

# Other header spellings seen in ATS exports, by canonical field. Keys are compared after
# `header_key`, so only the wording matters here, not case, spaces or punctuation.
APPLICANT_ALIASES: dict[str, tuple[str, ...]] = {
    "applicant_id": (
        "candidate id",
        "applicant number",
        "applicant no",
        "applicant #",
        "candidate number",
        "candidate no",
        "application id",
        "id",
    ),
    "first_name": ("first", "given name", "fname", "first name"),
    "last_name": ("last", "surname", "family name", "lname", "last name"),
    "email": ("email address", "e-mail", "e-mail address", "email addr"),
    "drivers_license": (
        "driver's license",
        "driver license",
        "drivers licence",
        "driver's licence",
        "has driver's license",
        "valid driver's license",
        "dl",
    ),
    "drivers_license_state": (
        "driver's license state",
        "driver license state",
        "drivers licence state",
        "license state",
        "dl state",
    ),
    "certificates": (
        "certifications",
        "certificate",
        "certification",
        "licenses and certifications",
        "licenses and certificates",
    ),
}
JOB_ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("job title", "position", "position title", "role"),
    "employer": ("company", "company name", "employer name", "organization", "organisation"),
    "industry": ("employer industry", "sector"),
    "start": ("start date", "from", "date from", "from date", "began"),
    "end": ("end date", "to", "date to", "to date", "ended"),
    "hours_per_week": ("hours per week", "hours", "hours/week", "weekly hours", "hrs per week"),
    "duties": ("job duties", "description", "job description", "responsibilities"),
    "qualifying_percent": ("qualifying %", "percent qualifying", "% qualifying"),
}
EDUCATION_ALIASES: dict[str, tuple[str, ...]] = {
    "degree": ("degree type", "degree level", "diploma", "degree earned"),
    "major": ("field of study", "concentration", "discipline", "area of study"),
    "institution": ("school", "school name", "college", "university", "institution name"),
    "accredited": ("accredited institution", "is accredited"),
    "completed": ("graduated", "complete", "degree completed"),
    "units": ("credits", "credit hours", "units completed", "units earned"),
    "unit_type": ("units type", "credit type", "unit system"),
}
# Words that may open an entry header ("Job 2 Title", "Education 1 Degree").
ENTRY_PREFIXES: dict[EntryGroup, tuple[str, ...]] = {
    "job": ("job", "work", "employment", "experience", "position"),
    "edu": ("edu", "education", "school"),
}
# Words that say which kind of entry a header belongs to, or that carry no meaning, around
# the field and the number: "Work Experience 1 - Job Title", "Employer 1 Start Date",
# "Education 1 - Degree", "Start Date (Job 2)". A header may use those of its field's group.
ENTRY_KIND_WORDS: dict[EntryGroup, frozenset[str]] = {
    "job": frozenset(
        [
            "job",
            "jobs",
            "work",
            "employment",
            "experience",
            "experiences",
            "position",
            "employer",
            "company",
            "history",
            "previous",
            "prior",
            "past",
            "professional",
            "career",
        ]
    ),
    "edu": frozenset(
        [
            "edu",
            "education",
            "educational",
            "school",
            "academic",
            "academics",
            "degree",
            "college",
            "university",
        ]
    ),
}
_FILLER_WORDS = frozenset(
    ["entry", "record", "details", "detail", "info", "information", "no", "number", "of", "the"]
)
_ORDINAL_SUFFIXES = frozenset({"st", "nd", "rd", "th"})
# Common self-identification headers: demographics are split off like any eeo_* column.
EEO_ALIASES: dict[str, tuple[str, ...]] = {
    "eeo_sex": ("gender", "sex"),
    "eeo_race_ethnicity": ("race", "ethnicity", "race/ethnicity", "race ethnicity"),
    "eeo_veteran_status": ("veteran", "veteran status"),
    "eeo_disability_status": ("disability", "disability status"),
}


def header_key(header: str) -> str:
    """Compare form of a header: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]+", "", header.lower())


def snake(header: str) -> str:
    """A header as a snake_case name ("EEO Race/Ethnicity" -> "eeo_race_ethnicity")."""
    return re.sub(r"[^a-z0-9]+", "_", header.lower()).strip("_")


def _applicant_keys() -> dict[str, str]:
    keys: dict[str, str] = {}
    for field in APPLICANT_FIELDS:
        keys[header_key(field)] = field
        for alias in APPLICANT_ALIASES.get(field, ()):
            keys[header_key(alias)] = field
    for eeo_name, aliases in EEO_ALIASES.items():
        for alias in aliases:
            keys[header_key(alias)] = eeo_name
    return keys


def _entry_keys() -> dict[str, tuple[EntryGroup, str]]:
    """Key of an entry header with its number removed -> (group, field)."""
    groups: tuple[tuple[EntryGroup, dict[str, tuple[str, ...]]], ...] = (
        ("job", JOB_ALIASES),
        ("edu", EDUCATION_ALIASES),
    )
    keys: dict[str, tuple[EntryGroup, str]] = {}
    for group, aliases in groups:
        for field in ENTRY_FIELDS[group]:
            spellings = {header_key(field), *(header_key(a) for a in aliases.get(field, ()))}
            for spelling in spellings:
                keys.setdefault(spelling, (group, field))
                for prefix in ENTRY_PREFIXES[group]:
                    keys.setdefault(prefix + spelling, (group, field))
    return keys


def header_words(header: str) -> list[str]:
    """The words of a header, lower case: "WorkExperience1 - JobTitle" -> work experience 1
    job title. Numbers are words of their own; other characters separate words."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", header)
    return re.findall(r"[a-z]+|\d+", spaced.lower())


def _field_phrases() -> list[tuple[tuple[str, ...], EntryGroup, str]]:
    """Every spelling of every entry field as words, longest first."""
    groups: tuple[tuple[EntryGroup, dict[str, tuple[str, ...]]], ...] = (
        ("job", JOB_ALIASES),
        ("edu", EDUCATION_ALIASES),
    )
    phrases: dict[tuple[str, ...], tuple[EntryGroup, str]] = {}
    for group, aliases in groups:
        for field in ENTRY_FIELDS[group]:
            for spelling in (field, *aliases.get(field, ())):
                phrases.setdefault(tuple(header_words(spelling)), (group, field))
    return sorted(
        ((words, group, field) for words, (group, field) in phrases.items()),
        key=lambda item: -len(item[0]),
    )


APPLICANT_KEYS: dict[str, str] = _applicant_keys()
ENTRY_KEYS: dict[str, tuple[EntryGroup, str]] = _entry_keys()
_FIELD_PHRASES = _field_phrases()
_NUMBERED = re.compile(r"([a-z]*?)(\d+)([a-z]*)")


def _entry_by_words(header: str) -> tuple[EntryGroup, str, int | None] | None:
    """(group, field, number) of an entry header read as words, or None.

    The grammar: at most one number (the entry's), one spelling of a field, and around them
    only words that name the field's kind of entry or carry no meaning, in any order:
    "Work Experience 1 - Job Title", "Job Title (1)", "Employer 1 Start Date", "Education 1 -
    Degree", "1st Job From". The longest field spelling that fits wins.
    """
    words = header_words(header)
    numbers = [i for i, word in enumerate(words) if word.isdigit()]
    if len(numbers) > 1:
        return None
    number: int | None = None
    if numbers:
        at = numbers[0]
        number = int(words[at])
        after = words[at + 1 : at + 2]
        words = words[:at] + words[at + 1 + (after[0] in _ORDINAL_SUFFIXES if after else 0) :]
    for phrase, group, field in _FIELD_PHRASES:
        size = len(phrase)
        for start in range(len(words) - size + 1):
            if tuple(words[start : start + size]) != phrase:
                continue
            rest = words[:start] + words[start + size :]
            if all(w in ENTRY_KIND_WORDS[group] or w in _FILLER_WORDS for w in rest):
                return group, field, number
    return None


@dataclass(frozen=True)
class ColumnRole:
    """What one header of a file means."""

    kind: Literal["applicant", "entry", "eeo"]
    name: str  # canonical name: "email", "title" (entry field), "eeo_sex"
    group: EntryGroup | None = None
    number: int | None = None  # n of job{n}_ in the wide form

    @property
    def canonical(self) -> str:
        """The canonical header this column stands for ("job2_title", "email", "title")."""
        if self.kind == "entry" and self.number is not None and self.group is not None:
            return f"{CANONICAL_PREFIX[self.group]}{self.number}_{self.name}"
        return self.name


def parse_canonical(name: str) -> ColumnRole | None:
    """Role of an exact canonical name (as written in a mapping file), or None."""
    if name in APPLICANT_FIELDS:
        return ColumnRole("applicant", name)
    if re.fullmatch(r"eeo_[a-z0-9_]+", name):
        return ColumnRole("eeo", name)
    match = re.fullmatch(r"(job|edu)(\d+)_([a-z_]+)", name)
    if match:
        group: EntryGroup = "job" if match[1] == "job" else "edu"
        if match[3] in ENTRY_FIELDS[group] and int(match[2]) >= 1:
            return ColumnRole("entry", match[3], group, int(match[2]))
        return None
    for group in ENTRY_FIELDS:
        if name in ENTRY_FIELDS[group]:
            return ColumnRole("entry", name, group)
    return None


def recognise(header: str, entry_group: EntryGroup | None = None) -> ColumnRole | None:
    """Role of a header of an applicants file (wide form), or of a long-form entry file.

    `entry_group` selects the long form: the file holds entries of that group, one a row,
    with field names unprefixed and unnumbered; only applicant_id is read besides them.
    """
    key = header_key(header)
    if not key:
        return None
    if entry_group is not None:
        if APPLICANT_KEYS.get(key) == "applicant_id":
            return ColumnRole("applicant", "applicant_id")
        found = ENTRY_KEYS.get(key)
        if found and found[0] == entry_group:
            return ColumnRole("entry", found[1], entry_group)
        by_words = _entry_by_words(header)
        if by_words and by_words[0] == entry_group and by_words[2] is None:
            return ColumnRole("entry", by_words[1], entry_group)
        return None
    if key.startswith("eeo") and len(key) > 3:
        return ColumnRole("eeo", "eeo_" + snake(header)[3:].lstrip("_"))
    if key in APPLICANT_KEYS:
        name = APPLICANT_KEYS[key]
        return ColumnRole("eeo" if name.startswith("eeo_") else "applicant", name)
    numbered = _NUMBERED.fullmatch(key)
    if numbered:
        found = ENTRY_KEYS.get(numbered[1] + numbered[3])
        if found and int(numbered[2]) >= 1:
            return ColumnRole("entry", found[1], found[0], int(numbered[2]))
    by_words = _entry_by_words(header)
    if by_words and by_words[2] is not None and by_words[2] >= 1:
        return ColumnRole("entry", by_words[1], by_words[0], by_words[2])
    return None


def unique_header_names(headers: list[str]) -> list[str]:
    """A name for every header that no other header of the file has: a blank header is
    "column N" (its position, counted from 1) and a repeated one gets its count, "Notes",
    "Notes (2)". Headers are the same when their keys are ("Notes" and "NOTES")."""
    names: list[str] = []
    taken = {header_key(h) for h in headers if header_key(h)}
    seen: set[str] = set()
    for position, header in enumerate(headers):
        key = header_key(header)
        if key and key not in seen:
            seen.add(key)
            names.append(header)
            continue
        base, count = (f"column {position + 1}", 1) if not key else (header, 2)
        name = base if not key else f"{base} ({count})"
        while header_key(name) in taken:  # a header of the file already has that name
            count += 1
            name = f"{base} ({count})"
        taken.add(header_key(name))
        names.append(name)
    return names


def all_canonical_names(entry_group: EntryGroup | None = None) -> list[str]:
    """Canonical headers to suggest from ("job1_title", ...; unprefixed in the long form)."""
    if entry_group is not None:
        return ["applicant_id", *ENTRY_FIELDS[entry_group]]
    names = list(APPLICANT_FIELDS)
    for group, fields in ENTRY_FIELDS.items():
        names.extend(f"{CANONICAL_PREFIX[group]}1_{field}" for field in fields)
    return names


def suggest(header: str, entry_group: EntryGroup | None = None) -> str | None:
    """The closest canonical name to an unknown header, when one is close enough."""
    numbered = _NUMBERED.fullmatch(header_key(header))
    if entry_group is None and numbered and int(numbered[2]) >= 1:
        # "Job Titel 3" -> job3_title: match the header without its number, keep the number.
        close_entry = difflib.get_close_matches(
            numbered[1] + numbered[3], list(ENTRY_KEYS), n=1, cutoff=0.75
        )
        if close_entry:
            group, name = ENTRY_KEYS[close_entry[0]]
            return f"{CANONICAL_PREFIX[group]}{int(numbered[2])}_{name}"
    names = all_canonical_names(entry_group)
    by_key = {header_key(n): n for n in names}
    close = difflib.get_close_matches(header_key(header), list(by_key), n=1, cutoff=0.75)
    if close:
        return by_key[close[0]]
    close = difflib.get_close_matches(header.strip().lower(), names, n=1, cutoff=0.6)
    return close[0] if close else None


class FileLevelError(UserError):
    """A file that cannot be used at all; str(exc) is one clear message: which file, what is
    wrong, how to fix it."""


#: The command-line option that declares a file has no entries of a group.
NO_COLUMNS_OPTION: dict[EntryGroup, str] = {
    "job": "--no-job-columns",
    "edu": "--no-education-columns",
}
_EXAMPLE_COLUMNS: dict[EntryGroup, tuple[str, ...]] = {
    "job": ("job1_title", "job1_employer", "job1_start", "job1_end"),
    "edu": ("edu1_degree", "edu1_major"),
}
_ENTRY_KIND: dict[EntryGroup, tuple[str, str]] = {
    "job": ("job", "experience"),
    "edu": ("education", "education"),
}


class MissingEntryColumns(FileLevelError):
    """The spec needs entries of a group (jobs for experience, education for a degree) and
    the file has no column of that group: screening it would reject every applicant on that
    requirement. str(exc) is the command line's message; `problem` is the part without the
    fix, for other front ends."""

    def __init__(self, shown: str, group: EntryGroup, unrecognised: list[str]) -> None:
        self.shown = shown
        self.group = group
        self.unrecognised = list(unrecognised)
        kind, requirement = _ENTRY_KIND[group]
        listed = ", ".join(repr(h) for h in self.unrecognised[:15])
        if len(self.unrecognised) > 15:
            listed += f" and {len(self.unrecognised) - 15} more"
        self.problem = (
            f"applicants file {shown!r}: the spec requires {requirement}, but no {kind} column "
            f"is recognised, so every applicant would fail that requirement. "
            + (f"Headers not recognised: {listed}." if listed else "Every header is recognised.")
        )
        first, *more = _EXAMPLE_COLUMNS[group]
        super().__init__(
            f"{self.problem} Name the columns like {', '.join([first, *more])}, map your "
            f"headers with --columns MAPPING.yaml ('columns: {{\"Their header\": {first}}}'), "
            f"or, if the file really has no {kind} entries, say so with {NO_COLUMNS_OPTION[group]}."
        )


def check_entry_columns(
    shown: str,
    present: Collection[EntryGroup],
    unrecognised: list[str],
    needed: Collection[EntryGroup],
) -> None:
    """Raise MissingEntryColumns for the first needed entry group without a column.

    `present`: the groups the file (or its long-form files) has columns for; `needed`: the
    groups the spec needs, less those the user declared the file has none of.
    """
    for group in ("job", "edu"):
        if group in needed and group not in present:
            raise MissingEntryColumns(shown, group, unrecognised)


VALID_NAMES_HELP = (
    "valid names: "
    + ", ".join(APPLICANT_FIELDS)
    + ", job{n}_<field> or <field> (fields: "
    + ", ".join(JOB_FIELDS)
    + "), edu{n}_<field> or <field> (fields: "
    + ", ".join(EDUCATION_FIELDS)
    + "), eeo_<anything>"
)


def read_column_mapping(path: str | Path) -> dict[str, str]:
    """Read a column-mapping YAML file: ``columns: {"Their Header": canonical_name}``.

    Returns {their header: canonical name}. Raises FileLevelError naming
    the file and the bad entry, with the valid names, when the file cannot be used.
    """
    where = f"column mapping file {str(path)!r}"
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise FileLevelError(f"{where} not found; check the --columns path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FileLevelError(f"{where} cannot be read ({exc}); save it as UTF-8 text") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FileLevelError(
            f"{where} is not valid YAML ({exc}); write it as "
            "'columns:' followed by lines '  \"Their Header\": canonical_name'"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
        raise FileLevelError(
            f"{where} must have a 'columns:' mapping of your headers to canonical names, e.g. "
            "'columns: {\"Candidate Ref\": applicant_id}'"
        )
    mapping: dict[str, str] = {}
    for their, canonical in data["columns"].items():
        if not isinstance(canonical, str) or parse_canonical(canonical.strip()) is None:
            close = (
                difflib.get_close_matches(str(canonical), all_canonical_names(), n=1)
                if isinstance(canonical, str)
                else []
            )
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise FileLevelError(
                f"{where}: {str(their)!r} maps to {canonical!r}, which is not a column name"
                f"{hint}; {VALID_NAMES_HELP}"
            )
        mapping[str(their)] = canonical.strip()
    return mapping
