"""Row streams over an export file (CSV UTF-8 or XLSX), one row at a time so memory stays flat."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

# A cell as a reader yields it: text from CSV; text, numbers, dates or datetimes from XLSX; None when empty.
Cell = Any

CSV_UTF8_HINT = 'save it from Excel as "CSV UTF-8 (Comma delimited)" or as .xlsx and import that'


class FileRefused(Exception):
    """The whole file cannot be imported; the message says why and what to do."""


class Table:
    """A header and a stream of (spreadsheet row number, cells); the header is row ``header_row``."""

    def __init__(self, header: list[str], rows: Iterator[tuple[int, Sequence[Cell]]], header_row: int) -> None:
        self.header = header
        self.rows = rows
        self.header_row = header_row


def _sniff(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(8)
    except OSError as e:
        raise FileRefused(f"cannot read {path.name}: {e.strerror or e}") from None


@contextmanager
def open_table(path: Path) -> Iterator[Table]:
    """Open ``path`` as CSV or XLSX (by content, not by name) and yield its :class:`Table`.

    Raises :class:`FileRefused` for an unreadable file, a legacy .xls, a non-UTF-8 CSV, or a file with no
    header row. A non-UTF-8 byte further down a CSV raises FileRefused while iterating ``rows``.
    """
    head = _sniff(path)
    if head.startswith(b"PK\x03\x04"):
        with _open_xlsx(path) as table:
            yield table
    elif head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused(f"{path.name} is an old-style Excel .xls workbook; {CSV_UTF8_HINT}")
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileRefused(f"{path.name} is saved as UTF-16 text, not UTF-8; {CSV_UTF8_HINT}")
    else:
        with path.open("rb") as raw:
            yield _csv_table(raw, path.name)


def _csv_header(raw: IO[bytes], name: str) -> tuple[list[str], int]:
    """Read the header record from the raw bytes alone, so that a header naming a refused column is refused
    even when the data rows below it are unreadable (they are never decoded)."""
    header_row = 0
    while True:
        line = raw.readline()
        if not line:
            raise FileRefused(f"{name} is empty: expected a header row and at least one data row")
        header_row += 1
        while line.count(b'"') % 2 == 1:  # a quoted header cell spanning lines
            more = raw.readline()
            if not more:
                break
            line += more
            header_row += 1
        try:
            text = line.decode("utf-8-sig" if header_row == 1 else "utf-8")
        except UnicodeDecodeError:
            raise FileRefused(f"{name} is not UTF-8 text; {CSV_UTF8_HINT}") from None
        try:
            header = next(csv.reader(io.StringIO(text)), [])
        except csv.Error as e:
            raise FileRefused(f"{name}: the header row is not readable CSV ({e})") from None
        if any(h.strip() for h in header):
            return [h.strip() for h in header], header_row


def _csv_table(raw: IO[bytes], name: str) -> Table:
    header, header_row = _csv_header(raw, name)
    reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))

    def rows() -> Iterator[tuple[int, Sequence[Cell]]]:
        n = header_row
        try:
            for row in reader:
                n += 1
                # Blank lines keep their number (as a spreadsheet shows them) but carry nothing to import.
                if row and (row[0] or any(row)):
                    yield n, row
        except UnicodeDecodeError:
            raise FileRefused(f"{name} is not UTF-8 text (near row {n + 1}); {CSV_UTF8_HINT}") from None
        except csv.Error as e:
            raise FileRefused(f"{name}: row {n + 1} is not readable CSV ({e})") from None

    return Table(header, rows(), header_row)


@contextmanager
def _open_xlsx(path: Path) -> Iterator[Table]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as e:
        raise FileRefused(f"{path.name} is not a readable .xlsx workbook ({e}); {CSV_UTF8_HINT}") from None
    try:
        if not wb.worksheets:
            raise FileRefused(f"{path.name} has no worksheet")
        ws = wb.worksheets[0]
        # Some writers store a wrong sheet dimension; without a reset, read-only mode would stop early.
        reset = getattr(ws, "reset_dimensions", None)
        if reset is not None:
            reset()
        it = ws.iter_rows(values_only=True)
        header_row = 0
        for header in it:
            header_row += 1
            if any(c is not None and str(c).strip() for c in header):
                break
        else:
            raise FileRefused(f"{path.name} is empty: expected a header row and at least one data row")

        def rows() -> Iterator[tuple[int, Sequence[Cell]]]:
            n = header_row
            for row in it:
                n += 1
                if any(c is not None and c != "" for c in row):
                    yield n, row

        yield Table(["" if h is None else str(h).strip() for h in header], rows(), header_row)
    finally:
        wb.close()
