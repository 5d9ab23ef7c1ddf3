"""The audit session of docs/audit.md with the real engine: screen, override, verify,
re-screen under the stored and under a changed spec, impact."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from screening.cli import main
from tests.audit_helpers import SPEC_PATH

COLUMNS = (
    "applicant_id,first_name,edu1_degree,edu1_major,job1_title,job1_employer,job1_industry,"
    "job1_start,job1_end,drivers_license,eeo_sex,eeo_race_ethnicity"
)
ROWS = [
    "00101,Ana,BA,Business Administration,Key Account Manager,SMUD,Electric utility,"
    "2015-01,2018-12,yes,Female,Asian",
    "00102,Ben,BS,Business Administration,Key Account Manager,PG&E,Electric utility,"
    "2017-06,2018-12,yes,Male,White",
    "00103,Cy,BBA,,Account Manager,Sacramento Municipal Utility District,Electric utility,"
    "2014-03,2018-12,no,Female,Hispanic or Latino",
    "00104,Di,AA,Business,Key Account Manager,SMUD,Electric utility,"
    "2016-01,2018-12,yes,Decline to state,White",
]
APPLICANTS = "\n".join([COLUMNS, *ROWS]) + "\n"


def screen(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    (tmp_path / "applicants.csv").write_text(APPLICANTS, encoding="utf-8")
    code = main(
        [
            "screen", str(tmp_path / "applicants.csv"), "--spec", str(SPEC_PATH),
            "--as-of", "2019-02-01", "--user", "alice", "--out", str(tmp_path / "results.csv"),
        ]
    )  # fmt: skip
    assert code == 0
    err = capsys.readouterr().err
    assert "audit: run 1 recorded (4 decisions); chain head: seq" in err
    return err


def test_audit_session_with_the_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    screen(tmp_path, capsys)
    assert main(["audit", "show", "1", "--decisions"]) == 0
    shown = capsys.readouterr().out
    assert "spec:            alameda-7616-account-manager revision 2019-01-09" in shown
    outcomes = dict(line.split(",")[:2] for line in shown.splitlines() if line.startswith("001"))
    assert outcomes["00102"] == "not_qualified"  # about 1.6 years of 3
    code = main(
        [
            "audit", "override", "1", "00102", "--to", "qualified", "--reviewer", "bob",
            "--justification", "Earlier utility experience confirmed by phone",
        ]
    )  # fmt: skip
    assert code == 0
    head = capsys.readouterr().out.splitlines()[-1].split()[-1]
    assert main(["audit", "verify", "--expect-head", head]) == 0
    assert "OK: no record was edited" in capsys.readouterr().out

    # the stored inputs under the stored spec: the same decisions
    assert main(["audit", "rescreen", "1"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "0 decision(s) differ"

    # under a spec asking for one year of experience, 00102 would qualify
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    spec["patterns"][0]["experience"][0]["years"] = 1
    spec["vocabulary"] = str(SPEC_PATH.parent / "vocabulary.yaml")
    other = tmp_path / "one-year.yaml"
    other.write_text(yaml.safe_dump(spec), encoding="utf-8")
    assert main(["audit", "rescreen", "1", "--spec", str(other)]) == 0
    out = capsys.readouterr().out
    assert "00102: not_qualified → qualified (typical.experience not_met → met)" in out

    assert main(["audit", "impact", "1", "--csv", str(tmp_path / "impact.csv")]) == 0
    report = capsys.readouterr().out
    assert "applicants: 4" in report
    assert "00101" not in (tmp_path / "impact.csv").read_text(encoding="utf-8")
