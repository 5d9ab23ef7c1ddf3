"""Uploaded applicant files: checks, the column-mapping step, and loading from bytes.

A web upload is a name and bytes, not a path. These functions check an upload before it is
read (size, kind), report how each header of a file is understood (for a column-mapping
step), and load a batch from uploaded bytes with every message naming the uploaded file,
never a temporary path.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import yaml

from screening.columns import (
    EntryGroup,
    FileLevelError,
    all_canonical_names,
    header_key,
    parse_canonical,
    recognise,
    suggest,
    unique_header_names,
)
from screening.errors import UserError
from screening.loading import Batch, load_batch
from screening.reading import read_table

#: Largest accepted upload per file (bytes). About 100,000 applicants in the wide form.
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
#: File name endings an applicant file may have.
ACCEPTED_SUFFIXES: tuple[str, ...] = (".csv", ".txt", ".tsv", ".xlsx")
ROLES: dict[str, EntryGroup | None] = {"applicants": None, "jobs": "job", "education": "edu"}


@dataclass(frozen=True)
class Upload:
    """One uploaded file: the name the user's computer gave it, and its bytes."""

    name: str
    data: bytes


class UploadError(UserError):
    """An upload that cannot be used; str(exc) says which file, what is wrong and the fix."""


def _size_text(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size:,} bytes"


def check_upload(upload: Upload, role: str, max_bytes: int | None = None) -> None:
    """Reject an upload that is too large, empty or of the wrong kind, before reading it.

    `max_bytes` defaults to DEFAULT_MAX_BYTES as it is when called.
    """
    limit = DEFAULT_MAX_BYTES if max_bytes is None else max_bytes
    suffix = Path(upload.name).suffix.lower()
    if suffix not in ACCEPTED_SUFFIXES:
        kind = f"a {suffix} file" if suffix else "a file without an extension"
        raise UploadError(
            f"{role} file {upload.name!r} is {kind}, not a CSV or Excel file. Export the "
            "applicant list from your applicant-tracking system as CSV (.csv) or Excel "
            "workbook (.xlsx) and upload that."
        )
    if len(upload.data) > limit:
        raise UploadError(
            f"{role} file {upload.name!r} is {_size_text(len(upload.data))}, over the "
            f"{_size_text(limit)} limit. Split the batch into smaller files, or screen it "
            "with the command line (`screening screen`), which has no size limit."
        )
    if not upload.data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise UploadError(
            f"{role} file {upload.name!r} is empty. Export it again; its first row must hold "
            "the column names."
        )


def _safe_name(name: str) -> str:
    """A file name without folders or characters a file system may refuse."""
    base = Path(name.replace("\\", "/")).name
    cleaned = re.sub(r"[^\w.\- ]+", "_", base).strip(" .")
    return cleaned or "upload.csv"


