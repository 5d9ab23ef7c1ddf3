"""The vocabulary: HR judgement that is not spec text.

Degree spellings, which majors belong to which field family, related majors, keywords of
experience areas, utility / related / unrelated industries and non-professional title words
live in one YAML file that specs refer to, so a hand-written spec and a compiled one share
the same judgement.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from screening.spec import JobSpec, Level, SpecError


class FieldFamily(BaseModel):
    """A field of study: the names that mean it, the majors accepted as related, and the
    majors ruled out as unrelated (where a spec allows "or a related field")."""

    model_config = ConfigDict(extra="forbid")
    aliases: list[str] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list)
    unrelated: list[str] = Field(default_factory=list)


class IndustryFamily(BaseModel):
    """An industry: words that name it, related industries, and industries that are not."""

    model_config = ConfigDict(extra="forbid")
    keywords: list[str] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list)
    unrelated: list[str] = Field(default_factory=list)
    #: NAICS 2022 codes or prefixes of the family, its related and its unrelated industries.
    codes: list[str] = Field(default_factory=list)
    related_codes: list[str] = Field(default_factory=list)
    unrelated_codes: list[str] = Field(default_factory=list)


class Vocabulary(BaseModel):
    """All vocabulary a spec may refer to."""

    model_config = ConfigDict(extra="forbid")
    degrees: dict[Level, list[str]] = Field(default_factory=dict)
    #: degree forms that name their field (BBA -> business administration).
    degree_fields: dict[str, str] = Field(default_factory=dict)
    fields: dict[str, FieldFamily] = Field(default_factory=dict)
    areas: dict[str, list[str]] = Field(default_factory=dict)
    industries: dict[str, IndustryFamily] = Field(default_factory=dict)
    non_professional_words: list[str] = Field(default_factory=list)
    #: certificate names -> other spellings.
    certificates: dict[str, list[str]] = Field(default_factory=dict)
    #: words read as other words before matching job text: abbreviations (mgr -> manager)
    #: and spelling variants (programme -> program).
    abbreviations: dict[str, str] = Field(default_factory=dict)
    spellings: dict[str, str] = Field(default_factory=dict)
    #: words of other languages and their English reading; a title that matches an area
    #: only once translated is a near match (uncertain), never qualifying by itself.
    translations: dict[str, str] = Field(default_factory=dict)
    #: words never stemmed, because the stem names other work ("accounting").
    unstemmed_words: list[str] = Field(default_factory=list)
    #: title words too general to show an area or an occupation on their own.
    generic_title_words: list[str] = Field(default_factory=list)
    #: seniority words dropped from a title before it is looked up as an occupation.
    title_qualifiers: list[str] = Field(default_factory=list)
    #: duty verbs, and per area the things they act on: "oversaw ... customer accounts"
    #: shows account management when a verb precedes an object within a few words.
    duty_verbs: list[str] = Field(default_factory=list)
    duty_objects: dict[str, list[str]] = Field(default_factory=dict)
    #: words in duties that speak of the areas' subjects (customers, programs): a title
    #: recognised as another occupation is then not enough to reject the job.
    area_hint_words: list[str] = Field(default_factory=list)
    #: proposed O*NET-SOC codes per area (a spec's `area_occupations` settles them).
    area_occupations: dict[str, list[str]] = Field(default_factory=dict)

    def field_aliases(self, field: str) -> list[str]:
        """Names that mean a field: the field itself and its aliases."""
        family = self.fields.get(field)
        return [field, *(family.aliases if family else [])]

    def field_related(self, field: str) -> list[str]:
        """Majors the vocabulary accepts as related to a field."""
        family = self.fields.get(field)
        return list(family.related) if family else []

    def field_unrelated(self, field: str) -> list[str]:
        """Majors the vocabulary rules out as related to a field."""
        family = self.fields.get(field)
        return list(family.unrelated) if family else []

    def area_keywords(self, area: str, spec_keywords: list[str]) -> list[str]:
        """Keywords of an experience area: the area name, the spec's and the vocabulary's."""
        return _unique([area, *spec_keywords, *self.areas.get(area, [])])

    def industry_keywords(self, industry: str) -> list[str]:
        """Words that name an industry family (or the literal word when it is not a family)."""
        family = self.industries.get(industry)
        return _unique([industry, *(family.keywords if family else [])])

    def related_industry_keywords(self, industry: str) -> list[str]:
        """Industries the vocabulary accepts as related to a family."""
        family = self.industries.get(industry)
        return list(family.related) if family else []

    def unrelated_industry_keywords(self, industry: str) -> list[str]:
        """Industries the vocabulary rules out for a family."""
        family = self.industries.get(industry)
        return list(family.unrelated) if family else []


def _unique(words: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for word in words:
        key = normalise_text(word)
        if key and key not in seen:
            seen[key] = None
    return list(seen)


_SPACES = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s/&+#-]")


def normalise_text(text: str) -> str:
    """Lower-case, strip punctuation other than / & + # -, fold white space."""
    return _SPACES.sub(" ", _PUNCT.sub(" ", text.lower())).strip()


