"""Adverse-impact analysis (29 CFR 1607.4): pure functions over a table of decisions.

The input is one row per screened applicant with the self-identification columns
(``eeo_sex``, ``eeo_race_ethnicity``), the final outcome after review and one status
column per criterion. Nothing here reads a database, so every number can be checked by hand.

- Overall: *selected* means the final outcome ``qualified``; applicants still
  ``needs_review`` are pending, counted apart and left out of every rate.
- Per criterion: *passing* means met / substituted / condition / not_applicable, *failing*
  means not_met; ``review`` is counted apart like pending.
- Blank, unknown and declined answers form no comparison group: they are counted and
  reported on their own.
"""

from __future__ import annotations

import importlib
import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from screening.results import Outcome, Status

UNKNOWN = "unknown/declined"
SEX_COLUMN = "eeo_sex"
RACE_COLUMN = "eeo_race_ethnicity"
OVERALL = "overall"
DIMENSIONS: tuple[str, ...] = ("sex", "race_ethnicity", "sex x race_ethnicity")
#: Answers that say nothing about the group (compared case-insensitively).
UNKNOWN_ANSWERS = frozenset(
    {
        "",
        "-",
        "?",
        "n/a",
        "na",
        "none",
        "unknown",
        "not known",
        "not specified",
        "not disclosed",
        "undisclosed",
        "declined",
        "decline",
        "decline to state",
        "declined to state",
        "decline to answer",
        "declined to answer",
        "decline to self-identify",
        "declined to self-identify",
        "i decline to self-identify",
        "i don't wish to answer",
        "i do not wish to answer",
        "prefer not to say",
        "prefer not to answer",
        "choose not to disclose",
    }
)
FOUR_FIFTHS = (4, 5)
SMALL_GROUP = 30
SMALL_EXPECTED = 5.0


@dataclass(frozen=True)
class Counts:
    """Applicants decided, selected (or passing) and pending (or in review)."""

    applicants: int
    selected: int
    pending: int


@dataclass(frozen=True)
class GroupImpact:
    """One group's selection figures against the highest-rate group and the rest."""

    group: str
    applicants: int
    selected: int
    pending: int
    selection_rate: float
    impact_ratio: float
    four_fifths_flag: bool
    fisher_p: float
    z: float
    shortfall: int
    small_sample: bool
    one_applicant_changes: bool


@dataclass(frozen=True)
class ImpactTable:
    """One measure (overall or a criterion) broken down by one dimension."""

    measure: str
    dimension: str
    reference_group: str | None
    groups: list[GroupImpact]
    unknown: Counts


@dataclass
class ImpactReport:
    """Every measure by every dimension, with totals."""

    applicants: int
    selected: int
    pending: int
    tables: list[ImpactTable] = field(default_factory=list)
    #: where the figures come from: "live" or a stored summary (e.g. kept at purge).
    source: str = "live"

    def to_frame(self) -> pd.DataFrame:
        """One row per (measure, dimension, group), the unknown/declined row last per table."""
        rows: list[dict[str, Any]] = []
        for table in self.tables:
            for group in table.groups:
                rows.append(
                    {
                        "measure": table.measure,
                        "dimension": table.dimension,
                        "reference_group": table.reference_group or "",
                        **asdict(group),
                    }
                )
            rows.append(
                {
                    "measure": table.measure,
                    "dimension": table.dimension,
                    "reference_group": table.reference_group or "",
                    "group": UNKNOWN,
                    "applicants": table.unknown.applicants,
                    "selected": table.unknown.selected,
                    "pending": table.unknown.pending,
                }
            )
        return pd.DataFrame(rows, columns=REPORT_COLUMNS)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form, to store the report (it outlives the applicant data)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImpactReport:
        """Rebuild a report stored with :meth:`to_dict`."""
        tables = [
            ImpactTable(
                measure=t["measure"],
                dimension=t["dimension"],
                reference_group=t["reference_group"],
                groups=[GroupImpact(**g) for g in t["groups"]],
                unknown=Counts(**t["unknown"]),
            )
            for t in data["tables"]
        ]
        return cls(
            applicants=data["applicants"],
            selected=data["selected"],
            pending=data["pending"],
            tables=tables,
            source=data.get("source", "live"),
        )


REPORT_COLUMNS = [
    "measure",
    "dimension",
    "reference_group",
    "group",
    "applicants",
    "selected",
    "pending",
    "selection_rate",
    "impact_ratio",
    "four_fifths_flag",
    "fisher_p",
    "z",
    "shortfall",
    "small_sample",
    "one_applicant_changes",
]


