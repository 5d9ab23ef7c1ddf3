"""Command-line handlers: ``screening compile`` and ``screening diff``.

``add_compile_parser`` and ``add_diff_parser`` add the two sub-commands to the main
``screening`` parser; each sets ``func`` to a handler that takes the parsed arguments and
returns the exit code (0 done, 2 an unusable input, with a message on stderr saying why).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from screening.audit.database import database_url
from screening.errors import ScreeningError
from screening.outputs import check_outputs
from screening.spec import JobSpec, dump_spec, load_spec
from screening.speccompiler import compile_document, default_vocabulary
from screening.specdiff import diff_specs
from screening.taxonomy import propose_spec_codes
from screening.vocabulary import (
    SHARED_VOCABULARY,
    Vocabulary,
    default_rules_dir,
    load_vocabulary,
)


def add_compile_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``compile SPEC_DOCUMENT [--out RULES.yaml] [--json] [--vocabulary FILE]``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "compile",
        help="compile a class specification document into a draft rule file",
        description=(
            "Read a class specification (.txt, .md, .html, .htm, .docx, .pdf) and write a "
            "draft JobSpec. Sentences of the minimum-qualification sections that no rule "
            "covers are listed under 'unparsed' and on stderr."
        ),
    )
    parser.add_argument("document", metavar="SPEC_DOCUMENT", type=Path)
    parser.add_argument("--out", type=Path, help="write the YAML rule file here")
    parser.add_argument("--json", action="store_true", help="print the spec as JSON on stdout")
    parser.add_argument(
        "--vocabulary",
        type=Path,
        help="vocabulary file for area keywords and industries (default: rules/vocabulary.yaml)",
    )
    parser.set_defaults(func=_reported(run_compile))
    return parser


def add_diff_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``diff OLD.yaml NEW.yaml``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "diff",
        help="say in plain words what changed between two rule files",
        description="Compare two JobSpec revisions and list every change in the requirements.",
    )
    parser.add_argument("old", metavar="OLD.yaml", type=Path)
    parser.add_argument("new", metavar="NEW.yaml", type=Path)
    parser.set_defaults(func=_reported(run_diff))
    return parser


def _reported(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """The handler, with what it cannot use reported in one message and exit code 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except ScreeningError as exc:
            print(f"error: {exc.describe()}", file=sys.stderr)
            return 2

    return run


def run_compile(args: argparse.Namespace) -> int:
    """Compile a document; exit 2 with a message when it cannot be read."""
    check_outputs(
        {"--out": args.out},
        {
            "the document being compiled": args.document,
            "the vocabulary": args.vocabulary or default_rules_dir() / "vocabulary.yaml",
        },
        audit_url=database_url(),
    )
    vocabulary = load_vocabulary(args.vocabulary) if args.vocabulary else default_vocabulary()
    compiled = compile_document(args.document, vocabulary)
    spec = compiled.spec
    if args.out is not None:
        # The shared vocabulary is named by its default name, which finds it wherever the
        # rule file is moved; another vocabulary is named relative to the rule file.
        shared = (default_rules_dir() / SHARED_VOCABULARY).resolve()
        vocabulary_path = (args.vocabulary or shared).resolve()
        beside = (args.out.resolve().parent / SHARED_VOCABULARY).resolve()
        named = SHARED_VOCABULARY
        if vocabulary_path != shared or (beside.exists() and beside != shared):
            named = Path(os.path.relpath(vocabulary_path, args.out.resolve().parent)).as_posix()
        spec = spec.model_copy(update={"vocabulary": named})
        try:
            args.out.write_text(dump_spec(spec), encoding="utf-8")
        except OSError as exc:
            print(
                f"error: {args.out}: cannot write the rule file ({exc.strerror})", file=sys.stderr
            )
            return 2
    if args.json:
        print(json.dumps(spec.model_dump(mode="json", by_alias=True), indent=2))
    elif args.out is None:
        sys.stdout.write(dump_spec(spec))
    criteria = len(spec.criterion_ids())
    print(
        f"compiled {spec.provenance.document if spec.provenance else args.document}: "
        f"{len(spec.patterns)} pattern(s), {criteria} criteria, "
        f"{len(spec.unparsed)} unparsed sentence(s), {len(spec.removed)} struck passage(s)",
        file=sys.stderr,
    )
    if spec.unparsed:
        print("unparsed (review these by hand; no rule covers them):", file=sys.stderr)
        for sentence in spec.unparsed:
            print(f"  - {sentence}", file=sys.stderr)
    _print_proposals(spec, vocabulary)
    return 0


def _print_proposals(spec: JobSpec, vocabulary: Vocabulary) -> None:
    """List the occupations and industries proposed for the draft's areas (stderr).

    They are proposals only: the analyst settles them in the rule file's
    `area_occupations` and `industry_codes`; nothing is decided on them until then.
    """
    proposals = propose_spec_codes(spec, settled_areas=vocabulary.area_occupations)
    if not proposals:
        return
    print(
        "proposed codes (settle them as area_occupations / industry_codes in the rule file):",
        file=sys.stderr,
    )
    for item in proposals:
        print(f"  {item.requirement_id} · {item.area}:", file=sys.stderr)
        for code, title, _score in item.proposal.occupations:
            print(f"    O*NET {code} {title}", file=sys.stderr)
        for code, title, _score in item.proposal.industries:
            print(f"    NAICS {code} {title}", file=sys.stderr)


def run_diff(args: argparse.Namespace) -> int:
    """Print the changes between two rule files; exit 2 when one cannot be read."""
    old = load_spec(args.old)
    new = load_spec(args.new)
    changes = diff_specs(old, new)
    if not changes:
        print("no changes in the requirements")
    for change in changes:
        print(change)
    return 0
