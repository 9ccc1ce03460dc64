"""Load test of the Slack transport: `mo-bot serve` (gunicorn, gthread) answering signed `/mo` slash commands on a
demo database of ``--rows`` rows per dataset, against a bare Bolt app that only acks (the floor), same run, same
gunicorn settings, same load generator.

    python -m bench.bench_slack --rows 1000000      # full (builds the databases once, then reuses them)
    python -m bench.bench_slack --quick             # 20,000 rows, 2-second phases
    python -m bench.bench_slack --db=postgresql     # one database only (default: sqlite,postgresql)

Each database is measured with the worker count `mo-bot serve` picks for it (SQLite: 1 process × 8 threads, since
SQLite has one writer at a time and every answer appends an audit row; PostgreSQL: 2 × 8), and its floor with
the same gunicorn setup.

Phases, in order:
1. ``cold``: a fresh server (nothing cached), every distinct question of the mix once at concurrency 1 — the
   "first answer after an import" figure.
2. warm-up: passes of the whole mix at concurrency 8, each request on a new connection (so every worker process
   gets every question), until one has no answer over 100 ms (every worker has every question cached; at most
   20 passes; the results say whether it got there).
3. ``mo`` at concurrency 1, 8, 32 for ``--seconds`` each, the realistic mix in a shuffled order.
4. ``floor``: the bare acking app under the same gunicorn, concurrency 1, 8, 32.

The mix: both forces (their Slack workspaces), every district by slug and by each alias and force-wide; wanted,
suspects, bail, rui and status; with and without ``--offence``, ``--older-than``, ``--reason``, ``--expiring``.

Load generator: Python threads, one persistent HTTP/1.1 connection each (as Slack keeps connections alive),
requests signed before each phase (the signature covers a timestamp valid for 5 minutes) so HMAC work stays out of
the timing. It shares the 2 cores with the server, equally for the product and the floor.
An error is a non-200, a connection failure, or an answer that is not an ``ok`` figures answer (the mix is valid).

The databases, built with ``bot.demo.load_demo`` on first use (minutes at 1M rows) and reused afterwards while
their schema is at the code's migration head (rebuilt otherwise; delete to rebuild): SQLite
``MO_BENCH_SLACK_CACHE`` (default ``/tmp/mo-bench-slack``)/``slack-<rows>.db``; PostgreSQL database
``mo_bench_slack_<rows>`` on ``MO_BENCH_PG_URL`` (behind ``MO_BENCH_PG_DB_PREFIX`` when set). No tool is
installed: the load generator is this file.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.common import emit, machine_info, markdown_table, parse_args, spread

SECRET = "5f1c0a9e8d7b6a5f4e3d2c1b0a9f8e7d"
TEAMS = {"suffolk": "T0SUFFOLK", "norfolk": "T0NORFOLK"}
CHANNEL = "C0BENCH01"
CONCURRENCY = (1, 8, 32)
MAX_WARM_PASSES = 20
ROOT = Path(__file__).resolve().parent.parent
ERROR_REF = re.compile(r"\bE-[0-9A-F]{6}\b")  # the reference an unexpected error shows the user


# ------------------------------------------------------------------------------------------------ database


def database(rows: int, kind: str = "sqlite") -> str:
    """A demo database with ``rows`` rows per dataset, built once and reused: a SQLite file under
    ``MO_BENCH_SLACK_CACHE``, or the PostgreSQL database ``mo_bench_slack_<rows>`` on ``MO_BENCH_PG_URL`` (behind
    ``MO_BENCH_PG_DB_PREFIX`` when set)."""
    if kind == "postgresql":
        return _pg_database(rows)
    cache = Path(os.environ.get("MO_BENCH_SLACK_CACHE", Path(tempfile.gettempdir()) / "mo-bench-slack"))
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"slack-{rows}.db"
    if path.exists() and not _schema_is_current(f"sqlite:///{path}"):
        print(f"bench_slack: {path} predates the current schema; rebuilding it", file=sys.stderr)
        for p in cache.glob(f"slack-{rows}.db*"):
            p.unlink()
    if not path.exists():
        partial = cache / f"slack-{rows}.db.partial"
        for p in cache.glob(f"slack-{rows}.db.partial*"):
            p.unlink()
        _load(f"sqlite:///{partial}", rows, cache)
        partial.rename(path)
    return f"sqlite:///{path}"


def _schema_is_current(url: str) -> bool:
    """Whether a cached database is at the code's migration head (an older one is rebuilt, not migrated: the
    figures' indexes and tables may have changed, and a migrated copy is not what a fresh import builds)."""
    from alembic.script import ScriptDirectory

    from bot.db import alembic_config, current_revision, make_engine

    eng = make_engine(url)
    try:
        have = current_revision(eng)
    finally:
        eng.dispose()
    return have == ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def _load(url: str, rows: int, scratch: Path) -> None:
    from bot.config import DEFAULTS, _merge, build_config
    from bot.db import upgrade
    from bot.demo.load import load_demo
    from bot.runtime import Runtime

    upgrade(url)
    # A file of more rows than the default cap (the design point: 10M per dataset) is allowed for the bench.
    cap = max(int(DEFAULTS["import_max_csv_rows"]), 2 * rows)
    config = build_config(_merge(DEFAULTS, {"import_max_csv_rows": cap}), "bench", database_url=url)
    rt = Runtime.create(config)
    t0 = time.perf_counter()
    exports = Path(tempfile.mkdtemp(prefix="exports-", dir=scratch))
    try:
        load_demo(rt, rows=rows, workdir=exports)
    finally:
        shutil.rmtree(exports, ignore_errors=True)
        rt.engine.dispose()
    print(f"bench_slack: loaded {rows:,} rows per dataset in {time.perf_counter() - t0:.0f} s", file=sys.stderr)


