"""Block Kit layouts of the figures answers: wanted, suspects, bail, RUI, dataset status and case lists.

Every number shown comes straight from the figures result it is given; every data-derived label (district,
offence group, reference) is escaped. Breakdown lines have one shape, ``• label: n``, so people scan them the
same way everywhere (and tests read them back).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.config import Force
from bot.dates import day_month_year, local_time
from bot.figures.arrests import arrest_split, arrests_text
from bot.figures.bail import length_band_ranges
from bot.figures.caseload import AGE_BAND_DAYS
from bot.figures.cases import CaseList, CaseRow, EndingSoon
from bot.figures.types import LENGTH_BANDS, WANTED_AGE_BANDS, BailFigures, SuspectFigures, WantedFigures
from bot.freshness import Freshness, freshness_detail
from bot.slack.blocks import Blk, MessageBuilder, Rendered, change_text, fmt_int
from bot.slack.escape import esc

# How many rows of an open-ended breakdown (offence groups) are shown before "and N more".
TOP_N = 10

REASON_LABELS = {
    "never_arrested": "never arrested",
    "failed_to_answer_bail": "failed to answer bail",
    "bail_breach": "breach of bail conditions",
    "rui_fresh_evidence": "RUI, fresh evidence",
}
AGE_BAND_LABELS = {
    "0-27d": "under 28 days",
    "28-90d": "28–90 days",
    "91-180d": "91–180 days",
    "181-365d": "181–365 days",
    "over-365d": "over a year",
}
LENGTH_BAND_LABELS = {
    "0-3m": "under 3 months",
    "3-6m": "3–6 months",
    "6-9m": "6–9 months",
    "9-12m": "9–12 months",
    "over-12m": "over 12 months",
}
AUTHORITY_LABELS = {
    "inspector": "inspector (extension to 6 months)",
    "superintendent": "superintendent (extension to 9 months; to 3 months for bail begun before 28 Oct 2022)",
    "magistrates' court": "magistrates' court (beyond 9 months; beyond 3 months for bail begun before 28 Oct 2022)",
}
DATASET_LABELS = {
    "wanted": "Wanted circulations",
    "suspects": "Outstanding suspects",
    "bail": "Pre-charge bail and RUI",
    "actions": "Action log",
}


@dataclass(frozen=True)
class Frame:
    """What every answer names: whose figures, for where, on which date, under which filters, from which data."""

    force: Force
    district: str | None
    as_of: dt.date
    freshness: Freshness | None
    filters: Sequence[str] = field(default_factory=tuple)  # human descriptions, unescaped
    covered_from: dt.date | None = None  # the first date the dataset's data is complete from (bot/coverage.py)
    # The as-of date of the last export whose revisions the figures at ``as_of`` apply, when it is not the latest
    # export's (a past date: bot.freshness.revised_up_to); None: the latest.
    rests_on: dt.date | None = None
    # The as-of date of the force's first export of the dataset, when ``as_of`` is before it: the figures are rebuilt
    # from that export, each case as it stood then (a bail end date extended since shows the new date).
    first_export: dt.date | None = None
    # An age filter's cutoff (`--older-than`): only cases opened before this date are counted.
    opened_before: dt.date | None = None
    reason: str | None = None  # wanted: the one reason asked for (`--reason`)

    @property
    def place(self) -> str:
        return self.force.district_label(self.district) if self.district else self.force.name


def fmt_date(d: dt.date) -> str:
    return day_month_year(d)


def fmt_time(t: dt.datetime, force: Force) -> str:
    return local_time(t, force.timezone)


def pct(n: int, total: int) -> str:
    return f" ({n / total:.0%})" if total else ""


def context_lines(frame: Frame) -> list[str]:
    parts = [esc(frame.force.name)]
    if frame.district:
        parts.append(esc(frame.force.district_label(frame.district)))
    parts.append(f"as of {fmt_date(frame.as_of)}")
    parts.extend(esc(f) for f in frame.filters)
    data = data_freshness(frame.freshness, frame.force)
    latest = frame.freshness.file_as_of if frame.freshness is not None else None
    # Before the data's coverage there is no figure at all: nothing was rebuilt or revised.
    covered = frame.covered_from is None or frame.as_of >= frame.covered_from
    if covered and frame.first_export is not None:
        # Before the first export nothing says what a case's values were then: the figures take each case as that
        # export gave it (docs/figures.md "History"), so a value changed in between shows as changed.
        first = fmt_date(frame.first_export)
        rebuilt = f"figures rebuilt from the first export, as of {first}, each case as it stood then"
        data = f"{rebuilt} · {'latest ' if frame.first_export != latest else ''}{data}"
    elif covered and frame.rests_on is not None:
        # A past date's figures apply the revisions known by then (docs/figures.md "History"), not the latest
        # export's, which the data line names: say which export they stop at.
        data = f"figures as revised up to the export as of {fmt_date(frame.rests_on)} · latest {data}"
    return [" · ".join(parts), data]


def data_freshness(fr: Freshness | None, force: Force) -> str:
    """How fresh the data is, as every answer and post says it: the export's own date first (an old export imported
    today is old data), then when it was imported, and a warning when it is stale."""
    if fr is None or fr.imported_at is None:
        return ":warning: no data imported yet"
    if fr.file_as_of is not None:
        data = f"data as of {fmt_date(fr.file_as_of)}, imported {fmt_time(fr.imported_at, force)}"
    else:
        data = f"data as of {fmt_time(fr.imported_at, force)}"
    if fr.stale:
        data += f" :warning: *stale* — not refreshed within {fr.expected_days} days"
    return data


def breakdown(
    m: MessageBuilder,
    heading: str,
    counts: dict[str, int],
    labels: dict[str, str] | None = None,
    *,
    top: int = 0,
    notes: dict[str, str] | None = None,
) -> None:
    """``• label: n (p%)`` lines; ``top`` > 0 keeps the first ``top`` and says how many more there are; ``notes``
    adds a few words after a line's figure (``— 30 over 12 months``)."""
    total = sum(counts.values())
    items = list(counts.items())
    lines = [
        f"• {esc((labels or {}).get(k, k))}: {fmt_int(v)}{pct(v, total)}{(notes or {}).get(k, '')}" for k, v in items
    ] or ["• none"]
    m.lines(heading, lines, max_lines=top or None)


