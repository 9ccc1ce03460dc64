"""The monthly summary's four charts, rendered with matplotlib's Agg backend into 1200×700 PNGs.

matplotlib is imported inside the functions (a cold import costs ~0.5 s), so nothing on the slash-command
path pays for it. Figures are built with the object API (``Figure`` + ``FigureCanvasAgg``), not pyplot, so
renders on scheduler threads share no global state.

Made to be read on a phone: large type, at most 13 labelled months, the Okabe–Ito colour-blind-safe palette
plus line styles and hatching-free solid bars with direct value labels, the force and month in the title,
and the data time in a footnote. Margins are fixed rather than computed by ``tight_layout`` (which costs
~115 ms a chart, see docs/performance.md).

Each chart returns its PNG, alt text that states the numbers, and the data it plotted — read back from the
plotted artists themselves, so tests can check that what is drawn equals the figures service.
"""

from __future__ import annotations

import datetime as dt
import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.action_log.types import PILLARS, STATUSES
from bot.dates import day_month_year
from bot.figures.types import KINDS, LENGTH_BANDS
from bot.summary.monthly import MonthlySummary

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter, MaxNLocator

WIDTH_PX, HEIGHT_PX, DPI = 1200, 700, 100
# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
    "grey": "#999999",
}
BAND_COLOURS = ("#56B4E9", "#009E73", "#F0E442", "#E69F00", "#D55E00")  # short → long: cool to warm
STATUS_COLOURS = {
    "open": "#56B4E9",
    "ongoing": "#0072B2",
    "held": "#E69F00",
    "complete": "#009E73",
    "cancelled": "#999999",
}
BASE_FONT = 15  # points; at 100 dpi about 21 px, still readable when Slack shrinks the image to a phone's width
KIND_LABELS = {"bail": "Pre-charge bail", "rui": "RUI"}
BAND_LABELS = {
    "0-3m": "under 3 months",
    "3-6m": "3–6 months",
    "6-9m": "6–9 months",
    "9-12m": "9–12 months",
    "over-12m": "over 12 months",
}
ALT_MAX = 1000  # keep alt text short enough for screen readers and Slack's field


@dataclass(frozen=True)
class Chart:
    name: str  # file stem: "caseload", "bail-flow", "length-bands", "actions"
    title: str
    png: bytes
    alt_text: str
    data: dict[str, Any]  # what was plotted, read back from the figure
    width_px: int = WIDTH_PX
    height_px: int = HEIGHT_PX

    def filename(self, summary: MonthlySummary) -> str:
        return f"summary-{summary.force}-{summary.month}-{self.name}.png"


def _month_label(month: str, first: bool) -> str:
    d = dt.datetime.strptime(month, "%Y-%m")
    # The year only where it changes (and on the first label), so 13 labels fit without rotation.
    return d.strftime("%b\n%Y") if first or d.month == 1 else d.strftime("%b")


def _month_labels(ax: Any, months: list[str]) -> None:
    """Month names under the x axis as plain texts. A matplotlib Tick is five artists built by deep-copying
    properties; 13 of them were a fifth of a chart's render time, and these labels need no tick marks."""
    ax.set_xticks([])
    for i, m in enumerate(months):
        ax.text(
            i,
            -0.03,
            _month_label(m, i == 0),
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="top",
            fontsize=BASE_FONT,
        )


def _new_figure(summary: MonthlySummary, title: str) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    fig.text(0.02, 0.955, title, fontsize=BASE_FONT + 7, fontweight="bold", va="center", ha="left")
    fig.text(
        0.02,
        0.895,
        f"{summary.scope_label} · {summary.month_label}",
        fontsize=BASE_FONT + 1,
        va="center",
        ha="left",
        color="#333333",
    )
    return fig


FOOTNOTE_LINE = 110  # characters of the footnote's type that fit across the chart with room to spare


def _footnote(fig: Any, summary: MonthlySummary, datasets: tuple[str, ...], extra: str = "") -> str:
    """The footnote drawn under the chart (the extra on a line of its own when one line would not fit), and
    returned on one line for the alt text."""
    d = summary.oldest_export(datasets)
    stale = [ds for ds in datasets if ds in summary.stale]
    when = day_month_year(d) if d else "no import yet"
    text = f"Data as of {when}" + (f" — {', '.join(stale)} data overdue for refresh" if stale else "")
    drawn = text
    if extra:
        drawn += ("\n" if len(text) + 3 + len(extra) > FOOTNOTE_LINE else " · ") + extra
        text += f" · {extra}"
    fig.text(0.02, 0.025, drawn, fontsize=BASE_FONT - 3, color="#444444", ha="left", va="bottom")
    return text


