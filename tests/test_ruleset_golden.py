"""The compiled Account Manager ruleset as a golden file, and the shape of every ruleset.

Run with UPDATE_GOLDEN=1 to rewrite the golden file after an intended change to the
compiler or the spec; review the diff like any other change of decisions.
"""

from __future__ import annotations

import itertools
import json
import os
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screening import facts as F
from screening.ruleset import (
    AllOf,
    AnyOf,
    Compare,
    CompiledRuleset,
    Condition,
    Node,
    compile_spec,
    evaluate_frame,
)
from screening.spec import JobSpec, load_spec, spec_from_data
from tests.builders import ALAMEDA

GOLDEN = Path(__file__).resolve().parent / "golden" / "alameda-7616-ruleset.json"

#: A spec that uses every rule shape: two patterns, min_years, a pattern's own
#: substitution, discretionary equivalency, licenses and certificates at screening and at
#: appointment, pattern-only and spec-wide.
EVERY_SHAPE = yaml.safe_load("""
id: every-shape
title: Every rule shape
substitution: {experience_for_education: true, education_years: 4, discretionary: true}
patterns:
  - id: a
    education: {id: a.education, min_level: bachelor, min_years: 4, fields: [economics]}
    experience:
      - {id: a.experience, years: 2.5, areas: {account management: []}}
      - {id: a.extra, years: 1, areas: {project management: []}}
    certificates:
      - {id: a.cert, name: Project Management Professional}
  - id: b
    substitution: {experience_for_education: true, education_years: 2}
    education: {id: b.education, min_level: associate}
    experience:
      - {id: b.experience, years: 5, areas: {account management: []}}
    licenses:
      - {id: b.license, kind: driver's license, state: CA, enforce_at: screening,
         applies: position_requires_driving}
licenses:
  - {id: license, kind: driver's license, state: CA, enforce_at: appointment,
     applies: position_requires_driving}
certificates:
  - {id: cert, name: Certified Energy Manager, enforce_at: screening}
""")


def alameda() -> JobSpec:
    return load_spec(ALAMEDA)


def test_compiled_ruleset_matches_the_golden_file() -> None:
    compiled = compile_spec(alameda())
    text = compiled.to_json() + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    assert GOLDEN.exists(), "golden file missing: run the tests with UPDATE_GOLDEN=1 once"
    assert text == GOLDEN.read_text(encoding="utf-8"), (
        "the compiled ruleset changed; if intended, rerun with UPDATE_GOLDEN=1 and review the diff"
    )


def test_ruleset_name_is_its_hash_and_compiling_is_deterministic() -> None:
    first = compile_spec(alameda())
    second = compile_spec(alameda())
    assert first.sha256 == second.sha256
    assert first.name == f"mq_{first.sha256[:16]}"
    assert json.loads(first.to_json()) == {first.name: first.definition}
    assert set(first.definition) == {rule.name for rule in first.rules}


def test_a_spec_change_changes_the_ruleset_name() -> None:
    spec = alameda()
    changed = spec.model_copy(deep=True)
    changed.patterns[0].experience[0].years = 4
    assert compile_spec(changed).name != compile_spec(spec).name


def _thresholds(condition: Condition, found: dict[str, set[int]]) -> None:
    if isinstance(condition, Compare):
        found[condition.fact].add(condition.value)
        if condition.minus is not None:
            found[condition.minus].add(0)
    elif isinstance(condition, AllOf | AnyOf):
        for part in condition.parts:
            _thresholds(part, found)


def _fact_strategy(compiled: CompiledRuleset) -> st.SearchStrategy[pd.DataFrame]:
    """Fact frames whose values sit on, just below and just above every threshold."""
    found: dict[str, set[int]] = defaultdict(set)
    for rule in compiled.rules:
        _thresholds(rule.condition, found)
    columns = {}
    for name in compiled.fact_names:
        if name == F.KEY:
            continue
        near = sorted({v + d for v in found.get(name, {0}) for d in (-1, 0, 1)} | {0, 1, 2})
        columns[name] = st.one_of(
            st.sampled_from(near),
            st.integers(min_value=0, max_value=20 * F.year_credit(40)),
            st.just(F.UNBOUNDED),
        )
    rows = st.fixed_dictionaries(columns)
    return st.lists(rows, min_size=1, max_size=40).map(
        lambda records: pd.DataFrame(records).assign(**{F.KEY: lambda f: np.arange(len(f))})
    )


COMPILED = {
    "alameda": compile_spec(load_spec(ALAMEDA)),
    "every-shape": compile_spec(spec_from_data(EVERY_SHAPE)),
}


def _grade_frame(node: Node) -> pd.DataFrame:
    """Every combination of a decision's grade inputs (and of 0 / 1 for its own facts)."""
    fields = node.fields()
    levels = [(0, 1) if f in node.facts else (0, 1, 2) for f in fields]
    return pd.DataFrame(list(itertools.product(*levels)), columns=fields)


@pytest.mark.parametrize("which", sorted(COMPILED))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_each_subject_has_exactly_one_rule_holding(which: str, data: st.DataObject) -> None:
    compiled = COMPILED[which]
    frame = data.draw(_fact_strategy(compiled))
    assert compiled.nodes, "no decisions"
    for node in compiled.nodes:
        inputs = _grade_frame(node) if node.grades else frame
        count = sum(evaluate_frame(r.condition, inputs).astype(np.int64) for r in node.rules)
        assert (count == 1).all(), f"{node.subject}: {count.tolist()} rules hold instead of 1"


def test_every_criterion_pattern_and_the_outcome_have_rules() -> None:
    compiled = COMPILED["every-shape"]
    spec = spec_from_data(EVERY_SHAPE)
    assert compiled.subjects("criterion") == [
        "a.education", "a.experience", "a.extra", "a.cert",
        "b.education", "b.experience", "b.license", "license", "cert",
    ]  # fmt: skip
    assert set(compiled.subjects("criterion")) == set(spec.criterion_ids())
    assert compiled.subjects("pattern") == ["pattern.a", "pattern.b"]
    assert compiled.subjects("outcome") == ["outcome"]