def possible_bands(bands: dict[str, int], frame: Frame) -> dict[str, int]:
    """The bands of a breakdown by age (bail and RUI by calendar months, wanted and suspects by days) a case can fall
    in under the answer's age filter: under "opened over 12 months ago", a line "under 3 months: 0" says nothing. A
    band is left out only when every opening date in it is on or after the cutoff (and so its count is 0)."""
    cutoff = frame.opened_before
    if cutoff is None:
        return bands
    earliest = _earliest_openings(frame.as_of)
    return {k: n for k, n in bands.items() if n or (first := earliest[k]) is None or first < cutoff}


def _earliest_openings(as_of: dt.date) -> dict[str, dt.date | None]:
    """Band -> the earliest opening date a case in it can have at ``as_of`` (None: no limit)."""
    one = dt.timedelta(days=1)
    out: dict[str, dt.date | None] = {
        k: None if after is None else after + one
        for k, (after, _) in zip(LENGTH_BANDS, length_band_ranges(as_of), strict=True)
    }
    for k, (_, oldest) in zip(WANTED_AGE_BANDS, AGE_BAND_DAYS, strict=True):
        out[k] = None if oldest is None else as_of - dt.timedelta(days=oldest)
    return out


def filter_lines(offence: str | None, reason: str | None, older_than: str | None) -> list[str]:
    """The filters under an answer, unescaped (``context_lines`` escapes them): the offence, the reason, and the age
    in words (``older_than`` already worded: "12 months")."""
    out = []
    if offence:
        out.append(f"offence: {offence}")
    if reason:
        out.append(f"reason: {REASON_LABELS.get(reason, reason)}")
    if older_than:
        out.append(f"opened over {older_than} ago")
    return out


def district_labels(force: Force, counts: dict[str, int]) -> dict[str, str]:
    return {k: force.district_label(k) for k in counts}


