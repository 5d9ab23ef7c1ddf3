"""Differential test: the engine and the independent reference evaluator must agree.

A clean generated batch is screened by the engine (pandas evidence + durable_rules) and by
tests/reference_evaluator.py (plain Python, day by day, exact fractions). Every applicant's
outcome and every criterion status must be the same; for the single-pattern Account Manager
spec the certain years must agree too.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from data.generate import generate_applicants
from screening.run.stages import screen_files
from screening.spec import JobSpec, load_spec
from screening.vocabulary import Vocabulary, load_vocabulary
from tests.reference_evaluator import ReferenceDecision, evaluate_file

RULES = Path(__file__).resolve().parent.parent / "rules"
ALAMEDA = RULES / "alameda-7616-account-manager.yaml"
AS_OF = date(2026, 11, 26)
APPLICANTS = 5000
SEED = 20261126
#: qualifying_years is shown rounded down to hundredths; a larger difference is a disagreement.
YEARS_TOLERANCE = 0.01

#: EITHER a bachelor's in economics or business + 2 years of utility account work, OR five
#: years of project/program management within ten years and a PMP certificate; a driver's
#: license checked at screening when the position requires driving.
TWO_PATTERN_SPEC: dict[str, Any] = {
    "id": "differential-two-patterns",
    "title": "Utility Programs Specialist",
    "full_time_hours": 40,
    "vocabulary": "vocabulary.yaml",
    "patterns": [
        {
            "id": "degree",
            "clause": "EITHER",
            "education": {
                "id": "degree.education",
                "min_level": "bachelor",
                "fields": ["economics", "business administration"],
                "allow_related": False,
                "accredited": True,
            },
            "experience": [
                {
                    "id": "degree.experience",
                    "years": 2,
                    "areas": {"account management": [], "customer relations": []},
                    "industries": ["utility"],
                    "allow_related_industries": True,
                    "professional": True,
                }
            ],
        },
        {
            "id": "practice",
            "clause": "OR",
            "experience": [
                {
                    "id": "practice.experience",
                    "years": 5,
                    "areas": {"project management": [], "program management": []},
                    "area_industries": {"program management": ["utility"]},
                    "within_years": 10,
                }
            ],
            "certificates": [
                {
                    "id": "practice.pmp",
                    "name": "Project Management Professional",
                    "aliases": ["PMP"],
                    "enforce_at": "screening",
                }
            ],
        },
    ],
    "substitution": {"experience_for_education": True, "education_years": 4},
    "licenses": [
        {
            "id": "drivers_license",
            "kind": "driver's license",
            "state": "CA",
            "applies": "position_requires_driving",
            "enforce_at": "screening",
        }
    ],
}


def write_generated_batch(path: Path) -> None:
    """Write a clean wide CSV of generated applicants to `path`."""
    batch = generate_applicants(APPLICANTS, seed=SEED, as_of=AS_OF, clean=True)
    batch.write_wide(path)


def write_spec(data: dict[str, Any], path: Path) -> Path:
    """Write a spec as YAML with the project vocabulary beside it; return its path."""
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    shutil.copy(RULES / "vocabulary.yaml", path.parent / "vocabulary.yaml")
    return path


@pytest.fixture(scope="module")
def applicants_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("differential") / "applicants.csv"
    write_generated_batch(path)
    return path


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return load_vocabulary(RULES / "vocabulary.yaml")


def _text(value: Any) -> str:
    """An engine cell as text (statuses may be enums or strings)."""
    return str(value.value) if hasattr(value, "value") else str(value)


def _describe(applicant_id: str, engine: Mapping[Any, Any], reference: ReferenceDecision) -> str:
    ours = {"outcome": reference.outcome, **reference.statuses}
    theirs = {key: _text(engine.get(key)) for key in ours}
    return (
        f"  {applicant_id}:\n"
        f"    engine    {theirs} years={engine.get('qualifying_years')} "
        f"pattern={engine.get('pattern')}\n"
        f"    reference {ours} years={float(reference.qualifying_years):.4f} "
        f"pattern={reference.pattern}"
    )


def assert_engine_agrees(
    spec: JobSpec,
    spec_path: Path,
    vocabulary: Vocabulary,
    applicants: Path,
    *,
    requires_driving: bool,
    compare_years: bool,
) -> None:
    """Screen with both; fail listing the first 10 applicants on which they disagree."""
    reference = evaluate_file(
        spec, vocabulary, applicants, as_of=AS_OF, requires_driving=requires_driving
    )
    result = screen_files(applicants, spec_path, as_of=AS_OF, requires_driving=requires_driving)
    engine_rows = {
        _text(row["applicant_id"]): row for row in result.results.to_dict(orient="records")
    }
    assert len(reference) == APPLICANTS
    missing = sorted(set(reference) - set(engine_rows))
    extra = sorted(set(engine_rows) - set(reference))
    assert not missing and not extra, (
        f"engine screened a different set of applicants: missing {missing[:10]}, extra {extra[:10]}"
    )
    disagreeing: list[str] = []
    for applicant_id, decision in reference.items():
        engine = engine_rows[applicant_id]
        same = _text(engine["outcome"]) == decision.outcome and all(
            _text(engine[criterion]) == status for criterion, status in decision.statuses.items()
        )
        if same and compare_years:
            engine_years = float(engine["qualifying_years"])
            same = abs(engine_years - float(decision.qualifying_years)) <= YEARS_TOLERANCE
        if not same:
            disagreeing.append(applicant_id)
    if disagreeing:
        details = "\n".join(_describe(a, engine_rows[a], reference[a]) for a in disagreeing[:10])
        pytest.fail(
            f"engine and reference disagree on {len(disagreeing)} of {len(reference)} "
            f"applicants (requires_driving={requires_driving}); first 10:\n{details}",
            pytrace=False,
        )


@pytest.mark.parametrize("requires_driving", [False, True])
def test_engine_matches_reference_on_the_account_manager_spec(
    applicants_csv: Path, vocabulary: Vocabulary, requires_driving: bool
) -> None:
    assert_engine_agrees(
        load_spec(ALAMEDA),
        ALAMEDA,
        vocabulary,
        applicants_csv,
        requires_driving=requires_driving,
        compare_years=True,
    )


@pytest.mark.parametrize("requires_driving", [False, True])
def test_engine_matches_reference_on_a_two_pattern_spec(
    applicants_csv: Path, vocabulary: Vocabulary, requires_driving: bool, tmp_path: Path
) -> None:
    spec_path = write_spec(TWO_PATTERN_SPEC, tmp_path / "two-patterns.yaml")
    assert_engine_agrees(
        load_spec(spec_path),
        spec_path,
        vocabulary,
        applicants_csv,
        requires_driving=requires_driving,
        compare_years=False,
    )


def test_engine_matches_reference_with_discretionary_equivalency(
    applicants_csv: Path, vocabulary: Vocabulary, tmp_path: Path
) -> None:
    # "Any equivalent combination determined acceptable by HR": rejections with some
    # education or experience go to review instead.
    data = {**TWO_PATTERN_SPEC, "id": "differential-discretionary"}
    data["substitution"] = {**TWO_PATTERN_SPEC["substitution"], "discretionary": True}
    spec_path = write_spec(data, tmp_path / "discretionary.yaml")
    assert_engine_agrees(
        load_spec(spec_path),
        spec_path,
        vocabulary,
        applicants_csv,
        requires_driving=False,
        compare_years=False,
    )


#: Features the other specs leave out: a 35-hour week, fractional years, college years as
#: well as a level, a pattern's own substitution overriding the spec's, related industries
#: refused, a keyword added by the spec, a pattern license at screening and a spec-wide
#: certificate verified at appointment.
FEATURE_SPEC: dict[str, Any] = {
    "id": "differential-features",
    "title": "Energy Services Representative",
    "full_time_hours": 35,
    "vocabulary": "vocabulary.yaml",
    "patterns": [
        {
            "id": "college",
            "education": {"id": "college.education", "min_level": "high_school", "min_years": 2},
            "experience": [
                {
                    "id": "college.experience",
                    "years": 2.5,
                    "areas": {"customer relations": [], "business development": ["sales"]},
                    "industries": ["utility"],
                    "allow_related_industries": False,
                    "within_years": 6,
                }
            ],
            "substitution": {"experience_for_education": True, "education_years": 2},
            "licenses": [
                {
                    "id": "college.license",
                    "state": "CA",
                    "applies": "always",
                    "enforce_at": "screening",
                }
            ],
        },
        {
            "id": "degree",
            "education": {
                "id": "degree.education",
                "min_level": "associate",
                "fields": ["engineering", "environmental studies", "public administration"],
                "allow_related": True,
                "accredited": False,
            },
            "experience": [
                {
                    "id": "degree.experience",
                    "years": 1.5,
                    "areas": {"project management": [], "program management": []},
                    "professional": True,
                }
            ],
        },
    ],
    "substitution": {"experience_for_education": False, "discretionary": False},
    "certificates": [
        {
            "id": "cem",
            "name": "Certified Energy Manager",
            "aliases": ["CEM"],
            "enforce_at": "appointment",
        }
    ],
}


def test_engine_matches_reference_on_more_spec_features(
    applicants_csv: Path, vocabulary: Vocabulary, tmp_path: Path
) -> None:
    spec_path = write_spec(FEATURE_SPEC, tmp_path / "features.yaml")
    assert_engine_agrees(
        load_spec(spec_path),
        spec_path,
        vocabulary,
        applicants_csv,
        requires_driving=False,
        compare_years=False,
    )
