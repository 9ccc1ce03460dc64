"""People and closures by outcome from the import's aggregates (bot/figures/people_ahead.py, closed_ahead.py): at
every date from their first day on and under every filter, the distinct people and the month's closures equal a
brute-force count over the rows (the same random rows as the figures' property tests, persons shared across
districts, offences in two cases and kinds); the answer reads no case row; before their first day, for
``older_than`` or once another import has come, they decline and the rows answer. Through the importer: a first
import, a revised one and an unchanged one keep them right. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.config import Config
from bot.figures import ahead as ahead_module
from bot.figures.ahead import rebuild_ahead
from bot.figures.ahead_state import first_day
from bot.figures.closed_ahead import closed_from_aggregate
from bot.figures.outcomes import closed_by_outcome, people_open
from bot.figures.people_ahead import people_from_aggregate
from bot.figures.source import SOURCES
from bot.figures.types import Filters, People
from bot.importing.service import import_file
from bot.importing.types import ImportRequest
from bot.models import AheadState, ImportBatch, PeopleAhead
from tests.bot.figures.test_property import (
    FORCE_DISTRICTS,
    PROPERTY,
    REASONS,
    Row,
    _insert,
    as_of_dates,
    is_active,
    rows,
    selected,
)


def brute(table: list[Row], force: str, at: dt.date, district, offence, reason, kind: str | None) -> People:
    """The people counted at ``at``, and the rows naming them."""
    live = [
        r
        for r in table
        if selected(r, force, at, district, offence, reason, None)
        and (kind is None or r.kind == kind)
        and is_active(r, at)
        and r.person is not None
    ]
    return People(len({r.person for r in live}), len(live))


def brute_closures(table: list[Row], force: str, at: dt.date, district, offence, reason, kind: str | None) -> dict:
    first = at.replace(day=1)
    out: dict[str, int] = {}
    for r in table:
        mine = selected(r, force, at, district, offence, reason, None) and (kind is None or r.kind == kind)
        if mine and r.closed is not None and first <= r.closed <= at:
            out[r.outcome or ""] = out.get(r.outcome or "", 0) + 1
    return out


def _batches(session: Session, dataset: str, as_of: dt.date) -> None:
    for force in ("suffolk", "norfolk"):
        session.add(ImportBatch(force=force, dataset=dataset, file_name="t.csv", file_sha256="0" * 64, as_of=as_of))
    session.flush()


@PROPERTY
@given(data=st.data())
def test_people_from_the_aggregate_match_brute_force_at_every_later_date(session: Session, data: st.DataObject) -> None:
    dataset = data.draw(st.sampled_from(["wanted", "suspects", "bail"]), label="dataset")
    as_of = data.draw(as_of_dates, label="as_of")
    table = data.draw(rows(dataset, as_of), label="rows")
    wanted = dataset == "wanted"
    try:
        _insert(session, dataset, table)
        _batches(session, dataset, as_of)
        checked = 0
        for force in ("suffolk", "norfolk"):
            rebuild_ahead(session, dataset, force)
            start = first_day(session, dataset, force)
            assert start is not None and start >= as_of
            ends = [d for r in table for d in (r.closed, r.bail_end) if d is not None]
            probes = {start, start + dt.timedelta(days=1), start + dt.timedelta(days=400)}
            near = {d + dt.timedelta(days=k) for d in ends for k in (-1, 0, 1, 2)}
            probes |= {d for d in near if d >= start}
            district = data.draw(st.one_of(st.none(), st.sampled_from(FORCE_DISTRICTS[force])), label="district")
            offence = data.draw(st.one_of(st.none(), st.sampled_from(["burglary", "BURGLARY", "drugs"])), label="o")
            reason = data.draw(st.one_of(st.none(), st.sampled_from(REASONS)), label="reason") if wanted else None
            filters = Filters(district=district, offence=offence, reason=reason)
            for at in sorted(probes):
                for kind in ("bail", "rui") if dataset == "bail" else (None,):
                    got = people_from_aggregate(session, dataset, force, at, filters, kind)
                    assert got == brute(table, force, at, district, offence, reason, kind), (force, at, kind)
                    closures = closed_from_aggregate(session, dataset, force, at, filters, kind)
                    assert closures == brute_closures(table, force, at, district, offence, reason, kind)
                    checked += 1
            # Before its first day, and for older_than, the rows answer.
            before = people_from_aggregate(session, dataset, force, start - dt.timedelta(days=1), filters)
            assert before is None
            assert people_from_aggregate(session, dataset, force, start, Filters(older_than_days=30)) is None
        assert checked >= 6
    finally:
        session.rollback()


def test_people_read_no_case_row_and_decline_once_another_import_comes(session: Session, config: Config) -> None:
    force = config.force("suffolk")
    as_of = dt.date(2026, 11, 20)
    table = [
        Row("suffolk", "W1", "ipswich", "Burglary", dt.date(2026, 1, 1), None, reason="never_arrested", person="P1"),
        Row("suffolk", "W2", "lowestoft", "burglary", dt.date(2026, 2, 1), None, reason="bail_breach", person="P1"),
        Row("suffolk", "W3", "ipswich", "theft", dt.date(2026, 3, 1), dt.date(2026, 12, 10), person="P2",
            reason="never_arrested"),
        Row("suffolk", "W4", "ipswich", "theft", dt.date(2026, 3, 1), dt.date(2026, 11, 1), person="P3",
            reason="never_arrested"),
        Row("suffolk", "W5", "ipswich", "theft", dt.date(2026, 4, 1), None, reason="never_arrested"),  # nobody named
    ]  # fmt: skip
    _insert(session, "wanted", table)
    _batches(session, "wanted", as_of)
    rebuild_ahead(session, "wanted", "suffolk")
    counts = {
        at: people_open(session, SOURCES["wanted"], force, at, Filters()) for at in (as_of, dt.date(2026, 12, 10))
    }
    ipswich = people_open(session, SOURCES["wanted"], force, as_of, Filters(district="ipswich"))
    burglary = people_open(session, SOURCES["wanted"], force, as_of, Filters(offence="BURGLARY"))
    assert counts == {as_of: People(2, 3), dt.date(2026, 12, 10): People(1, 2)}
    assert ipswich == People(2, 2) and burglary == People(1, 2)
    session.execute(delete(SOURCES["wanted"].model))  # the aggregate alone answers
    assert people_open(session, SOURCES["wanted"], force, as_of, Filters()) == People(2, 3)
    # A later import the aggregate was not counted for: it declines, and the rows (none now) answer.
    session.add(ImportBatch(force="suffolk", dataset="wanted", file_name="t.csv", file_sha256="1" * 64, as_of=as_of))
    session.flush()
    assert people_from_aggregate(session, "wanted", "suffolk", as_of, Filters()) is None
    assert people_open(session, SOURCES["wanted"], force, as_of, Filters()) == People(0, 0)
    session.rollback()


HEADER = "reference,person_ref,offence,district,kind,started_on,bail_end_on,ended_on,outcome"


def _import(
    session: Session, config: Config, tmp: Path, lines: list[str], as_of: dt.date, *, snapshot: bool = False
) -> None:
    p = tmp / f"bail-{as_of}.csv"
    p.write_text("\n".join([HEADER, *lines]) + "\n")
    now = dt.datetime.combine(as_of, dt.time(9), tzinfo=dt.UTC)
    request = ImportRequest(dataset="bail", path=p, as_of=as_of, snapshot=snapshot)
    report = import_file(session, config, request, now)
    assert report.ok, report.errors
    session.commit()


def _kept(session: Session) -> dict:
    """Suffolk bail's people counts that answer from its first day on, as kept, and as counted whole again."""
    start = session.get(AheadState, ("suffolk", "bail")).start

    def table() -> dict:
        pa = PeopleAhead
        rows = session.execute(
            select(pa.kind, pa.district, pa.reason, pa.offence, pa.leaves, pa.people, pa.named).where(
                pa.force == "suffolk", pa.dataset == "bail", pa.leaves > start
            )
        )
        return {tuple(r[:5]): (r[5], r[6]) for r in rows}

    kept = table()
    with session.begin_nested() as nested:
        rebuild_ahead(session, "bail", "suffolk")
        whole = table()
        nested.rollback()
    assert kept == whole
    return kept


