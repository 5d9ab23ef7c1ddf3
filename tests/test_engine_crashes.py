"""Specs, facts and failures that once stopped the rule engine, each as a regression test.

Where a failure could abort the interpreter (the engine's C code), the test runs in a
child interpreter of its own, so it passes or fails on its own and never takes the test
session down with it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from screening.ruleset import RulesetLimitError, compile_spec
from screening.spec import SpecError, load_spec, spec_from_data
from tests.builders import ALAMEDA, ROOT, VOCABULARY
from tests.conftest import shared_input

APPLICANTS = ROOT / "data" / "account-manager-applicants.csv"


def run_python(code: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run Python code in a child interpreter with the repository importable."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=600,
    )


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `screening …` in a child interpreter."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "screening", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=600,
    )


def alameda_shaped(patterns: int) -> dict[str, Any]:
    """A spec with `patterns` alternatives shaped like Alameda's: a bachelor's degree and
    years of experience each, plus a second experience, a license and a certificate."""
    data: dict[str, Any] = yaml.safe_load(ALAMEDA.read_text(encoding="utf-8"))
    template = data["patterns"][0]
    data["id"] = f"alameda-shaped-{patterns}"
    data["vocabulary"] = str(VOCABULARY)
    data["patterns"] = []
    for number in range(patterns):
        pattern = yaml.safe_load(yaml.safe_dump(template))
        pattern["id"] = f"p{number}"
        pattern["education"]["id"] = f"p{number}.education"
        pattern["experience"][0]["id"] = f"p{number}.experience"
        pattern["experience"][0]["years"] = 2 + number % 5
        pattern["experience"].append(
            {"id": f"p{number}.supervision", "years": 1, "areas": {"project management": []}}
        )
        pattern["licenses"] = [
            {"id": f"p{number}.license", "applies": "position_requires_driving", "state": "CA"}
        ]
        pattern["certificates"] = [{"id": f"p{number}.pmp", "name": "PMP"}]
        data["patterns"].append(pattern)
    return data


def screen_both_engines(spec_path: Path, tmp_path: Path) -> tuple[str, str]:
    """Screen the sample batch with the durable_rules engine and the vectorised reference;
    both runs must succeed. Returns both results files' text."""
    outputs = []
    for engine in ("durable", "vectorised"):
        out = tmp_path / f"results-{engine}.csv"
        done = run_cli(
            "screen", str(APPLICANTS), "--spec", str(spec_path), "--as-of", "2026-11-26",
            "--out", str(out), "--no-audit", "--engine", engine, "--requires-driving",
            cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "please report" not in done.stderr.lower()
        outputs.append(out.read_text(encoding="utf-8"))
    return outputs[0], outputs[1]


@pytest.mark.parametrize("patterns", [4, 5, 12])
def test_a_spec_with_many_alameda_shaped_patterns_screens(tmp_path: Path, patterns: int) -> None:
    """Four or more such patterns made the engine refuse the ruleset (error code 113)."""
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(alameda_shaped(patterns)), encoding="utf-8")
    durable, vectorised = screen_both_engines(spec_path, tmp_path)
    assert durable == vectorised
    applicants = pd.read_csv(APPLICANTS, dtype=str)
    screened = pd.read_csv(tmp_path / "results-durable.csv", dtype=str)
    assert 0 < len(screened) <= len(applicants)
    assert set(screened["outcome"]) <= {"qualified", "needs_review", "not_qualified"}
    # every pattern's criteria were decided
    assert {f"p{n}.pmp" for n in range(patterns)} <= set(screened.columns)


def test_a_ruleset_grows_with_the_spec_not_with_status_combinations() -> None:
    small = compile_spec(spec_from_data(alameda_shaped(2)))
    large = compile_spec(spec_from_data(alameda_shaped(12)))
    # 6x the patterns: at most about 6x the rules (a few more for the outcome's parts)
    assert len(large.rules) <= 6 * len(small.rules) + 10
    assert len(large.definition) == len(large.rules)


