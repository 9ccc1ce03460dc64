"""A cache of computed figures: figures only change when data is imported, so an answer computed once is reused
until the next import of that force's dataset.

Key: ``(force, dataset, latest import batch id of that force and dataset, caller's key)`` where the caller's key
holds everything else the result depends on — the function, ``as_of``, the :class:`~bot.figures.types.Filters`
(frozen, hashable) and any option such as ``review_days``. A new import adds an ``import_batch`` row, so its id
changes the key and every cached figure of that dataset is recomputed on next use, in every gunicorn worker and
replica (each process keeps its own copy). How a process learns the latest id:

- SQLite: read at most every :data:`POLL_S` per process, all of them in one grouped query
  (:class:`_PolledGenerations`): an import by another process (``mo-bot import`` beside ``mo-bot serve``) is seen
  within that, one committed by this process at once. (A read per answer cost little alone but, against the
  audit writes of the other serving threads, half of a cached answer's time.)
- PostgreSQL: pushed, not asked. Inserting an import batch also sends ``NOTIFY mo_import_batch`` in the import's
  transaction (delivered when it commits, dropped if it rolls back); each process keeps the latest ids in memory,
  kept current by one listening connection (:class:`_GenerationWatcher`), so an answer costs no round trip for
  them. The process that committed the import knows at once; the others within the notification's delivery (a
  millisecond or so). While the listener is not connected — at start, or after the database went away — the
  answer asks the database instead, as on SQLite.

Bounded: at most ``max_entries`` (LRU) and ``ttl_s`` seconds per entry — the TTL is a backstop for changes that
are not imports (the retention purge deletes long-closed rows). Concurrent misses on one key compute it once
(single flight), so a burst after an import does not run the same 40 ms GROUP BY 32 times.

For handlers (``commands/figures_answers.py``) — replace the direct service calls with these, same arguments::

    from bot.figures import cache
    fig = cache.wanted(ctx.session, ctx.force, as_of, filters, review_days=...)
    fig = cache.suspects(ctx.session, ctx.force, as_of, filters)
    fig = cache.bail(ctx.session, ctx.force, as_of, filters, ending_within_days=days)
    value = cache.cached(ctx.session, ctx.force.slug, "bail", ("active_by_kind_at", as_of, month_ago, filters),
                         lambda: active_by_kind_at(ctx.session, ctx.force, as_of, month_ago, filters))

Cached results are shared between requests: treat them as read-only (they are frozen dataclasses; do not mutate
their dicts). Case lists (``--list``) are not cached: they are deferred anyway and each one is audited.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine, bindparam, event, func, select
from sqlalchemy.orm import Session, object_session, sessionmaker

from bot.config import Force
from bot.db import one_per_engine
from bot.figures.types import BailFigures, Filters, SuspectFigures, WantedFigures
from bot.models import ImportBatch

T = TypeVar("T")
log = logging.getLogger("mo_bot.figures.cache")

IDLE_PING_S = 5.0  # a kept connection unused this long is pinged before use

NO_FILTERS = Filters()


@dataclass
class _Entry:
    value: Any
    stored: float


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0


_MEMO = "mo_import_generation"
_GENERATION = select(func.max(ImportBatch.__table__.c.id)).where(
    ImportBatch.__table__.c.force == bindparam("force"), ImportBatch.__table__.c.dataset == bindparam("dataset")
)


@event.listens_for(Session, "after_transaction_end")
def _forget_generations(session: Session, transaction: Any) -> None:
    # The memo below is valid within one transaction; a long-lived session sees the next import after commit.
    session.info.pop(_MEMO, None)


def import_generation(db: Session | Reads, force: str, dataset: str) -> int:
    """The id of the latest import batch of ``force``'s ``dataset`` (0 before any import).

    Asked once per transaction (one request) and dataset: a request that reads several figures of one dataset pays
    one query. Core rather than ORM execution: this runs on every answer, and the ORM layer would triple its cost.
    """
    if isinstance(db, Reads):
        return db.generation(force, dataset)
    memo: dict[tuple[str, str], int] = db.info.setdefault(_MEMO, {})
    key = (force, dataset)
    if key not in memo:
        memo[key] = db.connection().execute(_GENERATION, {"force": force, "dataset": dataset}).scalar() or 0
    return memo[key]


class _GenerationReader:
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
        self._engine = weakref.ref(engine)  # _readers' entry must not keep the engine alive
        compiled = _GENERATION.compile(dialect=engine.dialect)
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
            with engine.connect() as conn:
                return conn.execute(_GENERATION, params).scalar() or 0
        args: Any = tuple(params[k] for k in self.order) if self.order else params
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

    def _fetch(self, conn: Any, args: Any) -> int:
        row = self._fetch_one(conn, self.sql, args)
        return (row[0] if row else None) or 0

    @staticmethod
    def _fetch_one(conn: Any, sql: str, args: Any) -> Any:
        cur = conn.cursor()  # not `with`: sqlite3 cursors are no context managers
        try:
            cur.execute(sql, args)
            return cur.fetchone()
        finally:
            cur.close()

    def _own(self, engine: Engine) -> Any:
        conn = getattr(self._local, "conn", None)
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
            fairy.detach()  # this thread's, never back to the pool (it is left in autocommit)
            if self.kind == "psycopg":
                conn.autocommit = True
            else:
                conn.isolation_level = None  # sqlite3: no implicit BEGIN, ever, on this read-only connection
            self._local.conn = conn
            self._local.used = time.monotonic()
        return conn


NOTIFY_CHANNEL = "mo_import_batch"
WATCH_TIMEOUT_S = 2.0  # how long the listener blocks before it looks at its engine and its flags again
RECONNECT_S = (0.5, 1.0, 2.0, 5.0)  # back-off between attempts while the database is unreachable
OWN_IMPORT_WAIT_S = 2.0  # how long a commit waits for its own notification to come back

_LATEST = select(
    ImportBatch.__table__.c.force, ImportBatch.__table__.c.dataset, func.max(ImportBatch.__table__.c.id)
).group_by(ImportBatch.__table__.c.force, ImportBatch.__table__.c.dataset)


class _GenerationWatcher:
    """PostgreSQL: the latest import batch id per (force, dataset), in memory, kept current by ``LISTEN``.

    One daemon thread per engine and process holds its own connection (outside the pool, autocommit): ``LISTEN``
    first, then one grouped read of the current ids, then every notification as it comes. PostgreSQL delivers
    notifications in commit order, so the last one of a (force, dataset) names its latest batch; one committed
    between the LISTEN and the read is simply seen twice. On any error the thread marks itself not ready,
    reconnects with back-off and reads the ids again; :meth:`get` answers None meanwhile, and the caller asks the
    database itself. The thread ends once its engine is disposed or gone."""

    def __init__(self, engine: Engine) -> None:
        self._engine = weakref.ref(engine)
        self._latest: dict[tuple[str, str], int] = {}
        self._ready = threading.Event()
        self._changed = threading.Condition()
        self._reprime = False
        self._stopped = False
        self.reconnects = 0  # for tests: connections made after the first
        self.backend_pid: int | None = None
        self._thread = threading.Thread(target=self._run, name="mo-import-generations", daemon=True)
        self._thread.start()

    def get(self, force: str, dataset: str) -> int | None:
        """The latest id (0 before any import), or None while not listening."""
        if not self._ready.is_set():
            return None
        return self._latest.get((force, dataset), 0)

    def wait_ready(self, timeout: float) -> bool:
        return self._ready.wait(timeout)

    def wait_for(self, batches: list[tuple[str, str, int]], timeout: float) -> bool:
        """Wait until every ``(force, dataset, id)`` has been heard (this process's own commit, whose notification
        is on its way back; a later import of the same dataset, heard first, covers it: ids only grow). False —
        and the ids read again — if it does not come in time."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while any(self._latest.get((f, d), 0) < i for f, d, i in batches):
                left = deadline - time.monotonic()
                if left <= 0 or not self._ready.is_set():
                    self.forget()
                    return False
                self._changed.wait(left)
        return True

    def forget(self) -> None:
        """Drop what is known and read it again (answers ask the database until then)."""
        self._ready.clear()
        self._reprime = True

    def stop(self, *_: object) -> None:
        self._ready.clear()
        self._stopped = True

    def _apply(self, force: str, dataset: str, batch_id: int) -> None:
        with self._changed:
            self._latest[(force, dataset)] = batch_id
            self._changed.notify_all()

    def _run(self) -> None:
        attempt = 0
        while not self._stopped:
            conn: Any = None
            try:
                conn = self._connect()
                if conn is None:
                    return
                if attempt:
                    self.reconnects += 1
                attempt = 0
                while not self._stopped and self._engine() is not None:
                    if self._reprime:
                        self._prime(conn)
                    for note in conn.notifies(timeout=WATCH_TIMEOUT_S):
                        force, dataset, batch_id = note.payload.split("\t")
                        self._apply(force, dataset, int(batch_id))
                return
            except Exception as e:  # the database went away (restart, network, killed backend): reconnect
                self._ready.clear()
                log.warning("import notifications: %s; reconnecting", type(e).__name__)
                time.sleep(RECONNECT_S[min(attempt, len(RECONNECT_S) - 1)])
                attempt += 1
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.close()

    def _connect(self) -> Any:
        engine = self._engine()
        if engine is None:
            return None
        fairy = engine.raw_connection()
        conn = fairy.dbapi_connection
        fairy.detach()  # this thread's for as long as it lives; never back to the pool in autocommit
        conn.autocommit = True
        conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        self.backend_pid = conn.info.backend_pid  # for tests and diagnostics
        self._sql = str(_LATEST.compile(dialect=engine.dialect))
        self._prime(conn)
        return conn

    def _prime(self, conn: Any) -> None:
        self._reprime = False
        rows = conn.execute(self._sql).fetchall()
        with self._changed:
            self._latest = {(force, dataset): int(batch_id or 0) for force, dataset, batch_id in rows}
            self._changed.notify_all()
        self._ready.set()