def import_statistics_in_background() -> None:
    """Start importing SciPy's statistics on a thread, while the caller does other work.

    The run-closing impact report needs Fisher's exact test; its import takes half a
    second that would otherwise come after the last decision is stored.
    """
    threading.Thread(target=importlib.import_module, args=("scipy.stats",), daemon=True).start()


def normalise_group(values: Iterable[object]) -> list[str]:
    """Group labels: whitespace collapsed, case variants merged, non-answers -> UNKNOWN."""
    first_spelling: dict[str, str] = {}
    labels: list[str] = []
    for value in values:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            labels.append(UNKNOWN)
            continue
        text = " ".join(str(value).split())
        key = text.casefold()
        if key in UNKNOWN_ANSWERS:
            labels.append(UNKNOWN)
            continue
        labels.append(first_spelling.setdefault(key, text))
    return labels


def _labels(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series([UNKNOWN] * len(frame), index=frame.index, dtype=object)
    values = frame[column].astype(object).where(frame[column].notna(), "")
    uniques = list(pd.unique(values))  # in order of appearance: first spelling wins
    mapping = dict(zip(uniques, normalise_group(uniques), strict=True))
    return values.map(mapping)


def dimension_labels(frame: pd.DataFrame, dimension: str) -> list[str]:
    """The group label of every row for a dimension (a missing column means unknown)."""
    return _dimension_series(frame, dimension).tolist()


def _dimension_series(frame: pd.DataFrame, dimension: str) -> pd.Series:
    if dimension == "sex":
        return _labels(frame, SEX_COLUMN)
    if dimension == "race_ethnicity":
        return _labels(frame, RACE_COLUMN)
    if dimension == "sex x race_ethnicity":
        sex, race = _labels(frame, SEX_COLUMN), _labels(frame, RACE_COLUMN)
        both = sex + " / " + race
        return both.where((sex != UNKNOWN) & (race != UNKNOWN), UNKNOWN)
    raise ValueError(f"unknown dimension {dimension!r}; expected one of {', '.join(DIMENSIONS)}")


def _flagged(selected: int, applicants: int, top_selected: int, top_applicants: int) -> bool:
    """rate < 4/5 of the top rate, in exact integer arithmetic."""
    if applicants == 0 or top_selected == 0:
        return False
    num, den = FOUR_FIFTHS
    return den * selected * top_applicants < num * top_selected * applicants


def _top(counts: dict[str, Counts]) -> tuple[str | None, int, int]:
    """The highest-rate group (ties: the larger group, then by name) and its counts."""
    best: tuple[str | None, int, int] = (None, 0, 0)
    for name in sorted(counts):
        c = counts[name]
        if c.applicants == 0:
            continue
        _, bs, ba = best
        # compare c.selected / c.applicants with bs / ba exactly
        better = best[0] is None or c.selected * ba > bs * c.applicants
        tie = best[0] is not None and c.selected * ba == bs * c.applicants
        if better or (tie and c.applicants > ba):
            best = (name, c.selected, c.applicants)
    return best


def _flag_with(counts: dict[str, Counts], name: str, selected: int) -> bool:
    changed = dict(counts)
    changed[name] = Counts(counts[name].applicants, selected, counts[name].pending)
    _, top_s, top_a = _top(changed)
    return _flagged(selected, counts[name].applicants, top_s, top_a)


def _group_impact(name: str, counts: dict[str, Counts]) -> GroupImpact:
    own = counts[name]
    n, s = own.applicants, own.selected
    _, top_s, top_a = _top(counts)
    rest_n = sum(c.applicants for g, c in counts.items() if g != name)
    rest_s = sum(c.selected for g, c in counts.items() if g != name)
    rate = s / n if n else math.nan
    ratio = rate / (top_s / top_a) if n and top_s else math.nan
    flag = _flagged(s, n, top_s, top_a)
    shortfall = 0
    if flag:
        num, den = FOUR_FIFTHS
        # smallest k with den*(s+k)*top_a >= num*top_s*n
        shortfall = -((den * s * top_a - num * top_s * n) // (den * top_a))
    fisher_p = z = math.nan
    small = n < SMALL_GROUP
    if n and rest_n:
        total, total_s = n + rest_n, s + rest_s
        # SciPy takes half a second to import: only a report that needs it pays for it
        from scipy.stats import fisher_exact

        fisher_p = float(fisher_exact([[s, n - s], [rest_s, rest_n - rest_s]]).pvalue)
        pooled = total_s / total
        se = math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / rest_n))
        if se > 0:
            z = (s / n - rest_s / rest_n) / se
        expected = [row * col / total for row in (n, rest_n) for col in (total_s, total - total_s)]
        small = small or min(expected) < SMALL_EXPECTED
    changes = False
    if n:
        if s < n and _flag_with(counts, name, s + 1) != flag:
            changes = True
        if s > 0 and _flag_with(counts, name, s - 1) != flag:
            changes = True
    return GroupImpact(
        group=name,
        applicants=n,
        selected=s,
        pending=own.pending,
        selection_rate=rate,
        impact_ratio=ratio,
        four_fifths_flag=flag,
        fisher_p=fisher_p,
        z=z,
        shortfall=shortfall,
        small_sample=small,
        one_applicant_changes=changes,
    )


