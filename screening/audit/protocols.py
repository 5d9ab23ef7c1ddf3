"""What the audit store needs from a screening run (the pipeline's ScreeningResult)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any, Protocol

import pandas as pd

from screening.results import Decision
from screening.spec import JobSpec


class InputFileLike(Protocol):
    """One input file of a run: its role (applicants, jobs, ...), path, hash and rows."""

    @property
    def role(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def sha256(self) -> str: ...
    @property
    def rows(self) -> int: ...


class ScreeningResultLike(Protocol):
    """A screened batch, as ``screening.run.stages.ScreeningResult`` provides it."""

    @property
    def spec(self) -> JobSpec: ...
    @property
    def spec_path(self) -> str | None: ...
    @property
    def ruleset(self) -> dict[str, Any]: ...
    @property
    def ruleset_hash(self) -> str: ...
    @property
    def as_of(self) -> date: ...
    @property
    def requires_driving(self) -> bool: ...
    @property
    def files(self) -> Sequence[InputFileLike]: ...
    @property
    def eeo(self) -> pd.DataFrame: ...
    def decisions(self) -> Iterator[Decision]: ...
    def input_records(self) -> Iterator[tuple[str, dict[str, Any]]]: ...
