"""`mo-bot audit export --since DATE [--until DATE] [--format csv|jsonl] [--out FILE]`: the audit log for the
data-protection officer. `mo-bot audit verify`: check the audit log's hash chain (:mod:`bot.audit_chain`); exit 0
when every row is as it was sealed, 1 naming the first broken row. Both are audited (``export``, ``verify``)."""

from __future__ import annotations

import argparse
import sys
from contextlib import AbstractContextManager, nullcontext
from typing import TextIO

from bot.audit import AuditEntry, record_separately
from bot.audit_chain import owner_warning, verify_chain
from bot.audit_export import export_audit, period_bounds
from commands.cli.common import cli_actor, cli_date, open_runtime


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("audit", help="the audit log: export it for the data-protection officer, verify its chain")
    asub = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    e = asub.add_parser(
        "export",
        help="export audit events as CSV or JSON Lines",
        description="Dates are whole days in the deployment's timezone; --until is inclusive.",
    )
    e.add_argument("--since", type=cli_date, required=True, metavar="DATE", help="first day to include")
    e.add_argument("--until", type=cli_date, metavar="DATE", help="last day to include (default: up to now)")
    e.add_argument("--format", choices=("csv", "jsonl"), default="csv", help="output format (default: csv)")
    e.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    e.set_defaults(func=run_export)
    v = asub.add_parser(
        "verify",
        help="check that no audit row was changed, deleted or slipped in (the hash chain)",
        description="Recomputes every link of the audit log's hash chain. Exit 0: intact (the head link is printed; "
        "keep it elsewhere to show later that nothing was cut off the end). Exit 1: the first broken row is named.",
    )
    v.set_defaults(func=run_verify)


def run_export(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        try:
            start, end = period_bounds(args.since, args.until, rt.config.timezone)
        except ValueError as e:
            print(f"mo-bot: {e}", file=sys.stderr)
            return 2
        period = f"{args.since.isoformat()}..{args.until.isoformat() if args.until else 'now'}"
        target = args.out or "stdout"
        what = f"audit export {period} {args.format} to {target}"
        try:
            with _open_out(args.out) as out, rt.sessions() as session:
                n = export_audit(session, out, start, end, args.format)
        except Exception as e:
            entry = AuditEntry(actor=cli_actor(), action="export", outcome="error", detail=f"{what}: {e}")
            record_separately(rt.sessions, entry, at=rt.clock.now())
            raise
        entry = AuditEntry(actor=cli_actor(), action="export", outcome="ok", detail=f"{what}: {n} events")
        record_separately(rt.sessions, entry, at=rt.clock.now())
        if args.out:
            print(f"wrote {n} audit events to {args.out}", file=sys.stderr)
        return 0
    finally:
        rt.engine.dispose()


def run_verify(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        with rt.sessions() as session:
            report = verify_chain(session)
            note = owner_warning(session)
        outcome = "ok" if report.ok else "error"
        entry = AuditEntry(actor=cli_actor(), action="verify", outcome=outcome, detail=report.summary())
        record_separately(rt.sessions, entry, at=rt.clock.now())
        if note:
            print(f"mo-bot: {note}", file=sys.stderr)
        if report.ok:
            print(report.summary())
            return 0
        print(f"mo-bot: {report.summary()}", file=sys.stderr)
        for b in report.breaks[1:]:
            print(f"  also: {b}", file=sys.stderr)
        if report.break_count > len(report.breaks):
            print(f"  … and {report.break_count - len(report.breaks)} more", file=sys.stderr)
        return 1
    finally:
        rt.engine.dispose()


def _open_out(path: str | None) -> AbstractContextManager[TextIO]:
    if path is None:
        return nullcontext(sys.stdout)
    return open(path, "w", encoding="utf-8", newline="")
