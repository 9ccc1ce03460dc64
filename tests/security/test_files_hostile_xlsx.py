"""Hostile XLSX files are refused before they cost anything: `mo-bot import` as its own process, under a 1 GiB
address-space limit, refuses each whole — exit status 2, a clear message, one audit row, nothing imported — within
seconds and a couple of hundred MB, where before they ran it out of memory, past minutes, or into a traceback
with exit 1 and no audit row. Each file is built small here (a megabyte that unpacks to a gigabyte, see
``bombs.py``). SQLite and PostgreSQL.

The promise: a file is checked before it is parsed — the zip's declared sizes and ratios, then each part streamed
(its actual size and integrity, no over-long run of text, no DTD) — and parsed with defusedxml, with row, column
and cell limits on the way."""

from __future__ import annotations

import random
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.security.bombs import (
    SHARED_STRINGS,
    SHEET,
    SHEET_CLOSE,
    SST_OPEN,
    Part,
    billion_laughs,
    entity_row,
    header_row,
    sheet,
    with_shared_strings,
    workbook_parts,
    write_zip,
    xlsx,
)
from tests.security.processes import import_refused, mo_bot_env, run_mo_bot

MiB = 1 << 20
DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
BODY = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
XXE = b'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def _utf16(xml: bytes) -> bytes:
    """The same part in UTF-16, which a byte search for "<!DOCTYPE" does not see: only the parser can refuse it."""
    return xml.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")


def _cell(text: bytes, times: int = 1) -> list[tuple[bytes, int]]:
    return [(b'<row r="2"><c r="A2" t="inlineStr"><is><t>', 1), (text, times), (b"</t></is></c></row>", 1)]


def _rows(n: int) -> list[tuple[bytes, int]]:
    row = b'<row><c t="inlineStr"><is><t>W-%d</t></is></c><c t="inlineStr"><is><t>Burglary</t></is></c></row>'
    return [(header_row(), 1)] + [(row % i, 1) for i in range(n)]


def _gigabyte_cell(path: Path) -> Path:
    # One 1 GiB cell in a 1 MB file (the campaign's: 2-3 GB of RSS before).
    return xlsx(path, {SHEET: sheet(_cell(b"A" * MiB, 1024), prefix=header_row())})


def _long_cell(path: Path) -> Path:
    # A 1.2 MB cell of random letters: too little to trip the ratio, so only the scan's run limit stops it.
    r = random.Random(7)
    text = bytes(r.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(1_200_000))
    return xlsx(path, {SHEET: sheet(_cell(text), prefix=header_row())})


def _shared_strings_bomb(path: Path) -> Path:
    # 1.5 GB of shared strings in a 3.9 MB file (3.6 GB and a MemoryError after 273 s before).
    strings = [(SST_OPEN, 1), (b"<si><t>ab</t></si>" * 58254, 1500), (b"</sst>", 1)]
    return xlsx(path, {SHARED_STRINGS: strings}, parts=with_shared_strings(workbook_parts()))


def _many_shared_strings(path: Path) -> Path:
    # 142 MB of shared strings compressed only ~70 times (random stretches between flat ones): under the ratio
    # limit, over the shared-strings limit; openpyxl would hold all 8 million strings in memory at once.
    r = random.Random(1)
    pairs = (bytes(r.choice(b"abcdefghijklmnop") for _ in range(2)) for _ in range(60000))
    rand = b"".join(b"<si><t>%s</t></si>" % pair for pair in pairs)
    flat = b"<si><t>ab</t></si>" * 400_000
    strings = [(SST_OPEN, 1), *[(rand, 1), (flat, 1)] * 18, (b"</sst>", 1)]
    return xlsx(path, {SHARED_STRINGS: strings}, parts=with_shared_strings(workbook_parts()))


def _row_bomb(path: Path) -> Path:
    # 1.9 GB of rows in a 5.8 MB file (over 300 s before).
    row = b'<row><c t="inlineStr"><is><t>W</t></is></c></row>' * 20000
    return xlsx(path, {SHEET: sheet([(row, 2000)], prefix=header_row())})


def _row_number_bomb(path: Path) -> Path:
    # One row numbered a billion: openpyxl makes up every empty row before it (a billion rows from 5 KB).
    far = b'<row r="1000000000"><c r="A1000000000" t="inlineStr"><is><t>W-1</t></is></c></row>'
    return xlsx(path, {SHEET: sheet([(far, 1)], prefix=header_row())})


def _billion_laughs(path: Path) -> Path:
    return xlsx(path, {SHEET: [(DECL + billion_laughs() + BODY + header_row() + entity_row("lol9") + SHEET_CLOSE, 1)]})


def _external_entity(path: Path) -> Path:
    return xlsx(path, {SHEET: [(DECL + XXE + BODY + header_row() + entity_row("xxe") + SHEET_CLOSE, 1)]})


def _billion_laughs_utf16(path: Path) -> Path:
    part = _utf16(DECL + billion_laughs() + BODY + header_row() + entity_row("lol9") + SHEET_CLOSE)
    return xlsx(path, {SHEET: [(part, 1)]})


