"""Reading the latest import batch id of one force and dataset from the database: in a session, once per
transaction (:func:`import_generation`), or on a connection each serving thread keeps outside any transaction
(:class:`GenerationReader`, the `/mo` hot path when no pushed or polled id is at hand)."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, cast

from sqlalchemy import Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, SessionTransaction

from bot.db import one_per_engine
from bot.import_generations.batches import LATEST_ONE

if TYPE_CHECKING:
    import psycopg

IDLE_PING_S = 5.0  # a kept connection unused this long is pinged before use

_MEMO = "mo_import_generation"
Params = Sequence[object] | Mapping[str, object]


def import_generation(session: Session, force: str, dataset: str) -> int:
    """The id of the latest import batch of ``force``'s ``dataset`` (0 before any import).

    Asked once per transaction (one request) and dataset: a request that reads several figures of one dataset pays
    one query; a long-lived session sees the next import in its next transaction. The memo is keyed on the
    session's root transaction, so no session hook has to clear it. Core rather than ORM execution: this runs on
    every answer, and the ORM layer would triple its cost.
    """
    key = (force, dataset)
    memo = _transaction_memo(session)
    found = memo.get(key) if memo is not None else None
    if found is None:
        connection = session.connection()  # begins the session's transaction if none has begun
        found = connection.execute(LATEST_ONE, {"force": force, "dataset": dataset}).scalar() or 0
        if memo is None:
            transaction = session.get_transaction()
            assert transaction is not None  # session.connection() began it
            memo = {}
            session.info[_MEMO] = (weakref.ref(transaction), memo)
        memo[key] = found
    return found


def _transaction_memo(session: Session) -> dict[tuple[str, str], int] | None:
    """The generations read in the session's current transaction, or None in another (or none)."""
    held: tuple[weakref.ref[SessionTransaction], dict[tuple[str, str], int]] | None = session.info.get(_MEMO)
    transaction = session.get_transaction()
    if held is None or transaction is None or held[0]() is not transaction:
        return None
    return held[1]


class GenerationReader:
    """The generation query for one engine, as plain DB-API calls outside any transaction.

    It runs on every `/mo` answer, so its cost is per request. Each serving thread keeps one connection of its
    own outside the pool, reading outside any transaction: a pool check-out costs, besides its own bookkeeping,
    the pool's ping on PostgreSQL (a round trip), and a read in a transaction BEGIN and ROLLBACK (two more) around
    a one-row SELECT. PostgreSQL (psycopg) runs it in autocommit; SQLite's driver opens no transaction for a
    SELECT (so no snapshot is held between requests). The connection is pinged only after :data:`IDLE_PING_S`
    unused and replaced after any error. Measured: SQLite ~75 µs of CPU through a Core ``Connection``, ~20 µs on
    a pooled raw cursor, less on a kept one. Costs one connection per serving thread (``THREADS``) per process,
    besides the pool. Other drivers take the Core path."""

    def __init__(self, engine: Engine) -> None:
        self._engine = weakref.ref(engine)  # the per-engine registry's entry must not keep the engine alive
        compiled = LATEST_ONE.compile(dialect=engine.dialect)
        self.sql = str(compiled)
        self.order = tuple(compiled.positiontup or ()) if engine.dialect.positional else ()
        self.kind = engine.dialect.driver if engine.dialect.driver in ("pysqlite", "psycopg") else "core"
        self._local = threading.local()

    def __call__(self, force: str, dataset: str) -> int:
        params = {"force": force, "dataset": dataset}
        engine = self._engine()
        if engine is None:
            raise RuntimeError("the engine of this reader is gone")
        if self.kind == "core":
            with engine.connect() as core:
                return core.execute(LATEST_ONE, params).scalar() or 0
        args: Params = tuple(params[k] for k in self.order) if self.order else params
        for attempt in (1, 2):
            conn = self._own(engine)
            try:
                value = self._fetch(conn, args)
            except Exception:
                self._local.conn = None  # never reuse a connection after an error
                with contextlib.suppress(Exception):
                    conn.close()
                if attempt == 2:
                    raise
                # A read is safe to repeat: once more on a new connection (the kept one may have been cut, e.g.
                # by a database restart, since it was last used).
                continue
            self._local.used = time.monotonic()
            return value
        raise AssertionError("unreachable")

    def _fetch(self, conn: DBAPIConnection, args: Params) -> int:
        row = self._fetch_one(conn, self.sql, args)
        batch_id = cast("int | None", row[0]) if row else None  # max(id): an integer, NULL before any import
        return batch_id or 0

    @staticmethod
    def _fetch_one(conn: DBAPIConnection, sql: str, args: Params) -> Sequence[object] | None:
        cur = conn.cursor()  # not `with`: sqlite3 cursors are no context managers
        try:
            cur.execute(sql, args)
            row: Sequence[object] | None = cur.fetchone()
            return row
        finally:
            cur.close()

    def _own(self, engine: Engine) -> DBAPIConnection:
        conn: DBAPIConnection | None = getattr(self._local, "conn", None)
        if conn is not None and time.monotonic() - self._local.used > IDLE_PING_S:
            try:
                self._fetch_one(conn, "SELECT 1", ())
            except Exception:
                with contextlib.suppress(Exception):
                    conn.close()
                conn = None
        if conn is None:
            fairy = engine.raw_connection()
            conn = fairy.dbapi_connection
            assert conn is not None
            fairy.detach()  # this thread's, never back to the pool (it is left in autocommit)
            if self.kind == "psycopg":
                cast("psycopg.Connection[tuple[object, ...]]", conn).autocommit = True
            else:
                # No implicit BEGIN, ever, on this read-only connection.
                cast(sqlite3.Connection, conn).isolation_level = None
            self._local.conn = conn
            self._local.used = time.monotonic()
        return conn


_readers: weakref.WeakKeyDictionary[Engine, GenerationReader] = weakref.WeakKeyDictionary()


def generation_reader(engine: Engine) -> GenerationReader:
    """The engine's reader in this process (made on first use)."""
    return one_per_engine(_readers, engine, GenerationReader)
