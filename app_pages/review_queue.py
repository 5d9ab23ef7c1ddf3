"""Review queue: needs_review applicants grouped by the evidence that decides them."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import state
from app_pages.text import plain, to_the_second
from app_pages.widgets import content_key, override_form
from screening.review import (
    Judgement,
    SettleError,
    applicants_in_group,
    changed_outcomes,
    review_groups,
    save_settled,
    settle,
)
from screening.spec import dump_spec


def settle_judgement(run: state.Run, judgement: Judgement) -> None:
    """Make a new spec revision with the judgement, re-screen, and note who changed."""
    active = run.active
    try:
        settled = settle(active.spec, active.vocabulary, judgement, earlier=active.judgements)
    except SettleError as exc:
        st.session_state["settle_error"] = str(exc)
        return
    try:
        settled, path = save_settled(settled, state.settled_folder())
    except SettleError as exc:
        st.session_state["settle_error"] = str(exc)
        return
    except OSError as exc:
        st.session_state["settle_error"] = (
            f"the settled spec could not be saved in {state.settled_folder()} ({exc}); set "
            f"{state.SETTLED_DIR_ENV} to a folder the app may write to"
        )
        return
    state.use_spec(
        state.ActiveSpec(
            settled.spec,
            settled.vocabulary,
            str(path),
            f"settled revision {path.name}",
            settled.judgements,
        )
    )
    st.session_state["settled_files"] = (
        dump_spec(settled.spec),
        settled.vocabulary_file,
        settled.vocabulary_yaml,
    )
    new_run = state.screen_current(run.source)
    state.record_run(new_run)  # the click screened the batch again: a run of its own
    new_run.changes = changed_outcomes(run.result.results, new_run.result.results)
    new_run.change_note = (
        f"{judgement.statement}: spec revision {settled.spec.revision} "
        f"(SHA-256 {settled.spec.sha256()[:12]}…), saved as {path}"
    )


def page() -> None:
    """The review queue page."""
    st.title("Review queue")
    run = state.ensure_run()
    if run is None:
        return
    if st.session_state.get("settle_error"):
        st.error(plain(st.session_state.pop("settle_error")))
    if run.changes is not None:
        st.success(f"Settled — {plain(run.change_note)}. {len(run.changes)} applicant(s) changed.")
        st.dataframe(run.changes, hide_index=True, key="settle_changes")
        files = st.session_state.get("settled_files")
        if files:
            spec_yaml, vocab_name, vocab_yaml = files
            c = st.columns(2)
            c[0].download_button("Settled spec (YAML)", spec_yaml, file_name="settled-spec.yaml")
            c[1].download_button(f"Its vocabulary ({vocab_name})", vocab_yaml, file_name=vocab_name)
    st.caption(f"Decisions are recorded in {run.ledger.where}.")

    groups = review_groups(run.items)
    waiting = run.result.outcome_counts()["needs_review"]
    st.markdown(f"**{waiting}** applicant(s) need review, in **{len(groups)}** group(s).")
    if not len(groups):
        st.info("Nobody needs review in this run.")
    else:
        st.dataframe(groups, hide_index=True, width="stretch", key="review_groups")
        labels = {
            f"{g.kind}: {g.value} ({g.applicants})": i for i, g in enumerate(groups.itertuples())
        }
        # keyed by the groups shown: after a re-screen the old choice cannot linger
        chosen = st.selectbox("Group", list(labels), key=content_key("review_group", *labels))
        group = groups.iloc[labels[str(chosen)]]
        kind = str(group["kind"])
        value = str(group["value"])
        members = applicants_in_group(run.items, kind, value)
        detail = run.items[run.items["applicant_id"].isin(members)]
        st.dataframe(
            detail, hide_index=True, width="stretch", key="review_group_members", placeholder=""
        )
        if bool(group["settleable"]):
            st.markdown(
                "Settle it once, in the spec, for everybody: a new spec revision, and the batch is "
                "screened again."
            )
            c = st.columns(2)
            if c[0].button(f"Treat {kind} '{plain(value)}' as related", key="settle_related"):
                settle_judgement(run, Judgement(kind, value, True))  # type: ignore[arg-type]
                st.rerun()
            if c[1].button(f"Treat {kind} '{plain(value)}' as unrelated", key="settle_unrelated"):
                settle_judgement(run, Judgement(kind, value, False))  # type: ignore[arg-type]
                st.rerun()
        st.subheader("Decide one applicant")
        applicant_id = st.selectbox(
            "Applicant",
            members,
            key=content_key("review_applicant", run.key, kind, value, *members),
        )
        reasons = run.result.results.loc[
            run.result.results["applicant_id"] == applicant_id, "reasons"
        ].iloc[0]
        st.caption(plain(reasons))
        override_form(run, str(applicant_id), key="queue")

    overrides = run.ledger.overrides()
    if overrides:
        st.subheader("Reviewed")
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "applicant_id": o.applicant_id,
                        "engine outcome": run.result.results.loc[
                            run.result.results["applicant_id"] == o.applicant_id, "outcome"
                        ].iloc[0],
                        "reviewer's outcome": o.to_outcome,
                        "reviewer": o.reviewer,
                        "justification": o.justification,
                        "at": to_the_second(o.created_at),
                    }
                    for o in overrides
                ]
            ),
            hide_index=True,
            width="stretch",
            key="review_overrides",
            placeholder="",
        )


page()
