"""Watches end to end through the services a person and the scheduler use: `/mo watch` through the answer pipeline,
imports through the import service, and the scheduler's tick (exactly-once claims) sending the DMs to the fake
Slack. A crossing is told once, not again while the figure stays past the line, again after it came back and
crossed once more; a watcher whose role was removed is not told. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bot.access import Requester, identify
from bot.clock import FixedClock
from bot.config import DEFAULTS, Config, _merge, build_config
from bot.importing.service import import_file
from bot.importing.types import ImportRequest
from bot.models import AuditEvent, JobRun, Watch
from bot.runtime import Runtime
from bot.slack.client import make_client
from commands.mo.pipeline import answer
from commands.mo.reply import Reply
from commands.web import WebApp, database_check
from jobs.runner import JobRunner
from tests.support.bolt import app_for
from tests.support.fakeslack import FakeSlack, fake_slack  # noqa: F401 - the fixture
from tests.support.slackutil import LocalServer, blocks_text, post_signed

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
TEAM = "T0SUFFOLK"
ANALYST = "U0ANALYST"
VIEWER = "U0VIEWER1"
HEADER = "reference,offence,district,kind,started_on"


def cfg_for(db_url: str, analysts: list[str]) -> Config:
    raw = {
        "forces": {"suffolk": {**DEFAULTS["forces"]["suffolk"], "slack_team_ids": [TEAM]}},
        "slack": {"roles": {"analyst": analysts}},
    }
    return build_config(_merge(DEFAULTS, raw), "test", database_url=db_url)


class World:
    def __init__(self, db_url: str, engine: Engine, fake: FakeSlack, tmp: Path) -> None:
        self.db_url, self.engine, self.fake, self.tmp = db_url, engine, fake, tmp
        self.clock = FixedClock(NOW)
        self.rt = Runtime.create(cfg_for(db_url, [ANALYST]), clock=self.clock, engine=engine)
        self.n = 0
        fake.users[ANALYST] = {"name": "analyst"}

    def ask(self, text: str, user: str = ANALYST) -> Reply:
        who = Requester(user_id=user, team_id=TEAM, channel_id="D0ANALYST", channel_is_dm=True)
        return answer(self.rt, identify(self.rt.config, who), text)

    def import_rui(self, refs: range | list[int], *, snapshot: bool = False) -> None:
        """RUI in Ipswich started in January 2025: all older than 12 months on 23 November 2026."""
        self.n += 1
        path = self.tmp / f"bail-{self.n}.csv"
        rows = [f"R{i},Theft,ipswich,rui,2025-01-{1 + i % 28:02d}" for i in refs]
        path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
        with self.rt.sessions() as s:
            req = ImportRequest(dataset="bail", path=path, force="suffolk", snapshot=snapshot, actor="cli:test")
            report = import_file(s, self.rt.config, req, self.clock.now())
            assert report.ok, report
            s.commit()

    def tick(self) -> list[Any]:
        runner = JobRunner(self.rt, client=make_client(self.fake.token, self.fake.base_url, sleep=lambda _s: None))
        return [r for r in runner.tick() if r.key.job == "watches"]

    def dms(self) -> list[str]:
        return [
            blocks_text(c.params.get("blocks") or [])
            for c in self.fake.calls_to("chat.postMessage")
            if c.params.get("channel") in (ANALYST, "D" + ANALYST[1:])
        ]


@pytest.fixture
def world(db_url: str, engine: Engine, fake_slack: FakeSlack, tmp_path: Path) -> World:  # noqa: F811
    return World(db_url, engine, fake_slack, tmp_path)


WATCH = "watch rui --district ipswich --older-than 12m --above 2"


def test_a_watch_on_a_figure_already_past_its_line_says_so(world: World) -> None:
    world.import_rui(range(2))
    added = world.ask("watch rui --district ipswich --older-than 12m --above 1")
    assert added.outcome == "ok"
    assert "The figure is *2* now — already past the line, so I'll tell you after it has been back" in (
        blocks_text(added.blocks)
    )


def test_a_watch_tells_once_per_crossing_and_again_after_it_came_back(world: World) -> None:
    world.import_rui(range(2))
    added = world.ask(WATCH)
    assert added.outcome == "ok"
    assert "Watching `/mo watch rui --district ipswich --older-than 12m --above 2`. The figure is *2* now" in (
        blocks_text(added.blocks)
    )
    assert [r.outcome for r in world.tick()] == ["done"]  # the import before the watch: nothing crossed
    assert world.dms() == []

    world.import_rui(range(3))  # 3 > 2: crossed
    assert [r.outcome for r in world.tick()] == ["done"]
    assert len(world.dms()) == 1
    assert "crossed by the latest import: now *3* (was 2)" in world.dms()[0]
    assert world.tick() == []  # the same import is never checked twice (its claim exists)

    world.import_rui(range(4))  # still above: not told again
    world.tick()
    assert len(world.dms()) == 1

    world.import_rui([0], snapshot=True)  # back below: re-armed, nobody told
    world.tick()
    assert len(world.dms()) == 1
    world.import_rui(range(5))  # crossed again
    world.tick()
    assert len(world.dms()) == 2 and "now *5* (was 1)" in world.dms()[1]

    with world.rt.sessions() as s:
        audit = [(e.outcome, e.detail) for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "watch"))]
        runs = list(s.scalars(select(JobRun.period).where(JobRun.job == "watches").order_by(JobRun.id)))
    assert [o for o, _ in audit] == ["ok", "ok"]
    assert runs == [f"batch-{i}" for i in range(1, 6)]


def test_a_watcher_whose_role_was_removed_is_not_told(world: World) -> None:
    world.import_rui(range(2))
    assert world.ask(WATCH).outcome == "ok"
    world.tick()
    world.rt = Runtime.create(cfg_for(world.db_url, []), clock=world.clock, engine=world.engine)  # role removed
    world.import_rui(range(3))
    assert [r.outcome for r in world.tick()] == ["done"]
    assert world.dms() == []
    with world.rt.sessions() as s:
        audit = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "watch")))
    assert [(e.actor, e.outcome) for e in audit] == [(ANALYST, "refused")]
    assert "their role is now viewer" in audit[0].detail


def test_a_viewer_cannot_watch_and_a_watch_needs_one_line(world: World) -> None:
    assert world.ask(WATCH, user=VIEWER).outcome == "refused"
    bad = world.ask("watch rui --district ipswich")
    assert bad.outcome == "invalid" and "exactly one line" in blocks_text(bad.blocks)
    bad = world.ask("watch weather --above 3")
    assert bad.outcome == "invalid" and "`weather` is not a figure I can watch" in blocks_text(bad.blocks)
    with world.rt.sessions() as s:
        assert s.scalars(select(Watch)).all() == []


def test_watches_lists_them_with_a_remove_button_each(world: World) -> None:
    world.import_rui(range(2))
    world.ask(WATCH)
    world.ask("watch wanted --change-above 10%")
    listed = world.ask("watches")
    ids = [b["accessory"]["value"] for b in listed.blocks if "accessory" in b]
    assert len(ids) == 2 and all(b["accessory"]["action_id"] == "mo_watch_remove" for b in listed.blocks[1:])
    assert "`/mo watch wanted --change-above 10%`" in blocks_text(listed.blocks)


def test_a_change_watch_tells_when_an_import_moves_the_figure_by_more_than_the_percentage(world: World) -> None:
    world.import_rui(range(10))
    world.ask("watch rui --change-above 20%")
    world.tick()
    world.import_rui(range(11))  # +10%: not told
    world.tick()
    assert world.dms() == []
    world.import_rui(range(14))  # +27%: told
    world.tick()
    assert len(world.dms()) == 1 and "now *14* (was 11)" in world.dms()[0]


def test_the_remove_button_removes_only_the_clickers_own_watch(world: World, fake_slack: FakeSlack) -> None:  # noqa: F811
    """A block_actions click on `/mo watches`' Remove button, signed as Slack sends it (payload shape as
    tests/e2e/test_action_log_in_slack.py), answered through the message's response_url."""
    rt = Runtime(
        config=replace(
            world.rt.config,
            forces={
                **world.rt.config.forces,
                "suffolk": replace(world.rt.config.force("suffolk"), slack_team_ids=(fake_slack.team_id,)),
            },
        ),
        engine=world.engine,
        sessions=world.rt.sessions,
        clock=world.clock,
    )
    world.rt = rt
    world.import_rui(range(2))
    who = Requester(user_id=ANALYST, team_id=fake_slack.team_id, channel_id="D0ANALYST", channel_is_dm=True)
    answer(rt, identify(rt.config, who), WATCH)
    with rt.sessions() as s:
        watch_id = s.scalars(select(Watch.id)).one()

    def click(user: str) -> str:
        response_url = fake_slack.new_response_url()
        body = {
            "type": "block_actions",
            "token": "unused",
            "api_app_id": "A0MOBOT01",
            "team": {"id": fake_slack.team_id, "domain": "fake"},
            "user": {"id": user, "team_id": fake_slack.team_id, "username": "someone"},
            "trigger_id": f"1.{len(user)}.{watch_id:032x}{user}",
            "container": {"type": "message", "message_ts": "1.2", "channel_id": "D0ANALYST", "is_ephemeral": True},
            "channel": {"id": "D0ANALYST", "name": "directmessage"},
            "response_url": response_url,
            "actions": [
                {
                    "type": "button",
                    "action_id": "mo_watch_remove",
                    "block_id": "b",
                    "value": str(watch_id),
                    "action_ts": "1.3",
                }
            ],
        }
        assert post_signed(url, {"payload": json.dumps(body)}).status == 200
        assert fake_slack.wait_for(lambda f: bool(f.posts_to(response_url)))
        return str(fake_slack.posts_to(response_url)[0].payload["text"])

    with LocalServer(WebApp(app_for(rt, fake_slack), [database_check(rt.engine)], mode="http")) as srv:
        url = srv.url + "/slack/events"
        assert (
            click(VIEWER)
            == "You have no watches. Add one with e.g. `/mo watch rui --district ipswich --older-than 12m --above 50`."
        )
        with rt.sessions() as s:
            assert s.scalars(select(Watch.removed_at)).one() is None  # not the viewer's watch
        assert click(ANALYST).startswith("Removed `/mo watch rui --district ipswich --older-than 12m --above 2`.")
    with rt.sessions() as s:
        assert s.scalars(select(Watch.removed_at)).one() is not None
        audit = [(e.actor, e.outcome) for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "watch"))]
    assert audit == [(VIEWER, "refused"), (ANALYST, "ok")]


