"""How many rows a CSV export may have: a worksheet's limit in Excel unless the deployment raises it for the force
system's full CSV exports (``import_max_csv_rows``); a workbook is always held to Excel's."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from bot.importing.readers import MAX_ROWS, FileRefused, open_table


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
