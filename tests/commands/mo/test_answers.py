"""Rendered answers: numbers equal the figures service, Slack's limits hold for huge breakdowns, every
mrkdwn-injection path is escaped, freshness is named, and unexpected errors show a reference."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.access import Requester, identify
from bot.config import District, load_config
from bot.dates import a_month_before
from bot.figures import Filters, bail_figures, suspect_figures, wanted_figures
from bot.figures.cache import figures_cache
from bot.figures.cases import bail_ending_soon, open_cases
from bot.figures.trend import trend
from bot.figures.types import WantedFigures
from bot.import_generations.announce import announce_imports
from bot.import_generations.batches import ImportedBatch
from bot.importing.service import import_file
from bot.importing.types import ImportRequest
from bot.models import AuditEvent, BailPeriod, ImportBatch, OutstandingSuspect, WantedCirculation
from bot.runtime import Runtime
from bot.slack.blocks import MAX_BLOCKS, MessageBuilder, fmt_int
from bot.slack.render_figures import (
    AGE_BAND_LABELS,
    AUTHORITY_LABELS,
    LENGTH_BAND_LABELS,
    REASON_LABELS,
    Frame,
    fmt_date,
    fmt_time,
    render_wanted,
)
from commands.mo import figures
from commands.mo.catalog import build_registry
from commands.mo.pipeline import answer
from commands.mo.reply import Reply
from commands.mo.specs import CommandSpec
from tests.support.seed import ALLOWED, ANALYST, SUFFOLK_TEAM, VIEWER, blocks_text, seed, slack_config

AS_OF = dt.date(2026, 11, 23)
MENTION = re.compile(r"<[!@#]")


@pytest.fixture(autouse=True)
def _fresh_figures_cache() -> None:
    # Each test's database restarts import batch ids, so a cached figure of an earlier test could match.
    figures_cache.clear()


@pytest.fixture
def rt(tmp_path, db_url, engine, clock) -> Runtime:
    return Runtime.create(slack_config(tmp_path, db_url), clock=clock, engine=engine)


def ask(rt: Runtime, text: str, user: str = VIEWER, **kw: Any) -> Reply:
    who = Requester(user_id=user, team_id=SUFFOLK_TEAM, channel_id=ALLOWED)
    return answer(rt, identify(rt.config, who), text, **kw)


def all_strings(obj: Any) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in all_strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in all_strings(v)]
    return []


def mrkdwn_strings(obj: Any) -> list[str]:
    """Every mrkdwn text in the blocks. (plain_text, as in headers, is shown literally: Slack parses no mentions
    there, so a "<!channel>" in a header pings nobody.)"""
    if isinstance(obj, dict):
        if obj.get("type") == "mrkdwn":
            return [obj["text"]]
        return [s for v in obj.values() for s in mrkdwn_strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in mrkdwn_strings(v)]
    return []


def assert_no_mention(reply: Reply) -> None:
    texts = mrkdwn_strings(reply.blocks)
    assert texts
    for s in [reply.text, *texts]:
        assert not MENTION.search(s), s


def assert_within_limits(reply: Reply) -> None:
    assert 0 < len(reply.blocks) <= MAX_BLOCKS
    for b in reply.blocks:
        if b["type"] == "header":
            assert len(b["text"]["text"]) <= 150
        if b["type"] == "section":
            if "text" in b:
                assert len(b["text"]["text"]) <= 3000
            assert len(b.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in b.get("fields", []))
        if b["type"] == "context":
            assert len(b["elements"]) <= 10
    assert reply.text


def line(label: str, n: int) -> str:
    return f"• {label}: {fmt_int(n)}"


# --- figures in answers equal the figures service -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "as_of", "filters"),
    [
        ("wanted", AS_OF, Filters()),
        ("wanted --district west --older-than 90d --as-of 31/10/2026", dt.date(2026, 10, 31), "older90"),
        (
            "wanted --reason never-arrested --offence BURGLARY",
            AS_OF,
            Filters(reason="never_arrested", offence="BURGLARY"),
        ),
    ],
)
def test_wanted_answer_equals_service(rt: Runtime, text: str, as_of: dt.date, filters: Any) -> None:
    seed(rt.sessions, n=200)
    if filters == "older90":
        filters = Filters(district="bury-st-edmunds", older_than_days=90)
    r = ask(rt, text)
    body = blocks_text(r)
    force = rt.config.force("suffolk")
    with rt.sessions() as s:
        fig = wanted_figures(s, force, as_of, filters, review_days=rt.config.wanted_review_days)
        # Under an age filter the month-ago count is of the cases over that age on that day (brute-forced below).
        earlier = filters.counted_back_from(as_of, a_month_before(as_of))
        before = wanted_figures(s, force, as_of, earlier, review_days=rt.config.wanted_review_days)
    assert fig.open > 0
    assert f"*{fmt_int(fig.open)}* open wanted circulations" in body
    assert f"({fmt_int(before.open_a_month_ago)} on " in body
    # The month to date ends at the seeded export's date (22 Nov) when the answer's date is after it.
    seeded = dt.date(2026, 11, 22)
    month = f"(1–{fmt_date(seeded)}, to the latest export)" if as_of > seeded else (
        f"(from {fmt_date(as_of.replace(day=1))})"
    )  # fmt: skip
    if filters.older_than_days:
        # Opened over 90 days ago: nothing circulated this month can be, so no "0 circulated" (no new cases at all?).
        assert fig.opened_in_month == 0
        assert f"Month to date {month}: {fig.closed_in_month} closed\n" in body
    else:
        assert f"Month to date {month}: {fig.opened_in_month} circulated, {fig.closed_in_month} closed" in body
    if fig.review_overdue:
        assert f"*{fmt_int(fig.review_overdue)}* not reviewed in the last 28 days" in body
    for band, n in fig.by_age_band.items():
        if filters.older_than_days and band in ("0-27d", "28-90d"):
            # Opened over 90 days ago: no case can be under 91 days old, so those bands are not listed as zeros.
            assert n == 0 and AGE_BAND_LABELS[band] not in body
        else:
            assert line(AGE_BAND_LABELS[band], n) in body
    if filters.reason:
        assert "By reason" not in body  # one reason asked for: the others would be zeros
    else:
        for reason, n in fig.by_reason.items():
            assert line(REASON_LABELS[reason], n) in body
    for offence, n in list(fig.by_offence.items())[:10]:
        assert line(offence, n) in body
    if not filters.district:
        for d, n in fig.by_district.items():
            assert line(force.district_label(d), n) in body
    if filters.older_than_days:
        assert "opened over 90 days ago" in body  # in words, not "90d"
    assert_within_limits(r)


def test_suspects_answer_equals_service(rt: Runtime) -> None:
    seed(rt.sessions, n=200)
    r = ask(rt, "suspects --offence theft")
    body = blocks_text(r)
    force = rt.config.force("suffolk")
    with rt.sessions() as s:
        fig = suspect_figures(s, force, AS_OF, Filters(offence="theft"))
    assert fig.open > 0
    assert f"*{fmt_int(fig.open)}* outstanding suspects" in body
    assert f"({fmt_int(fig.open_a_month_ago)} on 23 Oct 2026)" in body
    for band, n in fig.by_age_band.items():
        assert line(AGE_BAND_LABELS[band], n) in body
    for d, n in fig.by_district.items():
        assert line(force.district_label(d), n) in body
    assert "offence: theft" in body


def test_bail_and_rui_answers_equal_service(rt: Runtime) -> None:
    seed(rt.sessions, n=300)
    force = rt.config.force("suffolk")
    month_ago = dt.date(2026, 10, 23)
    with rt.sessions() as s:
        fig = bail_figures(s, force, AS_OF, Filters(), ending_within_days=21)
        before = bail_figures(s, force, month_ago, Filters(), ending_within_days=14)
    bail = blocks_text(ask(rt, "bail --expiring 3w"))
    assert f"*{fmt_int(fig.active_bail)}* on pre-charge bail · *{fmt_int(fig.active_rui)}* released" in bail
    assert f"({fmt_int(before.active_bail)} on 23 Oct 2026)" in bail
    assert fig.bail_ending_soon_total > 0
    assert f"{fmt_int(fig.bail_ending_soon_total)} on bail ending within 21 days" in bail
    within_7 = sum(1 for e in fig.bail_ending_soon if e.days_left <= 7)
    assert f"{within_7} within 7 days" in bail
    for authority in {e.next_authority for e in fig.bail_ending_soon}:
        n = sum(1 for e in fig.bail_ending_soon if e.next_authority == authority)
        assert line(AUTHORITY_LABELS[authority], n) in bail
    # --expiring asks about the bail ending in the window: the breakdowns are of those periods.
    with rt.sessions() as s:
        soon = bail_ending_soon(s, force, AS_OF, Filters(), 21)
    assert sum(soon.length_bands.values()) == soon.total == fig.bail_ending_soon_total
    assert sum(soon.by_district.values()) == sum(soon.by_offence.values()) == soon.total
    assert "Bail ending within 21 days by time since it started" in bail
    for band, n in soon.length_bands.items():
        assert line(LENGTH_BAND_LABELS[band], n) in bail
    for d, n in soon.by_district.items():
        assert line(force.district_label(d), n) in bail
    plain = blocks_text(ask(rt, "bail"))
    assert "Bail by time since it started" in plain
    for band, n in fig.length_bands["bail"].items():
        assert line(LENGTH_BAND_LABELS[band], n) in plain
    assert not re.search(r"SUB\d{5}", bail)  # counts only: no references in the aggregate answer

    rui = blocks_text(ask(rt, "rui"))
    assert f"*{fmt_int(fig.active_rui)}* active RUI" in rui
    assert f"({fmt_int(before.active_rui)} on 23 Oct 2026)" in rui
    for band, n in fig.length_bands["rui"].items():
        assert line(LENGTH_BAND_LABELS[band], n) in rui
    for d, n in fig.by_district["rui"].items():
        assert line(force.district_label(d), n) in rui
    over = fig.length_bands["rui"]["over-12m"]
    assert over > 0 and f"*{fmt_int(over)}* RUI running over 12 months" in rui

    # How long RUI runs by district and offence group: each line's cases over 12 months, adding up to the band.
    def noted(label: str, n: int, long: int) -> bool:
        return re.search(rf"{re.escape(line(label, n))} \(\d+%\) — {fmt_int(long)} over 12 months", rui) is not None

    for d, n in fig.over_12m_by_district["rui"].items():
        assert noted(force.district_label(d), fig.by_district["rui"][d], n), (d, n)
    assert sum(fig.over_12m_by_district["rui"].values()) == over == sum(fig.over_12m_by_offence["rui"].values())
    listed = [o for o in list(fig.by_offence["rui"])[:10] if fig.over_12m_by_offence["rui"].get(o)]
    assert listed
    for o in listed:
        assert noted(o, fig.by_offence["rui"][o], fig.over_12m_by_offence["rui"][o]), o
    # Opened over 12 months ago: the bands under 12 months cannot hold a case, so they are not listed as zeros.
    old = blocks_text(ask(rt, "rui --older-than 12m"))
    bands = old.split("By length of RUI", 1)[1].split("By district", 1)[0]
    assert LENGTH_BAND_LABELS["over-12m"] in bands
    assert not [b for b in ("0-3m", "3-6m", "6-9m", "9-12m") if LENGTH_BAND_LABELS[b] in bands]
    assert "— " not in old.split("By district", 1)[1].split("Suffolk Constabulary ·")[0]  # no "— N over 12 months"


# A month before AS_OF (23 Nov 2026), and each age counted back from that day and from AS_OF.
MONTH_AGO = dt.date(2026, 10, 23)
AGES = {"12m": (dt.date(2025, 10, 23), dt.date(2025, 11, 23)), "90d": (dt.date(2026, 7, 25), dt.date(2026, 8, 25))}


def _open_at(rt: Runtime, command: str, at: dt.date, opened_before: dt.date) -> int:
    """Brute force over the stored rows: Suffolk's cases open (bail: active) at ``at`` and opened before the cutoff."""
    with rt.sessions() as s:
        if command == "wanted":
            rows = [(r.circulated_on, r.closed_on, None) for r in s.scalars(select(WantedCirculation))
                    if r.force == "suffolk"]  # fmt: skip
        elif command == "suspects":
            rows = [(r.identified_on, r.closed_on, None) for r in s.scalars(select(OutstandingSuspect))
                    if r.force == "suffolk"]  # fmt: skip
        else:
            rows = [(r.started_on, r.ended_on, r.bail_end_on) for r in s.scalars(select(BailPeriod))
                    if r.force == "suffolk" and r.kind == command]  # fmt: skip
    return sum(
        1
        for opened, closed, bail_end in rows
        if opened < opened_before
        and opened <= at
        and (closed is None or closed > at)
        and not (bail_end is not None and bail_end < at)  # lapsed bail is not active
    )


