"""The adverse-impact report as text, CSV and a printable HTML page.

Only aggregates appear here: counts and rates per group, never a row per applicant.
"""

from __future__ import annotations

import html
import io
import math
from typing import Any

import pandas as pd

from screening.audit.impact import (
    FOUR_FIFTHS,
    NOT_APPLICABLE_NOTE,
    OVERALL,
    SIGNIFICANCE,
    UNKNOWN,
    ImpactReport,
    ImpactTable,
    group_note,
)
from screening.export import neutralise


def method(min_group: int) -> list[str]:
    """How the figures are computed, in sentences (the report's method section)."""
    return [
        "Selected means the final outcome 'qualified' after review. Applicants still pending "
        "review are counted apart (the 'pending' column) and left out of every rate: "
        "'decided' is what the rates are of, 'applicants' counts everybody.",
        "For a criterion, passing means met, substituted, condition or not applicable; failing "
        "means not met; applicants in review on that criterion are counted apart. A criterion "
        "nobody was judged on at screening (every status condition or not applicable) is "
        "marked not applicable.",
        f"Reference group: the highest selection rate among groups with at least {min_group} "
        "decided applicants. Impact ratio: the group's selection rate divided by the "
        f"reference group's. Flagged when below {FOUR_FIFTHS[0]}/{FOUR_FIFTHS[1]} "
        "(29 CFR 1607.4D).",
        f"A group with fewer than {min_group} decided applicants is shown with its counts and "
        "Fisher's exact test; it is never the reference, and it is flagged only when it is "
        f"below four-fifths and Fisher's exact p is below {SIGNIFICANCE:g}, never by the ratio "
        "alone.",
        "Fisher's exact p and the pooled two-proportion z compare the group with all other groups "
        "that answered; unknown/declined answers form no comparison group.",
        "Shortfall: how many more selections a flagged group would need to reach four-fifths of "
        "the reference group's rate.",
        "One applicant changes it: moving a single applicant of the group between selected and "
        "not selected would change whether the group is flagged.",
    ]


def report_frame(report: ImpactReport) -> pd.DataFrame:
    """The report's rows, numbers rounded for reading, counts as integers."""
    frame = report.to_frame()
    for column in ("selection_rate", "impact_ratio", "z"):
        frame[column] = frame[column].astype(float).round(4)
    frame["fisher_p"] = frame["fisher_p"].astype(float).round(6)
    for column in ("applicants", "decided", "pending", "selected", "shortfall"):
        frame[column] = frame[column].astype("Int64")
    return frame


def impact_csv(report: ImpactReport) -> str:
    """The report as CSV text (one row per measure, dimension and group)."""
    frame = report_frame(report)
    for column in ("measure", "dimension", "reference_group", "group", "note"):
        frame[column] = frame[column].map(neutralise)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue()


