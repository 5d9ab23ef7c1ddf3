"""The rule compiler: a JobSpec becomes a durable_rules ruleset, as plain data.

Each criterion, pattern and the overall outcome get one rule per status, and the
conditions of one subject's rules exclude each other and together cover every fact, so
each applicant fact fires exactly one rule per subject. Conditions are built as a small
tree first; the same tree is written out as durable_rules JSON (what the engine runs) and
can be evaluated over a pandas DataFrame (the vectorised reference the benchmarks and
tests compare the engine with).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from screening import facts as F
from screening.results import Outcome, Status
from screening.spec import (
    LEVEL_YEARS,
    Certificate,
    EducationRequirement,
    ExperienceRequirement,
    JobSpec,
    License,
    Pattern,
)

Op = Literal[">=", "<", "==", "!="]
_NEGATED: dict[str, Op] = {">=": "<", "<": ">=", "==": "!=", "!=": "=="}
_DURABLE_OP = {">=": "$gte", "<": "$lt", "!=": "$neq"}


@dataclass(frozen=True)
class Compare:
    """`fact op value` or, with `minus`, `fact op value - other_fact`."""

    fact: str
    op: Op
    value: int
    minus: str | None = None


@dataclass(frozen=True)
class AllOf:
    """Every part holds (true when empty)."""

    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    """Some part holds (false when empty)."""

    parts: tuple[Condition, ...]


Condition = Compare | AllOf | AnyOf
TRUE: Condition = AllOf(())
FALSE: Condition = AnyOf(())


def all_of(*parts: Condition) -> Condition:
    """Conjunction, flattening nested conjunctions and dropping TRUE parts."""
    flat: list[Condition] = []
    for part in parts:
        if isinstance(part, AllOf):
            flat.extend(part.parts)
        else:
            flat.append(part)
    if any(p == FALSE for p in flat):
        return FALSE
    return flat[0] if len(flat) == 1 else AllOf(tuple(flat))


def any_of(*parts: Condition) -> Condition:
    """Disjunction, flattening nested disjunctions and dropping FALSE parts."""
    flat: list[Condition] = []
    for part in parts:
        if isinstance(part, AnyOf):
            flat.extend(part.parts)
        else:
            flat.append(part)
    if any(p == TRUE for p in flat):
        return TRUE
    return flat[0] if len(flat) == 1 else AnyOf(tuple(flat))


def negate(condition: Condition) -> Condition:
    """The complement of a condition (De Morgan; comparisons flip)."""
    if isinstance(condition, Compare):
        return Compare(condition.fact, _NEGATED[condition.op], condition.value, condition.minus)
    if isinstance(condition, AllOf):
        return any_of(*(negate(p) for p in condition.parts))
    return all_of(*(negate(p) for p in condition.parts))


def to_durable(condition: Condition) -> dict[str, Any]:
    """A condition as durable_rules JSON."""
    if isinstance(condition, Compare):
        operand: Any = condition.value
        if condition.minus is not None:
            operand = {"$sub": {"$l": condition.value, "$r": {"$m": condition.minus}}}
        if condition.op == "==":
            return {condition.fact: operand}
        return {_DURABLE_OP[condition.op]: {condition.fact: operand}}
    if isinstance(condition, AllOf):
        if not condition.parts:
            return {"$ex": {F.KEY: 1}}
        return {"$and": [to_durable(p) for p in condition.parts]}
    if not condition.parts:
        return {"$nex": {F.KEY: 1}}
    return {"$or": [to_durable(p) for p in condition.parts]}


def evaluate_frame(
    condition: Condition, frame: pd.DataFrame
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Evaluate a condition over every row of a facts DataFrame at once."""
    n = len(frame)
    if isinstance(condition, Compare):
        left = frame[condition.fact].to_numpy(dtype=np.int64)
        right: Any = condition.value
        if condition.minus is not None:
            right = condition.value - frame[condition.minus].to_numpy(dtype=np.int64)
        if condition.op == ">=":
            return np.asarray(left >= right)
        if condition.op == "<":
            return np.asarray(left < right)
        if condition.op == "==":
            return np.asarray(left == right)
        return np.asarray(left != right)
    if isinstance(condition, AllOf):
        result = np.ones(n, dtype=bool)
        for part in condition.parts:
            result &= evaluate_frame(part, frame)
        return result
    result = np.zeros(n, dtype=bool)
    for part in condition.parts:
        result |= evaluate_frame(part, frame)
    return result


