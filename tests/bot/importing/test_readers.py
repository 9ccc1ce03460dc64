"""How many rows a CSV export may have: a worksheet's limit in Excel unless the deployment raises it for the force
system's full CSV exports (``import_max_csv_rows``); a workbook is always held to Excel's. How long a line may be,
and which line a refusal names, whichever 1 MiB blocks the line and the lines before it fall in."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from bot.importing.readers import MAX_LINE_BYTES, MAX_ROWS, FileRefused, file_sha256, open_table


def _rows(path: Path, n: int) -> Path:
    path.write_bytes(b"reference,offence\n" + b"R,theft\n" * n)
    return path


def _count(path: Path, **limit: int) -> int:
    with open_table(path, **limit) as table:
        return sum(1 for _ in table.rows)


def test_a_csv_past_excel_s_limit_is_refused_unless_the_deployment_raises_it(tmp_path: Path) -> None:
    big = _rows(tmp_path / "big.csv", MAX_ROWS + 1)  # the header makes it two past the limit
    with pytest.raises(FileRefused, match=r"more than 1,048,576 rows \(a worksheet's limit in Excel\)"):
        _count(big)
    assert _count(big, max_csv_rows=2_000_000) == MAX_ROWS + 1
    with pytest.raises(FileRefused, match=r"more than 10 rows \(the configured import_max_csv_rows\)"):
        _count(_rows(tmp_path / "small.csv", 12), max_csv_rows=10)


def test_the_limit_is_configured_and_never_below_excel_s(tmp_path: Path) -> None:
    assert load_config().import_max_csv_rows == MAX_ROWS
    toml = tmp_path / "mo.toml"
    toml.write_text("import_max_csv_rows = 20000000\n")
    assert load_config(toml).import_max_csv_rows == 20_000_000
    toml.write_text("import_max_csv_rows = 1000\n")
    with pytest.raises(ConfigError, match="import_max_csv_rows: must be at least 1048576"):
        load_config(toml)


@pytest.mark.parametrize(
    ("short_line", "short_lines"),
    [
        (b"R,theft\n", 0),
        (b"R,theft\n", 1),
        (b"R,theft\n", 99_999),
        (b"R,theft\n", 250_001),
        (b"R,theft," * 3 + b"\n", 400_000),
    ],
)
def test_a_line_past_the_limit_is_refused_naming_its_line(tmp_path: Path, short_line: bytes, short_lines: int) -> None:
    """The lines before the long one span several windows (9 bytes each: 250,001 of them end inside the third;
    400,000 of 25 bytes end in the second 8 MiB block the hash reads); the long one starts wherever they end and
    runs over windows and blocks. Both readers of the file name the same line."""
    path = tmp_path / "long.csv"
    path.write_bytes(b"reference\n" + short_line * short_lines + b"x" * (MAX_LINE_BYTES + 1) + b"\nR,theft\n")
    line = short_lines + 2
    with pytest.raises(FileRefused, match=rf"long.csv: line {line} is longer than 4 MB"):
        file_sha256(path)
    with pytest.raises(FileRefused, match=rf"long.csv: line {line} is longer than 4 MB"):
        _count(path)


def test_a_line_at_the_limit_is_read_and_hashed(tmp_path: Path) -> None:
    path = tmp_path / "edge.csv"
    # Past two of the hash's blocks, with the long line across the first block's end.
    data = b"reference\n" + b"R,theft\n" * 1_000_000 + b"x" * MAX_LINE_BYTES + b"\n" + b"R,theft\n" * 1_200_000
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
