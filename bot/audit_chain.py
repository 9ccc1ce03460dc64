"""The audit log's hash chain: every audit row is sealed by a link that hashes it together with the link before,
so a row changed, deleted or slipped in behind the database's back shows as a broken link.

How a row is sealed. Each link of ``audit_seal`` (``seq`` 1, 2, 3 … with no gaps) names one audit row and holds
``hash = SHA-256(previous link's hash, seq, the row's fields)`` (:func:`link_hash`; the first link's previous hash
is :data:`GENESIS`). The database writes the link itself, in the transaction that writes the row, whoever writes
it (the bot, a script, a person at a SQL prompt):

- PostgreSQL: a deferred constraint trigger (``audit_log_seal``, migration 0006) runs when the transaction
  commits, takes a transaction-scoped advisory lock, reads the last link and appends the next. Links are
  therefore made in commit order, one transaction at a time across every process and replica, and no two rows
  can claim the same predecessor (``seq`` is the primary key). The lock is held only from the row's commit to
  its end — not for the whole of a long transaction such as an import, which writes its audit row early and
  commits much later — and it is taken after every other lock of the transaction, so it cannot deadlock. Rows are
  chained in commit order rather than id order because ids are drawn before commit: a row with a smaller id can
  commit later, and chaining in id order would mean waiting for it. The trigger function runs as the owner of the
  tables (``SECURITY DEFINER``), so the bot's role needs no right to write links itself (docs/database-roles.md).
- SQLite: one writer at a time holds the database's write lock until it commits, so an ``AFTER INSERT`` trigger
  appends the link as the row is written; the hash is this module's :func:`sqlite_link_hash`, which
  :func:`bot.db.make_engine` registers on every connection (SQLite has no SHA-256 of its own). A connection without
  it cannot write audit rows at all.

Either way the hot path pays no extra round trip: the batch INSERT of :class:`bot.audit.GroupCommit` is still one
statement. :func:`verify_chain` (``mo-bot audit verify``, the daily ``audit_check`` job) reads every link with its
row and recomputes each hash; any difference, a missing link or row, or a row without a link is a break.

What the chain cannot show on its own: someone who can rewrite ``audit_seal`` as well (the tables' owner with the
triggers disabled) can recompute every link after a change, or cut the newest rows and their links off the end.
The database refuses both to the bot's own role (append-only triggers; on PostgreSQL the bot runs as a role with
only INSERT and SELECT on these tables); keeping the head link (``seq`` and hash, printed by ``mo-bot audit
verify`` and recorded by each daily check) somewhere else shows it even against the owner.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bot.models import AuditEvent, AuditSeal

GENESIS = "0" * 64  # the "previous hash" of the first link
SQLITE_FUNCTION = "mo_audit_link_hash"  # the name the SQLite trigger calls (migration 0006)
MAX_BREAKS = 20  # breaks kept for the report; all are counted


def _field(value: str | None) -> str:
    # Length-prefixed (in UTF-8 bytes), so that no choice of field values can make two rows hash alike; ``~`` is NULL.
    if value is None:
        return "~"
    return f"{len(value) if value.isascii() else len(value.encode('utf-8'))}:{value}"


def canonical_at(at: dt.datetime) -> str:
    """A UTC instant as the chain hashes it: ``YYYY-MM-DDTHH:MM:SS.ffffff`` (naive values are UTC)."""
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


def link_hash(
    prev: str,
    seq: int,
    audit_id: int,
    at: str,
    actor: str | None,
    team_id: str | None,
    channel_id: str | None,
    force: str | None,
    action: str | None,
    detail: str | None,
    outcome: str | None,
    records_disclosed: int | None,
    reference: str | None,
) -> str:
    """The hash of link ``seq``: over the previous link's hash and every field of the audit row it seals.

    The PostgreSQL trigger computes exactly this in SQL (migration 0006): change one and the other with it, and
    never for a database whose rows are already chained."""
    fields = (
        prev,
        str(seq),
        str(audit_id),
        at,
        actor,
        team_id,
        channel_id,
        force,
        action,
        detail,
        outcome,
        None if records_disclosed is None else str(records_disclosed),
        reference,
    )
    return hashlib.sha256("|".join([_field(f) for f in fields]).encode("utf-8")).hexdigest()


def sqlite_link_hash(
    prev: str,
    seq: int,
    audit_id: int,
    at: str,
    actor: str | None,
    team_id: str | None,
    channel_id: str | None,
    force: str | None,
    action: str | None,
    detail: str | None,
    outcome: str | None,
    records_disclosed: int | None,
    reference: str | None,
) -> str:
    """:func:`link_hash` as SQLite's trigger calls it: ``at`` as stored (ISO text, with or without microseconds)."""
    return link_hash(
        prev,
        seq,
        audit_id,
        canonical_at(dt.datetime.fromisoformat(at)),
        actor,
        team_id,
        channel_id,
        force,
        action,
        detail,
        outcome,
        records_disclosed,
        reference,
    )


