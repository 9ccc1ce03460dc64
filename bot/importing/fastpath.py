"""A compiled fast path for clean rows.

A million-row export is almost entirely clean, ISO-dated text. For those rows a straight-line loop, generated
once per import from the dataset's schema and header positions (:func:`checked_rows`), does the same checks as
:class:`~bot.importing.validate.RowValidator` with a fraction of the interpreter work. It never reports
errors: on anything unusual (a memo miss — a date spelling not met yet among them —, a short row, a failed check)
it gives up on that row, which goes through the full validator, which produces the exact error or the accepted
value (and fills the memos the fast path reads). So the fast path can only make valid rows faster.

The generated loop also builds each row in the shape its destination wants, so no second pass re-packs it:

- the staging shape ``(row_no, force, *columns)``, or the table shape ``(force, *columns, import_batch_id)``
  for the initial load straight into an empty table (``batch_ids`` given);
- as a tuple (SQLite ``executemany``) or as one line of PostgreSQL's ``COPY`` text format (``copy=True``):
  formatting the line in the same f-string is several times cheaper than a CSV writer or ``Copy.write_row``.
  Text cells holding a backslash or anything unprintable (a tab, a line break) go the slow way, through
  :func:`copy_line`'s escaping.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.figures.month_flow import FlowTally, flow_key
from bot.importing.columns import CLOSED, OPENED, SCHEMAS
from bot.importing.readers import Cell
from bot.importing.validate import RowValidator, staging_columns

Row = tuple[Any, ...]


def copy_line(row: Row) -> str:
    r"""One row in PostgreSQL's COPY text format: tab-separated, ``\N`` for NULL, backslash escapes."""
    return "\t".join(
        "\\N"
        if v is None
        else str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        for v in row
    )


class _Miss(Exception):
    """Raised inside the compiled stream when a row needs the full validator."""


@dataclass
class CheckedRows:
    """The valid rows of a table, in their destination's shape, as they stream by (:func:`checked_rows`);
    ``seen`` is how many rows were read so far, valid or not."""

    rows: Iterator[Any]
    seen: int = 0


