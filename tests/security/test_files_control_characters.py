"""Control characters in an import are refused with the row and column named, all or nothing like any other bad
cell. Before, a NUL in a cell was stored as it stood on SQLite and broke PostgreSQL's COPY mid-import (a traceback,
exit 1, no audit row); an ESC or BEL went into the store to reach terminals and reports. Tab, line feed and
carriage return stay allowed inside a cell (a note may run over lines). Through `mo-bot import` as its own
process, into an empty table (the direct load) and into one holding rows (the staged upsert); SQLite and
PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.models import Action, AuditEvent, ImportBatch, WantedCirculation
from tests.security.processes import import_refused, run_mo_bot

HEADER = "reference,offence,district,reason,circulated_on,status"
GOOD = [f"W-{i},Burglary,ipswich,never_arrested,2026-01-05,open" for i in range(1, 6)]
# (row, column, the cell written, the character named in the report)
BAD = [
    (3, "reference", "W-\x002", "U+0000 (NUL)"),
    (4, "offence", "Burglary\x1b[2J", "U+001B (ESC)"),
    (5, "district", "ipswich\x07", "U+0007 (BEL)"),
    (6, "status", "open\x7f", "U+007F (DEL)"),
]


def _export(path: Path) -> Path:
    rows = list(GOOD)
    for row, column, cell, _ in BAD:
        cells = rows[row - 2].split(",")
        cells[HEADER.split(",").index(column)] = cell
        rows[row - 2] = ",".join(cells)
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("table", ["empty", "holding rows"])
def test_control_characters_in_cells_are_row_errors(
    table: str, db_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    if table == "holding rows":
        first = tmp_path / "first.csv"
        first.write_text("\n".join([HEADER, *GOOD]) + "\n", encoding="utf-8")
        assert run_mo_bot(["import", "wanted", str(first)], db_url).returncode == 0
    r = run_mo_bot(["import", "wanted", str(_export(tmp_path / "export.csv"))], db_url)
    assert r.returncode == 2, r.output
    assert "Traceback" not in r.stderr, r.stderr
    assert r.stdout.startswith("NOT IMPORTED wanted export export.csv: 4 problem(s) in 5 data rows"), r.output
    for row, column, cell, named in BAD:
        assert f"  row {row}, {column} = {cell!r}: holds a control character ({named})" in r.stdout, r.output
    with sessions() as s:
        kept = 5 if table == "holding rows" else 0
        assert s.scalar(select(func.count()).select_from(WantedCirculation)) == kept
        assert s.scalar(select(func.count()).select_from(ImportBatch)) == (1 if kept else 0)
        assert not s.scalars(select(WantedCirculation.reference).where(WantedCirculation.reference.like("%-_2"))).all()
        events = s.execute(select(AuditEvent.outcome, AuditEvent.detail).order_by(AuditEvent.id)).all()
    assert events[-1] == ("invalid", "import wanted export.csv: nothing imported: 4 bad row(s)")


def test_a_control_character_in_a_header_refuses_the_file(
    db_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    path.write_text(f"{HEADER},Notes\x1b]0;owned\x07\n{GOOD[0]},x\n", encoding="utf-8")
    import_refused(db_url, sessions, "wanted", path, "header column 7", "holds a control character (U+001B (ESC))")


def test_line_breaks_and_tabs_inside_a_note_are_kept(
    db_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "log.csv"
    note = "Met SBOS.\r\nNext:\tchase the warrant"
    path.write_text(f'reference,pillar,title,status,notes\nA-1,divert,Warrants data,ongoing,"{note}"\n', "utf-8")
    r = run_mo_bot(["import", "actions", str(path), "--force", "suffolk"], db_url)
    assert r.returncode == 0, r.output
    with sessions() as s:
        assert s.scalars(select(Action.notes)).all() == [note]
