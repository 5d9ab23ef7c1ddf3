"""The durable_rules wrapper: none of the engine's traps may reach a user."""

from __future__ import annotations

import dataclasses
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screening import engine
from screening import facts as F
from screening.engine import EngineError, evaluate, evaluate_vectorised, register
from screening.ruleset import CompiledRuleset, compile_spec
from screening.spec import load_spec
from tests.builders import ALAMEDA
from tests.test_ruleset_golden import COMPILED, _fact_strategy

ALAMEDA_RULES = compile_spec(load_spec(ALAMEDA))


def random_facts(compiled: CompiledRuleset, count: int, seed: int) -> pd.DataFrame:
    """Random facts around the Account Manager thresholds (3 and 7 years, bachelor)."""
    rng = np.random.default_rng(seed)
    year = F.year_credit(40)
    columns: dict[str, Any] = {F.KEY: np.arange(count)}
    for name in compiled.fact_names:
        if name == F.KEY:
            continue
        if name.endswith(("__level_certain", "__level_possible")):
            columns[name] = rng.integers(0, 6, count)
        elif name.endswith("__held"):
            columns[name] = rng.integers(0, 3, count)
        elif name in (F.REQUIRES_DRIVING, F.ANY_EVIDENCE):
            columns[name] = rng.integers(0, 2, count)
        else:
            columns[name] = rng.integers(0, 8 * year, count)
    return pd.DataFrame(columns)


def as_lists(statuses: dict[str, np.ndarray[Any, Any]]) -> dict[str, list[Any]]:
    return {subject: column.tolist() for subject, column in statuses.items()}


def test_registering_the_same_ruleset_twice_is_harmless() -> None:
    register(ALAMEDA_RULES)
    register(ALAMEDA_RULES)
    again = compile_spec(load_spec(ALAMEDA))  # a new object with the same name
    register(again)
    facts = random_facts(ALAMEDA_RULES, 50, seed=1)
    first = evaluate(ALAMEDA_RULES, facts)
    second = evaluate(again, facts)
    assert as_lists(first.statuses) == as_lists(second.statuses)
    assert all(None not in column for column in as_lists(second.statuses).values())


def test_evaluating_from_several_threads_gives_the_sequential_results() -> None:
    frames = [random_facts(ALAMEDA_RULES, 300, seed=s) for s in range(8)]
    sequential = [as_lists(evaluate(ALAMEDA_RULES, f).statuses) for f in frames]
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(lambda f: as_lists(evaluate(ALAMEDA_RULES, f).statuses), frames))
    assert threaded == sequential


def test_more_facts_than_one_batch_all_get_statuses() -> None:
    count = 5 * engine.BATCH_SIZE
    facts = random_facts(ALAMEDA_RULES, count, seed=2)
    result = evaluate(ALAMEDA_RULES, facts)
    expected = evaluate_vectorised(ALAMEDA_RULES, facts)
    for subject, column in result.statuses.items():
        assert len(column) == count
        assert not pd.isna(column).any(), f"{subject}: some facts got no status"
    assert as_lists(result.statuses) == as_lists(expected.statuses)
    # every subject of the ruleset got statuses
    assert set(result.statuses) == set(ALAMEDA_RULES.subjects())


def test_an_exception_inside_an_action_surfaces_as_engine_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def failing_action(binding: Any, rule_index: int) -> Any:
        def action(c: Any) -> None:
            raise RuntimeError("boom in action")

        return action

    # a ruleset registered only here, so the failing actions are bound to it alone
    spec = load_spec(ALAMEDA).model_copy(update={"id": "action-failure-probe"}, deep=True)
    spec.patterns[0].experience[0].years = 11
    compiled = compile_spec(spec)
    monkeypatch.setattr(engine, "_make_action", failing_action)
    with pytest.raises(EngineError):
        evaluate(compiled, random_facts(compiled, 5, seed=3))


def test_facts_missing_a_rule_input_surface_as_engine_error() -> None:
    spec = load_spec(ALAMEDA)
    spec.patterns[0].experience[0].years = 12
    compiled = compile_spec(spec)
    frame = random_facts(compiled, 5, seed=4)
    credit = F.experience_certain("typical.experience")
    with pytest.raises(EngineError, match="missing"):
        evaluate(compiled, frame.drop(columns=[credit]))


def without_rules(compiled: CompiledRuleset, dropped: set[str], suffix: str) -> CompiledRuleset:
    """The ruleset with some rules left out, registered under its own name."""
    assert dropped <= {rule.name for rule in compiled.rules}
    nodes = tuple(
        dataclasses.replace(n, rules=tuple(r for r in n.rules if r.name not in dropped))
        for n in compiled.nodes
    )
    return dataclasses.replace(
        compiled,
        name=compiled.name + suffix,
        nodes=nodes,
        definition={k: v for k, v in compiled.definition.items() if k not in dropped},
    )


def test_a_fact_no_criterion_rule_handles_surfaces_as_engine_error() -> None:
    spec = load_spec(ALAMEDA)
    spec.patterns[0].experience[0].years = 13
    # without its not_met rule, a short experience fact matches none of the subject's rules
    broken = without_rules(compile_spec(spec), {"typical.experience:not_met"}, "_broken")
    with pytest.raises(EngineError, match="matched no rule"):
        evaluate(broken, random_facts(broken, 20, seed=5))