def _pg_database(rows: int) -> str:
    from sqlalchemy import make_url, text

    from bench.common import PG_ADMIN_URL, pg_database_name
    from bot.db import make_engine

    name = pg_database_name(f"mo_bench_slack_{rows}")
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            exists = c.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
        if exists:
            eng = make_engine(url)
            try:
                with eng.connect() as c:
                    done = c.execute(text("SELECT count(DISTINCT dataset) FROM import_batch")).scalar() or 0
            except Exception:
                done = 0
            eng.dispose()
            if done >= 4 and _schema_is_current(url):
                return url
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    scratch = Path(tempfile.mkdtemp(prefix="mo-bench-slack-pg-"))
    _load(url, rows, scratch)
    shutil.rmtree(scratch, ignore_errors=True)
    # What autovacuum does some minutes after a bulk load, done now: without it the planner has no statistics
    # and the visibility map is empty, so the covering indexes' index-only scans fetch every heap row (measured:
    # one wanted count 521 ms before, 15 ms after). The import itself should run ANALYZE after a large import.
    eng = make_engine(url, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text("VACUUM (ANALYZE)"))
    eng.dispose()
    return url


def config_file(directory: Path) -> Path:
    """Both forces of the defaults, each mapped to its (fake) workspace, and the bench channel."""
    from bot.config import DEFAULTS

    lines: list[str] = []
    for slug, force in DEFAULTS["forces"].items():
        lines += [f"[forces.{slug}]", f'name = "{force["name"]}"', f'slack_team_ids = ["{TEAMS[slug]}"]']
        for dslug, d in force["districts"].items():
            lines += [
                f"[forces.{slug}.districts.{dslug}]",
                f'label = "{d["label"]}"',
                f"aliases = {json.dumps(d['aliases'])}",
            ]
    lines += ["[slack]", f'channels = ["{CHANNEL}"]']
    path = directory / "bench-slack.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def offences(url: str, n: int = 3) -> list[str]:
    from sqlalchemy import create_engine, text

    eng = create_engine(url)
    with eng.connect() as c:
        rows = c.execute(
            text("SELECT offence, count(*) AS k FROM wanted GROUP BY offence ORDER BY k DESC LIMIT :n"), {"n": n}
        )
        out = [r[0] for r in rows]
    eng.dispose()
    return out


# ------------------------------------------------------------------------------------------------ the mix


@dataclass(frozen=True)
class Ask:
    team: str
    text: str
    canonical: str  # the same question with district slugs (aliases folded), for the cold pass


