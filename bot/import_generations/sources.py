"""Where answers on an engine learn the latest import batch ids: pushed on PostgreSQL (:class:`GenerationWatcher`),
polled on SQLite (:class:`PolledGenerations`) — one per engine and process, started on first use."""

from __future__ import annotations

import weakref
from collections.abc import Sequence

from sqlalchemy import Engine, event

from bot.db import one_per_engine
from bot.import_generations.batches import ImportedBatch
from bot.import_generations.poller import PolledGenerations
from bot.import_generations.watcher import GenerationWatcher

GenerationSource = GenerationWatcher | PolledGenerations

_watchers: weakref.WeakKeyDictionary[Engine, GenerationWatcher] = weakref.WeakKeyDictionary()
_pollers: weakref.WeakKeyDictionary[Engine, PolledGenerations] = weakref.WeakKeyDictionary()


def _start_watcher(engine: Engine) -> GenerationWatcher:
    watcher = GenerationWatcher(engine)
    event.listen(engine, "engine_disposed", watcher.stop)
    return watcher


def generation_watcher(engine: Engine) -> GenerationWatcher | None:
    """The engine's watcher (started on first use), or None where notifications are not used (SQLite)."""
    if engine.dialect.driver != "psycopg":
        return None
    return one_per_engine(_watchers, engine, _start_watcher)


def generation_source(engine: Engine) -> GenerationSource | None:
    """Where answers on ``engine`` learn the latest import batches: pushed (PostgreSQL), polled (SQLite), or None
    (another driver: every answer reads them)."""
    if engine.dialect.driver == "psycopg":
        return generation_watcher(engine)
    if engine.dialect.driver != "pysqlite":
        return None
    return one_per_engine(_pollers, engine, PolledGenerations)


def tell_committed(engine: Engine, batches: Sequence[ImportedBatch]) -> None:
    """This process has just committed an import of ``batches`` on ``engine``: its source, if one is running,
    knows them when this returns. None is started: a process that never answered (``mo-bot import``) has none."""
    source: GenerationSource | None = _watchers.get(engine) or _pollers.get(engine)
    if source is not None:
        source.committed(batches)


def forget_generations() -> None:
    """Every source drops what it knows and reads it again — for tests that empty the tables and restart the ids
    (in production ids only grow)."""
    sources: list[GenerationSource] = [*_watchers.values(), *_pollers.values()]
    for source in sources:
        source.forget()
