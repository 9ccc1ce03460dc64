"""UK-dated exports (dd/mm/yyyy) on the compiled fast path: the same rows and the same refusals as the full
validator, without a trip through it for every clean row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Config
from bot.importing.columns import SCHEMAS
from bot.importing.fastpath import checked_rows
from bot.importing.service import import_file
from bot.importing.types import ImportReport, ImportRequest, RowError
from bot.importing.validate import ErrorSink, RowValidator
from bot.models import OutstandingSuspect

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
AS_OF = dt.date(2026, 10, 31)
HEADER = [c.name for c in SCHEMAS["suspects"]]
CSV_HEADER = "reference,person_ref,crime_ref,offence,district,identified_on,closed_on,status,outcome,oic"


class CountingValidator(RowValidator):
    """The full validator, counting the rows the fast path handed to it."""

    calls = 0

    def __call__(self, row_no: int, cells: Sequence[Any]) -> tuple[Any, ...] | None:
        self.calls += 1
        return super().__call__(row_no, cells)


def suspect(i: int, opened: str, closed: str = "", status: str = "") -> list[Any]:
    cells = dict.fromkeys(HEADER, "")
    cells.update(reference=f"S{i}", offence="Theft", district="ipswich", identified_on=opened, closed_on=closed)
    cells["status"] = status
    return [cells[h] for h in HEADER]


def test_uk_dated_rows_take_the_fast_path(config: Config) -> None:
    """Once the district and status memos are warm, a clean dd/mm/yyyy row never reaches the full validator; a
    spelling the prebuilt dates lack (31/7/2026, 31.07.2026) goes to it once, then is known."""
    errors = ErrorSink()
    v = CountingValidator("suspects", HEADER, config, None, AS_OF, errors)
    warm = [(1, suspect(1, "2026-01-05")), (2, suspect(2, "2026-01-05", "2026-02-01", "closed"))]
    assert len(list(checked_rows(v, warm, copy=False).rows)) == 2
    v.calls = 0
    uk = [(10 + i, suspect(10 + i, f"{1 + i % 28:02d}/0{1 + i % 9}/2026", "31/10/2026", "closed")) for i in range(50)]
    uk += [(100 + i, suspect(100 + i, f"{1 + i % 28:02d}/12/2025")) for i in range(50)]
    out = list(checked_rows(v, uk, copy=False).rows)
    assert v.calls == 0
    # The staging shape: row_no, force, reference, person_ref, crime_ref, offence, district, identified_on, closed_on…
    assert [r[7] for r in out[:2]] == ["2026-01-01", "2026-02-02"]
    assert out[0][8] == "2026-10-31" and out[-1][8] is None
    assert errors.count == 0

    other = [(200 + i, suspect(200 + i, "31/7/2026", "1.08.2026", "closed")) for i in range(20)]
    out = list(checked_rows(v, other, copy=False).rows)
    assert v.calls == 1  # the first row teaches the memo both spellings
    assert {(r[7], r[8]) for r in out} == {("2026-07-31", "2026-08-01")}

    # A spreadsheet's date column with the time of day: the day, as the validator reads it.
    v.calls = 0
    timed = [(300 + i, suspect(300 + i, "31/07/2026 00:00:00", "01/08/2026 14:32", "closed")) for i in range(20)]
    out = list(checked_rows(v, timed, copy=False).rows)
    assert v.calls == 1 and errors.count == 0
    assert {(r[7], r[8]) for r in out} == {("2026-07-31", "2026-08-01")}


BAD_UK_DATES = [
    ("31/02/2026", "not a real date"),
    ("32/01/2026", "not a real date"),
    ("07/31/2026", "never month first"),
    ("01/11/2026", "after the import's as-of date 2026-10-31"),
    ("31/07/26", "write the year in full"),
    ("31/07/2026x", "not a date"),
    ("31/02/2026 00:00:00", "not a real date"),
    ("31/07/2026 noon", "not a date"),
    ("01/11/2026 00:00:00", "after the import's as-of date 2026-10-31"),
]


@pytest.mark.parametrize(("value", "reason"), BAD_UK_DATES)
def test_a_bad_uk_date_is_refused_alike_by_the_fast_path_and_the_validator(
    config: Config, value: str, reason: str
) -> None:
    rows = [(2, suspect(2, value)), (3, suspect(3, "05/01/2026", value, "closed"))]
    slow_errors, fast_errors = ErrorSink(), ErrorSink()
    slow = RowValidator("suspects", HEADER, config, None, AS_OF, slow_errors)
    assert [slow(n, cells) for n, cells in rows] == [None, None]
    fast = RowValidator("suspects", HEADER, config, None, AS_OF, fast_errors)
    for copy in (False, True):
        assert list(checked_rows(fast, rows, copy=copy).rows) == []
    assert fast_errors.errors == slow_errors.errors * 2
    assert [(e.row, e.column, e.value) for e in slow_errors.errors] == [
        (2, "identified_on", value),
        (3, "closed_on", value),
    ]
    assert all(reason in e.reason for e in slow_errors.errors), slow_errors.errors


def _import(session: Session, config: Config, path: Path) -> ImportReport:
    report = import_file(session, config, ImportRequest("suspects", path, as_of=AS_OF), NOW)
    if report.ok:
        session.commit()
    else:
        session.rollback()
    return report


def _errors(report: ImportReport) -> list[RowError]:
    assert not report.ok and report.refused is None, report
    return report.errors


def test_a_bad_uk_date_is_refused_alike_by_the_initial_load_and_the_upsert(
    session: Session, config: Config, tmp_path: Path
) -> None:
    """The same file refused into an empty table (the initial load) and into a filled one (the staged upsert):
    the same errors, and the bad date's message is the ISO spelling's."""
    lines = [CSV_HEADER, "S1,,,Theft,ipswich,05/01/2026,,,,", "S2,,,Theft,ipswich,31/02/2026,,,,",
             "S3,,,Theft,ipswich,05/01/2026,01/11/2026,closed,,", "S4,,,Theft,ipswich,2026-02-31,,,,"]  # fmt: skip
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    initial = _errors(_import(session, config, bad))
    good = tmp_path / "good.csv"
    good.write_text(f"{CSV_HEADER}\nS9,,,Theft,ipswich,05/01/2026,,,,\n", encoding="utf-8")
    assert _import(session, config, good).ok
    upsert = _errors(_import(session, config, bad))
    assert initial == upsert
    assert [(e.row, e.column, e.value) for e in initial] == [
        (3, "identified_on", "31/02/2026"),
        (4, "closed_on", "01/11/2026"),
        (5, "identified_on", "2026-02-31"),
    ]
    assert initial[0].reason.startswith("not a real date") and initial[2].reason.startswith("not a real date")
    assert initial[1].reason == "after the import's as-of date 2026-10-31"
    assert session.scalars(select(OutstandingSuspect.reference)).all() == ["S9"]


def test_uk_and_iso_files_store_the_same_rows(session: Session, config: Config, tmp_path: Path) -> None:
    uk = [CSV_HEADER] + [
        f"S{i},,,Theft,ipswich,{1 + i % 28:02d}/0{1 + i % 9}/2026,31/10/2026,closed,," for i in range(30)
    ]
    iso = [CSV_HEADER] + [
        f"S{i},,,Theft,ipswich,2026-0{1 + i % 9}-{1 + i % 28:02d},2026-10-31,closed,," for i in range(30)
    ]
    (tmp_path / "uk.csv").write_text("\n".join(uk) + "\n", encoding="utf-8")
    (tmp_path / "iso.csv").write_text("\n".join(iso) + "\n", encoding="utf-8")
    assert _import(session, config, tmp_path / "uk.csv").added == 30

    def stored() -> list[tuple[Any, ...]]:
        q = select(OutstandingSuspect.reference, OutstandingSuspect.identified_on, OutstandingSuspect.closed_on)
        return sorted(tuple(r) for r in session.execute(q))

    before = stored()
    assert before[0] == ("S0", dt.date(2026, 1, 1), dt.date(2026, 10, 31))
    report = _import(session, config, tmp_path / "iso.csv")
    assert (report.added, report.updated, report.unchanged) == (0, 0, 30)
    assert stored() == before


@pytest.mark.parametrize("column", ["closed_on", "outcome"])
def test_a_zero_in_an_optional_column_is_refused_alike_by_the_fast_path_and_the_validator(
    config: Config, column: str
) -> None:
    """An XLSX 0 is falsy but not empty: the validator refuses it (a number where a date or a value belongs), and
    the fast path must not read it as a blank cell."""
    cells = suspect(2, "2026-01-05")
    cells[HEADER.index(column)] = 0
    slow_errors, fast_errors = ErrorSink(), ErrorSink()
    assert RowValidator("suspects", HEADER, config, None, AS_OF, slow_errors)(2, cells) is None
    fast = RowValidator("suspects", HEADER, config, None, AS_OF, fast_errors)
    warm = suspect(1, "2026-01-05", "2026-02-01", "closed")  # fills the memos, so row 2 is tried on the fast path
    assert [r[2] for r in checked_rows(fast, [(1, warm), (2, cells)], copy=False).rows] == ["S1"]
    assert fast_errors.errors == slow_errors.errors
    assert [e.column for e in slow_errors.errors] == [column]
