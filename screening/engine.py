"""The durable_rules host, wrapped so that none of its known traps reaches a user.

durable_rules 2.0.28 keeps rulesets in process-wide state, refuses to register a name
twice, starts timer threads that race with synchronous calls, keeps facts until their
session is deleted, swallows exceptions raised in actions and is not thread-safe. This
module owns the only host of the process: it registers each compiled ruleset once (named
by its hash), runs every call under one lock, asserts facts in batches with a fresh session
per batch that is deleted afterwards (each fact with an explicit id, so two facts can never
share an identity), collects what fired inside the actions and checks that every fact got
exactly one status. Once the engine has raised, its host is dropped and never called
again: the next evaluation starts a new one.

This module starts no process: a process evaluates on its own host only. Spreading a
large batch over the cores is the run's work (`screening.run.chunks`), whose worker
processes each hold one host of their own; that pool is the package's only pool of
screening workers.

The ruleset is evaluated decision layer by decision layer (see screening.ruleset): each
decision gets one fact per distinct combination of its inputs, and what its rules decide
becomes the input of the next layer.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd
from durable import engine as durable_engine

from screening import facts as F
from screening.errors import InternalFailure
from screening.ruleset import FAILS, GRADE, NODE_FIELD, CompiledRuleset, evaluate_frame


class EngineError(InternalFailure, RuntimeError):
    """The rule engine failed or produced an incomplete result; the run must not be used."""

    def describe(self) -> str:
        """The message, saying it was the rule engine that failed."""
        return f"the rule engine failed: {self}"


class _QuietHost(durable_engine.Host):  # type: ignore[misc]
    """A host without the background dispatcher threads (only synchronous calls are used)."""

    def _run(self) -> None:
        return None

    def assert_fact_text(self, ruleset_name: str, text: str) -> Any:
        """`assert_facts` for facts already written as one JSON array: building a dict per
        fact and encoding it again would cost more than the engine's own work."""
        rules = self.get_ruleset(ruleset_name)

        def assert_text(facts: str) -> Any:
            native = durable_engine.durable_rules_engine
            return rules._handle_result(native.assert_facts(rules._handle, facts), facts)

        return self._handle_function(rules, assert_text, text, None)


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
#: The field of every asserted fact that the engine takes as its identity.
FACT_ID = "id"


def _host() -> _QuietHost:
    global _HOST
    if _HOST is None:
        _HOST = _QuietHost()
    return _HOST


def _drop_host() -> None:
    """Forget the host and its rulesets: after the engine raised, its state is unknown and
    calling it again may abort the process. The next evaluation starts a new host."""
    global _HOST
    _HOST = None
    _BINDINGS.clear()


def _make_action(binding: _Binding, rule_index: int) -> Callable[[Any], None]:
    def action(c: Any) -> None:
        try:
            matched = c.m if isinstance(c.m, list) else [c.m]
            sink = binding.sink
            if sink is None:
                raise EngineError("a rule fired outside an evaluation")
            sink[rule_index].extend(int(m[FACT_ID]) for m in matched)
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
    try:
        _host().set_rulesets({compiled.name: definition})
    except Exception as exc:
        _drop_host()
        raise EngineError(
            f"the rule engine refused ruleset {compiled.name} ({exc}); the compiled rules "
            "exceed a limit the compiler does not check"
        ) from exc
    _BINDINGS[compiled.name] = binding
    return binding


def register(compiled: CompiledRuleset) -> None:
    """Register a compiled ruleset with this process's host (once; later calls are no-ops)."""
    with _LOCK:
        _binding_for(compiled)


def _assert_batch(binding: _Binding, facts: list[str]) -> None:
    """Assert one batch (facts as JSON objects without their closing session field) in
    its own session, then delete the session.

    Any exception of the engine drops the host before it is reported: no call may follow.
    """
    host = _host()
    name = binding.compiled.name
    session = f"s{next(_SESSIONS)}"
    close = f',"sid":"{session}"}}'
    text = "[" + (close + ",").join(facts) + close + "]"
    try:
        host.assert_fact_text(name, text)
        state = host.get_state(name, session)
        host.delete_state(name, session)
    except durable_engine.MessageNotHandledException as exc:
        _drop_host()
        raise EngineError(
            "a fact matched no rule; the compiled rules must cover every fact"
        ) from exc
    except Exception as exc:
        _drop_host()
        raise EngineError(f"the rule engine failed: {exc}") from exc
    if isinstance(state, dict) and state.get("exception"):
        raise EngineError(f"a rule action failed: {state['exception']}")