def test_a_fact_no_outcome_rule_handles_surfaces_as_engine_error() -> None:
    spec = load_spec(ALAMEDA)
    spec.patterns[0].experience[0].years = 17
    full = compile_spec(spec)
    facts = random_facts(full, 200, seed=6)
    fired = evaluate_vectorised(full, facts).statuses["outcome"]
    assert fired.tolist().count("not_qualified") > 0
    broken = without_rules(full, {"outcome:not_qualified"}, "_broken_outcome")
    with pytest.raises(EngineError, match="matched no rule"):
        evaluate(broken, facts)


@pytest.mark.parametrize("which", sorted(COMPILED))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_durable_and_vectorised_evaluation_agree(which: str, data: st.DataObject) -> None:
    compiled = COMPILED[which]
    frame = data.draw(_fact_strategy(compiled))
    durable = evaluate(compiled, frame)
    vectorised = evaluate_vectorised(compiled, frame)
    assert as_lists(durable.statuses) == as_lists(vectorised.statuses)


def test_a_host_in_another_process_decides_exactly_as_this_one() -> None:
    """A run spreads a large batch over worker processes, each with its own host (the
    engine has no pool of its own); the decisions must not change."""
    facts = random_facts(ALAMEDA_RULES, 3_000, seed=11)
    single = evaluate(ALAMEDA_RULES, facts)
    halves = [facts.iloc[:1_500], facts.iloc[1_500:]]
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        parts = list(pool.map(evaluate, [ALAMEDA_RULES] * 2, halves))
    parallel = {
        subject: np.concatenate([part.statuses[subject] for part in parts])
        for subject in parts[0].statuses
    }
    assert as_lists(parallel) == as_lists(single.statuses)
    assert as_lists(parallel) == as_lists(evaluate_vectorised(ALAMEDA_RULES, facts).statuses)


def test_the_engine_evaluates_in_this_process_and_starts_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    facts = random_facts(ALAMEDA_RULES, 3_000, seed=12)
    expected = as_lists(evaluate_vectorised(ALAMEDA_RULES, facts).statuses)
    # each evaluation asks the engine afresh (not what this process remembers)
    monkeypatch.setattr(engine, "MEMO_LIMIT", 0)
    before = multiprocessing.active_children()
    assert as_lists(evaluate(ALAMEDA_RULES, facts).statuses) == expected
    assert multiprocessing.active_children() == before


def test_decisions_split_into_parts_agree_with_their_criteria() -> None:
    """Ten patterns of ten criteria each: patterns and the outcome are decided in parts
    (more than eight inputs); the result must be what the criteria's statuses say."""
    from screening.ruleset import MAX_NODE_INPUTS
    from screening.spec import spec_from_data

    patterns = [
        {
            "id": f"p{p}",
            "experience": [
                {"id": f"p{p}.e{e}", "years": 1 + (p + e) % 4, "areas": {"payroll": []}}
                for e in range(10)
            ],
        }
        for p in range(10)
    ]
    spec = spec_from_data({"id": "parts", "title": "Parts", "patterns": patterns})
    compiled = compile_spec(spec)
    assert any(n.kind == "part" for n in compiled.nodes)
    assert all(len(n.grades) <= MAX_NODE_INPUTS for n in compiled.nodes)
    year = F.year_credit(40)
    rng = np.random.default_rng(21)
    count = 400
    columns: dict[str, Any] = {F.KEY: np.arange(count)}
    for p in range(10):
        for e in range(10):
            certain = rng.choice([0, 1, 2, 4], count, p=[0.1, 0.1, 0.2, 0.6]) * year
            columns[F.experience_certain(f"p{p}.e{e}")] = certain
            columns[F.experience_possible(f"p{p}.e{e}")] = (
                certain + rng.integers(0, 2, count) * year
            )
    facts = pd.DataFrame(columns)
    durable = evaluate(compiled, facts).statuses
    assert as_lists(durable) == as_lists(evaluate_vectorised(compiled, facts).statuses)
    assert len(set(durable["outcome"].tolist())) == 3, "the facts should reach every outcome"
    grade = {"met": 2, "review": 1, "not_met": 0}
    for row in range(count):
        best = max(min(grade[durable[f"p{p}.e{e}"][row]] for e in range(10)) for p in range(10))
        expected = {2: "qualified", 1: "needs_review", 0: "not_qualified"}[best]
        assert durable["outcome"][row] == expected, row


def test_a_decision_asks_the_engine_once_per_distinct_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = load_spec(ALAMEDA).model_copy(update={"id": "memo-probe"}, deep=True)
    compiled = compile_spec(spec)
    asked: list[int] = []
    original = engine._fire

    def counting(compiled: CompiledRuleset, work: list[Any]) -> Any:
        asked.append(sum(len(rows) for _, rows in work))
        return original(compiled, work)

    monkeypatch.setattr(engine, "_fire", counting)
    facts = random_facts(compiled, 300, seed=31)
    first = as_lists(evaluate(compiled, facts).statuses)
    assert sum(asked) > 0
    asked.clear()
    # the same facts again: every decision's inputs are known, the engine is not asked
    assert as_lists(evaluate(compiled, facts).statuses) == first
    assert sum(asked) == 0
    # half known, half new: only the new rows reach the engine, decisions stay right
    more = pd.concat([facts.iloc[:150], random_facts(compiled, 150, seed=32)], ignore_index=True)
    assert as_lists(evaluate(compiled, more).statuses) == as_lists(
        evaluate_vectorised(compiled, more).statuses
    )
    assert 0 < sum(asked) < 3 * len(more)
