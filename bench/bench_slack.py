"""Load test of the Slack transport: `mo-bot serve` (gunicorn, gthread) answering signed `/mo` slash commands on a
demo database of ``--rows`` rows per dataset, against a bare Bolt app that only acks (the floor), same run, same
gunicorn settings, same load generator.

    python -m bench.bench_slack --rows 1000000      # full (builds the database once, then reuses it)
    python -m bench.bench_slack --quick             # 20,000 rows, 2-second phases

Phases, in order:
1. ``cold``: a fresh server (nothing cached), every distinct question of the mix once at concurrency 1 — the
   "first answer after an import" figure.
2. warm-up: the whole mix twice at concurrency 8 (every worker sees every question).
3. ``mo`` at concurrency 1, 8, 32 for ``--seconds`` each, the realistic mix in a shuffled order.
4. ``floor``: the bare acking app under the same gunicorn, concurrency 1, 8, 32.

The mix: both forces (their Slack workspaces), every district by slug and by each alias and force-wide; wanted,
suspects, bail, rui and status; with and without ``--offence``, ``--older-than``, ``--reason``, ``--expiring``.

Load generator: Python threads, one persistent HTTP/1.1 connection each (as Slack keeps connections alive),
requests signed before each phase (the signature covers a timestamp valid for 5 minutes) so HMAC work stays out of
the timing. It shares the 2 cores with the server, equally for the product and the floor.
An error is a non-200, a connection failure, or an answer that is not an ``ok`` figures answer (the mix is valid).

The database: ``MO_BENCH_SLACK_CACHE`` (default ``/tmp/mo-bench-slack``)/``slack-<rows>.db``, built with
``bot.demo.load_demo`` on first use (minutes at 1M rows) and reused afterwards. Delete it to rebuild.
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
ROOT = Path(__file__).resolve().parent.parent
ERROR_REF = re.compile(r"\bE-[0-9A-F]{6}\b")  # the reference an unexpected error shows the user


# ------------------------------------------------------------------------------------------------ database


def database(rows: int) -> str:
    """A SQLite demo database with ``rows`` rows per dataset, built once and reused."""
    cache = Path(os.environ.get("MO_BENCH_SLACK_CACHE", Path(tempfile.gettempdir()) / "mo-bench-slack"))
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"slack-{rows}.db"
    if not path.exists():
        from bot.config import load_config
        from bot.db import upgrade
        from bot.demo.load import load_demo
        from bot.runtime import Runtime

        partial = cache / f"slack-{rows}.db.partial"
        for p in cache.glob(f"slack-{rows}.db.partial*"):
            p.unlink()
        url = f"sqlite:///{partial}"
        upgrade(url)
        rt = Runtime.create(load_config(env={"DATABASE_URL": url}))
        t0 = time.perf_counter()
        exports = Path(tempfile.mkdtemp(prefix="exports-", dir=cache))
        load_demo(rt, rows=rows, workdir=exports)
        shutil.rmtree(exports, ignore_errors=True)
        rt.engine.dispose()
        print(f"bench_slack: built {path} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        partial.rename(path)
    return f"sqlite:///{path}"


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


def load(
    port: int, requests: list[tuple[bytes, dict[str, str]]], concurrency: int, *, seconds: float | None, floor: bool
) -> dict[str, Any]:
    """Drive the server; with ``seconds`` None, send each request exactly once (split over the threads)."""
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
                if resp.status != 200 or not _answer_ok(data, floor):
                    bad.append(f"{resp.status} {data[:160]!r}")
                mine.append(elapsed)
            except (OSError, http.client.HTTPException) as e:
                bad.append(type(e).__name__)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    out: dict[str, Any] = {"concurrency": concurrency, "rps": round(len(latencies) / wall, 1), "errors": len(errors)}
    out.update(spread(latencies) if latencies else {"n": 0})
    if errors:
        out["first_error"] = errors[0]
    return out


# ------------------------------------------------------------------------------------------------ servers


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

    from bot.cli.serve_cmd import gunicorn_options
    from bot.settings import load_settings

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


def main() -> None:
    if "--serve-floor" in sys.argv:
        serve_floor()
        return
    args = parse_args(__doc__.splitlines()[0])
    rows = args.rows or (20_000 if args.quick else 1_000_000)
    seconds = 2.0 if args.quick else 10.0
    sys.path.insert(0, str(ROOT / "tests"))
    from fakeslack import FakeSlack

    url = database(rows)
    names = offences(url)
    asks = mix(names)
    random.Random(7).shuffle(asks)
    cold: list[Ask] = list({a.canonical: Ask(a.team, a.canonical, a.canonical) for a in asks}.values())

    tmp = Path(tempfile.mkdtemp(prefix="bench-slack-"))
    results: list[dict[str, Any]] = []
    with FakeSlack() as fake:
        fake.add_channel(CHANNEL)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MO_", "DATABASE_URL"))}
        env.update(
            SLACK_BOT_TOKEN=fake.token,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=fake.base_url,
            DATABASE_URL=url,
            MO_CONFIG=str(config_file(tmp)),
            WEB_CONCURRENCY=os.environ.get("WEB_CONCURRENCY", "2"),
            THREADS=os.environ.get("THREADS", "8"),
            LOG_LEVEL="warning",  # the per-request INFO line would measure the terminal, not the bot
        )
        response_url = fake.new_response_url()

        port = _free_port()
        server = Server([str(Path(sys.executable).parent / "mo-bot"), "serve"], {**env, "PORT": str(port)}, port)
        try:
            r = load(port, signed(cold, response_url), 1, seconds=None, floor=False)
            results.append({"case": "mo cold (first answer after import, nothing cached)", **r})
            warm = signed(asks, response_url)
            for _ in range(2):
                load(port, warm, 8, seconds=None, floor=False)
            for c in CONCURRENCY:
                r = load(port, signed(asks, response_url), c, seconds=seconds, floor=False)
                results.append({"case": "mo", **r})
        finally:
            server.stop()

        port = _free_port()
        floor = Server([sys.executable, "-m", "bench.bench_slack", "--serve-floor"], {**env, "PORT": str(port)}, port)
        try:
            load(port, signed(asks, response_url), 8, seconds=1.0, floor=True)
            for c in CONCURRENCY:
                r = load(port, signed(asks, response_url), c, seconds=seconds, floor=True)
                results.append({"case": "floor (bare Bolt ack)", **r})
        finally:
            floor.stop()
    shutil.rmtree(tmp, ignore_errors=True)

    def pick(case: str, c: int) -> dict[str, Any]:
        return next(r for r in results if r["case"].startswith(case) and r["concurrency"] == c)

    mo8, floor8, cold1 = pick("mo", 8), pick("floor", 8), results[0]
    targets = {
        "c8_p99_le_300ms": mo8["p99_ms"] <= 300,
        "c8_rps_ge_half_floor": mo8["rps"] >= floor8["rps"] / 2,
        "cold_c1_p50_le_100ms": cold1["p50_ms"] <= 100,
        "zero_errors": all(r["errors"] == 0 for r in results),
    }
    emit(
        {
            "name": "slack",
            "rows_per_dataset": rows,
            "mix_size": len(asks),
            "cold_questions": len(cold),
            "phase_seconds": seconds,
            "server": {"workers": env["WEB_CONCURRENCY"], "threads": env["THREADS"], "worker_class": "gthread"},
            "results": results,
            "targets": targets,
            "machine": machine_info(),
            "markdown": markdown_table(results)
            + "\n\nTargets: "
            + ", ".join(f"{k}: {'met' if v else 'NOT met'}" for k, v in targets.items()),
        },
        args.out,
    )


if __name__ == "__main__":
    main()