OUTCOME_LABELS = {
    "arrested": "arrested",
    "voluntary_attendance": "voluntary attendance",
    "located": "located (not arrested)",
    "cancelled": "cancelled",
    "nfa": "no further action",
    "charged": "charged",
    "out_of_court_disposal": "out-of-court disposal",
    "converted_to_rui": "converted to RUI",
    "converted_to_bail": "converted to bail",
    "not_in_export": "no longer in the export",
    "other": "other",
    "not_recorded": "outcome not recorded",
}


def _people(n: int | None, named_rows: int | None, rows: int) -> str:
    """Distinct people (person references) — never who they are; nothing when not counted. When only some of the
    ``rows`` name a person the people are said to be of those (``named_rows``): "120 people" beside 500 rows of
    which 350 name nobody would read as 500 rows about 120 people."""
    if n is None:
        return ""
    if named_rows is None or named_rows >= rows:
        return f" · {fmt_int(n)} {'person' if n == 1 else 'people'}"
    if named_rows == 0:
        return " · none with a person reference"
    return f" · {fmt_int(n)} {'person' if n == 1 else 'people'} on the {fmt_int(named_rows)} with a person reference"


def _arrests(by_outcome: dict[str, int] | None, closed: int) -> str:
    """The performance meeting's question (§9.4): how many closed by arrest, how many without — and how many the
    export does not say (bot/figures/arrests.py)."""
    if not closed or by_outcome is None:
        return ""
    return f" ({arrests_text(arrest_split(by_outcome))})"


def _change_line(
    now: int, before: int, when: dt.date, covered_from: dt.date | None = None, data: dt.date | None = None
) -> str:
    """The change over the last month (a calendar month back from as_of, not the month to date) — or, when that
    day is before the data's coverage, why there is no comparison (a rise from "no data" is not a rise); and when
    the latest export (``data``) is older than that day, none either: no export has said what changed since."""
    if covered_from is not None and when < covered_from:
        return f"No comparison with a month ago: no data before {fmt_date(covered_from)}"
    if data is not None and data < when:
        return f"No comparison with a month ago: no export since the one as of {fmt_date(data)}"
    return f"{change_text(now, before)} over the last month ({fmt_int(before)} on {fmt_date(when)})"


def _change(frame: Frame, now: int, before: int, when: dt.date) -> str:
    return _change_line(now, before, when, frame.covered_from, data_date(frame))


def _month_to_date(as_of: dt.date) -> str:
    return f"Month to date (from {fmt_date(as_of.replace(day=1))})"


def _month_counted(frame: Frame) -> bool:
    """Whether the month to date can be counted: not when the data begins part-way through it (the cases opened and
    closed before then are not in it)."""
    return frame.covered_from is None or frame.as_of.replace(day=1) >= frame.covered_from


def data_date(frame: Frame) -> dt.date | None:
    """The latest export's as-of date when the answer's date is after it: nothing is known of the days between (the
    answers and the trend say so rather than count zeros)."""
    data = frame.freshness.file_as_of if frame.freshness else None
    return data if data is not None and data < frame.as_of else None


def _month_known(frame: Frame) -> bool:
    """Whether the month's counts say anything: counted, and an export dated in the month."""
    data = data_date(frame)
    return _month_counted(frame) and (data is None or data >= frame.as_of.replace(day=1))


def _month_line(frame: Frame, counts: str) -> str:
    """ "Month to date (from 1 Dec 2026): <counts>", or why the month is not counted. The counts end at the latest
    export's date: no export yet this month is said as such, not as "0 circulated, 0 closed"."""
    if not _month_counted(frame):
        assert frame.covered_from is not None
        return f"Month to date: not counted, no data before {fmt_date(frame.covered_from)}"
    data = data_date(frame)
    if data is None:
        return f"{_month_to_date(frame.as_of)}: {counts}"
    first = frame.as_of.replace(day=1)
    if data < first:
        return f"Month to date: not known yet, no export since the one as of {fmt_date(data)}"
    span = fmt_date(data) if data.day == 1 else f"1–{fmt_date(data)}"
    return f"Month to date ({span}, to the latest export): {counts}"


