"""Benchmark: a 1,000,000-row wanted CSV imported by sending it to the bot in a DM, against the CLI's import of the
same file in the same run, on SQLite and PostgreSQL.

    python -m bench.bench_dm_import [--quick] [--rows N] [--runs R] [--db sqlite|postgres|both] [--out FILE]

DM path: the Bolt app (``commands.app.build_app``, as ``mo-bot serve`` runs it) in a child process of its own,
behind a local WSGI server; the fake Slack (``tests.support.fakeslack``) in this process hosts the file. A signed
``message``/``file_share`` event goes to the child; timed from that POST until the fake Slack records the reply in
the file's thread — so ``files.info``, the streamed download over 127.0.0.1, the SHA-256, the import and the reply
are all inside. The ack is the POST's own round trip. Each child prints its own peak RSS (``VmHWM``) as it ends; wait4's
``ru_maxrss`` is reported beside it, but it starts from the parent's size when the child was spawned (this
parent holds the file's bytes for the fake Slack), so it is not the child's memory.

CLI path: ``import_file`` in a child process on a fresh database, timed around the import only (as
``bench.bench_import``). Both children import the same file into a fresh, empty database each run. Rates are
rows / wall second; the ratio is DM median / CLI median. Prints (or writes) one JSON object.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.bench_import import AS_OF, PG_ADMIN_URL, _drop_db, _fresh_db, write_wanted_csv
from bench.common import emit, own_peak_rss_mb, parse_args, postgres_available, workdir

# Each child imports only what its path needs, inside its function: the peak RSS measured is the child's, and the
# CLI child must not carry the Bolt app, nor the bot's child the fake Slack (and pytest under it).
ANALYST = "U0BENCHAN"
DM = "D0BENCHAN"
ROOT = Path(__file__).resolve().parent.parent


def _cli_child(url: str, file: str) -> None:
    from bot.config import load_config
    from bot.db import make_engine, make_session_factory
    from bot.importing.service import import_file
    from bot.importing.types import ImportRequest

    config = load_config(database_url=url)
    sessions = make_session_factory(make_engine(url))
    t0 = time.perf_counter()
    with sessions() as s:
        req = ImportRequest("wanted", Path(file), force="suffolk", as_of=AS_OF, actor="bench")
        report = import_file(s, config, req, dt.datetime.now(dt.UTC))
        if not report.ok:
            raise SystemExit(f"import failed: {report.refused or report.errors[:3]}")
        s.commit()
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "rows": report.rows_in_file, "rss_mb": own_peak_rss_mb()}), flush=True)


def _dm_child(url: str, api_url: str, token: str, team_id: str) -> None:
    """The bot, serving Slack's requests until told to stop on stdin."""
    from dataclasses import replace

    from bot.config import load_config
    from bot.runtime import Runtime
    from bot.settings import Settings
    from bot.slack.client import make_client
    from commands.app import build_app
    from commands.web import WebApp
    from tests.support.slackutil import SIGNING_SECRET, LocalServer

    cfg = load_config(database_url=url)
    suffolk = replace(cfg.force("suffolk"), slack_team_ids=(team_id,))
    cfg = replace(
        cfg, forces={**cfg.forces, "suffolk": suffolk}, slack=replace(cfg.slack, roles={"analyst": (ANALYST,)})
    )
    rt = Runtime.create(cfg)
    settings = Settings(
        bot_token=token,
        signing_secret=SIGNING_SECRET,
        app_token=None,
        api_url=api_url,
        database_url=None,
        config_path=None,
        port=0,
        web_concurrency=1,
        threads=4,
    )
    app = build_app(rt, client=make_client(token, api_url), settings=settings)
    with LocalServer(WebApp(app, [], mode="http")) as srv:
        print(srv.url, flush=True)
        sys.stdin.readline()
    print(json.dumps({"rss_mb": own_peak_rss_mb()}), flush=True)


def _cli_run(url: str, file: Path) -> dict[str, Any]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.bench_dm_import", "--cli-child", url, str(file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        text=True,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    out, err = proc.communicate()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"CLI run failed:\n{err[-3000:]}")
    r = json.loads(out.strip().splitlines()[-1])
    return {"seconds": r["seconds"], "rows": r["rows"], "rss_mb": r["rss_mb"], "wait4_rss_mb": usage.ru_maxrss / 1024}