@pytest.mark.parametrize("command", ["wanted", "suspects", "bail", "rui"])
@pytest.mark.parametrize("age", sorted(AGES))
def test_the_month_ago_figure_under_an_age_filter_counts_the_cases_over_that_age_on_that_day(
    rt: Runtime, command: str, age: str
) -> None:
    """ "116 opened over 12 months ago … (111 on 23 Oct)": the 111 were over 12 months old on 23 Oct. Today's cohort
    a month earlier (opened over 12 months before today, open then) would fall every month, whatever the trend."""
    seed(rt.sessions, n=300)
    then, now = AGES[age]
    now_count = _open_at(rt, command, AS_OF, now)
    want = _open_at(rt, command, MONTH_AGO, then)
    cohort = _open_at(rt, command, MONTH_AGO, now)
    assert want != cohort  # the seeded data tells the two apart
    body = blocks_text(ask(rt, f"{command} --older-than {age}"))
    label = {"wanted": "open wanted circulations", "suspects": "outstanding suspects", "rui": "active RUI"}
    if command == "bail":
        assert f"*{fmt_int(now_count)}* on pre-charge bail" in body
        assert re.search(rf"^Bail: .*\({fmt_int(want)} on 23 Oct 2026\)$", body, re.M), body
    else:
        assert f"*{fmt_int(now_count)}* {label[command]}" in body
        assert f"({fmt_int(want)} on 23 Oct 2026)" in body
    # Nothing opened this month is over that age: the month to date gives what closed, not a "0 opened".
    mtd = next(ln for ln in body.splitlines() if ln.startswith("Month to date (1–22 Nov 2026, to the latest export): "))
    assert not re.search(r"circulated|identified|started|released under investigation", mtd), mtd