SubjectKind = Literal["criterion", "pattern", "outcome", "decision"]


@dataclass(frozen=True)
class Rule:
    """One rule: when `condition` holds, `subject` gets `status`.

    A joint rule (kind "decision") decides every subject at once: `assigns` lists each
    criterion's, pattern's and the outcome's status, and `status` is the outcome.
    """

    name: str
    kind: SubjectKind
    subject: str
    status: str
    condition: Condition
    assigns: tuple[tuple[str, str], ...] = ()

    def assignments(self) -> tuple[tuple[str, str], ...]:
        """Every (subject, status) this rule sets when it fires."""
        return self.assigns or ((self.subject, self.status),)


def subject_kind(subject: str) -> SubjectKind:
    """Whether a subject is the outcome, a pattern or a criterion."""
    if subject == OUTCOME_SUBJECT:
        return "outcome"
    return "pattern" if subject.startswith("pattern.") else "criterion"


@dataclass(frozen=True)
class CompiledRuleset:
    """A spec compiled to rules; `definition` is the durable_rules ruleset without actions."""

    name: str
    sha256: str
    rules: tuple[Rule, ...]
    definition: dict[str, Any]
    fact_names: tuple[str, ...]
    #: Per fact compared only by order: the largest threshold any rule compares it with.
    #: Values above it decide nothing more, so applicants may be grouped on clipped facts.
    clip_limits: tuple[tuple[str, int], ...] = ()

    def subjects(self, kind: SubjectKind | None = None) -> list[str]:
        """Subjects the rules decide (criteria, patterns, outcome), in rule order."""
        seen: dict[str, None] = {}
        for rule in self.rules:
            for subject, _ in rule.assignments():
                seen.setdefault(subject, None)
        return [s for s in seen if kind is None or subject_kind(s) == kind]

    def to_json(self) -> str:
        """The ruleset as indented JSON, for display and storage."""
        return json.dumps({self.name: self.definition}, indent=2, sort_keys=True)


def _decision_list(
    kind: SubjectKind, subject: str, branches: Sequence[tuple[str, Condition]], otherwise: str
) -> list[Rule]:
    """Rules for an if / elif / else: each branch excludes the ones before it."""
    rules: list[Rule] = []
    earlier: list[Condition] = []
    for status, condition in branches:
        rules.append(
            Rule(f"{subject}:{status}", kind, subject, status, all_of(*earlier, condition))
        )
        earlier.append(negate(condition))
    rules.append(Rule(f"{subject}:{otherwise}", kind, subject, otherwise, all_of(*earlier)))
    return rules


@dataclass(frozen=True)
class _Criterion:
    rules: list[Rule]
    passes_certainly: Condition
    passes_possibly: Condition


def _at_least(fact: str, threshold: int) -> Condition:
    return Compare(fact, ">=", threshold)


def _experience(
    req: ExperienceRequirement, full_time_hours: int, education_counts: bool = False
) -> _Criterion:
    needed = F.credit_for_years(req.years_fraction, full_time_hours)
    if education_counts:
        # education beyond the required level stands in for part of the experience
        certain: Condition = Compare(
            F.experience_certain(req.id), ">=", needed, F.education_for_experience_certain(req.id)
        )
        possible: Condition = Compare(
            F.experience_possible(req.id),
            ">=",
            needed,
            F.education_for_experience_possible(req.id),
        )
    else:
        certain = _at_least(F.experience_certain(req.id), needed)
        possible = _at_least(F.experience_possible(req.id), needed)
    rules = _decision_list(
        "criterion",
        req.id,
        [(Status.met.value, certain), (Status.review.value, possible)],
        Status.not_met.value,
    )
    return _Criterion(rules, certain, possible)


