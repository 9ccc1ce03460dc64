"""The monthly summary's content: figures at a month's end against the previous month's end, the series the
charts plot, and the data time — as plain dataclasses, so the Slack renderer, the CLI (papers) and the chart
module all show the same numbers. Every figure comes from the figures services (bot.figures); only the
action-log counts are queried here, because the action service answers "now", not "at a past month end".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from bot.action_log.types import LIVE_STATUSES, PILLARS, STATUSES
from bot.clock import today_in
from bot.config import Config, Force
from bot.dates import add_months, month_end
from bot.figures.bail import length_band_ranges
from bot.figures.series import monthly_series
from bot.figures.source import BAIL, count_open_where, open_rows, row_conditions
from bot.figures.types import KINDS, LENGTH_BANDS, Filters, MonthPoint
from bot.freshness import data_as_of
from bot.models import Action, BailPeriod
from bot.runtime import Runtime

SERIES_MONTHS = 13
SUMMARY_DATASETS: tuple[str, ...] = ("wanted", "suspects", "bail", "actions")


@dataclass(frozen=True)
class Headline:
    key: str
    label: str
    now: int  # at the month's end
    before: int  # at the previous month's end
    # What "now" counts over: most headlines are "open at the month end"; completed actions count the month.
    note: str = ""

    @property
    def change(self) -> int:
        return self.now - self.before


@dataclass(frozen=True)
class MonthlySummary:
    force: str
    force_name: str
    district: str | None  # a district slug when the summary is narrowed to one district
    district_label: str | None
    month: str  # "YYYY-MM"
    as_of: dt.date  # the month's last day (today, if the month is not over)
    previous_as_of: dt.date  # the previous month's last day
    headlines: tuple[Headline, ...]
    # dataset -> time of its latest import (None: never imported); the charts' footnotes name these.
    data_as_of: dict[str, dt.datetime | None]
    stale: tuple[str, ...]  # datasets older than their refresh interval at the time the summary was made
    wanted_series: tuple[MonthPoint, ...]
    suspects_series: tuple[MonthPoint, ...]
    bail_series: tuple[MonthPoint, ...]
    rui_series: tuple[MonthPoint, ...]
    # kind -> district slug -> length band -> active at the month end (config order, bands in band order)
    length_bands_by_district: dict[str, dict[str, dict[str, int]]]
    district_labels: dict[str, str]
    # pillar -> status -> number of actions (current state of the log)
    actions_by_pillar: dict[str, dict[str, int]] = field(default_factory=dict)
    bail_ending_within_days: int = 14

    @property
    def month_label(self) -> str:
        return dt.datetime.strptime(self.month, "%Y-%m").strftime("%B %Y")

    @property
    def scope_label(self) -> str:
        return f"{self.force_name} — {self.district_label}" if self.district_label else self.force_name

    @property
    def has_data(self) -> bool:
        """False when nothing was open at either month end and nothing opened, closed or fell due in the month:
        the message says so and no charts are posted. (The action log's current state alone does not count —
        it says nothing about the month.)"""
        if any(h.now or h.before for h in self.headlines):
            return True
        last = [s[-1] for s in (self.wanted_series, self.suspects_series, self.bail_series, self.rui_series) if s]
        return any(p.opened or p.closed for p in last)

    def headline(self, key: str) -> Headline:
        for h in self.headlines:
            if h.key == key:
                return h
        raise KeyError(key)

    def latest_data_time(self, datasets: tuple[str, ...] = SUMMARY_DATASETS) -> dt.datetime | None:
        """The oldest of the latest imports of ``datasets``: the figures are no fresher than that."""
        times = [t for d in datasets if (t := self.data_as_of.get(d)) is not None]
        return min(times) if times else None


def parse_month(value: str) -> dt.date:
    """'YYYY-MM' → the month's first day; ValueError naming the expected form."""
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise ValueError(f"{value!r} is not a month in the form YYYY-MM (e.g. 2026-10)") from None


def _action_counts(session: Session, force: str, first: dt.date, last: dt.date) -> tuple[int, int]:
    """(overdue at ``last``, completed between ``first`` and ``last``) for one force.

    Overdue at D: due before D and still being worked on at D — live now, or completed only after D.
    Cancellations carry no date, so a cancelled action is never counted as overdue."""
    a = Action
    overdue_col = func.coalesce(
        func.sum(
            case(
                (
                    and_(
                        a.due_on < last,
                        or_(a.status.in_(LIVE_STATUSES), and_(a.status == "complete", a.completed_on > last)),
                    ),
                    1,
                ),
                else_=0,
            )
        ),
        0,
    )
    done_col = func.coalesce(
        func.sum(case((and_(a.status == "complete", a.completed_on.between(first, last)), 1), else_=0)), 0
    )
    row = session.execute(select(overdue_col, done_col).where(a.force == force)).one()
    return int(row[0]), int(row[1])


