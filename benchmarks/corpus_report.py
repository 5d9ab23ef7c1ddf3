"""Compile a folder of class specifications and report how well the compiler reads them.

Usage:
    python benchmarks/corpus_report.py [--corpus DIR] [--unparsed-out FILE] [--workers N]

The default corpus is ../shared/corpus/philadelphia beside the repository. The report
gives the share of documents compiled with no unparsed MQ sentence, the distribution of
patterns, education levels and experience years found, every failure (a crash is a bug)
and the total time. Every unparsed sentence goes to --unparsed-out (one line each, prefixed
with its document's name) so none is hidden.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections import Counter
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from screening.documents import SUPPORTED_SUFFIXES, DocumentError  # noqa: E402
from screening.speccompiler import (  # noqa: E402
    UNVERIFIABLE,
    compile_document,
    default_vocabulary,
    dropped_sentences,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "philadelphia"

Outcome = dict[str, object]


def compile_one(path: str) -> Outcome:
    """Compile one document; never raises (a crash is reported as a failure)."""
    try:
        compiled = compile_document(path, _VOCABULARY)
    except DocumentError as exc:
        return {"path": path, "error": f"unreadable: {exc}"}
    except Exception:  # a crash is a compiler bug: report it with its traceback
        return {"path": path, "error": "crash: " + traceback.format_exc(limit=4)}
    spec = compiled.spec
    return {
        "path": path,
        "unparsed": list(spec.unparsed),
        "patterns": len(spec.patterns),
        "levels": [p.education.min_level.value for p in spec.patterns if p.education],
        "years": [e.years for p in spec.patterns for e in p.experience],
        "has_requirement": any(p.education or p.experience for p in spec.patterns),
        "sections": len(compiled.sections),
        "dropped": dropped_sentences(compiled),
        "headed": any(section.heading for section in compiled.sections),
        "only_unverifiable": bool(spec.unparsed)
        and all(UNVERIFIABLE.search(sentence) for sentence in spec.unparsed),
        "licenses": len(spec.licenses) + sum(len(p.licenses) for p in spec.patterns),
        "certificates": len(spec.certificates) + sum(len(p.certificates) for p in spec.patterns),
        "substitution": spec.substitution is not None,
    }


_VOCABULARY = default_vocabulary()


def main(argv: list[str] | None = None) -> int:
    """Run the report; exit 1 if any document crashed the compiler."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--unparsed-out", type=Path, default=Path("corpus_unparsed.txt"))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"{args.corpus}: corpus folder not found; pass --corpus DIR", file=sys.stderr)
        return 2
    paths = sorted(str(p) for p in args.corpus.iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES)
    started = time.perf_counter()
    with Pool(args.workers) as pool:
        outcomes = pool.map(compile_one, paths, chunksize=8)
    elapsed = time.perf_counter() - started

    failures = [o for o in outcomes if "error" in o]
    compiled = [o for o in outcomes if "error" not in o]
    clean = [o for o in compiled if not o["unparsed"]]
    no_requirement = [o for o in compiled if not o["has_requirement"]]
    patterns = Counter(o["patterns"] for o in compiled)
    levels: Counter[str] = Counter()
    years: Counter[float] = Counter()
    for o in compiled:
        levels.update(o["levels"])  # type: ignore[arg-type]
        years.update(o["years"])  # type: ignore[arg-type]
    unparsed_total = sum(len(o["unparsed"]) for o in compiled)  # type: ignore[arg-type]

    with args.unparsed_out.open("w", encoding="utf-8") as out:
        for o in compiled:
            for sentence in o["unparsed"]:  # type: ignore[attr-defined]
                out.write(f"{Path(str(o['path'])).name}\t{sentence}\n")

    total = len(paths)
    share = 100 * len(clean) / total if total else 0.0
    print(f"corpus: {args.corpus} ({total} documents, {args.workers} workers)")
    print(f"time: {elapsed:.1f} s")
    print(f"compiled: {len(compiled)}; failures: {len(failures)}")
    print(f"no unparsed MQ sentence: {len(clean)} / {total} ({share:.1f}%)")
    headed = [o for o in compiled if o["headed"]]
    headed_clean = [o for o in headed if not o["unparsed"]]
    print(
        f"documents with an MQ heading: {len(headed)}; of those with no unparsed sentence: "
        f"{len(headed_clean)} ({100 * len(headed_clean) / max(1, len(headed)):.1f}%)"
    )
    only_unverifiable = [o for o in compiled if o["only_unverifiable"]]
    print(
        "documents whose only unparsed sentences are unverifiable by design "
        f"(age, citizenship, physical ability, language): {len(only_unverifiable)}"
    )
    print(f"unparsed sentences: {unparsed_total} (listed in {args.unparsed_out})")
    print(f"documents with no education or experience requirement found: {len(no_requirement)}")
    print("patterns per spec: " + ", ".join(f"{k}: {v}" for k, v in sorted(patterns.items())))
    print("education levels: " + ", ".join(f"{k}: {v}" for k, v in levels.most_common()))
    print(
        "experience years: "
        + ", ".join(f"{k:g}: {v}" for k, v in sorted(years.items(), key=lambda kv: kv[0]))
    )
    print(f"with substitution: {sum(1 for o in compiled if o['substitution'])}")
    print(
        f"licenses: {sum(int(str(o['licenses'])) for o in compiled)}; "
        f"certificates: {sum(int(str(o['certificates'])) for o in compiled)}"
    )
    for o in no_requirement:
        print(f"  no requirement found: {Path(str(o['path'])).name}")
    dropped = [o for o in compiled if o["dropped"]]
    print(f"documents with a dropped MQ sentence (never-drop rule): {len(dropped)}")
    for o in dropped:
        print(f"  DROPPED in {Path(str(o['path'])).name}: {o['dropped']}")
    for o in failures:
        print(f"FAILURE {Path(str(o['path'])).name}: {o['error']}")
    crashed = any(str(o["error"]).startswith("crash") for o in failures)
    return 1 if crashed or dropped else 0


if __name__ == "__main__":
    sys.exit(main())
