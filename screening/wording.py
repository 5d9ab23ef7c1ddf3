"""Wording: how job text is normalised before it is matched against words and phrases.

Case, punctuation, "&" = "and", the vocabulary's abbreviations and spelling variants, and
a light English stemmer (program/programs, managed/managing/management) all fold into one
*match form*: lower-case word stems separated by single spaces. A phrase matches a text
when its match form occurs in the text's match form on whole words.

The stemmer is deliberately small: plural -s/-es/-ies, -ed, -ing, -ment and a final -e.
Words whose -ing form is a different occupation (accounting, programming, engineering,
marketing) are kept whole through the vocabulary's ``unstemmed_words``, so "Accounting
Manager" never reads as "Account Manager".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+")

#: -ing forms that name a field or a trade rather than an action; kept whole whatever the
#: vocabulary adds (the derived occupation and industry tables are built with these).
BASE_UNSTEMMED: frozenset[str] = frozenset(
    {"accounting", "programming", "engineering", "marketing", "processing", "nursing"}
)


def fold_accents(text: str) -> str:
    """Text with accents removed ("energía eléctrica" -> "energia electrica")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words_of(text: str) -> list[str]:
    """Lower-case words of a text: accents folded, "&" read as "and", punctuation dropped."""
    lowered = text.lower()
    folded = (lowered if lowered.isascii() else fold_accents(lowered)).replace("&", " and ")
    return _WORD.findall(folded)


@lru_cache(maxsize=65536)
def stem(word: str, unstemmed: frozenset[str] = BASE_UNSTEMMED) -> str:
    """A light English stem: plurals, -ed, -ing, -ment and a final -e removed."""
    if word in unstemmed or len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses") or word.endswith(("ches", "shes", "xes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word in unstemmed:
        return word
    for suffix, shortest in (("ment", 7), ("ing", 6), ("ed", 5)):
        if word.endswith(suffix) and len(word) >= shortest:
            word = word[: -len(suffix)]
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def match_form(
    text: str,
    replacements: Mapping[str, str] | None = None,
    unstemmed: frozenset[str] = BASE_UNSTEMMED,
) -> str:
    """The match form of a text: words, each replaced (abbreviations, spellings), stemmed."""
    out: list[str] = []
    for word in words_of(text):
        replaced = replacements.get(word, word) if replacements else word
        out.extend(stem(part, unstemmed) for part in replaced.split())
    return " ".join(out)


def phrase_regex(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """A regex finding any of the given match-form phrases on whole words, longest first."""
    unique = sorted({p for p in phrases if p}, key=len, reverse=True)
    if not unique:
        return None
    alternatives = "|".join(re.escape(p) for p in unique)
    return re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?![a-z0-9])")