def _style_axes(ax: Any) -> None:
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.tick_params(labelsize=BASE_FONT)
    ax.grid(axis="y", color="#dddddd", linewidth=1)
    ax.set_axisbelow(True)


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    # Fast zlib level: the PNGs are flat-colour charts, level 1 is ~3× faster to encode and barely larger.
    fig.savefig(buf, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def _clip_alt(text: str) -> str:
    return text if len(text) <= ALT_MAX else text[: ALT_MAX - 1] + "…"


def _trend(values: list[int]) -> str:
    if len(values) < 2:
        return ""
    a, b = values[0], values[-1]
    return "unchanged" if a == b else ("up" if b > a else "down") + f" {abs(b - a):,} over the period"


def _by_month(xs: Sequence[float], values: Sequence[float], n: int) -> list[int | None]:
    """Values drawn at x positions 0..n-1, read back from the artist, with None for a month not drawn."""
    drawn = {round(x): round(v) for x, v in zip(xs, values, strict=True)}
    return [drawn.get(i) for i in range(n)]


def _coverage_note(summary: MonthlySummary, datasets: tuple[str, ...], *, whole_month: bool = False) -> str:
    """What the footnote says about months left out (``whole_month``: as the bars leave them out, see
    :meth:`MonthlySummary.first_covered`): the first date each dataset's data covers (the months before it are
    not drawn, rather than drawn as zeros), or that it was never imported. Empty when every month is drawn."""
    starts: dict[dt.date | None, list[str]] = {}
    for ds in datasets:
        if summary.first_covered(ds, whole_month=whole_month) > 0:
            starts.setdefault(summary.covered_from.get(ds), []).append(ds)
    parts = []
    for start, names in starts.items():
        which = " or ".join(names)
        parts.append(
            f"no {which} data imported" if start is None else f"no {which} data before {day_month_year(start)}"
        )
    return "; ".join(parts) + " (months not covered are not drawn)" if parts else ""


def _from_month(months: list[str], values: list[int | None]) -> str:
    """``from 2025-12`` when the first months were not drawn, else nothing."""
    first = next((i for i, v in enumerate(values) if v is not None), None)
    return "" if not first else f" from {months[first]}"


def _listed(values: list[int | None]) -> str:
    return ", ".join(f"{v:,}" for v in values if v is not None) or "none drawn"


def _last_two(values: list[int | None], month: str, noun: str) -> str:
    """``12 in 2026-10 (previous month 10; up 2 over the period)``, or why a number is missing."""
    drawn = [v for v in values if v is not None]
    last, prev = values[-1], values[-2] if len(values) > 1 else None
    if last is None:
        return f"no {noun} data for {month}"
    before = f"previous month {prev:,}" if prev is not None else "no covered month before it"
    trend = _trend(drawn)
    return f"{last:,} in {month} ({before}{'; ' + trend if trend else ''})"


# ----------------------------------------------------------------------------------------------- chart 1


def caseload_chart(summary: MonthlySummary) -> Chart:
    """Wanted circulations and outstanding suspects open at each month end, last 13 months."""
    title = "Wanted and outstanding suspects open at month end"
    fig = _new_figure(summary, title)
    ax = fig.add_axes((0.08, 0.2, 0.72, 0.62))
    _style_axes(ax)
    months = [p.month for p in summary.wanted_series]
    x = list(range(len(months)))
    series: list[tuple[str, str, list[int], str, str, str]] = [
        ("Wanted", "wanted", [p.open_at_end for p in summary.wanted_series], OKABE_ITO["blue"], "-", "o"),
        (
            "Outstanding suspects",
            "suspects",
            [p.open_at_end for p in summary.suspects_series],
            OKABE_ITO["vermillion"],
            "--",
            "s",
        ),
    ]
    lines: dict[str, Line2D] = {}
    for label, dataset, ys, colour, style, marker in series:
        # A month end before the dataset's coverage has no figure: the line starts at the first covered one.
        k = summary.first_covered(dataset)
        (line,) = ax.plot(
            x[k:], ys[k:], color=colour, linestyle=style, marker=marker, linewidth=3, markersize=7, label=label
        )
        lines[label] = line
        if k < len(x):
            # Direct label at the line's end instead of a legend the eye has to match colours against.
            ax.annotate(
                f"{textwrap.fill(label, 12)} {ys[-1]:,}",
                (x[-1], ys[-1]),
                xytext=(12, 0),
                textcoords="offset points",
                fontsize=BASE_FONT,
                color=colour,
                va="center",
                fontweight="bold",
            )
    _separate_end_labels(ax, lines)
    _month_labels(ax, months)
    ax.set_xlim(-0.4, len(x) - 0.6)
    wanted_open = _by_month(_xdata(lines["Wanted"]), _ydata(lines["Wanted"]), len(x))
    suspects_open = _by_month(_xdata(lines["Outstanding suspects"]), _ydata(lines["Outstanding suspects"]), len(x))
    ax.set_ylim(bottom=0, top=max([v for v in wanted_open + suspects_open if v is not None] + [1]) * 1.15)
    ax.yaxis.set_major_formatter(_thousands())
    ax.yaxis.set_major_locator(_max_ticks(5))
    ax.set_ylabel("open at month end", fontsize=BASE_FONT)
    foot = _footnote(fig, summary, ("wanted", "suspects"), extra=_coverage_note(summary, ("wanted", "suspects")))
    data = {"months": months, "wanted_open": wanted_open, "suspects_open": suspects_open}
    alt = (
        f"Line chart, {summary.scope_label}, {months[0]} to {months[-1]}. Wanted circulations open at month end: "
        f"{_last_two(wanted_open, months[-1], 'wanted')}. "
        f"Outstanding suspects: {_last_two(suspects_open, months[-1], 'suspects')}. "
        f"Monthly wanted{_from_month(months, wanted_open)}: {_listed(wanted_open)}. "
        f"Monthly suspects{_from_month(months, suspects_open)}: {_listed(suspects_open)}. {foot}."
    )
    return Chart("caseload", title, _png(fig), _clip_alt(alt), data)


def _separate_end_labels(ax: Any, lines: dict[str, Any]) -> None:
    """Push the two end-of-line labels apart when their values are close, so they never overlap."""
    anns = [c for c in ax.texts]
    if len(anns) != 2:
        return
    y0, y1 = (float(line.get_ydata()[-1]) for line in lines.values())
    span = max(abs(y0), abs(y1), 1)
    if abs(y0 - y1) < span * 0.12:
        upper, lower = (anns[0], anns[1]) if y0 >= y1 else (anns[1], anns[0])
        upper.set_position((12, 26))
        lower.set_position((12, -26))


def _ydata(line: Line2D) -> list[float]:
    """The values a line was drawn with, read back from the artist so the alt text says what the chart shows."""
    import numpy as np

    return [float(v) for v in np.asarray(line.get_ydata(), dtype=float)]


def _xdata(line: Line2D) -> list[float]:
    """The positions (month indexes) a line was drawn at, read back from the artist."""
    import numpy as np

    return [float(v) for v in np.asarray(line.get_xdata(), dtype=float)]


def _thousands() -> FuncFormatter:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: f"{v:,.0f}")


