"""Row streams over an export file (CSV UTF-8 or XLSX), one row at a time so memory stays flat — and, before
anything is parsed, the refusal of files built to exhaust the machine.

A small file can be made to unpack to gigabytes (a zip bomb, a 1 GiB cell, millions of shared strings, a billion
empty rows named by one row number) or to parse without end (XML entity expansion). So every file is held to
limits that no real export comes near, each checked as cheaply as possible and before the expensive step:

- XLSX: the zip's parts are listed and their *declared* sizes and compression ratios checked; then every part is
  decompressed as a stream (nothing kept) to check its *actual* size against what it declared, the integrity of
  its data, and — in its XML — that no run of text or tag is longer than a cell may be and that no document type
  declaration (the vehicle of entity expansion) is present. Only then does openpyxl parse it, with ``defusedxml``
  (which refuses entity declarations and external references whatever slipped past the scan), and the row
  stream stops at the row, column and cell limits.
- CSV: the bytes are read through a counter that refuses a physical line longer than :data:`MAX_LINE_BYTES`
  before it is assembled; the csv module refuses a field longer than its limit; the row, column and cell limits
  apply as for XLSX.

Every refusal is a :class:`FileRefused` naming the file, what was wrong and what to do.
"""

from __future__ import annotations

import csv
import hashlib
import io
import threading
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import ParseError

# A cell as a reader yields it: text from CSV; text, numbers, dates or datetimes from XLSX; None when empty.
Cell = Any

CSV_UTF8_HINT = 'save it from Excel as "CSV UTF-8 (Comma delimited)" or as .xlsx and import that'
BIG_EXPORT_HINT = "split the export, or save it as CSV UTF-8"

# Limits on any file. Excel's own: a worksheet has at most 1,048,576 rows and 16,384 columns, so an export that
# Excel can open is always inside them.
MAX_ROWS = 1_048_576  # spreadsheet row numbers, the header's included
MAX_COLUMNS = 16_384  # cells in one row
MAX_CELLS = 50_000_000  # cells in the whole sheet (a million rows of 50 columns)
MAX_CELL_CHARS = csv.field_size_limit()  # 131,072: the csv module's own limit; the widest column kept is 100,000
MAX_LINE_BYTES = 4 << 20  # one physical line of a CSV file: a row with both 100,000-character notes fits 5 times

# Limits on an XLSX workbook (a zip of XML parts), checked before it is parsed.
MAX_PARTS = 10_000
MAX_UNPACKED_BYTES = 1 << 30  # all parts together, uncompressed
MAX_SHARED_STRINGS_BYTES = 128 << 20  # openpyxl holds every shared string in memory at once
MAX_RATIO = 100  # uncompressed / compressed size of one part, once it is past RATIO_GRACE_BYTES
RATIO_GRACE_BYTES = 1 << 20
# No aligned window of this many bytes of a part's XML may lack a '<': so a cell's text (at most MAX_CELL_CHARS
# characters of up to 4 bytes in UTF-8) always passes, and any run of text or one tag of twice this is refused.
XML_WINDOW_BYTES = 4 * MAX_CELL_CHARS + 8192
_XML_PARTS = (".xml", ".rels", ".vml")
_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")
_SHARED_STRINGS = "sharedstrings.xml"

# What openpyxl (and the zip and XML layers under it) raise for a workbook it cannot read.
_XLSX_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    KeyError,
    IndexError,
    OSError,
    ValueError,  # defusedxml's refusals (EntitiesForbidden, DTDForbidden, ExternalReferenceForbidden) among them
    TypeError,
    AttributeError,
    ParseError,
    NotImplementedError,
    RuntimeError,
)


class FileRefused(Exception):
    """The whole file cannot be imported; the message says why and what to do."""


class Table:
    """A header and a stream of (spreadsheet row number, cells); the header is row ``header_row``.

    ``other_headers`` are the header rows of a workbook's other worksheets, by sheet name: never imported, but
    checked for names and dates of birth all the same."""

    def __init__(
        self,
        header: list[str],
        rows: Iterator[tuple[int, Sequence[Cell]]],
        header_row: int,
        other_headers: Sequence[tuple[str, list[str]]] = (),
    ) -> None:
        self.header = header
        self.rows = rows
        self.header_row = header_row
        self.other_headers = other_headers


