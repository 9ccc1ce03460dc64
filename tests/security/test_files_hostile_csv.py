"""Hostile CSV files are refused before they cost anything: `mo-bot import` as its own process, under a 1 GiB
address-space limit. A gigabyte without a line break (a sparse file here: no disk is used) used to be read whole
into memory — a MemoryError and a traceback under the limit, gigabytes without it; it is refused after its first
few megabytes. A cell longer than the csv module's limit, a row wider than a worksheet, and more rows than a
worksheet holds are refused with the limit named. SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.models import AuditEvent, WantedCirculation
from commands.cli import import_cmd, main
from tests.security.processes import import_refused

HEADER = b"reference,offence,district,reason,circulated_on,status\n"
ROW = b"W1,Burglary,ipswich,never_arrested,2026-01-05,open\n"
GiB = 1 << 30


def _endless_line(path: Path) -> Path:
    with path.open("wb") as f:
        f.write(HEADER + ROW)
        f.truncate(GiB)  # a gigabyte of NULs with no line break, held as a hole in the file
    return path


def _endless_header(path: Path) -> Path:
    with path.open("wb") as f:
        f.write(b"reference,")
        f.seek(GiB)
        f.write(b"x\n")
    return path


def _endless_field(path: Path) -> Path:
    # One quoted cell running over 300 MB of short lines: no line is long, the cell is.
    with path.open("wb") as f:
        f.write(HEADER + b'"')
        f.write((b"x" * 99 + b"\n") * 3_000_000)
    return path


def _too_many_rows(path: Path) -> Path:
    path.write_bytes(HEADER + ROW + b"\n" * 1_048_576)
    return path


def _too_wide(path: Path) -> Path:
    path.write_bytes(HEADER + ROW.rstrip(b"\n") + b"," * 16_400 + b"\n")
    return path


CASES = {
    "a gigabyte without a line break": (_endless_line, ["line 3 is longer than 4 MB"]),
    "a header a gigabyte long": (_endless_header, ["line 1 is longer than 4 MB"]),
    "a 300 MB quoted cell": (_endless_field, ["row 2 is not readable CSV", "a cell longer than 131,072 characters"]),
    "1,048,578 rows": (_too_many_rows, ["more than 1,048,576 rows"]),
    "a row of 16,406 cells": (_too_wide, ["row 2 has 16,406 cells, more than 16,384"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_csv_is_refused_fast(case: str, db_url: str, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    build, expected = CASES[case]
    import_refused(db_url, sessions, "wanted", build(tmp_path / "export.csv"), *expected)


def test_an_import_that_fails_unforeseen_is_audited_all_the_same(
    db_url: str, sessions: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure no check foresaw (here a parser bug, simulated) still writes nothing and leaves an audit row
    (outcome ``error``) before the traceback: no import attempt goes unrecorded."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in the parser")

    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("MO_CONFIG", raising=False)
    monkeypatch.setattr(import_cmd, "import_file", broken)
    path = tmp_path / "export.csv"
    path.write_bytes(HEADER + ROW)
    with pytest.raises(RuntimeError, match="a bug in the parser"):
        main(["import", "wanted", str(path)])
    with sessions() as s:
        events = s.execute(select(AuditEvent.action, AuditEvent.outcome, AuditEvent.detail)).all()
        assert s.scalar(select(func.count()).select_from(WantedCirculation)) == 0
    assert events == [("import", "error", "import wanted export.csv: nothing imported: failed (RuntimeError)")]
