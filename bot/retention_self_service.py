"""What self-service in Slack leaves behind, purged after a fixed period (DPA 2018 Part 3: kept no longer than
needed), by the retention job beside the case rows (:mod:`bot.retention`):

- ``slack_file_import`` rows — a file sent to the bot that waited for Confirm or for the choice of a dataset — go
  :data:`KEEP_DAYS` days after they finished: decided (confirmed, cancelled, chosen) or, never decided, expired.
  Until then a late click on the old buttons still gets "this has already been decided" or "expired".
- ``watch`` rows that their owner removed go :data:`KEEP_DAYS` days after the removal.

Only Slack IDs, file names and filters are in these rows, never case data; the audit log keeps what happened to
them. A purge that deleted anything is audited with its counts (the case purge's own event records every run).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, delete, or_
from sqlalchemy.orm import Session

from bot.audit import AuditEntry, record
from bot.db import rowcount
from bot.models import SlackFileImport, Watch

KEEP_DAYS = 30


@dataclass(frozen=True)
class LeftoverCounts:
    force: str
    cutoff: dt.datetime  # rows finished (files) or removed (watches) before this were deleted
    file_imports: int
    watches: int


def purge_leftovers(session: Session, force: str, now: dt.datetime, actor: str) -> LeftoverCounts:
    """Delete one force's finished file imports and removed watches older than :data:`KEEP_DAYS` and audit the
    counts when there were any, in the caller's transaction."""
    cutoff = now - dt.timedelta(days=KEEP_DAYS)
    f = SlackFileImport
    files = session.execute(
        delete(f)
        .where(
            f.force == force,
            or_(
                and_(f.decided_at.is_not(None), f.decided_at < cutoff),
                and_(f.decided_at.is_(None), f.expires_at < cutoff),
            ),
        )
        .execution_options(synchronize_session=False)
    )
    watches = session.execute(
        delete(Watch)
        .where(Watch.force == force, Watch.removed_at.is_not(None), Watch.removed_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    out = LeftoverCounts(force, cutoff, rowcount(files), rowcount(watches))
    if not (out.file_imports or out.watches):
        return out
    record(
        session,
        AuditEntry(
            actor=actor,
            action="purge",
            outcome="ok",
            force=force,
            detail=f"retention purge: Slack file imports finished and watches removed before {cutoff.isoformat()}: "
            f"file imports {out.file_imports}, watches {out.watches}",
            records_disclosed=0,
        ),
        at=now,
    )
    return out