@pytest.mark.parametrize("command", ["wanted", "suspects", "bail", "rui"])
def test_a_date_before_the_data_gets_no_number(rt: Runtime, command: str) -> None:
    seed(rt.sessions, n=50)  # the seeded exports hold every case open since 23 Nov 2024
    dataset = "bail" if command == "rui" else command
    early = blocks_text(ask(rt, f"{command} --as-of 2024-11-22"))
    assert f"No {dataset} data before 23 Nov 2024" in early
    assert not re.search(r"\*\d+\*", early)  # no figure at all
    first = blocks_text(ask(rt, f"{command} --as-of 2024-12-01"))
    assert "No comparison with a month ago: no data before 23 Nov 2024" in first
    assert "over the last month" not in first
    later = blocks_text(ask(rt, f"{command} --as-of 2024-12-23"))
    assert "No comparison" not in later and "over the last month (" in later
    # The month the data begins in: its first 22 days' openings and closures are not in the data.
    partial = blocks_text(ask(rt, f"{command} --as-of 2024-11-30"))
    assert "Month to date: not counted, no data before 23 Nov 2024" in partial
    assert "Month to date (from" not in partial and "this month, by outcome" not in partial
    assert "Month to date (from 1 Dec 2024)" in first


@pytest.mark.parametrize(
    ("command", "dataset", "counted"),
    [
        ("wanted --trend --district west", "wanted", "open wanted circulations"),
        ("suspects trend --offence theft", None, None),  # a bare word is matched to its flag, not run
        ("bail --trend", "bail", "on pre-charge bail (active)"),
        ("rui --trend", "rui", "active RUI"),
    ],
)
def test_a_trend_gives_each_month_end_as_the_trend_service_counts_it(
    rt: Runtime, command: str, dataset: str | None, counted: str | None
) -> None:
    seed(rt.sessions, n=300)  # complete from 23 Nov 2024: every month of the last 13 is covered
    r = ask(rt, command)
    body = blocks_text(r)
    if dataset is None:
        assert "did you mean `--trend`?" in body
        return
    force = rt.config.force("suffolk")
    filters = Filters(district="bury-st-edmunds") if "west" in command else Filters()
    with rt.sessions() as s:
        t = trend(s, dataset, force, AS_OF, filters)
    assert len(t.covered) == 13
    last, first = t.months[-1], t.months[0]
    assert f"*{fmt_int(last.open_at_end or 0)}* {counted} on 23 Nov 2026" in body
    assert f"since 30 Nov 2025 ({fmt_int(first.open_at_end or 0)})" in body
    table = body[body.index("```") :]
    for m in t.months:
        label = m.first.strftime("%b %Y") + (" (1–23)" if m is last else "")
        row = next(x for x in table.splitlines() if x.startswith(label))
        numbers = [int(n.replace(",", "")) for n in re.findall(r"\b[\d,]+\b", row[len(label) :])]
        # Bail lapsed at a month end before the first bail export (22 Nov) has no count: a dash, not a number.
        lapsed = [m.lapsed_at_end] if dataset == "bail" and m.lapsed_at_end is not None else []
        assert numbers == [m.open_at_end, *lapsed, m.opened, m.closed], row
        assert (dataset == "bail" and m.lapsed_at_end is None) == ("—" in row), row
    assert "(before the data)" not in body
    assert ("Lapsed — before 22 Nov 2026: bail end dates are known only from the first bail export" in body) == (
        dataset == "bail"
    )
    assert ("Bury St Edmunds" in r.blocks[0]["text"]["text"]) == bool(filters.district)
    assert_within_limits(r)


