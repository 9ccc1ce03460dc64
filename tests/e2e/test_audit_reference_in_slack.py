"""`/mo audit --reference REF` as Slack sends it (a signed slash command into the Bolt app, the fake Slack's Web API
behind it): the DPO gets the consultations by DM, and the request's own audit event holds the reference as the
disclosures hold it — its HMAC — never as typed. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.models import AuditEvent, Disclosure
from bot.runtime import Runtime
from commands.web import WebApp, database_check
from tests.support.bolt import app_for
from tests.support.fakeslack import FakeSlack, fake_slack  # noqa: F401 - the fixture
from tests.support.payloads import send_command, slash_command
from tests.support.seed import ALLOWED, ANALYST, seed, slack_config
from tests.support.slackutil import LocalServer

DPO = "U0DPO0001"


@dataclass
class Bot:
    rt: Runtime
    fake: FakeSlack
    url: str

    def ask(self, text: str, user: str) -> dict[str, Any]:
        form, response_url = slash_command(self.fake, text, user=user, channel=ALLOWED)
        assert send_command(self.url, self.fake, form).status == 200
        assert self.fake.wait_for(lambda f: bool(f.posts_to(response_url)), timeout=30)
        return dict(self.fake.posts_to(response_url)[-1].payload)


@pytest.fixture
def bot(tmp_path: Path, db_url: str, engine: Any, clock: Any, sessions: Any, fake_slack: FakeSlack) -> Iterator[Bot]:  # noqa: F811
    seed(sessions)
    cfg = slack_config(tmp_path, db_url)
    suffolk = replace(cfg.force("suffolk"), slack_team_ids=(fake_slack.team_id,))
    cfg = replace(
        cfg,
        forces={**cfg.forces, "suffolk": suffolk},
        slack=replace(cfg.slack, roles={**cfg.slack.roles, "dpo": (DPO,)}),
    )
    rt = Runtime.create(cfg, clock=clock, engine=engine)
    fake_slack.add_channel(ALLOWED)
    for u in (DPO, ANALYST):
        fake_slack.users[u] = {"id": u, "name": u.lower()}
    with LocalServer(WebApp(app_for(rt, fake_slack), [database_check(rt.engine)], mode="http")) as srv:
        yield Bot(rt, fake_slack, srv.url + "/slack/events")


def test_the_reference_query_is_answered_by_dm_and_audited_with_its_hmac(bot: Bot) -> None:
    listed = bot.ask("wanted --list --district ipswich", ANALYST)
    ref = re.findall(r"SUW[\w/-]+", json.dumps(listed.get("blocks")))[0]
    answer = bot.ask(f"audit --since 2026-11-01 --reference {ref}", DPO)
    assert "1 consultation(s) that disclosed the reference" in str(answer.get("text"))
    with bot.rt.sessions() as s:
        hashes = set(s.scalars(select(Disclosure.ref_hash)))
        events = s.scalars(select(AuditEvent).where(AuditEvent.actor == DPO)).all()
    # The request accepted (deferred: recorded before the ack) and answered: neither row holds the reference.
    assert [(e.action, e.outcome) for e in events] == [("accept", "ok"), ("command", "ok")]
    assert not any(ref.lower() in e.detail.lower() for e in events), [e.detail for e in events]
    assert events[0].detail == "audit --since 2026-11-01 --reference <withheld>"
    typed_hmac = events[1].detail.split("--reference ", 1)[1]
    assert typed_hmac.startswith("hmac:") and typed_hmac.removeprefix("hmac:") in hashes
