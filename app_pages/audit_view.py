"""Audit page: run history, decision lookup, verification of the log, adverse impact.

Only aggregates of demographic data are shown (the impact report); never a per-applicant
demographic value.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app_pages import state
from app_pages.ledger import AuditLedger, audit, audit_available, audit_store
from app_pages.text import plain


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
    if run is not None and isinstance(run.ledger, AuditLedger):
        with st.spinner("Recording the current run in the audit store…"):
            run.ledger.run_id(timeout=600)
    runs = store.runs()
    st.subheader("Run history")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "run": r.run_id,
                    "at": r.created_at,
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
    )
    if not runs:
        return
    run_ids = [r.run_id for r in runs]
    run_id = st.selectbox("Run", run_ids, index=len(run_ids) - 1, key="audit_run")
    detail = store.show(int(run_id))
    st.markdown(
        f"Spec SHA-256 `{detail.spec_sha256}` · ruleset `{detail.ruleset_hash}` · as of "
        f"{detail.as_of} · engine {detail.engine_version} · final outcomes {detail.final_counts}"
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
                    f"- {override.created_at}: {who} {override.from_outcome} → "
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
    report = store.impact(int(run_id))
    frame = report.to_frame()
    st.dataframe(frame, hide_index=True, width="stretch", key="audit_impact")


page()
