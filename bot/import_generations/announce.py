"""An import announces the batches it inserted, as an explicit step of the import (``bot.importing.service``): on
PostgreSQL a ``NOTIFY`` once the import has committed (nobody hears of one that rolled back), which every running
process's listener hears; and this process's own answers know the import as soon as the commit returns.

On PostgreSQL the tables the import changed are vacuumed between its commit and the notification. Rows just
committed have no hint bits and their pages are not yet all-visible, so every first read of them checks the commit
log and the figures' index-only scans fetch every heap row: on a 2M-row table just given 1M new rows one figure took
2.1–2.9 s before a VACUUM and 0.15–0.5 s after (the VACUUM itself 0.46 s). Every running process recomputes its
answers when it hears of an import, all at once; they must find the table vacuumed, not wait for autovacuum. Until
the notification the processes keep answering from the figures of the previous import (each answer says its as-of
date); a lost notification (the importer killed between its commit and the NOTIFY) is caught by the listener's
periodic re-read (:data:`bot.import_generations.watcher.REREAD_S`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.orm import Session, SessionTransaction

from bot.import_generations.batches import NOTIFY_CHANNEL, ImportedBatch
from bot.import_generations.sources import tell_committed

log = logging.getLogger("mo_bot.import_generations")

_PENDING = "mo_announced_import_batches"
_VACUUM = "mo_tables_to_vacuum_before_announcing"
VACUUM_TIMEOUT_MS = 60_000  # a VACUUM that takes longer is cancelled: announcing the import matters more


def announce_imports(session: Session, batches: Sequence[ImportedBatch], vacuum: Sequence[str] = ()) -> None:
    """Announce ``batches``, inserted in ``session``'s current transaction, to every process answering from this
    database. Call it once the batches are flushed, in the transaction that commits them (not in a savepoint that
    may still roll back); the caller commits or rolls back as usual:

    - PostgreSQL: once the transaction has committed, the ``vacuum`` tables (those the import changed) are
      vacuumed (see the module docstring), then one ``NOTIFY mo_import_batch`` per batch is sent. Nothing is sent
      for a transaction that rolls back. (SQLite has no notifications: other processes read the latest ids at most
      0.1 s apart; its readers need no VACUUM.)
    - This process: listeners on ``session`` (this session only) tell its generation source, if it runs one, at
      the commit of the transaction — it then knows the batches when ``commit()`` returns. A rollback, or a close
      without commit, drops them. Listening on the session rather than hooking every session or every
      :class:`~bot.models.ImportBatch` insert means an import is announced because its code says so, not because
      some module happened to be imported.
    """
    if not batches:
        return
    pending: list[ImportedBatch] = session.info.setdefault(_PENDING, [])
    pending.extend(batches)
    tables: list[str] = session.info.setdefault(_VACUUM, [])
    tables.extend(t for t in vacuum if t not in tables)
    if not event.contains(session, "after_commit", _tell_at_commit):
        event.listen(session, "after_commit", _tell_at_commit)
        event.listen(session, "after_soft_rollback", _drop)
        event.listen(session, "after_transaction_end", _drop_at_end)


def _tell_at_commit(session: Session) -> None:
    # A savepoint's release fires after_commit too: only the commit of the whole transaction makes them visible.
    if session.in_nested_transaction():
        return
    batches: list[ImportedBatch] | None = session.info.pop(_PENDING, None)
    tables: list[str] = session.info.pop(_VACUUM, None) or []
    if batches:
        bind = session.get_bind()
        engine = bind if isinstance(bind, Engine) else bind.engine
        if engine.dialect.name == "postgresql":
            try:
                _vacuum_and_notify(engine, batches, tables)
            except Exception as e:  # committed all the same: the listeners' periodic re-read will find it
                log.error("import: could not announce the import after its commit (%s)", type(e).__name__)
        tell_committed(engine, batches)


def _vacuum_and_notify(engine: Engine, batches: Sequence[ImportedBatch], tables: Sequence[str]) -> None:
    """After the commit (the data is in whatever happens here): VACUUM, then NOTIFY, on a connection of their own
    outside any transaction. A VACUUM that cannot run (another holds the table's maintenance lock, or the role is
    not the table's owner: PostgreSQL then skips it with a warning) or fails only delays the readers' speed-up."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            try:
                conn.execute(text(f"SET statement_timeout = {VACUUM_TIMEOUT_MS}"))
                conn.execute(text(f"VACUUM (SKIP_LOCKED) {table}"))
            except Exception as e:  # the import is committed: announce it whatever happened here
                log.warning("import: VACUUM %s failed (%s); announcing the import anyway", table, type(e).__name__)
            finally:
                conn.execute(text("RESET statement_timeout"))
        conn.execute(select(*(func.pg_notify(NOTIFY_CHANNEL, b.payload()) for b in batches)))


def _drop(session: Session, previous_transaction: SessionTransaction) -> None:
    # Any rollback, a savepoint's included: telling this process too little only delays it to the next poll or
    # notification; telling it of a batch that was rolled back would key answers on an id that does not exist.
    session.info.pop(_PENDING, None)
    session.info.pop(_VACUUM, None)


def _drop_at_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the whole transaction ended uncommitted (after a commit nothing is left)
        session.info.pop(_PENDING, None)
        session.info.pop(_VACUUM, None)
