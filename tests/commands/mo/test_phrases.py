"""Questions in people's own words read as the `/mo` command they mean (commands/mo/phrases.py): a table of real
phrasings, refusals with the closest commands, a property test that every generated command's phrasings parse to
that command, and the answer through the pipeline (same figures, the command shown, audited)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.access import Requester, identify
from bot.config import load_config
from bot.models import AuditEvent
from bot.runtime import Runtime
from commands.mo.catalog import default_registry
from commands.mo.parser import parse
from commands.mo.phrases import NotUnderstood, Phrased, understand
from commands.mo.pipeline import answer
from commands.mo.reply import Reply
from commands.mo.values import ParseContext
from tests.support.seed import ALLOWED, SUFFOLK_TEAM, VIEWER, blocks_text, seed, slack_config

SUFFOLK = load_config().force("suffolk")
REG = default_registry()

# Phrasings people type, and the command each means.
REAL_PHRASINGS = [
    ("how many wanted in ipswich", "wanted --district ipswich"),
    ("wanted ipswich", "wanted --district ipswich"),
    ("rui over 12 months in lowestoft", "rui --district lowestoft --older-than 12m"),
    ("bail ending this week", "bail --expiring 7d"),
    ("suspects for burglary older than 3 months", "suspects --offence burglary --older-than 3m"),
    ("who's on bail in bury", "bail --district bury-st-edmunds"),
    ("Who\u2019s on bail in Bury St Edmunds?", "bail --district bury-st-edmunds"),
    ("how many people are wanted in lowestoft", "wanted --district lowestoft"),
    ("wanted never arrested over 90 days", "wanted --reason never-arrested --older-than 90d"),
    ("wanted for failing to answer bail in east", "wanted --district lowestoft --reason ftab"),
    ("suspects for criminal damage in lowestoft", "suspects --district lowestoft --offence criminal damage"),
    ("bail ending in the next 14 days in south", "bail --district ipswich --expiring 14d"),
    ("bail expiring within 2 weeks", "bail --expiring 2w"),
    ("how many released under investigation in ipswich", "rui --district ipswich"),
    ("rui longer than 2 years", "rui --older-than 24m"),
    ("outstanding suspects older than six months in bse", "suspects --district bury-st-edmunds --older-than 6m"),
    ("wanted for 3 months", "wanted --older-than 3m"),
    ("is the data up to date", "status"),
    ("when was the last import", "status"),
    ("show me pre-charge bail in bury", "bail --district bury-st-edmunds"),
    ("wanted trend in ipswich", "wanted --district ipswich --trend"),
    ("rui month by month", "rui --trend"),
    ("how has bail in lowestoft changed over the last year", None),  # "changed" is not a word it knows
    ("bail in lowestoft over the last year", "bail --district lowestoft --trend"),
    ("suspects for burglary over time", "suspects --offence burglary --trend"),
    ("rui over 12 months trend", None),  # an age is one day's: a trend cannot keep it
    ("how many wanted in ipswich on 30 Nov 2026", "wanted --district ipswich --as-of 2026-11-30"),
    ("wanted in ipswich as of 30/11/2026", "wanted --district ipswich --as-of 2026-11-30"),
    ("rui over 12 months on 2026-10-31", "rui --older-than 12m --as-of 2026-10-31"),
    ("suspects on 31st October 2026", "suspects --as-of 2026-10-31"),
    ("bail in lowestoft month by month as of 1 sept 2026", "bail --district lowestoft --trend --as-of 2026-09-01"),
    ("how many wanted at the end of october 2026", "wanted --as-of 2026-10-31"),  # the month's last day
    ("rui in lowestoft at end of feb 2024", "rui --district lowestoft --as-of 2024-02-29"),
    ("suspects in bury as of 30.11.2026", "suspects --district bury-st-edmunds --as-of 2026-11-30"),
    ("wanted on 31.02.2026", None),  # no such day
    ("wanted at the end of october", None),  # which year would be a guess
    ("wanted on 30 nov", None),  # which year would be a guess
    ("wanted on 31 feb 2026", None),  # no such day
    ("status on 30 nov 2026", None),  # status is today's
]


@pytest.mark.parametrize(("phrase", "command"), REAL_PHRASINGS)
def test_real_phrasings(phrase: str, command: str | None) -> None:
    if command is None:
        assert isinstance(understand(phrase, SUFFOLK, REG), NotUnderstood)
        return
    assert understand(phrase, SUFFOLK, REG) == Phrased(command)
    parse(command, REG, ParseContext(force=SUFFOLK))  # and the command is one the parser takes


@pytest.mark.parametrize(
    ("phrase", "word", "suggestions"),
    [
        ("how many wantd in ipswich", "wantd", ("wanted --district ipswich",)),
        ("how many suspcts in lowestoft", "suspcts", ("suspects --district lowestoft",)),
        ("what's the weather", "weather", ()),
        ("wanted and suspects in ipswich", "and", ("wanted", "suspects")),
        ("how many in ipswich", None, ()),  # no figure named: never guessed
        ("wanted in norwich", "norwich", ("wanted",)),  # another force's district is not the asker's
        ("status in ipswich", None, ("status",)),  # status has no districts
        ("wanted \u2014\u2014\u2014", "\u2014\u2014\u2014", ("wanted",)),  # what it does not know is never skipped
        ("wanted in ipswich " + "for x " * 40, None, ()),  # longer than a question: not read as one
    ],
)
def test_phrases_not_understood_name_the_word_and_the_closest_commands(
    phrase: str, word: str | None, suggestions: tuple[str, ...]
) -> None:
    assert understand(phrase, SUFFOLK, REG) == NotUnderstood(word, suggestions)


# ------------------------------------------------------------------------------------------------ property
DISTRICT_NAMES = [(n, d.slug) for d in SUFFOLK.districts for n in (d.slug.replace("-", " "), d.label, *d.aliases)]
OFFENCES = ["burglary", "theft", "criminal damage", "violence against the person", "drugs"]
UNITS = {"d": ["days", "d", "day"], "w": ["weeks", "w", "week"], "m": ["months", "m", "month"]}
REASONS = {"never-arrested": "never arrested", "ftab": "failed to answer bail", "breach": "breach of bail"}
EXPIRING = {"7d": "this week", "14d": "next week", "1m": "this month"}


@st.composite
def commands_and_phrasings(draw: st.DrawFn) -> tuple[str, list[str]]:
    command = draw(st.sampled_from(["wanted", "suspects", "bail", "rui"]))
    district = draw(st.none() | st.sampled_from(DISTRICT_NAMES))
    offence = draw(st.none() | st.sampled_from(OFFENCES))
    reason = draw(st.none() | st.sampled_from(sorted(REASONS))) if command == "wanted" else None
    older = draw(st.none() | st.tuples(st.integers(1, 120), st.sampled_from("dwm")))
    expiring = draw(st.none() | st.sampled_from(sorted(EXPIRING))) if command == "bail" else None
    parts = [command]
    if district:
        parts += ["--district", district[1]]
    if offence:
        parts += ["--offence", offence]
    if reason:
        parts += ["--reason", reason]
    if older:
        parts += ["--older-than", f"{older[0]}{older[1]}"]
    if expiring:
        parts += ["--expiring", expiring]
    name = {"suspects": draw(st.sampled_from(["suspects", "outstanding suspects", "suspect"]))}.get(command, command)
    if command == "rui":
        name = draw(st.sampled_from(["rui", "released under investigation", "RUI"]))
    pieces: dict[str, str] = {"name": name}
    if district:
        pieces["district"] = "in " + draw(st.sampled_from([district[0], district[0].upper(), district[0].title()]))
    if offence:
        pieces["offence"] = "for " + offence
    if reason:
        pieces["reason"] = REASONS[reason]
    if older:
        unit = draw(st.sampled_from(UNITS[older[1]]))
        lead = draw(st.sampled_from(["over", "older than", "more than", "longer than", "at least"]))
        sep = "" if len(unit) == 1 else " "
        pieces["older"] = f"{lead} {older[0]}{sep}{unit}"
    if expiring:
        pieces["expiring"] = "ending " + EXPIRING[expiring]
    lead_in = draw(st.sampled_from(["", "how many", "how many are", "show me", "who's on", "what about"]))
    orders = [
        ["name", "district", "offence", "reason", "older", "expiring"],
        ["name", "older", "expiring", "reason", "offence", "district"],
        ["name", "reason", "district", "expiring", "older", "offence"],
    ]
    phrasings = []
    for order in orders:
        words = [lead_in] + [pieces[k] for k in order if k in pieces]
        phrasings.append(" ".join(w for w in words if w) + draw(st.sampled_from(["", "?", " please"])))
    return " ".join(parts), phrasings


@settings(max_examples=300, deadline=None)
@given(commands_and_phrasings())
def test_every_generated_commands_phrasings_parse_to_that_command(case: tuple[str, list[str]]) -> None:
    command, phrasings = case
    ctx = ParseContext(force=SUFFOLK)
    expected = parse(command, REG, ctx)
    for phrase in phrasings:
        found = understand(phrase, SUFFOLK, REG)
        assert isinstance(found, Phrased), (phrase, found)
        got = parse(found.command, REG, ctx)
        assert (got.command, got.values) == (expected.command, expected.values), (phrase, found.command)


# ------------------------------------------------------------------------------------------------ the pipeline
@pytest.fixture
def rt(tmp_path: Any, db_url: str, engine: Any, clock: Any, sessions: Any) -> Runtime:
    seed(sessions)
    return Runtime.create(slack_config(tmp_path, db_url), clock=clock, engine=engine)


def ask(rt: Runtime, text: str) -> Reply:
    who = Requester(user_id=VIEWER, team_id=SUFFOLK_TEAM, channel_id=ALLOWED)
    return answer(rt, identify(rt.config, who), text)


def test_a_phrase_is_answered_as_its_command_and_shows_it(rt: Runtime) -> None:
    short = ask(rt, "rui --district lowestoft --older-than 12m")
    phrased = ask(rt, "rui over 12 months in lowestoft")
    assert phrased.outcome == "ok"
    assert blocks_text(phrased) == blocks_text(short) + "\nas `/mo rui --district lowestoft --older-than 12m`"
    with rt.sessions() as s:
        details = list(s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "command")))
    assert details[-1] == "rui over 12 months in lowestoft (as rui --district lowestoft --older-than 12m)"


def test_an_unknown_phrase_gets_did_you_mean(rt: Runtime) -> None:
    reply = ask(rt, "how many wantd in ipswich")
    assert reply.outcome == "invalid"
    shown = blocks_text(reply)
    assert "`how` is not a `/mo` sub-command" in shown
    assert "did you mean `/mo wanted --district ipswich`?" in shown


def test_a_refusal_does_not_offer_the_command_just_typed(rt: Runtime) -> None:
    """ "/mo wanted arrested": the words give no other question, so the refusal says what the word is (a closing
    outcome the answer already shows) rather than "did you mean `/mo wanted`?" to someone who typed it; a
    mistyped sub-command is offered once, not twice."""
    shown = blocks_text(ask(rt, "wanted arrested"))
    assert "did you mean `/mo wanted`?" not in shown and "closures by outcome" in shown
    typo = blocks_text(ask(rt, "wantd"))
    assert typo.count("did you mean") == 1 and "`wanted`" in typo


def test_a_date_without_its_year_is_named_not_guessed(rt: Runtime, clock: Any) -> None:
    """ "on 30 nov" could be any year's: the refusal says the year is missing and shows the date whole, with the year
    of its latest day up to today as the example; the same date with its year is answered."""
    clock.set(dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC))
    reply = ask(rt, "how many wanted in ipswich on 30 nov")
    assert reply.outcome == "invalid"
    shown = blocks_text(reply)
    assert "`30 Nov` is a date without its year" in shown and "e.g. `on 30 Nov 2026`" in shown
    assert "e.g. `on 25 Dec 2025`" in blocks_text(ask(rt, "wanted on 25th December"))  # not yet this year
    assert "e.g. `on 29 Feb 2024`" in blocks_text(ask(rt, "wanted on 29 feb"))  # the latest year that had one
    assert understand("wanted on 31 feb", SUFFOLK, REG) == NotUnderstood("31", ("wanted",))  # no such day at all
    whole = ask(rt, "how many wanted in ipswich on 30 nov 2026")
    assert whole.outcome == "ok" and "as `/mo wanted --district ipswich --as-of 2026-11-30`" in blocks_text(whole)
