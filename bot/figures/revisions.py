"""What each import's revisions changed in every count, per group and day: the figures at a past date without
reading the revised rows.

The state at D (bot/figures/history.py) is every version valid at D. Call ``N_t`` what the import with as-of
date ``t`` changed: the versions it made current (+1: the rows whose ``valid_from`` is ``t``, current or since
replaced) less the versions it replaced (−1: the history rows whose ``valid_to`` is ``t``). Since a history
version is always valid for at least a day (``valid_from < valid_to``),

    state(D) = current rows − Σ_{t > D} N_t

— exactly the union history.py reads (current rows with ``valid_from <= D`` plus the versions valid at D).
Every count the figures report at D is a sum over the state's rows of a step function of D: a version counts
as open from its opened date until its closed date, as "over 28 days" from 28 days after it opened, as lapsed
from the day after its bail end date … So each ``N_t`` is stored here as the *changes* of those step functions:
per measure, group and day, ``delta`` is how much the count moves on that day (+1 where a version of the
import starts counting, −1 where it stops, and the opposite for the version it replaced). A revision changes a
field or two of a case, so most of its +1s and −1s cancel on the same day and group and are not stored: a
review recorded moves the "review overdue" start and nothing else; a bail extension moves the lapse. The
flows (opened, closed) are events, not steps: their delta is the event's day.

A correction at D is then one range of this table — the imports after D, the days up to D — grouped by the
figure's groups, whatever the number of cases; the monthly series takes every month end's correction from
one statement. The table is rebuilt by each import from what it changed (the as-of date of the import and any
later one, which only an out-of-order import has), in the import's transaction; the retention purge rebuilds a
force's. It is trusted only while :class:`~bot.models.RevisionDeltaState` names the force's latest batch of
the dataset and the configured review period (the only measure that depends on configuration): otherwise the
figures read the rows as before (bot/figures/history.py ``parts_at``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import Date, bindparam, delete, func, literal, select, union_all
from sqlalchemy.orm import Session

from bot.dates import add_months, as_date_memo, month_end, month_start
from bot.figures.copy_rows import write_rows
from bot.figures.history import HISTORY_MODELS
from bot.figures.month_flow import latest_batch
from bot.figures.source import SOURCES, Shape, Source, bound_conditions
from bot.models import SINCE_EVER, ImportBatch, RevisionCheckpoint, RevisionDelta, RevisionDeltaState

# Wanted and suspects: open, and open for at least each age band's fewest days (bot/figures/caseload.py).
AGE_EDGES: tuple[int, ...] = (28, 91, 181, 366)
# Bail and RUI: open for at least n calendar months (bot/figures/bail.py LENGTH_BAND_MONTHS).
LENGTH_MONTHS: tuple[int, ...] = (3, 6, 9, 12)

OPEN, OPENED, CLOSED, OVERDUE, LAPSED = "open", "opened", "closed", "overdue", "lapsed"
STATES_FOR_SERIES = (OPEN, LAPSED)
FLOWS = (OPENED, CLOSED)


def age_measure(days: int) -> str:
    return f"age{days}"


def length_measure(months: int, lapsed: bool = False) -> str:
    return f"{'lapsed_' if lapsed else ''}len{months}"


Key = tuple[dt.date, str, str, str, str, str, dt.date]  # revised_on, measure, kind, district, reason, offence, day


def _step(out: Counter[Key], sign: int, t: dt.date, g: tuple[str, str, str, str], measure: str,
          start: dt.date, stop: dt.date | None) -> None:  # fmt: skip
    """A count that holds from ``start`` until (not including) ``stop`` (None: still holds)."""
    if stop is not None and stop <= start:
        return
    out[(t, measure, *g, start)] += sign
    if stop is not None:
        out[(t, measure, *g, stop)] -= sign


def version_deltas(dataset: str, row: Any, sign: int, t: dt.date, review_days: int, out: Counter[Key]) -> None:
    """Add one version's step changes (times ``sign``) to ``out`` under import ``t``."""
    if dataset == "bail":
        opened, closed = row.started_on, row.ended_on
        g = (row.kind, row.district, "", row.offence)
    else:
        opened, closed = (
            (row.circulated_on, row.closed_on) if dataset == "wanted" else (row.identified_on, row.closed_on)
        )
        g = ("", row.district, row.reason if dataset == "wanted" else "", row.offence)
    out[(t, OPENED, *g, opened)] += sign
    if closed is not None:
        out[(t, CLOSED, *g, closed)] += sign
    _step(out, sign, t, g, OPEN, opened, closed)
    if dataset == "bail":
        lapse = None
        if row.kind == "bail" and row.bail_end_on is not None:
            lapse = max(opened, row.bail_end_on + dt.timedelta(days=1))
            _step(out, sign, t, g, LAPSED, lapse, closed)
        for n in LENGTH_MONTHS:
            reach = max(opened, add_months(opened, n))
            _step(out, sign, t, g, length_measure(n), reach, closed)
            if lapse is not None:
                _step(out, sign, t, g, length_measure(n, lapsed=True), max(reach, lapse), closed)
        return
    for days in AGE_EDGES:
        _step(out, sign, t, g, age_measure(days), opened + dt.timedelta(days=days), closed)
    if dataset == "wanted":
        reviewed = row.last_reviewed_on or opened
        _step(out, sign, t, g, OVERDUE, max(opened, reviewed + dt.timedelta(days=review_days + 1)), closed)