def test_a_trend_starting_before_the_data_shows_no_number_for_those_months(rt: Runtime) -> None:
    seed(rt.sessions, n=100)  # complete from 23 Nov 2024
    body = blocks_text(ask(rt, "wanted --trend --as-of 2025-02-10"))
    table = body[body.index("```") :]
    assert re.search(r"^Feb–Oct 2024 +— +\(before the data\) +— +—$", table, re.M)  # one row, no zeros
    assert re.search(r"^Nov 2024 +\d+ +\S* +— +—$", table, re.M)  # its end is covered, not its first 22 days
    with rt.sessions() as s:
        t = trend(s, "wanted", rt.config.force("suffolk"), dt.date(2025, 2, 10), Filters())
    nov = t.covered[0]
    assert "the first month end the data covers (complete from 23 Nov 2024)" in body
    assert f"since 30 Nov 2024 ({fmt_int(nov.open_at_end or 0)})" in body
    assert "—: not covered by the data" in body


@pytest.mark.parametrize(
    ("command", "why"),
    [
        ("wanted --trend --list", "a trend counts cases, a list names them"),
        ("rui --older-than 12m --trend", "a case's age changes from one month end to the next"),
        ("bail --trend --expiring 7d", "bail ending soon is counted for one day"),
    ],
)
def test_a_trend_with_an_option_it_cannot_honour_is_refused_by_name(rt: Runtime, command: str, why: str) -> None:
    seed(rt.sessions, n=20)
    body = blocks_text(ask(rt, command, user=ANALYST))
    assert "cannot go together" in body and why in body
    assert "Nothing was changed" in body


def test_bail_answer_leads_with_lapsed_bail(rt: Runtime) -> None:
    seed(rt.sessions, n=300)
    force = rt.config.force("suffolk")
    with rt.sessions() as s:
        fig = bail_figures(s, force, AS_OF, Filters(), ending_within_days=14)
        cases = open_cases(s, "bail", force, AS_OF, Filters(), 1000)
    assert fig.lapsed_bail > 0
    bail = blocks_text(ask(rt, "bail"))
    first = bail.splitlines()[1]
    assert first.startswith(f":rotating_light: *{fig.lapsed_bail}* pre-charge bail periods have lapsed")
    assert "magistrates' court extension, or revert to RUI" in first
    assert f"· *{fmt_int(fig.lapsed_bail)}* lapsed bail" in bail
    listed = blocks_text(ask(rt, "bail --list", user=ANALYST))
    # Lapsed bail is not "on pre-charge bail": the list's headline counts the two apart, as the counts do.
    assert f"*{fig.active_bail}* on pre-charge bail and *{fig.lapsed_bail}* lapsed bail periods; showing" in listed
    assert "of them lapsed" not in listed
    assert cases.total == fig.active_bail + fig.lapsed_bail and cases.lapsed == fig.lapsed_bail
    oldest = cases.rows[0]
    assert oldest.lapsed_days is not None
    assert f"`{oldest.reference}` " in listed and f"*lapsed {oldest.lapsed_days} days ago*" in listed
    # Dates as every answer writes them ("3 Jan 2025"), not ISO.
    assert (
        f"bail started {fmt_date(oldest.opened_on)}" in listed
        and f"(bail ended {fmt_date(oldest.bail_end_on)})" in (listed)
    )


def test_bail_list_expiring_matches_ending_soon(rt: Runtime) -> None:
    seed(rt.sessions, n=300)
    force = rt.config.force("suffolk")
    with rt.sessions() as s:
        fig = bail_figures(s, force, AS_OF, Filters(), ending_within_days=14)
    r = ask(rt, "bail --list --expiring 14d", user=ANALYST)
    refs = re.findall(r"SUB\d{5}", blocks_text(r))
    assert refs == [e.reference for e in fig.bail_ending_soon][:5]
    # The window is named: "on pre-charge bail" would be every active period, not the ones ending within 14 days.
    assert (
        f"*{fig.bail_ending_soon_total}* on bail ending within 14 days; showing the soonest bail end dates first."
    ) in blocks_text(r)
    assert r.records_disclosed == len(refs) == 5


# --- Slack's limits -----------------------------------------------------------------------------------------------
def test_200_offence_groups_stay_within_limits(rt: Runtime) -> None:
    offences = [f"offence group number {i:03d} with a long descriptive name" for i in range(200)]
    seed(rt.sessions, n=600, offences=offences, forces=("suffolk",))
    r = ask(rt, "wanted")
    assert r.outcome == "ok"
    assert_within_limits(r)
    with rt.sessions() as s:
        fig = wanted_figures(s, rt.config.force("suffolk"), AS_OF)
    shown = re.findall(r"• offence group number \d{3}", blocks_text(r))
    assert len(shown) == 10
    assert f"and {len(fig.by_offence) - 10} more" in blocks_text(r)


def test_huge_breakdowns_and_lists_never_break_limits(rt: Runtime) -> None:
    force = rt.config.force("suffolk")
    many = {f"<!here> district {i} " + "x" * 120: i for i in range(400)}
    fig = WantedFigures(
        force="suffolk",
        district=None,
        as_of=AS_OF,
        data_as_of=None,
        open=10**6,
        by_district=many,
        by_age_band={"0-27d": 1},
        by_reason=dict.fromkeys(REASON_LABELS, 0),
        by_offence=many,
        review_overdue=3,
        opened_in_month=1,
        closed_in_month=2,
        open_a_month_ago=999_999,
    )
    hostile = replace(force, districts=(District("ipswich", "<!channel> Ipswich"),))
    text, blocks = render_wanted(fig, Frame(hostile, "ipswich", AS_OF, None), dt.date(2026, 10, 23), 28)
    reply = Reply(text=text, blocks=blocks)
    assert_within_limits(reply)
    assert_no_mention(reply)
    assert "more_" in blocks_text(reply)


