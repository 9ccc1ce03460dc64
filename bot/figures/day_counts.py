"""The current rows' counts per group and day: every snapshot figure from as many rows as there are groups.

Each count a figure reports at a date D is a sum over the open rows of a step function of D
(bot/figures/revisions.py): a row counts as open from its opened date until its closed date, as "28 days or older"
from 28 days after it opened, as review overdue from the day after its review period ran out, as lapsed from the
day after its bail end date, as "3 months or longer" from its start plus three months. So the counts at D are the
sums, up to D, of how much each count moves on each day. ``count_day`` keeps those moves of the force's current
rows, per group (kind, district, reason, offence) and day, with the events of the day (rows opened, closed) beside
them; ``count_checkpoint`` keeps the running totals at *anchor* days — every Sunday and month end up to the latest
import's as-of date, and that date. A count at D is then the checkpoint at the last anchor on or before D plus the
moves after it up to D: at most six days of moves, and for today none or a few (only the scheduled steps — an age
band reached, a bail end passed — fall after the as-of date). Their size is set by days × groups, whatever the
number of cases: a million rows or ten give the same few hundred group rows per figure.

Upkeep, in the import's transaction (bot/importing/service.py): the moves of a set of rows are counted by a few
grouped statements over them (:func:`row_moves`), so an import adds the moves of the versions it wrote and takes
away those of the versions it replaced; the initial load, the retention purge and anything not current count the
force's rows whole (:func:`rebuild_day_counts`). A merge then adds its moves' running sums to the checkpoints
at and after each move (:func:`apply_moves`); the initial load, the purge and anything not current sum the
checkpoints again from ``count_day`` (its size, not the cases'). ``count_state`` names the batch and the review
period they were built for: figures trust them only while it is the force's latest batch of the dataset;
otherwise, and for ``older_than`` (it cuts on the opened date, which the groups do not keep), they read the rows
as before. The figures at a past date that a later import revised take the revisions' corrections
(bot/figures/revisions.py) from these counts, as from the rows.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from bot.dates import add_months, as_date_memo
from bot.figures.copy_rows import add_rows, write_rows
from bot.figures.merged import Merged
from bot.figures.month_flow import clear_month_flows, latest_batch, month_key, stamp_month_flows
from bot.figures.revisions import (
    AGE_EDGES,
    CLOSED,
    LAPSED,
    LENGTH_MONTHS,
    OPEN,
    OPENED,
    OVERDUE,
    Correction,
    age_measure,
    last_regular_anchor,
    length_measure,
    regular_anchors,
)
from bot.figures.source import BAIL, SOURCES, WANTED, Shape, Source, bound_conditions, count_if, val
from bot.models import (
    COUNT_EVENTS,
    COUNT_STATES,
    CountCheckpoint,
    CountDay,
    CountState,
    ImportBatch,
    MonthFlow,
)

# Positions in a moves vector: the state counts of COUNT_STATES, then the events.
COLUMNS: tuple[str, ...] = (*COUNT_STATES, *COUNT_EVENTS)
_I = {c: i for i, c in enumerate(COLUMNS)}
OPEN_I, FLAG_I, OPENED_I, CLOSED_I = _I["open"], _I["flag"], _I["opened"], _I["closed"]
BAND_I = tuple(_I[f"band{j}"] for j in range(1, 5))
FLAG_BAND_I = tuple(_I[f"flag_band{j}"] for j in range(1, 5))
WIDTH = len(COLUMNS)

Group = tuple[str, str, str, str]  # kind, district, reason, offence
Moves = dict[tuple[Group, dt.date], list[int]]


def measure_names(dataset: str) -> dict[str, str]:
    """The state columns as the figures' measures (bot/figures/revisions.py) for ``dataset``."""
    if dataset == BAIL.dataset:
        names = {"open": OPEN, "flag": LAPSED}
        for j, n in enumerate(LENGTH_MONTHS, start=1):
            names[f"band{j}"] = length_measure(n)
            names[f"flag_band{j}"] = length_measure(n, lapsed=True)
        return names
    names = {"open": OPEN, "flag": OVERDUE}
    for j, days in enumerate(AGE_EDGES, start=1):
        names[f"band{j}"] = age_measure(days)
    return names


