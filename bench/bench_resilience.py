"""The hardening campaign's load cases: `mo-bot serve` (gunicorn, fake Slack) answering signed `/mo` requests while
something goes wrong, on SQLite and PostgreSQL.

    python -m bench.bench_resilience                 # full: 1M rows, 30 s phases, 5 kill rounds
    python -m bench.bench_resilience --quick         # 20,000 rows, 5 s phases, 1 kill round at c=4
    python -m bench.bench_resilience --case=import --db=postgresql

Cases (``--case=import,nul,kill``; default all):

``import``  c=32 figures questions (bench_slack's mix, warmed) while `mo-bot import` (its own process) adds
            ``rows`` new wanted circulations to the ``rows``-per-dataset demo database — the bulk path — and
            commits. Latencies over the whole import, and over the 30 s that end 5 s after its commit. Targets: 0
            errors, p99 ≤ 300 ms, none over 3 s.
``nul``     c=16 legitimate figures questions and one sender of ``wanted --as-of %00`` (a NUL) as fast as it is
            answered, for the phase. Target: 0 failed legitimate answers (and the NUL refused every time).
``kill``    c=8 mixed load — figures, deferred case lists and notes to the action log — against `mo-bot serve`,
            killed with SIGKILL (its whole process group) mid-load and restarted, ``rounds`` times; then the load
            stops and the last server has a minute to answer what is left. Targets: 0 accepted requests ("working
            on it") without their audit row, 0 left unanswered, 0 lost or doubled notes.

The databases are bench_slack's (built once, reused); each case works on a copy (SQLite: the file; PostgreSQL: a
database made from it as a template), so the cached one stays as built. The load generator shares the 2 cores with
the server and the import, as in the campaign.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.bench_slack import (
    CHANNEL,
    SECRET,
    TEAMS,
    Ask,
    _answer_ok,
    _free_port,
    config_file,
    database,
    load,
    mix,
    offences,
    signed,
)
from bench.common import (
    PG_ADMIN_URL,
    emit,
    machine_info,
    markdown_table,
    parse_args,
    pg_database_name,
    postgres_available,
    spread,
)

ROOT = Path(__file__).resolve().parent.parent
MO_BOT = str(Path(sys.executable).parent / "mo-bot")
ADMIN = "U0BENCHADM"


# ------------------------------------------------------------------------------------------------ set-up


def source_database(rows: int, kind: str) -> str:
    """bench_slack's demo database of ``rows`` rows per dataset: as cached if it is there (whatever its schema: the
    copy is migrated, and bench_slack rebuilding a shared cache would disturb other runs), else built."""
    from sqlalchemy import make_url, text

    from bot.db import make_engine

    if kind == "sqlite":
        cache = Path(os.environ.get("MO_BENCH_SLACK_CACHE", Path(tempfile.gettempdir()) / "mo-bench-slack"))
        path = cache / f"slack-{rows}.db"
        return f"sqlite:///{path}" if path.exists() else database(rows, kind)
    name = pg_database_name(f"mo_bench_slack_{rows}")
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        found = c.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
    admin.dispose()
    if found:
        return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    return database(rows, kind)


def working_copy(kind: str, rows: int, name: str) -> str:
    """A copy of the demo database for one case, migrated to the code's schema (the cached one stays as built)."""
    from sqlalchemy import make_url, text

    from bot.db import make_engine, upgrade

    src = source_database(rows, kind)
    if kind == "sqlite":
        dst = Path(tempfile.mkdtemp(prefix="bench-resilience-")) / f"{name}.db"
        shutil.copyfile(src.removeprefix("sqlite:///"), dst)
        url = f"sqlite:///{dst}"
    else:
        db = pg_database_name(f"mo_bench_resilience_{name}")
        admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
            for attempt in range(30):
                try:
                    c.execute(text(f'CREATE DATABASE "{db}" TEMPLATE "{make_url(src).database}"'))
                    break
                except Exception:  # the template is in use (another bench reading it): wait for it
                    if attempt == 29:
                        raise
                    time.sleep(2)
        admin.dispose()
        url = make_url(PG_ADMIN_URL).set(database=db).render_as_string(hide_password=False)
    upgrade(url)
    return url


