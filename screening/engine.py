"""The durable_rules host, wrapped so that none of its known traps reaches a user.

durable_rules 2.0.28 keeps rulesets in process-wide state, refuses to register a name
twice, starts timer threads that race with synchronous calls, keeps facts until their
session is deleted, swallows exceptions raised in actions and is not thread-safe. This
module owns the only host of the process: it registers each compiled ruleset once (named
by its hash), runs every call under one lock, asserts facts in batches with a fresh session
per batch that is deleted afterwards, collects what fired inside the actions and checks
that every fact got exactly one status per subject.
"""

from __future__ import annotations

import copy
import itertools
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from durable import engine as durable_engine

from screening import facts as F
from screening.launch import end_with_parent
from screening.ruleset import CompiledRuleset


class EngineError(RuntimeError):
    """The rule engine failed or produced an incomplete result; the run must not be used."""


class _QuietHost(durable_engine.Host):  # type: ignore[misc]
    """A host without the background dispatcher threads (only synchronous calls are used)."""

    def _run(self) -> None:
        return None


@dataclass
class _Binding:
    """A registered ruleset and where its actions currently put what fired."""

    compiled: CompiledRuleset
    sink: list[list[int]] | None = None
    failures: list[str] = field(default_factory=list)


_LOCK = threading.Lock()
_HOST: _QuietHost | None = None
_BINDINGS: dict[str, _Binding] = {}
_SESSIONS = itertools.count()

#: Facts asserted per engine session; each session is deleted after its batch.
BATCH_SIZE = 1000


def _host() -> _QuietHost:
    global _HOST
    if _HOST is None:
        _HOST = _QuietHost()
    return _HOST


def _make_action(binding: _Binding, rule_index: int) -> Callable[[Any], None]:
    def action(c: Any) -> None:
        try:
            matched = c.m if isinstance(c.m, list) else [c.m]
            sink = binding.sink
            if sink is None:
                raise EngineError("a rule fired outside an evaluation")
            sink[rule_index].extend(int(m[F.KEY]) for m in matched)
        except Exception as exc:  # recorded and raised after the call: the engine hides it
            binding.failures.append(f"{type(exc).__name__}: {exc}")

    return action


def _binding_for(compiled: CompiledRuleset) -> _Binding:
    binding = _BINDINGS.get(compiled.name)
    if binding is not None:
        return binding
    binding = _Binding(compiled)
    definition = copy.deepcopy(compiled.definition)  # the host deletes 'run' keys in place
    for index, rule in enumerate(compiled.rules):
        definition[rule.name]["run"] = _make_action(binding, index)
    _host().set_rulesets({compiled.name: definition})
    _BINDINGS[compiled.name] = binding
    return binding


def register(compiled: CompiledRuleset) -> None:
    """Register a compiled ruleset with this process's host (once; later calls are no-ops)."""
    with _LOCK:
        _binding_for(compiled)


def _assert_batch(binding: _Binding, records: list[dict[str, int]]) -> None:
    """Assert one batch in its own session; split it if two facts' identities collide."""
    host = _host()
    name = binding.compiled.name
    session = f"s{next(_SESSIONS)}"
    batch = [dict(r, sid=session) for r in records]
    try:
        host.assert_facts(name, batch)
    except durable_engine.MessageObservedException:
        # Fact identity is a 32-bit hash: two distinct facts may collide. No action ran
        # (the engine rejects the batch before acting), so retry in smaller sessions.
        host.delete_state(name, session)
        if len(records) == 1:
            raise EngineError("the rule engine rejected a fact as already seen") from None
        middle = len(records) // 2
        _assert_batch(binding, records[:middle])
        _assert_batch(binding, records[middle:])
        return
    except durable_engine.MessageNotHandledException as exc:
        host.delete_state(name, session)
        raise EngineError(
            "a fact matched no rule; the compiled rules must cover every fact"
        ) from exc
    state = host.get_state(name, session)
    host.delete_state(name, session)
    if isinstance(state, dict) and state.get("exception"):
        raise EngineError(f"a rule action failed: {state['exception']}")


@dataclass(frozen=True)
class Evaluation:
    """What the rules decided: per subject, the status of each fact (by position)."""

    statuses: dict[str, np.ndarray[Any, np.dtype[np.object_]]]


