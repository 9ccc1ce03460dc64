"""The update round before each meeting of the subgroup: the actions are brought up to date before the meeting,
not chased against due dates.

- **Meetings** are dates the chair sets (``/mo meeting DATE``) or the force's ``meetings`` config lists.
- ``round_days_before`` days (default 5) before the next meeting every owner of a live action (open, ongoing or
  held) gets one DM listing their actions with *No change*, *Update* (status, note, date) and *Done*; two days
  before, those who have not answered get one nudge; on the morning of the meeting the chair gets the digest:
  what changed since the round began, what is overdue, and who did not reply (owners still known only by
  initials are listed there, as they cannot be DMed).
- People are not DMed about the log at weekends, on bank holidays or on the force's ``days_off`` (a one-off bank
  holiday): a first DM or nudge whose day is one goes on the working day before (:func:`round_dates`), and a run
  on such a day sends nothing while a working day is left before the meeting.
- Each DM is claimed (a ``round_message`` row, unique per force, meeting, person and kind) before it is sent, so
  nobody is sent the same message of a round twice, whatever runs or replicas ask.

Pure domain functions over a session: what is due and who gets what; sending is ``jobs.update_round``'s.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.action_log import service
from bot.action_log.rules import check_may_change
from bot.action_log.service import load_action, normalise_reference, to_view
from bot.action_log.types import LIVE_STATUSES, ActionChange, ActionView, Actor, ChangeResult, Refusal
from bot.audit import AuditEntry, record
from bot.clock import Clock, today_in
from bot.config import Force
from bot.dates import is_working_day, working_day_on_or_before
from bot.models import Action, ActionHistory, Meeting, RoundAnswer, RoundMessage

NUDGE_DAYS_BEFORE = 2
ANSWERS = ("no_change", "update", "done")


def round_dates(force: Force, meeting: dt.date) -> tuple[dt.date, dt.date]:
    """The day of the round's first DMs and the day of its nudge: ``round_days_before`` and two days before the
    meeting, each moved back to the working day before when it falls at a weekend, on a bank holiday or on one of
    the force's ``days_off``. (With a round of three days before a Monday meeting both fall on the Friday: the
    first DMs go, and there is no nudge.)"""
    first = working_day_on_or_before(meeting - dt.timedelta(days=force.round_days_before), force.days_off)
    nudge = working_day_on_or_before(meeting - dt.timedelta(days=NUDGE_DAYS_BEFORE), force.days_off)
    return first, nudge


@dataclass(frozen=True)
class OwnerRound:
    user_id: str
    actions: tuple[ActionView, ...]


@dataclass(frozen=True)
class RoundPlan:
    """What is due today for one force: ``step`` is first | nudge | digest | none."""

    meeting: dt.date | None
    step: str
    owners: tuple[OwnerRound, ...] = ()
    unmapped: tuple[ActionView, ...] = ()


@dataclass(frozen=True)
class DigestLine:
    reference: str
    title: str
    text: str
    by: str | None = None  # the Slack user who answered, for a "no change" answer


@dataclass(frozen=True)
class RoundDigest:
    meeting: dt.date
    changed: tuple[DigestLine, ...]
    overdue: tuple[ActionView, ...]
    no_reply: tuple[str, ...]  # Slack users who were DMed and did not answer
    unmapped: tuple[ActionView, ...]  # actions whose owner has no Slack user (could not be asked)


# --- meetings ---------------------------------------------------------------------------------------------------
def meetings(session: Session, force: Force) -> list[dt.date]:
    stored = session.scalars(select(Meeting.held_on).where(Meeting.force == force.slug)).all()
    return sorted({*stored, *force.meetings})


def next_meeting(session: Session, force: Force, today: dt.date) -> dt.date | None:
    return next((m for m in meetings(session, force) if m >= today), None)


def previous_meeting(session: Session, force: Force, before: dt.date) -> dt.date | None:
    earlier = [m for m in meetings(session, force) if m < before]
    return earlier[-1] if earlier else None


def set_meeting(session: Session, force: Force, actor: Actor, held_on: dt.date, clock: Clock) -> Refusal | None:
    """The chair (an admin) sets a meeting date; it may not have passed already. Setting one twice is harmless."""
    now = clock.now()
    today = today_in(clock, force.timezone)
    refusal = None
    if not actor.is_admin:
        refusal = Refusal("not_allowed", "only an admin (the chair) can set the subgroup's meeting dates")
    elif held_on < today:
        refusal = Refusal("invalid", f"{held_on.isoformat()} has already passed; a meeting is set ahead", field="date")
    elif held_on.year > today.year + 2:
        refusal = Refusal("invalid", f"{held_on.isoformat()} is more than two years away", field="date")
    if refusal is None and held_on not in meetings(session, force):
        session.add(Meeting(force=force.slug, held_on=held_on, set_by=actor.id, set_at=now))
    record(
        session,
        AuditEntry(actor=actor.id, action="change", outcome="ok" if refusal is None else "refused",
                   detail=f"meeting {held_on.isoformat()}" + (f": {refusal.reason}" if refusal else ""),
                   force=force.slug, team_id=actor.team_id, channel_id=actor.channel_id),
        now,
    )  # fmt: skip
    session.flush()
    return refusal


# --- what is due --------------------------------------------------------------------------------------------------
def _live(session: Session, force: Force, today: dt.date) -> list[ActionView]:
    rows = session.scalars(
        select(Action)
        .where(Action.force == force.slug, Action.kind.in_(("action", "hmic")), Action.status.in_(LIVE_STATUSES))
        .order_by(Action.due_on.is_(None), Action.due_on, Action.id)
    ).all()
    return [to_view(force, r, today) for r in rows]


def round_started(session: Session, force: Force, meeting: dt.date) -> bool:
    """Whether the round before ``meeting`` has asked anyone yet (its first DMs went)."""
    return bool(_sent(session, force, meeting, "first"))


def _sent(session: Session, force: Force, meeting: dt.date, kind: str) -> set[str]:
    return set(
        session.scalars(
            select(RoundMessage.user_id).where(
                RoundMessage.force == force.slug, RoundMessage.meeting_on == meeting, RoundMessage.kind == kind
            )
        )
    )


def answered(session: Session, force: Force, meeting: dt.date) -> set[str]:
    return set(
        session.scalars(
            select(RoundAnswer.user_id).where(RoundAnswer.force == force.slug, RoundAnswer.meeting_on == meeting)
        )
    )


def plan_round(session: Session, force: Force, now: dt.datetime) -> RoundPlan:
    """Today's step of the round before the next meeting, and who it is for (those not yet sent it)."""
    today = now.astimezone(force.timezone).date()
    meeting = next_meeting(session, force, today)
    if meeting is None:
        return RoundPlan(None, "none")
    if today == meeting:
        return RoundPlan(meeting, "digest")
    first_day, nudge_day = round_dates(force, meeting)
    if today < first_day:
        return RoundPlan(meeting, "none")
    working = is_working_day(today, force.days_off)
    if not working and working_day_on_or_before(meeting - dt.timedelta(days=1), force.days_off) > today:
        # A weekend or bank holiday, with a working day still to come before the meeting: that day will do (a
        # missed Friday's step included). Only when none is left does such a run send the first DMs it missed,
        # rather than not at all — never a nudge.
        return RoundPlan(meeting, "none")
    live = _live(session, force, today)
    by_owner: dict[str, list[ActionView]] = {}
    for a in live:
        for user in a.owner_ids:
            by_owner.setdefault(user, []).append(a)
    unmapped = tuple(a for a in live if not a.owner_ids or a.unmapped_owners)
    if working and nudge_day > first_day and today >= nudge_day:
        # The nudge: those who were asked and have not answered (an owner first asked today gets the first DM).
        # None when the round is so short that its first DMs and its nudge fall on the same working day.
        asked, replied, nudged = (_sent(session, force, meeting, "first"), answered(session, force, meeting),
                                  _sent(session, force, meeting, "nudge"))  # fmt: skip
        first = [OwnerRound(u, tuple(a)) for u, a in sorted(by_owner.items()) if u not in asked]
        if first:
            return RoundPlan(meeting, "first", tuple(first), unmapped)
        due = asked - replied - nudged
        return RoundPlan(meeting, "nudge", tuple(OwnerRound(u, tuple(by_owner[u])) for u in sorted(due)
                                                 if u in by_owner), unmapped)  # fmt: skip
    asked = _sent(session, force, meeting, "first")
    return RoundPlan(
        meeting, "first", tuple(OwnerRound(u, tuple(a)) for u, a in sorted(by_owner.items()) if u not in asked),
        unmapped,
    )  # fmt: skip


