"""Month flows: how many rows of each dataset opened and closed in each calendar month, per group.

The monthly series needs, for each month of its window, the rows opened and closed in it. Counted from the
case rows that is a pass over every row opened or closed in the window — on a million rows, most of them, and
several times the 50 ms a figure may take. So each import keeps the flows of the forces it touched, in its
own transaction, in ``month_flow`` (a few thousand rows per force) — counted as an initial load streams the rows
in, or summed from the day counts after a merge (bot/figures/day_counts.py) — and stamps ``month_flow_state``
with its batch. The series trusts the flows only while that stamp is the force's latest batch of the dataset (the
retention purge rebuilds them too); otherwise — and for ``older_than`` filters, which cut inside a month — it
counts the same months from the case rows (:func:`window_flows` with ``from_rows=True``), slower and equal.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Date, cast, delete, func, insert, literal, or_, select, union_all
from sqlalchemy.orm import Session

from bot.dates import as_date
from bot.figures.source import BAIL, SOURCES, WANTED, Source, group_conditions, row_conditions
from bot.figures.types import Filters
from bot.models import ImportBatch, MonthFlow, MonthFlowState


def month_key(session: Session, col: Any) -> Any:
    """SQL for the first day of ``col``'s month, as a date on PostgreSQL and ISO text on SQLite (which is how
    SQLAlchemy stores a Date there)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("month", col), Date)
    # Dates are ISO text in SQLite: the month is its first seven characters (cheaper than date(…, 'start of month')).
    return func.substr(col, 1, 7).concat("-01")


def _series_of(src: Source) -> Any:
    return src.model.kind if src is BAIL else literal(src.dataset)


def _flow_parts(session: Session, src: Source, where: list[ColumnElement[bool]]) -> Any:
    """``(series, month, district, offence, reason, opened, closed)`` per group, from the case rows."""
    m = src.model
    reason = m.reason if src is WANTED else literal("")
    series = _series_of(src)
    opened = select(
        series.label("series"),
        month_key(session, src.opened).label("month"),
        m.district.label("district"),
        m.offence.label("offence"),
        reason.label("reason"),
        literal(1).label("o"),
        literal(0).label("c"),
    ).where(*where)
    closed = select(
        series,
        month_key(session, src.closed),
        m.district,
        m.offence,
        reason,
        literal(0),
        literal(1),
    ).where(*where, src.closed.is_not(None))
    u = union_all(opened, closed).subquery("u")
    keys = [u.c.series, u.c.month, u.c.district, u.c.offence, u.c.reason]
    return select(*keys, func.sum(u.c.o).label("opened"), func.sum(u.c.c).label("closed")).group_by(*keys)


def latest_batch(session: Session, force: str, dataset: str) -> int | None:
    return session.execute(
        select(func.max(ImportBatch.id)).where(ImportBatch.force == force, ImportBatch.dataset == dataset)
    ).scalar()


def rebuild_month_flows(session: Session, dataset: str, force: str) -> None:
    """Recount the month flows of ``force``'s ``dataset`` from its rows and stamp them with its latest batch
    (the caller's import, flushed). One grouped pass over the force's rows, in the caller's transaction."""
    src = SOURCES[dataset]
    _clear(session, src, force)
    parts = _flow_parts(session, src, [src.model.force == force]).subquery("f")
    session.execute(
        insert(MonthFlow).from_select(
            ["force", "series", "month", "district", "offence", "reason", "opened", "closed"],
            select(literal(force), *parts.c),
        )
    )
    _stamp(session, dataset, force)


@dataclass
class FlowTally:
    """Month flows counted while an initial load streams the rows in (``bot.importing.fastpath`` appends one key
    per row to ``pending``), so that load needs no grouped pass over the table afterwards.

    A key is ``force, series, opened month, closed month or '', district, reason, offence`` joined by tabs
    (offence last: it is the only free text, and splitting stops before it). Keys are counted a chunk at a time
    by ``Counter.update`` (C), about a third of the cost of counting each row in Python. Their number grows
    with groups × months², not with rows; past ``limit`` the tally gives up and the flows are recounted from
    the table instead (:func:`write_month_flows`)."""

    pending: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    overflow: bool = False
    limit: int = 500_000

    def flush(self) -> None:
        if not self.overflow:
            self.counts.update(self.pending)
            if len(self.counts) > self.limit:
                self.overflow = True
                self.counts.clear()
        self.pending.clear()


def flow_key(force: str, series: str, opened: str, closed: str | None, district: str, reason: str, offence: str) -> str:
    """The tally key of one row (dates as ISO text); the compiled fast path builds the same string inline."""
    return f"{force}\t{series}\t{opened[:7]}\t{closed[:7] if closed else ''}\t{district}\t{reason}\t{offence}"


