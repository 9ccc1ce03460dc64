"""The monthly summary's content: figures at a month's end against the previous month's end, the series the
charts plot, and the data time — as plain dataclasses, so the Slack renderer, the CLI (papers) and the chart
module all show the same numbers. Every number comes from a service: the case figures from bot.figures, the
action-log counts from bot.action_log.counts, the data times and their staleness from bot.freshness.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.action_log.counts import counts_by_pillar, log_states, month_actions
from bot.clock import today_in
from bot.config import Config, Force
from bot.coverage import covered_from, month_covered
from bot.dates import add_months, day_month_year, local_time, month_end, month_start, parse_month
from bot.figures.arrests import arrest_split, arrests_text
from bot.figures.bail import bail_figures
from bot.figures.bail_counts import bail_ending_soon_count, length_bands_by_district, rui_over_12m_count
from bot.figures.outcomes import closed_by_outcome
from bot.figures.series import monthly_series
from bot.figures.source import BAIL, SUSPECTS, WANTED
from bot.figures.types import KINDS, LENGTH_BANDS, Filters, MonthPoint
from bot.freshness import ACTION_LOG, dataset_freshness, first_export
from bot.runtime import Runtime

SERIES_MONTHS = 13
SUMMARY_DATASETS: tuple[str, ...] = ("wanted", "suspects", "bail", "actions")


@dataclass(frozen=True)
class Headline:
    key: str
    label: str
    # At the month's end; None when that day is before the dataset's coverage, or the dataset was never imported:
    # what the imports hold then (the cases still open when the data begins) is not the figure.
    now: int | None
    # At the previous month's end; None when that day is before the dataset's coverage (bot/coverage.py): the
    # data cannot say, and a rise from "no data" is not a rise.
    before: int | None
    # What "now" counts over: most headlines are "open at the month end"; completed actions count the month.
    note: str = ""
    covered_from: dt.date | None = None  # the dataset's coverage, named when ``before`` is left out
    # Why ``before`` is left out when the data covers that day but cannot say what it was (see _end_dates_known).
    no_comparison: str = ""
    # Why ``now`` is left out when the data covers the month end but cannot say what it was (see _end_dates_known).
    no_figure: str = ""

    @property
    def change(self) -> int | None:
        return None if self.before is None or self.now is None else self.now - self.before


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
    # dataset -> time of its latest import (None: never imported).
    data_as_of: dict[str, dt.datetime | None]
    # dataset -> the as-of date of the export that import read: how old the data itself is (an export of three weeks
    # ago imported today is three weeks old); the data lines and the charts' footnotes name these first.
    exports_as_of: dict[str, dt.date | None]
    # The force's timezone (IANA name): the import times are given in it, as the `/mo` answers give them.
    timezone: str
    # Datasets older than their refresh interval when the summary was made, by the file's own as-of date or the
    # import time: bot.freshness, as `/mo status` says.
    stale: tuple[str, ...]
    wanted_series: tuple[MonthPoint, ...]
    suspects_series: tuple[MonthPoint, ...]
    bail_series: tuple[MonthPoint, ...]
    rui_series: tuple[MonthPoint, ...]
    # kind -> district slug -> length band -> active at the month end (config order, bands in band order)
    length_bands_by_district: dict[str, dict[str, dict[str, int]]]
    district_labels: dict[str, str]
    bail_ending_within_days: int  # the window of the "bail ending soon" headline (config.bail_ending_soon_days)
    # pillar -> status -> number of actions (current state of the log)
    actions_by_pillar: dict[str, dict[str, int]] = field(default_factory=dict)
    # wanted | suspects | bail | rui -> outcome -> closed (ended) in the month, most first
    outcomes: dict[str, dict[str, int]] = field(default_factory=dict)
    # wanted | suspects | bail -> the first date its data is complete from (bot/coverage.py; None: never
    # imported). The charts leave out the months before it rather than draw them as zeros.
    covered_from: dict[str, dt.date | None] = field(default_factory=dict)
    # The action log lives in the bot: the last update a person made to it in Slack (bot.freshness), when later than
    # its import — then ``data_as_of["actions"]`` is that change and ``exports_as_of["actions"]`` its date — and
    # whether the force keeps an action log at all.
    log_updated_in_bot: dt.datetime | None = None
    log_kept: bool = True
    # Offence group -> RUI active at the month end and running over 12 months (most first; empty when the data does
    # not cover the month end): how long RUI runs by offence type, beside the chart's districts.
    rui_over_12m_by_offence: dict[str, int] = field(default_factory=dict)

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
        # A month before a dataset's coverage has no figure of it, however many rows the imports hold for it.
        series = (
            (self.wanted_series, "wanted"),
            (self.suspects_series, "suspects"),
            (self.bail_series, "bail"),
            (self.rui_series, "bail"),
        )
        return any(s[-1].opened or s[-1].closed for s, ds in series if s and self.month_counted(ds))

    def _series(self, dataset: str) -> tuple[MonthPoint, ...]:
        """``dataset``'s series (wanted, suspects or bail: bail and RUI share their months)."""
        return {"wanted": self.wanted_series, "suspects": self.suspects_series, "bail": self.bail_series}[dataset]

    def month_counted(self, dataset: str) -> bool:
        """Whether ``dataset``'s data covers every day of the month, so that what opened and closed in it counts."""
        return self.first_covered(dataset, whole_month=True) < len(self._series(dataset))

    @property
    def no_data_reason(self) -> str:
        """Why a month has no data: before every dataset's coverage, or nothing happened in it."""
        starts = [d for ds, d in self.covered_from.items() if ds != "actions" and d is not None]
        if not starts:
            return "no wanted, suspects or bail data has been imported"
        if self.as_of < min(starts):
            return f"the imported data is complete only from {day_month_year(min(starts))}"
        return "nothing was open or recorded in the month"

    def first_covered(self, dataset: str, *, whole_month: bool = False) -> int:
        """The index in ``dataset``'s series (wanted, suspects or bail: bail and RUI share their months) of the
        first month its data covers: whose end is covered (the open count at the month end, as the headlines'
        comparison is), or with ``whole_month`` every day of which is (the month's opened and closed: a month
        that coverage starts part-way through would count only its covered days). The series' length when no
        month is covered, or the dataset was never imported."""
        series = self._series(dataset)
        start = self.covered_from.get(dataset)
        for i, p in enumerate(series):
            if month_covered(start, parse_month(p.month), self.as_of, whole_month=whole_month):
                return i
        return len(series)

    def headline(self, key: str) -> Headline:
        for h in self.headlines:
            if h.key == key:
                return h
        raise KeyError(key)

    def oldest_export(self, datasets: tuple[str, ...] = SUMMARY_DATASETS) -> dt.date | None:
        """The earliest as-of date of the exports the latest imports of ``datasets`` read: the figures are no fresher
        than that."""
        dates = [d for ds in datasets if (d := self.exports_as_of.get(ds)) is not None]
        return min(dates) if dates else None

    def data_when(self, dataset: str) -> str:
        """How fresh ``dataset`` is, in words: "5 Dec 2026 (imported 6 Dec 2026 10:00 GMT)", or "never imported"."""
        t, d = self.data_as_of.get(dataset), self.exports_as_of.get(dataset)
        if dataset == ACTION_LOG and not self.log_kept:
            return "none kept"
        if t is None:
            return "never imported"
        if dataset == ACTION_LOG and self.log_updated_in_bot is not None:  # then t is that update
            changed = local_time(t, ZoneInfo(self.timezone))
            return f"{day_month_year(d)} (last updated in Slack {changed})" if d is not None else changed
        imported = local_time(t, ZoneInfo(self.timezone))
        return f"{day_month_year(d)} (imported {imported})" if d is not None else f"imported {imported}"


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
    bands_now = length_bands_by_district(session, force, as_of, filters)
    action_log = log_states(session, force)
    actions_now = month_actions(action_log, first, as_of)
    actions_prev = month_actions(action_log, add_months(first, -1), prev)

    def ends(key: str) -> tuple[int, int]:
        s = series[key]
        return s[-1].open_at_end, s[-2].open_at_end

    headlines: tuple[Headline, ...] = (
        Headline("wanted", "Wanted circulations open", *ends("wanted")),
        Headline("suspects", "Outstanding suspects", *ends("suspects")),
        Headline("active_bail", "Active pre-charge bail", *ends("bail")),
        Headline(
            "lapsed_bail",
            "Lapsed bail (end date passed, no outcome recorded)",
            series["bail"][-1].lapsed_at_end,
            series["bail"][-2].lapsed_at_end,
        ),
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
        # "0 overdue" of a log whose live actions have no due date would read as "all on time".
        Headline(
            "actions_overdue",
            "Actions overdue",
            actions_now.overdue,
            actions_prev.overdue,
            note=f"of those with a due date; {actions_now.undated} live with none" if actions_now.undated else "",
        ),
        Headline(
            "actions_completed", "Actions completed", actions_now.completed, actions_prev.completed, note="in the month"
        ),
    )

    # A comparison with a month end before a dataset's coverage is left out, not shown as a rise.
    coverage = {ds: covered_from(session, force.slug, ds) for ds in ("wanted", "suspects", "bail")}
    headlines = tuple(_within_coverage(h, coverage, prev, as_of) for h in headlines)
    # By offence group, when the headline has a figure (the bail data covers the month end).
    long_rui = (
        bail_figures(session, force, as_of, filters, ending_within_days=soon_days).over_12m_by_offence["rui"]
        if next(h for h in headlines if h.key == "rui_over_12m").now is not None
        else {}
    )
    first_bail = first_export(session, force.slug, "bail")
    headlines = tuple(_end_dates_known(h, first_bail, prev, as_of) for h in headlines)

    districts = (filters.district,) if filters.district else force.district_slugs()
    # Config order first; districts no longer configured (older data) after them.
    order = [*districts, *sorted(d for d in bands_now["bail"].keys() | bands_now["rui"].keys() if d not in districts)]
    bands = {k: {d: bands_now[k].get(d, dict.fromkeys(LENGTH_BANDS, 0)) for d in order} for k in KINDS}

    # The same freshness `/mo status` reports: stale when the data itself is older than the refresh interval by
    # its file's own as-of date (an old export imported today is old data), or when its import is. A dataset
    # never imported is named "never imported" in the data line, not flagged as overdue for refresh.
    # The action log is as fresh as its last update, imported or made in Slack.
    fresh = {f.dataset: f for f in dataset_freshness(session, config, force, now)}
    times = {ds: fresh[ds].updated_at for ds in SUMMARY_DATASETS}
    exports = {ds: fresh[ds].data_date for ds in SUMMARY_DATASETS}
    stale = tuple(ds for ds in SUMMARY_DATASETS if fresh[ds].updated_at is not None and fresh[ds].stale)
    log = fresh[ACTION_LOG]
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
        exports_as_of=exports,
        timezone=force.timezone.key,
        stale=stale,
        wanted_series=tuple(series["wanted"]),
        suspects_series=tuple(series["suspects"]),
        bail_series=tuple(series["bail"]),
        rui_series=tuple(series["rui"]),
        length_bands_by_district=bands,
        district_labels={d: force.district_label(d) for d in order},
        bail_ending_within_days=soon_days,
        actions_by_pillar=counts_by_pillar(session, force.slug),
        outcomes={
            "wanted": closed_by_outcome(session, WANTED, force, as_of, filters),
            "suspects": closed_by_outcome(session, SUSPECTS, force, as_of, filters),
            "bail": closed_by_outcome(session, BAIL, force, as_of, filters, kind="bail"),
            "rui": closed_by_outcome(session, BAIL, force, as_of, filters, kind="rui"),
        },
        covered_from=coverage,
        log_updated_in_bot=log.updated_in_bot if log.updated_since_import else None,
        log_kept=log.kept,
        rui_over_12m_by_offence=long_rui,
    )


