"""Benchmark: latency of each figures query on 1,000,000-row tables, SQLite and PostgreSQL, with plans.

    python -m bench.bench_figures --rows 1000000 --db sqlite|postgres|both [--repeat 20] [--out FILE]

Each of wanted, suspect and bail_period gets ``--rows`` synthetic rows generated inside the database by one
bulk INSERT … SELECT (SQLite: a recursive CTE with random(); PostgreSQL: generate_series with random()),
far faster than the import path and independent of it. Spread: 24 months of history up to the as-of date,
Suffolk (three districts) 75 % and Norfolk 25 %, twelve offence groups, four wanted reasons, ~7–9 % open,
a long tail of slow closures; bail 40 % / RUI 60 %, bail end dates on the 3-month ladder. Then ANALYZE,
and each figures function (wanted, suspects, bail, and the 13-month series of each) is timed: 2 warm-up
calls, then ``--repeat`` timed calls; medians and spread in ms. The plan of every statement each function
issues is captured (EXPLAIN QUERY PLAN / EXPLAIN ANALYZE) and included in the JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from bench.common import emit, fresh_database, postgres_available, spread
from bot.config import load_config
from bot.db import make_engine
from bot.figures import Filters, bail_figures, monthly_series, suspect_figures, wanted_figures
from bot.figures.day_counts import rebuild_day_counts
from bot.figures.month_flow import rebuild_month_flows

AS_OF = dt.date(2026, 11, 23)
OFFENCES = (
    "violence",
    "burglary",
    "theft",
    "robbery",
    "drugs",
    "sexual offences",
    "criminal damage",
    "public order",
    "weapons",
    "fraud",
    "vehicle offences",
    "domestic abuse",
)
REASONS = ("never_arrested", "failed_to_answer_bail", "bail_breach", "rui_fresh_evidence")
SUFFOLK = ("ipswich", "bury-st-edmunds", "lowestoft")
NORFOLK = ("norwich", "kings-lynn", "great-yarmouth")


def _pick(expr: str, values: tuple[str, ...]) -> str:
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"CASE {expr} {whens} END"


def _district(pd: str) -> str:
    # 45 / 30 / 25 % across each force's three districts; every fourth row is Norfolk's.
    return (
        f"CASE WHEN i % 4 = 0 THEN (CASE WHEN {pd} < 45 THEN '{NORFOLK[0]}' WHEN {pd} < 75 THEN '{NORFOLK[1]}' "
        f"ELSE '{NORFOLK[2]}' END) ELSE (CASE WHEN {pd} < 45 THEN '{SUFFOLK[0]}' WHEN {pd} < 75 THEN "
        f"'{SUFFOLK[1]}' ELSE '{SUFFOLK[2]}' END) END"
    )


def _sqlite_rand(k: int) -> str:
    return f"(abs(random()) % {k})"


def _pg_rand(k: int) -> str:
    return f"floor(random() * {k})::int"


def _generate(engine: Engine, rows: int) -> None:
    """Fill the three tables. Ages are days before AS_OF; cage (closed age) is NULL for open rows."""
    pg = engine.dialect.name == "postgresql"
    rnd = _pg_rand if pg else _sqlite_rand
    if pg:
        seq = f"(SELECT g AS i FROM generate_series(1, {rows}) g) seq"

        def day(age: str) -> str:
            return f"(DATE '{AS_OF.isoformat()}' - ({age}))"

    else:
        seq = "seq"

        def day(age: str) -> str:
            # A signed modifier ("-300 days", "45 days"): '-' || age gave "--45 days" for a date after AS_OF,
            # which SQLite reads as NULL (every open bail period had no end date).
            return f"date('{AS_OF.isoformat()}', (-({age})) || ' days')"

    base = (
        f"SELECT i, {rnd(731)} AS age, {rnd(100)} AS p_open, {rnd(100)} AS pd, {rnd(len(OFFENCES))} AS off, "
        f"{rnd(4)} AS rs, {rnd(1000000)} AS rv, {rnd(10)} AS rk, "
        f"{rnd(45)} + CASE WHEN {rnd(10)} = 0 THEN {rnd(365)} ELSE 0 END AS dur FROM {seq}"
    )
    # Open: 3 % never closed, plus every row whose closure would fall after AS_OF.
    cage = "CASE WHEN p_open < 3 OR dur > age THEN NULL ELSE age - dur END AS cage"
    if pg:
        with_seq = ""
        shaped = f"SELECT r.*, {cage} FROM ({base}) r"
    else:
        # MATERIALIZED: otherwise SQLite flattens the subquery and draws a new random() at every reference.
        with_seq = (
            f"WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {rows}), "
            f"r AS MATERIALIZED ({base}) "
        )
        shaped = f"SELECT r.*, {cage} FROM r"
    force = "CASE WHEN i % 4 = 0 THEN 'norfolk' ELSE 'suffolk' END"
    closed = f"CASE WHEN cage IS NULL THEN NULL ELSE {day('cage')} END"
    status = "CASE WHEN cage IS NULL THEN 'open' ELSE 'closed' END"
    reviewed = f"CASE WHEN rv % 5 = 0 THEN NULL ELSE {day('age - rv % (age - coalesce(cage, 0) + 1)')} END"
    stmts = [
        f"{with_seq}INSERT INTO wanted (force, reference, offence, district, reason, circulated_on, "
        f"last_reviewed_on, closed_on, status) SELECT {force}, 'W' || i, {_pick('off', OFFENCES)}, "
        f"{_district('pd')}, {_pick('rs', REASONS)}, {day('age')}, {reviewed}, {closed}, {status} FROM ({shaped}) s",
        f"{with_seq}INSERT INTO suspect (force, reference, offence, district, identified_on, closed_on, status) "
        f"SELECT {force}, 'S' || i, {_pick('off', OFFENCES)}, {_district('pd')}, {day('age')}, {closed}, {status} "
        f"FROM ({shaped}) s",
        # Bail: the current end date is the next rung of the 3-month ladder after the period's length so far.
        f"{with_seq}INSERT INTO bail_period (force, reference, offence, district, kind, started_on, bail_end_on, "
        f"ended_on) SELECT {force}, 'B' || i, {_pick('off', OFFENCES)}, {_district('pd')}, "
        f"CASE WHEN rk < 4 THEN 'bail' ELSE 'rui' END, {day('age')}, "
        f"CASE WHEN rk < 4 THEN {day('age - 91 * (1 + (age - coalesce(cage, 0)) / 91)')} END, {closed} "
        f"FROM ({shaped}) s",
    ]
    with engine.begin() as c:
        for s in stmts:
            c.execute(text(s))
        for force_slug in ("suffolk", "norfolk"):
            for ds in ("wanted", "suspects", "bail"):
                c.execute(
                    text(
                        "INSERT INTO import_batch (force, dataset, file_name, file_sha256, as_of, snapshot, "
                        "rows_in_file, rows_added, rows_updated, rows_closed, rows_unchanged, imported_at, "
                        "imported_by) VALUES (:f, :d, 'bench.csv', :sha, :a, false, 0, 0, 0, 0, 0, :t, 'bench')"
                    ),
                    {
                        "f": force_slug,
                        "d": ds,
                        "sha": "0" * 64,
                        "a": AS_OF,
                        "t": dt.datetime(2026, 11, 23, 6, 0)
                        if not pg
                        else dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC),
                    },
                )
    # The month flows the series reads, built as every import builds them (one grouped pass per force and
    # dataset), stamped with the batches above.
    # And the day counts every figure reads (bot/figures/day_counts.py), counted from the rows as an initial load does.
    with Session(engine) as s:
        for force_slug in ("suffolk", "norfolk"):
            for ds in ("wanted", "suspects", "bail"):
                rebuild_month_flows(s, ds, force_slug)
                rebuild_day_counts(s, ds, force_slug, review_days=28)
        s.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("ANALYZE"))
        if pg:
            # Index-only scans need the visibility map set; production gets it from autovacuum.
            for t in ("wanted", "suspect", "bail_period"):
                c.execute(text(f"VACUUM {t}"))


class StatementLog:
    """Records the statements a figures function issues, to explain them afterwards."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements: list[tuple[str, Any]] = []
        self.active = False
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if self.active:
            self.statements.append((statement, parameters))