def test_long_list_is_chunked_and_counts_what_it_shows(tmp_path, db_url, engine, clock) -> None:
    rt = Runtime.create(slack_config(tmp_path, db_url, list_cap=5000), clock=clock, engine=engine)
    seed(rt.sessions, n=3000, forces=("suffolk",))
    r = ask(rt, "suspects --list", user=ANALYST)
    assert_within_limits(r)
    refs = re.findall(r"SUS\d{5}", blocks_text(r))
    assert len(refs) == r.records_disclosed == len(set(refs))
    with rt.sessions() as s:
        total = open_cases(s, "suspects", rt.config.force("suffolk"), AS_OF, Filters(), 1).total
    assert total > len(refs)  # the block limit cut the list, and said so
    assert f"and {fmt_int(total - len(refs))} more" in blocks_text(r)
    with rt.sessions() as s:
        ev = s.scalars(select(AuditEvent)).one()
    assert ev.records_disclosed == len(refs)


def test_builder_cuts_with_and_n_more() -> None:
    m = MessageBuilder().header("h" * 400)
    shown = m.lines("Lines", ["y" * 100] * 5000)
    m.context("c")
    text, blocks = m.build()
    assert len(blocks) == MAX_BLOCKS
    assert len(blocks[0]["text"]["text"]) == 150
    assert f"and {fmt_int(5000 - shown)} more" in blocks[-2]["text"]["text"]
    assert blocks[-1]["type"] == "context"
    assert text


# --- mrkdwn injection, one test per path ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "typed",
    [
        "wanted --district &lt;!channel&gt;",  # how Slack sends a typed "<!channel>"
        "wanted --district <!channel>",  # a real special mention in the text
        "&lt;@U0VICTIM&gt; --list",  # unknown sub-command echoed
        "wanted --&lt;!here&gt;",  # unknown flag echoed
        "wanted --as-of &lt;!everyone&gt;",  # bad date echoed
        "wanted &lt;#C0GENERAL&gt;",  # unexpected argument echoed
        "wanted --reason &lt;!subteam^S0ALL&gt;",  # bad choice echoed
    ],
)
def test_argument_echo_in_errors_is_escaped(rt: Runtime, typed: str) -> None:
    r = ask(rt, typed)
    assert r.outcome == "invalid"
    assert_no_mention(r)
    assert "&lt;" in blocks_text(r) or "@channel" in blocks_text(r)


def test_filter_echo_in_context_is_escaped(rt: Runtime) -> None:
    r = ask(rt, 'wanted --offence "&lt;!channel&gt; &amp; co"')
    assert r.outcome == "ok"
    assert "offence: &lt;!channel&gt; &amp; co" in blocks_text(r)
    assert_no_mention(r)


def _insert_hostile_rows(rt: Runtime) -> None:
    with rt.sessions() as s, s.begin():
        s.add(ImportBatch(force="suffolk", dataset="wanted", file_name="w.csv", file_sha256="0" * 64, as_of=AS_OF))
        s.add(ImportBatch(force="suffolk", dataset="bail", file_name="b.csv", file_sha256="1" * 64, as_of=AS_OF))
        for i, (offence, district) in enumerate(
            [("<!here> burglary & <@U0BAD>", "ipswich"), ("theft", "<!everyone>"), ("theft", "ipswich")]
        ):
            s.add(
                WantedCirculation(
                    force="suffolk",
                    reference=f"<!channel>-{i}",
                    offence=offence,
                    district=district,
                    reason="never_arrested",
                    circulated_on=AS_OF - dt.timedelta(days=10 + i),
                    status="open",
                )
            )
        s.add(
            BailPeriod(
                force="suffolk",
                reference="<@U0BAD>",
                offence="<!channel>",
                district="ipswich",
                kind="bail",
                started_on=AS_OF - dt.timedelta(days=30),
                bail_end_on=AS_OF + dt.timedelta(days=3),
            )
        )


def test_a_dataset_never_imported_gets_no_figure_not_a_zero(rt: Runtime) -> None:
    """Before any export of a dataset is imported every date is before the data: "0 open" would be a figure nobody
    counted."""
    for text, dataset in (("wanted", "wanted"), ("suspects", "suspects"), ("bail", "bail"), ("rui", "bail")):
        body = blocks_text(ask(rt, text))
        assert f"No {dataset} data has been imported for Suffolk Constabulary yet" in body, body
        assert "*0*" not in body and "no change" not in body
    # Once an import is in, the figures come back: tests/e2e/test_import_by_dm.py asks before and after a real one.


def test_offence_and_district_from_data_are_escaped(rt: Runtime) -> None:
    _insert_hostile_rows(rt)
    r = ask(rt, "wanted")
    body = blocks_text(r)
    assert "• &lt;!here&gt; burglary &amp; &lt;@U0BAD&gt;: 1" in body
    assert "• &lt;!everyone&gt;: 1" in body
    assert_no_mention(r)
    b = ask(rt, "bail")
    assert "• &lt;!channel&gt;: 1" in blocks_text(b)
    assert_no_mention(b)


def test_references_in_lists_are_escaped(rt: Runtime) -> None:
    _insert_hostile_rows(rt)
    r = ask(rt, "wanted --list", user=ANALYST)
    assert "`&lt;!channel&gt;-0`" in blocks_text(r)
    assert r.records_disclosed == 3
    assert_no_mention(r)
    b = ask(rt, "bail --list", user=ANALYST)
    assert "`&lt;@U0BAD&gt;`" in blocks_text(b)
    assert_no_mention(b)