@dataclass(frozen=True)
class _Bars:
    """A row of bars drawn as ONE PolyCollection: ``Axes.bar`` adds a Rectangle artist per bar (~2 ms each,
    the largest cost of these charts); one collection draws the same pixels in a fraction of the time."""

    collection: Any
    handle: Any  # legend proxy
    rects: list[tuple[float, float, float, float]]  # x, y, width, height as drawn
    positions: list[float]  # each bar's centre across the bars (x for vertical bars)

    def sizes(self, horizontal: bool) -> list[int]:
        """The bar lengths read back from the drawn polygons (what the reader sees)."""
        out = []
        for path in self.collection.get_paths():
            xs, ys = path.vertices[:, 0], path.vertices[:, 1]
            out.append(round(float((xs.max() - xs.min()) if horizontal else (ys.max() - ys.min()))))
        return out


def _bars(
    ax: Any,
    positions: Sequence[float],
    sizes: list[int],
    thickness: float,
    *,
    colour: str,
    label: str,
    starts: list[int] | None = None,
    horizontal: bool = False,
    edge: str | None = None,
) -> _Bars:
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    starts = starts or [0] * len(sizes)
    rects, verts = [], []
    for p, size, start in zip(positions, sizes, starts, strict=True):
        if horizontal:
            x, y, w, h = float(start), p - thickness / 2, float(size), thickness
        else:
            x, y, w, h = p - thickness / 2, float(start), thickness, float(size)
        rects.append((x, y, w, h))
        verts.append([(x, y), (x, y + h), (x + w, y + h), (x + w, y)])
    coll = PolyCollection(
        verts, facecolors=colour, edgecolors=edge or "none", linewidths=1 if edge else 0, label=label, zorder=2
    )
    ax.add_collection(coll, autolim=False)
    return _Bars(coll, Patch(facecolor=colour, label=label), rects, [float(p) for p in positions])