def _opened(frame: Frame, n: int, verb: str) -> str:
    """ "12 circulated, ", or "" when no case opened this month can pass the answer's age filter: under "opened over
    12 months ago", "0 circulated" would read as no new cases at all."""
    cutoff = frame.opened_before
    return f"{fmt_int(n)} {verb}, " if cutoff is None or cutoff > frame.as_of.replace(day=1) else ""


def render_no_data(title: str, dataset: str, frame: Frame) -> Rendered:
    """An answer when no export of the dataset was ever imported for the force: no number at all."""
    m = MessageBuilder().header(f"{title} — {frame.place}")
    m.section(
        f"No {dataset} data has been imported for {frame.force.name} yet, so there is no figure to give. An analyst "
        "sends the export to me in a direct message (or runs `mo-bot import`)."
    )
    m.context(*context_lines(frame))
    return m.build()


def render_not_covered(title: str, dataset: str, frame: Frame) -> Rendered:
    """An answer for a date before the data's coverage: no number, and from when there is one."""
    assert frame.covered_from is not None
    m = MessageBuilder().header(f"{title} — {frame.place}")
    m.section(
        f"No {dataset} data before {fmt_date(frame.covered_from)}: the imports hold every case only from then on, "
        f"so there is no figure for {fmt_date(frame.as_of)}. Ask for `--as-of` {frame.covered_from.isoformat()} "
        "or later."
    )
    m.context(*context_lines(frame))
    return m.build()


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def render_wanted(fig: WantedFigures, frame: Frame, month_ago: dt.date, review_days: int) -> Rendered:
    m = MessageBuilder().header(f"Wanted — {frame.place}")
    m.section(
        f"*{fmt_int(fig.open)}* open wanted circulation{_s(fig.open)}{_people(fig.people, fig.named_rows, fig.open)}\n"
        f"{_change(frame, fig.open, fig.open_a_month_ago, month_ago)}\n"
        + _month_line(
            frame,
            f"{_opened(frame, fig.opened_in_month, 'circulated')}"
            f"{fmt_int(fig.closed_in_month)} closed"
            f"{_arrests(fig.closed_by_outcome, fig.closed_in_month)}",
        )
    )
    if fig.closed_in_month and fig.closed_by_outcome is not None and _month_known(frame):
        breakdown(m, "Closed this month, by outcome", fig.closed_by_outcome, OUTCOME_LABELS)
    if fig.review_overdue:
        m.section(
            f":warning: *{fmt_int(fig.review_overdue)}* not reviewed in the last {review_days} days — review overdue"
        )
    if not fig.district:
        breakdown(m, "By district", fig.by_district, district_labels(frame.force, fig.by_district))
    breakdown(m, "By time since circulated", possible_bands(fig.by_age_band, frame), AGE_BAND_LABELS)
    if not frame.reason:  # one reason asked for: the others would be zeros
        breakdown(m, "By reason", fig.by_reason, REASON_LABELS)
    breakdown(m, "By offence group", fig.by_offence, top=TOP_N)
    m.context(*context_lines(frame))
    return m.build()


def render_suspects(fig: SuspectFigures, frame: Frame, month_ago: dt.date) -> Rendered:
    m = MessageBuilder().header(f"Outstanding suspects — {frame.place}")
    m.section(
        f"*{fmt_int(fig.open)}* outstanding suspect{_s(fig.open)}{_people(fig.people, fig.named_rows, fig.open)}\n"
        f"{_change(frame, fig.open, fig.open_a_month_ago, month_ago)}\n"
        + _month_line(
            frame,
            f"{_opened(frame, fig.opened_in_month, 'identified')}"
            f"{fmt_int(fig.closed_in_month)} dealt with"
            f"{_arrests(fig.closed_by_outcome, fig.closed_in_month)}",
        )
    )
    if fig.closed_in_month and fig.closed_by_outcome is not None and _month_known(frame):
        breakdown(m, "Dealt with this month, by outcome", fig.closed_by_outcome, OUTCOME_LABELS)
    if not fig.district:
        breakdown(m, "By district", fig.by_district, district_labels(frame.force, fig.by_district))
    breakdown(m, "By time since identified", possible_bands(fig.by_age_band, frame), AGE_BAND_LABELS)
    breakdown(m, "By offence group", fig.by_offence, top=TOP_N)
    m.context(*context_lines(frame))
    return m.build()


