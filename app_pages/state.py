"""State shared by the pages: position settings, the current batch and run, and caches.

Uploaded bytes flow through `submit_uploads` (the upload button calls it; tests call it or
put a dict in ``st.session_state["pending_uploads"]``). A batch is screened through the
run's entry, as the command line screens a file: the job resolved once
(`ScreenJob.resolve`), the loaded batch screened by `screen_loaded`. Specs and results are
cached by content hash with st.cache_resource, so a rerun never compiles or screens twice
and the process never registers a ruleset twice.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app_pages.ledger import AuditLedger, ReviewLedger, make_ledger
from app_pages.text import plain
from screening.columns import EntryGroup, MissingEntryColumns
from screening.errors import UserError
from screening.export import csv_bytes, excel_bytes
from screening.loading import Batch
from screening.review import Judgement, final_outcomes, review_items
from screening.run.chunks import screen_loaded
from screening.run.stages import (
    ScreeningResult,
    ScreenJob,
    compiled_ruleset,
    loaded_spec,
    needed_entry_groups,
)
from screening.spec import JobSpec
from screening.uploads import Upload, UploadError, load_uploads
from screening.vocabulary import Vocabulary, default_rules_dir

REPO = Path(__file__).resolve().parent.parent
SAMPLE_FILE = REPO / "data" / "account-manager-applicants.csv"
DEFAULT_SPEC_FILE = "alameda-7616-account-manager.yaml"
#: Where settled spec revisions are written (with their vocabulary), relative to the
#: working directory unless absolute.
SETTLED_DIR_ENV = "SCREENING_SETTLED_DIR"
#: Batches larger than this (bytes) show a progress bar: they take over a second.
PROGRESS_BYTES = 400_000


@dataclass
class Source:
    """The applicant files of the current batch."""

    label: str
    uploads: dict[str, Upload]
    mapping: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Content hash of the files and the mapping."""
        digest = hashlib.sha256()
        for role in sorted(self.uploads):
            digest.update(role.encode() + b"\0" + self.uploads[role].name.encode() + b"\0")
            digest.update(hashlib.sha256(self.uploads[role].data).digest())
        digest.update(repr(sorted(self.mapping.items())).encode())
        return digest.hexdigest()

    @property
    def size(self) -> int:
        """Total bytes of the files."""
        return sum(len(u.data) for u in self.uploads.values())


@dataclass
class ActiveSpec:
    """The spec in force: from rules/, compiled from a document, or a settled revision."""

    spec: JobSpec
    vocabulary: Vocabulary
    path: str | None
    origin: str
    judgements: list[Judgement] = field(default_factory=list)

    @property
    def key(self) -> str:
        """Hash of the spec and its vocabulary (a settled vocabulary changes decisions)."""
        vocab = hashlib.sha256(self.vocabulary.model_dump_json().encode()).hexdigest()
        return f"{self.spec.sha256()}:{vocab}"


@dataclass
class Run:
    """A screened batch, its review ledger and what the last settled judgement changed."""

    result: ScreeningResult
    source: Source
    active: ActiveSpec
    ledger: ReviewLedger
    key: str
    items: pd.DataFrame
    changes: pd.DataFrame | None = None
    change_note: str = ""


# ------------------------------------------------------------------ specs


def spec_files() -> dict[str, Path]:
    """Rule files of the project's rules/ folder, by file name."""
    return {
        p.name: p
        for p in sorted(default_rules_dir().glob("*.yaml"))
        if not p.name.startswith("vocabulary")
    }


@st.cache_resource(show_spinner=False, max_entries=32)
def _load_rule_file(path: str, digest: str) -> tuple[JobSpec, Vocabulary]:
    # compiled once, early (as a run loads its spec): a bad spec fails before screening
    spec, _, vocabulary = loaded_spec(path)
    return spec, vocabulary


def rule_file_spec(name: str) -> ActiveSpec:
    """A spec from rules/ (SpecError when it is not valid)."""
    path = spec_files()[name]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    spec, vocab = _load_rule_file(str(path), digest)
    return ActiveSpec(spec, vocab, str(path), f"rules/{name}")


def settled_folder() -> Path:
    """The folder settled spec revisions are saved in ($SCREENING_SETTLED_DIR)."""
    return Path(os.environ.get(SETTLED_DIR_ENV) or "settled-specs")


