"""Figures as one JSON object: keys exactly the figure names of the product brief plus dataset, force, district,
as_of and data_as_of (ISO strings); bail_ending_soon as a list of objects."""

from __future__ import annotations

import dataclasses
from typing import Any

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
    ),
    SuspectFigures: (
        "open",
        "by_district",
        "by_age_band",
        "by_offence",
        "opened_in_month",
        "closed_in_month",
        "open_a_month_ago",
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
        "bail_ending_soon",
    ),
}


def figures_to_json(fig: WantedFigures | SuspectFigures | BailFigures) -> dict[str, Any]:
    out: dict[str, Any] = {
        "dataset": fig.dataset,
        "force": fig.force,
        "district": fig.district,
        "as_of": fig.as_of.isoformat(),
        "data_as_of": fig.data_as_of.isoformat() if fig.data_as_of else None,
    }
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
