"""Occupations (O*NET 30.1) and industries (NAICS 2022) recognised from what people write.

The tables in ``screening/data`` are derived by ``scripts/build_taxonomy_tables.py`` and
hold titles and index phrases in their match form (see ``screening.wording``), so reading
them is all the run time does. They are read once per process, on first use.

This product includes information from the O*NET 30.1 Database by the U.S. Department of
Labor, Employment and Training Administration (USDOL/ETA). Used under the CC BY 4.0
license. O*NET® is a trademark of USDOL/ETA. Industry codes and index phrases come from
the U.S. Census Bureau's 2022 NAICS files (public domain).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

from screening.wording import match_form

if TYPE_CHECKING:
    from screening.spec import JobSpec

DATA_DIR = Path(__file__).resolve().parent / "data"

#: Longest title or industry phrase, in words, looked up inside a longer text.
_LONGEST = 8


@dataclass(frozen=True)
class Occupation:
    """One O*NET-SOC occupation."""

    code: str
    title: str
    #: O*NET Job Zone, 1 (little preparation) to 5 (extensive); None where O*NET gives none.
    job_zone: int | None

    @property
    def minor_group(self) -> str:
        """The SOC minor group ("13-1" for 13-1111.00): occupations of one kind of work."""
        return self.code[:4]


@dataclass(frozen=True)
class TaxonomyMatch:
    """Codes a text names, the phrase that named them, and whether it was the whole text."""

    codes: tuple[str, ...]
    phrase: str
    whole: bool


class _Keys(dict[str, str]):
    """Match form -> its codes, comma-joined (split only when a key is looked up)."""

    def codes(self, key: str) -> tuple[str, ...]:
        return tuple(self[key].split(","))


def _read_keys(path: Path) -> _Keys:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    # one split per line and no per-line Python logic: read by every worker process
    return _Keys(line.split("\t", 1) for line in lines if not line.startswith("#"))


def _lookup(keys: _Keys, form: str, skip: frozenset[str]) -> TaxonomyMatch | None:
    """The whole text if it is a key, else its longest word run that is (never a `skip` word)."""
    if not form:
        return None
    if form in keys:
        return TaxonomyMatch(keys.codes(form), form, True)
    words = form.split()
    for size in range(min(len(words) - 1, _LONGEST), 0, -1):
        for start in range(len(words) - size + 1):
            phrase = " ".join(words[start : start + size])
            if phrase in keys and phrase not in skip:
                return TaxonomyMatch(keys.codes(phrase), phrase, False)
    return None


class OccupationTable:
    """O*NET occupations and the titles that name them."""

    def __init__(self, occupations: dict[str, Occupation], titles: _Keys):
        self.occupations = occupations
        self.titles = titles

    def recognise(
        self, title_form: str, skip: frozenset[str] = frozenset()
    ) -> TaxonomyMatch | None:
        """Occupations a title (in match form) names: the whole title, else its longest
        run of words that is a known title (a partial match)."""
        return _lookup(self.titles, title_form, skip)

    def describe(self, codes: Iterable[str], most: int = 3) -> str:
        """Occupation titles of codes, for reasons: "Registered Nurses (29-1141.00)"; at
        most `most` of them, then how many more."""
        known = [c for c in codes if c in self.occupations]
        shown = "; ".join(f"{self.occupations[c].title} ({c})" for c in known[:most])
        return shown + (f"; {len(known) - most} more" if len(known) > most else "")


class IndustryTable:
    """NAICS 2022 industries and the phrases that name them."""

    def __init__(self, titles: dict[str, str], phrases: _Keys):
        self.titles = titles
        self.phrases = phrases

    def recognise(self, text_form: str, skip: frozenset[str] = frozenset()) -> TaxonomyMatch | None:
        """NAICS codes an industry text (in match form) names, as `OccupationTable.recognise`."""
        return _lookup(self.phrases, text_form, skip)

    def describe(self, codes: Iterable[str]) -> str:
        """Industry titles of codes, for reasons: "Telecommunications (517)"."""
        return "; ".join(f"{self.titles.get(c, c)} ({c})" for c in codes)


@lru_cache(maxsize=1)
def occupation_table() -> OccupationTable:
    """The O*NET occupation table shipped with the package (read once)."""
    occupations: dict[str, Occupation] = {}
    with (DATA_DIR / "onet-occupations.tsv").open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#"):
                continue
            code, zone, title = line.rstrip("\n").split("\t")
            occupations[code] = Occupation(code, title, int(zone) if zone else None)
    return OccupationTable(occupations, _read_keys(DATA_DIR / "onet-titles.tsv.gz"))


@lru_cache(maxsize=1)
def industry_table() -> IndustryTable:
    """The NAICS industry table shipped with the package (read once)."""
    titles: dict[str, str] = {}
    with (DATA_DIR / "naics-codes.tsv").open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#"):
                continue
            code, title = line.rstrip("\n").split("\t")
            titles[code] = title.strip()
    return IndustryTable(titles, _read_keys(DATA_DIR / "naics-index.tsv.gz"))


def code_within(code: str, prefixes: Iterable[str]) -> bool:
    """Whether a NAICS or SOC code lies under any of the given codes or code prefixes."""
    return any(code.startswith(prefix) for prefix in prefixes)


@dataclass(frozen=True)
class Proposal:
    """O*NET occupations and NAICS industries proposed for a description, best first."""

    occupations: list[tuple[str, str, float]]
    industries: list[tuple[str, str, float]]


def _description_parts(description: str) -> list[str]:
    """Match forms of the phrases of a description: "program/project management in the
    utility industry" -> program management, project management, utility."""
    pieces = [p for p in re.split(r"[,;]|/| and | or | in the | in | within ", description.lower())]
    forms = [match_form(p) for p in pieces]
    forms = [f for f in forms if f]
    out: list[str] = []
    for index, form in enumerate(forms):
        words = form.split()
        # "program/project management": a lone word takes the next phrase's last word
        if len(words) == 1 and index + 1 < len(forms) and len(forms[index + 1].split()) > 1:
            form = f"{form} {forms[index + 1].split()[-1]}"
        words = [w for w in form.split() if w not in _PROPOSAL_NOISE]
        if words:
            out.append(" ".join(words))
    return list(dict.fromkeys(out))


