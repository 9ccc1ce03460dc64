"""Changing the action log: create an action, change its fields or status, add a note.

Every change names the version the writer saw. The write is a conditional ``UPDATE … WHERE version = :seen``
whose row count says whether someone else got there first, so two people editing at once never silently
overwrite each other on SQLite or PostgreSQL: the second is told what changed since and shown the current state.
Each changed field gets its own history row (old → new, who, when, note) and the change is audited in the
same transaction. Refusals are returned (not raised) so the caller commits the audit of the refusal too.

An owner must belong to the action's force (:func:`bot.action_log.rules.check_owner`): the caller says which Slack
workspaces the owner is in (asking Slack is not a domain service's business). A change or creation that names the
interaction that asked for it (``once``) is made at most once per interaction: its key is claimed in the change's
own transaction once the rules accept it (:func:`bot.deliveries.claim_in`), so a replayed request finds it taken
and changes nothing, and a request the rules refuse claims nothing (it may be corrected and sent again).
"""

from __future__ import annotations

import datetime as dt
import re
import zlib
from dataclasses import replace

from sqlalchemy import and_, delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from bot.action_log import rules
from bot.action_log.types import (
    NOTE_REQUIRED,
    ActionChange,
    ActionView,
    Actor,
    ChangeResult,
    HistoryEntry,
    NewAction,
    Owner,
    Refusal,
)
from bot.audit import AuditEntry, record
from bot.clock import Clock, today_in
from bot.config import Force
from bot.db import rowcount
from bot.deliveries import claim_in, taken
from bot.log_text import split_initials
from bot.models import Action, ActionHistory, ActionOwner

_REF = re.compile(r"^A-(\d+)$")


def normalise_reference(value: str) -> str:
    """``a-12``, ``A12``, ``12`` → ``A-12`` (what people type in Slack)."""
    v = value.strip().upper().replace(" ", "")
    m = re.match(r"^A?-?(\d+)$", v)
    return f"A-{int(m[1])}" if m else v


def effective_owner(force: Force, owner_user_id: str | None, owner_initials: str | None) -> str | None:
    """The owner's Slack user: the stored one, else the initials mapped through the force's ``owners`` config."""
    if owner_user_id:
        return owner_user_id
    if owner_initials:
        return force.owners.get(owner_initials.strip().upper())
    return None


def initials_for(force: Force, user_id: str) -> tuple[str, ...]:
    return tuple(i for i, u in force.owners.items() if u == user_id)


def owner_by_user(force: Force, user_id: str) -> tuple[str | None, str]:
    """An owner named by their Slack user, with the initials the force's ``owners`` maps to them (the log names
    owners by initials: filters, exports and papers find them by those), or none when unmapped."""
    mapped = initials_for(force, user_id)
    return (mapped[0] if mapped else None, user_id)


def owner_pairs(initials: str | None, user_id: str | None) -> list[tuple[str | None, str | None]]:
    """The (initials, Slack user) of each owner an action's owner text and stored Slack user name. A Slack user
    goes with a single owner only: joint owners' users come from the force's ``owners`` mapping."""
    parts = split_initials(initials)
    if len(parts) > 1:
        return [(p, None) for p in parts]
    if parts or user_id:
        return [(parts[0] if parts else None, user_id)]
    return []


def replace_owners(session: Session, action_id: int, pairs: list[tuple[str | None, str | None]]) -> None:
    """Make ``pairs`` the action's owners (old rows deleted first, so positions never collide)."""
    session.execute(delete(ActionOwner).where(ActionOwner.action_id == action_id))
    session.add_all(
        ActionOwner(action_id=action_id, position=i, initials=ini, user_id=uid) for i, (ini, uid) in enumerate(pairs)
    )
    session.flush()


def owners_of(force: Force, row: Action) -> tuple[Owner, ...]:
    """The action's owners, each mapped to Slack through the force's ``owners`` config when only initials are
    known. A row without owner rows (written straight into the table, as old data was) is read from its own
    owner columns."""
    pairs = [(o.initials, o.user_id) for o in row.owners] or owner_pairs(row.owner_initials, row.owner_user_id)
    return tuple(_owner(force, ini, uid) for ini, uid in pairs)


def _owner(force: Force, initials: str | None, user_id: str | None) -> Owner:
    """One owner with both names where the force's ``owners`` maps one to the other."""
    if initials:
        return Owner(initials, user_id or force.owners.get(initials.upper()))
    if user_id:
        return Owner(*owner_by_user(force, user_id))
    return Owner(None, None)


