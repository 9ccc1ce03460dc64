"""The initial load: rows stream straight into an empty table, skipping the staging table.

When the dataset's table holds no rows at all, every valid row is an addition, so the staging table (an extra
write, scan and drop of every row) buys nothing. Rows go straight into the table inside a savepoint, with the
secondary indexes dropped and rebuilt afterwards; the table's unique key stays and is the duplicate check (on
PostgreSQL the table is also truncated so that COPY can write the rows frozen).
Anything but a clean file rolls the savepoint back, so the all-or-nothing contract is unchanged:

- bad rows, SQLite: the savepoint is rolled back and the row errors reported (there can be no duplicates
  among the valid rows, or the unique key would have said so);
- bad rows, PostgreSQL: the load stops at the first one, the savepoint is rolled back and the caller falls back
  to the staged import, which reports bad rows and duplicates together;
- a duplicate reference: the savepoint is rolled back and the caller falls back to the staged import, which
  reports every duplicate with both row numbers.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from bot.config import Config
from bot.figures.month_flow import FlowTally
from bot.importing.columns import TABLES
from bot.importing.fastpath import CheckedRows
from bot.importing.merge import MergeCounts, rebuilt_indexes
from bot.importing.readers import FileRefused, open_table
from bot.importing.staging import bulk_write, checked, is_pg
from bot.importing.types import ImportReport, ImportRequest
from bot.importing.validate import ErrorSink, RowValidator, staging_columns
from bot.models import ImportBatch

# Below this file size the indexes are simply maintained row by row: rebuilding them costs more.
REBUILD_MIN_BYTES = 4 << 20


class _Invalid(Exception):
    """Some rows were invalid: undo the load and report them."""


class _NotEmpty(Exception):
    """Another import filled the table after we looked: take the staged path."""


def _truncate_if_still_empty(session: Session, table: str) -> bool:
    """PostgreSQL: lock the table against every other writer and reader until we commit, and if it is still
    empty, truncate it in this subtransaction so that ``COPY … FREEZE`` may write the rows all-visible (without
    that, every index-only scan of the figures pays a heap visit until a VACUUM runs). The lock is the one the
    index drop takes anyway; the second look closes the race with an import that committed meanwhile."""
    session.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
    if session.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None:
        return False
    session.execute(text(f"TRUNCATE {table}"))
    return True


def _integrity_errors() -> tuple[type[BaseException], ...]:
    import psycopg  # here, not at the top: loading it takes ~60 ms, needed only when a direct load fails

    return (sqlite3.IntegrityError, psycopg.errors.IntegrityError)


def load_into_empty_table(
    session: Session,
    config: Config,
    request: ImportRequest,
    path: Path,
    force: str | None,
    as_of: dt.date,
    now: dt.datetime,
    report: ImportReport,
    errors: ErrorSink,
) -> tuple[dict[str, ImportBatch], dict[str, MergeCounts], dict[str, int], FlowTally] | None:
    """Load ``path`` into the dataset's empty table. Returns (batches, counts, rows per force, month flows) on success;
    raises FileRefused for a whole-file refusal; returns None (with the load undone) when the file holds a
    duplicate reference or bad rows — ``errors`` then says which — so the caller can report or fall back."""
    dataset = request.dataset
    cols = staging_columns(dataset)
    pg = is_pg(session)
    if not pg:
        # A SAVEPOINT opened outside a transaction would itself be the transaction, and releasing it would
        # commit: make sure the caller's transaction has really begun.
        raw = session.connection().connection.driver_connection
        if raw is not None and not raw.in_transaction:
            raw.execute("BEGIN")
    savepoint = session.begin_nested()
    per_force: Counter[str] = Counter()
    tally = FlowTally()  # the month flows, counted as the rows stream by
    stream: CheckedRows | None = None
    try:
        with open_table(path, max_csv_rows=config.import_max_csv_rows) as table:
            validator = RowValidator(
                dataset, table.header, config, force, as_of, errors, table.header_row, table.other_headers
            )
            report.ignored_columns = list(validator.ignored)
            if validator.positions.get("force", -1) < 0:
                candidates = [validator.default_force]
            else:
                candidates = [force] if force else sorted(config.forces)
            # Forces are known only once the rows are read: a batch for each possible one, unused ones dropped.
            batches = {
                f: ImportBatch(
                    force=f,
                    dataset=dataset,
                    file_name=path.name[:255],
                    file_sha256=report.file_sha256,
                    as_of=as_of,
                    snapshot=request.snapshot,
                    covers_from=request.covers_from,
                    imported_at=now,
                    imported_by=request.actor,
                )
                for f in candidates
            }
            session.add_all(batches.values())
            session.flush()
            batch_ids = {f: b.id for f, b in batches.items()}
            # Rows come out of the checker in the table's shape, with their batch id, counted per force. A failed
            # row aborts PostgreSQL's COPY anyway: there it stops the load, and the staged import reports bad rows
            # and duplicates together, with both row numbers.
            stream = checked(
                session, validator, table.rows, batch_ids, per_force, tally, invalid=_Invalid if pg else None
            )

            target = TABLES[dataset]
            columns = ["force", *cols, "import_batch_id"]
            if path.stat().st_size >= REBUILD_MIN_BYTES:
                freeze = pg and _truncate_if_still_empty(session, target)
                if pg and not freeze:
                    raise _NotEmpty
                # The unique key stays (it is the duplicate check): during COPY the client (parse and checks) is
                # the bottleneck and the server has time to spare, so maintaining it row by row costs less wall
                # time than rebuilding it afterwards. The primary key and the other indexes are rebuilt.
                with rebuilt_indexes(session, dataset, keep_unique=True):
                    bulk_write(session, target, columns, stream.rows, freeze=freeze)
                    if errors.count or not stream.seen:
                        raise _Invalid
            else:
                bulk_write(session, target, columns, stream.rows)
    except FileRefused:
        savepoint.rollback()
        raise
    except _Invalid:
        savepoint.rollback()
        report.rows_in_file = stream.seen if stream is not None else 0
        if pg:
            errors.count = 0
            errors.errors.clear()
        return None
    except _NotEmpty:
        savepoint.rollback()
        return None
    except _integrity_errors():
        savepoint.rollback()
        errors.count = 0  # the staged import will validate again from scratch
        errors.errors.clear()
        return None
    seen = stream.seen if stream is not None else 0
    report.rows_in_file = seen
    if errors.count or not seen:
        savepoint.rollback()
        return None
    for f in [f for f in batches if not per_force[f]]:
        session.delete(batches.pop(f))
    for f, b in batches.items():
        b.rows_in_file = per_force[f]
    session.flush()
    savepoint.commit()
    return batches, {f: MergeCounts(added=per_force[f]) for f in batches}, dict(per_force), tally
