"""Row validation: a row of cells -> a typed tuple for the staging table, or RowErrors.

Built once per import (header positions, lookup dictionaries) so the per-row work is a few dictionary
lookups and string comparisons: dates stay ISO strings (they compare correctly as text), and every
vocabulary lookup is memoised by the raw cell text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from bot.config import Config, ConfigError
from bot.importing.columns import (
    ALIASES,
    CLOSED,
    FORCE,
    OPENED,
    SCHEMAS,
    VOCABULARIES,
    Column,
    UnknownVocabularyValue,
    header_key,
    header_map,
    personal_header_reason,
    value_key,
    vocabulary_lookup,
)
from bot.importing.readers import Cell, FileRefused
from bot.importing.types import MAX_REPORTED_ERRORS, RowError
from bot.text import controls, first_control

_MEMO_LIMIT = 10_000  # distinct raw spellings remembered per column (a typo per row must not grow memory)
# A time of day after the date is read past, as after an ISO date: spreadsheets and force systems write a date
# column as "31/07/2022 00:00:00" (and a circulation's time when they have it); the column holds the day.
_UK_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_ISO_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
DATE_HELP = "dates are read day first: 31/07/2022, 31-07-2022, 31.07.2022 or 2022-07-31"

# The date spellings known before any row is read: ISO and the UK exports' zero-padded day first (31/07/2022), for
# every day from _EARLIEST_KNOWN to the as-of date (or _AHEAD_YEARS after it, for dates that may lie ahead):
# ~56,000 strings (~63,000), built in ~20 ms once per process and as-of date, ~6 MB. Any other spelling the
# validator accepts (31/7/2022, 31.07.2022, an XLSX date) is remembered as it is met, up to _DATE_MEMO_LIMIT more
# per memo: only valid dates are remembered, so the memo is bounded by the calendar as well.
_EARLIEST_KNOWN = dt.date(1950, 1, 1)
_FIRST_REAL = "1901-01-01"  # an earlier date is a system's placeholder for none (1900-01-01, 0001-01-01)
_AHEAD_YEARS = 10
_DATE_MEMO_LIMIT = 40_000


class Bad(Exception):
    """One cell is invalid; ``reason`` says why in words an analyst can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ErrorSink:
    """Counts every row error, keeps the first MAX_REPORTED_ERRORS."""

    def __init__(self) -> None:
        self.errors: list[RowError] = []
        self.count = 0

    def add(self, row: int, column: str, value: Cell, reason: str) -> None:
        self.count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(row, column, display(value), reason))


def display(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        value = value.date()
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def cell_text(raw: Cell) -> str:
    """A non-string cell (XLSX number, date) as the text a person would see."""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, dt.datetime):
        return raw.isoformat(sep=" ")
    return str(raw)


# Control characters (bot.text) in a cell or a header: no export holds them, PostgreSQL refuses a NUL, and others
# move a terminal's cursor when a report is printed. Tab, line feed and carriage return are kept (a note may run
# over lines).
_CONTROL = controls()


def has_control(text: str) -> bool:
    return _CONTROL.search(text) is not None


def _no_control(raw: Cell) -> None:
    if raw.__class__ is str and _CONTROL.search(raw) is not None:
        raise Bad(f"holds a control character ({first_control(raw)}), which no export does: remove it")


def refuse_personal_header(header: str, sheet: str = "") -> None:
    """Raise :class:`FileRefused` if ``header`` would hold names or dates of birth, naming the column (and the sheet,
    for another worksheet of a workbook) and, for a disguised header, what it was read as."""
    why = personal_header_reason(header)
    if not why:
        return
    key = header_key(header)
    # Shown when the header reads as something else than its plain letters: a disguise, named as such.
    read_as = "" if re.sub(r"[^0-9a-z]+", "", header.lower()) == key else f" (read as {key!r})"
    where = f" on sheet {sheet!r}" if sheet else ""
    raise FileRefused(
        f"column {header!r}{where} is refused because {why}{read_as}. The bot stores pseudonymous references only "
        "(data minimisation, DPA 2018 Part 3): delete that column from the export and import again; "
        "nothing was imported"
    )


