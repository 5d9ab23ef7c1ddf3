"""Reviewing a compiled draft: corrections, the reviewed mark and saving a new revision.

An analyst reads the document beside the draft the compiler made of it, corrects what it
got wrong (patterns, education levels and fields, years, areas, licenses and
certificates), marks it reviewed and saves it as a new revision. A revision is never
overwritten: each save creates a new file, allocated exclusively, so two analysts saving
at once get two revisions. A reviewed spec with unparsed sentences may screen; an
unreviewed one may not (see ``pipeline.check_screenable``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from screening.spec import (
    JobSpec,
    Level,
    Reviewed,
    SpecError,
    dump_spec,
    spec_from_data,
)
from screening.vocabulary import default_rules_dir

#: Most revisions of one spec tried before giving up (a folder that full is a mistake).
MAX_REVISIONS = 10_000


@dataclass
class ExperienceEdit:
    """An experience requirement as corrected: its years and its areas."""

    years: float
    areas: list[str]


@dataclass
class PatternEdit:
    """One pattern as corrected; `keep` False removes it (a merged alternative's leftover)."""

    keep: bool = True
    #: None: the pattern states no education requirement.
    level: Level | None = None
    fields: list[str] = field(default_factory=list)
    experience: list[ExperienceEdit] = field(default_factory=list)
    #: per license / certificate of the pattern, in order: still required?
    licenses: list[bool] = field(default_factory=list)
    certificates: list[bool] = field(default_factory=list)


@dataclass
class SpecEdit:
    """Every correction of a draft: one edit per pattern, and the spec-wide credentials."""

    patterns: list[PatternEdit]
    licenses: list[bool] = field(default_factory=list)
    certificates: list[bool] = field(default_factory=list)


def edit_of(spec: JobSpec) -> SpecEdit:
    """The edit that changes nothing: the form's starting values."""
    return SpecEdit(
        patterns=[
            PatternEdit(
                keep=True,
                level=p.education.min_level if p.education else None,
                fields=list(p.education.fields) if p.education else [],
                experience=[ExperienceEdit(e.years, list(e.areas)) for e in p.experience],
                licenses=[True] * len(p.licenses),
                certificates=[True] * len(p.certificates),
            )
            for p in spec.patterns
        ],
        licenses=[True] * len(spec.licenses),
        certificates=[True] * len(spec.certificates),
    )


def corrected_spec(spec: JobSpec, edit: SpecEdit) -> JobSpec:
    """The draft with the analyst's corrections (SpecError when they leave no requirement).

    A corrected education level keeps the clause it came from; a pattern without education
    that is given a level gets a new education criterion whose clause says it was set on
    review.
    """
    if len(edit.patterns) != len(spec.patterns):
        raise SpecError(f"{len(edit.patterns)} pattern edit(s) for {len(spec.patterns)} pattern(s)")
    data = spec.model_dump(mode="json", by_alias=True)
    patterns = []
    for pattern, change in zip(data["patterns"], edit.patterns, strict=True):
        if not change.keep:
            continue
        if change.level is None:
            pattern["education"] = None
        else:
            education = pattern["education"] or {
                "id": f"{pattern['id']}.education",
                "clause": "(education requirement set on review)",
            }
            education["min_level"] = change.level.value
            education["fields"] = [f.strip().lower() for f in change.fields if f.strip()]
            pattern["education"] = education
        for requirement, fixed in zip(pattern["experience"], change.experience, strict=True):
            requirement["years"] = fixed.years
            areas = [a.strip().lower() for a in fixed.areas if a.strip()]
            requirement["areas"] = {a: requirement["areas"].get(a, []) for a in areas}
        pattern["licenses"] = _kept(pattern["licenses"], change.licenses)
        pattern["certificates"] = _kept(pattern["certificates"], change.certificates)
        patterns.append(pattern)
    data["patterns"] = patterns
    data["licenses"] = _kept(data["licenses"], edit.licenses)
    data["certificates"] = _kept(data["certificates"], edit.certificates)
    corrected = spec_from_data(data, f"corrected {spec.id}") if patterns else None
    if corrected is None or not _states_a_requirement(corrected):
        raise SpecError(
            "the corrected spec has no requirement left (every pattern removed or emptied); "
            "a spec without one would qualify everyone. Keep at least one requirement"
        )
    return corrected


def _kept(items: list[dict[str, object]], keep: list[bool]) -> list[dict[str, object]]:
    return [item for item, kept in zip(items, keep, strict=True) if kept]


def _states_a_requirement(spec: JobSpec) -> bool:
    return bool(spec.licenses or spec.certificates) or any(
        p.education or p.experience or p.licenses or p.certificates for p in spec.patterns
    )


def mark_reviewed(spec: JobSpec, by: str, at: datetime | None = None) -> JobSpec:
    """The spec marked reviewed by `by` (a name or e-mail address) at `at` (now in UTC)."""
    if not by.strip():
        raise SpecError("say who reviewed the draft: the reviewed mark needs a name")
    moment = (at or datetime.now(UTC)).replace(microsecond=0).isoformat()
    return spec.model_copy(update={"reviewed": Reviewed(by=by.strip(), at=moment)})


def save_revision(spec: JobSpec, folder: str | Path, vocabulary: str | Path | None = None) -> Path:
    """Write the spec as a new revision file in `folder` and return its path.

    The revision is the draft's with "+reviewed.N" (N counting up from 1); its file is
    created exclusively, so an existing revision is never overwritten, even by another
    save at the same moment. The spec names its vocabulary relative to the new file.
    """
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    vocabulary_path = Path(vocabulary or default_rules_dir() / "vocabulary.yaml").resolve()
    relative = Path(os.path.relpath(vocabulary_path, target.resolve())).as_posix()
    base = re.sub(r"\+reviewed\.\d+$", "", spec.revision) or "draft"
    for number in range(1, MAX_REVISIONS + 1):
        revision = f"{base}+reviewed.{number}"
        name = re.sub(r"[^\w.+-]+", "_", f"{spec.id}-{revision}") + ".yaml"
        path = target / name
        numbered = spec.model_copy(update={"revision": revision, "vocabulary": relative})
        try:
            with path.open("x", encoding="utf-8") as handle:
                handle.write(dump_spec(numbered))
        except FileExistsError:
            continue
        return path
    raise SpecError(f"{target}: {MAX_REVISIONS} revisions of {spec.id} already; clear the folder")
