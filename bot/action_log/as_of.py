"""An action as it stood on a past date, from its history: the paper dated ``--as-of`` shows each item's status,
owners, due and completion dates, pillar and title as they were that day, not as they are now.

Every change a person (or the recurring schedule) made after the date is undone, latest first, by putting back
the history row's old value; a change dated with ``--on`` counts from the day it took effect. An import's rows
(its note starts "import ") are corrections of the transcript, true of the log from the start, so they are kept.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from bot.action_log.types import ActionView, HistoryEntry

# History field → the view's field it restores (owners are restored as the text the history recorded).
_FIELDS = {"status": "status", "due_on": "due_on", "completed_on": "completed_on", "pillar": "pillar",
           "title": "title", "kind": "kind", "evidence": "evidence"}  # fmt: skip
_DATES = {"due_on", "completed_on"}


@dataclass(frozen=True)
class AsItStood:
    action: ActionView
    owners: str | None  # the owners as the history wrote them then; None: as they are now


def _value(field: str, raw: str | None) -> object:
    if field in _DATES:
        return dt.date.fromisoformat(raw) if raw else None
    return raw


def changes_undone(history: list[HistoryEntry], tz: dt.tzinfo, as_of: dt.date) -> tuple[str | None, dict[str, object]]:
    """What the changes after the end of ``as_of`` replaced (``history`` in the order written): the owners as the
    history wrote them then (None: unchanged since), and field → value for the other fields they changed."""
    owners: str | None = None
    undo: dict[str, object] = {}
    for h in reversed(history):
        if h.by_import or h.day(tz) <= as_of:
            continue
        if h.field == "owner":
            owners = h.old_value or ""
        elif h.field in _FIELDS and (h.field not in ("status", "pillar", "title", "kind") or h.old_value):
            undo[_FIELDS[h.field]] = _value(h.field, h.old_value)
    return owners, undo


def as_it_stood(a: ActionView, history: list[HistoryEntry], tz: dt.tzinfo, as_of: dt.date) -> AsItStood:
    """``a`` as it stood at the end of ``as_of`` (``history`` in the order written)."""
    owners, undo = changes_undone(history, tz, as_of)
    return AsItStood(replace(a, **undo) if undo else a, owners)  # type: ignore[arg-type]