class _Staged:
    """Uploads written to a private temporary folder, and how to hide that folder again."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.prefix = str(folder) + "/"
        self.shown: dict[str, str] = {}

    def write(self, upload: Upload, role: str) -> Path:
        path = self.folder / role / _safe_name(upload.name)
        path.parent.mkdir()
        path.write_bytes(upload.data)
        self.shown[str(path)] = upload.name
        return path

    def hide(self, text: str) -> str:
        for path, name in self.shown.items():
            text = text.replace(path, name)
        return text.replace(self.prefix, "")


def _tidy_batch(batch: Batch, staged: _Staged) -> Batch:
    """Replace temporary paths by the uploaded names everywhere a batch shows a file."""
    for file in batch.files:
        file.path = staged.hide(file.path)
    for issue in batch.issues:
        issue.file = staged.hide(issue.file)
    for frame in (batch.applicants, batch.jobs, batch.education):
        if "file" in frame.columns and len(frame):
            frame["file"] = (
                frame["file"]
                .map(lambda v: staged.hide(v) if isinstance(v, str) else v)
                .astype(object)
            )
    return batch


def mapping_yaml(mapping: dict[str, str]) -> str:
    """A column mapping as the YAML file `--columns` and the upload page read."""
    return yaml.safe_dump({"columns": dict(mapping)}, sort_keys=False, allow_unicode=True)


def read_mapping_upload(upload: Upload) -> dict[str, str]:
    """Read an uploaded column-mapping YAML file; UploadError says what is wrong."""
    from screening.columns import read_column_mapping

    with tempfile.TemporaryDirectory(prefix="screening-mapping-") as folder:
        staged = _Staged(Path(folder))
        path = staged.write(upload, "mapping")
        try:
            return read_column_mapping(path)
        except FileLevelError as exc:
            raise UploadError(staged.hide(str(exc)).replace("--columns", "the mapping")) from None


def load_uploads(
    applicants: Upload,
    *,
    jobs: Upload | None = None,
    education: Upload | None = None,
    mapping: dict[str, str] | None = None,
    max_bytes: int | None = None,
) -> Batch:
    """Load a batch from uploaded files (wide form, or long form with jobs/education).

    Raises UploadError with one clear message when a file cannot be used; row problems are
    in Batch.issues, with the uploaded file names.
    """
    given = {"applicants": applicants, "jobs": jobs, "education": education}
    for role, upload in given.items():
        if upload is not None:
            check_upload(upload, role, max_bytes)
    with tempfile.TemporaryDirectory(prefix="screening-upload-") as folder:
        staged = _Staged(Path(folder))
        paths = {role: staged.write(u, role) for role, u in given.items() if u is not None}
        columns_path = None
        if mapping:
            columns_path = Path(folder) / "columns.yaml"
            columns_path.write_text(mapping_yaml(mapping), encoding="utf-8")
        try:
            batch = load_batch(
                paths["applicants"],
                jobs=paths.get("jobs"),
                education=paths.get("education"),
                columns=columns_path,
            )
        except FileLevelError as exc:
            message = staged.hide(str(exc)).replace("--columns", "the column-mapping step")
            raise UploadError(message.replace("--jobs/--education", "jobs/education")) from None
        return _tidy_batch(batch, staged)


@dataclass(frozen=True)
class HeaderStatus:
    """How one header of an uploaded file is understood."""

    header: str
    recognised_as: str | None  # canonical name, None when unknown
    suggestion: str | None  # closest canonical name for an unknown header


class _HeaderRead(Exception):
    """Raised by the column picker once the header row is known."""


def read_headers(upload: Upload, role: str, max_bytes: int | None = None) -> list[str]:
    """The header row of an uploaded file (UploadError when it cannot be read)."""
    check_upload(upload, role, max_bytes)
    headers: list[str] = []

    def stop_after_header(found: list[str]) -> list[int]:
        headers.extend(found)
        raise _HeaderRead  # the rows are not needed: stop before parsing them

    with tempfile.TemporaryDirectory(prefix="screening-headers-") as folder:
        staged = _Staged(Path(folder))
        path = staged.write(upload, role)
        try:
            read_table(path, role, stop_after_header)
        except _HeaderRead:
            pass
        except FileLevelError as exc:
            raise UploadError(staged.hide(str(exc))) from None
    return headers


def header_statuses(
    headers: list[str], role: str = "applicants", mapping: dict[str, str] | None = None
) -> list[HeaderStatus]:
    """Each header with what it is recognised as (after the mapping) or a suggestion."""
    group = ROLES[role]
    mapped = {header_key(k): v for k, v in (mapping or {}).items()}
    out: list[HeaderStatus] = []
    # Blank and repeated headers go by the loader's names for them ("column 7", "Notes (2)").
    for raw, header in zip(headers, unique_header_names(headers), strict=True):
        role_found = None
        if header_key(header) in mapped and parse_canonical(mapped[header_key(header)]):
            out.append(HeaderStatus(header, mapped[header_key(header)], None))
            continue
        if not header_key(raw):
            out.append(HeaderStatus(header, None, None))
            continue
        role_found = recognise(raw, group)
        if role_found is not None:
            out.append(HeaderStatus(header, role_found.canonical, None))
        else:
            out.append(HeaderStatus(header, None, suggest(header, group)))
    return out


def needs_mapping(
    statuses: list[HeaderStatus],
    role: str = "applicants",
    *,
    long_form: bool = False,
    needed: Collection[EntryGroup] = (),
) -> bool:
    """Whether mapping headers could make an unusable file usable: some header is unknown,
    and applicant_id is missing, or no entry column is recognised, or none of an entry
    group the spec needs (`needed`; in the applicants file only in the wide form,
    `long_form` False)."""
    if all(s.recognised_as is not None for s in statuses):
        return False  # nothing to map: the loader says what is missing
    names = {s.recognised_as for s in statuses if s.recognised_as}
    if "applicant_id" not in names:
        return True
    if role != "applicants":
        return len(names) < 2
    if long_form:
        return False
    return bool(missing_entry_groups(statuses, needed or ("job", "edu"), any_of=not needed))


def missing_entry_groups(
    statuses: list[HeaderStatus], needed: Collection[EntryGroup], *, any_of: bool = False
) -> list[EntryGroup]:
    """The needed entry groups no header of a wide applicants file is read as (with
    `any_of`, all of them only when none of them is present)."""
    present = {
        r.group
        for s in statuses
        if s.recognised_as and (r := parse_canonical(s.recognised_as)) and r.kind == "entry"
    }
    groups: tuple[EntryGroup, ...] = ("job", "edu")
    missing = [g for g in groups if g in needed and g not in present]
    if any_of and len(missing) < len([g for g in groups if g in needed]):
        return []
    return missing


def mapping_choices(role: str = "applicants") -> list[str]:
    """Canonical names a user may map a header to, for a select box."""
    names = all_canonical_names(ROLES[role])
    if ROLES[role] is None:
        # the wide form numbers entries; offer the first three of each
        for n in (2, 3):
            names += [c.replace("1_", f"{n}_", 1) for c in names if re.match(r"(job|edu)1_", c)]
    return names
