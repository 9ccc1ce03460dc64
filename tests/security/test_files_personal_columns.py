"""Names and dates of birth are found behind disguises: a header written with look-alike characters (Cyrillic
"Nаme", full-width "ＮＡＭＥ", Greek capitals, small capitals, "D0B"), a common variant ("YOB", "Born",
"Birth Date", "d.o.b", "Forename"…), or on another worksheet of the workbook than the one imported refuses the
whole file, naming the column — before, each of these was imported (the column ignored as unknown). Through
`mo-bot import` as its own process; SQLite and PostgreSQL. The full list is checked against the rule itself."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.importing.columns import ALIASES, SCHEMAS, fold_lookalikes, header_key, personal_header_reason
from tests.security.processes import import_refused

HEADER = ["reference", "offence", "district", "reason", "circulated_on", "status"]
ROW = ["W-1", "Burglary", "ipswich", "never_arrested", "2026-01-05", "open"]

DISGUISED = {
    "Nаme": "it would hold names",  # Cyrillic а
    "ＮＡＭＥ": "it would hold names",  # full width
    "ΝΑΜΕ": "it would hold names",  # Greek capitals
    "Ѕurnаmе": "it would hold names",  # Cyrillic Ѕ, а, е
    "Fоrеnаme": "it would hold names",  # Cyrillic о, е, а
    "N\u200bame": "it would hold names",  # a zero-width space
    "Nâme": "it would hold names",
    "𝐍𝐚𝐦𝐞": "it would hold names",  # mathematical bold
    "ᴅᴏʙ": "it would hold dates of birth",  # small capitals
    "D0B": "it would hold dates of birth",  # a zero for the O
    "ᎠΟΒ": "it would hold dates of birth",  # Cherokee Ꭰ, Greek Ο and Β
}
VARIANTS = {
    "YOB": "it would hold dates of birth",
    "Born": "it would hold dates of birth",
    "Born On": "it would hold dates of birth",
    "Birth Date": "it would hold dates of birth",
    "Date Born": "it would hold dates of birth",
    "d.o.b": "it would hold dates of birth",
    "Year of Birth": "it would hold dates of birth",
    "Place of Birth": "it would hold details of birth",
    "Forename": "it would hold names",
    "Surname": "it would hold names",
    "Given Names": "it would hold names",
    "Known Aliases": "it would hold names",
    "AKA": "it would hold names",
    "Subject Name": "it would hold names",
    "Cyfenw": "it would hold names",  # Welsh: surname
    "Dyddiad Geni": "it would hold dates of birth",  # Welsh: date of birth
}
ORDINARY = ["Owner", "Offence Name", "Force Name", "District Name", "OIC", "Person Ref", "Officer in Case",
            "Crime No", "Collar No", "Date Circulated", "Bail End Date", "Reason", "Status", "ID", "Notes"]  # fmt: skip


def _csv(path: Path, extra: str) -> Path:
    path.write_text(",".join([*HEADER, extra]) + "\n" + ",".join([*ROW, "x"]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("header", ["Nаme", "ＮＡＭＥ", "D0B", "YOB", "Born", "Birth Date"])
def test_disguised_header_refuses_the_file(
    header: str, db_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    why = {**DISGUISED, **VARIANTS}[header]
    r = import_refused(db_url, sessions, "wanted", _csv(tmp_path / "export.csv", header), f"column {header!r}", why)
    assert "DPA 2018 Part 3" in r.stdout
    if header_key(header) != "".join(c for c in header.lower() if c.isascii() and c.isalnum()):
        assert f"(read as {header_key(header)!r})" in r.stdout  # the disguise is named


def test_names_on_another_sheet_refuse_the_workbook(
    db_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(ROW)
    lookup = wb.create_sheet("Lookup")
    lookup.append([])  # the header is the first row with something in it
    lookup.append(["Person Ref", "Forename", "Surname"])
    lookup.append(["P-1", "John", "Smith"])
    lookup.sheet_state = "hidden"  # hidden or not, it is in the file
    path = tmp_path / "export.xlsx"
    wb.save(path)
    import_refused(db_url, sessions, "wanted", path, "column 'Forename' on sheet 'Lookup' is refused", "names")


@pytest.mark.parametrize("header", list(DISGUISED) + list(VARIANTS))
def test_every_disguise_and_variant_is_caught(header: str) -> None:
    assert personal_header_reason(header) == {**DISGUISED, **VARIANTS}[header]


@pytest.mark.parametrize("header", ORDINARY + [a for aliases in ALIASES.values() for a in aliases])
def test_ordinary_headers_and_every_alias_pass(header: str) -> None:
    assert personal_header_reason(header) is None


def test_aliases_still_match_through_the_fold() -> None:
    # Folding look-alikes never makes two columns of a dataset read as one.
    for dataset, cols in SCHEMAS.items():
        keys = [header_key(a) for c in cols for a in (c.name, *ALIASES.get(c.name, ()))]
        owners = {}
        for c in cols:
            for a in (c.name, *ALIASES.get(c.name, ())):
                assert owners.setdefault(header_key(a), c.name) == c.name, (dataset, a)
        assert all(keys)
    assert header_key("Ｄｉｓｔｒｉｃｔ") == "district"  # a full-width header is read as what it says
    assert fold_lookalikes("Ꭰate оf Віrth") == "date of birth"
