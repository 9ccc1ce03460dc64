"""Benchmark: the design point — wanted circulations at 1M and 10M rows on PostgreSQL, in one run.

    python -m bench.bench_scale [--sizes 1000000,10000000] [--repeat 15] [--out FILE]

For each size, on a fresh PostgreSQL database, with a deterministic wanted export of that many rows (one force,
about 5 % of circulations still open — ~500k open at 10M — the rest closed over two years):

1. ``floor``: csv.reader over the file and COPY into a plain table (``bench.bench_import``'s floor, same run);
2. ``fresh``: `mo-bot import wanted FILE` into the empty table (a separate process: wall time and peak RSS);
3. ``unchanged``: the same file again a day later (the import that records only its new as-of date);
4. figures for today (the latest import's date), 45 days and 11 months back, and the 13-month series: 2 warm-ups, then
   ``--repeat`` calls each, p50 and p99; beside them the same-run floor ``count(*)`` of the table;
5. ``revised``: the export two days later with 5 % of its rows revised (a review recorded), then the figures at
   the earlier date again (now counted as known then);
6. ``snapshot``: the revised file again as a ``--snapshot`` three days later.

The growth columns divide each 10M figure by its 1M figure: 1.0 is "cost does not grow with the rows".
Everything else the issue's acceptance asks at 10M (first answers after an import at c=8 on a 10M demo
database, SQLite at 1M) is measured by ``bench.bench_after_import`` and ``bench.bench_history``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_import import _drop_db, _fresh_db
from bench.common import PG_ADMIN_URL, emit, machine_info, run_measured, time_session_calls

AS_OF = dt.date(2026, 11, 23)
HEADER = ["reference", "person_ref", "offence", "district", "reason", "circulated_on", "last_reviewed_on",
          "closed_on", "status"]  # fmt: skip
OFFENCES = ("violence", "burglary", "theft", "drugs", "sexual", "criminal-damage", "fraud", "public-order")
DISTRICTS = ("ipswich", "bury-st-edmunds", "lowestoft")
REASONS = ("never_arrested", "failed_to_answer_bail", "bail_breach", "rui_fresh_evidence")


def write_export(path: Path, rows: int, *, revised: bool = False, seed: int = 11) -> None:
    """``rows`` circulations opened over the two years before AS_OF, ~5 % still open. ``revised``: the same
    export with every 20th row's last review moved to the day before AS_OF (the same random draws, so every
    other row is byte-identical)."""
    rnd = random.Random(seed)
    start = AS_OF - dt.timedelta(days=730)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i in range(rows):
            circ = start + dt.timedelta(days=rnd.randrange(730))
            age = (AS_OF - circ).days
            is_open = rnd.random() < 0.05
            closed = None if is_open else circ + dt.timedelta(days=rnd.randrange(age + 1))
            reviewed = circ + dt.timedelta(days=rnd.randrange(age + 1)) if rnd.random() < 0.7 else None
            if closed is not None and reviewed is not None and reviewed > closed:
                reviewed = closed
            if revised and i % 20 == 0:
                reviewed = max(circ, (closed or AS_OF) - dt.timedelta(days=1))
            w.writerow(
                [
                    f"WS-{i:09d}",
                    f"P{rnd.randrange(10**8):08d}",
                    OFFENCES[rnd.randrange(len(OFFENCES))],
                    DISTRICTS[rnd.randrange(3)],
                    REASONS[rnd.randrange(4)],
                    circ.isoformat(),
                    reviewed.isoformat() if reviewed else "",
                    closed.isoformat() if closed else "",
                    "closed" if closed else "open",
                ]
            )


def _import(url: str, file: Path, as_of: dt.date, *extra: str) -> dict[str, Any]:
    mo_bot = str(Path(sys.executable).parent / "mo-bot")
    config = file.parent / "bench-scale.toml"
    # The force system's full export: past a worksheet's limit in Excel, as a deployment at this scale allows.
    config.write_text("import_max_csv_rows = 20000000\n", encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": url, "MO_CONFIG": str(config)}
    m = run_measured([mo_bot, "import", "wanted", str(file), "--as-of", as_of.isoformat(), *extra], env=env)
    if m.returncode != 0:
        raise SystemExit(f"import failed: {m.stdout[-2000:]} {m.stderr[-2000:]}")
    return {"seconds": round(m.seconds, 2), "peak_rss_mb": round(m.peak_rss_mb, 1)}


def _figures(url: str, repeat: int, today: dt.date) -> dict[str, dict[str, Any]]:
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from bot.config import load_config
    from bot.db import make_engine
    from bot.figures import Filters, monthly_series, wanted_figures

    engine = make_engine(url)
    config = load_config(database_url=url)
    force = config.force("suffolk")
    past = today - dt.timedelta(days=45)
    cases = {
        "floor: count(*) of the table": lambda s: s.execute(text("SELECT count(*) FROM wanted")).scalar_one(),
        "wanted today": lambda s: wanted_figures(s, force, today, review_days=28),
        "wanted --district ipswich today": lambda s: wanted_figures(s, force, today, Filters(district="ipswich")),
        "series wanted 13m": lambda s: monthly_series(s, "wanted", force, today, 13),
        "wanted 45 days back": lambda s: wanted_figures(s, force, past, review_days=28),
        "wanted 11 months back": lambda s: wanted_figures(s, force, today - dt.timedelta(days=335), review_days=28),
        "wanted --reason bail_breach --offence drugs today": lambda s: wanted_figures(
            s, force, today, Filters(reason="bail_breach", offence="drugs"), review_days=28
        ),
    }
    out = {}
    try:
        for name, fn in cases.items():
            with Session(engine) as s:
                out[name] = time_session_calls(s, fn, repeat=repeat)
    finally:
        engine.dispose()
    return out


def _vacuum(url: str) -> None:
    from sqlalchemy import text

    from bot.db import make_engine

    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(text("VACUUM (ANALYZE) wanted"))
    engine.dispose()


def run_size(rows: int, repeat: int, work: Path) -> dict[str, Any]:
    def note(msg: str) -> None:
        print(f"bench_scale [{rows:,}]: {msg}", file=sys.stderr, flush=True)

    base, revised = work / f"wanted-{rows}.csv", work / f"wanted-{rows}-revised.csv"
    t0 = time.perf_counter()
    write_export(base, rows)
    write_export(revised, rows, revised=True)
    note(f"files written in {time.perf_counter() - t0:.0f} s")
    url, handle = _fresh_db("postgresql", work, PG_ADMIN_URL)
    try:
        m = run_measured([sys.executable, "-m", "bench.bench_import", "--floor-child", url, str(base)])
        floor = json.loads(m.stdout.strip().splitlines()[-1])
        out: dict[str, Any] = {"rows": rows, "floor_seconds": round(floor["seconds"], 2)}
        out["fresh"] = _import(url, base, AS_OF)
        note(f"floor {out['floor_seconds']} s, fresh import {out['fresh']['seconds']} s")
        out["unchanged"] = _import(url, base, AS_OF + dt.timedelta(days=1))
        _vacuum(url)  # as autovacuum would soon after a load: the visibility map for index-only scans
        out["figures"] = _figures(url, repeat, AS_OF + dt.timedelta(days=1))
        note("figures measured; revised export")
        out["revised"] = _import(url, revised, AS_OF + dt.timedelta(days=2))
        _vacuum(url)
        out["figures_after_revision"] = _figures(url, repeat, AS_OF + dt.timedelta(days=2))
        out["snapshot"] = _import(url, revised, AS_OF + dt.timedelta(days=3), "--snapshot")
        note(f"revised {out['revised']['seconds']} s, snapshot {out['snapshot']['seconds']} s")
        fresh = out["fresh"]["seconds"]
        out["ratios"] = {
            "fresh_to_floor_rate": round(out["floor_seconds"] / fresh, 3),
            "revised_to_fresh_time": round(out["revised"]["seconds"] / fresh, 3),
            "snapshot_to_fresh_time": round(out["snapshot"]["seconds"] / fresh, 3),
        }
        return out
    finally:
        _drop_db("postgresql", handle, PG_ADMIN_URL)
        base.unlink(missing_ok=True)
        revised.unlink(missing_ok=True)


def _markdown(runs: list[dict[str, Any]]) -> str:
    lines = ["| rows | what | value |", "|---:|---|---|"]
    for r in runs:
        n = f"{r['rows']:,}"
        lines.append(f"| {n} | floor (csv.reader + COPY) | {r['floor_seconds']} s |")
        for k in ("fresh", "unchanged", "revised", "snapshot"):
            lines.append(f"| {n} | import {k} | {r[k]['seconds']} s, peak RSS {r[k]['peak_rss_mb']} MB |")
        lines.append(f"| {n} | ratios | {r['ratios']} |")
        for phase in ("figures", "figures_after_revision"):
            for q, v in r[phase].items():
                lines.append(f"| {n} | {phase}: {q} | p50 {v['p50_ms']} ms, p99 {v.get('p99_ms')} ms |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("--sizes", default="1000000,10000000", help="comma-separated row counts")
    p.add_argument("--repeat", type=int, default=15)
    p.add_argument("--quick", action="store_true", help="50,000 and 200,000 rows, 3 repeats")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    sizes = [50_000, 200_000] if args.quick else [int(x) for x in args.sizes.split(",") if x]
    repeat = 3 if args.quick else args.repeat
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    load0 = os.getloadavg()[0]
    try:
        runs = [run_size(n, repeat, work) for n in sizes]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    growth: dict[str, float] = {}
    if len(runs) >= 2:
        small, big = runs[0], runs[-1]
        for phase in ("figures", "figures_after_revision"):
            for q, v in big[phase].items():
                growth[f"{phase}: {q}"] = round(v["p50_ms"] / max(small[phase][q]["p50_ms"], 1e-6), 2)
        for k in ("fresh", "unchanged", "revised", "snapshot"):
            growth[f"import {k} seconds"] = round(big[k]["seconds"] / max(small[k]["seconds"], 1e-6), 2)
    emit(
        {
            "name": "scale",
            "machine": machine_info(),
            "load_average_1m": [round(load0, 2), round(os.getloadavg()[0], 2)],
            "runs": runs,
            "growth_largest_over_smallest": growth,
            "markdown": _markdown(runs),
        },
        args.out,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