# --- Counting the moves of a set of rows ---------------------------------------------------------------------


def _plus_days(dialect: str, col: Any, n: int) -> Any:
    if dialect == "postgresql":
        return col + literal_column(str(int(n)))
    return func.date(col, f"{int(n):+d} days")


def _plus_months(dialect: str, col: Any, n: int) -> Any:
    """``col`` + ``n`` calendar months, the day clamped to the month's end (as bot.dates.add_months)."""
    if dialect == "postgresql":
        return cast(col + literal_column(f"interval '{int(n)} months'"), Date)
    # SQLite's '+n months' overflows into the next month (31 Jan + 1 month = 3 Mar): the same day of the target
    # month, or that month's last day when it is shorter.
    shift = literal("+").op("||")(cast(func.strftime("%d", col), Integer) - 1).op("||")(literal(" days"))
    same_day = func.date(col, "start of month", f"+{int(n)} months", shift)
    last_day = func.date(col, "start of month", f"+{int(n) + 1} months", "-1 day")
    return func.min(same_day, last_day)


def _greatest(dialect: str, a: Any, b: Any) -> Any:
    return func.greatest(a, b) if dialect == "postgresql" else func.max(a, b)


def _groups(src: Source, m: Any) -> list[Any]:
    kind = m.kind if src is BAIL else literal("")
    reason = m.reason if src is WANTED else literal("")
    return [kind.label("kind"), m.district.label("district"), reason.label("reason"), m.offence.label("offence")]


