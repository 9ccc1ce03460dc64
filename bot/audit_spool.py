"""SQLite: audit rows that cannot wait for the database's one write lock are committed to a spool file beside it,
and moved into ``audit_log`` as soon as the lock is free.

Every `/mo` answer's audit row is committed before the answer leaves (DPA 2018 s.62). SQLite lets one transaction
write at a time, and an import holds the lock while it merges (1M new rows into a 1M-row table: about 20 s): every
answer meanwhile waited for it in SQLite's busy handler — up to its 10-second timeout, then "database is locked"
and an error reply (measured: all 32 concurrent answers stalled 20 s, 8 failed). The import must keep its single
transaction (all or nothing), so the answers' rows go elsewhere while it runs: a second SQLite file
(``<database>.audit-spool``) that only audit writers use, so its lock is never held for more than one small
INSERT. A row committed there is as durable as one in the database (same WAL and synchronous settings); it is
moved into ``audit_log`` by the next writer that finds the database free (:meth:`AuditSpool.drain`), in the order
it was spooled, and the database's own triggers seal it into the hash chain there like any other row. A thread of
the process that spooled (and of the next process that finds rows left in the spool) moves them, retrying every
quarter second while the lock is taken. Until then `mo-bot audit export`/`verify` do not see them: seconds, the
length of the import.

Moving is one transaction of the database's connection with the spool attached: the rows are inserted into
``audit_log`` in spool order and deleted from the spool, and the transaction commits in both files. SQLite makes
such a transaction atomic in each file, not across them (in WAL mode); it commits the main database first, so a
process stopped between the two commits leaves the rows in both — moved again later, logged twice — and never in
neither. ``BEGIN IMMEDIATE`` takes the write lock of both files first, so two drainers (processes) take turns.

PostgreSQL needs none of this: an import there never makes another transaction's INSERT wait.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

SPOOL_SUFFIX = ".audit-spool"
ALIAS = "mo_audit_spool"  # the spool's name on a database connection it is attached to
RETRY_S = 0.25  # while the database's write lock is taken, the mover tries again this often
MOVER_WAIT_MS = 100  # how long one attempt waits for the lock

log = logging.getLogger("mo_bot.audit")


def spool_path(engine: Engine) -> Path | None:
    """Where the spool of a SQLite database file lives (None for PostgreSQL and in-memory SQLite)."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).with_name(Path(database).name + SPOOL_SUFFIX)


def is_busy(error: BaseException) -> bool:
    """Whether a SQLite error is "the write lock is held by someone else" (nothing was written)."""
    return isinstance(error, sqlite3.OperationalError) and getattr(error, "sqlite_errorcode", None) in (
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
    )


class AuditSpool:
    """The spool of one SQLite database (see the module docstring); safe to share between threads.

    ``connect`` opens a DB-API connection to the database as the application's engine does (its pragmas and any
    functions its triggers use), for the mover's own use: it returns the connection and an object to keep alive
    as long as it is used (the pool's wrapper)."""

    def __init__(
        self, path: Path, columns: Sequence[str], audit_table: str, connect: Callable[[], tuple[Any, Any]]
    ) -> None:
        self.path = path
        self.columns = tuple(columns)
        self.audit_table = audit_table
        self.connect = connect
        self._lock = threading.Lock()  # the spool connection, and the mover's state
        self._conn: sqlite3.Connection | None = None
        # Rows may be waiting from an earlier process: look once, on first use.
        self._pending: bool | None = None
        self._mover: threading.Thread | None = None
        # Set when a write found the lock taken: later writes go straight to the spool (the lock is most likely
        # still held — an import's merge) until the mover has emptied it, i.e. until the lock was free again.
        self.diverting = False
        self.moved = 0  # rows moved into the audit log by this process (for tests and profiling)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, timeout=10, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            cols = ", ".join(f'"{c}"' for c in self.columns)
            conn.execute(f"CREATE TABLE IF NOT EXISTS spooled (seq INTEGER PRIMARY KEY, {cols})")
            self._conn = conn
        return self._conn

    def write(self, params: Sequence[Any]) -> None:
        """Commit rows (``params``: their values, flat, in :attr:`columns` order, as bound for SQLite); the caller
        then has them moved (:meth:`move_soon`)."""
        n = len(self.columns)
        rows = [tuple(params[i : i + n]) for i in range(0, len(params), n)]
        cols = ", ".join(f'"{c}"' for c in self.columns)
        marks = ", ".join("?" * n)
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(f"INSERT INTO spooled ({cols}) VALUES ({marks})", rows)
                conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(Exception):
                    conn.execute("ROLLBACK")
                raise
            self._pending = True
            self.diverting = True

    def pending(self) -> bool:
        """Whether rows may be waiting to be moved (looked up in the file once, then known)."""
        with self._lock:
            if self._pending is None:
                if not self.path.exists():
                    self._pending = False
                else:
                    self._pending = self._connection().execute("SELECT 1 FROM spooled LIMIT 1").fetchone() is not None
            return self._pending

    def move_soon(self) -> None:
        """Start the mover (a daemon thread) unless it runs; it stops when the spool is empty."""
        with self._lock:
            if self._mover is not None and self._mover.is_alive():
                return
            self._mover = threading.Thread(target=self._move_all, name="mo-bot-audit-spool", daemon=True)
            self._mover.start()

    def _move_all(self) -> None:
        opened: tuple[Any, Any] | None = None  # the mover's connection, and the pool's wrapper kept with it
        try:
            while self.pending():
                try:
                    if opened is None:
                        opened = self._open_database()
                    self.moved += self.move(opened[0])
                except Exception as e:
                    if not is_busy(e):
                        log.exception("mo-bot: could not move spooled audit rows into the audit log; trying again")
                        self.diverting = False  # writers go to the database again, and meet what failed here
                        if opened is not None:
                            with contextlib.suppress(Exception):
                                opened[0].close()
                        opened = None
                    threading.Event().wait(RETRY_S)
        finally:
            if opened is not None:
                with contextlib.suppress(Exception):
                    opened[0].close()

    def _open_database(self) -> tuple[Any, Any]:
        db, keep = self.connect()
        db.execute(f"PRAGMA busy_timeout = {MOVER_WAIT_MS}")
        with self._lock:
            self._connection()  # the file and its table exist before the database attaches it
        db.execute(f"ATTACH DATABASE ? AS {ALIAS}", (str(self.path),))
        return db, keep

    def move(self, db: Any) -> int:
        """Move the spooled rows into the audit log through ``db`` (a connection of the database with the spool
        attached, not in a transaction), oldest first, in one transaction; returns how many. Raises what the
        database raised (busy: the write lock is taken — the rows stay spooled)."""
        cols = ", ".join(f'"{c}"' for c in self.columns)
        db.execute("BEGIN IMMEDIATE")  # the write locks of both files, before anything is read
        try:
            moved = int(
                db.execute(
                    f"INSERT INTO {self.audit_table} ({cols}) SELECT {cols} FROM {ALIAS}.spooled ORDER BY seq"
                ).rowcount
            )
            db.execute(f"DELETE FROM {ALIAS}.spooled")
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                db.execute("ROLLBACK")
            raise
        with self._lock:
            # Rows spooled since (they waited for the spool's lock while this moved) are moved next round.
            self._pending = self._connection().execute("SELECT 1 FROM spooled LIMIT 1").fetchone() is not None
            self.diverting = self._pending
        return moved

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