@cache
def regular_anchors(first: dt.date, last: dt.date) -> tuple[dt.date, ...]:
    """Every Sunday and month end from ``first`` to ``last``."""
    out = set()
    d = first + dt.timedelta(days=(6 - first.weekday()) % 7)
    while d <= last:
        out.add(d)
        d += dt.timedelta(days=7)
    e = month_end(first)
    while e <= last:
        out.add(e)
        e = month_end(e + dt.timedelta(days=1))
    return tuple(sorted(out))


def last_regular_anchor(x: dt.date) -> dt.date:
    """The last Sunday or month end on or before ``x``."""
    sunday = x - dt.timedelta(days=(x.weekday() + 1) % 7)
    end = x if month_end(x) == x else month_start(x) - dt.timedelta(days=1)
    return max(sunday, end)


def _checkpoints(force: str, dataset: str, out: Counter[Key]) -> Iterator[tuple[Any, ...]]:
    """Each import's changes summed per measure and group at every anchor before its as-of date (non-zero only):
    a correction at D < t then needs the sum at the last anchor before D and the few days after it."""
    series: dict[tuple[Any, ...], list[tuple[dt.date, int]]] = {}
    for (t, measure, kind, district, reason, offence, day), v in out.items():
        if v:
            series.setdefault((t, measure, kind, district, reason, offence), []).append((day, v))
    for (t, measure, kind, district, reason, offence), moves in series.items():
        moves.sort()
        run, i = 0, 0
        for a in regular_anchors(moves[0][0], t - dt.timedelta(days=1)):
            while i < len(moves) and moves[i][0] <= a:
                run += moves[i][1]
                i += 1
            if run:
                yield (force, dataset, a, t, measure, kind, district, reason, offence, run)


# The columns each dataset's steps are computed from (:func:`version_deltas`), read instead of whole rows.
_COLUMNS: dict[str, tuple[str, ...]] = {
    "wanted": ("district", "reason", "offence", "circulated_on", "last_reviewed_on", "closed_on"),
    "suspects": ("district", "offence", "identified_on", "closed_on"),
    "bail": ("kind", "district", "offence", "started_on", "bail_end_on", "ended_on"),
}
_BATCH = 20_000


