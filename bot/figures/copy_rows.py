"""Appending many derived rows (the day counts, the checkpoints) at once: ``COPY`` on PostgreSQL, ``executemany``
on SQLite. A hundred thousand rows through the ORM's insert took seconds; this takes a fraction of one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

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