def row_moves(session: Session, dataset: str, where: list[Any], review_days: int, *, model: Any = None) -> Moves:
    """The moves of the rows of ``model`` (the dataset's table, or a table of versions with its columns) meeting
    ``where``, per group and day. Three grouped statements: per group and opened date, per group and closed date,
    and per group and overdue / lapse start, each with a FILTER count per step (a row reaches a band before it
    closes, or not); the steps' days follow in Python from those group rows (days × groups, not rows)."""
    src = SOURCES[dataset]
    m = model if model is not None else src.model
    o = getattr(m, src.opened.key)
    c = getattr(m, src.closed.key)
    dialect = session.get_bind().dialect.name
    g = _groups(src, m)
    out: Moves = {}
    memo: dict[object, dt.date] = {}
    is_bail = src is BAIL

    def vec(group: Group, day: dt.date) -> list[int]:
        v = out.get((group, day))
        if v is None:
            v = out[(group, day)] = [0] * WIDTH
        return v

    def shift(day: dt.date, j: int) -> dt.date:
        return add_months(day, LENGTH_MONTHS[j - 1]) if is_bail else day + dt.timedelta(days=AGE_EDGES[j - 1])

    def run(stmt: Any) -> Iterator[Any]:
        # Not streamed: PostgreSQL plans no parallel scan for a cursor, and the result is days × groups rows.
        yield from session.connection().execute(stmt)

    if dialect == "postgresql":
        # The groups hashed in memory: with the default 4 MB the grouping spilled to a sort on disk (1M rows: 4 s
        # a statement against 0.8 s).
        session.execute(text("SET LOCAL work_mem = '256MB'"))

    if is_bail:
        reach = [o] + [_plus_months(dialect, o, n) for n in LENGTH_MONTHS]
    else:
        reach = [o] + [_plus_days(dialect, o, n) for n in AGE_EDGES]
    # Step j (0: open, 1-4: the bands) holds from reach[j] until the row closes: non-empty if it closes after.
    holds = [or_(c.is_(None), val(c) > reach[j]) for j in range(5)]
    ends_after = [val(c) > reach[j] for j in range(5)]

    if is_bail:
        be = m.bail_end_on
        has_lapse = and_(m.kind == "bail", be.is_not(None))
        lapse = _greatest(dialect, o, _plus_days(dialect, be, 1))
        lapse_holds = or_(c.is_(None), val(c) > lapse)
        # "Lapsed and n months long" starts at the later of the two: the band's reach when it is not before the
        # lapse (keyed by the opened date), else the lapse (keyed by the lapse date).
        late_band = [and_(has_lapse, reach[j] >= lapse) for j in range(5)]
        late_holds = [count_if(and_(late_band[j], holds[j])) for j in range(1, 5)]
        q1 = select(*g, o, func.count(), *(count_if(holds[j]) for j in range(5)), *late_holds)
        q1 = q1.where(*where).group_by(*g, o)
        for r in run(q1):
            grp, day = (r[0], r[1], r[2], r[3]), as_date_memo(r[4], memo)
            v = vec(grp, day)
            v[OPENED_I] += r[5]
            v[OPEN_I] += r[6]
            for j in range(1, 5):
                if r[6 + j] or r[10 + j]:
                    w = vec(grp, shift(day, j))
                    w[BAND_I[j - 1]] += r[6 + j]
                    w[FLAG_BAND_I[j - 1]] += r[10 + j]
        lapsed_ends = [
            count_if(and_(has_lapse, or_(and_(reach[j] < lapse, val(c) > lapse), and_(late_band[j], ends_after[j]))))
            for j in range(1, 5)
        ]
        q2 = select(*g, c, func.count(), *(count_if(ends_after[j]) for j in range(5)),
                    count_if(and_(has_lapse, val(c) > lapse)), *lapsed_ends)  # fmt: skip
        for r in run(q2.where(*where, c.is_not(None)).group_by(*g, c)):
            v = vec((r[0], r[1], r[2], r[3]), as_date_memo(r[4], memo))
            v[CLOSED_I] += r[5]
            v[OPEN_I] -= r[6]
            for j in range(1, 5):
                v[BAND_I[j - 1]] -= r[6 + j]
                v[FLAG_BAND_I[j - 1]] -= r[11 + j]
            v[FLAG_I] -= r[11]
        q3 = select(*g, lapse, func.count(), *(count_if(reach[j] < lapse) for j in range(1, 5)))
        for r in run(q3.where(*where, has_lapse, lapse_holds).group_by(*g, lapse)):
            v = vec((r[0], r[1], r[2], r[3]), as_date_memo(r[4], memo))
            v[FLAG_I] += r[5]
            for j in range(1, 5):
                v[FLAG_BAND_I[j - 1]] += r[5 + j]
        return out

    is_wanted = src is WANTED
    start: Any = None
    if is_wanted:
        start = _greatest(dialect, o, _plus_days(dialect, func.coalesce(m.last_reviewed_on, o), review_days + 1))
    q1 = select(*g, o, func.count(), *(count_if(holds[j]) for j in range(5))).where(*where).group_by(*g, o)
    for r in run(q1):
        grp, day = (r[0], r[1], r[2], r[3]), as_date_memo(r[4], memo)
        v = vec(grp, day)
        v[OPENED_I] += r[5]
        v[OPEN_I] += r[6]
        for j in range(1, 5):
            if r[6 + j]:
                vec(grp, shift(day, j))[BAND_I[j - 1]] += r[6 + j]
    overdue_ends = [count_if(val(c) > start)] if is_wanted else []
    q2 = select(*g, c, func.count(), *(count_if(ends_after[j]) for j in range(5)), *overdue_ends)
    for r in run(q2.where(*where, c.is_not(None)).group_by(*g, c)):
        v = vec((r[0], r[1], r[2], r[3]), as_date_memo(r[4], memo))
        v[CLOSED_I] += r[5]
        v[OPEN_I] -= r[6]
        for j in range(1, 5):
            v[BAND_I[j - 1]] -= r[6 + j]
        if is_wanted:
            v[FLAG_I] -= r[11]
    if is_wanted:
        q3 = select(*g, start, func.count()).where(*where, or_(c.is_(None), val(c) > start)).group_by(*g, start)
        for r in run(q3):
            vec((r[0], r[1], r[2], r[3]), as_date_memo(r[4], memo))[FLAG_I] += r[5]
    return out


