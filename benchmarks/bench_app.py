"""App benchmark: a 5,000-applicant upload until its results are on screen.

    python benchmarks/bench_app.py --n 5000

Generates a wide-form batch (data/generate.py), then measures
1. the work behind the upload button: load the uploaded bytes, screen, group the reviews
   (`screening.uploads.load_uploads` + `screen_loaded` + `review_items`), and
2. the app itself: an AppTest session already showing the sample gets the upload and runs
   the Screen page until the counts, charts and table are rendered.
Target: under 5 s for 5,000 applicants. Not a test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from data.generate import generate_applicants  # noqa: E402
from screening.review import review_items  # noqa: E402
from screening.run.chunks import screen_loaded  # noqa: E402
from screening.run.stages import ScreenJob  # noqa: E402
from screening.uploads import Upload, load_uploads  # noqa: E402

SPEC = REPO / "rules" / "alameda-7616-account-manager.yaml"
AS_OF = date(2026, 11, 1)


def pipeline_seconds(upload: Upload) -> tuple[float, int]:
    """Seconds from uploaded bytes to screened results with review groups; applicants."""
    job = ScreenJob.resolve(SPEC, as_of=AS_OF)
    started = time.perf_counter()
    batch = load_uploads(upload)
    result = screen_loaded(job, batch)
    review_items(result)
    return time.perf_counter() - started, len(result.results)


def app_seconds(upload: Upload) -> tuple[float, str]:
    """Seconds of the Screen page run that takes the upload and shows its results."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
    at.session_state["as_of"] = AS_OF
    at.run()  # the first page, on the sample
    at.session_state["pending_uploads"] = {"applicants": upload}
    started = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - started
    if at.exception or at.error:
        raise SystemExit(f"the app failed: {at.exception or [e.value for e in at.error]}")
    screened = next(m.value for m in at.metric if m.label == "Screened")
    return elapsed, screened


def main() -> int:
    """Generate the batch, run both measurements, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="applicants (default 5000)")
    parser.add_argument("--seed", type=int, default=7616)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "applicants.csv"
        generate_applicants(args.n, seed=args.seed).write_wide(path)
        upload = Upload("applicants.csv", path.read_bytes())
        os.environ.setdefault("SCREENING_DATABASE_URL", f"sqlite:///{Path(folder) / 'audit.db'}")
        size = len(upload.data) / 1e6
        print(f"batch: {args.n:,} applicants, {size:.1f} MB wide-form CSV")
        seconds, screened = pipeline_seconds(upload)
        print(f"upload -> results (load + screen + review groups): {seconds:.2f} s "
              f"for {screened:,} screened")  # fmt: skip
        seconds_app, shown = app_seconds(upload)
        print(f"app (AppTest rerun with the upload, page rendered): {seconds_app:.2f} s, "
              f"Screened = {shown}")  # fmt: skip
        print(f"target < 5 s: {'met' if max(seconds, seconds_app) < 5 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
