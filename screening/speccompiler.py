"""Compiling a class specification document into a draft JobSpec.

The compiler finds the minimum-qualification (MQ) sections of a document (with their
preferred-qualification and process-note parts) and reads their structure before their
sentences: headings, item markers, labels ("OR", "Either", "Option 2", a class level) and
the joins inside a sentence ("; or", "; and", "… degree and two years …", see
``clause_pieces``). Each part is then read as an education, experience, substitution,
license or certificate requirement. Every part ends up in exactly one place, recorded in
``CompiledSpec.placements``: the ``clause`` of the criterion it produced, the spec's
``preferred`` or ``notes`` lists, or ``unparsed``; nothing the document requires is hidden
from the analyst who reviews the draft. A document with no MQ section, or none the
compiler can read a requirement from, is refused (``NotASpecError``).
"""

from __future__ import annotations

import contextlib
import copy
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from screening.documents import Document, read_document
from screening.places import STATE_CODES
from screening.spec import (
    LEVEL_YEARS,
    Applies,
    Certificate,
    EducationRequirement,
    ExperienceRequirement,
    JobSpec,
    Level,
    License,
    Pattern,
    Provenance,
    SpecError,
    Substitution,
)
from screening.vocabulary import Vocabulary, default_rules_dir, load_vocabulary, normalise_text

COMPILER_VERSION = "0.1.0"

# --- numbers ----------------------------------------------------------------------------

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "eighteen": 18, "twenty": 20, "twenty-four": 24,
    "thirty": 30, "thirty-six": 36, "forty": 40, "forty-five": 45, "forty-eight": 48,
    "sixty": 60, "ninety": 90, "a": 1, "an": 1, "one-half": 0.5, "half": 0.5,
}  # fmt: skip
_NUM = (
    r"(?:\d+(?:\.\d+)?|"
    + "|".join(sorted((re.escape(w) for w in _NUMBER_WORDS), key=len, reverse=True))
    + r")"
)
_NUMBER = (
    rf"(?P<num>{_NUM})(?P<half>[- ]and[- ](?:one[- ])?(?:a[- ])?half)?"
    r"(?:\s*\(\s*\d+(?:\.\d+)?\s*\))?"
)
_YEARS = re.compile(
    rf"(?<![\w-]){_NUMBER}\s+(?:\(?full[- ]time\)?\s+|\(?paid\)?\s+|consecutive\s+|additional\s+)*"
    r"(?P<unit>years?|months?)(?:['’]s?)?(?![\w-])",
    re.IGNORECASE,
)


def _number(text: str) -> float:
    text = text.lower()
    return float(text) if text[0].isdigit() else float(_NUMBER_WORDS[text])


def _years_of(match: re.Match[str]) -> float:
    value = _number(match.group("num"))
    if match.groupdict().get("half"):
        value += 0.5
    # "three years ..., one of which": a missing unit is the general requirement's (years).
    if (match.group("unit") or "year").lower().startswith("month"):
        value /= 12
    return round(value, 2)


# --- headings and noise -----------------------------------------------------------------

_MQ_HEADING = re.compile(
    r"^(?:employment\s+standards|minimum\s+(?:acceptable\s+)?qualifications?(?:\s+requirements?)?"
    r"|minimum\s+(?:acceptable\s+)?(?:training\s+and\s+experience|education\s+and\s+experience)"
    r"|minimum\s+requirements(?:\s+to\s+perform\s+(?:the\s+)?work)?|(?:position\s+)?requirements?"
    r"(?:\s*/\s*minimum\s+qualifications?)?|minimum\s+qualifications?\s*[-–]\s*[\w ]+"
    r"|education\s*(?:,|/|and/or|and|&)\s*(?:training|experience)(?:\s*(?:,|/|and|&)\s*"
    r"(?:training|experience))*|(?:pre-employment\s+)?additional\s+requirements"
    r"|(?:necessary\s+)?special\s+(?:requirements|qualifications)|required\s+special\s+qualifications"
    r"|licensing\s+requirements|driver['’]?s\s+licen[cs]e|background\s+check|education\s+substitution"
    r"|positions\s+in\s+this\s+class\s+typically\s+require"
    r"|(?:minimum\s+)?education\s*(?:/|and|&)\s*experience"
    r"|(?:required\s+|desired\s+)?qualifications?|experience\s+and\s+training"
    r"|training\s+and\s+experience|education,?\s+training\s+and\s+experience"
    r"|other\s+requirements?|legal\s+requirements?|special\s+requirements?"
    r"|special\s+(?:license|certification)s?\s+requirements?"
    r"|(?:required\s+|necessary\s+|special\s+)?(?:licen[cs]es?|licensing|certificat(?:es?|ions?)"
    r"|registrations?|permits?)(?:\s*(?:,|/|and/or|and|or|&)\s*(?:licen[cs]es?|registrations?"
    r"|certificat(?:es?|ions?)|permits?))*(?:\s+(?:required|requirements?))?)$",
    re.IGNORECASE,
)
_OTHER_HEADING = re.compile(
    r"^(?:definition|general\s+definition|distinguishing\s+(?:features|characteristics)"
    r"|(?:typical\s+)?examples?\s+of\s+(?:duties|work)|typical\s+examples.*|essential\s+"
    r"(?:functions|duties).*|duties|knowledge|abilities|skills|knowledge\s+and\s+abilities"
    r"|knowledge,\s+skills,?\s+and\s+abilities|required\s+knowledge.*|knowledge\s+of|ability\s+to"
    r"|physical(?:,|\s).*requirements?|physical\s+and\s+medical.*|medical\s+requirements?"
    r"|working\s+conditions|environmental\s+conditions|revision\s+history|class\s+history"
    r"|supplemental\s+information|desirable\s+qualifications|desirable|selection\s+process"
    r"|(?:pref+er+ed|desirable|desired)\s+(?:education|experience|qualifications|major|skills).*"
    r"|(?:comparable\s+)?(?:the\s+)?(?:following\s+)?(?:city\s+)?class(?:es)?(?:\s*\(es\))?\s+(?:which|that)?\s*"
    r"typically\s+meets?.*|credential\s+based\s+pay.*"
    r"|(?:[\w’' ]+\s+)?class(?:es|\(es\))?\s+(?:which|that)\s+typically\s+meets?.*"
    r"|(?:city\s+of\s+\w+\s+|the\s+following\s+)?classes\s+(?:which|that)\s+typically.*"
    r"|class\s+established.*|(?:latest\s+)?spec\.?\s+revision.*|end\s+of\s+job\s+class.*"
    r"|note\s+to\s+applicants|salary|benefits|mou"
    r"|supervision\s+(?:received|exercised).*|class\s+characteristics)\s*:?$",
    re.IGNORECASE,
)
_NOISE = re.compile(
    r"^(?:\(?over\)?|f+|cl:.*|[a-z]:\\.*|\\\\.*|\d{1,2}/\d{1,2}/\d{2,4}(?:\s+\d{1,2}/\d{1,2}/\d{2,4})*"
    r"|page\s+\d+(?:\s+of\s+\d+)?|class\s+established.*|(?:latest\s+)?spec\.?\s+revision.*"
    r"|ad\.?\s*board.*|board\s*[-–]\s*\d+/\d+.*|csc\s*[-–].*|pay\s+range.*|change\s+in\s+pay.*|\[[a-z]{1,4}\d+\].*"
    r"|\d+(?:\.\d*)?|\.|ep\d+|revised:?\s.*|approved\s+by.*|[a-z]{1,4}(?:/[a-z]{1,4})*|\d[a-z]\d\d|continued|-\s*\d+\s*-"
    r"|salary\s+schedule|code\s+no\.?.*)\s*:?$",
    re.IGNORECASE,
)
_PREAMBLE = re.compile(
    r"^\(?(?:the\s+following\s+statement|applications\s+submitted)", re.IGNORECASE
)


def _is_noise(paragraph: str) -> bool:
    text = paragraph.strip()
    if _NOISE.match(text):
        # Short upper-case words ("AND", "OR") are structure, not initials.
        return text.upper().strip(":") not in {"AND", "OR", "EITHER"}
    return False


_PREFERRED_HEADING = re.compile(
    r"^(?:pref+er+ed|desirable|desired|highly\s+desirable)(?:\s+(?:qualifications?|education|experience"
    r"|skills|majors?|knowledge)(?:\s+(?:and|&)\s+\w+)?)?$",
    re.IGNORECASE,
)
_NOTES_HEADING = re.compile(r"^(?:process\s+)?notes?$", re.IGNORECASE)
#: a section of another way in ("BRIDGE CLASS EMPLOYMENT STANDARDS"): an alternative.
_ALTERNATIVE_HEADING = re.compile(
    r"^bridge\s+class\b.*|^alternate\s+(?:route|qualifications?)$", re.I
)
_CLOSING_HEADING = re.compile(r"^selective\s+certification$", re.IGNORECASE)


def _heading_kind(paragraph: str) -> str | None:
    """'mq', 'preferred', 'notes', 'alternative' or 'other' for a heading paragraph, None for
    text."""
    text = paragraph.strip()
    head = re.sub(r"\s*\(.*\)\s*\.?$", "", text).strip().rstrip(":").strip()
    if not head and re.fullmatch(
        r"\(\s*positions\s+in\s+this\s+class\s+typically\s+require\s*\):?", text, re.I
    ):
        return "mq"
    if len(head) > 120 or not head:
        return None
    if re.search(r"[.;]\s*\w", head):
        return None
    if _PREFERRED_HEADING.match(head):
        return "preferred"
    if _NOTES_HEADING.match(head):
        return "notes"
    if _ALTERNATIVE_HEADING.match(head):
        return "alternative"
    if _CLOSING_HEADING.match(head):
        return "other"
    if len(head) <= 80 and _MQ_HEADING.match(head) and not re.search(r"[.;]\s*\w", head):
        return "mq"
    if _OTHER_HEADING.match(head):
        return "other"
    return None


@dataclass
class Section:
    """One minimum-qualification section: its heading and its paragraphs."""

    heading: str
    paragraphs: list[str]
    #: "mq" (requirements), "preferred" (never requirements) or "notes" (process text).
    kind: str = "mq"
    #: the section is another way to qualify ("BRIDGE CLASS EMPLOYMENT STANDARDS").
    alternative: bool = False

    @property
    def is_license_section(self) -> bool:
        """Licenses/certificates/other-requirement sections hold spec-wide requirements."""
        return bool(
            re.match(
                r"^(?:other|legal|special|licen|certif|driver|additional|pre-employment|necessary"
                r"|required\s+special|background)",
                self.heading.strip(),
                re.I,
            )
        )


def find_mq_sections(paragraphs: list[str]) -> list[Section]:
    """The MQ sections of a document, without page headers, footers and revision notes.

    When no MQ heading is found, the paragraphs that state years of experience or an
    education requirement are taken as one unheaded MQ section.
    """
    # MQ text before any heading (or in a document with no MQ heading) runs from the first
    # paragraph that states a requirement.
    first_heading = next(
        (i for i, p in enumerate(paragraphs) if _heading_kind(p) is not None), len(paragraphs)
    )
    start = next((i for i, p in enumerate(paragraphs) if _states_requirement(p)), None)
    if start is not None and start < first_heading:
        return _sections(paragraphs[start:], Section(heading="", paragraphs=[]))
    sections = _sections(paragraphs, None)
    if sections or start is None:
        return sections
    return _sections(paragraphs[start:], Section(heading="", paragraphs=[]))


def _states_requirement(paragraph: str) -> bool:
    return not _is_noise(paragraph) and bool(
        re.search(r"\bexperience\b", paragraph, re.I)
        and _YEARS.search(paragraph)
        or re.search(r"\b(?:graduation|degree|diploma)\b", paragraph, re.I)
        or re.search(r"\blicen[cs]e\b", paragraph, re.I)
        and re.search(r"\b(?:required|must|possess\w*)\b", paragraph, re.I)
    )


