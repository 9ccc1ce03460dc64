"""Which owners to remind about which actions, and the reminder log that keeps it to once a week per action.

``plan_reminders`` is a pure function of (session, force, now): it reads, never writes. Sending is the
caller's (jobs/reminders.py); it then calls ``record_sent`` so the same action is not listed again for a week.
"Remind me next week" (``snooze``) pushes one action's next reminder a week on.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.action_log.rules import check_may_change
from bot.action_log.service import done_refusal, load_action, normalise_reference, once_key, to_view
from bot.action_log.types import (
    DUE_SOON_DAYS,
    REMIND_EVERY,
    REMINDED_STATUSES,
    ActionView,
    Actor,
    OwnerReminder,
    Refusal,
    ReminderPlan,
)
from bot.audit import AuditEntry, record
from bot.config import Force
from bot.deliveries import claim_in
from bot.models import Action, ActionReminder


def plan_reminders(session: Session, force: Force, now: dt.datetime) -> ReminderPlan:
    """Each owner's open/ongoing actions that are overdue or due within 7 days and not reminded (or snoozed)
    in the last week; an action with several owners is listed to each. Held actions are paused on purpose and
    are not chased."""
    today = now.astimezone(force.timezone).date()
    horizon = today + dt.timedelta(days=DUE_SOON_DAYS)
    rows = session.scalars(
        select(Action)
        .where(
            Action.force == force.slug,
            Action.kind != "hmic",
            Action.status.in_(REMINDED_STATUSES),
            Action.due_on <= horizon,
        )
        .order_by(Action.due_on, Action.id)
    ).all()
    # Quiet per action and person: each owner of a joint action is reminded (or snoozes) on their own.
    quiet: dict[tuple[int, str], dt.datetime] = {}
    if rows:
        for action_id, user_id, until in session.execute(
            select(ActionReminder.action_id, ActionReminder.user_id, func.max(ActionReminder.until))
            .where(ActionReminder.action_id.in_([r.id for r in rows]))
            .group_by(ActionReminder.action_id, ActionReminder.user_id)
        ):
            quiet[(action_id, user_id)] = _aware(until)
    by_owner: dict[str, tuple[list[ActionView], list[ActionView]]] = {}
    unmapped: list[ActionView] = []
    for row in rows:
        view = to_view(force, row, today)
        if not view.owner_ids or view.unmapped_owners:
            # An owner still known only by initials is listed for the operator; the mapped ones are DMed.
            unmapped.append(view)
        for user in view.owner_ids:
            quiet_until = quiet.get((row.id, user))
            if quiet_until is not None and quiet_until > now:
                continue
            overdue, soon = by_owner.setdefault(user, ([], []))
            (overdue if view.overdue else soon).append(view)
    reminders = tuple(
        OwnerReminder(user, tuple(o), tuple(s)) for user, (o, s) in sorted(by_owner.items(), key=lambda kv: kv[0])
    )
    return ReminderPlan(reminders=reminders, unmapped=tuple(unmapped))


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def record_sent(session: Session, force: Force, reminder: OwnerReminder, now: dt.datetime) -> None:
    """Log that ``reminder`` was delivered: none of its actions is listed again before a week has passed."""
    for a in reminder.actions:
        session.add(
            ActionReminder(action_id=a.id, user_id=reminder.user_id, kind="sent", at=now, until=now + REMIND_EVERY)
        )
    record(
        session,
        AuditEntry(
            actor="job:reminders",
            action="remind",
            outcome="ok",
            detail=f"reminded {reminder.user_id} of {', '.join(a.reference for a in reminder.actions)}"[:1000],
            force=force.slug,
        ),
        now,
    )
    session.flush()


def snooze(
    session: Session, force: Force, actor: Actor, reference: str, now: dt.datetime, once: str | None = None
) -> Refusal | None:
    """ "Remind me next week": no reminder about this action for seven days from now. Owner or admin only.
    ``once`` names the click that asked: the same click arriving again snoozes nothing more."""
    today = now.astimezone(force.timezone).date()
    ref = normalise_reference(reference)
    row = load_action(session, force, ref)
    refusal: Refusal | None
    if row is None:
        refusal = Refusal("not_found", f"there is no action {ref}")
    else:
        refusal = check_may_change(to_view(force, row, today), actor)
    if refusal is None and once is not None and not claim_in(session, once_key(once), now):
        refusal = done_refusal()
    if refusal is None and row is not None:
        session.add(ActionReminder(action_id=row.id, user_id=actor.id, kind="snooze", at=now, until=now + REMIND_EVERY))
    record(
        session,
        AuditEntry(
            actor=actor.id,
            action="change",
            outcome="ok" if refusal is None else "refused",
            detail=f"snooze reminders {ref}" + (f": {refusal.reason}" if refusal else ""),
            force=force.slug,
            team_id=actor.team_id,
            channel_id=actor.channel_id,
        ),
        now,
    )
    session.flush()
    return refusal
