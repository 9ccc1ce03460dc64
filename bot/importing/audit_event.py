"""The audit event every import writes, one per force: what was imported, as of when, and what it did."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.orm import Session

from bot.audit import AuditEntry, record
from bot.importing.types import ImportRequest


def record_import(
    session: Session, request: ImportRequest, path: Path, as_of: dt.date, now: dt.datetime, force: str, outcome: str
) -> None:
    """``outcome``: the rows and what happened to them, e.g. "1000 rows; added 3, updated 1, … (batch 7)"."""
    snapshot = " (snapshot)" if request.snapshot else ""
    record(
        session,
        AuditEntry(
            actor=request.actor,
            action="import",
            outcome="ok",
            force=force,
            detail=f"import {request.dataset} {path.name} as of {as_of.isoformat()}{snapshot}: {outcome}",
            records_disclosed=0,
        ),
        at=now,
    )