HEADLINE_DATASETS = {
    "wanted": "wanted",
    "suspects": "suspects",
    "active_bail": "bail",
    "lapsed_bail": "bail",
    "active_rui": "bail",
    "rui_over_12m": "bail",
    "bail_ending_soon": "bail",
}


def _within_coverage(h: Headline, coverage: dict[str, dt.date | None], prev: dt.date, as_of: dt.date) -> Headline:
    """No figure for a month end the dataset's data does not cover (or a dataset never imported), and no comparison
    with one: a count from the rows the imports hold for such a day is not what was open then."""
    dataset = HEADLINE_DATASETS.get(h.key)
    if dataset is None:
        return h
    start = coverage[dataset]
    if start is None or as_of < start:
        return replace(h, now=None, before=None, covered_from=start)
    if prev < start:
        return replace(h, before=None, covered_from=start)
    return h


# The headlines that count bail by its bail end date, which every extension moves.
BY_BAIL_END_DATE = ("lapsed_bail", "bail_ending_soon")


def _end_dates_known(h: Headline, first_bail_export: dt.date | None, prev: dt.date, as_of: dt.date) -> Headline:
    """No figure, or no comparison, for a headline counted by bail end dates at a month end before the first bail
    export: the end dates then are known only as a later export gives them, after the extensions granted since, so
    the bail that was ending soon (or had lapsed and was extended by a court) at that date is undercounted — a figure
    that reads as fact but is only a floor, and a change that is only the start of the data."""
    if h.key not in BY_BAIL_END_DATE or first_bail_export is None:
        return h
    why = "bail end dates are known only from the first bail export, as of " + day_month_year(first_bail_export)
    if h.now is not None and as_of < first_bail_export:
        return replace(h, now=None, before=None, no_figure=why)
    if h.before is None or prev >= first_bail_export:
        return h
    return replace(h, before=None, no_comparison=why)


