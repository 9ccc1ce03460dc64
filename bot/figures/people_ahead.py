"""How many people (distinct ``person_ref``) the current rows hold from the latest import on, without reading rows.

The people of an answer are the distinct person references among the rows open at D (bail: active, not lapsed)
under its filters — a distinct count, which no sum of per-group counts gives: a person wanted in two districts
is one person force-wide and one in each district. But from the latest import's as-of date on, nothing but the
calendar moves: every current row that counts at such a D was opened by then, so a person counts at D exactly
while D is before the last day one of their rows stops counting (closed, or bail lapsed). So at import time, for
each level of the filters an answer can give (district, reason for wanted, offence: each given or not, plus the
kind for bail) and each group at that level, ``people_ahead`` holds how many people stop counting on each day
(``leaves``: the day after their last counted day; 9999-12-31 when none is known). People at D are then the sum
over that group's rows with ``leaves`` after D: as many rows as there are distinct end days, whatever the caseload.

``start`` (``people_state``) is the first day this answers for: the latest import's as-of date, or a later opened
date if a row is dated after it. Before it, for ``older_than`` (it cuts on the opened date, which these groups do
not keep), or while ``people_state`` does not name the latest import, people are counted from the rows
(bot/figures/outcomes.py). Counting it reads the rows open at ``start`` once per level, in the import's
transaction — the open caseload, not the history.
"""

from __future__ import annotations

import datetime as dt
from itertools import combinations
from typing import Any

from sqlalchemy import Date, and_, case, delete, func, insert, literal, or_, select, union_all
from sqlalchemy.orm import Session

from bot.figures.month_flow import latest_batch
from bot.figures.source import BAIL, SOURCES, WANTED
from bot.figures.types import Filters
from bot.models import ImportBatch, PeopleAhead, PeopleState

ANY = "*"
NO_END = dt.date(9999, 12, 31)


def _least(dialect: str, *xs: Any) -> Any:
    return func.least(*xs) if dialect == "postgresql" else func.min(*xs)


def _leaves(dialect: str, dataset: str, m: Any) -> Any:
    """The first day a row no longer counts: its closed date; for bail (kind bail) also the day after its bail
    end date (lapsed from then: bot/figures/lapsed.py)."""
    src = SOURCES[dataset]
    no_end = literal(NO_END, Date)
    ends = func.coalesce(getattr(m, src.closed.key), no_end)
    if dataset != BAIL.dataset:
        return ends
    be = m.bail_end_on
    day_after = be + 1 if dialect == "postgresql" else func.date(be, "+1 days")
    lapse = case((and_(m.kind == "bail", be.is_not(None)), day_after), else_=no_end)
    return _least(dialect, ends, lapse)


def _dims(dataset: str) -> tuple[str, ...]:
    return ("district", "reason", "offence") if dataset == WANTED.dataset else ("district", "offence")


def first_day(session: Session, dataset: str, force: str) -> dt.date | None:
    """The first day the aggregate answers for: the latest import's as-of date, or a later opened date."""
    src = SOURCES[dataset]
    as_of = session.scalar(
        select(func.max(ImportBatch.as_of)).where(ImportBatch.force == force, ImportBatch.dataset == dataset)
    )
    if as_of is None:
        return None
    opened = session.scalar(select(func.max(src.opened)).where(src.model.force == force))
    if opened is not None and not isinstance(opened, dt.date):
        opened = dt.date.fromisoformat(str(opened)[:10])
    return max(as_of, opened) if opened is not None else as_of


