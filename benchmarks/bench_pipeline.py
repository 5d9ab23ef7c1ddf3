"""End-to-end benchmark of `screening screen`: generate N applicants, run the CLI, measure.

For each N it generates a wide-form batch with the project's generator (not timed), then
runs the real command line in a child process — once with the durable_rules decision step
(the product) and once with the vectorised pandas decision step over the same facts (the
speed limit of this pipeline) — and prints applicants per second, peak memory of the
whole process tree (the CLI and its workers), the seconds of each stage (the parent's
planning, output writing and audit store; the workers' loading, evidence, rules,
explanation, rendering and audit preparation, summed over the workers) and the ratio
between the two. With `--repeat R` the runs are interleaved R times (durable, vectorised,
durable, ...) and the medians are printed; `--baseline DIR` also runs the command line from
another source tree of the project (e.g. an older release) in the same rounds, to tell a
design's cost from the load of a shared machine.

    python benchmarks/bench_pipeline.py --n 10000 100000
    python benchmarks/bench_pipeline.py --n 100000 --repeat 5 --baseline ../old-release

With ``--audit-pairs K`` it measures instead what recording the audit trail costs: for
each N, K pairs of runs of the same generated file, with the audit store (a fresh SQLite
file per run, or ``--database URL``) and with ``--no-audit``, interleaved, then the median
of each, their ratio, and the store's bytes per decision.

    python benchmarks/bench_pipeline.py --n 100000 1000000 --audit-pairs 5
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "rules" / "alameda-7616-account-manager.yaml"
AS_OF = date(2026, 11, 26)


def _tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants, in KiB."""
    total = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
            total += int(match.group(1)) if match else 0
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                stack.extend(int(c) for c in children)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


@dataclass
class Run:
    """One measured run of the command line."""

    seconds: float
    peak_mib: float
    stages: dict[str, float]
    summary: str


