"""How cases ended, and how many people rather than records.

- closed_by_outcome: the rows closed from the 1st of ``as_of``'s month to ``as_of`` (the month's
  ``closed_in_month``), by their recorded outcome (the closure_outcome vocabulary for wanted and suspects, the
  bail outcome vocabulary for bail and RUI; ``not_recorded`` when the export gave none), most first;
- people: distinct ``person_ref`` among the rows open at ``as_of`` (bail: active, not lapsed) that carry one —
  a person wanted on three circulations is one person — and how many of those rows carry one (``named_rows``), so
  an answer never sets its people beside rows they were not counted from. Person references are counted here,
  never returned.
  ``person_ref`` is optional in an export: when none of the force's open rows names a person, the people are not
  counted at all (None), rather than "0 people" beside a caseload.
  From the latest import's as-of date on they come from the import's aggregate (bot/figures/people_ahead.py), and
  so do the closures by outcome (bot/figures/closed_ahead.py).

Otherwise both read the rows as known at ``as_of`` (bot/figures/history.py), under the answer's filters: the
closures from the table (``outcome`` is in no index), the people from the index of open rows by person, which
holds every column they need (``ix_<table>_person``). Neither is part of the snapshot figures' statements:
:func:`with_outcomes` adds them to a figures result for the answers that show them (each cached per import with
its rendering) and for ``figures --json``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import TypeVar

from sqlalchemy import and_, case, distinct, func, select
from sqlalchemy.orm import Session

from bot.config import Force
from bot.dates import month_start
from bot.figures.arrests import NOT_RECORDED
from bot.figures.caseload import by_count
from bot.figures.closed_ahead import closed_from_aggregate
from bot.figures.history import source_at
from bot.figures.lapsed import not_lapsed
from bot.figures.people_ahead import people_from_aggregate
from bot.figures.source import BAIL, SUSPECTS, WANTED, Source, open_rows, row_conditions
from bot.figures.types import KINDS, BailFigures, Filters, People, SuspectFigures, WantedFigures


def closed_by_outcome(
    session: Session, src: Source, force: Force, as_of: dt.date, filters: Filters, *, kind: str | None = None
) -> dict[str, int]:
    """Outcome -> rows closed in the month to ``as_of`` (``kind``: bail or rui, for the bail dataset): from the
    import's aggregate (bot/figures/closed_ahead.py) when it answers for ``as_of``, else from the rows."""
    ahead = closed_from_aggregate(session, src.dataset, force.slug, as_of, filters, kind)
    if ahead is not None:
        return by_count({(o or NOT_RECORDED): n for o, n in ahead.items()})
    known = source_at(session, src, force.slug, as_of)
    m = known.model
    conds = [
        *row_conditions(known, force.slug, as_of, filters, kind=kind),
        known.closed >= month_start(as_of),
        known.closed <= as_of,
    ]
    stmt = select(m.outcome, func.count()).where(*conds).group_by(m.outcome)
    counts = {(o or NOT_RECORDED): int(n) for o, n in session.execute(stmt, {"at": as_of})}
    return by_count(counts)


def people_open(
    session: Session, src: Source, force: Force, as_of: dt.date, filters: Filters, *, kind: str | None = None
) -> People:
    """Distinct people among the rows open (bail of a ``kind``: active) at ``as_of`` that name one, and those rows:
    from the import's aggregate (bot/figures/people_ahead.py) when it answers for ``as_of``, else from the rows."""
    if kind is not None:
        return bail_people(session, src, force, as_of, filters)[kind]
    ahead = people_from_aggregate(session, src.dataset, force.slug, as_of, filters)
    if ahead is not None:
        return ahead
    known = source_at(session, src, force.slug, as_of)
    m = known.model
    conds = [*row_conditions(known, force.slug, as_of, filters), m.person_ref.is_not(None)]
    rows = open_rows(known, as_of, conds, m.person_ref)
    people, named = session.execute(select(func.count(rows.c.person_ref.distinct()), func.count()), {"at": as_of}).one()
    return People(int(people), int(named))


