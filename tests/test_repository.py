"""The repository on its own: tests without the shared inputs, and its documents."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import conftest

REPO = Path(__file__).resolve().parent.parent


def test_a_missing_shared_input_skips_and_fails_under_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(conftest, "SHARED", tmp_path / "shared")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="corpus/philadelphia"):
        conftest.shared_input("corpus/philadelphia")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="corpus/philadelphia"):
        conftest.shared_input("corpus/philadelphia")
    (tmp_path / "shared" / "corpus" / "philadelphia").mkdir(parents=True)
    assert conftest.shared_input("corpus/philadelphia").is_dir()


def _clone_without_shared(tmp_path: Path) -> Path:
    clone = tmp_path / "clone" / "screening"
    for folder in ("screening", "rules", "tests", "data"):
        shutil.copytree(REPO / folder, clone / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", clone)
    return clone


@pytest.mark.parametrize("ci", [False, True])
def test_tests_that_read_the_shared_corpus_pass_without_it_except_under_ci(
    tmp_path: Path, ci: bool
) -> None:
    clone = _clone_without_shared(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci:
        env["CI"] = "true"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "corpus",
         "tests/test_speccompiler.py"],
        cwd=clone, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    summary = result.stdout.strip().splitlines()[-1]
    if ci:
        assert result.returncode == 1 and "1 failed" in summary, result.stdout
    else:
        assert result.returncode == 0 and "1 skipped" in summary, result.stdout


def test_every_test_reads_the_shared_inputs_through_the_one_helper() -> None:
    outside = re.compile(r"""parent\s*/\s*["']shared["']|\.\./shared|["']/work/""")
    readers = [
        path.name
        for path in sorted((REPO / "tests").glob("*.py"))
        if path.name not in {"conftest.py", "test_repository.py"}
        and outside.search(path.read_text(encoding="utf-8"))
    ]
    assert readers == []


def _documents() -> list[Path]:
    return [
        REPO / "README.md",
        REPO / "CHANGELOG.md",
        REPO / "data" / "README.md",
        *sorted((REPO / "docs").glob("*.md")),
        *sorted((REPO / "scripts").iterdir()),
    ]


def test_no_document_or_script_describes_how_ci_is_set_up() -> None:
    # naming the CI variable is fine; saying what a CI machine installs or copies is not
    mentions = re.compile(r"\.ci/|\bCI\b[^.\n]*\b(?:install|cop(?:y|ies)|provision|apt)")
    assert [p.name for p in _documents() if mentions.search(p.read_text(encoding="utf-8"))] == []


def test_readme_says_how_to_open_the_app_on_another_port() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "bash scripts/run-app.sh --server.port 8502" in readme
    # the script hands its own arguments on to Streamlit
    script = (REPO / "scripts" / "run-app.sh").read_text(encoding="utf-8")
    assert re.search(r'streamlit run app\.py "\$@"\s*$', script)


def _sections(markdown: str) -> dict[str, str]:
    """Section title -> its text with whitespace collapsed (### and ## headings)."""
    parts = re.split(r"^#{2,3} (.+)$", markdown, flags=re.MULTILINE)
    return {
        title.strip(): " ".join(body.split())
        for title, body in zip(parts[1::2], parts[2::2], strict=True)
    }


REVISED = ["Experience", "Command line", "Licenses and certificates", "Demographics", "JobSpec"]


@pytest.mark.parametrize("title", REVISED)
def test_the_repository_contract_states_the_product_contract(title: str) -> None:
    product = _sections(conftest.shared_input("DESIGN.md").read_text(encoding="utf-8"))
    contract = _sections((REPO / "docs" / "design.md").read_text(encoding="utf-8"))
    [product_title] = [t for t in product if t.startswith(title)]
    assert product_title in contract, f"docs/design.md has no section {product_title!r}"
    assert contract[product_title] == product[product_title]