def figure_text(h: Headline) -> str:
    """The headline's figure, or why there is none."""
    if h.now is not None:
        return f"{h.now:,}"
    if h.no_figure:
        return f"no figure: {h.no_figure}"
    if h.covered_from is None:
        return "no figure: never imported"
    return f"no figure: no data before {day_month_year(h.covered_from)}"


def comparison_text(h: Headline) -> str:
    """``previous month 4; +27`` — or why there is none."""
    if h.now is None:
        return ""
    if h.before is None:
        if h.no_comparison:
            return f"no comparison: {h.no_comparison}"
        since = f" before {day_month_year(h.covered_from)}" if h.covered_from else ""
        return f"no comparison: no data{since}"
    return f"previous month {h.before:,}; {_signed(h.now - h.before)}"


def headline_text(h: Headline) -> str:
    """``4 (previous month 3; +1)``, or ``no figure: no data before 8 Dec 2024``."""
    comparison = comparison_text(h)
    return f"{figure_text(h)} ({comparison})" if comparison else figure_text(h)


OUTCOME_WORDS = {
    "not_recorded": "not recorded",
    "voluntary_attendance": "voluntary attendance",
    "out_of_court_disposal": "out-of-court disposal",
    "converted_to_rui": "converted to RUI",
    "converted_to_bail": "converted to bail",
    "nfa": "NFA",
    "not_in_export": "no longer in the export",
}


