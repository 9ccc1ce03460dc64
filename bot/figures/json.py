"""Figures as one JSON object: keys exactly the figure names of the product brief plus dataset, force, district,
as_of, data_as_of (the latest import's time), export_as_of (its file's own as-of date), revised_up_to, rebuilt_from,
covered_from (ISO strings) and covered; bail_ending_soon as a list of objects. ``revised_up_to`` is null unless
``as_of`` is before the latest export: then it is the as-of date of the export whose revisions the figures apply
(bot.freshness.revised_up_to); ``rebuilt_from`` is null unless ``as_of`` is before the first export, whose as-of
date it is (bot.freshness.rebuilt_from). When ``as_of`` is before the dataset's coverage ``covered`` is false and no
figure is given (docs/figures.md)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from bot.coverage import is_covered
from bot.figures.trend import Trend
from bot.figures.types import BailFigures, SuspectFigures, WantedFigures

_KEYS: dict[type, tuple[str, ...]] = {
    WantedFigures: (
        "open",
        "by_district",
        "by_age_band",
        "by_reason",
        "by_offence",
        "review_overdue",
        "opened_in_month",
        "closed_in_month",
        "open_a_month_ago",
        "closed_by_outcome",
        "people",
        "named_rows",
    ),
    SuspectFigures: (
        "open",
        "by_district",
        "by_age_band",
        "by_offence",
        "opened_in_month",
        "closed_in_month",
        "open_a_month_ago",
        "closed_by_outcome",
        "people",
        "named_rows",
    ),
    BailFigures: (
        "active_bail",
        "active_rui",
        "lapsed_bail",
        "lapsed_bail_by_district",
        "opened_in_month",
        "closed_in_month",
        "length_bands",
        "by_district",
        "by_offence",
        "over_12m_by_district",
        "over_12m_by_offence",
        "bail_ending_soon",
        "closed_by_outcome",
        "people",
        "named_rows",
    ),
}


def figures_to_json(
    fig: WantedFigures | SuspectFigures | BailFigures,
    *,
    export_as_of: dt.date | None = None,
    revised_up_to: dt.date | None = None,
    rebuilt_from: dt.date | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "dataset": fig.dataset,
        "force": fig.force,
        "district": fig.district,
        "as_of": fig.as_of.isoformat(),
        "data_as_of": fig.data_as_of.isoformat() if fig.data_as_of else None,
        "export_as_of": export_as_of.isoformat() if export_as_of else None,
        "revised_up_to": revised_up_to.isoformat() if revised_up_to else None,
        "rebuilt_from": rebuilt_from.isoformat() if rebuilt_from else None,
        "covered_from": fig.covered_from.isoformat() if fig.covered_from else None,
        # null when the dataset was never imported (its figures are zeros, and the answers say "no data yet").
        "covered": is_covered(fig.covered_from, fig.as_of) if fig.covered_from else None,
    }
    if out["covered"] is False:
        # Before the data's coverage there is nothing to count: no figure rather than a confident zero (and so
        # nothing rebuilt or revised).
        out["revised_up_to"] = out["rebuilt_from"] = None
        return out
    for key in _KEYS[type(fig)]:
        value = getattr(fig, key)
        if key == "bail_ending_soon":
            value = [
                {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in dataclasses.asdict(e).items()}
                for e in value
            ]
        elif isinstance(value, dict):
            value = {k: (dict(v) if isinstance(v, dict) else v) for k, v in value.items()}
        out[key] = value
    return out


def trend_to_json(t: Trend, *, force: str, district: str | None) -> dict[str, Any]:
    """A trend (bot/figures/trend.py) as one JSON object: a month whose end the data does not cover has null counts,
    and one it covers only part of has null opened and closed, as the answers leave them out."""

    def day(d: dt.date | None) -> str | None:
        return d.isoformat() if d else None

    rebuilt = t.rebuilt

    return {
        "dataset": t.dataset,
        "force": force,
        "district": district,
        "as_of": t.as_of.isoformat(),
        "covered_from": day(t.covered_from),
        "first_export": day(t.first_export),
        "months": [
            {
                "month": m.first.strftime("%Y-%m"),
                "end": m.end.isoformat(),
                "open_at_end": m.open_at_end,
                "opened": m.opened,
                "closed": m.closed,
                **({"lapsed_at_end": m.lapsed_at_end} if t.dataset == "bail" else {}),
                "change": m.change,
                "rebuilt": m in rebuilt,
            }
            for m in t.months
        ],
    }
