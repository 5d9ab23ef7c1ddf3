"""The JobSpec: a class specification's minimum qualifications as data.

This module knows nothing about the rule engine. It defines what a spec says (patterns of
education, experience, licenses and certificates, substitution clauses) and how it is read
from and written to YAML, with errors that name the file, the key path, what was expected
and what was found.
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from screening.errors import UserError


class Level(StrEnum):
    """Education levels, lowest first."""

    none = "none"
    high_school = "high_school"
    associate = "associate"
    bachelor = "bachelor"
    master = "master"
    doctorate = "doctorate"

    @property
    def rank(self) -> int:
        """Position in the ordering none < high_school < ... < doctorate."""
        return LEVEL_ORDER.index(self)


LEVEL_ORDER: list[Level] = list(Level)

#: Years of education a completed degree stands for, for substitution.
LEVEL_YEARS: dict[Level, int] = {
    Level.none: 0,
    Level.high_school: 0,
    Level.associate: 2,
    Level.bachelor: 4,
    Level.master: 4,
    Level.doctorate: 4,
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class EducationRequirement(_Model):
    """A minimum education level, optionally in listed fields."""

    id: str
    min_level: Level
    fields: list[str] = Field(default_factory=list)
    allow_related: bool = False
    accredited: bool = False
    #: "N years of college" / "60 semester units": education years needed as well as the
    #: level (a completed degree stands for its years; partial study for units / 30 or / 45).
    min_years: float | None = Field(default=None, ge=0)
    clause: str = ""


class ExperienceRequirement(_Model):
    """Years of experience in named areas, optionally within industries and a window."""

    id: str
    years: float = Field(ge=0)
    #: area name -> keywords; the vocabulary's keywords for the same area name are added.
    areas: dict[str, list[str]] = Field(default_factory=dict)
    #: industry families (vocabulary names) or literal industry words; empty = any industry.
    industries: list[str] = Field(default_factory=list)
    #: "... in the utility industry or related field": related industries count too.
    allow_related_industries: bool = True
    #: per-area industries; an area listed here uses these instead of `industries`.
    area_industries: dict[str, list[str]] = Field(default_factory=dict)
    #: per-area O*NET-SOC occupation codes the area covers; an area not listed here uses
    #: the vocabulary's proposal. A job recognised only as occupations outside every
    #: area's SOC minor groups is not qualifying.
    area_occupations: dict[str, list[str]] = Field(default_factory=dict)
    #: NAICS 2022 codes (or code prefixes) of the industries and of the related industries;
    #: empty = the vocabulary's codes for the named industry families.
    industry_codes: list[str] = Field(default_factory=list)
    related_industry_codes: list[str] = Field(default_factory=list)
    professional: bool = False
    within_years: int | None = Field(default=None, ge=1)
    #: id of the requirement this one is a part of ("four years, including two of
    #: supervision"): its years are inside the other's, never added to them.
    part_of: str | None = None
    clause: str = ""

    @property
    def years_fraction(self) -> Fraction:
        """The required years as an exact fraction (0.5 stays one half)."""
        return Fraction(str(self.years))


class Substitution(_Model):
    """How education and experience may stand in for one another."""

    experience_for_education: bool = False
    #: years of education the pattern's education requirement stands for (bachelor's = 4).
    education_years: float | None = Field(default=None, ge=0)
    #: education beyond the required level may replace experience (only where a spec says so).
    education_for_experience: bool = False
    #: at most this many years of experience may be replaced by extra education.
    max_education_for_experience_years: float | None = Field(default=None, ge=0)
    #: "thirty semester hours equal one year".
    semester_units_per_year: int = Field(default=30, ge=1)
    quarter_units_per_year: int = Field(default=45, ge=1)
    #: "any equivalent combination determined to be acceptable by HR": review, never reject.
    discretionary: bool = False
    clause: str = ""
    #: how the agency reads the clause, when the reading is a judgement (recorded for audit).
    interpretation: str = ""


#: when a license or certificate applies: to every position, to positions that require
#: driving (``--requires-driving``), or to positions that require a named condition
#: ("some positions may require ...", ``--position-requires CONDITION``).
Applies = Literal["always", "position_requires_driving", "position_requires"]


def _check_condition(item: License | Certificate) -> None:
    if item.applies == "position_requires" and not item.condition.strip():
        raise ValueError(
            "applies: position_requires needs a condition (the words a run names with "
            "--position-requires)"
        )


def condition_holds(item: License | Certificate, conditions: frozenset[str]) -> bool:
    """Whether a run's --position-requires conditions name this credential's condition."""
    return normal_condition(item.condition) in {normal_condition(c) for c in conditions}


def normal_condition(text: str) -> str:
    """A condition as compared: lower case, single spaces."""
    return " ".join(text.lower().split())


class License(_Model):
    """A license the applicant must hold, e.g. a California driver's license."""

    id: str
    kind: str = "driver's license"
    state: str | None = None
    license_class: str | None = Field(default=None, alias="class")
    applies: Applies = "always"
    #: for ``applies: position_requires``: the condition, in the spec's words, that a run
    #: names with ``--position-requires`` when the position being screened requires it.
    condition: str = ""
    enforce_at: Literal["screening", "appointment"] = "screening"
    clause: str = ""

    @model_validator(mode="after")
    def _condition_is_named(self) -> Self:
        _check_condition(self)
        return self