def _not_whole(s: MonthlySummary, dataset: str) -> str:
    """Why the month's closures of ``dataset`` are not counted — its data does not cover every day of the month (the
    cases closed before the data begins are not in it) — or "" when they are."""
    if s.month_counted(dataset):
        return ""
    start = s.covered_from.get(dataset)
    return f"the data is complete only from {day_month_year(start)}" if start else "never imported"


def outcomes_line(s: MonthlySummary) -> str:
    """How the month's cases ended: wanted closed with and without arrest (and those the export gives no outcome
    for), and each dataset's outcomes."""
    parts = []
    for key, verb in (("wanted", "wanted closed"), ("suspects", "suspects dealt with")):
        if gap := _not_whole(s, key):
            parts.append(f"{verb} not counted ({gap})")
            continue
        by = s.outcomes.get(key, {})
        split = arrest_split(by)
        detail = arrests_text(split) if split.closed else "none"
        parts.append(f"{verb} {split.closed:,} ({detail})")
    for key, verb in (("bail", "bail ended"), ("rui", "RUI concluded")):
        if gap := _not_whole(s, "bail"):
            parts.append(f"{verb} not counted ({gap})")
            continue
        by = s.outcomes.get(key, {})
        detail = ", ".join(f"{OUTCOME_WORDS.get(o, o)} {n:,}" for o, n in by.items()) or "none"
        parts.append(f"{verb} {sum(by.values()):,} ({detail})")
    return "Outcomes in the month: " + "; ".join(parts)


