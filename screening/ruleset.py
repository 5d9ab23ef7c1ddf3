"""The rule compiler: a JobSpec becomes a layered durable_rules ruleset, as plain data.

The ruleset is a set of small decisions, each with one rule per status whose conditions
exclude each other and together cover every input. A criterion's decision reads the
applicant facts of that criterion; a pattern's decision reads the grades (pass, review,
fail) its criteria's decisions gave; the outcome's decision reads the patterns' grades.
The engine evaluates the decisions layer by layer, so the ruleset grows with the spec
(a few rules per criterion and pattern), never with the product of their statuses. A
decision that would read more inputs than one rule handles well is split into parts.

Conditions are built as a small tree first; the same tree is written out as
durable_rules JSON (what the engine runs) and can be evaluated over a pandas DataFrame
(the vectorised reference the benchmarks and tests compare the engine with).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
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
    SpecError,
    check_every_pattern_requires,
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
            return {"$ex": {NODE_FIELD: 1}}
        return {"$and": [to_durable(p) for p in condition.parts]}
    if not condition.parts:
        return {"$nex": {NODE_FIELD: 1}}
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


SubjectKind = Literal["criterion", "pattern", "outcome", "part"]

#: The field of every engine fact that names the decision it is an input of; every rule
#: requires it, which also keeps the engine's own state fact out of every rule.
NODE_FIELD = "n"


@dataclass(frozen=True)
class Rule:
    """One rule: when `condition` holds, `subject` gets `status`."""

    name: str
    kind: SubjectKind
    subject: str
    status: str
    condition: Condition


def grade_field(position: int) -> str:
    """The fact field of a decision's `position`-th grade input."""
    return f"g{position}"


@dataclass(frozen=True)
class Node:
    """One decision: its rules give `subject` exactly one status for every input.

    A node reads the applicant facts in `facts` (by their names) and the grades of the
    earlier decisions in `grades` (the i-th as field `grade_field(i)`).
    """

    index: int
    subject: str
    kind: SubjectKind
    rules: tuple[Rule, ...]
    facts: tuple[str, ...] = ()
    grades: tuple[str, ...] = ()

    def fields(self) -> list[str]:
        """The fact fields this decision's rules read, in input order."""
        return [*self.facts, *(grade_field(i) for i in range(len(self.grades)))]


PATTERN_HOLDS = "holds"
PATTERN_POSSIBLE = "possible"
PATTERN_FAILS = "fails"
OUTCOME_SUBJECT = "outcome"

#: Grades a status hands to the decisions that read it: passes, needs review, fails.
PASSES = 2
REVIEW = 1
FAILS = 0
GRADE: dict[str, int] = {
    Status.met.value: PASSES,
    Status.substituted.value: PASSES,
    Status.condition.value: PASSES,
    Status.not_applicable.value: PASSES,
    Status.review.value: REVIEW,
    Status.not_met.value: FAILS,
    PATTERN_HOLDS: PASSES,
    PATTERN_POSSIBLE: REVIEW,
    PATTERN_FAILS: FAILS,
}


