"""Shared pieces of the audit tests: screening results built by hand, store URLs.

Tests use a real PostgreSQL server when SCREENING_TEST_POSTGRES_URL is set or one answers
on 127.0.0.1:5432; each PostgreSQL test gets a fresh schema.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from screening.results import CriterionResult, Decision, Outcome, Status
from screening.spec import JobSpec, load_spec

ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = ROOT / "rules" / "alameda-7616-account-manager.yaml"
DEFAULT_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


def spec() -> JobSpec:
    """The Alameda Account Manager spec (criteria: education, experience, license)."""
    return load_spec(SPEC_PATH)


@dataclass
class InputFile:
    role: str
    path: str
    sha256: str
    rows: int


@dataclass
class Applicant:
    """One hand-made applicant: outcome, criterion statuses, eeo answers, input record."""

    applicant_id: str
    outcome: Outcome
    education: Status
    experience: Status
    sex: str | None = None
    race: str | None = None
    years: float = 0.0


@dataclass
class FakeResult:
    """A ScreeningResult as the pipeline provides it, built from Applicants."""

    applicants: list[Applicant]
    spec: JobSpec = field(default_factory=spec)
    spec_path: str | None = str(SPEC_PATH)
    ruleset: dict[str, Any] = field(default_factory=lambda: {"account_manager": {"r1": {}}})
    ruleset_hash: str = "ab" * 32
    as_of: date = date(2026, 3, 1)
    requires_driving: bool = False
    files: list[InputFile] = field(
        default_factory=lambda: [InputFile("applicants", "applicants.csv", "cd" * 32, 3)]
    )

    @property
    def eeo(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "applicant_id": [a.applicant_id for a in self.applicants],
                "eeo_sex": [a.sex for a in self.applicants],
                "eeo_race_ethnicity": [a.race for a in self.applicants],
            }
        )

    def decisions(self) -> Iterator[Decision]:
        for row, a in enumerate(self.applicants, start=2):
            yield make_decision(a, row)

    def input_records(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for a in self.applicants:
            yield a.applicant_id, input_record(a)


def input_record(a: Applicant) -> dict[str, Any]:
    return {
        "applicant": {"applicant_id": a.applicant_id, "first_name": f"Name{a.applicant_id}"},
        "jobs": [
            {
                "title": "Key Account Manager",
                "employer": "SMUD",
                "industry": "Electric utility",
                "start": "2020-03",
                "end": "present",
            }
        ],
        "education": [{"degree": "BA", "major": "Business Administration"}],
    }


def make_decision(a: Applicant, row: int) -> Decision:
    return Decision(
        applicant_id=a.applicant_id,
        row=row,
        outcome=a.outcome,
        pattern="typical",
        qualifying_years=a.years,
        possible_years=a.years,
        criteria=[
            CriterionResult(
                id="typical.education",
                kind="education",
                pattern="typical",
                status=a.education,
                reason=f"Education: {a.education.value}",
                values={"level": "bachelor"},
            ),
            CriterionResult(
                id="typical.experience",
                kind="experience",
                pattern="typical",
                status=a.experience,
                reason=f"Experience: {a.years} of 3 required years",
                values={"years": a.years},
            ),
            CriterionResult(
                id="ca_drivers_license",
                kind="license",
                status=Status.condition,
                reason="valid California driver's license required at appointment",
            ),
        ],
        reasons=[f"Experience: {a.years} of 3 required years"],
    )


def applicants(n: int, prefix: str = "A") -> list[Applicant]:
    """n applicants cycling through outcomes and groups (a fixed, readable pattern)."""
    outcomes = [Outcome.qualified, Outcome.not_qualified, Outcome.qualified, Outcome.needs_review]
    sexes = ["Female", "Male", None, "Female", "Male"]
    races = ["Asian", "White", "Hispanic or Latino", "Decline to state"]
    people = []
    for i in range(n):
        outcome = outcomes[i % len(outcomes)]
        experience = {
            Outcome.qualified: Status.met,
            Outcome.not_qualified: Status.not_met,
            Outcome.needs_review: Status.review,
        }[outcome]
        people.append(
            Applicant(
                f"{prefix}{i:05d}",
                outcome,
                Status.met if i % 3 else Status.substituted,
                experience,
                sexes[i % len(sexes)],
                races[i % len(races)],
                years=3.0 if outcome is Outcome.qualified else 1.5,
            )
        )
    return people


def postgres_url() -> str | None:
    """The PostgreSQL server to test against, or None when there is none."""
    url = os.environ.get("SCREENING_TEST_POSTGRES_URL")
    if url:
        return url
    try:
        engine = sa.create_engine(DEFAULT_POSTGRES_URL, connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
    except sa.exc.OperationalError:
        return None
    return DEFAULT_POSTGRES_URL


BACKENDS = ["sqlite", "postgresql"]


def _fresh_postgres(base: str) -> Iterator[str]:
    schema = f"audit_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.engine.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty audit database URL: SQLite in a temp dir, or a new PG schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'audit.db'}"
        return
    base = postgres_url()
    if base is None:
        pytest.skip("no PostgreSQL server reachable and SCREENING_TEST_POSTGRES_URL not set")
    yield from _fresh_postgres(base)
