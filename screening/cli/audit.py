"""``screening audit …``: list, show, override, verify, re-screen, impact, hold, purge.

Every handler returns an exit code: 0 done, 1 verify found tampering (or a re-screen under
the stored spec came out different), 2 bad input, with a message on stderr saying what to fix.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import importlib
import io
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

from screening.audit.database import DATABASE_ENV, database_url
from screening.audit.impact import DEFAULT_MIN_GROUP
from screening.audit.records import RunSummary
from screening.audit.report import impact_csv, impact_html, impact_text
from screening.audit.store import AuditStore
from screening.errors import ScreeningError
from screening.outputs import check_outputs
from screening.results import Outcome
from screening.spec import load_spec
from screening.tables import visible_text

Handler = Callable[[argparse.Namespace], int]


def _default_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _store(args: argparse.Namespace) -> AuditStore:
    return AuditStore(args.database or database_url())


def _head_line(seq: int, link: str) -> str:
    return f"chain head: seq {seq} link {link}"


def run_recorded_message(summary: RunSummary) -> str:
    """What ``screen`` prints after recording a run, so the head can be noted elsewhere."""
    return f"audit: run {summary.run_id} recorded ({summary.decisions} decisions); " + _head_line(
        summary.chain_seq, summary.chain_head
    )


def _runs(args: argparse.Namespace) -> int:
    with _store(args) as store:
        runs = store.runs()
    if not runs:
        print("no runs recorded yet")
        return 0
    print(
        f"{'run':>8}  {'recorded (UTC)':<20} {'user':<12} {'spec':<34} {'revision':<12} "
        f"{'decisions':>9} {'qual':>6} {'not':>6} {'review':>6}  {'keep until':<10} status"
    )
    for r in runs:
        status = ", ".join(
            s for s, on in (("legal hold", r.legal_hold), ("purged", r.purged)) if on
        )
        c = r.outcome_counts
        print(
            f"{r.run_id:>8}  {r.created_at[:19]:<20} {r.user[:12]:<12} {r.spec_id[:34]:<34} "
            f"{r.spec_revision[:12]:<12} {r.decisions:>9} {c.get('qualified', 0):>6} "
            f"{c.get('not_qualified', 0):>6} {c.get('needs_review', 0):>6}  "
            f"{r.retention_until:<10} {status}"
        )
    return 0


def _show(args: argparse.Namespace) -> int:
    with _store(args) as store:
        if args.applicant is not None:
            d = store.decision(args.run, args.applicant)
            print(f"run {d.run_id}, applicant {d.applicant_id} (input row {d.row})")
            print(f"engine outcome: {d.outcome}")
            print(f"final outcome:  {d.final_outcome}")
            if d.detail is None:
                print("details: purged at the end of retention (statuses below are kept)")
                for cid, status in d.statuses.items():
                    print(f"  {cid}: {status}")
            else:
                for c in d.detail.get("criteria", []):
                    print(f"  {c['id']}: {c['status']} — {c.get('reason', '')}")
                for reason in d.detail.get("reasons", []):
                    print(f"  reason: {reason}")
                for condition in d.detail.get("conditions", []):
                    print(f"  condition: {condition}")
            for o in d.overrides:
                print(
                    f"  override {o.override_id} {o.created_at} by {o.reviewer}: "
                    f"{o.from_outcome} → {o.to_outcome}: {o.justification}"
                )
            return 0
        detail = store.show(args.run)
        finals = store.final_outcomes(args.run) if args.decisions else None
    info = detail.info
    print(f"run {info.run_id}")
    print(f"  recorded:        {info.created_at} by {info.user}")
    print(f"  spec:            {info.spec_id} revision {info.spec_revision or '(none)'}")
    print(f"  spec sha256:     {detail.spec_sha256}")
    print(f"  spec file:       {detail.spec_path or '(not recorded)'}")
    print(f"  ruleset sha256:  {detail.ruleset_hash}")
    print(f"  as of:           {detail.as_of}")
    print(f"  settings:        {detail.settings}")
    print(f"  engine version:  {detail.engine_version}")
    for f in detail.files:
        print(f"  input {f['role']}: {f['path']} ({f['rows']} rows, sha256 {f['sha256']})")
    print(f"  keep until:      {info.retention_until}{' (legal hold)' if info.legal_hold else ''}")
    if info.purged:
        print("  applicant data:  purged (outcomes, statuses and the impact summary are kept)")
    print(f"  engine outcomes: {info.outcome_counts}")
    print(f"  final outcomes:  {detail.final_counts}")
    for o in detail.overrides:
        print(
            f"  override {o.override_id} {o.created_at} by {o.reviewer}: applicant "
            f"{o.applicant_id} {o.from_outcome} → {o.to_outcome}: {o.justification}"
        )
    if args.spec:
        print(detail.spec_yaml, end="")
    if finals is not None:
        print("applicant_id,engine_outcome,final_outcome,overridden")
        for row in finals.itertuples(index=False):
            print(f"{row.applicant_id},{row.engine_outcome},{row.final_outcome},{row.overridden}")
    return 0


def _override(args: argparse.Namespace) -> int:
    with _store(args) as store:
        result = store.record_override(
            args.run,
            args.applicant,
            reviewer=args.reviewer,
            to_outcome=args.to,
            justification=args.justification,
        )
        seq, link = store.chain_head()
    print(
        f"override {result.override_id}: applicant {result.applicant_id} of run {result.run_id} "
        f"{result.from_outcome} → {result.to_outcome} by {args.reviewer}"
    )
    print(_head_line(seq, link))
    return 0


def _verify(args: argparse.Namespace) -> int:
    # verifying never creates a store: a missing one is "cannot verify" (exit 2), not OK
    with AuditStore(args.database or database_url(), create=False) as store:
        report = store.verify(expected_head=args.expect_head)
    kind = "HMAC-SHA256 (keyed)" if report.keyed else "SHA-256"
    print(
        f"checked {report.records} records ({kind} chain; "
        f"{report.purged_decisions} decisions with purged applicant data)"
    )
    print(_head_line(report.head_seq, report.head_link))
    if report.ok:
        print("OK: no record was edited, deleted or reordered")
        return 0
    print(f"TAMPERING FOUND: {len(report.problems)} problem(s)")
    for problem in report.problems:
        print(f"  {problem}")
    return 1


def _rescreen(args: argparse.Namespace) -> int:
    spec = None
    if args.spec is not None:
        spec = load_spec(args.spec)
    try:
        # the engine loads only to re-screen: the other audit commands never need it
        rescreening = importlib.import_module("screening.run.rescreen")
    except ModuleNotFoundError:
        return _error(
            "re-screening needs the screening engine (screening.run), which is not installed"
        )
    with _store(args) as store:
        report = rescreening.rescreen(store, args.run, spec)
    under = f"spec {args.spec}" if spec is not None else "the stored spec"
    print(f"re-screened {report.decisions} decisions of run {report.run_id} under {under}")
    if report.ruleset_hash != report.recorded_ruleset_hash:
        print(
            f"  ruleset sha256 {report.ruleset_hash} differs from the recorded "
            f"{report.recorded_ruleset_hash}"
        )
    for applicant in report.missing:
        print(f"  {applicant}: no decision on re-screening")
    for flip in report.flips:
        changes = "; ".join(f"{cid} {old} → {new}" for cid, (old, new) in flip.criteria.items())
        print(
            f"  {flip.applicant_id}: {flip.recorded} → {flip.rescreened}"
            + (f" ({changes})" if changes else "")
        )
        for reason in flip.reasons[:4]:
            print(f"      {reason}")
    differ = len(report.flips) + len(report.missing)
    print(f"{differ} decision(s) differ")
    return 1 if differ and spec is None else 0


def _impact(args: argparse.Namespace) -> int:
    check_outputs(
        {"--csv": args.csv, "--html": args.html}, {}, audit_url=args.database or database_url()
    )
    with _store(args) as store:
        report = store.impact(args.run, min_group=args.min_group)
        info = store.show(args.run)
    written: list[Path] = []
    # files first: a reader that stops early (| head) must not cost the report
    if args.csv is not None:
        args.csv.write_text(impact_csv(report), encoding="utf-8")
        written.append(args.csv)
    if args.html is not None:
        facts = {
            "title": f"Adverse-impact report — run {args.run}",
            "spec": f"{info.info.spec_id} revision {info.info.spec_revision}",
            "spec sha256": info.spec_sha256,
            "recorded": info.info.created_at,
            "as of": info.as_of,
        }
        args.html.write_text(impact_html(report, facts), encoding="utf-8")
        written.append(args.html)
    sys.stdout.write(impact_text(report))
    for path in written:
        print(f"wrote {path}")
    return 0


def _hold(args: argparse.Namespace) -> int:
    with _store(args) as store:
        store.set_legal_hold(args.run, args.on, user=args.user, reason=args.reason)
        seq, link = store.chain_head()
    print(f"run {args.run}: legal hold {'on' if args.on else 'off'}")
    print(_head_line(seq, link))
    return 0


def _purge(args: argparse.Namespace) -> int:
    now = (
        datetime(args.now.year, args.now.month, args.now.day, tzinfo=UTC)
        if args.now is not None
        else None
    )
    with _store(args) as store:
        report = store.purge(now, user=args.user)
        seq, link = store.chain_head()
    if report.runs:
        print(
            f"purged applicant data of run(s) {', '.join(map(str, report.runs))}: "
            f"{report.decisions} decisions, {report.eeo_rows} self-identification rows"
        )
    else:
        print("nothing to purge: no run is past its retention date")
    if report.held:
        print(f"kept under legal hold: run(s) {', '.join(map(str, report.held))}")
    print(_head_line(seq, link))
    return 0


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None


def _group_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a group size: give a whole number of decided applicants, 1 or more"
        )
    return value


def _run_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a run number; `screening audit runs` lists them"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a run number (they start at 1)")
    return value


class _VisibleOutput(io.TextIOBase):
    """Standard output that shows control characters as escapes: stored text (ids,
    reasons, file names) never moves the cursor, clears the screen or hides a line."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(visible_text(text.replace("\r", "\\r")))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()