def _versions(session: Session, dataset: str, force: str, since: dt.date) -> Iterator[tuple[Any, int, dt.date]]:
    """Every version an import from ``since`` on made current (+1, under its ``valid_from``) or replaced (−1,
    under its ``valid_to``), case by case (ordered by case id). The current rows come from the partial index of
    revised rows; the history rows from one range of its validity index (a version made current from ``since``
    was replaced after it). Only the columns the steps need, streamed in batches."""
    m = SOURCES[dataset].model
    h = HISTORY_MODELS[dataset]
    lo = max(since, SINCE_EVER + dt.timedelta(days=1))
    cols = _COLUMNS[dataset]
    current = select(m.id.label("case_id"), *(getattr(m, c) for c in cols), literal(1).label("sign"),
                     m.valid_from.label("revised_on")).where(
        m.force == force, m.valid_from > SINCE_EVER, m.valid_from >= lo
    )  # fmt: skip
    replaced = select(h.case_id, *(getattr(h, c) for c in cols), literal(-1).label("sign"),
                      h.valid_to.label("revised_on")).where(h.force == force, h.valid_to >= lo)  # fmt: skip
    made = select(h.case_id, *(getattr(h, c) for c in cols), literal(1).label("sign"),
                  h.valid_from.label("revised_on")).where(
        h.force == force, h.valid_to >= lo, h.valid_from >= lo
    )  # fmt: skip
    every = union_all(current, replaced, made).subquery("versions")
    ordered = select(every).order_by(every.c.case_id, every.c.revised_on)
    for row in session.execute(ordered.execution_options(yield_per=_BATCH)):
        yield row, int(row.sign), row.revised_on


def rebuild_revision_deltas(
    session: Session, dataset: str, force: str, *, review_days: int, since: dt.date | None = None
) -> int:
    """Recompute what the imports from ``since`` on (None: every import) changed, for ``force``'s ``dataset``,
    and stamp the table with the force's latest batch. When the table was not current (never built, built for
    another review period, or left behind by a write that did not keep it), every import is recomputed.
    Returns the rows written. Reads only the revised rows and their versions: its cost follows the revisions."""
    if since is not None and not deltas_current(session, force, dataset, review_days, allow_one_behind=True):
        since = None
    lo = since or SINCE_EVER
    session.execute(
        delete(RevisionDelta).where(
            RevisionDelta.force == force, RevisionDelta.dataset == dataset, RevisionDelta.revised_on >= lo
        )
    )
    # A revision's new version and the one it replaced mostly cancel (a review moves one step): they are added up
    # case by case and only what remains is kept, so the memory follows the changes, not the revised rows.
    out: Counter[Key] = Counter()
    case: Counter[Key] = Counter()
    case_id = None
    for row, sign, t in _versions(session, dataset, force, lo):
        if row.case_id != case_id:
            out.update({k: v for k, v in case.items() if v})
            case.clear()
            case_id = row.case_id
        version_deltas(dataset, row, sign, t, review_days, case)
    out.update({k: v for k, v in case.items() if v})
    cols = ("force", "dataset", "revised_on", "measure", "kind", "district", "reason", "offence", "day", "delta")
    write_rows(session, "revision_delta", cols, ((force, dataset, *k, v) for k, v in out.items() if v))
    session.execute(
        delete(RevisionCheckpoint).where(
            RevisionCheckpoint.force == force,
            RevisionCheckpoint.dataset == dataset,
            RevisionCheckpoint.revised_on >= lo,
        )
    )
    cols = ("force", "dataset", "at", "revised_on", "measure", "kind", "district", "reason", "offence", "value")
    write_rows(session, "revision_checkpoint", cols, _checkpoints(force, dataset, out))
    _stamp(session, force, dataset, review_days)
    return sum(1 for v in out.values() if v)


def _stamp(session: Session, force: str, dataset: str, review_days: int) -> None:
    batch = latest_batch(session, force, dataset)
    session.execute(
        delete(RevisionDeltaState).where(RevisionDeltaState.force == force, RevisionDeltaState.dataset == dataset)
    )
    session.add(RevisionDeltaState(force=force, dataset=dataset, import_batch_id=batch, review_days=review_days))
    session.flush()


def deltas_current(
    session: Session, force: str, dataset: str, review_days: int | None, *, allow_one_behind: bool = False
) -> bool:
    """Whether the table holds what every import of ``force``'s ``dataset`` changed (for ``review_days``, when
    given). ``allow_one_behind``: the import now in progress (the latest batch) is not in it yet, every earlier
    one is — the import may then recompute its own changes only."""
    state = session.execute(
        select(RevisionDeltaState.import_batch_id, RevisionDeltaState.review_days).where(
            RevisionDeltaState.force == force, RevisionDeltaState.dataset == dataset
        )
    ).first()
    if state is None or (review_days is not None and state.review_days != review_days):
        return False
    latest = latest_batch(session, force, dataset)
    if state.import_batch_id == latest:
        return True
    if not allow_one_behind or latest is None:
        return False
    earlier = session.scalar(
        select(func.max(ImportBatch.id)).where(
            ImportBatch.force == force, ImportBatch.dataset == dataset, ImportBatch.id < latest
        )
    )
    return state.import_batch_id == earlier


