"""Pieces several pages show: charts, the errors table, the override form."""

from __future__ import annotations

import hashlib
from typing import cast

import altair as alt
import pandas as pd
import streamlit as st

from app_pages.ledger import AuditLedger
from app_pages.state import Run, record_run, reviewer_default, signed_in
from app_pages.text import plain
from screening.charts import (
    OUTCOME_ORDER,
    job_timeline,
    outcome_counts_frame,
    rejections_by_criterion,
    required_years,
    years_cap,
    years_distribution,
)
from screening.results import Decision, Outcome
from screening.review import ReviewError

OUTCOME_COLOURS = alt.Scale(domain=OUTCOME_ORDER, range=["#2e7d32", "#c62828", "#f9a825"])
ERROR_TABLE_COLUMNS = [
    "file",
    "row",
    "applicant_id",
    "column",
    "value",
    "problem",
    "fix",
    "severity",
]


def outcome_chart(run: Run) -> alt.Chart:
    """Bar chart of applicants per outcome."""
    data = outcome_counts_frame(run.result)
    return cast(
        alt.Chart,
        alt.Chart(data, title="Outcomes")
        .mark_bar()
        .encode(
            x=alt.X("applicants:Q", title="applicants"),
            y=alt.Y("outcome:N", sort=OUTCOME_ORDER, title=None),
            color=alt.Color("outcome:N", scale=OUTCOME_COLOURS, legend=None),
            tooltip=["outcome", "applicants"],
        ),
    )


def rejection_chart(run: Run) -> alt.Chart:
    """Which criterion rejects most: rejected applicants failing each criterion."""
    data = rejections_by_criterion(run.result)
    return cast(
        alt.Chart,
        alt.Chart(data, title="Rejected applicants failing each criterion")
        .mark_bar(color="#c62828")
        .encode(
            x=alt.X("rejected:Q", title="rejected applicants"),
            y=alt.Y("criterion:N", sort="-x", title=None),
            tooltip=["criterion", "rejected"],
        ),
    )


def years_chart(run: Run) -> alt.LayerChart:
    """Histogram of qualifying years, with the required years as rules."""
    data = years_distribution(run.result)
    cap = years_cap(run.result.spec)
    bars = (
        alt.Chart(data, title="Qualifying years against the requirement")
        .mark_bar()
        .encode(
            x=alt.X(
                "shown_years:Q",
                bin=alt.Bin(step=1, extent=[0, cap]),
                title=f"qualifying years (last bar: {cap:g} or more)",
            ),
            y=alt.Y("count():Q", title="applicants"),
            color=alt.Color("outcome:N", scale=OUTCOME_COLOURS, title="outcome"),
        )
    )
    lines = (
        alt.Chart(required_years(run.result.spec))
        .mark_rule(strokeDash=[4, 3], color="black")
        .encode(x="years:Q", tooltip=["label", "years"])
    )
    return cast(alt.LayerChart, alt.layer(bars, lines))


def timeline_chart(decision: Decision, run: Run) -> alt.Chart | None:
    """The applicant's jobs over time, coloured by whether they earn qualifying credit."""
    data = job_timeline(decision, run.result.as_of)
    if not len(data):
        return None
    colours = alt.Scale(
        domain=["qualifying credit", "possible credit", "no credit"],
        range=["#2e7d32", "#f9a825", "#9e9e9e"],
    )
    return cast(
        alt.Chart,
        alt.Chart(data, title="Jobs over time")
        .mark_bar(cornerRadius=3)
        .encode(
            x=alt.X("start:T", title=None),
            x2="end:T",
            y=alt.Y("job:N", title=None, sort=None, axis=alt.Axis(labelLimit=320)),
            color=alt.Color("credit:N", scale=colours, title=None),
            tooltip=["job", "requirement", "classification", "years", "start", "end"],
        ),
    )


def errors_table(errors: pd.DataFrame) -> None:
    """Row errors and warnings as a table: row, column, value, problem, fix."""
    if not len(errors):
        st.success("No row errors or warnings.")
        return
    st.dataframe(
        errors[ERROR_TABLE_COLUMNS],
        hide_index=True,
        width="stretch",
        key="errors_table",
        placeholder="",
    )


def outcome_badge(outcome: str) -> str:
    """An outcome in words, with a colour."""
    colour = {"qualified": "green", "not_qualified": "red", "needs_review": "orange"}[outcome]
    return f":{colour}[**{outcome.replace('_', ' ')}**]"


def status_badge(status: str) -> str:
    """A criterion status in words, with a colour."""
    colour = {
        "met": "green", "substituted": "green", "not_met": "red", "review": "orange",
        "condition": "blue", "not_applicable": "gray",
    }[status]  # fmt: skip
    return f":{colour}[{status.replace('_', ' ')}]"


