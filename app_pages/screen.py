"""Screen page: position settings, upload (with column mapping), results, charts, downloads."""

from __future__ import annotations

from datetime import date

import streamlit as st

from app_pages import state
from app_pages.text import plain
from app_pages.widgets import (
    errors_table,
    outcome_chart,
    rejection_chart,
    run_record_status,
    years_chart,
)
from screening.browse import (
    PRINCIPAL_REASON,
    filter_results,
    principal_reasons,
    results_with_names,
)
from screening.errors import UserError
from screening.spec import SpecError
from screening.uploads import (
    HeaderStatus,
    Upload,
    UploadError,
    header_statuses,
    mapping_choices,
    mapping_yaml,
    missing_entry_groups,
    needs_mapping,
    read_headers,
    read_mapping_upload,
)

IGNORE = "(ignore this column)"
#: Rows tall enough for the results table to wrap the principal reason over three lines.
RESULT_ROW_HEIGHT = 72
#: Pixels: the principal reason column, readable next to id, name and outcomes.
REASON_WIDTH = 560


def position_settings() -> None:
    """Spec, as-of date and "requires driving"."""
    with st.sidebar:
        st.header("Position")
        custom = st.session_state.get("custom_spec")
        if custom is not None:
            st.info(
                f"Using {plain(custom.origin)}: {plain(custom.spec.title)}, revision "
                f"{plain(custom.spec.revision)}"
            )
            if st.button("Back to the rule file", key="drop_custom_spec"):
                state.use_spec(None)
                st.rerun()
        names = list(state.spec_files())
        state.set_default("spec_file", state.DEFAULT_SPEC_FILE)
        st.selectbox("Spec (rules/)", names, key="spec_file", disabled=custom is not None)
        state.set_default("as_of", date.today())
        st.date_input(
            "As-of date",
            key="as_of",
            help="A blank or 'present' end date means this day: the posting's final filing date.",
        )
        st.checkbox("This position requires driving", key="requires_driving")
        try:
            conditions = state.active_spec().spec.position_conditions()
        except SpecError:
            conditions = []  # the spec's own error is shown where it is screened
        if conditions:
            # "Some positions may require ...": which of these this position requires.
            st.multiselect("This position requires", conditions, key="position_requires")
        st.caption("Compile a spec from a document on the Spec page.")


def _uploaded(widget_value: object) -> Upload | None:
    if widget_value is None:
        return None
    return Upload(str(widget_value.name), bytes(widget_value.getvalue()))  # type: ignore[attr-defined]


def accept_uploads(uploads: dict[str, Upload], mapping: dict[str, str] | None = None) -> None:
    """Check uploaded files; ask for a column mapping when headers are not understood."""
    st.session_state.pop("upload_error", None)
    mapping = dict(mapping or st.session_state.get("column_mapping", {}))
    try:
        pending_mapping: dict[str, list[HeaderStatus]] = {}
        needed = state.needed_entries()
        for role, upload in uploads.items():
            statuses = header_statuses(read_headers(upload, role), role, mapping)
            long_form = "jobs" in uploads or "education" in uploads
            if needs_mapping(statuses, role, long_form=long_form, needed=needed):
                pending_mapping[role] = statuses
        if pending_mapping:
            st.session_state["mapping_step"] = (uploads, pending_mapping)
            return
        st.session_state.pop("mapping_step", None)
        state.submit_uploads(uploads, mapping)
    except UserError as exc:
        st.session_state["upload_error"] = str(exc)


def _keep_declaration(stored: str) -> None:
    st.session_state[stored] = bool(st.session_state.get(f"declare_{stored}"))