def bail_people(session: Session, src: Source, force: Force, as_of: dt.date, filters: Filters) -> dict[str, People]:
    """Kind -> people active at ``as_of`` (bail: not lapsed) and their rows: from the import's aggregate for each
    kind it answers, the others from one read of the rows for both kinds (each kind on its own would read the
    force's open bail and RUI twice: the index of open rows by person holds the kind after the person)."""
    out: dict[str, People] = {}
    for k in KINDS:
        ahead = people_from_aggregate(session, src.dataset, force.slug, as_of, filters, k)
        if ahead is not None:
            out[k] = ahead
    missing = [k for k in KINDS if k not in out]
    if missing:
        known = source_at(session, src, force.slug, as_of)
        m = known.model
        conds = [*row_conditions(known, force.slug, as_of, filters), m.person_ref.is_not(None), m.kind.in_(missing)]
        rows = open_rows(known, as_of, conds, m.person_ref, m.kind, m.bail_end_on)
        active = {"bail": and_(rows.c.kind == "bail", not_lapsed(as_of, rows.c)), "rui": rows.c.kind == "rui"}
        counts = [
            c
            for k in missing
            for c in (func.count(distinct(case((active[k], rows.c.person_ref)))), func.count(case((active[k], 1))))
        ]
        found = session.execute(select(*counts), {"at": as_of}).one()
        pairs = zip(found[0::2], found[1::2], strict=True)  # (people, named rows) per kind, as counted above
        out |= {k: People(int(people), int(named)) for k, (people, named) in zip(missing, pairs, strict=True)}
    return {k: out[k] for k in KINDS}


def bail_outcomes(
    session: Session, src: Source, force: Force, as_of: dt.date, filters: Filters
) -> tuple[dict[str, dict[str, int]], dict[str, People] | None]:
    """(kind -> outcome -> ended in the month, kind -> people active and their rows, or None when the force's rows
    name no person) for bail and RUI."""
    ended = {k: closed_by_outcome(session, src, force, as_of, filters, kind=k) for k in KINDS}
    return ended, bail_people(session, src, force, as_of, filters) if names_people(session, src, force) else None


FiguresT = TypeVar("FiguresT", bound=WantedFigures | SuspectFigures | BailFigures)


def names_people(session: Session, src: Source, force: Force) -> bool:
    """Whether any of the force's open rows names a person: whether its exports carry ``person_ref`` at all. One
    probe of the index of open rows by person (``ix_<table>_person``, partial on exactly those rows)."""
    m = src.model
    probe = select(m.person_ref).where(m.force == force.slug, src.closed.is_(None), m.person_ref.is_not(None)).limit(1)
    return session.execute(probe).first() is not None


def with_outcomes(session: Session, fig: FiguresT, force: Force, filters: Filters) -> FiguresT:
    """``fig`` with ``closed_by_outcome``, ``people`` and ``named_rows`` filled in, under the same date and filters
    (the people None when the force's rows name no person: see the module docstring)."""
    if isinstance(fig, BailFigures):
        ended, people = bail_outcomes(session, BAIL, force, fig.as_of, filters)
        by_kind, named = bail_people_fields(people)
        return replace(fig, closed_by_outcome=ended, people=by_kind, named_rows=named)
    src = WANTED if isinstance(fig, WantedFigures) else SUSPECTS
    counted = people_open(session, src, force, fig.as_of, filters) if names_people(session, src, force) else None
    return replace(
        fig,
        closed_by_outcome=closed_by_outcome(session, src, force, fig.as_of, filters),
        people=counted.people if counted else None,
        named_rows=counted.named_rows if counted else None,
    )


def bail_people_fields(people: dict[str, People] | None) -> tuple[dict[str, int] | None, dict[str, int] | None]:
    """A bail figures result's ``people`` and ``named_rows`` from each kind's (None: the force's rows name no
    person)."""
    if people is None:
        return None, None
    return {k: p.people for k, p in people.items()}, {k: p.named_rows for k, p in people.items()}
