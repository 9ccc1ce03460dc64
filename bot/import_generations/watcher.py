"""PostgreSQL: the latest import batch ids, in memory, pushed by ``LISTEN``/``NOTIFY`` (:class:`GenerationWatcher`)."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from sqlalchemy import Engine

from bot.import_generations.batches import LATEST_ALL, NOTIFY_CHANNEL, ImportedBatch, Latest, latest_from_rows

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("mo_bot.import_generations")

WATCH_TIMEOUT_S = 2.0  # how long the listener blocks before it looks at its engine and its flags again
RECONNECT_S = (0.5, 1.0, 2.0, 5.0)  # back-off between attempts while the database is unreachable
OWN_IMPORT_WAIT_S = 2.0  # how long a commit waits for its own notification to come back
# The ids are read again this often whatever is heard: an import is announced after its commit and its VACUUM
# (bot.import_generations.announce), so an importer killed in between would otherwise never be heard.
REREAD_S = 30.0


class GenerationWatcher:
    """PostgreSQL: the latest import batch id per (force, dataset), in memory, kept current by ``LISTEN``.

    One daemon thread per engine and process holds its own connection (outside the pool, autocommit): ``LISTEN``
    first, then one grouped read of the current ids, then every notification as it comes. PostgreSQL delivers
    notifications in commit order, so the last one of a (force, dataset) names its latest batch; one committed
    between the LISTEN and the read is simply seen twice. On any error the thread marks itself not ready,
    reconnects with back-off and reads the ids again; :meth:`get` answers None meanwhile, and the caller asks the
    database itself. The thread ends once its engine is disposed or gone.

    An import is heard only if it announced itself (``bot.import_generations.announce``, called by the import
    service): the notification is sent by the import, not by the database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = weakref.ref(engine)
        self._latest: Latest = {}
        self._ready = threading.Event()
        self._changed = threading.Condition()
        self._reprime = False
        self._forgotten = 0  # how many times forget() was called: a read begun before the last one is stale
        self._stopped = False
        self._sql = str(LATEST_ALL.compile(dialect=engine.dialect))
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

    def wait_for(self, batches: Sequence[ImportedBatch], timeout: float) -> bool:
        """Wait until every batch has been heard (this process's own commit, whose notification is on its way
        back; a later import of the same dataset, heard first, covers it: ids only grow). False — and the ids read
        again — if it does not come in time."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while any(self._latest.get(b.key, 0) < b.batch_id for b in batches):
                left = deadline - time.monotonic()
                if left <= 0 or not self._ready.is_set():
                    self.forget()
                    return False
                self._changed.wait(left)
        return True

    def committed(self, batches: Sequence[ImportedBatch]) -> None:
        """This process has just committed an import of ``batches``: answers use it from now on. It waits (a
        millisecond or so) for the import's own notification, so every update of the ids goes through the
        listener, in commit order; while the listener is not connected there is nothing to wait for (answers ask
        the database)."""
        if batches and self.get(batches[0].force, batches[0].dataset) is not None:
            self.wait_for(batches, OWN_IMPORT_WAIT_S)

    def forget(self) -> None:
        """Drop what is known and read it again (answers ask the database until then)."""
        with self._changed:
            self._forgotten += 1
            self._ready.clear()
            self._reprime = True

    def stop(self, *_: object) -> None:
        self._ready.clear()
        self._stopped = True

    def _apply(self, batch: ImportedBatch) -> None:
        with self._changed:
            self._latest[batch.key] = batch.batch_id
            self._changed.notify_all()

    def _run(self) -> None:
        attempt = 0
        while not self._stopped:
            conn: psycopg.Connection[tuple[object, ...]] | None = None
            try:
                conn = self._connect()
                if conn is None:
                    return
                if attempt:
                    self.reconnects += 1
                attempt = 0
                read_at = time.monotonic()
                while not self._stopped and self._engine() is not None:
                    if self._reprime or time.monotonic() - read_at >= REREAD_S:
                        self._prime(conn)
                        read_at = time.monotonic()
                    for note in conn.notifies(timeout=WATCH_TIMEOUT_S):
                        self._apply(ImportedBatch.from_payload(note.payload))
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

    def _connect(self) -> psycopg.Connection[tuple[object, ...]] | None:
        engine = self._engine()
        if engine is None:
            return None
        fairy = engine.raw_connection()
        # The psycopg dialect's DB-API connection (generation_watcher starts a watcher for that driver only).
        conn = cast("psycopg.Connection[tuple[object, ...]]", fairy.dbapi_connection)
        fairy.detach()  # this thread's for as long as it lives; never back to the pool in autocommit
        conn.autocommit = True
        conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        self.backend_pid = conn.info.backend_pid  # for tests and diagnostics
        self._prime(conn)
        return conn

    def _prime(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        with self._changed:
            self._reprime = False
            began = self._forgotten
        rows = cast("list[tuple[str, str, int | None]]", conn.execute(self._sql).fetchall())
        with self._changed:
            if self._forgotten != began:
                # forget() was called while this read ran: what it read may predate what forget() was told to
                # drop, so stay not ready (answers ask the database) and read again on the next turn.
                return
            self._latest = latest_from_rows(rows)
            self._changed.notify_all()
            self._ready.set()