def _ending_soon(m: MessageBuilder, soon: EndingSoon) -> None:
    if not soon.total:
        m.section(f"No bail ends within the next {soon.within_days} days.")
        return
    lines = [f"• {AUTHORITY_LABELS.get(a, a)}: {fmt_int(c)}" for a, c in soon.by_authority.items()]
    # The week's share only when the window is longer than a week: "21 within 7 days — 21 within 7 days" says nothing.
    week = f" — {fmt_int(soon.within_7_days)} within 7 days" if soon.within_days > 7 else ""
    m.lines(
        f":alarm_clock: {fmt_int(soon.total)} on bail ending within {soon.within_days} days{week}. "
        "The next extension needs:",
        lines,
    )


def lapsed_line(n: int) -> str:
    """The one wording of lapsed bail and what must happen next, for the digest, `/mo bail` and the summary."""
    periods = "period has" if n == 1 else "periods have"
    return (
        f":rotating_light: *{fmt_int(n)}* pre-charge bail {periods} lapsed — the bail end date passed with no "
        "outcome recorded. Assess each and record the decision: a magistrates' court extension, or revert to RUI."
    )


def render_bail(
    fig: BailFigures,
    frame: Frame,
    month_ago: dt.date,
    active_month_ago: dict[str, int],
    soon: EndingSoon,
    *,
    window: bool = False,
) -> Rendered:
    """``window``: the question named a window (`--expiring`), so the breakdowns are of the bail ending in it."""
    m = MessageBuilder().header(f"Pre-charge bail — {frame.place}")
    # Before the first bail export its end dates are the ones after every extension granted since: bail lapsed or
    # ending soon on that day and extended later is not seen, so those counts are floors that would read as facts
    # (the monthly summary gives no figure for them either).
    end_dates_known = frame.first_export is None
    if fig.lapsed_bail and end_dates_known:
        m.section(lapsed_line(fig.lapsed_bail) + "\nList them: `/mo bail --list` (lapsed first).")
    lapsed = f" · *{fmt_int(fig.lapsed_bail)}* lapsed bail" if fig.lapsed_bail and end_dates_known else ""
    m.section(
        f"*{fmt_int(fig.active_bail)}* on pre-charge bail · *{fmt_int(fig.active_rui)}* released under investigation"
        f"{lapsed}\n"
        f"Bail: {_change(frame, fig.active_bail, active_month_ago['bail'], month_ago)}\n"
        f"RUI: {_change(frame, fig.active_rui, active_month_ago['rui'], month_ago)}\n"
        + _month_line(
            frame,
            f"bail {_opened(frame, fig.opened_in_month['bail'], 'started')}"
            f"{fmt_int(fig.closed_in_month['bail'])} ended · "
            f"RUI {_opened(frame, fig.opened_in_month['rui'], 'started')}"
            f"{fmt_int(fig.closed_in_month['rui'])} ended",
        )
    )
    if fig.closed_in_month["bail"] and fig.closed_by_outcome is not None and _month_known(frame):
        breakdown(m, "Bail ended this month, by outcome", fig.closed_by_outcome.get("bail", {}), OUTCOME_LABELS)
    if end_dates_known:
        _ending_soon(m, soon)
    else:
        assert frame.first_export is not None
        m.section(
            f"Lapsed bail and bail ending soon on {fmt_date(frame.as_of)}: no figure — bail end dates are known only "
            f"from the first bail export, as of {fmt_date(frame.first_export)}, after the extensions granted since, "
            "so a count would be too low."
        )
    if window and end_dates_known:
        # `--expiring`: the question is about the bail ending in the window, so the breakdowns are of those.
        what = f"Bail ending within {soon.within_days} days"
        bands, by, offences = soon.length_bands, soon.by_district, soon.by_offence
    else:
        what = "Bail"
        bands, by, offences = fig.length_bands["bail"], fig.by_district["bail"], fig.by_offence["bail"]
    breakdown(m, f"{what} by time since it started", possible_bands(bands, frame), LENGTH_BAND_LABELS)
    if not fig.district:
        breakdown(m, f"{what} by district", by, district_labels(frame.force, by))
    breakdown(m, f"{what} by offence group", offences, top=TOP_N)
    m.context(*context_lines(frame))
    return m.build()


