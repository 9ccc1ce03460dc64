"""The four summary charts: valid 1200×700 PNGs whose plotted values equal the figures services, alt text
with the numbers, no text cut off or overlapping, and matplotlib never imported on the slash-command path."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from bot.demo.load import load_demo
from bot.figures.bail import bail_figures
from bot.figures.series import monthly_series
from bot.figures.types import LENGTH_BANDS, Filters
from bot.models import Action
from bot.runtime import Runtime
from bot.summary import charts
from bot.summary.monthly import MonthlySummary, build_summary
from tests.support.paths import REPO_ROOT

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
END = dt.date(2026, 10, 31)


@pytest.fixture
def summary(runtime: Runtime, tmp_path: Path) -> MonthlySummary:
    load_demo(runtime, rows=400, workdir=tmp_path / "demo")
    with runtime.sessions() as s:
        return build_summary(s, runtime.config, runtime.config.force("suffolk"), "2026-10", NOW.date(), NOW)


def _image(png: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(png))
    img.verify()  # a truncated or corrupt PNG raises here
    return Image.open(io.BytesIO(png))


def test_four_valid_pngs_of_the_expected_size(summary: MonthlySummary) -> None:
    made = charts.render_all(summary)
    assert [c.name for c in made] == ["caseload", "bail-flow", "length-bands", "actions"]
    for c in made:
        img = _image(c.png)
        assert img.format == "PNG" and img.size == (1200, 700) == (c.width_px, c.height_px)
        # Not blank: a chart has many colours (bars, lines, text anti-aliasing).
        assert len(img.convert("RGB").getcolors(maxcolors=100000) or []) > 20
        assert c.filename(summary) == f"summary-suffolk-2026-10-{c.name}.png"


def test_plotted_values_equal_the_figures_services(summary: MonthlySummary, runtime: Runtime) -> None:
    force = runtime.config.force("suffolk")
    with runtime.sessions() as s:
        wanted = monthly_series(s, "wanted", force, END, 13)
        suspects = monthly_series(s, "suspects", force, END, 13)
        kinds = {k: monthly_series(s, "bail", force, END, 13, kind=k) for k in ("bail", "rui")}
        per_district = {
            d: bail_figures(s, force, END, Filters(district=d), ending_within_days=14) for d in force.district_slugs()
        }
        actions: dict[tuple[str, str], int] = {
            (p, st): int(n)
            for p, st, n in s.execute(
                select(Action.pillar, Action.status, func.count())
                # HMIC recommendations are tracked apart and never counted among the actions.
                .where(Action.force == "suffolk", Action.kind != "hmic")
                .group_by(Action.pillar, Action.status)
            )
        }

    c1 = charts.caseload_chart(summary)
    assert c1.data["months"] == [p.month for p in wanted]
    assert c1.data["wanted_open"] == [p.open_at_end for p in wanted]
    assert c1.data["suspects_open"] == [p.open_at_end for p in suspects]
    assert f"{wanted[-1].open_at_end:,} in 2026-10" in c1.alt_text

    c2 = charts.bail_flow_chart(summary)
    for k, pts in kinds.items():
        assert c2.data[k] == {
            "opened": [p.opened for p in pts],
            "closed": [p.closed for p in pts],
            "active": [p.open_at_end for p in pts],
        }
    assert f"{kinds['rui'][-1].open_at_end:,} active at month end" in c2.alt_text

    c3 = charts.length_bands_chart(summary)
    assert c3.data["districts"] == list(force.district_slugs())
    for k in ("bail", "rui"):
        for band in LENGTH_BANDS:
            assert c3.data[k][band] == [per_district[d].length_bands[k][band] for d in force.district_slugs()]
    total_rui_over = sum(f.length_bands["rui"]["over-12m"] for f in per_district.values())
    assert f"{total_rui_over:,} over 12 months" in c3.alt_text

    c4 = charts.actions_chart(summary)
    assert sum(sum(v) for k, v in c4.data.items() if k != "pillars") == sum(actions.values()) > 0
    for i, pillar in enumerate(c4.data["pillars"]):
        for status in ("open", "ongoing", "held", "complete", "cancelled"):
            assert c4.data[status][i] == actions.get((pillar, status), 0)


def test_alt_text_names_scope_month_and_data_time(summary: MonthlySummary) -> None:
    for c in charts.render_all(summary):
        assert "Suffolk Constabulary" in c.alt_text
        # The exports' date, not the time they were imported: the demo's are as of today, its action log is the
        # subgroup's log of July 2022.
        when = "31 Jul 2022" if c.name == "actions" else "23 Nov 2026"
        assert f"Data as of {when}" in c.alt_text and "10:00 UTC" not in c.alt_text
        assert 80 < len(c.alt_text) <= charts.ALT_MAX


def _texts(make: Any, summary: MonthlySummary, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Every visible, non-empty text of the rendered figure with its pixel box."""
    from matplotlib.text import Text

    seen: dict[str, Any] = {}
    real = charts._png

    def keep(fig: Any) -> bytes:
        seen["fig"] = fig
        return real(fig)

    monkeypatch.setattr(charts, "_png", keep)
    make(summary)
    fig = seen["fig"]
    renderer = fig.canvas.get_renderer()
    candidates: list[Any] = list(fig.texts)
    for leg in fig.legends:
        candidates += leg.get_texts()
    for ax in fig.axes:
        candidates += [*ax.texts, ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        if ax.get_legend():
            candidates += ax.get_legend().get_texts()
        for axis in (ax.xaxis, ax.yaxis):
            # Only the ticks matplotlib draws: locators may propose ticks beyond the view limits.
            lo, hi = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks():
                if lo - 1e-9 <= tick.get_loc() <= hi + 1e-9:
                    candidates += [tick.label1, tick.label2]
    out = []
    for t in candidates:
        assert isinstance(t, Text)
        if t.get_visible() and t.get_text().strip() and t.get_alpha() != 0:
            out.append((t.get_text(), t.get_window_extent(renderer)))
    return out


@pytest.mark.parametrize("make", charts.CHARTS, ids=lambda f: f.__name__)
def test_no_text_is_cut_off_or_overlapping(make: Any, summary: MonthlySummary, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _texts(make, summary, monkeypatch)
    assert len(texts) > 10
    for text, box in texts:
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= 1200 and box.y1 <= 700, f"{text!r} is cut off: {box}"
    for (ta, a), (tb, b) in itertools.combinations(texts, 2):
        # Boxes may touch (shared baselines), not overlap by more than a couple of pixels.
        overlap_w = min(a.x1, b.x1) - max(a.x0, b.x0)
        overlap_h = min(a.y1, b.y1) - max(a.y0, b.y0)
        assert overlap_w <= 2 or overlap_h <= 2, f"{ta!r} overlaps {tb!r}"


def test_large_type_for_phones(summary: MonthlySummary, monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib.text import Text

    seen: dict[str, Any] = {}
    real = charts._png
    monkeypatch.setattr(charts, "_png", lambda fig: seen.setdefault("fig", fig) and real(fig))
    charts.caseload_chart(summary)
    sizes = [t.get_fontsize() for t in seen["fig"].findobj(Text) if t.get_text().strip()]
    assert min(sizes) >= 12 and max(sizes) >= 20  # footnote ≥ 12 pt, title ≥ 20 pt at 100 dpi


def test_no_data_month_renders_no_charts(runtime: Runtime) -> None:
    with runtime.sessions() as s:
        empty = build_summary(s, runtime.config, runtime.config.force("suffolk"), "2026-10", NOW.date(), NOW)
    assert charts.render_all(empty) == []


def test_matplotlib_is_not_imported_on_the_command_path() -> None:
    code = (
        "import sys\n"
        "import bot.summary.monthly, bot.slack.render_summary, jobs.runner, jobs.catalog, jobs.triggers, commands.cli\n"
        "import importlib.util\n"
        "if importlib.util.find_spec('commands.mo.summary'):\n"
        "    import commands.mo.summary\n"
        "commands.cli.build_parser()\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'\n"
        "import bot.summary.charts\n"
        "assert 'matplotlib' not in sys.modules, 'bot.summary.charts imports matplotlib at module import'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT)


@pytest.fixture
def early(runtime: Runtime, tmp_path: Path) -> MonthlySummary:
    """April 2025 on the demo data, whose exports cover from 24 Nov 2024: the 13 months from April 2024 begin
    seven months before the data does."""
    load_demo(runtime, rows=400, workdir=tmp_path / "demo")
    with runtime.sessions() as s:
        return build_summary(s, runtime.config, runtime.config.force("suffolk"), "2025-04", NOW.date(), NOW)


def test_months_before_coverage_are_not_drawn(early: MonthlySummary, runtime: Runtime) -> None:
    start = dt.date(2024, 11, 24)
    assert early.covered_from == {"wanted": start, "suspects": start, "bail": start}
    force, end = runtime.config.force("suffolk"), dt.date(2025, 4, 30)
    with runtime.sessions() as s:
        wanted = monthly_series(s, "wanted", force, end, 13)
        suspects = monthly_series(s, "suspects", force, end, 13)
        kinds = {k: monthly_series(s, "bail", force, end, 13, kind=k) for k in ("bail", "rui")}
    months = [p.month for p in wanted]
    # 30 Nov 2024 is the first month end covered (index 7); December the first month covered on every day.
    assert months[7] == "2024-11" and months[8] == "2024-12"
    assert (early.first_covered("wanted"), early.first_covered("bail", whole_month=True)) == (7, 8)

    c1 = charts.caseload_chart(early)
    assert c1.data["months"] == months
    assert c1.data["wanted_open"] == [None] * 7 + [p.open_at_end for p in wanted[7:]]
    assert c1.data["suspects_open"] == [None] * 7 + [p.open_at_end for p in suspects[7:]]
    # Before its coverage the data holds only the cases still open when it begins, so the service's counts there
    # are a few of them, not what was open: those months are left out, not drawn as a climb from the start.
    assert 0 < max(p.open_at_end for p in wanted[:7]) < min(p.open_at_end for p in wanted[7:])
    assert "Monthly wanted from 2024-11: " + ", ".join(f"{p.open_at_end:,}" for p in wanted[7:]) in c1.alt_text
    assert "no wanted or suspects data before 24 Nov 2024 (months not covered are not drawn)" in c1.alt_text

    c2 = charts.bail_flow_chart(early)
    for k, pts in kinds.items():
        assert c2.data[k] == {
            "opened": [None] * 8 + [p.opened for p in pts[8:]],
            "closed": [None] * 8 + [p.closed for p in pts[8:]],
            "active": [None] * 7 + [p.open_at_end for p in pts[7:]],
        }
    rui = kinds["rui"]
    assert f"Opened per month from 2024-12: {', '.join(f'{p.opened:,}' for p in rui[8:])};" in c2.alt_text
    assert f"active from 2024-11: {', '.join(f'{p.open_at_end:,}' for p in rui[7:])}." in c2.alt_text
    assert "no bail data before 24 Nov 2024 (months not covered are not drawn)" in c2.alt_text


@pytest.mark.parametrize("make", [charts.caseload_chart, charts.bail_flow_chart], ids=lambda f: f.__name__)
def test_the_coverage_footnote_fits(make: Any, early: MonthlySummary, monkeypatch: pytest.MonkeyPatch) -> None:
    # Stale as well: the longest footnote these charts draw.
    summary = replace(early, stale=("wanted", "suspects", "bail"))
    texts = _texts(make, summary, monkeypatch)
    assert any("months not covered are not drawn" in t for t, _ in texts)
    for text, box in texts:
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= 1200 and box.y1 <= 700, f"{text!r} is cut off: {box}"
    for (ta, a), (tb, b) in itertools.combinations(texts, 2):
        overlap_w = min(a.x1, b.x1) - max(a.x0, b.x0)
        overlap_h = min(a.y1, b.y1) - max(a.y0, b.y0)
        assert overlap_w <= 2 or overlap_h <= 2, f"{ta!r} overlaps {tb!r}"


def test_a_dataset_never_imported_is_not_drawn_as_zeros(summary: MonthlySummary) -> None:
    # As if suspects had never been imported (no coverage): its line is left out, and the footnote says why.
    none = replace(summary, covered_from={**summary.covered_from, "suspects": None})
    c1 = charts.caseload_chart(none)
    assert c1.data["suspects_open"] == [None] * 13
    assert c1.data["wanted_open"] == charts.caseload_chart(summary).data["wanted_open"]
    assert None not in c1.data["wanted_open"]
    assert "Outstanding suspects: no suspects data for 2026-10." in c1.alt_text
    assert "no suspects data imported (months not covered are not drawn)" in c1.alt_text