def _compile(
    v: RowValidator,
    batch_ids: Mapping[str, int] | None,
    copy: bool,
    counts: Counter[str] | None,
    tally: FlowTally | None,
    invalid: type[Exception] | None,
) -> Callable[[Iterable[tuple[int, Sequence[Cell]]], CheckedRows, Callable[[int, Sequence[Cell]], Any]], Any] | None:
    """A generator function ``stream(rows, state, slow)``: for each ``(row_no, cells)``, the checks inline, the row
    yielded in its destination's shape; anything unusual raises inside and the row goes to ``slow`` (the full
    validator), whose None means invalid: skipped, or ``invalid`` raised when given. One loop with the checks
    inline, rather than a function call per row behind generators, saves about a fifth of the client's time."""
    dataset = v.dataset
    if dataset not in OPENED:
        return None  # the action log is small; the full validator is fast enough
    lines: list[str] = []
    add = lines.append
    fp = v.positions.get("force", -1)
    if fp >= 0:
        add(f"force = FORCE_MEMO[c[{fp}]]")
    else:
        add("force = DEFAULT_FORCE")
    env: dict[str, Any] = {
        "FORCE_MEMO": v.force_memo,
        "DEFAULT_FORCE": v.default_force,
        "DISTRICTS": v.district_memo,
        "BATCH": batch_ids,
        "COUNTS": counts,
        "NUL": "\\N",
        "MISS": _Miss,
        "INVALID": invalid,
        "FLOW_KEY": tally.pending.append if tally else None,
        "FLUSH": tally.flush if tally else None,
    }
    miss = "raise MISS"
    names: list[str] = []
    optional: set[str] = set()
    texts: list[str] = []
    for col in SCHEMAS[dataset]:
        name = col.name
        names.append(name)
        pos = v.positions.get(name, -1)
        if not col.required:
            optional.add(name)
        if pos < 0:
            add(f"{name} = None")
            continue
        if col.kind == "text":
            texts.append(name)
            add(f"{name} = c[{pos}].strip()")
            if col.required:
                add(f"if not {name} or len({name}) > {col.max_len}: {miss}")
            else:
                add(f"if not {name}: {name} = None")
                add(f"elif len({name}) > {col.max_len}: {miss}")
        elif col.kind == "district":
            add(f"{name} = DISTRICTS[force][c[{pos}]]")
        elif col.kind == "enum":
            memo = f"MEMO_{name}"
            env[memo] = v.enum_memos[name]
            if col.required:
                add(f"{name} = {memo}[c[{pos}]]")
            else:
                add(f"{name} = c[{pos}]")
                add(f"if {name}: {name} = {memo}[{name}]")
                add(f"elif {name} is None or {name} == '': {name} = None")
                add(f"else: {miss}")
        elif col.kind == "date":
            # One dict lookup of the cell as it stands instead of a strip, a shape check, a parse and a
            # comparison: the validator's date memo maps every ISO and dd/mm/yyyy date the column may take (up to
            # the as-of date unless it may lie ahead), and each other spelling it has accepted, to its ISO text.
            # Anything else — a spelling not met yet, an impossible or out-of-range date — raises KeyError and goes
            # the slow way, which remembers it if it is good.
            dates = "DATES_ANY" if col.future_ok else "DATES_PAST"
            env[dates] = v.date_memo(col.future_ok)  # built only for the kinds of date column the dataset has
            if col.required:
                add(f"{name} = {dates}[c[{pos}]]")
            else:
                add(f"{name} = c[{pos}]")
                add(f"if {name}: {name} = {dates}[{name}]")
                # Empty is "" (CSV) or None (XLSX); another falsy cell (an XLSX 0) is a number: the slow way.
                add(f"elif {name} is None or {name} == '': {name} = None")
                add(f"else: {miss}")
        else:
            return None
    opened, closed = OPENED[dataset], CLOSED[dataset]
    add(f"if {closed} is not None and {closed} < {opened}: {miss}")
    if dataset in ("wanted", "suspects"):
        if dataset == "wanted":
            add(f"if last_reviewed_on is not None and last_reviewed_on < {opened}: {miss}")
        add("if status is None:")
        add(f"    status = 'open' if {closed} is None else 'closed'")
        add(f"elif (status == 'open') != ({closed} is None): {miss}")
        add(f"if outcome is not None and {closed} is None: {miss}")
        if v.status_pos >= 0:
            # A closing status naming how it closed gives the outcome the row does not (validator.status_outcome);
            # a spelling not met yet raises KeyError and goes the slow way, which remembers it.
            env["STATUS_OUTCOME"] = v.status_outcome_memo
            add(f"if outcome is None and status == 'closed': outcome = STATUS_OUTCOME[c[{v.status_pos}]]")
    else:
        add(f"if bail_end_on is not None and (kind == 'rui' or bail_end_on < started_on): {miss}")
        add(f"if (outcome is None) != (ended_on is None): {miss}")
    fields = ["force", *names]
    if batch_ids is None:
        fields.insert(0, "row_no")
    else:
        fields.append("BATCH[force]")
    if texts:
        # Anything unprintable — a control character, which the full validator refuses, or a tab, line feed or
        # carriage return, which COPY's text format would misread, as it would a backslash — goes the slow way:
        # the full validator decides, and copy_line escapes what it accepts.
        joined = "".join("{" + (f"{t} or ''" if t in optional else t) + "}" for t in texts)
        add(f"text = f{joined!r}")
        backslash = "'\\\\' in text or " if copy else ""
        add(f"if {backslash}not text.isprintable(): {miss}")
    if not copy:
        add(f"out = ({', '.join(fields)},)")
    else:
        parts = ["{" + (f"NUL if {f} is None else {f}" if f in optional else f) + "}" for f in fields]
        add(f"out = f{chr(9).join(parts)!r}")
    # Last, once the row is known good: a row that goes the slow way is counted there.
    if counts is not None:
        add("COUNTS[force] += 1")
    if tally is not None:
        # The same string as bot.figures.month_flow.flow_key, built inline.
        series = "{kind}" if dataset == "bail" else dataset
        reason = "{reason}" if dataset == "wanted" else ""
        add(f"c_month = {closed}[:7] if {closed} is not None else ''")
        key = f"{{force}}\t{series}\t{{{opened}[:7]}}\t{{c_month}}\t{{district}}\t{reason}\t{{offence}}"
        add(f"FLOW_KEY(f{key!r})")
    body = "\n".join(" " * 16 + line for line in lines)
    on_invalid = "raise INVALID" if invalid is not None else "continue"
    flush = "            if not n % 10_000: FLUSH()\n" if tally is not None else ""
    source = (
        "def stream(rows, state, slow):\n"
        "    n = 0\n"
        "    try:\n"
        "        for row_no, c in rows:\n"
        "            n += 1\n"
        f"{flush}"
        "            try:\n"
        f"{body}\n"
        "            except Exception:\n"
        "                # Anything unusual: the full validator decides and explains.\n"
        "                out = slow(row_no, c)\n"
        "                if out is None:\n"
        f"                    {on_invalid}\n"
        "            yield out\n"
        "    finally:\n"
        "        state.seen += n\n"
    )
    exec(compile(source, f"<import fast path: {dataset}>", "exec"), env)
    stream: Any = env["stream"]
    return stream