def test_identical_facts_in_one_batch_do_not_collide() -> None:
    """Fact identity was a 32-bit hash of the content: two facts with equal content (or an
    unlucky hash) in one batch made the engine reject the batch, and the handler then
    aborted the process. Facts now carry their own id."""
    done = run_python("""
        import numpy as np
        from screening import engine
        from screening.ruleset import compile_spec
        from screening.spec import load_spec
        compiled = compile_spec(load_spec("rules/alameda-7616-account-manager.yaml"))
        node = next(n for n in compiled.nodes if n.subject == "typical.experience")
        rows = np.array([[5, 7]] * 10 + [[10**12, 10**12]] * 10, dtype=np.int64)
        (codes,) = engine._fire(compiled, [(node.index, rows)])
        statuses = [node.rules[c].status for c in codes.tolist()]
        assert statuses == ["not_met"] * 10 + ["met"] * 10, statuses
        print("ok")
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_a_fact_no_rule_handles_fails_cleanly_and_the_next_evaluation_works() -> None:
    """The handler used to call the engine again after it had raised, which aborted the
    interpreter when the test ran on its own."""
    done = run_python("""
        import dataclasses
        import numpy as np
        import pandas as pd
        from screening import engine
        from screening import facts as F
        from screening.engine import EngineError, evaluate, evaluate_vectorised
        from screening.ruleset import compile_spec
        from screening.spec import load_spec

        compiled = compile_spec(load_spec("rules/alameda-7616-account-manager.yaml"))
        dropped = "typical.experience:not_met"
        broken = dataclasses.replace(
            compiled,
            name=compiled.name + "_broken",
            nodes=tuple(
                dataclasses.replace(n, rules=tuple(r for r in n.rules if r.name != dropped))
                for n in compiled.nodes
            ),
            definition={k: v for k, v in compiled.definition.items() if k != dropped},
        )
        frame = pd.DataFrame({n: [0, 1, 2] for n in compiled.fact_names})
        try:
            evaluate(broken, frame)
        except EngineError as exc:
            assert "matched no rule" in str(exc), exc
        else:
            raise SystemExit("no EngineError")
        assert engine._HOST is None, "the host that raised was kept"
        good = evaluate(compiled, frame).statuses
        expected = evaluate_vectorised(compiled, frame).statuses
        assert {k: v.tolist() for k, v in good.items()} == {
            k: v.tolist() for k, v in expected.items()
        }
        print("ok")
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_no_engine_call_follows_an_engine_exception() -> None:
    """After the engine raised, neither get_state nor delete_state may be called: the
    host is dropped and the error reported."""
    done = run_python("""
        import pandas as pd
        from screening import engine
        from screening.engine import EngineError, evaluate
        from screening.ruleset import compile_spec
        from screening.spec import load_spec

        calls = []

        class Raising(engine._QuietHost):
            def assert_fact_text(self, *args, **kwargs):
                calls.append("assert_facts")
                raise RuntimeError("Could not assert facts, error code: 303")

            def get_state(self, *args, **kwargs):
                calls.append("get_state")

            def delete_state(self, *args, **kwargs):
                calls.append("delete_state")

        engine._QuietHost = Raising
        compiled = compile_spec(load_spec("rules/alameda-7616-account-manager.yaml"))
        frame = pd.DataFrame({n: [0, 1] for n in compiled.fact_names})
        try:
            evaluate(compiled, frame)
        except EngineError as exc:
            assert "303" in str(exc), exc
        else:
            raise SystemExit("no EngineError")
        assert calls == ["assert_facts"], calls
        assert engine._HOST is None
        print("ok")
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_the_cli_fails_when_durable_rules_does_not_decide(tmp_path: Path) -> None:
    """Decisions must come from durable_rules: with its rules never firing, the CLI must
    fail with one message instead of writing results some other way."""
    script = tmp_path / "silent_engine.py"
    script.write_text(
        textwrap.dedent("""
            import sys
            from durable import engine as durable_engine
            from screening.cli import main

            registered = durable_engine.Host.set_rulesets

            def silent_rulesets(self, definitions):
                # every rule of every ruleset still matches, but its action reports nothing
                for rules in definitions.values():
                    for rule in rules.values():
                        rule["run"] = lambda c: None
                return registered(self, definitions)

            durable_engine.Host.set_rulesets = silent_rulesets
            sys.exit(main(sys.argv[1:]))
        """),
        encoding="utf-8",
    )
    out = tmp_path / "results.csv"
    done = subprocess.run(
        [
            sys.executable, str(script), "screen", str(APPLICANTS), "--spec", str(ALAMEDA),
            "--as-of", "2026-11-26", "--out", str(out), "--no-audit",
        ],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "rule engine" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists() or out.read_text(encoding="utf-8").count("\n") <= 1


def test_a_spec_with_no_pattern_is_refused_when_loaded(tmp_path: Path) -> None:
    data = yaml.safe_load(ALAMEDA.read_text(encoding="utf-8"))
    data["patterns"] = []
    path = tmp_path / "no-pattern.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(SpecError, match="patterns"):
        load_spec(path)
    done = run_cli(
        "screen", str(APPLICANTS), "--spec", str(path), "--out", str(tmp_path / "r.csv"),
        "--no-audit", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("error:") == 1 and "Traceback" not in done.stderr


def test_a_pattern_that_requires_nothing_is_refused_when_loaded(tmp_path: Path) -> None:
    """Such a spec used to compile to rules with no outcome (KeyError: 'outcome')."""
    data = yaml.safe_load(ALAMEDA.read_text(encoding="utf-8"))
    data["patterns"].append({"id": "anything", "clause": "Or any other way."})
    path = tmp_path / "empty-pattern.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(SpecError, match="'anything' requires nothing"):
        load_spec(path)
    done = run_cli(
        "screen", str(APPLICANTS), "--spec", str(path), "--out", str(tmp_path / "r.csv"),
        "--no-audit", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert "'anything' requires nothing" in done.stderr
    assert done.stderr.count("error:") == 1 and "Traceback" not in done.stderr
    # a JobSpec built in code is refused as well, when it is compiled
    spec = load_spec(ALAMEDA)
    spec.patterns.append(spec.patterns[0].model_copy(update={"id": "empty", "education": None}))
    spec.patterns[-1].experience = []
    with pytest.raises(SpecError, match="'empty' requires nothing"):
        compile_spec(spec)


def test_a_license_whose_column_is_absent_needs_review_with_a_reason(tmp_path: Path) -> None:
    """A compiled spec names a license without a state `drivers_license`; with no such
    column in the applicant file it is unknown evidence, never a KeyError."""
    data = yaml.safe_load(ALAMEDA.read_text(encoding="utf-8"))
    data["vocabulary"] = str(VOCABULARY)
    data["licenses"] = [{"id": "drivers_license", "kind": "driver's license"}]
    data["certificates"] = [{"id": "pmp", "name": "Project Management Professional"}]
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(data), encoding="utf-8")
    applicants = pd.read_csv(APPLICANTS, dtype=str, keep_default_na=False)
    batch = tmp_path / "no-license-column.csv"
    applicants.drop(columns=["drivers_license", "drivers_license_state", "certificates"]).to_csv(
        batch, index=False
    )
    out = tmp_path / "results.csv"
    done = run_cli(
        "screen", str(batch), "--spec", str(spec_path), "--as-of", "2026-11-26",
        "--out", str(out), "--no-audit", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert set(results["drivers_license"]) == {"review"}
    assert set(results["pmp"]) == {"review"}
    assert results["reasons"].str.contains("no drivers_license column").all()
    assert results["reasons"].str.contains("no certificates column").all()
    assert "qualified" not in set(results["outcome"])


def test_a_threshold_beyond_the_engines_integers_is_refused_at_compile_time() -> None:
    spec = load_spec(ALAMEDA)
    spec.patterns[0].experience[0].years = 1e9
    with pytest.raises(RulesetLimitError) as caught:
        compile_spec(spec)
    message = str(caught.value)
    assert "alameda-7616-account-manager" in message
    # the first rule reading those years names its criterion (here the degree's substitution)
    assert "criterion 'typical." in message and "limit" in message


def test_a_spec_beyond_the_engines_decision_limit_is_refused_by_the_cli(tmp_path: Path) -> None:
    from screening.ruleset import MAX_NODES

    data = alameda_shaped(1)
    template = data["patterns"][0]
    experiences = []
    for number in range(MAX_NODES + 1):
        experience = dict(template["experience"][0], id=f"typical.experience{number}")
        experiences.append(experience)
    template["experience"] = experiences
    spec_path = tmp_path / "huge.yaml"
    spec_path.write_text(yaml.safe_dump(data), encoding="utf-8")
    done = run_cli(
        "screen", str(APPLICANTS), "--spec", str(spec_path), "--out", str(tmp_path / "r.csv"),
        "--no-audit", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("error:") == 1
    assert "alameda-shaped-1" in done.stderr and f"limit is {MAX_NODES}" in done.stderr
    assert "please report" not in done.stderr.lower()


def test_a_real_specification_that_hit_the_expression_limit_screens() -> None:
    """A Philadelphia class specification whose compiled rules durable_rules refused
    (error code 113) under the former rule layout."""
    document = shared_input("corpus/philadelphia/1d55.htm")
    from datetime import date

    from screening.run.stages import screen_files
    from screening.speccompiler import compile_document, default_vocabulary

    spec = compile_document(document, default_vocabulary()).spec
    durable = screen_files(APPLICANTS, spec, as_of=date(2026, 11, 26))
    vectorised = screen_files(APPLICANTS, spec, as_of=date(2026, 11, 26), engine="vectorised")
    assert len(durable.results) > 0
    assert durable.results.equals(vectorised.results)