class Certificate(_Model):
    """A certificate or registration, read from the applicant's `certificates` column."""

    id: str
    name: str
    #: other names the certificate goes by; matched case-insensitively on whole words.
    aliases: list[str] = Field(default_factory=list)
    applies: Applies = "always"
    #: for ``applies: position_requires``: the condition, in the spec's words.
    condition: str = ""
    enforce_at: Literal["screening", "appointment"] = "screening"
    clause: str = ""

    @model_validator(mode="after")
    def _condition_is_named(self) -> Self:
        _check_condition(self)
        return self


class Pattern(_Model):
    """One way to qualify; a spec's patterns are alternatives (any one qualifies)."""

    id: str
    clause: str = ""
    education: EducationRequirement | None = None
    experience: list[ExperienceRequirement] = Field(default_factory=list)
    substitution: Substitution | None = None
    licenses: list[License] = Field(default_factory=list)
    certificates: list[Certificate] = Field(default_factory=list)


class Reviewed(_Model):
    """Who checked a compiled draft, and when; ``screen`` refuses an unreviewed draft with
    unparsed sentences."""

    by: str = Field(min_length=1)
    at: str = Field(min_length=1)


class Provenance(_Model):
    """Where a compiled spec came from."""

    document: str
    sha256: str
    compiled: str
    compiler_version: str = ""