#: Words of a description that name no occupation or industry.
_PROPOSAL_NOISE = frozenset(
    {"a", "an", "industry", "field", "sector", "the", "of", "experience", "related"}
)


def _heads(part: str) -> list[str]:
    """The phrase, then its tails, longest first; a one-word tail only when it is not a
    short, general word."""
    words = part.split()
    tails = [" ".join(words[i:]) for i in range(len(words))]
    if len(words) > 1 and len(words[-1]) < 5:
        tails.pop()
    return tails


def _count_keys(keys: _Keys, part: str, counts: dict[str, float]) -> bool:
    """Add the codes of every key containing the part; True when any key did."""
    variants = {part, re.sub(r"\bmanag\b", "manager", part)}
    found = False
    for key, joined in keys.items():
        if any(re.search(rf"(?<![a-z0-9]){re.escape(v)}(?![a-z0-9])", key) for v in variants):
            found = True
            # a title that is the phrase itself weighs most; a longer one less
            weight = 10.0 if key in variants else 1.0 / len(key.split())
            for code in joined.split(","):
                counts[code] = counts.get(code, 0.0) + weight
    return found


def _ranked(keys: _Keys, parts: list[str], cutoff: float) -> list[tuple[str, float]]:
    """Codes named by keys containing a part (or, failing that, close to one), scored by
    how many of those keys name them; ties favour the shorter (broader) code."""
    counts: dict[str, float] = {}
    for part in parts:
        found = False
        # A phrase found nowhere is tried again without its leading words: English puts
        # the head noun last ("public water utility" -> "water utility").
        for head in _heads(part):
            found = _count_keys(keys, head, counts)
            if found:
                break
        if not found:
            for key, score, _ in process.extract(
                part, list(keys), scorer=fuzz.token_sort_ratio, limit=10, score_cutoff=cutoff
            ):
                for code in keys.codes(key):
                    counts[code] = counts.get(code, 0.0) + float(score) / 100
    return sorted(counts.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))


def propose_codes(description: str, limit: int = 8, cutoff: float = 85.0) -> Proposal:
    """Propose O*NET occupations and NAICS industries for an experience-area description.

    The description is split into its phrases ("program/project management in the utility
    industry" -> program management, project management, utility); every title and index
    phrase containing one names its codes, and codes named most often come first
    (phrases found nowhere fall back to fuzzy matching with rapidfuzz). Each proposal is
    (code, title, score). A proposal is a draft for the analyst, never a decision.
    """
    parts = _description_parts(description)
    if not parts:
        return Proposal([], [])
    occupations = occupation_table()
    industries = industry_table()
    ranked_occupations = _ranked(occupations.titles, parts, cutoff)
    ranked_industries = _ranked(industries.phrases, parts, cutoff)
    return Proposal(
        [
            (code, occupations.occupations[code].title, score)
            for code, score in ranked_occupations
            if code in occupations.occupations
        ][:limit],
        [(code, industries.titles.get(code, code), score) for code, score in ranked_industries][
            :limit
        ],
    )


@dataclass(frozen=True)
class AreaProposal:
    """Codes proposed for one experience area of a spec, for the analyst to settle."""

    requirement_id: str
    area: str
    proposal: Proposal


def propose_spec_codes(
    spec: JobSpec, settled_areas: Iterable[str] = (), limit: int = 5
) -> list[AreaProposal]:
    """Propose O*NET occupations and NAICS industries for every unsettled experience area.

    An area is settled when the requirement's ``area_occupations`` names it, or when it is
    in ``settled_areas`` (the vocabulary's own proposals). Industries are proposed from the
    area's own words followed by the requirement's industries, so "account management in
    the utility industry" proposes utility codes beside the occupations.
    """
    proposals: list[AreaProposal] = []
    settled = set(settled_areas)
    for pattern in spec.patterns:
        for requirement in pattern.experience:
            industries = " ".join(requirement.industries)
            for area in requirement.areas:
                if area in requirement.area_occupations or area in settled:
                    continue
                # Occupations come from the area's words alone: an industry's words
                # ("utility") would otherwise propose that industry's trades.
                occupations = propose_codes(area, limit=limit).occupations
                industries_found = propose_codes(f"{area}, {industries}", limit=limit).industries
                proposal = Proposal(occupations, industries_found)
                if proposal.occupations or proposal.industries:
                    proposals.append(AreaProposal(requirement.id, area, proposal))
    return proposals
