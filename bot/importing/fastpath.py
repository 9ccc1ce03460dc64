"""A compiled fast path for clean rows.

A million-row export is almost entirely clean, ISO-dated text. For those rows a straight-line function,
generated once per import from the dataset's schema and header positions, does the same checks as
:class:`~bot.importing.validate.RowValidator` with a fraction of the interpreter work. It never reports
errors: on anything unusual (a memo miss, a non-ISO date, a non-text XLSX cell, a short row, a failed check)
it gives up and the row goes through the full validator, which produces the exact error or the accepted
value (and fills the memos the fast path reads). So the fast path can only make valid rows faster.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from bot.importing.columns import CLOSED, OPENED, SCHEMAS
from bot.importing.readers import Cell
from bot.importing.validate import RowValidator

Row = tuple[Any, ...]


def compile_fast_path(v: RowValidator) -> Callable[[int, Sequence[Cell]], Row | None] | None:
    """A function (row_no, cells) -> staging tuple, or None when the row needs the full validator."""
    dataset = v.dataset
    if dataset not in OPENED:
        return None  # the action log is small; the full validator is fast enough
    lines = ["def fast(row_no, c):"]
    add = lines.append
    fp = v.positions.get("force", -1)
    if fp >= 0:
        add(f"    force = FORCE_MEMO[c[{fp}]]")
    else:
        add("    force = DEFAULT_FORCE")
    env: dict[str, Any] = {
        "FORCE_MEMO": v.force_memo,
        "DEFAULT_FORCE": v.default_force,
        "DISTRICTS": v.district_memo,
        "fromiso": dt.date.fromisoformat,
        "AS_OF": v.as_of_iso,
    }
    names: list[str] = []
    for col in SCHEMAS[dataset]:
        name = col.name
        names.append(name)
        pos = v.positions.get(name, -1)
        if pos < 0:
            add(f"    {name} = None")
            continue
        if col.kind == "text":
            add(f"    {name} = c[{pos}].strip()")
            if col.required:
                add(f"    if not {name} or len({name}) > {col.max_len}: return None")
            else:
                add(f"    if not {name}: {name} = None")
                add(f"    elif len({name}) > {col.max_len}: return None")
        elif col.kind == "district":
            add(f"    {name} = DISTRICTS[force][c[{pos}]]")
        elif col.kind == "enum":
            memo = f"MEMO_{name}"
            env[memo] = v.enum_memos[name]
            if col.required:
                add(f"    {name} = {memo}[c[{pos}]]")
            else:
                add(f"    {name} = c[{pos}]")
                add(f"    {name} = {memo}[{name}] if {name} else None")
        elif col.kind == "date":
            add(f"    {name} = c[{pos}].strip()")
            add(f"    if {name}:")
            add(f"        if len({name}) != 10 or {name}[4] != '-' or {name}[7] != '-': return None")
            add(f"        fromiso({name})")
            if not col.future_ok:
                add(f"        if {name} > AS_OF: return None")
            add("    else:")
            add("        return None" if col.required else f"        {name} = None")
        else:
            return None
    opened, closed = OPENED[dataset], CLOSED[dataset]
    add(f"    if {closed} is not None and {closed} < {opened}: return None")
    if dataset in ("wanted", "suspects"):
        if dataset == "wanted":
            add(f"    if last_reviewed_on is not None and last_reviewed_on < {opened}: return None")
        add("    if status is None:")
        add(f"        status = 'open' if {closed} is None else 'closed'")
        add(f"    elif (status == 'open') != ({closed} is None): return None")
    else:
        add("    if bail_end_on is not None and (kind == 'rui' or bail_end_on < started_on): return None")
        add("    if (outcome is None) != (ended_on is None): return None")
    add(f"    return (row_no, force, {', '.join(names)})")
    source = "\n".join(lines)
    exec(compile(source, f"<import fast path: {dataset}>", "exec"), env)
    fast: Callable[[int, Sequence[Cell]], Row | None] = env["fast"]
    return fast


def row_checker(v: RowValidator) -> Callable[[int, Sequence[Cell]], Row | None]:
    """Check one row: the compiled fast path for clean rows, the full validator for anything else (it decides
    and records the exact error). Returns the typed row, or None when the row is invalid."""
    fast = compile_fast_path(v)
    if fast is None:
        return v

    def check(row_no: int, cells: Sequence[Cell]) -> Row | None:
        try:
            out = fast(row_no, cells)
        except Exception:
            out = None  # anything unusual: the full validator decides and explains
        return out if out is not None else v(row_no, cells)

    return check