class JobSpec(_Model):
    """A class specification's minimum qualifications."""

    id: str
    title: str
    class_code: str = ""
    agency: str = ""
    revision: str = ""
    full_time_hours: int = Field(default=40, ge=1, le=168)
    #: path of the vocabulary file, relative to the spec file.
    vocabulary: str = "vocabulary.yaml"
    patterns: list[Pattern] = Field(min_length=1)
    substitution: Substitution | None = None
    licenses: list[License] = Field(default_factory=list)
    certificates: list[Certificate] = Field(default_factory=list)
    unparsed: list[str] = Field(default_factory=list)
    #: preferred qualifications of the MQ sections: never requirements.
    preferred: list[str] = Field(default_factory=list)
    #: process text of the MQ sections ("applicants must list all experience"): not rules.
    notes: list[str] = Field(default_factory=list)
    reviewed: Reviewed | None = None
    removed: list[str] = Field(default_factory=list)
    provenance: Provenance | None = None

    @field_validator("id")
    @classmethod
    def _id_is_a_name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @model_validator(mode="after")
    def _criterion_ids_are_unique(self) -> JobSpec:
        seen: set[str] = set()
        for criterion_id in self.criterion_ids():
            if criterion_id in seen:
                raise ValueError(f"criterion id {criterion_id!r} is used twice; ids must be unique")
            seen.add(criterion_id)
        pattern_ids = [p.id for p in self.patterns]
        if len(set(pattern_ids)) != len(pattern_ids):
            raise ValueError(f"pattern ids must be unique, found {pattern_ids}")
        for pattern in self.patterns:
            wholes = {e.id for e in pattern.experience if e.part_of is None}
            for requirement in pattern.experience:
                if requirement.part_of is not None and requirement.part_of not in wholes:
                    raise ValueError(
                        f"{requirement.id}: part_of {requirement.part_of!r} names no experience "
                        f"requirement of pattern {pattern.id!r} (one of {sorted(wholes)})"
                    )
        return self

    def screening_credentials(self) -> bool:
        """Whether the spec-wide licenses or certificates include one checked at screening
        (one checked only at appointment never changes an outcome)."""
        credentials: list[License | Certificate] = [*self.licenses, *self.certificates]
        return any(c.enforce_at == "screening" for c in credentials)

    def empty_patterns(self) -> list[str]:
        """Ids of patterns that require nothing -- no education, experience, license or
        certificate of their own, and no spec-wide one checked at screening: such a pattern
        would qualify everyone."""
        if self.screening_credentials():
            return []
        return [
            p.id
            for p in self.patterns
            if p.education is None and not (p.experience or p.licenses or p.certificates)
        ]

    def criterion_ids(self) -> list[str]:
        """Every criterion id, in the order results show them."""
        ids: list[str] = []
        for pattern in self.patterns:
            if pattern.education is not None:
                ids.append(pattern.education.id)
            ids.extend(e.id for e in pattern.experience)
            ids.extend(lic.id for lic in pattern.licenses)
            ids.extend(c.id for c in pattern.certificates)
        ids.extend(lic.id for lic in self.licenses)
        ids.extend(c.id for c in self.certificates)
        return ids

    def position_conditions(self) -> list[str]:
        """The conditions its ``position_requires`` licenses and certificates name."""
        items: list[License | Certificate] = [*self.licenses, *self.certificates]
        for pattern in self.patterns:
            items += [*pattern.licenses, *pattern.certificates]
        conditions = [i.condition for i in items if i.applies == "position_requires"]
        return list(dict.fromkeys(conditions))

    def substitution_for(self, pattern: Pattern) -> Substitution | None:
        """The substitution in force for a pattern: its own wins over the spec-wide one."""
        return pattern.substitution if pattern.substitution is not None else self.substitution

    def canonical_json(self) -> str:
        """A stable JSON text of the spec, the basis of its hash."""
        return json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True)

    def sha256(self) -> str:
        """SHA-256 of the canonical JSON: names this exact revision of the spec."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()


class SpecError(UserError):
    """A spec file that cannot be used; the message says where and how to fix it."""


def _key_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + item)
    return "".join(parts) or "(top level)"


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_every_pattern_requires(spec: JobSpec, source: str | None = None) -> None:
    """Refuse a spec that cannot screen anyone fairly: no pattern, or a pattern that
    requires nothing (it would qualify every applicant)."""
    where = f"{source}: " if source else ""
    if not spec.patterns:
        raise SpecError(
            f"{where}spec {spec.id!r} has no pattern (no way to qualify); add at least one "
            "pattern with an education, experience, license or certificate requirement"
        )
    empty = spec.empty_patterns()
    if empty:
        raise SpecError(
            f"{where}spec {spec.id!r}, pattern {empty[0]!r} requires nothing and would "
            "qualify every applicant; give it an education, experience, license or "
            "certificate requirement (or the spec one checked at screening), or remove it"
        )


def spec_from_data(data: Any, source: str = "<spec>") -> JobSpec:
    """Validate already-parsed data as a JobSpec, raising SpecError with every problem."""
    if not isinstance(data, dict):
        raise SpecError(
            f"{source}: expected a mapping of spec keys (id, title, patterns, ...), "
            f"found {type(data).__name__}"
        )
    try:
        spec = JobSpec.model_validate(data)
    except ValidationError as exc:
        lines = [f"{source}: the spec is not valid ({exc.error_count()} problem(s)):"]
        for err in exc.errors():
            where = _key_path(tuple(err["loc"]))
            found = "missing" if err["type"] == "missing" else _describe(err.get("input"))
            lines.append(f"  - {where}: {err['msg']} (found: {found})")
        raise SpecError("\n".join(lines)) from exc
    check_every_pattern_requires(spec, source)
    return spec


def load_spec(path: str | Path) -> JobSpec:
    """Read a JobSpec YAML file."""
    spec_path = Path(path)
    try:
        text = spec_path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SpecError(f"{spec_path}: spec file not found; check the --spec path") from exc
    except UnicodeDecodeError as exc:
        raise SpecError(f"{spec_path}: spec file is not UTF-8 text; save it as UTF-8") from exc
    except OSError as exc:
        raise SpecError(f"{spec_path}: cannot read the spec file ({exc.strerror})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError(f"{spec_path}: not valid YAML{where}: {exc}") from exc
    return spec_from_data(data, str(spec_path))


def dump_spec(spec: JobSpec) -> str:
    """The spec as YAML text, keys in model order."""
    data = spec.model_dump(mode="json", by_alias=True, exclude_none=False)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def save_spec(spec: JobSpec, path: str | Path) -> None:
    """Write a JobSpec as YAML."""
    Path(path).write_text(dump_spec(spec), encoding="utf-8")
