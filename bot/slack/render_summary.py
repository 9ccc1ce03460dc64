"""Block Kit for the monthly summary and the daily bail-deadline digest.

The headline figures are written out as text — in the blocks and in the message's ``text`` — so they are
searchable in Slack and readable without the charts (which follow in the thread, each with alt text).
Everything taken from data or config (force, district and dataset names) is escaped.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from bot.config import Force
from bot.dates import day_month_year
from bot.figures.bail import by_authority_order
from bot.figures.types import BailFigures
from bot.freshness import Freshness
from bot.slack.blocks import MAX_FALLBACK, MessageBuilder, Rendered, change_text, clip, fmt_int
from bot.slack.escape import esc
from bot.slack.render_figures import data_freshness, lapsed_line
from bot.summary.monthly import (
    SUMMARY_DATASETS,
    MonthlySummary,
    comparison_text,
    figure_text,
    long_rui_line,
    outcomes_line,
)


def render_summary(s: MonthlySummary, *, charts: int = 4, preview: bool = False) -> Rendered:
    """(text fallback, blocks) of the summary message; ``charts`` is how many charts follow in the thread."""
    b = MessageBuilder()
    b.header(f"{'Preview: ' if preview else ''}Monthly summary — {s.month_label}")
    scope = esc(s.scope_label)
    lines: list[str] = []
    if not s.has_data:
        msg = f"*{scope}*: no data for {esc(s.month_label)} — {s.no_data_reason}, so there are no charts this time."
        b.section(msg)
        lines.append(msg)
    else:
        intro = f"*{scope}* · figures at {day_month_year(s.as_of)}, against {day_month_year(s.previous_as_of)}"
        b.section(intro)
        fields = []
        for h in s.headlines:
            label = f"{h.label} ({h.note})" if h.note else h.label
            if h.now is None:
                figure = esc(figure_text(h))
                fields.append(f"*{esc(label)}*\n{figure}")
                lines.append(f"{label}: {figure}")
                continue
            if h.before is None:
                change = esc(comparison_text(h))
            else:
                change = f"{change_text(h.now, h.before)} (was {fmt_int(h.before)})"
            fields.append(f"*{esc(label)}*\n{fmt_int(h.now)}  ·  {change}")
            lines.append(f"{label}: {fmt_int(h.now)}, {change}")
        b.fields(fields)
        if s.rui_over_12m_by_offence:
            long_rui = esc(long_rui_line(s))
            b.section(long_rui)
            lines.append(long_rui)
        outcomes = esc(outcomes_line(s))
        b.section(outcomes)
        lines.append(outcomes)
    if s.stale:
        warn = "⚠️ Overdue for refresh: " + ", ".join(f"{esc(ds)} (data as of {s.data_when(ds)})" for ds in s.stale)
        b.section(warn)
        lines.append(warn)
    data_line = "Data as of " + "; ".join(f"{esc(ds)} {s.data_when(ds)}" for ds in SUMMARY_DATASETS)
    ctx = [data_line]
    if s.has_data and charts:
        ctx.append(f"{charts} charts in the thread, each with a text description")
    b.context(*ctx)
    _, blocks = b.build()
    head = f"{'Preview: ' if preview else ''}Monthly summary — {s.month_label} — {s.scope_label}"
    text = clip("\n".join([esc(head), *lines, data_line]), MAX_FALLBACK)
    return text, blocks


def render_bail_digest(
    fig: BailFigures,
    force: Force,
    district_label: str | None,
    today: dt.date,
    fresh: Freshness,
    district_labels: dict[str, str] | None = None,
) -> Rendered:
    """Counts only — never case references in a channel (lists are for analysts, ephemerally, via /mo bail).
    ``fresh``: the bail data's freshness, said as the `/mo` answers say it (lapses and deadlines are counted as the
    latest export knew them)."""
    b = MessageBuilder()
    b.header(f"Bail deadlines — {today:%a} {day_month_year(today)}")
    scope = esc(force.name + (f" — {district_label}" if district_label else ""))
    total = fig.bail_ending_soon_total
    n = fig.bail_ending_within_days
    within3 = sum(1 for e in fig.bail_ending_soon if e.days_left <= 3)
    lines = []
    # Lapsed bail first: the deadline has already been missed, and each one needs a decision today.
    if fig.lapsed_bail:
        lapsed = lapsed_line(fig.lapsed_bail)
        where = ", ".join(
            f"{esc(district_labels.get(k, k) if district_labels else k)} {v}"
            for k, v in sorted(fig.lapsed_bail_by_district.items(), key=lambda kv: -kv[1])
            if v
        )
        b.section(f"{lapsed}\nBy district: {where}")
        lines += [lapsed, f"Lapsed by district: {where}"]
    lines.append(
        f"*{scope}*: {fmt_int(total)} active pre-charge bail period{'s' if total != 1 else ''} end within {n} days"
    )
    if total:
        lines[-1] += f", {fmt_int(within3)} within 3 days."
    else:
        lines[-1] += "."
    b.section(lines[-1])
    if total:
        # Most first; a tie in the order of the ladder (the superintendent before the court).
        auth = by_authority_order(Counter(e.next_authority for e in fig.bail_ending_soon))
        dist = Counter(e.district for e in fig.bail_ending_soon)
        auth_line = "Next extension needs: " + ", ".join(f"{esc(k)} {v}" for k, v in auth.items())
        dist_line = "By district: " + ", ".join(f"{esc(k)} {v}" for k, v in dist.most_common())
        b.fields(
            [f"*Next extension needs*\n{auth_line.split(': ', 1)[1]}", f"*By district*\n{dist_line.split(': ', 1)[1]}"]
        )
        lines += [auth_line, dist_line]
        b.section(f"Case references: `/mo bail --expiring {n}d --list` (analysts; only you see it).")
    elif fig.lapsed_bail:
        b.section("Case references: `/mo bail --list` (analysts; only you see it); lapsed bail is listed first.")
    said = data_freshness(fresh, force)
    data_line = said[0].upper() + said[1:]
    b.context(data_line)
    _, blocks = b.build()
    text = clip("\n".join([f"Bail deadlines — {day_month_year(today)}", *lines, data_line]), MAX_FALLBACK)
    return text, blocks
