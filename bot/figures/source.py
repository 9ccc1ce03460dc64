"""What the figures queries share: which columns open and close a row of each dataset, the row filters, and
the "open at D" predicate in a shape both databases answer from a covering index.

Open at D: opened on or before D and not closed on or before D, i.e.
``opened <= D AND (closed IS NULL OR closed > D)``. An OR across NULL and a range cannot be one index range,
and both SQLite (MULTI-INDEX OR) and PostgreSQL (BitmapOr) would then read the table; so the predicate is
split into two branches — ``closed IS NULL`` and ``closed > D`` — each an index-only range scan, whose
results are added (UNION ALL, or two scalar counts).

Per-row date comparisons (everything not an index range: FILTER counts, "opened on or before D" after the
closed-date range) go through :func:`val`. SQLite stores these dates as ISO text in columns of NUMERIC
affinity (declared DATE), so comparing such a column with a bound value makes SQLite try to read both strings
as numbers, at every row, before it falls back to comparing the text; ``+column`` has no affinity and compares
the text at once — the same result, and a third less work per row in the figures' passes (measured on the
1M-row benchmark table: 40 → 27 ms CPU for the open-rows pass). Index ranges keep the bare column, which the
planner needs to see.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, and_, bindparam, func, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

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


class val(FunctionElement[Any]):  # lower case: it reads like the SQL function it stands for
    """A column's value for a per-row comparison: ``+column`` on SQLite (no affinity: see the module
    docstring), the bare column elsewhere. Never for a comparison meant to be an index range."""

    inherit_cache = True

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(val)
def _val(element: val, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(val, "sqlite")
def _val_sqlite(element: val, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(element.clauses, **kw)


def row_conditions(
    src: Source, force: str, as_of: dt.date, filters: Filters, *, kind: str | None = None
) -> list[ColumnElement[bool]]:
    """The force plus every filter, as predicates on the row. Every query starts from these, so one force's
    rows never reach another's figures and every figure of an answer uses the same filters.

    ``older_than_days`` keeps rows opened more than N days before ``as_of`` (the cutoff is fixed by as_of
    for every figure of the call, including open_a_month_ago; the answers' month-ago line asks again with the age
    counted back from that day, bot/figures/month_ago.py)."""
    m = src.model
    conds: list[ColumnElement[bool]] = [m.force == force]
    if kind is not None:
        conds.append(m.kind == kind)
    if filters.reason:
        # By dataset, not identity: the rows as known at a past date are another Source over the same dataset.
        if src.dataset != WANTED.dataset:
            raise ValueError("the reason filter applies to wanted circulations only")
        if filters.reason not in WANTED_REASONS:
            raise ValueError(f"unknown reason {filters.reason!r}; expected one of {', '.join(WANTED_REASONS)}")
    conds += group_conditions(m, filters)
    if (cutoff := filters.opened_before(as_of)) is not None:
        conds.append(val(src.opened) < cutoff)
    return conds


def group_conditions(m: Any, filters: Filters) -> list[ColumnElement[bool]]:
    """The district, offence and reason filters as predicates on the case rows (:func:`row_conditions`, which
    checks them first) or on a table keyed by the groups (month flows, the forward aggregates)."""
    conds: list[ColumnElement[bool]] = []
    if filters.district:
        conds.append(m.district == filters.district)
    if filters.offence:
        # Offence groups are ASCII labels; lower() agrees on both databases for those.
        conds.append(func.lower(m.offence) == filters.offence.strip().lower())
    if filters.reason:
        conds.append(m.reason == filters.reason)
    return conds


def open_branches(src: Source, at: dt.date, conds: list[ColumnElement[bool]]) -> list[list[ColumnElement[bool]]]:
    """The two index-range halves of "open at ``at``" (see the module docstring); they never overlap."""
    return [
        [*conds, src.closed.is_(None), val(src.opened) <= at],
        [*conds, src.closed > at, val(src.opened) <= at],
    ]


def open_rows(src: Source, at: dt.date, conds: list[ColumnElement[bool]], *columns: Any) -> Any:
    """A subquery of ``columns`` of the rows open at ``at`` (UNION ALL of the two halves)."""
    parts: list[Select[Any]] = [select(*columns).where(*w) for w in open_branches(src, at, conds)]
    return parts[0].union_all(parts[1]).subquery("open_rows")


def count_open_where(src: Source, at: dt.date, conds: list[ColumnElement[bool]], *where: Any) -> list[Any]:
    """Two scalar counts (one per half) whose sum is the number of rows open at ``at`` also meeting ``where``."""
    return [count_where(src, *w, *where) for w in open_branches(src, at, conds)]


def count_where(src: Source, *where: ColumnElement[bool]) -> Any:
    return select(func.count()).select_from(src.model).where(*where).scalar_subquery()


def count_open(src: Source, at: dt.date, conds: list[ColumnElement[bool]]) -> list[Any]:
    """Two scalar counts whose sum is the number of rows open at ``at``."""
    return [count_where(src, *w) for w in open_branches(src, at, conds)]


# --- Statements built once, values bound per call ------------------------------------------------------------
# Building a select() and its cache key costs ~1 ms of Python per statement; the figures' statements differ only
# in which filters are present, so each shape is built once and run through Core with a dict of values.


@dataclass(frozen=True)
class Shape:
    """Which row filters a statement carries (their values are bound per call)."""

    district: bool = False
    offence: bool = False
    reason: bool = False
    older: bool = False
    kind: bool = False


def filter_values(
    src: Source, force: str, as_of: dt.date, filters: Filters, *, kind: str | None = None
) -> tuple[Shape, dict[str, Any]]:
    """The statement shape and bound values of :func:`row_conditions`' predicates (same checks, same meaning)."""
    values: dict[str, Any] = {"force": force}
    if kind is not None:
        values["kind"] = kind
    if filters.district:
        values["district"] = filters.district
    if filters.offence:
        values["offence"] = filters.offence.strip().lower()
    if filters.reason:
        if src is not WANTED:
            raise ValueError("the reason filter applies to wanted circulations only")
        if filters.reason not in WANTED_REASONS:
            raise ValueError(f"unknown reason {filters.reason!r}; expected one of {', '.join(WANTED_REASONS)}")
        values["reason"] = filters.reason
    if (cutoff := filters.opened_before(as_of)) is not None:
        values["older_cutoff"] = cutoff
    shape = Shape(
        district="district" in values,
        offence="offence" in values,
        reason="reason" in values,
        older="older_cutoff" in values,
        kind=kind is not None,
    )
    return shape, values


