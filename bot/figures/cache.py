"""A cache of computed figures: figures only change when data is imported, so an answer computed once is reused
until the next import of that force's dataset.

Key: ``(force, dataset, latest import batch id of that force and dataset, caller's key)`` where the caller's key
holds everything else the result depends on — the function, ``as_of``, the :class:`~bot.figures.types.Filters`
(frozen, hashable) and any option such as ``review_days``. A new import adds an ``import_batch`` row, so its id
changes the key and every cached figure of that dataset is recomputed on next use; no explicit invalidation is
needed, and it works across gunicorn workers and replicas (each process keeps its own copy, checked against the
database on every use with one indexed ``max(id)`` query, ~0.1 ms).

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
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine, bindparam, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Force
from bot.figures.types import BailFigures, Filters, SuspectFigures, WantedFigures
from bot.models import ImportBatch

T = TypeVar("T")

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


_readers: weakref.WeakKeyDictionary[Engine, _GenerationReader] = weakref.WeakKeyDictionary()


def _reader(engine: Engine) -> _GenerationReader:
    found = _readers.get(engine)
    if found is None:
        found = _readers[engine] = _GenerationReader(engine)
    return found


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
                found = _reader(self.engine)(force, dataset)
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