# --- Reading the corrections -----------------------------------------------------------------------------------


def _conditions(src: Source, shape: Shape) -> list[Any]:
    """The question's force and filters (as the figures bind them) on the changes of ``src``'s dataset."""
    assert not shape.older  # the groups keep no opened date: such questions read the rows (see usable)
    changes = Source(src.dataset, RevisionDelta, RevisionDelta.day, RevisionDelta.day)
    return [*bound_conditions(changes, shape), RevisionDelta.dataset == src.dataset]


@cache
def _cumulative_statement(src: Source, shape: Shape, flows_only: bool) -> Any:
    """Per measure and group, what the imports after ``:after`` changed on the days up to ``:x``: their sums at
    the anchor ``:anchor`` (the last Sunday or month end on or before ``:x``) plus their changes after it."""
    r, cp = RevisionDelta, RevisionCheckpoint
    after = bindparam("after", type_=Date)
    anchor = bindparam("anchor", type_=Date)
    keys = ("measure", "kind", "district", "reason", "offence")
    only = [r.measure.in_(FLOWS)] if flows_only else []
    cp_only = [cp.measure.in_(FLOWS)] if flows_only else []
    checkpoint_src = Source(src.dataset, RevisionCheckpoint, RevisionCheckpoint.at, RevisionCheckpoint.at)
    at_anchor = select(*(getattr(cp, k) for k in keys), cp.value.label("v")).where(
        *bound_conditions(checkpoint_src, shape), cp.dataset == src.dataset, *cp_only, cp.at == anchor,
        cp.revised_on > after,
    )  # fmt: skip
    since = select(*(getattr(r, k) for k in keys), r.delta.label("v")).where(
        *_conditions(src, shape), *only, r.revised_on > after, r.day > anchor, r.day <= bindparam("x", type_=Date)
    )
    u = at_anchor.union_all(since).subquery("u")
    return select(*(u.c[k] for k in keys), func.sum(u.c.v)).group_by(*(u.c[k] for k in keys))


def _cumulative(
    session: Session, src: Source, shape: Shape, params: dict[str, Any], after: dt.date, x: dt.date, flows_only: bool
) -> dict[tuple[str, str, str, str, str], int]:
    values = params | {"after": after, "x": x, "anchor": last_regular_anchor(x)}
    rows = session.connection().execute(_cumulative_statement(src, shape, flows_only), values)
    return {(m, k, d, r, o): int(n) for m, k, d, r, o, n in rows if n}


@dataclass
class Correction:
    """What to take away from the counts of today's rows at D to get the counts as known at D, per measure:
    ``total[measure][(kind, district, reason, offence)]``, and the flows' month-to-date and since-a-month-ago
    parts in ``month`` and ``since``."""

    total: dict[str, Counter[tuple[str, str, str, str]]] = field(default_factory=dict)
    month: Counter[tuple[str, str]] = field(default_factory=Counter)  # (measure, kind)
    since: Counter[tuple[str, str]] = field(default_factory=Counter)

    def of(self, measure: str, kind: str | None = None) -> int:
        groups = self.total.get(measure)
        if not groups:
            return 0
        return sum(v for g, v in groups.items() if kind is None or g[0] == kind)

    def groups(self, measure: str) -> Iterable[tuple[tuple[str, str, str, str], int]]:
        return (self.total.get(measure) or Counter()).items()