@dataclass(frozen=True)
class CompiledRuleset:
    """A spec compiled to decisions; `definition` is the durable_rules ruleset without
    actions."""

    name: str
    sha256: str
    nodes: tuple[Node, ...]
    definition: dict[str, Any]
    fact_names: tuple[str, ...]
    #: Per fact compared only by order: the largest threshold any rule compares it with.
    #: Values above it decide nothing more, so applicants may be grouped on clipped facts.
    clip_limits: tuple[tuple[str, int], ...] = ()

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Every rule, decision by decision."""
        return tuple(rule for node in self.nodes for rule in node.rules)

    def subjects(self, kind: SubjectKind | None = None) -> list[str]:
        """Subjects decided (criteria, patterns, outcome; parts only when asked for)."""
        return [
            n.subject
            for n in self.nodes
            if (n.kind == kind if kind is not None else n.kind != "part")
        ]

    def layers(self) -> list[list[Node]]:
        """The decisions in evaluation order: each layer reads only earlier layers."""
        depth: dict[str, int] = {}
        layers: list[list[Node]] = []
        for node in self.nodes:
            level = max((depth[g] + 1 for g in node.grades), default=0)
            depth[node.subject] = level
            while len(layers) <= level:
                layers.append([])
            layers[level].append(node)
        return layers

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


#: Grade inputs one decision reads at most; a pattern with more criteria (or a spec with
#: more patterns) is decided in parts. Conditions over this many inputs stay well inside
#: the engine's expression limit (measured: nested conditions fail from about 14 parts).
MAX_NODE_INPUTS = 8
#: Decisions one ruleset holds at most: every rule starts with the decision's number and
#: the engine's index of one field's values has 512 slots (measured: registering hangs
#: with about 550 distinct values).
MAX_NODES = 400
#: Largest threshold a rule may compare with: the engine compares 64-bit integers.
MAX_THRESHOLD = 2**62


def _equal_all(fields: Sequence[str], grade: int) -> Condition:
    return all_of(*(Compare(f, "==", grade) for f in fields))


def _equal_any(fields: Sequence[str], grade: int) -> Condition:
    return any_of(*(Compare(f, "==", grade) for f in fields))


def _at_least_all(fields: Sequence[str], grade: int) -> Condition:
    return all_of(*(Compare(f, ">=", grade) for f in fields))


def _at_least_any(fields: Sequence[str], grade: int) -> Condition:
    return any_of(*(Compare(f, ">=", grade) for f in fields))


def _weakest(kind: SubjectKind, subject: str, count: int) -> list[Rule]:
    """A pattern (or part of one): holds when every input passes, possible when every
    input at least needs review, fails otherwise."""
    fields = [grade_field(i) for i in range(count)]
    return _decision_list(
        kind,
        subject,
        [
            (PATTERN_HOLDS, _equal_all(fields, PASSES)),
            (PATTERN_POSSIBLE, _at_least_all(fields, REVIEW)),
        ],
        PATTERN_FAILS,
    )


def _strongest(subject: str, count: int) -> list[Rule]:
    """Part of the outcome: holds when some pattern holds, possible when some pattern is
    possible, fails otherwise."""
    fields = [grade_field(i) for i in range(count)]
    return _decision_list(
        "part",
        subject,
        [
            (PATTERN_HOLDS, _equal_any(fields, PASSES)),
            (PATTERN_POSSIBLE, _at_least_any(fields, REVIEW)),
        ],
        PATTERN_FAILS,
    )


def _outcome(count: int, discretionary: bool) -> list[Rule]:
    fields = [grade_field(i) for i in range(count)]
    rejected = all_of(*(Compare(f, "<", REVIEW) for f in fields))
    if discretionary:
        # an agency that may accept "any equivalent combination" decides such cases itself
        rejected = all_of(rejected, Compare(F.ANY_EVIDENCE, "==", 0))
    return _decision_list(
        "outcome",
        OUTCOME_SUBJECT,
        [
            (Outcome.qualified.value, _equal_any(fields, PASSES)),
            (Outcome.not_qualified.value, rejected),
        ],
        Outcome.needs_review.value,
    )


class _Builder:
    """Collects decisions in evaluation order."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []

    def add(
        self,
        subject: str,
        kind: SubjectKind,
        rules: Sequence[Rule],
        grades: Sequence[str] = (),
        extra_facts: Sequence[str] = (),
    ) -> str:
        read = referenced_facts(rules)
        grade_fields = {grade_field(i) for i in range(len(grades))}
        facts = [*(f for f in sorted(read - grade_fields) if f not in extra_facts), *extra_facts]
        self.nodes.append(
            Node(len(self.nodes), subject, kind, tuple(rules), tuple(facts), tuple(grades))
        )
        return subject

    def reduce(
        self,
        subject: str,
        inputs: Sequence[str],
        make: Callable[[str, int], list[Rule]],
    ) -> list[str]:
        """Inputs grouped into parts of at most MAX_NODE_INPUTS, until few enough are left."""
        level = 0
        while len(inputs) > MAX_NODE_INPUTS:
            level += 1
            parts: list[str] = []
            for start in range(0, len(inputs), MAX_NODE_INPUTS):
                group = inputs[start : start + MAX_NODE_INPUTS]
                part = f"{subject}/part{level}.{start // MAX_NODE_INPUTS + 1}"
                parts.append(self.add(part, "part", make(part, len(group)), group))
            inputs = parts
        return list(inputs)


