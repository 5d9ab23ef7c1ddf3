"""Applicant page: every criterion with its clause and reason, jobs, education, timeline."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import state
from app_pages.text import plain
from app_pages.widgets import outcome_badge, override_form, status_badge, timeline_chart
from screening.browse import applicant_names


def reason_sentence(criterion_id: str, reason: str) -> str:
    """A criterion's reason without its leading id (shown once, in bold, before it)."""
    return reason.removeprefix(f"{criterion_id}: ")


def page() -> None:
    """The applicant detail page."""
    st.title("Applicant")
    run = state.ensure_run()
    if run is None:
        return
    ids = [str(i) for i in run.result.results["applicant_id"]]
    if not ids:
        st.info("No applicant was screened in this batch; see the input problems.")
        return
    wanted = st.session_state.get("applicant_id")
    index = ids.index(wanted) if wanted in ids else 0
    names = dict(zip(ids, applicant_names(run.result), strict=True))
    applicant_id = st.selectbox(
        "Applicant id",
        ids,
        index=index,
        key="detail_applicant",
        format_func=lambda i: f"{i} · {names[i]}" if names[i] else i,
    )
    st.session_state["applicant_id"] = applicant_id
    decision = run.result.decision(applicant_id)
    overrides = [o for o in run.ledger.overrides() if o.applicant_id == applicant_id]

    name = names[applicant_id]
    line = f"### {plain(applicant_id)}" + (f" · {plain(name)}" if name else "")
    line += f" — {outcome_badge(decision.outcome.value)}"
    if overrides:
        line += f" → reviewer: {outcome_badge(overrides[-1].to_outcome)}"
    st.markdown(line)
    st.caption(
        f"Row {decision.row} of the applicants file · pattern {decision.pattern or '—'} · "
        f"qualifying experience {decision.qualifying_years:g} years"
        + (
            f" (up to {decision.possible_years:g} if uncertain evidence counts)"
            if decision.possible_years != decision.qualifying_years
            else ""
        )
    )
    # a principal reason is usually a criterion's own reason: say it once, with the criterion
    by_reason = {r: c.id for c in decision.criteria for r in (c.reason, f"{c.id}: {c.reason}")}
    principal = [by_reason[r] for r in decision.reasons if r in by_reason]
    if decision.reasons:
        st.markdown("**Principal reasons**")
        for reason in decision.reasons:
            if reason in by_reason:
                st.markdown(f"- **{plain(by_reason[reason])}** (below)")
            else:
                st.markdown(f"- {plain(reason)}")

    st.subheader("Criteria")
    for criterion in decision.criteria:
        mark = " · principal reason" if criterion.id in principal else ""
        st.markdown(
            f"**{plain(criterion.id)}** — {status_badge(criterion.status.value)}{mark}: "
            f"{plain(reason_sentence(criterion.id, criterion.reason))}"
        )
        if criterion.clause:
            st.caption(f"Clause: {plain(criterion.clause)}")
    if decision.conditions:
        st.markdown("**Conditions**")
        for condition in decision.conditions:
            st.markdown(f"- {plain(condition)}")

    st.subheader("Experience")
    chart = timeline_chart(decision, run)
    if chart is not None:
        st.altair_chart(chart, width="stretch")
    if decision.jobs:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "job": j.entry,
                        "requirement": j.requirement,
                        "title": j.title,
                        "employer": j.employer,
                        "industry": j.industry,
                        "start": j.start,
                        "end": j.end,
                        "hours/week": j.hours_per_week,
                        "qualifying %": j.qualifying_percent,
                        "classification": j.classification,
                        "what matched": j.matched,
                        "problem": j.problem,
                        "years counted": round(j.years, 2),
                    }
                    for j in decision.jobs
                ]
            ),
            hide_index=True,
            width="stretch",
            key="detail_jobs",
            placeholder="",
        )
    else:
        st.caption("No job entries.")

    st.subheader("Education")
    if decision.education:
        st.dataframe(
            pd.DataFrame([e.model_dump() for e in decision.education]),
            hide_index=True,
            width="stretch",
            key="detail_education",
            placeholder="",
        )
    else:
        st.caption("No education entries.")

    st.subheader("Review")
    override_form(run, applicant_id, key="detail")


page()
