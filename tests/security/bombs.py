"""Hostile XLSX files built small and fast inside the tests: a zip written by hand, so that a part may unpack to a
gigabyte from a megabyte (each repeated stretch is deflated once and its compressed bytes repeated: a full flush
ends every stretch byte-aligned with no reference back, so the copies concatenate into one valid deflate stream),
declare a size it does not hold, or carry a corrupt stream."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl

# Repeated stretches: (bytes, how many times).
Segments = list[tuple[bytes, int]]

WANTED_HEADER = ["reference", "offence", "district", "reason", "circulated_on", "status"]
WANTED_ROW = ["W-1", "Burglary", "ipswich", "never_arrested", "2026-01-05", "open"]
SHEET = "xl/worksheets/sheet1.xml"
SHARED_STRINGS = "xl/sharedStrings.xml"
SHEET_OPEN = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_CLOSE = b"</sheetData></worksheet>"


@dataclass
class Part:
    name: str
    segments: Segments
    method: int = zipfile.ZIP_DEFLATED
    declared_size: int | None = None  # what the headers say; None: the truth
    corrupt_at: int | None = None  # flip the compressed bytes from here (an offset into the compressed data)
    _cache: dict[bytes, bytes] = field(default_factory=dict, repr=False)

    def size(self) -> int:
        return sum(len(b) * n for b, n in self.segments)

    def crc(self) -> int:
        crc = 0
        for b, n in self.segments:
            for _ in range(n):
                crc = zlib.crc32(b, crc)
        return crc

    def compressed(self) -> bytes:
        if self.method == zipfile.ZIP_STORED:
            return b"".join(b * n for b, n in self.segments)
        if self.method == zipfile.ZIP_BZIP2:
            import bz2

            return bz2.compress(b"".join(b * n for b, n in self.segments))
        out = []
        for b, n in self.segments:
            if b not in self._cache:
                c = zlib.compressobj(9, zlib.DEFLATED, -15)
                self._cache[b] = c.compress(b) + c.flush(zlib.Z_FULL_FLUSH)
            out.append(self._cache[b] * n)
        out.append(zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH))  # the final, empty block
        data = b"".join(out)
        if self.corrupt_at is not None:
            at = self.corrupt_at
            data = data[:at] + bytes(x ^ 0x5A for x in data[at : at + 64]) + data[at + 64 :]
        return data


def write_zip(path: Path, parts: list[Part]) -> Path:
    """A zip of ``parts`` (no zip64: every size stays under 4 GiB)."""
    central = []
    with path.open("wb") as f:
        for p in parts:
            name = p.name.encode()
            data = p.compressed()
            size = p.size() if p.declared_size is None else p.declared_size
            crc = p.crc()
            offset = f.tell()
            f.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, p.method, 0, 0x21, crc, len(data), size,
                                len(name), 0))  # fmt: skip
            f.write(name)
            f.write(data)
            central.append(
                struct.pack(
                    "<IHHHHHHIIIHHHHHII",
                    0x02014B50,
                    20,
                    20,
                    0,
                    p.method,
                    0,
                    0x21,
                    crc,
                    len(data),
                    size,
                    len(name),
                    0,
                    0,
                    0,
                    0,
                    0,
                    offset,
                )
                + name
            )
        start = f.tell()
        for c in central:
            f.write(c)
        f.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), f.tell() - start, start, 0))
    return path


def workbook_parts(rows: list[list[object]] | None = None, *, extra_sheets: dict[str, list[list[object]]] | None = None,
                   ) -> dict[str, bytes]:  # fmt: skip
    """The parts of a real workbook written by openpyxl: the wanted header and one good row, by default."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows if rows is not None else [WANTED_HEADER, WANTED_ROW]:
        ws.append(row)
    for title, sheet_rows in (extra_sheets or {}).items():
        other = wb.create_sheet(title)
        for row in sheet_rows:
            other.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def xlsx(
    path: Path,
    replace: dict[str, Segments] | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    parts: dict[str, bytes] | None = None,
) -> Path:
    """A real workbook (``parts``, by default :func:`workbook_parts`) whose parts named in ``replace`` are
    swapped for the given stretches (added if new); ``options`` set a part's method, declared size or corruption."""
    contents = parts if parts is not None else workbook_parts()
    replace = replace or {}
    options = options or {}
    names = [*contents, *[n for n in replace if n not in contents]]
    return write_zip(path, [Part(n, replace.get(n) or [(contents[n], 1)], **options.get(n, {})) for n in names])


def sheet(rows: Segments, *, prefix: bytes = b"", suffix: bytes = b"") -> Segments:
    """A worksheet part: its opening, ``rows`` (repeated stretches of <row> elements), its close."""
    return [(SHEET_OPEN + prefix, 1), *rows, (suffix + SHEET_CLOSE, 1)]


def header_row() -> bytes:
    cells = "".join(f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{h}</t></is></c>' for i, h in enumerate(WANTED_HEADER))
    return f'<row r="1">{cells}</row>'.encode()


SHARED_STRINGS_TYPE = (
    b'<Override PartName="/xl/sharedStrings.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml" />'
)
SST_OPEN = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def with_shared_strings(parts: dict[str, bytes]) -> dict[str, bytes]:
    """``parts`` with a shared-strings part declared in the content types, as Excel writes it (openpyxl writes
    its strings inline and declares none), so that a reader loads it."""
    types = parts["[Content_Types].xml"].replace(b"</Types>", SHARED_STRINGS_TYPE + b"</Types>")
    return {**parts, "[Content_Types].xml": types, SHARED_STRINGS: SST_OPEN + b"</sst>"}


def billion_laughs(levels: int = 10) -> bytes:
    """The classic entity expansion: each entity ten of the one before, ``levels`` deep (10**levels copies)."""
    ents = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels)]
    return f"<!DOCTYPE worksheet [{''.join(ents)}]>".encode()


def entity_row(entity: str) -> bytes:
    return f'<row r="2"><c r="A2" t="inlineStr"><is><t>&{entity};</t></is></c></row>'.encode()