def _sniff(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(8)
    except OSError as e:
        raise FileRefused(f"cannot read {path.name}: {e.strerror or e}") from None


@contextmanager
def open_table(path: Path, *, max_csv_rows: int = MAX_ROWS) -> Iterator[Table]:
    """Open ``path`` as CSV or XLSX (by content, not by name) and yield its :class:`Table`. A CSV file may have up
    to ``max_csv_rows`` rows (``import_max_csv_rows`` in the config; cells in proportion); a workbook Excel's.

    Raises :class:`FileRefused` for an unreadable file, a legacy .xls, a non-UTF-8 CSV, a file with no header
    row, or a file past one of the limits above. A problem further down (a non-UTF-8 byte, a corrupt part, a
    limit reached) raises FileRefused while iterating ``rows``.
    """
    head = _sniff(path)
    if head.startswith(b"PK\x03\x04"):
        check_workbook(path)
        with _open_xlsx(path) as table:
            yield table
    elif head.startswith(b"\xd0\xcf\x11\xe0"):
        if _is_encrypted_package(path):
            raise FileRefused(
                f"{path.name} is a password-protected workbook; save it without a password and import that"
            )
        raise FileRefused(f"{path.name} is an old-style Excel .xls workbook; {CSV_UTF8_HINT}")
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileRefused(f"{path.name} is saved as UTF-16 text, not UTF-8; {CSV_UTF8_HINT}")
    else:
        with _LineLimit.open(path) as raw:
            yield _csv_table(raw, path, max_csv_rows)


# The stream a password-protected .xlsx keeps its workbook in, inside a compound file like an old .xls (MS-OFFCRYPTO
# 2.3.4.4), named in the compound file's directory in UTF-16.
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


def _is_encrypted_package(path: Path) -> bool:
    """Whether a compound file holds an encrypted Office package (a password-protected workbook), not an .xls."""
    tail = b""
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            if _ENCRYPTED_PACKAGE in tail + block:
                return True
            tail = block[-len(_ENCRYPTED_PACKAGE) :]
    return False


# Blocks the hash reads: big, because on a thread beside other work (HashStarted) every block is a hand-over of the
# GIL, which can wait out the interpreter's 5 ms switch interval. With 1 MiB blocks the hash of a 10M-row file ran
# mostly after the command's module imports rather than beside them (0.51 s + 0.61 s, against 0.48 s + 0.40 s with
# 8 MiB; alone 0.67 s either way, and slower from 32 MiB, past the caches). The line lengths are still followed in
# 1 MiB windows (_LineLengths needs windows shorter than the line limit).
HASH_BLOCK = 8 << 20
SCAN_WINDOW = 1 << 20


def file_sha256(path: Path) -> str:
    """The SHA-256 of the file's bytes (recorded on its import batches), read in :data:`HASH_BLOCK` blocks. A file
    that will be read as CSV is held to the line limit on the way: a gigabyte without a line break is refused after
    its first block rather than hashed whole and then refused."""
    h = hashlib.sha256()
    lines = _LineLengths(path)
    buf = bytearray(HASH_BLOCK)
    view = memoryview(buf)
    text: bool | None = None
    try:
        with path.open("rb", buffering=0) as f:
            while n := f.readinto(buf):
                if text is None:
                    # Workbooks, old .xls files and UTF-16 text are refused or checked otherwise.
                    text = not bytes(buf[:4]).startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\xff\xfe", b"\xfe\xff"))
                if text:
                    for start in range(0, n, SCAN_WINDOW):
                        lines.scan(buf, start, min(start + SCAN_WINDOW, n))
                h.update(view[:n])
    except OSError as e:
        raise FileRefused(f"cannot read {path.name}: {e.strerror or e}") from None
    finally:
        view.release()
    return h.hexdigest()


@dataclass(frozen=True)
class HashStarted:
    """:func:`file_sha256` of ``path``, started on a thread of its own before the caller needed it: hashlib
    releases the GIL on each block, so the hash runs beside whatever the caller does meanwhile (``mo-bot`` loading
    its modules). ``future`` gives the hash, or raises what :func:`file_sha256` would."""

    path: Path
    future: Future[str]

    @classmethod
    def start(cls, path: Path) -> HashStarted:
        future: Future[str] = Future()

        def run() -> None:
            try:
                future.set_result(file_sha256(path))
            except BaseException as e:  # handed to whoever asks for the result, as file_sha256 would raise it
                future.set_exception(e)

        threading.Thread(target=run, name="file-sha256", daemon=True).start()
        return cls(path, future)

    def of(self, path: Path) -> Future[str] | None:
        """The hash being computed, if ``path`` is the file it is of."""
        try:
            return self.future if self.path.resolve() == Path(path).resolve() else None
        except OSError:
            return None


# -- limits shared by both formats ------------------------------------------------------------------------------
class _Counter:
    """Counts the rows and cells a table yields and refuses the file past the limits (the callers test the
    limits inline, row by row, and call :meth:`refuse` only when one is passed). ``max_rows``: Excel's, or a CSV's
    configured limit (cells in proportion)."""

    def __init__(self, name: str, max_rows: int = MAX_ROWS) -> None:
        self.name = name
        self.cells = 0
        self.rows = 0  # rows counted so far, over every sheet this counter has seen
        self.max_rows = max_rows
        self.max_cells = MAX_CELLS * max_rows // MAX_ROWS

    def row(self, n: int, width: int) -> None:
        self.cells += width
        self.rows += 1
        n = max(n, self.rows)
        if n > self.max_rows or width > MAX_COLUMNS or self.cells > self.max_cells:
            self.refuse(n, width, self.cells)

    def refuse(self, n: int, width: int, cells: int) -> None:
        if n > self.max_rows:
            why = "a worksheet's limit in Excel" if self.max_rows == MAX_ROWS else "the configured import_max_csv_rows"
            raise FileRefused(f"{self.name} has more than {self.max_rows:,} rows ({why}); {BIG_EXPORT_HINT}")
        if width > MAX_COLUMNS:
            raise FileRefused(
                f"{self.name}: row {n} has {width:,} cells, more than {MAX_COLUMNS:,} (a worksheet's limit in Excel)"
            )
        raise FileRefused(f"{self.name} has more than {self.max_cells:,} cells; {BIG_EXPORT_HINT}")


# -- CSV ------------------------------------------------------------------------------------------------------------
class _LineLengths:
    """Follows the line lengths through a file's bytes, block by block, and refuses a physical line longer than
    MAX_LINE_BYTES as soon as it is seen: two byte searches per block. Lines are not counted on the way (a count
    of every line break costs as much as hashing the file); the refusal counts them up to the long line, once."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._run = 0  # bytes since the last line break
        self._seen = 0  # bytes scanned before this block
        self._line_start = 0  # where the line being followed starts in the file

    def scan(self, data: bytes | bytearray, start: int = 0, end: int | None = None) -> None:
        """The next bytes of the file, ``data[start:end]``; lines wholly inside one window must be shorter than the
        limit (windows of at most 1 MiB make sure of it)."""
        end = len(data) if end is None else end
        first = data.find(b"\n", start, end)
        if first < 0:
            self._run += end - start
        else:
            self._check(self._run + first - start)
            last = data.rfind(b"\n", start, end)
            self._line_start = self._seen + last - start + 1
            self._run = end - last - 1
        self._seen += end - start
        self._check(self._run)

    def _check(self, run: int) -> None:
        if run > MAX_LINE_BYTES:
            raise FileRefused(
                f"{self._path.name}: line {self._line_number()} is longer than {MAX_LINE_BYTES >> 20} MB, which no "
                "export row is: nothing was imported"
            )

    def _line_number(self) -> int:
        breaks, left = 0, self._line_start
        with self._path.open("rb") as f:
            while left > 0:
                block = f.read(min(left, 1 << 20))
                if not block:
                    break
                breaks += block.count(b"\n")
                left -= len(block)
        return breaks + 1


class _LineLimit(io.RawIOBase):
    """The file's bytes through :class:`_LineLengths`: the text layer above would otherwise assemble a line in
    memory, however long, before the csv module saw it."""

    _CHUNK = 1 << 20

    def __init__(self, f: IO[bytes], path: Path) -> None:
        self._f = f
        self._lengths = _LineLengths(path)

    @classmethod
    @contextmanager
    def open(cls, path: Path) -> Iterator[IO[bytes]]:
        try:
            f = path.open("rb", buffering=0)
        except OSError as e:
            raise FileRefused(f"cannot read {path.name}: {e.strerror or e}") from None
        with io.BufferedReader(cls(f, path), buffer_size=cls._CHUNK) as buffered:
            yield buffered

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self._f.read(min(len(b), self._CHUNK))
        self._lengths.scan(data)
        b[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._f.close()
        super().close()


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
            if len(line) > MAX_LINE_BYTES:
                raise FileRefused(f"{name}: the header row is longer than {MAX_LINE_BYTES >> 20} MB")
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
            raise FileRefused(f"{name}: the header row is not readable CSV ({_csv_problem(e)})") from None
        if any(h.strip() for h in header):
            _Counter(name).row(header_row, len(header))
            return [h.strip() for h in header], header_row


def _csv_problem(e: csv.Error) -> str:
    text = str(e)
    if "field larger than field limit" in text:
        return f"a cell longer than {MAX_CELL_CHARS:,} characters"
    if "new-line character seen in unquoted field" in text:
        # Lines ended by a carriage return alone: Excel for Mac's "CSV (Macintosh)".
        return 'its lines end in carriage returns alone (Excel\'s "CSV (Macintosh)"); save it as "CSV UTF-8"'
    return text


def _undecodable_row(path: Path) -> int | None:
    """The row (as the reader numbers them: a quoted cell's line breaks stay in its row) holding the first bytes
    that are not UTF-8, read line by line from the file; None if every line decodes."""
    row = 0
    with path.open("rb") as f:
        while line := f.readline():
            row += 1
            while line.count(b'"') % 2 == 1 and (more := f.readline()):
                line += more
            try:
                line.decode("utf-8-sig" if row == 1 else "utf-8")
            except UnicodeDecodeError:
                return row
    return None


def _csv_table(raw: IO[bytes], path: Path, max_rows: int = MAX_ROWS) -> Table:
    name = path.name
    header, header_row = _csv_header(raw, name)
    reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
    limits = _Counter(name, max_rows)
    max_cells = MAX_CELLS * max_rows // MAX_ROWS

    def rows() -> Iterator[tuple[int, Sequence[Cell]]]:
        n = header_row
        cells = 0
        try:
            for row in reader:
                n += 1
                width = len(row)
                cells += width
                if n > max_rows or width > MAX_COLUMNS or cells > max_cells:
                    limits.refuse(n, width, cells)
                # Blank lines keep their number (as a spreadsheet shows them) but carry nothing to import.
                if row and (row[0] or any(row)):
                    yield n, row
        except UnicodeDecodeError:
            # The text layer decodes ahead of the rows read, so the row is found again from the file's bytes.
            at = _undecodable_row(path)
            where = f"row {at}" if at is not None else f"near row {n + 1}"
            raise FileRefused(f"{name} is not UTF-8 text ({where}); {CSV_UTF8_HINT}") from None
        except csv.Error as e:
            raise FileRefused(f"{name}: row {n + 1} is not readable CSV ({_csv_problem(e)})") from None

    return Table(header, rows(), header_row)


# -- XLSX -----------------------------------------------------------------------------------------------------------
def _mb(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MB" if n >= 1 << 20 else f"{n:,} bytes"


def check_workbook(path: Path) -> None:
    """Refuse an XLSX file that would cost more to open than any real export (see the module's docstring).

    Reads the whole zip once, decompressing each part as a stream in windows of :data:`XML_WINDOW_BYTES`, so it
    needs that much memory at most, and stops at the first limit passed."""
    name = path.name
    try:
        with zipfile.ZipFile(path) as z:
            parts = z.infolist()
            if len(parts) > MAX_PARTS:
                raise FileRefused(f"{name} holds {len(parts):,} parts; a workbook has a few dozen at most")
            declared = 0
            for info in parts:
                _check_declared(name, info)
                declared += info.file_size
            if declared > MAX_UNPACKED_BYTES:
                raise FileRefused(
                    f"{name} would unpack to {_mb(declared)}, more than the {_mb(MAX_UNPACKED_BYTES)} a workbook "
                    f"may; {BIG_EXPORT_HINT}"
                )
            for info in parts:
                _check_part(name, z, info)
    except FileRefused:
        raise
    except _XLSX_ERRORS as e:
        raise FileRefused(f"{name} is not a readable .xlsx workbook ({_why(e)}); {CSV_UTF8_HINT}") from None


def _check_declared(name: str, info: zipfile.ZipInfo) -> None:
    part = info.filename
    if info.flag_bits & 0x1:
        raise FileRefused(f"{name} is encrypted ({part}); save it without a password")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        # Excel only ever deflates; bzip2 and LZMA would also decompress without an output bound per read.
        raise FileRefused(f"{name}: part {part} uses a compression Excel never writes; {CSV_UTF8_HINT}")
    if info.file_size > RATIO_GRACE_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise FileRefused(
            f"{name}: part {part} would unpack from {_mb(info.compress_size)} to {_mb(info.file_size)}, more than "
            f"{MAX_RATIO} times its size, which no real workbook does: refused as a zip bomb"
        )
    if part.lower().endswith(_SHARED_STRINGS) and info.file_size > MAX_SHARED_STRINGS_BYTES:
        raise FileRefused(
            f"{name}: its shared strings would unpack to {_mb(info.file_size)}, more than "
            f"{_mb(MAX_SHARED_STRINGS_BYTES)}; {BIG_EXPORT_HINT}"
        )


def _check_part(name: str, z: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Decompress one part as a stream: its actual size (zipfile stops at the declared size and checks the CRC,
    so longer data is refused as corrupt), the ratio as it goes, and in XML the text runs and no DTD."""
    part = info.filename
    xml = part.lower().endswith(_XML_PARTS)
    total = 0
    tail = b""
    # zipfile never returns more than the declared size (a part holding more fails its CRC check, as corrupt), so
    # the declared sizes checked before bound what is read here.
    with z.open(info) as f:
        while chunk := f.read(XML_WINDOW_BYTES):
            total += len(chunk)
            if not xml:
                continue
            if len(chunk) == XML_WINDOW_BYTES and chunk.find(b"<") < 0:
                raise FileRefused(
                    f"{name}: part {part} holds a cell or tag of over {_mb(XML_WINDOW_BYTES)}; a cell holds at "
                    f"most {MAX_CELL_CHARS:,} characters: refused"
                )
            seam = tail + chunk[:16]
            if any(chunk.find(marker) >= 0 or seam.find(marker) >= 0 for marker in _DTD_MARKERS):
                raise FileRefused(
                    f"{name}: part {part} declares an XML document type or entities, which no Excel workbook "
                    "does (entity expansion can make a small file unpack without end): refused"
                )
            tail = chunk[-16:]
    if total != info.file_size:
        raise FileRefused(f"{name}: part {part} holds {total:,} bytes but declares {info.file_size:,}: corrupt")


def _why(e: BaseException) -> str:
    """What went wrong, in a line: defusedxml's refusal by name wherever openpyxl wrapped it."""
    cause: BaseException | None = e
    while cause is not None:
        if type(cause).__module__.startswith("defusedxml"):
            return (
                f"{type(cause).__name__}: it declares XML entities or a document type, which no Excel workbook does "
                "(entity expansion can make a small file unpack without end), refused by defusedxml"
            )
        cause = cause.__cause__ or cause.__context__
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _guarded(name: str, rows: Iterator[Any]) -> Generator[Any, None, None]:
    """openpyxl's row stream, with what its parser raises for a broken or hostile part as a refusal."""
    try:
        yield from rows
    except _XLSX_ERRORS as e:
        raise FileRefused(f"{name} is not a readable .xlsx workbook ({_why(e)}); {CSV_UTF8_HINT}") from None


def _header_of(ws: Any, name: str, limits: _Counter) -> tuple[list[str], int, Generator[Any, None, None]] | None:
    """The first non-empty row of a worksheet (its number) and the row stream after it; None for an empty one.
    ``limits`` counts the rows read, over every sheet it is given: many sheets each with its header far down
    cannot add up to more than one sheet's worth of rows."""
    # Some writers store a wrong sheet dimension; without a reset, read-only mode would stop early.
    reset: Callable[[], None] | None = getattr(ws, "reset_dimensions", None)
    if reset is not None:
        reset()
    # max_row bounds the empty rows openpyxl makes up for the row numbers a sheet skips (one row numbered a
    # billion would otherwise be a billion empty rows); one past the limit so that passing it is seen.
    it = _guarded(name, ws.iter_rows(values_only=True, max_row=MAX_ROWS + 1))
    for n, header in enumerate(it, start=1):
        limits.row(n, len(header))
        if header.count(None) + header.count("") < len(header) and any(
            c is not None and str(c).strip() for c in header
        ):
            return ["" if h is None else str(h).strip() for h in header], n, it
    return None


@contextmanager
def _open_xlsx(path: Path) -> Iterator[Table]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    if not openpyxl.DEFUSEDXML:
        # openpyxl parses with defusedxml only when it is installed and OPENPYXL_DEFUSEDXML is not "False".
        raise FileRefused(
            f"{path.name}: workbooks are read only with defusedxml's protection, which is not active here "
            "(is OPENPYXL_DEFUSEDXML set to False?); import the export as CSV UTF-8"
        )
    name = path.name
    # From an open file, not the path: openpyxl refuses a path not named .xlsx (an export saved as "wanted.csv" from
    # a system that writes workbooks), and the file's type is known from its content already.
    fh = path.open("rb")
    try:
        wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
    except (InvalidFileException, *_XLSX_ERRORS) as e:
        fh.close()
        raise FileRefused(f"{name} is not a readable .xlsx workbook ({_why(e)}); {CSV_UTF8_HINT}") from None
    except BaseException:
        fh.close()
        raise
    try:
        if not wb.worksheets:
            raise FileRefused(f"{name} has no worksheet")
        try:
            first = _header_of(wb.worksheets[0], name, _Counter(name))
            if first is None:
                raise FileRefused(f"{name} is empty: expected a header row and at least one data row")
            # The other sheets are never imported, but a names or dates-of-birth column on any of them refuses
            # the file all the same: the whole file is what the analyst is handing over.
            others = []
            searched = _Counter(f"{name} (its other sheets, before their headers)")
            for ws in wb.worksheets[1:]:
                found = _header_of(ws, f"{name} (sheet {ws.title!r})", searched)
                if found is not None:
                    others.append((str(ws.title), found[0]))
                    found[2].close()
        except _XLSX_ERRORS as e:
            raise FileRefused(f"{name} is not a readable .xlsx workbook ({_why(e)}); {CSV_UTF8_HINT}") from None
        header, header_row, it = first
        limits = _Counter(name)

        def rows() -> Iterator[tuple[int, Sequence[Cell]]]:
            n = header_row
            cells = 0
            for row in it:
                n += 1
                width = len(row)
                cells += width
                if n > MAX_ROWS or width > MAX_COLUMNS or cells > MAX_CELLS:
                    limits.refuse(n, width, cells)
                # Empty cells counted in C: a sheet may name a row far down and have openpyxl make up every
                # empty row before it, up to the limit.
                if row.count(None) + row.count("") < width:
                    yield n, row

        yield Table(header, rows(), header_row, others)
    finally:
        wb.close()
        fh.close()