@dataclass(frozen=True)
class Evaluation:
    """What the rules decided: per subject, the status of each fact (by position)."""

    statuses: dict[str, np.ndarray[Any, np.dtype[np.object_]]]


#: One decision's distinct input rows: (node index, rows × the node's fields).
Work = tuple[int, np.ndarray[Any, Any]]
#: Per work item, the position (in its node's rules) of the rule that fired for each row.
Fired = list[np.ndarray[Any, np.dtype[np.int64]]]


def _distinct_rows(
    matrix: np.ndarray[Any, Any],
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, np.dtype[np.intp]]]:
    """The distinct rows of a matrix and, per row, the position of its distinct row."""
    if matrix.shape[1] == 0:
        return matrix[:1], np.zeros(len(matrix), dtype=np.intp)
    if len(matrix) == 0:
        return matrix, np.zeros(0, dtype=np.intp)
    distinct, inverse = np.unique(matrix, axis=0, return_inverse=True)
    return distinct, inverse.reshape(-1)


def _layered(
    compiled: CompiledRuleset, frame: pd.DataFrame, fire: Callable[[list[Work]], Fired]
) -> Evaluation:
    """Evaluate decision layer by decision layer; `fire` decides one layer's work."""
    names = [n for n in compiled.fact_names if n != F.KEY]
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise EngineError(f"facts are missing {missing}; the evidence stage and rules disagree")
    count = len(frame)
    inputs: dict[str, np.ndarray[Any, Any]] = {n: frame[n].to_numpy(dtype=np.int64) for n in names}
    grades: dict[str, np.ndarray[Any, Any]] = {}
    statuses: dict[str, np.ndarray[Any, np.dtype[np.object_]]] = {}
    for layer in compiled.layers():
        work: list[Work] = []
        inverses: list[np.ndarray[Any, Any]] = []
        for node in layer:
            columns = [inputs[f] for f in node.facts] + [grades[g] for g in node.grades]
            matrix = (
                np.column_stack(columns).astype(np.int64, copy=False)
                if columns
                else np.zeros((count, 0), dtype=np.int64)
            )
            distinct, inverse = _distinct_rows(matrix)
            work.append((node.index, distinct))
            inverses.append(inverse)
        fired = fire(work) if count else [np.zeros(0, dtype=np.int64) for _ in work]
        for node, codes, inverse in zip(layer, fired, inverses, strict=True):
            per_row = codes[inverse]
            grade_of = np.array([GRADE.get(r.status, FAILS) for r in node.rules], dtype=np.int64)
            grades[node.subject] = grade_of[per_row]
            if node.kind != "part":
                names_of = np.array([r.status for r in node.rules], dtype=object)
                statuses[node.subject] = names_of[per_row]
    return Evaluation(statuses)


def evaluate(compiled: CompiledRuleset, frame: pd.DataFrame) -> Evaluation:
    """Run the ruleset over a facts DataFrame (one row per fact, columns = fact names) on
    this process's host. Results line up with the rows of `frame`."""
    return _layered(compiled, frame, _remembering(compiled, lambda work: _fire(compiled, work)))


#: Input rows remembered per decision (ruleset name, node index): what the rules decided
#: for each, so a process screening chunk after chunk asks the engine about each distinct
#: input of a decision once. Bounded: past MEMO_LIMIT rows a decision's memo starts afresh.
_MEMO: dict[tuple[str, int], dict[bytes, int]] = {}
MEMO_LIMIT = 100_000


def _row_keys(rows: np.ndarray[Any, Any]) -> list[bytes]:
    if rows.shape[1] == 0:
        return [b""] * len(rows)
    contiguous = np.ascontiguousarray(rows, dtype=np.int64)
    whole_rows = contiguous.view(np.dtype((np.void, 8 * rows.shape[1]))).ravel()
    return cast(list[bytes], whole_rows.tolist())


