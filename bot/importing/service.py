"""Import one export file: the all-or-nothing, streaming upsert behind `mo-bot import` and the demo loader."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from bot.config import Config
from bot.coverage import covered_from
from bot.dates import day_month_year
from bot.figures.ahead import AheadChange, apply_ahead, merge_ahead, rebuild_ahead
from bot.figures.day_counts import (
    Moves,
    apply_moves,
    current_state,
    merge_moves,
    month_flows_from_days,
    rebuild_day_counts,
)
from bot.figures.merged import merged
from bot.figures.month_flow import FlowTally, rebuild_month_flows, write_month_flows
from bot.figures.revisions import rebuild_revision_deltas
from bot.import_generations.announce import announce_imports
from bot.import_generations.batches import ImportedBatch
from bot.importing import staging
from bot.importing.audit_event import record_import
from bot.importing.columns import SCHEMAS, TABLES
from bot.importing.date_order import LogConflict, bot_changes_after, older_export_refusal
from bot.importing.direct import load_into_empty_table
from bot.importing.log_date import stated_log_date
from bot.importing.merge import (
    REPLACED,
    MergeCounts,
    bulk_mode,
    drop_replaced,
    kept_columns,
    merge_actions,
    merge_cases,
    table_is_empty,
)
from bot.importing.readers import FileRefused, file_sha256, open_table
from bot.importing.retention_rule import drop_expired_from_stage, drop_expired_loaded, retention_cutoff
from bot.importing.types import MAX_REPORTED_ERRORS, ImportReport, ImportRequest
from bot.importing.unchanged import import_repeat, record_settings, settings_sha256
from bot.importing.validate import ErrorSink, RowValidator, resolve_force
from bot.models import Base, ImportBatch


def import_file(session: Session, config: Config, request: ImportRequest, now: dt.datetime) -> ImportReport:
    """Validate ``request.path`` completely and, only if every row is valid, upsert it into the store.

    Transaction contract:

    - Runs inside the caller's transaction and never commits. On success (``report.ok``) it has written the
      rows, one :class:`ImportBatch` per force in the file (``report.forces`` / ``report.batch_ids`` in the
      same order) and one ``import`` audit event per force, and announced the batches
      (:func:`bot.import_generations.announce.announce_imports`): on PostgreSQL the table is vacuumed and a
      ``NOTIFY`` sent once the caller commits, which every running bot hears, and this process's own answers know
      them when that commit returns. The caller commits (a rollback, or closing the session uncommitted, drops both).
    - If the report is not ok (``report.refused`` for a whole-file refusal, or ``report.errors`` /
      ``report.error_count`` for bad rows) nothing durable has been written: rows are validated while they
      stream into a TEMP staging table, duplicates are found there, and the real tables are touched only
      after that — or, when the dataset's table is empty (an initial load), they stream into it inside a
      savepoint that is rolled back unless every row is valid (see ``direct.py``). The caller rolls back and
      records the refusal with ``bot.audit.record_separately`` (outcome ``refused`` or ``invalid``).
    - Memory stays flat as the file grows: rows are never held in a Python list or set.
    """
    path = Path(request.path)
    report = ImportReport(dataset=request.dataset, file_name=path.name)
    if request.dataset not in SCHEMAS:
        report.refused = f"unknown dataset {request.dataset!r}: expected one of {', '.join(SCHEMAS)}"
        return report
    if request.snapshot and request.dataset == "actions":
        report.refused = "--snapshot applies to wanted, suspects and bail exports, not to the action log"
        return report
    try:
        force = resolve_force(config, request.force)
        report.file_sha256 = request.hashing.result() if request.hashing is not None else file_sha256(path)
    except FileRefused as e:
        report.refused = str(e)
        return report
    tz = config.force(force).timezone
    today = now.astimezone(tz).date()
    as_of = request.as_of or today
    report.as_of = as_of
    if as_of > today:
        # A mistyped year would stand as the latest export: every real export after it is refused as older
        # (date_order.py), and rows dated up to it would pass as not in the future.
        report.refused = (
            f"the as-of date {day_month_year(as_of)} is after today ({day_month_year(today)}): an export is dated "
            "the day it was made, never later; give that date"
        )
        return report
    if request.covers_from is not None:
        if request.dataset == "actions":
            report.refused = "--covers-from applies to wanted, suspects and bail exports, not to the action log"
            return report
        if request.covers_from > as_of:
            report.refused = (
                f"--covers-from {request.covers_from.isoformat()} is after the export's as-of date "
                f"{day_month_year(as_of)}: a file cannot hold cases from after it was made"
            )
            return report
    report.covers_from = request.covers_from
    if force is not None and request.dataset != "actions":
        # Before the file is read: a file of another force's rows is refused when they are staged.
        report.refused = older_export_refusal(session, request.dataset, [force], as_of, path.name)
        if report.refused:
            return report
    settings = settings_sha256(config, request.dataset, force)
    if import_repeat(session, config, request, path, force, as_of, now, report, settings):
        return report

    session.flush()
    # On PostgreSQL a failed COPY aborts the transaction; a savepoint lets us undo just our own work.
    savepoint = session.begin_nested() if staging.is_pg(session) else None
    try:
        ok = _stage_and_merge(session, config, request, path, force, as_of, now, report)
    except BaseException:
        _abandon(session, savepoint)
        raise
    if not ok:
        _abandon(session, savepoint)
        return report
    if savepoint is not None:
        savepoint.commit()
    record_settings(session, report.batch_ids, settings)
    if request.dataset != "actions":
        report.covered_from = [covered_from(session, f, request.dataset) for f in report.forces]
    announce_imports(
        session,
        [ImportedBatch(f, request.dataset, b) for f, b in zip(report.forces, report.batch_ids, strict=True)],
        vacuum=[TABLES[request.dataset]],
    )
    return report


def _abandon(session: Session, savepoint: Any) -> None:
    if savepoint is not None:
        if savepoint.is_active:
            savepoint.rollback()
        return
    with contextlib.suppress(Exception):  # the caller rolls back in any case
        staging.drop_stage(session)


def _stage_and_merge(
    session: Session,
    config: Config,
    request: ImportRequest,
    path: Path,
    force: str | None,
    as_of: dt.date,
    now: dt.datetime,
    report: ImportReport,
) -> bool:
    dataset = request.dataset
    if dataset != "actions" and table_is_empty(session, dataset):
        direct_errors = ErrorSink()
        try:
            loaded = load_into_empty_table(session, config, request, path, force, as_of, now, report, direct_errors)
        except FileRefused as e:
            report.refused = str(e)
            return False
        if loaded is not None:
            report.refused = older_export_refusal(session, dataset, loaded[0], as_of, path.name)
            if report.refused:
                return False
            _finish_direct(session, config, request, path, force, as_of, now, report, *loaded)
            return True
        if direct_errors.count:
            report.errors, report.error_count = direct_errors.errors, direct_errors.count
            return False
        # A duplicate reference (or no rows): the staged import reports it fully.
    errors = ErrorSink()
    seen = 0
    try:
        with open_table(path, max_csv_rows=config.import_max_csv_rows) as table:
            # Header checks (names/DOB refusal, required columns) happen here, before any data row is read.
            validator = RowValidator(
                dataset, table.header, config, force, as_of, errors, table.header_row, table.other_headers
            )
            report.ignored_columns = list(validator.ignored)
            staging.create_stage(session, dataset)

            stream = staging.checked(session, validator, table.rows)
            try:
                staging.load_stage(session, dataset, stream.rows)
            finally:
                seen = stream.seen
    except FileRefused as e:
        report.refused = str(e)
        return False
    report.rows_in_file = seen
    if seen == 0:
        report.refused = f"{path.name} has a header row but no data rows: nothing to import"
        return False

    if request.snapshot:
        staging.index_stage(session)
    per_force, repeated = staging.stage_counts(session)
    dup_errors, dup_count = staging.duplicate_errors(session) if repeated else ([], 0)
    if errors.count or dup_count:
        report.errors = sorted([*errors.errors, *dup_errors], key=lambda e: e.row)[:MAX_REPORTED_ERRORS]
        report.error_count = errors.count + dup_count
        return False

    if dataset == "actions" and request.as_of is None:
        # A log that names its own date (e.g. "(July 2022)" in its sources) is imported as of that date, so its
        # undated achievements are complete by then, not on the day of the import.
        own = stated_log_date(staging.iter_stage(session, dataset), as_of)
        if own.refusal is not None:
            report.refused = f"{path.name}: {own.refusal}"
            return False
        if own.as_of is not None:
            as_of = report.as_of = own.as_of
    # The forces a file names in a column are known now (and the action log's own date).
    report.refused = older_export_refusal(session, dataset, per_force, as_of, path.name)
    if report.refused:
        return False

    expired: dict[str, int] = {}
    stored_gone: set[str] = set()  # forces whose stored rows went past retention: their day counts are recounted
    if dataset != "actions":
        expired = drop_expired_from_stage(session, dataset, _cutoff(config, report, force, now), stored_gone)
        report.past_retention = sum(expired.values())

    batches: dict[str, ImportBatch] = {}
    for f in sorted(per_force):
        batches[f] = ImportBatch(
            force=f,
            dataset=dataset,
            file_name=path.name[:255],
            file_sha256=report.file_sha256,
            as_of=as_of,
            snapshot=request.snapshot,
            covers_from=request.covers_from,
            rows_in_file=per_force[f],
            imported_at=now,
            imported_by=request.actor,
        )
        session.add(batches[f])
    session.flush()

    moves: dict[str, Moves] = {}
    ahead: dict[str, AheadChange | None] = {}
    if dataset == "actions":
        changed_since = bot_changes_after(session, config, per_force, as_of)
        try:
            counts = merge_actions(session, {f: b.id for f, b in batches.items()}, as_of, now, request.actor, path.name,
                                   frozenset(validator.positions), changed_since)  # fmt: skip
        except LogConflict as e:
            report.refused = str(e)
            return False  # the caller rolls back what the merge wrote before it met the conflicts
    else:
        review_days = config.wanted_review_days
        counts = {}
        kept = kept_columns(dataset, frozenset(validator.positions))
        report.kept_columns = list(kept)
        with bulk_mode(session, dataset, sum(per_force.values())):
            for f, b in batches.items():
                counts[f] = c = merge_cases(
                    session, dataset, f, b.id, per_force[f] - expired.get(f, 0), as_of, request.snapshot, kept
                )
                # What the merge changed in the day counts, from the rows it wrote and replaced; counted whole in
                # _finish when the day counts were not current.
                what = merged(dataset, f, b.id, as_of, c.id_before, REPLACED)
                if f not in stored_gone and current_state(session, f, dataset, review_days, allow_one_behind=True):
                    moves[f] = merge_moves(session, what, review_days=review_days)
                if f not in stored_gone:
                    # … and in the people counts, from the people it touched; None: counted whole in _finish.
                    ahead[f] = merge_ahead(session, what)
                drop_replaced(session)
    staging.drop_stage(session)
    _finish(session, request, path, as_of, now, report, batches, counts, per_force,
            review_days=config.wanted_review_days, moves=moves, ahead=ahead)  # fmt: skip
    return True


def _finish_direct(
    session: Session,
    config: Config,
    request: ImportRequest,
    path: Path,
    force: str | None,
    as_of: dt.date,
    now: dt.datetime,
    report: ImportReport,
    batches: dict[str, ImportBatch],
    counts: dict[str, MergeCounts],
    per_force: dict[str, int],
    tally: FlowTally | None,
) -> None:
    """An initial load's finish: the rows past retention out of the table again, then :func:`_finish`."""
    gone = drop_expired_loaded(session, request.dataset, list(batches), _cutoff(config, report, force, now))
    if gone:
        # The month flows counted during the load include the rows just deleted: recount them from the table.
        tally = None
        for f, n in gone.items():
            counts[f].added -= n
        report.past_retention = sum(gone.values())
    _finish(session, request, path, as_of, now, report, batches, counts, per_force, tally,
            review_days=config.wanted_review_days)  # fmt: skip