def _explain(engine: Engine, log: StatementLog, fn: Callable[[Session], object]) -> list[dict[str, Any]]:
    log.statements.clear()
    log.active = True
    with Session(engine) as s:
        fn(s)
    log.active = False
    out = []
    pg = engine.dialect.name == "postgresql"
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for stmt, params in log.statements:
            if "import_batch" in stmt:
                continue  # the data_as_of lookup: one row by index
            prefix = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " if pg else "EXPLAIN QUERY PLAN "
            t0 = time.perf_counter()
            cur.execute(prefix + stmt, params)
            rows = cur.fetchall()
            ms = (time.perf_counter() - t0) * 1000
            plan = [r[0] for r in rows] if pg else [f"{'  ' * _depth(rows, r)}{r[3]}" for r in rows]
            out.append({"sql": " ".join(stmt.split())[:600], "explain_ms": round(ms, 2), "plan": plan})
        cur.close()
    finally:
        raw.close()
    return out


def _depth(rows: list[Any], row: Any) -> int:
    parents = {r[0]: r[1] for r in rows}
    d, p = 0, row[1]
    while p in parents:
        d, p = d + 1, parents[p]
    return d


def _cases(config: Any) -> dict[str, Callable[[Session], object]]:
    suffolk = config.force("suffolk")
    ipswich = Filters(district="ipswich")
    return {
        "wanted": lambda s: wanted_figures(s, suffolk, AS_OF, review_days=28),
        "wanted --district ipswich": lambda s: wanted_figures(s, suffolk, AS_OF, ipswich),
        "suspects": lambda s: suspect_figures(s, suffolk, AS_OF),
        "bail": lambda s: bail_figures(s, suffolk, AS_OF, ending_within_days=config.bail_ending_soon_days),
        "series wanted 13m": lambda s: monthly_series(s, "wanted", suffolk, AS_OF, 13),
        "series suspects 13m": lambda s: monthly_series(s, "suspects", suffolk, AS_OF, 13),
        "series bail 13m": lambda s: monthly_series(s, "bail", suffolk, AS_OF, 13, kind="bail"),
        "series rui 13m": lambda s: monthly_series(s, "bail", suffolk, AS_OF, 13, kind="rui"),
    }


