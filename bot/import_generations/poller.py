"""SQLite: the latest import batch ids, in memory, read again at most every :data:`POLL_S`
(:class:`PolledGenerations`)."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Sequence

from sqlalchemy import Engine

from bot.import_generations.batches import LATEST_ALL, ImportedBatch, Latest, latest_from_rows

POLL_S = 0.1  # how stale the latest batch ids of another process's import may be


class PolledGenerations:
    """SQLite: the latest import batch id per (force, dataset), read again at most every :data:`POLL_S`.

    One thread polls (one grouped query on a pooled connection) while the others answer from the last reading;
    an import this process commits is known at once (:meth:`committed`). :meth:`get` answers None until a first
    reading succeeds (and after a failed one), and the caller asks the database itself. (A read per answer cost
    little alone but, against the audit writes of the other serving threads, half of a cached answer's time.)"""

    def __init__(self, engine: Engine) -> None:
        self._engine = weakref.ref(engine)
        self._latest: Latest = {}
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

    def committed(self, batches: Sequence[ImportedBatch]) -> None:
        """This process has just committed an import of ``batches``: answers use it from now on."""
        for batch in batches:
            self._latest[batch.key] = batch.batch_id

    def forget(self) -> None:
        """Read the ids again before the next answer."""
        self._read_at = None

    def _poll(self) -> None:
        engine = self._engine()
        if engine is None:
            return
        with engine.connect() as conn:
            rows = conn.execute(LATEST_ALL).all()
        self._latest = latest_from_rows(rows)
        self._read_at = time.monotonic()