def drop_copy(url: str) -> None:
    if url.startswith("sqlite"):
        shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)
        return
    from sqlalchemy import make_url, text

    from bot.db import make_engine

    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def new_wanted_export(path: Path, rows: int) -> Path:
    """``rows`` wanted circulations none of which the demo holds (so the import adds them all: the bulk path)."""
    from bench.bench_import import write_wanted_csv

    if not path.exists():
        write_wanted_csv(path, rows)
    return path


class Serve:
    """`mo-bot serve` in its own process group, so that a kill takes the gunicorn master and its workers."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - open for the server's lifetime
        self.proc = subprocess.Popen(
            [MO_BOT, "serve"],
            env={**env, "PORT": str(self.port)},
            cwd=ROOT,
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mo-bot serve exited: {self.tail()}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/healthz")
                ok = c.getresponse().status == 200
                c.close()
                if ok:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"mo-bot serve did not start: {self.tail()}")

    def tail(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-2000:]

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def base_env(fake: Any, work: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MO_CONFIG", "DATABASE_URL", "WEB_"))}
    cfg = config_file(work)
    with cfg.open("a", encoding="utf-8") as f:
        f.write(f'[slack.roles]\nadmin = ["{ADMIN}"]\n')
    env.update(
        SLACK_BOT_TOKEN=fake.token,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.base_url,
        MO_CONFIG=str(cfg),
        THREADS=os.environ.get("THREADS", "8"),
        LOG_LEVEL="warning",
        DATABASE_URL=url,
    )
    if os.environ.get("WEB_CONCURRENCY"):
        env["WEB_CONCURRENCY"] = os.environ["WEB_CONCURRENCY"]
    return env


def warm(port: int, requests: list[tuple[bytes, dict[str, str]]]) -> int:
    """Passes of the mix at c=8 until one has no answer over 100 ms (every worker has every answer cached)."""
    passes = 0
    while passes < 8:
        passes += 1
        if load(port, requests, 8, seconds=None, floor=False)["max_ms"] < 100:
            break
    return passes


# ------------------------------------------------------------------------------------------------ timed load


@dataclass
class Sample:
    start: float
    seconds: float
    ok: bool


def timed_load(
    port: int, requests: list[tuple[bytes, dict[str, str]]], concurrency: int, stop: threading.Event
) -> list[Sample]:
    """Each thread a persistent connection, asking round the mix until ``stop``; every answer with its start."""
    samples: list[Sample] = []
    lock = threading.Lock()

    def worker(t: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        i, mine = t, []
        while not stop.is_set():
            body, headers = requests[i % len(requests)]
            i += concurrency
            t0 = time.time()
            try:
                conn.request("POST", "/slack/events", body=body, headers=headers)
                resp = conn.getresponse()
                ok = resp.status == 200 and _answer_ok(resp.read(), False)
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            mine.append(Sample(t0, time.time() - t0, ok))
        conn.close()
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(concurrency)]
    for th in threads:
        th.start()
    stop.wait()
    for th in threads:
        th.join()
    return samples


def summarise(samples: list[Sample], origin: float | None = None) -> dict[str, Any]:
    """Errors, spread and counts over thresholds; with ``origin`` (e.g. the import's commit), when each answer over
    1 s started relative to it, to tell a wait on the import from the machine's noise."""
    if not samples:
        return {"n": 0}
    out: dict[str, Any] = {"errors": sum(not s.ok for s in samples), **spread([s.seconds for s in samples])}
    out["over_300ms"] = sum(s.seconds > 0.3 for s in samples)
    out["over_3s"] = sum(s.seconds > 3 for s in samples)
    if origin is not None:
        slow = sorted((s for s in samples if s.seconds > 1), key=lambda s: s.start)
        out["over_1s_started_at_s"] = [[round(s.start - origin, 2), round(s.seconds, 2)] for s in slow[:20]]
    return out


# ------------------------------------------------------------------------------------------------ case: import


def case_import(kind: str, rows: int, phase: float, fake: Any) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-resilience-import-"))
    url = working_copy(kind, rows, "import")
    export = new_wanted_export(Path(tempfile.gettempdir()) / f"mo-bench-new-wanted-{rows}.csv", rows)
    env = base_env(fake, work, url)
    asks = mix(offences(url))
    random.Random(7).shuffle(asks)
    requests = signed(asks, fake.new_response_url())
    serve = Serve(env)
    try:
        passes = warm(serve.port, requests)
        stop = threading.Event()
        result: list[list[Sample]] = []
        loader = threading.Thread(target=lambda: result.append(timed_load(serve.port, requests, 32, stop)))
        loader.start()
        time.sleep(3)
        t0 = time.time()
        imp = subprocess.run(
            # As of today: the demo is as of the day it was built, and an older export would be refused.
            [MO_BOT, "import", "wanted", str(export)],
            env=env,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        committed = time.time()
        time.sleep(5)
        stop.set()
        loader.join()
    finally:
        serve.stop()
        drop_copy(url)
        shutil.rmtree(work, ignore_errors=True)
    samples = result[0] if result else []
    during = [s for s in samples if t0 <= s.start <= committed]
    window = [s for s in samples if committed + 5 - phase <= s.start <= committed + 5]
    return {
        "db": kind,
        "case": "import: c=32 while a wanted import adds rows and commits",
        "import_rows": rows,
        "import_seconds": round(committed - t0, 1),
        "import_ok": imp.returncode == 0,
        "warm_passes": passes,
        "whole_import": summarise(during, origin=committed),
        f"last_{int(phase)}s_to_commit_plus_5s": summarise(window),
        "import_output": (imp.stdout + imp.stderr)[-300:],
    }


# ------------------------------------------------------------------------------------------------ case: nul


def case_nul(kind: str, rows: int, phase: float, fake: Any) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-resilience-nul-"))
    url = working_copy(kind, rows, "nul")
    env = base_env(fake, work, url)
    asks = mix(offences(url))
    random.Random(7).shuffle(asks)
    requests = signed(asks, fake.new_response_url())
    nul = signed([Ask(TEAMS["suffolk"], "wanted --as-of \x00", "wanted")], fake.new_response_url())
    serve = Serve(env)
    refused: list[bool] = []
    try:
        warm(serve.port, requests)
        stop = threading.Event()
        result: list[list[Sample]] = []
        loader = threading.Thread(target=lambda: result.append(timed_load(serve.port, requests, 16, stop)))

        def sender() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", serve.port, timeout=60)
            body, headers = nul[0]
            while not stop.is_set():
                try:
                    conn.request("POST", "/slack/events", body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    text = json.loads(data).get("text", "") if resp.status == 200 else ""
                    refused.append(resp.status == 200 and "E-" not in text and bool(text))
                except (OSError, ValueError, http.client.HTTPException):
                    refused.append(False)
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", serve.port, timeout=60)
            conn.close()

        nul_thread = threading.Thread(target=sender)
        loader.start()
        nul_thread.start()
        time.sleep(phase)
        stop.set()
        loader.join()
        nul_thread.join()
    finally:
        serve.stop()
        drop_copy(url)
        shutil.rmtree(work, ignore_errors=True)
    samples = result[0] if result else []
    return {
        "db": kind,
        "case": "nul: c=16 legitimate + 1 NUL sender",
        "legitimate": summarise(samples),
        "nul_requests": len(refused),
        "nul_refused_cleanly": sum(refused),
    }


# ------------------------------------------------------------------------------------------------ case: kill


@dataclass
class Sent:
    text: str
    trigger: str
    response_url: str
    acked: str  # "working" (accepted), "answered" (in the ack), "error", "none" (no HTTP answer: server killed)


@dataclass
class KillLoad:
    """Mixed load whose requests are each remembered, so what became of every acknowledged one can be checked."""

    fake: Any
    sent: list[Sent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    seq: int = 0

    def request(self, template: str) -> tuple[bytes, dict[str, str], Sent]:
        with self.lock:
            self.seq += 1
            n = self.seq
        text = template.format(n=n)  # a note's text names its request: each is told apart
        rid = self.fake.new_response_url()
        form = {
            "team_id": TEAMS["suffolk"],
            "channel_id": CHANNEL,
            "channel_name": "bench",
            "user_id": ADMIN,
            "command": "/mo",
            "text": text,
            "response_url": rid,
            "trigger_id": f"{n}.{n}.kill",
        }
        body = urlencode(form).encode()
        ts = str(int(time.time()))
        sig = "v0=" + hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sig,
        }
        return body, headers, Sent(text, form["trigger_id"], rid, "none")

    def run(self, port_of: Any, stop: threading.Event, concurrency: int, texts: list[str]) -> None:
        def worker(t: int) -> None:
            rnd = random.Random(t)
            conn = None
            while not stop.is_set():
                body, headers, sent = self.request(rnd.choice(texts))
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", port_of(), timeout=30)
                    conn.request("POST", "/slack/events", body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    if resp.status != 200:
                        sent.acked = "error"
                    else:
                        said = json.loads(data).get("text", "") if data else ""
                        sent.acked = "answered" if said else "working"  # a deferred request is acked empty
                except (OSError, ValueError, http.client.HTTPException):
                    sent.acked = "none"
                    if conn is not None:
                        conn.close()
                    conn = None
                    time.sleep(0.05)
                with self.lock:
                    self.sent.append(sent)
            if conn is not None:
                conn.close()

        threads = [threading.Thread(target=worker, args=(t,)) for t in range(concurrency)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()


def case_kill(kind: str, rows: int, rounds: int, fake: Any, *, quick: bool = False) -> dict[str, Any]:
    from sqlalchemy import select

    from bot.db import make_engine, make_session_factory
    from bot.models import AcceptedRequest, ActionHistory, AuditEvent

    work = Path(tempfile.mkdtemp(prefix="bench-resilience-kill-"))
    url = working_copy(kind, rows, "kill")
    env = {**base_env(fake, work, url), "WEB_CONCURRENCY": "2" if kind == "postgresql" else "1"}
    texts = [
        "wanted --district ipswich",
        "suspects",
        "bail --expiring 7d",
        "wanted --list --district lowestoft",
        "suspects --list --district bury-st-edmunds",
        'action A-1 --note "kill bench note {n}"',
        'action A-2 --note "kill bench note {n}"',
    ]
    kl = KillLoad(fake)
    serve = Serve(env)
    current = [serve]
    stop = threading.Event()
    clients = 4 if quick else 8
    loader = threading.Thread(target=kl.run, args=(lambda: current[0].port, stop, clients, texts))
    loader.start()
    try:
        for _ in range(rounds):
            time.sleep(random.uniform(3, 4) if quick else random.uniform(4, 8))
            current[0].kill()
            time.sleep(0.5)
            current[0] = Serve(env)
        time.sleep(4)
        stop.set()
        loader.join()
        # What was accepted before the last kill is taken up once its holder's lease lapses, and the backlog of a
        # closed-loop load is answered: give it up to five minutes.
        deadline = time.monotonic() + 300
        working = [s for s in kl.sent if s.acked == "working"]
        while time.monotonic() < deadline and any(not fake.posts_to(s.response_url) for s in working):
            time.sleep(1)
        drained_after = round(300 - (deadline - time.monotonic()), 1)
    finally:
        stop.set()
        current[0].stop()
    eng = make_engine(url)
    sessions = make_session_factory(eng)
    with sessions() as s:
        accepted_audit = set(
            s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "accept", AuditEvent.actor == ADMIN)).all()
        )
        accept_rows = {r.trigger_id: r for r in s.scalars(select(AcceptedRequest))}
        notes = s.scalars(select(ActionHistory.note).where(ActionHistory.note.like("kill bench note%"))).all()
    eng.dispose()
    drop_copy(url)
    shutil.rmtree(work, ignore_errors=True)
    working = [s for s in kl.sent if s.acked == "working"]
    no_audit = [s for s in working if s.text not in accepted_audit]
    unanswered = [s for s in working if not fake.posts_to(s.response_url)]
    twice = [s for s in working if len(fake.posts_to(s.response_url)) > 1]
    outcome_of = {k: r.outcome or r.status for k, r in accept_rows.items()}
    acked_notes = [(s.text.split('"')[1], outcome_of.get(s.trigger)) for s in working if "--note" in s.text]
    # A note answered with a refusal (the user was told why) is not a lost change; one answered "done" that is not
    # in the history, or never answered, is.
    lost_notes = [n for n, outcome in acked_notes if n not in notes and outcome in ("ok", "running", None)]
    outcomes: dict[str, int] = {}
    for o in outcome_of.values():
        outcomes[o] = outcomes.get(o, 0) + 1
    doubled_notes = [n for n in set(notes) if notes.count(n) > 1]
    not_done = [k for k, r in accept_rows.items() if r.status != "done"]
    return {
        "db": kind,
        "case": f"kill: c={clients} mixed, serve SIGKILLed {rounds} times",
        "requests": len(kl.sent),
        "accepted": len(working),
        "answered_in_ack": sum(s.acked == "answered" for s in kl.sent),
        "no_http_answer": sum(s.acked == "none" for s in kl.sent),
        "accepted_without_audit_row": len(no_audit),
        "accepted_unanswered": len(unanswered),
        "accepted_answered_twice": len(twice),
        "notes_acked": len(acked_notes),
        "notes_lost": len(lost_notes),
        "notes_doubled": len(doubled_notes),
        "accepted_rows_not_done": len(not_done),
        "resumed_after_a_kill": sum(r.attempts > 1 for r in accept_rows.values()),
        "accepted_outcomes": outcomes,
        "all_answered_after_s": drained_after,
    }


# ------------------------------------------------------------------------------------------------ main


def main() -> None:
    argv = [a for a in sys.argv[1:] if not a.startswith(("--db=", "--case="))]
    kinds = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--db=")), "sqlite,postgresql").split(",")
    cases = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--case=")), "import,nul,kill").split(",")
    args = parse_args(__doc__.splitlines()[0], argv)
    rows = args.rows or (20_000 if args.quick else 1_000_000)
    phase = 5.0 if args.quick else 30.0
    rounds = 1 if args.quick else 5
    if "postgresql" in kinds and not postgres_available():
        kinds.remove("postgresql")
    from tests.support.fakeslack import FakeSlack

    results: list[dict[str, Any]] = []
    with FakeSlack() as fake:
        fake.add_channel(CHANNEL)
        fake.users[ADMIN] = {"id": ADMIN, "name": "bench-admin"}
        for kind in kinds:
            for case in cases:
                print(f"bench_resilience [{kind}]: {case}…", file=sys.stderr, flush=True)
                if case == "import":
                    r = case_import(kind, rows, phase, fake)
                elif case == "nul":
                    r = case_nul(kind, rows, phase, fake)
                elif case == "kill":
                    r = case_kill(kind, rows, rounds, fake, quick=args.quick)
                else:
                    raise SystemExit(f"bench_resilience: unknown case {case!r}")
                print(f"bench_resilience [{kind}]: {case}: {json.dumps(r, default=str)}", file=sys.stderr, flush=True)
                results.append(r)
    emit(
        {
            "name": "resilience",
            "rows_per_dataset": rows,
            "phase_seconds": phase,
            "kill_rounds": rounds,
            "results": results,
            "targets": targets(results),
            "machine": machine_info(),
            "markdown": markdown(results),
        },
        args.out,
    )


def targets(results: list[dict[str, Any]]) -> dict[str, dict[str, bool]]:
    out: dict[str, dict[str, bool]] = {}
    for r in results:
        t = out.setdefault(r["db"], {})
        if r["case"].startswith("import"):
            w = next(v for k, v in r.items() if k.startswith("last_"))
            t["import_zero_errors"] = r["whole_import"].get("errors", 1) == 0 and w.get("errors", 1) == 0
            t["import_p99_le_300ms"] = w.get("p99_ms", 1e9) <= 300
            t["import_none_over_3s"] = r["whole_import"].get("over_3s", 1) == 0
        elif r["case"].startswith("nul"):
            t["nul_zero_failed_legitimate"] = r["legitimate"].get("errors", 1) == 0
        elif r["case"].startswith("kill"):
            t["kill_zero_accepted_without_audit"] = r["accepted_without_audit_row"] == 0
            t["kill_zero_lost"] = r["accepted_unanswered"] == 0 and r["notes_lost"] == 0
            t["kill_zero_doubled_changes"] = r["notes_doubled"] == 0
    return out


def markdown(results: list[dict[str, Any]]) -> str:
    rows: list[dict[str, Any]] = []
    for r in results:
        flat = {k: v for k, v in r.items() if not isinstance(v, dict) and k != "import_output"}
        for k, v in r.items():
            if isinstance(v, dict):
                for kk in ("errors", "p50_ms", "p99_ms", "max_ms", "over_3s"):
                    if kk in v:
                        flat[f"{k}.{kk}"] = v[kk]
        rows.append(flat)
    lines = [markdown_table([r]) for r in rows]
    lines.append(
        "\n".join(
            f"Targets ({db}): " + ", ".join(f"{n}: {'met' if ok else 'NOT met'}" for n, ok in t.items())
            for db, t in targets(results).items()
        )
    )
    return "\n\n".join(lines)


if __name__ == "__main__":
    main()