def upload_section() -> None:
    """Upload form: wide file, or the long-form trio, and an optional mapping file."""
    with st.expander("Upload applicants (CSV or Excel)", expanded=False):
        st.markdown(
            "Upload the applicant export as **CSV or Excel** — one row per applicant "
            "(`job1_title`, `edu1_degree`, …) — or the long form: applicants plus jobs and "
            "education files keyed by `applicant_id`."
        )
        cols = st.columns(3)
        kinds = ["csv", "xlsx", "txt", "tsv"]
        applicants = cols[0].file_uploader("Applicants", type=kinds, key="upload_applicants")
        jobs = cols[1].file_uploader("Jobs (long form)", type=kinds, key="upload_jobs")
        education = cols[2].file_uploader(
            "Education (long form)", type=kinds, key="upload_education"
        )
        mapping_file = st.file_uploader(
            "Saved column mapping (optional)", type=["yaml", "yml"], key="upload_mapping"
        )
        declarations = st.columns(2)
        for column, (group, stored) in zip(
            declarations, state.DECLARED_NO_ENTRIES.items(), strict=True
        ):
            column.checkbox(
                state.NO_ENTRIES_LABEL[group],
                value=bool(st.session_state.get(stored)),
                key=f"declare_{stored}",
                on_change=_keep_declaration,
                args=(stored,),
                help="Screen it anyway: the requirement is then judged on no entries at all.",
            )
        if st.button("Screen these files", type="primary", disabled=applicants is None):
            mapping: dict[str, str] = {}
            if mapping_file is not None:
                try:
                    mapping = read_mapping_upload(_uploaded(mapping_file))  # type: ignore[arg-type]
                except UploadError as exc:
                    st.session_state["upload_error"] = str(exc)
                    return
                st.session_state["column_mapping"] = mapping
            given = {"applicants": applicants, "jobs": jobs, "education": education}
            st.session_state["pending_uploads"] = {
                role: u for role, f in given.items() if (u := _uploaded(f)) is not None
            }
        if st.session_state.get("source") is not None and st.button("Back to the sample batch"):
            for key in ("source", "mapping_step", "upload_error", "column_mapping"):
                st.session_state.pop(key, None)
            st.rerun()


def mapping_step() -> None:
    """Map headers that are not recognised, preview, and save the mapping for next time."""
    uploads, pending = st.session_state["mapping_step"]
    st.warning(
        "Some headers are not recognised, so the file cannot be screened as it is. Say what "
        "each column holds; the mapping can be downloaded and uploaded again next time."
    )
    mapping: dict[str, str] = dict(st.session_state.get("column_mapping", {}))
    problems: list[str] = []
    try:
        needed = state.needed_entries()
    except SpecError:
        needed = []  # the spec's own error is shown once the file is screened
    for role, statuses in pending.items():
        st.subheader(f"{role.capitalize()} file {plain(uploads[role].name)}")
        choices = [IGNORE, *state_choices(role)]
        for status in statuses:
            if status.recognised_as is not None:
                continue
            hint = f"did you mean {status.suggestion}?" if status.suggestion else None
            # the closest name is preselected: the user confirms or corrects it
            guess = mapping.get(status.header, status.suggestion)
            picked = st.selectbox(
                f"“{plain(status.header)}”",
                choices,
                index=choices.index(guess) if guess in choices else 0,
                key=f"map_{role}_{status.header}",
                help=hint,
            )
            if picked != IGNORE:
                mapping[status.header] = picked
            else:
                mapping.pop(status.header, None)
        preview = header_statuses([s.header for s in statuses], role, mapping)
        st.dataframe(
            [{"header": s.header, "read as": s.recognised_as or "(ignored)"} for s in preview],
            hide_index=True,
            key=f"map_preview_{role}",
        )
        names = [s.recognised_as for s in preview if s.recognised_as]
        clashes = sorted({n for n in names if names.count(n) > 1})
        if clashes:
            problems.append(
                f"{role} file: two columns are read as {', '.join(clashes)}; map one of them "
                "to something else or ignore it"
            )
        if needs_mapping(preview, role, long_form=len(uploads) > 1):
            problems.append(
                f"{role} file: map the column holding the applicant id to applicant_id"
                + (" and at least one job or education column" if role == "applicants" else "")
            )
        elif role == "applicants" and len(uploads) == 1:
            for group in missing_entry_groups(preview, needed):
                kind, example = (
                    ("job", "job1_title") if group == "job" else ("education", "edu1_degree")
                )
                problems.append(
                    f"applicants file: the spec decides on {kind} entries and no column is "
                    f"read as one: map one (e.g. {example}), or tick "
                    f"“{state.NO_ENTRIES_LABEL[group]}” above"
                )
    for problem in problems:
        st.error(plain(problem))
    st.download_button(
        "Save this mapping (YAML)",
        mapping_yaml(mapping),
        file_name="column-mapping.yaml",
        mime="text/yaml",
    )
    if st.button("Apply the mapping and screen", type="primary", disabled=bool(problems)):
        st.session_state["column_mapping"] = mapping
        st.session_state.pop("mapping_step", None)
        accept_uploads(uploads, mapping)
        st.rerun()


def state_choices(role: str) -> list[str]:
    """Names a header may be mapped to."""
    return mapping_choices(role)