# --- freshness, status, help ---------------------------------------------------------------------------------------
def test_data_time_is_named_and_stale_data_flagged(rt: Runtime) -> None:
    seed(rt.sessions, n=20, imported_at=dt.datetime(2026, 11, 22, 15, 30, tzinfo=dt.UTC))
    fresh = blocks_text(ask(rt, "wanted"))
    assert "data as of 22 Nov 2026, imported 22 Nov 2026 15:30 GMT" in fresh and "stale" not in fresh
    assert "Suffolk Constabulary · as of 23 Nov 2026" in fresh
    rt.clock.advance(dt.timedelta(days=8))  # wanted is expected weekly
    stale = blocks_text(ask(rt, "wanted --district ipswich --as-of 2026-11-23"))
    assert ":warning: *stale*" in stale and "Ipswich" in stale
    suspects = blocks_text(ask(rt, "suspects"))  # monthly: still fresh
    assert "stale" not in suspects


def _import_in_order(
    rt: Runtime, tmp_path, dataset: str, header: str, exports: dict[dt.date, str], *, covers_from: dt.date
) -> None:
    """Each export (its as-of date → its rows under ``header``) imported in date order, as the analysts would."""
    with rt.sessions() as s:
        for as_of, rows in sorted(exports.items()):
            path = tmp_path / f"{dataset}-{as_of}.csv"
            path.write_text(header + rows)
            request = ImportRequest(dataset, path, force="suffolk", as_of=as_of, covers_from=covers_from)
            assert import_file(s, rt.config, request, rt.clock.now()).ok
            s.commit()


def test_the_month_ago_figure_is_what_the_answer_for_that_day_gives(rt: Runtime, tmp_path) -> None:
    """B2's bail lapsed on 20 Sep; the export of 31 Oct extended it to 20 Nov. Counted with the 31 Oct export's
    knowledge, B2 was on bail on 30 Sep: "4 on 30 Sep" stood beside a 30 Sep that `--as-of`, the trend and the
    summary all gave as 3. The month-ago figure is the one the answer for that day gives. (B3, started 15 Sep and
    first reported on 31 Oct, counts on 30 Sep in all of them: a case reported late is counted from its opening.)"""
    header = "reference,offence,district,kind,started_on,bail_end_on,ended_on,outcome\n"
    exports = {
        dt.date(2026, 9, 30): "B1,theft,ipswich,bail,2026-08-01,2026-10-31,,\n"
        "B2,theft,ipswich,bail,2026-07-01,2026-09-20,,\n"
        "B4,theft,ipswich,bail,2026-09-10,2026-12-09,,\n",
        dt.date(2026, 10, 31): "B1,theft,ipswich,bail,2026-08-01,2026-12-31,,\n"
        "B2,theft,ipswich,bail,2026-07-01,2026-11-20,,\n"
        "B3,theft,ipswich,bail,2026-09-15,2026-11-05,,\n"
        "B4,theft,ipswich,bail,2026-09-10,2026-12-09,,\n",
    }
    _import_in_order(rt, tmp_path, "bail", header, exports, covers_from=dt.date(2026, 7, 1))
    then = blocks_text(ask(rt, "bail --as-of 2026-09-30"))
    assert "*3* on pre-charge bail · *0* released under investigation · *1* lapsed bail" in then  # B2 lapsed
    later = blocks_text(ask(rt, "bail --as-of 2026-10-31"))
    assert "*4* on pre-charge bail" in later
    assert "Bail: ↑ 1 (+33.3%) over the last month (3 on 30 Sep 2026)" in later
    with rt.sessions() as s:
        t = trend(s, "bail", rt.config.force("suffolk"), dt.date(2026, 10, 31), Filters())
    assert next(m.open_at_end for m in t.months if m.end == dt.date(2026, 9, 30)) == 3


def test_a_past_dates_answer_names_the_export_its_figures_are_revised_up_to(rt: Runtime, tmp_path) -> None:
    """A past date's figures apply the revisions known by then, not the latest export's: the answer says which
    export they stop at, besides the latest data's freshness."""
    header = "reference,offence,district,reason,circulated_on,closed_on,status\n"
    exports = {
        dt.date(2026, 11, 10): "W1,theft,ipswich,never_arrested,2026-10-01,,open\n"
        "W2,theft,ipswich,never_arrested,2026-10-02,,open\n",
        # W2 closed on 18 Nov, first reported in the export of 20 Nov.
        dt.date(2026, 11, 20): "W1,theft,ipswich,never_arrested,2026-10-01,,open\n"
        "W2,theft,ipswich,never_arrested,2026-10-02,2026-11-18,closed\n",
    }
    _import_in_order(rt, tmp_path, "wanted", header, exports, covers_from=dt.date(2026, 10, 1))
    latest = "latest data as of 20 Nov 2026, imported 23 Nov 2026 10:00 GMT"
    between = blocks_text(ask(rt, "wanted --as-of 2026-11-19"))
    assert "*2* open wanted circulations" in between  # W2 open, as the export of 10 Nov had it
    assert f"figures as revised up to the export as of 10 Nov 2026 · {latest}" in between
    # Before every import the figures are rebuilt from the first export: the answer says so, not "revised up to".
    before = blocks_text(ask(rt, "wanted --as-of 2026-11-05"))
    assert f"figures rebuilt from the first export, as of 10 Nov 2026, each case as it stood then · {latest}" in before
    assert "revised up to" not in before
    for text in ("wanted", "wanted --as-of 2026-11-20"):  # the latest export's date on: the line as ever
        body = blocks_text(ask(rt, text))
        assert "revised up to" not in body and "data as of 20 Nov 2026, imported 23 Nov 2026 10:00 GMT" in body


