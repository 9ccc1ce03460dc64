"""`/mo audit` for the data-protection officer (role dpo) and admins: the force's audit log by DM, and
``--reference REF``: every consultation that disclosed that case reference, which the `--list` answers record as
HMACs (bot/disclosures.py). Through the answer pipeline with a Web API client on the fake Slack. SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.access import Requester, identify
from bot.models import AuditEvent, Disclosure
from bot.runtime import Runtime
from bot.slack.client import make_client
from commands.mo.pipeline import answer
from commands.mo.reply import Reply, SlackContext
from tests.support.fakeslack import FakeSlack, fake_slack  # noqa: F401 - the fixture
from tests.support.seed import (
    ADMIN,
    ALLOWED,
    ANALYST,
    NORFOLK_TEAM,
    SUFFOLK_TEAM,
    VIEWER,
    blocks_text,
    seed,
    slack_config,
)

DPO = "U0DPO0001"
NORFOLK_ANALYST = "UNORFANALYST"


@pytest.fixture
def rt(tmp_path: Path, db_url: str, engine: Any, clock: Any, sessions: Any, fake_slack: FakeSlack) -> Runtime:  # noqa: F811
    seed(sessions)
    cfg = slack_config(tmp_path, db_url)
    roles = {**cfg.slack.roles, "dpo": (DPO,), "analyst": (*cfg.slack.roles.get("analyst", ()), NORFOLK_ANALYST)}
    cfg = replace(cfg, slack=replace(cfg.slack, roles=roles))
    for u in (DPO, ADMIN, ANALYST, VIEWER):
        fake_slack.users[u] = {"name": u.lower()}
    return Runtime.create(cfg, clock=clock, engine=engine)


def ask(rt: Runtime, fake: FakeSlack, text: str, user: str, team: str = SUFFOLK_TEAM) -> Reply:
    who = Requester(user_id=user, team_id=team, channel_id=ALLOWED)
    client = make_client(fake.token, fake.base_url)
    return answer(rt, identify(rt.config, who), text, slack=SlackContext(client=client))


def sent(fake: FakeSlack) -> list[str]:
    return [
        fake.uploads[f["id"]].decode() for c in fake.calls_to("files.completeUploadExternal") for f in c.params["files"]
    ]


def listed_refs(reply: Reply) -> list[str]:
    return [w.strip("`*") for w in blocks_text(reply).split() if w.strip("`*").startswith("SUW")]


def test_a_list_records_what_it_disclosed_as_hmacs_and_the_dpo_finds_it_by_reference(
    rt: Runtime,
    fake_slack: FakeSlack,  # noqa: F811
) -> None:
    shown = ask(rt, fake_slack, "wanted --list --district ipswich", ANALYST)
    refs = listed_refs(shown)
    assert shown.outcome == "ok" and refs and shown.records_disclosed == len(refs)
    with rt.sessions() as s:
        stored = list(s.scalars(select(Disclosure)))
    assert len(stored) == len(refs) and {d.actor for d in stored} == {ANALYST}
    assert not any(r in d.ref_hash or r in d.command for d in stored for r in refs)  # never in clear

    reply = ask(rt, fake_slack, f"audit --since 2026-11-01 --reference {refs[0].lower()}", DPO)
    assert reply.outcome == "ok" and "1 consultation(s) that disclosed the reference" in blocks_text(reply)
    [text] = sent(fake_slack)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["actor"], r["force"], r["dataset"], r["command"]) for r in rows] == [
        (ANALYST, "suffolk", "wanted", "wanted --list --district ipswich")
    ]
    dm = fake_slack.calls_to("files.completeUploadExternal")[0].params["channel_id"]
    assert dm == "D" + DPO[1:]  # to the DPO's DM only
    with rt.sessions() as s:
        last = s.scalars(select(AuditEvent).where(AuditEvent.actor == DPO)).all()[-1]
    assert (last.action, last.outcome) == ("command", "ok")  # the export is itself audited


def test_another_forces_consultations_are_not_listed(rt: Runtime, fake_slack: FakeSlack) -> None:  # noqa: F811
    shown = ask(rt, fake_slack, "wanted --list", NORFOLK_ANALYST, team=NORFOLK_TEAM)
    assert shown.outcome == "ok"
    with rt.sessions() as s:
        assert {d.force for d in s.scalars(select(Disclosure))} == {"norfolk"}
        assert s.scalars(select(AuditEvent.force)).all() == ["norfolk"]
    ask(rt, fake_slack, "wanted --district ipswich", VIEWER)
    ask(rt, fake_slack, "audit --since 2026-11-01 --format jsonl", DPO)
    [text] = sent(fake_slack)
    events = [json.loads(line) for line in text.splitlines()]
    assert [(e["actor"], e["force"]) for e in events] == [(VIEWER, "suffolk")]
    assert NORFOLK_ANALYST not in text
    norfolk_ref = next(w.strip("`*") for w in blocks_text(shown).split() if w.strip("`*").startswith("NOW"))
    reply = ask(rt, fake_slack, f"audit --since 2026-11-01 --reference {norfolk_ref}", DPO)
    assert "0 consultation(s) that disclosed the reference" in blocks_text(reply)


def test_viewers_and_analysts_are_refused_admins_may(rt: Runtime, fake_slack: FakeSlack) -> None:  # noqa: F811
    for user in (VIEWER, ANALYST):
        reply = ask(rt, fake_slack, "audit --since 2026-11-01", user)
        assert reply.outcome == "refused"
        assert "`/mo audit` is for the data-protection officer (role dpo) and admins." in blocks_text(reply)
    assert sent(fake_slack) == []
    ask(rt, fake_slack, "wanted", VIEWER)
    reply = ask(rt, fake_slack, f"audit --since 2026-11-01 --user <@{VIEWER}>", ADMIN)
    assert reply.outcome == "ok"
    rows = list(csv.DictReader(io.StringIO(sent(fake_slack)[0])))
    assert rows and {r["actor"] for r in rows} == {VIEWER}


def test_since_is_required(rt: Runtime, fake_slack: FakeSlack) -> None:  # noqa: F811
    reply = ask(rt, fake_slack, "audit", DPO)
    assert reply.outcome == "invalid" and "needs `--since DATE`" in blocks_text(reply)


def test_the_reference_query_is_audited_with_its_hmac_never_the_reference(
    rt: Runtime,
    fake_slack: FakeSlack,  # noqa: F811
) -> None:
    """The request's own audit event holds the reference as the disclosures do (the same HMAC), whatever its outcome;
    a request refused before the handler saw it holds the value withheld."""
    ref = listed_refs(ask(rt, fake_slack, "wanted --list --district ipswich", ANALYST))[0]
    with rt.sessions() as s:
        hashes = set(s.scalars(select(Disclosure.ref_hash)))
    asked = [
        (DPO, f"audit --since 2026-11-01 --reference {ref}", "ok"),
        (DPO, f"audit --since 2026-11-01 --reference={ref.lower()} --format jsonl", "ok"),
        (VIEWER, f"audit --since 2026-11-01 --reference {ref}", "refused"),
        (DPO, f"audit --reference {ref}", "invalid"),  # no --since: the handler's own refusal
        (DPO, f"audit --since 2026-11-01 --reference {ref} --bogus", "invalid"),  # the parser's
    ]
    for user, text, outcome in asked:
        assert ask(rt, fake_slack, text, user).outcome == outcome, text
    with rt.sessions() as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "command").order_by(AuditEvent.id)))[1:]
    assert [(e.actor, e.outcome) for e in events] == [(u, o) for u, _, o in asked]
    details = [e.detail for e in events]
    assert not any(ref.lower() in d.lower() for d in details), details
    in_hmac = [d.split("--reference", 1)[1].lstrip(" =").split(" ")[0] for d in details]
    assert all(h.removeprefix("hmac:") in hashes for h in in_hmac[:4]), in_hmac
    assert len(set(in_hmac[:4])) == 1  # the same reference, the same HMAC, as typed in any case
    assert details[0] == f"audit --since 2026-11-01 --reference {in_hmac[0]}"
    assert details[4] == "audit --since 2026-11-01 --reference <withheld> --bogus"