def claim_message(session: Session, force: Force, meeting: dt.date, user_id: str, kind: str, now: dt.datetime) -> bool:
    """Claim the right to send ``kind`` of this round to ``user_id``: True once, ever (committed by the caller
    before the DM is sent, so a crash between the two loses a DM rather than sending it twice)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(RoundMessage)
        .values(force=force.slug, meeting_on=meeting, user_id=user_id, kind=kind, at=now)
        .on_conflict_do_nothing(index_elements=["force", "meeting_on", "user_id", "kind"])
        .returning(RoundMessage.id)
    )
    return session.execute(stmt).first() is not None


def message_sent(session: Session, force: Force, meeting: dt.date, user_id: str, kind: str, ts: str) -> None:
    row = session.scalars(
        select(RoundMessage).where(RoundMessage.force == force.slug, RoundMessage.meeting_on == meeting,
                                   RoundMessage.user_id == user_id, RoundMessage.kind == kind)
    ).one()  # fmt: skip
    row.ts = ts
    record(
        session,
        AuditEntry(actor="job:update_round", action="remind", outcome="ok", force=force.slug,
                   detail=f"update round {meeting.isoformat()} {kind} to {user_id}"),
        row.at,
    )  # fmt: skip
    session.flush()


# --- answers ----------------------------------------------------------------------------------------------------
def answer(
    session: Session,
    force: Force,
    actor: Actor,
    meeting: dt.date,
    reference: str,
    what: str,
    clock: Clock,
    change: ActionChange | None = None,
) -> ChangeResult:
    """An owner's answer for one action: ``no_change`` (recorded), ``done`` (completed, dated today) or ``update``
    (``change``: status, note, date). Only the action's owners and admins may answer; the answer and any change
    are one transaction."""
    now = clock.now()
    today = today_in(clock, force.timezone)
    ref = normalise_reference(reference)
    row = load_action(session, force, ref)
    refusal: Refusal | None = None
    if what not in ANSWERS:
        refusal = Refusal("invalid", f"{what!r} is not an answer; choose {', '.join(ANSWERS)}")
    elif row is None:
        refusal = Refusal("not_found", f"there is no action {ref}")
    else:
        refusal = check_may_change(to_view(force, row, today), actor)
    if refusal is not None or row is None:
        assert refusal is not None
        record(session, AuditEntry(actor=actor.id, action="change", outcome="refused", force=force.slug,
                                   detail=f"update round {ref} {what}: {refusal.reason}"[:1000]), now)  # fmt: skip
        return ChangeResult(action=None, refusal=refusal)
    result = ChangeResult(action=to_view(force, row, today))
    before = _answer_of(session, force, meeting, row.id, actor.id)
    if before is not None and (what == "no_change" or (what == "done" and row.status == "complete")):
        # A second click on the same DM (or on the first DM after the nudge) changes nothing: the answer stands.
        record(session, AuditEntry(actor=actor.id, action="change", outcome="ok", force=force.slug,
                                   detail=f"update round {meeting.isoformat()} {ref}: {what} again, already "
                                          f"answered {before.answer}"), now)  # fmt: skip
        session.flush()
        return result
    if what == "done":
        result = service.change_action(
            session, force, actor, ActionChange(ref, row.version, status="complete", note=(change.note if change
                                                                                           else None)), clock
        )  # fmt: skip
    elif what == "update" and change is not None:
        result = service.change_action(session, force, actor, change, clock)
    if not result.ok:
        return result
    note = change.note if change else None
    if before is None:
        # Two clicks at once both find no answer: the unique index lets one insert and the other update it.
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        stmt = insert(RoundAnswer).values(force=force.slug, meeting_on=meeting, action_id=row.id,
                                          user_id=actor.id, answer=what, note=note, at=now)  # fmt: skip
        keys = ["force", "meeting_on", "action_id", "user_id"]
        if what == "no_change":
            session.execute(stmt.on_conflict_do_nothing(index_elements=keys))
        else:
            update = {"answer": what, "note": note, "at": now}
            session.execute(stmt.on_conflict_do_update(index_elements=keys, set_=update))
    else:  # "no change" first, then an update or done: one answer per owner and action, the latest
        before.answer, before.note, before.at = what, note, now
    record(session, AuditEntry(actor=actor.id, action="change", outcome="ok", force=force.slug,
                               detail=f"update round {meeting.isoformat()} {ref}: {what}"), now)  # fmt: skip
    session.flush()
    return result


def _answer_of(session: Session, force: Force, meeting: dt.date, action_id: int, user_id: str) -> RoundAnswer | None:
    return session.scalars(
        select(RoundAnswer).where(RoundAnswer.force == force.slug, RoundAnswer.meeting_on == meeting,
                                  RoundAnswer.action_id == action_id, RoundAnswer.user_id == user_id)
        .with_for_update()
    ).first()  # fmt: skip


@dataclass(frozen=True)
class Answered:
    answer: str  # no_change | update | done
    at: dt.datetime


@dataclass(frozen=True)
class RoundDM:
    """One round DM as it stands: the owner's actions in it and what they answered (for redrawing it)."""

    meeting: dt.date
    nudge: bool
    actions: tuple[ActionView, ...]
    answers: dict[str, Answered]


