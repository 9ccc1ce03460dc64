"""The other scheduled jobs: the retention purge (only closed-and-old rows, audited with counts only), the
daily bail-deadline digest (counts, no case references), and the data-freshness check (admins DMed)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from bot.action_log.service import create_action
from bot.action_log.types import Actor as ActionActor
from bot.action_log.types import NewAction
from bot.clock import FixedClock
from bot.config import DEFAULTS, Config, _merge, build_config
from bot.figures.bail import bail_figures
from bot.models import (
    Action,
    AuditEvent,
    BailPeriod,
    ImportBatch,
    JobRun,
    OutstandingSuspect,
    SlackFileImport,
    WantedCirculation,
    Watch,
)
from bot.runtime import Runtime
from bot.slack.client import make_client
from jobs.runner import JobRunner
from tests.support.fakeslack import FakeSlack, fake_slack  # noqa: F401 - the fixture

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
ADMIN = "UADMIN001"
BAIL_CHANNEL = "C0BAILMGT"


def clock_of(rt: Runtime) -> FixedClock:
    """The test runtime's clock, which the tests move by hand."""
    assert isinstance(rt.clock, FixedClock)
    return rt.clock


def cfg_for(db_url: str, **raw: Any) -> Config:
    base = {
        "retention_days": 365,
        "slack": {"roles": {"admin": [ADMIN, "S0GROUP01"]}},
        "jobs": {"bail_digest": {"posts": [{"force": "suffolk", "channel": BAIL_CHANNEL}]}},
    }
    return build_config(_merge(DEFAULTS, {**base, **raw}), "test", database_url=db_url)


@pytest.fixture
def rt(db_url: str, engine: Engine) -> Runtime:
    return Runtime.create(cfg_for(db_url), clock=FixedClock(NOW), engine=engine)


def client_for(fake: FakeSlack) -> Any:
    return make_client(fake.token, fake.base_url, sleep=lambda _s: None)


def _wanted(force: str, ref: str, circulated: dt.date, closed: dt.date | None) -> WantedCirculation:
    return WantedCirculation(
        force=force,
        reference=ref,
        offence="burglary",
        district="ipswich" if force == "suffolk" else "norwich",
        reason="never_arrested",
        circulated_on=circulated,
        closed_on=closed,
        status="closed" if closed else "open",
    )


def _suspect(force: str, ref: str, identified: dt.date, closed: dt.date | None) -> OutstandingSuspect:
    return OutstandingSuspect(
        force=force,
        reference=ref,
        offence="assault",
        district="lowestoft",
        identified_on=identified,
        closed_on=closed,
        status="closed" if closed else "open",
    )


def _bail(
    ref: str, started: dt.date, ended: dt.date | None, *, kind: str = "bail", end: dt.date | None = None
) -> BailPeriod:
    return BailPeriod(
        force="suffolk",
        reference=ref,
        offence="theft",
        district="ipswich" if ref < "B5" else "lowestoft",
        kind=kind,
        started_on=started,
        bail_end_on=end,
        ended_on=ended,
        outcome="nfa" if ended else None,
    )


