"""Where a command may write: one guard for every output file, and files put in place whole.

Every output option of the command line (`screen --out/--errors`, `compile --out`,
`audit impact --csv/--html`) is checked by `check_outputs` before anything is read or
recorded: an output never replaces the audit store (its SQLite file and the -wal, -shm
and -journal files beside it), an input, the spec or its vocabulary, or another output of
the same command, and an existing output must be a regular file (a folder, a device node
such as /dev/null or a named pipe is refused: standard output is the way to stream).

`StagedOutputs` writes each output under a temporary name beside its target and renames
it into place only when the command succeeded. The temporary names carry the writing
process's id, so the files of a run that was killed (SIGKILL leaves no chance to clean
up) are recognised and removed by the next run that writes to the same folder.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO

from screening.errors import UserError

#: Suffix of a file being written; never a finished output.
PARTIAL_SUFFIX = ".partial"
#: Files SQLite keeps beside a database (write-ahead log, shared memory, rollback journal).
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


class OutputError(UserError):
    """An output that must not be written; str(exc) names the option, the file and the fix."""


def audit_store_files(url: str) -> list[Path]:
    """The files of a SQLite audit store URL (none for a server database or memory)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return []  # the store itself reports an unusable URL
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or database in (None, "", ":memory:"):
        return []
    if database.startswith("file:"):  # a URI filename: the path ends at the query
        database = database[len("file:") :].split("?", 1)[0]
    main = Path(database)
    return [main, *(Path(f"{main}{suffix}") for suffix in SQLITE_COMPANIONS)]


def same_file(one: str | Path, other: str | Path) -> bool:
    """Whether two paths name one file: the same resolved path, or the same inode."""
    try:
        if Path(one).resolve() == Path(other).resolve():
            return True
        return os.path.samefile(one, other)
    except OSError:
        return False  # one of them does not exist (and their paths differ)


def _kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_outputs(
    outputs: Mapping[str, str | Path | None],
    protected: Mapping[str, str | Path | None],
    *,
    audit_url: str | None = None,
) -> None:
    """Refuse outputs that would replace a file the command must keep, before any is written.

    `outputs` maps an option (e.g. "--out") to the file it names (None when not given);
    `protected` maps a description ("the applicants file", "--spec") to a file the command
    reads; `audit_url` is the audit store, whose files are never replaced. Raises
    OutputError with one message.
    """
    kept: list[tuple[str, Path]] = [
        (name, Path(path)) for name, path in protected.items() if path is not None
    ]
    if audit_url is not None:
        kept += [("the audit store", path) for path in audit_store_files(audit_url)]
    given = [(option, Path(target)) for option, target in outputs.items() if target is not None]
    for index, (option, target) in enumerate(given):
        _check_target(option, target)
        for name, path in kept:
            if same_file(target, path):
                raise OutputError(
                    f"{option} {str(target)!r} is {name} ({path}); writing there would "
                    "replace it. Write the output to another file."
                )
        for other_option, other in given[index + 1 :]:
            if same_file(target, other):
                raise OutputError(
                    f"{option} and {other_option} both name {str(target)!r}; give each "
                    "output its own file."
                )


def _check_target(option: str, target: Path) -> None:
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OutputError(f"{option} {str(target)!r} cannot be used ({exc.strerror})") from None
    if mode is not None and not stat.S_ISREG(mode):
        raise OutputError(
            f"{option} {str(target)!r} is {_kind_of(mode)}, not a file; name a file to "
            "write (leave the option out to write to standard output where it offers that)."
        )
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(
            f"{option} {str(target)!r}: the folder {str(folder)!r} does not exist; create "
            "it or name a file in an existing folder."
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(
            f"{option} {str(target)!r}: the folder {str(folder)!r} is not writable; name a "
            "file in a folder you can write to."
        )


def _partial_prefix(final: Path) -> str:
    return f".{final.name}."


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def sweep_stale_partials(targets: Iterable[Path]) -> list[Path]:
    """Remove the partial files of earlier runs, writing to `targets`, whose process has
    ended (killed before it could clean up); the files removed."""
    removed: list[Path] = []
    for final in targets:
        prefix = _partial_prefix(final)
        with contextlib.suppress(OSError):
            for candidate in final.parent.iterdir():
                name = candidate.name
                if not (name.startswith(prefix) and name.endswith(PARTIAL_SUFFIX)):
                    continue
                pid_text = name[len(prefix) : -len(PARTIAL_SUFFIX)].split(".", 1)[0]
                if pid_text.isdigit() and not _process_alive(int(pid_text)):
                    with contextlib.suppress(OSError):
                        candidate.unlink()
                        removed.append(candidate)
    return removed


class StagedOutputs:
    """Output files written under temporary names beside their targets, put in place by
    `commit` (and taken back by `withdraw`); every unfinished file is removed when the
    exit stack the outputs were opened on closes."""

    def __init__(self, stack: contextlib.ExitStack) -> None:
        self._stack = stack
        self._files: list[tuple[IO[bytes], Path]] = []
        self._placed: list[Path] = []

    def open(self, target: str | Path) -> IO[bytes]:
        """A new file that becomes `target` on commit."""
        final = Path(target)
        sweep_stale_partials([final])
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by the exit stack
            dir=final.parent,
            prefix=f"{_partial_prefix(final)}{os.getpid()}.",
            suffix=PARTIAL_SUFFIX,
            delete=False,
        )
        self._stack.callback(self._discard, Path(handle.name))
        self._stack.enter_context(handle)
        self._files.append((handle, final))
        return handle

    def commit(self) -> None:
        """Close every finished file and put it in its place."""
        for handle, final in self._files:
            handle.close()
            os.replace(handle.name, final)
            self._placed.append(final)

    def withdraw(self) -> None:
        """Remove the outputs `commit` put in place (what they belong to was not kept)."""
        for final in self._placed:
            with contextlib.suppress(OSError):
                final.unlink()
        self._placed.clear()

    @staticmethod
    def _discard(partial: Path) -> None:
        partial.unlink(missing_ok=True)  # gone already once committed


__all__ = [
    "PARTIAL_SUFFIX",
    "OutputError",
    "StagedOutputs",
    "audit_store_files",
    "check_outputs",
    "same_file",
    "sweep_stale_partials",
]
