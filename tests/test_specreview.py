"""Reviewing a compiled draft: corrections, the reviewed mark, revisions never overwritten."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from screening.documents import read_document_bytes
from screening.run.stages import check_screenable
from screening.spec import JobSpec, Level, SpecError, load_spec
from screening.speccompiler import compile_document_data, default_vocabulary
from screening.specreview import corrected_spec, edit_of, mark_reviewed, save_revision

DRAFT = """MINIMUM QUALIFICATIONS
1. A bachelor's degree in accounting and two years of experience in auditing; or
2. Six years of experience in auditing.
A valid driver's license is required.
Applicants must be able to juggle.
"""


def _draft() -> JobSpec:
    document = read_document_bytes(DRAFT.encode("utf-8"), "auditor.txt")
    return compile_document_data(document, default_vocabulary()).spec


def test_an_unchanged_edit_gives_the_same_requirements() -> None:
    draft = _draft()
    assert [p.id for p in draft.patterns] == ["pattern_1", "pattern_2"]
    assert corrected_spec(draft, edit_of(draft)).sha256() == draft.sha256()


def test_corrections_change_levels_fields_years_areas_and_credentials() -> None:
    draft = _draft()
    edit = edit_of(draft)
    first, second = edit.patterns
    first.level, first.fields = Level.master, ["Accounting", " finance "]
    first.experience[0].years, first.experience[0].areas = 3, ["auditing", "tax"]
    second.level = Level.high_school
    edit.licenses = [False]
    spec = corrected_spec(draft, edit)
    one, two = spec.patterns
    assert one.education is not None and one.education.min_level == Level.master
    assert one.education.fields == ["accounting", "finance"]
    assert (one.experience[0].years, list(one.experience[0].areas)) == (3, ["auditing", "tax"])
    assert two.education is not None and two.education.min_level == Level.high_school
    assert two.education.clause == "(education requirement set on review)"
    assert spec.licenses == []


def test_a_correction_that_leaves_no_requirement_is_refused() -> None:
    draft = _draft()
    edit = edit_of(draft)
    for pattern in edit.patterns:
        pattern.keep = False
    with pytest.raises(SpecError, match="no requirement left"):
        corrected_spec(draft, edit)


def test_a_reviewed_revision_screens_and_is_never_overwritten(tmp_path: Path) -> None:
    draft = _draft()
    assert draft.unparsed
    with pytest.raises(SpecError, match="has not been reviewed"):
        check_screenable(draft, "auditor.txt")
    with pytest.raises(SpecError, match="needs a name"):
        mark_reviewed(draft, "  ")
    reviewed = mark_reviewed(draft, "A. Analyst", datetime(2026, 12, 1, 9, 30, tzinfo=UTC))
    assert reviewed.reviewed is not None
    assert (reviewed.reviewed.by, reviewed.reviewed.at) == (
        "A. Analyst",
        "2026-12-01T09:30:00+00:00",
    )
    check_screenable(reviewed, "auditor.txt")
    with ThreadPoolExecutor(4) as pool:
        paths = list(pool.map(lambda _: save_revision(reviewed, tmp_path), range(8)))
    assert len(set(paths)) == 8
    revisions = sorted(load_spec(p).revision for p in paths)
    assert revisions == sorted(f"draft+reviewed.{n}" for n in range(1, 9))
    again = load_spec(paths[0])
    assert again.reviewed == reviewed.reviewed
    # the saved file names its vocabulary relative to itself, so it loads anywhere
    assert (tmp_path / again.vocabulary).resolve().is_file()
