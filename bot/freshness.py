"""How fresh each dataset is: the latest import of a force's dataset, and whether it is older than the
interval the analysts promised to refresh it in (``refresh_days`` in the config). Every figures answer names
the import it rests on (``data_as_of``).

The action log is the exception: it lives in the bot. Its file is imported once (the log as it stood, e.g. the July
2022 Appendix 1), and from then on the owners keep it in Slack, so it is as fresh as its last update — imported, or
made in the bot by a person: a change, or an owner's "No change" in the update round, which confirms the action as
it stands (:func:`action_log_freshness`). A force that keeps no action log (none imported, none added) is not
overdue for anything.

:func:`freshness` is the one rule for "stale"; everything that flags stale data builds its :class:`Freshness`
with it, from an import time it queried (:func:`dataset_freshness`) or already holds (a figures result)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from bot.config import DATASETS, Config, Force
from bot.dates import day_month_year, local_time
from bot.models import Action, ActionHistory, ImportBatch, RoundAnswer

ACTION_LOG = "actions"
# Changes the bot's jobs make on their own (a recurring action reopening itself) do not show that anyone worked the
# log, so they do not make it fresh. Actors are Slack user IDs, "cli:<login>" or "job:<name>" (bot.action_log.types).
JOB_ACTOR_PREFIX = "job:"


@dataclass(frozen=True)
class Freshness:
    dataset: str
    imported_at: dt.datetime | None  # when the latest import ran (None: never imported)
    file_as_of: dt.date | None  # the as-of date of that import's file
    expected_days: int  # refresh interval from the config
    age_days: float | None  # days since imported_at, to two decimals
    stale: bool  # never imported, or the data (or its import) older than expected_days
    data_age_days: int | None = None  # days from the data's date (below) to today: how old the data itself is
    # The action log only: the last update a person made to it in the bot (Slack), and that update's date in the
    # force's calendar. When later than the import, the log is as fresh as this update.
    updated_in_bot: dt.datetime | None = None
    updated_on: dt.date | None = None
    # The action log only: False when the force keeps none (never imported, nothing added in the bot).
    kept: bool = True

    @property
    def updated_at(self) -> dt.datetime | None:
        """When the data was last brought up to date: its import, or for the action log a later update in Slack."""
        times = [t for t in (self.imported_at, self.updated_in_bot) if t is not None]
        return max(times) if times else None

    @property
    def data_date(self) -> dt.date | None:
        """The date the data stands at: the export's as-of date, or for the action log a later update's date."""
        dates = [d for d in (self.file_as_of, self.updated_on) if d is not None]
        return max(dates) if dates else None

    @property
    def updated_since_import(self) -> bool:
        """The action log was updated in the bot after its latest import (or was only ever kept in the bot)."""
        return self.updated_in_bot is not None and (self.imported_at is None or self.updated_in_bot > self.imported_at)


def freshness(
    config: Config,
    dataset: str,
    imported_at: dt.datetime | None,
    now: dt.datetime,
    file_as_of: dt.date | None = None,
    *,
    tz: dt.tzinfo,
) -> Freshness:
    """``dataset``'s freshness at ``now`` (from the injected clock) given the time of its latest import and its
    file's as-of date: stale when never imported, or when the data is older than ``config.refresh_days[dataset]``
    — by the file's own as-of date (an old export imported today is old data) or by the import time. The file's
    date is the force's calendar date, so its age is counted from today's date in the force's timezone ``tz``
    (at 00:30 BST it is already the next day there, while UTC is still on the day before)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    expected = config.refresh_days[dataset]
    if imported_at is None:
        return Freshness(dataset, None, None, expected, None, True)
    age = now - imported_at
    data_age = (now.astimezone(tz).date() - file_as_of).days if file_as_of is not None else None
    return Freshness(
        dataset=dataset,
        imported_at=imported_at,
        file_as_of=file_as_of,
        expected_days=expected,
        age_days=round(age.total_seconds() / 86400, 2),
        stale=age > dt.timedelta(days=expected) or (data_age is not None and data_age > expected),
        data_age_days=data_age,
    )


def latest_import(session: Session, force_slug: str, dataset: str) -> ImportBatch | None:
    """The most recent import of ``dataset`` for ``force_slug`` (ties on time broken by the later batch)."""
    return session.scalars(
        select(ImportBatch)
        .where(ImportBatch.force == force_slug, ImportBatch.dataset == dataset)
        .order_by(ImportBatch.imported_at.desc(), ImportBatch.id.desc())
        .limit(1)
    ).first()


def revised_up_to(
    session: Session, force_slug: str, dataset: str, day: dt.date, latest: dt.date | None
) -> dt.date | None:
    """The as-of date of the last export whose revisions the figures at ``day`` apply, when it is not ``latest`` (the
    latest export's as-of date): the latest import as of that day or before (docs/figures.md "History": each case as
    the latest import up to that day gave it, or as its first import did), or — for a day before every import — the
    first. None when the figures apply the latest export (``day`` on or after it, or nothing imported)."""
    if latest is None or day >= latest:
        return None
    b = ImportBatch
    known = session.scalar(select(func.max(b.as_of)).where(b.force == force_slug, b.dataset == dataset, b.as_of <= day))
    found = known if known is not None else first_export(session, force_slug, dataset)
    return found if found != latest else None


def first_export(session: Session, force_slug: str, dataset: str) -> dt.date | None:
    """The as-of date of the force's earliest export of ``dataset`` (None: never imported). Before it, what the
    exports say of a case is what a later export said: values that change during a case (a bail end date, moved by
    each extension) are known as they stood only from this date on."""
    b = ImportBatch
    return session.scalar(select(func.min(b.as_of)).where(b.force == force_slug, b.dataset == dataset))