def parse_date(raw: Cell) -> dt.date | None:
    """Parse a date cell; None for an empty cell; :class:`Bad` when it is not a real date.

    ISO ``2022-07-31``, UK day-first ``31/07/2022``, ``31/7/2022``, ``31-07-2022`` or ``31.07.2022`` (each
    optionally with a time of day: ``31/07/2022 00:00:00``), and real Excel dates. Never month-first:
    ``07/31/2022`` is an impossible date.
    """
    iso = date_iso(raw, "9999-12-31", False)
    return None if iso is None else dt.date.fromisoformat(iso)


def date_iso(raw: Cell, as_of_iso: str, future_ok: bool) -> str | None:
    if raw is None:
        return None
    if raw.__class__ is str:
        s = raw.strip()
        if not s:
            return None
        if len(s) == 10 and s[4] == "-" and s[7] == "-":
            try:
                dt.date.fromisoformat(s)
            except ValueError:
                raise Bad(f"not a real date ({DATE_HELP})") from None
            iso = s
        else:
            iso = _slow_date(s)
    elif isinstance(raw, dt.datetime):
        iso = raw.date().isoformat()
    elif isinstance(raw, dt.date):
        iso = raw.isoformat()
    else:
        raise Bad(f"a number, not a date: format the column as a date ({DATE_HELP})")
    if iso > as_of_iso and not future_ok:
        raise Bad(f"after the import's as-of date {as_of_iso}")
    if iso < _FIRST_REAL:
        # 01/01/1900 and 0001-01-01 are what systems write for "no date": counted, they are cases over a century old.
        raise Bad(f"{iso} is a placeholder for no date, not a real one; leave the cell empty if there is none")
    if future_ok and as_of_iso != "9999-12-31" and iso > f"{int(as_of_iso[:4]) + _AHEAD_YEARS}{as_of_iso[4:]}":
        raise Bad(f"{iso} is more than {_AHEAD_YEARS} years ahead: a placeholder (such as 31/12/9999), not a real date")
    return iso


@lru_cache(maxsize=8)
def _known_dates(as_of_iso: str, future_ok: bool) -> dict[str, str]:
    """ISO and ``dd/mm/yyyy`` spellings of every day a date column may take, each mapped to its ISO text — what
    :func:`date_iso` returns for it. Callers copy it: the validator's memos grow."""
    as_of = dt.date.fromisoformat(as_of_iso)
    last = as_of.replace(year=as_of.year + _AHEAD_YEARS, day=28) if future_ok else as_of
    iso = [dt.date.fromordinal(o).isoformat() for o in range(_EARLIEST_KNOWN.toordinal(), last.toordinal() + 1)]
    known = dict(zip(iso, iso, strict=True))
    known.update(zip([f"{d[8:10]}/{d[5:7]}/{d[:4]}" for d in iso], iso, strict=True))
    return known


def _slow_date(s: str) -> str:
    m = _UK_DATE.match(s)
    if m:
        d, mo, y = m.groups()
        if len(y) != 4:
            raise Bad(f"write the year in full, e.g. 31/07/2022 ({DATE_HELP})")
        try:
            return dt.date(int(y), int(mo), int(d)).isoformat()
        except ValueError:
            raise Bad(f"not a real date ({DATE_HELP}; never month first)") from None
    m = _ISO_DATETIME.match(s)
    if m:
        try:
            return dt.date.fromisoformat(m.group(1)).isoformat()
        except ValueError:
            raise Bad(f"not a real date ({DATE_HELP})") from None
    raise Bad(f"not a date ({DATE_HELP})")


Converter = Callable[[Cell, str], Any]