def test_the_dm_carries_the_answer_the_watch_follows_and_its_remove_button(world: World) -> None:
    """The DM is the figure and the previous one, then the blocks `/mo rui --district ipswich --older-than 12m` answers
    with at that moment (the same figures and layout), then the watch's own Remove button."""
    world.import_rui(range(2))
    world.ask(WATCH)
    world.tick()
    world.import_rui(range(3))
    world.tick()
    dms = [c.params for c in world.fake.calls_to("chat.postMessage") if c.params.get("channel") == ANALYST]
    assert len(dms) == 1
    blocks = dms[0]["blocks"]
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    asked = world.ask("rui --district ipswich --older-than 12m")
    assert asked.outcome == "ok" and "*3* active RUI" in blocks_text(asked.blocks)
    start = next(i for i, b in enumerate(blocks) if b.get("type") == "header")
    assert blocks[start : start + len(asked.blocks)] == asked.blocks
    assert "now *3* (was 2)" in blocks_text(blocks[:start])
    assert "The answer to `/mo rui --district ipswich --older-than 12m` now:" in blocks_text(blocks[:start])
    with world.rt.sessions() as s:
        watch_id = s.scalars(select(Watch.id)).one()
    last = blocks[-1]
    assert last["type"] == "actions" and [(e["action_id"], e["value"]) for e in last["elements"]] == [
        ("mo_watch_remove", str(watch_id))
    ]
    assert len(blocks) <= 50