def rebuilt_from(session: Session, force_slug: str, dataset: str, day: dt.date) -> dt.date | None:
    """The first export's as-of date when ``day`` is before it: the figures at ``day`` are then rebuilt from that
    export, each case as it stood on its date rather than on ``day`` (docs/figures.md "History"). None otherwise."""
    first = first_export(session, force_slug, dataset)
    return first if first is not None and day < first else None


def data_as_of(session: Session, force_slug: str, dataset: str) -> dt.datetime | None:
    batch = latest_import(session, force_slug, dataset)
    return batch.imported_at if batch is not None else None


def last_update_in_bot(session: Session, force_slug: str) -> dt.datetime | None:
    """When a person last updated the force's action log in the bot: its newest history row that carries a version
    (an import's rows carry none), leaving out the bot's own jobs, or its newest answer in an update round (a "No
    change" changes nothing, yet says the action stands as it is)."""
    h, a, r = ActionHistory, Action, RoundAnswer
    changed = session.scalar(
        select(func.max(h.changed_at))
        .join(a, a.id == h.action_id)
        .where(a.force == force_slug, h.version.is_not(None), h.changed_by.not_like(f"{JOB_ACTOR_PREFIX}%"))
    )
    answered = session.scalar(select(func.max(r.at)).where(r.force == force_slug))
    times = [t for t in (changed, answered) if t is not None]
    return max(times) if times else None


def action_log_freshness(session: Session, config: Config, force: Force, now: dt.datetime) -> Freshness:
    """The action log's freshness: as of its latest import's file, or of a later update made in the bot, whichever
    is newer — stale when neither is within ``refresh_days.actions``. Not stale, and ``kept`` False, when the force
    has no action log at all."""
    batch = latest_import(session, force.slug, ACTION_LOG)
    updated = last_update_in_bot(session, force.slug)
    if batch is None and updated is None:
        kept = bool(session.scalar(select(exists().where(Action.force == force.slug))))
        f = freshness(config, ACTION_LOG, None, now, tz=force.timezone)
        return f if kept else replace(f, stale=False, kept=False)
    updated_on = updated.astimezone(force.timezone).date() if updated is not None else None
    times = [t for t in (batch.imported_at if batch else None, updated) if t is not None]
    dates = [d for d in (batch.as_of if batch else None, updated_on) if d is not None]
    newest = freshness(config, ACTION_LOG, max(times), now, max(dates), tz=force.timezone)
    return replace(
        newest,
        imported_at=batch.imported_at if batch else None,
        file_as_of=batch.as_of if batch else None,
        updated_in_bot=updated,
        updated_on=updated_on,
    )


def dataset_freshness(session: Session, config: Config, force: Force, now: dt.datetime) -> list[Freshness]:
    """One entry per dataset, in ``DATASETS`` order."""
    out = []
    for dataset in DATASETS:
        if dataset == ACTION_LOG:
            out.append(action_log_freshness(session, config, force, now))
            continue
        batch = latest_import(session, force.slug, dataset)
        if batch is None:
            out.append(freshness(config, dataset, None, now, tz=force.timezone))
        else:
            out.append(freshness(config, dataset, batch.imported_at, now, batch.as_of, tz=force.timezone))
    return out


# --- how freshness is said: the same words in Slack, the jobs' messages and the command line ----------------------
def _ago(age_days: float) -> str:
    """How long ago, as a person says it: "under an hour ago", "5 hours ago", "1 day ago", "9 days ago". The age is
    kept to two decimals of a day (~15 minutes), so hours are rounded, not cut."""
    hours = round(age_days * 24)
    if hours < 1:
        return "under an hour ago"
    if hours < 24:
        return "1 hour ago" if hours == 1 else f"{hours} hours ago"
    days = int(age_days)
    return "1 day ago" if days == 1 else f"{days:,} days ago"


def _old(days: int) -> str:
    """How old the data is by its own date: "today", "1 day old", "21 days old"."""
    if days <= 0:
        return "today"
    return "1 day old" if days == 1 else f"{days:,} days old"


def freshness_detail(f: Freshness, force: Force) -> str:
    """ "data as of 14 Nov 2026 (9 days old), imported 14 Nov 2026 10:00 GMT (9 days ago) (expected every 7 days)":
    the data's own date first (an old export imported a minute ago is still old data), then its import. The action
    log updated in Slack since its import says so instead: "last updated in Slack 5 Dec 2026 10:12 GMT (2 days
    ago); log file as of 31 Jul 2022 (expected every 45 days)". For a dataset imported or changed (``updated_at``)."""
    assert f.updated_at is not None
    age = f" ({_ago(f.age_days)})" if f.age_days is not None else ""
    expected = f" (expected every {f.expected_days} days)"
    if f.updated_since_import:
        assert f.updated_in_bot is not None
        imported = f"; log file as of {day_month_year(f.file_as_of)}" if f.file_as_of is not None else ""
        return f"last updated in Slack {local_time(f.updated_in_bot, force.timezone)}{age}{imported}{expected}"
    assert f.imported_at is not None
    data = ""
    if f.file_as_of is not None and f.data_age_days is not None:
        data = f"data as of {day_month_year(f.file_as_of)} ({_old(f.data_age_days)}), "
    return f"{data}imported {local_time(f.imported_at, force.timezone)}{age}{expected}"