def combine(into: Moves, other: Moves, sign: int = 1) -> Moves:
    for key, v in other.items():
        mine = into.get(key)
        if mine is None:
            into[key] = [sign * x for x in v]
        else:
            for i, x in enumerate(v):
                mine[i] += sign * x
    return into


# --- Writing --------------------------------------------------------------------------------------------------

_KEYS = ("force", "dataset", "day", "kind", "district", "reason", "offence")
_CHECKPOINT_KEYS = ("force", "dataset", "at", *_KEYS[3:])


def _day_rows(force: str, dataset: str, moves: Moves) -> Iterator[tuple[Any, ...]]:
    for ((kind, district, reason, offence), day), v in moves.items():
        if any(v):
            yield (force, dataset, day, kind, district, reason, offence, *v)


def _add_to(session: Session, force: str, dataset: str, moves: Moves) -> None:
    """Add ``moves`` to the day counts."""
    add_rows(session, "count_day", _KEYS, COLUMNS, _day_rows(force, dataset, moves))


def rebuild_day_counts(session: Session, dataset: str, force: str, *, review_days: int) -> None:
    """Count the moves of every current row of ``force``'s ``dataset`` again, then the checkpoints, and stamp them
    with its latest batch (grouped statements over the force's rows: the initial load, the purge, a fallback)."""
    src = SOURCES[dataset]
    session.execute(delete(CountDay).where(CountDay.force == force, CountDay.dataset == dataset))
    moves = row_moves(session, dataset, [src.model.force == force], review_days)
    session.flush()
    write_rows(session, "count_day", (*_KEYS, *COLUMNS), _day_rows(force, dataset, moves))
    write_checkpoints(session, dataset, force, review_days=review_days)


def apply_moves(session: Session, dataset: str, force: str, moves: Moves, *, review_days: int) -> None:
    """Add ``moves`` (the versions an import wrote, less those it replaced) to the day counts and to every
    checkpoint at or after each move's day, and stamp them. The checkpoints of the new anchors (up to the import's
    as-of date) are first summed as the unchanged re-import does, from the counts before the moves; the moves then
    add their running sums per group (groups moved × anchors after their first move, not every checkpoint). Summed
    whole again when the counts were not for the previous import or a move falls before their first day."""
    state = current_state(session, force, dataset, review_days, allow_one_behind=True)
    earliest = min((day for _g, day in moves), default=None)
    if (
        state is None
        or state.anchor is None
        or state.first_day is None
        or (earliest is not None and earliest < state.first_day)
    ):
        _add_to(session, force, dataset, moves)
        write_checkpoints(session, dataset, force, review_days=review_days)
        return
    last = _extend_checkpoints(session, dataset, force, state, review_days=review_days)
    _add_to(session, force, dataset, moves)
    changes = _checkpoint_changes(moves, anchors(state.first_day, last))
    cp = CountCheckpoint
    rows = ((force, dataset, a, *g, *run) for g, a, run in changes)
    add_rows(session, "count_checkpoint", _CHECKPOINT_KEYS, COUNT_STATES, rows)
    # A group whose counts are all zero at an anchor has no row there (as write_checkpoints leaves them).
    zero = [getattr(cp, c) == 0 for c in COUNT_STATES]
    session.execute(delete(cp).where(cp.force == force, cp.dataset == dataset, *zero))
    session.flush()


def _checkpoint_changes(moves: Moves, points: list[dt.date]) -> Iterator[tuple[Group, dt.date, list[int]]]:
    """Per group moved and anchor at or after its first move, the running sum of its state moves up to the anchor
    (non-zero only)."""
    n = len(COUNT_STATES)
    by_group: dict[Group, list[tuple[dt.date, list[int]]]] = {}
    for (group, day), v in moves.items():
        if any(v[:n]):
            by_group.setdefault(group, []).append((day, v[:n]))
    for group, items in by_group.items():
        items.sort(key=lambda x: x[0])
        run = [0] * n
        i = 0
        for a in points[bisect_left(points, items[0][0]) :]:
            while i < len(items) and items[i][0] <= a:
                for j, x in enumerate(items[i][1]):
                    run[j] += x
                i += 1
            if any(run):
                yield group, a, list(run)