def active_spec() -> ActiveSpec:
    """The spec chosen in the settings (a compiled or settled spec wins while it is set)."""
    custom = st.session_state.get("custom_spec")
    if isinstance(custom, ActiveSpec):
        return custom
    name = st.session_state.get("spec_file", DEFAULT_SPEC_FILE)
    if name not in spec_files():
        name = DEFAULT_SPEC_FILE
    return rule_file_spec(name)


def use_spec(active: ActiveSpec | None) -> None:
    """Make a compiled or settled spec the one in force (None: back to the rule file)."""
    if active is None:
        st.session_state.pop("custom_spec", None)
    else:
        compiled_ruleset(active.spec)
        st.session_state["custom_spec"] = active


# ------------------------------------------------------------------ batches and runs


def sample_source() -> Source:
    """The committed Account Manager sample batch."""
    upload = Upload(SAMPLE_FILE.name, SAMPLE_FILE.read_bytes())
    return Source(f"sample batch {SAMPLE_FILE.name}", {"applicants": upload})


def current_source() -> Source:
    """The batch being screened: the last accepted upload, else the sample."""
    source = st.session_state.get("source")
    return source if isinstance(source, Source) else sample_source()


@st.cache_resource(show_spinner=False, max_entries=4)
def _load_batch(key: str, _source: Source) -> Batch:
    uploads = _source.uploads
    return load_uploads(
        uploads["applicants"],
        jobs=uploads.get("jobs"),
        education=uploads.get("education"),
        mapping=_source.mapping or None,
    )


def current_batch(source: Source | None = None) -> Batch:
    """The loaded batch (cached; UploadError when its files are unusable)."""
    source = source or current_source()
    return _load_batch(source.key, source)


@st.cache_resource(show_spinner=False, max_entries=8)
def _screen(
    batch_key: str,
    spec_key: str,
    as_of: date,
    driving: bool,
    conditions: frozenset[str],
    declared: tuple[EntryGroup, ...],
    _batch: Batch,
    _job: ScreenJob,
) -> tuple[ScreeningResult, pd.DataFrame]:
    # the job is keyed by the spec's key and the settings; the declared groups are in the
    # key too, so a withdrawn declaration checks the columns again rather than hitting
    result = screen_loaded(_job, _batch, declared_absent=declared)
    return result, review_items(result)


#: Session keys of the user's word that the uploaded file has no entries of a group (kept
#: apart from the checkboxes' own keys, which Streamlit drops on pages without them).
DECLARED_NO_ENTRIES: dict[EntryGroup, str] = {
    "job": "no_job_columns",
    "edu": "no_education_columns",
}
#: What the checkbox of each declaration says.
NO_ENTRIES_LABEL: dict[EntryGroup, str] = {
    "job": "The file has no job entries",
    "edu": "The file has no education entries",
}


def declared_absent() -> list[EntryGroup]:
    """The entry groups the user says the uploaded file has none of."""
    return [g for g, key in DECLARED_NO_ENTRIES.items() if st.session_state.get(key)]


def needed_entries() -> list[EntryGroup]:
    """The entry groups the spec in force decides on, less those declared absent."""
    needed = needed_entry_groups(active_spec().spec) - set(declared_absent())
    return [g for g in DECLARED_NO_ENTRIES if g in needed]


def missing_entries_message(exc: MissingEntryColumns) -> str:
    """The loader's refusal, with the fix as the app offers it."""
    kind = "job" if exc.group == "job" else "education"
    return (
        f"{exc.problem} Map your headers (upload the file with a saved column mapping, or "
        f"map them when asked), or, if the file really has no {kind} entries, tick "
        f"“{NO_ENTRIES_LABEL[exc.group]}” under “Upload applicants” and screen it again."
    )


def settings() -> tuple[date, bool]:
    """As-of date and "position requires driving" from the settings."""
    as_of = st.session_state.get("as_of") or date.today()
    return as_of, bool(st.session_state.get("requires_driving", False))


def position_conditions(spec: JobSpec) -> frozenset[str]:
    """The conditions chosen under "This position requires" that the spec names."""
    chosen = st.session_state.get("position_requires") or []
    return frozenset(c for c in chosen if c in spec.position_conditions())


def reviewer_default() -> str:
    """The signed-in user where the deployment provides one, else the name entered."""
    if signed_in():
        return str(st.user.get("email") or st.user.get("name") or "")
    return str(st.session_state.get("reviewer_name", "")).strip()


