"""Audit page: run history, decision lookup, verification of the log, adverse impact.

Only aggregates of demographic data are shown (the impact report); never a per-applicant
demographic value.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pandas as pd
import streamlit as st

from app_pages import state
from app_pages.ledger import AuditLedger, audit, audit_available, audit_store
from app_pages.text import blank, plain, to_the_second
from app_pages.widgets import run_record_status
from screening.audit.impact import DEFAULT_MIN_GROUP
from screening.audit.report import report_frame, totals_line
from screening.charts import OUTCOME_ORDER
from screening.review import ReviewError


def this_session(run: state.Run | None) -> None:
    """What identifies the current run, when no audit store records it."""
    if run is None:
        return
    result = run.result
    st.subheader("This run")
    st.markdown(
        f"- spec `{result.spec.id}` revision {result.spec.revision or '—'}, SHA-256 "
        f"`{result.spec.sha256()}`\n- ruleset `{result.compiled.name}`, SHA-256 "
        f"`{result.ruleset_hash}`\n- as of {result.as_of}; requires driving: "
        f"{result.requires_driving}\n- engine version {result.engine_version}"
    )
    st.dataframe(
        pd.DataFrame(
            [
                {"role": f.role, "file": f.path, "sha256": f.sha256, "rows": f.rows}
                for f in result.files
            ]
        ),
        hide_index=True,
        key="audit_session_files",
    )


def run_choice_label(info: Any, current: int | None) -> str:
    """A run as the selector lists it: id, time, user, spec; the screening on screen marked."""
    label = (
        f"run {info.run_id} · {to_the_second(info.created_at)} · {info.user} · "
        f"{info.spec_id} {info.spec_revision}"
    )
    return label + (" (the screening on the Screen page)" if info.run_id == current else "")


def run_details(detail: Any) -> pd.DataFrame:
    """What identifies a recorded run, one fact a row."""
    info = detail.info
    settings = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in sorted(detail.settings.items()))
    facts = [
        ("run", info.run_id),
        ("recorded", to_the_second(info.created_at)),
        ("user", info.user),
        ("spec", f"{info.spec_id} revision {info.spec_revision}"),
        ("spec SHA-256", detail.spec_sha256),
        ("spec file", detail.spec_path),
        ("ruleset SHA-256", detail.ruleset_hash),
        ("as of", detail.as_of),
        ("settings", settings),
        ("engine version", detail.engine_version),
        ("decisions", info.decisions),
        ("kept until", info.retention_until),
        ("legal hold", "yes" if info.legal_hold else "no"),
        ("applicant data purged", "yes" if info.purged else "no"),
    ]
    return pd.DataFrame(
        [{"": name, "value": str(blank(value))} for name, value in facts], dtype=object
    )


def outcome_counts_table(detail: Any) -> pd.DataFrame:
    """Engine outcomes and final outcomes after review, one outcome a row."""
    engine = detail.info.outcome_counts
    final = detail.final_counts
    outcomes = [o for o in OUTCOME_ORDER if o in engine or o in final]
    return pd.DataFrame(
        [
            {"outcome": o, "engine": int(engine.get(o, 0)), "after review": int(final.get(o, 0))}
            for o in outcomes
        ]
    )


def page() -> None:
    """The audit page."""
    st.title("Audit")
    run = state.ensure_run()
    if not audit_available():
        st.info(
            "No audit store is installed in this version: runs and review decisions are kept "
            "in this browser session only."
        )
        this_session(run)
        return
    store: Any = audit_store()
    if run is not None:
        st.subheader("The screening on the Screen page")
        ledger = run.ledger
        if isinstance(ledger, AuditLedger) and ledger.started:
            # the status below says what failed
            with st.spinner("Recording the current run…"), contextlib.suppress(ReviewError):
                ledger.run_id(timeout=600)
        run_record_status(run, "audit")
    current = state.recorded_run_id(run)
    runs = store.runs()
    st.subheader("Run history")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "run": r.run_id,
                    "at": to_the_second(r.created_at),
                    "user": r.user,
                    "spec": r.spec_id,
                    "revision": r.spec_revision,
                    "decisions": r.decisions,
                    **r.outcome_counts,
                }
                for r in runs
            ]
        ),
        hide_index=True,
        width="stretch",
        key="audit_runs",
        placeholder="",
    )
    if not runs:
        st.caption("No run is recorded yet.")
        return
    by_id = {r.run_id: r for r in runs}
    run_ids = list(by_id)
    default = run_ids.index(current) if current in by_id else len(run_ids) - 1
    run_id = st.selectbox(
        "Run",
        run_ids,
        index=default,
        format_func=lambda i: run_choice_label(by_id[i], current),
        key="audit_run",
    )
    detail = store.show(int(run_id))
    left, right = st.columns([3, 2])
    left.dataframe(
        run_details(detail),
        hide_index=True,
        width="stretch",
        key="audit_run_details",
        placeholder="",
    )
    right.dataframe(
        outcome_counts_table(detail), hide_index=True, width="stretch", key="audit_run_outcomes"
    )

    st.subheader("Decision lookup")
    applicant_id = st.text_input("Applicant id", key="audit_applicant")
    if applicant_id.strip():
        try:
            record = store.decision(int(run_id), applicant_id.strip())
        except audit.AuditError as exc:
            st.error(plain(exc))
        else:
            st.markdown(
                f"Engine outcome **{record.outcome}** · final outcome **{record.final_outcome}** "
                f"(row {record.row})"
            )
            st.dataframe(
                pd.DataFrame([{"criterion": k, "status": v} for k, v in record.statuses.items()]),
                hide_index=True,
                key="audit_statuses",
            )
            for override in record.overrides:
                who = plain(override.reviewer)
                st.markdown(
                    f"- {to_the_second(override.created_at)}: {who} {override.from_outcome} → "
                    f"{override.to_outcome}: “{plain(override.justification)}”"
                )

    st.subheader("Verify the log")
    if st.button("Verify", key="audit_verify"):
        report = store.verify()
        if report.ok:
            st.success(
                f"The log is intact: {report.records} records, head {report.head_link[:16]}…"
            )
        else:
            st.error(f"{len(report.problems)} problem(s) found")
            for problem in report.problems:
                st.markdown(f"- {plain(problem)}")

    st.subheader("Adverse impact (aggregates only)")
    min_group = st.number_input(
        "Minimum group size (decided applicants)",
        min_value=1,
        value=DEFAULT_MIN_GROUP,
        step=1,
        key="impact_min_group",
        help="A group needs this many decided applicants to be the reference group or to be "
        "flagged by the four-fifths ratio alone; a smaller one is judged by Fisher's exact test.",
    )
    impact = store.impact(int(run_id), min_group=int(min_group))
    st.caption(plain(totals_line(impact)) + ".")
    st.dataframe(
        report_frame(impact), hide_index=True, width="stretch", key="audit_impact", placeholder=""
    )


page()
