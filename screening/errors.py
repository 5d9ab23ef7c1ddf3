"""The one root of the errors the package reports to a person, and its two kinds.

Every face (the command line, the app) catches `ScreeningError` once and shows
`describe()`; the kind says whose move it is:

- `UserError`: the input, the spec, an option or the store named cannot be used; the
  message names it, says what is wrong and how to fix it.
- `InternalFailure`: the run could not finish for a reason that is not the input's (the
  rule engine failed, a worker process died); nothing of the run is kept.

The errors of the audit trail's own encoding (`audit.blocks.BlockError`,
`audit.prepare.PrepareError`) stay below this root: the store turns them into an
`AuditError` before they reach a face.
"""

from __future__ import annotations


class ScreeningError(Exception):
    """An error reported to a person as one message; never a traceback."""

    def describe(self) -> str:
        """The message a face shows after ``error: ``."""
        return str(self)


class UserError(ScreeningError):
    """Something the person can fix: a file, a spec, an option, a store they named."""


class InternalFailure(ScreeningError):
    """The run could not finish for a reason that is not the input's."""