def _remembering(
    compiled: CompiledRuleset, fire: Callable[[list[Work]], Fired]
) -> Callable[[list[Work]], Fired]:
    """`fire`, asked only about rows no earlier evaluation of this ruleset decided."""

    def remembered(work: list[Work]) -> Fired:
        codes: Fired = []
        unseen: list[np.ndarray[Any, np.dtype[np.intp]]] = []
        keys: list[list[bytes]] = []
        memos: list[dict[bytes, int]] = []
        for index, rows in work:
            memo = _MEMO.setdefault((compiled.name, index), {})
            if len(memo) + len(rows) > MEMO_LIMIT:
                memo.clear()
            row_keys = _row_keys(rows)
            known = np.fromiter((memo.get(k, -1) for k in row_keys), np.int64, len(row_keys))
            codes.append(known)
            unseen.append(np.flatnonzero(known < 0))
            keys.append(row_keys)
            memos.append(memo)
        todo = [(index, rows[new]) for (index, rows), new in zip(work, unseen, strict=True)]
        fired = fire(todo) if any(len(new) for new in unseen) else []
        for position, new in enumerate(unseen):
            if not len(new):
                continue
            fresh = fired[position]
            codes[position][new] = fresh
            memo, row_keys = memos[position], keys[position]
            memo.update(zip((row_keys[i] for i in new.tolist()), fresh.tolist(), strict=True))
        return codes

    return remembered


def _fire(compiled: CompiledRuleset, work: list[Work]) -> Fired:
    """Assert one fact per distinct input row of each decision, batch by batch; per work
    item, the position of the rule that fired for each row."""
    nodes = compiled.nodes
    records: list[str] = []
    for index, rows in work:
        # fact names are letters, digits and underscores: no JSON escaping is needed
        head = "{" + "".join(f'"{f}":%d,' for f in nodes[index].fields())
        head += f'"{NODE_FIELD}":{index},"{FACT_ID}":%d'
        first = len(records)
        records += [head % (*row, first + offset) for offset, row in enumerate(rows.tolist())]
    with _LOCK:
        binding = _binding_for(compiled)
        binding.sink = [[] for _ in compiled.rules]
        binding.failures.clear()
        try:
            for start in range(0, len(records), BATCH_SIZE):
                _assert_batch(binding, records[start : start + BATCH_SIZE])
                if binding.failures:
                    raise EngineError(f"a rule action failed: {binding.failures[0]}")
            sink = binding.sink
        finally:
            binding.sink = None
    return _codes(compiled, work, sink, len(records))


def _codes(compiled: CompiledRuleset, work: list[Work], sink: list[list[int]], total: int) -> Fired:
    """Per fact, the rule (position in its decision) that fired; exactly one must have."""
    local = [position for node in compiled.nodes for position in range(len(node.rules))]
    codes = np.full(total, -1, dtype=np.int64)
    hits = np.zeros(total, dtype=np.int64)
    for rule_index, keys in enumerate(sink):
        # an $or whose branches overlap fires once per branch: count each fact once
        unique = np.unique(np.asarray(keys, dtype=np.int64))
        codes[unique] = local[rule_index]
        hits[unique] += 1
    if total and (hits.min() != 1 or hits.max() != 1):
        bad = int(np.flatnonzero(hits != 1)[0])
        offset = 0
        for index, rows in work:
            if bad < offset + len(rows):
                raise EngineError(
                    f"rules for {compiled.nodes[index].subject!r} gave a fact "
                    f"{int(hits[bad])} statuses instead of one"
                )
            offset += len(rows)
    fired: Fired = []
    offset = 0
    for _, rows in work:
        fired.append(codes[offset : offset + len(rows)])
        offset += len(rows)
    return fired


def evaluate_vectorised(compiled: CompiledRuleset, frame: pd.DataFrame) -> Evaluation:
    """The same decisions computed by pandas/numpy from the same rule conditions.

    Not used for screening: it is the speed limit the benchmarks compare the engine with,
    and an independent check of the engine in tests.
    """

    def fire(work: list[Work]) -> Fired:
        fired: Fired = []
        for index, rows in work:
            node = compiled.nodes[index]
            distinct = pd.DataFrame(rows, columns=node.fields())
            codes = np.full(len(rows), -1, dtype=np.int64)
            for position, rule in enumerate(node.rules):
                codes[evaluate_frame(rule.condition, distinct)] = position
            fired.append(codes)
        return fired

    return _layered(compiled, frame, fire)
