"""Watches: a line on one `/mo` count that a person asked to be told about after each import.

``/mo watch rui --district ipswich --older-than 12m --above 50`` (or ``--below 20``, ``--change-above 10%``) stores
the figure's filters and the line; after each import of the force, :func:`check_watches` recomputes each watch's
figure with the same figures services as the answers and, when the figure changed and crossed the line, returns a
:class:`Firing` — once: the watch is then disarmed until the figure is back on the other side (``armed``). A watch
on a change fires when the figure moved by more than the percentage since the previous import.

The rules are applied when a watch fires, not only when it was made: the caller says, for each watcher, whether
they may still be told (their workspace still the watch's force, their role still :data:`WATCH_ROLE` or above). A
watcher who may not is not told; the figure is still followed, so a watch whose owner regains the role does not
fire for a crossing it already saw. Plain functions over a Session; no Slack here (the job sends the DMs).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config import Config, Force
from bot.dates import age_days, age_words
from bot.figures import Filters, bail_figures, suspect_figures, wanted_figures
from bot.models import Watch

FIGURES = ("wanted", "suspects", "bail", "rui")
KINDS = ("above", "below", "change_above")
WATCH_ROLE = "analyst"  # standing requests for figures, told outside any conversation: analysts and admins
MAX_WATCHES = 20  # per person and force
_AGE = re.compile(r"^(\d{1,4})([dwm])$")


@dataclass(frozen=True)
class WatchSpec:
    figure: str
    kind: str
    threshold: int  # a count; a percentage for change_above
    district: str | None = None
    offence: str | None = None
    reason: str | None = None
    older_than: str | None = None  # "12m", "90d", "6w"

    def command(self) -> str:
        """The watch as the `/mo watch` command that makes it."""
        parts = ["watch", self.figure]
        for flag, value in (
            ("--district", self.district),
            ("--offence", self.offence),
            ("--reason", self.reason),
            ("--older-than", self.older_than),
        ):
            if value:
                parts += [flag, value]
        line = f"{self.threshold}%" if self.kind == "change_above" else str(self.threshold)
        parts += [f"--{self.kind.replace('_', '-')}", line]
        return " ".join(parts)

    def answer_command(self) -> str:
        """The `/mo` question whose headline figure the watch follows (the watch command without its line)."""
        return self.command().split(" ", 1)[1].rsplit(" --", 1)[0]


def spec_of(w: Watch) -> WatchSpec:
    return WatchSpec(w.figure, w.kind, w.threshold, w.district, w.offence, w.reason, w.older_than)


def _age(age: str) -> tuple[int, str]:
    m = _AGE.match(age)
    if not m:
        raise ValueError(f"not an age: {age!r}")
    return int(m[1]), m[2]


def older_days(age: str, as_of: dt.date) -> int:
    """Days in a stored age ("12m", "90d", "6w") back from ``as_of``, as `/mo --older-than` counts them."""
    return age_days(*_age(age), as_of)


def older_words(age: str) -> str:
    """A stored age as the answers say it: "12 months"."""
    return age_words(*_age(age))


def figure_value(session: Session, config: Config, force: Force, spec: WatchSpec, as_of: dt.date) -> int:
    """The count the watch follows: the headline figure of the `/mo` answer under the same filters."""
    filters = Filters(
        district=spec.district,
        offence=spec.offence,
        reason=spec.reason,
        older_than_days=older_days(spec.older_than, as_of) if spec.older_than else None,
    )
    if spec.figure == "wanted":
        return wanted_figures(session, force, as_of, filters, review_days=config.wanted_review_days).open
    if spec.figure == "suspects":
        return suspect_figures(session, force, as_of, filters).open
    bail = bail_figures(session, force, as_of, filters, ending_within_days=config.bail_window())
    return bail.active_rui if spec.figure == "rui" else bail.active_bail


def holds(kind: str, threshold: int, value: int, previous: int | None) -> bool:
    """Whether the figure is past the line (for a change: moved by more than ``threshold`` % since ``previous``)."""
    if kind == "above":
        return value > threshold
    if kind == "below":
        return value < threshold
    if previous is None:
        return False
    if previous == 0:
        return value != 0
    return abs(value - previous) * 100 > threshold * previous


class TooManyWatches(Exception):
    pass


def add_watch(
    session: Session,
    config: Config,
    force: Force,
    user_id: str,
    team_id: str | None,
    spec: WatchSpec,
    today: dt.date,
    now: dt.datetime,
) -> tuple[Watch, int]:
    """A new watch and the figure now. Already past the line now is not a crossing: it fires once the figure has
    been back on the other side. Raises TooManyWatches past :data:`MAX_WATCHES`."""
    count = session.scalar(
        select(func.count())
        .select_from(Watch)
        .where(Watch.force == force.slug, Watch.user_id == user_id, Watch.removed_at.is_(None))
    )
    if (count or 0) >= MAX_WATCHES:
        raise TooManyWatches(f"you have {count} watches already (at most {MAX_WATCHES}); remove one first")
    value = figure_value(session, config, force, spec, today)
    w = Watch(
        force=force.slug,
        team_id=team_id,
        user_id=user_id,
        figure=spec.figure,
        district=spec.district,
        offence=spec.offence,
        reason=spec.reason,
        older_than=spec.older_than,
        kind=spec.kind,
        threshold=spec.threshold,
        created_at=now,
        last_value=value,
        armed=not holds(spec.kind, spec.threshold, value, None),
    )
    session.add(w)
    session.flush()
    return w, value


@dataclass(frozen=True)
class WatchView:
    id: int
    command: str
    last_value: int | None
    armed: bool


def user_watches(session: Session, force: Force, user_id: str) -> list[WatchView]:
    rows = session.scalars(
        select(Watch)
        .where(Watch.force == force.slug, Watch.user_id == user_id, Watch.removed_at.is_(None))
        .order_by(Watch.id)
    )
    return [WatchView(w.id, spec_of(w).command(), w.last_value, w.armed) for w in rows]


def remove_watch(session: Session, force: Force, user_id: str, watch_id: int, now: dt.datetime) -> WatchSpec | None:
    """Remove the asker's own watch (of their force); None when there is no such watch of theirs."""
    w = session.get(Watch, watch_id)
    if w is None or w.force != force.slug or w.user_id != user_id or w.removed_at is not None:
        return None
    w.removed_at = now
    return spec_of(w)