def _education(req: EducationRequirement, pattern: Pattern, spec: JobSpec) -> _Criterion:
    level = req.min_level.rank
    met_certain = _at_least(F.education_level_certain(req.id), level)
    met_possible = _at_least(F.education_level_possible(req.id), level)
    if req.min_years is not None:
        years_needed = F.credit_for_years(req.min_years, spec.full_time_hours)
        met_certain = all_of(
            met_certain, _at_least(F.education_years_certain(req.id), years_needed)
        )
        met_possible = all_of(
            met_possible, _at_least(F.education_years_possible(req.id), years_needed)
        )
    substitution = spec.substitution_for(pattern)
    substituted_certain = FALSE
    substituted_possible = FALSE
    if substitution is not None and substitution.experience_for_education and pattern.experience:
        first = pattern.experience[0]
        education_years = (
            substitution.education_years
            if substitution.education_years is not None
            else LEVEL_YEARS[req.min_level]
        )
        # experience + credited education (capped at the required years by the evidence
        # stage) must reach the experience years plus the education years.
        total = F.credit_for_years(first.years_fraction, spec.full_time_hours) + F.credit_for_years(
            education_years, spec.full_time_hours
        )
        substituted_certain = Compare(
            F.experience_certain(first.id), ">=", total, F.education_substitution_certain(req.id)
        )
        substituted_possible = Compare(
            F.experience_possible(first.id), ">=", total, F.education_substitution_possible(req.id)
        )
    branches: list[tuple[str, Condition]] = [(Status.met.value, met_certain)]
    if substituted_certain != FALSE:
        branches.append((Status.substituted.value, substituted_certain))
    branches.append((Status.review.value, any_of(met_possible, substituted_possible)))
    rules = _decision_list("criterion", req.id, branches, Status.not_met.value)
    return _Criterion(
        rules,
        any_of(met_certain, substituted_certain),
        any_of(met_possible, substituted_possible),
    )


def _applies(item: License | Certificate) -> Condition:
    if item.applies == "always":
        return TRUE
    if item.applies == "position_requires":
        return Compare(F.position_requires(item.id), "==", 1)
    return Compare(F.REQUIRES_DRIVING, "==", 1)


def _held_requirement(item: License | Certificate, code_fact: str) -> _Criterion:
    applies = _applies(item)
    not_applicable = negate(applies)
    if item.enforce_at == "appointment":
        rules = _decision_list(
            "criterion",
            item.id,
            [(Status.not_applicable.value, not_applicable)],
            Status.condition.value,
        )
        return _Criterion(rules, TRUE, TRUE)
    held = Compare(code_fact, "==", F.HELD)
    unknown = Compare(code_fact, "==", F.UNKNOWN)
    rules = _decision_list(
        "criterion",
        item.id,
        [
            (Status.not_applicable.value, not_applicable),
            (Status.met.value, held),
            (Status.review.value, unknown),
        ],
        Status.not_met.value,
    )
    return _Criterion(
        rules,
        any_of(not_applicable, held),
        any_of(not_applicable, Compare(code_fact, "!=", F.NOT_HELD)),
    )


def _license(item: License) -> _Criterion:
    return _held_requirement(item, F.license_code(item.id))


def _certificate(item: Certificate) -> _Criterion:
    return _held_requirement(item, F.certificate_code(item.id))


PATTERN_HOLDS = "holds"
PATTERN_POSSIBLE = "possible"
PATTERN_FAILS = "fails"
OUTCOME_SUBJECT = "outcome"


def _discretionary(spec: JobSpec) -> bool:
    return any(
        s is not None and s.discretionary
        for s in [spec.substitution, *(p.substitution for p in spec.patterns)]
    )


def _pattern_criteria(spec: JobSpec, pattern: Pattern) -> list[_Criterion]:
    criteria: list[_Criterion] = []
    if pattern.education is not None:
        criteria.append(_education(pattern.education, pattern, spec))
    criteria += _experiences(spec, pattern)
    criteria += [_license(lic) for lic in pattern.licenses]
    criteria += [_certificate(c) for c in pattern.certificates]
    return criteria