def merge_moves(session: Session, what: Merged, *, review_days: int) -> Moves:
    """What a merge changed in the day counts: the moves of the versions it wrote (the rows it revised, found by
    their ``valid_from`` through the partial index of revised rows, and the rows it added) less those of the
    versions it replaced (a temporary table shaped like the case table). Reads the changed rows only."""
    dataset, force = what.dataset, what.force
    moves = row_moves(session, dataset, what.revised, review_days)
    combine(moves, row_moves(session, dataset, what.added, review_days))
    was = what.replaced
    return combine(moves, row_moves(session, dataset, [was.force == force], review_days, model=was), -1)


def month_flows_from_days(session: Session, dataset: str, force: str) -> None:
    """Write ``force``'s month flows of ``dataset`` from the day counts' opened and closed (days × groups rows,
    not the cases) and stamp them with its latest batch: what an import that merged does instead of recounting
    the force's rows."""
    cd = CountDay
    month = month_key(session, cd.day)
    series = cd.kind if dataset == BAIL.dataset else literal(dataset)
    keys = [series, month, cd.district, cd.offence, cd.reason]
    flows = (
        select(literal(force), *keys, func.sum(cd.opened), func.sum(cd.closed))
        .where(cd.force == force, cd.dataset == dataset)
        .group_by(*keys)
        .having(or_(func.sum(cd.opened) != 0, func.sum(cd.closed) != 0))
    )
    clear_month_flows(session, dataset, force)
    session.execute(
        insert(MonthFlow).from_select(
            ["force", "series", "month", "district", "offence", "reason", "opened", "closed"], flows
        )
    )
    stamp_month_flows(session, dataset, force)


def carry_day_counts(session: Session, dataset: str, force: str, *, review_days: int) -> None:
    """After an import that changed no row (the unchanged re-import): the moves still hold; the checkpoints are
    summed again up to the new as-of date and stamped with the new batch. Not current before: counted whole."""
    state = current_state(session, force, dataset, review_days, allow_one_behind=True)
    if state is None:
        rebuild_day_counts(session, dataset, force, review_days=review_days)
    elif state.anchor is None or state.first_day is None:
        write_checkpoints(session, dataset, force, review_days=review_days)
    else:
        _extend_checkpoints(session, dataset, force, state, review_days=review_days)


def _extend_checkpoints(
    session: Session, dataset: str, force: str, state: CountStateRow, *, review_days: int
) -> dt.date:
    """The moves are unchanged: only the anchors after the last one (up to the new as-of date) are new, each the
    last checkpoint plus the moves after it; the old as-of date's checkpoint goes unless it is a Sunday or month
    end. Reads a few days of ``count_day``, not all of it."""
    assert state.anchor is not None and state.first_day is not None
    last = session.scalar(select(func.max(ImportBatch.as_of)).where(ImportBatch.force == force,
                                                                     ImportBatch.dataset == dataset))  # fmt: skip
    old = state.anchor
    if last is not None and last > old:
        new = [a for a in anchors(state.first_day, last) if a > old]
        shape = Shape()
        stmt = _state_statement(dataset, shape)
        rows: list[tuple[Any, ...]] = []
        for a in new:
            for r in session.connection().execute(stmt, {"force": force, "anchor": old, "x": a}):
                if any(r[4:]):
                    rows.append((force, dataset, a, *r[:4], *(int(n) for n in r[4:])))
        if regular_anchors(old, old) != (old,):
            cp = CountCheckpoint
            session.execute(delete(cp).where(cp.force == force, cp.dataset == dataset, cp.at == old))
        write_rows(session, "count_checkpoint", (*_CHECKPOINT_KEYS, *COUNT_STATES), rows)
    else:
        last = old
    session.execute(delete(CountState).where(CountState.force == force, CountState.dataset == dataset))
    session.add(CountState(force=force, dataset=dataset, import_batch_id=latest_batch(session, force, dataset),
                           review_days=review_days, first_day=state.first_day, anchor=last))  # fmt: skip
    session.flush()
    return last