def _people(session: Session, config: Config, at: dt.date, kind: str) -> tuple[People | None, People]:
    """(from the aggregate, from the answer) for Suffolk's bail of ``kind`` at ``at``."""
    force = config.force("suffolk")
    return (
        people_from_aggregate(session, "bail", "suffolk", at, Filters(), kind),
        people_open(session, SOURCES["bail"], force, at, Filters(), kind=kind),
    )


def _both(people: int, named_rows: int) -> tuple[People, People]:
    """What :func:`_people` gives when the aggregate and the answer agree."""
    return People(people, named_rows), People(people, named_rows)


def _refuse(*_a: object, **_k: object) -> None:
    raise AssertionError("counted the force's people whole")


def test_imports_keep_the_people_right(
    session: Session, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = dt.date(2026, 11, 20)
    lines = [
        "B1,P1,burglary,ipswich,bail,2026-10-01,2026-11-25,,",  # lapses from 26 Nov
        "B2,P1,burglary,ipswich,bail,2026-10-05,2026-12-20,,",  # P1 still active until 20 Dec
        "B3,P2,theft,lowestoft,bail,2026-09-01,2026-11-30,,",
        "R1,P3,theft,lowestoft,rui,2026-09-01,,,",
        "R2,P3,drugs,ipswich,rui,2026-09-02,,,",
        "B6,,theft,ipswich,bail,2026-11-01,2027-01-31,,",  # names nobody: not in the people, nor their rows
        "R3,,drugs,lowestoft,rui,2026-10-01,,,",
    ]
    _import(session, config, tmp_path, lines, first)
    assert _people(session, config, first, "bail") == _both(2, 3)  # P1 on B1 and B2, P2 on B3
    assert _people(session, config, dt.date(2026, 12, 1), "bail") == _both(1, 1)  # B1 and P2's B3 lapsed
    assert _people(session, config, dt.date(2026, 12, 21), "bail") == _both(0, 0)
    assert _people(session, config, first, "rui") == _both(1, 2)
    both = people_open(session, SOURCES["bail"], config.force("suffolk"), first, Filters())  # no kind: the rows
    assert people_from_aggregate(session, "bail", "suffolk", first, Filters()) is None and both == People(3, 5)
    _kept(session)
    # Revised: B2 ended, P4 bailed; a merge recounts only the people it touched (P1 and P4), never the force whole.
    revised = [*lines[:1], "B2,P1,burglary,ipswich,bail,2026-10-05,2026-12-20,2026-11-26,charged", *lines[2:],
               "B4,P4,theft,ipswich,bail,2026-11-24,2027-02-24,,"]  # fmt: skip
    second = dt.date(2026, 11, 27)
    with monkeypatch.context() as refusing:
        refusing.setattr(ahead_module, "count_people", _refuse)
        _import(session, config, tmp_path, revised, second)
    assert _people(session, config, second, "bail") == _both(2, 2)  # P2 (to 30 Nov), P4; P1's ended or lapsed
    assert _people(session, config, dt.date(2026, 12, 1), "bail") == _both(1, 1)
    _kept(session)
    force = config.force("suffolk")
    assert closed_from_aggregate(session, "bail", "suffolk", second, Filters(), "bail") == {"charged": 1}
    assert closed_by_outcome(session, SOURCES["bail"], force, second, Filters(), kind="bail") == {"charged": 1}
    assert closed_by_outcome(session, SOURCES["bail"], force, dt.date(2026, 12, 1), Filters(), kind="bail") == {}
    # The same file again: nothing read, the aggregate carried to the new batch.
    third = dt.date(2026, 11, 28)
    _import(session, config, tmp_path, revised, third)
    state = session.get(AheadState, ("suffolk", "bail"))
    latest = session.scalar(select(ImportBatch.id).order_by(ImportBatch.id.desc()).limit(1))
    assert state is not None and state.import_batch_id == latest
    assert _people(session, config, third, "bail") == _both(2, 2)
    # A snapshot a week later: B3, R2, B6 and R3 are gone from it (closed), P3 moves to bury-st-edmunds, P5 arrives.
    later = [lines[0], revised[1], "R1,P3,theft,bury-st-edmunds,rui,2026-09-01,,,",
             "B5,P5,drugs,lowestoft,bail,2026-12-01,2027-01-10,,", revised[-1]]  # fmt: skip
    fourth = dt.date(2026, 12, 5)
    with monkeypatch.context() as refusing:
        refusing.setattr(ahead_module, "count_people", _refuse)
        _import(session, config, tmp_path, later, fourth, snapshot=True)
    kept = _kept(session)
    assert _people(session, config, fourth, "bail") == _both(2, 2)  # P4 and P5
    assert _people(session, config, fourth, "rui") == _both(1, 1)  # P3, once
    assert sum(n for (kind, d, r, o, _x), (n, _rows) in kept.items() if (kind, d, o) == ("rui", "*", "*")) == 1