def bound_conditions(src: Source, shape: Shape) -> list[ColumnElement[bool]]:
    """:func:`row_conditions` with bind parameters named as in :func:`filter_values`."""
    m = src.model
    conds: list[ColumnElement[bool]] = [m.force == bindparam("force")]
    if shape.kind:
        conds.append(m.kind == bindparam("kind"))
    if shape.district:
        conds.append(m.district == bindparam("district"))
    if shape.offence:
        conds.append(func.lower(m.offence) == bindparam("offence"))
    if shape.reason:
        conds.append(m.reason == bindparam("reason"))
    if shape.older:
        conds.append(val(src.opened) < bindparam("older_cutoff", type_=Date))
    return conds


def date_param(name: str) -> Any:
    return bindparam(name, type_=Date)


def count_if(cond: ColumnElement[bool]) -> Any:
    """How many rows meet ``cond``: ``count(*) FILTER (WHERE cond)`` on both databases. (A portable
    ``count(CASE WHEN …)`` measured no faster on PostgreSQL and, with bound parameters, slower on SQLite.)"""
    return func.count().filter(cond)


def open_cube(
    src: Source,
    conds: list[ColumnElement[bool]],
    keys: list[Any],
    thresholds: list[ColumnElement[bool]],
    *,
    since_ago: bool = True,
) -> Any:
    """One pass over the rows open at ``:at``: per group of ``keys``, the count, how many meet each of
    ``thresholds`` (``count_if``), and — last — how many were opened from ``:first`` and, with ``since_ago``,
    after ``:ago`` (see :func:`flows`). The two halves of "open at" (see the module docstring) are UNION ALL'd;
    the caller adds their counts per key. Each half reads one of the table's two open indexes
    (:func:`bot.models.open_indexes`), which cover every column read: the table is never visited, and the rows
    not closed stream in the order of ``keys``."""
    return union_all(*open_cube_parts(src, conds, keys, thresholds, since_ago=since_ago))


