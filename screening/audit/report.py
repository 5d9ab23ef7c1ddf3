"""The adverse-impact report as text, CSV and a printable HTML page.

Only aggregates appear here: counts and rates per group, never a row per applicant.
"""

from __future__ import annotations

import html
import io
import math
import re
from typing import Any

import pandas as pd

from screening.audit.impact import (
    FOUR_FIFTHS,
    OVERALL,
    SMALL_EXPECTED,
    SMALL_GROUP,
    UNKNOWN,
    ImpactReport,
    ImpactTable,
)

_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")

METHOD = [
    "Selected means the final outcome 'qualified' after review. Applicants still pending "
    "review are counted apart and left out of every rate.",
    "For a criterion, passing means met, substituted, condition or not applicable; failing "
    "means not met; applicants in review on that criterion are counted apart.",
    "Impact ratio: the group's selection rate divided by the highest group rate. Flagged when "
    f"below {FOUR_FIFTHS[0]}/{FOUR_FIFTHS[1]} (29 CFR 1607.4D).",
    "Fisher's exact p and the pooled two-proportion z compare the group with all other groups "
    "that answered; unknown/declined answers form no comparison group.",
    "Shortfall: how many more selections the group would need to reach four-fifths of the "
    "highest rate.",
    f"Small sample: fewer than {SMALL_GROUP} applicants in the group, or an expected count "
    f"below {SMALL_EXPECTED:g} in the group-versus-rest table; read such results with care.",
    "One applicant changes it: moving a single applicant of the group between selected and "
    "not selected would change whether the group is flagged.",
]


def neutralise(value: object) -> object:
    """Prefix a text cell that a spreadsheet would run as a formula with a quote."""
    formula_start = isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r")
    if formula_start and not _PLAIN_NUMBER.match(str(value)):
        return "'" + str(value)
    return value


def report_frame(report: ImpactReport) -> pd.DataFrame:
    """The report's rows, numbers rounded for reading, counts as integers."""
    frame = report.to_frame()
    for column in ("selection_rate", "impact_ratio", "z"):
        frame[column] = frame[column].astype(float).round(4)
    frame["fisher_p"] = frame["fisher_p"].astype(float).round(6)
    frame["shortfall"] = frame["shortfall"].astype("Int64")
    return frame


def impact_csv(report: ImpactReport) -> str:
    """The report as CSV text (one row per measure, dimension and group)."""
    frame = report_frame(report)
    for column in ("measure", "dimension", "reference_group", "group"):
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
    """The reference group, and a warning when it is too small to compare against."""
    if table.reference_group is None:
        return "no group has a decided applicant"
    reference = next(g for g in table.groups if g.group == table.reference_group)
    note = table.reference_group
    if reference.small_sample:
        note += (
            f" — only {reference.applicants} decided applicant(s): a small sample, so ratios "
            "against it are unstable"
        )
    return note


def impact_text(report: ImpactReport) -> str:
    """A plain-text rendering for the terminal."""
    lines = [
        f"applicants: {report.applicants}  selected: {report.selected}  "
        f"pending review: {report.pending}  ({report.source})"
    ]
    header = (
        f"  {'group':<36} {'n':>6} {'sel':>6} {'pend':>5} {'rate':>6} {'ratio':>6} "
        f"{'4/5':>4} {'fisher p':>9} {'z':>7} {'short':>5}  notes"
    )
    for table in report.tables:
        lines += ["", _title(table), f"  reference group: {reference_note(table)}", header]
        for g in table.groups:
            notes = ", ".join(
                n
                for n, on in (
                    ("small sample", g.small_sample),
                    ("one applicant changes it", g.one_applicant_changes),
                )
                if on
            )
            lines.append(
                f"  {g.group[:36]:<36} {g.applicants:>6} {g.selected:>6} {g.pending:>5} "
                f"{_number(g.selection_rate):>6} {_number(g.impact_ratio):>6} "
                f"{'FLAG' if g.four_fifths_flag else '':>4} {_number(g.fisher_p, 4):>9} "
                f"{_number(g.z, 2):>7} {g.shortfall:>5}  {notes}"
            )
        u = table.unknown
        lines.append(f"  {UNKNOWN:<36} {u.applicants:>6} {u.selected:>6} {u.pending:>5}")
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
    parts += [
        f"<dt>applicants</dt><dd>{report.applicants}</dd>",
        f"<dt>selected</dt><dd>{report.selected}</dd>",
        f"<dt>pending review</dt><dd>{report.pending}</dd>",
        f"<dt>figures</dt><dd>{e(report.source)}</dd>",
        "</dl>",
        "<h2>Method</h2><ul>",
        *(f"<li>{e(line)}</li>" for line in METHOD),
        "</ul>",
    ]
    columns = [
        "group",
        "applicants",
        "selected",
        "pending",
        "selection rate",
        "impact ratio",
        "below 4/5",
        "Fisher p",
        "z",
        "shortfall",
        "small sample",
        "one applicant changes it",
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
        parts.append(f"<p>Reference group: {e(reference_note(table))}</p>")
        parts.append("<table><thead><tr>")
        parts += [f"<th>{e(c)}</th>" for c in columns]
        parts.append("</tr></thead><tbody>")
        for g in table.groups:
            cells = [
                g.group,
                g.applicants,
                g.selected,
                g.pending,
                _number(g.selection_rate),
                _number(g.impact_ratio),
                "FLAG" if g.four_fifths_flag else "",
                _number(g.fisher_p, 4),
                _number(g.z, 2),
                g.shortfall,
                _number(g.small_sample),
                _number(g.one_applicant_changes),
            ]
            css = ' class="flag"' if g.four_fifths_flag else ""
            parts.append(f"<tr{css}>" + "".join(f"<td>{e(str(c))}</td>" for c in cells) + "</tr>")
        u = table.unknown
        unknown_cells = [UNKNOWN, u.applicants, u.selected, u.pending] + ["–"] * 8
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