_watchers: weakref.WeakKeyDictionary[Engine, _GenerationWatcher] = weakref.WeakKeyDictionary()


def _start_watcher(engine: Engine) -> _GenerationWatcher:
    watcher = _GenerationWatcher(engine)
    event.listen(engine, "engine_disposed", watcher.stop)
    return watcher


def generation_watcher(engine: Engine) -> _GenerationWatcher | None:
    """The engine's watcher (started on first use), or None where notifications are not used (SQLite)."""
    if engine.dialect.driver != "psycopg":
        return None
    return one_per_engine(_watchers, engine, _start_watcher)


POLL_S = 0.1  # SQLite: how stale the latest batch ids of another process's import may be


class _PolledGenerations:
    """SQLite: the latest import batch id per (force, dataset), read again at most every :data:`POLL_S`.

    One thread polls (one grouped query on a pooled connection) while the others answer from the last reading;
    a commit of this process that inserted batches updates the reading at once. :meth:`get` answers None until
    a first reading succeeds (and after a failed one), and the caller asks the database itself."""

    def __init__(self, engine: Engine) -> None:
        self._engine = weakref.ref(engine)
        self._latest: dict[tuple[str, str], int] = {}
        self._read_at: float | None = None
        self._polling = threading.Lock()

    def get(self, force: str, dataset: str) -> int | None:
        read_at = self._read_at
        if (read_at is None or time.monotonic() - read_at > POLL_S) and self._polling.acquire(blocking=False):
            try:
                self._poll()
            except Exception:  # the caller reads for itself, and reports what fails there
                self._read_at = None
            finally:
                self._polling.release()
        if self._read_at is None:
            return None
        return self._latest.get((force, dataset), 0)

    def saw(self, batches: list[tuple[str, str, int]]) -> None:
        for force, dataset, batch_id in batches:
            self._latest[(force, dataset)] = batch_id

    def _poll(self) -> None:
        engine = self._engine()
        if engine is None:
            return
        with engine.connect() as conn:
            rows = conn.execute(_LATEST).all()
        self._latest = {(force, dataset): int(batch_id or 0) for force, dataset, batch_id in rows}
        self._read_at = time.monotonic()


