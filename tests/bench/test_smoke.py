"""The benchmarks still run: bench_history at 50,000 rows per table on the database under test, as a separate
process (as `bench/run` starts it). No timing is asserted here — speed is measured by the benchmarks themselves
(docs/performance.md) — only that every query answers and the past-date changes are kept as an import keeps them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.database import IS_PG

ROOT = Path(__file__).resolve().parents[2]


def test_bench_history_runs_at_50k_rows(tmp_path: Path) -> None:
    out = tmp_path / "history.json"
    db = "postgres" if IS_PG else "sqlite"
    argv = [sys.executable, "-m", "bench.bench_history", "--rows", "50000", "--repeat", "1", "--db", db]
    env = {**os.environ, "MO_BENCH_WORKDIR": str(tmp_path)}
    r = subprocess.run([*argv, "--out", str(out)], cwd=ROOT, capture_output=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    result = json.loads(out.read_text())
    queries = {q["query"] for q in result["results"]}
    assert {
        "wanted",
        "series bail 13m",
        "bail 45 days ago (revised since)",
        "series bail 13m from 11 months ago",
    } <= queries
    (run,) = result["runs"]
    assert run["history_rows"]["wanted_history"] > 0
    kept = run["past_date_upkeep"]["revision_delta_rows"]
    assert kept["wanted"] > 0 and kept["bail_period"] > 0 and kept["suspect"] == 0  # a re-stated row changes no count
