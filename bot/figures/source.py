"""What the figures queries share: which columns open and close a row of each dataset, the row filters, and
the "open at D" predicate in a shape both databases answer from a covering index.

Open at D: opened on or before D and not closed on or before D, i.e.
``opened <= D AND (closed IS NULL OR closed > D)``. An OR across NULL and a range cannot be one index range,
and both SQLite (MULTI-INDEX OR) and PostgreSQL (BitmapOr) would then read the table; so the predicate is
split into two branches — ``closed IS NULL`` and ``closed > D`` — each an index-only range scan, whose
results are added (UNION ALL, or two scalar counts).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import InstrumentedAttribute

from bot.figures.types import WANTED_REASONS, Filters
from bot.models import BailPeriod, OutstandingSuspect, WantedCirculation


@dataclass(frozen=True)
class Source:
    dataset: str  # the ImportBatch dataset name
    model: Any
    opened: InstrumentedAttribute[dt.date]
    closed: InstrumentedAttribute[dt.date | None]


WANTED = Source("wanted", WantedCirculation, WantedCirculation.circulated_on, WantedCirculation.closed_on)
SUSPECTS = Source("suspects", OutstandingSuspect, OutstandingSuspect.identified_on, OutstandingSuspect.closed_on)
BAIL = Source("bail", BailPeriod, BailPeriod.started_on, BailPeriod.ended_on)
SOURCES = {s.dataset: s for s in (WANTED, SUSPECTS, BAIL)}
# Filters is frozen, so one shared "no filters" default is safe.
NO_FILTERS = Filters()


def row_conditions(
    src: Source, force: str, as_of: dt.date, filters: Filters, *, kind: str | None = None
) -> list[ColumnElement[bool]]:
    """The force plus every filter, as predicates on the row. Every query starts from these, so one force's
    rows never reach another's figures and every figure of an answer uses the same filters.

    ``older_than_days`` keeps rows opened more than N days before ``as_of`` (the cutoff is fixed by as_of
    for every figure of the answer, including open_a_month_ago and the monthly series)."""
    m = src.model
    conds: list[ColumnElement[bool]] = [m.force == force]
    if kind is not None:
        conds.append(m.kind == kind)
    if filters.district:
        conds.append(m.district == filters.district)
    if filters.offence:
        # Offence groups are ASCII labels; lower() agrees on both databases for those.
        conds.append(func.lower(m.offence) == filters.offence.strip().lower())
    if filters.reason:
        if src is not WANTED:
            raise ValueError("the reason filter applies to wanted circulations only")
        if filters.reason not in WANTED_REASONS:
            raise ValueError(f"unknown reason {filters.reason!r}; expected one of {', '.join(WANTED_REASONS)}")
        conds.append(m.reason == filters.reason)
    if filters.older_than_days is not None:
        if filters.older_than_days < 0:
            raise ValueError("older_than_days must not be negative")
        conds.append(src.opened < as_of - dt.timedelta(days=filters.older_than_days))
    return conds


def open_branches(src: Source, at: dt.date, conds: list[ColumnElement[bool]]) -> list[list[ColumnElement[bool]]]:
    """The two index-range halves of "open at ``at``" (see the module docstring); they never overlap."""
    return [
        [*conds, src.closed.is_(None), src.opened <= at],
        [*conds, src.closed > at, src.opened <= at],
    ]


def open_rows(src: Source, at: dt.date, conds: list[ColumnElement[bool]], *columns: Any) -> Any:
    """A subquery of ``columns`` of the rows open at ``at`` (UNION ALL of the two halves)."""
    parts: list[Select[Any]] = [select(*columns).where(*w) for w in open_branches(src, at, conds)]
    return parts[0].union_all(parts[1]).subquery("open_rows")


def open_groups(src: Source, at: dt.date, conds: list[ColumnElement[bool]], *keys: Any) -> Any:
    """Counts of the rows open at ``at`` by ``keys``: one GROUP BY per half, UNION ALL'd; the caller adds the
    halves' counts per key. Each half reads an index whose order is (force, closed, *keys), so the grouping
    streams in index order instead of sorting (SQLite: no temporary B-tree)."""
    parts = [select(*keys, func.count()).where(*w).group_by(*keys) for w in open_branches(src, at, conds)]
    return parts[0].union_all(parts[1])


def count_open_where(src: Source, at: dt.date, conds: list[ColumnElement[bool]], *where: Any) -> list[Any]:
    """Two scalar counts (one per half) whose sum is the number of rows open at ``at`` also meeting ``where``."""
    return [count_where(src, *w, *where) for w in open_branches(src, at, conds)]


def count_never_closed(src: Source, at: dt.date, conds: list[ColumnElement[bool]], *where: Any) -> Any:
    """Scalar count of the ``closed IS NULL`` half of "open at ``at``" meeting ``where`` (typically a range
    of the opened date, which the (force, closed, opened, …) index serves as one range)."""
    return count_where(src, *conds, src.closed.is_(None), src.opened <= at, *where)


def closed_after_sums(src: Source, at: dt.date, conds: list[ColumnElement[bool]], exprs: list[Any]) -> Any:
    """One-row subquery: for each of ``exprs``, how many rows of the ``closed > at`` half meet it.

    That half is small for a recent ``at`` (rows closed since), so it is read once with conditional sums;
    split into per-band range counts instead, the planner would pick the opened-date index for the band
    range and visit every row opened in the band."""
    sums = [func.coalesce(func.sum(case((e, 1), else_=0)), 0).label(f"s{i}") for i, e in enumerate(exprs)]
    return select(*sums).where(*conds, src.closed > at, src.opened <= at).subquery("closed_after")


def count_where(src: Source, *where: ColumnElement[bool]) -> Any:
    return select(func.count()).select_from(src.model).where(*where).scalar_subquery()


def count_open(src: Source, at: dt.date, conds: list[ColumnElement[bool]]) -> list[Any]:
    """Two scalar counts whose sum is the number of rows open at ``at``."""
    return [count_where(src, *w) for w in open_branches(src, at, conds)]


def count_opened_between(src: Source, first: dt.date, last: dt.date, conds: list[ColumnElement[bool]]) -> Any:
    return count_where(src, *conds, src.opened >= first, src.opened <= last)


def count_closed_between(src: Source, first: dt.date, last: dt.date, conds: list[ColumnElement[bool]]) -> Any:
    return count_where(src, *conds, src.closed >= first, src.closed <= last)
