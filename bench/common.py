"""Shared helpers for the benchmark modules (``bench/bench_*.py``) and the runner (``bench/run``).

Contract between the runner and a bench module (see ``bench/README.md``):

* a module is runnable as ``python -m bench.bench_<name> [--quick] [--out FILE]``;
* it writes ONE JSON object to ``--out`` (or to stdout when ``--out`` is not given) via :func:`emit`;
  the object has at least ``"name"`` and ``"results"`` (a list of flat dicts, one per measured case) and may
  carry ``"markdown"``: a ready-made summary the runner prints instead of its generic table;
* ``--quick`` (also ``MO_BENCH_QUICK=1``) means small sizes: the whole ``bench/run --quick`` stays under a minute.

Databases: SQLite files go under :func:`workdir`; PostgreSQL runs on ``MO_BENCH_PG_URL`` (default the local
trust-auth server) in a private database created and dropped by :func:`fresh_database`. Every database a bench
creates there is named by :func:`pg_database_name`: ``MO_BENCH_PG_DB_PREFIX`` puts a prefix of one's own in front.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PG_ADMIN_URL = os.environ.get("MO_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PG_DB_PREFIX_ENV = "MO_BENCH_PG_DB_PREFIX"
_PG_DB_PREFIX = re.compile(r"[a-z_][a-z0-9_]{0,29}")


def pg_database_name(name: str, prefix: str | None = None) -> str:
    """The name of a database a bench creates on the PostgreSQL server: ``name`` (``mobot_bench_<random>``,
    ``mo_bench_slack_<rows>``, …), behind ``prefix`` (default ``$MO_BENCH_PG_DB_PREFIX``) and an underscore when
    one is set — so that people sharing a server keep their benchmark databases, cached ones included, apart and
    can tell whose a leftover is. A prefix is lower-case letters, digits and underscores, up to 30 characters."""
    prefix = os.environ.get(PG_DB_PREFIX_ENV, "") if prefix is None else prefix
    if not prefix:
        return name
    if not _PG_DB_PREFIX.fullmatch(prefix):
        raise SystemExit(
            f"bench: PostgreSQL database prefix {prefix!r} must be lower-case letters, digits and underscores "
            "(not starting with a digit), up to 30 characters"
        )
    return f"{prefix}_{name}"


def is_quick() -> bool:
    return os.environ.get("MO_BENCH_QUICK", "") not in ("", "0")


def parse_args(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The options every bench module takes; ``--quick`` also follows ``MO_BENCH_QUICK``."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    p.add_argument("--out", type=Path, help="write the JSON result here (default: stdout)")
    p.add_argument("--rows", type=int, help="override the row count")
    args = p.parse_args(argv)
    args.quick = bool(args.quick or is_quick())
    return args


def emit(result: dict[str, Any], out: Path | None) -> None:
    text = json.dumps(result, indent=2, default=str)
    if out is None:
        print(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")


def workdir() -> Path:
    """Scratch directory for this run (``MO_BENCH_WORKDIR`` from the runner, else a fresh temp dir)."""
    d = os.environ.get("MO_BENCH_WORKDIR")
    path = Path(d) if d else Path(tempfile.mkdtemp(prefix="mo-bench-"))
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- measuring -------------------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """Peak resident set size of THIS process so far (Linux reports ru_maxrss in KiB). In a child started by a
    process larger than itself this is at least the parent's size: see :func:`own_peak_rss_mb`."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def own_peak_rss_mb() -> float:
    """Peak resident set size of this process's own memory since it started its program (``VmHWM``).

    Unlike ``ru_maxrss`` it does not carry the parent's size: Linux starts a child's ``ru_maxrss`` (as
    ``getrusage`` and ``wait4`` report it) from the high-water mark of the memory it was forked from, so a child
    of a 200 MB parent reports 200 MB even if it never uses more than 15. Children that measure one step print
    this figure. Falls back to ``ru_maxrss`` where ``/proc`` is missing."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mb()


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_rss_mb: float  # of the child process alone, from wait4's rusage
    returncode: int
    stdout: str
    stderr: str
    # user + system CPU seconds of the child: on a shared, loaded machine this moves far less than wall time.
    cpu_seconds: float = 0.0


def run_measured(argv: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> Measured:
    """Run a command and return its wall time and its peak RSS: a fresh child is the only honest way to measure
    the memory of one step, since ru_maxrss never goes down within a process. The figure (wait4's ru_maxrss) is
    never below the runner's own RSS when it started the child (see :func:`own_peak_rss_mb`): keep the runner
    small, or have the child print :func:`own_peak_rss_mb`."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            seconds=seconds,
            peak_rss_mb=usage.ru_maxrss / 1024,
            returncode=proc.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            cpu_seconds=usage.ru_utime + usage.ru_stime,
        )


def python_step(code: str, *, env: dict[str, str] | None = None) -> Measured:
    """Run a snippet of Python in a fresh interpreter of this venv, measured by :func:`run_measured`."""
    return run_measured([sys.executable, "-c", code], env={**os.environ, **(env or {})})