def _dm_run(url: str, content: bytes, rows: int) -> dict[str, Any]:
    from tests.support.fakeslack import FakeSlack
    from tests.support.slackutil import post_signed

    with FakeSlack() as fake:
        fake.users[ANALYST] = {"name": "analyst"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.bench_dm_import", "--dm-child", url, fake.base_url, fake.token, fake.team_id],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            text=True,
        )
        assert proc.stdout is not None and proc.stdin is not None
        base = proc.stdout.readline().strip()
        if not base:
            raise SystemExit(f"DM child did not start:\n{proc.stderr.read()[-3000:] if proc.stderr else ''}")
        body = fake.shared_files.share(user=ANALYST, channel=DM, name="wanted.csv", content=content, text="wanted")
        ts = body["event"]["ts"]
        t0 = time.perf_counter()
        reply = post_signed(base + "/slack/events", json_body=body, timeout=30)
        ack = reply.seconds

        def replied(f: FakeSlack) -> bool:
            return any(c.params.get("thread_ts") == ts for c in f.calls_to("chat.postMessage"))

        done = fake.wait_for(replied, timeout=1800)
        seconds = time.perf_counter() - t0
        text = next(
            str(c.params.get("text")) for c in fake.calls_to("chat.postMessage") if c.params.get("thread_ts") == ts
        )
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        own = json.loads(proc.stdout.readline())
        _, _status, usage = os.wait4(proc.pid, 0)
        if not done or "Imported" not in text or reply.status != 200:
            raise SystemExit(f"DM import did not succeed (status {reply.status}): {text[:300]}")
        downloads = [(d.authorised, d.bytes_sent) for d in fake.shared_files.downloads]
    return {
        "seconds": seconds,
        "ack_s": ack,
        "rows": rows,
        "rss_mb": own["rss_mb"],
        "wait4_rss_mb": usage.ru_maxrss / 1024,
        "downloads": downloads,
    }


def _case(kind: str, file: Path, rows: int, runs: int, admin_url: str, work: Path) -> dict[str, Any]:
    content = file.read_bytes()
    cli: list[dict[str, Any]] = []
    dm: list[dict[str, Any]] = []
    for _ in range(runs):  # alternated, so a change of load on the machine touches both alike
        for path, out in (("cli", cli), ("dm", dm)):
            url, handle = _fresh_db(kind, work, admin_url)
            try:
                out.append(_cli_run(url, file) if path == "cli" else _dm_run(url, content, rows))
            finally:
                _drop_db(kind, handle, admin_url)
    cli_rates = [rows / r["seconds"] for r in cli]
    dm_rates = [rows / r["seconds"] for r in dm]
    return {
        "database": kind,
        "rows": rows,
        "runs": runs,
        "cli_rows_per_s_median": round(statistics.median(cli_rates)),
        "cli_rows_per_s_min_max": [round(min(cli_rates)), round(max(cli_rates))],
        "dm_rows_per_s_median": round(statistics.median(dm_rates)),
        "dm_rows_per_s_min_max": [round(min(dm_rates)), round(max(dm_rates))],
        "dm_over_cli": round(statistics.median(dm_rates) / statistics.median(cli_rates), 3),
        "dm_ack_ms_median": round(statistics.median(r["ack_s"] for r in dm) * 1000, 1),
        "dm_ack_ms_max": round(max(r["ack_s"] for r in dm) * 1000, 1),
        "dm_peak_rss_mb_max": round(max(r["rss_mb"] for r in dm), 1),
        "cli_peak_rss_mb_max": round(max(r["rss_mb"] for r in cli), 1),
        # What wait4 says: never below this parent's own size when it spawned the child.
        "dm_wait4_rss_mb_max": round(max(r["wait4_rss_mb"] for r in dm), 1),
        "cli_wait4_rss_mb_max": round(max(r["wait4_rss_mb"] for r in cli), 1),
        "parent_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cli_seconds": [round(r["seconds"], 2) for r in cli],
        "dm_seconds": [round(r["seconds"], 2) for r in dm],
    }


def main() -> int:
    argv = sys.argv[1:]
    if argv[:1] == ["--cli-child"]:
        _cli_child(argv[1], argv[2])
        return 0
    if argv[:1] == ["--dm-child"]:
        _dm_child(*argv[1:5])
        return 0
    runs = 3
    kinds = ["sqlite", "postgres"]
    for flag in ("--runs", "--db"):
        if flag in argv:
            i = argv.index(flag)
            value = argv[i + 1]
            del argv[i : i + 2]
            if flag == "--runs":
                runs = int(value)
            elif value != "both":
                kinds = [value]
    args = parse_args(__doc__ or "", argv)
    rows = args.rows or (20_000 if args.quick else 1_000_000)
    if args.quick:
        runs = 1
    if not postgres_available():
        kinds = [k for k in kinds if k != "postgres"]
    work = workdir()
    file = work / f"wanted-{rows}.csv"
    write_wanted_csv(file, rows)
    load_before = os.getloadavg()
    results = [_case(k, file, rows, runs, os.environ.get("MO_BENCH_PG_URL", PG_ADMIN_URL), work) for k in kinds]
    emit(
        {
            "name": "dm_import",
            "what": "wanted CSV sent to the bot's DM (event, files.info, download, import, reply) vs the CLI import",
            "file_mb": round(file.stat().st_size / 2**20, 1),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "children_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
            "results": results,
        },
        args.out,
    )
    file.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