def rebuild_people(session: Session, dataset: str, force: str) -> None:
    """Count ``people_ahead`` for ``force``'s ``dataset`` again from the rows that count at its first day, and
    stamp it with the latest batch: one statement, each level a grouping of those rows by person."""
    session.execute(delete(PeopleAhead).where(PeopleAhead.force == force, PeopleAhead.dataset == dataset))
    session.execute(delete(PeopleState).where(PeopleState.force == force, PeopleState.dataset == dataset))
    start = first_day(session, dataset, force)
    if start is None:
        return
    src = SOURCES[dataset]
    m = src.model
    dialect = session.get_bind().dialect.name
    leaves = _leaves(dialect, dataset, m)
    closed = getattr(m, src.closed.key)
    kind = m.kind if dataset == BAIL.dataset else literal("")
    reason = m.reason if dataset == WANTED.dataset else literal("")
    counted = (
        select(
            m.person_ref.label("person"),
            kind.label("kind"),
            m.district.label("district"),
            reason.label("reason"),
            func.lower(m.offence).label("offence"),
            leaves.label("leaves"),
        )
        .where(m.force == force, m.person_ref.is_not(None), or_(closed.is_(None), closed > start), leaves > start)
        .cte("counted")
    )
    dims = _dims(dataset)
    levels = []
    for n in range(len(dims) + 1):
        for kept in combinations(dims, n):
            cols = {d: (counted.c[d] if d in kept else literal(ANY)) for d in dims}
            if "reason" not in dims:
                cols["reason"] = literal("")
            by = [counted.c.person, counted.c.kind, *(counted.c[d] for d in kept)]
            levels.append(
                select(
                    counted.c.kind,
                    cols["district"].label("district"),
                    cols["reason"].label("reason"),
                    cols["offence"].label("offence"),
                    func.max(counted.c.leaves).label("leaves"),
                ).group_by(*by)
            )
    u = union_all(*levels).subquery("per_person")
    keys = [u.c.kind, u.c.district, u.c.reason, u.c.offence, u.c.leaves]
    rows = select(literal(force), literal(dataset), *keys, func.count()).group_by(*keys)
    session.execute(
        insert(PeopleAhead).from_select(
            ["force", "dataset", "kind", "district", "reason", "offence", "leaves", "people"], rows
        )
    )
    session.add(
        PeopleState(force=force, dataset=dataset, import_batch_id=latest_batch(session, force, dataset), start=start)
    )
    session.flush()


def carry_people(session: Session, dataset: str, force: str, previous_batch: int) -> None:
    """After an import that changed no row: what was counted for ``previous_batch`` still holds; stamp it with the
    new batch (counted whole if it was not for that batch)."""
    state = session.get(PeopleState, (force, dataset))
    if state is None or state.import_batch_id != previous_batch:
        rebuild_people(session, dataset, force)
        return
    state.import_batch_id = latest_batch(session, force, dataset)
    session.flush()


def people_from_aggregate(
    session: Session, dataset: str, force: str, at: dt.date, filters: Filters, kind: str | None = None
) -> int | None:
    """Distinct people counted at ``at`` under ``filters`` (bail: of ``kind``), or None when the aggregate cannot
    answer (see the module docstring) and the rows must."""
    if filters.older_than_days is not None or (filters.reason and dataset != WANTED.dataset):
        return None
    state = session.execute(
        select(PeopleState.import_batch_id, PeopleState.start).where(
            PeopleState.force == force, PeopleState.dataset == dataset
        )
    ).first()
    if state is None or state.import_batch_id is None:
        return None
    start = state.start if isinstance(state.start, dt.date) else dt.date.fromisoformat(str(state.start)[:10])
    if at < start or state.import_batch_id != latest_batch(session, force, dataset):
        return None
    pa = PeopleAhead
    reason = (filters.reason or ANY) if dataset == WANTED.dataset else ""
    offence = filters.offence.strip().lower() if filters.offence else ANY
    n = session.scalar(
        select(func.coalesce(func.sum(pa.people), 0)).where(
            pa.force == force,
            pa.dataset == dataset,
            pa.kind == (kind or ""),
            pa.district == (filters.district or ANY),
            pa.reason == reason,
            pa.offence == offence,
            pa.leaves > at,
        )
    )
    return int(n or 0)
