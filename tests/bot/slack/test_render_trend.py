"""The trend's layout: bars in proportion, one row for the months before the data, the headline's comparison only
between covered month ends, and the notes a reader needs (lapsed bail, dashes, month ends rebuilt)."""

from __future__ import annotations

import datetime as dt

from bot.config import load_config
from bot.figures.trend import Trend, TrendMonth
from bot.freshness import Freshness
from bot.slack.render_figures import Frame
from bot.slack.render_trend import BAR_WIDTH, bar, render_trend

D = dt.date
SUFFOLK = load_config().force("suffolk")


def month(first: D, end: D, n: int | None, opened: int | None = None, closed: int | None = None, lapsed: int = 0):
    return TrendMonth(first, end, n, opened, closed, None if n is None else lapsed, None)


def text(rendered: tuple[str, list[dict]]) -> str:
    _fallback, blocks = rendered
    out = []
    for b in blocks:
        if b["type"] in ("header", "section"):
            out.append(b["text"]["text"])
        elif b["type"] == "context":
            out += [e["text"] for e in b["elements"]]
    return "\n".join(out)


def test_bars_are_in_proportion_to_the_highest_month() -> None:
    assert bar(40, 40) == "█" * BAR_WIDTH
    assert bar(20, 40) == "█" * (BAR_WIDTH // 2)
    assert bar(1, 1000) == "▏"  # a non-zero month always shows
    assert bar(0, 40) == "" and bar(5, 0) == ""
    assert len(bar(33, 40)) == 14  # 13.2 characters: 13 full and a fifth


def test_months_before_the_data_are_one_row_and_the_comparison_starts_at_the_first_covered_end() -> None:
    t = Trend(
        "bail",
        D(2026, 2, 10),
        (
            month(D(2025, 11, 1), D(2025, 11, 30), None),
            month(D(2025, 12, 1), D(2025, 12, 31), None),
            month(D(2026, 1, 1), D(2026, 1, 31), 30, None, None, lapsed=2),  # coverage from 15 Jan
            month(D(2026, 2, 1), D(2026, 2, 10), 45, 20, 5, lapsed=3),
        ),
        covered_from=D(2026, 1, 15),
        first_export=D(2026, 2, 10),
    )
    frame = Frame(SUFFOLK, "lowestoft", D(2026, 2, 10), None, covered_from=D(2026, 1, 15))
    shown = text(render_trend(t, frame))
    assert "Pre-charge bail, month by month — Lowestoft" in shown
    assert "*45* on pre-charge bail (active) on 10 Feb 2026: ↑ 15 (+50.0%) since 31 Jan 2026 (30)" in shown
    assert "the first month end the data covers (complete from 15 Jan 2026)" in shown
    rows = shown[shown.index("```") :].splitlines()
    assert rows[1].split() == ["month", "active", "lapsed", "started", "ended"]
    assert rows[2].split() == ["Nov–Dec", "2025", "—", "(before", "the", "data)", "—", "—", "—"]
    assert rows[3].split() == ["Jan", "2026", "30", "█" * 10 + "▋", "2", "—", "—"]
    assert rows[4].split() == ["Feb", "2026", "(1–10)", "45", "█" * BAR_WIDTH, "3", "20", "5"]
    assert "Lapsed: bail whose end date had passed" in shown
    assert "—: not covered by the data" in shown
    assert "Month ends before 10 Feb 2026 are rebuilt from the first export" in shown


def test_only_the_current_month_covered_has_nothing_to_compare() -> None:
    t = Trend(
        "wanted",
        D(2026, 2, 10),
        (month(D(2026, 1, 1), D(2026, 1, 31), None), month(D(2026, 2, 1), D(2026, 2, 10), 7)),
        D(2026, 2, 3),
        D(2026, 2, 3),
    )
    shown = text(render_trend(t, Frame(SUFFOLK, None, D(2026, 2, 10), None)))
    assert "*7* open wanted circulations on 10 Feb 2026. No earlier month end to compare" in shown
    assert "↑" not in shown and "↓" not in shown


def test_months_after_the_latest_export_have_no_opened_or_closed_count() -> None:
    """With the latest export as of 30 Sep, October's and November's "0 circulated, 0 closed" read as quiet months;
    no export has said anything of them."""
    t = Trend(
        "wanted",
        D(2026, 11, 10),
        (
            month(D(2026, 9, 1), D(2026, 9, 30), 6, 3, 1),
            month(D(2026, 10, 1), D(2026, 10, 31), 6, 0, 0),
            month(D(2026, 11, 1), D(2026, 11, 10), 6, 0, 0),
        ),
        covered_from=D(2026, 9, 1),
        first_export=D(2026, 9, 1),
    )
    fresh = Freshness("wanted", dt.datetime(2026, 9, 30, 9, tzinfo=dt.UTC), D(2026, 9, 30), 7, 41.0, True)
    shown = text(render_trend(t, Frame(SUFFOLK, None, D(2026, 11, 10), fresh, covered_from=D(2026, 9, 1))))
    rows = shown[shown.index("```") :].splitlines()
    assert rows[2].split() == ["Sep", "2026", "6", "█" * BAR_WIDTH, "3", "1"]
    assert rows[3].split() == ["Oct", "2026", "6", "█" * BAR_WIDTH, "—", "—"]
    assert rows[4].split() == ["Nov", "2026", "(1–10)", "6", "█" * BAR_WIDTH, "—", "—"]
    assert "Circulated and closed after 30 Sep 2026, the latest export's date: —, not known until" in shown
    # With the export of the trend's own date, every month's counts show.
    current = Freshness("wanted", dt.datetime(2026, 11, 10, 9, tzinfo=dt.UTC), D(2026, 11, 10), 7, 0.1, False)
    shown = text(render_trend(t, Frame(SUFFOLK, None, D(2026, 11, 10), current, covered_from=D(2026, 9, 1))))
    assert shown[shown.index("```") :].splitlines()[3].split()[-2:] == ["0", "0"]
    assert "latest export's date" not in shown
