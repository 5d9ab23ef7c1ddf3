"""How the engine's job classification compares with an HR analyst's on labelled jobs.

Each row of benchmarks/data/labelled-jobs.csv is one job an analyst labelled for the
Account Manager spec (qualified / review / not_qualified). Every job is screened as the
only job of an applicant with a qualifying, accredited bachelor's in business
administration and five full-time years in that job, so only the job's classification
decides the outcome. Prints the confusion table (analyst rows, engine columns), the
false rejections (analyst qualified or review, engine not_qualified), the false
qualifications (analyst review or not_qualified, engine qualified) and each side's share
sent to review; `--list` prints every disagreement with the engine's reason.

    python benchmarks/job_classification.py [--labelled FILE] [--list]
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from screening.run.stages import screen_files  # noqa: E402

SPEC = ROOT / "rules" / "alameda-7616-account-manager.yaml"
LABELLED = ROOT / "benchmarks" / "data" / "labelled-jobs.csv"
OUTCOMES = ["qualified", "needs_review", "not_qualified"]
ANALYST = {"qualified": "qualified", "review": "needs_review", "not_qualified": "not_qualified"}


def screen_labelled(labelled: Path) -> list[tuple[dict[str, str], str, str]]:
    """(labelled row, engine outcome, engine reasons) for every labelled job."""
    with labelled.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with tempfile.TemporaryDirectory() as folder:
        applicants = Path(folder) / "applicants.csv"
        with applicants.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(
                ["applicant_id", "edu1_degree", "edu1_major", "edu1_accredited"]
                + ["job1_title", "job1_employer", "job1_industry", "job1_duties"]
                + ["job1_start", "job1_end"]
            )
            for row in rows:
                writer.writerow(
                    [row["id"], "BA", "Business Administration", "yes"]
                    + [row["title"], row["employer"], row["industry"], row["duties"]]
                    + ["2021-01", "2025-12"]
                )
        result = screen_files(applicants, SPEC, as_of=date(2026, 11, 26))
    outcome = dict(zip(result.results["applicant_id"], result.results["outcome"], strict=True))
    reasons = dict(zip(result.results["applicant_id"], result.results["reasons"], strict=True))
    return [(row, str(outcome[row["id"]]), str(reasons[row["id"]])) for row in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labelled", type=Path, default=LABELLED)
    parser.add_argument("--list", action="store_true", help="print every disagreement")
    args = parser.parse_args(argv)
    screened = screen_labelled(args.labelled)
    table = {(a, e): 0 for a in OUTCOMES for e in OUTCOMES}
    for row, engine, _ in screened:
        table[ANALYST[row["analyst"]], engine] += 1
    total = len(screened)
    print(f"{total} labelled jobs; rows: analyst, columns: engine")
    print(f"{'':>15}" + "".join(f"{e:>15}" for e in OUTCOMES))
    for analyst in OUTCOMES:
        print(f"{analyst:>15}" + "".join(f"{table[analyst, e]:>15}" for e in OUTCOMES))
    false_rejections = table["qualified", "not_qualified"] + table["needs_review", "not_qualified"]
    false_qualifications = table["needs_review", "qualified"] + table["not_qualified", "qualified"]
    analyst_review = sum(table["needs_review", e] for e in OUTCOMES) / total
    engine_review = sum(table[a, "needs_review"] for a in OUTCOMES) / total
    print(f"false rejections: {false_rejections}")
    print(f"false qualifications: {false_qualifications} ({false_qualifications / total:.1%})")
    print(f"sent to review: analyst {analyst_review:.1%}, engine {engine_review:.1%}")
    if args.list:
        for row, engine, reasons in screened:
            if ANALYST[row["analyst"]] != engine:
                print(f"{row['id']} {row['title']!r} analyst={row['analyst']} engine={engine}")
                print(f"    {reasons}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