def to_view(force: Force, row: Action, today: dt.date) -> ActionView:
    owners = owners_of(force, row)
    first = next((o.user_id for o in owners if o.user_id), None)
    return ActionView(
        id=row.id,
        force=row.force,
        reference=row.reference,
        pillar=row.pillar,
        title=row.title,
        detail=row.detail,
        owner_user_id=first or effective_owner(force, row.owner_user_id, row.owner_initials),
        owner_initials=row.owner_initials,
        status=row.status,
        due_on=row.due_on,
        completed_on=row.completed_on,
        source=row.source,
        notes=row.notes,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
        today=today,
        owners=owners,
        kind=row.kind,
        recur_months=row.recur_months,
        opened_on=row.opened_on or row.created_at.astimezone(force.timezone).date(),
        evidence=row.evidence,
        completion_recorded=row.completion_recorded,
    )


def to_entry(h: ActionHistory) -> HistoryEntry:
    return HistoryEntry(
        h.field, h.old_value, h.new_value, h.changed_by, h.changed_at, h.note, h.version, h.effective_on
    )


def load_action(session: Session, force: Force, reference: str) -> Action | None:
    # populate_existing: a row cached in this session's identity map must not hide a newer committed version.
    stmt = (
        select(Action)
        .where(Action.force == force.slug, Action.reference == normalise_reference(reference))
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).one_or_none()


def lock_references(session: Session, force: Force) -> None:
    """Hold the reference-allocation lock of ``force`` until the transaction ends.

    PostgreSQL: a transaction-scoped advisory lock keyed on the force. SQLite: a write statement that touches no
    row still takes the database's write lock, so the read of the highest number and the insert cannot interleave
    with another writer (savepoints are unreliable under pysqlite, so no insert-and-retry)."""
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(f"mo-bot:action-ref:{force.slug}".encode())
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
    else:
        session.execute(text("UPDATE action SET version = version WHERE 1 = 0"))


def next_reference(session: Session, force: Force) -> str:
    """The next free ``A-<n>`` of this force (one more than the highest number in use)."""
    refs = session.scalars(select(Action.reference).where(Action.force == force.slug)).all()
    numbers = [int(m[1]) for r in refs if (m := _REF.match(r))]
    return f"A-{max(numbers, default=0) + 1}"


def _audit(session: Session, actor: Actor, force: Force, outcome: str, detail: str, at: dt.datetime) -> None:
    record(
        session,
        AuditEntry(
            actor=actor.id,
            action="change",
            outcome=outcome,
            detail=detail,
            force=force.slug,
            team_id=actor.team_id,
            channel_id=actor.channel_id,
        ),
        at,
    )


def _refuse(session: Session, actor: Actor, force: Force, what: str, refusal: Refusal, at: dt.datetime) -> ChangeResult:
    outcome = "invalid" if refusal.code in ("invalid", "unchanged") else "refused"
    _audit(session, actor, force, outcome, f"{what}: {refusal.code}: {refusal.reason}"[:1000], at)
    return ChangeResult(action=refusal.current, refusal=refusal)


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    v = value.strip()
    return v or None


