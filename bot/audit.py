"""The append-only audit log (DPA 2018 Part 3, s.62): who, when, what was asked, how many records shown.

Rows are appended here; the database refuses to change, delete, truncate or replace them, and seals each one in a
hash chain as it is written (:mod:`bot.audit_chain`), so a change made behind its back shows."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, String, insert
from sqlalchemy.orm import Session, sessionmaker

from bot.audit_spool import AuditSpool, is_busy, spool_path
from bot.db import one_per_engine
from bot.models import AuditEvent, UTCDateTime, utcnow

OUTCOMES = ("ok", "refused", "invalid", "error")
log = logging.getLogger("mo_bot.audit")


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    action: str
    outcome: str
    detail: str = ""
    force: str | None = None
    team_id: str | None = None
    channel_id: str | None = None
    records_disclosed: int = 0
    reference: str | None = None


# Characters no audit row stores as they came: C0 controls but tab and newline (NUL cannot be stored in PostgreSQL
# text at all; the others rewrite a terminal or a log line when the log is read), DEL, the C1 controls, and lone
# surrogates (which a JSON payload can carry and which cannot be encoded as UTF-8 for either database).
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# The lengths of the short text columns (PostgreSQL refuses a longer value; SQLite would keep it).
_LENGTHS: dict[str, int] = {
    c.name: c.type.length
    for c in AuditEvent.__table__.columns
    if isinstance(c.type, String) and c.type.length is not None
}


def _visible(m: re.Match[str]) -> str:
    c = ord(m.group())
    if c < 0x20:
        return chr(0x2400 + c)  # the control's own symbol: ␀ ␛ ␍ …
    return "\u2421" if c == 0x7F else "\ufffd"


def storable(value: str, length: int | None = None) -> str:
    """``value`` as an audit row can hold it whatever it came with, so that no request's text can make its row —
    and with it the other rows written in the same INSERT — fail: controls written as their visible symbols
    (NUL as ␀), a lone surrogate as U+FFFD, and a value longer than its column cut to fit, ending in …."""
    if _UNSTORABLE.search(value):
        value = _UNSTORABLE.sub(_visible, value)
    if length is not None and len(value) > length:
        value = value[: length - 1] + "…"
    return value


def _text(column: str, value: str | None) -> str | None:
    return None if value is None else storable(value, _LENGTHS.get(column))


def _row(entry: AuditEntry, at: dt.datetime | None) -> dict[str, Any]:
    if entry.outcome not in OUTCOMES:
        raise ValueError(f"audit outcome must be one of {OUTCOMES}, got {entry.outcome!r}")
    row: dict[str, Any] = {
        "actor": _text("actor", entry.actor),
        "action": _text("action", entry.action),
        "outcome": entry.outcome,
        "detail": _text("detail", entry.detail),
        "force": _text("force", entry.force),
        "team_id": _text("team_id", entry.team_id),
        "channel_id": _text("channel_id", entry.channel_id),
        "records_disclosed": entry.records_disclosed,
        "reference": _text("reference", entry.reference),
    }
    if at is not None:
        row["at"] = at
    return row


def record(session: Session, entry: AuditEntry, at: dt.datetime | None = None) -> AuditEvent:
    """Append one event in the caller's transaction (use when it must commit or fail with the change)."""
    ev = AuditEvent(**_row(entry, at))
    session.add(ev)
    session.flush()
    return ev


_INSERT = insert(AuditEvent)


def append(session: Session, entry: AuditEntry, at: dt.datetime | None = None) -> None:
    """:func:`record` without the ORM: one Core INSERT on the session's connection, in the caller's transaction.

    For the hot path (every `/mo` answer appends one event): the ORM unit of work (instance state, flush, identity
    map) costs several times the INSERT itself. Same row, same defaults (``at``: now when not given); nothing is
    added to the session, so nothing is returned. Pending ORM changes in the session are flushed at commit, in the
    same transaction, so the event still commits with them or neither does."""
    session.connection().execute(_INSERT, _row(entry, at))


def record_separately(sessions: sessionmaker[Session], entry: AuditEntry, at: dt.datetime | None = None) -> None:
    """Append one event in its own transaction: a refused or failed request is logged even though its
    own work was rolled back."""
    with sessions() as s, s.begin():
        append(s, entry, at)


@dataclass(eq=False)
class _Pending:
    row: dict[str, Any]
    wake: threading.Event = field(default_factory=threading.Event)
    done: bool = False
    error: BaseException | None = None


_COLUMNS = ("at", "actor", "team_id", "channel_id", "force", "action", "detail", "outcome", "records_disclosed",
            "reference")  # fmt: skip