def results_section(run: state.Run) -> None:
    """Counts, charts, errors, the filtered results table and downloads."""
    result = run.result
    batch = result.batch
    counts = result.outcome_counts()
    st.caption(
        f"{plain(run.source.label)} · spec {plain(run.active.spec.title)} "
        f"({plain(run.active.origin)}, revision {plain(run.active.spec.revision or '—')}) · "
        f"as of {result.as_of} · "
        f"{'requires driving' if result.requires_driving else 'no driving'}"
    )
    run_record_status(run, "screen")
    m = st.columns(5)
    m[0].metric("Screened", f"{len(result.results):,}")
    m[1].metric("Qualified", f"{counts['qualified']:,}")
    m[2].metric("Not qualified", f"{counts['not_qualified']:,}")
    m[3].metric("Needs review", f"{counts['needs_review']:,}")
    m[4].metric(
        "Rows in error", f"{batch.error_rows:,}", help=f"of {batch.input_rows:,} input rows"
    )

    charts = st.columns(3)
    charts[0].altair_chart(outcome_chart(run), width="stretch")
    charts[1].altair_chart(rejection_chart(run), width="stretch")
    charts[2].altair_chart(years_chart(run), width="stretch")

    errors = result.errors_frame()
    n_errors = int((errors["severity"] == "error").sum()) if len(errors) else 0
    with st.expander(
        f"Input problems: {n_errors} errors, {len(errors) - n_errors} warnings",
        expanded=n_errors > 0 and len(result.results) == 0,
    ):
        errors_table(errors)

    st.subheader("Results")
    table = results_with_names(result)
    final = state.export_frame(run)
    table.insert(3, "final_outcome", final["final_outcome"].to_numpy())
    # the why, where a recruiter reads first: right after id, name and outcomes
    table.insert(4, PRINCIPAL_REASON, principal_reasons(table["reasons"]).to_numpy())
    f = st.columns([2, 2, 2, 3])
    outcomes = f[0].multiselect(
        "Outcome", ["qualified", "not_qualified", "needs_review"], key="filter_outcomes"
    )
    criteria = ["(any)", *result.spec.criterion_ids()]
    criterion = f[1].selectbox("Criterion", criteria, key="filter_criterion")
    statuses = f[2].multiselect(
        "Criterion status",
        ["met", "substituted", "not_met", "review", "condition", "not_applicable"],
        key="filter_statuses",
        disabled=criterion == "(any)",
    )
    text = f[3].text_input("Search id or name", key="filter_text")
    shown = filter_results(
        table,
        outcomes=outcomes or None,
        criterion=None if criterion == "(any)" else criterion,
        statuses=statuses or None,
        text=text,
    )
    st.caption(f"{len(shown):,} of {len(table):,} applicants")
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        key="results_table",
        row_height=RESULT_ROW_HEIGHT,
        placeholder="",  # a missing value is an empty cell, not "None"
        column_config={
            "applicant_id": st.column_config.TextColumn("applicant_id", pinned=True),
            PRINCIPAL_REASON: st.column_config.TextColumn(
                PRINCIPAL_REASON,
                width=REASON_WIDTH,
                help="The first principal reason (click a cell to read it whole); every "
                "reason is in the 'reasons' column and on the Applicant page.",
            ),
        },
    )

    pick = st.columns([3, 1])
    ids = list(shown["applicant_id"])
    if ids:
        chosen = pick[0].selectbox("Applicant", ids, key="open_applicant_choice")
        if pick[1].button("Open applicant", key="open_applicant"):
            st.session_state["applicant_id"] = chosen
            st.switch_page("app_pages/applicant.py")

    st.subheader("Downloads")
    st.caption(
        "Engine outcome and final outcome after review, ready to load back into the ATS; "
        "safe to open in a spreadsheet, without demographic columns."
    )
    offered = state.downloads(run)
    for column, download in zip(st.columns(len(offered)), offered, strict=True):
        column.download_button(
            download.label,
            download.make,
            file_name=download.file_name,
            mime=download.mime,
            on_click="ignore",
        )


def page() -> None:
    """The Screen page."""
    st.title("Screen applicants")
    position_settings()
    upload_section()
    pending = st.session_state.pop("pending_uploads", None)
    if pending:
        accept_uploads(pending)
    if st.session_state.get("upload_error"):
        st.error(plain(st.session_state["upload_error"]))
    if st.session_state.get("mapping_step"):
        mapping_step()
        return
    run = state.ensure_run()
    if run is not None:
        results_section(run)


page()