def _sections(paragraphs: list[str], current: Section | None) -> list[Section]:
    sections: list[Section] = [current] if current is not None else []
    for paragraph in paragraphs:
        kind = _heading_kind(paragraph)
        if kind is None and _is_noise(paragraph):
            continue
        if kind in ("mq", "alternative") or kind in ("preferred", "notes") and current is not None:
            current = Section(
                heading=paragraph,
                paragraphs=[],
                kind=kind if kind in ("preferred", "notes") else "mq",
                alternative=kind == "alternative",
            )
            sections.append(current)
            continue
        if kind is not None:
            current = None
            continue
        if current is not None:
            if _PREAMBLE.match(paragraph):
                current.heading += " " + paragraph
                continue
            current.paragraphs.append(paragraph)
    sections = [s for s in sections if s.paragraphs]
    return sections if any(s.kind == "mq" for s in sections) else []


# --- sentences --------------------------------------------------------------------------

_ABBREVIATIONS = re.compile(
    r"\b(?:e\.g|i\.e|etc|no|nos|vs|u\.s|st|dr|mr|mrs|ms|jr|sr|inc|co|dept|approx|min|max"
    r"|[A-Z](?:\.[A-Z])+|ph\.d|b\.a|b\.s|m\.a|m\.s|m\.d|d\.o|sec|art|ch)\.$",
    re.IGNORECASE,
)


_LIST_MARKER = re.compile(r"^(?:[·•▪●o§\-–*]|\(?\d{1,2}[.)]|\(?[a-h][.)]|[ivx]{1,4}[.)])\s+", re.I)


def split_sentences(paragraph: str) -> list[str]:
    """A paragraph's sentences; abbreviations such as "B.A." or "e.g." do not end one.

    A list marker ("1.", "a)", "·") starting the paragraph is dropped: it numbers an item,
    it does not end a sentence.
    """
    paragraph = _LIST_MARKER.sub("", paragraph.strip()).strip()
    sentences: list[str] = []
    start = 0
    for match in re.finditer(r"[.?!](?=\s+[\"'(\[]?[A-Z0-9])", paragraph):
        end = match.end()
        last_word = paragraph[start:end].rsplit(" ", 1)[-1]
        if _ABBREVIATIONS.search(last_word) or re.fullmatch(r"\(?\d{1,2}\.|[A-Za-z]\.", last_word):
            continue
        sentence = paragraph[start:end].strip()
        if sentence:
            sentences.append(sentence)
        start = end
    rest = paragraph[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


# --- labels -----------------------------------------------------------------------------

_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8}
_LABEL = re.compile(
    r"^(?P<label>\(?(?:all|both)\s+(?:specialt(?:y|ies)|assignments).{0,40}"
    r"|\(?[a-z0-9 ,/&'’-]{2,100}\s+specialt(?:y|ies)(?:\s+only)?\)?"
    r"|and|or|either|and/or|general(?=\s*:?\s*$)"
    r"|(?:(?:general|specific|required|qualifying|work|external|internal|professional)\s+)?"
    r"experiencee?(?:\s+requirements?)?|notes?(?:\s+\d+)?|specific(?=\s*:?\s*$)"
    r"|(?:required\s+)?education(?:\s+(?:and|&)\s+training)?|training|education\s+requirements?"
    r"|[a-z0-9 ,/&'’-]{2,60}\s+assignments?(?:\s+only)?(?=\s*:?\s*$)"
    r"|(?:option|pattern|alternative|path|level)\s*:?\s*(?:\d+|[ivx]+\b|[a-z]\b)"
    r"|(?:[a-h]|\d)\)|\([a-h]\)"
    r"|licen[cs]es?(?:,\s+registrations?)?(?:\s+(?:and|and/or|or)\s+certificat\w+)?"
    r"|certificat\w+|registrations?)(?:\s*\([^)]{0,60}\))?\s*[:.\-–]?\s*",
    re.IGNORECASE,
)


_CONNECTIVES = ("and", "or", "either", "and/or", "notes", "note")


@dataclass
class Item:
    """A label ("OR", "EDUCATION", "Option 2") or a sentence of an MQ section."""

    kind: str  # "label" or "sentence"
    text: str
    label: str = ""
    #: a lower-case paragraph start: the rest of a sentence a page or list break split.
    continues: bool = False
    #: index of the section paragraph the item comes from.
    paragraph: int = -1


def _label_of(raw: str) -> str:
    text = re.sub(r"\s+", " ", raw.strip().rstrip(":.-– ").lower())
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    text = re.sub(r"\s*\(.*?\)", "", text).strip()
    if text == "general":
        return "and"
    text = re.sub(r"^notes?(?:\s+\d+)?$", "note", text)
    if text in ("and", "or", "either", "and/or", "note", "notes"):
        return "or" if text == "or" else "and"
    if "specific" in text and "experience" in text:
        return "specific"
    if "general" in text and "experience" in text:
        return "general"
    if "experience" in text:
        return "experience"
    if text.startswith(("education", "training", "required education")):
        return "education"
    if text.startswith(("licen", "certif", "registration")):
        return "license"
    if text.startswith(("all specialt", "both specialt", "all assignments", "both assignments")):
        return "all_specialties"
    if text == "specific":
        return "specific"
    if text.endswith(
        ("specialty", "specialty only", "specialties", "assignment", "assignment only")
    ):
        return "specialty:" + re.sub(r"\s+(?:specialt(?:y|ies)|assignment)(?: only)?$", "", text)
    match = re.match(r"(option|pattern|alternative|path|level)\s*:?\s*(\w+)", text)
    if match:
        token = match.group(2)
        number = _ROMAN.get(token) if not token.isdigit() else int(token)
        return f"option:{match.group(1)}_{number if number is not None else token}"
    match = re.match(r"\(?([a-h]|\d)\)", text)
    if match:
        return f"option:{match.group(1)}"
    return "and"


def items_of(section: Section) -> list[Item]:
    """A section's labels and sentences, in document order."""
    items: list[Item] = []
    for index, whole in enumerate(section.paragraphs):
        start = len(items)
        for text, separator in _inline_alternatives(whole):
            if separator:
                items.append(Item("label", text, "or"))
            else:
                _paragraph_items(text, items)
        for item in items[start:]:
            item.paragraph = index
    return items


#: "… four years of experience; or B) An associate's degree …": lettered alternatives
#: written inside one paragraph.
_INLINE_ALTERNATIVE = re.compile(
    r"[;,.:]?\s+(?:(?:or|OR),?\s+)?(?=\(?[B-Hb-h]\)\s+[A-Z]|\([2-9]\)\s+[A-Z])"
)


def _inline_alternatives(paragraph: str) -> list[tuple[str, bool]]:
    """The paragraph's parts and the separators ("; or") between lettered alternatives."""
    text = paragraph.strip()
    result: list[tuple[str, bool]] = []
    start = 0
    for match in _INLINE_ALTERNATIVE.finditer(text):
        if match.start() == 0:
            continue
        result.append((text[start : match.start()].strip(), False))
        result.append((match.group(0).strip(), True))
        start = match.end()
    result.append((text[start:].strip(), False))
    return [(part, separator) for part, separator in result if part or separator]


#: a line that names a class level or hiring level ("Elections Specialist", "Staff/Services
#: Manager II:"): the requirements after it are another way in.
_LEVEL_NAME = re.compile(
    r"^(?:[A-Z][\w'’&/-]*)(?:\s+(?:[A-Z][\w'’&/().-]*|of|and|or|the|for|in))+\s*:?$"
)


def _level_name(paragraph: str) -> bool:
    words = paragraph.strip().rstrip(":").split()
    return (
        2 <= len(words) <= 6
        and bool(_LEVEL_NAME.match(paragraph.strip()))
        and not any(c.isdigit() for c in paragraph)
        and _heading_kind(paragraph) is None
        and not REQUIREMENT_WORDING.search(paragraph)
        # "GENERAL EXPERIENCE", "EDUCATION:": the structure labels of a section
        and not paragraph.isupper()
        and _LABEL.fullmatch(paragraph.strip()) is None
        and not re.search(r"\b(?:experience|education|training|license|note)s?\b", paragraph, re.I)
    )


#: " - A valid license - A medical certificate": bulleted items run into one paragraph.
_INLINE_BULLET = re.compile(r"\s+[-–•]\s+(?=[A-Z])")


def _inline_bullets(text: str) -> list[tuple[str, bool]]:
    """A paragraph's sentences, with the bullets that separate items inside it: (text,
    True) for a bullet (structure), (text, False) for a sentence."""
    result: list[tuple[str, bool]] = []
    start = 0
    for bullet in _INLINE_BULLET.finditer(text):
        result += [(sentence, False) for sentence in split_sentences(text[start : bullet.start()])]
        result.append((bullet.group(0).strip(), True))
        start = bullet.end()
    result += [(sentence, False) for sentence in split_sentences(text[start:])]
    return result


def _paragraph_items(paragraph: str, items: list[Item]) -> None:
    text = paragraph.strip()
    # A name after a sentence that announces a list (":") or after another name is an item
    # of a list ("such classes as: Computer Operator, Data Clerk"), not a level.
    if (
        _level_name(text)
        and items
        and not (items[-1].kind == "sentence" and items[-1].text.rstrip().endswith(":"))
        and not items[-1].label.startswith("option:")
        and not (items[-1].kind == "sentence" and _level_name(items[-1].text))
    ):
        items.append(Item("label", text, "option:" + _slug(text.rstrip(":"))))
        return
    if text:
        while text:
            match = _LABEL.match(text)
            marker = _LIST_MARKER.match(text)
            if match is None and marker is not None and marker.end() < len(text):
                # "1.", "a.", "•": the numbering of an item is structure, not text.
                items.append(Item("label", marker.group(0).strip(), "marker"))
                text = text[marker.end() :].strip()
                continue
            if match is None:
                break
            rest = text[match.end() :]
            raw = match.group("label")
            # "Experience: Three years ..." is a label; "Experience in ..." is a sentence.
            ends_label = (
                not rest
                or text[len(raw) : match.end()].strip()[:1] in (":", "-", "–", ".")
                or raw.lower() in ("and", "or", "either", "and/or")
                and rest[:1].isupper()
                or raw.endswith(")")
            )
            if raw.lower() in ("and", "or") and rest and not rest[:1].isupper():
                ends_label = False
            if not ends_label:
                break
            items.append(Item("label", match.group(0).strip(), _label_of(raw)))
            text = rest.strip()
        first = True
        for sentence, bullet in _inline_bullets(text):
            if bullet:
                items.append(Item("label", sentence, "marker"))
                continue
            for piece in clause_pieces(sentence):
                piece.continues = first and piece.kind == "sentence" and piece.text[:1].islower()
                first = False
                bare = piece.text.strip(" .:;,").lower()
                if piece.kind == "sentence" and bare in _CONNECTIVES:
                    # "AND." or "OR:" left after a list marker is structure, not a sentence.
                    items.append(Item("label", piece.text, _label_of(bare)))
                else:
                    items.append(piece)


# --- the structure inside a sentence --------------------------------------------------
#
# A requirement sentence is a small expression before it is a list of facts:
#
#     sentence := part (JOIN part)* [JOIN]
#     JOIN     := "; or" | "; and" | ", OR" | " OR " | ": or," | ", or" before an equivalency
#     part     := [education] [("and" | "plus" | "with" | ",") experience]
#
# Each part is read on its own, so an education clause, the experience joined to it and an
# "or an equivalent combination" after them end in three different places; a trailing join
# ("...; or" closing a numbered item) joins the item to the next one.

