"""Reading the action log: filtered pages grouped by pillar, one action with its history, achievements, and an
overview by pillar and status. Every read is audited in the caller's transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from bot.action_log.counts import counts_by_pillar
from bot.action_log.service import initials_for, load_action, normalise_reference, to_entry, to_view
from bot.action_log.types import (
    DEFAULT_PAGE_SIZE,
    KINDS,
    LIVE_STATUSES,
    PILLARS,
    STATUSES,
    ActionDetail,
    ActionFilters,
    ActionPage,
    ActionView,
    Actor,
    HistoryEntry,
    Overview,
    PillarGroup,
)
from bot.audit import AuditEntry, record
from bot.config import Force
from bot.models import IMPORT_NOTE_PREFIX, Action, ActionHistory, ActionOwner, ImportBatch

# Report order of the pillars; unknown pillars (none expected) sort last.
_PILLAR_ORDER = case({p: i for i, p in enumerate(PILLARS)}, value=Action.pillar, else_=len(PILLARS))


def audit_read(session: Session, force: Force, actor: Actor, detail: str, at: dt.datetime) -> None:
    # Actions are not case records, so nothing counts towards records_disclosed.
    record(
        session,
        AuditEntry(
            actor=actor.id,
            action="view",
            outcome="ok",
            detail=detail[:1000],
            force=force.slug,
            team_id=actor.team_id,
            channel_id=actor.channel_id,
        ),
        at,
    )


def owner_condition(force: Force, owner: str) -> ColumnElement[bool]:
    """Actions any of whose owners (``action_owner`` rows: every write path and migration 0010 keep them) is a Slack
    user (stored, or through their mapped initials) or has the initials."""
    o = ActionOwner
    cond: ColumnElement[bool]
    if owner[:1] in ("U", "W") and owner[1:].isalnum() and owner.upper() == owner and len(owner) > 3:
        initials = initials_for(force, owner)
        cond = o.user_id == owner
        if initials:
            cond = or_(cond, and_(o.user_id.is_(None), func.upper(o.initials).in_(initials)))
    else:
        said = owner.strip().upper()
        cond = func.upper(o.initials) == said
        mapped = force.owners.get(said)
        if mapped:  # an owner named by their Slack user alone, whom the initials name
            cond = or_(cond, and_(o.initials.is_(None), o.user_id == mapped))
    # An uncorrelated IN list (found through the owner's index) rather than EXISTS per action: 7x cheaper on a
    # log of 2,000 (bench/bench_actions.py).
    return Action.id.in_(select(o.action_id).where(cond))


def kind_condition(kind: str) -> ColumnElement[bool] | None:
    """``action``, ``achievement`` or ``hmic``; ``all`` (or empty) filters nothing."""
    return None if kind in ("", "all") else Action.kind == kind


def _where(force: Force, f: ActionFilters, today: dt.date) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [Action.force == force.slug]
    if (by_kind := kind_condition(f.kind)) is not None:
        conds.append(by_kind)
    # Achievements are recorded as done: listing them means every status unless one is asked for — but a cancelled
    # one (a duplicate struck out of the log) is no achievement; `--status cancelled` lists those.
    statuses = f.statuses or (
        tuple(s for s in STATUSES if s != "cancelled") if f.kind == "achievement" else LIVE_STATUSES
    )
    if f.overdue or f.due_within_days is not None:
        # Overdue and due-soon only mean something for actions still being worked on.
        statuses = tuple(s for s in statuses if s in LIVE_STATUSES) or LIVE_STATUSES
    conds.append(Action.status.in_(statuses))
    if f.owner:
        conds.append(owner_condition(force, f.owner))
    if f.pillar:
        conds.append(Action.pillar == f.pillar)
    if f.overdue and f.due_within_days is not None:
        conds.append(Action.due_on <= today + dt.timedelta(days=f.due_within_days))
    elif f.overdue:
        conds.append(Action.due_on < today)
    elif f.due_within_days is not None:
        conds.append(Action.due_on.between(today, today + dt.timedelta(days=f.due_within_days)))
    return conds


def list_actions(
    session: Session,
    force: Force,
    actor: Actor,
    filters: ActionFilters,
    today: dt.date,
    now: dt.datetime,
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
    audit: bool = True,
) -> ActionPage:
    """One page of the filtered log, in pillar order, soonest due first (no due date last) within a pillar."""
    conds = _where(force, filters, today)
    total = session.scalar(select(func.count()).select_from(Action).where(*conds)) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    rows = session.scalars(
        select(Action)
        .where(*conds)
        .order_by(_PILLAR_ORDER, Action.due_on.is_(None), Action.due_on, Action.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    views = [to_view(force, r, today) for r in rows]
    if audit:
        audit_read(session, force, actor, f"actions list {filters.describe()} page={page}", now)
    elsewhere: dict[str, int] = {}
    if total == 0 and filters.kind in KINDS:
        for kind in KINDS:
            if kind != filters.kind:
                other = replace(filters, kind=kind)
                n = session.scalar(select(func.count()).select_from(Action).where(*_where(force, other, today)))
                if n:
                    elsewhere[kind] = n
    return ActionPage(
        groups=group_by_pillar(views),
        page=page,
        pages=pages,
        total=total,
        page_size=page_size,
        filters=filters,
        elsewhere=elsewhere,
    )


def group_by_pillar(views: list[ActionView] | tuple[ActionView, ...]) -> tuple[PillarGroup, ...]:
    by: dict[str, list[ActionView]] = {}
    for v in views:
        by.setdefault(v.pillar, []).append(v)
    order = {p: i for i, p in enumerate(PILLARS)}
    return tuple(PillarGroup(p, tuple(items)) for p, items in sorted(by.items(), key=lambda kv: order.get(kv[0], 99)))


def get_action(
    session: Session, force: Force, actor: Actor, reference: str, today: dt.date, now: dt.datetime, audit: bool = True
) -> ActionDetail | None:
    row = load_action(session, force, reference)
    if audit:
        audit_read(
            session, force, actor, f"action {normalise_reference(reference)}{'' if row else ' (not found)'}", now
        )
    if row is None:
        return None
    history = session.scalars(
        select(ActionHistory).where(ActionHistory.action_id == row.id).order_by(ActionHistory.id)
    ).all()
    return ActionDetail(to_view(force, row, today), tuple(to_entry(h) for h in history))


def achievements(
    session: Session,
    force: Force,
    actor: Actor,
    since: dt.date | None,
    today: dt.date,
    now: dt.datetime,
    audit: bool = True,
) -> tuple[PillarGroup, ...]:
    """Completed actions and recorded achievements by pillar, latest first (HMIC recommendations are listed apart);
    ``since`` keeps those completed on or after that date (imported achievements without a completion date are
    listed only when no date is given)."""
    conds: list[ColumnElement[bool]] = [
        Action.force == force.slug,
        Action.status == "complete",
        Action.kind.in_(("action", "achievement")),
    ]
    if since is not None:
        conds.append(Action.completed_on >= since)
    rows = session.scalars(
        select(Action)
        .where(*conds)
        .order_by(_PILLAR_ORDER, Action.completed_on.is_(None), Action.completed_on.desc(), Action.id)
    ).all()
    if audit:
        audit_read(session, force, actor, f"achievements since={since.isoformat() if since else 'all'}", now)
    return group_by_pillar([to_view(force, r, today) for r in rows])


def overview(session: Session, force: Force, today: dt.date) -> Overview:
    by_pillar = counts_by_pillar(session, force.slug)
    counts = {p: {s: n for s, n in c.items() if n} for p, c in by_pillar.items()}
    overdue: dict[str, int] = {p: 0 for p in PILLARS}
    for pillar, n in session.execute(
        select(Action.pillar, func.count())
        .where(
            Action.force == force.slug,
            Action.kind != "hmic",
            Action.status.in_(LIVE_STATUSES),
            Action.due_on < today,
        )
        .group_by(Action.pillar)
    ):
        overdue[pillar] = n
    return Overview(counts=counts, overdue=overdue)


def my_actions(session: Session, force: Force, user_id: str, today: dt.date, limit: int = 20) -> list[ActionView]:
    """The user's live actions (as any of their owners), overdue first, then soonest due (App Home); an HMIC
    recommendation the user owns is listed too: it is theirs to update."""
    rows = session.scalars(
        select(Action)
        .where(Action.force == force.slug, Action.status.in_(LIVE_STATUSES), owner_condition(force, user_id))
        .order_by(Action.due_on.is_(None), Action.due_on, Action.id)
        .limit(limit)
    ).all()
    return [to_view(force, r, today) for r in rows]


def last_updates(session: Session, action_ids: list[int]) -> dict[int, HistoryEntry]:
    """The latest change of each action made in the bot — by a person, the recurring schedule, or its adding in
    Slack — for "last update" columns; not an import's (an item a log changed is dated by that log)."""
    if not action_ids:
        return {}
    latest = (
        select(func.max(ActionHistory.id))
        .where(
            ActionHistory.action_id.in_(action_ids),
            or_(ActionHistory.note.is_(None), ~ActionHistory.note.startswith(IMPORT_NOTE_PREFIX)),
        )
        .group_by(ActionHistory.action_id)
    )
    rows = session.scalars(select(ActionHistory).where(ActionHistory.id.in_(latest))).all()
    return {h.action_id: to_entry(h) for h in rows}


def owner_initials(session: Session, force: Force) -> list[str]:
    """Every owner's initials in ``force``'s log (any kind, any status), and those the force maps to Slack users."""
    stored = session.scalars(
        select(func.upper(ActionOwner.initials))
        .join(Action, Action.id == ActionOwner.action_id)
        .where(Action.force == force.slug, ActionOwner.initials.is_not(None))
        .distinct()
    ).all()
    return sorted({*(i for i in stored if i), *force.owners})


def log_dates(session: Session, batch_ids: set[int]) -> dict[int, dt.date]:
    """The date of each action-log import's log (its as-of date: the log's own date when it states one)."""
    if not batch_ids:
        return {}
    rows = session.execute(select(ImportBatch.id, ImportBatch.as_of).where(ImportBatch.id.in_(batch_ids)))
    return {batch_id: day for batch_id, day in rows}


def find_view(session: Session, force: Force, reference: str, today: dt.date) -> ActionView | None:
    row = load_action(session, force, reference)
    return to_view(force, row, today) if row else None