def _number(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _title(table: ImpactTable) -> str:
    measure = "Overall outcome" if table.measure == OVERALL else f"Criterion {table.measure}"
    return f"{measure} by {table.dimension.replace('_', '/').replace(' x ', ' × ')}"


def reference_note(table: ImpactTable) -> str:
    """The reference group and why it is the one (or why there is none)."""
    if not table.applicable:
        return NOT_APPLICABLE_NOTE
    if table.reference_group is None:
        return (
            f"none: no group has {table.min_group} or more decided applicants, so no group is "
            "flagged by the four-fifths ratio; read the counts and Fisher's exact test"
        )
    return (
        f"{table.reference_group} (highest selection rate among groups with at least "
        f"{table.min_group} decided applicants)"
    )


def totals_line(report: ImpactReport) -> str:
    """Everybody, selected, and the pending applicants the rates leave out."""
    decided = report.applicants - report.pending
    return (
        f"applicants: {report.applicants} ({decided} decided, {report.pending} pending review "
        f"— pending applicants are counted apart and left out of every rate); selected: "
        f"{report.selected}; minimum group size: {report.min_group} decided applicants"
    )


def impact_text(report: ImpactReport) -> str:
    """A plain-text rendering for the terminal."""
    lines = [f"{totals_line(report)} ({report.source})"]
    header = (
        f"  {'group':<36} {'all':>6} {'decid':>6} {'pend':>5} {'sel':>6} {'rate':>6} "
        f"{'ratio':>6} {'4/5':>4} {'fisher p':>9} {'z':>7} {'short':>5}  notes"
    )
    for table in report.tables:
        if not table.applicable:
            lines += ["", _title(table), f"  {NOT_APPLICABLE_NOTE}"]
            continue
        lines += ["", _title(table), f"  reference group: {reference_note(table)}"]
        lines.append(header)
        for g in table.groups:
            lines.append(
                f"  {g.group[:36]:<36} {g.applicants + g.pending:>6} {g.applicants:>6} "
                f"{g.pending:>5} {g.selected:>6} {_number(g.selection_rate):>6} "
                f"{_number(g.impact_ratio):>6} {'FLAG' if g.four_fifths_flag else '':>4} "
                f"{_number(g.fisher_p, 4):>9} {_number(g.z, 2):>7} {g.shortfall:>5}  "
                f"{group_note(table, g)}"
            )
        u = table.unknown
        lines.append(
            f"  {UNKNOWN:<36} {u.applicants + u.pending:>6} {u.applicants:>6} {u.pending:>5} "
            f"{u.selected:>6}"
        )
    return "\n".join(lines) + "\n"


_CSS = """
body { font-family: Georgia, serif; margin: 2em; color: #111; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
h3 { font-size: 1em; margin: 1em 0 0.3em; }
table { border-collapse: collapse; margin-bottom: 0.8em; font-size: 0.9em; }
th, td { border: 1px solid #999; padding: 0.2em 0.5em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.flag td { background: #fde2e2; font-weight: bold; }
tr.unknown td { font-style: italic; color: #555; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dt { font-weight: bold; }
@media print { body { margin: 0.5in; } section { page-break-inside: avoid; } }
"""


def impact_html(report: ImpactReport, facts: dict[str, str]) -> str:
    """A self-contained, printable HTML page; ``facts`` describe the run (spec, date ...)."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(facts.get('title', 'Adverse-impact report'))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{e(facts.get('title', 'Adverse-impact report'))}</h1>",
        "<dl>",
    ]
    for key, value in facts.items():
        if key != "title":
            parts.append(f"<dt>{e(key)}</dt><dd>{e(value)}</dd>")
    decided = report.applicants - report.pending
    parts += [
        f"<dt>applicants</dt><dd>{report.applicants}</dd>",
        f"<dt>decided</dt><dd>{decided}</dd>",
        f"<dt>pending review</dt><dd>{report.pending} (counted apart and left out of every "
        "rate)</dd>",
        f"<dt>selected</dt><dd>{report.selected}</dd>",
        f"<dt>minimum group size</dt><dd>{report.min_group} decided applicants</dd>",
        f"<dt>figures</dt><dd>{e(report.source)}</dd>",
        "</dl>",
        "<h2>Method</h2><ul>",
        *(f"<li>{e(line)}</li>" for line in method(report.min_group)),
        "</ul>",
    ]
    columns = [
        "group",
        "applicants",
        "decided",
        "pending",
        "selected",
        "selection rate",
        "impact ratio",
        "below 4/5",
        "Fisher p",
        "z",
        "shortfall",
        "notes",
    ]
    current = None
    for table in report.tables:
        if table.measure != current:
            if current is not None:
                parts.append("</section>")
            current = table.measure
            heading = "Overall outcome" if current == OVERALL else f"Criterion {current}"
            parts.append(f"<section><h2>{e(heading)}</h2>")
        parts.append(f"<h3>{e(_title(table))}</h3>")
        if not table.applicable:
            parts.append(f'<p class="not-applicable">{e(reference_note(table).capitalize())}</p>')
            continue
        parts.append(f"<p>Reference group: {e(reference_note(table))}</p>")
        parts.append("<table><thead><tr>")
        parts += [f"<th>{e(c)}</th>" for c in columns]
        parts.append("</tr></thead><tbody>")
        for g in table.groups:
            cells = [
                g.group,
                g.applicants + g.pending,
                g.applicants,
                g.pending,
                g.selected,
                _number(g.selection_rate),
                _number(g.impact_ratio),
                "FLAG" if g.four_fifths_flag else "",
                _number(g.fisher_p, 4),
                _number(g.z, 2),
                g.shortfall,
                group_note(table, g),
            ]
            css = ' class="flag"' if g.four_fifths_flag else ""
            parts.append(f"<tr{css}>" + "".join(f"<td>{e(str(c))}</td>" for c in cells) + "</tr>")
        u = table.unknown
        unknown_cells = [UNKNOWN, u.applicants + u.pending, u.applicants, u.pending, u.selected]
        unknown_cells += ["–"] * 6 + ["compared with nobody"]
        parts.append(
            '<tr class="unknown">'
            + "".join(f"<td>{e(str(c))}</td>" for c in unknown_cells)
            + "</tr>"
        )
        parts.append("</tbody></table>")
    if current is not None:
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
