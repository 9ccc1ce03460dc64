"""Who may see what, through the whole pipeline: workspace → force, channel allow-list, roles, --list and
--share rules; every request audited once, whatever its outcome."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from bot.access import Requester, identify, may_rise_by_group, role_for
from bot.figures import Filters, wanted_figures
from bot.figures.cache import figures_cache
from bot.figures.cases import open_cases
from bot.models import AuditEvent
from bot.runtime import Runtime
from commands.mo.pipeline import answer
from commands.mo.reply import Reply
from tests.support.seed import (
    ADMIN,
    ALLOWED,
    ANALYST,
    ANALYST_GROUP,
    DM,
    GROUP_MEMBER,
    NORFOLK_TEAM,
    OTHER_CHANNEL,
    SUFFOLK_TEAM,
    VIEWER,
    blocks_text,
    seed,
    slack_config,
)

AS_OF = dt.date(2026, 11, 23)


@pytest.fixture(autouse=True)
def _fresh_figures_cache() -> None:
    # Each test's database restarts import batch ids, so a cached figure of an earlier test could match.
    figures_cache.clear()


@pytest.fixture
def rt(tmp_path, db_url, engine, clock) -> Runtime:
    return Runtime.create(slack_config(tmp_path, db_url), clock=clock, engine=engine)


@pytest.fixture
def seeded(rt: Runtime) -> Runtime:
    seed(rt.sessions, n=120)
    return rt


def ask(
    rt: Runtime,
    text: str,
    user: str = VIEWER,
    team: str | None = SUFFOLK_TEAM,
    channel: str | None = ALLOWED,
    **kw: object,
) -> Reply:
    who = Requester(user_id=user, team_id=team, channel_id=channel, **kw)  # type: ignore[arg-type]
    return answer(rt, identify(rt.config, who), text)


def audit(rt: Runtime) -> list[AuditEvent]:
    with rt.sessions() as s:
        return list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def headline(reply: Reply) -> int:
    m = re.search(r"\*([\d,]+)\* open wanted circulations?\b", blocks_text(reply))
    assert m, blocks_text(reply)
    return int(m[1].replace(",", ""))


def test_unknown_workspace_is_refused_and_audited(seeded: Runtime) -> None:
    r = ask(seeded, "wanted", team="TSTRANGER")
    assert r.outcome == "refused" and r.response_type == "ephemeral"
    assert "not set up" in r.text
    assert "open wanted" not in blocks_text(r)
    [ev] = audit(seeded)
    assert (ev.outcome, ev.team_id, ev.force, ev.actor, ev.detail) == ("refused", "TSTRANGER", None, VIEWER, "wanted")


def test_channel_not_allowed_is_refused_naming_the_channels(seeded: Runtime) -> None:
    r = ask(seeded, "wanted", channel=OTHER_CHANNEL)
    assert r.outcome == "refused"
    assert f"<#{ALLOWED}>" in blocks_text(r) and "direct message" in blocks_text(r)
    [ev] = audit(seeded)
    assert (ev.outcome, ev.channel_id, ev.force) == ("refused", OTHER_CHANNEL, "suffolk")


def test_dm_with_the_bot_is_allowed(seeded: Runtime) -> None:
    r = ask(seeded, "wanted", channel=DM, channel_is_dm=True)
    assert r.outcome == "ok"


def test_empty_channel_list_means_dms_only(tmp_path, db_url, engine, clock) -> None:
    rt = Runtime.create(slack_config(tmp_path, db_url, channels=()), clock=clock, engine=engine)
    r = ask(rt, "status")
    assert r.outcome == "refused" and "only answer in a direct message" in blocks_text(r)
    assert ask(rt, "status", channel=DM, channel_is_dm=True).outcome == "ok"


def test_viewer_asking_for_a_list_is_refused(seeded: Runtime) -> None:
    r = ask(seeded, "wanted --list")
    assert r.outcome == "refused" and r.records_disclosed == 0
    assert "analyst" in blocks_text(r)
    assert not re.search(r"SUW\d{5}", blocks_text(r))
    [ev] = audit(seeded)
    assert (ev.outcome, ev.records_disclosed) == ("refused", 0)


def test_analyst_list_is_capped_counted_and_ephemeral(seeded: Runtime) -> None:
    r = ask(seeded, "wanted --list --district ipswich", user=ANALYST)
    assert r.outcome == "ok" and r.response_type == "ephemeral"
    refs = re.findall(r"SUW\d{5}", blocks_text(r))
    with seeded.sessions() as s:
        force = seeded.config.force("suffolk")
        expected = open_cases(s, "wanted", force, AS_OF, Filters(district="ipswich"), 1000)
        fig = wanted_figures(s, force, AS_OF, Filters(district="ipswich"))
    assert expected.total == fig.open > 5
    assert refs == [row.reference for row in expected.rows[:5]]  # oldest first, capped at list_cap = 5
    assert r.records_disclosed == 5
    assert f"and {expected.total - 5} more" in blocks_text(r)
    assert "Lists are capped at 5 rows" in blocks_text(r)  # how to see the rest: narrow the question
    assert "SUW" not in r.text  # references stay out of the notification text
    [ev] = audit(seeded)
    assert (ev.outcome, ev.records_disclosed, ev.actor) == ("ok", 5, ANALYST)
    # A list that shows every case says nothing of the cap.
    with seeded.sessions() as s:
        few = {
            o: n
            for o in wanted_figures(s, force, AS_OF, Filters(district="ipswich")).by_offence
            if 0 < (n := open_cases(s, "wanted", force, AS_OF, Filters(district="ipswich", offence=o), 1000).total) <= 5
        }
    assert few, "the seed has an offence group with at most 5 open in Ipswich"
    offence, n = next(iter(few.items()))
    short = ask(seeded, f'wanted --list --district ipswich --offence "{offence}"', user=ANALYST)
    assert short.records_disclosed == n and "capped" not in blocks_text(short)


def test_analyst_by_user_group(seeded: Runtime) -> None:
    assert ask(seeded, "rui --list", user=GROUP_MEMBER).outcome == "refused"
    r = ask(seeded, "rui --list", user=GROUP_MEMBER, user_groups=(ANALYST_GROUP,))
    assert r.outcome == "ok" and r.records_disclosed == 5


def test_highest_role_wins(rt: Runtime) -> None:
    cfg = rt.config
    assert role_for(cfg, VIEWER) == "viewer"
    assert role_for(cfg, ANALYST) == "analyst"
    assert role_for(cfg, ADMIN, (ANALYST_GROUP,)) == "admin"
    assert role_for(cfg, GROUP_MEMBER, (ANALYST_GROUP,)) == "analyst"
    assert role_for(cfg, "cli:alice") == "admin"


def test_share_posts_aggregate_in_channel(seeded: Runtime) -> None:
    r = ask(seeded, "wanted --share")
    assert r.outcome == "ok" and r.response_type == "in_channel" and r.records_disclosed == 0


def test_share_of_a_list_is_refused(seeded: Runtime) -> None:
    r = ask(seeded, "bail --list --share", user=ANALYST)
    assert r.outcome == "refused" and r.response_type == "ephemeral"
    assert "never posted" in blocks_text(r)
    assert r.records_disclosed == 0


def test_other_force_sees_only_its_own_figures(seeded: Runtime) -> None:
    norfolk = seeded.config.force("norfolk")
    suffolk = seeded.config.force("suffolk")
    with seeded.sessions() as s:
        n_all = wanted_figures(s, norfolk, AS_OF).open
        s_all = wanted_figures(s, suffolk, AS_OF).open
    assert n_all != s_all
    r = ask(seeded, "wanted", team=NORFOLK_TEAM)
    assert headline(r) == n_all and "Norfolk Constabulary" in blocks_text(r)
    assert "Suffolk" not in blocks_text(r) and "Ipswich" not in blocks_text(r)
    # Another force's district is simply not a district here…
    bad = ask(seeded, "wanted --district ipswich", team=NORFOLK_TEAM)
    assert bad.outcome == "invalid" and "not a district of Norfolk Constabulary" in blocks_text(bad)
    # …no flag picks a force…
    assert ask(seeded, "wanted --force suffolk", team=NORFOLK_TEAM).outcome == "invalid"
    # …and a force override on a Slack request is refused.
    forced = ask(seeded, "wanted", team=NORFOLK_TEAM, force_override="suffolk")
    assert forced.outcome == "refused" and "workspace" in blocks_text(forced)
    # Norfolk analysts' lists hold Norfolk references only.
    lst = ask(seeded, "suspects --list", team=NORFOLK_TEAM, user=ANALYST)
    assert re.findall(r"NOS\d{5}", blocks_text(lst)) and not re.findall(r"SUS\d{5}", blocks_text(lst))


def test_every_request_is_audited_once(seeded: Runtime) -> None:
    texts = ["wanted", "wanted --bogus", "wanted --list", "help", "status"]
    outcomes = [ask(seeded, t).outcome for t in texts]
    evs = audit(seeded)
    assert [e.detail for e in evs] == texts
    assert [e.outcome for e in evs] == outcomes == ["ok", "invalid", "refused", "ok", "ok"]
    assert all(e.at == seeded.clock.now() for e in evs)


def test_slack_request_without_a_team_never_falls_back_to_a_force(seeded: Runtime) -> None:
    r = ask(seeded, "wanted", team=None)
    assert r.outcome == "refused" and "workspace" in blocks_text(r)
    assert "open wanted" not in blocks_text(r)
    # The terminal may omit the team: the configured default force, or the one it names.
    op = Requester(user_id="cli:op", team_id=None, channel_id=None, force_override="norfolk")
    cli = answer(seeded, identify(seeded.config, op), "wanted")
    assert cli.outcome == "ok" and "Norfolk Constabulary" in blocks_text(cli)
    viewer = Requester(user_id=VIEWER, team_id=None, channel_id=None, terminal=True)
    as_user = answer(seeded, identify(seeded.config, viewer), "wanted --list")
    assert as_user.outcome == "refused"  # the named user's role applies at the terminal too


def test_deferred_answer_is_marked_and_audited_like_any_other(seeded: Runtime) -> None:
    who = identify(seeded.config, Requester(user_id=ANALYST, team_id=SUFFOLK_TEAM, channel_id=ALLOWED))
    r = answer(seeded, who, "wanted --list", deferred=True)
    assert r.deferred and r.outcome == "ok" and r.records_disclosed == 5
    assert not answer(seeded, who, "wanted").deferred
    assert [(e.detail, e.records_disclosed) for e in audit(seeded)] == [("wanted --list", 5), ("wanted", 0)]


def test_identify_resolves_force_role_and_each_refusal_without_raising(rt: Runtime) -> None:
    cfg = rt.config
    suffolk, norfolk = cfg.force("suffolk"), cfg.force("norfolk")

    def who(**kw: object) -> Requester:
        base: dict[str, object] = {"user_id": VIEWER, "team_id": SUFFOLK_TEAM, "channel_id": ALLOWED}
        return Requester(**{**base, **kw})  # type: ignore[arg-type]

    ok = identify(cfg, who(user_id=GROUP_MEMBER, user_groups=(ANALYST_GROUP,)))
    assert (ok.force, ok.role, ok.refusal, ok.channel_refusal, ok.command_refusal) == (
        suffolk,
        "analyst",
        None,
        None,
        None,
    )
    assert ok.requester == who(user_id=GROUP_MEMBER, user_groups=(ANALYST_GROUP,))
    # The channel rule is reported apart from the workspace's: interactions and App Home ignore it.
    elsewhere = identify(cfg, who(channel_id=OTHER_CHANNEL))
    assert elsewhere.force == suffolk and elsewhere.refusal is None
    assert elsewhere.channel_refusal is not None and f"<#{ALLOWED}>" in elsewhere.channel_refusal
    assert elsewhere.command_refusal == elsewhere.channel_refusal
    assert identify(cfg, who(channel_id=DM, channel_is_dm=True)).command_refusal is None
    # An unknown workspace, or a Slack request without one, has no force at all.
    stranger = identify(cfg, who(team_id="TSTRANGER"))
    assert stranger.force is None and stranger.refusal is not None and "not set up" in stranger.refusal
    no_team = identify(cfg, who(team_id=None))
    assert no_team.force is None and no_team.refusal is not None and "workspace" in no_team.refusal
    # A force named on a Slack request is refused, though the workspace's force is known (for the audit).
    forced = identify(cfg, who(team_id=NORFOLK_TEAM, force_override="suffolk"))
    assert forced.force == norfolk and forced.refusal is not None and "can't be chosen" in forced.refusal
    # The terminal picks its force; an unknown one is refused with the configured ones named.
    terminal = identify(cfg, Requester(user_id="cli:op", team_id=None, channel_id=None, force_override="norfolk"))
    assert (terminal.force, terminal.role, terminal.command_refusal) == (norfolk, "admin", None)
    bad = identify(cfg, Requester(user_id="cli:op", team_id=None, channel_id=None, force_override="kent"))
    assert bad.force is None and bad.refusal is not None and "norfolk, suffolk" in bad.refusal


def test_a_duty_held_through_a_user_group_is_not_a_role_to_rise_to(tmp_path, db_url) -> None:
    # The dpo duty shares slack.roles with the roles; asked before the user groups are read, it must not be
    # ranked (it has no rank) — only the roles decide whether the answer waits for the groups.
    cfg = slack_config(tmp_path, db_url, roles={"dpo": ["S0DPOGROUP"], "analyst": ["U0ANALYST"]})
    assert may_rise_by_group(cfg, "viewer") is False
    cfg = slack_config(tmp_path, db_url, roles={"dpo": ["S0DPOGROUP"], "analyst": ["S0ANALYSTS"]})
    assert may_rise_by_group(cfg, "viewer") is True
    assert may_rise_by_group(cfg, "analyst") is False
