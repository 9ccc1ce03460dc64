"""Benchmark: import N rows (parse included) into a fresh SQLite file and a fresh PostgreSQL database.

    python -m bench.bench_import --rows 1000000 --db sqlite|postgres|both [--runs 3] [--dataset wanted]
        [--dates as-written|iso|uk|iso,uk] [--file F [--as-of YYYY-MM-DD]] [--pg-db-prefix P]

Each run imports in its own subprocess so peak RSS is that import's alone (the schema is migrated by the parent
beforehand, outside the timing). Prints one JSON object: rows/s median, min and max, and peak RSS per database
and date format, the floor of the same run beside each (``floors``, and ``ratio_to_floor`` in each result), and
with ``--dates iso,uk`` the UK-dated file's rate against the ISO one's (``uk_to_iso``).

``--dates`` rewrites the file's dates before the runs (outside the timing): ``iso`` as 2022-07-31, ``uk`` as
31/07/2022 (the demo writes wanted and bail dates in ISO, suspects in UK order). The as-of date is ``--as-of``;
without it, the generator's end date for a generated file, and for ``--file`` the latest date the file holds in a
column that may not lie after its as-of date (read by the importer's own header and date rules).
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

from bench.common import PG_DB_PREFIX_ENV, own_peak_rss_mb, pg_database_name, with_floors

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


def make_file(workdir: Path, rows: int, dataset: str = "wanted") -> tuple[Path, str]:
    """The demo's own export of ``dataset`` (two forces, header aliases, export spellings) when bot.demo provides
    it, else (wanted only) the local generator."""
    try:
        from bot.demo.exports import write_exports
    except ImportError:
        if dataset != "wanted":
            raise SystemExit(f"bench_import: no generator for {dataset} without bot.demo") from None
        path = workdir / "wanted.csv"
        write_wanted_csv(path, rows)
        return path, "bench.bench_import.write_wanted_csv"
    return write_exports(workdir / "demo", rows=rows, end=AS_OF)[dataset], "bot.demo.exports.write_exports"


def _iso_to_uk(cell: str) -> str:
    if len(cell) == 10 and cell[4] == "-" and cell[7] == "-" and cell[:4].isdigit():
        return f"{cell[8:10]}/{cell[5:7]}/{cell[:4]}"
    return cell


def _uk_to_iso(cell: str) -> str:
    if len(cell) == 10 and cell[2] == "/" and cell[5] == "/" and cell[6:].isdigit():
        return f"{cell[6:10]}-{cell[3:5]}-{cell[:2]}"
    return cell


def rewrite_dates(src: Path, dst: Path, dates: str) -> Path:
    """A copy of the CSV ``src`` with every ISO date cell written dd/mm/yyyy (``dates="uk"``) or every dd/mm/yyyy
    cell written ISO (``"iso"``): the same rows, only the date spelling differs."""
    convert = _iso_to_uk if dates == "uk" else _uk_to_iso
    with src.open(newline="", encoding="utf-8-sig") as fin, dst.open("w", newline="", encoding="utf-8") as fout:
        reader, writer = csv.reader(fin), csv.writer(fout, lineterminator="\n")
        writer.writerow(next(reader))
        writer.writerows([convert(c) for c in row] for row in reader)
    return dst


def file_as_of(file: Path, dataset: str) -> dt.date | None:
    """What the file says of its as-of date: the latest date it holds in a column that may not lie after it (an
    export made on D holds none later than D). None when it holds no such date."""
    from bot.importing.columns import SCHEMAS, header_key, header_map
    from bot.importing.readers import open_table
    from bot.importing.validate import Bad, parse_date

    names = header_map(dataset)
    past = {c.name for c in SCHEMAS[dataset] if c.kind == "date" and not c.future_ok}
    latest: dt.date | None = None
    with open_table(file) as table:
        positions = [i for i, h in enumerate(table.header) if names.get(header_key(h)) in past]
        for _, cells in table.rows:
            for i in positions:
                try:
                    d = parse_date(cells[i]) if i < len(cells) else None
                except Bad:
                    continue  # the import itself will say what is wrong with it
                if d is not None and (latest is None or d > latest):
                    latest = d
    return latest


def _child(url: str, file: Path, dataset: str = "wanted", as_of: dt.date = AS_OF, again: bool = False) -> None:
    """One import, timed; prints JSON on stdout. With ``again``, the same file is then imported a second time as
    of the next day (an unchanged export re-imported: no row is read), timed on its own."""
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
            s, config, ImportRequest(dataset, file, as_of=as_of, actor="bench"), dt.datetime.now(dt.UTC)
        )
        if not report.ok:
            raise SystemExit(f"import failed: {report.refused or report.errors[:3]}")
        s.commit()
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out: dict[str, object] = {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime - cpu0,
        "rows": report.rows_in_file,
        "added": report.added,
        "rss_kb": round(own_peak_rss_mb() * 1024),
    }
    if again:
        t0 = time.perf_counter()
        with sessions() as s:
            request = ImportRequest(dataset, file, as_of=as_of + dt.timedelta(days=1), actor="bench")
            second = import_file(s, config, request, dt.datetime.now(dt.UTC))
            if not second.ok or second.unchanged_since != as_of:
                raise SystemExit(f"re-import not taken as unchanged: {second.refused or second.errors[:3]}")
            s.commit()
        out["again_seconds"] = time.perf_counter() - t0
    print(json.dumps(out))


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


def _fresh_db(kind: str, workdir: Path, admin_url: str, db_prefix: str | None = None) -> tuple[str, object]:
    from sqlalchemy import make_url, text

    from bot.db import make_engine, upgrade

    if kind == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        return url, path
    name = pg_database_name(f"mobot_bench_{uuid.uuid4().hex[:8]}", db_prefix)
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
    kind: str,
    file: Path,
    rows: int,
    runs: int,
    workdir: Path,
    admin_url: str,
    mode: str = "--child",
    *,
    dataset: str = "wanted",
    as_of: dt.date = AS_OF,
    db_prefix: str | None = None,
    again: bool = False,
) -> dict[str, object]:
    results = []
    for _ in range(runs):
        url, handle = _fresh_db(kind, workdir, admin_url, db_prefix)
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "bench.bench_import", mode, url, str(file), dataset, as_of.isoformat()]
                + (["again"] if again and mode == "--child" else []),
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
    again_s = [r["again_seconds"] for r in results if "again_seconds" in r]
    extra = {"again_seconds_median": round(statistics.median(again_s), 3), "again_seconds": again_s} if again_s else {}
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
        **extra,
    }


def uk_to_iso(results: list[dict[str, object]]) -> dict[str, float]:
    """Per database, the UK-dated file's median rate over the ISO-dated one's (both measured in this run)."""
    rate = {(r["database"], r["dates"]): r["rows_per_s_median"] for r in results}
    out = {}
    for (db, dates), uk in rate.items():
        iso = rate.get((db, "iso"))
        if dates == "uk" and isinstance(uk, int) and isinstance(iso, int):
            out[str(db)] = round(uk / iso, 2)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        _child(argv[1], Path(argv[2]), argv[3], dt.date.fromisoformat(argv[4]), argv[5:6] == ["again"])
        return 0
    if argv[:1] == ["--floor-child"]:
        _floor_child(argv[1], Path(argv[2]))
        return 0
    p = argparse.ArgumentParser(prog="python -m bench.bench_import", description=__doc__)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--pg-admin-url", default=os.environ.get("MO_BENCH_PG_URL", PG_ADMIN_URL))
    p.add_argument("--dataset", choices=["wanted", "suspects", "bail"], default="wanted")
    p.add_argument("--file", type=Path, help="import this CSV (of --dataset) instead of generating one")
    p.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        help="the file's as-of date YYYY-MM-DD (default: the generator's end date, or for --file the latest date "
        "the file holds in a column that may not lie after it)",
    )
    p.add_argument(
        "--dates",
        default="as-written",
        help="date spelling of the file imported: as-written, iso, uk, or iso,uk for both in one run (the file is "
        "rewritten before the runs, outside the timing)",
    )
    p.add_argument(
        "--pg-db-prefix",
        default=os.environ.get(PG_DB_PREFIX_ENV),
        help=f"prefix of the PostgreSQL databases this creates and drops (default ${PG_DB_PREFIX_ENV}, else none)",
    )
    p.add_argument(
        "--again",
        action="store_true",
        help="after each import, import the same file again as of the next day and time that too "
        "(an unchanged export: again_seconds)",
    )
    p.add_argument("--no-floor", action="store_true", help="skip re-measuring the machine's floor in the same run")
    args = p.parse_args(argv)
    variants = args.dates.split(",")
    if not variants or any(v not in ("as-written", "iso", "uk") for v in variants):
        p.error("--dates: as-written, iso, uk, or a comma-separated list of them")
    pg_database_name("x", args.pg_db_prefix)  # a bad prefix is refused before anything runs
    with tempfile.TemporaryDirectory(prefix="mo-bench-") as tmp:
        workdir = Path(tmp)
        file = args.file
        gen_s = 0.0
        source = "given file"
        if file is None:
            t0 = time.perf_counter()
            file, source = make_file(workdir, args.rows, args.dataset)
            gen_s = time.perf_counter() - t0
        as_of, as_of_source = args.as_of, "--as-of"
        if as_of is None and args.file is None:
            as_of, as_of_source = AS_OF, "the generator's end date"
        elif as_of is None:
            as_of, as_of_source = file_as_of(file, args.dataset), "the latest date in the file"
            if as_of is None:
                raise SystemExit(f"bench_import: {file.name} holds no date to take its as-of date from: give --as-of")
        files = {
            v: file if v == "as-written" else rewrite_dates(file, workdir / f"{v}-{file.name}", v) for v in variants
        }
        kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
        common = {"dataset": args.dataset, "as_of": as_of, "db_prefix": args.pg_db_prefix}
        load_before = round(os.getloadavg()[0], 2)
        results = [
            {
                "dates": v,
                **run_bench(k, f, args.rows, args.runs, workdir, args.pg_admin_url, again=args.again, **common),
            }
            for k in kinds
            for v, f in files.items()
        ]
        floors = (
            []
            if args.no_floor
            else [
                run_bench(k, file, args.rows, args.runs, workdir, args.pg_admin_url, mode="--floor-child", **common)
                for k in kinds
            ]
        )
        out = {
            "benchmark": f"import {args.dataset} CSV (parse + validate + stage + merge + commit)",
            "file": file.name,
            "file_source": source,
            "file_mb": round(file.stat().st_size / 2**20, 1),
            "as_of": as_of.isoformat(),
            "as_of_source": as_of_source,
            "generate_seconds": round(gen_s, 1),
            "cpu_count": os.cpu_count(),
            # Other work on the machine slows every figure; the load average says how busy it was.
            "load_average_1m_before": load_before,
            "results": with_floors(results, floors),
            "floors": floors,
            "uk_to_iso": uk_to_iso(results),
            "load_average_1m_after": round(os.getloadavg()[0], 2),
        }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