class RowValidator:
    """Maps header positions to canonical columns and turns each row into the staging tuple
    ``(row_no, force, <dataset columns…>)``; for actions ``owner`` becomes ``owner_initials, owner_user_id``."""

    def __init__(
        self,
        dataset: str,
        header: Sequence[str],
        config: Config,
        force: str | None,
        as_of: dt.date,
        errors: ErrorSink,
        header_row: int = 1,
        other_headers: Sequence[tuple[str, Sequence[str]]] = (),
    ) -> None:
        self.dataset = dataset
        self.config = config
        self.requested_force = force
        self.default_force = force or config.default_force
        self.as_of_iso = as_of.isoformat()
        self.errors = errors
        self.ignored: list[str] = []
        self._plan_header(header, header_row, other_headers)
        # Memos of accepted raw cells; shared with the compiled fast path (see fastpath.py).
        self.district_memo: dict[str, dict[Cell, str]] = {f: {} for f in config.forces}
        self.force_memo: dict[Cell, str] = {"": self.default_force}
        self.enum_memos: dict[str, dict[Cell, str]] = {}
        # Per kind of date column (may it lie after the as-of date?): raw cell -> ISO date.
        self.date_memos: dict[bool, dict[Cell, str]] = {}
        self.converters: list[tuple[str, int, Converter]] = [
            (c.name, self.positions.get(c.name, -1), self._converter(c)) for c in SCHEMAS[dataset]
        ]
        self.force_pos = self.positions.get("force", -1)
        self.check = self._cross_checks()
        # A closing status that says how the case closed ("arrested", "located", "withdrawn", "NFA" …) is its
        # outcome when the row gives none: raw status cell -> closure outcome, or None for one that does not say
        # ("closed", "dealt with"). Shared with the fast path.
        self.status_outcome_memo: dict[Cell, str | None] = {}
        self.status_pos = self.positions.get("status", -1) if dataset in ("wanted", "suspects") else -1
        if self.status_pos >= 0:
            self._closure_outcomes = vocabulary_lookup(
                "closure_outcome", self.config.vocabulary_aliases.get("closure_outcome", {})
            )
            self._outcome_at = 2 + [c.name for c in SCHEMAS[dataset]].index("outcome")
            self._status_at = 2 + [c.name for c in SCHEMAS[dataset]].index("status")

    def status_outcome(self, raw: Cell) -> str | None:
        """The closure outcome a closing status's spelling names ("arrested" → arrested, "withdrawn" → cancelled), or
        None when it names none ("closed")."""
        if raw in self.status_outcome_memo:
            return self.status_outcome_memo[raw]
        text = "" if raw is None else (raw if raw.__class__ is str else cell_text(raw)).strip()
        outcome = self._closure_outcomes.get(value_key(text)) if text else None
        if outcome == "not_in_export":
            outcome = None  # the bot's own word for a snapshot's closure, not a status an export gives
        if len(self.status_outcome_memo) < _MEMO_LIMIT:
            self.status_outcome_memo[raw] = outcome
        return outcome

    # -- header -------------------------------------------------------------------------------------------
    def _plan_header(
        self, header: Sequence[str], header_row: int, other_headers: Sequence[tuple[str, Sequence[str]]]
    ) -> None:
        # Names and dates of birth are refused before a single data row is read: in the header imported, and in
        # the header row of every other worksheet of the workbook.
        for sheet, cells in [("", header), *other_headers]:
            for h in cells:
                refuse_personal_header(h, sheet)
        for i, h in enumerate(header):
            if has_control(h):
                raise FileRefused(
                    f"header column {i + 1} ({h!r}) holds a control character ({first_control(h)}), which no "
                    "export's header does: nothing was imported"
                )
        names = header_map(self.dataset)
        self.positions: dict[str, int] = {}
        for i, h in enumerate(header):
            key = header_key(h)
            if not key:
                continue
            canonical = names.get(key)
            if canonical is None:
                self.ignored.append(h)
            elif canonical in self.positions:
                other = header[self.positions[canonical]]
                raise FileRefused(f"columns {other!r} and {h!r} both mean {canonical}: keep one of them")
            else:
                self.positions[canonical] = i
        missing = [c.name for c in SCHEMAS[self.dataset] if c.required and c.name not in self.positions]
        if missing:
            raise FileRefused(_missing_columns(self.dataset, missing, header, header_row))

    # -- converters -----------------------------------------------------------------------------------------
    def _converter(self, col: Column) -> Converter:
        if col.kind == "date":
            return self._date_converter(col)
        if col.kind == "enum":
            return self._enum_converter(col)
        if col.kind == "district":
            return self._district
        if col.kind == "owner":
            return self._owner_converter(col)
        return self._text_converter(col)

    @staticmethod
    def _text_converter(col: Column) -> Converter:
        max_len, required = col.max_len, col.required

        def text(raw: Cell, force: str) -> str | None:
            if raw is None:
                v = ""
            elif raw.__class__ is str:
                v = raw.strip()
            else:
                v = cell_text(raw).strip()
            if not v:
                if required:
                    raise Bad("missing: this column is required")
                return None
            if len(v) > max_len:
                raise Bad(f"longer than {max_len} characters")
            return v

        return text

    def date_memo(self, future_ok: bool) -> dict[Cell, str]:
        """The accepted date cells of a kind of date column and their ISO text, shared with the compiled fast
        path: every ISO and ``dd/mm/yyyy`` date the column may take, and whatever other spelling was met."""
        memo = self.date_memos.get(future_ok)
        if memo is None:
            memo = self.date_memos[future_ok] = dict(_known_dates(self.as_of_iso, future_ok))
        return memo

    def _date_converter(self, col: Column) -> Converter:
        as_of_iso, future_ok, required = self.as_of_iso, col.future_ok, col.required
        memo = self.date_memo(future_ok)
        limit = len(memo) + _DATE_MEMO_LIMIT

        def date(raw: Cell, force: str) -> str | None:
            hit = memo.get(raw)
            if hit is not None:
                return hit
            v = date_iso(raw, as_of_iso, future_ok)
            if v is None:
                if required:
                    raise Bad("missing: this date is required")
                return None
            if len(memo) < limit:
                memo[raw] = v
            return v

        return date

    def _enum_converter(self, col: Column) -> Converter:
        assert col.vocabulary is not None
        try:
            lookup = vocabulary_lookup(col.vocabulary, self.config.vocabulary_aliases.get(col.vocabulary, {}))
        except UnknownVocabularyValue as e:
            raise FileRefused(str(e)) from None
        valid = ", ".join(VOCABULARIES[col.vocabulary])
        memo: dict[Cell, str] = self.enum_memos.setdefault(col.name, {})
        required, name = col.required, col.name

        def enum(raw: Cell, force: str) -> str | None:
            hit = memo.get(raw)
            if hit is not None:
                return hit
            text = "" if raw is None else (raw if raw.__class__ is str else cell_text(raw)).strip()
            if not text:
                if required:
                    raise Bad(f"missing: this column is required (valid values: {valid})")
                return None
            v = lookup.get(value_key(text))
            if v is None:
                raise Bad(f"unknown {name}; valid values: {valid}")
            if len(memo) < _MEMO_LIMIT:
                memo[raw] = v
            return v

        return enum

    def _district(self, raw: Cell, force: str) -> str:
        memo = self.district_memo[force]
        hit = memo.get(raw)
        if hit is not None:
            return hit
        text = "" if raw is None else (raw if raw.__class__ is str else cell_text(raw)).strip()
        if not text:
            raise Bad("missing: this column is required")
        f = self.config.force(force)
        slug = f.resolve_district(text) or f.resolve_district(value_key(text))
        if slug is None:
            raise Bad(f"unknown district for force {force}; valid: {', '.join(f.district_slugs())} (or their aliases)")
        if len(memo) < _MEMO_LIMIT:
            memo[raw] = slug
        return slug

    def _owner_converter(self, col: Column) -> Converter:
        text = self._text_converter(col)

        def owner(raw: Cell, force: str) -> tuple[str | None, str | None]:
            initials = text(raw, force)
            if initials is None:
                return None, None
            owners = self.config.force(force).owners
            ids = {owners[i] for i in re.split(r"[^A-Za-z]+|\band\b", initials.upper()) if i and i in owners}
            return initials, (next(iter(ids)) if len(ids) == 1 else None)

        return owner

    def _force(self, raw: Cell) -> str:
        if raw is None or (raw.__class__ is str and not raw.strip()):
            return self.default_force
        hit = self.force_memo.get(raw)
        if hit is not None:
            return hit
        text = raw.strip() if raw.__class__ is str else cell_text(raw)
        key = value_key(text).replace(" ", "-")
        for slug, f in self.config.forces.items():
            if key in (slug, value_key(f.name).replace(" ", "-")):
                break
        else:
            raise Bad(f"unknown force; configured forces: {', '.join(sorted(self.config.forces))}")
        if self.requested_force is not None and slug != self.requested_force:
            raise Bad(f"this row is for force {slug} but the import is for --force {self.requested_force}")
        if len(self.force_memo) < _MEMO_LIMIT:
            self.force_memo[raw] = slug
        return slug

    # -- rows ------------------------------------------------------------------------------------------------
    def __call__(self, row_no: int, cells: Sequence[Cell]) -> tuple[Any, ...] | None:
        """The staging tuple, or None after recording the row's errors."""
        n = len(cells)
        ok = True
        if self.force_pos >= 0:
            raw_force = cells[self.force_pos] if self.force_pos < n else None
            try:
                _no_control(raw_force)
                force = self._force(raw_force)
            except Bad as e:
                self.errors.add(row_no, FORCE.name, raw_force, e.reason)
                return None  # districts cannot be checked without a force
        else:
            force = self.default_force
        out: list[Any] = [row_no, force]
        for name, pos, conv in self.converters:
            raw = cells[pos] if 0 <= pos < n else None
            try:
                _no_control(raw)
                v = conv(raw, force)
            except Bad as e:
                self.errors.add(row_no, name, raw, e.reason)
                ok = False
                v = None
            if name == "owner":
                out.extend(v or (None, None))
            else:
                out.append(v)
        if ok and not self.check(row_no, out, cells):
            ok = False
        if not ok:
            return None
        if self.status_pos >= 0 and out[self._outcome_at] is None and out[self._status_at] == "closed":
            out[self._outcome_at] = self.status_outcome(cells[self.status_pos] if self.status_pos < n else None)
        return tuple(out)

    def _cross_checks(self) -> Callable[[int, list[Any], Sequence[Cell]], bool]:
        """Checks between the columns of one row; ``out`` indexes are 2 + the schema position. An error quotes the
        cells as the file has them (``01/10/2026``, ``Arrested``), not as they were read (``2026-10-01``)."""
        cols = [c.name for c in SCHEMAS[self.dataset]]
        if self.dataset == "actions":
            return lambda row_no, out, cells: True
        ix = {name: 2 + i for i, name in enumerate(cols)}
        positions = self.positions
        o_col, c_col = OPENED[self.dataset], CLOSED[self.dataset]
        o_i, c_i = ix[o_col], ix[c_col]

        sink = self.errors

        def cell(cells: Sequence[Cell], name: str, read: Any) -> Any:
            """The column's cell as the file has it (the value as read when the cell is missing or blank)."""
            pos = positions.get(name, -1)
            raw = cells[pos] if 0 <= pos < len(cells) else None
            shown = raw.strip() if isinstance(raw, str) else raw
            return shown if shown not in (None, "") else read

        def add(cells: Sequence[Cell], row_no: int, name: str, read: Any, reason: str) -> None:
            sink.add(row_no, name, cell(cells, name, read), reason)

        def before(cells: Sequence[Cell], name: str, read: Any) -> str:
            return f"before {name} {display(cell(cells, name, read))}"

        if self.dataset in ("wanted", "suspects"):
            s_i = ix["status"]
            r_i = ix.get("last_reviewed_on")
            oc_i = ix["outcome"]

            def case_check(row_no: int, out: list[Any], cells: Sequence[Cell]) -> bool:
                ok = True
                opened, closed, status = out[o_i], out[c_i], out[s_i]
                if closed is not None and closed < opened:
                    add(cells, row_no, c_col, closed, before(cells, o_col, opened))
                    ok = False
                if r_i is not None and out[r_i] is not None and out[r_i] < opened:
                    add(cells, row_no, "last_reviewed_on", out[r_i], before(cells, o_col, opened))
                    ok = False
                if status is None:
                    # No status column (or a blank cell): the closing date decides.
                    out[s_i] = "closed" if closed is not None else "open"
                elif status == "open" and closed is not None:
                    add(cells, row_no, "status", status,
                        f"status open contradicts {c_col} {display(cell(cells, c_col, closed))}")  # fmt: skip
                    ok = False
                elif status == "closed" and closed is None:
                    add(cells, row_no, "status", status, f"status closed but {c_col} is empty")
                    ok = False
                if out[oc_i] is not None and closed is None:
                    add(cells, row_no, "outcome", out[oc_i], f"an outcome needs {c_col} (the date it closed)")
                    ok = False
                return ok

            return case_check

        k_i, b_i, oc_i = ix["kind"], ix["bail_end_on"], ix["outcome"]

        def bail_check(row_no: int, out: list[Any], cells: Sequence[Cell]) -> bool:
            ok = True
            started, ended, bail_end, outcome = out[o_i], out[c_i], out[b_i], out[oc_i]
            if ended is not None and ended < started:
                add(cells, row_no, c_col, ended, before(cells, o_col, started))
                ok = False
            if bail_end is not None:
                if out[k_i] == "rui":
                    add(cells, row_no, "bail_end_on", bail_end, "RUI has no bail end date (kind is rui)")
                    ok = False
                elif bail_end < started:
                    add(cells, row_no, "bail_end_on", bail_end, before(cells, o_col, started))
                    ok = False
            if outcome is not None and ended is None:
                add(cells, row_no, "outcome", outcome, "an outcome needs ended_on (the date the period ended)")
                ok = False
            elif ended is not None and outcome is None:
                add(cells, row_no, "ended_on", ended, "an ended period needs an outcome")
                ok = False
            return ok

        return bail_check