#: the start of an equivalency clause: "any combination", "an equivalent combination".
_EQUIVALENCY_START = (
    r"(?i:(?:any\s+|an\s+|the\s+|other\s+)?(?:equivalent\s+|suitable\s+|comparable\s+)?combination"
    r"|any\s+(?:other\s+)?equivalent)\b"
)
_JOIN = re.compile(
    r"\s*[;:]\s*(?P<low>(?i:or|and))\b(?!/)\s*[,:]?\s*"
    r"|\s*,\s*(?P<upper>OR|AND)\b(?!/)\s*[,:]?\s*"
    r"|\s+(?P<bare>OR|AND)\b(?!/)\s*[,:]?\s+"
    r"|,?\s+(?P<equiv>(?i:or))\s+(?=" + _EQUIVALENCY_START + ")"
    r"|,?\s+(?P<credential>(?i:or))\s+(?=(?i:(?:current\s+|valid\s+)?(?:certification|registration"
    r"|possession\s+of|licensure|certified|registered))\b)"
    r"|,?\s+(?P<both>(?i:and))\s+(?=(?i:(?:an?\s+)?(?:valid|current)\s+(?:[\w'’()-]+\s+){0,5}?"
    r"(?:certificate|certification|card|licen[cs]e)\b))",
)
#: what a new requirement starts with, after a lower-case "; or" / "; and".
_REQUIREMENT_START = re.compile(
    rf"(?-i:[A-Z0-9(])|(?:at\s+least\s+|a\s+minimum\s+of\s+)?{_NUM}\s+(?:\(\d+\)\s+)?(?:\w+\s+)?"
    r"(?:years?|months?)\b|(?:an?\s+|the\s+)?(?:bachelor|associate|master|doctor|high\s+school"
    r"|graduation|completion|possession|valid|current|certification|licen[cs]e|degree|experience"
    r"|education|equivalent|any\b)",
    re.IGNORECASE,
)
_TRAILING_JOIN = re.compile(r"(?:\s*[;,]\s*(?P<low>(?i:or|and))|\s+(?P<upper>OR|AND))\s*[.:]?\s*$")
_LEADING_JOIN = re.compile(r"^(?P<word>(?i:or|and))\b(?!/)\s*[,:]?\s+(?=\S)")
#: "Bachelor's degree ... and two years of experience": the join before the years.
_EDUCATION_THEN_YEARS = re.compile(
    rf"(?:(?:,\s*|\s+)\b(?:and|plus|with|AND|PLUS|or|OR)\s+|\s*;\s*)(?=(?:the\s+)?(?:completion\s+of\s+)?"
    r"(?:the\s+)?(?:equivalent\s+of\s+)?(?:(?:at\s+least|a\s+minimum\s+of|minimum\s+of)\s+)?"
    rf"{_NUM}(?:\s*\(\d+(?:\.\d+)?\))?\s+(?:\(?full[- ]time\)?\s+|\(?paid\)?\s+"
    rf"|consecutive\s+|additional\s+)*(?:years?|months?)\b)",
    re.IGNORECASE,
)


def _join_label(text: str, word: str, trailing: bool = False) -> Item:
    label = "or" if word.lower() == "or" else ("and_item" if trailing else "and")
    return Item("label", text.strip(), label)


def clause_pieces(sentence: str) -> list[Item]:
    """A sentence cut at its joins into parts and the "or" / "and" labels between them."""
    pieces: list[Item] = []
    text = sentence.strip()
    if re.search(r"substitut|in\s+lieu\s+of", text, re.I):
        # "X; OR Y may be substituted for one year": one substitution clause, not alternatives.
        return [Item("sentence", text)]
    leading = _LEADING_JOIN.match(text)
    # "or maintaining ..." continues a list of areas; "OR", "Or Four years", "or any
    # combination ..." join what follows to what came before.
    if (
        leading
        and len(text) > leading.end()
        and (
            leading.group("word").isupper()
            or text[leading.end()].isupper()
            or text[leading.end()].isdigit()
            or re.match(_EQUIVALENCY_START, text[leading.end() :])
        )
    ):
        pieces.append(_join_label(leading.group(0), leading.group("word")))
        text = text[leading.end() :]
    trailing = _TRAILING_JOIN.search(text)
    tail: Item | None = None
    if trailing and trailing.start() > 0:
        tail = _join_label(
            trailing.group(0), trailing.group("low") or trailing.group("upper"), True
        )
        text = text[: trailing.start()]
    start = 0
    for match in _JOIN.finditer(text):
        if _inside_brackets(text, match.start()):
            continue
        if match.group("low") and not _REQUIREMENT_START.match(text, match.end()):
            continue  # "...; or, maintaining a library": one more area of the same list
        if match.group("credential") and (
            not any(level.search(text[start : match.start()]) for _, level in _LEVELS)
            or any(level.search(text[match.end() : match.end() + 40]) for _, level in _LEVELS)
        ):
            # "or certification as a CPA" is an alternative to a degree; "or possession of
            # a GED" is the same education level in other words.
            continue
        if match.group("both") and not re.search(
            r"licen[cs]e|certificat|\bcard\b", text[start : match.start()], re.I
        ):
            continue  # "a license and a medical certificate": two credentials, both required
        pieces.extend(_education_and_years(text[start : match.start()]))
        word = (
            match.group("low")
            or match.group("upper")
            or match.group("bare")
            or match.group("both")
            or "or"
        )
        pieces.append(_join_label(match.group(0), word))
        start = match.end()
    pieces.extend(_education_and_years(text[start:]))
    if tail is not None:
        pieces.append(tail)
    return [p for p in pieces if p.text.strip()]


def _inside_brackets(text: str, index: int) -> bool:
    return text.count("(", 0, index) > text.count(")", 0, index)


def _education_and_years(part: str) -> list[Item]:
    """An education clause followed by the experience joined to it: two parts."""
    part = part.strip()
    if not part:
        return []
    level_at = min(
        (m.start() for _, pattern in _LEVELS if (m := pattern.search(part)) is not None),
        default=None,
    )
    if level_at is None:
        return [Item("sentence", part)]
    years = _YEARS.search(part)
    if years is not None and years.end() <= level_at:
        # "One year of experience as a gardener and an associate's degree": the other order
        joins = list(re.finditer(r",?\s+(?:and|plus|AND|PLUS)\s+", part[:level_at]))
        join = joins[-1] if joins else None
        if (
            join is not None
            and join.start() >= years.end()
            and re.fullmatch(r"(?:an?\s+|the\s+)?(?:[\w'’-]+\s+){0,2}", part[join.end() : level_at])
            and re.search(
                r"\b(?:degree|diploma|G\.?E\.?D|high\s+school|equivalency)\b",
                part[join.end() :],
                re.I,
            )
            and not _inside_brackets(part, join.start())
        ):
            return [
                Item("sentence", part[: join.start()].strip()),
                Item("label", join.group(0).strip(), "and"),
                Item("sentence", part[join.end() :].strip()),
            ]
    for join in _EDUCATION_THEN_YEARS.finditer(part, level_at):
        rest = part[join.end() :]
        if _YEARS.search(rest) and re.search(r"\b(?:experience|work|employment)\b", rest, re.I):
            if _inside_brackets(part, join.start()):
                continue
            word = join.group(0).strip(" ,;").lower()
            return [
                Item("sentence", part[: join.start()].strip()),
                Item("label", join.group(0).strip(), "or" if word == "or" else "and"),
                Item("sentence", rest.strip()),
            ]
    return [Item("sentence", part)]


# --- reading sentences ------------------------------------------------------------------

_STATES = STATE_CODES
_STATE_RE = re.compile(
    r"\b(" + "|".join(sorted(_STATES, key=len, reverse=True)) + r")\b", re.IGNORECASE
)

#: What no application column can show (age, citizenship, physical ability, clearances):
#: such sentences stay in ``unparsed`` for the analyst, by design.
UNVERIFIABLE = re.compile(
    r"years\s+of\s+age|\bage\s+of\b|\bcitizen|\bphysical(?:ly)?\s+(?:able|perform|abilit)|\blift"
    r"|drug\s+screen|background\s+check|fingerprint|\bresiden(?:t|cy|ce)\b|domicile|clearance"
    r"|bondable|immuniz|vaccin|\bswim|eyesight|\bhearing\b|\btravel\b|weekends|on[- ]call"
    r"|\bspeak\b|\bconverse\b|read\s+and\s+write",
    re.IGNORECASE,
)
#: "preferred", "desirable", "a plus": never a requirement ("preferably" inside one is).
PREFERRED_WORDING = re.compile(
    r"\b(?:pref+er+ed|desirable|desired|is\s+a\s+plus|are\s+a\s+plus|a\s+plus\b|ideal\s+candidate"
    r"|highly\s+desir\w+|advantageous|nice\s+to\s+have)\b",
    re.IGNORECASE,
)
#: wording that states a requirement: such a sentence never goes to notes or preferred
#: unless it also has preferred wording.
REQUIREMENT_WORDING = re.compile(
    r"\b(?:degrees?|diplomas?|graduat\w*|G\.?E\.?D|years?|months?|licen[cs]\w*|certif\w*"
    r"|registration|registered|must|required|requires?|requirements?|shall)\b",
    re.IGNORECASE,
)
_SUBSTITUTION = re.compile(
    r"any\s+(?:other\s+)?equivalent\s+(?:experience|education|training)|equivalent\s+combination"
    r"|any\s+(?:equivalent\s+)?combination|combination\s+of\s+.*equivalent|substitut|in\s+lieu\s+of"
    r"|(?:can|may)\s+replace|in\s+place\s+of|(?:can|may)\s+(?:be\s+)?equated?\s+(?:for|to|on|as)\b|\bequates\s+(?:for|to)\b|(?:considered|credited|counted)\s+(?:as\s+)?"
    r"(?:equivalent\s+to\s+|as\s+)?(?:\w+\s+){0,2}(?:years?|months?)\b"
    r"|year[- ]for[- ]year|equivalent\s+to\s+one\s+year|equals?\s+one\s+year",
    re.IGNORECASE,
)
_DISCRETIONARY = re.compile(
    r"determined\s+(?:to\s+be\s+)?(?:acceptable|appropriate|equivalent)|acceptable\s+to\s+the"
    r"|approved\s+by\s+the|at\s+the\s+discretion|as\s+determined\s+by|deemed\s+(?:acceptable|"
    r"equivalent)",
    re.IGNORECASE,
)
_UNIT_RATE = re.compile(
    rf"(?P<n>{_NUM})\s+(?:\(\d+\)\s+)?(?:(?P<kind>semester|quarter)\s+)?"
    r"(?:units|hours|credits|credit\s+hours)\s+(?:equals?|=|(?:is|are)\s+equivalent\s+to|(?:shall\s+)?(?:be\s+)?equal|count\s+as)"
    r"\s+(?:to\s+)?one\s+year",
    re.IGNORECASE,
)
_UNITS = re.compile(
    rf"(?P<n>{_NUM})\s+(?:\(\d+\)\s+)?(?P<kind>semester|quarter)?\s*(?:college\s+|course\s+)?"
    r"(?:units|hours|credits|credit\s+hours)\b",
    re.IGNORECASE,
)
_COLLEGE_YEARS = re.compile(
    rf"(?P<n>{_NUM})\s+(?:\(\d+\)\s+)?years?\s+(?:of\s+)?"
    r"(?:study\s+|course\s*work\s+|full[- ]time\s+)?"
    r"(?:(?:at|in|from)\s+an?\s+)?(?:accredited\s+)?"
    r"(?:college|university|post-?secondary|higher\s+education)",
    re.IGNORECASE,
)
_LEVELS: list[tuple[Level, re.Pattern[str]]] = [
    (
        Level.none,
        re.compile(r"\b(?:eighth|tenth|ninth|eleventh|8th|10th)\s+(?:school\s+)?grade", re.I),
    ),
    (
        Level.high_school,
        re.compile(
            r"high\s+school|secondary\s+school|twelfth\s+(?:school\s+)?grade|12th\s+(?:school\s+)?grade"
            r"|\bg\.?e\.?d\b|general\s+education(?:al)?\s+development|equivalency\s+(?:diploma|"
            r"certificate)|high\s+school\s+equivalency",
            re.I,
        ),
    ),
    (
        Level.associate,
        re.compile(
            r"associate['’]?s?\b|(?:two|2)[- ]year\s+(?:college\s+)?degree|(?:two|2)[- ]year\s+"
            r"(?:[\w-]+\s+){0,4}(?:program|curriculum|course)",
            re.I,
        ),
    ),
    (
        Level.bachelor,
        re.compile(
            r"bachelor['’]?s?|baccalaureate|four[- ]year\s+(?:[\w-]+\s+){0,3}(?:program|degree)"
            r"|four[- ]year\s+(?:college|degree|university)"
            r"|college\s+degree|college\s+graduat|graduation\s+from\s+(?:an?\s+)?(?:accredited\s+)?"
            r"(?:college|university)|\bb\.\s?[as]\.",
            re.I,
        ),
    ),
    (
        Level.master,
        re.compile(
            r"master['’]?s?\b|graduate\s+degree|fifth[- ]year\s+degree|\bm\.\s?[as]\.|\bmba\b"
            r"|\bmsw\b",
            re.I,
        ),
    ),
    (
        Level.doctorate,
        re.compile(r"doctor(?:ate|al)?\b|ph\.?\s?d|juris|\bm\.d\.|medical\s+degree", re.I),
    ),
]
_FIELDS = re.compile(
    r"(?:major\s+(?:course\s*work\s+)?in|course\s*work\s+in|degree\s+in|major\s+in|majoring\s+in"
    r"|specialization\s+in|concentration\s+in|emphasis\s+in|studies\s+in|program\s+in"
    r"|(?:college|university|semester\s+hours|credits|units)\s+in)\s+"
    r"(?P<fields>.+)",
    re.IGNORECASE,
)
_FIELD_STOP = re.compile(
    r"\s+(?:from|at)\s+an?\s+|\s+and\s+(?=\S+\s+(?:\(\d+\)\s+)?(?:years?|months?)\b)|\s+plus\s+|\s+which\s+"
    r"|\s+including\s+|\s+with\s+|;|\.\s*$|\s+is\s+|\s+are\s+|\s+may\s+",
    re.IGNORECASE,
)
_RELATED = re.compile(
    r"^(?:an?\s+|other\s+)?(?:closely\s+|directly\s+)?(?:related|allied|similar|relevant)"
    r"(?:\s+(?:academic\s+)?(?:field|area|discipline|major|subject)s?(?:\s+of\s+study)?)?$",
    re.IGNORECASE,
)

