"""Compile every class specification of the corpora and screen the sample batch with each.

Usage:
    python benchmarks/corpus_check.py [--corpus DIR ...] [--applicants CSV] [--workers N]

By default it reads ../shared/corpus/philadelphia/ and ../shared/corpus/multi-agency/specs/
beside the repository. Each document is compiled with the library's compiler; a compiled
spec then screens data/account-manager-applicants.csv through the library (durable_rules
deciding). Documents that are not class specifications (meeting agendas, notices: no
minimum-qualification section, or refused by the compiler) are counted apart; every other
document either screens or is a failure, printed by cause with its file name. Exit status
1 when there is a failure.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from datetime import date
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from screening.documents import SUPPORTED_SUFFIXES, DocumentError  # noqa: E402
from screening.engine import EngineError  # noqa: E402
from screening.ruleset import RulesetLimitError  # noqa: E402
from screening.run.stages import screen_files  # noqa: E402
from screening.spec import Reviewed, SpecError, check_every_pattern_requires  # noqa: E402
from screening.speccompiler import (  # noqa: E402
    NotASpecError,
    compile_document,
    default_vocabulary,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared" / "corpus"
DEFAULT_CORPORA = [SHARED / "philadelphia", SHARED / "multi-agency" / "specs"]
DEFAULT_APPLICANTS = REPO_ROOT / "data" / "account-manager-applicants.csv"
AS_OF = date(2026, 11, 26)

NOT_A_SPEC = "refused: not a class specification"
#: A specification the compiler read no requirement checked at screening from: refused
#: with a message (its rules would qualify everyone), not a failure of the engine.
NO_REQUIREMENT = "refused: no requirement the compiler could read (write the rule file by hand)"
SCREENED = "screened"
#: Drafts with unparsed sentences, which `screen` holds back until an analyst reviews them:
#: screened past that gate, and counted as their own cause so the figure stays visible.
DRAFT_GATE = "screened past the draft review gate (unparsed sentences, not yet reviewed)"


@dataclass(frozen=True)
class Checked:
    """What happened to one document."""

    path: str
    cause: str
    detail: str = ""


def check_one(job: tuple[str, str]) -> Checked:
    """Compile one document and screen the applicants with it; never raises."""
    path, applicants = job
    try:
        compiled = compile_document(path, _VOCABULARY)
    except DocumentError as exc:
        return Checked(path, "failure: unreadable document", str(exc))
    except Exception as exc:
        if isinstance(exc, NotASpecError) and exc.reason == "no_requirement":
            # a class specification whose rules would qualify everyone: refused, and said
            return Checked(path, NO_REQUIREMENT, str(exc).splitlines()[0])
        if isinstance(exc, SpecError) or type(exc).__module__ == compile_document.__module__:
            # the compiler's own refusal: what it read is not a class specification
            return Checked(path, NOT_A_SPEC, str(exc).splitlines()[0])
        return Checked(path, "failure: compiler crash", traceback.format_exc(limit=3))
    spec = compiled.spec
    try:
        check_every_pattern_requires(spec, Path(path).name)
    except SpecError as exc:
        if not compiled.sections:
            return Checked(path, NOT_A_SPEC, "no minimum-qualification section")
        return Checked(path, "failure: spec refused when loaded", str(exc))
    gated = bool(spec.unparsed) and spec.reviewed is None
    if gated:
        # `screen` holds this draft back until an analyst reviews it; the check goes past
        # the gate, as a reviewer would, and counts the document under its own cause
        spec = spec.model_copy(update={"reviewed": Reviewed(by="corpus check", at=str(AS_OF))})
    try:
        result = screen_files(applicants, spec, as_of=AS_OF)
    except RulesetLimitError as exc:
        return Checked(path, "failure: beyond a rule engine limit", str(exc))
    except SpecError as exc:
        return Checked(path, "failure: spec refused when screening", str(exc))
    except EngineError as exc:
        return Checked(path, "failure: rule engine error", str(exc))
    except Exception:
        return Checked(path, "failure: screening crash", traceback.format_exc(limit=4))
    if len(result.results) == 0:
        return Checked(path, "failure: nobody screened")
    return Checked(path, DRAFT_GATE if gated else SCREENED)


_VOCABULARY = default_vocabulary()


def documents(folders: list[Path]) -> list[Path]:
    """Every supported document in the folders, in name order."""
    found: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            raise SystemExit(f"corpus folder not found: {folder}")
        found += sorted(p for p in folder.iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES)
    return found


def main(argv: list[str] | None = None) -> int:
    """Check every document and print the figures by cause."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, nargs="+", default=DEFAULT_CORPORA)
    parser.add_argument("--applicants", type=Path, default=DEFAULT_APPLICANTS)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    paths = documents(args.corpus)
    started = time.perf_counter()
    jobs = [(str(p), str(args.applicants)) for p in paths]
    with Pool(args.workers) as pool:
        checked = pool.map(check_one, jobs, chunksize=4)
    seconds = time.perf_counter() - started
    for folder in args.corpus:
        mine = [c for c in checked if Path(c.path).parent == folder]
        causes = Counter(c.cause for c in mine)
        print(f"{folder}: {len(mine)} documents")
        for cause, count in sorted(causes.items()):
            print(f"  {count:5}  {cause}")
    failures = [c for c in checked if c.cause.startswith("failure")]
    class_specs = sum(1 for c in checked if c.cause != NOT_A_SPEC)
    print(
        f"total: {len(checked)} documents, {len(checked) - class_specs} not class "
        f"specifications, {class_specs} class specifications, {len(failures)} failure(s) "
        f"({seconds:.0f} s)"
    )
    for cause in sorted({c.cause for c in failures}):
        print(f"\n{cause}:")
        for c in failures:
            if c.cause == cause:
                detail = c.detail.strip().splitlines()
                print(f"  {Path(c.path).name}: {detail[-1] if detail else ''}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