def anchors(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every Sunday and month end from ``first`` to ``last``, and ``last``."""
    return sorted({*regular_anchors(first, last), last})


def anchor_before(state: CountStateRow, x: dt.date) -> dt.date | None:
    """The last anchor on or before ``x`` (None: before the first; the moves up to ``x`` are then all there is)."""
    if state.anchor is None or state.first_day is None:
        return None
    if x >= state.anchor:
        return state.anchor
    a = last_regular_anchor(x)
    return a if a >= state.first_day else None


def write_checkpoints(session: Session, dataset: str, force: str, *, review_days: int) -> None:
    """Sum the running totals at every anchor again from ``count_day`` (its size: days × groups) and stamp the
    state with the force's latest batch and as-of date."""
    session.execute(delete(CountCheckpoint).where(CountCheckpoint.force == force, CountCheckpoint.dataset == dataset))
    batch = latest_batch(session, force, dataset)
    last = session.scalar(select(func.max(ImportBatch.as_of)).where(ImportBatch.force == force,
                                                                     ImportBatch.dataset == dataset))  # fmt: skip
    first = session.scalar(select(func.min(CountDay.day)).where(CountDay.force == force, CountDay.dataset == dataset))
    memo: dict[object, dt.date] = {}
    first_day = as_date_memo(first, memo) if first is not None else None
    if first_day is not None and last is not None and first_day <= last:
        points = anchors(first_day, last)
        cd = CountDay
        cols = [getattr(cd, c) for c in COUNT_STATES]
        stmt = (
            select(cd.kind, cd.district, cd.reason, cd.offence, cd.day, *cols)
            .where(cd.force == force, cd.dataset == dataset, cd.day <= last)
            .order_by(cd.kind, cd.district, cd.reason, cd.offence, cd.day)
        )
        n = len(COUNT_STATES)

        def totals() -> Iterator[tuple[Any, ...]]:
            group: Group | None = None
            run = [0] * n
            i = 0
            for r in session.connection().execute(stmt.execution_options(yield_per=20_000)):
                g = (r[0], r[1], r[2], r[3])
                if g != group:
                    if group is not None:
                        yield from _emit(group, run, points, i, len(points))
                    group, run, i = g, [0] * n, 0
                day = as_date_memo(r[4], memo)
                while i < len(points) and points[i] < day:
                    yield from _emit(g, run, points, i, i + 1)
                    i += 1
                for j in range(n):
                    run[j] += r[5 + j]
            if group is not None:
                yield from _emit(group, run, points, i, len(points))

        def _emit(g: Group, run: list[int], pts: list[dt.date], lo: int, hi: int) -> Iterator[tuple[Any, ...]]:
            if not any(run):
                return
            for a in pts[lo:hi]:
                yield (force, dataset, a, *g, *run)

        # A group's run is final at an anchor once its days up to it are read (they come in day order). Summed
        # first, then written: the read holds the connection.
        write_rows(session, "count_checkpoint", (*_CHECKPOINT_KEYS, *COUNT_STATES), list(totals()))
    session.execute(delete(CountState).where(CountState.force == force, CountState.dataset == dataset))
    session.add(CountState(force=force, dataset=dataset, import_batch_id=batch, review_days=review_days,
                           first_day=first_day, anchor=last))  # fmt: skip
    session.flush()


# --- Reading --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountStateRow:
    import_batch_id: int | None
    review_days: int
    first_day: dt.date | None
    anchor: dt.date | None


def current_state(
    session: Session, force: str, dataset: str, review_days: int | None, *, allow_one_behind: bool = False
) -> CountStateRow | None:
    """The day counts' state when they hold the force's latest import of ``dataset`` (and, when given, were built
    for ``review_days``); None otherwise. ``allow_one_behind``: the import in progress is not in them yet."""
    row = session.execute(
        select(CountState.import_batch_id, CountState.review_days, CountState.first_day, CountState.anchor).where(
            CountState.force == force, CountState.dataset == dataset
        )
    ).first()
    if row is None or (review_days is not None and row.review_days != review_days):
        return None
    memo: dict[object, dt.date] = {}
    state = CountStateRow(
        row.import_batch_id,
        row.review_days,
        as_date_memo(row.first_day, memo) if row.first_day is not None else None,
        as_date_memo(row.anchor, memo) if row.anchor is not None else None,
    )
    latest = latest_batch(session, force, dataset)
    if state.import_batch_id == latest:
        return state
    if allow_one_behind and latest is not None:
        earlier = session.scalar(
            select(func.max(ImportBatch.id)).where(
                ImportBatch.force == force, ImportBatch.dataset == dataset, ImportBatch.id < latest
            )
        )
        if earlier is not None and state.import_batch_id == earlier:
            return state
    return None


def usable_state(
    session: Session, src: Source, force: str, shape: Shape, review_days: int | None
) -> CountStateRow | None:
    """The state when the day counts can answer a question of this shape (no ``older_than``), else None."""
    if shape.older:
        return None
    return current_state(session, force, src.dataset, review_days)


def _filters(table: Any, dataset: str, shape: Shape) -> list[Any]:
    assert not shape.older
    conds = bound_conditions(Source(dataset, table, table.kind, table.kind), shape)
    return [*conds, table.dataset == dataset]


@cache
def _state_statement(dataset: str, shape: Shape) -> Any:
    """Per group, the state counts at ``:x``: the checkpoint at ``:anchor`` plus the moves after it up to ``:x``."""
    cp, cd = CountCheckpoint, CountDay
    cols = list(COUNT_STATES)
    keys = ["kind", "district", "reason", "offence"]
    at_anchor = select(*(getattr(cp, k) for k in keys), *(getattr(cp, c) for c in cols)).where(
        *_filters(cp, dataset, shape), cp.at == bindparam("anchor", type_=Date)
    )
    after = select(*(getattr(cd, k) for k in keys), *(getattr(cd, c) for c in cols)).where(
        *_filters(cd, dataset, shape),
        cd.day > bindparam("anchor", type_=Date),
        cd.day <= bindparam("x", type_=Date),
    )
    u = at_anchor.union_all(after).subquery("u")
    return select(*(u.c[k] for k in keys), *(func.sum(u.c[c]) for c in cols)).group_by(*(u.c[k] for k in keys))


@cache
def _events_statement(dataset: str, shape: Shape, since_ago: bool) -> Any:
    """Per kind, the rows opened and closed from ``:first`` to ``:at`` (and after ``:ago``)."""
    cd = CountDay
    first, ago = bindparam("first", type_=Date), bindparam("ago", type_=Date)
    sums = [
        func.coalesce(func.sum(cd.opened).filter(cd.day >= first), 0),
        func.coalesce(func.sum(cd.closed).filter(cd.day >= first), 0),
    ]
    if since_ago:
        sums += [
            func.coalesce(func.sum(cd.opened).filter(cd.day > ago), 0),
            func.coalesce(func.sum(cd.closed).filter(cd.day > ago), 0),
        ]
    lo = bindparam("lo" if since_ago else "first", type_=Date)
    return (
        select(cd.kind, *sums)
        .where(*_filters(cd, dataset, shape), cd.day >= lo, cd.day <= bindparam("at", type_=Date))
        .group_by(cd.kind)
    )


_NEVER = dt.date(1, 1, 1)


def _params(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k in ("force", "kind", "district", "offence", "reason")}


def state_counts_at(
    session: Session, src: Source, shape: Shape, values: dict[str, Any], state: CountStateRow, x: dt.date
) -> dict[str, dict[Group, int]]:
    """Per measure (bot/figures/revisions.py names) and group, the state counts of today's rows at ``x``."""
    names = measure_names(src.dataset)
    anchor = anchor_before(state, x) or _NEVER
    params = _params(values) | {"anchor": anchor, "x": x}
    out: dict[str, dict[Group, int]] = {}
    for r in session.connection().execute(_state_statement(src.dataset, shape), params):
        g = (r[0], r[1], r[2], r[3])
        for j, col in enumerate(COUNT_STATES):
            n = int(r[4 + j] or 0)
            if n:
                out.setdefault(names[col], {})[g] = n
    return out


@cache
def _checkpoint_totals_statement(dataset: str, shape: Shape) -> Any:
    cp = CountCheckpoint
    return (
        select(cp.at, func.sum(cp.open), func.sum(cp.flag))
        .where(*_filters(cp, dataset, shape), cp.at.in_(bindparam("ats", expanding=True)))
        .group_by(cp.at)
    )


def open_and_flag_at(
    session: Session, src: Source, shape: Shape, values: dict[str, Any], state: CountStateRow, xs: list[dt.date]
) -> dict[dt.date, tuple[int, int]]:
    """(open, flag) of today's rows at each of ``xs`` (a series' month ends): one statement for those that are
    anchors (month ends up to the latest as-of date), the checkpoint plus the moves after it for the others."""
    out: dict[dt.date, tuple[int, int]] = {}
    exact = [x for x in xs if state.anchor is not None and anchor_before(state, x) == x]
    if exact:
        params = _params(values) | {"ats": exact}
        memo: dict[object, dt.date] = {}
        for at, n_open, n_flag in session.connection().execute(_checkpoint_totals_statement(src.dataset, shape),
                                                               params):  # fmt: skip
            out[as_date_memo(at, memo)] = (int(n_open or 0), int(n_flag or 0))
    names = measure_names(src.dataset)
    for x in xs:
        if x in out:
            continue
        if x in exact:
            out[x] = (0, 0)
            continue
        counts = state_counts_at(session, src, shape, values, state, x)
        out[x] = (sum(counts.get(names["open"], {}).values()), sum(counts.get(names["flag"], {}).values()))
    return out


def events_in(
    session: Session, src: Source, shape: Shape, values: dict[str, Any], first: dt.date, at: dt.date
) -> tuple[int, int]:
    """Rows opened and closed from ``first`` to ``at``, under the bound filters of ``values``."""
    params = _params(values) | {"first": first, "at": at}
    opened = closed = 0
    for r in session.connection().execute(_events_statement(src.dataset, shape, False), params):
        opened += int(r[1])
        closed += int(r[2])
    return opened, closed


def counts_at(
    session: Session,
    src: Source,
    shape: Shape,
    values: dict[str, Any],
    state: CountStateRow,
    *,
    since_ago: bool = True,
) -> Correction:
    """Today's rows' counts at ``values['at']`` in the shape of a :class:`~bot.figures.revisions.Correction`:
    per measure and group, and the rows opened and closed in the month (and since a month ago), per kind."""
    out = Correction()
    for measure, groups in state_counts_at(session, src, shape, values, state, values["at"]).items():
        out.total[measure] = Counter(groups)
    params = _params(values) | {"at": values["at"], "first": values["first"]}
    if since_ago:
        params |= {"ago": values["ago"], "lo": values["lo"]}
    for r in session.connection().execute(_events_statement(src.dataset, shape, since_ago), params):
        kind = r[0]
        out.month[(OPENED, kind)] += int(r[1])
        out.month[(CLOSED, kind)] += int(r[2])
        if since_ago:
            out.since[(OPENED, kind)] += int(r[3])
            out.since[(CLOSED, kind)] += int(r[4])
    return out


def take_away(counts: Correction, fix: Correction) -> Correction:
    """``counts`` less ``fix``: today's rows' counts at a past date, made the counts as known then."""
    for measure, groups in fix.total.items():
        counts.total.setdefault(measure, Counter()).subtract(groups)
    counts.month.subtract(fix.month)
    counts.since.subtract(fix.since)
    return counts