def evaluate(compiled: CompiledRuleset, frame: pd.DataFrame, *, workers: int = 1) -> Evaluation:
    """Run the ruleset over a facts DataFrame (one row per fact, columns = fact names).

    The KEY column is replaced by row positions, so results line up with `frame`. With
    `workers` > 1 and enough facts, the facts are split over that many processes, each
    with its own host (durable_rules is not thread-safe and holds the GIL).
    """
    names = list(compiled.fact_names)
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise EngineError(f"facts are missing {missing}; the evidence stage and rules disagree")
    values = frame[names].to_numpy(dtype=np.int64, copy=True)
    values[:, names.index(F.KEY)] = np.arange(len(frame), dtype=np.int64)
    if workers > 1 and len(values) >= PARALLEL_MINIMUM:
        return _collect(compiled, _fire_in_processes(compiled, values, workers), len(frame))
    return _collect(compiled, _fire(compiled, values), len(frame))


#: Fewer facts than this are evaluated in-process: starting workers would cost more.
PARALLEL_MINIMUM = 20_000
_POOL: ProcessPoolExecutor | None = None
_POOL_SIZE = 0


def _pool(workers: int) -> ProcessPoolExecutor:
    global _POOL, _POOL_SIZE
    if _POOL is None or workers != _POOL_SIZE:
        if _POOL is not None:
            _POOL.shutdown()
        # forkserver: never fork a process whose other threads may hold locks (Streamlit)
        _POOL = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("forkserver"),
            initializer=end_with_parent,  # never outlive the process that uses the pool
        )
        _POOL_SIZE = workers
    return _POOL


def _fire_chunk(
    compiled: CompiledRuleset, values: np.ndarray[Any, Any]
) -> list[np.ndarray[Any, np.dtype[np.int64]]]:
    """Worker side: fire the rules over a chunk; keys fired per rule, as arrays."""
    return [np.asarray(keys, dtype=np.int64) for keys in _fire(compiled, values)]


def _fire_in_processes(
    compiled: CompiledRuleset, values: np.ndarray[Any, Any], workers: int
) -> list[list[int]]:
    chunks = np.array_split(values, workers * 4)
    fired: list[list[int]] = [[] for _ in compiled.rules]
    try:
        for part in _pool(workers).map(_fire_chunk, [compiled] * len(chunks), chunks):
            for index, keys in enumerate(part):
                fired[index].extend(keys.tolist())
    except BrokenProcessPool as exc:
        raise EngineError("a rule engine worker process died; no results were produced") from exc
    return fired


def _fire(compiled: CompiledRuleset, values: np.ndarray[Any, Any]) -> list[list[int]]:
    """Assert facts (rows of `values`, columns = compiled.fact_names) batch by batch."""
    names = list(compiled.fact_names)
    with _LOCK:
        binding = _binding_for(compiled)
        binding.sink = [[] for _ in compiled.rules]
        binding.failures.clear()
        try:
            for start in range(0, len(values), BATCH_SIZE):
                chunk = values[start : start + BATCH_SIZE].tolist()
                _assert_batch(binding, [dict(zip(names, row, strict=True)) for row in chunk])
                if binding.failures:
                    raise EngineError(f"a rule action failed: {binding.failures[0]}")
            fired = binding.sink
        finally:
            binding.sink = None
    return fired


def _collect(compiled: CompiledRuleset, fired: list[list[int]], count: int) -> Evaluation:
    statuses: dict[str, np.ndarray[Any, np.dtype[np.object_]]] = {}
    assigned: dict[str, np.ndarray[Any, np.dtype[np.int64]]] = {}
    for subject in compiled.subjects():
        statuses[subject] = np.full(count, None, dtype=object)
        assigned[subject] = np.zeros(count, dtype=np.int64)
    for rule, keys in zip(compiled.rules, fired, strict=True):
        # an $or whose branches overlap fires once per branch: count each fact once
        unique = np.unique(np.asarray(keys, dtype=np.int64))
        for subject, status in rule.assignments():
            statuses[subject][unique] = status
            assigned[subject][unique] += 1
    for subject, hits in assigned.items():
        if count and (hits.min() != 1 or hits.max() != 1):
            bad = int(np.flatnonzero(hits != 1)[0])
            raise EngineError(
                f"rules for {subject!r} gave fact {bad} {int(hits[bad])} statuses instead of one"
            )
    return Evaluation(statuses)


def evaluate_vectorised(compiled: CompiledRuleset, frame: pd.DataFrame) -> Evaluation:
    """The same decisions computed by pandas/numpy from the same rule conditions.

    Not used for screening: it is the speed limit the benchmarks compare the engine with,
    and an independent check of the engine in tests.
    """
    from screening.ruleset import evaluate_frame

    count = len(frame)
    statuses: dict[str, np.ndarray[Any, np.dtype[np.object_]]] = {}
    for rule in compiled.rules:
        holds = evaluate_frame(rule.condition, frame)
        for subject, status in rule.assignments():
            column = statuses.setdefault(subject, np.full(count, None, dtype=object))
            column[holds] = status
    return Evaluation(statuses)
