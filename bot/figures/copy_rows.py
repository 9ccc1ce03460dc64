"""Appending many derived rows (the day counts, the checkpoints) at once, or adding them to the counts already there:
``COPY`` on PostgreSQL, ``executemany`` on SQLite. A hundred thousand rows through the ORM's insert took seconds;
this takes a fraction of one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


def write_rows(session: Session, table: str, cols: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> None:
    """Append ``rows`` (tuples in the order of ``cols``) to ``table`` in the session's transaction. The caller must
    not hold an open cursor on the connection (read what you need first)."""
    session.flush()
    raw = session.connection().connection.driver_connection
    assert raw is not None
    if session.get_bind().dialect.name == "postgresql":
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in cols)
        it = ((*(x.isoformat() if isinstance(x, dt.date) else x for x in r),) for r in rows)
        raw.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", it)


_ADDING = "mo_adding_rows"


def add_rows(
    session: Session, table: str, keys: tuple[str, ...], counts: tuple[str, ...], rows: Iterable[tuple[Any, ...]]
) -> None:
    """Add ``rows`` (tuples of ``keys`` then ``counts``, each key at most once) to ``table``, whose primary key is
    ``keys``: a key not there yet is inserted, one already there has each count increased by the row's. The rows
    go through a temporary table by :func:`write_rows` and into ``table`` in one upsert — an upsert of a batch of
    parameter dictionaries at a time spent most of its time building them (a 5 %-revised 1M import's day counts)."""
    cols = (*keys, *counts)
    names = ", ".join(cols)
    session.execute(text(f"DROP TABLE IF EXISTS {_ADDING}"))
    session.execute(text(f"CREATE TEMP TABLE {_ADDING} AS SELECT {names} FROM {table} WHERE 1 = 0"))
    write_rows(session, _ADDING, cols, rows)
    adds = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in counts)
    # The WHERE is for SQLite, which would otherwise read ON CONFLICT as part of a join, not as the upsert's.
    session.execute(
        text(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {_ADDING} WHERE true "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {adds}"
        )
    )
    session.execute(text(f"DROP TABLE {_ADDING}"))