def build_nodes(spec: JobSpec) -> list[Node]:
    """The spec's decisions: criteria first, then patterns (and their parts), then the
    outcome (and its parts)."""
    builder = _Builder()
    wide = [_license(lic) for lic in spec.licenses] + [_certificate(c) for c in spec.certificates]
    per_pattern = [(p, _pattern_criteria(spec, p)) for p in spec.patterns]
    for _, criteria in per_pattern:
        for criterion in criteria:
            builder.add(criterion.rules[0].subject, "criterion", criterion.rules)
    for criterion in wide:
        builder.add(criterion.rules[0].subject, "criterion", criterion.rules)
    wide_subjects = [c.rules[0].subject for c in wide]
    patterns: list[str] = []
    for pattern, criteria in per_pattern:
        subject = f"pattern.{pattern.id}"
        inputs = builder.reduce(
            subject,
            [c.rules[0].subject for c in criteria] + wide_subjects,
            lambda part, count: _weakest("part", part, count),
        )
        patterns.append(
            builder.add(subject, "pattern", _weakest("pattern", subject, len(inputs)), inputs)
        )
    inputs = builder.reduce(OUTCOME_SUBJECT, patterns, _strongest)
    discretionary = _discretionary(spec)
    builder.add(
        OUTCOME_SUBJECT,
        "outcome",
        _outcome(len(inputs), discretionary),
        inputs,
        extra_facts=[F.ANY_EVIDENCE] if discretionary else [],
    )
    return builder.nodes


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


class RulesetLimitError(SpecError):
    """A spec the rule engine cannot run; the message names the spec, the criterion and
    the limit."""


def _check_limits(spec: JobSpec, nodes: Sequence[Node]) -> None:
    """Refuse, at compile time, a spec that would exceed what the engine takes."""
    if len(nodes) > MAX_NODES:
        crossing = nodes[MAX_NODES]
        raise RulesetLimitError(
            f"spec {spec.id!r}: too many decisions for the rule engine at {crossing.subject!r}: "
            f"{len(nodes)} criteria, patterns and parts, the limit is {MAX_NODES}; "
            "split the spec into smaller ones"
        )
    for node in nodes:
        for rule in node.rules:
            stack: list[Condition] = [rule.condition]
            while stack:
                condition = stack.pop()
                if isinstance(condition, Compare):
                    if abs(condition.value) > MAX_THRESHOLD:
                        raise RulesetLimitError(
                            f"spec {spec.id!r}: criterion {node.subject!r} needs a threshold "
                            f"of {condition.value} credit units, beyond the rule engine's "
                            f"limit of {MAX_THRESHOLD}; check the years it requires"
                        )
                else:
                    stack.extend(condition.parts)


def compile_spec(spec: JobSpec) -> CompiledRuleset:
    """Compile a spec to its durable_rules ruleset (conditions only; actions are bound later).

    Raises SpecError for a spec with no pattern or a pattern that requires nothing, and
    RulesetLimitError when the spec exceeds a limit of the rule engine.
    """
    check_every_pattern_requires(spec)
    nodes = build_nodes(spec)
    _check_limits(spec, nodes)
    used = {f for node in nodes for f in node.facts}
    fact_names = [F.KEY] + [n for n in F.fact_names(spec) if n in used and n != F.KEY]
    definition: dict[str, Any] = {}
    for node in nodes:
        for rule in node.rules:
            condition = rule.condition
            parts = condition.parts if isinstance(condition, AllOf) else (condition,)
            definition[rule.name] = {
                "all": [{"m": {"$and": [{NODE_FIELD: node.index}, *map(to_durable, parts)]}}],
                "cap": ACTION_BATCH,
            }
    wiring = [[node.subject, list(node.facts), list(node.grades)] for node in nodes]
    digest = hashlib.sha256(
        json.dumps({"rules": definition, "inputs": wiring}, sort_keys=True).encode("utf-8")
    ).hexdigest()
    return CompiledRuleset(
        name=f"mq_{digest[:16]}",
        sha256=digest,
        nodes=tuple(nodes),
        definition=definition,
        fact_names=tuple(fact_names),
        clip_limits=tuple(sorted(_clip_limits([r for n in nodes for r in n.rules]).items())),
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
