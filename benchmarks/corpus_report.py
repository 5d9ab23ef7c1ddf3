"""Compile a folder of class specifications and report how well the compiler reads them.

Usage:
    python benchmarks/corpus_report.py [--corpus DIR] [--labelled DIR] [--unparsed-out FILE]
                                       [--workers N]

The default corpus is ../shared/corpus/philadelphia beside the repository. The report
gives the share of documents compiled with no unparsed MQ sentence, the documents refused
(no MQ section, or no requirement the compiler could read: counted apart, never compiled
into a spec that qualifies everyone), notes per document, the distribution of patterns,
education levels and experience years found, every failure (a crash is a bug) and the
total time. Every unparsed sentence goes to --unparsed-out (one line each, prefixed with
its document's name) so none is hidden.

The labelled corpus (default ../shared/corpus/multi-agency: specs/ and labels.json) is
scored against its hand labels: seven checks per file (education levels and total years
per pattern, number of patterns, substitution, license, certificate, accepted fields),
only the keys a file's label has, reported per check kind and per file.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections import Counter
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from screening.documents import SUPPORTED_SUFFIXES, DocumentError  # noqa: E402
from screening.spec import JobSpec  # noqa: E402
from screening.speccompiler import (  # noqa: E402
    APPOINTMENT_CONDITIONS,
    UNVERIFIABLE,
    NotASpecError,
    compile_document,
    default_vocabulary,
    dropped_sentences,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "philadelphia"
DEFAULT_LABELLED = REPO_ROOT.parent / "shared" / "corpus" / "multi-agency"
CHECK_KINDS = ("levels", "years", "patterns", "substitution", "license", "certificate", "fields")

Outcome = dict[str, object]


def compile_one(path: str) -> Outcome:
    """Compile one document; never raises (a crash is reported as a failure)."""
    try:
        compiled = compile_document(path, _VOCABULARY)
    except NotASpecError as exc:
        return {"path": path, "refused": exc.reason}
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
        "notes": len(spec.notes),
        "preferred": len(spec.preferred),
        "checks": label_checks(spec),
    }


def label_checks(spec: JobSpec) -> dict[str, object]:
    """The seven labelled checks as a compiled spec answers them.

    Years are a pattern's total: a part of another requirement ("four years, including two
    of supervision") is not added. A background check or clearance verified at appointment
    is a condition, not a certificate; a credential only some positions require is not a
    requirement of the class.
    """
    years: set[float] = set()
    for pattern in spec.patterns:
        years.add(round(sum(e.years for e in pattern.experience if e.part_of is None), 2))
    licenses = [*spec.licenses, *(lic for p in spec.patterns for lic in p.licenses)]
    certificates = [*spec.certificates, *(c for p in spec.patterns for c in p.certificates)]
    return {
        "levels": sorted(
            {p.education.min_level.value if p.education else "none" for p in spec.patterns}
        ),
        "years": sorted(years),
        "patterns": len(spec.patterns),
        "substitution": spec.substitution is not None
        or any(p.substitution is not None for p in spec.patterns),
        "license": any(lic.applies == "always" for lic in licenses),
        "certificate": any(
            c.applies == "always" and c.name not in APPOINTMENT_CONDITIONS for c in certificates
        ),
        "fields": [f for p in spec.patterns if p.education for f in p.education.fields],
    }


def check_passes(kind: str, wanted: object, got: object) -> bool:
    """Whether a compiled answer meets a label: levels and years as sets; a fields label
    passes when each of its words occurs in some accepted field."""
    if kind in ("levels", "years"):
        assert isinstance(wanted, list) and isinstance(got, list)
        return {str(w) if kind == "levels" else float(w) for w in wanted} == set(got)
    if kind == "fields":
        assert isinstance(wanted, list) and isinstance(got, list)
        return all(any(str(word) in str(field) for field in got) for word in wanted)
    return wanted == got


def score_labelled(folder: Path, outcomes: dict[str, Outcome]) -> list[str]:
    """Report lines: the labelled checks met, per kind and per file (misses named)."""
    labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    met: Counter[str] = Counter()
    total: Counter[str] = Counter()
    lines: list[str] = []
    for name, label in sorted(labels.items()):
        if name.startswith("_"):
            continue
        outcome = outcomes.get(name, {})
        got = outcome.get("checks")
        misses: list[str] = []
        for kind in CHECK_KINDS:
            if kind not in label:
                continue
            total[kind] += 1
            answer = got.get(kind) if isinstance(got, dict) else None
            if answer is not None and check_passes(kind, label[kind], answer):
                met[kind] += 1
            else:
                misses.append(f"{kind}: labelled {label[kind]}, compiled {answer}")
        checked = sum(1 for kind in CHECK_KINDS if kind in label)
        why = outcome.get("refused") or outcome.get("error")
        lines.append(
            f"  {name}: {checked - len(misses)}/{checked}"
            + (f" ({why})" if why else "")
            + "".join(f"\n      miss {m}" for m in misses)
        )
    all_met, all_total = sum(met.values()), sum(total.values())
    head = [
        f"labelled checks met: {all_met} / {all_total} ({100 * all_met / max(1, all_total):.1f}%)",
        "per check kind: " + ", ".join(f"{k} {met[k]}/{total[k]}" for k in CHECK_KINDS if total[k]),
        "per file:",
    ]
    return head + lines


_VOCABULARY = default_vocabulary()


def main(argv: list[str] | None = None) -> int:
    """Run the report; exit 1 if any document crashed the compiler."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--unparsed-out", type=Path, default=Path("corpus_unparsed.txt"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--labelled",
        type=Path,
        default=DEFAULT_LABELLED,
        help="labelled corpus (specs/ and labels.json) to score; 'none' to skip",
    )
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"{args.corpus}: corpus folder not found; pass --corpus DIR", file=sys.stderr)
        return 2
    labelled: Path | None = None if str(args.labelled) == "none" else args.labelled
    if labelled is not None and not (labelled / "labels.json").is_file():
        print(
            f"{labelled}: no labels.json; pass --labelled DIR (or --labelled none)",
            file=sys.stderr,
        )
        return 2
    paths = sorted(str(p) for p in args.corpus.iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES)
    started = time.perf_counter()
    with Pool(args.workers) as pool:
        outcomes = pool.map(compile_one, paths, chunksize=8)
    elapsed = time.perf_counter() - started

    failures = [o for o in outcomes if "error" in o]
    refused = [o for o in outcomes if "refused" in o]
    compiled = [o for o in outcomes if "error" not in o and "refused" not in o]
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
    print(f"compiled: {len(compiled)}; refused: {len(refused)}; failures: {len(failures)}")
    reasons = Counter(str(o["refused"]) for o in refused)
    print(
        "refused (never compiled into a spec that qualifies everyone): "
        + (", ".join(f"{k}: {v}" for k, v in sorted(reasons.items())) or "none")
    )
    print(f"no unparsed MQ sentence: {len(clean)} / {total} ({share:.1f}%)")
    print(
        f"no unparsed MQ sentence, or refused: {len(clean) + len(refused)} / {total} "
        f"({100 * (len(clean) + len(refused)) / max(1, total):.1f}%)"
    )
    notes = Counter(int(str(o["notes"])) for o in compiled)
    print(
        f"notes per document: {sum(k * v for k, v in notes.items())} in all; "
        + ", ".join(f"{k}: {v} doc(s)" for k, v in sorted(notes.items()))
    )
    print(f"preferred sentences: {sum(int(str(o['preferred'])) for o in compiled)}")
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
    if labelled is not None:
        spec_paths = sorted(str(p) for p in (labelled / "specs").iterdir())
        with Pool(args.workers) as pool:
            scored = pool.map(compile_one, spec_paths, chunksize=4)
        print(f"\nlabelled corpus: {labelled} ({len(spec_paths)} documents)")
        crashed = crashed or any(str(o.get("error", "")).startswith("crash") for o in scored)
        by_name = {Path(str(o["path"])).name: o for o in scored}
        for line in score_labelled(labelled, by_name):
            print(line)
    return 1 if crashed or dropped else 0


if __name__ == "__main__":
    sys.exit(main())