# ----------------------------------------------------------------------------------------------- chart 2


def bail_flow_chart(summary: MonthlySummary) -> Chart:
    """Bail and RUI opened vs closed per month (bars) with the active totals (line, right axis)."""
    title = "Pre-charge bail and RUI: opened and closed per month"
    fig = _new_figure(summary, title)
    months = [p.month for p in summary.bail_series]
    x = list(range(len(months)))
    w = 0.38
    data: dict[str, Any] = {"months": months}
    alt_parts = []
    axes = [fig.add_axes((0.08, 0.53, 0.8, 0.3)), fig.add_axes((0.08, 0.17, 0.8, 0.3))]
    legend_bars: list[_Bars] = []
    # Months before the bail data's coverage are not drawn: the active line from the first covered month end,
    # the opened and closed bars from the first month covered on every day (a partly covered month would
    # count only its covered days).
    k_line, k_bars = summary.first_covered("bail"), summary.first_covered("bail", whole_month=True)
    for ax, kind, pts in zip(axes, KINDS, (summary.bail_series, summary.rui_series), strict=True):
        _style_axes(ax)
        bars = pts[k_bars:]
        opened = _bars(
            ax, [i - w / 2 for i in x[k_bars:]], [p.opened for p in bars], w, colour=OKABE_ITO["sky"], label="Opened"
        )
        closed = _bars(
            ax, [i + w / 2 for i in x[k_bars:]], [p.closed for p in bars], w, colour=OKABE_ITO["orange"], label="Closed"
        )
        ax.set_ylabel(KIND_LABELS[kind], fontsize=BASE_FONT, fontweight="bold")
        ax.yaxis.set_major_formatter(_thousands())
        ax.set_xlim(-0.6, len(x) - 0.4)
        ax.set_ylim(0, max([p.opened for p in bars] + [p.closed for p in bars] + [1]) * 1.2)
        ax.yaxis.set_major_locator(_max_ticks(3))
        # The active total has its own scale (hundreds against tens a month). Rather than a twin axes (a
        # second scale to decode, and the most expensive artist here), the line is drawn in axes-fraction
        # height and its latest value written beside its end.
        ends = pts[k_line:]
        scale = max([p.open_at_end for p in ends] + [1]) * 1.35
        (active,) = ax.plot(
            x[k_line:],
            [p.open_at_end / scale for p in ends],
            transform=ax.get_xaxis_transform(),
            color=OKABE_ITO["black"],
            linewidth=3,
            marker="o",
            markersize=6,
            label="Active at month end (own scale)",
            zorder=3,
        )
        if ends:
            ax.annotate(
                f"{pts[-1].open_at_end:,}\nactive",
                (x[-1], pts[-1].open_at_end / scale),
                xycoords=ax.get_xaxis_transform(),
                xytext=(34, 0),
                textcoords="offset points",
                ha="left",
                va="center",
                fontsize=BASE_FONT,
                fontweight="bold",
                annotation_clip=False,
            )
        n = len(x)
        data[kind] = {
            "opened": _by_month(opened.positions, opened.sizes(horizontal=False), n),
            "closed": _by_month(closed.positions, closed.sizes(horizontal=False), n),
            "active": _by_month(_xdata(active), [v * scale for v in _ydata(active)], n),
        }
        legend_bars = [opened, closed]
        d = data[kind]
        flow = (
            f"{d['opened'][-1]:,} opened, {d['closed'][-1]:,} closed"
            if d["opened"][-1] is not None and d["closed"][-1] is not None
            else "opened and closed not covered"
        )
        active_now = (
            f"{d['active'][-1]:,} active at month end ("
            + (f"previous month {d['active'][-2]:,}" if n > 1 and d["active"][-2] is not None else "no month before")
            + ")"
            if d["active"][-1] is not None
            else "active not covered"
        )
        alt_parts.append(
            f"{KIND_LABELS[kind]} in {months[-1]}: {flow}, {active_now}. "
            f"Opened per month{_from_month(months, d['opened'])}: {_listed(d['opened'])}; "
            f"closed: {_listed(d['closed'])}; "
            f"active{_from_month(months, d['active'])}: {_listed(d['active'])}."
        )
    axes[0].set_xticks([])  # the months are labelled once, under the lower panel
    _month_labels(axes[1], months)
    handles = [legend_bars[0].handle, legend_bars[1].handle, axes[0].get_lines()[0]]
    fig.legend(
        handles,
        [h.get_label() for h in handles],
        loc="upper right",
        bbox_to_anchor=(0.98, 0.93),
        ncol=3,
        fontsize=BASE_FONT - 1,
        frameon=False,
    )
    foot = _footnote(fig, summary, ("bail",), extra=_coverage_note(summary, ("bail",), whole_month=True))
    alt = (
        f"Bar and line chart, {summary.scope_label}, {months[0]} to {months[-1]}. " + " ".join(alt_parts) + f" {foot}."
    )
    return Chart("bail-flow", title, _png(fig), _clip_alt(alt), data)