def _experiences(spec: JobSpec, pattern: Pattern) -> list[_Criterion]:
    substitution = spec.substitution_for(pattern)
    education_counts = substitution is not None and substitution.education_for_experience
    return [
        _experience(e, spec.full_time_hours, education_counts and index == 0)
        for index, e in enumerate(pattern.experience)
    ]


_PASSING = {
    Status.met.value,
    Status.substituted.value,
    Status.condition.value,
    Status.not_applicable.value,
}

#: Above this many status combinations the compiler writes one rule per subject instead.
MAX_JOINT_RULES = 256


def build_joint_rules(spec: JobSpec) -> list[Rule] | None:
    """One rule per combination of criterion statuses, each deciding everything at once.

    Every fact then fires exactly one rule (instead of one per criterion, pattern and
    outcome), which is what makes the engine fast. The pattern and outcome a combination
    leads to are worked out here, at compile time, and written into the rule. None when
    the combinations are too many.
    """
    spec_wide = [_license(lic) for lic in spec.licenses] + [
        _certificate(c) for c in spec.certificates
    ]
    per_pattern = [(p.id, _pattern_criteria(spec, p)) for p in spec.patterns]
    criteria = [c for _, cs in per_pattern for c in cs] + spec_wide
    combinations = 1
    for criterion in criteria:
        combinations *= len(criterion.rules)
    if combinations > MAX_JOINT_RULES:
        return None
    discretionary = _discretionary(spec)
    rules: list[Rule] = []
    for combination in itertools.product(*(c.rules for c in criteria)):
        status_of = {r.subject: r.status for r in combination}
        condition = all_of(*(r.condition for r in combination))
        wide = [status_of[c.rules[0].subject] for c in spec_wide]
        pattern_status: dict[str, str] = {}
        for pattern_id, pattern_criteria in per_pattern:
            own = [status_of[c.rules[0].subject] for c in pattern_criteria] + wide
            if all(s in _PASSING for s in own):
                pattern_status[f"pattern.{pattern_id}"] = PATTERN_HOLDS
            elif all(s in _PASSING or s == Status.review.value for s in own):
                pattern_status[f"pattern.{pattern_id}"] = PATTERN_POSSIBLE
            else:
                pattern_status[f"pattern.{pattern_id}"] = PATTERN_FAILS
        statuses = set(pattern_status.values())
        if PATTERN_HOLDS in statuses:
            outcomes = [(Outcome.qualified.value, TRUE)]
        elif PATTERN_POSSIBLE in statuses:
            outcomes = [(Outcome.needs_review.value, TRUE)]
        elif discretionary:
            # an agency that may accept "any equivalent combination" decides such cases itself
            outcomes = [
                (Outcome.not_qualified.value, Compare(F.ANY_EVIDENCE, "==", 0)),
                (Outcome.needs_review.value, Compare(F.ANY_EVIDENCE, "!=", 0)),
            ]
        else:
            outcomes = [(Outcome.not_qualified.value, TRUE)]
        for outcome, extra in outcomes:
            label = ", ".join(f"{subject}={status}" for subject, status in status_of.items())
            if extra != TRUE:
                label += ", any_evidence=" + (
                    "no" if outcome == Outcome.not_qualified.value else "yes"
                )
            rules.append(
                Rule(
                    name=f"{label} -> {outcome}",
                    kind="decision",
                    subject="decision",
                    status=outcome,
                    condition=all_of(condition, extra),
                    assigns=(
                        *status_of.items(),
                        *pattern_status.items(),
                        (OUTCOME_SUBJECT, outcome),
                    ),
                )
            )
    return rules