MAX_BATCH = 200  # rows per INSERT (10 parameters each; well inside every driver's and SQLite's limits)
# SQLite: how long a batch waits for the database's write lock before it is committed to the spool instead
# (bot.audit_spool). Long enough for any other write of the bot; far shorter than an import's merge.
SPOOL_AFTER_MS = 100
IDLE_PING_S = 5.0


class GroupCommit:
    """Audit events of concurrent requests committed together, each request still waiting for its own commit.

    Every `/mo` answer appends one event, and on its own that is a write transaction per request: on SQLite one
    writer at a time, so concurrent requests of one process meet the write lock and sleep in SQLite's busy
    handler (1, 2, 5, 10 ms… steps); on PostgreSQL a pool check-out with its ping, BEGIN, INSERT and COMMIT — four
    round trips — and a WAL flush each. Here a request queues its row; the first with nobody writing becomes the
    leader and writes everything queued as one multi-row INSERT, committed at once, then wakes the requests whose
    rows it wrote. Rows queued meanwhile are written by the next leader: the oldest waiting request is promoted,
    so no request writes more than one batch besides waiting for its own. No background thread.

    The writes go through one connection of the engine's kept for this (only the leader uses it): no pool
    check-out and ping per batch; it is pinged only after :data:`IDLE_PING_S` unused, and dropped (a new one is
    made for the next batch) after any error. On PostgreSQL it runs in autocommit — the single INSERT is its own
    transaction, one round trip — and on SQLite the INSERT and its commit are one transaction. The database's own
    trigger seals each row in the hash chain (:mod:`bot.audit_chain`) within that transaction: no extra round trip.

    :meth:`append` returns only once the row is committed, or raises what the write raised (the caller turns that
    into an error reply and audits it separately, as for any failure). No request's row can fail the others': its
    text is made storable first (:func:`storable`), and a batch the database refuses is written again row by row,
    so only the row that cannot be written fails. A batch lost with its connection fails for all its requests —
    written or not, nobody knows, and writing it again could log it twice.

    Durability: on PostgreSQL a batch of count answers (no case record disclosed) commits without waiting for its
    WAL flush (``synchronous_commit = off``): it is committed — seen by every reader, kept if this process dies —
    before the answer leaves, and on disk within ~0.6 s (three WAL-writer rounds); only a crash of the database
    server itself in that window could lose it. That is the guarantee SQLite gives here (``synchronous=NORMAL``),
    and it is what lets the cached answers keep up (a flush per batch halved their throughput under load). A batch
    holding any row that discloses case records waits for its flush, like every other write of the bot (lists
    and changes commit in their own transactions, with the default synchronous commit)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = weakref.ref(engine)  # the engine's entry in _group_commits must not keep it alive
        self.dialect = engine.dialect
        self._lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._writing = False
        self._conn: Any = None  # a detached DB-API connection, used by the leader only
        self._fairy: Any = None
        self._used = 0.0
        self._sql: dict[int, str] = {}
        self._flush_waited: bool | None = None  # PostgreSQL: the connection's synchronous_commit, once set
        self._at = UTCDateTime()
        self.batches = 0  # for tests and profiling: INSERTs committed
        self.rows = 0
        self._finalizer = weakref.finalize(self, _close_quietly, [None])
        where = spool_path(engine)
        self.spool = (
            AuditSpool(where, _COLUMNS, AuditEvent.__tablename__, self._detached_connection)
            if where is not None
            else None
        )
        self.spooled = 0  # rows committed to the spool instead (for tests and profiling)

    def append(self, entry: AuditEntry, at: dt.datetime | None = None) -> None:
        # Every row names its time, so a batch's rows have the same columns (one multi-row INSERT).
        mine = _Pending(_row(entry, at or utcnow()))
        with self._lock:
            self._queue.append(mine)
            lead = not self._writing
            self._writing = True
        if not lead:
            mine.wake.wait()
        if not mine.done:  # the leader, first or promoted: our row is still queued
            self._lead()
        if mine.error is not None:
            raise mine.error

    def _lead(self) -> None:
        with self._lock:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        try:
            self._write([p.row for p in batch])
        except BaseException as e:  # handed to each waiting request, which reports it
            for p in batch:
                p.error = e
            if len(batch) > 1 and self._written_nothing(e):
                # One row can fail a whole batch (a value out of its column's range): write them one by one,
                # so that only a row that cannot be written fails, and only its own request hears of it.
                for p in batch:
                    try:
                        self._write([p.row])
                        p.error = None
                    except BaseException as one:
                        p.error = one
        for p in batch:
            p.done = True
            p.wake.set()
        with self._lock:
            if self._queue:
                self._queue[0].wake.set()  # promote the oldest waiter; it is not done, so it leads
            else:
                self._writing = False

    def _written_nothing(self, e: BaseException) -> bool:
        """Whether the failed batch surely wrote nothing, so its rows may be written again: the statement was
        refused (by the driver before sending it, or by the database: data, integrity or programming errors),
        not lost with its connection (an operational or interface error — committed or not, nobody knows; sending
        the rows again could write them twice)."""
        dbapi = self.dialect.loaded_dbapi
        return isinstance(e, Exception) and not isinstance(e, (dbapi.OperationalError, dbapi.InterfaceError))

    def _connection(self) -> Any:
        conn = self._conn
        if conn is not None and time.monotonic() - self._used > IDLE_PING_S:
            try:
                cur = conn.cursor()
                cur.execute("SELECT 1")
                cur.fetchall()
                cur.close()
            except Exception:
                self._drop()
                conn = None
        if conn is None:
            engine = self._engine()
            if engine is None:
                raise RuntimeError("the engine of this audit writer is gone")
            fairy = engine.raw_connection()
            conn = fairy.dbapi_connection
            assert conn is not None  # a connection fresh from the pool holds its DB-API connection
            fairy.detach()  # ours until closed; never handed back to the pool in autocommit
            self._fairy = fairy  # the pool's wrapper: dropping it must not close the connection under us
            if self.dialect.name != "sqlite":
                conn.autocommit = True
            elif self.spool is not None:
                conn.execute(f"PRAGMA busy_timeout = {SPOOL_AFTER_MS}")
            self._conn = conn
            self._finalizer.detach()
            self._finalizer = weakref.finalize(self, _close_quietly, [conn])
        return conn

    def _drop(self) -> None:
        conn, self._conn, self._fairy = self._conn, None, None
        self._flush_waited = None
        _close_quietly([conn])

    def _write(self, rows: list[dict[str, Any]]) -> None:
        conn = self._connection()
        sql = self._sql.get(len(rows))
        if sql is None:
            sql = self._sql[len(rows)] = self._insert_sql(len(rows))
        params: list[Any] = []
        for r in rows:
            params.append(self._at.process_bind_param(r["at"], self.dialect))
            params.extend(r[c] for c in _COLUMNS[1:])
        if self.spool is not None and self.spool.diverting:
            # The write lock was taken a moment ago and has not been seen free since: do not wait for it again.
            self.spool.write(params)
            self.spooled += len(rows)
            self.spool.move_soon()
            return
        try:
            cur = conn.cursor()
            if self.dialect.name == "postgresql":
                wait = any(r["records_disclosed"] for r in rows)
                if wait is not self._flush_waited:
                    cur.execute(f"SET synchronous_commit = {'on' if wait else 'off'}")
                    self._flush_waited = wait
            cur.execute(sql, params)
            cur.close()
            if self.dialect.name == "sqlite":
                conn.commit()
        except BaseException as e:
            if self.spool is not None and is_busy(e):
                # Another transaction (an import) holds SQLite's write lock: nothing was written. Commit the rows to
                # the spool rather than make every answer wait for it; the next free write moves them.
                with contextlib.suppress(Exception):
                    conn.rollback()
                self.spool.write(params)
                self.spooled += len(rows)
                self.spool.move_soon()
                return
            self._drop()  # a failed or broken connection is never reused; the next batch makes a new one
            raise
        if self.spool is not None and self.spool.pending():
            self.spool.move_soon()  # rows an earlier import spooled (this process's or a stopped one's)
        self._used = time.monotonic()
        self.batches += 1
        self.rows += len(rows)

    def _detached_connection(self) -> tuple[Any, Any]:
        """A DB-API connection of the engine's, set up as the engine sets them up and not the pool's any more, with
        the pool's wrapper (dropping which must not close the connection while it is used)."""
        engine = self._engine()
        if engine is None:
            raise RuntimeError("the engine of this audit writer is gone")
        fairy = engine.raw_connection()
        conn = fairy.dbapi_connection
        fairy.detach()
        return conn, fairy

    def _insert_sql(self, n: int) -> str:
        q = self.dialect.identifier_preparer
        mark = "?" if self.dialect.paramstyle == "qmark" else "%s"
        one = "(" + ", ".join([mark] * len(_COLUMNS)) + ")"
        cols = ", ".join(q.quote(c) for c in _COLUMNS)
        return f"INSERT INTO {q.format_table(AuditEvent.__table__)} ({cols}) VALUES " + ", ".join([one] * n)


def _close_quietly(holder: list[Any]) -> None:
    for conn in holder:
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()


_group_commits: weakref.WeakKeyDictionary[Engine, GroupCommit] = weakref.WeakKeyDictionary()


def group_commit(engine: Engine) -> GroupCommit:
    """The process's :class:`GroupCommit` for ``engine`` (one per engine, so one writer queue per database)."""
    return one_per_engine(_group_commits, engine, GroupCommit)
