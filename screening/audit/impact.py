"""Adverse-impact analysis (29 CFR 1607.4): pure functions over a table of decisions.

The input is one row per screened applicant with the self-identification columns
(``eeo_sex``, ``eeo_race_ethnicity``), the final outcome after review and one status
column per criterion. Nothing here reads a database, so every number can be checked by hand.

- Overall: *selected* means the final outcome ``qualified``; applicants still
  ``needs_review`` are pending, counted apart and left out of every rate.
- Per criterion: *passing* means met / substituted / condition / not_applicable, *failing*
  means not_met; ``review`` is counted apart like pending. A criterion nobody was judged on
  at screening (every status condition or not_applicable) is marked not applicable.
- The reference group is the highest-rate group among those with at least ``min_group``
  decided applicants (default 30). A smaller group is never the reference and is flagged
  only when it is below four-fifths of the reference *and* Fisher's exact test finds the
  difference significant: never by the ratio alone.
- Blank, unknown and declined answers form no comparison group: they are counted and
  reported on their own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
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
#: Decided applicants a group needs to be the reference or be flagged by the ratio alone.
DEFAULT_MIN_GROUP = 30
#: Fisher's exact p below which a small group's shortfall is significant.
SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class Counts:
    """Applicants decided, selected (or passing) and pending (or in review).

    ``not_judged``: of the passing, those the criterion did not judge at screening (status
    condition or not_applicable).
    """

    applicants: int
    selected: int
    pending: int
    not_judged: int = 0


@dataclass(frozen=True)
class GroupImpact:
    """One group's selection figures against the reference group and the rest.

    ``applicants`` counts the decided applicants (the rates' denominator); ``pending``
    those still in review. ``small_sample``: fewer decided applicants than the report's
    minimum group size, so the group is judged by its counts and the exact test.
    """

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
    not_judged: int = 0


@dataclass(frozen=True)
class ImpactTable:
    """One measure (overall or a criterion) broken down by one dimension.

    ``applicable`` is False for a criterion nobody was judged on at screening.
    """

    measure: str
    dimension: str
    reference_group: str | None
    groups: list[GroupImpact]
    unknown: Counts
    min_group: int = DEFAULT_MIN_GROUP
    applicable: bool = True

    def counts(self) -> dict[str, Counts]:
        """Every group's counts, unknown/declined included (what the table is built from)."""
        tallies = {
            g.group: Counts(g.applicants, g.selected, g.pending, g.not_judged) for g in self.groups
        }
        tallies[UNKNOWN] = self.unknown
        return tallies


NOT_APPLICABLE_NOTE = (
    "not applicable: nobody was judged on this criterion at screening (every status is "
    "condition or not applicable), so there is no rate to compare"
)


def group_note(table: ImpactTable, group: GroupImpact) -> str:
    """What a reader must know about one row: reference, small group, what decides its flag."""
    if not table.applicable:
        return "criterion not applicable"
    notes = []
    if group.group == table.reference_group:
        notes.append("reference group")
    if group.small_sample:
        notes.append(f"small group (under {table.min_group} decided): exact test decides")
    if group.one_applicant_changes:
        notes.append("one applicant changes the flag")
    return "; ".join(notes)


@dataclass
class ImpactReport:
    """Every measure by every dimension, with totals.

    ``applicants`` counts everybody; ``selected`` and ``pending`` are of the overall
    outcome (pending review: counted apart and left out of every rate).
    """

    applicants: int
    selected: int
    pending: int
    tables: list[ImpactTable] = field(default_factory=list)
    #: where the figures come from: "live" or a stored summary (e.g. kept at purge).
    source: str = "live"
    min_group: int = DEFAULT_MIN_GROUP

    def to_frame(self) -> pd.DataFrame:
        """One row per (measure, dimension, group), the unknown/declined row last per table.

        ``applicants`` counts everybody in the group, ``decided`` those the rates are of,
        ``pending`` those still in review (counted apart).
        """
        rows: list[dict[str, Any]] = []
        for table in self.tables:
            where = {
                "measure": table.measure,
                "dimension": table.dimension,
                "reference_group": table.reference_group or "",
            }
            for group in table.groups:
                figures = asdict(group)
                figures.pop("not_judged")
                small = figures.pop("small_sample")
                rows.append(
                    {
                        **where,
                        **figures,
                        "applicants": group.applicants + group.pending,
                        "decided": group.applicants,
                        "small_group": small,
                        "note": group_note(table, group),
                    }
                )
            unknown = table.unknown
            rows.append(
                {
                    **where,
                    "group": UNKNOWN,
                    "applicants": unknown.applicants + unknown.pending,
                    "decided": unknown.applicants,
                    "selected": unknown.selected,
                    "pending": unknown.pending,
                    "note": "answer unknown or declined: compared with nobody"
                    if table.applicable
                    else "criterion not applicable",
                }
            )
        return pd.DataFrame(rows, columns=REPORT_COLUMNS)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form, to store the report (it outlives the applicant data)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImpactReport:
        """Rebuild a report stored with :meth:`to_dict` (by this or an earlier release)."""
        tables = [
            ImpactTable(
                measure=t["measure"],
                dimension=t["dimension"],
                reference_group=t["reference_group"],
                groups=[GroupImpact(**g) for g in t["groups"]],
                unknown=Counts(**t["unknown"]),
                min_group=t.get("min_group", DEFAULT_MIN_GROUP),
                applicable=t.get("applicable", True),
            )
            for t in data["tables"]
        ]
        return cls(
            applicants=data["applicants"],
            selected=data["selected"],
            pending=data["pending"],
            tables=tables,
            source=data.get("source", "live"),
            min_group=data.get("min_group", DEFAULT_MIN_GROUP),
        )

    def counts_dict(self) -> dict[str, Any]:
        """The counts the report is built from, as JSON: what :meth:`from_counts_dict`
        judges again (the statistics are left out; they follow from the counts)."""
        return counts_to_dict(
            self.applicants,
            self.selected,
            self.pending,
            [(table.measure, table.dimension, table.counts()) for table in self.tables],
        )

    @classmethod
    def from_counts_dict(
        cls, data: dict[str, Any], *, source: str, min_group: int = DEFAULT_MIN_GROUP
    ) -> ImpactReport:
        """The report over counts stored with :func:`counts_to_dict`."""
        tables = [
            impact_table_from_counts(
                {label: Counts(*figures) for label, figures in table["counts"].items()},
                measure=table["measure"],
                dimension=table["dimension"],
                min_group=min_group,
            )
            for table in data["tables"]
        ]
        return cls(
            applicants=data["applicants"],
            selected=data["selected"],
            pending=data["pending"],
            tables=tables,
            source=source,
            min_group=min_group,
        )

    def with_min_group(self, min_group: int) -> ImpactReport:
        """The same counts judged with another minimum group size (a report setting)."""
        if min_group < 0:
            raise ValueError(f"the minimum group size must be 0 or more, not {min_group}")
        tables = [
            replace(
                impact_table_from_counts(
                    table.counts(),
                    measure=table.measure,
                    dimension=table.dimension,
                    min_group=min_group,
                ),
                applicable=table.applicable,
            )
            for table in self.tables
        ]
        return replace(self, tables=tables, min_group=min_group)


def counts_to_dict(
    applicants: int,
    selected: int,
    pending: int,
    tables: Sequence[tuple[str, str, dict[str, Counts]]],
) -> dict[str, Any]:
    """An impact report's counts as JSON (measure, dimension and each group's decided,
    selected, pending and not-judged counts): enough to build the report again, and
    needing no statistics to write."""
    return {
        "applicants": applicants,
        "selected": selected,
        "pending": pending,
        "tables": [
            {
                "measure": measure,
                "dimension": dimension,
                "counts": {
                    label: [c.applicants, c.selected, c.pending, c.not_judged]
                    for label, c in counts.items()
                },
            }
            for measure, dimension, counts in tables
        ],
    }


REPORT_COLUMNS = [
    "measure",
    "dimension",
    "reference_group",
    "group",
    "applicants",
    "decided",
    "pending",
    "selected",
    "selection_rate",
    "impact_ratio",
    "four_fifths_flag",
    "fisher_p",
    "z",
    "shortfall",
    "small_group",
    "one_applicant_changes",
    "note",
]


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


def _reference(counts: dict[str, Counts], min_group: int) -> str | None:
    """The highest-rate group with at least ``min_group`` decided applicants (ties: the
    larger group, then by name); None when no group is that large."""
    best: str | None = None
    for name in sorted(counts):
        c = counts[name]
        if c.applicants == 0 or c.applicants < min_group:
            continue
        if best is None:
            best = name
            continue
        b = counts[best]
        # compare c.selected / c.applicants with b.selected / b.applicants exactly
        mine, theirs = c.selected * b.applicants, b.selected * c.applicants
        if mine > theirs or (mine == theirs and c.applicants > b.applicants):
            best = name
    return best


def _fisher(counts: dict[str, Counts], name: str) -> float:
    """Fisher's exact p of the group against all other groups (NaN without either)."""
    own = counts[name]
    rest_n = sum(c.applicants for g, c in counts.items() if g != name)
    rest_s = sum(c.selected for g, c in counts.items() if g != name)
    if not own.applicants or not rest_n:
        return math.nan
    # SciPy takes half a second to import: only a report that needs it pays for it
    from scipy.stats import fisher_exact

    table = [[own.selected, own.applicants - own.selected], [rest_s, rest_n - rest_s]]
    return float(fisher_exact(table).pvalue)


def _is_flagged(counts: dict[str, Counts], name: str, min_group: int) -> bool:
    """Below four-fifths of the reference; a small group also needs a significant p."""
    reference = _reference(counts, min_group)
    if reference is None:
        return False
    own, top = counts[name], counts[reference]
    if not _flagged(own.selected, own.applicants, top.selected, top.applicants):
        return False
    return own.applicants >= min_group or _fisher(counts, name) < SIGNIFICANCE


def _flag_with(counts: dict[str, Counts], name: str, selected: int, min_group: int) -> bool:
    changed = dict(counts)
    own = counts[name]
    changed[name] = Counts(own.applicants, selected, own.pending, own.not_judged)
    return _is_flagged(changed, name, min_group)


def _group_impact(name: str, counts: dict[str, Counts], min_group: int) -> GroupImpact:
    own = counts[name]
    n, s = own.applicants, own.selected
    reference = _reference(counts, min_group)
    top_s, top_a = (
        (counts[reference].selected, counts[reference].applicants) if reference else (0, 0)
    )
    rest_n = sum(c.applicants for g, c in counts.items() if g != name)
    rest_s = sum(c.selected for g, c in counts.items() if g != name)
    rate = s / n if n else math.nan
    ratio = rate / (top_s / top_a) if n and top_s else math.nan
    flag = _is_flagged(counts, name, min_group)
    shortfall = 0
    if flag:
        num, den = FOUR_FIFTHS
        # smallest k with den*(s+k)*top_a >= num*top_s*n
        shortfall = -((den * s * top_a - num * top_s * n) // (den * top_a))
    fisher_p = _fisher(counts, name)
    z = math.nan
    if n and rest_n:
        pooled = (s + rest_s) / (n + rest_n)
        se = math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / rest_n))
        if se > 0:
            z = (s / n - rest_s / rest_n) / se
    changes = False
    if n:
        if s < n and _flag_with(counts, name, s + 1, min_group) != flag:
            changes = True
        if s > 0 and _flag_with(counts, name, s - 1, min_group) != flag:
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
        small_sample=n < min_group,
        one_applicant_changes=changes,
        not_judged=own.not_judged,
    )