def actions_by_pillar(session: Session, force: str) -> dict[str, dict[str, int]]:
    counts = {p: dict.fromkeys(STATUSES, 0) for p in PILLARS}
    rows = session.execute(
        select(Action.pillar, Action.status, func.count())
        .where(Action.force == force)
        .group_by(Action.pillar, Action.status)
    )
    for pillar, status, n in rows:
        counts.setdefault(pillar, dict.fromkeys(STATUSES, 0))
        counts[pillar][status] = counts[pillar].get(status, 0) + int(n)
    return counts


def bail_bands_by_district(
    session: Session, force: Force, at: dt.date, filters: Filters
) -> dict[str, dict[str, dict[str, int]]]:
    """kind -> district -> length band -> bail/RUI periods active at ``at``.

    ``bail_figures`` answers one district at a time and also lists the bail ending soon; the summary needs
    every district at two dates, so this is one GROUP BY over the active rows with one conditional sum per
    band — built from the figures service's own definitions (``open_rows``, ``length_band_ranges``), and
    tests/bot/summary/test_monthly.py checks it equals ``bail_figures`` per district."""
    m = BailPeriod
    conds = [*row_conditions(BAIL, force.slug, at, filters), m.kind.in_(KINDS)]
    rows = open_rows(BAIL, at, conds, m.kind, m.district, m.started_on)
    sums = []
    for after, upto in length_band_ranges(at):
        cond = (
            rows.c.started_on <= upto if after is None else and_(rows.c.started_on <= upto, rows.c.started_on > after)
        )
        sums.append(func.coalesce(func.sum(case((cond, 1), else_=0)), 0))
    out: dict[str, dict[str, dict[str, int]]] = {k: {} for k in KINDS}
    for r in session.execute(select(rows.c.kind, rows.c.district, *sums).group_by(rows.c.kind, rows.c.district)):
        out[r[0]][r[1]] = {band: int(n) for band, n in zip(LENGTH_BANDS, r[2:], strict=True)}
    districts = (filters.district,) if filters.district else force.district_slugs()
    for k in KINDS:
        for d in districts:
            out[k].setdefault(d, dict.fromkeys(LENGTH_BANDS, 0))
    return out


def rui_over_12m_count(session: Session, force: Force, at: dt.date, filters: Filters) -> int:
    """RUI active at ``at`` that started at least 12 months before (``bail_figures``'s over-12m band)."""
    m = BailPeriod
    _, upto = length_band_ranges(at)[-1]
    conds = [*row_conditions(BAIL, force.slug, at, filters), m.kind == "rui"]
    return sum(int(x) for x in session.execute(select(*count_open_where(BAIL, at, conds, m.started_on <= upto))).one())


def bail_ending_soon_count(session: Session, force: Force, at: dt.date, filters: Filters, days: int) -> int:
    """Active pre-charge bail whose bail end date falls in [at, at + days] — ``bail_figures``'s
    ``bail_ending_soon_total``, as two index-range counts instead of a listing."""
    m = BailPeriod
    conds = [*row_conditions(BAIL, force.slug, at, filters), m.kind == "bail"]
    window = [m.bail_end_on >= at, m.bail_end_on <= at + dt.timedelta(days=days)]
    return sum(int(x) for x in session.execute(select(*count_open_where(BAIL, at, conds, *window))).one())


