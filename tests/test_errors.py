"""One error root: every error the package reports to a person is a ScreeningError of one
of its two kinds, so each face needs one `except` for what it shows."""

from __future__ import annotations

import importlib
import inspect

from screening.errors import InternalFailure, ScreeningError, UserError
from tests.test_architecture import package_modules

#: Errors of the audit trail's own encoding: the store turns them into an AuditError
#: before they reach a face, and they keep their ValueError base for that.
BELOW_THE_ROOT = {"screening.audit.blocks.BlockError", "screening.audit.prepare.PrepareError"}


def package_errors() -> dict[str, type[BaseException]]:
    """Public exception classes defined in the package, by qualified name."""
    found = {}
    for module in package_modules():
        loaded = importlib.import_module(module)
        for name, value in vars(loaded).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == module
                and not name.startswith("_")
            ):
                found[f"{module}.{name}"] = value
    return found


def test_every_public_error_has_the_one_root_and_one_kind() -> None:
    errors = package_errors()
    assert "screening.spec.SpecError" in errors and "screening.engine.EngineError" in errors
    for name, error in errors.items():
        if name in BELOW_THE_ROOT or error in (ScreeningError, UserError, InternalFailure):
            continue
        assert issubclass(error, ScreeningError), name
        assert issubclass(error, UserError) != issubclass(error, InternalFailure), name


def test_the_engine_says_it_was_the_engine() -> None:
    from screening.engine import EngineError

    assert EngineError("boom").describe() == "the rule engine failed: boom"
    assert UserError("bad file").describe() == "bad file"
