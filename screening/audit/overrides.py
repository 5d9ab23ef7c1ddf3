"""The override rule: which reviewer decisions may replace an outcome, and the final outcome.

One definition for both places overrides are kept: the audit store (chained records) and
the app's in-memory log when no store is in use (``screening.review``). So both refuse the
same overrides and agree on every applicant's final outcome. The rule says *what* is wrong
with an override; each caller words it for its reader (the command line names its options).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from enum import StrEnum
from typing import TypeVar

from screening.results import Outcome

#: the outcomes an override may name, in the order they are listed to a person
OUTCOMES: tuple[str, ...] = tuple(o.value for o in Outcome)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Refusal(StrEnum):
    """Why an override may not be recorded."""

    no_outcome = "no outcome chosen"
    no_reviewer = "no reviewer named"
    no_justification = "no justification given"
    not_an_outcome = "not an outcome"
    unchanged = "already the current outcome"


def override_refusal(
    to_outcome: str, reviewer: str, justification: str, current: str | None = None
) -> Refusal | None:
    """Why this override may not be recorded, or None when it may.

    An override names an outcome other than the applicant's current one, the reviewer who
    made it and a justification. ``current`` None (not looked up yet) leaves out the check
    that the outcome changes. The first refusal found is given, in this order.
    """
    if not to_outcome:
        return Refusal.no_outcome
    if not reviewer.strip():
        return Refusal.no_reviewer
    if not justification.strip():
        return Refusal.no_justification
    if to_outcome not in OUTCOMES:
        return Refusal.not_an_outcome
    if current is not None and to_outcome == current:
        return Refusal.unchanged
    return None


def final_outcome(engine_outcome: str, to_outcomes: Sequence[str]) -> str:
    """An applicant's final outcome: their latest override's (``to_outcomes`` oldest
    first), else the engine's."""
    return to_outcomes[-1] if to_outcomes else engine_outcome


def latest_overrides(overrides: Iterable[tuple[K, V]]) -> dict[K, V]:
    """Each overridden decision's latest override (or its outcome), from (decision,
    override) pairs oldest first: the latest override of a decision wins."""
    return dict(overrides)


def apply_overrides(
    decisions: Iterable[K], engine_outcomes: Iterable[str], latest: Mapping[K, str]
) -> list[str]:
    """The final outcome of each decision, given ``latest_overrides``: its latest
    override's, else the engine's."""
    return [
        latest.get(decision, outcome)
        for decision, outcome in zip(decisions, engine_outcomes, strict=True)
    ]
