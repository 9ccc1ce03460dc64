"""A cache of computed figures: figures only change when data is imported, so an answer computed once is reused
until the next import of that force's dataset.

Key: ``(force, dataset, latest import batch id of that force and dataset, caller's key)`` where the caller's key
holds everything else the result depends on — the function, ``as_of``, the :class:`~bot.figures.types.Filters`
(frozen, hashable) and any option such as ``review_days``. A new import adds an ``import_batch`` row, so its id
changes the key and every cached figure of that dataset is recomputed on next use, in every gunicorn worker and
replica (each process keeps its own copy). How a process learns that id without a query per answer (pushed on
PostgreSQL, polled every 0.1 s on SQLite, known at commit by the process that imported) is
``bot.import_generations``; the request's database handle that asks for it is :class:`bot.reads.Reads`.

Bounded: at most ``max_entries`` (LRU) and ``ttl_s`` seconds per entry — the TTL is a backstop for changes that
are not imports (the retention purge deletes long-closed rows). Concurrent misses on one key compute it once
(single flight), so a burst after an import does not run the same 40 ms GROUP BY 32 times.

For handlers (``commands/mo/figures.py``) — the same arguments as the services::

    from bot.figures import cache
    fig = cache.wanted(ctx.db, ctx.force, as_of, filters, review_days=...)
    fig = cache.suspects(ctx.db, ctx.force, as_of, filters)
    fig = cache.bail(ctx.db, ctx.force, as_of, filters, ending_within_days=days)
    value = cache.cached(ctx.db, ctx.force.slug, "bail", ("active_by_kind_at", as_of, month_ago, filters),
                         lambda: active_by_kind_at(ctx.session, ctx.force, as_of, month_ago, filters))

Across processes and replicas: a rendered answer (key ``("rendered", …)``) missing here is looked up among the
answers computed once after the import for everyone (:mod:`bot.shared_answers`) before it is computed; the process
that computes those runs the handlers inside :func:`capturing`, which collects every shareable value they produce.

Cached results are shared between requests: treat them as read-only (they are frozen dataclasses; do not mutate
their dicts). Case lists (``--list``) are not cached: they are deferred anyway and each one is audited.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import TypeVar, cast

from sqlalchemy.orm import Session

from bot.config import Force
from bot.figures import bail as bail_service
from bot.figures import outcomes as outcomes_service
from bot.figures import suspects as suspects_service
from bot.figures import wanted as wanted_service
from bot.figures.source import BAIL
from bot.figures.types import BailFigures, Filters, SuspectFigures, WantedFigures
from bot.import_generations.reader import import_generation
from bot.reads import Reads
from bot.shared_answers import Answer, shareable
from bot.shared_answers import read as read_shared

T = TypeVar("T")
FiguresT = TypeVar("FiguresT", WantedFigures, SuspectFigures, BailFigures)

NO_FILTERS = Filters()

# The wrappers below look each service up in its module when they compute, so a service replaced there (a test
# making it fail) is the one called.


@dataclass
class _Entry:
    value: object
    stored: float


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    shared: int = 0  # misses answered from the answers shared in the database


@dataclass(frozen=True)
class Captured:
    """A shareable value a handler produced while :func:`capturing`, with the generation it was computed for."""

    force: str
    dataset: str
    generation: int
    answer: Answer


_capture: ContextVar[list[Captured] | None] = ContextVar("figures_capture", default=None)
# While capturing from a transaction that has not committed: this capture's own cache, in place of the process's.
_private: ContextVar[dict[Hashable, object] | None] = ContextVar("figures_private", default=None)


@contextmanager
def capturing(*, uncommitted: bool = False) -> Iterator[list[Captured]]:
    """Collect every shareable value computed or found in the cache in this context (the shared answers'
    computation: commands/mo/warm.py). While capturing, the shared answers are not read: they are being made.

    ``uncommitted``: the values come from a transaction that has not committed (an import's, before it does), so
    this process's cache is neither read nor written — the import may still roll back, and on SQLite a rolled-back
    batch's id can be given again to a later import whose data differs. They are kept for this context only
    (answers that share a figure, `bail` and `rui`, still compute it once)."""
    got: list[Captured] = []
    token = _capture.set(got)
    private = _private.set({} if uncommitted else None)
    try:
        yield got
    finally:
        _private.reset(private)
        _capture.reset(token)


def _note(force: str, dataset: str, generation: int, key: Hashable, value: object) -> None:
    got = _capture.get()
    if got is not None and shareable(key):
        got.append(Captured(force, dataset, generation, Answer(key, value)))


def _generation(db: Session | Reads, force: str, dataset: str) -> int:
    return db.generation(force, dataset) if isinstance(db, Reads) else import_generation(db, force, dataset)


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
        generation = _generation(db, force, dataset)
        full = (force, dataset, generation, key)
        private = _private.get()
        if private is not None:
            if full not in private:
                private[full] = compute()
            value = cast(T, private[full])
            _note(force, dataset, generation, key, value)
            return value
        while True:
            with self._lock:
                entry = self._entries.get(full)
                if entry is not None and self.clock() - entry.stored <= self.ttl_s:
                    self._entries.move_to_end(full)
                    self.stats.hits += 1
                    _note(force, dataset, generation, key, entry.value)
                    # The full key holds the caller's key, which names what compute returns: the same type.
                    return cast(T, entry.value)
                waiting = self._inflight.get(full)
                if waiting is None:
                    mine = self._inflight[full] = threading.Event()
                    self.stats.misses += 1
                    break
            waiting.wait(30)  # another thread is computing this key; use its result (or compute if it failed)
        try:
            found = None
            if shareable(key) and _capture.get() is None:
                found = read_shared(_session(db), force, dataset, generation, key)
            if found is not None:
                value = cast(T, found)
                self.stats.shared += 1
            else:
                value = compute()
            _note(force, dataset, generation, key, value)
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
    return cached(
        db,
        force.slug,
        "wanted",
        ("wanted_figures", as_of, filters, review_days),
        lambda: wanted_service.wanted_figures(_session(db), force, as_of, filters, review_days=review_days),
    )


def suspects(db: Session | Reads, force: Force, as_of: dt.date, filters: Filters = NO_FILTERS) -> SuspectFigures:
    return cached(
        db,
        force.slug,
        "suspects",
        ("suspect_figures", as_of, filters),
        lambda: suspects_service.suspect_figures(_session(db), force, as_of, filters),
    )


def bail(
    db: Session | Reads, force: Force, as_of: dt.date, filters: Filters = NO_FILTERS, **options: int
) -> BailFigures:
    """``options``: ``ending_within_days``, ``ending_soon_cap`` as :func:`bot.figures.bail.bail_figures` takes."""
    return cached(
        db,
        force.slug,
        "bail",
        ("bail_figures", as_of, filters, tuple(sorted(options.items()))),
        lambda: bail_service.bail_figures(_session(db), force, as_of, filters, **options),
    )


def with_outcomes(db: Session | Reads, force: Force, fig: FiguresT, filters: Filters) -> FiguresT:
    """``fig`` with its closures by outcome and people (:func:`bot.figures.outcomes.with_outcomes`). A bail answer's
    are counted once per import, date and filters: `/mo bail` and `/mo rui` of the same filters share them, and
    at the design point they are most of such an answer's cost (the people of a bail `--older-than` answer read the
    open rows)."""
    if isinstance(fig, BailFigures):
        as_of = fig.as_of
        ended, people = cached(
            db,
            force.slug,
            "bail",
            ("bail_outcomes", as_of, filters),
            lambda: outcomes_service.bail_outcomes(_session(db), BAIL, force, as_of, filters),
        )
        counted, named = outcomes_service.bail_people_fields(people)
        return replace(fig, closed_by_outcome=ended, people=counted, named_rows=named)
    return outcomes_service.with_outcomes(_session(db), fig, force, filters)