def impact_table(
    passed: Sequence[bool | None] | pd.Series,
    groups: Sequence[str] | pd.Series,
    *,
    measure: str,
    dimension: str,
    min_group: int = DEFAULT_MIN_GROUP,
    judged: Sequence[bool] | pd.Series | None = None,
) -> ImpactTable:
    """Compare groups on one yes/no measure; ``None`` (or NaN) in ``passed`` means pending.

    ``judged`` (default: everybody) is False where a passing status judged nothing
    (condition, not applicable); a criterion that judged nobody is not applicable.
    """
    frame = pd.DataFrame(
        {
            "group": pd.Series(groups, dtype=object).to_numpy(),
            "passed": pd.Series(passed, dtype="float64").to_numpy(),  # None -> NaN
            "unjudged": ~pd.Series(
                [True] * len(groups) if judged is None else judged, dtype=bool
            ).to_numpy(),
        }
    )
    grouped = frame.groupby("group", sort=True)
    decided, selected = grouped["passed"].count(), grouped["passed"].sum()
    total, unjudged = grouped.size(), grouped["unjudged"].sum()
    tallies = {
        str(g): Counts(
            int(decided[g]), int(selected[g]), int(total[g] - decided[g]), int(unjudged[g])
        )
        for g in total.index
    }
    return impact_table_from_counts(
        tallies, measure=measure, dimension=dimension, min_group=min_group
    )