def phrase_pattern(phrases: list[str]) -> re.Pattern[str] | None:
    """A regex matching any phrase as whole words, case-insensitively; longest first."""
    # cached: every chunk of a large batch asks for the same patterns again
    return _phrase_pattern(tuple(phrases))


@lru_cache(maxsize=4096)
def _phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    cleaned = sorted(
        {normalise_text(p) for p in phrases if normalise_text(p)}, key=len, reverse=True
    )
    if not cleaned:
        return None
    alternatives = "|".join(r"\s+".join(re.escape(w) for w in p.split(" ")) for p in cleaned)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def load_vocabulary(path: str | Path) -> Vocabulary:
    """Read a vocabulary YAML file, with errors naming the file and key."""
    vocab_path = Path(path)
    try:
        data = yaml.safe_load(vocab_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SpecError(
            f"{vocab_path}: vocabulary file not found; the spec's 'vocabulary' key names it "
            "relative to the spec file"
        ) from exc
    except yaml.YAMLError as exc:
        raise SpecError(f"{vocab_path}: not valid YAML: {exc}") from exc
    try:
        return Vocabulary.model_validate(data or {})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise SpecError(f"{vocab_path}: the vocabulary is not valid: {problems}") from exc


@lru_cache(maxsize=32)
def _cached_vocabulary(resolved: str, mtime_ns: int) -> Vocabulary:
    return load_vocabulary(resolved)


#: The vocabulary name that means the project's shared vocabulary when no file of that name
#: is beside the spec: a spec written with it keeps working wherever it is moved.
SHARED_VOCABULARY = "vocabulary.yaml"


def vocabulary_for(spec: JobSpec, spec_path: str | Path | None) -> Vocabulary:
    """The vocabulary a spec refers to, resolved relative to the spec file (or rules/).

    The default name `vocabulary.yaml` with no such file beside the spec is the project's
    shared vocabulary (rules/vocabulary.yaml).
    """
    path = vocabulary_path(spec, spec_path)
    if not path.exists():
        raise SpecError(
            f"{path}: vocabulary file not found; the spec's 'vocabulary' key names it "
            "relative to the spec file"
        )
    return _cached_vocabulary(str(path), path.stat().st_mtime_ns)


def vocabulary_path(spec: JobSpec, spec_path: str | Path | None) -> Path:
    """The file of the vocabulary a spec refers to (which may not exist).

    The default name `vocabulary.yaml` with no such file beside the spec is the project's
    shared vocabulary, so a rule file moved on its own still finds it.
    """
    base = Path(spec_path).parent if spec_path is not None else default_rules_dir()
    path = (base / spec.vocabulary).resolve()
    if not path.exists() and (spec_path is None or spec.vocabulary == SHARED_VOCABULARY):
        path = (default_rules_dir() / spec.vocabulary).resolve()
    return path


def default_rules_dir() -> Path:
    """The project's rules/ folder (beside the package in a checkout)."""
    return Path(__file__).resolve().parent.parent / "rules"