def _external_entity_utf16(path: Path) -> Path:
    return xlsx(path, {SHEET: [(_utf16(DECL + XXE + BODY + header_row() + entity_row("xxe") + SHEET_CLOSE), 1)]})


def _corrupt_deflate(path: Path) -> Path:
    return xlsx(path, {SHEET: sheet(_rows(3000))}, options={SHEET: {"corrupt_at": 20000}})


def _size_lie(path: Path) -> Path:
    # The headers declare 5,000 bytes; the stream holds 300 KB.
    return xlsx(path, {SHEET: sheet(_rows(3000))}, options={SHEET: {"declared_size": 5000}})


def _bzip2_part(path: Path) -> Path:
    return xlsx(path, options={SHEET: {"method": zipfile.ZIP_BZIP2}})


def _too_many_parts(path: Path) -> Path:
    parts = [Part(n, [(b, 1)]) for n, b in workbook_parts().items()]
    parts += [Part(f"xl/media/pad{i}.bin", [(b"", 1)], method=zipfile.ZIP_STORED) for i in range(10_000)]
    return write_zip(path, parts)


def _headers_far_down(path: Path) -> Path:
    # Two more sheets, each with its first row at 600,000: openpyxl makes up the empty rows above each, and the
    # header search of all the sheets together may not read more than one sheet's limit.
    parts = workbook_parts(extra_sheets={"Two": [["x"]], "Three": [["x"]]})
    far = b'<row r="600000"><c r="A600000" t="inlineStr"><is><t>Ref</t></is></c></row>'
    return xlsx(path, {f"xl/worksheets/sheet{i}.xml": sheet([(far, 1)]) for i in (2, 3)}, parts=parts)


CASES = {
    "a 1 GiB cell in 1 MB": (_gigabyte_cell, ["would unpack from 1 MB to 1,024 MB", "zip bomb"]),
    "a 1.2 MB cell, compressed only 1.3 times": (_long_cell, ["holds a cell or tag of over 532,480 bytes"]),
    "1.5 GB of shared strings in 3.9 MB": (_shared_strings_bomb, ["xl/sharedStrings.xml", "zip bomb"]),
    "142 MB of shared strings at a ratio of 70": (_many_shared_strings, ["its shared strings would unpack to 142 MB"]),
    "1.9 GB of rows in 5.8 MB": (_row_bomb, ["xl/worksheets/sheet1.xml would unpack", "zip bomb"]),
    "a row numbered a billion": (_row_number_bomb, ["more than 1,048,576 rows"]),
    "other sheets' headers 600,000 rows down": (_headers_far_down, ["more than 1,048,576 rows"]),
    "billion laughs": (_billion_laughs, ["declares an XML document type or entities"]),
    "an external entity": (_external_entity, ["declares an XML document type or entities"]),
    "billion laughs in UTF-16": (_billion_laughs_utf16, ["EntitiesForbidden", "refused by defusedxml"]),
    "an external entity in UTF-16": (_external_entity_utf16, ["EntitiesForbidden", "refused by defusedxml"]),
    "a corrupt deflate stream": (_corrupt_deflate, ["not a readable .xlsx workbook", "while decompressing"]),
    "a part longer than it declares": (_size_lie, ["not a readable .xlsx workbook", "Bad CRC-32"]),
    "a bzip2-compressed part": (_bzip2_part, ["uses a compression Excel never writes"]),
    "10,009 parts": (_too_many_parts, ["holds 10,009 parts"]),
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each file built once (about ten seconds in all) for both tests of a database run."""
    d = tmp_path_factory.mktemp("hostile-xlsx")
    return {case: build(d / f"{i}.xlsx") for i, (case, (build, _)) in enumerate(CASES.items())}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_workbook_is_refused_fast(
    case: str, hostile: dict[str, Path], db_url: str, sessions: sessionmaker[Session]
) -> None:
    path = hostile[case]
    assert path.stat().st_size < 6 * MiB  # every one of them is small
    import_refused(db_url, sessions, "wanted", path, *CASES[case][1])


def test_workbooks_are_parsed_with_defusedxml(db_url: str, tmp_path: Path) -> None:
    """openpyxl uses defusedxml when it is installed, unless OPENPYXL_DEFUSEDXML says otherwise: the importing
    process has it on, and with it switched off the import refuses workbooks rather than parse them unprotected."""
    probe = subprocess.run(
        [sys.executable, "-c", "import openpyxl; print(openpyxl.DEFUSEDXML)"],
        env=mo_bot_env(db_url),
        capture_output=True,
        timeout=60,
    )
    assert probe.stdout.decode().strip() == "True", probe
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["reference", "offence", "district", "reason", "circulated_on", "status"])
    ws.append(["W-1", "Burglary", "ipswich", "never_arrested", "2026-01-05", "open"])
    path = tmp_path / "plain.xlsx"
    wb.save(path)
    r = run_mo_bot(["import", "wanted", str(path)], db_url, env={"OPENPYXL_DEFUSEDXML": "False"})
    assert r.returncode == 2 and "defusedxml's protection, which is not active" in r.stdout, r.output
    r = run_mo_bot(["import", "wanted", str(path)], db_url)
    assert r.returncode == 0, r.output
