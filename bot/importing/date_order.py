"""An export older than one already imported for the same force and dataset is refused.

Exports carry each case's current values, and an import makes the file's values current (``valid_from`` its
as-of date) and keeps the values it replaces as history. Loading an older export after a newer one would make the
older values current again: cases the newer export had closed open again, end dates extended since put back —
today's figures then count what was true on the older date, and the newer values are lost, since a version is only
kept for dates before the one that replaced it. Fitting an older export into the history between the imports
around it is not what the merge does, so such a file changes nothing and the analyst is told which later export
is in and how to give the date if the file's own date was wrong. An export of the same as-of date as the latest
is a correction of that day's file and is imported as usual.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import ImportBatch


def later_import(session: Session, dataset: str, forces: Iterable[str], as_of: dt.date) -> ImportBatch | None:
    """The import of ``dataset`` for one of ``forces`` with the latest as-of date after ``as_of``, or None."""
    b = ImportBatch
    return session.scalars(
        select(b)
        .where(b.dataset == dataset, b.force.in_(sorted(set(forces))), b.as_of > as_of)
        .order_by(b.as_of.desc(), b.id.desc())
        .limit(1)
    ).first()


def older_export_refusal(
    session: Session, dataset: str, forces: Iterable[str], as_of: dt.date, file_name: str
) -> str | None:
    """Why ``file_name`` (as of ``as_of``) may not be imported for ``forces``, or None when nothing later is in."""
    later = later_import(session, dataset, forces, as_of)
    if later is None:
        return None
    return (
        f"{file_name} is an export as of {as_of.isoformat()}, but the {later.force} {dataset} figures already come "
        f"from a later one: {later.file_name}, as of {later.as_of.isoformat()} "
        f"(imported {later.imported_at:%Y-%m-%d %H:%M} UTC). An older export would overwrite newer values and make "
        "today's figures wrong. If this file is the newer one, give its date with --as-of YYYY-MM-DD"
    )