def round_dm(session: Session, force: Force, user_id: str, ts: str, now: dt.datetime) -> RoundDM | None:
    """The round DM with timestamp ``ts`` sent to ``user_id`` (None if the bot sent them no such DM): the actions
    it listed that are still theirs, live or answered in this round, and their answers."""
    sent = session.scalars(
        select(RoundMessage).where(RoundMessage.force == force.slug, RoundMessage.user_id == user_id,
                                   RoundMessage.ts == ts, RoundMessage.kind.in_(("first", "nudge")))
    ).first()  # fmt: skip
    if sent is None:
        return None
    today = now.astimezone(force.timezone).date()
    rows = session.execute(
        select(Action, RoundAnswer)
        .join(RoundAnswer, RoundAnswer.action_id == Action.id)
        .where(RoundAnswer.force == force.slug, RoundAnswer.meeting_on == sent.meeting_on,
               RoundAnswer.user_id == user_id)
    ).all()  # fmt: skip
    answers = {a.reference: Answered(r.answer, r.at) for a, r in rows}
    listed = {a.reference: a for a in _live(session, force, today) if user_id in a.owner_ids}
    for a, _ in rows:
        listed.setdefault(a.reference, to_view(force, a, today))
    ordered = sorted(listed.values(), key=lambda a: (a.due_on is None, a.due_on or today, a.id))
    return RoundDM(sent.meeting_on, sent.kind == "nudge", tuple(ordered), answers)