def impact_table_from_counts(
    counts: dict[str, Counts],
    *,
    measure: str,
    dimension: str,
    min_group: int = DEFAULT_MIN_GROUP,
) -> ImpactTable:
    """Compare groups from their counts (decided, selected, pending) per group label."""
    tallies = dict(counts)
    unknown = tallies.pop(UNKNOWN, Counts(0, 0, 0))
    everybody = [*tallies.values(), unknown]
    judged = sum(c.applicants + c.pending - c.not_judged for c in everybody)
    return ImpactTable(
        measure=measure,
        dimension=dimension,
        reference_group=_reference(tallies, min_group),
        groups=[_group_impact(g, tallies, min_group) for g in sorted(tallies)],
        unknown=unknown,
        min_group=min_group,
        applicable=measure == OVERALL or judged > 0,
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
#: passing statuses that judged nothing at screening
UNJUDGED_STATUSES = frozenset({Status.condition.value, Status.not_applicable.value})


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
    min_group: int = DEFAULT_MIN_GROUP,
) -> ImpactReport:
    """The full report: overall and per criterion, by sex, race/ethnicity and both.

    ``min_group``: decided applicants a group needs to be the reference group or to be
    flagged by the four-fifths ratio alone.
    """
    overall = _measure(frame[outcome_column], _OUTCOME_PASSED, "outcome")
    measures: list[tuple[str, pd.Series, pd.Series | None]] = [(OVERALL, overall, None)]
    for criterion in criteria:
        values = (
            frame[criterion]
            if criterion in frame.columns
            else pd.Series([None] * len(frame), index=frame.index, dtype=object)
        )
        judged = ~values.astype(object).isin(UNJUDGED_STATUSES)
        measures.append((criterion, _measure(values, _STATUS_PASSED, "status"), judged))
    labels = {dimension: _dimension_series(frame, dimension) for dimension in DIMENSIONS}
    tables = [
        impact_table(
            passed,
            labels[dimension],
            measure=measure,
            dimension=dimension,
            min_group=min_group,
            judged=judged,
        )
        for measure, passed, judged in measures
        for dimension in DIMENSIONS
    ]
    return ImpactReport(
        applicants=len(frame),
        selected=int((overall == 1.0).sum()),
        pending=int(overall.isna().sum()),
        tables=tables,
        source=source,
        min_group=min_group,
    )