_EXPERIENCE_WORDS = re.compile(
    r"\b(?:experience|work|employment|service|responsibility|duties)\b", re.I
)
_AREA_CUT = re.compile(
    r",?\s+(?:which|that|where|who|such\s+as|including|of\s+which|in\s+an?\s+position|at\s+the"
    r"\s+level|at\s+or\s+above|above\s+the|equivalent\s+to|comparable\s+to|with\s+responsibility"
    r"|within\s+the\s+(?:last|past)|related\s+to|to\s+determine|for\s+the\s+purposes?|in\s+order\s+to"
    r"|engaged\s+in|involving|under\s+the)\b|;|\.$|,\s+(?:or|and)\s+(?:experience|work)\b",
    re.IGNORECASE,
)
_QUALIFIERS = re.compile(
    r"\b(?:increasingly|progressively|responsible|professional|full[- ]time|paid|qualifying"
    r"|relevant|related|recent|directly|practical|work|working|experience|of|the|a|an|years?"
    r"|months?)\b",
    re.IGNORECASE,
)
_INDUSTRY = re.compile(
    r"\bin\s+(?:the\s+|a\s+|an\s+)?(?P<industry>[a-z][\w/&-]*(?:\s+[a-z][\w/&-]*)?)\s+"
    r"(?:industry|industries|sector)(?P<related>\s+or\s+(?:a\s+)?(?:closely\s+)?related"
    r"(?:\s+(?:field|industry|area))?)?",
    re.IGNORECASE,
)
_WITHIN = re.compile(
    rf"within\s+the\s+(?:last|past|previous|preceding)\s+(?P<num>{_NUM})(?:\s*\(\d+\))?\s+years?",
    re.IGNORECASE,
)
_WITHIN_ANY = re.compile(
    rf"(?:within\s+(?:the\s+)?(?:last\s+|past\s+|previous\s+|preceding\s+)?|no\s+more\s+than\s+)"
    rf"(?P<num>{_NUM})(?:\s*\(\d+\))?\s+years?",
    re.IGNORECASE,
)
_PART_OF_EXPERIENCE = re.compile(
    rf"^(?P<num>{_NUM})(?:\s*\(\d+\))?\s+(?P<unit>years?|months?)\s+(?:of\s+which\s+|of\s+the\s+"
    r"(?:above\s+)?experience\s+)?(?:must|shall|should|has|have)\s+(?:have\s+)?(?:been\s+|included\s+|"
    r"include\s+|involved\s+)?(?:in\s+|at\s+)?(?P<rest>.*)",
    re.IGNORECASE,
)
_NESTED_AFTER = re.compile(
    rf",?\s*(?P<num>{_NUM})(?:\s*\(\d+\))?(?:\s+(?P<unit>years?|months?))?\s+of\s+which\s+"
    r"(?:shall|must|should|will)?"
    r"\s*(?:have\s+)?(?:been|be|included|include|involved|has\s+been|have\s+included)?\s*(?P<rest>.*)",
    re.IGNORECASE,
)
_NESTED = re.compile(
    rf"(?:,|;)?\s*(?:of\s+which|including|includ(?:ing|es)\s+at\s+least|at\s+least)\s+"
    rf"(?P<specific>{_NUM}(?:\s*\(\d+\))?\s+(?:full[- ]time\s+)?(?:years?|months?)\b.*)",
    re.IGNORECASE,
)


def _slug(text: str, default: str = "item") -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or default


def _state_code(text: str) -> str | None:
    match = _STATE_RE.search(text)
    return _STATES[match.group(1).lower()] if match else None


def education_of(sentence: str) -> EducationRequirement | None:
    """An education requirement read from a sentence, or None if it states none."""
    levels = [level for level, pattern in _LEVELS if pattern.search(sentence)]
    years: float | None = None
    units = None if _UNIT_RATE.search(sentence) else _UNITS.search(sentence)
    if units and re.search(r"college|university|credit|semester|quarter|course", sentence, re.I):
        per_year = 45 if (units.group("kind") or "").lower() == "quarter" else 30
        years = round(_number(units.group("n")) / per_year, 2)
    college = _COLLEGE_YEARS.search(sentence)
    if college and not re.search(r"four[- ]year\s+college", college.group(0), re.I):
        years = _number(college.group("n"))
    if not levels and years is None:
        return None
    level = min(levels, key=lambda lv: lv.rank) if levels else Level.none
    if years is not None and levels and level.rank >= Level.associate.rank:
        years = None  # "a bachelor's degree" already stands for its years
    fields: list[str] = []
    allow_related = bool(re.search(r"\b(?:related|allied)\b", sentence, re.I))
    match = _FIELDS.search(sentence)
    if match and level.rank >= Level.associate.rank or match and years is not None:
        assert match is not None
        text = _FIELD_STOP.split(match.group("fields"), maxsplit=1)[0]
        for part in re.split(
            r",\s*(?:and/or\s+|or\s+|and\s+)?|\s+and/or\s+|\s+or\s+|\s+and\s+", text
        ):
            name = re.sub(r"^(?:the\s+)?(?:field\s+of\s+|area\s+of\s+)", "", part.strip(" .,"))
            name = name.strip().lower()
            if not name:
                continue
            if _RELATED.match(name):
                allow_related = True
                continue
            fields.append(name)
    return EducationRequirement(
        id="education",
        min_level=level,
        fields=fields,
        allow_related=allow_related and bool(fields),
        accredited=bool(re.search(r"\baccredited\b", sentence, re.I)),
        min_years=years,
        clause=sentence,
    )


def _split_areas(text: str) -> list[str]:
    areas: list[str] = []
    for part in re.split(r",\s*(?:and/or|or|and)?\s*|\s+and/or\s+|\s+or\s+", text):
        part = re.sub(
            r"^(?:in|with|as|of|at|on|for|performing|doing|involving|the|a|an)\s+",
            "",
            part.strip(" .,;:"),
            flags=re.I,
        )
        part = re.sub(r"^(?:the|a|an)\s+", "", part, flags=re.I).strip()
        if not part:
            continue
        pieces = [p.strip() for p in part.split("/") if p.strip()]
        if len(pieces) > 1:
            # "program/project management" -> program management, project management
            tail = pieces[-1].split(" ", 1)
            for piece in pieces:
                if " " not in piece and len(tail) == 2 and piece != pieces[-1]:
                    areas.append(f"{piece} {tail[1]}".lower())
                else:
                    areas.append(piece.lower())
        else:
            areas.append(part.lower())
    return [a for a in areas if _QUALIFIERS.sub("", a).strip()]


def _strip_qualifiers(text: str) -> str:
    """Drop qualifier words ("increasingly responsible professional") at either end."""
    words = re.sub(r"\s+", " ", text).strip(" ,").split(" ")
    while words and _QUALIFIERS.fullmatch(words[0].strip(",")):
        words.pop(0)
    # "social work", "field work": a trailing "work" belongs to the area.
    while words and _QUALIFIERS.fullmatch(words[-1].strip(",")) and words[-1].lower() != "work":
        words.pop()
    return " ".join(words).strip(" ,")


_LEVEL_PHRASE = re.compile(
    r"\b(?:at\s+(?:or\s+above\s+)?|above\s+)(?:the\s+)?(?:[\w-]+\s+){0,2}level"
    r"(?:\s+of\s+(?:an?\s+)?(?:pay\s+range\s+)?[\w ]+?(?:\s+(?:and|or)\s+above)?"
    r"(?=[,;]|\s+(?:in|with|as|"
    r"performing|supervising|directing|caring|working)\b))?"
    r"|\bequivalent\s+to\s+(?:an?\s+)?[A-Z][\w ]+?\d\b",
    re.IGNORECASE,
)


def _areas_of(rest: str) -> list[str]:
    """Area names from the words after "N years of"."""
    rest = _LEVEL_PHRASE.sub(" ", rest)
    rest = re.sub(
        r"^(\s*(?:experience|work)\s+)(?:involving|engaged\s+in)\s+", r"\1in ", rest, flags=re.I
    )
    text = _AREA_CUT.split(rest, maxsplit=1)[0]
    text = _INDUSTRY.sub("", text)
    text = re.sub(
        r"\s+in\s+(?:the\s+)?(?:private|public)\s+(?:or\s+(?:public|private)\s+)?sector.*$",
        "",
        text,
        flags=re.I,
    )
    match = re.search(r"\bexperience\b\s*(?P<after>.*)$", text, re.I) or re.search(
        r"\b(?:work|employment)\b\s*(?P<after>.*)$", text, re.I
    )
    before = text[: match.start()] if match else text
    after = match.group("after") if match else ""
    areas: list[str] = []
    after = re.sub(r"^(?:in|with|as|of|performing|doing|involving|at|on)\s+", "", after, flags=re.I)
    if after:
        areas.extend(_split_areas(after))
    qualifier_free = _strip_qualifiers(before)
    if qualifier_free and not areas:
        areas.extend(_split_areas(qualifier_free))
    elif qualifier_free and len(qualifier_free.split()) <= 4:
        areas.insert(0, qualifier_free.lower())
    unique: dict[str, None] = {}
    for area in areas:
        area = re.sub(r"\s+", " ", area).strip()
        words = area.split(" ")
        if len(words) > 8:
            # A long description is cut to its head words: the analyst refines it on review.
            area = " ".join(words[:8])
        if area:
            unique[area] = None
    return list(unique)


