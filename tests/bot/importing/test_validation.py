"""Import validation: every invalid-input class, whole-file refusals, data minimisation, formats and spellings.

Each refused import is also checked to have written nothing (the wanted/suspect/bail/action tables stay empty).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config import Config
from bot.figures.month_flow import FlowTally, flow_key
from bot.importing.columns import (
    ALIASES,
    CLOSED,
    FORCE,
    OPENED,
    SCHEMAS,
    VOCABULARIES,
    header_key,
    header_map,
    markdown_tables,
    personal_header_reason,
    value_key,
)
from bot.importing.fastpath import checked_rows, copy_line
from bot.importing.service import import_file
from bot.importing.types import MAX_REPORTED_ERRORS, ImportReport, ImportRequest, RowError
from bot.importing.validate import Bad, ErrorSink, RowValidator, parse_date, staging_columns
from bot.models import Action, BailPeriod, ImportBatch, OutstandingSuspect, WantedCirculation
from tests.support.paths import REPO_ROOT

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
AS_OF = dt.date(2026, 10, 31)
WANTED_HEADER = (
    "reference,person_ref,crime_ref,offence,district,reason,circulated_on,last_reviewed_on,closed_on,status,oic"
)
BAIL_HEADER = "reference,person_ref,crime_ref,offence,district,kind,started_on,bail_end_on,ended_on,outcome,oic"
SUSPECTS_HEADER = "reference,person_ref,crime_ref,offence,district,identified_on,closed_on,status,oic"
ACTIONS_HEADER = "reference,pillar,title,owner,status,due_on,source,notes"
GOOD_WANTED = "W1,P1,C1,Burglary,ipswich,never_arrested,2026-01-05,,,open,1234"


def write(tmp_path: Path, text: str | bytes, name: str = "export.csv") -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def run(session: Session, config: Config, dataset: str, path: Path, **kw: Any) -> ImportReport:
    """Import as the CLI does: commit on success, roll back otherwise."""
    kw.setdefault("as_of", AS_OF)
    report = import_file(session, config, ImportRequest(dataset=dataset, path=path, **kw), NOW)
    if report.ok:
        session.commit()
    else:
        session.rollback()
    return report


def nothing_written(session: Session) -> bool:
    models = (WantedCirculation, OutstandingSuspect, BailPeriod, Action, ImportBatch)
    return all(session.scalar(select(func.count()).select_from(m)) == 0 for m in models)


def bad(session: Session, config: Config, tmp_path: Path, dataset: str, text: str, **kw: object) -> list[RowError]:
    report = run(session, config, dataset, write(tmp_path, text), **kw)
    assert not report.ok and report.refused is None, report
    assert report.error_count == len(report.errors)
    assert nothing_written(session)
    return report.errors


def one_error(errors: list[RowError], row: int, column: str, value: str, reason: str) -> None:
    assert len(errors) == 1, errors
    e = errors[0]
    assert (e.row, e.column, e.value) == (row, column, value), e
    assert re.search(reason, e.reason), e.reason


def refused(session: Session, config: Config, path: Path, dataset: str = "wanted", **kw: object) -> str:
    report = run(session, config, dataset, path, **kw)
    assert report.refused, report
    assert report.errors == [] and not report.ok
    assert nothing_written(session)
    return report.refused


# ---- row errors: one test per invalid-input class ---------------------------------------------------------


def test_unknown_district(session, config, tmp_path) -> None:
    rows = f"{WANTED_HEADER}\n{GOOD_WANTED}\nW2,P2,C2,Theft,Atlantis,never_arrested,2026-01-05,,,open,1\n"
    one_error(bad(session, config, tmp_path, "wanted", rows), 3, "district", "Atlantis", "unknown district")


def test_unknown_force_in_force_column(session, config, tmp_path) -> None:
    rows = (
        f"{WANTED_HEADER},force\n{GOOD_WANTED},suffolk\n"
        "W2,P2,C2,Theft,ipswich,never_arrested,2026-01-05,,,open,1,essex\n"
    )
    one_error(bad(session, config, tmp_path, "wanted", rows), 3, "force", "essex", "unknown force")


def test_force_column_differs_from_force_option(session, config, tmp_path) -> None:
    rows = (
        f"{WANTED_HEADER},force\n{GOOD_WANTED},Suffolk\n"
        "W2,P2,C2,Theft,norwich,never_arrested,2026-01-05,,,open,1,norfolk\n"
    )
    errors = bad(session, config, tmp_path, "wanted", rows, force="suffolk")
    one_error(errors, 3, "force", "norfolk", "--force suffolk")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("31/02/2026", "not a real date"),
        ("2026-02-30", "not a real date"),
        ("07/31/2026", "never month first"),  # US order is an impossible day-first date
        ("next tuesday", "not a date"),
        ("31/07/26", "year in full"),
    ],
)
def test_impossible_date(session, config, tmp_path, value: str, reason: str) -> None:
    rows = f"{WANTED_HEADER}\nW1,P1,C1,Burglary,ipswich,never_arrested,{value},,,open,1\n"
    one_error(bad(session, config, tmp_path, "wanted", rows), 2, "circulated_on", value, reason)


def test_missing_required_date(session, config, tmp_path) -> None:
    rows = f"{SUSPECTS_HEADER}\nS1,P1,C1,Theft,ipswich,,,open,1\n"
    one_error(bad(session, config, tmp_path, "suspects", rows), 2, "identified_on", "", "missing")


def test_closed_before_opened(session, config, tmp_path) -> None:
    rows = f"{WANTED_HEADER}\nW1,P1,C1,Burglary,ipswich,never_arrested,2026-03-05,,2026-03-04,closed,1\n"
    one_error(bad(session, config, tmp_path, "wanted", rows), 2, "closed_on", "2026-03-04", "before circulated_on")


def test_ended_before_started(session, config, tmp_path) -> None:
    rows = f"{BAIL_HEADER}\nB1,P1,C1,Theft,ipswich,bail,2026-03-05,2026-06-05,2026-03-01,charged,1\n"
    one_error(bad(session, config, tmp_path, "bail", rows), 2, "ended_on", "2026-03-01", "before started_on")


def test_bail_end_before_start(session, config, tmp_path) -> None:
    rows = f"{BAIL_HEADER}\nB1,P1,C1,Theft,ipswich,bail,2026-03-05,2026-03-01,,,1\n"
    one_error(bad(session, config, tmp_path, "bail", rows), 2, "bail_end_on", "2026-03-01", "before started_on")


def test_date_after_as_of(session, config, tmp_path) -> None:
    rows = f"{WANTED_HEADER}\nW1,P1,C1,Burglary,ipswich,never_arrested,2026-01-05,2026-11-02,,open,1\n"
    one_error(
        bad(session, config, tmp_path, "wanted", rows), 2, "last_reviewed_on", "2026-11-02", "as-of date 2026-10-31"
    )


def test_future_bail_end_date_is_allowed(session, config, tmp_path) -> None:
    rows = f"{BAIL_HEADER}\nB1,P1,C1,Theft,ipswich,bail,2026-10-05,2027-01-05,,,1\n"
    report = run(session, config, "bail", write(tmp_path, rows))
    assert report.ok and report.added == 1
    assert session.scalars(select(BailPeriod.bail_end_on)).one() == dt.date(2027, 1, 5)


@pytest.mark.parametrize(
    ("status", "closed", "reason"),
    [("open", "2026-02-01", "contradicts closed_on"), ("arrested", "", "closed_on is empty")],
)
def test_status_contradicts_closing_date(session, config, tmp_path, status: str, closed: str, reason: str) -> None:
    rows = f"{WANTED_HEADER}\nW1,P1,C1,Burglary,ipswich,never_arrested,2026-01-05,,{closed},{status},1\n"
    # The cell as the file has it ("arrested"), not as it was read ("closed").
    one_error(bad(session, config, tmp_path, "wanted", rows), 2, "status", status, reason)


def test_a_row_error_quotes_the_cells_as_the_file_has_them(session, config, tmp_path) -> None:
    """ "closed_on = '2026-10-01': before circulated_on 2026-10-10" when the cells say 01/10/2026 and 10/10/2026."""
    rows = "Reference,Offence,District,Reason,Date Circulated,Date Closed,Status\n"
    rows += "W1,Theft,Ipswich,FTA,10/10/2026,01/10/2026,Arrested\n"
    errors = bad(session, config, tmp_path, "wanted", rows)
    assert [(e.row, e.column, e.value, e.reason) for e in errors] == [
        (2, "closed_on", "01/10/2026", "before circulated_on 10/10/2026")
    ]


def test_bail_outcome_needs_end_date_and_end_date_needs_outcome(session, config, tmp_path) -> None:
    rows = (
        f"{BAIL_HEADER}\nB1,P1,C1,Theft,ipswich,bail,2026-03-05,2026-06-05,,charged,1\n"
        "B2,P1,C1,Theft,ipswich,bail,2026-03-05,2026-06-05,2026-04-01,,1\n"
    )
    errors = bad(session, config, tmp_path, "bail", rows)
    assert [(e.row, e.column, e.value) for e in errors] == [(2, "outcome", "charged"), (3, "ended_on", "2026-04-01")]
    assert "needs ended_on" in errors[0].reason and "needs an outcome" in errors[1].reason


@pytest.mark.parametrize(
    ("dataset", "header", "row", "column", "value"),
    [
        ("bail", BAIL_HEADER, "B1,P1,C1,Theft,ipswich,curfew,2026-03-05,,,,1", "kind", "curfew"),
        ("wanted", WANTED_HEADER, "W1,P1,C1,Theft,ipswich,bored,2026-03-05,,,open,1", "reason", "bored"),
        ("wanted", WANTED_HEADER, "W1,P1,C1,Theft,ipswich,FTA,2026-03-05,,,pending,1", "status", "pending"),
        ("bail", BAIL_HEADER, "B1,P1,C1,Theft,ipswich,rui,2026-03-05,,2026-04-01,acquitted,1", "outcome", "acquitted"),
        ("actions", ACTIONS_HEADER, "A-1,Prevent,Do it,HH,open,,,", "pillar", "Prevent"),
        ("actions", ACTIONS_HEADER, "A-1,Divert,Do it,HH,maybe,,,", "status", "maybe"),
    ],
)
def test_unknown_vocabulary_value(session, config, tmp_path, dataset, header, row, column, value) -> None:
    errors = bad(session, config, tmp_path, dataset, f"{header}\n{row}\n", force="suffolk")
    one_error(errors, 2, column, value, f"unknown {column}; valid values: ")


def test_unknown_outcome_lists_the_valid_values(session, config, tmp_path) -> None:
    rows = f"{BAIL_HEADER}\nB1,P1,C1,Theft,ipswich,rui,2026-03-05,,2026-04-01,acquitted,1\n"
    (e,) = bad(session, config, tmp_path, "bail", rows)
    for v in ("charged", "nfa", "out_of_court_disposal", "converted_to_rui", "converted_to_bail", "other"):
        assert v in e.reason


def test_rui_with_bail_end_date(session, config, tmp_path) -> None:
    rows = f"{BAIL_HEADER}\nB1,P1,C1,Theft,ipswich,RUI,2026-03-05,2026-06-05,,,1\n"
    one_error(bad(session, config, tmp_path, "bail", rows), 2, "bail_end_on", "2026-06-05", "RUI has no bail end")


def test_duplicate_reference_reports_both_rows(session, config, tmp_path) -> None:
    rows = (
        f"{WANTED_HEADER}\n{GOOD_WANTED}\n"
        "W2,P2,C2,Theft,ipswich,never_arrested,2026-01-05,,,open,1\n"
        "W1,P3,C3,Theft,lowestoft,never_arrested,2026-01-06,,,open,1\n"
    )
    errors = bad(session, config, tmp_path, "wanted", rows)
    assert [(e.row, e.column, e.value) for e in errors] == [(2, "reference", "W1"), (4, "reference", "W1")]
    assert all("duplicate reference" in e.reason and "rows 2, 4" in e.reason for e in errors)


def test_many_duplicates_are_counted_and_capped(session, config, tmp_path) -> None:
    lines = [WANTED_HEADER]
    lines += [f"D{i % 30},P,C,Theft,ipswich,never_arrested,2026-01-05,,,open,1" for i in range(60)]  # 30 pairs
    lines += ["R,P,C,Theft,ipswich,never_arrested,2026-01-05,,,open,1"] * 8
    report = run(session, config, "wanted", write(tmp_path, "\n".join(lines) + "\n"))
    assert report.error_count == 68
    assert [e.row for e in report.errors] == list(range(2, 2 + MAX_REPORTED_ERRORS))
    assert report.errors[0].reason == "duplicate reference within the file: rows 2, 32"
    assert nothing_written(session)
    lines = [WANTED_HEADER] + ["R,P,C,Theft,ipswich,never_arrested,2026-01-05,,,open,1"] * 8
    report = run(session, config, "wanted", write(tmp_path, "\n".join(lines) + "\n"))
    assert report.errors[0].reason == "duplicate reference within the file: rows 2, 3, 4, 5, 6, 7, …"


def test_same_reference_in_two_forces_is_not_a_duplicate(session, config, tmp_path) -> None:
    rows = (
        f"{WANTED_HEADER},force\n{GOOD_WANTED},suffolk\n"
        "W1,P2,C2,Theft,norwich,never_arrested,2026-01-05,,,open,1,norfolk\n"
    )
    report = run(session, config, "wanted", write(tmp_path, rows))
    assert report.ok and report.forces == ["norfolk", "suffolk"] and report.added == 2


def test_missing_reference(session, config, tmp_path) -> None:
    rows = f"{WANTED_HEADER}\n,P1,C1,Burglary,ipswich,never_arrested,2026-01-05,,,open,1\n"
    one_error(bad(session, config, tmp_path, "wanted", rows), 2, "reference", "", "missing")


def test_every_bad_cell_of_a_row_is_reported(session, config, tmp_path) -> None:
    rows = f"{WANTED_HEADER}\nW1,P1,C1,,Atlantis,bored,2026-13-01,,,open,1\n"
    errors = bad(session, config, tmp_path, "wanted", rows)
    assert [e.column for e in errors] == ["offence", "district", "reason", "circulated_on"]


def test_errors_are_capped_at_fifty_with_a_count(session, config, tmp_path) -> None:
    lines = [WANTED_HEADER] + [f"W{i},P,C,Theft,Atlantis,never_arrested,2026-01-05,,,open,1" for i in range(70)]
    report = run(session, config, "wanted", write(tmp_path, "\n".join(lines) + "\n"))
    assert report.error_count == 70
    assert len(report.errors) == MAX_REPORTED_ERRORS
    assert [e.row for e in report.errors] == list(range(2, 2 + MAX_REPORTED_ERRORS))
    assert nothing_written(session)


def test_long_text_is_an_error_not_a_truncation(session, config, tmp_path) -> None:
    rows = f"{WANTED_HEADER}\nW1,P1,C1,Burglary,ipswich,never_arrested,2026-01-05,,,open,{'9' * 40}\n"
    one_error(bad(session, config, tmp_path, "wanted", rows), 2, "oic", "9" * 40, "longer than 32")


# ---- whole-file refusals -----------------------------------------------------------------------------------


def test_empty_file_is_refused(session, config, tmp_path) -> None:
    assert "is empty" in refused(session, config, write(tmp_path, ""))
    assert "is empty" in refused(session, config, write(tmp_path, "\n\n"))


def test_header_only_is_refused(session, config, tmp_path) -> None:
    assert "no data rows" in refused(session, config, write(tmp_path, WANTED_HEADER + "\n,,,,\n"))


def test_missing_required_columns_are_named(session, config, tmp_path) -> None:
    msg = refused(session, config, write(tmp_path, "reference,offence,district,Wanted Since\nW1,Theft,ipswich,x\n"))
    # Each with headers that name it: "Wanted Since" is not one, and the analyst sees which are.
    assert msg == (
        "missing required columns for wanted: reason (a header such as Circulation Reason, Wanted Reason, Reason "
        "Wanted); circulated_on (a header such as Date Circulated, Circulated, Circulated Date) (header row 1 has: "
        "reference, offence, district, Wanted Since)"
    )


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("Reference;Offence;District;Reason;Date Circulated\nW1;Theft;Ipswich;FTA;01/10/2026\n",
         "header row 1 is separated by semicolons, not commas ('Reference;Offence;District;Reason;Date Circulated'); "
         'save it from Excel as "CSV UTF-8 (Comma delimited)"'),
        ("Reference\tOffence\tDistrict\tReason\tDate Circulated\nW1\tTheft\tIpswich\tFTA\t01/10/2026\n",
         "header row 1 is separated by tabs, not commas"),
        ("sep=,\nReference,Offence,District,Reason,Date Circulated\nW1,Theft,Ipswich,FTA,01/10/2026\n",
         'header row 1 is Excel\'s "sep=" line; save the file again as CSV UTF-8 (Comma delimited)'),
        ("<html><body><table><tr><td>Reference</td></tr></table></body></html>\n<tr><td>W1</td></tr>\n",
         "the file is a web page (HTML), not a spreadsheet, though a system may name it .xls"),
        ("Reference,Offence,District,Reason,Date Circulated\rW1,Theft,Ipswich,FTA,01/10/2026\r",
         'its lines end in carriage returns alone (Excel\'s "CSV (Macintosh)"); save it as "CSV UTF-8"'),
    ],
)  # fmt: skip
def test_a_file_of_another_shape_is_refused_saying_what_it_is(session, config, tmp_path, body: str, said: str) -> None:
    """Separators, Excel's "sep=" line, a web page saved as .xls, Mac line ends: the refusal said a required column
    was missing (or quoted Python's csv error), not what to do."""
    assert said in refused(session, config, write(tmp_path, body))


def test_two_headers_for_one_column_are_refused(session, config, tmp_path) -> None:
    msg = refused(session, config, write(tmp_path, f"{WANTED_HEADER},Area\n{GOOD_WANTED},ipswich\n"))
    assert "'district' and 'Area' both mean district" in msg


def test_unreadable_files_are_refused(session, config, tmp_path) -> None:
    assert "CSV UTF-8" in refused(session, config, write(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64))
    assert "not a readable .xlsx" in refused(session, config, write(tmp_path, b"PK\x03\x04garbage", "x.xlsx"))
    assert "cannot read" in refused(session, config, tmp_path / "nowhere.csv")


def test_non_utf8_csv_is_refused_with_a_hint(session, config, tmp_path) -> None:
    latin1 = f"{WANTED_HEADER}\nW1,P1,C1,Café crime,ipswich,never_arrested,2026-01-05,,,open,1\n".encode("latin-1")
    msg = refused(session, config, write(tmp_path, latin1))
    assert "not UTF-8" in msg and '"CSV UTF-8' in msg


def test_a_byte_that_is_not_utf8_is_reported_on_its_own_row(session, config, tmp_path) -> None:
    """The text layer decodes ahead of the rows read: the error named "near row 2" for a bad byte on row 52."""
    rows = [f"W{i},P{i},C{i},Theft,ipswich,never_arrested,2026-01-05,,,open,1" for i in range(60)]
    quoted = 'W0,P0,C0,"Theft\nacross lines",ipswich,never_arrested,2026-01-05,,,open,1'  # one row, two lines
    body = (
        "\r\n".join([WANTED_HEADER, quoted, *rows[1:]]).encode().replace(b"W50,P50,C50,Theft", b"W50,P50,C50,Caf\xe9")
    )
    msg = refused(session, config, write(tmp_path, body))
    assert "is not UTF-8 text (row 52);" in msg  # the header is row 1, W0 row 2 (over two lines), W50 row 52


def test_a_workbook_is_read_whatever_its_name_and_a_password_protected_one_is_named_so(
    session, config, tmp_path
) -> None:
    """The type is known from the content: a workbook named .csv was refused by openpyxl's check of the name; a
    password-protected .xlsx (a compound file, like an old .xls) was called an old-style .xls."""
    from openpyxl import Workbook

    protected = REPO_ROOT / "tests" / "bot" / "importing" / "data" / "password-protected.xlsx"
    msg = refused(session, config, protected)
    assert msg == "password-protected.xlsx is a password-protected workbook; save it without a password and import that"
    wb = Workbook()
    ws = wb.active
    ws.append(WANTED_HEADER.split(","))
    ws.append(GOOD_WANTED.split(","))
    named_csv = tmp_path / "wanted.csv"
    wb.save(named_csv)
    assert run(session, config, "wanted", named_csv).ok


def test_unknown_force_option_is_refused(session, config, tmp_path) -> None:
    assert "unknown force 'essex'" in refused(
        session, config, write(tmp_path, f"{WANTED_HEADER}\n{GOOD_WANTED}\n"), force="essex"
    )


def test_snapshot_of_the_action_log_is_refused(session, config, tmp_path) -> None:
    path = write(tmp_path, f"{ACTIONS_HEADER}\nA-1,Divert,Do it,HH,open,,,\n")
    assert "--snapshot" in refused(session, config, path, dataset="actions", snapshot=True)


# ---- data minimisation ---------------------------------------------------------------------------------------

PERSONAL_HEADERS = [
    "Name",
    "name",
    "Forename",
    "Forenames",
    "First Name",
    "first_name",
    "Given Name",
    "Surname",
    "SURNAME",
    "Last Name",
    "Family Name",
    "Full Name",
    "Alias Name",
    "Offender Name",
    "DOB",
    "D.O.B.",
    "d-o-b",
    "Date of Birth",
    "date_of_birth",
    "Birth Date",
    "Birthdate",
]


@pytest.mark.parametrize("header", PERSONAL_HEADERS)
def test_names_and_dates_of_birth_are_refused_before_any_row_is_read(session, config, tmp_path, header: str) -> None:
    # The data rows are not even UTF-8: reading one would give a different refusal.
    data = f"{WANTED_HEADER},{header}\n".encode() + b"\xff\xfe garbage \x80\x81\n" * 3
    msg = refused(session, config, write(tmp_path, data))
    assert f"column {header!r} is refused" in msg
    assert "DPA 2018 Part 3" in msg and "pseudonymous references only" in msg


def test_names_are_refused_in_xlsx_too(session, config, tmp_path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([*WANTED_HEADER.split(","), "Surname"])
    path = tmp_path / "w.xlsx"
    wb.save(path)
    assert "'Surname' is refused" in refused(session, config, path)


@pytest.mark.parametrize("header", ["Owner", "Offence Name", "Force Name", "District Name", "OIC", "Person Ref"])
def test_ordinary_headers_are_not_mistaken_for_names(header: str) -> None:
    assert personal_header_reason(header) is None


def test_unknown_columns_are_ignored_and_listed(session, config, tmp_path) -> None:
    rows = f"{WANTED_HEADER},Team,Notes\n{GOOD_WANTED},CID,whatever\n"
    report = run(session, config, "wanted", write(tmp_path, rows))
    assert report.ok and report.ignored_columns == ["Team", "Notes"]


# ---- formats and spellings -------------------------------------------------------------------------------------


def test_bom_is_accepted(session, config, tmp_path) -> None:
    report = run(session, config, "wanted", write(tmp_path, ("\ufeff" + f"{WANTED_HEADER}\n{GOOD_WANTED}\n").encode()))
    assert report.ok and report.added == 1
    assert session.scalars(select(WantedCirculation.reference)).all() == ["W1"]


def test_xlsx_with_real_dates_numbers_and_aliases(session, config, tmp_path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Bail export"
    ws.append(["Bail Ref", "Crime No", "Offence Group", "Policing Area", "Type", "Start Date", "Bail End Date",
               "Date Ended", "Outcome", "OIC"])  # fmt: skip
    ws.append([1001, "37/1/26", "Theft", "Bury St Edmunds", "Pre-charge bail", dt.datetime(2026, 7, 31, 0, 0),
               dt.date(2026, 10, 31), dt.datetime(2026, 8, 15, 14, 30), "No further action", 4521])  # fmt: skip
    ws.append([1002, None, "Drugs", "east", "RUI", "31/08/2026", None, None, None, None])
    ws.append([None] * 10)  # a blank row in the middle is skipped
    ws.append([1003, None, "Drugs", "south", "PCB", dt.date(2026, 9, 1), "01/12/2026", None, None, None])
    wb.create_sheet("Notes").append(["ignored sheet"])
    path = tmp_path / "bail.xlsx"
    wb.save(path)
    report = run(session, config, "bail", path)
    assert report.ok, report
    assert report.rows_in_file == 3 and report.added == 3
    got = session.execute(
        select(BailPeriod.reference, BailPeriod.district, BailPeriod.kind, BailPeriod.started_on,
               BailPeriod.bail_end_on, BailPeriod.ended_on, BailPeriod.outcome, BailPeriod.oic)
        .order_by(BailPeriod.reference)
    ).all()  # fmt: skip
    assert got == [
        ("1001", "bury-st-edmunds", "bail", dt.date(2026, 7, 31), dt.date(2026, 10, 31), dt.date(2026, 8, 15),
         "nfa", "4521"),
        ("1002", "lowestoft", "rui", dt.date(2026, 8, 31), None, None, None, None),
        ("1003", "ipswich", "bail", dt.date(2026, 9, 1), dt.date(2026, 12, 1), None, None, None),
    ]  # fmt: skip


def test_xlsx_row_numbers_count_blank_rows(session, config, tmp_path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(SUSPECTS_HEADER.split(","))
    ws.append(["S1", None, None, "Theft", "ipswich", dt.date(2026, 1, 2), None, "open", None])
    ws.append([None] * 9)
    ws.append(["S2", None, None, "Theft", "ipswich", 45000, None, "open", None])  # an unformatted date serial
    path = tmp_path / "s.xlsx"
    wb.save(path)
    errors = bad_path(session, config, path, "suspects")
    one_error(errors, 4, "identified_on", "45000", "a number, not a date")


def bad_path(session: Session, config: Config, path: Path, dataset: str) -> list[RowError]:
    report = run(session, config, dataset, path)
    assert not report.ok and report.refused is None
    assert nothing_written(session)
    return report.errors


def test_uk_dates_aliases_and_spellings(session, config, tmp_path) -> None:
    rows = (
        "Wanted Ref, Person-Ref ,crime_reference,OFFENCE GROUP,Policing Area,Circulation Reason,Date Circulated,"
        "Date Last Reviewed,Date Closed,Status,Officer in Case\n"
        "W1,P1,C1,Theft,South,Never arrested,31/07/2026,1/8/2026,,Live,PC 1\n"
        "W2,P2,C2,Theft,BSE,FTA,01-08-2026,,02.09.2026,Arrested,\n"
        "W3,,,Theft,bury st edmunds,breach of bail conditions,2026-08-03,,,,\n"
        "W4,,,Theft, East ,RUI - fresh evidence, 4/8/2026 ,,05/08/2026,,\n"
    )
    report = run(session, config, "wanted", write(tmp_path, rows))
    assert report.ok, report
    got = session.execute(
        select(WantedCirculation.reference, WantedCirculation.district, WantedCirculation.reason,
               WantedCirculation.circulated_on, WantedCirculation.last_reviewed_on, WantedCirculation.closed_on,
               WantedCirculation.status, WantedCirculation.oic, WantedCirculation.person_ref)
        .order_by(WantedCirculation.reference)
    ).all()  # fmt: skip
    d = dt.date
    assert got == [
        ("W1", "ipswich", "never_arrested", d(2026, 7, 31), d(2026, 8, 1), None, "open", "PC 1", "P1"),
        ("W2", "bury-st-edmunds", "failed_to_answer_bail", d(2026, 8, 1), None, d(2026, 9, 2), "closed", None, "P2"),
        ("W3", "bury-st-edmunds", "bail_breach", d(2026, 8, 3), None, None, "open", None, None),
        ("W4", "lowestoft", "rui_fresh_evidence", d(2026, 8, 4), None, d(2026, 8, 5), "closed", None, None),
    ]


def test_abbreviations_written_with_dots_and_typographic_apostrophes(session, config, tmp_path) -> None:
    """Values match ignoring punctuation: "F.T.A." is FTA and "N.F.A." NFA (dots were read as word breaks, "f t a"),
    and Excel's autocorrected apostrophe in "King’s Lynn" is the district's own label."""
    wanted = (
        "Reference,Offence,District,Reason,Date Circulated\n"
        "W1,Theft,Ipswich,F.T.A.,01/10/2026\n"
        "W2,Theft,Ipswich,R.U.I. - fresh evidence,01/10/2026\n"
    )
    assert run(session, config, "wanted", write(tmp_path, wanted)).ok
    reasons = session.scalars(select(WantedCirculation.reason).order_by(WantedCirculation.reference)).all()
    assert reasons == ["failed_to_answer_bail", "rui_fresh_evidence"]
    bail = (
        "Reference,Offence,District,Bail Type,Bail Start Date,Bail End Date,Date Ended,Outcome\n"
        "B1,Theft,King\u2019s Lynn,R.U.I.,01/10/2026,,,\n"
        "B2,Theft,King\u2019s Lynn,Bail,01/08/2026,01/11/2026,05/10/2026,N.F.A.\n"
    )
    report = run(session, config, "bail", write(tmp_path, bail, "bail.csv"), force="norfolk")
    assert report.ok, report
    got = session.execute(select(BailPeriod.reference, BailPeriod.district, BailPeriod.kind, BailPeriod.outcome)
                          .order_by(BailPeriod.reference)).all()  # fmt: skip
    assert got == [("B1", "kings-lynn", "rui", None), ("B2", "kings-lynn", "bail", "nfa")]


def test_actions_pillars_statuses_and_owners(session, config, tmp_path) -> None:
    rows = (
        "Action Ref,Strategy Pillar,Action,Owner,Status,Due Date,Source,Notes\n"
        "A-1,Detect Crime & Create Confidence,Review wanted,HH,ONGOING,31/12/2026,HMICFRS,\n"
        "A-2,Create confidence,Circulate suspects,JM & JG,Held,,,\n"
        "A-3,Divert and Deter,Triage,,Completed,,,done\n"
        "A-4,Deliver a Quality Service,Bail checks,AW,open,,,\n"
        "A-5,DEMONSTRATE COMPLIANCE & QUALITY,Audit,DB,cancelled,,,\n"
    )
    report = run(session, config, "actions", write(tmp_path, rows))
    assert report.ok, report
    got = session.execute(
        select(Action.reference, Action.pillar, Action.owner_initials, Action.status, Action.due_on,
               Action.completed_on).order_by(Action.reference)
    ).all()  # fmt: skip
    assert got == [
        ("A-1", "detect", "HH", "ongoing", dt.date(2026, 12, 31), None),
        ("A-2", "detect", "JM & JG", "held", None, None),
        ("A-3", "divert", None, "complete", None, AS_OF),
        ("A-4", "deliver", "AW", "open", None, None),
        ("A-5", "demonstrate", "DB", "cancelled", None, None),
    ]


# ---- date parsing properties ---------------------------------------------------------------------------------

dates = st.dates(min_value=dt.date(1901, 1, 1), max_value=dt.date(2100, 12, 31))


@pytest.mark.parametrize("placeholder", ["01/01/1900", "1900-01-01", "0001-01-01", "31/12/1899"])
def test_a_placeholder_for_no_date_is_refused_not_counted_as_a_century_old_case(
    session, config, tmp_path, placeholder: str
) -> None:
    body = f"Reference,Offence,District,Reason,Date Circulated\nW1,Theft,Ipswich,FTA,{placeholder}\n"
    report = run(session, config, "wanted", write(tmp_path, body))
    assert not report.ok and report.errors[0].column == "circulated_on"
    assert "is a placeholder for no date, not a real one; leave the cell empty if there is none" in (
        report.errors[0].reason
    )


def test_a_bail_end_more_than_ten_years_ahead_is_a_placeholder(session, config, tmp_path) -> None:
    header = "Reference,Offence,District,Kind,Start Date,Bail End Date\n"
    far = run(session, config, "bail", write(tmp_path, header + "B1,Theft,Ipswich,bail,01/10/2026,31/12/9999\n"))
    assert not far.ok and "9999-12-31 is more than 10 years ahead: a placeholder" in far.errors[0].reason
    near = run(session, config, "bail", write(tmp_path, header + "B1,Theft,Ipswich,bail,01/10/2026,01/10/2036\n"))
    assert near.ok, near


@given(dates)
def test_iso_and_uk_dates_parse_back_to_themselves(d: dt.date) -> None:
    for text in (
        d.isoformat(),
        f"{d.day:02d}/{d.month:02d}/{d.year}",
        f"{d.day}/{d.month}/{d.year}",
        f"{d.day:02d}-{d.month:02d}-{d.year}",
        f"{d.day:02d}.{d.month:02d}.{d.year}",
        f" {d.day}/{d.month:02d}/{d.year} ",
        f"{d.isoformat()} 00:00:00",
        f"{d.day:02d}/{d.month:02d}/{d.year} 00:00:00",
        f"{d.day:02d}/{d.month:02d}/{d.year} 00:00",
        f"{d.day}/{d.month}/{d.year} 14:32:07",
        f"{d.day:02d}-{d.month:02d}-{d.year} 23:59:59.123",
    ):
        assert parse_date(text) == d, text
    assert parse_date(dt.datetime.combine(d, dt.time(13, 5))) == d


@given(dates)
def test_us_order_never_silently_swaps(d: dt.date) -> None:
    us = f"{d.month:02d}/{d.day:02d}/{d.year}"
    if d.day > 12:
        with pytest.raises(Bad, match="never month first"):
            parse_date(us)
    else:
        # Ambiguous strings are always read day first, as everywhere else in a UK export.
        assert parse_date(us) == dt.date(d.year, d.day, d.month)


# ---- the compiled fast path agrees with the full validator ---------------------------------------------------

cell = st.one_of(
    st.sampled_from(["", " ", "W1", "W2", "P1", "Theft", "ipswich", "South", "Atlantis", "norwich", "FTA",
                     "never_arrested", "bored", "open", "closed", "Live", "arrested", "bail", "rui", "RUI",
                     "charged", "nfa", "2026-01-05", "2026-02-30", "05/01/2026", "2026-10-31", "2026-11-01",
                     "2025-12-31", "x" * 70, "suffolk", "norfolk", "essex", "1949-12-31", "2040-01-01",
                     "W\\3", "Theft\tx", "a\nb", "1\r2", "31/10/2026", "01/11/2026", "1/10/2026", "05.01.2026",
                     " 05/01/2026", "30/02/2026", "31/12/2035", "05-01-2026", "2026-01-05 10:30"]),
    # What an XLSX reader yields besides text: numbers (a 0 among them), dates and date-times.
    st.sampled_from([0, 0.0, 1001, 1.5, dt.date(2026, 1, 5), dt.datetime(2026, 1, 5, 9, 30), dt.date(2027, 1, 1)]),
    st.text(max_size=12),
)  # fmt: skip


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    dataset=st.sampled_from(["wanted", "suspects", "bail"]),
    rows=st.lists(st.lists(cell, max_size=13), max_size=8),
    table_shape=st.booleans(),
    copy=st.booleans(),
)
def test_fast_path_agrees_with_the_full_validator(
    config, dataset: str, rows: list[list[str]], table_shape: bool, copy: bool
) -> None:
    """Every output shape of the import's row stream (staging or table tuple, tuple or COPY line) is exactly the
    full validator's rows, reshaped; the errors recorded are the full validator's; the per-force counts are right."""
    header = [c.name for c in SCHEMAS[dataset]] + ["force"]
    slow_errors, fast_errors = ErrorSink(), ErrorSink()
    slow = RowValidator(dataset, header, config, None, AS_OF, slow_errors)
    both = RowValidator(dataset, header, config, None, AS_OF, fast_errors)
    batch_ids = {"suffolk": 11, "norfolk": 12} if table_shape else None
    counts: Counter[str] = Counter()
    tally = FlowTally()
    expected_keys: Counter[str] = Counter()
    expected_counts: Counter[str] = Counter()
    expected_rows: list[object] = []
    names = ["row_no", "force", *staging_columns(dataset)]
    numbered = list(enumerate(rows * 2))  # twice: the second pass hits the memos the first one filled
    for i, cells in numbered:
        expected = slow(i, cells)
        if expected is None:
            continue
        expected_counts[expected[1]] += 1
        r = dict(zip(names, expected, strict=True))
        series = r["kind"] if dataset == "bail" else dataset
        reason = r["reason"] if dataset == "wanted" else ""
        opened, closed = r[OPENED[dataset]], r[CLOSED[dataset]]
        expected_keys[flow_key(r["force"], series, opened, closed, r["district"], reason, r["offence"])] += 1
        if batch_ids is not None:
            expected = (*expected[1:], batch_ids[expected[1]])
        expected_rows.append(copy_line(expected) if copy else expected)
    checked = checked_rows(both, numbered, copy=copy, batch_ids=batch_ids, counts=counts, tally=tally)
    assert list(checked.rows) == expected_rows
    assert checked.seen == len(numbered)
    assert fast_errors.errors == slow_errors.errors
    assert counts == expected_counts
    assert Counter(tally.pending) == expected_keys


def test_copy_line_escapes_what_copy_text_format_would_misread() -> None:
    assert copy_line((1, None, "a\\b", "t\tab", "two\nlines\r")) == "1\t\\N\ta\\\\b\tt\\tab\ttwo\\nlines\\r"


# ---- the tables and their documentation ------------------------------------------------------------------------


def test_alias_and_vocabulary_tables_are_unambiguous() -> None:
    """No alias names two columns of one dataset or would be refused as personal data; no spelling names two
    values of one vocabulary."""
    for dataset, cols in SCHEMAS.items():
        seen: dict[str, str] = {}
        for col in (*cols, FORCE):
            for alias in (col.name, *ALIASES.get(col.name, ())):
                k = header_key(alias)
                assert seen.setdefault(k, col.name) == col.name, f"{dataset}: {alias!r} names {seen[k]} and {col.name}"
                assert personal_header_reason(alias) is None, f"{dataset}: alias {alias!r} would be refused"
    for vocab, values in VOCABULARIES.items():
        meaning: dict[str, str] = {}
        for canonical, spellings in values.items():
            for s in (canonical, *spellings):
                k = value_key(s)
                assert meaning.setdefault(k, canonical) == canonical, (
                    f"{vocab}: {s!r} means {meaning[k]} and {canonical}"
                )
    assert header_map("wanted")["datecirculated"] == "circulated_on"
    assert header_map("bail")["currentbailend"] == "bail_end_on"
    assert header_map("bail")["enddate"] == "ended_on"


def test_docs_render_the_tables_from_the_code() -> None:
    doc = (REPO_ROOT / "docs" / "importing.md").read_text(encoding="utf-8")
    begin, end = "<!-- BEGIN GENERATED: python -m bot.importing.columns -->\n", "<!-- END GENERATED -->"
    assert begin in doc and end in doc
    assert doc.split(begin, 1)[1].split(end, 1)[0] == markdown_tables()
