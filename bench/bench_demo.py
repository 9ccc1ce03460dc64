"""Demo generator and `mo-bot demo`: time, throughput and peak RSS.

Cases (each step in a fresh child process, so its peak RSS is its own):

* ``write_exports`` — 3 files of N rows each (N = 1,000,000; 10,000 with --quick), three runs, median/min/max;
* ``mo-bot demo --rows N`` into a fresh SQLite file, and into a fresh PostgreSQL database when reachable:
  write + import of the three files + the seed action log through the real import path.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import sys
from pathlib import Path
from typing import Any

from bench.common import emit, fresh_database, parse_args, postgres_available, python_step, run_measured, workdir

_WRITE = """
import datetime as dt, json, time
from pathlib import Path
from bot.demo import write_exports
t, c = time.perf_counter(), time.process_time()
paths = write_exports(Path({out!r}), rows={rows}, seed=7, end=dt.date.today())
s, cpu = time.perf_counter() - t, time.process_time() - c
print(json.dumps({{"seconds": s, "cpu": cpu, "bytes": sum(p.stat().st_size for p in paths.values())}}))
"""
_STEPS = re.compile(r"\(seconds: (.*?)\)")


def bench_write(rows: int, runs: int) -> dict[str, Any]:
    out = workdir() / "exports"
    samples, cpu, rss, size = [], [], [], 0
    for _ in range(runs):
        m = python_step(_WRITE.format(out=str(out), rows=rows))
        if m.returncode != 0:
            raise RuntimeError(f"write_exports failed:\n{m.stderr[-2000:]}")
        data = json.loads(m.stdout.strip().splitlines()[-1])
        samples.append(data["seconds"])
        cpu.append(data["cpu"])
        rss.append(m.peak_rss_mb)
        size = data["bytes"]
    med = statistics.median(samples)
    return {
        "case": "write_exports (3 files)",
        "rows_per_file": rows,
        "rows_total": 3 * rows,
        "runs": runs,
        "seconds_median": round(med, 2),
        "seconds_min": round(min(samples), 2),
        "seconds_max": round(max(samples), 2),
        "rows_per_s": int(3 * rows / med),
        "cpu_seconds_median": round(statistics.median(cpu), 2),
        "rows_per_cpu_s": int(3 * rows / statistics.median(cpu)),
        "peak_rss_mb": round(max(rss), 1),
        "mb_written": round(size / 1e6, 1),
    }


def mo_bot() -> list[str]:
    """The installed console script when there is one (what a user runs), else the same entry point."""
    script = Path(sys.executable).with_name("mo-bot")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from commands.cli import main; sys.exit(main())"]


def bench_demo_command(kind: str, rows: int) -> dict[str, Any]:
    with fresh_database(kind) as url:
        cwd = workdir() / f"demo-{kind}"
        cwd.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "DATABASE_URL": url}
        env.pop("MO_CONFIG", None)
        m = run_measured([*mo_bot(), "demo", "--rows", str(rows)], env=env, cwd=cwd)
    if m.returncode != 0:
        # Keep the error's start (the exception) and its end; SQL errors put kilobytes of parameters between.
        err = m.stderr if len(m.stderr) < 3000 else m.stderr[:1500] + "\n[…]\n" + m.stderr[-1500:]
        return {"case": f"mo-bot demo --rows {rows} ({kind})", "database": kind, "error": err}
    found = _STEPS.search(m.stdout)
    steps = {}
    if found:
        for part in found.group(1).split(","):
            k, v = part.split()
            steps[k] = float(v)
    imported = sum(v for k, v in steps.items() if k in ("wanted", "suspects", "bail"))
    return {
        "case": f"mo-bot demo --rows {rows} ({kind})",
        "database": kind,
        "rows_per_file": rows,
        "rows_total": 3 * rows,
        "seconds_wall": round(m.seconds, 2),
        "cpu_seconds": round(m.cpu_seconds, 2),
        "seconds_write": round(steps.get("write", 0.0), 2),
        "seconds_import_wanted": round(steps.get("wanted", 0.0), 2),
        "seconds_import_suspects": round(steps.get("suspects", 0.0), 2),
        "seconds_import_bail": round(steps.get("bail", 0.0), 2),
        "import_rows_per_s": int(3 * rows / imported) if imported else None,
        "peak_rss_mb": round(m.peak_rss_mb, 1),
    }


def markdown(results: list[dict[str, Any]]) -> str:
    w = results[0]
    lines = [
        "| step | rows (3 files) | seconds (median, min–max of runs) | rows/s | CPU s (median) | rows per CPU s "
        "| peak RSS MB | MB written |",
        "|---|---|---|---|---|---|---|---|",
        f"| write_exports | {w['rows_total']:,} | {w['seconds_median']} ({w['seconds_min']}–{w['seconds_max']}, "
        f"{w['runs']} runs) | {w['rows_per_s']:,} | {w['cpu_seconds_median']} | {w['rows_per_cpu_s']:,} "
        f"| {w['peak_rss_mb']} | {w['mb_written']} |",
        "",
        "| `mo-bot demo` into | rows (3 files) | wall s | CPU s (client) | write s | import s wanted / suspects / bail "
        "| import rows/s | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results[1:]:
        if "error" in r:
            lines.append(f"| {r['database']} | failed: see the JSON result's error | | | | | | |")
            continue
        lines.append(
            f"| {r['database']} | {r['rows_total']:,} | {r['seconds_wall']} | {r['cpu_seconds']} "
            f"| {r['seconds_write']} "
            f"| {r['seconds_import_wanted']} / {r['seconds_import_suspects']} / {r['seconds_import_bail']} "
            f"| {r['import_rows_per_s'] or 0:,} | {r['peak_rss_mb']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__ or "", argv)
    rows = args.rows or (10_000 if args.quick else 1_000_000)
    results = [bench_write(rows, runs=3)]
    results.append(bench_demo_command("sqlite", rows))
    notes = []
    if postgres_available():
        results.append(bench_demo_command("postgresql", rows))
    else:
        notes.append("PostgreSQL not reachable: its case was skipped.")
    failed = [r["case"] for r in results if "error" in r]
    if failed:
        notes.append(f"Failed: {', '.join(failed)}.")
    emit(
        {
            "name": "demo",
            "rows": rows,
            "quick": args.quick,
            "results": results,
            "markdown": markdown(results),
            "notes": " ".join(notes),
        },
        args.out,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
