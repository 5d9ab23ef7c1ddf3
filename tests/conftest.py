"""Test-wide settings, and the one rule for inputs that live outside the repository."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

#: Shared inputs (the reference corpora, the product contract) sit beside the repository.
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


def under_ci() -> bool:
    """True when the environment variable CI is set (to anything but an empty value)."""
    return bool(os.environ.get("CI", "").strip())


def skip_unless_ci(reason: str) -> NoReturn:
    """Skip a test whose outside input is missing; under CI the same reason fails it."""
    if under_ci():
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)")
    pytest.skip(reason)


def shared_input(relative: str) -> Path:
    """A path under the shared inputs beside the repository (`../shared/RELATIVE`).

    A missing input skips the calling test with the path it looked for, and fails it when CI
    is set: a clone without the shared inputs still passes, a CI run never hides them.
    """
    path = SHARED / relative
    if not path.exists():
        skip_unless_ci(
            f"shared input {relative!r} not found at {path}; it sits beside the repository"
        )
    return path


@pytest.fixture(autouse=True)
def _audit_store_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`screening screen` records runs: keep each test's audit store in its own folder."""
    monkeypatch.setenv("SCREENING_DATABASE_URL", f"sqlite:///{tmp_path / 'audit.db'}")
