"""`mo-bot ask`: the `/mo` pipeline end to end from the terminal (same parser, access rules, rendering, audit)."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import re
from typing import NoReturn

import pytest
from sqlalchemy import select

import bot.figures.wanted
from bot.figures import Filters, wanted_figures
from bot.figures.cache import figures_cache
from bot.models import AuditEvent
from commands.cli import main
from tests.support.seed import ALLOWED, ANALYST, OTHER_CHANNEL, SUFFOLK_TEAM, VIEWER, seed, write_config

AS_OF = dt.date(2026, 11, 20)


@pytest.fixture(autouse=True)
def _fresh_figures_cache() -> None:
    # Each test's database restarts import batch ids, so a cached figure of an earlier test could match.
    figures_cache.clear()


@pytest.fixture
def cli_env(monkeypatch, tmp_path, db_url, sessions, config):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("MO_CONFIG", str(write_config(tmp_path)))
    seed(sessions, n=150)
    return sessions


def events(sessions) -> list[AuditEvent]:
    with sessions() as s:
        return list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_ask_prints_the_answer_as_text(cli_env, config, capsys) -> None:
    code = main(["ask", "wanted —district ipswich --as-of 20/11/2026"])
    out = capsys.readouterr().out
    assert code == 0
    with cli_env() as s:
        fig = wanted_figures(s, config.force("suffolk"), AS_OF, Filters(district="ipswich"))
    assert out.startswith("Wanted — Ipswich\n================")
    # mrkdwn bold removed for the terminal; no people: the seeded rows name none
    assert f"\n{fig.open:,} open wanted circulations\n" in out
    assert f"• under 28 days: {fig.by_age_band['0-27d']:,}" in out
    assert "Suffolk Constabulary · Ipswich · as of 20 Nov 2026" in out
    [ev] = events(cli_env)
    assert ev.actor == f"cli:{getpass.getuser()}" and ev.force == "suffolk" and ev.team_id is None
    assert (ev.outcome, ev.detail) == ("ok", "wanted --district ipswich --as-of 20/11/2026")


def test_operator_is_admin_and_may_list(cli_env, capsys) -> None:
    assert main(["ask", "wanted", "--list", "--as-of", "2026-11-20"]) == 0
    out = capsys.readouterr().out
    refs = re.findall(r"SUW\d{5}", out)
    assert len(refs) == 5  # list_cap of the test config
    assert events(cli_env)[0].records_disclosed == 5


def test_user_roles_apply(cli_env, capsys) -> None:
    assert main(["ask", "--user", VIEWER, "wanted --list"]) == 2
    assert "analyst" in capsys.readouterr().out
    assert main(["ask", "--user", ANALYST, "wanted --list"]) == 0
    assert len(re.findall(r"SUW\d{5}", capsys.readouterr().out)) == 5
    assert [(e.actor, e.outcome) for e in events(cli_env)] == [(VIEWER, "refused"), (ANALYST, "ok")]


def test_force_and_workspace_rules(cli_env, config, capsys) -> None:
    assert main(["ask", "--force", "norfolk", "wanted --as-of 2026-11-20"]) == 0
    out = capsys.readouterr().out
    with cli_env() as s:
        n = wanted_figures(s, config.force("norfolk"), AS_OF).open
    assert f"{n:,} open wanted circulations" in out and "Norfolk Constabulary" in out
    assert main(["ask", "--team", SUFFOLK_TEAM, "--channel", OTHER_CHANNEL, "--user", VIEWER, "status"]) == 2
    assert "don't answer in this channel" in capsys.readouterr().out
    assert main(["ask", "--team", SUFFOLK_TEAM, "--channel", ALLOWED, "--user", VIEWER, "status"]) == 0
    assert main(["ask", "--team", "TNOBODY", "--user", VIEWER, "status"]) == 2
    assert main(["ask", "--force", "atlantis", "status"]) == 2


def test_invalid_question_exits_2_with_a_kind_message(cli_env, capsys) -> None:
    assert main(["ask", "wanted --distrct ipswich"]) == 2
    out = capsys.readouterr().out
    assert "did you mean `--district`?" in out and "Nothing was changed" in out
    assert events(cli_env)[0].outcome == "invalid"


def test_unexpected_failure_exits_1_with_reference(cli_env, capsys, monkeypatch) -> None:
    def fail(*a: object, **k: object) -> NoReturn:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(bot.figures.wanted, "wanted_figures", fail)
    assert main(["ask", "wanted"]) == 1
    out = capsys.readouterr().out
    ref = re.search(r"E-[0-9A-F]{6}", out)
    assert ref and "disk on fire" not in out
    [ev] = events(cli_env)
    assert (ev.outcome, ev.reference) == ("error", ref[0])


def test_json_output_and_share(cli_env, capsys) -> None:
    assert main(["ask", "--json", "status --share"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["response_type"] == "in_channel"
    assert payload["blocks"][0]["type"] == "header" and payload["text"]


def test_question_may_be_quoted_split_or_after_dashes(cli_env, capsys) -> None:
    outputs = []
    for argv in (
        ["ask", "suspects --offence 'criminal damage' --as-of 2026-11-20"],
        ["ask", "suspects", "--offence", "criminal damage", "--as-of", "2026-11-20"],
        ["ask", "--", "suspects", "--offence", "criminal damage", "--as-of", "2026-11-20"],
    ):
        assert main(argv) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] == outputs[2]
    assert "offence: criminal damage" in outputs[0]
    assert [e.detail for e in events(cli_env)][1] == "suspects --offence 'criminal damage' --as-of 2026-11-20"
