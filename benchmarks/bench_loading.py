"""Loading benchmark: generate a wide-form applicant CSV of N rows and time load_batch on it.

    python benchmarks/bench_loading.py --n 100000
    python benchmarks/bench_loading.py --n 1000000 --chunked --chunk-rows 100000

Prints the size of the file, rows per second of load_batch (or, with --chunked, of reading
every batch of iter_batches and dropping it), and the peak resident memory of the process
(the file is generated in a streaming way first, so the peak is the loader's).
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from screening.loading import Batch, iter_batches, load_batch  # noqa: E402

JOBS = 4  # job columns per row; about 3 of them filled
EDUCATION = 3  # education columns per row; about 2 of them filled
TITLES = ["Account Manager", "Key Account Manager", "Analyst", "Clerk", "Program Manager"]
EMPLOYERS = ["SMUD", "Pacific Gas and Electric", "City of Oakland", "Acme Solar", "Bank"]
DEGREES = ["BA", "B.S.", "Master of Public Administration", "AA", "None", "High School Diploma"]
MAJORS = ["Business Administration", "Economics", "History", "Public Administration", ""]


def header() -> list[str]:
    """Header of the generated file: ~45 columns like a real ATS export."""
    columns = ["applicant_id", "first_name", "last_name", "email", "drivers_license"]
    columns += ["drivers_license_state", "certificates", "eeo_sex", "eeo_race_ethnicity"]
    for n in range(1, JOBS + 1):
        columns += [f"job{n}_{f}" for f in ("title", "employer", "industry", "start", "end")]
        columns += [f"job{n}_hours_per_week", f"job{n}_duties"]
    for n in range(1, EDUCATION + 1):
        columns += [f"edu{n}_{f}" for f in ("degree", "major", "institution")]
    return columns


def row(index: int, rng: random.Random) -> list[str]:
    """One applicant with about 3 jobs and 2 education entries."""
    cells = [f"{index:07d}", "Ann", "Lee", f"a{index}@example.org", "yes", "CA", "", "F", "x"]
    jobs = rng.choice((2, 3, 3, 4))
    for n in range(JOBS):
        if n < jobs:
            year = 2005 + 4 * n
            cells += [rng.choice(TITLES), rng.choice(EMPLOYERS), "Electric utility"]
            cells += [f"{year}-0{1 + n}", "present" if n == jobs - 1 else f"03/{year + 3}"]
            cells += [rng.choice(("40", "", "20")), "Managed key accounts; billing"]
        else:
            cells += [""] * 7
    educations = rng.choice((1, 2, 2, 3))
    for n in range(EDUCATION):
        if n < educations:
            cells += [rng.choice(DEGREES), rng.choice(MAJORS), "State University"]
        else:
            cells += [""] * 3
    return cells


def generate(path: Path, count: int) -> None:
    """Write the CSV row by row (small memory)."""
    rng = random.Random(7616)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header())
        for index in range(1, count + 1):
            writer.writerow(row(index, rng))


def load_chunked(path: Path, chunk_rows: int) -> Batch:
    """Read every batch and keep only the counts, as a pipeline screening chunk by chunk."""
    total = Batch(pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame())
    applicants = jobs = education = 0
    for batch in iter_batches(path, chunk_rows=chunk_rows):
        applicants += len(batch.applicants)
        jobs += len(batch.jobs)
        education += len(batch.education)
        total.input_rows += batch.input_rows
        total.error_rows += batch.error_rows
        del batch  # free the chunk before the next one is read
    total.applicants = pd.DataFrame(index=pd.RangeIndex(applicants))
    total.jobs = pd.DataFrame(index=pd.RangeIndex(jobs))
    total.education = pd.DataFrame(index=pd.RangeIndex(education))
    return total


def main() -> None:
    """Generate, load, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="applicant rows (100000)")
    parser.add_argument(
        "--chunked", action="store_true", help="read with iter_batches instead of load_batch"
    )
    parser.add_argument(
        "--chunk-rows", type=int, default=100_000, help="rows per batch with --chunked (100000)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "applicants.csv"
        generate(path, args.n)
        size_mb = path.stat().st_size / 1e6
        before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started, cpu_started = time.perf_counter(), time.process_time()
        batch = load_chunked(path, args.chunk_rows) if args.chunked else load_batch(path)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    mode = f"iter_batches, chunk_rows={args.chunk_rows}" if args.chunked else "load_batch"
    print(f"mode: {mode}")
    print(f"file: {args.n} rows, {len(header())} columns, {size_mb:.0f} MB")
    print(
        f"loaded: {len(batch.applicants)} applicants, {len(batch.jobs)} jobs, "
        f"{len(batch.education)} education entries, {batch.error_rows} error rows"
    )
    print(f"time: {seconds:.2f} s = {args.n / seconds:,.0f} rows/s (wall clock)")
    print(f"cpu time: {cpu_seconds:.2f} s (all threads; wall clock suffers on a busy machine)")
    print(
        f"peak resident memory: {peak_kb / 1024:,.0f} MB "
        f"(before loading: {before_kb / 1024:,.0f} MB)"
    )


if __name__ == "__main__":
    main()