def experience_of(sentence: str, vocabulary: Vocabulary) -> list[ExperienceRequirement]:
    """Experience requirements read from a sentence: one, or general plus specific."""
    match = _YEARS.search(sentence)
    if match is None:
        return []
    if re.search(
        r"\b(?:within|after|before|during)\s+(?:the\s+)?(?:first\s+)?$",
        sentence[: match.start()],
        re.I,
    ):
        return []  # "within one month of employment": a deadline, not experience
    after = sentence[match.end() :]
    # "3 years within the last 8 years of experience in ...": the window comes first.
    window = re.match(
        rf"\s+within\s+the\s+(?:last|past|previous|preceding)\s+{_NUM}(?:\s*\(\d+\))?\s+years?",
        after,
        re.I,
    )
    if window is not None:
        after = after[window.end() :]
    as_title = re.match(r"\s+(?:of\s+(?:\w+\s+){0,3}?)?as\s+an?\s+", after, re.I)
    if re.match(r"\s+(?:of\s+)?(?:college|university|course\s*work|study|school)\b", after, re.I):
        return []
    loose = re.match(
        r"\s+(?:of\s+)?(?:(?:[\w/-]+,?\s+){0,3}(?:experience|work|responsibility)\b|\w+ing\b)",
        after,
        re.I,
    )
    if (
        not as_title
        and not loose
        and (
            not re.match(r"\s+(?:of|in|as|at|experience|\w+ing)\b", after, re.I)
            or not _EXPERIENCE_WORDS.search(after)
            and not re.match(r"\s+(?:\w+ing|in|at)\b", after, re.I)
        )
    ):
        return []
    rest = re.sub(r"^\s+(?:of|in|at)\s+", "", after, flags=re.I)
    after_form = _NESTED_AFTER.search(rest)
    if after_form is not None:
        general = _experience(_years_of(match), rest[: after_form.start()], sentence, vocabulary)
        specific = _experience(
            _years_of(after_form), after_form.group("rest"), sentence, vocabulary
        )
        return _nest(general, specific)
    nested = _NESTED.search(rest)
    general_rest = rest[: nested.start()] if nested else rest
    general = _experience(_years_of(match), general_rest, sentence, vocabulary)
    if nested is None:
        return [general]
    specific_text = nested.group("specific")
    specific_match = _YEARS.match(specific_text)
    if specific_match is None:
        return [general]
    specific_rest = re.sub(
        r"^\s+(?:of|in|as|must\s+have\s+been\s+in|must\s+be\s+in|shall\s+be\s+in|must\s+include)\s+",
        "",
        specific_text[specific_match.end() :],
        flags=re.I,
    )
    specific = _experience(_years_of(specific_match), specific_rest, sentence, vocabulary)
    return _nest(general, specific)


def _nest(
    general: ExperienceRequirement, specific: ExperienceRequirement
) -> list[ExperienceRequirement]:
    """General experience includes the specific part; a part that names no area of its own
    ("one year of which at the full performance level") is in the general areas."""
    if not specific.areas:
        specific.areas = dict(general.areas)
    for area, keywords in specific.areas.items():
        general.areas.setdefault(area, keywords)
    return [general, specific]


def _experience(
    years: float, rest: str, sentence: str, vocabulary: Vocabulary
) -> ExperienceRequirement:
    industries: list[str] = []
    allow_related = False
    for industry in _INDUSTRY.finditer(rest):
        name = industry.group("industry").lower()
        family = _industry_family(name, vocabulary)
        industries.append(family)
        allow_related = allow_related or bool(industry.group("related"))
    within = _WITHIN.search(sentence)
    return ExperienceRequirement(
        id="experience",
        years=years,
        areas={area: [] for area in _areas_of(rest)},
        industries=industries,
        allow_related_industries=allow_related if industries else True,
        professional=bool(re.search(r"\bprofessional\b", sentence, re.I)),
        within_years=int(_number(within.group("num"))) if within else None,
        clause=sentence,
    )


def _industry_family(name: str, vocabulary: Vocabulary) -> str:
    normal = normalise_text(name)
    for family_name, family in vocabulary.industries.items():
        words = {normalise_text(family_name), *(normalise_text(k) for k in family.keywords)}
        if normal in words:
            return family_name
    return normal


def substitution_of(sentence: str) -> Substitution | None:
    """A substitution or equivalency clause, or None."""
    rate = _UNIT_RATE.search(sentence)
    if not _SUBSTITUTION.search(sentence) and rate is None:
        return None
    result = Substitution(clause=sentence)
    if rate is not None:
        units = int(_number(rate.group("n")))
        if (rate.group("kind") or "").lower() == "quarter":
            result.quarter_units_per_year = units
        else:
            result.semester_units_per_year = units
    lowered = sentence.lower()
    if re.search(
        r"any\s+(?:equivalent\s+)?combination|combination\s+of\s+.*equivalent|equivalent\s+combination"
        r"|any\s+(?:other\s+)?equivalent\s+(?:experience|education|training)",
        lowered,
    ):
        if _DISCRETIONARY.search(sentence):
            result.discretionary = True
        else:
            result.experience_for_education = True
            result.interpretation = (
                "Read as year-for-year: each year of qualifying experience beyond the required "
                "years stands for one missing year of the required education."
            )
    substitute = re.search(
        r"(.*?)\b(?:may|can|shall|will)?\s*(?:be\s+)?(?:substitut\w*\s+(?:for|by)?|replace[sd]?\s+"
        r"|equate[ds]?\s+(?:for|to|on|as)\s+"
        r"|(?:considered|credited|counted)\s+(?:as\s+)?(?:equivalent\s+to\s+)?)(.*)",
        lowered,
    )
    if (
        substitute
        or "in lieu of" in lowered
        or "year-for-year" in lowered
        or "year for year" in lowered
    ):
        before, after = (substitute.group(1), substitute.group(2)) if substitute else (lowered, "")
        if "in lieu of" in lowered:
            before, after = lowered.split("in lieu of", 1)
        education_words = (
            r"degree|college|education|course\s*work|units|credits|semester|quarter|graduate|school"
        )
        if re.search(r"experience", before) and re.search(education_words, after):
            result.experience_for_education = True
        elif re.search(education_words, before) and re.search(r"experience", after):
            result.education_for_experience = True
            limit = _YEARS.search(after)
            if limit:
                result.max_education_for_experience_years = _years_of(limit)
        elif re.search(r"experience", lowered):
            result.experience_for_education = True
    if not (
        result.experience_for_education
        or result.education_for_experience
        or result.discretionary
        or rate is not None
    ):
        return None
    return result


_DRIVER = re.compile(r"driv(?:er|ing)|operator'?s|motor\s+vehicle|chauffeur", re.I)
_CONDITIONAL = re.compile(
    r"selected\s+positions|positions?\s+(?:that|which)\s+requir|position\s+requires|only\s+if"
    r"|if\s+required|when\s+required|may\s+be\s+required|some\s+positions|certain\s+positions"
    r"|as\s+required\s+by\s+(?:the\s+)?(?:position|assignment|job|department)|where\s+required"
    r"|depending\s+on\s+(?:the\s+)?assignment|of\s+some\s+jobs|required\s+of\s+some",
    re.I,
)
_AT_SCREENING = re.compile(
    r"time\s+of\s+(?:application|filing)|prior\s+to\s+(?:the\s+)?(?:scheduled\s+)?(?:exam|test|"
    r"filing|application)|at\s+(?:the\s+)?time\s+of\s+(?:the\s+)?(?:exam|test)|when\s+applying",
    re.I,
)
_AT_APPOINTMENT = re.compile(
    r"appointment|hire|hiring|employment|tenure|probation|within\s+\S+\s+(?:months|days|year)"
    r"|after\s+(?:appointment|hire)|upon\s+(?:appointment|hire)",
    re.I,
)


EnforceAt = Literal["screening", "appointment"]


def _conditions(sentence: str, driving: bool) -> tuple[Applies, EnforceAt]:
    """When a credential applies (every position, driving positions, positions that
    require it: "some positions may require ...") and when it is checked."""
    applies: Applies = "always"
    if _CONDITIONAL.search(sentence):
        applies = "position_requires_driving" if driving else "position_requires"
    enforce: EnforceAt
    if _AT_SCREENING.search(sentence):
        enforce = "screening"
    elif _AT_APPOINTMENT.search(sentence):
        enforce = "appointment"
    else:
        enforce = "screening"
    return applies, enforce


#: "Registration as a Professional Engineer", "registered nurse": professional registration
#: is a license to practise (voter registration is not).
_REGISTRATION = re.compile(
    r"\b(?:registration|registered)\s+(?:as|in)\s+(?:an?\s+)?(?P<kind>(?:[\w'-]+\s+){0,4}?"
    r"(?:engineer|architect|nurse|surveyor|geologist|dietitian|pharmacist|sanitarian|accountant"
    r"|land\s+surveyor|environmental\s+health\s+specialist|psychologist))\b"
    r"|\bregistered\s+(?P<nurse>nurse|professional\s+engineer|civil\s+engineer|architect|dietitian)\b",
    re.IGNORECASE,
)


def license_of(sentence: str) -> License | None:
    """A license requirement (including a professional registration), or None."""
    registration = _REGISTRATION.search(sentence)
    if registration is not None and not re.search(r"\blicen[cs]", sentence, re.I):
        if experience_of(sentence, default_vocabulary()):
            return None  # "experience as a registered nurse": experience, not a license
        kind = (registration.group("kind") or registration.group("nurse")).lower()
        applies, enforce = _conditions(sentence, False)
        state = _state_code(sentence)
        return License.model_validate(
            {
                "id": _slug(f"registration {kind} {state or ''}"),
                "kind": f"registration as {kind}",
                "state": state,
                "applies": applies,
                "condition": f"registration as {kind}" if applies == "position_requires" else "",
                "enforce_at": enforce,
                "clause": sentence,
            }
        )
    if not re.search(r"\blicen[cs]", sentence, re.I):
        return None
    if re.search(r"licensed\s+(?:practical|vocational)\b", sentence, re.I) and not re.search(
        r"\blicen[cs]e\b", sentence, re.I
    ):
        return None
    state = _state_code(sentence)
    driving = bool(_DRIVER.search(sentence))
    class_match = re.search(r"\b[Cc]lass\s+(?P<c>[A-E]|M\d?|[1-9])\b", sentence)
    if driving:
        kind = "driver's license"
        lid = f"{state.lower()}_drivers_license" if state else "drivers_license"
    else:
        found = re.search(
            r"(?:possession\s+of\s+|hold\s+|holds\s+)?(?:an?\s+)?(?:(?:valid|current|active|"
            r"unrestricted|appropriate|required)\s+)*(?P<kind>(?:[\w'-]+\s+){0,5}?licen[cs]e"
            r"(?:\s+(?:to|as)\s+(?:an?\s+)?[\w' -]+?)?)"
            r"(?=[,.;(]|\s+(?:issued|as\s+issued|by|from|in"
            r"|with|at|prior|within|and|or)\b|$)",
            sentence,
            re.I,
        )
        kind = found.group("kind").strip().lower() if found else "license"
        kind = _STATE_RE.sub("", kind)
        kind = re.sub(r"\s+", " ", re.sub(r"^(?:the|a|an|of|valid|current)\s+", "", kind)).strip()
        lid = _slug(f"{kind} {state or ''}")
    applies, enforce = _conditions(sentence, driving)
    return License.model_validate(
        {
            "id": lid,
            "kind": kind,
            "state": state,
            "class": class_match.group("c") if class_match else None,
            "applies": applies,
            "condition": kind if applies == "position_requires" else "",
            "enforce_at": enforce,
            "clause": sentence,
        }
    )


