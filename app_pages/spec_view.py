"""Spec page: criteria in plain words, the compiled ruleset with its hash, and compiling a
class specification document on the spot: the document read beside the draft (each
sentence highlighted with where it went), corrected in a form, previewed on the loaded
batch and saved as a new, reviewed revision."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from app_pages import state
from app_pages.text import plain
from screening.browse import spec_in_words
from screening.documents import read_document_bytes
from screening.errors import UserError
from screening.review import changed_outcomes
from screening.run.chunks import screen_loaded
from screening.run.stages import ScreenJob, compiled_ruleset
from screening.spec import JobSpec, Level, dump_spec, load_spec
from screening.speccompiler import Placement, Section, compile_document_data, default_vocabulary
from screening.specreview import (
    ExperienceEdit,
    PatternEdit,
    SpecEdit,
    corrected_spec,
    edit_of,
    mark_reviewed,
    save_revision,
)
from screening.uploads import Upload

#: Largest class specification document accepted (bytes).
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
DOCUMENT_TYPES = ["docx", "html", "htm", "pdf", "txt", "md"]


def compile_upload(upload: Upload) -> None:
    """Compile an uploaded document into a draft spec kept for review in the session."""
    for key in ("compile_error", "compiled_draft", "compiled_placements", "saved_revision"):
        st.session_state.pop(key, None)
    if len(upload.data) > MAX_DOCUMENT_BYTES:
        st.session_state["compile_error"] = (
            f"{upload.name!r} is over {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB; upload the class "
            "specification document itself (Word, HTML, PDF or text)."
        )
        return
    try:
        document = read_document_bytes(upload.data, upload.name)
        compiled = compile_document_data(document, default_vocabulary())
        compiled_ruleset(compiled.spec)
    except (UserError, ValueError) as exc:
        st.session_state["compile_error"] = f"{upload.name!r} cannot be compiled: {exc}"
        return
    except Exception as exc:  # a document the compiler trips on must not show a traceback
        st.session_state["compile_error"] = (
            f"{upload.name!r} cannot be compiled ({type(exc).__name__}: {exc}); write the rule "
            "file by hand from the document (see rules/)."
        )
        return
    st.session_state["compiled_draft"] = compiled.spec
    st.session_state["compiled_placements"] = (compiled.sections, compiled.placements)


#: how each destination of a sentence is highlighted in the document.
HIGHLIGHT = {
    "criterion": "green-background",
    "preferred": "blue-background",
    "notes": "gray-background",
    "unparsed": "red-background",
}
LEGEND = (
    ":green-background[a criterion's clause] · :blue-background[preferred, never required] · "
    ":gray-background[notes] · :red-background[unparsed: no rule covers it]"
)


def _criteria_of(spec: JobSpec, text: str) -> list[str]:
    """Ids of the criteria whose clause holds a sentence (where the sentence went)."""
    ids: list[str] = []
    for pattern in spec.patterns:
        items: list[tuple[str, str]] = []
        if pattern.education is not None:
            items.append((pattern.education.id, pattern.education.clause))
        items += [(e.id, e.clause) for e in pattern.experience]
        items += [(x.id, x.clause) for x in [*pattern.licenses, *pattern.certificates]]
        ids += [i for i, clause in items if text in clause]
    ids += [x.id for x in [*spec.licenses, *spec.certificates] if text in x.clause]
    if spec.substitution is not None and text in spec.substitution.clause:
        ids.append("substitution")
    return list(dict.fromkeys(ids))


def document_view(spec: JobSpec, sections: list[Section], placements: list[Placement]) -> None:
    """The MQ sections of the document, each sentence highlighted with where it went."""
    st.caption(LEGEND)
    for number, section in enumerate(sections):
        if section.heading:
            st.markdown(f"**{plain(section.heading)}**")
        for index in range(len(section.paragraphs)):
            parts: list[str] = []
            for item in placements:
                if item.section != number or item.paragraph != index:
                    continue
                if item.destination == "structure":
                    parts.append(f"**{plain(item.text)}**")
                    continue
                parts.append(f":{HIGHLIGHT[item.destination]}[{plain(item.text)}]")
                if item.destination == "criterion":
                    parts += [_code(i) for i in _criteria_of(spec, item.text)]
            st.markdown(" ".join(parts))


def _code(text: str) -> str:
    """An id as inline code (markup is not read there, so nothing is escaped)."""
    return "`" + text.replace("`", "'") + "`"


def _split_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def review_form(draft: JobSpec) -> tuple[SpecEdit, str, str] | None:
    """The correction form; the edit, the reviewer and the button pressed, once submitted."""
    start = edit_of(draft)
    levels = ["(no education requirement)", *(level.value for level in Level)]
    with st.form("spec_review"):
        st.markdown("**Correct the draft**")
        edits: list[PatternEdit] = []
        for i, (pattern, base) in enumerate(zip(draft.patterns, start.patterns, strict=True)):
            st.markdown(f"Pattern {_code(pattern.id)}")
            keep = st.checkbox("Keep this pattern", value=True, key=f"review_keep_{i}")
            chosen = st.selectbox(
                "Education level",
                levels,
                index=levels.index(base.level.value) if base.level else 0,
                key=f"review_level_{i}",
            )
            fields = st.text_input(
                "Accepted fields (comma-separated)",
                ", ".join(base.fields),
                key=f"review_fields_{i}",
            )
            experience: list[ExperienceEdit] = []
            for j, (requirement, item) in enumerate(
                zip(pattern.experience, base.experience, strict=True)
            ):
                years = st.number_input(
                    f"Years: {requirement.id}",
                    min_value=0.0,
                    max_value=40.0,
                    step=0.5,
                    value=float(item.years),
                    key=f"review_years_{i}_{j}",
                )
                areas = st.text_input(
                    f"Areas: {requirement.id} (comma-separated)",
                    ", ".join(item.areas),
                    key=f"review_areas_{i}_{j}",
                )
                experience.append(ExperienceEdit(float(years), _split_list(areas)))
            licenses = [
                st.checkbox(
                    f"Required: {lic.kind} ({lic.id})", value=True, key=f"review_lic_{i}_{k}"
                )
                for k, lic in enumerate(pattern.licenses)
            ]
            certificates = [
                st.checkbox(f"Required: {c.name} ({c.id})", value=True, key=f"review_cert_{i}_{k}")
                for k, c in enumerate(pattern.certificates)
            ]
            edits.append(
                PatternEdit(
                    keep=keep,
                    level=None if chosen == levels[0] else Level(chosen),
                    fields=_split_list(fields),
                    experience=experience,
                    licenses=licenses,
                    certificates=certificates,
                )
            )
        spec_licenses = [
            st.checkbox(f"Required: {lic.kind} ({lic.id})", value=True, key=f"review_spec_lic_{k}")
            for k, lic in enumerate(draft.licenses)
        ]
        spec_certificates = [
            st.checkbox(f"Required: {c.name} ({c.id})", value=True, key=f"review_spec_cert_{k}")
            for k, c in enumerate(draft.certificates)
        ]
        by = st.text_input("Reviewed by", state.reviewer_default(), key="review_by")
        preview = st.form_submit_button(
            "Preview the changes on the loaded batch", key="review_preview"
        )
        save = st.form_submit_button("Save as a reviewed revision", key="review_save")
    if not (preview or save):
        return None
    edit = SpecEdit(edits, spec_licenses, spec_certificates)
    return edit, by, "save" if save else "preview"


def _preview(draft: JobSpec, corrected: JobSpec) -> None:
    """Applicants of the loaded batch whose outcome the corrections change."""
    source = state.current_source()
    batch = state.current_batch(source)
    as_of, driving = state.settings()
    vocabulary = state.rule_file_spec(state.DEFAULT_SPEC_FILE).vocabulary
    # a comparison of two drafts on whatever the batch holds, not a run: no column check
    before, after = (
        screen_loaded(
            ScreenJob.preview(s, vocabulary, as_of=as_of, requires_driving=driving),
            batch,
            check_columns=False,
        )
        for s in (draft, corrected)
    )
    changed = changed_outcomes(before.results, after.results)
    st.markdown(
        f"**{len(changed)} of {len(after.results)} applicant(s) of the {plain(source.label)} "
        "change outcome with the corrections**"
    )
    if len(changed):
        st.dataframe(changed, hide_index=True, width="stretch", key="review_changed")


def review_section(draft: JobSpec) -> None:
    """Correct the draft, see whom it changes, save it as a reviewed revision."""
    submitted = review_form(draft)
    if submitted is not None:
        edit, by, action = submitted
        try:
            corrected = corrected_spec(draft, edit)
            compiled_ruleset(corrected)
            if action == "preview":
                _preview(draft, corrected)
            else:
                reviewed = mark_reviewed(corrected, by)
                path = save_revision(reviewed, state.settled_folder())
                st.session_state["saved_revision"] = (path, load_spec(path))
        except (UserError, ValueError) as exc:
            st.error(plain(exc))
    saved = st.session_state.get("saved_revision")
    if saved is None:
        return
    path, spec = saved
    st.success(
        f"Saved revision {plain(spec.revision)} as {plain(path.name)}, reviewed by "
        f"{plain(spec.reviewed.by if spec.reviewed else '')}."
    )
    if st.button("Use the saved revision", key="use_reviewed"):
        active = state.rule_file_spec(state.DEFAULT_SPEC_FILE)
        state.use_spec(
            state.ActiveSpec(spec, active.vocabulary, str(path), f"reviewed {path.name}")
        )
        for key in ("compiled_draft", "compiled_placements", "saved_revision"):
            st.session_state.pop(key, None)
        st.switch_page("app_pages/screen.py")


def compile_section() -> None:
    """Upload a document, read it beside the draft, correct and save a reviewed revision."""
    draft = st.session_state.get("compiled_draft")
    with st.expander("Compile a class specification document", expanded=draft is not None):
        document = st.file_uploader("Class specification", type=DOCUMENT_TYPES)
        if st.button("Compile", disabled=document is None):
            st.session_state["pending_document"] = Upload(document.name, document.getvalue())  # type: ignore[union-attr]
    pending = st.session_state.pop("pending_document", None)
    if pending is not None:
        compile_upload(pending)
    if st.session_state.get("compile_error"):
        st.error(plain(st.session_state["compile_error"]))
    draft = st.session_state.get("compiled_draft")
    if draft is None:
        return
    st.subheader(f"Draft: {plain(draft.title)}")
    if draft.unparsed:
        st.warning(
            f"{len(draft.unparsed)} clause(s) of the minimum qualifications were not turned "
            "into rules. Read them (red in the document): the draft screens nobody until it "
            "is saved as a reviewed revision."
        )
    document_column, draft_column = st.columns(2)
    with document_column:
        st.markdown("**The document**")
        sections, placements = st.session_state["compiled_placements"]
        document_view(draft, sections, placements)
    with draft_column:
        st.markdown("**The draft**")
        for line in spec_in_words(draft):
            st.markdown(f"- {plain(line)}")
        st.download_button("Draft rule file (YAML)", dump_spec(draft), file_name=f"{draft.id}.yaml")
        review_section(draft)


def page() -> None:
    """The spec page."""
    st.title("Spec")
    active = state.active_spec()
    spec = active.spec
    compiled = compiled_ruleset(spec)
    st.markdown(
        f"### {plain(spec.title)}\n{plain(spec.agency)} · class {plain(spec.class_code or '—')} · "
        f"revision {plain(spec.revision or '—')} · from {plain(active.origin)}"
    )
    st.caption(f"Spec SHA-256 `{spec.sha256()}`")
    if active.judgements:
        st.markdown("**Settled judgements in this revision**")
        for judgement in active.judgements:
            st.markdown(f"- {plain(judgement.statement)}")
    st.subheader("Criteria in plain words")
    for line in spec_in_words(spec):
        st.markdown(f"- {plain(line)}")
    with st.expander("Clauses of the spec"):
        rows: list[dict[str, Any]] = []
        for pattern in spec.patterns:
            if pattern.education is not None:
                rows.append({"criterion": pattern.education.id, "clause": pattern.education.clause})
            rows += [{"criterion": x.id, "clause": x.clause} for x in pattern.experience]
        rows += [{"criterion": lic.id, "clause": lic.clause} for lic in spec.licenses]
        rows += [{"criterion": c.id, "clause": c.clause} for c in spec.certificates]
        if spec.substitution is not None:
            rows.append({"criterion": "substitution", "clause": spec.substitution.clause})
        st.dataframe(rows, hide_index=True, width="stretch", key="spec_clauses")
    if spec.unparsed:
        st.warning("Clauses no rule covers: " + plain(" | ".join(spec.unparsed)))
    st.subheader("Compiled ruleset (durable_rules)")
    st.markdown(f"Ruleset `{compiled.name}` · SHA-256 `{compiled.sha256}`")
    with st.expander("Ruleset JSON"):
        st.code(
            json.dumps({compiled.name: compiled.definition}, indent=2, sort_keys=True),
            language="json",
        )
    st.download_button("Rule file (YAML)", dump_spec(spec), file_name=f"{spec.id}.yaml")
    compile_section()


page()