def _max_ticks(n: int) -> MaxNLocator:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(nbins=n, integer=True, min_n_ticks=2)


# ----------------------------------------------------------------------------------------------- chart 3


def length_bands_chart(summary: MonthlySummary) -> Chart:
    """Active bail and RUI at month end by district, stacked by length band."""
    title = "How long bail and RUI have run, by district"
    fig = _new_figure(summary, title)
    districts = list(summary.district_labels)
    labels = ["\n".join(textwrap.wrap(summary.district_labels[d], 12)) for d in districts]
    y = list(range(len(districts)))[::-1]  # first district at the top
    data: dict[str, Any] = {"districts": districts}
    alt_parts = []
    axes = [fig.add_axes((0.15, 0.2, 0.36, 0.56)), fig.add_axes((0.61, 0.2, 0.36, 0.56))]
    for idx, (ax, kind) in enumerate(zip(axes, KINDS, strict=True)):
        _style_axes(ax)
        ax.grid(axis="y", visible=False)
        ax.grid(axis="x", color="#dddddd", linewidth=1)
        per = summary.length_bands_by_district[kind]
        left = [0] * len(districts)
        plotted: dict[str, list[int]] = {}
        handles = []
        for band, colour in zip(LENGTH_BANDS, BAND_COLOURS, strict=True):
            vals = [per[d][band] for d in districts]
            bars = _bars(
                ax, y, vals, 0.6, starts=left, colour=colour, label=BAND_LABELS[band], horizontal=True, edge="white"
            )
            plotted[band] = bars.sizes(horizontal=True)
            handles.append(bars.handle)
            left = [a + b for a, b in zip(left, vals, strict=True)]
        top = max([*left, 1])
        for yi, total in zip(y, left, strict=True):
            ax.text(total + top * 0.02, yi, f"{total:,}", va="center", fontsize=BASE_FONT, fontweight="bold")
        ax.set_xlim(0, top * 1.25)
        ax.set_ylim(min(y) - 0.6, max(y) + 0.6)
        ax.xaxis.set_major_locator(_max_ticks(3))
        ax.xaxis.set_major_formatter(_thousands())
        ax.set_yticks(y, labels if idx == 0 else [""] * len(y))
        ax.set_title(KIND_LABELS[kind], fontsize=BASE_FONT + 2, fontweight="bold", loc="left")
        data[kind] = plotted
        over = sum(per[d]["over-12m"] for d in districts)
        alt_parts.append(
            f"{KIND_LABELS[kind]}: "
            + "; ".join(
                f"{summary.district_labels[d]} {sum(per[d].values()):,} active ("
                + ", ".join(f"{per[d][b]:,} {BAND_LABELS[b]}" for b in LENGTH_BANDS)
                + ")"
                for d in districts
            )
            + f". In all, {over:,} over 12 months."
        )
    fig.legend(
        handles,
        [h.get_label() for h in handles],
        loc="upper left",
        bbox_to_anchor=(0.02, 0.86),
        ncol=5,
        fontsize=BASE_FONT - 2,
        frameon=False,
        handlelength=1.2,
        columnspacing=1.0,
    )
    foot = _footnote(fig, summary, ("bail",), extra=f"active on {day_month_year(summary.as_of)}")
    alt = f"Stacked bar chart, {summary.scope_label}, active on {day_month_year(summary.as_of)}. " + " ".join(alt_parts)
    return Chart("length-bands", title, _png(fig), _clip_alt(alt + f" {foot}."), data)


