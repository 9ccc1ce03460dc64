"""`/mo` text carrying a NUL or another control character is refused at the edge, clearly, changing nothing — and
the refusal is audited in a form every database stores.

The attack: ``text=wanted --as-of %00`` (a signed slash command). PostgreSQL refuses a NUL in any text value, so
the request's audit row failed; audit rows of concurrent answers are committed in shared batches, and 11.7 % of
legitimate answers sent at the same time got "Sorry, something went wrong" and had no audit row.

The promises: text with a control character (NUL, ESC, DEL, C1, an unpaired surrogate — not tab or newline, which
are folded into spaces) is answered in the ack with a message naming the character and its position; nothing is
deferred, parsed or changed; one audit row records the refusal with the character written by name
(``<U+0000 (NUL)>``); and answers to others asked at the same moment are untouched. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.security import slack_edge
from tests.security.slack_edge import ANALYST, VIEWER, Edge
from tests.support import fakeslack
from tests.support.slackutil import blocks_text

fake_slack = fakeslack.fake_slack
edge = slack_edge.edge


@pytest.mark.parametrize(
    ("text", "named", "position", "audited"),
    [
        ("wanted --as-of \x00", "U+0000 (NUL)", 16, "wanted --as-of <U+0000 (NUL)>"),
        ("wanted\x00--district ipswich", "U+0000 (NUL)", 7, "wanted<U+0000 (NUL)>--district ipswich"),
        ("wanted --list \x1b[31m", "U+001B (ESC)", 15, "wanted --list <U+001B (ESC)>[31m"),
        ("bail\x7f", "U+007F (DEL)", 5, "bail<U+007F (DEL)>"),
        ("rui \x9b", "U+009B (control character)", 5, "rui <U+009B (control character)>"),
    ],
)
def test_a_control_character_is_refused_by_name_and_audited_safely(
    edge: Edge, text: str, named: str, position: int, audited: str
) -> None:
    r, response_url = edge.command(text)
    assert r.status == 200
    body = r.json()
    shown = blocks_text(body["blocks"])
    assert f"control character, {named} at position {position}" in shown
    assert "Nothing was changed" in shown and "retype the question" in shown
    assert "\x00" not in r.text and "\x1b" not in r.text and body["response_type"] == "ephemeral"
    assert edge.fake.posts_to(response_url) == [] and edge.fake.calls == []  # in the ack; nothing deferred
    (event,) = edge.audit()
    assert (event.actor, event.action, event.outcome, event.detail) == (ANALYST, "command", "invalid", audited)


def test_a_nul_in_a_change_changes_nothing(edge: Edge) -> None:
    before = edge.actions()
    for text in (
        'action add "Deep dive\x00" --pillar divert --owner me --due 2026-12-31',  # deferred, were it read
        "action A-1 --note \x00 --status complete",
    ):
        r, response_url = edge.command(text)
        assert r.status == 200 and "U+0000 (NUL)" in blocks_text(r.json()["blocks"])
        assert edge.fake.posts_to(response_url) == []
    assert edge.actions() == before
    assert [(e.outcome, "\x00" in e.detail) for e in edge.audit()] == [("invalid", False)] * 2


def test_a_nul_sender_does_not_fail_anyone_elses_answer(edge: Edge) -> None:
    # Answers with no database work of their own commit their audit rows together; one unstorable row used to fail
    # the batch. Honest questions interleaved with NULs, concurrently, all answered and all audited.
    texts = ["help" if i % 3 else "wanted --as-of \x00" for i in range(60)]
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda t: edge.command(t, user=VIEWER)[0], texts))
    assert all(r.status == 200 for r in replies)
    answers = [blocks_text(r.json()["blocks"]) for r in replies]
    assert all("/mo wanted" in a for a, t in zip(answers, texts, strict=True) if t == "help")
    assert all("U+0000 (NUL)" in a for a, t in zip(answers, texts, strict=True) if t != "help")
    assert not any("something went wrong" in a for a in answers)
    outcomes = sorted((e.detail, e.outcome) for e in edge.audit())
    assert outcomes == sorted(
        ("help", "ok") if t == "help" else ("wanted --as-of <U+0000 (NUL)>", "invalid") for t in texts
    )


def test_tab_and_newline_are_ordinary_whitespace(edge: Edge) -> None:
    r, _ = edge.command("help\twanted\r\n")
    assert r.status == 200
    assert "control character" not in blocks_text(r.json()["blocks"])
    (event,) = edge.audit()
    assert (event.outcome, event.detail) == ("ok", "help wanted")