def signed_in() -> bool:
    """Whether the deployment signed the user in (then the name cannot be typed)."""
    return st.user.get("is_logged_in") is True


def screen_current(source: Source | None = None) -> Run:
    """Screen the current batch with the current settings (cached), making it the run.

    Raises UploadError / SpecError with a clear message when files or spec are unusable.
    """
    source = source or current_source()
    active = active_spec()
    as_of, driving = settings()
    conditions = position_conditions(active.spec)
    # resolved once per screening, as the command line resolves its run's job: an
    # unreviewed draft or an unknown condition is refused here (SpecError)
    job = ScreenJob.resolve(
        active.spec,
        spec_path=active.path,
        vocabulary=active.vocabulary,
        shown_as=active.origin,
        as_of=as_of,
        requires_driving=driving,
        position_requires=conditions,
    )
    declared = declared_absent()
    key = f"{source.key}|{active.key}|{as_of}|{driving}|{sorted(conditions)}|{','.join(declared)}"
    run = st.session_state.get("run")
    if isinstance(run, Run) and run.key == key:
        return run
    bar = st.progress(0, text="Reading the files…") if source.size > PROGRESS_BYTES else None
    batch = _load_batch(source.key, source)
    if bar is not None:
        bar.progress(35, text="Screening the applicants…")
    try:  # the one rule of the command line: no silent rejection for want of columns
        result, items = _screen(
            source.key, active.key, as_of, driving, conditions, tuple(declared), batch, job
        )
    except MissingEntryColumns as exc:
        if bar is not None:
            bar.empty()
        raise UploadError(missing_entries_message(exc)) from None
    ledger = make_ledger(result, reviewer_default() or "app")
    if bar is not None:
        bar.empty()
    new_run = Run(result, source, active, ledger, key, items)
    st.session_state["run"] = new_run
    return new_run


def record_run(run: Run) -> None:
    """Record the run in the audit store (when in use): the user started this screening.

    Only a user's action calls this — an upload screened, a settled judgement, the "Record
    this screening" button — so a page load or a rerun never adds a run.
    """
    if isinstance(run.ledger, AuditLedger):
        run.ledger.start(reviewer_default() or "app")


def recorded_run_id(run: Run | None) -> int | None:
    """The audit run id of the run once it is recorded, else None."""
    if run is not None and isinstance(run.ledger, AuditLedger):
        return run.ledger.recorded_run_id
    return None


def ensure_run() -> Run | None:
    """The current run, screening the batch first when needed; errors shown, not raised."""
    try:
        return screen_current()
    except UserError as exc:
        st.error(plain(exc))
        return None


def submit_uploads(uploads: dict[str, Upload], mapping: dict[str, str] | None = None) -> Run:
    """Accept uploaded files as the batch, screen them and record the run (UploadError when
    unusable)."""
    if "applicants" not in uploads:
        raise UploadError(
            "no applicants file: upload the applicant list (one row per applicant); jobs and "
            "education files are only for the long form"
        )
    names = ", ".join(u.name for u in uploads.values())
    source = Source(f"uploaded {names}", dict(uploads), dict(mapping or {}))
    run = screen_current(source)
    st.session_state["source"] = source
    record_run(run)
    return run


def export_frame(run: Run) -> pd.DataFrame:
    """Results for the ATS: engine outcome, final outcome after review, and why."""
    return final_outcomes(run.result.results, run.ledger.overrides())


@dataclass(frozen=True)
class Download:
    """One download: its button label, file name, type, and how to make the bytes."""

    label: str
    file_name: str
    mime: str
    make: Callable[[], bytes]


def downloads(run: Run) -> list[Download]:
    """What the Downloads buttons offer: results (engine and final outcome) and problems.

    Every file is formula-injection safe and has no eeo_* column (screening.export).
    The bytes are made when the button is clicked, not on every rerun.
    """
    return [
        Download(
            "Results (CSV)", "screening-results.csv", "text/csv",
            lambda: csv_bytes(export_frame(run)),
        ),
        Download(
            "Results (Excel)", "screening-results.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            lambda: excel_bytes(export_frame(run)),
        ),
        Download(
            "Input problems (CSV)", "screening-errors.csv", "text/csv",
            lambda: csv_bytes(run.result.errors_frame()),
        ),
    ]  # fmt: skip


def set_default(key: str, value: Any) -> None:
    """Give a widget's session key a first value (widgets then keep their own)."""
    if key not in st.session_state:
        st.session_state[key] = value