def create_action(session: Session, force: Force, actor: Actor, new: NewAction, clock: Clock) -> ChangeResult:
    """Add an action to the log with the next free reference. Any member may add one (adding is low-risk and
    the history says who did); changing it afterwards is for its owner and admins."""
    now = clock.now()
    today = today_in(clock, force.timezone)
    if new.once is not None and taken(session, once_key(new.once)):
        return _refuse(session, actor, force, "create action", done_refusal(), now)
    title = " ".join(new.title.split())
    pillar = rules.resolve_pillar(new.pillar) if new.pillar else None
    checks = [
        rules.check_printable({"title": new.title, "detail": new.detail, "source": new.source, "note": new.note}),
        rules.check_title(title),
    ]
    if pillar is None:
        checks.append(
            Refusal("invalid", f"{new.pillar!r} is not a pillar; choose {rules.pillar_choices()}", field="pillar")
        )
    if new.status not in ("open", "ongoing", "held"):
        checks.append(Refusal("invalid", "a new action starts as open, ongoing or held", field="status"))
    if new.kind not in ("action", "hmic"):
        checks.append(Refusal("invalid", "a new item is an action or an HMIC recommendation (hmic)", field="kind"))
    checks.append(rules.check_note(new.status, _clean(new.note)))
    if new.due_on is not None:
        checks.append(rules.check_due(new.due_on, today))
    if new.owner_user_id is not None:
        checks.append(
            rules.check_user(new.owner_user_id) or rules.check_owner(force, new.owner_user_id, new.owner_teams, actor)
        )
    for refusal in checks:
        if refusal is not None:
            return _refuse(session, actor, force, "create action", refusal, now)
    assert pillar is not None
    if new.once is not None and not claim_in(session, once_key(new.once), now):
        return _refuse(session, actor, force, "create action", done_refusal(), now)
    initials = new.owner_initials.strip().upper() if new.owner_initials else None
    if initials is None and new.owner_user_id:
        initials = owner_by_user(force, new.owner_user_id)[0]  # named by their Slack user: the log's initials
    owner = new.owner_user_id or effective_owner(force, None, initials)
    note = _clean(new.note)

    # Two people adding at once must not pick the same number: serialise allocation per force for the rest of
    # this transaction, then read the highest number in use.
    lock_references(session, force)
    row = Action(
        force=force.slug,
        reference=next_reference(session, force),
        pillar=pillar,
        title=title,
        detail=_clean(new.detail),
        owner_initials=initials,
        owner_user_id=owner,
        status=new.status,
        due_on=new.due_on,
        source=_clean(new.source),
        notes=note,
        created_by=actor.id,
        created_at=now,
        updated_at=now,
        version=1,
        kind=new.kind,
        recur_months=new.recur_months,
        opened_on=today,
    )
    session.add(row)
    session.flush()
    replace_owners(session, row.id, owner_pairs(initials, new.owner_user_id or None) or owner_pairs(None, owner))
    session.refresh(row, ["owners"])
    h = ActionHistory(
        action_id=row.id,
        field="created",
        old_value=None,
        new_value=new.status,
        changed_by=actor.id,
        changed_at=now,
        note=note,
        version=1,
    )
    session.add(h)
    session.flush()
    _audit(session, actor, force, "ok", f"create {row.reference} ({pillar}, {new.status})", now)
    return ChangeResult(action=to_view(force, row, today), written=(to_entry(h),))


def once_key(once: str) -> str:
    """The claim key of a change asked for by the interaction ``once`` (shared table: keep it apart from others)."""
    return f"once:{once}"


def done_refusal() -> Refusal:
    return Refusal("done", "this request was already carried out; it arrived again and nothing was changed twice")


