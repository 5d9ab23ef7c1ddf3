"""What changed between two revisions of a JobSpec, in plain words.

An HR auditor comparing two revisions of a class specification wants sentences such as
"Pattern 'typical', education: field 'economics' added" or "License 'ca_drivers_license'
made conditional: now required only for positions that require driving", not a YAML diff.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from screening.spec import (
    Certificate,
    EducationRequirement,
    ExperienceRequirement,
    JobSpec,
    License,
    Pattern,
    Substitution,
)

_LEVEL_WORDS = {
    "none": "no education",
    "high_school": "high school",
    "associate": "an associate's degree",
    "bachelor": "a bachelor's degree",
    "master": "a master's degree",
    "doctorate": "a doctorate",
}


def _years(value: float | None) -> str:
    if value is None:
        return "none"
    text = f"{value:g}"
    return f"{text} year" if value == 1 else f"{text} years"


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _list_changes(where: str, what: str, old: Sequence[str], new: Sequence[str]) -> list[str]:
    changes = [f"{where}: {what} '{item}' added" for item in new if item not in old]
    changes += [f"{where}: {what} '{item}' removed" for item in old if item not in new]
    return changes


def _education_changes(
    where: str, old: EducationRequirement | None, new: EducationRequirement | None
) -> list[str]:
    if old is None and new is None:
        return []
    if old is None:
        assert new is not None
        return [f"{where}: requirement added ({_LEVEL_WORDS[new.min_level.value]})"]
    if new is None:
        return [f"{where}: requirement removed"]
    changes: list[str] = []
    if old.min_level != new.min_level:
        direction = "raised" if new.min_level.rank > old.min_level.rank else "lowered"
        changes.append(
            f"{where}: level {direction} from {_LEVEL_WORDS[old.min_level.value]} "
            f"to {_LEVEL_WORDS[new.min_level.value]}"
        )
    changes += _list_changes(where, "field", old.fields, new.fields)
    if old.allow_related != new.allow_related:
        changes.append(
            f"{where}: related fields "
            + ("now accepted" if new.allow_related else "no longer accepted")
        )
    if old.accredited != new.accredited:
        changes.append(
            f"{where}: accreditation "
            + ("now required" if new.accredited else "no longer required")
        )
    if old.min_years != new.min_years:
        changes.append(
            f"{where}: years of college changed from {_years(old.min_years)} "
            f"to {_years(new.min_years)}"
        )
    return changes


def _experience_changes(
    where: str, old: ExperienceRequirement, new: ExperienceRequirement
) -> list[str]:
    changes: list[str] = []
    if old.years != new.years:
        changes.append(f"{where}: years changed from {_years(old.years)} to {_years(new.years)}")
    changes += _list_changes(where, "area", list(old.areas), list(new.areas))
    for area in set(old.areas) & set(new.areas):
        changes += _list_changes(
            f"{where}, area '{area}'", "keyword", old.areas[area], new.areas[area]
        )
    changes += _list_changes(where, "industry", old.industries, new.industries)
    if old.allow_related_industries != new.allow_related_industries:
        changes.append(
            f"{where}: related industries "
            + ("now accepted" if new.allow_related_industries else "no longer accepted")
        )
    if old.professional != new.professional:
        changes.append(
            f"{where}: professional experience "
            + ("now required" if new.professional else "no longer required")
        )
    if old.within_years != new.within_years:
        if new.within_years is None:
            changes.append(f"{where}: recency window of {_years(old.within_years)} removed")
        elif old.within_years is None:
            changes.append(
                f"{where}: experience must now be within the last {_years(new.within_years)}"
            )
        else:
            changes.append(
                f"{where}: recency window changed from {_years(old.within_years)} "
                f"to {_years(new.within_years)}"
            )
    if old.area_industries != new.area_industries:
        changes.append(f"{where}: industries per area changed")
    return changes


def _substitution_changes(
    where: str, old: Substitution | None, new: Substitution | None
) -> list[str]:
    if old is None and new is None:
        return []
    if old is None:
        return [f"{where}: substitution clause added"]
    if new is None:
        return [f"{where}: substitution clause removed"]
    changes: list[str] = []
    flags = [
        ("experience_for_education", "experience may substitute for education"),
        ("education_for_experience", "education may substitute for experience"),
        ("discretionary", "discretionary equivalency (sent to review)"),
    ]
    for name, words in flags:
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            changes.append(f"{where}: {words}: {_yes_no(before)} -> {_yes_no(after)}")
    for name, words in [
        ("education_years", "education years"),
        ("max_education_for_experience_years", "most experience education may replace"),
        ("semester_units_per_year", "semester units per year"),
        ("quarter_units_per_year", "quarter units per year"),
    ]:
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            changes.append(f"{where}: {words} changed from {before} to {after}")
    return changes


def _applies_words(value: str, condition: str = "") -> str:
    if value == "position_requires_driving":
        return "required only for positions that require driving"
    if value == "position_requires":
        return f"required only for positions that require '{condition}'"
    return "required for every position"


def _credential_changes(
    where: str, old: License | Certificate, new: License | Certificate
) -> list[str]:
    changes: list[str] = []
    if isinstance(old, License) and isinstance(new, License):
        for name, words in [("kind", "kind"), ("state", "state"), ("license_class", "class")]:
            before, after = getattr(old, name), getattr(new, name)
            if before != after:
                changes.append(f"{where}: {words} changed from {before} to {after}")
    if isinstance(old, Certificate) and isinstance(new, Certificate):
        if old.name != new.name:
            changes.append(f"{where}: name changed from '{old.name}' to '{new.name}'")
        changes += _list_changes(where, "alias", old.aliases, new.aliases)
    if (old.applies, old.condition) != (new.applies, new.condition):
        verb = "made conditional" if new.applies != "always" else "made unconditional"
        changes.append(f"{where}: {verb}: now {_applies_words(new.applies, new.condition)}")
    if old.enforce_at != new.enforce_at:
        changes.append(f"{where}: now checked at {new.enforce_at} instead of at {old.enforce_at}")
    return changes


def _keyed_changes(
    where: str,
    noun: str,
    old: Sequence[Any],
    new: Sequence[Any],
    compare: Callable[[str, Any, Any], list[str]],
) -> list[str]:
    old_by_id = {item.id: item for item in old}
    new_by_id = {item.id: item for item in new}
    changes: list[str] = []
    for item_id in new_by_id:
        if item_id not in old_by_id:
            changes.append(f"{where}{noun} '{item_id}' added")
    for item_id in old_by_id:
        if item_id not in new_by_id:
            changes.append(f"{where}{noun} '{item_id}' removed")
        else:
            changes += compare(f"{where}{noun} '{item_id}'", old_by_id[item_id], new_by_id[item_id])
    return changes


def _pattern_changes(where: str, old: Pattern, new: Pattern) -> list[str]:
    changes = _education_changes(f"{where}, education", old.education, new.education)
    changes += _keyed_changes(
        f"{where}, ", "experience", old.experience, new.experience, _experience_changes
    )
    changes += _substitution_changes(where, old.substitution, new.substitution)
    changes += _keyed_changes(
        f"{where}, ", "license", old.licenses, new.licenses, _credential_changes
    )
    changes += _keyed_changes(
        f"{where}, ", "certificate", old.certificates, new.certificates, _credential_changes
    )
    return changes


def diff_specs(old: JobSpec, new: JobSpec) -> list[str]:
    """Plain-language sentences naming every change in the requirements from old to new."""
    changes: list[str] = []
    fields = ("id", "title", "class_code", "agency", "revision", "full_time_hours", "vocabulary")
    for name in fields:
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            changes.append(f"{name.replace('_', ' ')} changed from '{before}' to '{after}'")
    changes += _keyed_changes("", "Pattern", old.patterns, new.patterns, _pattern_changes)
    changes += _substitution_changes("Spec", old.substitution, new.substitution)
    changes += _keyed_changes("", "License", old.licenses, new.licenses, _credential_changes)
    changes += _keyed_changes(
        "", "Certificate", old.certificates, new.certificates, _credential_changes
    )
    changes += [f"unparsed sentence added: {s}" for s in new.unparsed if s not in old.unparsed]
    changes += [f"unparsed sentence resolved: {s}" for s in old.unparsed if s not in new.unparsed]
    return changes