def _missing_columns(dataset: str, missing: list[str], header: Sequence[str], header_row: int) -> str:
    """Why a header lacks required columns: a file of another shape when its header says so (separated by
    semicolons or tabs, Excel's "sep=" line, a web page saved under a spreadsheet's name), else the columns missing,
    each with headers that name it."""
    cells = [h for h in header if h]
    joined = ",".join(cells)
    if joined.lstrip().lower().startswith(("<html", "<!doctype", "<table", "<?xml")):
        return (
            "the file is a web page (HTML), not a spreadsheet, though a system may name it .xls; open it in Excel "
            "and save it as CSV UTF-8 (Comma delimited) or .xlsx"
        )
    if len(cells) == 1 and cells[0].strip().lower().startswith("sep="):
        return f'header row {header_row} is Excel\'s "sep=" line; save the file again as CSV UTF-8 (Comma delimited)'
    for sep, what in ((";", "semicolons"), ("\t", "tabs")):
        if len(cells) <= 2 and any(c.count(sep) >= 2 for c in cells):
            return (
                f"header row {header_row} is separated by {what}, not commas ({joined[:80]!r}); save it from Excel as "
                '"CSV UTF-8 (Comma delimited)"'
            )
    names = []
    for name in missing:
        said = ", ".join(ALIASES.get(name, ())[:3])
        names.append(f"{name} (a header such as {said})" if said else name)
    return (
        f"missing required column{'s' if len(missing) > 1 else ''} for {dataset}: {'; '.join(names)} "
        f"(header row {header_row} has: {', '.join(cells) or 'nothing'})"
    )


def staging_columns(dataset: str) -> list[str]:
    """Column names of the staging tuple after ``row_no, force``."""
    cols: list[str] = []
    for c in SCHEMAS[dataset]:
        cols.extend(("owner_initials", "owner_user_id") if c.name == "owner" else (c.name,))
    return cols


def resolve_force(config: Config, force: str | None) -> str | None:
    """Validate ``--force`` (None stays None); raises FileRefused for an unknown force."""
    if force is None:
        return None
    try:
        return config.force(force).slug
    except ConfigError as e:
        raise FileRefused(str(e)) from None