#: "registered voter", "certification of the eligible list", a DD-214 "certificate of
#: release": the words of a credential that is not one the applicant must hold.
_NOT_A_CREDENTIAL = re.compile(
    r"registered\s+voter|register\s+to\s+vote|voter\s+registration|certification\s+by\s+a"
    r"|(?:for|eligible\s+for|ineligible\s+for)\s+certification|selective\s+certification"
    r"|certificate\s+of\s+(?:release|discharge)|\bdd[- ]?214\b|certified\s+(?:mail|copy|copies)"
    r"|certif(?:y|ies)\s+that|attach\s+(?:a\s+)?cop(?:y|ies)",
    re.IGNORECASE,
)


def certificate_of(sentence: str) -> Certificate | None:
    """A certificate requirement, or None."""
    # A high school equivalency certificate is an education level, read as education.
    rest = re.sub(
        r"(?:high\s+school\s+)?(?:equivalency|G\.?E\.?D\.?|high\s+school)\s+(?:certificate|diploma)",
        "",
        sentence,
        flags=re.I,
    )
    # "a valid CPR card": a card attesting a qualification is a certificate
    if not re.search(
        r"certificat|certified|registration|registered|(?:valid|current)\s+(?:[\w'’()-]+\s+){0,5}card\b",
        rest,
        re.I,
    ):
        return None
    if _NOT_A_CREDENTIAL.search(sentence) and not re.search(
        r"(?:obtain|possess|hold|maintain)\w*\s+(?:\w+\s+){0,6}certificat", sentence, re.I
    ):
        return None
    name_match = (
        re.search(
            r"(?:possession\s+of|hold|obtain|maintain|require[sd]?)\s+(?:an?\s+|the\s+)?"
            r"(?:(?:valid|current|active)\s+)*"
            r"(?P<name>.+?(?:certificate|certification|registration)"
            r"(?:\s+(?:as|in)\s+(?!issued)(?:an?\s+)?[\w' -]+?)?)"
            r"(?=[,.;(]|\s+(?:issued|as\s+issued|by|from|prior|within|at|and|or|is)\b|$)",
            sentence,
            re.I,
        )
        or re.search(
            r"^(?:certification|registration)\s+(?:as|in)\s+(?:an?\s+)?(?P<name>[^,.;]+?)"
            r"(?=\s+(?:issued|by|from|prior|within|at)\b|[,.;]|$)",
            sentence,
            re.I,
        )
        or re.search(
            r"(?P<name>(?:certified|registered)\s+as\s+(?:an?\s+)?[\w' -]+?)"
            r"(?=[,.;(]|\s+(?:by|with|prior|within|at|and|or)\b|$)",
            sentence,
            re.I,
        )
        or re.search(
            r"(?P<name>(?:[\w'-]+\s+){1,4}(?:certificate|certification|registration))",
            sentence,
            re.I,
        )
        # Last resort: the sentence up to its first comma names the credential.
        or re.match(r"(?P<name>[^,;.]{3,100})", sentence)
    )
    if name_match is None:
        return None
    name = _STATE_RE.sub("", name_match.group("name").lower())
    name = re.sub(r"^(?:(?:a|an|the|valid|current)\s+)+", "", name.strip())
    name = re.sub(r"\s+", " ", name).strip()
    state = _state_code(sentence)
    applies, enforce = _conditions(sentence, False)
    aliases = [f"{name} ({state})"] if state else []
    return Certificate(
        id=_slug(name),
        name=name,
        aliases=aliases,
        applies=applies,
        condition=name if applies == "position_requires" else "",
        enforce_at=enforce,
        clause=sentence,
    )


_CONDITION = re.compile(
    r"(?P<sida>\bSIDA\b|security\s+identification\s+display\s+area)|(?P<abuse>child\s+abuse\s+clearance)"
    r"|(?P<background>background\s+checks?|criminal\s+(?:history|record)|fingerprint)"
    r"|(?P<tools>complement\s+of\s+tools|possess\s+(?:and\s+maintain\s+)?(?:the\s+)?(?:necessary\s+)?tools)",
    re.IGNORECASE,
)


#: names of the conditions verified at appointment (not credentials an applicant holds).
APPOINTMENT_CONDITIONS = frozenset(
    {
        "SIDA and AOA security clearance",
        "child abuse clearance",
        "criminal background check",
        "own tools",
    }
)


def appointment_condition_of(sentence: str) -> Certificate | None:
    """A condition verified at appointment (a security clearance, a background check, own tools).

    No application column shows these, and none of them decides who is screened in; like a
    driver's license required at appointment, each becomes a certificate with
    ``enforce_at: appointment``, which the engine reports as a condition on the decision.
    """
    match = _CONDITION.search(sentence)
    if match is None:
        return None
    if match.group("sida"):
        name = "SIDA and AOA security clearance"
    elif match.group("abuse"):
        name = "child abuse clearance"
    elif match.group("background"):
        name = "criminal background check"
    else:
        name = "own tools"
    return Certificate(
        id=_slug(name), name=name, applies="always", enforce_at="appointment", clause=sentence
    )


# --- building patterns ------------------------------------------------------------------


@dataclass
class _Draft:
    key: str
    clause: str = ""
    education: EducationRequirement | None = None
    experience: list[tuple[str, ExperienceRequirement]] = field(default_factory=list)
    licenses: list[License] = field(default_factory=list)
    certificates: list[Certificate] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.education or self.experience or self.licenses or self.certificates)


@dataclass
class _Builder:
    vocabulary: Vocabulary
    drafts: list[_Draft] = field(default_factory=list)
    group: list[_Draft] = field(default_factory=list)
    slot: str = ""
    pending_or: bool = False
    base: _Draft | None = None
    typical_clause: str = ""
    substitutions: list[Substitution] = field(default_factory=list)
    licenses: list[License] = field(default_factory=list)
    certificates: list[Certificate] = field(default_factory=list)
    unparsed: list[str] = field(default_factory=list)
    #: after a sentence ending in ":", the criterion that the following list items extend.
    list_owner: str = ""
    #: "This note does not apply to ..." seen before the substitution note it limits.
    pending_note: str = ""
    #: "1. A; and 2. B; or 3. C": what the items joined by "; and" share with each
    #: alternative that follows ("A and B", "A and C").
    common: _Draft | None = None
    #: the kind of the section being read ("mq", "preferred", "notes").
    section_kind: str = "mq"
    preferred: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def new_group(self, key: str, start: _Draft | None = None) -> None:
        draft = copy.deepcopy(start) if start is not None else _Draft(key=key)
        draft.key = key
        self.drafts.append(draft)
        self.group = [draft]
        self.pending_or = False

    def ensure(self) -> None:
        if not self.group:
            self.new_group(f"pattern_{len(self.drafts) + 1}")

    def place(self, slot: str, apply: object) -> None:
        """Apply a component to the open patterns; after an "OR", fork the last one."""
        assert callable(apply)
        self.ensure()
        if self.pending_or and self.slot not in ("education", "experience", "general", "specific"):
            # "OR" between whole alternatives: a new pattern, not a variant of the last one.
            self.new_group(f"pattern_{len(self.drafts) + 1}", self.common)
        if self.pending_or:
            source = self.group[-1]
            fork = copy.deepcopy(source)
            fork.key = f"pattern_{len(self.drafts) + 1}"
            if slot == "education":
                fork.education = None
            else:
                fork.experience = [(r, e) for r, e in fork.experience if r != slot]
            self.drafts.append(fork)
            self.group.append(fork)
            apply(fork)
            self.pending_or = False
            return
        for draft in self.group:
            apply(draft)


def _label(builder: _Builder, label: str) -> None:
    if label == "marker":
        return  # an item's number: the joins around it carry the structure
    builder.list_owner = ""
    if label == "or":
        builder.pending_or = True
    elif label == "and_item":
        builder.pending_or = False
        if builder.group and not builder.group[-1].empty():
            builder.common = copy.deepcopy(builder.group[-1])
    elif label == "and":
        builder.pending_or = False
    elif label in ("education", "experience", "general", "specific", "license"):
        if builder.pending_or and label == "education":
            builder.new_group(f"pattern_{len(builder.drafts) + 1}")
        builder.slot = label
    elif label.startswith("option:"):
        builder.common = None
        builder.new_group(label.split(":", 1)[1], builder.base)
        builder.group[0].clause = label.split(":", 1)[1].replace("_", " ").capitalize()
        builder.slot = ""
    elif label == "all_specialties":
        builder.slot = ""
    elif label.startswith("specialty:"):
        builder.ensure()
        if builder.base is None:
            builder.base = copy.deepcopy(builder.group[0])
            if builder.group[0].empty() or all(d.empty() for d in builder.group):
                builder.drafts = [d for d in builder.drafts if d not in builder.group]
            elif len(builder.drafts) == 1:
                builder.drafts.clear()
        name = label.split(":", 1)[1]
        builder.new_group(_slug(name), builder.base)
        builder.group[0].clause = f"{name.title()} specialty"


_OR_CREDENTIAL = re.compile(
    r",?\s+or\s+(?=(?:current\s+|valid\s+)?(?:certification|registration|possession\s+of|licensure"
    r"|certified|registered)\b)",
    re.IGNORECASE,
)


def _education_or_credential(builder: _Builder, sentence: str) -> bool:
    """ "A degree in accounting or certification as a CPA": two alternative patterns."""
    parts = _OR_CREDENTIAL.split(sentence, maxsplit=1)
    if len(parts) != 2:
        return False
    education = education_of(parts[0])
    credential = certificate_of(parts[1]) if license_of(parts[1]) is None else None
    if education is None or credential is None:
        return False
    education.clause = sentence
    credential.clause = sentence

    def set_education(d: _Draft) -> None:
        d.education = _merge_education(d.education, copy.deepcopy(education))

    builder.place("education", set_education)
    saved_slot, builder.slot, builder.pending_or = builder.slot, "education", True
    builder.place("education", lambda d: d.certificates.append(copy.deepcopy(credential)))
    builder.slot = saved_slot
    return True


_NOTE_SCOPE = re.compile(r"^this\s+note\s+(?:does\s+not|only)\s+appl", re.IGNORECASE)


def _is_list_item(sentence: str) -> bool:
    return (
        len(sentence.split()) <= 14
        and not _YEARS.search(sentence)
        and not _SUBSTITUTION.search(sentence)
        and not sentence.rstrip().endswith(":")
    )


def _extend_list(builder: _Builder, item: str) -> None:
    """Attach a list item ("1. Chemistry") to the criterion whose sentence announced it."""
    name = re.sub(r"\s+", " ", item.strip(" .;,")).strip()
    owner = builder.list_owner
    if owner == "education":
        for draft in builder.group:
            if draft.education is not None:
                draft.education.fields.append(name.lower())
                draft.education.clause += f" {item}"
    elif owner == "certificate" and builder.certificates:
        builder.certificates[-1].aliases.append(name.lower())
        builder.certificates[-1].clause += f" {item}"
    elif owner == "license" and builder.licenses:
        builder.licenses[-1].clause += f" {item}"
    elif owner == "experience":
        # a long sub-item ("the development of information systems; or") names its areas
        areas = _areas_of(name) if len(name.split()) > 6 else []
        for draft in builder.group:
            if draft.experience:
                requirement = draft.experience[-1][1]
                for area in areas or [name.lower()]:
                    requirement.areas.setdefault(area, [])
                requirement.clause += f" {item}"


