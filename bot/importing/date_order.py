"""An export older than one already imported for the same force and dataset is refused.

Exports carry each case's current values, and an import makes the file's values current (``valid_from`` its
as-of date) and keeps the values it replaces as history. Loading an older export after a newer one would make the
older values current again: cases the newer export had closed open again, end dates extended since put back —
today's figures then count what was true on the older date, and the newer values are lost, since a version is only
kept for dates before the one that replaced it. Fitting an older export into the history between the imports
around it is not what the merge does, so such a file changes nothing and the analyst is told which later export
is in and how to give the date if the file's own date was wrong. An export of the same as-of date as the latest
is a correction of that day's file and is imported as usual.

The action log lives in the bot: owners change items from the channel, and each change is a history row with the
action's new version. A log file is as of its date; imported over changes the bot recorded on a later day, it would
undo them (an item completed in Slack last week open again in the chair's paper). So an action-log file older than
its force's latest log import is refused as above, and one that would change a field the bot changed on a later day
than the file's date is refused naming those items (:class:`LogConflict`). A note is not undone by an import, and
an import's own history rows carry no version: re-importing the same log over notes and over nothing changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Config
from bot.dates import day_month_year
from bot.models import Action, ActionHistory, ImportBatch


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
    if dataset == "actions":
        held, harm = f"{later.force} action log already comes", "undo newer changes"
    else:
        held, harm = (
            f"{later.force} {dataset} figures already come",
            "overwrite newer values and make today's figures wrong",
        )
    imported = f"{day_month_year(later.imported_at)} {later.imported_at:%H:%M} UTC"
    return (
        f"{file_name} is an export as of {day_month_year(as_of)}, but the {held} from a later one: {later.file_name}, "
        f"as of {day_month_year(later.as_of)} (imported {imported}). An older export would {harm}. If this file is "
        "the newer one, give its date with --as-of YYYY-MM-DD"
    )


Conflict = tuple[str, str, dt.date]  # (action reference, field, the day the bot changed it)


def bot_changes_after(
    session: Session, config: Config, forces: Iterable[str], as_of: dt.date
) -> dict[tuple[int, str], Conflict]:
    """The action fields changed in the bot (history rows with a version; an import's own carry none) on a later day
    than ``as_of`` in the force's timezone, by (action id, history field): what a log as of ``as_of`` cannot know."""
    h, a = ActionHistory, Action
    out: dict[tuple[int, str], Conflict] = {}
    for force in sorted(set(forces)):
        tz = config.force(force).timezone
        after = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(dt.UTC)
        rows = session.execute(
            select(h.action_id, h.field, h.changed_at, a.reference)
            .join(a, a.id == h.action_id)
            .where(a.force == force, h.version.is_not(None), h.changed_at >= after, h.field != "note")
            .order_by(h.changed_at)
        )
        for action_id, field, changed_at, reference in rows:
            out[(action_id, field)] = (reference, field, changed_at.astimezone(tz).date())
    return out


class LogConflict(Exception):
    """An action-log file would change fields the bot changed after the file's date."""

    def __init__(self, file_name: str, as_of: dt.date, conflicts: list[Conflict]) -> None:
        self.conflicts = conflicts
        shown = ", ".join(f"{ref} {field} ({day_month_year(on)})" for ref, field, on in conflicts[:5])
        more = f", and {len(conflicts) - 5} more" if len(conflicts) > 5 else ""
        super().__init__(
            f"{file_name} is a log as of {day_month_year(as_of)}, but it would undo changes made in the bot since: "
            f"{shown}{more}. Export the log from the bot (`/mo actions --export`, or `mo-bot actions export`) and "
            "edit that, or, if this file already holds those changes, give its date with --as-of YYYY-MM-DD"
        )
