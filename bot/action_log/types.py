"""Typed inputs and outputs of the action-log services (no Slack, no SQL here)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bot.models import IMPORT_NOTE_PREFIX

# Pillars of the Managing Offenders strategy (Appendix 1 of the subgroup's report), in the report's order.
PILLARS: dict[str, str] = {
    "detect": "Detect Crime & Create Confidence",
    "divert": "Divert & Deter",
    "deliver": "Deliver a Quality Service",
    "demonstrate": "Demonstrate Compliance & Quality",
}
STATUSES: tuple[str, ...] = ("open", "ongoing", "held", "complete", "cancelled")
# Statuses of an action still being worked on; "overdue" and the default list only consider these.
LIVE_STATUSES: tuple[str, ...] = ("open", "ongoing", "held")
# Reminders skip held actions: they are paused on purpose, with a note saying why.
REMINDED_STATUSES: tuple[str, ...] = ("open", "ongoing")
# These statuses need a note saying why (the history must explain a pause or a cancellation).
NOTE_REQUIRED: frozenset[str] = frozenset({"held", "cancelled"})
# What an item of the log is; each is listed apart and only "action" items count as open actions.
KINDS: tuple[str, ...] = ("action", "achievement", "hmic")
KIND_LABELS: dict[str, str] = {"action": "Actions", "achievement": "Achievements", "hmic": "HMIC Recommendations"}
TITLE_MAX = 500
NOTE_MAX = 2000
DEFAULT_PAGE_SIZE = 12
REMIND_EVERY = dt.timedelta(days=7)
DUE_SOON_DAYS = 7


@dataclass(frozen=True)
class Actor:
    """Who is acting. ``id`` is a Slack user ID, ``cli:<login>`` or ``job:<name>``; ``role`` comes from
    bot.access (viewer | analyst | admin). Team and channel are recorded in the audit log."""

    id: str
    role: str = "viewer"
    team_id: str | None = None
    channel_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class Owner:
    """One owner of an action: the initials the log writes and the Slack user they are (stored, or mapped through
    the force's ``owners`` config); ``user_id`` is None while the initials are not mapped."""

    initials: str | None
    user_id: str | None

    @property
    def label(self) -> str:
        return self.initials or self.user_id or "unassigned"


@dataclass(frozen=True)
class HistoryEntry:
    field: str
    old_value: str | None
    new_value: str | None
    changed_by: str
    changed_at: dt.datetime
    note: str | None
    version: int | None
    effective_on: dt.date | None = None

    @property
    def by_import(self) -> bool:
        """Written by an action-log import (bot.models.IMPORT_NOTE_PREFIX), not by a person on a day."""
        return (self.note or "").startswith(IMPORT_NOTE_PREFIX)

    def day(self, tz: dt.tzinfo) -> dt.date:
        """The day the change took effect: the date it was dated to, else the day it was recorded."""
        return self.effective_on or self.changed_at.astimezone(tz).date()


@dataclass(frozen=True)
class ActionView:
    """One action as shown to a person. ``owner_user_id`` is the effective owner: the stored Slack user, or the
    initials mapped through the force's ``owners`` config; ``None`` means show ``owner_initials``."""

    id: int
    force: str
    reference: str
    pillar: str
    title: str
    detail: str | None
    owner_user_id: str | None
    owner_initials: str | None
    status: str
    due_on: dt.date | None
    completed_on: dt.date | None
    source: str | None
    notes: str | None
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int
    today: dt.date
    owners: tuple[Owner, ...] = ()
    kind: str = "action"
    recur_months: int | None = None
    opened_on: dt.date | None = None
    evidence: str | None = None
    # A person recorded the completion in the bot (its date is the day they gave), rather than an import.
    completion_recorded: bool = False

    @property
    def owner_ids(self) -> tuple[str, ...]:
        """The Slack users among the owners (each may change the action and is reminded of it)."""
        return tuple(dict.fromkeys(o.user_id for o in self.owners if o.user_id))

    @property
    def unmapped_owners(self) -> tuple[str, ...]:
        return tuple(o.initials for o in self.owners if o.user_id is None and o.initials)

    @property
    def pillar_label(self) -> str:
        return PILLARS.get(self.pillar, self.pillar)

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def overdue(self) -> bool:
        return self.is_live and self.due_on is not None and self.due_on < self.today

    @property
    def days_overdue(self) -> int:
        return (self.today - self.due_on).days if self.overdue and self.due_on else 0

    @property
    def owner_label(self) -> str:
        """Plain-text owners: each one's initials when known, else the Slack user ID; else 'unassigned'."""
        if self.owners:
            return " & ".join(o.label for o in self.owners)
        return self.owner_initials or self.owner_user_id or "unassigned"


@dataclass(frozen=True)
class ActionDetail:
    action: ActionView
    history: tuple[HistoryEntry, ...]


@dataclass(frozen=True)
class NewAction:
    """A new action. ``owner_teams`` are the Slack workspaces of ``owner_user_id`` as Slack reports them (the
    caller asks Slack; the rules accept an owner only from the force's own workspaces or owners config).
    ``once`` names the interaction that asked for it (e.g. Slack's trigger or view id): a second request with the
    same key creates nothing."""

    title: str
    pillar: str
    owner_user_id: str | None = None
    owner_initials: str | None = None
    due_on: dt.date | None = None
    detail: str | None = None
    source: str | None = None
    status: str = "open"
    note: str | None = None
    owner_teams: tuple[str, ...] = ()
    once: str | None = None
    kind: str = "action"
    recur_months: int | None = None


@dataclass(frozen=True)
class ActionChange:
    """A change to one action. ``seen_version`` is the version the writer was looking at. ``None`` fields are
    left as they are; ``clear_due`` removes the due date. A change with only ``note`` adds a note.
    ``owner_teams`` and ``once`` as in :class:`NewAction`."""

    reference: str
    seen_version: int
    status: str | None = None
    owner_user_id: str | None = None
    due_on: dt.date | None = None
    clear_due: bool = False
    title: str | None = None
    detail: str | None = None
    pillar: str | None = None
    source: str | None = None
    # The closing evidence of an HMIC recommendation (what showed it was met), as the paper's Evidence column.
    evidence: str | None = None
    note: str | None = None
    owner_teams: tuple[str, ...] = ()
    once: str | None = None
    # The day the change took effect, when it is recorded later (e.g. completed at the last meeting). It may not
    # be in the future nor before the action existed; a past due date is then accepted, with a warning.
    on: dt.date | None = None
    # Added as a further owner (the existing owners stay), rather than replacing them as ``owner_user_id`` does.
    add_owner: bool = False
    # One owner taken off a joint action (a Slack user, or the initials of an owner not yet mapped); the others stay.
    remove_owner: str | None = None


@dataclass(frozen=True)
class Refusal:
    """Why a change was not made. ``code``: not_found | not_allowed | invalid | transition | stale | unchanged |
    done (the same interaction already made it: a replay).
    ``field`` names the input at fault (a modal shows the error next to it). A stale refusal carries the
    current state and the history written since the version the writer saw."""

    code: str
    reason: str
    field: str | None = None
    current: ActionView | None = None
    changes_since: tuple[HistoryEntry, ...] = ()


@dataclass(frozen=True)
class ChangeResult:
    action: ActionView | None
    written: tuple[HistoryEntry, ...] = ()
    refusal: Refusal | None = None
    # Accepted but worth saying (e.g. a due date that has already passed, set while bringing the log up to date).
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.refusal is None


@dataclass(frozen=True)
class ActionFilters:
    """Filters of ``/mo actions``. ``owner`` is a Slack user ID or initials; ``statuses`` empty means live."""

    owner: str | None = None
    statuses: tuple[str, ...] = ()
    pillar: str | None = None
    overdue: bool = False
    due_within_days: int | None = None
    kind: str = "action"  # action | achievement | hmic | all

    def describe(self) -> str:
        parts = [] if self.kind == "action" else [f"kind={self.kind}"]
        if self.owner:
            parts.append(f"owner={self.owner}")
        parts.append("status=" + ",".join(self.statuses or LIVE_STATUSES))
        if self.pillar:
            parts.append(f"pillar={self.pillar}")
        if self.overdue:
            parts.append("overdue")
        if self.due_within_days is not None:
            parts.append(f"due-within={self.due_within_days}d")
        return " ".join(parts)


@dataclass(frozen=True)
class PillarGroup:
    pillar: str
    items: tuple[ActionView, ...]

    @property
    def label(self) -> str:
        return PILLARS.get(self.pillar, self.pillar)


@dataclass(frozen=True)
class ActionPage:
    groups: tuple[PillarGroup, ...]
    page: int  # 1-based
    pages: int
    total: int
    page_size: int
    filters: ActionFilters = field(default_factory=ActionFilters)
    # When nothing of the asked kind matches: how many items of each other kind the same filters match (kind ->
    # count, those above zero), so an empty list can say where the items are (e.g. the detect pillar holds only
    # achievements and HMIC recommendations).
    elsewhere: dict[str, int] = field(default_factory=dict)

    @property
    def items(self) -> tuple[ActionView, ...]:
        return tuple(a for g in self.groups for a in g.items)


@dataclass(frozen=True)
class Overview:
    """Counts of the log by pillar and status, plus live overdue actions per pillar (App Home)."""

    counts: dict[str, dict[str, int]]
    overdue: dict[str, int]


@dataclass(frozen=True)
class OwnerReminder:
    user_id: str
    overdue: tuple[ActionView, ...]
    due_soon: tuple[ActionView, ...]

    @property
    def actions(self) -> tuple[ActionView, ...]:
        return (*self.overdue, *self.due_soon)


@dataclass(frozen=True)
class ReminderPlan:
    reminders: tuple[OwnerReminder, ...]
    # Actions that need a reminder but whose owner has no Slack user yet (shown to the chair, not DMed).
    unmapped: tuple[ActionView, ...] = ()


@dataclass(frozen=True)
class ExportRow:
    pillar: str  # long name
    reference: str
    action: str
    owner: str
    status: str
    due: dt.date | None
    last_update_on: dt.date | None
    last_update: str
