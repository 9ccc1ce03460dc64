"""Benchmark: the whole monthly summary — every query plus the four charts — on the demo database.

    python -m bench.bench_summary [--quick] [--rows N] [--db URL] [--runs 5] [--month YYYY-MM] [--out FILE]

Without ``--db`` it builds the demo (``load_demo``, the real import path: ``--rows`` per dataset, 1,000,000
by default, 20,000 with ``--quick``) in a fresh SQLite database; with ``--db`` it measures an existing demo
database (e.g. one made by ``mo-bot demo --rows 1000000``). Then, in this process:

* ``summary_queries``: ``build_summary`` (the figures services for two month ends, the four 13-month series,
  length bands per district, the action-log counts), ``--runs`` times after one warm-up;
* each chart warm: ``--runs`` renders after one warm-up (targets: ≤ 300 ms each);
* ``whole_summary_warm``: queries + four charts, ``--runs`` times (target: ≤ 5 s);
* ``whole_summary_cold``: the same once in a fresh interpreter, matplotlib import included (wall and CPU).

Wall times on a shared 2-core machine move with the neighbours' load; the CPU time of this process is
reported next to them (``cpu_*``) and the load average is recorded.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.common import emit, fresh_database, parse_args, python_step, spread, workdir

TARGET_WHOLE_S = 5.0
TARGET_CHART_MS = 300.0


def _measure(fn: Callable[[], object], runs: int) -> dict[str, Any]:
    fn()  # warm-up: caches, the first matplotlib draw
    wall, cpu = [], []
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    out = spread(wall)
    out["cpu_p50_ms"] = round(statistics.median(cpu) * 1000, 1)
    return out


def _build_demo(url: str, rows: int) -> float:
    from bot.config import load_config
    from bot.demo.load import load_demo
    from bot.runtime import Runtime

    rt = Runtime.create(load_config(database_url=url))
    t0 = time.perf_counter()
    load_demo(rt, rows=rows, workdir=workdir() / "summary-demo")
    rt.engine.dispose()
    return time.perf_counter() - t0


COLD = """
import datetime as dt, time
t0 = time.perf_counter()
from bot.summary.charts import render_all
from bot.clock import SystemClock, today_in
from bot.config import load_config
from bot.db import make_engine, make_session_factory
from bot.summary.monthly import build_summary
cfg = load_config(database_url={url!r})
force = cfg.force("suffolk")
with make_session_factory(make_engine(cfg.database_url))() as s:
    summary = build_summary(s, cfg, force, {month!r}, today_in(SystemClock(), force.timezone), dt.datetime.now(dt.UTC))
charts = render_all(summary)
assert len(charts) == 4
print(time.perf_counter() - t0)
"""


def measure(url: str, month: str, runs: int) -> list[dict[str, Any]]:
    from bot.clock import SystemClock, today_in
    from bot.config import load_config
    from bot.db import make_engine, make_session_factory
    from bot.summary import charts as ch
    from bot.summary.monthly import build_summary

    cfg = load_config(database_url=url)
    force = cfg.force("suffolk")
    sessions = make_session_factory(make_engine(cfg.database_url))
    today = today_in(SystemClock(), force.timezone)

    def queries() -> Any:
        with sessions() as s:
            return build_summary(s, cfg, force, month, today, dt.datetime.now(dt.UTC))

    summary = queries()
    if not summary.has_data:
        raise SystemExit(f"no data for {month} in {url}: pick a month the demo covers (--month)")
    results: list[dict[str, Any]] = [
        {"case": "summary_queries", "rows_wanted_open": summary.headline("wanted").now, **_measure(queries, runs)}
    ]
    for make in ch.CHARTS:
        stats = _measure(lambda make=make: make(summary), runs)
        results.append({"case": f"chart_{make.__name__}", "target_ms": TARGET_CHART_MS, **stats})
    whole = _measure(lambda: ch.render_all(queries()), runs)
    results.append({"case": "whole_summary_warm", "target_ms": TARGET_WHOLE_S * 1000, **whole})
    cold = python_step(COLD.format(url=url, month=month))
    if cold.returncode != 0:
        raise SystemExit(cold.stderr)
    results.append(
        {
            "case": "whole_summary_cold (fresh interpreter, imports included)",
            "seconds_wall": round(cold.seconds, 3),
            "seconds_cpu": round(cold.cpu_seconds, 3),
            "peak_rss_mb": round(cold.peak_rss_mb, 1),
        }
    )
    return results


def markdown(results: list[dict[str, Any]], rows: int | None, db: str) -> str:
    lines = [
        f"Monthly summary on the demo database ({f'{rows:,} rows per dataset, ' if rows else ''}{db}); "
        "medians of warm runs after one warm-up.",
        "",
        "| step | p50 ms | min–max ms | CPU p50 ms | target |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        if "p50_ms" in r:
            target = f"≤ {r['target_ms']:,.0f} ms" if "target_ms" in r else ""
            ok = "" if not target else (" ✓" if r["p50_ms"] <= r["target_ms"] else " ✗")
            lines.append(
                f"| {r['case']} | {r['p50_ms']:,.0f} | {r['min_ms']:,.0f}–{r['max_ms']:,.0f} | "
                f"{r['cpu_p50_ms']:,.0f} | {target}{ok} |"
            )
        else:
            lines.append(
                f"| {r['case']} | {r['seconds_wall'] * 1000:,.0f} (wall) | | {r['seconds_cpu'] * 1000:,.0f} | "
                f"peak RSS {r['peak_rss_mb']} MB |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--db")
    pre.add_argument("--runs", type=int)
    pre.add_argument("--month", default=None)
    extra, rest = pre.parse_known_args(argv)
    args = parse_args(__doc__.splitlines()[0], rest)
    runs = extra.runs or (2 if args.quick else 5)
    rows = args.rows or (20_000 if args.quick else 1_000_000)
    # The last complete month: the demo ends today, so it covers the whole of it.
    today = dt.date.today()
    month = extra.month or (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    load = os.getloadavg()[0]
    if extra.db:
        results = measure(extra.db, month, runs)
        db_label, built = "given database", None
    else:
        with fresh_database("sqlite") as url:
            built = _build_demo(url, rows)
            results = measure(url, month, runs)
        db_label = "SQLite"
    notes = f"load average at start {load:.2f}; month {month}"
    if built is not None:
        notes += f"; demo built in {built:.0f} s"
    emit(
        {
            "name": "summary",
            "rows": None if extra.db else rows,
            "month": month,
            "quick": args.quick,
            "results": results,
            "markdown": markdown(results, None if extra.db else rows, db_label),
            "notes": notes,
        },
        args.out,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