def run_cli(
    batch: Path, out_dir: Path, engine: str, extra: list[str], source: Path = ROOT, label: str = ""
) -> Run:
    """Run `screening screen` (from the `source` tree) on a batch; measure time and memory."""
    label = label or engine
    command = [
        sys.executable, "-m", "screening", "screen", str(batch), "--spec", str(SPEC),
        "--as-of", AS_OF.isoformat(), "--out", str(out_dir / f"results-{label}.csv"),
        "--errors", str(out_dir / f"errors-{label}.csv"), "--timings", "--engine", engine,
        *extra,
    ]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(source))
    peak = 0
    done = threading.Event()
    # stderr goes to a file: the time is the command's own, until it exits, as a shell's
    # `time` reports it (a pipe would also wait for the worker server to close its copy)
    with tempfile.TemporaryFile("w+") as stderr_file:
        started = time.perf_counter()
        process = subprocess.Popen(command, stderr=stderr_file, text=True, env=env, cwd=out_dir)

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_rss_kib(process.pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        process.wait()
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        stderr_file.seek(0)
        stderr = stderr_file.read()
    if process.returncode != 0:
        raise SystemExit(f"screening screen failed ({process.returncode}):\n{stderr}")
    stages = {
        name: float(value)
        for name, value in re.findall(r"(\w+): ([0-9.]+)s", stderr.split("time:", 1)[-1])
    }
    return Run(seconds, peak / 1024, stages, stderr.strip().splitlines()[1].strip())


def generate(n: int, folder: Path) -> Path:
    """Write N generated applicants (wide form) and return the file."""
    sys.path.insert(0, str(ROOT))
    from data.generate import generate_applicants

    path = folder / f"applicants-{n}.csv"
    generate_applicants(n, seed=20261126, as_of=AS_OF).write_wide(path)
    return path


#: Stages the parent process runs; the others run in the workers, side by side.
PARENT_STAGES = ("plan", "output", "audit_store")


def report(n: int, engine: str, run: Run) -> None:
    """Print one run's figures: wall time, rate, peak memory and seconds per stage."""
    parent = "  ".join(f"{k} {v:.2f}" for k, v in run.stages.items() if k in PARENT_STAGES)
    workers = "  ".join(f"{k} {v:.2f}" for k, v in run.stages.items() if k not in PARENT_STAGES)
    print(
        f"N={n:>9,}  {engine:<10}  {run.seconds:7.2f} s  {n / run.seconds:>9,.0f} applicants/s  "
        f"peak {run.peak_mib:7,.0f} MiB"
    )
    print(f"{'':13}stage seconds, parent: [{parent}]  workers (summed): [{workers}]")


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _sqlite_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def audit_pairs(n: int, batch: Path, folder: Path, pairs: int, extra: list[str]) -> None:
    """Interleaved runs with and without the audit store; medians, ratio, store size."""
    with_audit: list[float] = []
    without: list[float] = []
    sizes: list[int] = []
    for index in range(pairs):
        store = folder / f"audit-{n}-{index}.db"
        store.unlink(missing_ok=True)
        audited = run_cli(batch, folder, "durable", ["--database", f"sqlite:///{store}", *extra])
        with_audit.append(audited.seconds)
        sizes.append(_sqlite_bytes(store))
        if index > 0:  # the first store stays (bench_audit.py --existing measures it)
            for leftover in folder.glob(store.name + "*"):
                leftover.unlink()
        plain = run_cli(batch, folder, "durable", ["--no-audit", *extra])
        without.append(plain.seconds)
        print(
            f"N={n:>9,}  pair {index + 1}: with audit {audited.seconds:6.2f} s "
            f"[{audited.stages.get('audit', 0):.2f} s workers, "
            f"{audited.stages.get('audit_store', 0):.2f} s parent]  without "
            f"{plain.seconds:6.2f} s",
            flush=True,
        )
    audited_median, plain_median = _median(with_audit), _median(without)
    print(
        f"N={n:>9,}  median of {pairs}: with audit {audited_median:.2f} s, without "
        f"{plain_median:.2f} s, ratio {audited_median / plain_median:.2f}x; store "
        f"{_median([float(b) for b in sizes]) / 1e6:,.1f} MB = "
        f"{_median([float(b) for b in sizes]) / n:,.0f} bytes per decision"
    )


def _median_line(n: int, label: str, runs: list[Run]) -> float:
    seconds = statistics.median(r.seconds for r in runs)
    each = ", ".join(f"{r.seconds:.2f}" for r in runs)
    print(
        f"N={n:>9,}  {label:<10}  median {seconds:7.2f} s  {n / seconds:>9,.0f} applicants/s  "
        f"peak {max(r.peak_mib for r in runs):7,.0f} MiB  runs [{each}]"
    )
    return seconds


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark for each N given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--keep", type=Path, help="keep generated data and outputs here")
    parser.add_argument(
        "--no-reference", action="store_true", help="skip the vectorised reference run"
    )
    parser.add_argument(
        "--audit-pairs",
        type=int,
        default=0,
        help="instead: K interleaved pairs of runs with and without the audit store",
    )
    parser.add_argument("--repeat", type=int, default=1, help="interleaved rounds (medians)")
    parser.add_argument(
        "--baseline", type=Path, help="also run the durable engine from this source tree"
    )
    parser.add_argument("cli_args", nargs="*", help="extra arguments for `screening screen`")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="screening-bench-") as temporary:
        folder = args.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"cores available: {len(os.sched_getaffinity(0))}")
        for n in args.n:
            batch = generate(n, folder)
            os.sync()  # the generator's writes reach the disk now, not during the timed run
            if args.audit_pairs:
                audit_pairs(n, batch, folder, args.audit_pairs, args.cli_args)
                continue
            runs: dict[str, list[Run]] = {"durable": [], "vectorised": [], "baseline": []}
            for _ in range(args.repeat):
                durable = run_cli(batch, folder, "durable", args.cli_args)
                runs["durable"].append(durable)
                report(n, "durable", durable)
                if not args.no_reference:
                    vectorised = run_cli(batch, folder, "vectorised", args.cli_args)
                    runs["vectorised"].append(vectorised)
                    report(n, "vectorised", vectorised)
                if args.baseline is not None:
                    base = run_cli(batch, folder, "durable", args.cli_args, args.baseline, "base")
                    runs["baseline"].append(base)
                    report(n, "baseline", base)
            print(f"{'':13}{runs['durable'][-1].summary}")
            durable_median = _median_line(n, "durable", runs["durable"])
            if runs["vectorised"]:
                vectorised_median = _median_line(n, "vectorised", runs["vectorised"])
                same = (folder / "results-durable.csv").read_bytes() == (
                    folder / "results-vectorised.csv"
                ).read_bytes()
                print(
                    f"{'':13}durable / vectorised = {durable_median / vectorised_median:.2f}x; "
                    f"results identical: {same}"
                )
            if runs["baseline"]:
                base_median = _median_line(n, "baseline", runs["baseline"])
                same = (folder / "results-durable.csv").read_bytes() == (
                    folder / "results-base.csv"
                ).read_bytes()
                print(
                    f"{'':13}durable / baseline = {durable_median / base_median:.2f}x; "
                    f"results identical: {same}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
