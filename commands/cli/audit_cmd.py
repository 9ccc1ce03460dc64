"""`mo-bot audit export --since DATE [--until DATE] [--format csv|jsonl] [--out FILE]`: the audit log for the
data-protection officer. The export itself is audited (action ``export``)."""

from __future__ import annotations

import argparse
import sys
from contextlib import AbstractContextManager, nullcontext
from typing import TextIO

from bot.audit import AuditEntry, record_separately
from bot.audit_export import export_audit, period_bounds
from commands.cli.common import cli_actor, iso_date, open_runtime


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("audit", help="the audit log: export it for the data-protection officer")
    asub = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    e = asub.add_parser(
        "export",
        help="export audit events as CSV or JSON Lines",
        description="Dates are whole days in the deployment's timezone; --until is inclusive.",
    )
    e.add_argument("--since", type=iso_date, required=True, metavar="YYYY-MM-DD", help="first day to include")
    e.add_argument("--until", type=iso_date, metavar="YYYY-MM-DD", help="last day to include (default: up to now)")
    e.add_argument("--format", choices=("csv", "jsonl"), default="csv", help="output format (default: csv)")
    e.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    e.set_defaults(func=run_export)


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


def _open_out(path: str | None) -> AbstractContextManager[TextIO]:
    if path is None:
        return nullcontext(sys.stdout)
    return open(path, "w", encoding="utf-8", newline="")