def _sentence(
    builder: _Builder, sentence: str, license_section: bool, continues: bool = False
) -> None:
    vocabulary = builder.vocabulary
    if builder.list_owner and _is_list_item(sentence):
        _extend_list(builder, sentence)
        return
    builder.list_owner = ""
    if PREFERRED_WORDING.search(sentence) or (
        builder.section_kind == "preferred"
        and not re.search(r"\b(?:must|required|requires?)\b", sentence, re.I)
    ):
        builder.preferred.append(sentence)
        return
    announces_list = sentence.rstrip().endswith(":")
    if continues and any(d.experience for d in builder.group):
        # A lower-case line continues the experience sentence a page or list break split.
        for draft in builder.group:
            if draft.experience:
                requirement = draft.experience[-1][1]
                for area in _areas_of(sentence):
                    requirement.areas.setdefault(area, [])
                requirement.clause += f" {sentence}"
        return
    if re.search(
        r"typical\s+ways?\s+(?:to|of)\s+(?:obtain|gain|acquire)", sentence, re.I
    ) or re.match(
        r"no\s+(?:previous\s+|prior\s+)?(?:experience|education|training)(?:\s+(?:or|and)\s+"
        r"(?:experience|education|training))?\s+(?:is\s+)?required",
        sentence,
        re.I,
    ):
        builder.typical_clause = f"{builder.typical_clause} {sentence}".strip()
        return
    bare = sentence.strip(" .:;").lower()
    if bare in ("and", "or", "either", "and/or", "notes", "note"):
        _label(builder, _label_of(bare))
        return
    if not _SUBSTITUTION.search(sentence) and _education_or_credential(builder, sentence):
        return
    condition = appointment_condition_of(sentence)
    if condition is not None:
        _merge_certificate(builder.certificates, condition)
        return
    if _NOTE_SCOPE.match(sentence):
        # The scope of a substitution note (who may use it) belongs with that note.
        if builder.substitutions:
            builder.substitutions[-1].clause += f" {sentence}"
        else:
            builder.pending_note = f"{builder.pending_note} {sentence}".strip()
        return
    substitution = substitution_of(sentence)
    if substitution is not None and builder.pending_note:
        substitution.clause = f"{builder.pending_note} {substitution.clause}"
        builder.pending_note = ""
    if substitution is not None:
        builder.substitutions.append(substitution)
        builder.pending_or = False
        return
    lic = license_of(sentence)
    if (
        lic is not None
        and not re.search(r"\blicen[cs](?:e|es|ure)\b", sentence, re.I)
        and experience_of(sentence, vocabulary)
    ):
        lic = None  # "experience as a licensed mechanic": a kind of experience, not a license
    if lic is not None:
        # A license only some positions require is the position's, not one alternative's.
        # After several alternatives, a license not joined to one by "or" binds them all.
        spec_wide = (
            license_section
            or not builder.group
            or lic.applies != "always"
            or len(builder.drafts) > 1
            and not builder.pending_or
        )
        target = builder.licenses if spec_wide else None
        if target is None:
            builder.place("license", lambda d: d.licenses.append(copy.deepcopy(lic)))
        else:
            _merge_license(target, lic)
        builder.list_owner = "license" if announces_list and target is not None else ""
        return
    cert = certificate_of(sentence)
    if cert is not None and not experience_of(sentence, vocabulary):
        if (
            license_section
            or not builder.group
            or cert.applies != "always"
            or len(builder.drafts) > 1
            and not builder.pending_or
        ):
            builder.certificates.append(cert)
        else:
            # "A degree in accounting, or certification as a CPA": the credential replaces
            # the education of the alternative it starts.
            replaces = "education" if builder.pending_or and builder.slot == "education" else ""
            builder.place(
                replaces or "certificate", lambda d: d.certificates.append(copy.deepcopy(cert))
            )
        if announces_list and (license_section or not builder.group):
            builder.list_owner = "certificate"
        return
    if builder.section_kind == "notes":
        # Process notes mention degrees and experience ("proof of qualifying degree"); they
        # state no education or experience requirement of their own: the analyst reads them.
        wording = REQUIREMENT_WORDING.search(sentence) or UNVERIFIABLE.search(sentence)
        (builder.unparsed if wording else builder.notes).append(sentence)
        return
    if _CONDITIONAL.search(sentence) and re.search(
        r"\bsome\b|\bcertain\b|selected", sentence, re.I
    ):
        # "Some positions may require a master's degree": not a requirement of every
        # position, and not one a run setting can switch on; the analyst decides.
        builder.unparsed.append(sentence)
        return
    experience = experience_of(sentence, vocabulary)
    years_match = _YEARS.search(sentence)
    education_text = sentence[: years_match.start()] if experience and years_match else sentence
    education = education_of(education_text)
    if education is not None:
        education.clause = sentence

        def set_education(d: _Draft, e: EducationRequirement = education) -> None:
            d.education = _merge_education(d.education, copy.deepcopy(e))

        if experience and builder.pending_or:
            builder.new_group(f"pattern_{len(builder.drafts) + 1}")
        builder.place("education", set_education)
    if experience:
        role = builder.slot if builder.slot in ("general", "specific") else "experience"
        if len(experience) == 2:
            # One sentence names the total and the part of it ("six years, of which one").
            pairs = [("general_total", experience[0]), ("specific_part", experience[1])]
        else:
            pairs = [(role, experience[0])]

        def add_experience(
            d: _Draft, items: list[tuple[str, ExperienceRequirement]] = pairs
        ) -> None:
            for role, requirement in items:
                same = next(
                    (
                        e
                        for r, e in d.experience
                        if r == role
                        and e.years == requirement.years
                        and e.areas == requirement.areas
                    ),
                    None,
                )
                if same is not None:
                    # A requirement stated twice (a restatement) is one requirement.
                    same.clause += f" {requirement.clause}"
                else:
                    d.experience.append((role, copy.deepcopy(requirement)))

        builder.place(role, add_experience)
    part = _PART_OF_EXPERIENCE.match(sentence)
    if part is not None and any(d.experience for d in builder.group):
        specific = _experience(_years_of(part), part.group("rest"), sentence, vocabulary)
        if not specific.areas:
            last = next(d for d in reversed(builder.group) if d.experience).experience[-1][1]
            specific.areas = dict(last.areas)

        def add_part(d: _Draft, e: ExperienceRequirement = specific) -> None:
            d.experience.append(("specific_part", copy.deepcopy(e)))

        for draft in builder.group:
            if draft.experience:
                add_part(draft)
        return
    within = _WITHIN_ANY.search(sentence)
    if education is None and not experience and within and builder.group:
        years = int(_number(within.group("num")))
        role = "specific" if re.search(r"specific", sentence, re.I) else ""
        touched = False
        for draft in builder.group:
            for draft_role, requirement in draft.experience:
                if not role or draft_role == role:
                    requirement.within_years = years
                    requirement.clause += f" {sentence}"
                    touched = True
        if touched:
            return
    if education is None and not experience:
        if REQUIREMENT_WORDING.search(sentence) or UNVERIFIABLE.search(sentence):
            # Unverifiable requirements (UNVERIFIABLE) and anything not understood stay here.
            builder.unparsed.append(sentence)
        else:
            builder.notes.append(sentence)
    elif announces_list:
        builder.list_owner = "experience" if experience else "education"


def _merge_education(
    old: EducationRequirement | None, new: EducationRequirement
) -> EducationRequirement:
    """Two education sentences in one pattern both bind: the stricter level, every field."""
    if old is None:
        return new
    years = [y for y in (old.min_years, new.min_years) if y is not None]
    return EducationRequirement(
        id=old.id,
        min_level=max(old.min_level, new.min_level, key=lambda level: level.rank),
        fields=list(dict.fromkeys([*old.fields, *new.fields])),
        allow_related=old.allow_related or new.allow_related,
        accredited=old.accredited or new.accredited,
        min_years=max(years) if years else None,
        clause=f"{old.clause} {new.clause}",
    )


def _merge_certificate(certificates: list[Certificate], new: Certificate) -> None:
    for existing in certificates:
        if existing.id == new.id:
            existing.clause = f"{existing.clause} {new.clause}"
            return
    certificates.append(new)


def _merge_license(licenses: list[License], new: License) -> None:
    for existing in licenses:
        if existing.id == new.id and existing.applies == new.applies:
            existing.clause = f"{existing.clause} {new.clause}".strip()
            if new.enforce_at == "appointment":
                existing.enforce_at = "appointment"
            existing.license_class = existing.license_class or new.license_class
            return
    licenses.append(new)


def _finish_pattern(draft: _Draft, pattern_id: str, typical: str) -> Pattern:
    education = draft.education
    if education is not None:
        education = education.model_copy(update={"id": f"{pattern_id}.education"})
    roles = [r for r, _ in draft.experience]
    experience: list[ExperienceRequirement] = []
    general_years = sum(e.years for r, e in draft.experience if r == "general")
    specific = [e for r, e in draft.experience if r == "specific"]
    seen: dict[str, int] = {}
    whole: str | None = None  # the latest requirement a later part belongs to
    for role, requirement in draft.experience:
        if role in ("general_total", "specific_part"):
            name = "experience.general" if role == "general_total" else "experience.specific"
            seen[name] = seen.get(name, 0) + 1
            criterion_id = f"{pattern_id}.{name}" + (f"_{seen[name]}" if seen[name] > 1 else "")
            part_of = whole if role == "specific_part" else None
            if role == "general_total":
                whole = criterion_id
            experience.append(
                requirement.model_copy(update={"id": criterion_id, "part_of": part_of})
            )
            continue
        name = (
            "experience"
            if role == "experience" or roles.count(role) == len(roles) and role == "experience"
            else f"experience.{role}"
        )
        if "general" not in roles and role == "specific" and len(roles) == 1:
            name = "experience"
        seen[name] = seen.get(name, 0) + 1
        criterion_id = f"{pattern_id}.{name}" + (f"_{seen[name]}" if seen[name] > 1 else "")
        update: dict[str, object] = {"id": criterion_id}
        if role == "general":
            whole = criterion_id
        elif role == "specific" and whole is not None:
            update["part_of"] = whole
        if role == "general" and specific and general_years == requirement.years:
            # Separately stated general and specific experience add up; the general
            # requirement counts the whole span, in either kind of work.
            areas = dict(requirement.areas)
            for spec_req in specific:
                for area, words in spec_req.areas.items():
                    areas.setdefault(area, words)
            update["years"] = round(requirement.years + sum(s.years for s in specific), 2)
            update["areas"] = areas
        experience.append(requirement.model_copy(update=update))
    licenses = []
    for lic in draft.licenses:
        licenses.append(lic.model_copy(update={"id": f"{pattern_id}.{lic.id}"}))
    certificates = [c.model_copy(update={"id": f"{pattern_id}.{c.id}"}) for c in draft.certificates]
    return Pattern(
        id=pattern_id,
        clause=draft.clause or typical,
        education=education,
        experience=experience,
        licenses=licenses,
        certificates=certificates,
    )


def _combine_substitutions(
    items: list[Substitution], patterns: list[Pattern]
) -> Substitution | None:
    if not items:
        return None
    result = Substitution()
    clauses: list[str] = []
    interpretations: list[str] = []
    for item in items:
        result.experience_for_education |= item.experience_for_education
        result.education_for_experience |= item.education_for_experience
        result.discretionary |= item.discretionary
        if item.max_education_for_experience_years is not None:
            result.max_education_for_experience_years = item.max_education_for_experience_years
        if item.semester_units_per_year != 30:
            result.semester_units_per_year = item.semester_units_per_year
        if item.quarter_units_per_year != 45:
            result.quarter_units_per_year = item.quarter_units_per_year
        clauses.append(item.clause)
        if item.interpretation:
            interpretations.append(item.interpretation)
    result.clause = " ".join(clauses)
    result.interpretation = " ".join(dict.fromkeys(interpretations))
    if result.experience_for_education:
        years = {LEVEL_YEARS[p.education.min_level] for p in patterns if p.education is not None}
        if len(years) == 1:
            result.education_years = float(next(iter(years)))
    return result