def _rui_people(fig: BailFigures) -> str:
    if fig.people is None:
        return ""
    return _people(fig.people["rui"], fig.named_rows["rui"] if fig.named_rows is not None else None, fig.active_rui)


def render_rui(fig: BailFigures, frame: Frame, month_ago: dt.date, active_month_ago: dict[str, int]) -> Rendered:
    m = MessageBuilder().header(f"Released under investigation — {frame.place}")
    m.section(
        f"*{fmt_int(fig.active_rui)}* active RUI{_rui_people(fig)}\n"
        f"{_change(frame, fig.active_rui, active_month_ago['rui'], month_ago)}\n"
        + _month_line(
            frame,
            f"{_opened(frame, fig.opened_in_month['rui'], 'released under investigation')}"
            f"{fmt_int(fig.closed_in_month['rui'])} concluded",
        )
    )
    if fig.closed_in_month["rui"] and fig.closed_by_outcome is not None and _month_known(frame):
        breakdown(m, "RUI concluded this month, by outcome", fig.closed_by_outcome.get("rui", {}), OUTCOME_LABELS)
    over = fig.length_bands["rui"].get("over-12m", 0)
    if over:
        m.section(
            f":hourglass: *{fmt_int(over)}* RUI running over 12 months{pct(over, fig.active_rui)} — "
            "RUI has no statutory time limit"
        )
    breakdown(m, "By length of RUI", possible_bands(fig.length_bands["rui"], frame), LENGTH_BAND_LABELS)
    # How long RUI runs by place and offence type (the subgroup's action): each line's cases over 12 months. Not
    # under an age filter, which already says how old the cases counted are.
    long = frame.opened_before is None and over > 0
    if not fig.district:
        by = fig.by_district["rui"]
        notes = _over_12m(fig.over_12m_by_district.get("rui", {})) if long else None
        breakdown(m, "By district", by, district_labels(frame.force, by), notes=notes)
    notes = _over_12m(fig.over_12m_by_offence.get("rui", {})) if long else None
    breakdown(m, "By offence group", fig.by_offence["rui"], top=TOP_N, notes=notes)
    m.context(*context_lines(frame))
    return m.build()


def _over_12m(counts: dict[str, int]) -> dict[str, str]:
    return {k: f" — {fmt_int(n)} over 12 months" for k, n in counts.items() if n}


def not_kept_line(force: Force) -> str:
    """A force that keeps no action log: what starting one takes (nothing is overdue)."""
    return f"none kept for {esc(force.name)} — `/mo action add` starts one, or send me the log's file in a DM"


def render_status(force: Force, entries: Sequence[Freshness]) -> Rendered:
    m = MessageBuilder().header(f"Data status — {force.name}")
    lines = []
    for f in entries:
        label = DATASET_LABELS.get(f.dataset, f.dataset)
        if not f.kept:
            lines.append(f":information_source: *{label}*: {not_kept_line(force)}")
            continue
        if f.updated_at is None:
            lines.append(f":warning: *{label}*: never imported (expected every {f.expected_days} days)")
            continue
        icon = ":warning:" if f.stale else ":white_check_mark:"
        state = " — *stale*" if f.stale else ""
        lines.append(f"{icon} *{label}*: {freshness_detail(f, force)}{state}")
    m.lines(None, lines)
    m.context(f"{esc(force.name)} · `/mo help` for the questions I answer")
    return m.build()


LIST_TITLES = {
    "wanted": ("Wanted", "open wanted circulations", "circulated"),
    "suspects": ("Outstanding suspects", "outstanding suspects", "identified"),
    "bail": ("Pre-charge bail", "on pre-charge bail", "bail started"),
    "rui": ("Released under investigation", "active RUI", "released"),
}


