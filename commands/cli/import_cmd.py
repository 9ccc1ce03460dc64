"""`mo-bot import {wanted,suspects,bail,actions} FILE`: load an export, all or nothing."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.audit import AuditEntry, record_separately
from bot.importing.columns import SCHEMAS
from bot.importing.readers import HashStarted
from bot.importing.service import import_file
from bot.importing.types import ImportReport, ImportRequest
from bot.settings import read_environment, warm_answers_on, warm_answers_problem
from commands.cli.common import cli_actor, cli_date, open_runtime

if TYPE_CHECKING:
    from commands.mo.warm import Published


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "import",
        help="import an export (CSV UTF-8 or XLSX): all rows or none",
        description="Import one export file. Every row is checked first; one bad row and nothing is written "
        "(exit status 2). See docs/importing.md for the columns, aliases and values accepted.",
    )
    p.add_argument("dataset", choices=list(SCHEMAS))
    p.add_argument("file", type=Path)
    p.add_argument("--force", help="force slug (default: the config's default force, or the file's force column)")
    p.add_argument(
        "--as-of",
        type=cli_date,
        metavar="DATE",
        help="the export's as-of date, e.g. 2026-11-30 or 30/11/2026 (default: today)",
    )
    p.add_argument(
        "--snapshot",
        action="store_true",
        help="the file is a full export: open rows of this force absent from it are closed as of --as-of",
    )
    p.add_argument(
        "--covers-from",
        type=cli_date,
        metavar="DATE",
        help="the file holds every case that was open on or after this date, so figures from then on "
        "are complete (default: its --as-of date only)",
    )
    p.add_argument("--json", action="store_true", help="also print the report as one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    setting = read_environment().warm_answers
    warm = warm_answers_on(setting)
    if warm is None:
        print(warm_answers_problem(setting), file=sys.stderr)
        return 2
    rt = open_runtime(args)
    actor = cli_actor()
    early: HashStarted | None = getattr(args, "early_hash", None)
    request = ImportRequest(
        dataset=args.dataset,
        path=args.file,
        force=args.force,
        as_of=args.as_of,
        snapshot=args.snapshot,
        actor=actor,
        covers_from=args.covers_from,
        hashing=early.of(args.file) if early is not None else None,
    )
    now = rt.clock.now()
    with rt.sessions() as session:
        try:
            report = import_file(session, rt.config, request, now)
        except Exception as e:
            # A failure nobody foresaw: nothing was imported (the transaction is rolled back), and the attempt is
            # audited all the same before the traceback says what went wrong.
            session.rollback()
            record_separately(
                rt.sessions,
                AuditEntry(
                    actor=actor,
                    action="import",
                    outcome="error",
                    force=args.force,
                    detail=f"import {args.dataset} {args.file.name}: nothing imported: failed ({type(e).__name__})",
                ),
                at=now,
            )
            raise
        published: list[Published] = []
        if report.ok:
            if warm and report.unchanged_since is None:
                # Imported here: the handlers and their catalogue are needed only once an import has changed rows
                # (an unchanged file leaves its answers to the running bot: see warm_before_commit).
                from commands.mo.warm import warm_before_commit

                published = warm_before_commit(rt, session, report)
            session.commit()
        else:
            session.rollback()
    if not report.ok:
        outcome = "refused" if report.refused else "invalid"
        why = report.refused or f"{report.error_count} bad row(s)"
        record_separately(
            rt.sessions,
            AuditEntry(
                actor=actor,
                action="import",
                outcome=outcome,
                force=args.force,
                detail=f"import {args.dataset} {args.file.name}: nothing imported: {why}"[:2000],
            ),
            at=now,
        )
    print(render(report))
    for p in published:
        print(f"standard answers for {p.force} {p.dataset}: {p.written} computed with the import "
              f"({p.seconds:.1f} s), ready as it committed")  # fmt: skip
    if warm and report.ok and report.unchanged_since is not None:
        print("standard answers for the new date: computed by the running bot after the commit (no row changed)")
    if args.json:
        print(json.dumps(report_json(report), indent=2))
    rt.engine.dispose()
    return 0 if report.ok else 2


def report_json(report: ImportReport) -> dict[str, Any]:
    out = dataclasses.asdict(report)
    out["as_of"] = report.as_of.isoformat() if report.as_of else None
    out["covers_from"] = report.covers_from.isoformat() if report.covers_from else None
    out["covered_from"] = [d.isoformat() if d else None for d in report.covered_from]
    out["unchanged_since"] = report.unchanged_since.isoformat() if report.unchanged_since else None
    out["ok"] = report.ok
    return out


def render(report: ImportReport) -> str:
    """A report an analyst can act on: what changed, or exactly which cells to fix."""
    lines: list[str] = []
    head = f"{report.dataset} export {report.file_name}"
    if report.refused:
        lines.append(f"REFUSED {head}: {report.refused}")
        return "\n".join(lines)
    if not report.ok:
        lines.append(
            f"NOT IMPORTED {head}: {report.error_count} problem(s) in {report.rows_in_file} data rows; "
            "nothing was written. Fix these and import the whole file again:"
        )
        for e in report.errors:
            value = e.value if e.value else "(empty)"
            lines.append(f"  row {e.row}, {e.column} = {value!r}: {e.reason}")
        more = report.error_count - len(report.errors)
        if more > 0:
            lines.append(f"  … and {more} more")
    else:
        as_of = report.as_of.isoformat() if report.as_of else "?"
        lines.append(f"Imported {head} (as of {as_of}, force {', '.join(report.forces)}): {report.rows_in_file} rows")
        if report.unchanged_since is not None:
            # The same file under the same settings as the latest import: its rows were not read again.
            lines.append(
                f"  unchanged since the import of {report.unchanged_since.isoformat()}: {report.added} added, "
                f"{report.updated} updated, {report.closed} closed, {report.unchanged} unchanged"
            )
        else:
            lines.append(
                f"  added {report.added}, updated {report.updated}, closed {report.closed}, "
                f"unchanged {report.unchanged}"
            )
        lines.append(f"  batch {', '.join(str(b) for b in report.batch_ids)}; file SHA-256 {report.file_sha256}")
        if report.past_retention:
            lines.append(
                f"  {report.past_retention} rows past the retention period (closed more than "
                f"{report.retention_days} days ago), not loaded"
            )
        lines += _coverage_lines(report)
    if report.ignored_columns:
        lines.append(f"  ignored columns: {', '.join(report.ignored_columns)}")
    if report.kept_columns and (report.updated or report.unchanged):
        lines.append(
            f"  not in the file, kept as stored for the cases already imported: {', '.join(report.kept_columns)}"
        )
    return "\n".join(lines)


def _coverage_lines(report: ImportReport) -> list[str]:
    """From when the figures are complete, and — when the file declared nothing — how to declare more."""
    if report.dataset == "actions" or report.as_of is None:
        return []
    if report.covers_from is not None:
        out = [f"  this file covers every case open on or after {report.covers_from.isoformat()} (--covers-from)"]
    else:
        out = [
            f"  this file covers from its as-of date {report.as_of.isoformat()} on; if it holds every case open "
            "since an earlier date, import it again with --covers-from YYYY-MM-DD to make that history count"
        ]
    for f, start in zip(report.forces, report.covered_from, strict=True):
        if start is not None:
            out.append(f"  {f} {report.dataset} figures are complete from {start.isoformat()}")
    return out