def build_summary(
    session: Session,
    config: Config,
    force: Force,
    month: str,
    today: dt.date,
    now: dt.datetime,
    filters: Filters | None = None,
) -> MonthlySummary:
    """The summary of ``month`` ('YYYY-MM') for ``force``; ``today`` is the force-local date (a month not yet
    over is summarised up to today), ``now`` the clock's time for the staleness flags."""
    filters = filters or Filters()
    first = parse_month(month)
    if first > today:
        raise ValueError(f"{month} has not started yet")
    as_of = min(month_end(first), today)
    prev = month_end(add_months(first, -1))
    soon_days = config.bail_ending_soon_days

    series = {
        "wanted": monthly_series(session, "wanted", force, as_of, SERIES_MONTHS, filters),
        "suspects": monthly_series(session, "suspects", force, as_of, SERIES_MONTHS, filters),
        "bail": monthly_series(session, "bail", force, as_of, SERIES_MONTHS, filters, kind="bail"),
        "rui": monthly_series(session, "bail", force, as_of, SERIES_MONTHS, filters, kind="rui"),
    }
    bands_now = bail_bands_by_district(session, force, as_of, filters)
    overdue_now, done_now = _action_counts(session, force.slug, first, as_of)
    overdue_prev, done_prev = _action_counts(session, force.slug, add_months(first, -1), prev)

    def ends(key: str) -> tuple[int, int]:
        s = series[key]
        return s[-1].open_at_end, s[-2].open_at_end

    headlines = (
        Headline("wanted", "Wanted circulations open", *ends("wanted")),
        Headline("suspects", "Outstanding suspects", *ends("suspects")),
        Headline("active_bail", "Active pre-charge bail", *ends("bail")),
        Headline("active_rui", "Active RUI", *ends("rui")),
        Headline(
            "rui_over_12m",
            "RUI over 12 months",
            sum(b["over-12m"] for b in bands_now["rui"].values()),
            rui_over_12m_count(session, force, prev, filters),
        ),
        Headline(
            "bail_ending_soon",
            f"Bail ending within {soon_days} days",
            bail_ending_soon_count(session, force, as_of, filters, soon_days),
            bail_ending_soon_count(session, force, prev, filters, soon_days),
        ),
        Headline("actions_overdue", "Actions overdue", overdue_now, overdue_prev),
        Headline("actions_completed", "Actions completed", done_now, done_prev, note="in the month"),
    )

    districts = (filters.district,) if filters.district else force.district_slugs()
    # Config order first; districts no longer configured (older data) after them.
    order = [*districts, *sorted(d for d in bands_now["bail"].keys() | bands_now["rui"].keys() if d not in districts)]
    bands = {k: {d: bands_now[k].get(d, dict.fromkeys(LENGTH_BANDS, 0)) for d in order} for k in KINDS}

    times = {ds: data_as_of(session, force.slug, ds) for ds in SUMMARY_DATASETS}
    stale = tuple(
        ds for ds, t in times.items() if t is not None and now - t > dt.timedelta(days=config.refresh_days[ds])
    )
    return MonthlySummary(
        force=force.slug,
        force_name=force.name,
        district=filters.district,
        district_label=force.district_label(filters.district) if filters.district else None,
        month=month,
        as_of=as_of,
        previous_as_of=prev,
        headlines=headlines,
        data_as_of=times,
        stale=stale,
        wanted_series=tuple(series["wanted"]),
        suspects_series=tuple(series["suspects"]),
        bail_series=tuple(series["bail"]),
        rui_series=tuple(series["rui"]),
        length_bands_by_district=bands,
        district_labels={d: force.district_label(d) for d in order},
        actions_by_pillar=actions_by_pillar(session, force.slug),
        bail_ending_within_days=soon_days,
    )


def summary_text(s: MonthlySummary) -> str:
    """Plain text (Markdown-friendly) of the headline figures, for papers and the terminal."""
    lines = [f"# {s.scope_label}: monthly summary, {s.month_label}", ""]
    if not s.has_data:
        lines.append(f"No data for {s.month_label}.")
    else:
        lines.append(f"Figures at {s.as_of:%d %b %Y} against {s.previous_as_of:%d %b %Y}:")
        lines.append("")
        for h in s.headlines:
            label = f"{h.label} ({h.note})" if h.note else h.label
            lines.append(f"- {label}: {h.now:,} (previous month {h.before:,}; {_signed(h.change)})")
    lines.append("")
    lines.append(data_time_line(s))
    return "\n".join(lines) + "\n"


def _signed(n: int) -> str:
    return "no change" if n == 0 else f"{n:+,}"


def data_time_line(s: MonthlySummary) -> str:
    parts = []
    for ds in SUMMARY_DATASETS:
        t = s.data_as_of.get(ds)
        when = f"{t:%d %b %Y %H:%M} UTC" if t else "never imported"
        parts.append(f"{ds} {when}{' (stale)' if ds in s.stale else ''}")
    return "Data as of: " + "; ".join(parts)


def make_summary(rt: Runtime, force: Force, month: str, district: str | None = None) -> MonthlySummary:
    today = today_in(rt.clock, force.timezone)
    with rt.sessions() as session:
        return build_summary(session, rt.config, force, month, today, rt.clock.now(), Filters(district=district))