def open_cube_parts(
    src: Source,
    conds: list[ColumnElement[bool]],
    keys: list[Any],
    thresholds: list[ColumnElement[bool]],
    *,
    since_ago: bool = True,
) -> list[Select[Any]]:
    """:func:`open_cube`'s two SELECTs, for a caller that unions several cubes (SQLite takes no nested UNION)."""
    at, first, ago = date_param("at"), date_param("first"), date_param("ago")
    # Each FILTER is evaluated at every open row (~2–5 ms per 50,000 rows on SQLite): only the wanted and
    # suspects snapshots, which report open_a_month_ago, ask for the "since :ago" count.
    aggs = [
        func.count(),
        *(count_if(t) for t in thresholds),
        count_if(val(src.opened) >= first),
        *([count_if(val(src.opened) > ago)] if since_ago else []),
    ]
    return [
        select(*keys, *aggs).where(*conds, src.closed.is_(None), val(src.opened) <= at).group_by(*keys),
        select(*keys, *aggs).where(*conds, src.closed > at, val(src.opened) <= at).group_by(*keys),
    ]


def flows(
    src: Source,
    conds: list[ColumnElement[bool]],
    split: list[ColumnElement[bool]] | None = None,
    *,
    since_ago: bool = True,
) -> Any:
    """One row ``(closed_in_month, closed_since, opened_in_month, opened_since)`` — those four again for each
    condition of ``split`` — over the rows closed from ``:lo`` (the earlier of ``:first`` and the day after
    ``:ago``) to ``:at``: closed from ``:first`` and after ``:ago``, and — of those same rows — opened from
    ``:first`` and after ``:ago``. One range of the closed-rows index, whatever the split (it leads with the
    closed date, so a split by kind in the WHERE clause would read the range once per kind).

    Without ``since_ago`` (answers that report no open_a_month_ago: bail, the series) the row is
    ``(closed_in_month, opened_in_month)`` per split and the range starts at ``:first``: up to a month's fewer
    index entries read, and half the FILTER counts.

    Why no index on the opened date is needed: a row opened in a window ending at ``:at`` was, at ``:at``,
    either still open (counted by :func:`open_cube`'s last columns) or closed in the window, since it
    cannot close before it opens (the import refuses such rows). So "opened in the month" is the open cube's
    part plus this part, and all of it comes from ranges of the two open indexes."""
    at, first, ago, lo = date_param("at"), date_param("first"), date_param("ago"), date_param("lo")
    counts = []
    parts: list[ColumnElement[bool] | None] = [*split] if split else [None]
    for part in parts:
        also = [] if part is None else [part]
        if not since_ago:
            counts += [
                count_if(part) if part is not None else func.count(),
                count_if(and_(*also, val(src.opened) >= first)),
            ]
            continue
        counts += [
            count_if(and_(*also, val(src.closed) >= first)),
            count_if(and_(*also, val(src.closed) > ago)),
            count_if(and_(*also, val(src.opened) >= first)),
            count_if(and_(*also, val(src.opened) > ago)),
        ]
    return select(*counts).where(*conds, src.closed >= (lo if since_ago else first), src.closed <= at)
