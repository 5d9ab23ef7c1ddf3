"""The one tally of a screening run: outcomes, screened applicants, error rows, problems
and stage times, added up chunk by chunk in input order.

Each chunk counts its own (`ChunkOutput`, from `ScreeningResult.outcome_counts`); the run's
totals are only ever these sums, so the summary a face prints and the outputs agree.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field

from screening.results import ERROR_COLUMNS
from screening.run.chunks import ChunkOutput, ParallelRun


@dataclass
class RunTotals:
    """What a screening run adds up to over its chunks."""

    spec_id: str = ""
    revision: str = ""
    ruleset: str = ""
    as_of: str = ""
    requires_driving: bool = False
    position_requires: tuple[str, ...] = ()
    outcomes: Counter[str] = field(default_factory=Counter)
    screened: int = 0
    error_rows: int = 0
    errors: int = 0
    warnings: int = 0
    timings: Counter[str] = field(default_factory=Counter)
    #: the problems of the file as a whole (headers, not rows): no applicant data in them
    file_problems: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, run: ParallelRun) -> RunTotals:
        """Empty totals of a run (what it screens against)."""
        job = run.job
        return cls(
            spec_id=job.spec.id,
            revision=job.spec.revision,
            ruleset=run.ruleset_name,
            as_of=job.as_of.isoformat(),
            requires_driving=job.requires_driving,
            position_requires=tuple(sorted(job.position_requires)),
            timings=Counter(run.timings),
        )

    def add(self, chunk: ChunkOutput) -> None:
        """Count one chunk's results."""
        self.outcomes.update(chunk.outcomes)
        self.screened += chunk.screened
        self.error_rows += chunk.error_rows
        self.errors += chunk.errors
        self.warnings += chunk.warnings
        self.add_times(chunk.timings)

    def add_times(self, timings: dict[str, float]) -> None:
        """Add stage times (seconds; a worker's stages add up over the workers)."""
        self.timings.update(timings)


def file_problems(warnings_csv: bytes) -> list[str]:
    """The problems without a row (unknown or repeated headers, a title above them) among
    a chunk's warning rows of the errors CSV: safe to print, they hold no applicant data."""
    reader = csv.DictReader(io.StringIO(warnings_csv.decode("utf-8")), fieldnames=ERROR_COLUMNS)
    return [row["problem"] for row in reader if not row["row"] and not row["applicant_id"]]