@dataclass(frozen=True)
class Firing:
    watch_id: int
    user_id: str
    command: str
    value: int
    previous: int | None
    spec: WatchSpec | None = None  # what the watch follows, for the answer shown with the DM


@dataclass(frozen=True)
class NotTold:
    watch_id: int
    user_id: str
    command: str
    why: str


@dataclass(frozen=True)
class Checked:
    fired: list[Firing]
    not_told: list[NotTold]
    watches: int


def check_watches(
    session: Session,
    config: Config,
    force: Force,
    as_of: dt.date,
    now: dt.datetime,
    may_be_told: Callable[[str, str | None], str | None],
) -> Checked:
    """Recompute every active watch of ``force`` and move its state; the crossings to tell. ``may_be_told(user,
    team)`` is None, or why that watcher may not be told now. Runs in the caller's transaction."""
    fired: list[Firing] = []
    not_told: list[NotTold] = []
    rows = list(
        session.scalars(select(Watch).where(Watch.force == force.slug, Watch.removed_at.is_(None)).order_by(Watch.id))
    )
    values: dict[WatchSpec, int] = {}
    for w in rows:
        spec = spec_of(w)
        key = WatchSpec(spec.figure, "above", 0, spec.district, spec.offence, spec.reason, spec.older_than)
        if key not in values:
            values[key] = figure_value(session, config, force, spec, as_of)
        value, previous = values[key], w.last_value
        if value == previous:
            continue
        past = holds(w.kind, w.threshold, value, previous)
        if past and w.armed:
            why = may_be_told(w.user_id, w.team_id)
            if why is None:
                fired.append(Firing(w.id, w.user_id, spec.command(), value, previous, spec))
                w.fired_at = now
            else:
                not_told.append(NotTold(w.id, w.user_id, spec.command(), why))
            w.armed = False
        elif not past:
            w.armed = True
        w.last_value = value
    session.flush()
    return Checked(fired, not_told, len(rows))