def write_month_flows(session: Session, dataset: str, force: str, tally: FlowTally) -> None:
    """Replace the month flows of ``force``'s ``dataset`` with the counted ones and stamp them with its latest
    batch (the caller's import, flushed)."""
    tally.flush()
    if tally.overflow:
        rebuild_month_flows(session, dataset, force)
        return
    _clear(session, SOURCES[dataset], force)
    merged: dict[tuple[str, str, str, str, str], list[int]] = {}
    for key, n in tally.counts.items():
        f, kind, opened, closed, district, reason, offence = key.split("\t", 6)
        if f != force:
            continue
        merged.setdefault((kind, opened, district, offence, reason), [0, 0])[0] += n
        if closed:
            merged.setdefault((kind, closed, district, offence, reason), [0, 0])[1] += n
    if merged:
        session.execute(
            insert(MonthFlow),
            [
                {
                    "force": force,
                    "series": k[0],
                    "month": dt.date(int(k[1][:4]), int(k[1][5:7]), 1),
                    "district": k[2],
                    "offence": k[3],
                    "reason": k[4],
                    "opened": v[0],
                    "closed": v[1],
                }
                for k, v in merged.items()
            ],
        )
    _stamp(session, dataset, force)


def carry_month_flows(session: Session, dataset: str, force: str, previous_batch: int) -> None:
    """After an import that changed no row of ``force``'s ``dataset`` (the caller's new batch flushed): flows stamped
    with ``previous_batch`` still count exactly the rows, so they are stamped with the new batch instead of being
    recounted; flows that were not current are rebuilt, as any import rebuilds them."""
    stamp = session.execute(
        select(MonthFlowState.import_batch_id).where(MonthFlowState.force == force, MonthFlowState.dataset == dataset)
    ).scalar()
    if stamp is not None and stamp == previous_batch:
        _stamp(session, dataset, force)
    else:
        rebuild_month_flows(session, dataset, force)


def clear_month_flows(session: Session, dataset: str, force: str) -> None:
    _clear(session, SOURCES[dataset], force)


def stamp_month_flows(session: Session, dataset: str, force: str) -> None:
    _stamp(session, dataset, force)


def _clear(session: Session, src: Source, force: str) -> None:
    series = ["bail", "rui"] if src is BAIL else [src.dataset]
    session.execute(delete(MonthFlow).where(MonthFlow.force == force, MonthFlow.series.in_(series)))


def _stamp(session: Session, dataset: str, force: str) -> None:
    batch = latest_batch(session, force, dataset)
    session.execute(delete(MonthFlowState).where(MonthFlowState.force == force, MonthFlowState.dataset == dataset))
    if batch is not None:
        session.add(MonthFlowState(force=force, dataset=dataset, import_batch_id=batch))
    session.flush()


def flows_current(session: Session, force: str, dataset: str) -> bool:
    """Whether ``month_flow`` holds the flows of the force's latest import of ``dataset``."""
    stamp = session.execute(
        select(MonthFlowState.import_batch_id).where(MonthFlowState.force == force, MonthFlowState.dataset == dataset)
    ).scalar()
    return stamp is not None and stamp == latest_batch(session, force, dataset)


def window_flows(
    session: Session,
    src: Source,
    force: str,
    as_of: dt.date,
    first: dt.date,
    before: dt.date,
    filters: Filters,
    *,
    kind: str | None = None,
    from_rows: bool = False,
) -> dict[dt.date, tuple[int, int]]:
    """Opened and closed per month (keyed by its first day) for the months from ``first`` up to, not including,
    ``before`` (both month starts), under ``filters``: from ``month_flow``, or with ``from_rows`` from the
    case rows (``older_than`` filters need the rows: their cutoff falls inside a month)."""
    if from_rows:
        # The same grouped count the flows are built from, over the rows opened or closed in the window (a row
        # opened in it cannot have closed before it), summed per month.
        rows = [*row_conditions(src, force, as_of, filters, kind=kind), src.opened < before]
        rows.append(or_(src.closed.is_(None), src.closed >= first))
        f = _flow_parts(session, src, rows).subquery("f")
        q = (
            select(f.c.month, func.sum(f.c.opened), func.sum(f.c.closed))
            .where(f.c.month >= first, f.c.month < before)
            .group_by(f.c.month)
        )
    else:
        f = MonthFlow
        series = kind if src is BAIL else src.dataset
        where = [f.force == force, f.series == series, f.month >= first, f.month < before]
        where += group_conditions(f, filters)
        q = select(f.month, func.sum(f.opened), func.sum(f.closed)).where(*where).group_by(f.month)
    out: dict[dt.date, tuple[int, int]] = {}
    for month, opened, closed in session.execute(q):
        out[as_date(month)] = (int(opened or 0), int(closed or 0))
    return out
