"""The shared job classifier: one job against one experience requirement.

Qualifying, not qualifying or uncertain, by the rule of DESIGN.md ("Experience") as
docs/semantics.md reads it: a job counts when its words show an area of the requirement
(a keyword, a duty such as "oversaw customer accounts", or an occupation the area
covers) in a listed or related industry; it is rejected only on positive evidence (an
occupation recognised with high confidence far from every area, or an industry recognised
as unrelated with nothing in the job's own words tying it to the requirement's
industries); everything else — a near match, a mixed or partial occupation match, an
unrecognised title or industry — is uncertain. The engine and the reference evaluator
both take job classifications from here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from screening.spec import ExperienceRequirement
from screening.taxonomy import (
    IndustryTable,
    OccupationTable,
    code_within,
    industry_table,
    occupation_table,
)
from screening.vocabulary import Vocabulary
from screening.wording import BASE_UNSTEMMED, match_form, phrase_regex, words_of

QUALIFYING = "qualifying"
UNCERTAIN = "uncertain"
NOT_QUALIFYING = "not_qualifying"
_FAVOUR = {QUALIFYING: 0, UNCERTAIN: 1, NOT_QUALIFYING: 2}

#: The area of a requirement that names none: every job matches it.
ANY_AREA = "any experience"

#: Doubts a reviewer settles, written into the "what matched" text so the review queue
#: can group them (screening.review reads these phrases).
NEAR_MATCH = "near match"
UNRECOGNISED_TITLE = "title not recognised"
OCCUPATION_DOUBT = "occupation uncertain"

#: A spelling slip: a run of title words this similar (0-100) to an area phrase.
SLIP_SIMILARITY = 88.0
#: Words a duty verb may stand before its object ("managed the commercial customer accounts").
_DUTY_GAP = 3

#: (area, classification, what matched and why) of one job text.
Classified = tuple[str | None, str, str]


@dataclass(frozen=True)
class _Hit:
    area: str
    how: str


@dataclass(frozen=True)
class _Industry:
    category: str  # listed | related | unrelated | other | unknown | any
    note: str


@dataclass(frozen=True)
class _IndustryReader:
    #: industry or employer text -> how it reads (cached per text)
    read: Callable[[str], _Industry]
    #: listed and related words: the job's own words that tie it to the industries
    ties: re.Pattern[str] | None


class JobClassifier:
    """Classifies job texts against one requirement with one vocabulary (cached per text)."""

    def __init__(
        self,
        req: ExperienceRequirement,
        vocab: Vocabulary,
        occupations: OccupationTable | None = None,
        industries: IndustryTable | None = None,
    ) -> None:
        self.req = req
        self.vocab = vocab
        self._occupations = occupations
        self._industries = industries
        # each distinct title, duty text, industry and employer is read once, however many
        # combinations it appears in
        self._forms = lru_cache(maxsize=1 << 16)(self._form)
        self._near = lru_cache(maxsize=1 << 14)(self._near_match)
        self._occupation = lru_cache(maxsize=1 << 14)(self._occupation_codes)
        self._hits_in = lru_cache(maxsize=1 << 15)(self._hits_in_text)
        self.unstemmed = frozenset({*BASE_UNSTEMMED, *(w.lower() for w in vocab.unstemmed_words)})
        self.replacements = {
            **{k.lower(): v.lower() for k, v in vocab.spellings.items()},
            **{k.lower(): v.lower() for k, v in vocab.abbreviations.items()},
        }
        # compared word for word, unstemmed: "cliente" is Spanish, "client" is not
        self.translations = {
            " ".join(words_of(k)): v.lower() for k, v in vocab.translations.items() if words_of(k)
        }
        self.duty_hints = phrase_regex(self.form(w) for w in vocab.area_hint_words)
        self.areas: dict[str, list[str]] = {
            area: sorted(
                {f for k in vocab.area_keywords(area, keywords) if (f := self.form(k))},
                key=len,
                reverse=True,
            )
            for area, keywords in req.areas.items()
        }
        self.area_patterns = {
            area: pattern
            for area, phrases in self.areas.items()
            if (pattern := phrase_regex(phrases)) is not None
        }
        self.generic = frozenset(self.form(w) for w in vocab.generic_title_words)
        self.qualifiers = frozenset(self.form(w) for w in vocab.title_qualifiers)
        # words of area phrases that show the area on their own ("program", "account")
        self.area_words = {
            area: {w for p in phrases for w in p.split() if w not in self.generic and len(w) > 2}
            for area, phrases in self.areas.items()
        }
        verbs = [self.form(v) for v in vocab.duty_verbs]
        self.duty_patterns: dict[str, re.Pattern[str]] = {}
        for area in self.areas:
            objects = [self.form(o) for o in vocab.duty_objects.get(area, [])]
            verb_re, object_re = phrase_regex(verbs), phrase_regex(objects)
            if verb_re is not None and object_re is not None:
                self.duty_patterns[area] = re.compile(
                    rf"{verb_re.pattern} (?:[a-z0-9]+ ){{0,{_DUTY_GAP}}}?{object_re.pattern}"
                )
        self.area_codes: dict[str, set[str]] = {
            area: set(req.area_occupations.get(area, vocab.area_occupations.get(area, [])))
            for area in self.areas
        }
        self.all_area_codes = set().union(*self.area_codes.values()) if self.area_codes else set()
        # match form -> the vocabulary's word, so a reason shows "trainee", not its stem
        self.non_professional_words = {self.form(w): w for w in vocab.non_professional_words}
        self.non_professional = (
            phrase_regex(list(self.non_professional_words)) if req.professional else None
        )
        self.industry_readers = {
            area: self._industry_reader(req.area_industries.get(area, req.industries))
            for area in self.areas
        }
        self.default_industry = self._industry_reader(req.industries)
        self.classify = lru_cache(maxsize=1 << 16)(self._classify)

    # ------------------------------------------------------------------ helpers

    def form(self, text: str) -> str:
        """Match form with this vocabulary's abbreviations, spellings and unstemmed words."""
        return self._forms(text)

    def _form(self, text: str) -> str:
        return match_form(text, self.replacements, self.unstemmed)

    @property
    def occupations(self) -> OccupationTable:
        if self._occupations is None:
            self._occupations = occupation_table()
        return self._occupations

    @property
    def industries(self) -> IndustryTable:
        if self._industries is None:
            self._industries = industry_table()
        return self._industries

    def _industry_reader(self, names: list[str]) -> _IndustryReader:
        """How an industry (or employer) text reads against the named industry families."""
        if not names:
            return _IndustryReader(lambda text: _Industry("any", ""), None)
        vocab, req = self.vocab, self.req
        listed_words: list[str] = []
        related_words: list[str] = []
        unrelated_words: list[str] = []
        listed_codes = list(req.industry_codes)
        related_codes = list(req.related_industry_codes)
        unrelated_codes: list[str] = []
        for name in names:
            family = vocab.industries.get(name)
            listed_words += vocab.industry_keywords(name)
            if family is None:
                continue
            if req.allow_related_industries:
                related_words += family.related
                if not req.related_industry_codes:
                    related_codes += family.related_codes
            unrelated_words += family.unrelated
            unrelated_codes += family.unrelated_codes
            if not req.industry_codes:
                listed_codes += family.codes
        listed = phrase_regex(self.form(w) for w in listed_words)
        related = phrase_regex(self.form(w) for w in related_words)
        unrelated = phrase_regex(self.form(w) for w in unrelated_words)
        ties = phrase_regex(self.form(w) for w in [*listed_words, *related_words])

        def read(text: str) -> _Industry:
            form = self.form(self._translated(text))
            if not form:
                return _Industry("unknown", "")
            if listed is not None and (hit := listed.search(form)):
                return _Industry("listed", f"matched listed industry '{hit.group(0)}'")
            found = self.industries.recognise(form)
            codes = found.codes if found is not None and found.whole else ()
            if codes and all(code_within(c, listed_codes) for c in codes):
                return _Industry("listed", f"is {self.industries.describe(codes)}")
            if related is not None and (hit := related.search(form)):
                return _Industry("related", f"matched related industry '{hit.group(0)}'")
            if codes and related_codes and all(code_within(c, related_codes) for c in codes):
                return _Industry("related", f"is {self.industries.describe(codes)}")
            against = None
            if unrelated is not None and (hit := unrelated.search(form)):
                against = f"unrelated industry '{hit.group(0)}'"
            elif codes and all(code_within(c, unrelated_codes) for c in codes):
                against = f"unrelated industry {self.industries.describe(codes)}"
            if against is not None:
                return _Industry("unrelated", f"matched {against}")
            if codes:
                return _Industry(
                    "other",
                    f"is {self.industries.describe(codes)}, not a listed or accepted related "
                    "industry",
                )
            return _Industry("unknown", "is not a recognised industry")

        return _IndustryReader(lru_cache(maxsize=1 << 14)(read), ties)

    def _translated(self, text: str) -> str:
        if not self.translations:
            return text
        return " ".join(self.translations.get(w, w) for w in words_of(text))

    def _hits_in_text(self, source: str, form: str) -> tuple[_Hit, ...]:
        """Areas one text shows by keyword (and, in duties, by a verb and its object)."""
        hits: dict[str, _Hit] = {}
        if not form:
            return ()
        for area, pattern in self.area_patterns.items():
            if hit := pattern.search(form):
                hits[area] = _Hit(area, f"{source} matched area '{area}' ('{hit.group(0)}')")
        if source == "duties":
            for area, pattern in self.duty_patterns.items():
                if area not in hits and (hit := pattern.search(form)):
                    hits[area] = _Hit(area, f"duties matched area '{area}' ('{hit.group(0)}')")
        return tuple(hits.values())

    def _area_hits(self, title_form: str, duties_form: str) -> list[_Hit]:
        hits = {hit.area: hit for hit in self._hits_in("title", title_form)}
        for hit in self._hits_in("duties", duties_form):
            hits.setdefault(hit.area, hit)
        return list(hits.values())

    def _near_match(self, title: str, title_form: str) -> str | None:
        """Why a title nearly shows an area (a slip, a word of an area phrase, another
        language), or None."""
        words = title_form.split()
        for area, phrases in self.areas.items():
            for phrase in phrases:
                size = len(phrase.split())
                for start in range(max(len(words) - size + 1, 0)):
                    window = " ".join(words[start : start + size])
                    if fuzz.ratio(window, phrase) >= SLIP_SIMILARITY:
                        return f"close to '{phrase}' of area '{area}' (a spelling slip?)"
        translated = self.form(self._translated(title))
        if translated != title_form:
            present = set(translated.split())
            for area, phrases in self.areas.items():
                for phrase in phrases:
                    if len(phrase.split()) > 1 and set(phrase.split()) <= present:
                        return f"reads as '{phrase}' of area '{area}' in another language"
        for area, area_words in self.area_words.items():
            shared = area_words.intersection(words)
            if shared:
                word = sorted(shared)[0]
                return f"'{word}' is a word of area '{area}', but no area phrase matched"
        return None

    def _occupation_codes(self, title_form: str) -> tuple[tuple[str, ...], str, bool]:
        """(codes, phrase, high confidence) of the title's occupations."""
        words = [w for w in title_form.split() if w not in self.qualifiers]
        stripped = " ".join(words)
        if all(w in self.generic for w in words):
            return (), "", False  # "Manager", "Intern": no occupation in particular
        found = self.occupations.recognise(stripped, self.generic)
        if found is None:
            return (), "", False
        confident = found.whole
        return found.codes, found.phrase, confident

    # ------------------------------------------------------------------ the rule

    def _in_area(self, hit: _Hit, industry: _Industry, title_form: str) -> tuple[str, str]:
        parts = [hit.how]
        if industry.category == "any":
            result = QUALIFYING
        elif industry.category in ("listed", "related"):
            parts.append(industry.note)
            result = QUALIFYING
        elif industry.category == "unrelated":
            parts.append(industry.note)
            result = NOT_QUALIFYING
        else:
            parts.append(industry.note or "industry is blank")
            result = UNCERTAIN
        flagged = (
            self.non_professional.search(title_form)
            if result == QUALIFYING and self.non_professional is not None
            else None
        )
        if flagged:
            word = self.non_professional_words.get(flagged.group(0), flagged.group(0))
            parts.append(f"title word '{word}' may not be professional experience")
            result = UNCERTAIN
        return result, "; ".join(parts)

    def _classify(self, title: str, duties: str, industry_text: str, employer: str) -> Classified:
        """(area, classification ignoring bad values, what matched) of one distinct job text.

        The industry is read from the job's industry, or from its employer's name when the
        industry is blank. A job that shows several areas counts under the most favourable
        one (areas may name their own industries).
        """
        if not self.areas:
            return ANY_AREA, QUALIFYING, "the requirement names no area, so any job counts"
        source, text = ("industry", industry_text) if industry_text else ("employer", employer)
        title_form = self.form(title)
        duties_form = self.form(duties)

        def industry(area: str | None) -> _Industry:
            reader = self.industry_readers.get(area, self.default_industry) if area else None
            reader = reader or self.default_industry
            found = reader.read(text)
            if found.category == "unrelated" and reader.ties is not None:
                # the job's own words tie it to the requirement's industries
                own = " ".join((title_form, duties_form, self.form(employer)))
                if tie := reader.ties.search(own):
                    found = _Industry(
                        "unknown", f"{found.note}, but the job's own words name '{tie.group(0)}'"
                    )
            if found.category != "any" and text:
                return _Industry(found.category, f"{source} '{text}' {found.note}".strip())
            return _Industry(found.category, "" if found.category == "any" else "industry is blank")

        hits = self._area_hits(title_form, duties_form)
        if not hits:
            near = self._near(title, title_form) if title_form else None
            if near is not None:
                return None, UNCERTAIN, f"{NEAR_MATCH}: {near}"
            codes, phrase, confident = self._occupation(title_form)
            covering = [a for a in self.areas if self.area_codes[a].intersection(codes)]
            inside = [c for c in codes if c in self.all_area_codes]
            if codes and len(inside) == len(codes):
                described = self.occupations.describe(codes)
                hits = [
                    _Hit(a, f"title is the occupation {described}, covered by area '{a}'")
                    for a in covering
                ]
            else:
                unrelated = industry(None)
                if unrelated.category == "unrelated":
                    return None, NOT_QUALIFYING, f"{unrelated.note}, outside {self._area_list()}"
                described = self.occupations.describe(codes)
                if inside:
                    doubt = f"may be {described}; only some of these are covered by the areas"
                    return None, UNCERTAIN, f"{OCCUPATION_DOUBT}: {doubt}"
                hint = self.duty_hints.search(duties_form) if self.duty_hints else None
                if hint and codes:
                    doubt = f"may be {described}, but the duties mention '{hint.group(0)}'"
                    return None, UNCERTAIN, f"{OCCUPATION_DOUBT}: {doubt}"
                if codes and confident and not self._near_areas(codes, unrelated.category):
                    why = f"a known occupation ({described}) outside {self._area_list()}"
                    return None, NOT_QUALIFYING, why
                if codes:
                    how = "near the areas' occupations" if confident else "a partial match"
                    return None, UNCERTAIN, f"{OCCUPATION_DOUBT}: may be {described} ({how})"
                doubt = "no area phrase and no known occupation"
                return None, UNCERTAIN, f"{UNRECOGNISED_TITLE}: {doubt}"
        best: Classified | None = None
        for hit in hits:
            result, matched = self._in_area(hit, industry(hit.area), title_form)
            if best is None or _FAVOUR[result] < _FAVOUR[best[1]]:
                best = (hit.area, result, matched)
        assert best is not None
        return best

    def _near_areas(self, codes: tuple[str, ...], industry_category: str) -> bool:
        """Whether an occupation outside the areas is still near them: in a SOC minor group
        of an area occupation, or — at a listed industry, where neighbouring work often
        includes the areas' duties — in one of their major groups."""
        minor = {c[:4] for c in self.all_area_codes}
        major = {c[:2] for c in self.all_area_codes}
        for code in codes:
            if code[:4] in minor or (industry_category == "listed" and code[:2] in major):
                return True
        return False

    def _area_list(self) -> str:
        names = list(self.areas)
        return ", ".join(names[:3]) + (", …" if len(names) > 3 else "")


#: Classifiers by (requirement, vocabulary) identity: a worker screens chunk after chunk
#: with one spec, and job texts recur between chunks.
_CLASSIFIERS: dict[tuple[int, int], tuple[ExperienceRequirement, Vocabulary, JobClassifier]] = {}


def job_classifier(req: ExperienceRequirement, vocab: Vocabulary) -> JobClassifier:
    """The (cached) classifier of a requirement with a vocabulary."""
    key = (id(req), id(vocab))
    cached = _CLASSIFIERS.get(key)
    if cached is not None and cached[0] is req and cached[1] is vocab:
        return cached[2]
    classifier = JobClassifier(req, vocab)
    if len(_CLASSIFIERS) >= 64:
        _CLASSIFIERS.clear()
    _CLASSIFIERS[key] = (req, vocab, classifier)
    return classifier