def _guarded(handler: Handler) -> Handler:
    def run(args: argparse.Namespace) -> int:
        try:
            with contextlib.redirect_stdout(_VisibleOutput(sys.stdout)):
                return handler(args)
        except ScreeningError as exc:
            return _error(exc.describe())
        except BrokenPipeError:
            return 0  # the reader (e.g. `head`) stopped listening; nothing is wrong
        except OSError as exc:
            return _error(f"cannot write {exc.filename or 'the output'}: {exc.strerror}")

    return run


def add_audit_parser(
    subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
) -> argparse.ArgumentParser:
    """Register ``audit`` and its commands; each sets ``func(args) -> exit code``."""
    audit: argparse.ArgumentParser = subparsers.add_parser(
        "audit",
        help="audit trail: runs, overrides, verification, adverse impact, retention",
        description="Inspect and maintain the audit trail of screening runs.",
    )
    audit.add_argument(
        "--database",
        metavar="URL",
        help=f"audit database (default: ${DATABASE_ENV} or sqlite:///screening-audit.db)",
    )
    commands = audit.add_subparsers(dest="audit_command", metavar="COMMAND", required=True)

    def command(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = commands.add_parser(
            name, help=help_text, description=help_text
        )
        parser.set_defaults(func=_guarded(handler))
        return parser

    command("runs", _runs, "list recorded runs")

    show = command("show", _show, "show what was recorded about a run")
    show.add_argument("run", type=_run_id, metavar="RUN")
    show.add_argument("--applicant", metavar="ID", help="show one applicant's decision")
    show.add_argument("--spec", action="store_true", help="print the stored spec YAML")
    show.add_argument(
        "--decisions", action="store_true", help="list every applicant's engine and final outcome"
    )

    override = command("override", _override, "record a reviewer's decision for one applicant")
    override.add_argument("run", type=_run_id, metavar="RUN")
    override.add_argument("applicant", metavar="APPLICANT")
    override.add_argument(
        "--to", required=True, choices=[o.value for o in Outcome], help="the final outcome"
    )
    override.add_argument("--justification", required=True, help="why (required, kept forever)")
    override.add_argument("--reviewer", required=True, help="who decided")

    verify = command("verify", _verify, "check that no record was edited, deleted or reordered")
    verify.add_argument(
        "--expect-head",
        metavar="LINK",
        help="a chain head noted earlier; it must still be in the chain",
    )

    rescreen = command("rescreen", _rescreen, "re-evaluate a run's stored inputs")
    rescreen.add_argument("run", type=_run_id, metavar="RUN")
    rescreen.add_argument(
        "--spec", type=Path, metavar="OTHER.yaml", help="screen under another spec instead"
    )

    impact = command("impact", _impact, "adverse-impact report of a run")
    impact.add_argument("run", type=_run_id, metavar="RUN")
    impact.add_argument("--csv", type=Path, metavar="OUT", help="write the report as CSV")
    impact.add_argument("--html", type=Path, metavar="OUT", help="write a printable HTML page")
    impact.add_argument(
        "--min-group",
        type=_group_size,
        default=DEFAULT_MIN_GROUP,
        metavar="N",
        help="decided applicants a group needs to be the reference group or to be flagged by "
        f"the four-fifths ratio alone (default {DEFAULT_MIN_GROUP})",
    )

    hold = command("hold", _hold, "put a run under legal hold (never purged) or release it")
    hold.add_argument("run", type=_run_id, metavar="RUN")
    switch = hold.add_mutually_exclusive_group(required=True)
    switch.add_argument("--on", dest="on", action="store_true", help="hold the run")
    switch.add_argument("--off", dest="on", action="store_false", help="release the hold")
    hold.add_argument("--reason", required=True, help="why (e.g. the case or request)")
    hold.add_argument("--user", default=_default_user(), help="who (default: the login name)")

    purge = command("purge", _purge, "remove applicant data of runs past retention")
    purge.add_argument(
        "--now", type=_date, metavar="DATE", help="purge as of this date (default: today)"
    )
    purge.add_argument("--user", default=_default_user(), help="who (default: the login name)")
    return audit