def snapshot_correction(session: Session, src: Source, shape: Shape, values: dict[str, Any]) -> Correction:
    """The :class:`Correction` at ``values['at']`` under the bound filters of ``values``
    (:func:`bot.figures.source.filter_values` plus ``first`` and ``ago``): the imports after it, summed up to it,
    up to the day before the 1st of its month and up to a month before it (for the flows)."""
    out = Correction()
    params = {k: v for k, v in values.items() if k in ("force", "kind", "district", "offence", "reason")}
    at = values["at"]
    upto = _cumulative(session, src, shape, params, at, at, False)
    to_first = _cumulative(session, src, shape, params, at, values["first"] - dt.timedelta(days=1), True)
    to_ago = _cumulative(session, src, shape, params, at, values["ago"], True)
    for (measure, kind, district, reason, offence), n in upto.items():
        if measure in FLOWS:
            out.month[(measure, kind)] += n
            out.since[(measure, kind)] += n
        else:
            out.total.setdefault(measure, Counter())[(kind, district, reason, offence)] += n
    for (measure, kind, *_g), n in to_first.items():
        out.month[(measure, kind)] -= n
    for (measure, kind, *_g), n in to_ago.items():
        out.since[(measure, kind)] -= n
    return out


def usable(session: Session, src: Source, force: str, shape: Shape, review_days: int | None) -> bool:
    """Whether the corrections can stand in for the rows: current, and no ``older_than`` filter (its cutoff
    falls on the opened date, which the groups do not keep)."""
    return not shape.older and deltas_current(session, force, src.dataset, review_days)


@cache
def _series_statement(src: Source, shape: Shape) -> Any:
    """Per anchor of ``:ats`` (month ends), import after ``:after`` and measure (open, lapsed, opened, closed), the
    import's changes summed up to that anchor."""
    cp = RevisionCheckpoint
    checkpoint_src = Source(src.dataset, cp, cp.at, cp.at)
    return (
        select(cp.at, cp.revised_on, cp.measure, func.sum(cp.value))
        .where(
            *bound_conditions(checkpoint_src, shape),
            cp.dataset == src.dataset,
            cp.measure.in_([*STATES_FOR_SERIES, *FLOWS]),
            cp.at.in_(bindparam("ats", expanding=True)),
            cp.revised_on > bindparam("after", type_=Date),
        )
        .group_by(cp.at, cp.revised_on, cp.measure)
    )


def series_corrections(
    session: Session, src: Source, shape: Shape, values: dict[str, Any], windows: list[tuple[dt.date, dt.date]],
    ends: list[dt.date],
) -> list[tuple[int, int, int, int]]:  # fmt: skip
    """For each month of ``windows`` (its first day, and its end ``ends[i]``: the month's last day or as_of):
    what to take away from today's rows' (open, lapsed, opened, closed) to count them as known at that end — the
    imports after that end, summed up to it (and, for the month's flows, less their sums up to the month before).
    Month ends are anchors: one statement reads every import's sums at all of them; an end that is not (as_of)
    takes its few days after the last anchor too."""
    params = {k: v for k, v in values.items() if k in ("force", "kind", "district", "offence", "reason")}
    befores = [first - dt.timedelta(days=1) for first, _last in windows]
    ats = sorted({*befores, *(e for e in ends if last_regular_anchor(e) == e)})
    sums: dict[tuple[dt.date, dt.date, str], int] = {}
    memo: dict[object, dt.date] = {}
    for at, t, measure, n in session.connection().execute(
        _series_statement(src, shape), params | {"ats": ats, "after": befores[0]}
    ):
        sums[(as_date_memo(at, memo), as_date_memo(t, memo), measure)] = int(n)
    out = []
    for before, end in zip(befores, ends, strict=True):
        upto: Counter[str] = Counter()
        if last_regular_anchor(end) == end:
            for (a, t, m), n in sums.items():
                if a == end and t > end:
                    upto[m] += n
        else:
            for (m, *_g), n in _cumulative(session, src, shape, params, end, end, False).items():
                upto[m] += n
        o, lp = upto[OPEN], upto[LAPSED]
        op = upto[OPENED] - sum(n for (a, t, m), n in sums.items() if a == before and t > end and m == OPENED)
        cl = upto[CLOSED] - sum(n for (a, t, m), n in sums.items() if a == before and t > end and m == CLOSED)
        out.append((int(o), int(lp), int(op), int(cl)))
    return out
