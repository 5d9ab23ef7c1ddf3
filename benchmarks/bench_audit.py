"""Benchmark: record a run of N decisions in the audit store, then verify the chain.

    python benchmarks/bench_audit.py                     # 100,000 decisions, SQLite
    python benchmarks/bench_audit.py --n 1000000
    python benchmarks/bench_audit.py --url postgresql+psycopg2://postgres@127.0.0.1:5432/test

Decisions are realistic in size (three criteria with values and reasons, two job entries
and one education entry of evidence, an input record with two jobs); they are built before
the clock starts, so the figures are the store's own cost. A SQLite database goes to a
temporary directory; a PostgreSQL one gets a fresh schema, dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from screening.audit import AuditStore  # noqa: E402
from screening.results import (  # noqa: E402
    CriterionResult,
    Decision,
    EducationEvidence,
    JobEvidence,
    Outcome,
    Status,
)
from screening.spec import JobSpec, load_spec  # noqa: E402

OUTCOMES = [Outcome.qualified, Outcome.not_qualified, Outcome.needs_review]


def template(outcome: Outcome) -> Decision:
    met = outcome is Outcome.qualified
    return Decision(
        applicant_id="",
        row=0,
        outcome=outcome,
        pattern="typical",
        qualifying_years=3.42 if met else 2.47,
        possible_years=3.42 if met else 2.47,
        criteria=[
            CriterionResult(
                id="typical.education",
                kind="education",
                pattern="typical",
                status=Status.met,
                clause="Bachelor's degree from an accredited college or university",
                reason="Education: BA in Business Administration (bachelor, listed field)",
                values={"level": "bachelor", "field": "business administration", "years": 4},
            ),
            CriterionResult(
                id="typical.experience",
                kind="experience",
                pattern="typical",
                status=Status.met if met else Status.not_met,
                clause="Three years of professional account management experience",
                reason="Experience: 2.47 of 3 required years (Key Account Manager, SMUD, "
                "Jun 2024 – present, full time); short by 0.53 years.",
                values={"certain_years": 2.47, "possible_years": 2.47, "required": 3},
            ),
            CriterionResult(
                id="ca_drivers_license",
                kind="license",
                status=Status.condition,
                clause="Possession of a valid California driver's license",
                reason="valid California driver's license and satisfactory driving record "
                "required at appointment; applicant reports one",
                values={"reported": True, "state": "CA"},
            ),
        ],
        reasons=["Experience: 2.47 of 3 required years; short by 0.53 years."],
        conditions=["valid California driver's license required at appointment"],
        jobs=[
            JobEvidence(
                entry=i,
                requirement="typical.experience",
                title="Key Account Manager",
                employer="SMUD",
                industry="Electric utility",
                start="2021-06",
                end="present",
                start_day="2021-06-01",
                end_day="2026-03-01",
                hours_per_week=40,
                qualifying_percent=100,
                classification="qualifying",
                matched="title 'Key Account Manager' matched area 'account management'; "
                "industry 'Electric utility' matched 'utility'",
                years=1.2,
            )
            for i in (1, 2)
        ],
        education=[
            EducationEvidence(
                entry=1,
                degree="BA",
                major="Business Administration",
                institution="CSU Sacramento",
                level_certain="bachelor",
                level_possible="bachelor",
                field_match="listed",
                counted="4 years",
            )
        ],
    )


@dataclass
class InputFile:
    role: str
    path: str
    sha256: str
    rows: int


@dataclass
class Batch:
    n: int
    spec: JobSpec
    spec_path: str | None = None
    ruleset: dict[str, Any] = field(default_factory=lambda: {"bench": {"rule": {}}})
    ruleset_hash: str = "0" * 64
    as_of: date = date(2026, 3, 1)
    requires_driving: bool = False
    files: list[InputFile] = field(default_factory=list)

    def __post_init__(self) -> None:
        templates = [template(o) for o in OUTCOMES]
        self.items = [
            templates[i % 3].model_copy(update={"applicant_id": f"{i:07d}", "row": i + 2})
            for i in range(self.n)
        ]
        self.eeo = pd.DataFrame(
            {
                "applicant_id": [d.applicant_id for d in self.items],
                "eeo_sex": [("Female", "Male", "")[i % 3] for i in range(self.n)],
                "eeo_race_ethnicity": [
                    ("Asian", "White", "Black", "Hispanic or Latino")[i % 4] for i in range(self.n)
                ],
            }
        )

    def decisions(self) -> Iterator[Decision]:
        return iter(self.items)

    def input_records(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for d in self.items:
            yield (
                d.applicant_id,
                {
                    "applicant": {
                        "applicant_id": d.applicant_id,
                        "first_name": "Pat",
                        "last_name": "Example",
                        "email": "pat@example.org",
                        "drivers_license": "yes",
                    },
                    "jobs": [
                        {
                            "title": "Key Account Manager",
                            "employer": "SMUD",
                            "industry": "Electric utility",
                            "start": "06/2021",
                            "end": "present",
                            "hours_per_week": "",
                            "duties": "Managed key commercial accounts and rate programs",
                        }
                    ]
                    * 2,
                    "education": [{"degree": "BA", "major": "Business Administration"}],
                },
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="decisions in the run")
    parser.add_argument("--url", help="database URL (default: SQLite in a temp directory)")
    args = parser.parse_args()
    print(f"load average before: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    spec = load_spec(ROOT / "rules" / "alameda-7616-account-manager.yaml")
    started = time.perf_counter()
    batch = Batch(args.n, spec)
    print(f"built {args.n:,} decisions in {time.perf_counter() - started:.1f} s (not timed below)")
    with tempfile.TemporaryDirectory() as tmp:
        url, schema = args.url, None
        if url is None:
            url = f"sqlite:///{Path(tmp) / 'audit.db'}"
        elif url.startswith("postgresql"):
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(url)
            with admin.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            url = (
                sa.engine.make_url(url)
                .update_query_dict({"options": f"-csearch_path={schema}"})
                .render_as_string(hide_password=False)
            )
        try:
            with AuditStore(url) as store:
                started, cpu = time.perf_counter(), time.process_time()
                summary = store.record_run(batch, "bench")
                recorded = time.perf_counter() - started
                print(
                    f"record_run: {summary.decisions:,} decisions in {recorded:.2f} s wall, "
                    f"{time.process_time() - cpu:.2f} s CPU in this process "
                    f"({summary.decisions / recorded:,.0f}/s); chain head seq {summary.chain_seq}"
                )
                started = time.perf_counter()
                report = store.verify()
                print(
                    f"verify: {report.records:,} records in {time.perf_counter() - started:.2f} s, "
                    f"ok={report.ok}"
                )
                started = time.perf_counter()
                store.impact(summary.run_id)
                print(f"impact report: {time.perf_counter() - started:.2f} s")
        finally:
            if schema is not None:
                with admin.begin() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()


if __name__ == "__main__":
    main()
