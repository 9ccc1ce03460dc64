"""Deterministic synthetic exports: wanted circulations, outstanding suspects and bail/RUI periods.

The files look like what a performance team would circulate: pseudonymous references only (person ``P`` +
7 digits, crime ``37/12345/24``), officers as collar numbers, a weighted offence mix, 24 months of history up
to ``end`` (with the cases opened before it that were still open on its first day), both forces (Suffolk ~75 %,
Norfolk ~25 %) in one file with a ``force`` column. Each file also
exercises a different corner of the import path on purpose:

* ``wanted.csv`` — header aliases (``Offence Group``, ``Date Circulated``, ``Last Reviewed``, ``Date Closed``,
  ``Officer in Case``) and closing statuses spelled as exports spell them (``arrested``, ``located``…);
* ``suspects.csv`` — UK dates (``31/07/2024``) and capitalised statuses that say how a suspect was dealt with
  (``Arrested``, ``Voluntary Attendance``, ``NFA``, or just ``Closed``);
* ``bail.csv`` — districts as their labels (``Bury St Edmunds``, ``King's Lynn``), ``RUI`` in capitals and
  the ``Bail End Date`` alias.

Rows are produced by generators and written in chunks, so a 1,000,000-row file is written in flat memory.
Speed comes from lookup tables: every date string is formatted once per day, not once per row, and weighted
choices are an index into a 1,000-slot table rather than ``random.choices``.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from random import Random

from bot.dates import add_months

DATASETS: tuple[str, ...] = ("wanted", "suspects", "bail")
FILE_NAMES: dict[str, str] = {"wanted": "wanted.csv", "suspects": "suspects.csv", "bail": "bail.csv"}
HISTORY_MONTHS = 24
# Cases opened this long before the history window that were still open on its first day are in the files too: a
# force's caseload does not start from nothing on the day its exports begin. Without them every open count would
# climb for a year from the window's start (RUI, with its long tail, by two thirds) — a rise that is only the
# start of the data, in the demo's trend and charts. Two years takes the long-running cases to within a few per cent
# of a steady state; the rows closed before the window are never written (the files hold every case open on or
# after its first day, which is what the demo's --covers-from declares).
BACKLOG_DAYS = 730
_CHUNK = 10_000


@dataclass(frozen=True)
class DemoForce:
    slug: str
    crime_code: str  # Home Office force number, the first part of a crime reference
    share: float
    districts: tuple[tuple[str, str, float], ...]  # (slug, label, weight)


FORCES: tuple[DemoForce, ...] = (
    DemoForce(
        "suffolk",
        "37",
        0.75,
        (("ipswich", "Ipswich", 0.45), ("bury-st-edmunds", "Bury St Edmunds", 0.30), ("lowestoft", "Lowestoft", 0.25)),
    ),
    DemoForce(
        "norfolk",
        "36",
        0.25,
        (("norwich", "Norwich", 0.50), ("kings-lynn", "King's Lynn", 0.25), ("great-yarmouth", "Great Yarmouth", 0.25)),
    ),
)

# Offence groups and their rough share of wanted/suspect/bail caseloads.
OFFENCES: tuple[tuple[str, float], ...] = (
    ("Violence against the person", 0.24),
    ("Domestic abuse", 0.16),
    ("Theft", 0.12),
    ("Burglary", 0.08),
    ("Drugs", 0.08),
    ("Sexual offences", 0.07),
    ("Criminal damage", 0.06),
    ("Public order", 0.05),
    ("Fraud", 0.05),
    ("Vehicle crime", 0.04),
    ("Robbery", 0.03),
    ("Possession of weapons", 0.02),
)
# The three circumstances of §9.3 of the report, the second split in two.
WANTED_REASONS: tuple[tuple[str, float], ...] = (
    ("never_arrested", 0.55),
    ("failed_to_answer_bail", 0.25),
    ("bail_breach", 0.12),
    ("rui_fresh_evidence", 0.08),
)
WANTED_CLOSED_STATUSES: tuple[tuple[str, float], ...] = (
    ("arrested", 0.72),
    ("located", 0.08),
    ("cancelled", 0.15),
    ("closed", 0.05),
)
# How an outstanding suspect was dealt with, spelled as the statuses of such an export are (capitalised): arrested,
# interviewed voluntarily, no further action, or closed without saying how.
SUSPECT_CLOSED_STATUSES: tuple[tuple[str, float], ...] = (
    ("Arrested", 0.60),
    ("Voluntary Attendance", 0.22),
    ("NFA", 0.10),
    ("Closed", 0.08),
)
BAIL_OUTCOMES: tuple[tuple[str, float], ...] = (
    ("charged", 0.40),
    ("nfa", 0.32),
    ("out_of_court_disposal", 0.13),
    ("converted_to_rui", 0.12),
    ("other", 0.03),
)
RUI_OUTCOMES: tuple[tuple[str, float], ...] = (
    ("charged", 0.28),
    ("nfa", 0.46),
    ("out_of_court_disposal", 0.11),
    ("converted_to_bail", 0.10),
    ("other", 0.05),
)

WANTED_HEADER = (
    "reference",
    "person_ref",
    "crime_ref",
    "Offence Group",
    "district",
    "reason",
    "Date Circulated",
    "Last Reviewed",
    "Date Closed",
    "status",
    "Officer in Case",
    "force",
)
SUSPECTS_HEADER = (
    "reference",
    "person_ref",
    "crime_ref",
    "offence",
    "district",
    "identified_on",
    "closed_on",
    "status",
    "oic",
    "force",
)
BAIL_HEADER = (
    "reference",
    "person_ref",
    "crime_ref",
    "offence",
    "district",
    "kind",
    "started_on",
    "Bail End Date",
    "ended_on",
    "outcome",
    "oic",
    "force",
)
HEADERS: dict[str, tuple[str, ...]] = {"wanted": WANTED_HEADER, "suspects": SUSPECTS_HEADER, "bail": BAIL_HEADER}

Row = tuple[str, ...]


def history_start(end: dt.date) -> dt.date:
    """First day of the 24-month window that ends on ``end`` (inclusive)."""
    return add_months(end, -HISTORY_MONTHS) + dt.timedelta(days=1)


def _table(pairs: Sequence[tuple[str, float]]) -> tuple[str, ...]:
    """A 1,000-slot lookup table: ``table[int(random() * 1000)]`` is a weighted choice in O(1)."""
    total = sum(w for _, w in pairs)
    out: list[str] = []
    acc = 0.0
    for value, w in pairs:
        acc += w / total * 1000
        out += [value] * (round(acc) - len(out))
    out += [pairs[-1][0]] * (1000 - len(out))
    return tuple(out)


class _Calendar:
    """Day-indexed date strings: index 0 is the first day of the backlog (:data:`BACKLOG_DAYS` before the history
    window), ``first`` the window's first day, ``last`` is ``end``."""

    def __init__(self, end: dt.date, *, future_days: int = 200) -> None:
        self.start = history_start(end) - dt.timedelta(days=BACKLOG_DAYS)
        self.first = BACKLOG_DAYS
        self.last = (end - self.start).days
        days = [self.start + dt.timedelta(days=i) for i in range(self.last + 1 + future_days)]
        self.iso = [d.isoformat() for d in days]
        self.uk = [d.strftime("%d/%m/%Y") for d in days]
        self.yy = [f"{d.year % 100:02d}" for d in days]
        self._months: dict[tuple[int, int], int] = {}

    def plus_months(self, i: int, months: int) -> int:
        key = (i, months)
        v = self._months.get(key)
        if v is None:
            v = self._months[key] = (add_months(self.start + dt.timedelta(days=i), months) - self.start).days
        return v