_pollers: weakref.WeakKeyDictionary[Engine, _PolledGenerations] = weakref.WeakKeyDictionary()


def generation_source(engine: Engine) -> _GenerationWatcher | _PolledGenerations | None:
    """Where answers on ``engine`` learn the latest import batches: pushed (PostgreSQL), polled (SQLite), or None
    (another driver: every answer reads them)."""
    if engine.dialect.driver == "psycopg":
        return generation_watcher(engine)
    if engine.dialect.driver != "pysqlite":
        return None
    return one_per_engine(_pollers, engine, _PolledGenerations)


def forget_generations() -> None:
    """Every watcher drops what it knows and reads it again — for tests that empty the tables and restart the ids
    (in production ids only grow)."""
    for watcher in list(_watchers.values()):
        watcher.forget()


_NEW_BATCHES = "mo_new_import_batches"


@event.listens_for(ImportBatch, "after_insert")
def _announce_import(mapper: Any, connection: Any, target: ImportBatch) -> None:
    # In the inserting transaction: PostgreSQL delivers the notification at commit, and drops it on rollback.
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_notify(NOTIFY_CHANNEL, f"{target.force}\t{target.dataset}\t{target.id}")))
    session = object_session(target)
    if session is not None:
        session.info.setdefault(_NEW_BATCHES, []).append((target.force, target.dataset, target.id))


@event.listens_for(Session, "after_commit")
def _see_own_imports(session: Session) -> None:
    # The committing process answers from its import as soon as the commit returns. PostgreSQL: it waits (a
    # millisecond or so) for its own notification, so every update of the ids goes through the listener, in
    # commit order. SQLite: the reading is updated here.
    new = session.info.pop(_NEW_BATCHES, None)
    if new:
        bind = session.get_bind()
        engine = bind if isinstance(bind, Engine) else bind.engine
        watcher = _watchers.get(engine)
        if watcher is not None and watcher.get(*new[0][:2]) is not None:
            watcher.wait_for(new, OWN_IMPORT_WAIT_S)
        poller = _pollers.get(engine)
        if poller is not None:
            poller.saw(new)


