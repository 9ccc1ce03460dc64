"""Figures as they were known: the values each case had, on a date D, in the latest import as of D.

Every import keeps the versions it replaces (bot/importing/merge.py): a case row holds its current values and
``valid_from``, the as-of date of the import that set them (SINCE_EVER for a first version, which answers for
every earlier date too); its history table holds each replaced version with ``valid_from`` and ``valid_to``, the
as-of date of the import that replaced it. The state at D is then every current row with ``valid_from <= D``
plus every history version with ``valid_from <= D < valid_to`` — one version per case.

Today's figures never read the history: once D is on or after the latest date any import revised a row of the
force's dataset (``max(valid_to)`` of its history, one index probe), the current rows are the state at D and the
figures run the same index-only statements as ever. At an earlier D the counts take what the imports after D
changed from today's rows (bot/figures/revisions.py, per group and day); only what is not a sum (lists, distinct
people, outcomes), and the counts while those changes are not current, read the rows as below
(docs/figures.md, "History", has the costs).

:func:`known_source` returns a :class:`~bot.figures.source.Source` whose model is that union, with the same
column names as the case table, so every figures statement runs over it unchanged; it is bound with ``:at``.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from sqlalchemy import func, literal_column, select, union_all
from sqlalchemy.orm import Session, aliased

from bot.figures.source import BAIL, SUSPECTS, WANTED, Source, date_param
from bot.models import SINCE_EVER_SQL, BailHistory, Base, SuspectHistory, WantedHistory

HISTORY_MODELS: dict[str, Any] = {"wanted": WantedHistory, "suspects": SuspectHistory, "bail": BailHistory}
_SOURCES = {s.dataset: s for s in (WANTED, SUSPECTS, BAIL)}
_OWN = {"id", "case_id", "valid_from", "valid_to"}


def revised_until(session: Session, force: str, dataset: str) -> dt.date | None:
    """The latest as-of date on which an import revised a row of ``force``'s ``dataset`` (None: never)."""
    h = HISTORY_MODELS[dataset]
    value: dt.date | None = session.scalar(select(func.max(h.valid_to)).where(h.force == force))
    return value


def needs_history(session: Session, force: str, dataset: str, at: dt.date) -> bool:
    """Whether the state at ``at`` differs from the current rows (an import after ``at`` revised one)."""
    until = revised_until(session, force, dataset)
    return until is not None and at < until


@cache
def known_source(dataset: str) -> Source:
    """The dataset's rows as known on ``:at`` (see the module docstring), as a Source."""
    src = _SOURCES[dataset]
    h = HISTORY_MODELS[dataset]
    m = src.model
    at = date_param("at")
    names = [c.name for c in Base.metadata.tables[h.__tablename__].columns if c.name not in _OWN]
    current = select(m.id, *(getattr(m, n) for n in names)).where(m.valid_from <= at)
    replaced = select(h.case_id.label("id"), *(getattr(h, n) for n in names)).where(h.valid_from <= at, h.valid_to > at)
    union = union_all(current, replaced).subquery(f"{m.__tablename__}_as_known")
    alias = aliased(m, union, adapt_on_names=True)
    return Source(src.dataset, alias, getattr(alias, src.opened.key), getattr(alias, src.closed.key))


@cache
def revised_source(dataset: str) -> Source:
    """The current rows an import revised after ``:at`` (their version at ``:at`` is in the history). The
    constant term lets both databases use the partial index of revised rows (``ix_<table>_revised``)."""
    src = _SOURCES[dataset]
    m = src.model
    names = _names(dataset)
    rows = select(m.id, *(getattr(m, n) for n in names)).where(
        m.valid_from > literal_column(SINCE_EVER_SQL), m.valid_from > date_param("at")
    )
    return _as_source(src, rows.subquery(f"{m.__tablename__}_revised"))


@cache
def versions_source(dataset: str) -> Source:
    """The history versions valid at ``:at`` (one range of ``ix_<table>_history_valid``)."""
    src = _SOURCES[dataset]
    h = HISTORY_MODELS[dataset]
    at = date_param("at")
    rows = select(h.case_id.label("id"), *(getattr(h, n) for n in _names(dataset))).where(
        h.valid_from <= at, h.valid_to > at
    )
    return _as_source(src, rows.subquery(f"{src.model.__tablename__}_versions"))


def parts_at(session: Session, src: Source, force: str, at: dt.date) -> list[tuple[Source, int]]:
    """The state at ``at`` as signed parts whose counts add up: the current rows (+1), less the rows revised
    after ``at`` (−1), plus the versions valid at ``at`` (+1). The last two are small (the revisions only) and
    read from their own indexes; the first is what today's figures read. Only for counts (sums over rows)."""
    if not needs_history(session, force, src.dataset, at):
        return [(src, 1)]
    return [(src, 1), (revised_source(src.dataset), -1), (versions_source(src.dataset), 1)]


def _names(dataset: str) -> list[str]:
    h = HISTORY_MODELS[dataset]
    return [c.name for c in Base.metadata.tables[h.__tablename__].columns if c.name not in _OWN]


def _as_source(src: Source, sub: Any) -> Source:
    alias = aliased(src.model, sub, adapt_on_names=True)
    return Source(src.dataset, alias, getattr(alias, src.opened.key), getattr(alias, src.closed.key))


def source_at(session: Session, src: Source, force: str, at: dt.date) -> Source:
    """``src`` itself when the current rows are the state at ``at``, else its as-known union."""
    return known_source(src.dataset) if needs_history(session, force, src.dataset, at) else src
