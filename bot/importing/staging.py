"""Bulk load of validated rows into a TEMP staging table, on the caller's connection and transaction.

PostgreSQL: psycopg 3 ``COPY … FROM STDIN`` (text format, lines formatted by the row checker, written ~100 KB
at a time): the server parses while Python reads the next rows. SQLite: raw ``sqlite3`` ``executemany`` over a
generator. Both stream: no list of rows is ever held. Temporary tables are invisible to other connections and
never durable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from bot.figures.month_flow import FlowTally
from bot.importing.columns import SCHEMAS
from bot.importing.fastpath import CheckedRows, checked_rows
from bot.importing.readers import Cell
from bot.importing.types import MAX_REPORTED_ERRORS, RowError
from bot.importing.validate import RowValidator, staging_columns

STAGE = "mo_import_stage"
_LINES = 1000  # COPY lines per write: ~100 KB


def _date_columns(dataset: str) -> set[str]:
    return {c.name for c in SCHEMAS[dataset] if c.kind == "date"}


def is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def create_stage(session: Session, dataset: str) -> None:
    pg = is_pg(session)
    dates = _date_columns(dataset)
    # On PostgreSQL the reference compares as the table's does (COLLATE "C"), so the merge's joins on it agree.
    types = {c: ("date" if pg and c in dates else 'text COLLATE "C"' if pg and c == "reference" else "text")
             for c in staging_columns(dataset)}  # fmt: skip
    cols = ", ".join(f"{c} {t}" for c, t in types.items())
    drop_stage(session)
    suffix = " ON COMMIT DROP" if pg else ""
    if pg:
        # Room for the duplicate check's and the merge's hash tables: a million keys fit in memory instead
        # of spilling to sorted runs on disk. SET LOCAL ends with the transaction.
        session.execute(text("SET LOCAL work_mem = '256MB'"))
    session.execute(text(f"CREATE TEMP TABLE {STAGE} (row_no integer NOT NULL, force text NOT NULL, {cols}){suffix}"))


def drop_stage(session: Session) -> None:
    session.execute(text(f"DROP TABLE IF EXISTS {STAGE}"))


def load_stage(session: Session, dataset: str, rows: Iterable[Any]) -> None:
    """Stream ``rows`` (from :func:`checker`) into the staging table. It gets no planner statistics: PostgreSQL then
    joins it with the table by an index probe per staged row, which at 10M rows beat the hash joins the statistics
    led to (they spilled to disk), although at 1M the hash joins were the faster."""
    bulk_write(session, STAGE, ["row_no", "force", *staging_columns(dataset)], rows)


def checked(
    session: Session,
    validator: RowValidator,
    rows: Iterable[tuple[int, Sequence[Cell]]],
    batch_ids: Mapping[str, int] | None = None,
    counts: Counter[str] | None = None,
    tally: FlowTally | None = None,
    invalid: type[Exception] | None = None,
) -> CheckedRows:
    """The valid rows in the shape :func:`bulk_write` takes on this database: COPY text lines on PostgreSQL,
    tuples on SQLite (see ``fastpath.checked_rows``)."""
    return checked_rows(
        validator, rows, copy=is_pg(session), batch_ids=batch_ids, counts=counts, tally=tally, invalid=invalid
    )


def bulk_write(session: Session, table: str, cols: list[str], rows: Iterable[Any], *, freeze: bool = False) -> None:
    """Stream ``rows`` into ``table`` on the session's connection: ``COPY … FROM STDIN`` (text format) on
    PostgreSQL, where each row is a COPY line; ``executemany`` on SQLite, where each row is a tuple.
    ``freeze`` (PostgreSQL; the table must have been truncated in this subtransaction) writes the rows frozen
    and all-visible, so index-only scans need no VACUUM before they skip the table."""
    raw = session.connection().connection.driver_connection
    assert raw is not None
    if is_pg(session):
        options = " WITH (FREEZE)" if freeze else ""
        it = iter(rows)
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN{options}") as copy:
            # islice pulls each chunk of lines at C speed: no Python loop step per row here.
            while chunk := list(islice(it, _LINES)):
                chunk.append("")
                copy.write("\n".join(chunk))
    else:
        marks = ", ".join("?" for _ in cols)
        raw.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", rows)


def index_stage(session: Session) -> None:
    """Index the staged keys, for SQLite's snapshot "absent from the file" test (PostgreSQL hashes instead)."""
    if not is_pg(session):
        session.execute(text(f"CREATE INDEX {STAGE}_key ON {STAGE} (force, reference)"))


def stage_counts(session: Session) -> tuple[dict[str, int], bool]:
    """Rows staged per force, and whether any (force, reference) is staged twice — one pass over the stage."""
    per_force: dict[str, int] = {}
    repeated = False
    for force, n, distinct in session.execute(
        text(f"SELECT force, count(*), count(DISTINCT reference) FROM {STAGE} GROUP BY force")
    ):
        per_force[force] = int(n)
        repeated = repeated or n != distinct
    return per_force, repeated


def duplicate_errors(session: Session) -> tuple[list[RowError], int]:
    """Rows whose (force, reference) appears more than once in the file: the first MAX_REPORTED_ERRORS
    (each naming every row that holds the reference) and how many rows in all."""
    total = session.execute(
        text(
            f"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {STAGE} "
            "GROUP BY force, reference HAVING count(*) > 1) d"
        )
    ).scalar_one()
    if not total:
        return [], 0
    # The first rows with a repeated key, then every row holding one of those keys: two scans of the stage,
    # whatever its size and however many duplicates it holds.
    rows = session.execute(
        text(
            f"WITH d AS (SELECT force, reference FROM {STAGE} GROUP BY force, reference HAVING count(*) > 1), "
            f"e AS (SELECT s.row_no, s.force, s.reference FROM {STAGE} s "
            "JOIN d ON d.force = s.force AND d.reference = s.reference ORDER BY s.row_no LIMIT :n) "
            f"SELECT e.row_no, e.reference, o.row_no FROM e JOIN {STAGE} o "
            "ON o.force = e.force AND o.reference = e.reference ORDER BY e.row_no, o.row_no"
        ),
        {"n": MAX_REPORTED_ERRORS},
    ).all()
    holders: dict[int, tuple[str, list[int]]] = {}
    for row_no, reference, other in rows:
        holders.setdefault(row_no, (reference, []))[1].append(other)
    out: list[RowError] = []
    for row_no, (reference, all_rows) in holders.items():
        listed = ", ".join(str(n) for n in all_rows[:6]) + (", …" if len(all_rows) > 6 else "")
        out.append(RowError(row_no, "reference", reference, f"duplicate reference within the file: rows {listed}"))
    return out, int(total)


def iter_stage(session: Session, dataset: str) -> Iterator[dict[str, Any]]:
    """Staged rows in file order, as dicts (used by the small action-log merge)."""
    cols = ["row_no", "force", *staging_columns(dataset)]
    result = session.execute(text(f"SELECT {', '.join(cols)} FROM {STAGE} ORDER BY row_no"))
    for row in result.mappings():
        yield dict(row)