def mix(offence_names: list[str]) -> list[Ask]:
    from bot.config import DEFAULTS
    from bot.figures.types import WANTED_REASONS

    asks: list[Ask] = []
    for slug, force in DEFAULTS["forces"].items():
        team = TEAMS[slug]
        places: list[tuple[str | None, str | None]] = [(None, None)]
        for dslug, d in force["districts"].items():
            places += [(dslug, dslug)] + [(dslug, a) for a in d["aliases"]]
        for command in ("wanted", "suspects", "bail", "rui"):
            variants = ["", f'--offence "{offence_names[0]}"', "--older-than 90d", "--older-than 365d"]
            variants += [f'--offence "{o}"' for o in offence_names[1:]]
            if command == "wanted":
                variants += [f"--reason {r}" for r in WANTED_REASONS]
            if command == "bail":
                variants += ["--expiring 7d"]
            for district, said in places:
                for v in variants:
                    where = f" --district {said}" if said else ""
                    canon = f" --district {district}" if district else ""
                    asks.append(Ask(team, f"{command}{where} {v}".strip(), f"{command}{canon} {v}".strip()))
        asks.append(Ask(team, "status", "status"))
    return asks


def signed(asks: list[Ask], response_url: str) -> list[tuple[bytes, dict[str, str]]]:
    ts = str(int(time.time()))
    out = []
    for i, a in enumerate(asks):
        form = {
            "team_id": a.team,
            "channel_id": CHANNEL,
            "channel_name": "bench",
            "user_id": f"U0BENCH{i % 50:03d}",
            "command": "/mo",
            "text": a.text,
            "response_url": response_url,
            "trigger_id": f"{i}.{i}.bench",
        }
        body = urlencode(form).encode()
        sig = "v0=" + hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sig,
        }
        out.append((body, headers))
    return out


# ------------------------------------------------------------------------------------------------ load generator


def _answer_ok(body: bytes, floor: bool) -> bool:
    if floor:
        return True  # the floor acks with an empty body
    try:
        data = json.loads(body)
    except ValueError:
        return False
    blocks = data.get("blocks") or []
    # A figures answer opens with a header; refusals, "did you mean" and error references do not.
    return bool(blocks) and blocks[0].get("type") == "header" and not ERROR_REF.search(data.get("text", ""))


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and its live descendants, from /proc (0 elsewhere)."""
    total = 0.0
    todo = [pid]
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError, IndexError):
            continue
    return total


def load(
    port: int,
    requests: list[tuple[bytes, dict[str, str]]],
    concurrency: int,
    *,
    seconds: float | None,
    floor: bool,
    per_request: list[float] | None = None,
    server_pid: int | None = None,
    keepalive: bool = True,
) -> dict[str, Any]:
    """Drive the server; with ``seconds`` None, send each request exactly once (split over the threads), and
    record each one's latency at its index in ``per_request`` if given. With ``server_pid``, also the CPU per
    request of the server (its process tree) and of this load generator: the two share the machine's cores, so
    whichever nears one core's worth of time per request (with one server process) is what sets the rate.
    ``keepalive`` False: a new connection for every request, so that the requests spread over every worker
    process (a kept connection stays with the worker that accepted it)."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(10**9))
    deadline = None if seconds is None else time.perf_counter() + seconds

    def worker(tid: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        bad: list[str] = []
        while True:
            with lock:
                i = next(counter)
            if deadline is None:
                if i >= len(requests):
                    break
                body, headers = requests[i]
            else:
                if time.perf_counter() >= deadline:
                    break
                body, headers = requests[i % len(requests)]
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/slack/events", body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                elapsed = time.perf_counter() - t0
                if not keepalive:
                    conn.close()  # http.client connects again on the next request
                if resp.status != 200 or not _answer_ok(data, floor):
                    bad.append(f"{resp.status} {data[:160]!r}")
                mine.append(elapsed)
                if per_request is not None and deadline is None:
                    per_request[i] = elapsed
            except (OSError, http.client.HTTPException) as e:
                bad.append(type(e).__name__)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(concurrency)]
    server0 = _tree_cpu(server_pid) if server_pid else 0.0
    t0, mine0 = time.perf_counter(), time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall, mine_cpu = time.perf_counter() - t0, time.process_time() - mine0
    out: dict[str, Any] = {"concurrency": concurrency, "rps": round(len(latencies) / wall, 1), "errors": len(errors)}
    if server_pid and latencies:
        n = len(latencies)
        out["server_cpu_ms_per_request"] = round((_tree_cpu(server_pid) - server0) / n * 1000, 3)
        out["loadgen_cpu_ms_per_request"] = round(mine_cpu / n * 1000, 3)
    out.update(spread(latencies) if latencies else {"n": 0})
    if errors:
        out["first_error"] = errors[0]
    return out


