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
Beside them, ``named``: how many rows that name a person stop counting that day (each row on its own end day), so
an answer can say how many of its rows the people were counted from — ``person_ref`` is optional row by row, and
"120 people" beside 500 circulations of which 350 name nobody would read as 500 circulations of 120 people.

It answers from ``start`` on while its stamp names the latest import (bot/figures/ahead_state.py); before, and for
``older_than`` (it cuts on the opened date, which these groups do not keep), people are counted from the rows
(bot/figures/outcomes.py). Counting it reads the rows counting at ``start`` once per level, in the import's
transaction (bot/figures/ahead.py) — the open caseload, not the history.
"""

from __future__ import annotations

import datetime as dt
from itertools import combinations
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    MetaData,
    String,
    Table,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    text,
    union,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.dates import as_date
from bot.figures.ahead_state import answers_at
from bot.figures.merged import Merged
from bot.figures.source import BAIL, SOURCES, WANTED
from bot.figures.types import Filters, People
from bot.models import PeopleAhead

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


Key = tuple[str, str, str, str, dt.date]  # kind, district, reason, offence (lower-cased), leaves
KEY_COLUMNS = ("kind", "district", "reason", "offence", "leaves")


def _counting(dialect: str, dataset: str, m: Any, start: dt.date, *where: Any) -> list[Any]:
    """The rows of ``m`` (the case table, or a table of versions shaped like it) that name a person and count at
    ``start``, with their group and ``leaves``: the open ones and the ones closed after ``start``, apart (each half
    on its own index)."""
    src = SOURCES[dataset]
    closed = getattr(m, src.closed.key)
    leaves = _leaves(dialect, dataset, m)
    kind = m.kind if dataset == BAIL.dataset else literal("")
    reason = m.reason if dataset == WANTED.dataset else literal("")
    cols = [
        m.person_ref.label("person"),
        kind.label("kind"),
        m.district.label("district"),
        reason.label("reason"),
        func.lower(m.offence).label("offence"),
        leaves.label("leaves"),
    ]
    base = [m.person_ref.is_not(None), leaves > start, *where]
    # Two selects for the caller's UNION ALL (flat: SQLite takes no parenthesised compound).
    return [select(*cols).where(closed.is_(None), *base), select(*cols).where(closed > start, *base)]


def _per_group(dataset: str, counted: Any, *lead: Any) -> Any:
    """Per group at every level and ``leaves``: how many people of ``counted`` stop counting then (each level a
    grouping by person: a person's ``leaves`` is the latest of their rows in the group), and how many of its rows
    (each its own ``leaves``)."""
    dims = _dims(dataset)
    by_person, by_row = [], []
    for n in range(len(dims) + 1):
        for kept in combinations(dims, n):
            cols = {d: (counted.c[d] if d in kept else literal(ANY)) for d in dims}
            if "reason" not in dims:
                cols["reason"] = literal("")
            group = [
                counted.c.kind,
                cols["district"].label("district"),
                cols["reason"].label("reason"),
                cols["offence"].label("offence"),
            ]
            by = [counted.c.person, counted.c.kind, *(counted.c[d] for d in kept)]
            by_person.append(select(*group, func.max(counted.c.leaves).label("leaves")).group_by(*by))
            by_row.append(select(*group, counted.c.leaves.label("leaves")))
    per_person = union_all(*by_person).subquery("per_person")
    per_row = union_all(*by_row).subquery("per_row")

    def tally(u: Any, people: Any, named: Any) -> Any:
        keys = [u.c[k] for k in KEY_COLUMNS]
        return select(*keys, people.label("people"), named.label("named")).group_by(*keys)

    zero = literal(0)
    tallies = union_all(tally(per_person, func.count(), zero), tally(per_row, zero, func.count())).subquery("tallies")
    keys = [tallies.c[k] for k in KEY_COLUMNS]
    return select(*lead, *keys, func.sum(tallies.c.people), func.sum(tallies.c.named)).group_by(*keys)


def count_people(session: Session, dataset: str, force: str, start: dt.date) -> None:
    """Write ``people_ahead`` for ``force``'s ``dataset`` from its rows that count at ``start``, in one statement
    (the caller has emptied it: bot/figures/ahead.py)."""
    m = SOURCES[dataset].model
    dialect = session.get_bind().dialect.name
    counted = union_all(*_counting(dialect, dataset, m, start, m.force == force)).cte("counted")
    rows = _per_group(dataset, counted, literal(force), literal(dataset))
    cols = ["force", "dataset", *KEY_COLUMNS, "people", "named"]
    session.execute(insert(PeopleAhead).from_select(cols, rows))


TOUCHED = "mo_people_touched"


def people_delta(session: Session, what: Merged, old_start: dt.date, new_start: dt.date) -> dict[Key, tuple[int, int]]:
    """What a merge (``what``: the rows it wrote, the versions it replaced) changed in ``people_ahead`` (people,
    named rows): for the people those name, their counts from the rows now (at ``new_start``) less their counts
    from the rows before it (at ``old_start``: the rows it did not write, and the versions it replaced). Everyone
    else's counts stand: for any date on or after ``new_start`` they say the same (a person's ``leaves`` is the
    latest of their rows', however late the count began; their rows are as they were). The people touched are
    written once to a temporary table (each kind of written row found through its own index); their rows are read
    through the index of open rows by person."""
    dataset, force = what.dataset, what.force
    m = SOURCES[dataset].model
    was = what.replaced
    dialect = session.get_bind().dialect.name
    named = [
        select(m.person_ref).where(*what.revised, m.person_ref.is_not(None)),
        select(m.person_ref).where(*what.added, m.person_ref.is_not(None)),
        select(was.person_ref).where(was.force == force, was.person_ref.is_not(None)),
    ]
    session.execute(text(f"DROP TABLE IF EXISTS {TOUCHED}"))
    session.execute(text(f"CREATE TEMPORARY TABLE {TOUCHED} (person_ref VARCHAR(64) PRIMARY KEY)"))
    touched = Table(TOUCHED, MetaData(), Column("person_ref", String(64)))
    people = union(*named)  # distinct
    session.execute(insert(touched).from_select(["person_ref"], people))
    if dialect == "postgresql":
        session.execute(text(f"ANALYZE {TOUCHED}"))
    mine = select(touched.c.person_ref)
    written = or_(and_(*what.revised), and_(*what.added))
    now = union_all(*_counting(dialect, dataset, m, new_start, m.force == force, m.person_ref.in_(mine)))
    before = union_all(
        *_counting(dialect, dataset, m, old_start, m.force == force, m.person_ref.in_(mine), not_(written)),
        *_counting(dialect, dataset, was, old_start, was.force == force, was.person_ref.in_(mine)),
    )
    out: dict[Key, tuple[int, int]] = {}
    for sign, rows in ((1, now), (-1, before)):
        for r in session.execute(_per_group(dataset, rows.cte("counted"))):
            key = (r[0], r[1], r[2], r[3], as_date(r[4]))
            was_people, was_named = out.get(key, (0, 0))
            out[key] = (was_people + sign * int(r[5]), was_named + sign * int(r[6]))
    session.execute(text(f"DROP TABLE IF EXISTS {TOUCHED}"))
    return {k: n for k, n in out.items() if n != (0, 0)}


def apply_people_delta(
    session: Session, dataset: str, force: str, delta: dict[Key, tuple[int, int]], start: dt.date
) -> None:
    """Add ``delta`` (people, named rows) to ``people_ahead`` and drop the rows that no longer count from ``start``
    on (nobody and no row left, or stopping by then)."""
    pa = PeopleAhead
    dialect = session.get_bind().dialect.name
    rows = [
        {"force": force, "dataset": dataset, "kind": k, "district": d, "reason": r, "offence": o, "leaves": x,
         "people": people, "named": named}
        for (k, d, r, o, x), (people, named) in delta.items()
    ]  # fmt: skip
    for i in range(0, len(rows), 5_000):
        ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(pa)
        added = {"people": pa.people + ins.excluded.people, "named": pa.named + ins.excluded.named}
        session.execute(
            ins.on_conflict_do_update(index_elements=["force", "dataset", *KEY_COLUMNS], set_=added),
            rows[i : i + 5_000],
        )
    gone = or_(and_(pa.people == 0, pa.named == 0), pa.leaves <= start)
    session.execute(delete(pa).where(pa.force == force, pa.dataset == dataset, gone))


def people_from_aggregate(
    session: Session, dataset: str, force: str, at: dt.date, filters: Filters, kind: str | None = None
) -> People | None:
    """The people counted at ``at`` under ``filters`` (bail: of ``kind``) and the rows naming them, or None when
    the aggregate cannot answer (see the module docstring) and the rows must."""
    if (dataset == BAIL.dataset and kind is None) or not answers_at(session, dataset, force, at, filters):
        return None  # bail's people are kept per kind: both kinds at once are the rows' to count
    pa = PeopleAhead
    reason = (filters.reason or ANY) if dataset == WANTED.dataset else ""
    offence = filters.offence.strip().lower() if filters.offence else ANY
    found = session.execute(
        select(func.coalesce(func.sum(pa.people), 0), func.coalesce(func.sum(pa.named), 0)).where(
            pa.force == force,
            pa.dataset == dataset,
            pa.kind == (kind or ""),
            pa.district == (filters.district or ANY),
            pa.reason == reason,
            pa.offence == offence,
            pa.leaves > at,
        )
    ).one()
    return People(int(found[0]), int(found[1]))
