"""The action log's rules, as pure functions: which status may follow which, who may change what, and what
a valid title, pillar, note or due date is. Each refusal says why, in words a user can act on."""

from __future__ import annotations

import datetime as dt
import re

from bot.action_log.types import (
    NOTE_MAX,
    NOTE_REQUIRED,
    PILLARS,
    STATUSES,
    TITLE_MAX,
    ActionView,
    Actor,
    Refusal,
)
from bot.config import Force
from bot.importing.columns import VOCABULARIES
from bot.text import first_control

# Allowed status transitions. Reopening a completed or cancelled action rewrites what the subgroup has already
# signed off (completed actions become its Achievements), so only an admin (the chair) may do it, and only to
# the working states named here. An action once started does not go back to "open": hold it (with a reason).
TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"ongoing", "held", "complete", "cancelled"}),
    "ongoing": frozenset({"held", "complete", "cancelled"}),
    "held": frozenset({"ongoing", "complete", "cancelled"}),
    "complete": frozenset({"ongoing"}),
    "cancelled": frozenset({"open", "ongoing"}),
}
ADMIN_ONLY_FROM: frozenset[str] = frozenset({"complete", "cancelled"})

_PILLAR_ALIASES: dict[str, str] = {}


def _key(value: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", value.lower().replace("&", " and ")).split())


def _pillar_aliases() -> dict[str, str]:
    if not _PILLAR_ALIASES:
        for slug, label in PILLARS.items():
            _PILLAR_ALIASES[_key(slug)] = slug
            _PILLAR_ALIASES[_key(label)] = slug
        # The importer's vocabulary is the one list of spellings seen in the subgroup's papers.
        for slug, spellings in VOCABULARIES["pillar"].items():
            for s in spellings:
                _PILLAR_ALIASES.setdefault(_key(s), slug)
    return _PILLAR_ALIASES


def resolve_pillar(value: str) -> str | None:
    """A pillar slug from its slug, long name or a known spelling (``Divert & Deter`` → ``divert``)."""
    return _pillar_aliases().get(_key(value))


def pillar_choices() -> str:
    return ", ".join(f"{slug} ({label})" for slug, label in PILLARS.items())


def check_transition(current: str, new: str, actor: Actor) -> Refusal | None:
    if new not in STATUSES:
        return Refusal("invalid", f"{new!r} is not a status; choose one of {', '.join(STATUSES)}", field="status")
    if new == current:
        return Refusal("unchanged", f"the action is already {current}", field="status")
    if new not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none"
        why = ""
        if current in ("ongoing", "held") and new == "open":
            why = " — an action once started does not go back to open; set it to held with a note instead"
        return Refusal(
            "transition",
            f"an action that is {current} can't be set to {new}{why} (from {current}: {allowed})",
            field="status",
        )
    if current in ADMIN_ONLY_FROM and not actor.is_admin:
        return Refusal(
            "not_allowed",
            f"only an admin (the chair) can reopen a {current} action: it is part of the record the subgroup "
            "has signed off",
            field="status",
        )
    return None


def check_note(status: str, note: str | None) -> Refusal | None:
    if note is not None and len(note) > NOTE_MAX:
        return Refusal("invalid", f"the note is longer than {NOTE_MAX} characters", field="note")
    if status in NOTE_REQUIRED and not (note and note.strip()):
        return Refusal("invalid", f"setting an action to {status} needs a note saying why", field="note")
    return None


def check_printable(fields: dict[str, str | None]) -> Refusal | None:
    """Refuse a field holding a control character (:mod:`bot.text`): a form or a command can carry one that the
    `/mo` text check never sees, and a NUL would fail the change's statement (and its audit row) on PostgreSQL."""
    for field, value in fields.items():
        if value and (name := first_control(value)) is not None:
            return Refusal("invalid", f"the {field} contains a control character, {name}: retype it", field=field)
    return None


def check_title(title: str) -> Refusal | None:
    if not title.strip():
        return Refusal("invalid", "the title is empty", field="title")
    if len(title) > TITLE_MAX:
        return Refusal("invalid", f"the title is longer than {TITLE_MAX} characters", field="title")
    return None


def check_due(due: dt.date, today: dt.date, history: bool = False) -> Refusal | None:
    """A due date set by a person must not already have passed (imports of old logs are not checked) — unless the
    change is dated in the past (``history``: bringing the log up to date), when the caller warns instead."""
    if due < today and not history:
        return Refusal(
            "invalid",
            f"the due date {due.isoformat()} has already passed; pick today ({today.isoformat()}) or later",
            field="due_on",
        )
    if due.year > today.year + 10:
        return Refusal("invalid", f"the due date {due.isoformat()} is more than ten years away", field="due_on")
    return None


_USER = re.compile(r"^[UW][A-Z0-9]{2,31}$")


# Told apart from an owner's initials (which may start with U or W: "WB", "UK", "WJB"): a digit among the characters,
# or nine or more of them, as Slack's IDs have.
_USER_NOT_INITIALS = re.compile(r"^[UW](?:(?=[A-Z0-9]*\d)[A-Z0-9]{2,}|[A-Z0-9]{8,})$")


def is_user_id(text: str) -> bool:
    """Whether ``text`` is a Slack user ID rather than initials."""
    return _USER_NOT_INITIALS.match(text) is not None


def check_user(user_id: str) -> Refusal | None:
    if not _USER.match(user_id):
        return Refusal("invalid", f"{user_id!r} is not a Slack user ID", field="owner")
    return None


def check_owner(force: Force, owner: str, owner_teams: tuple[str, ...], actor: Actor) -> Refusal | None:
    """An action's owner belongs to its force: mapped in the force's ``owners`` config, a member of one of its
    Slack workspaces (``owner_teams``, as Slack reports the owner's), or the person acting (whose workspace made
    them a user of this force). Anyone else would be shown the force's actions (App Home, reminder DMs) and could
    be mistaken for one of its people."""
    if owner in force.owners.values():
        return None
    if owner == actor.id and actor.team_id is not None and actor.team_id in force.slack_team_ids:
        return None
    if any(team in force.slack_team_ids for team in owner_teams):
        return None
    return Refusal(
        "not_allowed",
        f"{owner} is not a member of {force.name}'s Slack workspace, so they can't own its actions; "
        "choose someone from the force",
        field="owner",
    )


def check_on(on: dt.date, opened_on: dt.date | None, today: dt.date) -> Refusal | None:
    """A change dated in the past (``--on``) may not be in the future nor before the action existed."""
    if on > today:
        return Refusal(
            "invalid", f"--on {on.isoformat()} is in the future; a change can be dated today or earlier", field="on"
        )
    if opened_on is not None and on < opened_on:
        return Refusal(
            "invalid",
            f"--on {on.isoformat()} is before the action existed (it is in the log from {opened_on.isoformat()})",
            field="on",
        )
    return None


def check_may_change(action: ActionView, actor: Actor) -> Refusal | None:
    """Any of the owners and admins may change an action; anyone else may only read it."""
    if actor.is_admin:
        return None
    if actor.id in action.owner_ids:
        return None
    if not action.owner_ids:
        who = action.owner_label if action.owners or action.owner_initials else "nobody"
        has = "have" if len(action.owners) > 1 else "has"
        return Refusal(
            "not_allowed",
            f"{action.reference} is owned by {who}, who {has} no Slack user mapped yet, so only an admin (the chair) "
            f"can change it; an admin can map {who} in the force's `owners` config",
        )
    if actor.id not in action.owner_ids:
        return Refusal(
            "not_allowed",
            f"only {action.reference}'s owner or an admin (the chair) can change it; you can still read it",
        )
    return None