# ------------------------------------------------------------------------------------------------ servers


def warm_up(port: int, asks: list[Ask], response_url: str) -> tuple[int, bool]:
    """Passes of the whole mix at concurrency 8 until every worker process has every question cached (each keeps
    its own copy): a pass with no answer slower than 100 ms. Each request on a connection of its own: a kept
    connection stays with the worker that accepted it, and a worker that saw only part of the mix computes the
    rest during the measured phases (seen at 10M: c=1 at 45 rps, c=8 at 0.19x the floor). Returns (passes, warm)."""
    for passes in range(1, MAX_WARM_PASSES + 1):
        if load(port, signed(asks, response_url), 8, seconds=None, floor=False, keepalive=False)["max_ms"] < 100:
            return passes, True
    return MAX_WARM_PASSES, False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, argv: list[str], env: dict[str, str], port: int) -> None:
        self.port = port
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 — open for the server's lifetime
        self.proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.tail()}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status in (200, 404):  # the floor has no /healthz
                    c.close()
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.tail()}")

    def tail(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-2000:]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def serve_floor() -> None:
    """`--serve-floor`: a bare Bolt app that only acks `/mo`, under mo-bot's own gunicorn settings."""
    from gunicorn.app.base import BaseApplication
    from slack_bolt import App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_bolt.authorization import AuthorizeResult

    from bot.settings import load_settings
    from commands.cli.serve_cmd import gunicorn_options

    settings = load_settings()

    def factory() -> Any:
        app = App(
            signing_secret=settings.signing_secret,
            authorize=lambda enterprise_id, team_id: AuthorizeResult(
                enterprise_id=enterprise_id, team_id=team_id, bot_token=settings.bot_token
            ),
            process_before_response=True,
        )
        app.command("/mo")(lambda ack: ack())
        return SlackRequestHandler(app)

    class Floor(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for k, v in gunicorn_options(settings).items():
                self.cfg.set(k, v)

        def load(self) -> Any:
            return factory()

    Floor().run()


# ------------------------------------------------------------------------------------------------ main


def run_database(kind: str, rows: int, seconds: float, base_env: dict[str, str], fake: Any) -> list[dict[str, Any]]:
    """Every phase against one database kind; returns the result rows (each tagged with ``db``)."""
    url = database(rows, kind)
    asks = mix(offences(url))
    random.Random(7).shuffle(asks)
    cold = list({a.canonical: Ask(a.team, a.canonical, a.canonical) for a in asks}.values())
    response_url = fake.new_response_url()
    env = {**base_env, "DATABASE_URL": url}
    results: list[dict[str, Any]] = []

    def note(msg: str) -> None:
        print(f"bench_slack [{kind}]: {msg}", file=sys.stderr, flush=True)

    port = _free_port()
    server = Server([str(Path(sys.executable).parent / "mo-bot"), "serve"], {**env, "PORT": str(port)}, port)
    workers = env.get("WEB_CONCURRENCY") or ("1" if kind == "sqlite" else "2")  # what `mo-bot serve` runs
    try:
        each = [0.0] * len(cold)
        r = load(port, signed(cold, response_url), 1, seconds=None, floor=False, per_request=each)
        by_command: dict[str, list[float]] = {}
        for a, t in zip(cold, each, strict=True):
            by_command.setdefault(a.text.split()[0], []).append(t)
        r["cold_p50_ms_by_command"] = {k: spread(v)["p50_ms"] for k, v in sorted(by_command.items())}
        results.append({"db": kind, "case": "mo cold (first answer after import, nothing cached)", **r})
        note(f"cold p50 {r['p50_ms']} ms; warming up")
        passes, warm = warm_up(port, asks, response_url)
        note(f"warm after {passes} pass(es)" if warm else f"NOT warm after {passes} passes: the phases include misses")
        for c in CONCURRENCY:
            r = load(port, signed(asks, response_url), c, seconds=seconds, floor=False, server_pid=server.proc.pid)
            results.append({"db": kind, "case": "mo", "warm": warm, "warm_passes": passes, **r})
            note(
                f"mo c={c}: {r['rps']} rps, p99 {r['p99_ms']} ms, errors {r['errors']}, CPU per request: server "
                f"{r.get('server_cpu_ms_per_request')} ms, load generator {r.get('loadgen_cpu_ms_per_request')} ms"
            )
    finally:
        server.stop()

    port = _free_port()
    floor_env = {**env, "PORT": str(port), "WEB_CONCURRENCY": workers}  # the same gunicorn setup as the bot's
    floor = Server([sys.executable, "-m", "bench.bench_slack", "--serve-floor"], floor_env, port)
    try:
        load(port, signed(asks, response_url), 8, seconds=1.0, floor=True)
        for c in CONCURRENCY:
            r = load(port, signed(asks, response_url), c, seconds=seconds, floor=True, server_pid=floor.proc.pid)
            results.append({"db": kind, "case": "floor (bare Bolt ack)", **r})
            note(
                f"floor c={c}: {r['rps']} rps, p99 {r['p99_ms']} ms, CPU per request: server "
                f"{r.get('server_cpu_ms_per_request')} ms, load generator {r.get('loadgen_cpu_ms_per_request')} ms"
            )
    finally:
        floor.stop()
    for r in results:
        r["workers"] = int(workers)
    return results


def main() -> None:
    if "--serve-floor" in sys.argv:
        serve_floor()
        return
    argv = [a for a in sys.argv[1:] if not a.startswith("--db=")]
    kinds = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--db=")), "sqlite,postgresql").split(",")
    args = parse_args(__doc__.splitlines()[0], argv)
    rows = args.rows or (20_000 if args.quick else 1_000_000)
    seconds = 2.0 if args.quick else 10.0
    from bench.common import postgres_available
    from tests.support.fakeslack import FakeSlack

    if "postgresql" in kinds and not postgres_available():
        kinds.remove("postgresql")
    tmp = Path(tempfile.mkdtemp(prefix="bench-slack-"))
    results: list[dict[str, Any]] = []
    with FakeSlack() as fake:
        fake.add_channel(CHANNEL)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MO_CONFIG", "DATABASE_URL"))}
        env.update(
            SLACK_BOT_TOKEN=fake.token,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=fake.base_url,
            MO_CONFIG=str(config_file(tmp)),
            THREADS=os.environ.get("THREADS", "8"),
            LOG_LEVEL="warning",  # the per-request INFO line would measure the terminal, not the bot
        )
        # WEB_CONCURRENCY only when the caller set it: otherwise `mo-bot serve` chooses (1 on SQLite, 2 on PG).
        env.pop("WEB_CONCURRENCY", None)
        if os.environ.get("WEB_CONCURRENCY"):
            env["WEB_CONCURRENCY"] = os.environ["WEB_CONCURRENCY"]
        for kind in kinds:
            results += run_database(kind, rows, seconds, env, fake)
    shutil.rmtree(tmp, ignore_errors=True)

    targets: dict[str, dict[str, bool]] = {}
    for kind in kinds:

        def pick(case: str, c: int, kind: str = kind) -> dict[str, Any]:
            return next(r for r in results if r["db"] == kind and r["case"].startswith(case) and r["concurrency"] == c)

        mo8, floor8, cold1 = pick("mo", 8), pick("floor", 8), pick("mo cold", 1)
        targets[kind] = {
            "c8_p99_le_300ms": mo8["p99_ms"] <= 300,
            "c8_rps_ge_half_floor": mo8["rps"] >= floor8["rps"] / 2,
            "cold_c1_p50_le_100ms": cold1["p50_ms"] <= 100,
            "zero_errors": all(r["errors"] == 0 for r in results if r["db"] == kind),
        }
    table = [{k: v for k, v in r.items() if not isinstance(v, dict)} for r in results]
    emit(
        {
            "name": "slack",
            "rows_per_dataset": rows,
            "phase_seconds": seconds,
            "server": {"threads": env["THREADS"], "worker_class": "gthread", "keepalive": True},
            "results": results,
            "targets": targets,
            "machine": machine_info(),
            "markdown": markdown_table(table)
            + "\n\n"
            + "\n".join(
                f"Targets ({k}): " + ", ".join(f"{n}: {'met' if ok else 'NOT met'}" for n, ok in t.items())
                for k, t in targets.items()
            ),
        },
        args.out,
    )


if __name__ == "__main__":
    main()