def test_retention_purges_only_closed_and_old_rows_and_audits_counts(rt: Runtime) -> None:
    cutoff = TODAY - dt.timedelta(days=365)
    old, recent, ancient = cutoff - dt.timedelta(days=1), cutoff + dt.timedelta(days=1), dt.date(2015, 1, 1)
    with rt.sessions() as s:
        s.add_all(
            [
                _wanted("suffolk", "W-OLD", ancient, old),  # closed before the cutoff: purged
                _wanted("suffolk", "W-EDGE", ancient, cutoff),  # closed on the cutoff day: kept
                _wanted("suffolk", "W-RECENT", ancient, recent),  # closed recently: kept
                _wanted("suffolk", "W-OPEN", ancient, None),  # open for 11 years: never purged
                _wanted("norfolk", "W-NF-OLD", ancient, old),  # the other force's old row: purged, its own count
                _suspect("suffolk", "S-OLD", ancient, old),
                _suspect("suffolk", "S-OPEN", ancient, None),
                _bail("B1", ancient, old),
                _bail("B2", ancient, None, kind="rui"),
                _bail("B3", old, recent),
            ]
        )
        s.commit()
    (r,) = JobRunner(rt, None).run_now("retention", TODAY.isoformat())
    assert r.outcome == "done"
    assert r.detail == (f"suffolk: 3 purged (closed before {cutoff}); norfolk: 1 purged (closed before {cutoff})")
    with rt.sessions() as s:
        assert set(s.scalars(select(WantedCirculation.reference))) == {"W-EDGE", "W-RECENT", "W-OPEN"}
        assert set(s.scalars(select(OutstandingSuspect.reference))) == {"S-OPEN"}
        assert set(s.scalars(select(BailPeriod.reference))) == {"B2", "B3"}
        audit = s.scalars(select(AuditEvent).where(AuditEvent.action == "purge").order_by(AuditEvent.force)).all()
    assert [(a.force, a.actor, a.outcome, a.records_disclosed) for a in audit] == [
        ("norfolk", "job:retention", "ok", 0),
        ("suffolk", "job:retention", "ok", 0),
    ]
    assert audit[1].detail == f"retention purge: closed before {cutoff}: wanted 1, suspects 1, bail/RUI 1"
    # Counts only: no reference of a purged row is copied into the audit log.
    assert not any(ref in a.detail for a in audit for ref in ("W-OLD", "W-NF-OLD", "S-OLD", "B1"))
    # Exactly once per day: a second run (another replica, or a re-run) does nothing.
    (again,) = JobRunner(rt, None).run_now("retention", TODAY.isoformat())
    assert again.outcome == "skipped"
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "purge")) == 2