# ----------------------------------------------------------------------------------------------- chart 4


def actions_chart(summary: MonthlySummary) -> Chart:
    """The action log by pillar, stacked by status."""
    title = "Action log by pillar and status"
    fig = _new_figure(summary, title)
    pillars = list(summary.actions_by_pillar)
    labels = ["\n".join(textwrap.wrap(PILLARS.get(p, p), 18)) for p in pillars]
    y = list(range(len(pillars)))[::-1]
    ax = fig.add_axes((0.22, 0.15, 0.7, 0.62))
    _style_axes(ax)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color="#dddddd", linewidth=1)
    left = [0] * len(pillars)
    widest = max([sum(summary.actions_by_pillar[p].values()) for p in pillars] + [1])
    plotted: dict[str, list[int]] = {}
    handles = []
    for status in STATUSES:
        vals = [summary.actions_by_pillar[p].get(status, 0) for p in pillars]
        bars = _bars(
            ax,
            y,
            vals,
            0.6,
            starts=left,
            colour=STATUS_COLOURS[status],
            label=status.capitalize(),
            horizontal=True,
            edge="white",
        )
        handles.append(bars.handle)
        plotted[status] = bars.sizes(horizontal=True)
        for (bx, by, bw, bh), v in zip(bars.rects, vals, strict=True):
            if v and bw >= widest * 0.03:
                # The count inside its segment when it fits; dark text on the light colours.
                light = status in ("open", "held", "cancelled")
                ax.text(
                    bx + bw / 2,
                    by + bh / 2,
                    str(v),
                    ha="center",
                    va="center",
                    fontsize=BASE_FONT - 1,
                    color="black" if light else "white",
                )
        left = [a + b for a, b in zip(left, vals, strict=True)]
    top = max([*left, 1])
    for yi, total in zip(y, left, strict=True):
        ax.text(total + top * 0.015, yi, f"{total}", va="center", fontsize=BASE_FONT, fontweight="bold")
    ax.set_xlim(0, top * 1.12)
    ax.set_ylim(min(y) - 0.6, max(y) + 0.6)
    ax.xaxis.set_major_locator(_max_ticks(5))
    ax.set_yticks(y, labels)
    fig.legend(
        handles,
        [h.get_label() for h in handles],
        loc="upper left",
        bbox_to_anchor=(0.02, 0.86),
        ncol=5,
        fontsize=BASE_FONT - 1,
        frameon=False,
    )
    foot = _footnote(fig, summary, ("actions",), extra="current state of the log")
    data = {"pillars": pillars, **plotted}
    alt = (
        f"Stacked bar chart of the action log, {summary.scope_label}: "
        + "; ".join(
            f"{PILLARS.get(p, p)}: "
            + ", ".join(
                f"{summary.actions_by_pillar[p].get(s, 0)} {s}"
                for s in STATUSES
                if summary.actions_by_pillar[p].get(s, 0)
            )
            for p in pillars
            if sum(summary.actions_by_pillar[p].values())
        )
        + f". {foot}."
    )
    return Chart("actions", title, _png(fig), _clip_alt(alt), data)


CHARTS = (caseload_chart, bail_flow_chart, length_bands_chart, actions_chart)


def render_all(summary: MonthlySummary) -> list[Chart]:
    """The four charts, or none for a month with no data (the message says so instead)."""
    if not summary.has_data:
        return []
    return [make(summary) for make in CHARTS]