def content_key(prefix: str, *parts: object) -> str:
    """A widget key naming what the widget is about, so a new subject is a new widget.

    Streamlit keeps a widget's value (in the browser too) for as long as its key lives; a
    key made from the subject means a value chosen for one group or applicant can never
    stand for another.
    """
    digest = hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:16]
    return f"{prefix}_{digest}"


def override_form(run: Run, applicant_id: str, key: str) -> None:
    """Record a reviewer's outcome for the applicant named; a justification is required.

    The form's widgets are keyed by the applicant, so what is typed or chosen for one
    applicant is never recorded against another; no outcome is preselected.
    """
    overrides = [o for o in run.ledger.overrides() if o.applicant_id == applicant_id]
    engine = run.result.results.loc[
        run.result.results["applicant_id"] == applicant_id, "outcome"
    ].iloc[0]
    current = overrides[-1].to_outcome if overrides else engine
    if overrides:
        st.markdown(
            f"Engine: {outcome_badge(engine)} · Reviewer: {outcome_badge(current)} "
            f"({plain(overrides[-1].reviewer)}: “{plain(overrides[-1].justification)}”)"
        )
    subject = override_key(key, applicant_id)
    with st.form(f"override_{subject}", clear_on_submit=False):
        st.markdown(f"Decision on applicant **{plain(applicant_id)}**")
        choices = [o.value for o in Outcome if o.value != Outcome.needs_review.value]
        to_outcome = st.radio(
            "Reviewer's decision",
            choices,
            index=None,
            horizontal=True,
            key=f"override_to_{subject}",
        )
        justification = st.text_area(
            "Justification (required)",
            key=f"override_why_{subject}",
            placeholder="Why, with the evidence checked",
        )
        if signed_in():
            reviewer = reviewer_default()
            st.caption(f"Recorded as {plain(reviewer)}")
        else:
            reviewer = st.text_input(
                "Your name (recorded with the decision)",
                value=st.session_state.get("reviewer_name", ""),
                key=f"override_reviewer_{subject}",
            )
        submitted = st.form_submit_button("Record decision")
    if submitted:
        if reviewer.strip():
            st.session_state["reviewer_name"] = reviewer.strip()
        try:
            with st.spinner(f"Recording in {run.ledger.where}…"):
                override = run.ledger.record(
                    applicant_id,
                    to_outcome=str(to_outcome or ""),
                    reviewer=reviewer,
                    justification=justification,
                )
        except ReviewError as exc:
            st.error(f"Not recorded: {plain(exc)}.")
        else:
            st.success(
                f"Recorded in {run.ledger.where}: {plain(applicant_id)} {override.from_outcome} → "
                f"{override.to_outcome} by {plain(override.reviewer)}."
            )


def override_key(form: str, applicant_id: str) -> str:
    """The suffix of the override form's widget keys for one applicant (``override_to_…``)."""
    return content_key(form, applicant_id)


def run_record_status(run: Run, key: str) -> None:
    """Whether the screening on screen is an audit run: its id, or the button recording it.

    A page load or a rerun records nothing; the user records a screening by starting it (an
    upload, a settled judgement) or with this button.
    """
    ledger = run.ledger
    if not isinstance(ledger, AuditLedger):
        return
    if not ledger.started:
        columns = st.columns([4, 1], vertical_alignment="center")
        columns[0].info(
            "This screening is not recorded in the audit store yet. Record it to keep it as "
            "an audit run (a review decision records it too)."
        )
        if columns[1].button("Record this screening", key=f"record_run_{key}", type="primary"):
            record_run(run)
            with st.spinner("Recording the run in the audit store…"):
                try:
                    ledger.run_id(timeout=600)
                except ReviewError as exc:
                    st.error(plain(exc))
                    return
            st.rerun()
        return
    _recording_status(ledger)


def _show_recording(ledger: AuditLedger) -> None:
    """Show where the recording stands: the run id, the failure, or that it is under way."""
    run_id = ledger.recorded_run_id
    if run_id is not None:
        st.success(
            f"Recorded as **audit run {run_id}** — `screening audit show {run_id}` on the "
            "command line, or the Audit page."
        )
        return
    if ledger.recording_error is not None:
        st.error(f"Not recorded in the audit store: {plain(ledger.recording_error)}")
        return
    st.info("Being recorded in the audit store; the run id shows here when it is done.")


@st.fragment(run_every=1.0)
def _await_recording(ledger: AuditLedger) -> None:
    """Checks every second; once the recording is settled, the page shows it without this."""
    if _recording_settled(ledger):
        st.rerun()
    _show_recording(ledger)


def _recording_settled(ledger: AuditLedger) -> bool:
    return ledger.recorded_run_id is not None or ledger.recording_error is not None


def _recording_status(ledger: AuditLedger) -> None:
    """The recording's state; while it is under way, a part of the page that checks again."""
    if _recording_settled(ledger):
        _show_recording(ledger)
    else:
        _await_recording(ledger)
