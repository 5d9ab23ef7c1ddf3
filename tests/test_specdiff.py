"""Spec diff in plain words, and the compile / diff command handlers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from screening.cli import main
from screening.spec import JobSpec, load_spec, save_spec
from screening.specdiff import diff_specs
from screening.vocabulary import vocabulary_for

REPO = Path(__file__).resolve().parent.parent
HAND_WRITTEN = REPO / "rules" / "alameda-7616-account-manager.yaml"
SEED = REPO / "tests" / "fixtures" / "alameda-7616-account-manager.txt"


@pytest.fixture()
def spec() -> JobSpec:
    return load_spec(HAND_WRITTEN)


def test_identical_specs_have_no_changes(spec: JobSpec) -> None:
    assert diff_specs(spec, spec.model_copy(deep=True)) == []


def test_field_added_and_years_changed(spec: JobSpec) -> None:
    new = spec.model_copy(deep=True)
    assert new.patterns[0].education is not None
    new.patterns[0].education.fields.append("finance")
    new.patterns[0].experience[0].years = 4
    assert diff_specs(spec, new) == [
        "Pattern 'typical', education: field 'finance' added",
        "Pattern 'typical', experience 'typical.experience': years changed from 3 years to 4 years",
    ]


def test_license_made_conditional_and_moved_to_screening(spec: JobSpec) -> None:
    old = spec.model_copy(deep=True)
    old.licenses[0].applies = "always"
    new = spec.model_copy(deep=True)
    new.licenses[0].enforce_at = "screening"
    assert diff_specs(old, new) == [
        "License 'ca_drivers_license': made conditional: now required only for positions "
        "that require driving",
        "License 'ca_drivers_license': now checked at screening instead of at appointment",
    ]


def test_level_area_industry_recency_and_substitution_changes(spec: JobSpec) -> None:
    new = spec.model_copy(deep=True)
    assert new.patterns[0].education is not None and new.substitution is not None
    new.patterns[0].education.min_level = new.patterns[0].education.min_level.__class__("master")
    experience = new.patterns[0].experience[0]
    del experience.areas["business development"]
    experience.industries.append("government")
    experience.within_years = 5
    new.substitution.discretionary = True
    assert diff_specs(spec, new) == [
        "Pattern 'typical', education: level raised from a bachelor's degree to a master's degree",
        "Pattern 'typical', experience 'typical.experience': area 'business development' removed",
        "Pattern 'typical', experience 'typical.experience': industry 'government' added",
        "Pattern 'typical', experience 'typical.experience': experience must now be within the "
        "last 5 years",
        "Spec: discretionary equivalency (sent to review): no -> yes",
    ]


def test_patterns_added_and_removed(spec: JobSpec) -> None:
    new = spec.model_copy(deep=True)
    alternative = new.patterns[0].model_copy(deep=True)
    alternative.id = "alternative"
    assert alternative.education is not None
    alternative.education.id = "alternative.education"
    alternative.experience[0].id = "alternative.experience"
    new.patterns.append(alternative)
    assert diff_specs(spec, new) == ["Pattern 'alternative' added"]
    assert diff_specs(new, spec) == ["Pattern 'alternative' removed"]


# --- command handlers ---------------------------------------------------------------------


def test_compile_writes_yaml_that_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "rules.yaml"
    assert main(["compile", str(SEED), "--out", str(out)]) == 0
    compiled = load_spec(out)
    assert compiled.criterion_ids() == load_spec(HAND_WRITTEN).criterion_ids()
    # the rule file finds the shared vocabulary from wherever it was written
    assert (
        vocabulary_for(compiled, out).areas
        == vocabulary_for(load_spec(HAND_WRITTEN), HAND_WRITTEN).areas
    )
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "0 unparsed sentence(s)" in captured.err


def test_compile_json_on_stdout_and_unparsed_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = tmp_path / "clerk.md"
    document.write_text(
        "## Minimum Qualifications\n\nOne year of experience in filing.\n\n"
        "Must be a citizen of the United States.\n",
        encoding="utf-8",
    )
    assert main(["compile", str(document), "--json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["patterns"][0]["experience"][0]["years"] == 1
    assert data["unparsed"] == ["Must be a citizen of the United States."]
    assert "  - Must be a citizen of the United States." in captured.err


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("spec.odt", b"x", "unsupported document type '.odt'"),
        ("spec.docx", b"not a zip file", "not a readable Word .docx file"),
    ],
)
def test_compile_unusable_document_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert main(["compile", str(path)]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""
    assert "Traceback" not in captured.err


def test_diff_command_prints_plain_changes(
    tmp_path: Path, spec: JobSpec, capsys: pytest.CaptureFixture[str]
) -> None:
    new = spec.model_copy(deep=True)
    new.patterns[0].experience[0].years = 2
    old_path, new_path = tmp_path / "old.yaml", tmp_path / "new.yaml"
    save_spec(spec, old_path)
    save_spec(new, new_path)
    assert main(["diff", str(old_path), str(new_path)]) == 0
    assert "years changed from 3 years to 2 years" in capsys.readouterr().out
    assert main(["diff", str(old_path), str(old_path)]) == 0
    assert capsys.readouterr().out == "no changes in the requirements\n"


def test_diff_reports_a_changed_spec_id(spec: JobSpec) -> None:
    renamed = spec.model_copy(update={"id": "account-manager-2027"})
    assert diff_specs(spec, renamed) == [f"id changed from '{spec.id}' to 'account-manager-2027'"]


def test_compiled_rule_file_finds_the_shared_vocabulary_after_it_is_moved(
    tmp_path: Path,
) -> None:
    written = tmp_path / "drafts" / "rules.yaml"
    written.parent.mkdir()
    assert main(["compile", str(SEED), "--out", str(written)]) == 0
    moved = tmp_path / "elsewhere" / "deeper" / "rules.yaml"
    moved.parent.mkdir(parents=True)
    written.rename(moved)
    shared = vocabulary_for(load_spec(HAND_WRITTEN), HAND_WRITTEN)
    assert vocabulary_for(load_spec(moved), moved).areas == shared.areas


def test_compiled_rule_file_names_its_own_vocabulary_relative_to_itself(
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"
    (project / "specs").mkdir(parents=True)
    own = project / "own-vocabulary.yaml"
    own.write_text((REPO / "rules" / "vocabulary.yaml").read_text(encoding="utf-8"))
    out = project / "specs" / "rules.yaml"
    assert main(["compile", str(SEED), "--vocabulary", str(own), "--out", str(out)]) == 0
    assert load_spec(out).vocabulary == "../own-vocabulary.yaml"
    # the folder moves as a whole: the rule file still finds its vocabulary
    project.rename(tmp_path / "moved")
    moved = tmp_path / "moved" / "specs" / "rules.yaml"
    assert vocabulary_for(load_spec(moved), moved).areas


def test_diff_with_a_bad_spec_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\ntitle: y\npatterns: []\n", encoding="utf-8")
    assert main(["diff", str(HAND_WRITTEN), str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "patterns" in err


def test_module_runs_as_a_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "screening", "compile", str(SEED)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 0
    assert "id: typical.experience" in result.stdout