def summary_text(s: MonthlySummary) -> str:
    """Plain text (Markdown-friendly) of the headline figures, for papers and the terminal."""
    lines = [f"# {s.scope_label}: monthly summary, {s.month_label}", ""]
    if not s.has_data:
        lines.append(f"No data for {s.month_label}: {s.no_data_reason}.")
    else:
        lines.append(f"Figures at {day_month_year(s.as_of)} against {day_month_year(s.previous_as_of)}:")
        lines.append("")
        for h in s.headlines:
            label = f"{h.label} ({h.note})" if h.note else h.label
            lines.append(f"- {label}: {headline_text(h)}")
            if h.key == "rui_over_12m" and s.rui_over_12m_by_offence:
                lines.append(f"  - by offence group: {long_rui_line(s, prefix=False)}")
        lines.append("")
        lines.append(outcomes_line(s))
    lines.append("")
    lines.append(data_time_line(s))
    return "\n".join(lines) + "\n"


LONG_RUI_TOP = 10  # offence groups named; a force with hundreds would overflow a Slack section (3,000 characters)


def long_rui_line(s: MonthlySummary, *, prefix: bool = True) -> str:
    """ "RUI over 12 months by offence group: Domestic abuse 26 · …" (the month end's; the first ten groups, then how
    many more hold the rest)."""
    items = list(s.rui_over_12m_by_offence.items())
    parts = " · ".join(f"{o} {n:,}" for o, n in items[:LONG_RUI_TOP])
    if len(items) > LONG_RUI_TOP:
        rest = sum(n for _, n in items[LONG_RUI_TOP:])
        parts += f" · and {rest:,} in {len(items) - LONG_RUI_TOP:,} more groups"
    return f"RUI over 12 months by offence group: {parts}" if prefix else parts


def _signed(n: int) -> str:
    return "no change" if n == 0 else f"{n:+,}"


def data_time_line(s: MonthlySummary) -> str:
    parts = [f"{ds} {s.data_when(ds)}{' (stale)' if ds in s.stale else ''}" for ds in SUMMARY_DATASETS]
    return "Data as of: " + "; ".join(parts)


def month_refusal(month: str, today: dt.date) -> str | None:
    """Why no summary of ``month`` (``YYYY-MM``) is made on ``today``, or None. A month not over yet is refused: its
    "in the month" counts (circulated, completed, the last bar of each chart) would stand beside whole months as if
    one. ValueError for a malformed month."""
    first = parse_month(month)
    latest = add_months(month_start(today), -1)
    if first > today:
        return f"{first:%B %Y} has not started yet; the last complete month is {latest:%B %Y}"
    if month_end(first) >= today:
        return (
            f"{first:%B %Y} is not over yet (today is {day_month_year(today)}): a month's summary counts the whole "
            f"month, so it can be made from {day_month_year(month_end(first) + dt.timedelta(days=1))}; the last "
            f"complete month is {latest:%B %Y}, and `/mo wanted`, `/mo bail` and the others answer for today"
        )
    return None


def make_summary(rt: Runtime, force: Force, month: str, district: str | None = None) -> MonthlySummary:
    today = today_in(rt.clock, force.timezone)
    with rt.sessions() as session:
        return build_summary(session, rt.config, force, month, today, rt.clock.now(), Filters(district=district))
