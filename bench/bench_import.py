"""Benchmark: import N wanted rows (parse included) into a fresh SQLite file and a fresh PostgreSQL database.

    python -m bench.bench_import --rows 1000000 --db sqlite|postgres|both [--runs 3]

Each run imports in its own subprocess so peak RSS is that import's alone (the schema is migrated by the parent
beforehand, outside the timing). Prints one JSON object: rows/s median, min and max, and peak RSS per database.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from bench.common import own_peak_rss_mb

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
AS_OF = dt.date(2026, 10, 31)


def write_wanted_csv(path: Path, rows: int, seed: int = 7) -> None:
    """A deterministic synthetic wanted export with the canonical columns (used when bot.demo has none)."""
    rnd = random.Random(seed)
    districts = ("ipswich", "bury-st-edmunds", "lowestoft")
    reasons = ("never_arrested", "failed_to_answer_bail", "bail_breach", "rui_fresh_evidence")
    offences = ("violence", "burglary", "theft", "drugs", "sexual", "criminal-damage", "fraud", "public-order")
    start = AS_OF - dt.timedelta(days=730)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "reference",
                "person_ref",
                "crime_ref",
                "offence",
                "district",
                "reason",
                "circulated_on",
                "last_reviewed_on",
                "closed_on",
                "status",
                "oic",
            ]
        )
        for i in range(rows):
            circ = start + dt.timedelta(days=rnd.randrange(730))
            age = (AS_OF - circ).days
            reviewed = circ + dt.timedelta(days=rnd.randrange(age + 1)) if rnd.random() < 0.7 else None
            closed = circ + dt.timedelta(days=rnd.randrange(age + 1)) if rnd.random() < 0.6 else None
            w.writerow(
                [
                    f"WNT-{i:08d}",
                    f"P{rnd.randrange(10**8):08d}",
                    f"37/{rnd.randrange(10**6):06d}/{circ.year % 100:02d}",
                    offences[rnd.randrange(len(offences))],
                    districts[rnd.randrange(3)],
                    reasons[rnd.randrange(4)],
                    circ.isoformat(),
                    reviewed.isoformat() if reviewed else "",
                    closed.isoformat() if closed else "",
                    "closed" if closed else "open",
                    str(rnd.randrange(1000, 9999)),
                ]
            )


def make_file(workdir: Path, rows: int) -> tuple[Path, str]:
    """The demo's own wanted export (two forces, header aliases, export spellings) when bot.demo provides it,
    else the local generator."""
    try:
        from bot.demo.exports import write_exports
    except ImportError:
        path = workdir / "wanted.csv"
        write_wanted_csv(path, rows)
        return path, "bench.bench_import.write_wanted_csv"
    return write_exports(workdir / "demo", rows=rows, end=AS_OF)["wanted"], "bot.demo.exports.write_exports"


def _child(url: str, file: Path) -> None:
    """One import, timed; prints JSON on stdout."""
    from bot.config import load_config
    from bot.db import make_engine, make_session_factory
    from bot.importing.service import import_file
    from bot.importing.types import ImportRequest

    config = load_config(database_url=url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    u0 = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = u0.ru_utime + u0.ru_stime
    t0 = time.perf_counter()
    with sessions() as s:
        report = import_file(
            s, config, ImportRequest("wanted", file, as_of=AS_OF, actor="bench"), dt.datetime.now(dt.UTC)
        )
        if not report.ok:
            raise SystemExit(f"import failed: {report.refused or report.errors[:3]}")
        s.commit()
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": usage.ru_utime + usage.ru_stime - cpu0,
                "rows": report.rows_in_file,
                "added": report.added,
                "rss_kb": round(own_peak_rss_mb() * 1024),
            }
        )
    )


def _floor_child(url: str, file: Path) -> None:
    """The machine's floor in the same conditions: csv.reader over the same file, rows written unvalidated
    into a plain table without indexes (raw sqlite3 executemany, or psycopg COPY write_row)."""
    import csv as csv_mod

    from sqlalchemy import make_url

    u0 = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = u0.ru_utime + u0.ru_stime
    t0 = time.perf_counter()
    n = 0
    with file.open(newline="", encoding="utf-8") as f:
        reader = csv_mod.reader(f)
        width = len(next(reader))
        cols = ", ".join(f"c{i} text" for i in range(width))
        if url.startswith("sqlite"):
            import sqlite3

            conn = sqlite3.connect(make_url(url).database or ":memory:")
            conn.execute(f"CREATE TABLE floor ({cols})")
            conn.executemany(f"INSERT INTO floor VALUES ({', '.join('?' * width)})", reader)
            conn.commit()
            n = conn.execute("SELECT count(*) FROM floor").fetchone()[0]
            conn.close()
        else:
            import psycopg

            u = make_url(url)
            with psycopg.connect(host=u.host, port=u.port, user=u.username, dbname=u.database) as conn:
                conn.execute(f"CREATE TABLE floor ({cols})")
                with conn.cursor() as cur, cur.copy("COPY floor FROM STDIN") as copy:
                    for row in reader:
                        copy.write_row(row)
                n = conn.execute("SELECT count(*) FROM floor").fetchone()[0]
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": usage.ru_utime + usage.ru_stime - cpu0,
                "rows": n,
                "rss_kb": round(own_peak_rss_mb() * 1024),
            }
        )
    )


def _fresh_db(kind: str, workdir: Path, admin_url: str) -> tuple[str, object]:
    from sqlalchemy import make_url, text

    from bot.db import make_engine, upgrade

    if kind == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        return url, path
    name = f"mobot_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url, name


def _drop_db(kind: str, handle: object, admin_url: str) -> None:
    from sqlalchemy import text

    from bot.db import make_engine

    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{handle}{suffix}").unlink(missing_ok=True)
        return
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{handle}" WITH (FORCE)'))
    admin.dispose()


def run_bench(
    kind: str, file: Path, rows: int, runs: int, workdir: Path, admin_url: str, mode: str = "--child"
) -> dict[str, object]:
    results = []
    for _ in range(runs):
        url, handle = _fresh_db(kind, workdir, admin_url)
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "bench.bench_import", mode, url, str(file)],
                capture_output=True,
                text=True,
                check=False,
                cwd=Path(__file__).resolve().parent.parent,
            )
            if proc.returncode != 0:
                raise SystemExit(f"{kind} run failed:\n{proc.stderr[-3000:]}")
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        finally:
            _drop_db(kind, handle, admin_url)
    rates = [r["rows"] / r["seconds"] for r in results]
    cpu_rates = [r["rows"] / r["cpu_seconds"] for r in results]
    rss = [r["rss_kb"] / 1024 for r in results]
    return {
        "database": kind,
        "what": "mo-bot import" if mode == "--child" else "floor: csv.reader + plain-table insert/COPY, no checks",
        "rows": rows,
        "runs": runs,
        "rows_per_s_median": round(statistics.median(rates)),
        "rows_per_s_min": round(min(rates)),
        "rows_per_s_max": round(max(rates)),
        "seconds": [round(r["seconds"], 2) for r in results],
        # CPU of the importing process only (on PostgreSQL the server's share is not included): a figure that
        # a busy machine disturbs less than wall time.
        "rows_per_cpu_s_median": round(statistics.median(cpu_rates)),
        "peak_rss_mb_median": round(statistics.median(rss), 1),
        "peak_rss_mb_max": round(max(rss), 1),
        # getrusage(RUSAGE_CHILDREN): the largest peak RSS of any child this process has waited for so far.
        "children_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        _child(argv[1], Path(argv[2]))
        return 0
    if argv[:1] == ["--floor-child"]:
        _floor_child(argv[1], Path(argv[2]))
        return 0
    p = argparse.ArgumentParser(prog="python -m bench.bench_import", description=__doc__)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--pg-admin-url", default=os.environ.get("MO_BENCH_PG_URL", PG_ADMIN_URL))
    p.add_argument("--file", type=Path, help="import this wanted CSV instead of generating one")
    p.add_argument("--no-floor", action="store_true", help="skip re-measuring the machine's floor in the same run")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mo-bench-") as tmp:
        workdir = Path(tmp)
        file = args.file
        gen_s = 0.0
        source = "given file"
        if file is None:
            t0 = time.perf_counter()
            file, source = make_file(workdir, args.rows)
            gen_s = time.perf_counter() - t0
        kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
        out = {
            "benchmark": "import wanted CSV (parse + validate + stage + merge + commit)",
            "file": file.name,
            "file_source": source,
            "file_mb": round(file.stat().st_size / 2**20, 1),
            "generate_seconds": round(gen_s, 1),
            "cpu_count": os.cpu_count(),
            # Other work on the machine slows every figure; the load average says how busy it was.
            "load_average_1m_before": round(os.getloadavg()[0], 2),
            "results": [run_bench(k, file, args.rows, args.runs, workdir, args.pg_admin_url) for k in kinds],
            "floors": []
            if args.no_floor
            else [
                run_bench(k, file, args.rows, args.runs, workdir, args.pg_admin_url, mode="--floor-child")
                for k in kinds
            ],
            "load_average_1m_after": round(os.getloadavg()[0], 2),
        }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
