"""Spec page: criteria in plain words, the compiled ruleset with its hash, and compiling a
class specification document on the spot (its unparsed clauses reviewed before use)."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from app_pages import state
from app_pages.text import plain
from screening.browse import spec_in_words
from screening.documents import DocumentError, read_document_bytes
from screening.pipeline import compiled_ruleset
from screening.spec import SpecError, dump_spec
from screening.speccompiler import compile_document_data, default_vocabulary
from screening.uploads import Upload

#: Largest class specification document accepted (bytes).
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
DOCUMENT_TYPES = ["docx", "html", "htm", "pdf", "txt", "md"]


def compile_upload(upload: Upload) -> None:
    """Compile an uploaded document into a draft spec kept for review in the session."""
    st.session_state.pop("compile_error", None)
    st.session_state.pop("compiled_draft", None)
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
    except (DocumentError, SpecError, ValueError) as exc:
        st.session_state["compile_error"] = f"{upload.name!r} cannot be compiled: {exc}"
        return
    except Exception as exc:  # a document the compiler trips on must not show a traceback
        st.session_state["compile_error"] = (
            f"{upload.name!r} cannot be compiled ({type(exc).__name__}: {exc}); write the rule "
            "file by hand from the document (see rules/)."
        )
        return
    st.session_state["compiled_draft"] = compiled.spec


def compile_section() -> None:
    """Upload a document, review what was not understood, then use the spec."""
    with st.expander("Compile a class specification document", expanded=False):
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
        st.markdown(f"**Draft: {plain(draft.title)}** ({plain(draft.id)})")
        for line in spec_in_words(draft):
            st.markdown(f"- {plain(line)}")
        if draft.unparsed:
            st.warning(
                f"{len(draft.unparsed)} clause(s) of the minimum qualifications were not turned "
                "into rules. Read them: the draft screens without them."
            )
            for clause in draft.unparsed:
                st.markdown(f"> {plain(clause)}")
        reviewed = st.checkbox(
            "I have reviewed the draft and its unparsed clauses",
            key="draft_reviewed",
            value=not draft.unparsed,
        )
        st.download_button("Draft rule file (YAML)", dump_spec(draft), file_name=f"{draft.id}.yaml")
        if st.button("Use this spec", disabled=not reviewed, key="use_draft"):
            active = state.rule_file_spec(state.DEFAULT_SPEC_FILE)
            source = draft.provenance.document if draft.provenance else "a document"
            origin = f"compiled from {source}"
            state.use_spec(state.ActiveSpec(draft, active.vocabulary, None, origin))
            st.session_state.pop("compiled_draft", None)
            st.switch_page("app_pages/screen.py")


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