def _cutoff(config: Config, report: ImportReport, force: str | None, now: dt.datetime) -> dt.date:
    """Rows closed before this date are past retention: the purge's cutoff on the import's day (in the force's
    timezone; a file naming several forces uses the default force's)."""
    tz = config.force(force).timezone
    report.retention_days = config.retention_days
    return retention_cutoff(now.astimezone(tz).date(), config.retention_days)


def _finish(
    session: Session,
    request: ImportRequest,
    path: Path,
    as_of: dt.date,
    now: dt.datetime,
    report: ImportReport,
    batches: dict[str, ImportBatch],
    counts: dict[str, MergeCounts],
    per_force: dict[str, int],
    tally: FlowTally | None = None,
    *,
    review_days: int,
    moves: dict[str, Moves] | None = None,
    ahead: dict[str, AheadChange | None] | None = None,
) -> None:
    """Counts onto the batches and the report, one audit event per force, the month flows of each force
    (``tally``, counted during an initial load, or recounted from the table), and what this import's revisions
    changed in the counts at earlier dates (bot/figures/revisions.py: from its as-of date on, which for an import
    in date order is its own revisions only)."""
    dataset = request.dataset
    for f, b in batches.items():
        c = counts.get(f, MergeCounts())
        b.rows_added, b.rows_updated, b.rows_closed, b.rows_unchanged = c.added, c.updated, c.closed, c.unchanged
        report.added += c.added
        report.updated += c.updated
        report.closed += c.closed
        report.unchanged += c.unchanged
        report.forces.append(f)
        report.batch_ids.append(b.id)
        record_import(session, request, path, as_of, now, f,
                      f"{per_force[f]} rows; added {c.added}, updated {c.updated}, closed {c.closed}, "
                      f"unchanged {c.unchanged} (batch {b.id})")  # fmt: skip
    session.flush()
    if dataset != "actions":
        # First: the counts below group every row of a force, which a table without statistics (a fresh load) has
        # the planner sort on disk instead of hashing (10M rows: the overdue starts' grouping 14.7 s against 4 s).
        _refresh_statistics(session, TABLES[dataset])
        for f in batches:
            changed = (moves or {}).get(f)
            if changed is not None:
                # A merge: the day counts take what it changed, and the month flows follow from them.
                apply_moves(session, dataset, f, changed, review_days=review_days)
                month_flows_from_days(session, dataset, f)
            else:
                if tally is not None:
                    write_month_flows(session, dataset, f, tally)
                else:
                    rebuild_month_flows(session, dataset, f)
                rebuild_day_counts(session, dataset, f, review_days=review_days)
            rebuild_revision_deltas(session, dataset, f, review_days=review_days, since=as_of)
        for f in batches:
            change = (ahead or {}).get(f)
            if change is not None:
                apply_ahead(session, dataset, f, change)
            else:
                # After the statistics: it groups the open rows by person, which a fresh table's planner misjudges.
                rebuild_ahead(session, dataset, f)


# Free-text identifiers: no query filters, groups or ranges on them (lookups by reference go through the unique
# key), and their statistics are the dearest to gather (30,000 distinct strings sorted by the locale each).
_UNANALYZED = {"reference", "person_ref", "crime_ref", "oic"}


def _refresh_statistics(session: Session, table: str) -> None:
    """Planner statistics for the table just changed, in the import's transaction. Without them a freshly
    loaded SQLite database has none at all, and its planner read the bail figures' "never ended" half through
    a non-covering index (262 ms instead of 17 ms on a million rows). PostgreSQL samples 30,000 rows of the
    columns the figures filter, group and range on; SQLite is told to look at 1,000 rows per index instead of
    reading every index whole."""
    if staging.is_pg(session):
        columns = [c.name for c in Base.metadata.tables[table].columns if c.name not in _UNANALYZED]
        session.execute(text(f"ANALYZE {table} ({', '.join(columns)})"))
    else:
        session.execute(text("PRAGMA analysis_limit = 1000"))
        session.execute(text(f"ANALYZE {table}"))
