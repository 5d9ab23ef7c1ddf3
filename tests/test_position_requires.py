"""Conditional requirements ("some positions may require ...") and the review gate.

A credential only some positions require applies when the run says the position requires
it (`--position-requires CONDITION`, recorded with the run); otherwise its criterion is
not_applicable. A compiled draft with unparsed sentences screens nobody until an analyst
has marked it reviewed.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from screening.cli import main
from screening.documents import read_document_bytes
from screening.run.rescreen import rescreen
from screening.spec import (
    Certificate,
    JobSpec,
    License,
    SpecError,
    load_spec,
    save_spec,
    spec_from_data,
)
from screening.speccompiler import compile_document_data, default_vocabulary
from tests.builders import ALAMEDA, ROOT, VOCABULARY

SAMPLE = ROOT / "data" / "account-manager-applicants.csv"
AS_OF = "2026-11-26"
CONDITION = "forklift operator certificate"


def _compile(text: str) -> JobSpec:
    document = read_document_bytes(text.encode("utf-8"), "spec.txt")
    return compile_document_data(document, default_vocabulary()).spec


def _spec_file(tmp_path: Path, **changes: object) -> Path:
    """The Account Manager rule file with a conditional certificate (and `changes`)."""
    spec = load_spec(ALAMEDA)
    certificate = Certificate(
        id="forklift",
        name="forklift operator certificate",
        applies="position_requires",
        condition="Forklift Operator Certificate",
    )
    data = spec.model_dump(mode="json", by_alias=True) | {
        "certificates": [certificate.model_dump(mode="json")],
        "vocabulary": str(VOCABULARY),
        **changes,
    }
    path = tmp_path / "spec.yaml"
    save_spec(spec_from_data(data), path)
    return path


def _screen(
    tmp_path: Path, spec: Path, capsys: pytest.CaptureFixture[str], *more: str
) -> tuple[int, list[dict[str, str]], str]:
    out = tmp_path / "results.csv"
    out.unlink(missing_ok=True)
    code = main(
        ["screen", str(SAMPLE), "--spec", str(spec), "--as-of", AS_OF, "--out", str(out), *more]
    )
    err = capsys.readouterr().err
    rows: list[dict[str, str]] = []
    if out.exists():
        with out.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    return code, rows, err


def test_some_positions_may_require_becomes_a_named_condition() -> None:
    spec = _compile(
        "MINIMUM QUALIFICATIONS\n"
        "Two years of experience in warehouse work.\n"
        "Some positions may require a Forklift Operator Certificate.\n"
        "Some positions may require a valid California driver's license.\n"
    )
    (certificate,) = spec.certificates
    assert certificate.applies == "position_requires"
    assert certificate.condition == CONDITION
    (driving,) = spec.licenses
    assert driving.applies == "position_requires_driving"
    assert spec.position_conditions() == [CONDITION]


def test_a_condition_needs_its_words() -> None:
    with pytest.raises(ValueError, match="needs a condition"):
        License(id="x", kind="crane operator license", applies="position_requires")


def test_the_criterion_applies_only_when_the_run_names_its_condition(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _spec_file(tmp_path)
    code, rows, err = _screen(tmp_path, spec, capsys, "--no-audit")
    assert code == 0, err
    assert {r["forklift"] for r in rows} == {"not_applicable"}
    code, rows, err = _screen(
        tmp_path,
        spec,
        capsys,
        "--no-audit",
        "--position-requires",
        "forklift  OPERATOR certificate",
    )
    assert code == 0, err
    # nobody in the sample holds one: required now, so not met
    assert {r["forklift"] for r in rows} == {"not_met"}
    assert "position requires 'forklift  OPERATOR certificate'" in err


def test_the_condition_is_recorded_with_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from screening.audit.store import AuditStore

    database = f"sqlite:///{tmp_path / 'runs.db'}"
    spec = _spec_file(tmp_path)
    code, _, err = _screen(
        tmp_path, spec, capsys, "--database", database, "--user", "tester",
        "--position-requires", "Forklift Operator Certificate", "--requires-driving",
    )  # fmt: skip
    assert code == 0, err
    code, _, err = _screen(tmp_path, spec, capsys, "--database", database, "--user", "tester")
    assert code == 0, err
    with AuditStore(database) as store:
        with_condition, without = (info.run_id for info in store.runs())
        assert store.show(with_condition).settings == {
            "requires_driving": True,
            "position_requires": ["Forklift Operator Certificate"],
        }
        assert store.show(without).settings == {"requires_driving": False}
        # re-screening the stored run applies the recorded condition again
        assert rescreen(store, with_condition).flips == []


def test_a_condition_the_spec_does_not_name_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, rows, err = _screen(
        tmp_path, _spec_file(tmp_path), capsys, "--no-audit", "--position-requires", "forklift"
    )
    assert code == 2 and rows == []
    assert "'forklift' is not a condition of this spec" in err
    assert "'Forklift Operator Certificate'" in err
    assert err.count("\n") == 1


def test_an_unreviewed_draft_with_unparsed_sentences_is_refused_until_reviewed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unparsed = ["Must be able to work in the rain."]
    draft = _spec_file(tmp_path, unparsed=unparsed)
    code, rows, err = _screen(tmp_path, draft, capsys, "--no-audit")
    assert code == 2 and rows == []
    assert "1 unparsed sentence(s) and has not been reviewed" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    reviewed = _spec_file(
        tmp_path, unparsed=unparsed, reviewed={"by": "A. Analyst", "at": "2026-12-01"}
    )
    code, rows, err = _screen(tmp_path, reviewed, capsys, "--no-audit")
    assert code == 0, err
    assert rows


def test_a_reviewed_mark_needs_who_and_when() -> None:
    spec = load_spec(ALAMEDA).model_dump(mode="json", by_alias=True)
    with pytest.raises(SpecError, match="reviewed.by"):
        spec_from_data({**spec, "reviewed": {"by": "", "at": "2026-12-01"}})


def test_the_condition_is_said_in_words_and_in_a_diff(tmp_path: Path) -> None:
    from screening.browse import spec_in_words
    from screening.specdiff import diff_specs

    before = load_spec(ALAMEDA)
    after = load_spec(_spec_file(tmp_path))
    assert any(
        "forklift operator certificate, when the position requires "
        "'Forklift Operator Certificate'" in line
        for line in spec_in_words(after)
    )
    always = after.model_copy(
        update={"certificates": [after.certificates[0].model_copy(update={"applies": "always"})]}
    )
    changes = diff_specs(always, after)
    assert any(
        "made conditional: now required only for positions that require "
        "'Forklift Operator Certificate'" in change
        for change in changes
    ), changes
    assert before.position_conditions() == []