def build_rules(spec: JobSpec) -> list[Rule]:
    """One rule per status of each criterion, pattern and the overall outcome."""
    spec_wide = [_license(lic) for lic in spec.licenses] + [
        _certificate(c) for c in spec.certificates
    ]
    criterion_rules: list[Rule] = []
    pattern_rules: list[Rule] = []
    holds: list[Condition] = []
    possible: list[Condition] = []
    for pattern in spec.patterns:
        criteria: list[_Criterion] = []
        if pattern.education is not None:
            criteria.append(_education(pattern.education, pattern, spec))
        criteria += _experiences(spec, pattern)
        criteria += [_license(lic) for lic in pattern.licenses]
        criteria += [_certificate(c) for c in pattern.certificates]
        for criterion in criteria:
            criterion_rules += criterion.rules
        everything = criteria + spec_wide
        pattern_holds = all_of(*(c.passes_certainly for c in everything))
        pattern_possible = all_of(*(c.passes_possibly for c in everything))
        pattern_rules += _decision_list(
            "pattern",
            f"pattern.{pattern.id}",
            [(PATTERN_HOLDS, pattern_holds), (PATTERN_POSSIBLE, pattern_possible)],
            PATTERN_FAILS,
        )
        holds.append(pattern_holds)
        possible.append(pattern_possible)
    for criterion in spec_wide:
        criterion_rules += criterion.rules
    qualified = any_of(*holds)
    rejected = all_of(*(negate(p) for p in possible))
    if _discretionary(spec):
        # an agency that may accept "any equivalent combination" decides such cases itself
        rejected = all_of(rejected, Compare(F.ANY_EVIDENCE, "==", 0))
    outcome_rules = _decision_list(
        "outcome",
        OUTCOME_SUBJECT,
        [(Outcome.qualified.value, qualified), (Outcome.not_qualified.value, rejected)],
        Outcome.needs_review.value,
    )
    return criterion_rules + pattern_rules + outcome_rules


#: Facts per action call: durable_rules hands an action up to this many matching facts.
ACTION_BATCH = 1000


def referenced_facts(rules: Sequence[Rule]) -> set[str]:
    """Facts that some rule's condition reads."""
    found: set[str] = set()
    stack: list[Condition] = [r.condition for r in rules]
    while stack:
        condition = stack.pop()
        if isinstance(condition, Compare):
            found.add(condition.fact)
            if condition.minus is not None:
                found.add(condition.minus)
        else:
            stack.extend(condition.parts)
    return found


def compile_spec(spec: JobSpec, *, joint: bool = True) -> CompiledRuleset:
    """Compile a spec to its durable_rules ruleset (conditions only; actions are bound later).

    With `joint` (the default) each combination of criterion statuses is one rule when
    there are few enough combinations; otherwise each criterion, pattern and the outcome
    has its own rules. Only the facts the rules read are sent to the engine.
    """
    joint_rules = build_joint_rules(spec) if joint else None
    rules = joint_rules if joint_rules is not None else build_rules(spec)
    used = referenced_facts(rules)
    fact_names = [F.KEY] + [n for n in F.fact_names(spec) if n in used and n != F.KEY]
    guard = {"$ex": {F.KEY: 1}}
    definition: dict[str, Any] = {}
    for rule in rules:
        parts = rule.condition.parts if isinstance(rule.condition, AllOf) else (rule.condition,)
        definition[rule.name] = {
            "all": [{"m": {"$and": [guard, *(to_durable(p) for p in parts)]}}],
            "cap": ACTION_BATCH,
        }
    digest = hashlib.sha256(json.dumps(definition, sort_keys=True).encode("utf-8")).hexdigest()
    return CompiledRuleset(
        name=f"mq_{digest[:16]}",
        sha256=digest,
        rules=tuple(rules),
        definition=definition,
        fact_names=tuple(fact_names),
        clip_limits=tuple(sorted(_clip_limits(rules).items())),
    )


def _clip_limits(rules: Sequence[Rule]) -> dict[str, int]:
    """For facts only ever compared as `fact >= c` / `fact < c` (c possibly minus another
    non-negative fact), the largest such c: any value at or above it compares the same."""
    limits: dict[str, int] = {}
    compared_for_equality: set[str] = set()
    stack: list[Condition] = [r.condition for r in rules]
    while stack:
        condition = stack.pop()
        if isinstance(condition, Compare):
            if condition.op in ("==", "!="):
                compared_for_equality.add(condition.fact)
            else:
                limits[condition.fact] = max(limits.get(condition.fact, 0), condition.value)
            if condition.minus is not None:
                # the subtracted fact is only ever subtracted: it cannot be clipped
                compared_for_equality.add(condition.minus)
        else:
            stack.extend(condition.parts)
    return {k: v for k, v in limits.items() if k not in compared_for_equality}