def _bail_deadline(r: CaseRow) -> str:
    """Where a listed bail period stands: days left and who extends it, or how long ago it lapsed; and the
    officer in the case, whom the bail sergeant chases."""
    assert r.bail_end_on is not None and r.days_left is not None
    if r.lapsed_days is not None:
        ago = "1 day" if r.lapsed_days == 1 else f"{r.lapsed_days} days"
        out = f" · :rotating_light: *lapsed {ago} ago* (bail ended {fmt_date(r.bail_end_on)})"
    else:
        left = "ends today" if r.days_left == 0 else f"{r.days_left} day{'s' if r.days_left != 1 else ''} left"
        out = f" · bail ends {fmt_date(r.bail_end_on)} ({left})"
        if r.next_authority:
            out += f" · next extension: {r.next_authority}"
    if r.oic:
        out += f" · OIC {esc(r.oic)}"
    return out


def _wanted_review(r: CaseRow) -> str:
    """Why the person is wanted and where the circulation's review stands, which the review officer chases."""
    out = f" · {REASON_LABELS.get(r.reason or '', esc(r.reason or ''))}" if r.reason else ""
    seen = f"last reviewed {fmt_date(r.last_reviewed_on)}" if r.last_reviewed_on else "never reviewed"
    return out + (f" · :warning: *review overdue* ({seen})" if r.review_overdue else f" · {seen}")


def render_case_list(
    dataset: str, cases: CaseList, frame: Frame, cap: int, order_note: str, *, ending_within_days: int | None = None
) -> tuple[str, list[Blk], int]:
    """The list and how many rows it shows (= records disclosed). ``ending_within_days``: a bail list of the window
    `--expiring` asked for, named as such (not "on pre-charge bail", which is every active period)."""
    title, noun, opened_word = LIST_TITLES[dataset]
    if ending_within_days is not None:
        noun = f"on bail ending within {ending_within_days} days"
    elif dataset in ("wanted", "suspects") and cases.total - cases.lapsed == 1:
        noun = noun.removesuffix("s")
    m = MessageBuilder().header(f"{title} — case list — {frame.place}")
    lines = []
    for r in cases.rows:
        line = (
            f"`{esc(r.reference)}` · {esc(frame.force.district_label(r.district))} · {esc(r.offence)} · "
            f"{opened_word} {fmt_date(r.opened_on)}"
        )
        if r.bail_end_on is not None and dataset == "bail":
            line += _bail_deadline(r)
        if dataset == "wanted":
            line += _wanted_review(r)
        lines.append(line)
    showing = f"; showing {order_note}" if cases.total else ""
    if cases.lapsed:
        # Lapsed bail is listed (first) but is not on bail: the count beside the noun is the active figure, as in
        # the counts' answer, and the lapsed periods are a number of their own.
        lapsed = f"*{fmt_int(cases.lapsed)}* lapsed bail period{_s(cases.lapsed)}"
        counted = f"*{fmt_int(cases.total - cases.lapsed)}* {noun} and {lapsed}"
    else:
        counted = f"*{fmt_int(cases.total)}* {noun}"
    if cases.review_overdue:
        counted += f" (*{fmt_int(cases.review_overdue)}* of them overdue for review)"
    m.section(f"{counted}{showing}. Case references only — only you can see this list.")
    shown = m.lines(None, lines, more=cases.total - len(cases.rows)) if lines else 0
    capped = len(cases.rows) < cases.total
    narrow = f"Lists are capped at {fmt_int(cap)} rows; narrow with `--district`/`--offence`." if capped else None
    if dataset == "bail" and frame.first_export is not None:
        m.context(
            f"Bail end dates are as the first bail export, as of {fmt_date(frame.first_export)}, gives them — after "
            f"the extensions granted since: a period shown lapsed or ending soon on {fmt_date(frame.as_of)} may have "
            "been extended in time, and one that lapsed then may show a later end date."
        )
    m.context(*context_lines(frame), *([narrow] if narrow else []))
    text, blocks = m.build()
    return text, blocks, shown