def _slow(
    v: RowValidator,
    batch_ids: Mapping[str, int] | None,
    copy: bool,
    counts: Counter[str] | None,
    tally: FlowTally | None,
) -> Callable[[int, Sequence[Cell]], Any]:
    """The full validator's answer for one row, in the same output shape (and counted the same way)."""
    at = {name: i for i, name in enumerate(["row_no", "force", *staging_columns(v.dataset)])}
    if tally is not None:
        opened_at, closed_at = at[OPENED[v.dataset]], at[CLOSED[v.dataset]]
        series_at = at.get("kind")
        reason_at = at.get("reason") if v.dataset == "wanted" else None
        district_at, offence_at = at["district"], at["offence"]

    def slow(row_no: int, cells: Sequence[Cell]) -> Any:
        staged = v(row_no, cells)
        if staged is None:
            return None
        row = staged if batch_ids is None else (*staged[1:], batch_ids[staged[1]])
        if counts is not None:
            counts[staged[1]] += 1
        if tally is not None:
            tally.pending.append(
                flow_key(
                    staged[1],
                    staged[series_at] if series_at is not None else v.dataset,
                    staged[opened_at],
                    staged[closed_at],
                    staged[district_at],
                    "" if reason_at is None else staged[reason_at],
                    staged[offence_at],
                )
            )
        return copy_line(row) if copy else row

    return slow


def checked_rows(
    v: RowValidator,
    rows: Iterable[tuple[int, Sequence[Cell]]],
    *,
    copy: bool,
    batch_ids: Mapping[str, int] | None = None,
    counts: Counter[str] | None = None,
    tally: FlowTally | None = None,
    invalid: type[Exception] | None = None,
) -> CheckedRows:
    """Check every ``(row_no, cells)`` of ``rows``: the compiled fast path for clean rows, the full validator for
    anything else (it decides and records the exact error). The valid rows stream out as tuples — the staging
    shape, or with ``batch_ids`` the table shape — or with ``copy`` as lines of PostgreSQL's COPY text format.
    An invalid row is skipped, or with ``invalid`` raises it. ``counts`` (if given) counts the valid rows per
    force, ``tally`` their month flows (flushed every 10,000 rows)."""
    slow = _slow(v, batch_ids, copy, counts, tally)
    state = CheckedRows(iter(()))
    stream = _compile(v, batch_ids, copy, counts, tally, invalid)
    state.rows = stream(rows, state, slow) if stream is not None else _slow_stream(rows, state, slow, tally, invalid)
    return state


def _slow_stream(
    rows: Iterable[tuple[int, Sequence[Cell]]],
    state: CheckedRows,
    slow: Callable[[int, Sequence[Cell]], Any],
    tally: FlowTally | None,
    invalid: type[Exception] | None,
) -> Iterator[Any]:
    for row_no, cells in rows:
        state.seen += 1
        if tally is not None and not state.seen % 10_000:
            tally.flush()
        out = slow(row_no, cells)
        if out is not None:
            yield out
        elif invalid is not None:
            raise invalid
