"""Run every bench module present, each in its own process, and collect their JSON into one results file.

Invoked by ``bash bench/run``; see ``bench/README.md`` for the module contract.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import machine_info, markdown_table, with_floors

# Run order: the demo first (it also exercises the generator the others use), then import, then figures.
MODULES: tuple[str, ...] = (
    "bench_demo",
    "bench_import",
    "bench_figures",
    "bench_history",
    "bench_slack",
    "bench_slow_slack",
    "bench_actions",
    "bench_summary",
    "bench_resilience",
    "bench_dm_import",
    "bench_after_import",
    "bench_scale",
)
RESULTS = Path(__file__).with_name("results")
QUICK_ROWS = 20_000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/run", description="Run mo-bot's benchmarks.")
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke run in under a minute")
    p.add_argument("--only", help="comma-separated names, e.g. demo,import (bench_ prefix optional)")
    p.add_argument("--timeout", type=int, help="seconds per module (default 3600, or 300 with --quick)")
    return p.parse_args(argv)


def selected(only: str | None) -> list[str]:
    if not only:
        return list(MODULES)
    wanted = {n if n.startswith("bench_") else f"bench_{n}" for n in only.split(",") if n.strip()}
    unknown = wanted - set(MODULES)
    if unknown:
        raise SystemExit(f"bench/run: unknown benchmark(s): {', '.join(sorted(unknown))}")
    return [m for m in MODULES if m in wanted]


def module_argv(name: str, *, quick: bool, out: Path) -> list[str]:
    """The command line for one module. Modules following the contract take ``--out``/``--quick``; for one that
    has its own options, ask its ``--help`` what it understands and map --quick onto small ``--rows``/``--runs``."""
    base = [sys.executable, "-m", f"bench.{name}"]
    helptext = subprocess.run([*base, "--help"], capture_output=True, text=True, timeout=120).stdout
    argv = list(base)
    if "--out" in helptext:
        argv += ["--out", str(out)]
    if quick:
        if "--quick" in helptext:
            argv.append("--quick")
        else:
            if "--rows" in helptext:
                argv += ["--rows", str(QUICK_ROWS)]
            if "--runs" in helptext:
                argv += ["--runs", "1"]
    return argv


def parse_json_output(stdout: str) -> Any:
    """A module's JSON from its stdout: the whole of it, or from the last line that opens an object."""
    try:
        return json.loads(stdout)
    except ValueError:
        pass
    lines = stdout.splitlines()
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].lstrip().startswith("{"):
            try:
                return json.loads("\n".join(lines[i:]))
            except ValueError:
                if lines[i] == "{":
                    break
    return None


def run_module(name: str, *, quick: bool, timeout: int, scratch: Path) -> dict[str, Any]:
    out = scratch / f"{name}.json"
    work = scratch / name
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MO_BENCH_WORKDIR": str(work), "MO_BENCH_QUICK": "1" if quick else "0"}
    t0 = time.perf_counter()
    try:
        argv = module_argv(name, quick=quick, out=out)
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return {"status": "timeout", "seconds": round(time.perf_counter() - t0, 1), "stderr_tail": _tail(e.stderr)}
    seconds = round(time.perf_counter() - t0, 1)
    result = json.loads(out.read_text(encoding="utf-8")) if out.exists() else parse_json_output(proc.stdout)
    status = "ok" if proc.returncode == 0 and isinstance(result, dict) else "failed"
    entry: dict[str, Any] = {
        "status": status,
        "seconds": seconds,
        "returncode": proc.returncode,
        "argv": argv[1:],
        # The machine is shared: the load while a module ran says how far to trust its wall times.
        "load_avg_1m_after": round(os.getloadavg()[0], 2),
    }
    if result is not None:
        entry["result"] = result
    if status != "ok":
        entry["stderr_tail"] = _tail(proc.stderr)
    return entry


def _tail(text: str | bytes | None, lines: int = 25) -> str:
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:])


def summary(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"# mo-bot benchmarks — {report['started_at']}{' (quick)' if report['quick'] else ''}",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu_model']}), {m['ram_gb']} GB RAM, Linux {m['kernel']}; "
        f"Python {m['python']}, SQLite {m['sqlite']}, SQLAlchemy {m['sqlalchemy']}, "
        f"PostgreSQL {m['postgresql'] or 'not reachable'}; load average at start {m['load_avg_1m']}.",
    ]
    for name, entry in report["benchmarks"].items():
        load = f"; load average after {entry['load_avg_1m_after']}" if "load_avg_1m_after" in entry else ""
        lines += ["", f"## {name} — {entry['status']} ({entry.get('seconds', 0)} s{load})", ""]
        if entry["status"] == "skipped":
            lines.append(f"_{entry['note']}_")
            continue
        result = entry.get("result")
        if isinstance(result, dict):
            if result.get("markdown"):
                lines.append(str(result["markdown"]))
            elif isinstance(result.get("results"), list) and all(isinstance(r, dict) for r in result["results"]):
                rows = result["results"]
                floors = result.get("floors")
                if isinstance(floors, list) and all(isinstance(f, dict) for f in floors):
                    # The machine's floor measured in the same run, beside each figure it bounds.
                    rows = with_floors(rows, floors)
                lines.append(markdown_table(rows))
            else:
                text = json.dumps(result, indent=2, default=str)
                lines += ["```json", text[:4000] + ("\n…" if len(text) > 4000 else ""), "```"]
            if result.get("notes"):
                lines += ["", str(result["notes"])]
        if entry["status"] != "ok":
            lines += ["", "```", entry.get("stderr_tail", ""), "```"]
    lines += ["", f"Full results: {report['results_file']}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quick = args.quick
    timeout = args.timeout or (300 if quick else 3600)
    started = dt.datetime.now(dt.UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    results_file = RESULTS / f"{stamp}{'-quick' if quick else ''}.json"
    report: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "quick": quick,
        "machine": machine_info(),
        "benchmarks": {},
        "results_file": str(results_file),
    }
    scratch = Path(tempfile.mkdtemp(prefix="mo-bench-"))
    try:
        for name in selected(args.only):
            if importlib.util.find_spec(f"bench.{name}") is None:
                report["benchmarks"][name] = {"status": "skipped", "note": f"bench/{name}.py is not there yet"}
                print(f"bench/run: {name}: not present, skipped", file=sys.stderr)
                continue
            print(f"bench/run: {name}: running…", file=sys.stderr, flush=True)
            entry = run_module(name, quick=quick, timeout=timeout, scratch=scratch)
            report["benchmarks"][name] = entry
            print(f"bench/run: {name}: {entry['status']} in {entry['seconds']} s", file=sys.stderr, flush=True)
            # Write after every module, so a long run interrupted late still leaves what it measured.
            results_file.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    results_file.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print(summary(report))
    failed = [n for n, e in report["benchmarks"].items() if e["status"] not in ("ok", "skipped")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
