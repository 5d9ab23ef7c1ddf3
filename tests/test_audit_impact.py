"""Adverse-impact figures: hand-checked cases and a cross-check against fairlearn."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, selection_rate
from scipy.stats import fisher_exact

from screening.audit.impact import (
    OVERALL,
    UNKNOWN,
    ImpactReport,
    dimension_labels,
    impact_report,
    impact_table,
    normalise_group,
)
from screening.audit.report import (
    impact_csv,
    impact_html,
    impact_text,
    neutralise,
    reference_note,
)

CRITERIA = ["typical.education", "typical.experience"]


def frame_from(groups: dict[str, tuple[int, int, int]], column: str = "eeo_sex") -> pd.DataFrame:
    """(qualified, not_qualified, needs_review) per group label -> a decisions table."""
    rows = []
    for label, (qualified, rejected, pending) in groups.items():
        rows += [{column: label, "final_outcome": "qualified"}] * qualified
        rows += [{column: label, "final_outcome": "not_qualified"}] * rejected
        rows += [{column: label, "final_outcome": "needs_review"}] * pending
    return pd.DataFrame(rows)


def table_of(report: ImpactReport, measure: str, dimension: str) -> dict[str, Any]:
    table = next(t for t in report.tables if t.measure == measure and t.dimension == dimension)
    return {"table": table, **{g.group: g for g in table.groups}}


def test_rates_ratios_and_four_fifths_flag_match_a_hand_computation() -> None:
    # women 48/80 = 0.60, men 30/40 = 0.75 -> ratio 0.8 exactly: NOT flagged (< 4/5 flags)
    frame = frame_from({"Female": (48, 32, 5), "Male": (30, 10, 0)})
    by = table_of(impact_report(frame, []), OVERALL, "sex")
    women, men = by["Female"], by["Male"]
    assert by["table"].reference_group == "Male"
    assert (women.applicants, women.selected, women.pending) == (80, 48, 5)
    assert women.selection_rate == pytest.approx(0.6)
    assert women.impact_ratio == pytest.approx(0.8)
    assert women.four_fifths_flag is False
    assert women.shortfall == 0
    assert men.impact_ratio == pytest.approx(1.0)
    # one woman fewer selected would flag: the conclusion hangs on one applicant
    assert women.one_applicant_changes is True


def test_flagged_group_gets_shortfall_fisher_and_z_against_the_rest() -> None:
    frame = frame_from({"Female": (20, 60, 0), "Male": (40, 40, 0)})
    by = table_of(impact_report(frame, []), OVERALL, "sex")
    women = by["Female"]
    assert women.four_fifths_flag is True
    assert women.impact_ratio == pytest.approx(0.5)
    # 4/5 of 0.5 = 0.4 -> 32 of 80 needed, 20 selected -> 12 short
    assert women.shortfall == 12
    assert women.fisher_p == pytest.approx(fisher_exact([[20, 60], [40, 40]]).pvalue)
    pooled = 60 / 160
    z = (0.25 - 0.5) / math.sqrt(pooled * (1 - pooled) * (1 / 80 + 1 / 80))
    assert women.z == pytest.approx(z)
    assert women.small_sample is False
    assert women.one_applicant_changes is False


def test_one_more_selection_clears_a_borderline_flag() -> None:
    # 31/40 = 0.775 vs 1.0 -> 0.775 flagged; 32/40 = 0.8 is not
    frame = frame_from({"A": (31, 9, 0), "B": (40, 0, 0)}, column="eeo_race_ethnicity")
    group = table_of(impact_report(frame, []), OVERALL, "race_ethnicity")["A"]
    assert group.four_fifths_flag is True
    assert group.shortfall == 1
    assert group.one_applicant_changes is True


def test_small_sample_warning_for_few_applicants_or_small_expected_counts() -> None:
    few = table_of(
        impact_report(frame_from({"F": (5, 5, 0), "M": (50, 50, 0)}), []), OVERALL, "sex"
    )
    assert few["F"].small_sample is True
    # 40 in each group, but only 2 rejections overall: expected count < 5
    rare = table_of(
        impact_report(frame_from({"F": (39, 1, 0), "M": (39, 1, 0)}), []), OVERALL, "sex"
    )
    assert rare["F"].small_sample is True
    big = table_of(
        impact_report(frame_from({"F": (30, 30, 0), "M": (30, 30, 0)}), []), OVERALL, "sex"
    )
    assert big["F"].small_sample is False


def test_unknown_and_declined_answers_are_counted_apart_and_compared_with_nobody() -> None:
    frame = frame_from(
        {"Female": (10, 10, 0), "Male": (10, 10, 0), "Decline to state": (3, 1, 2), "": (1, 0, 0)}
    )
    frame.loc[len(frame)] = {"eeo_sex": None, "final_outcome": "not_qualified"}
    table = table_of(impact_report(frame, []), OVERALL, "sex")["table"]
    assert [g.group for g in table.groups] == ["Female", "Male"]
    unknown = table.unknown
    assert (unknown.applicants, unknown.selected, unknown.pending) == (6, 4, 2)
    female = table.groups[0]
    # compared with Male only: 10/20 vs 10/20
    assert female.fisher_p == pytest.approx(1.0)
    assert female.z == pytest.approx(0.0)


def test_group_labels_merge_case_and_spacing_variants() -> None:
    assert normalise_group(["Female", " female ", "FEMALE", "Prefer not to say", float("nan")]) == [
        "Female",
        "Female",
        "Female",
        UNKNOWN,
        UNKNOWN,
    ]


def test_intersection_labels_need_both_answers() -> None:
    frame = pd.DataFrame(
        {"eeo_sex": ["Female", "Male", None], "eeo_race_ethnicity": ["Asian", "", "White"]}
    )
    assert dimension_labels(frame, "sex x race_ethnicity") == ["Female / Asian", UNKNOWN, UNKNOWN]


def test_criterion_passing_failing_and_review() -> None:
    frame = pd.DataFrame(
        {
            "eeo_sex": ["F", "F", "F", "F", "F", "M", "M", "M"],
            "final_outcome": ["qualified"] * 8,
            "typical.education": [
                "met",
                "substituted",
                "condition",
                "not_applicable",
                "review",
                "not_met",
                "not_met",
                "met",
            ],
            "typical.experience": ["met"] * 8,
        }
    )
    by = table_of(impact_report(frame, CRITERIA), "typical.education", "sex")
    assert (by["F"].applicants, by["F"].selected, by["F"].pending) == (4, 4, 1)
    assert (by["M"].applicants, by["M"].selected, by["M"].pending) == (3, 1, 0)
    assert by["M"].four_fifths_flag is True


def test_no_selections_at_all_flags_nobody() -> None:
    by = table_of(impact_report(frame_from({"F": (0, 10, 0), "M": (0, 12, 0)}), []), OVERALL, "sex")
    assert by["F"].four_fifths_flag is False
    assert math.isnan(by["F"].impact_ratio)


def test_unknown_outcome_is_rejected_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="unknown outcome 'hired'"):
        impact_report(pd.DataFrame({"final_outcome": ["hired"]}), [])


def _mixed_frame() -> pd.DataFrame:
    sexes = ["Female", "Male", "Female", "Male", "Nonbinary", "Declined"]
    races = ["Asian", "Black or African American", "White", "Hispanic or Latino", "White"]
    outcomes = [
        "qualified",
        "not_qualified",
        "qualified",
        "needs_review",
        "not_qualified",
        "qualified",
        "not_qualified",
    ]
    education = ["met", "not_met", "substituted", "review", "met", "not_met", "met", "met"]
    n = 997
    return pd.DataFrame(
        {
            "eeo_sex": [sexes[(i * 7) % len(sexes)] for i in range(n)],
            "eeo_race_ethnicity": [races[(i * 3 + i // 11) % len(races)] for i in range(n)],
            "final_outcome": [outcomes[(i * 5 + i // 13) % len(outcomes)] for i in range(n)],
            "typical.education": [education[(i + i // 7) % len(education)] for i in range(n)],
            "typical.experience": ["met" if i % 4 else "not_met" for i in range(n)],
        }
    )


@pytest.mark.parametrize("measure", [OVERALL, *CRITERIA])
@pytest.mark.parametrize("dimension", ["sex", "race_ethnicity", "sex x race_ethnicity"])
def test_rates_and_ratios_agree_with_fairlearn(measure: str, dimension: str) -> None:
    frame = _mixed_frame()
    report = impact_report(frame, CRITERIA)
    table = next(t for t in report.tables if t.measure == measure and t.dimension == dimension)
    labels = pd.Series(dimension_labels(frame, dimension))
    if measure == OVERALL:
        decided = frame["final_outcome"] != "needs_review"
        selected = frame["final_outcome"] == "qualified"
    else:
        decided = frame[measure] != "review"
        selected = frame[measure].isin(["met", "substituted", "condition", "not_applicable"])
    keep = decided & (labels != UNKNOWN)
    metrics = MetricFrame(
        metrics=selection_rate,
        y_true=selected[keep].astype(int),
        y_pred=selected[keep].astype(int),
        sensitive_features=labels[keep],
    )
    by_group = metrics.by_group
    ratios = by_group / by_group.max()
    assert sorted(g.group for g in table.groups) == sorted(by_group.index)
    for group in table.groups:
        assert group.selection_rate == pytest.approx(by_group[group.group])
        assert group.impact_ratio == pytest.approx(ratios[group.group])
    assert min(g.impact_ratio for g in table.groups) == pytest.approx(
        metrics.ratio(method="between_groups")
    )


def test_report_round_trips_through_its_stored_form() -> None:
    report = impact_report(_mixed_frame(), CRITERIA)
    again = ImpactReport.from_dict(report.to_dict())
    pd.testing.assert_frame_equal(again.to_frame(), report.to_frame())


def test_impact_table_rejects_nothing_silently_when_all_unknown() -> None:
    table = impact_table([True, False, None], [UNKNOWN] * 3, measure=OVERALL, dimension="sex")
    assert table.groups == []
    assert table.reference_group is None
    assert (table.unknown.applicants, table.unknown.selected, table.unknown.pending) == (2, 1, 1)


def test_csv_neutralises_formula_like_group_labels() -> None:
    frame = frame_from({"=HYPERLINK(1)": (3, 1, 0), "Male": (2, 2, 0)})
    text = impact_csv(impact_report(frame, []))
    assert "'=HYPERLINK(1)" in text
    assert ",=HYPERLINK" not in text
    assert neutralise("-12.5") == "-12.5"
    assert neutralise("-x") == "'-x"


def test_a_small_reference_group_is_called_out() -> None:
    frame = frame_from({"A": (2, 0, 0), "B": (40, 60, 0), "C": (45, 55, 0)})
    table = table_of(impact_report(frame, []), OVERALL, "sex")["table"]
    assert reference_note(table) == (
        "A — only 2 decided applicant(s): a small sample, so ratios against it are unstable"
    )
    text = impact_text(impact_report(frame, []))
    assert "reference group: A — only 2 decided applicant(s)" in text
    big = table_of(
        impact_report(frame_from({"A": (40, 0, 0), "B": (40, 60, 0)}), []), OVERALL, "sex"
    )
    assert reference_note(big["table"]) == "A"


def test_html_page_is_escaped_and_has_every_table() -> None:
    frame = frame_from({"<b>F</b>": (3, 1, 0), "Male": (2, 2, 0)})
    report = impact_report(frame, CRITERIA)
    page = impact_html(report, {"title": "Adverse-impact report — run 7", "spec": "x & y"})
    assert "<b>F</b>" not in page and "&lt;b&gt;F&lt;/b&gt;" in page
    assert "x &amp; y" in page
    assert page.count("<table>") == len(report.tables) == 9
    assert 'class="flag"' in page
