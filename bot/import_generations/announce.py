"""An import announces the batches it inserted, as an explicit step of the import (``bot.importing.service``): on
PostgreSQL a ``NOTIFY`` in the import's own transaction, which every running process's listener hears when the
import commits (and nobody hears if it rolls back); and this process's own answers know the import as soon as the
commit returns."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, SessionTransaction

from bot.import_generations.batches import NOTIFY_CHANNEL, ImportedBatch
from bot.import_generations.sources import tell_committed

_PENDING = "mo_announced_import_batches"


def announce_imports(session: Session, batches: Sequence[ImportedBatch]) -> None:
    """Announce ``batches``, inserted in ``session``'s current transaction, to every process answering from this
    database. Call it once the batches are flushed, in the transaction that commits them (not in a savepoint that
    may still roll back); the caller commits or rolls back as usual:

    - PostgreSQL: one ``NOTIFY mo_import_batch`` per batch, sent now in this transaction — PostgreSQL delivers
      them at commit, in commit order, and drops them on rollback. (SQLite has no notifications: other processes
      read the latest ids at most 0.1 s apart.)
    - This process: listeners on ``session`` (this session only) tell its generation source, if it runs one, at
      the commit of the transaction — it then knows the batches when ``commit()`` returns. A rollback, or a close
      without commit, drops them. Listening on the session rather than hooking every session or every
      :class:`~bot.models.ImportBatch` insert means an import is announced because its code says so, not because
      some module happened to be imported.
    """
    if not batches:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(*(func.pg_notify(NOTIFY_CHANNEL, b.payload()) for b in batches)))
    pending: list[ImportedBatch] = session.info.setdefault(_PENDING, [])
    pending.extend(batches)
    if not event.contains(session, "after_commit", _tell_at_commit):
        event.listen(session, "after_commit", _tell_at_commit)
        event.listen(session, "after_soft_rollback", _drop)
        event.listen(session, "after_transaction_end", _drop_at_end)


def _tell_at_commit(session: Session) -> None:
    # A savepoint's release fires after_commit too: only the commit of the whole transaction makes them visible.
    if session.in_nested_transaction():
        return
    batches: list[ImportedBatch] | None = session.info.pop(_PENDING, None)
    if batches:
        bind = session.get_bind()
        tell_committed(bind if isinstance(bind, Engine) else bind.engine, batches)


def _drop(session: Session, previous_transaction: SessionTransaction) -> None:
    # Any rollback, a savepoint's included: telling this process too little only delays it to the next poll or
    # notification; telling it of a batch that was rolled back would key answers on an id that does not exist.
    session.info.pop(_PENDING, None)


def _drop_at_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the whole transaction ended uncommitted (after a commit nothing is left)
        session.info.pop(_PENDING, None)