def impact_table(
    passed: Sequence[bool | None] | pd.Series,
    groups: Sequence[str] | pd.Series,
    *,
    measure: str,
    dimension: str,
) -> ImpactTable:
    """Compare groups on one yes/no measure; ``None`` (or NaN) in ``passed`` means pending."""
    frame = pd.DataFrame(
        {
            "group": pd.Series(groups, dtype=object).to_numpy(),
            "passed": pd.Series(passed, dtype="float64").to_numpy(),  # None -> NaN
        }
    )
    grouped = frame.groupby("group", sort=True)["passed"]
    decided, selected, total = grouped.count(), grouped.sum(), grouped.size()
    tallies = {
        str(g): Counts(int(decided[g]), int(selected[g]), int(total[g] - decided[g]))
        for g in total.index
    }
    return impact_table_from_counts(tallies, measure=measure, dimension=dimension)


def impact_table_from_counts(
    counts: dict[str, Counts], *, measure: str, dimension: str
) -> ImpactTable:
    """Compare groups from their counts (decided, selected, pending) per group label."""
    tallies = dict(counts)
    unknown = tallies.pop(UNKNOWN, Counts(0, 0, 0))
    reference, _, _ = _top(tallies)
    return ImpactTable(
        measure=measure,
        dimension=dimension,
        reference_group=reference,
        groups=[_group_impact(g, tallies) for g in sorted(tallies)],
        unknown=unknown,
    )


_OUTCOME_PASSED = {
    Outcome.qualified.value: 1.0,
    Outcome.not_qualified.value: 0.0,
    Outcome.needs_review.value: math.nan,
}
_STATUS_PASSED = {
    status.value: (math.nan if status is Status.review else float(status.passing))
    for status in Status
}


def _measure(values: pd.Series, meaning: dict[str, float], what: str) -> pd.Series:
    """Map outcome or status text to 1 (selected/passing), 0, or NaN (pending/review)."""
    text = values.astype(object).where(values.notna(), None)
    unknown = sorted({str(v) for v in text.dropna().unique()} - set(meaning))
    if unknown:
        raise ValueError(f"unknown {what} {unknown[0]!r}; expected one of {sorted(meaning)}")
    # a criterion not evaluated for an applicant (blank) counts like review
    return text.map(meaning).astype(float)


def impact_report(
    frame: pd.DataFrame,
    criteria: Sequence[str],
    *,
    outcome_column: str = "final_outcome",
    source: str = "live",
) -> ImpactReport:
    """The full report: overall and per criterion, by sex, race/ethnicity and both."""
    overall = _measure(frame[outcome_column], _OUTCOME_PASSED, "outcome")
    measures: list[tuple[str, pd.Series]] = [(OVERALL, overall)]
    for criterion in criteria:
        values = (
            frame[criterion]
            if criterion in frame.columns
            else pd.Series([None] * len(frame), index=frame.index, dtype=object)
        )
        measures.append((criterion, _measure(values, _STATUS_PASSED, "status")))
    labels = {dimension: _dimension_series(frame, dimension) for dimension in DIMENSIONS}
    tables = [
        impact_table(passed, labels[dimension], measure=measure, dimension=dimension)
        for measure, passed in measures
        for dimension in DIMENSIONS
    ]
    return ImpactReport(
        applicants=len(frame),
        selected=int((overall == 1.0).sum()),
        pending=int(overall.isna().sum()),
        tables=tables,
        source=source,
    )
