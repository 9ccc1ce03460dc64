"""Block Kit layout of `/mo … --trend`: the change over the months, then a table of the month ends with a bar each.

The table is a code block, so its columns line up in every Slack client; a month the data does not cover shows a
dash, never a zero (the coverage rule is :mod:`bot.figures.trend`'s).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.dates import day_month_year, month_end
from bot.figures.trend import Trend, TrendMonth
from bot.slack.blocks import MessageBuilder, Rendered, change_text, fmt_int
from bot.slack.render_figures import Frame, context_lines, data_date

BAR_WIDTH = 16
_EIGHTHS = " ▏▎▍▌▋▊▉"
NONE = "—"


@dataclass(frozen=True)
class Wording:
    title: str
    counted: str  # what the headline counts: "open wanted circulations"
    at_end: str  # the open column
    opened: str
    closed: str


WORDING = {
    "wanted": Wording("Wanted", "open wanted circulations", "open", "circulated", "closed"),
    "suspects": Wording("Outstanding suspects", "outstanding suspects", "outstanding", "identified", "dealt with"),
    "bail": Wording("Pre-charge bail", "on pre-charge bail (active)", "active", "started", "ended"),
    "rui": Wording("Released under investigation", "active RUI", "active", "released", "concluded"),
}


def bar(n: int, top: int) -> str:
    """``n`` of ``top`` as a bar of up to :data:`BAR_WIDTH` characters, in eighths of a character."""
    if top <= 0 or n <= 0:
        return ""
    eighths = max(1, round(n / top * BAR_WIDTH * 8))
    return "█" * (eighths // 8) + _EIGHTHS[eighths % 8].strip()


def _month(m: TrendMonth) -> str:
    """ "Nov 2026"; a month counted only up to the as-of date "Dec 2026 (1–7)"."""
    label = m.first.strftime("%b %Y")
    return label if m.end == month_end(m.first) else f"{label} (1–{m.end.day})"


def _span(first: TrendMonth, last: TrendMonth) -> str:
    """The months before the data, in one row: "Mar–Nov 2024", "Nov 2024 – Feb 2025"."""
    if first is last:
        return _month(first)
    if first.first.year == last.first.year:
        return f"{first.first:%b}–{last.first:%b %Y}"
    return f"{first.first:%b %Y} – {last.first:%b %Y}"


def _cell(n: int | None) -> str:
    return NONE if n is None else fmt_int(n)


def _table(t: Trend, w: Wording, data: dt.date | None) -> str:
    """``data``: the latest export's date when before the trend's date; a month after it has no counts of what opened
    and closed (no export has said), rather than zeros."""
    bail = t.dataset == "bail"
    top = max((m.open_at_end or 0) for m in t.months)
    head = ["month", w.at_end, "", *(["lapsed"] if bail else []), w.opened, w.closed]
    rows = [head]
    # The months before the data's coverage are one row: they hold no figure, and a column of dashes says nothing.
    before = [m for m in t.months if m.open_at_end is None]
    if before:
        rows.append([_span(before[0], before[-1]), NONE, "(before the data)", *([NONE] if bail else []), NONE, NONE])
    for m in t.months[len(before) :]:
        unknown = data is not None and m.first > data
        rows.append(
            [
                _month(m),
                _cell(m.open_at_end),
                bar(m.open_at_end or 0, top),
                *([_cell(m.lapsed_at_end)] if bail else []),
                _cell(None if unknown else m.opened),
                _cell(None if unknown else m.closed),
            ]
        )
    widths = [max(len(r[k]) for r in rows) for k in range(len(head))]
    lines = []
    for r in rows:
        cells = [r[0].ljust(widths[0]), r[1].rjust(widths[1]), r[2].ljust(widths[2])]
        cells += [c.rjust(widths[k]) for k, c in enumerate(r[3:], start=3)]
        lines.append("  ".join(cells).rstrip())
    return "```\n" + "\n".join(lines) + "\n```"


def _headline(t: Trend, w: Wording) -> str:
    covered = t.covered
    last = t.months[-1]
    if last.open_at_end is None or not covered:
        since = f" before {day_month_year(t.covered_from)}" if t.covered_from else ""
        return f"No {w.title.lower()} data{since}: no month here has a figure."
    now = f"*{fmt_int(last.open_at_end)}* {w.counted} on {day_month_year(last.end)}"
    first = covered[0]
    if first is last:
        start = day_month_year(t.covered_from or last.end)
        return f"{now}. No earlier month end to compare: the data is complete only from {start}."
    before = first.open_at_end or 0
    span = f"{change_text(last.open_at_end, before)} since {day_month_year(first.end)} ({fmt_int(before)})"
    if first is not t.months[0]:
        start = day_month_year(t.covered_from or first.end)
        span += f", the first month end the data covers (complete from {start})"
    high = max(covered, key=lambda m: m.open_at_end or 0)
    low = min(covered, key=lambda m: m.open_at_end or 0)
    return (
        f"{now}: {span}.\nHighest {fmt_int(high.open_at_end or 0)} on {day_month_year(high.end)}, "
        f"lowest {fmt_int(low.open_at_end or 0)} on {day_month_year(low.end)}."
    )


def render_trend(t: Trend, frame: Frame) -> Rendered:
    w = WORDING[t.dataset]
    m = MessageBuilder().header(f"{w.title}, month by month — {frame.place}")
    m.section(_headline(t, w))
    data = data_date(frame)
    m.section(_table(t, w, data))
    notes = [
        f"Each row: {w.at_end} at the month's end (the current month: on {day_month_year(t.as_of)}), and "
        f"{w.opened} and {w.closed} in the month; each month end as the exports known on that day gave it."
    ]
    if t.dataset == "bail":
        notes.append("Lapsed: bail whose end date had passed with no outcome recorded — not counted as active.")
        if t.lapsed_unknown and t.first_export:
            notes.append(
                f"Lapsed {NONE} before {day_month_year(t.first_export)}: bail end dates are known only from the first "
                "bail export, after the extensions granted since, so a count would be too low."
            )
    rebuilt = t.rebuilt
    if rebuilt and frame.first_export is None and t.first_export is not None:  # else the frame's line says it
        notes.append(
            f"Month ends before {day_month_year(t.first_export)} are rebuilt from the first export, as of that date, "
            "each case as it stood then."
        )
    if data is not None and any(mo.first > data for mo in t.months):
        notes.append(
            f"{w.opened.capitalize()} and {w.closed} after {day_month_year(data)}, the latest export's date: {NONE}, "
            "not known until an export covers them."
        )
    if any(mo.open_at_end is None or mo.opened is None for mo in t.months):
        notes.append(f"{NONE}: not covered by the data (no figure, rather than a zero).")
    m.context(*notes, *context_lines(frame))
    return m.build()
