"""Typed inputs and outputs of the action-log services (no Slack, no SQL here)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

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
class HistoryEntry:
    field: str
    old_value: str | None
    new_value: str | None
    changed_by: str
    changed_at: dt.datetime
    note: str | None
    version: int | None


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
        """Plain-text owner: initials when known, else the Slack user ID, else 'unassigned'."""
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
    note: str | None = None
    owner_teams: tuple[str, ...] = ()
    once: str | None = None


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

    def describe(self) -> str:
        parts = []
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