@dataclass(frozen=True)
class Break:
    """One place where the log is not what was sealed."""

    seq: int | None  # the link, or None for a row that has none
    audit_id: int | None  # the audit row, or None when the link itself is missing
    what: str

    def __str__(self) -> str:
        if self.audit_id is None:
            return f"link #{self.seq}: {self.what}"
        if self.seq is None:
            return f"audit row {self.audit_id}: {self.what}"
        return f"audit row {self.audit_id} (link #{self.seq}): {self.what}"


@dataclass(frozen=True)
class ChainReport:
    rows: int  # audit rows in the table
    links: int  # links read
    head_seq: int  # the last link (0: none yet)
    head_hash: str
    breaks: tuple[Break, ...]  # the first MAX_BREAKS, in chain order, then the rows outside the chain by id
    break_count: int

    @property
    def ok(self) -> bool:
        return self.break_count == 0

    @property
    def head(self) -> str:
        return f"#{self.head_seq} {self.head_hash}"

    def summary(self) -> str:
        if self.ok:
            return f"audit log intact: {self.rows} rows, each sealed in the hash chain; head {self.head}"
        more = f" ({self.break_count} breaks in all)" if self.break_count > 1 else ""
        return f"audit log chain broken at {self.breaks[0]}{more}"


_ROW = (
    AuditEvent.id,
    AuditEvent.at,
    AuditEvent.actor,
    AuditEvent.team_id,
    AuditEvent.channel_id,
    AuditEvent.force,
    AuditEvent.action,
    AuditEvent.detail,
    AuditEvent.outcome,
    AuditEvent.records_disclosed,
    AuditEvent.reference,
)


def _links(session: Session, batch: int) -> Iterator[Any]:
    """(seq, audit_id, hash, the row's fields…) of every link in chain order; the fields are None for a row that is
    gone. Plain rows in batches (a server-side cursor on PostgreSQL): a year of events never sits in memory."""
    stmt = (
        select(AuditSeal.seq, AuditSeal.audit_id, AuditSeal.hash, *_ROW)
        .outerjoin(AuditEvent, AuditEvent.id == AuditSeal.audit_id)
        .order_by(AuditSeal.seq)
        .execution_options(yield_per=batch)
    )
    return iter(session.execute(stmt))


def verify_chain(session: Session, batch: int = 5000) -> ChainReport:
    """Recompute every link of the chain from the rows as they are now. Reads the whole log once, in batches."""
    breaks: list[Break] = []
    count = 0

    def found(b: Break) -> None:
        nonlocal count
        count += 1
        if len(breaks) < MAX_BREAKS:
            breaks.append(b)

    prev, expected, links = GENESIS, 1, 0
    for seq, audit_id, stored, row_id, at, *fields in _links(session, batch):
        links += 1
        if seq != expected:
            gone = "the link is missing" if seq == expected + 1 else f"links #{expected}…#{seq - 1} are missing"
            found(Break(expected, None, f"{gone} (the chain jumps to #{seq})"))
        if row_id is None:
            found(Break(seq, audit_id, "the row is gone (deleted)"))
        elif link_hash(prev, seq, row_id, canonical_at(at), *fields) != stored:
            found(Break(seq, audit_id, "the row or its link differs from what was sealed (changed)"))
        prev, expected = stored, seq + 1
    unchained = (
        select(AuditEvent.id)
        .where(~select(AuditSeal.seq).where(AuditSeal.audit_id == AuditEvent.id).exists())
        .order_by(AuditEvent.id)
        .execution_options(yield_per=batch)
    )
    for audit_id in session.scalars(unchained):
        found(Break(None, audit_id, "the row is not in the chain (written with the chain's trigger bypassed)"))
    rows = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    return ChainReport(
        rows=rows,
        links=links,
        head_seq=expected - 1,
        head_hash=prev,
        breaks=tuple(breaks),
        break_count=count,
    )


def owner_warning(session: Session) -> str | None:
    """PostgreSQL: a note when this connection's role owns the audit tables (or is a superuser), since such a role
    can disable their triggers; the bot should run as a role that may only INSERT and SELECT them."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    owns = session.execute(
        text("SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class WHERE oid = 'audit_log'::regclass")
    ).scalar()
    if not owns:
        return None
    return (
        "note: this connection's role owns the audit tables (or is a superuser), so it could disable their "
        "triggers; run the bot as a role with only INSERT and SELECT on them (docs/database-roles.md)"
    )
