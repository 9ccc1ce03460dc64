"""`/mo actions` on a log of 2,000 actions: does it answer inside Slack's 3-second ack, and stay within Slack's
block limits by paginating?

For SQLite and PostgreSQL (when reachable): a fresh migrated database gets 2,000 actions of one force (and 500
of another, which must never show) with seeded random pillars, owners, statuses and due dates, a history row
each. Then, in-process:

* ``pipeline`` — ``commands.mo.pipeline.answer`` (parse → access → query → Block Kit → audit, committed) for a mix
  of `/mo actions` requests: the default list, ``--owner me``, ``--overdue``, ``--pillar``, ``--due-within``,
  a deep ``--page``, ``--status all``, and the chair's ``--overdue --share`` digest;
* ``bolt`` — the same mix as signed slash-command requests dispatched by the Bolt app (signature check,
  middleware, listener, ack body), without HTTP.

Reports p50/p99 per case and asserts every answer has ≤ 50 blocks and ≤ 3,000 characters per section text.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from bench.common import emit, fresh_database, parse_args, postgres_available, spread

N_ACTIONS = 2000
TEAM = "T0BENCH01"
CHANNEL = "C0BENCH01"
CHAIR = "U0CHAIR01"
OWNERS = [f"U0OWN{i:04d}" for i in range(40)]
SECRET = "e3b0c44298fc1c149afbf4c8996fb924"
MIX = (
    ("list", "actions", OWNERS[0]),
    ("owner me", "actions --owner me", OWNERS[1]),
    ("overdue", "actions --overdue", OWNERS[2]),
    ("pillar", "actions --pillar divert", OWNERS[3]),
    ("due within 14d", "actions --due-within 14d", OWNERS[4]),
    ("page 40", "actions --status all --page 40", OWNERS[5]),
    ("digest (share)", "actions --overdue --share", CHAIR),
)


def seed(url: str, n: int) -> None:
    from sqlalchemy import insert

    from bot.action_log.types import PILLARS
    from bot.db import make_engine
    from bot.models import Action, ActionHistory, ActionOwner

    rnd = random.Random(7)
    now = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)
    today = now.date()
    statuses = ["open"] * 4 + ["ongoing"] * 4 + ["held", "complete", "complete", "cancelled"]
    rows, hist = [], []
    owners: dict[tuple[str, str], list[tuple[str | None, str | None]]] = {}
    for force, count in (("suffolk", n), ("norfolk", n // 4)):
        for i in range(1, count + 1):
            status = rnd.choice(statuses)
            due = today + dt.timedelta(days=rnd.randint(-120, 240)) if rnd.random() < 0.85 else None
            initials = rnd.choice(["HH", "JM", "AW", "MJ"]) if rnd.random() < 0.1 else None
            rows.append(
                {
                    "force": force,
                    "reference": f"A-{i}",
                    "pillar": rnd.choice(list(PILLARS)),
                    "title": f"Action {i}: " + " ".join(rnd.choice(["bail", "RUI", "data", "review", "OOCD"])
                                                       for _ in range(rnd.randint(4, 16))),
                    "owner_user_id": None if initials else rnd.choice(OWNERS),
                    "owner_initials": initials,
                    "status": status,
                    "due_on": due,
                    "completed_on": today - dt.timedelta(days=rnd.randint(0, 300)) if status == "complete" else None,
                    "created_by": "bench",
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
            )  # fmt: skip
            # Each owner is a row of action_owner, as the services write them; 5 % are owned jointly by two.
            first = (initials, None) if initials else (None, rows[-1]["owner_user_id"])
            owners[(force, f"A-{i}")] = [first] + ([(None, rnd.choice(OWNERS))] if rnd.random() < 0.05 else [])
    eng = make_engine(url)
    with eng.begin() as c:
        c.execute(insert(Action), rows)
        keyed = c.execute(Action.__table__.select().with_only_columns(Action.id, Action.force, Action.reference))
        c.execute(insert(ActionOwner), [
            {"action_id": aid, "position": pos, "initials": ini, "user_id": uid}
            for aid, force, ref in keyed for pos, (ini, uid) in enumerate(owners[(force, ref)])
        ])  # fmt: skip
        ids = [r[0] for r in c.execute(Action.__table__.select().with_only_columns(Action.id))]
        for action_id in ids:
            hist.append(
                {
                    "action_id": action_id,
                    "field": "created",
                    "old_value": None,
                    "new_value": "open",
                    "changed_by": "bench",
                    "changed_at": now,
                    "note": None,
                    "version": 1,
                }
            )
        c.execute(insert(ActionHistory), hist)
    eng.dispose()


def runtime_for(url: str) -> Any:
    from bot.clock import FixedClock
    from bot.config import load_config
    from bot.runtime import Runtime

    cfg = load_config(database_url=url)
    suffolk = replace(cfg.force("suffolk"), slack_team_ids=(TEAM,), owners={"HH": OWNERS[0]})
    slack = replace(cfg.slack, channels=(CHANNEL,), roles={"admin": (CHAIR,)})
    cfg = replace(cfg, forces={**cfg.forces, "suffolk": suffolk}, slack=slack)
    return Runtime.create(cfg, clock=FixedClock(dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)))


def check_blocks(blocks: list[dict[str, Any]]) -> int:
    assert 0 < len(blocks) <= 50, f"{len(blocks)} blocks"
    for b in blocks:
        t = (b.get("text") or {}).get("text") or ""
        assert len(t) <= 3000, f"section text of {len(t)} characters"
    return len(blocks)


def bench_pipeline(rt: Any, repeat: int) -> list[dict[str, Any]]:
    from bot.access import Requester, identify
    from commands.mo.pipeline import answer

    out = []
    for case, text, user in MIX:
        who = identify(rt.config, Requester(user_id=user, team_id=TEAM, channel_id=CHANNEL))
        reply = answer(rt, who, text)
        assert reply.outcome == "ok", (text, reply.text)
        blocks = check_blocks(reply.blocks)
        samples = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            reply = answer(rt, who, text)
            samples.append(time.perf_counter() - t0)
        out.append({"case": case, "command": f"/mo {text}", "blocks": blocks, **spread(samples)})
    return out


def bench_bolt(rt: Any, repeat: int) -> list[dict[str, Any]]:
    from slack_bolt import BoltRequest

    from bot.settings import Settings
    from bot.slack.client import make_client
    from commands.app import build_app

    settings = Settings(
        bot_token="xoxb-bench",
        signing_secret=SECRET,
        app_token=None,
        api_url="http://127.0.0.1:9/api/",
        database_url=None,
        config_path=None,
        port=3000,
        web_concurrency=1,
        threads=1,
    )
    app = build_app(rt, client=make_client("xoxb-bench", settings.api_url), settings=settings)

    def request(text: str, user: str) -> BoltRequest:
        from slack_sdk.signature import SignatureVerifier

        body = urlencode(
            {
                "team_id": TEAM,
                "channel_id": CHANNEL,
                "channel_name": "mo",
                "user_id": user,
                "command": "/mo",
                "text": text,
                "response_url": "http://127.0.0.1:9/response/x",
                "trigger_id": "1.2.3",
            }
        )
        ts = str(int(time.time()))
        sig = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)
        headers = {
            "content-type": ["application/x-www-form-urlencoded"],
            "x-slack-request-timestamp": [ts],
            "x-slack-signature": [sig],
        }
        return BoltRequest(body=body, headers=headers)

    out = []
    for case, text, user in MIX:
        resp = app.dispatch(request(text, user))
        assert resp.status == 200, resp.body
        blocks = check_blocks(json.loads(resp.body)["blocks"])
        samples = []
        for _ in range(repeat):
            req = request(text, user)
            t0 = time.perf_counter()
            resp = app.dispatch(req)
            samples.append(time.perf_counter() - t0)
            assert resp.status == 200
        out.append({"case": case, "command": f"/mo {text}", "blocks": blocks, **spread(samples)})
    return out


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    n = args.rows or (300 if args.quick else N_ACTIONS)
    repeat = 15 if args.quick else 100
    kinds = ["sqlite"] + (["postgresql"] if postgres_available() else [])
    results: list[dict[str, Any]] = []
    for kind in kinds:
        with fresh_database(kind) as url:
            seed(url, n)
            rt = runtime_for(url)
            for path, fn in (("pipeline", bench_pipeline), ("bolt", bench_bolt)):
                for r in fn(rt, repeat):
                    results.append({"db": kind, "path": path, "actions": n, **r})
            rt.engine.dispose()
    worst = max(r["p99_ms"] for r in results)
    lines = [
        f"`/mo actions` on {n:,} actions (plus {n // 4:,} of another force), {repeat} repeats per case, in-process.",
        "",
        "| db | path | case | blocks | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {r['db']} | {r['path']} | {r['case']} | {r['blocks']} | {r['p50_ms']} | {r['p99_ms']} | {r['max_ms']} |"
            for r in results
        ),
        "",
        f"Worst p99: {worst} ms against the 3,000 ms ack; every answer ≤ 50 blocks.",
    ]
    emit({"name": "actions", "results": results, "markdown": "\n".join(lines)}, args.out)


if __name__ == "__main__":
    main()