def test_a_date_before_the_only_export_is_answered_as_rebuilt_from_it(rt: Runtime, tmp_path) -> None:
    """With one export (as of 20 Nov) declared to cover every case since 1 Oct, an answer for 31 Oct is rebuilt from
    it: B1 was due to end on 5 Nov and was extended to 5 Feb before the export, which gives only the new date. The
    answer says the figures are rebuilt from that export, each case as it stood then."""
    path = tmp_path / "bail.csv"
    path.write_text(
        "reference,offence,district,kind,started_on,bail_end_on\nB1,theft,ipswich,bail,2026-10-01,2027-02-05\n"
    )
    with rt.sessions() as s:
        request = ImportRequest(
            "bail", path, force="suffolk", as_of=dt.date(2026, 11, 20), covers_from=dt.date(2026, 10, 1)
        )
        assert import_file(s, rt.config, request, rt.clock.now()).ok
        s.commit()
    past = blocks_text(ask(rt, "bail --as-of 2026-10-31"))
    assert (
        "figures rebuilt from the first export, as of 20 Nov 2026, each case as it stood then · "
        "data as of 20 Nov 2026, imported 23 Nov 2026 10:00 GMT"
    ) in past
    assert "revised up to" not in past
    for text in ("bail", "bail --as-of 2026-11-20"):  # on or after the export's date: the line as ever
        assert "rebuilt" not in blocks_text(ask(rt, text))
    # Before the coverage (1 Oct) there is no figure, so nothing is said to be rebuilt.
    none = blocks_text(ask(rt, "bail --as-of 2026-09-15"))
    assert "No bail data before 1 Oct 2026" in none and "rebuilt" not in none


def test_times_are_shown_in_the_forces_timezone(rt: Runtime) -> None:
    force = rt.config.force("suffolk")
    assert fmt_time(dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC), force) == "1 Jul 2026 13:00 BST"
    assert fmt_time(dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC), force) == "1 Dec 2026 12:00 GMT"


def test_status_shows_each_dataset(rt: Runtime) -> None:
    seed(rt.sessions, n=5)
    r = ask(rt, "status")
    body = blocks_text(r)
    for label in ("Wanted circulations", "Outstanding suspects", "Pre-charge bail and RUI"):
        assert f"*{label}*: data as of 22 Nov 2026 (1 day old), imported 22 Nov 2026 15:30 GMT" in body
    # No action log imported or added for Suffolk: none kept, and nothing overdue about it.
    assert "*Action log*: none kept for Suffolk Constabulary — `/mo action add` starts one" in body
    assert "never imported" not in body


def test_help_answer_is_generated(rt: Runtime) -> None:
    overview = blocks_text(ask(rt, ""))
    for name in ("wanted", "suspects", "bail", "rui", "status"):
        assert f"`/mo {name}" in overview
    bail = blocks_text(ask(rt, "bail --help"))
    for flag in ("--district", "--expiring", "--list", "--share", "--help"):
        assert f"`{flag}" in bail
    assert "&lt;" not in bail or "`" in bail


# --- unexpected errors ---------------------------------------------------------------------------------------------
def test_unexpected_error_shows_a_reference_in_log_and_audit(rt: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    reg = build_registry(figures.register_commands)

    def broken(ctx, args):  # type: ignore[no-untyped-def]
        ctx.session.add(ImportBatch(force="suffolk", dataset="wanted", file_name="x", file_sha256="0", as_of=AS_OF))
        ctx.session.flush()
        raise RuntimeError("database exploded")

    reg.add(CommandSpec(name="boom", summary="fails", handler=broken))
    with caplog.at_level(logging.ERROR, logger="mo_bot.pipeline"):
        r = ask(rt, "boom", registry=reg)
    assert r.outcome == "error" and r.reference and re.fullmatch(r"E-[0-9A-F]{6}", r.reference)
    assert r.reference in blocks_text(r)
    assert "exploded" not in blocks_text(r) and "Traceback" not in blocks_text(r)
    assert any(r.reference in rec.getMessage() and rec.exc_info for rec in caplog.records)
    with rt.sessions() as s:
        ev = s.scalars(select(AuditEvent)).one()
        assert (ev.outcome, ev.reference, ev.detail) == ("error", r.reference, "boom")
        assert s.scalars(select(ImportBatch)).all() == []  # the handler's work was rolled back


def test_cached_answers_follow_imports_and_the_clock(rt: Runtime) -> None:
    seed(rt.sessions, n=50, forces=("suffolk",))
    first = blocks_text(ask(rt, "wanted"))
    assert blocks_text(ask(rt, "wanted")) == first  # the same answer until something changes
    with rt.sessions() as s:
        before = wanted_figures(s, rt.config.force("suffolk"), AS_OF).open
    with rt.sessions() as s, s.begin():
        batch = ImportBatch(
            force="suffolk",
            dataset="wanted",
            file_name="n.csv",
            file_sha256="1" * 64,
            as_of=AS_OF,
            imported_at=rt.clock.now(),  # the injected clock's "now", not the machine's
        )
        s.add(batch)
        s.flush()
        announce_imports(s, [ImportedBatch("suffolk", "wanted", batch.id)])  # as the import service does
        for i in range(3):
            s.add(
                WantedCirculation(
                    force="suffolk",
                    reference=f"NEW{i}",
                    offence="theft",
                    district="lowestoft",
                    reason="bail_breach",
                    circulated_on=AS_OF,
                    status="open",
                )
            )
    after = blocks_text(ask(rt, "wanted"))
    assert f"*{fmt_int(before)}* open" in first and f"*{fmt_int(before + 3)}* open" in after
    assert "stale" not in after
    rt.clock.advance(dt.timedelta(days=8))
    assert ":warning: *stale*" in blocks_text(ask(rt, "wanted --as-of 2026-11-23"))


def test_ending_soon_is_counted_in_full_beyond_the_figures_cap(rt: Runtime) -> None:
    seed(rt.sessions, n=600, forces=("suffolk",))
    force = rt.config.force("suffolk")
    with rt.sessions() as s:
        full = bail_figures(s, force, AS_OF, Filters(), ending_within_days=30, ending_soon_cap=10**6)
        capped = bail_figures(s, force, AS_OF, Filters(), ending_within_days=30, ending_soon_cap=5)
        soon = bail_ending_soon(s, force, AS_OF, Filters(), 30)
    assert len(capped.bail_ending_soon) == 5 < capped.bail_ending_soon_total == soon.total == len(full.bail_ending_soon)
    assert soon.within_7_days == sum(1 for e in full.bail_ending_soon if e.days_left <= 7)
    for authority, n in soon.by_authority.items():
        assert n == sum(1 for e in full.bail_ending_soon if e.next_authority == authority)
    body = blocks_text(ask(rt, "bail --expiring 30d"))
    assert f"{fmt_int(soon.total)} on bail ending within 30 days — {soon.within_7_days} within 7 days" in body
    # A window of a week or less: no "— n within 7 days" repeating the total.
    with rt.sessions() as s:
        week = bail_ending_soon(s, force, AS_OF, Filters(), 7)
    assert week.total > 0
    body = blocks_text(ask(rt, "bail --expiring 7d"))
    assert f"{fmt_int(week.total)} on bail ending within 7 days. The next extension needs:" in body
    assert "within 7 days —" not in body and "— " + f"{week.within_7_days} within 7 days" not in body


def test_unknown_offence_group_gets_did_you_mean(rt: Runtime) -> None:
    seed(rt.sessions, n=60, forces=("suffolk",))
    r = ask(rt, "wanted --offence burgalry")
    assert r.outcome == "invalid"
    body = blocks_text(r)
    assert "did you mean `burglary`?" in body and "criminal damage" in body
    assert "`/mo wanted --help`" in body
    assert ask(rt, "bail --offence BURGLARY").outcome == "ok"  # groups match case-insensitively
    hostile = ask(rt, "rui --list --offence &lt;!channel&gt;", user=ANALYST)
    assert hostile.outcome == "invalid" and "&lt;!channel&gt;" in blocks_text(hostile)
    assert_no_mention(hostile)


_labels = st.text(alphabet=st.sampled_from([*"ab <>&!@#*_`~:|\n", "é", "—"]), min_size=1, max_size=300)


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(_labels, st.integers(0, 10**7), max_size=300),
    st.dictionaries(_labels, st.integers(0, 10**7), max_size=300),
    st.lists(_labels, max_size=3),
)
def test_any_figures_render_within_limits_and_escaped(
    offences: dict[str, int], districts: dict[str, int], filters: list[str]
) -> None:
    force = load_config().force("suffolk")
    fig = WantedFigures(
        force="suffolk",
        district=None,
        as_of=AS_OF,
        data_as_of=None,
        open=sum(offences.values()),
        by_district=districts,
        by_age_band=dict.fromkeys(AGE_BAND_LABELS, 1),
        by_reason=dict.fromkeys(REASON_LABELS, 2),
        by_offence=offences,
        review_overdue=1,
        opened_in_month=0,
        closed_in_month=0,
        open_a_month_ago=0,
    )
    text, blocks = render_wanted(fig, Frame(force, None, AS_OF, None, filters), dt.date(2026, 10, 23), 28)
    reply = Reply(text=text, blocks=blocks)
    assert_within_limits(reply)
    assert_no_mention(reply)


