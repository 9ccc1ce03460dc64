"""Figures: counts over the imported datasets at a date, computed by SQL aggregates."""

from bot.figures.bail import bail_figures
from bot.figures.json import figures_to_json
from bot.figures.series import monthly_series
from bot.figures.suspects import suspect_figures
from bot.figures.types import (
    KINDS,
    LENGTH_BANDS,
    WANTED_AGE_BANDS,
    WANTED_REASONS,
    BailEnding,
    BailFigures,
    Filters,
    MonthPoint,
    SuspectFigures,
    WantedFigures,
)
from bot.figures.wanted import wanted_figures

__all__ = [
    "KINDS",
    "LENGTH_BANDS",
    "WANTED_AGE_BANDS",
    "WANTED_REASONS",
    "BailEnding",
    "BailFigures",
    "Filters",
    "MonthPoint",
    "SuspectFigures",
    "WantedFigures",
    "bail_figures",
    "figures_to_json",
    "monthly_series",
    "suspect_figures",
    "wanted_figures",
]