def spread(samples: Sequence[float]) -> dict[str, float | int]:
    """Median and spread of timings (seconds in, milliseconds out)."""
    ms = sorted(s * 1000 for s in samples)
    n = len(ms)

    def pct(p: float) -> float:
        # Nearest-rank percentile: with few samples, interpolation would invent values never observed.
        return ms[min(n - 1, max(0, math.ceil(p / 100 * n) - 1))]

    q = statistics.quantiles(ms, n=4) if n >= 2 else [ms[0]] * 3
    return {
        "n": n,
        "p50_ms": round(statistics.median(ms), 3),
        "p90_ms": round(pct(90), 3),
        "p99_ms": round(pct(99), 3),
        "min_ms": round(ms[0], 3),
        "max_ms": round(ms[-1], 3),
        "iqr_ms": round(q[2] - q[0], 3),
    }


def time_calls(fn: Callable[[], object], *, repeat: int, warmup: int = 2) -> dict[str, float | int]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return spread(samples)


def time_session_calls(session: Any, fn: Callable[[Any], object], *, repeat: int, warmup: int = 2) -> dict[str, Any]:
    """:func:`time_calls` of ``fn(session)``, the session rolled back after each call (outside the timing), so
    every call starts from the same state and none reads what an earlier one cached in its transaction."""
    for _ in range(warmup):
        fn(session)
        session.rollback()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(session)
        samples.append(time.perf_counter() - t0)
        session.rollback()
    return spread(samples)


# --- databases -------------------------------------------------------------------------------------------


def postgres_available() -> bool:
    from sqlalchemy import text

    from bot.db import make_engine

    try:
        eng = make_engine(PG_ADMIN_URL)
        with eng.connect() as c:
            c.execute(text("SELECT 1"))
        eng.dispose()
        return True
    except Exception:
        return False


@contextmanager
def fresh_database(kind: str, *, migrate: bool = True) -> Iterator[str]:
    """A new empty (migrated) database: ``kind`` is ``sqlite`` or ``postgresql``. Dropped afterwards."""
    from sqlalchemy import make_url, text

    from bot.db import make_engine, upgrade

    if kind == "sqlite":
        d = Path(tempfile.mkdtemp(prefix="mo-bench-db-", dir=workdir()))
        url = f"sqlite:///{d / 'bench.db'}"
        if migrate:
            upgrade(url)
        try:
            yield url
        finally:
            shutil.rmtree(d, ignore_errors=True)
        return
    if kind != "postgresql":
        raise ValueError(f"unknown database kind {kind!r}")
    name = pg_database_name(f"mobot_bench_{uuid.uuid4().hex[:10]}")
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        if migrate:
            upgrade(url)
        yield url
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- machine ---------------------------------------------------------------------------------------------


def _first(pattern: str, text: str) -> str | None:
    m = re.search(pattern, text, re.MULTILINE)
    return m.group(1).strip() if m else None


def postgres_version() -> str | None:
    from sqlalchemy import text

    from bot.db import make_engine

    try:
        eng = make_engine(PG_ADMIN_URL)
        with eng.connect() as c:
            v = c.execute(text("SHOW server_version")).scalar()
        eng.dispose()
        return str(v)
    except Exception:
        return None


def machine_info() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    mem_kb = _first(r"^MemTotal:\s+(\d+)", meminfo)
    import sqlalchemy

    return {
        "nproc": os.cpu_count(),
        "cpu_model": _first(r"^model name\s*:\s*(.+)$", cpuinfo) or platform.processor() or "unknown",
        "ram_gb": round(int(mem_kb) / 1024 / 1024, 1) if mem_kb else None,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "postgresql": postgres_version(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def with_floors(results: Sequence[dict[str, Any]], floors: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each result with the floor measured in the same run for its database beside it (``floor_rows_per_s_median``)
    and its rate as a share of that floor (``ratio_to_floor``): a rate alone says little on a shared machine whose
    speed moves by 2x from day to day. Results and floors are matched on ``database``; rates are
    ``rows_per_s_median``."""
    by_db = {f.get("database"): f for f in floors}
    out = []
    for r in results:
        floor = by_db.get(r.get("database"))
        rate = r.get("rows_per_s_median")
        floor_rate = floor.get("rows_per_s_median") if floor is not None else None
        if isinstance(rate, int | float) and isinstance(floor_rate, int | float) and floor_rate:
            r = {**r, "floor_rows_per_s_median": floor_rate, "ratio_to_floor": round(rate / floor_rate, 2)}
        out.append(r)
    return out


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    """A generic markdown table of flat dicts (columns: the union of keys, in first-seen order)."""
    if not rows:
        return "_no results_"
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in cols and not isinstance(r[k], dict | list)]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join("" if r.get(c) is None else str(r.get(c)) for c in cols) + " |")
    return "\n".join(lines)