def test_the_terminal_summary_points_to_charts_only_for_a_month_that_has_them(rt: Runtime) -> None:
    seed(rt.sessions, n=50)  # the seeded exports hold every case open since 23 Nov 2024
    covered = blocks_text(ask(rt, "summary --month 2026-10"))
    assert "Monthly summary — October 2026" in covered
    assert "Charts: mo-bot summary --month 2026-10 --out DIR" in covered
    before = blocks_text(ask(rt, "summary --month 2024-06"))
    assert "No data for June 2024: the imported data is complete only from 23 Nov 2024." in before
    assert "Charts:" not in before


def test_a_summary_of_a_month_not_over_is_refused_with_the_last_complete_one(rt: Runtime) -> None:
    """On 23 Nov the November summary's "in the month" counts and its charts' last bar would cover 23 days and stand
    beside whole months as one."""
    seed(rt.sessions, n=50)
    today = rt.clock.now().date()
    assert today == dt.date(2026, 11, 23)
    current = blocks_text(ask(rt, "summary --month 2026-11"))
    assert "`--month 2026-11`: November 2026 is not over yet (today is 23 Nov 2026)" in current
    assert "so it can be made from 1 Dec 2026; the last complete month is October 2026" in current
    assert "pick a month that has ended, e.g. `--month 2026-10`" in current
    future = blocks_text(ask(rt, "summary --month 2027-01"))
    assert "January 2027 has not started yet; the last complete month is October 2026" in future
    assert "Monthly summary" in blocks_text(ask(rt, "summary"))  # the default: the last complete month


def test_bail_at_a_date_before_the_first_export_gives_no_lapsed_or_ending_soon_figure(rt: Runtime) -> None:
    """Its end dates are the first export's, after every extension granted since: a lapse or an end date near that
    day and extended later is not seen. The answer gave an alarm and "No bail ends within the next 14 days" where the
    summary gives no figure; now neither does."""
    seed(rt.sessions, n=50)  # one export as of 22 Nov 2026, holding every case open since 23 Nov 2024
    past = blocks_text(ask(rt, "bail --as-of 2026-10-31"))
    assert (
        "Lapsed bail and bail ending soon on 31 Oct 2026: no figure — bail end dates are known only from the first "
        "bail export, as of 22 Nov 2026, after the extensions granted since, so a count would be too low."
    ) in past
    assert ":rotating_light:" not in past and "lapsed bail" not in past and "ends within" not in past
    assert "ending within" not in past
    today = blocks_text(ask(rt, "bail"))
    assert "no figure" not in today and "ending within" in today
    assert "no figure" not in blocks_text(ask(rt, "rui --as-of 2026-10-31"))
    # The case list names each case with its end date, which is the later one: it says so.
    listed = blocks_text(ask(rt, "bail --list --as-of 2026-10-31", user=ANALYST))
    assert "Bail end dates are as the first bail export, as of 22 Nov 2026, gives them — after the extensions" in listed
    assert "first bail export" not in blocks_text(ask(rt, "bail --list", user=ANALYST))
