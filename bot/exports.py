"""What every export writes into a spreadsheet cell: text a spreadsheet shows, never a formula it runs.

Exports carry what people typed in Slack or what an imported file held. A spreadsheet opening a CSV (or a cell
of a workbook that is not explicitly text) reads a value starting with ``=``, ``+``, ``-`` or ``@`` as a formula:
``=HYPERLINK("http://evil","ref")`` becomes a live link, ``=WEBSERVICE(...)`` sends the sheet's data away. OWASP's
CSV-injection guidance (and ASVS 1.2.10): prefix such a value with a single quote so that it stays text. A leading
tab, carriage return, line feed or NUL is prefixed too (some spreadsheets skip them and read what follows), and so
are the full-width ``＝＋－＠``, which some spreadsheets fold to their ASCII forms on input. A value whose first
visible character is a trigger (``"  =1+1"``) is prefixed as well.

Every text cell of every CSV or XLSX export goes through :func:`neutralise`; XLSX writers also use
:func:`text_cell`, which writes the cell with the string type, so no value reaches a workbook as a formula.
"""

from __future__ import annotations

from typing import Any

# What makes a spreadsheet read a cell as a formula (or skip ahead to something that does).
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n\0＝＋－＠")
PREFIX = "'"


def neutralise(value: str) -> str:
    """``value`` as text no spreadsheet runs: prefixed with ``'`` when it could start a formula."""
    if not value:
        return value
    if value[0] in FORMULA_TRIGGERS or value.lstrip()[:1] in FORMULA_TRIGGERS:
        return PREFIX + value
    return value


def neutralise_cell(value: Any) -> Any:
    """A cell value for an export: text neutralised; numbers, dates and None as they are."""
    return neutralise(value) if isinstance(value, str) else value


def text_cell(cell: Any, value: str | None) -> None:
    """Write ``value`` into an openpyxl cell as neutralised text of the string type (never a formula)."""
    if value is None:
        cell.value = None
        return
    cell.value = neutralise(value)
    cell.data_type = "s"