# --- the chair's digest -----------------------------------------------------------------------------------------
def digest(session: Session, force: Force, meeting: dt.date, now: dt.datetime) -> RoundDigest:
    """What changed since the round began (its first DM, or ``round_days_before`` days before the meeting),
    what is overdue now, who was asked and did not answer, and the actions whose owners could not be asked."""
    today = now.astimezone(force.timezone).date()
    first_sent = session.scalars(
        select(RoundMessage.at).where(RoundMessage.force == force.slug, RoundMessage.meeting_on == meeting)
        .order_by(RoundMessage.at).limit(1)
    ).first()  # fmt: skip
    began = first_sent or now - dt.timedelta(days=force.round_days_before)
    changed: list[DigestLine] = []
    rows = session.execute(
        select(Action.reference, Action.title, ActionHistory)
        .join(ActionHistory, ActionHistory.action_id == Action.id)
        .where(Action.force == force.slug, ActionHistory.changed_at >= began)
        .order_by(Action.id, ActionHistory.id)
    ).all()
    for ref, title, h in rows:
        what = f"{h.field} {h.old_value or '-'} → {h.new_value or '-'}" if h.field not in ("note", "created") else ""
        text = " — ".join(x for x in (what, " ".join((h.note or "").split())) if x)
        changed.append(DigestLine(ref, title, text or h.field))
    for ref, title, user in session.execute(
        select(Action.reference, Action.title, RoundAnswer.user_id)
        .join(RoundAnswer, RoundAnswer.action_id == Action.id)
        .where(RoundAnswer.force == force.slug, RoundAnswer.meeting_on == meeting, RoundAnswer.answer == "no_change")
        .order_by(RoundAnswer.id)
    ):
        changed.append(DigestLine(ref, title, "no change", user))
    live = _live(session, force, today)
    return RoundDigest(
        meeting=meeting,
        changed=tuple(changed),
        overdue=tuple(a for a in live if a.overdue),
        no_reply=tuple(sorted(_sent(session, force, meeting, "first") - answered(session, force, meeting))),
        unmapped=tuple(a for a in live if not a.owner_ids or a.unmapped_owners),
    )