def test_bail_digest_posts_counts_once_a_day(rt: Runtime, fake_slack: FakeSlack) -> None:  # noqa: F811
    fake_slack.add_channel(BAIL_CHANNEL)
    d = TODAY
    with rt.sessions() as s:
        s.add_all(
            [
                _bail("B1", d - dt.timedelta(days=80), None, end=d + dt.timedelta(days=2)),  # inspector next
                _bail("B2", d - dt.timedelta(days=170), None, end=d + dt.timedelta(days=10)),  # superintendent next
                _bail("B6", d - dt.timedelta(days=260), None, end=d + dt.timedelta(days=5)),  # court next
                _bail("B7", d - dt.timedelta(days=30), None, end=d + dt.timedelta(days=60)),  # not within 14 days
                _bail("B3", d - dt.timedelta(days=30), d - dt.timedelta(days=1), end=d + dt.timedelta(days=3)),  # ended
            ]
        )
        s.commit()
        fig = bail_figures(s, rt.config.force("suffolk"), d, ending_within_days=14)
    clock_of(rt).set(dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC))
    results = [r for r in JobRunner(rt, client_for(fake_slack)).tick() if r.key.job == "bail_digest"]
    assert [(r.key.period, r.key.channel, r.outcome) for r in results] == [("2026-11-23", BAIL_CHANNEL, "done")]
    (msg,) = [c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"] == BAIL_CHANNEL]
    text = msg.params["text"]
    assert fig.bail_ending_soon_total == 3
    assert "3 active pre-charge bail periods end within 14 days, 1 within 3 days" in text
    assert "inspector 1" in text and "superintendent 1" in text and "magistrates' court 1" in text
    # Counts only in a channel: no case reference.
    assert not any(ref in text for ref in ("B1", "B2", "B6"))
    assert "B1" not in str(msg.params["blocks"])
    clock_of(rt).advance(dt.timedelta(hours=3))
    assert [r for r in JobRunner(rt, client_for(fake_slack)).tick() if r.key.job == "bail_digest"] == []
    assert len([c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"] == BAIL_CHANNEL]) == 1


def test_bail_digest_puts_lapsed_bail_first_with_the_next_step(rt: Runtime, fake_slack: FakeSlack) -> None:  # noqa: F811
    fake_slack.add_channel(BAIL_CHANNEL)
    d = TODAY
    with rt.sessions() as s:
        s.add_all(
            [
                _bail("B1", d - dt.timedelta(days=80), None, end=d - dt.timedelta(days=1)),  # lapsed yesterday
                _bail("B2", d - dt.timedelta(days=80), None, end=d - dt.timedelta(days=9)),  # lapsed 9 days ago
                _bail("B6", d - dt.timedelta(days=200), None, end=d - dt.timedelta(days=2)),  # lapsed, Lowestoft
                _bail("B3", d - dt.timedelta(days=80), None, end=d + dt.timedelta(days=2)),  # ending soon
            ]
        )
        s.commit()
    clock_of(rt).set(dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC))
    results = [r for r in JobRunner(rt, client_for(fake_slack)).tick() if r.key.job == "bail_digest"]
    assert [r.outcome for r in results] == ["done"]
    (msg,) = [c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"] == BAIL_CHANNEL]
    text = msg.params["text"]
    lapsed_at = text.index("*3* pre-charge bail periods have lapsed")
    assert "a magistrates' court extension, or revert to RUI" in text
    assert "Lapsed by district: Ipswich 2, Lowestoft 1" in text
    assert lapsed_at < text.index("1 active pre-charge bail period end within 14 days")
    first = msg.params["blocks"][1]["text"]["text"]
    assert first.startswith(":rotating_light: *3* pre-charge bail periods have lapsed")
    assert not any(ref in text for ref in ("B1", "B2", "B6"))


@pytest.mark.parametrize(("export_days_old", "stale"), [(1, False), (20, True)])
def test_bail_digest_says_how_old_its_data_is_and_flags_stale_data(
    rt: Runtime,
    fake_slack: FakeSlack,  # noqa: F811
    export_days_old: int,
    stale: bool,
) -> None:
    """Lapses and deadlines are counted as the latest export knew them: the digest names that export's date, and
    says when it is older than bail's refresh interval (an old export imported this morning is old data)."""
    fake_slack.add_channel(BAIL_CHANNEL)
    at = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
    exported = TODAY - dt.timedelta(days=export_days_old)
    with rt.sessions() as s:
        s.add(_bail("B1", TODAY - dt.timedelta(days=80), None, end=TODAY + dt.timedelta(days=2)))
        s.add(ImportBatch(force="suffolk", dataset="bail", file_name="bail.csv", file_sha256="0" * 64,
                          as_of=exported, imported_at=at - dt.timedelta(hours=2)))  # fmt: skip
        s.commit()
    clock_of(rt).set(at)
    results = [r for r in JobRunner(rt, client_for(fake_slack)).tick() if r.key.job == "bail_digest"]
    assert [r.outcome for r in results] == ["done"]
    (msg,) = [c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"] == BAIL_CHANNEL]
    data_line = msg.params["blocks"][-1]["elements"][0]["text"]
    # As the /mo answers say it: the export's date, then the import's time in the force's timezone (GMT in November).
    assert data_line.startswith(f"Data as of {exported.day} {exported:%b %Y}, imported 23 Nov 2026 06:00 GMT")
    assert data_line in msg.params["text"]
    expected = rt.config.refresh_days["bail"]
    assert (f":warning: *stale* — not refreshed within {expected} days" in data_line) is stale


@pytest.mark.parametrize("group_readable", [True, False])
def test_freshness_check_dms_admins_when_an_export_is_overdue(
    rt: Runtime,
    fake_slack: FakeSlack,  # noqa: F811
    group_readable: bool,
) -> None:
    fake_slack.users[ADMIN] = {"id": ADMIN}
    fake_slack.users["UADMIN002"] = {"id": "UADMIN002"}
    if group_readable:
        # The admin role is also given to a user group: its members are told too, each admin once.
        fake_slack.usergroups["S0GROUP01"] = ["UADMIN002", ADMIN]
    fake_slack.add_channel(BAIL_CHANNEL)
    with rt.sessions() as s:
        for force in ("suffolk", "norfolk"):
            for ds, age in (("wanted", 2), ("suspects", 3), ("bail", 9), ("actions", 1)):
                s.add(
                    ImportBatch(
                        force=force,
                        dataset=ds,
                        file_name=f"{ds}.csv",
                        file_sha256="0" * 64,
                        as_of=TODAY,
                        imported_at=NOW - dt.timedelta(days=age),
                    )
                )
        s.commit()
    clock_of(rt).set(dt.datetime(2026, 11, 23, 8, 30, tzinfo=dt.UTC))
    (r,) = [r for r in JobRunner(rt, client_for(fake_slack)).tick() if r.key.job == "freshness_check"]
    told = [ADMIN, "UADMIN002"] if group_readable else [ADMIN]  # an unreadable group is skipped, not fatal
    assert (r.outcome, r.detail) == ("done", f"2 overdue; told {len(told)} admin(s)")
    dms = [c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"].startswith("D")]
    assert [dm.params["channel"] for dm in dms] == ["D" + u[1:] for u in told]
    for dm in dms:
        text = dm.params["text"]
        assert "Suffolk Constabulary: *Pre-charge bail and RUI*" in text
        assert "Norfolk Constabulary: *Pre-charge bail and RUI*" in text
        assert "please import the latest exports" in text
        assert "Wanted" not in text and "Action log" not in text
    with rt.sessions() as s:
        row = s.scalars(select(JobRun).where(JobRun.job == "freshness_check")).one()
    assert (row.period, row.channel, row.status) == ("2026-11-23", "admins", "posted")


def test_freshness_check_is_quiet_when_everything_is_fresh(rt: Runtime, fake_slack: FakeSlack) -> None:  # noqa: F811
    with rt.sessions() as s:
        for force in ("suffolk", "norfolk"):
            for ds in ("wanted", "suspects", "bail", "actions"):
                s.add(
                    ImportBatch(
                        force=force, dataset=ds, file_name="f.csv", file_sha256="0" * 64, as_of=TODAY, imported_at=NOW
                    )
                )
        s.commit()
    (r,) = JobRunner(rt, client_for(fake_slack)).run_now("freshness_check", TODAY.isoformat())
    assert (r.outcome, r.detail) == ("done", "all datasets fresh")
    assert fake_slack.calls_to("chat.postMessage") == []


def test_freshness_check_names_an_old_exports_own_date(rt: Runtime, fake_slack: FakeSlack) -> None:  # noqa: F811
    """An export three weeks old imported an hour ago is overdue by its data: the DM says how old the data is, and
    gives the import time in the force's timezone, rather than "last imported an hour ago" with no reason given."""
    fake_slack.users[ADMIN] = {"id": ADMIN}
    with rt.sessions() as s:
        for force in ("suffolk", "norfolk"):
            for ds in ("wanted", "suspects", "bail", "actions"):
                old = force == "suffolk" and ds == "wanted"
                s.add(
                    ImportBatch(
                        force=force,
                        dataset=ds,
                        file_name="f.csv",
                        file_sha256="0" * 64,
                        as_of=TODAY - dt.timedelta(days=21) if old else TODAY,
                        imported_at=NOW - dt.timedelta(hours=1),
                    )
                )
        s.commit()
    (r,) = JobRunner(rt, client_for(fake_slack)).run_now("freshness_check", TODAY.isoformat())
    assert (r.outcome, r.detail) == ("done", "1 overdue; told 1 admin(s)")
    (dm,) = fake_slack.calls_to("chat.postMessage")
    assert (
        "• Suffolk Constabulary: *Wanted circulations* data as of 2 Nov 2026 (21 days old), "
        "imported 23 Nov 2026 09:00 GMT (1 hour ago) (expected every 7 days)"
    ) in dm.params["text"]
    assert "UTC" not in dm.params["text"]


def _exports_imported(rt: Runtime, at: dt.datetime) -> None:
    with rt.sessions() as s:
        for force in ("suffolk", "norfolk"):
            for ds in ("wanted", "suspects", "bail"):
                s.add(ImportBatch(force=force, dataset=ds, file_name="f.csv", file_sha256="0" * 64, as_of=at.date(),
                                  imported_at=at))  # fmt: skip
        s.commit()


def test_freshness_check_takes_the_action_log_as_fresh_as_its_last_change_in_slack(
    rt: Runtime,
    fake_slack: FakeSlack,  # noqa: F811
) -> None:
    """The log was imported from the July 2022 file and is kept in Slack since: a change ten days ago keeps it
    fresh, and Norfolk, which keeps no log, is never "never imported". Fifty days without a change, the admins
    are told — with the owners' remedy, not an import's."""
    fake_slack.users[ADMIN] = {"id": ADMIN}
    suffolk = rt.config.force("suffolk")
    with rt.sessions() as s:
        s.add(ImportBatch(force="suffolk", dataset="actions", file_name="log.csv", file_sha256="0" * 64,
                          as_of=dt.date(2022, 7, 31), imported_at=NOW - dt.timedelta(days=400)))  # fmt: skip
        new = NewAction(title="Deep dive into OOCD breaches", pillar="divert")
        made = FixedClock(NOW - dt.timedelta(days=10))
        assert create_action(s, suffolk, ActionActor("UCHAIR01", role="admin"), new, made).ok
        s.commit()
    _exports_imported(rt, NOW)
    (r,) = JobRunner(rt, client_for(fake_slack)).run_now("freshness_check", TODAY.isoformat())
    assert (r.outcome, r.detail) == ("done", "all datasets fresh")
    assert fake_slack.calls_to("chat.postMessage") == []

    later = NOW + dt.timedelta(days=40)
    clock_of(rt).set(later)
    _exports_imported(rt, later)
    (r,) = JobRunner(rt, client_for(fake_slack)).run_now("freshness_check", later.date().isoformat())
    assert (r.outcome, r.detail) == ("done", "1 overdue; told 1 admin(s)")
    (dm,) = fake_slack.calls_to("chat.postMessage")
    text = dm.params["text"]
    assert text.startswith(
        ":hourglass: Data overdue for refresh:\n• Suffolk Constabulary: *Action log* last updated in Slack "
    )
    assert "13 Nov 2026 10:00 GMT (50 days ago); log file as of 31 Jul 2022 (expected every 45 days)" in text
    assert "its owners update it in Slack, not by an import" in text
    assert "please import" not in text and "Norfolk" not in text


def test_a_job_needing_slack_without_a_token_is_recorded_failed(rt: Runtime) -> None:
    (r,) = JobRunner(rt, None).run_now("bail_digest", TODAY.isoformat())
    assert (r.outcome, r.detail) == ("failed", "no Slack client: set SLACK_BOT_TOKEN")


def test_weekly_reminders_run_once_a_week_through_the_claims(rt: Runtime, fake_slack: FakeSlack) -> None:  # noqa: F811
    owner = "U0OWNER01"
    fake_slack.users[owner] = {"id": owner}  # users.info places them in fake_slack.team_id: Suffolk's workspace
    suffolk = replace(rt.config.force("suffolk"), slack_team_ids=(fake_slack.team_id,))
    rt = replace(rt, config=replace(rt.config, forces={**rt.config.forces, "suffolk": suffolk}))
    with rt.sessions() as s:
        s.add(
            Action(
                force="suffolk",
                reference="A-1",
                pillar="detect",
                title="Secure data on length of RUI and bail",
                owner_user_id=owner,
                status="open",
                due_on=TODAY - dt.timedelta(days=10),
            )
        )
        s.commit()
    clock_of(rt).set(dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC))  # Monday 09:30
    (r,) = [r for r in JobRunner(rt, client_for(fake_slack)).tick() if r.key.job == "reminders"]
    assert (r.key.period, r.outcome) == ("2026-W48", "done")
    assert r.detail.startswith("1 DM(s), 1 action(s)")
    dms = [c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"] == "D" + owner[1:]]
    assert len(dms) == 1 and "A-1" in dms[0].params["text"]
    # Another replica's tick, or a re-run the same week, sends nothing more.
    clock_of(rt).advance(dt.timedelta(hours=2))
    assert [r for r in JobRunner(rt, client_for(fake_slack)).tick() if r.key.job == "reminders"] == []
    (again,) = JobRunner(rt, client_for(fake_slack)).run_now("reminders", "2026-W48")
    assert again.outcome == "skipped"
    assert len([c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"] == "D" + owner[1:]]) == 1


def _file_import(token: str, force: str, *, decided: dt.datetime | None, expires: dt.datetime) -> SlackFileImport:
    return SlackFileImport(
        token=token, kind="confirm", state="confirmed" if decided else "pending", team_id="T1", user_id="U1",
        force=force, channel_id="D1", thread_ts="1.2", file_id="F1", file_name="w.csv", file_url="https://x/y",
        file_sha256="ab", dataset="wanted", as_of=None, snapshot=True, would_close=2, created_at=expires,
        expires_at=expires, decided_at=decided,
    )  # fmt: skip


def _watch(force: str, removed: dt.datetime | None) -> Watch:
    return Watch(
        force=force, team_id="T1", user_id="U1", figure="rui", kind="above", threshold=5, created_at=NOW,
        removed_at=removed, last_value=1, armed=True,
    )  # fmt: skip


def test_retention_purges_finished_file_imports_and_removed_watches_after_30_days(rt: Runtime) -> None:
    day = dt.timedelta(days=1)
    old, recent = NOW - 31 * day, NOW - 29 * day
    with rt.sessions() as s:
        s.add_all(
            [
                _file_import("decided-old", "suffolk", decided=old, expires=old),  # purged
                _file_import("decided-recent", "suffolk", decided=recent, expires=old),  # decided lately: kept
                _file_import("expired-old", "suffolk", decided=None, expires=old),  # expired long ago: purged
                _file_import("expired-recent", "suffolk", decided=None, expires=recent),  # kept
                _file_import("pending", "suffolk", decided=None, expires=NOW + day),  # still waiting: kept
                _file_import("norfolk-old", "norfolk", decided=old, expires=old),  # the other force's: purged
            ]
        )
        s.add_all([_watch("suffolk", old), _watch("suffolk", recent), _watch("suffolk", None)])
        s.commit()
    (r,) = JobRunner(rt, None).run_now("retention", TODAY.isoformat())
    assert r.outcome == "done"
    assert r.detail is not None and "suffolk: 0 purged" in r.detail
    assert "2 finished Slack file imports and 1 removed watches" in r.detail
    assert "norfolk: 0 purged (closed before" in r.detail and "1 finished Slack file imports and 0 removed" in r.detail
    with rt.sessions() as s:
        left = set(s.scalars(select(SlackFileImport.token)))
        watches = sorted((w.removed_at is None, w.removed_at) for w in s.scalars(select(Watch)))
        audit = s.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "purge", AuditEvent.detail.contains("Slack"))
        ).all()
    assert left == {"decided-recent", "expired-recent", "pending"}
    assert [kept for kept, _ in watches] == [False, True]  # the recently removed and the active one
    assert sorted(audit) == sorted(
        f"retention purge: Slack file imports finished and watches removed before {(NOW - 30 * day).isoformat()}: "
        f"file imports {n}, watches {w}"
        for n, w in ((2, 1), (1, 0))
    )