def _fmt(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def change_action(session: Session, force: Force, actor: Actor, change: ActionChange, clock: Clock) -> ChangeResult:
    """Apply ``change`` if the writer saw the current version, may change the action, and the change is valid."""
    now = clock.now()
    today = today_in(clock, force.timezone)
    ref = normalise_reference(change.reference)
    what = f"change {ref}"
    row = load_action(session, force, ref)
    if row is None:
        return _refuse(session, actor, force, what, Refusal("not_found", f"there is no action {ref}"), now)
    current = to_view(force, row, today)
    if change.once is not None and taken(session, once_key(change.once)):
        # Before the version check: a replay of a change that was made finds the version moved on by itself.
        return _refuse(session, actor, force, what, replace(done_refusal(), current=current), now)
    if row.version != change.seen_version:
        since = history_since(session, row.id, change.seen_version)
        if since and change.seen_version < row.version and all(h.changed_by == actor.id for h in since):
            # Everything since the version they saw is their own doing (a second click on a list not yet
            # redrawn): they know it, so it is not a conflict with anyone.
            change = replace(change, seen_version=row.version)
        else:
            stale = stale_refusal(session, force, row, change.seen_version, today, me=actor.id)
            return _refuse(session, actor, force, what, stale, now)
    refusal = rules.check_may_change(current, actor)
    if refusal is None:
        refusal = _validate(force, current, change, actor, today)
    if refusal is not None:
        return _refuse(session, actor, force, what, replace(refusal, current=current), now)

    note = _clean(change.note)
    values: dict[str, object] = {}
    new_owners: list[tuple[str | None, str | None]] | None = None
    if change.status is not None:
        values["status"] = change.status
        if change.status == "complete":
            values["completed_on"] = change.on or today
        elif row.completed_on is not None:
            values["completed_on"] = None  # reopened: it is no longer complete
    if change.remove_owner is not None:
        stored = [(o.initials, o.user_id) for o in row.owners] or owner_pairs(row.owner_initials, row.owner_user_id)
        remaining = [(i, u) for i, u in stored if not _is_owner(force, i, u, change.remove_owner)]
        new_owners = remaining
        # The action's own owner columns follow its first remaining owner (they name it where the rows don't).
        values["owner_user_id"] = remaining[0][1]
        if row.owner_initials != remaining[0][0]:
            values["owner_initials"] = remaining[0][0]
    elif change.owner_user_id is not None and change.add_owner:
        if change.owner_user_id not in current.owner_ids:
            new_owners = [(o.initials, o.user_id) for o in row.owners] + [owner_by_user(force, change.owner_user_id)]
            values["owner_user_id"] = row.owner_user_id  # recorded in the history as the owners' change
    elif change.owner_user_id is not None and (
        change.owner_user_id != current.owner_user_id or len(current.owners) > 1
    ):
        values["owner_user_id"] = change.owner_user_id
        # The initials named the previous owners; keep them only if they map to the new one, else the new one's.
        if row.owner_initials and force.owners.get(row.owner_initials.upper()) == change.owner_user_id:
            new_owners = [(row.owner_initials.upper(), change.owner_user_id)]
        else:
            new_owners = [owner_by_user(force, change.owner_user_id)]
        if new_owners[0][0] != row.owner_initials:
            values["owner_initials"] = new_owners[0][0]
    if change.clear_due and row.due_on is not None:
        values["due_on"] = None
    elif change.due_on is not None and change.due_on != row.due_on:
        values["due_on"] = change.due_on
    for name in ("title", "detail", "source", "evidence"):
        new_value = getattr(change, name)
        if new_value is not None:
            new_value = " ".join(new_value.split()) if name == "title" else _clean(new_value)
            if new_value != getattr(row, name):
                values[name] = new_value
    if change.pillar is not None:
        pillar = rules.resolve_pillar(change.pillar)
        if pillar != row.pillar:
            values["pillar"] = pillar
    if note is not None:
        values["notes"] = note
    if not values:
        return _refuse(
            session,
            actor,
            force,
            what,
            Refusal("unchanged", "nothing to change: every value is as it was", None, current),
            now,
        )

    if change.once is not None and not claim_in(session, once_key(change.once), now):
        return _refuse(session, actor, force, what, replace(done_refusal(), current=current), now)
    old: dict[str, object] = {k: getattr(row, k) for k in values}
    if "owner_user_id" in values:
        old["owner_user_id"] = current.owner_label
    warnings: list[str] = []
    due = values.get("due_on")
    if isinstance(due, dt.date) and due < today:
        warnings.append(f"the due date {due.isoformat()} has already passed: {ref} shows as overdue")
    new_version = row.version + 1
    if not apply_if_version(session, row.id, change.seen_version, {**values, "updated_at": now}):
        # Someone committed between our read and our write.
        row = load_action(session, force, ref)
        assert row is not None
        stale = stale_refusal(session, force, row, change.seen_version, today, me=actor.id)
        return _refuse(session, actor, force, what, stale, now)

    if new_owners is not None:
        replace_owners(session, row.id, new_owners)
    written: list[ActionHistory] = []
    for name, new_value in values.items():
        if name == "notes":
            continue  # the note travels on every row of this change
        if name == "owner_initials":
            continue  # recorded as part of the owner change
        if name == "owner_user_id" and new_owners is not None:
            new_value = " & ".join(i or u or "" for i, u in new_owners)
        written.append(
            ActionHistory(
                action_id=row.id,
                field="owner" if name == "owner_user_id" else name,
                old_value=_fmt(old[name]),
                new_value=_fmt(new_value),
                changed_by=actor.id,
                changed_at=now,
                note=note,
                version=new_version,
                effective_on=change.on,
            )
        )
    if not written:  # a note on its own
        written.append(
            ActionHistory(
                action_id=row.id,
                field="note",
                old_value=None,
                new_value=None,
                changed_by=actor.id,
                changed_at=now,
                note=note,
                version=new_version,
                effective_on=change.on,
            )
        )
    session.add_all(written)
    session.flush()
    fresh = load_action(session, force, ref)
    assert fresh is not None
    session.refresh(fresh, ["owners"])
    fields = ", ".join(
        f"{h.field} {h.old_value or '-'}→{h.new_value or '-'}" if h.field in ("status", "pillar") else h.field
        for h in written
    )
    dated = f" dated {change.on.isoformat()}" if change.on else ""
    _audit(session, actor, force, "ok", f"{what}: {fields}{dated}", now)
    return ChangeResult(
        action=to_view(force, fresh, today),
        written=tuple(to_entry(h) for h in written),
        warnings=tuple(warnings),
    )


def _is_owner(force: Force, initials: str | None, user_id: str | None, who: str) -> bool:
    """Whether the owner (initials, Slack user) is ``who``: a Slack user, or initials (also through the mapping)."""
    mapped = user_id or (force.owners.get(initials.upper()) if initials else None)
    return who == mapped or (initials is not None and who.upper() == initials.upper())


def _check_remove(force: Force, current: ActionView, who: str) -> Refusal | None:
    if not any(_is_owner(force, o.initials, o.user_id, who) for o in current.owners):
        return Refusal("invalid", f"{who} is not an owner of {current.reference} (its owners: "
                       f"{current.owner_label or 'none'})", field="owner")  # fmt: skip
    if all(_is_owner(force, o.initials, o.user_id, who) for o in current.owners):
        return Refusal("invalid", f"{current.reference} would have no owner left; use --owner to hand it to "
                       "someone else", field="owner")  # fmt: skip
    return None


def _validate(force: Force, current: ActionView, change: ActionChange, actor: Actor, today: dt.date) -> Refusal | None:
    note = _clean(change.note)
    if change.remove_owner is not None and (refusal := _check_remove(force, current, change.remove_owner)):
        return refusal
    fields = {"title": change.title, "detail": change.detail, "source": change.source, "evidence": change.evidence,
              "note": change.note}  # fmt: skip
    if refusal := rules.check_printable(fields):
        return refusal
    if change.status is not None:
        refusal = rules.check_transition(current.status, change.status, actor)
        if refusal is not None:
            return refusal
    elif current.status in ("complete", "cancelled") and not actor.is_admin:
        return Refusal(
            "not_allowed", f"{current.reference} is {current.status}; only an admin (the chair) can change it now"
        )
    refusal = rules.check_note(change.status or "", note)
    if refusal is not None:
        return refusal
    if change.owner_user_id is not None and (
        refusal := rules.check_user(change.owner_user_id)
        or rules.check_owner(force, change.owner_user_id, change.owner_teams, actor)
    ):
        return refusal
    if change.on is not None and (refusal := rules.check_on(change.on, current.opened_on, today)):
        return refusal
    if (
        change.due_on is not None
        and change.due_on != current.due_on
        and (refusal := rules.check_due(change.due_on, today, history=change.on is not None))
    ):
        return refusal
    if change.title is not None and (refusal := rules.check_title(" ".join(change.title.split()))):
        return refusal
    if change.pillar is not None and rules.resolve_pillar(change.pillar) is None:
        return Refusal("invalid", f"{change.pillar!r} is not a pillar; choose {rules.pillar_choices()}", field="pillar")
    if change.status in NOTE_REQUIRED and not note:  # pragma: no cover - check_note covers it
        return Refusal("invalid", f"setting an action to {change.status} needs a note saying why", field="note")
    return None


def apply_if_version(session: Session, action_id: int, seen_version: int, values: dict[str, object]) -> bool:
    """``UPDATE action SET … , version = version + 1 WHERE id = :id AND version = :seen``; True if it applied."""
    stmt = (
        update(Action)
        .where(Action.id == action_id, Action.version == seen_version)
        .values(**values, version=Action.version + 1)
        .execution_options(synchronize_session=False)
    )
    return rowcount(session.execute(stmt)) == 1


def history_since(session: Session, action_id: int, version: int) -> tuple[HistoryEntry, ...]:
    """History written after the writer's ``version``: rows stamped with a later version, and unstamped rows
    (a writer that does not stamp versions, e.g. an import) written after the last row of that version."""
    last_seen = (
        select(func.coalesce(func.max(ActionHistory.id), 0))
        .where(ActionHistory.action_id == action_id, ActionHistory.version <= version)
        .scalar_subquery()
    )
    rows = session.scalars(
        select(ActionHistory)
        .where(
            ActionHistory.action_id == action_id,
            or_(
                ActionHistory.version > version,
                and_(ActionHistory.version.is_(None), ActionHistory.id > last_seen),
            ),
        )
        .order_by(ActionHistory.id)
    )
    return tuple(to_entry(h) for h in rows)


def stale_refusal(
    session: Session, force: Force, row: Action, seen: int, today: dt.date, me: str | None = None
) -> Refusal:
    since = history_since(session, row.id, seen)
    who = sorted({h.changed_by for h in since} - {me})
    by = f" by {', '.join(who)}" if who else ""
    if who and me in {h.changed_by for h in since}:
        by += " (and by you)"
    return Refusal(
        "stale",
        f"{row.reference} was changed{by} after you opened it (you saw version {seen}, it is now version "
        f"{row.version}); nothing was overwritten — here is what changed and where it stands now",
        current=to_view(force, row, today),
        changes_since=since,
    )