class _Common:
    """Per-file state shared by the three row generators: force/district/offence/officer choices."""

    def __init__(self, rnd: Random, cal: _Calendar, rows: int, district_labels: bool = False) -> None:
        self.rnd = rnd
        self.cal = cal
        self.offences = _table(OFFENCES)
        self.force_table = tuple(f for f in FORCES for _ in range(round(f.share * 1000)))
        self.districts = {
            f.slug: _table([((label if district_labels else slug), w) for slug, label, w in f.districts])
            for f in FORCES
        }
        # Officers: a stable pool of collar numbers per force (never names).
        self.officers = {f.slug: self._officer_pool(min(60 + rows // 200, 260)) for f in FORCES}
        # Repeat offenders: about 1.6 rows per person on average.
        self.people = max(500, int(rows / 1.6))

    def _officer_pool(self, size: int) -> tuple[str, ...]:
        """Collar numbers, never names: constables and detective constables with 4 digits, sergeants 3."""
        out = []
        for _ in range(size):
            rank = self.rnd.choice(("PC", "PC", "DC", "DC", "DS"))
            out.append(f"{rank} {self.rnd.randrange(100, 999) if rank == 'DS' else self.rnd.randrange(1000, 9999)}")
        return tuple(out)

    def force(self) -> DemoForce:
        return self.force_table[int(self.rnd.random() * len(self.force_table))]

    def opened_day(self) -> int:
        # Gently rising caseload: later days slightly more likely.
        return min(self.cal.last, int((self.rnd.random() ** 0.85) * (self.cal.last + 1)))

    def person(self) -> str:
        return f"P{1_000_000 + int(self.rnd.random() * self.people):07d}"

    def crime(self, f: DemoForce, day: int) -> str:
        return f"{f.crime_code}/{10000 + int(self.rnd.random() * 89999):05d}/{self.cal.yy[day]}"


def _case_duration(
    rnd: Random, short: float, medium: float, mean_short: float, mean_medium: float, mean_long: float
) -> int:
    """Days until a case closes: most within weeks, some within months, a long tail of months to years."""
    u = rnd.random()
    if u < short:
        return int(rnd.expovariate(1 / mean_short))
    if u < short + medium:
        return int(rnd.expovariate(1 / mean_medium))
    return int(rnd.expovariate(1 / mean_long))


def wanted_rows(rnd: Random, cal: _Calendar, rows: int) -> Iterator[Row]:
    c = _Common(rnd, cal, rows)
    reasons = _table(WANTED_REASONS)
    closed_statuses = _table(WANTED_CLOSED_STATUSES)
    iso, first, last, r = cal.iso, cal.first, cal.last, rnd.random
    n = 0
    while n < rows:
        opened = c.opened_day()
        closed = opened + _case_duration(rnd, 0.80, 0.15, 12, 90, 500)
        if closed < first:
            continue  # closed before the window: not in the export
        n += 1
        f = c.force()
        is_open = closed > last
        # Reviews every 28 days while open; most open circulations were reviewed in the last 28 days.
        upto = last if is_open else closed
        age = upto - opened
        if age < 28:
            reviewed: int | None = None if r() < 0.7 else opened + int(r() * (age + 1))
        elif is_open:
            u = r()
            if u < 0.84:
                reviewed = max(opened, last - int(r() * 28))
            elif u < 0.97:
                reviewed = max(opened, last - 29 - int(r() * min(age - 28, 150)))  # overdue review
            else:
                reviewed = None  # never reviewed: overdue since circulation
        else:
            reviewed = opened + 28 * (age // 28) - int(r() * 7)
        rv = "" if reviewed is None else iso[reviewed]
        yield (
            f"W-{n:07d}",
            c.person(),
            c.crime(f, opened),
            c.offences[int(r() * 1000)],
            c.districts[f.slug][int(r() * 1000)],
            reasons[int(r() * 1000)],
            iso[opened],
            rv,
            "" if is_open else iso[closed],
            "open" if is_open else closed_statuses[int(r() * 1000)],
            c.officers[f.slug][int(r() * len(c.officers[f.slug]))],
            f.slug,
        )


def suspect_rows(rnd: Random, cal: _Calendar, rows: int) -> Iterator[Row]:
    c = _Common(rnd, cal, rows)
    closed_statuses = _table(SUSPECT_CLOSED_STATUSES)
    uk, first, last, r = cal.uk, cal.first, cal.last, rnd.random
    n = 0
    while n < rows:
        opened = c.opened_day()
        closed = opened + _case_duration(rnd, 0.72, 0.20, 21, 100, 420)
        if closed < first:
            continue  # closed before the window: not in the export
        n += 1
        f = c.force()
        is_open = closed > last
        yield (
            f"S-{n:07d}",
            c.person(),
            c.crime(f, opened),
            c.offences[int(r() * 1000)],
            c.districts[f.slug][int(r() * 1000)],
            uk[opened],
            "" if is_open else uk[closed],
            "Open" if is_open else closed_statuses[int(r() * 1000)],
            c.officers[f.slug][int(r() * len(c.officers[f.slug]))],
            f.slug,
        )


@dataclass(frozen=True)
class _Continuation:
    """A period that follows another for the same person and crime (bail lapsed to RUI, RUI re-bailed)."""

    kind: str
    started: int
    person: str
    crime: str
    offence: str
    district: str
    force: DemoForce
    oic: str


def _bail_ladder_end(cal: _Calendar, started: int, at_least: int) -> int:
    """The current bail end date: 3 months (custody officer), extended to 6 (inspector), 9 (superintendent),
    then in 3-month steps by a magistrates' court — the first step on or after ``at_least``."""
    months = 3
    while True:
        e = cal.plus_months(started, months)
        if e >= at_least:
            return e
        months += 3


def bail_rows(rnd: Random, cal: _Calendar, rows: int) -> Iterator[Row]:
    c = _Common(rnd, cal, rows, district_labels=True)
    bail_outcomes = _table(BAIL_OUTCOMES)
    rui_outcomes = _table(RUI_OUTCOMES)
    iso, first, last, r = cal.iso, cal.first, cal.last, rnd.random
    pending: deque[_Continuation] = deque()
    n = 0
    while n < rows:
        if pending:
            p = pending.popleft()
            kind, started, person, crime, offence, district, f, oic = (
                p.kind,
                p.started,
                p.person,
                p.crime,
                p.offence,
                p.district,
                p.force,
                p.oic,
            )
        else:
            f = c.force()
            # Since October 2022 bail is presumed: a little over half of new periods are bail.
            kind = "bail" if r() < 0.56 else "rui"
            started = c.opened_day()
            person, crime = c.person(), c.crime(f, started)
            offence, district = c.offences[int(r() * 1000)], c.districts[f.slug][int(r() * 1000)]
            oic = c.officers[f.slug][int(r() * len(c.officers[f.slug]))]
        if kind == "bail":
            u = r()
            if u < 0.48:
                length = int(r() * 88)  # dealt with inside the first 3 months
            elif u < 0.78:
                length = 92 + int(r() * 88)  # extended once, to 6 months
            elif u < 0.92:
                length = 183 + int(r() * 88)  # extended twice, to 9 months
            else:
                length = 275 + int(rnd.expovariate(1 / 120))  # court extensions
            ended = started + length
            if ended > last:
                bail_end = _bail_ladder_end(cal, started, last)
                ended_s, outcome = "", ""
            else:
                bail_end = _bail_ladder_end(cal, started, ended)
                outcome = bail_outcomes[int(r() * 1000)]
                if outcome == "converted_to_rui":
                    # Bail not extended in time lapses: the person is released under investigation that day.
                    ended = min(bail_end, last)
                ended_s = iso[ended]
                if outcome == "converted_to_rui":
                    pending.append(_Continuation("rui", ended, person, crime, offence, district, f, oic))
                if ended < first:
                    continue  # ended before the window: not in the export (the RUI that followed may be)
            n += 1
            yield (
                f"B-{n:07d}",
                person,
                crime,
                offence,
                district,
                "bail",
                iso[started],
                iso[bail_end],
                ended_s,
                outcome,
                oic,
                f.slug,
            )
        else:
            # RUI has no time limit: a long tail runs well past 12 months.
            length = _case_duration(rnd, 0.35, 0.35, 60, 200, 420)
            ended = started + length
            if ended > last:
                ended_s, outcome = "", ""
            else:
                outcome = rui_outcomes[int(r() * 1000)]
                ended_s = iso[ended]
                if outcome == "converted_to_bail":
                    pending.append(_Continuation("bail", ended, person, crime, offence, district, f, oic))
                if ended < first:
                    continue  # ended before the window: not in the export (the bail that followed may be)
            n += 1
            yield (
                f"B-{n:07d}",
                person,
                crime,
                offence,
                district,
                "RUI",
                iso[started],
                "",
                ended_s,
                outcome,
                oic,
                f.slug,
            )


_GENERATORS: dict[str, Callable[[Random, _Calendar, int], Iterator[Row]]] = {
    "wanted": wanted_rows,
    "suspects": suspect_rows,
    "bail": bail_rows,
}


def _needs_quoting(value: str) -> bool:
    return any(ch in value for ch in ',"\r\n')


def _write(path: Path, header: Sequence[str], rows: Iterator[Row]) -> None:
    # Every value is either from the fixed vocabularies above (checked below) or digits, dates and hyphens, so
    # a plain join writes valid CSV; it is ~3x faster than csv.writer, which dominated the write time.
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(header) + "\n")
        while chunk := list(islice(rows, _CHUNK)):
            fh.write("".join([",".join(row) + "\n" for row in chunk]))
    # A half-written export must never be mistaken for a whole one.
    tmp.replace(path)


_VOCABULARY = [
    *(v for pairs in (OFFENCES, WANTED_REASONS, WANTED_CLOSED_STATUSES, BAIL_OUTCOMES, RUI_OUTCOMES) for v, _ in pairs),
    *(x for f in FORCES for d in f.districts for x in d[:2]),
    *(h for header in HEADERS.values() for h in header),
]
if any(_needs_quoting(v) for v in _VOCABULARY):  # pragma: no cover - guards edits to the tables above
    raise AssertionError("a demo vocabulary value needs CSV quoting; switch _write back to csv.writer")


def write_exports(out_dir: Path, *, rows: int = 5000, seed: int = 7, end: dt.date) -> dict[str, Path]:
    """Write ``wanted.csv``, ``suspects.csv`` and ``bail.csv`` (``rows`` rows each) into ``out_dir``.

    The same ``seed`` and ``end`` give byte-identical files. No date in them lies after ``end`` except a
    current bail end date, which is in the future for active bail by definition.
    """
    if rows < 1:
        raise ValueError("rows must be at least 1")
    out_dir.mkdir(parents=True, exist_ok=True)
    cal = _Calendar(end)
    paths: dict[str, Path] = {}
    for dataset in DATASETS:
        # One independent stream per file, so changing one generator never reshuffles the others.
        rnd = Random(f"mo-bot-demo:{seed}:{dataset}")
        path = out_dir / FILE_NAMES[dataset]
        _write(path, HEADERS[dataset], _GENERATORS[dataset](rnd, cal, rows))
        paths[dataset] = path
    return paths