@event.listens_for(Session, "after_rollback")
def _forget_own_imports(session: Session) -> None:
    session.info.pop(_NEW_BATCHES, None)


_readers: weakref.WeakKeyDictionary[Engine, _GenerationReader] = weakref.WeakKeyDictionary()


def _reader(engine: Engine) -> _GenerationReader:
    return one_per_engine(_readers, engine, _GenerationReader)


class Reads:
    """One request's database access for answers that are usually cached: the import generations it needs, read
    on a pooled Core connection outside any transaction (each read sees every import committed before it — the
    check that makes a cached answer safe across processes), and an ORM :class:`Session` opened only if something
    is actually computed (a cache miss, a case list, the status page).

    Not shared between threads. :meth:`close` closes the session if one was opened; committing it is the caller's
    business (the conversation layer commits it with the request's audit event)."""

    def __init__(self, engine: Engine, sessions: sessionmaker[Session]) -> None:
        self.engine = engine
        self.sessions = sessions
        self._session: Session | None = None
        self._generations: dict[tuple[str, str], int] = {}

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = self.sessions()
        return self._session

    @property
    def opened(self) -> Session | None:
        """The session, if one was opened; None when the request needed none."""
        return self._session

    def generation(self, force: str, dataset: str) -> int:
        key = (force, dataset)
        found = self._generations.get(key)
        if found is None:
            if self._session is not None:
                found = import_generation(self._session, force, dataset)
            else:
                source = generation_source(self.engine)
                known = source.get(force, dataset) if source is not None else None
                found = known if known is not None else _reader(self.engine)(force, dataset)
            self._generations[key] = found
        return found

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


def _session(db: Session | Reads) -> Session:
    return db.session if isinstance(db, Reads) else db


class FiguresCache:
    def __init__(self, max_entries: int = 2048, ttl_s: float = 3600.0, clock: Callable[[], float] = time.monotonic):
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self.clock = clock
        self.stats = CacheStats()
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._inflight: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def get_or_compute(
        self, db: Session | Reads, force: str, dataset: str, key: Hashable, compute: Callable[[], T]
    ) -> T:
        full = (force, dataset, import_generation(db, force, dataset), key)
        while True:
            with self._lock:
                entry = self._entries.get(full)
                if entry is not None and self.clock() - entry.stored <= self.ttl_s:
                    self._entries.move_to_end(full)
                    self.stats.hits += 1
                    return entry.value  # type: ignore[no-any-return]
                waiting = self._inflight.get(full)
                if waiting is None:
                    mine = self._inflight[full] = threading.Event()
                    self.stats.misses += 1
                    break
            waiting.wait(30)  # another thread is computing this key; use its result (or compute if it failed)
        try:
            value = compute()
            with self._lock:
                self._entries[full] = _Entry(value, self.clock())
                self._entries.move_to_end(full)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
            return value
        finally:
            with self._lock:
                self._inflight.pop(full, None)
            mine.set()


figures_cache = FiguresCache()


def cached(db: Session | Reads, force: str, dataset: str, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()`` once per (force, dataset, latest import, key) in this process. ``db``: a session, or a
    request's :class:`Reads` (then a session is opened only if ``compute`` runs and asks ``db.session``)."""
    return figures_cache.get_or_compute(db, force, dataset, key, compute)


def wanted(
    db: Session | Reads, force: Force, as_of: dt.date, filters: Filters = NO_FILTERS, *, review_days: int = 28
) -> WantedFigures:
    from bot.figures.wanted import wanted_figures

    return cached(
        db,
        force.slug,
        "wanted",
        ("wanted_figures", as_of, filters, review_days),
        lambda: wanted_figures(_session(db), force, as_of, filters, review_days=review_days),
    )


def suspects(db: Session | Reads, force: Force, as_of: dt.date, filters: Filters = NO_FILTERS) -> SuspectFigures:
    from bot.figures.suspects import suspect_figures

    return cached(
        db,
        force.slug,
        "suspects",
        ("suspect_figures", as_of, filters),
        lambda: suspect_figures(_session(db), force, as_of, filters),
    )


def bail(
    db: Session | Reads, force: Force, as_of: dt.date, filters: Filters = NO_FILTERS, **options: int
) -> BailFigures:
    """``options``: ``ending_within_days``, ``ending_soon_cap`` as :func:`bot.figures.bail.bail_figures` takes."""
    from bot.figures.bail import bail_figures

    return cached(
        db,
        force.slug,
        "bail",
        ("bail_figures", as_of, filters, tuple(sorted(options.items()))),
        lambda: bail_figures(_session(db), force, as_of, filters, **options),
    )
