"""Median wall time of `screening screen` on N applicants: another checkout against this one.

Runs the command line of each checkout on the same generated batch, interleaved (baseline,
this checkout, audit on then off, repeated), so load from other work on the machine falls
on both alike, and prints each run and the medians with their ratio.

    git archive main | tar -x -C /tmp/baseline
    python benchmarks/compare_revisions.py --baseline /tmp/baseline --n 100000 --runs 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = Path("rules") / "alameda-7616-account-manager.yaml"
AS_OF = date(2026, 11, 26)


def run(tree: Path, batch: Path, folder: Path, audit: bool) -> float:
    """Seconds of one `screening screen` of a batch with the given checkout's code."""
    out = Path(tempfile.mkdtemp(dir=folder))
    command = [
        sys.executable, "-m", "screening", "screen", str(batch), "--spec", str(tree / SPEC),
        "--as-of", AS_OF.isoformat(), "--out", str(out / "results.csv"),
        "--errors", str(out / "errors.csv"), *([] if audit else ["--no-audit"]),
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(
        command,
        env=dict(os.environ, PYTHONPATH=str(tree)),
        cwd=out,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"screening screen failed in {tree}:\n{done.stderr}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, required=True, help="the other checkout")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from data.generate import generate_applicants

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        batch = folder / f"applicants-{args.n}.csv"
        generate_applicants(args.n, seed=20261126, as_of=AS_OF).write_wide(batch)
        trees = {"baseline": args.baseline.resolve(), "this": ROOT}
        times: dict[tuple[str, bool], list[float]] = {
            (t, a): [] for t in trees for a in (True, False)
        }
        for index in range(args.runs):
            for audit in (True, False):
                for label, tree in trees.items():
                    seconds = run(tree, batch, folder, audit)
                    times[label, audit].append(seconds)
                    state = "on " if audit else "off"
                    print(f"run {index} {label:8} audit {state} {seconds:6.2f} s", flush=True)
    for audit in (True, False):
        base = statistics.median(times["baseline", audit])
        this = statistics.median(times["this", audit])
        state = "on " if audit else "off"
        print(f"audit {state}: baseline {base:.2f} s, this {this:.2f} s, ratio {this / base:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