def test_an_explicit_run_checks_the_latest_import_of_each_force_through_the_same_claims(world: World) -> None:
    """`mo-bot jobs run watches` (JobRunner.run_now): the latest batch of each force, told once; the scheduler's
    tick then finds that batch checked; a named batch of the wrong force, or none, is refused by name."""
    world.import_rui(range(2))
    world.ask(WATCH)
    world.import_rui(range(3))  # batch 2 crosses the line
    runner = JobRunner(world.rt, client=make_client(world.fake.token, world.fake.base_url, sleep=lambda _s: None))
    (run,) = runner.run_now("watches", None)
    assert (run.key.period, run.key.scope, run.outcome) == ("batch-2", "suffolk", "done")
    assert len(world.dms()) == 1 and "now *3* (was 2)" in world.dms()[0]
    assert world.tick() == []  # the scheduler sees batch 2 done
    (again,) = runner.run_now("watches", "batch-2")
    assert again.outcome == "skipped" and "already done" in again.detail
    assert len(world.dms()) == 1
    with pytest.raises(ValueError, match="there is no import batch 9"):
        runner.run_now("watches", "batch-9")
    with pytest.raises(ValueError, match="import batch 2 is suffolk's, not norfolk's"):
        runner.run_now("watches", "batch-2", scope="norfolk")
    with pytest.raises(ValueError, match="expected batch-<import batch id>"):
        runner.run_now("watches", "2026-11-23")
    assert runner.run_now("watches", None, scope="norfolk") == []  # no import of norfolk's yet
