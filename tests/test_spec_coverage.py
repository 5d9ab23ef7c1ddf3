"""Every sentence of every MQ section of both reference corpora ends up in exactly one place.

A compiled spec is a draft an analyst reviews, so nothing a document requires may be
hidden: each character of an MQ section is in a label (the structure: "OR", "Option 2") or
in a sentence, and each sentence is in exactly one of a criterion's clause, ``preferred``,
``notes`` or ``unparsed``. A sentence that states a requirement (a degree, years, a license
or certificate, "must", "required") without preferred wording never goes to ``notes`` or
``preferred``. The corpora are read at run time from the shared inputs beside the
repository; without them the test skips, except under CI, where their absence fails it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from screening.spec import JobSpec
from screening.speccompiler import (
    CompiledSpec,
    NotASpecError,
    compile_document,
    default_vocabulary,
)
from tests.conftest import shared_input

CORPORA = {
    "philadelphia": "corpus/philadelphia",
    "multi-agency": "corpus/multi-agency/specs",
}
VOCABULARY = default_vocabulary()

_REQUIREMENT = re.compile(
    r"\b(?:degrees?|diplomas?|years?|months?|licen[cs]\w*|certificates?|certification"
    r"|must|required)\b",
    re.IGNORECASE,
)
_PREFERRED = re.compile(
    r"\b(?:pref+er+ed|desirable|desired|a\s+plus|ideal\s+candidate|highly\s+desir\w*)\b",
    re.IGNORECASE,
)


def _letters(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _documents(corpus: str) -> list[Path]:
    folder = shared_input(CORPORA[corpus])
    return sorted(p for p in folder.iterdir() if p.suffix in (".htm", ".html", ".txt"))


def _clauses_by_kind(spec: JobSpec) -> list[tuple[str, str]]:
    clauses: list[tuple[str, str]] = []
    for pattern in spec.patterns:
        clauses.append(("pattern", pattern.clause))
        if pattern.education:
            clauses.append(("education", pattern.education.clause))
        clauses += [("experience", e.clause) for e in pattern.experience]
        clauses += [("license", lic.clause) for lic in pattern.licenses]
        clauses += [("certificate", c.clause) for c in pattern.certificates]
        if pattern.substitution:
            clauses.append(("substitution", pattern.substitution.clause))
    if spec.substitution:
        clauses.append(("substitution", spec.substitution.clause))
    clauses += [("license", lic.clause) for lic in spec.licenses]
    clauses += [("certificate", c.clause) for c in spec.certificates]
    return clauses


def coverage_problems(compiled: CompiledSpec) -> list[str]:
    """What breaks the one-place rule in a compiled document (empty when it holds)."""
    spec = compiled.spec
    problems: list[str] = []
    lists = {"preferred": spec.preferred, "notes": spec.notes, "unparsed": spec.unparsed}
    clauses = _clauses_by_kind(spec)
    for number, section in enumerate(compiled.sections):
        for index, paragraph in enumerate(section.paragraphs):
            placed = [
                p for p in compiled.placements if p.section == number and p.paragraph == index
            ]
            covered = "".join(_letters(p.text) for p in placed)
            if covered != _letters(paragraph):
                problems.append(f"paragraph not covered exactly once: {paragraph[:80]!r}")
        if section.kind == "preferred":
            continue
    document = " ".join(p for section in compiled.sections for p in section.paragraphs)
    for placement in compiled.placements:
        text = placement.text
        if placement.destination == "structure":
            if len(text.split()) > 12:
                problems.append(f"a sentence read as a label: {text[:80]!r}")
            continue
        in_lists = [name for name, items in lists.items() if text in items]
        kinds = {kind for kind, clause in clauses if text in clause}
        # A short item ("CHEMISTRY", "Level I") may recur elsewhere in longer text; only a
        # whole sentence found in two places is a sentence placed twice.
        # Text the document itself repeats cannot be told apart from a sentence placed twice.
        sentence_like = len(text.split()) >= 4 and document.count(text) == 1
        whole_in = {kind for kind, clause in clauses if sentence_like and text in clause}
        if placement.destination == "criterion":
            if not kinds:
                problems.append(f"sentence in no clause: {text[:80]!r}")
            if in_lists and sentence_like:
                problems.append(f"sentence in a clause and in {in_lists}: {text[:80]!r}")
            if sentence_like and len(kinds - {"pattern"}) > 1:
                problems.append(f"sentence in clauses of {sorted(kinds)}: {text[:80]!r}")
        else:
            if in_lists != [placement.destination]:
                problems.append(f"sentence in {in_lists}, not {placement.destination}: {text!r}")
            if whole_in - {"pattern"}:
                problems.append(f"{placement.destination} sentence also in a clause: {text!r}")
            section = compiled.sections[placement.section]
            preferred_wording = _PREFERRED.search(text) or section.kind == "preferred"
            if (
                placement.destination in ("notes", "preferred")
                and _REQUIREMENT.search(text)
                and not preferred_wording
            ):
                problems.append(f"a requirement in {placement.destination}: {text[:80]!r}")
    return problems


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_every_mq_sentence_of_every_document_is_in_exactly_one_place(corpus: str) -> None:
    failures: dict[str, list[str]] = {}
    compiled_count = 0
    for path in _documents(corpus):
        try:
            compiled = compile_document(path, VOCABULARY)
        except NotASpecError:
            continue
        compiled_count += 1
        problems = coverage_problems(compiled)
        if problems:
            failures[path.name] = problems
    assert compiled_count > 0
    assert not failures, "\n".join(f"{name}: {p[:3]}" for name, p in list(failures.items())[:15])
