"""Adverse-impact figures: hand-checked cases and a cross-check against fairlearn."""

from __future__ import annotations

import io
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
    reference_note,
)
from screening.export import neutralise

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


def test_reference_is_the_highest_rate_among_groups_of_at_least_min_group() -> None:
    # A has the highest rate (2 of 2) but only 2 decided applicants: never the reference
    frame = frame_from({"A": (2, 0, 0), "B": (40, 60, 0), "C": (45, 55, 0)})
    by = table_of(impact_report(frame, []), OVERALL, "sex")
    assert by["table"].reference_group == "C"
    assert by["A"].small_sample is True and by["A"].four_fifths_flag is False
    assert by["B"].impact_ratio == pytest.approx(0.40 / 0.45)
    assert by["B"].four_fifths_flag is False and by["C"].four_fifths_flag is False
    # the setting: with groups of 2 allowed, A is the reference and flags both others
    low = table_of(impact_report(frame, [], min_group=2), OVERALL, "sex")
    assert low["table"].reference_group == "A"
    assert low["B"].four_fifths_flag is True and low["C"].four_fifths_flag is True
    # no group large enough: no reference and no ratio flag, the counts and p are shown
    none = table_of(impact_report(frame, [], min_group=500), OVERALL, "sex")
    assert none["table"].reference_group is None
    assert not any(g.four_fifths_flag for g in none["table"].groups)
    assert none["B"].fisher_p == pytest.approx(fisher_exact([[40, 60], [47, 55]]).pvalue)
    assert "none: no group has 500 or more decided applicants" in reference_note(none["table"])


def test_a_small_group_is_flagged_only_with_a_significant_exact_test() -> None:
    # both small groups are far below four-fifths of B (0.6); only S2's shortfall is
    # significant by Fisher's exact test
    frame = frame_from({"B": (60, 40, 0), "S1": (3, 7, 0), "S2": (1, 19, 0)})
    by = table_of(impact_report(frame, []), OVERALL, "sex")
    assert by["table"].reference_group == "B"
    s1, s2 = by["S1"], by["S2"]
    assert s1.small_sample and s2.small_sample
    assert s1.impact_ratio == pytest.approx(0.5) and s2.impact_ratio == pytest.approx(0.05 / 0.6)
    assert s1.fisher_p == pytest.approx(fisher_exact([[3, 7], [61, 59]]).pvalue)
    assert s2.fisher_p == pytest.approx(fisher_exact([[1, 19], [63, 47]]).pvalue)
    assert s1.fisher_p > 0.05 > s2.fisher_p
    assert s1.four_fifths_flag is False  # the ratio alone flags no small group
    assert s2.four_fifths_flag is True
    assert s2.shortfall == 9  # 4/5 of 0.6 = 0.48 -> 10 of 20 needed, 1 selected
    # a large group below four-fifths is flagged by the ratio alone, significant or not
    big = table_of(
        impact_report(frame_from({"B": (60, 40, 0), "L": (14, 16, 0)}), [], min_group=30),
        OVERALL,
        "sex",
    )
    assert big["L"].fisher_p > 0.05 and big["L"].four_fifths_flag is True


def test_a_criterion_nobody_was_judged_on_is_labelled_not_applicable() -> None:
    frame = frame_from({"Female": (30, 20, 4), "Male": (25, 25, 3)})
    frame["typical.education"] = "met"
    frame["ca_drivers_license"] = "condition"
    frame.loc[frame.index % 2 == 1, "ca_drivers_license"] = "not_applicable"
    report = impact_report(frame, ["typical.education", "ca_drivers_license"])
    license_tables = [t for t in report.tables if t.measure == "ca_drivers_license"]
    assert license_tables and not any(t.applicable for t in license_tables)
    assert all(t.applicable for t in report.tables if t.measure != "ca_drivers_license")
    text = impact_text(report)
    section = text.split("Criterion ca_drivers_license by sex\n")[1].split("\n\n")[0]
    assert section.startswith("  not applicable: nobody was judged on this criterion")
    assert "small" not in section
    csv = pd.read_csv(io.StringIO(impact_csv(report)), keep_default_na=False)
    rows = csv[csv.measure == "ca_drivers_license"]
    assert set(rows.note) == {"criterion not applicable"}
    assert not rows.small_group.astype(str).isin(["True"]).any()
    page = impact_html(report, {})
    assert page.count("Not applicable: nobody was judged on this criterion") == 3
    assert page.count("<table>") == len(report.tables) - 3


def test_pending_applicants_are_counted_apart_and_the_report_says_so() -> None:
    frame = frame_from({"Female": (30, 20, 4), "Male": (25, 25, 3)})
    report = impact_report(frame, [])
    assert (report.applicants, report.pending, report.selected) == (107, 7, 55)
    text = impact_text(report)
    assert text.startswith("applicants: 107 (100 decided, 7 pending review — pending ")
    assert "counted apart and left out of every rate" in text.splitlines()[0]
    csv = pd.read_csv(io.StringIO(impact_csv(report)), keep_default_na=False)
    women = csv[(csv.dimension == "sex") & (csv.group == "Female")].iloc[0]
    assert (women.applicants, women.decided, women.pending, women.selected) == (54, 50, 4, 30)
    page = impact_html(report, {})
    assert "<dt>pending review</dt><dd>7 (counted apart and left out of every rate)</dd>" in page
    assert "<th>decided</th>" in page and "<th>pending</th>" in page


def test_min_group_is_a_report_setting_that_stored_counts_can_be_judged_again_with() -> None:
    frame = frame_from({"A": (2, 0, 0), "B": (40, 60, 3), "C": (45, 55, 1)})
    report = impact_report(frame, CRITERIA)
    again = report.with_min_group(2)
    fresh = impact_report(frame, CRITERIA, min_group=2)
    assert again.min_group == 2
    pd.testing.assert_frame_equal(again.to_frame(), fresh.to_frame())
    # a summary stored by an earlier release (no setting, no applicability) still reads
    old = report.to_dict()
    old.pop("min_group")
    for table in old["tables"]:
        table.pop("min_group"), table.pop("applicable")
        for group in table["groups"]:
            group.pop("not_judged")
    pd.testing.assert_frame_equal(
        ImpactReport.from_dict(old).with_min_group(2).to_frame(), fresh.to_frame()
    )
    with pytest.raises(ValueError, match="must be 0 or more"):
        report.with_min_group(-1)


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
    by = table_of(impact_report(frame, CRITERIA, min_group=1), "typical.education", "sex")
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
    report = impact_report(frame, CRITERIA, min_group=1)  # every group may be the reference
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


def test_html_page_is_escaped_and_has_every_table() -> None:
    frame = frame_from({"<b>F</b>": (3, 1, 0), "Male": (2, 2, 0)})
    report = impact_report(frame, CRITERIA, min_group=1)
    page = impact_html(report, {"title": "Adverse-impact report — run 7", "spec": "x & y"})
    assert "<b>F</b>" not in page and "&lt;b&gt;F&lt;/b&gt;" in page
    assert "x &amp; y" in page
    assert page.count("<table>") == len(report.tables) == 9
    assert 'class="flag"' in page