def measure(url: str, case: str, rows: int, repeat: int, *, build: bool = True) -> dict[str, Any]:
    engine = make_engine(url)
    config = load_config(database_url=url)
    t0 = time.perf_counter()
    if build:
        _generate(engine, rows)
    build_s = time.perf_counter() - t0
    with engine.connect() as c:
        counts = {
            t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in ("wanted", "suspect", "bail_period")
        }
        open_wanted = c.execute(text("SELECT count(*) FROM wanted WHERE closed_on IS NULL")).scalar_one()
    log = StatementLog(engine)
    results: list[dict[str, Any]] = []
    # Calibration, measured in the same run (FLOORS.md: ratios hold better than absolute times on a shared
    # machine): a full count(*) of the 1M-row table (FLOORS: 1.6 ms on SQLite), and a range count stepping
    # every Suffolk index entry, the unit of work the figures queries are made of.
    floors = {
        "floor: count(*) full table": "SELECT count(*) FROM wanted",
        "floor: range count, every suffolk entry": "SELECT count(*) FROM wanted WHERE force = 'suffolk'",
    }
    for name, sql in floors.items():
        with engine.connect() as c:
            for _ in range(2):
                c.execute(text(sql)).scalar_one()
            samples = []
            for _ in range(repeat):
                t = time.perf_counter()
                c.execute(text(sql)).scalar_one()
                samples.append(time.perf_counter() - t)
        results.append({"db": case, "query": name, "rows": counts["wanted"], **spread(samples)})
    plans: dict[str, Any] = {}
    for name, fn in _cases(config).items():
        with Session(engine) as s:
            for _ in range(2):
                fn(s)
                s.rollback()
            samples = []
            cpu = []
            for _ in range(repeat):
                t, c0 = time.perf_counter(), time.process_time()
                fn(s)
                samples.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c0)
                s.rollback()
        # Client CPU per call: on SQLite that is the query's own work (in-process), robust to other load on
        # the machine; on PostgreSQL the work is in the server and this is only the client's share.
        cpu_ms = round(sorted(cpu)[len(cpu) // 2] * 1000, 3)
        results.append({"db": case, "query": name, "rows": counts["wanted"], **spread(samples), "cpu_p50_ms": cpu_ms})
        plans[name] = _explain(engine, log, fn)
    engine.dispose()
    return {
        "db": case,
        "build_seconds": round(build_s, 1),
        "table_rows": counts,
        "wanted_open_share": round(open_wanted / max(1, counts["wanted"]), 3),
        "results": results,
        "plans": plans,
    }


def _markdown(runs: list[dict[str, Any]]) -> str:
    lines = [
        "| db | query | p50 ms | p90 ms | min ms | max ms | client CPU p50 ms |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        for r in run["results"]:
            lines.append(
                f"| {r['db']} | {r['query']} | {r['p50_ms']} | {r['p90_ms']} | {r['min_ms']} | {r['max_ms']} "
                f"| {r.get('cpu_p50_ms', '')} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000, help="rows per table (default 1,000,000)")
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--repeat", type=int, default=20, help="timed calls per query after 2 warm-up calls")
    p.add_argument("--quick", action="store_true", help="20,000 rows and 5 repeats")
    p.add_argument("--out", type=Path, help="write the JSON result here (default: stdout)")
    p.add_argument("--url", help="measure an existing, already filled database instead of building one")
    args = p.parse_args(argv)
    rows, repeat = (20_000, 5) if args.quick else (args.rows, args.repeat)
    runs = []
    if args.url:
        runs.append(measure(args.url, make_engine(args.url).dialect.name, rows, repeat, build=False))
    else:
        kinds = ["sqlite", "postgresql"] if args.db == "both" else ["postgresql" if args.db == "postgres" else "sqlite"]
        for kind in kinds:
            if kind == "postgresql" and not postgres_available():
                runs.append({"db": kind, "skipped": "PostgreSQL not reachable", "results": [], "plans": {}})
                continue
            with fresh_database(kind) as url:
                runs.append(measure(url, kind, rows, repeat))
    result = {
        "name": "figures",
        "as_of": AS_OF.isoformat(),
        "rows_per_table": rows,
        "repeat": repeat,
        "results": [r for run in runs for r in run["results"]],
        "runs": runs,
        "markdown": _markdown(runs),
    }
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