def _unique_ids(
    patterns: list[Pattern], licenses: list[License], certificates: list[Certificate]
) -> tuple[list[Pattern], list[License], list[Certificate]]:
    """Give a repeated criterion id a numeric suffix: ids must name one criterion each."""
    seen: set[str] = set()

    def fresh(criterion_id: str) -> str:
        candidate, number = criterion_id, 1
        while candidate in seen:
            number += 1
            candidate = f"{criterion_id}_{number}"
        seen.add(candidate)
        return candidate

    result: list[Pattern] = []
    for pattern in patterns:
        education = pattern.education
        if education is not None:
            education = education.model_copy(update={"id": fresh(education.id)})
        result.append(
            pattern.model_copy(
                update={
                    "education": education,
                    "experience": [
                        e.model_copy(update={"id": fresh(e.id)}) for e in pattern.experience
                    ],
                    "licenses": [
                        lic.model_copy(update={"id": fresh(lic.id)}) for lic in pattern.licenses
                    ],
                    "certificates": [
                        c.model_copy(update={"id": fresh(c.id)}) for c in pattern.certificates
                    ],
                }
            )
        )
    return (
        result,
        [lic.model_copy(update={"id": fresh(lic.id)}) for lic in licenses],
        [c.model_copy(update={"id": fresh(c.id)}) for c in certificates],
    )


# --- the document -----------------------------------------------------------------------


@dataclass
class CompiledSpec:
    """A compiled JobSpec and the MQ sentences it read, for the never-drop check."""

    spec: JobSpec
    sentences: list[str]
    sections: list[Section]
    #: every item of every MQ section and where it went, in document order.
    placements: list[Placement] = field(default_factory=list)


#: where an item of an MQ section went: a criterion's clause, one of the spec's lists, or
#: the structure between requirements ("OR", "Option 2", "EDUCATION:").
Destination = Literal["criterion", "preferred", "notes", "unparsed", "structure"]


@dataclass(frozen=True)
class Placement:
    """One item of an MQ section (a sentence, a part of one, or a label) and where it went."""

    section: int
    paragraph: int
    text: str
    destination: Destination


def spec_clauses(spec: JobSpec) -> list[str]:
    """Every clause a compiled spec records: patterns, criteria, substitutions, credentials."""
    clauses: list[str] = []
    for pattern in spec.patterns:
        clauses.append(pattern.clause)
        if pattern.education:
            clauses.append(pattern.education.clause)
        clauses += [e.clause for e in pattern.experience]
        clauses += [lic.clause for lic in pattern.licenses]
        clauses += [c.clause for c in pattern.certificates]
        if pattern.substitution:
            clauses.append(pattern.substitution.clause)
    if spec.substitution:
        clauses.append(spec.substitution.clause)
    clauses += [lic.clause for lic in spec.licenses]
    clauses += [c.clause for c in spec.certificates]
    return clauses


def dropped_sentences(compiled: CompiledSpec) -> list[str]:
    """MQ sentences found neither in a clause nor in ``unparsed``, ``preferred`` or ``notes``
    (always empty unless a bug)."""
    clauses = spec_clauses(compiled.spec)
    unparsed = {*compiled.spec.unparsed, *compiled.spec.preferred, *compiled.spec.notes}
    return [
        sentence
        for sentence in compiled.sentences
        if sentence not in unparsed and not any(sentence in clause for clause in clauses)
    ]


def _title_code_agency(document: Document) -> tuple[str, str, str, str]:
    head = document.paragraphs[:25]
    code = ""
    agency = ""
    title = ""
    dates: list[datetime] = []
    for paragraph in head:
        code_match = re.search(
            r"\b(?:code|class)\s*(?:no\.?|number|code)?\s*[:#]?\s*([0-9][0-9A-Z-]{2,})\b",
            paragraph,
            re.I,
        )
        if code_match and not code:
            code = code_match.group(1)
        elif not code and re.fullmatch(r"\d[A-Z]\d\d", paragraph.strip()):
            code = paragraph.strip()
        agency_match = re.search(
            r"\b((?:City|County|State|Town)\s+(?:and\s+County\s+)?of\s+[A-Z][a-zA-Z]+(?:\s+[A-Z][a-zA-Z]+)?)",
            paragraph,
        )
        if agency_match and not agency:
            agency = agency_match.group(1)
        for d in re.findall(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b", paragraph):
            with contextlib.suppress(ValueError):
                dates.append(datetime(int(d[2]), int(d[0]), int(d[1])))
        letters = re.sub(r"[^A-Za-z]", "", paragraph)
        if (
            not title
            and letters.isupper()
            and len(letters) >= 5
            and not _is_noise(paragraph)
            and _heading_kind(paragraph) is None
            and not re.match(r"(?:PAY|CLASS|CODE|CITY|COUNTY)\b", paragraph)
        ):
            title = paragraph.strip()
    revision = max(dates).date().isoformat() if dates else ""
    return title, code, agency, revision


#: list markers of sub-items: letters, roman numerals, bullets.
_SUB_MARKERS = ("letter", "roman", "bullet")


def _paragraph_markers(items: list[Item]) -> dict[int, str]:
    """The kind of list marker each paragraph starts with: number, letter, roman, bullet."""
    kinds: dict[int, str] = {}
    for item in items:
        if item.paragraph in kinds:
            continue
        if item.label != "marker":
            kinds[item.paragraph] = ""
            continue
        mark = item.text.strip("().")
        if mark.isdigit():
            kinds[item.paragraph] = "number"
        elif re.fullmatch(r"[a-h]", mark, re.I):
            kinds[item.paragraph] = "letter"
        elif re.fullmatch(r"[ivx]{1,4}", mark, re.I):
            kinds[item.paragraph] = "roman"
        else:
            kinds[item.paragraph] = "bullet"
    return kinds


class NotASpecError(SpecError):
    """A document the compiler refuses: no MQ section, or no requirement it could read.

    Compiling it would give a spec that qualifies everyone, so none is written.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        #: "no_mq_section" or "no_requirement", for reports that count refusals apart.
        self.reason = reason


def compile_document_data(document: Document, vocabulary: Vocabulary) -> CompiledSpec:
    """Compile an already-read document into a JobSpec.

    Raises NotASpecError for a document with no minimum-qualification section (an agenda, a
    notice) or one whose patterns would state no requirement: never an empty spec.
    """
    sections = find_mq_sections(document.paragraphs)
    if not sections:
        raise NotASpecError(
            f"{document.name}: no minimum-qualification section found (no heading such as "
            "'Minimum Qualifications' and no sentence stating a degree or years of experience); "
            "it does not look like a class specification, so no rule file was written",
            "no_mq_section",
        )
    builder = _Builder(vocabulary=vocabulary)
    sentences: list[str] = []
    placements: list[Placement] = []
    for number, section in enumerate(sections):
        license_section = section.is_license_section
        builder.slot = "license" if license_section else ""
        builder.pending_or = False
        builder.common = None
        builder.section_kind = section.kind
        if section.alternative:
            _label(builder, "or")
        items = items_of(section)
        markers = _paragraph_markers(items)
        #: marker kind of the item whose sentence announced a list ("... experience in:")
        owner_kind: str | None = None
        #: the join after the last sub-item, which joins the items around the list
        held: Item | None = None
        for item in items:
            kind = markers.get(item.paragraph, "")
            sub_item = builder.list_owner and owner_kind is not None and kind in _SUB_MARKERS
            if sub_item and kind != owner_kind:
                # "a. ...; or b. ...": a sub-item lists areas of its item, not patterns
                if item.kind == "label":
                    if item.label in ("or", "and", "and_item"):
                        held = item
                    placements.append(Placement(number, item.paragraph, item.text, "structure"))
                    continue
                sentences.append(item.text)
                _extend_list(builder, item.text)
                placements.append(Placement(number, item.paragraph, item.text, "criterion"))
                held = None
                continue
            if held is not None:
                _label(builder, held.label)
                held = None
            if item.kind == "label":
                _label(builder, item.label)
                placements.append(Placement(number, item.paragraph, item.text, "structure"))
                continue
            sentences.append(item.text)
            before = (len(builder.unparsed), len(builder.preferred), len(builder.notes))
            owned = builder.list_owner
            _sentence(builder, item.text, license_section, item.continues)
            if builder.list_owner and builder.list_owner != owned:
                owner_kind = kind
            elif not builder.list_owner:
                owner_kind = None
            placements.append(
                Placement(number, item.paragraph, item.text, _destination(builder, before))
            )
    if builder.pending_note:
        builder.unparsed.append(builder.pending_note)
    drafts = [d for d in builder.drafts if not d.empty()]
    patterns: list[Pattern] = []
    used: set[str] = set()
    for number, draft in enumerate(drafts, start=1):
        if len(drafts) == 1 and builder.typical_clause and draft.key.startswith("pattern_"):
            pattern_id = "typical"
        elif draft.key.startswith("pattern_"):
            pattern_id = f"pattern_{number}"
        else:
            pattern_id = draft.key
        while pattern_id in used:
            pattern_id += "_2"
        used.add(pattern_id)
        patterns.append(_finish_pattern(draft, pattern_id, builder.typical_clause))
    # Nothing checked at screening (at most credentials verified at appointment): the
    # spec would qualify everyone, so it is refused -- the analyst writes it by hand.
    credentials: list[License | Certificate] = [*builder.licenses, *builder.certificates]
    screened_credentials = any(c.enforce_at == "screening" for c in credentials)
    if not patterns and not screened_credentials:
        raise NotASpecError(
            f"{document.name}: the minimum-qualification section states no education, "
            "experience, license or certificate requirement the compiler could read "
            f"({len(builder.unparsed)} unparsed sentence(s)); a spec without one would qualify "
            "everyone, so no rule file was written. Write the rule file by hand",
            "no_requirement",
        )
    if not patterns:
        # Only spec-wide licenses or certificates: one pattern that holds nothing else.
        patterns.append(
            Pattern(
                id="typical" if builder.typical_clause else "pattern_1",
                clause=builder.typical_clause,
            )
        )
    elif builder.typical_clause and not any(builder.typical_clause in p.clause for p in patterns):
        patterns[0] = patterns[0].model_copy(update={"clause": builder.typical_clause})
    patterns, licenses, certificates = _unique_ids(patterns, builder.licenses, builder.certificates)
    title, code, agency, revision = _title_code_agency(document)
    title = title or Path(document.name).stem
    title_case = title.title() if title.isupper() else title
    agency_word = agency.split()[-1].lower() if agency else ""
    spec_id = "-".join(
        p
        for p in (
            _slug(agency_word, "").replace("_", "-"),
            code.lower(),
            _slug(title, "").replace("_", "-"),
        )
        if p
    )
    spec = JobSpec(
        id=spec_id or "compiled-spec",
        title=title_case,
        class_code=code,
        agency=agency,
        revision=revision,
        vocabulary="vocabulary.yaml",
        patterns=patterns,
        substitution=_combine_substitutions(builder.substitutions, patterns),
        licenses=licenses,
        certificates=certificates,
        unparsed=builder.unparsed,
        preferred=builder.preferred,
        notes=builder.notes,
        removed=document.removed,
        provenance=Provenance(
            document=document.name,
            sha256=document.sha256,
            compiled=datetime.now(UTC).replace(microsecond=0).isoformat(),
            compiler_version=COMPILER_VERSION,
        ),
    )
    return CompiledSpec(spec=spec, sentences=sentences, sections=sections, placements=placements)


def _destination(builder: _Builder, before: tuple[int, int, int]) -> Destination:
    """Where the sentence just read went: the list that grew, else a criterion's clause."""
    unparsed, preferred, notes = before
    if len(builder.unparsed) > unparsed:
        return "unparsed"
    if len(builder.preferred) > preferred:
        return "preferred"
    if len(builder.notes) > notes:
        return "notes"
    return "criterion"


def default_vocabulary() -> Vocabulary:
    """The project's shared vocabulary (rules/vocabulary.yaml)."""
    return load_vocabulary(default_rules_dir() / "vocabulary.yaml")


def compile_document(path: str | Path, vocabulary: Vocabulary | None = None) -> CompiledSpec:
    """Read a class specification document and compile it into a draft JobSpec."""
    return compile_document_data(read_document(path), vocabulary or default_vocabulary())
