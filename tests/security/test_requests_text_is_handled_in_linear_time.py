"""`/mo` text costs time in proportion to its length, and text longer than Slack can send is refused unread.

The attacks (signed `/mo` requests, as a member of the workspace can send them):

- 40,000 em dashes: the dash normaliser's pattern backtracked over the whole run from every start, 13.3 s.
- a megabyte of text: shlex builds each word a character at a time, 11.7 s.
- thousands of unclosed mentions (``<@U1|<@U1|…``): each one's label pattern ran to the end of the text.

The promises: every step before the answer (the text check, normalising, splitting, parsing) is linear in the
length, so the longest text Slack can send (40,000 characters, ``commands.mo.parser.MAX_TEXT``) is answered well
inside Slack's 3-second ack; longer text is refused at once with a message that says why, changes nothing and is
audited (the audit keeps the first 1,000 characters, as for any question).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import pytest

from commands.mo.parser import MAX_TEXT, normalise, tokenize
from tests.security import slack_edge
from tests.security.slack_edge import Edge
from tests.support import fakeslack
from tests.support.slackutil import blocks_text

fake_slack = fakeslack.fake_slack
edge = slack_edge.edge

ATTACKS: dict[str, Callable[[int], str]] = {
    "em-dashes": lambda n: "\u2014" * n,
    "spaced-dashes": lambda n: ("\u2014 " * n)[:n],
    "dashes-then-hyphens": lambda n: "\u2014" + "-" * (n - 1),
    "one-long-word": lambda n: "a" * n,
    "unclosed-mentions": lambda n: ("<@U1|" * n)[:n],
    "unclosed-channels": lambda n: ("<#C1|" * n)[:n],
    "unclosed-links": lambda n: ("<https://x|" * n)[:n],
    "bare-links": lambda n: ("<https://x" * n)[:n],
    "apostrophes": lambda n: ("a'" * n)[:n],
    "quotes": lambda n: ('"a" ' * n)[:n],
}


def _cost(text: str) -> float:
    """Seconds to normalise and split ``text``, best of five; each run a new text (a number appended), so no cache
    of earlier answers can hide the cost."""
    best = float("inf")
    for i in range(5):
        fresh = f"{text} {i}"
        t0 = time.perf_counter()
        # An unclosed quote is refused; what it cost to find out is what is measured.
        with contextlib.suppress(ValueError):
            tokenize(normalise(fresh))
        best = min(best, time.perf_counter() - t0)
    return best


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_normalising_and_splitting_grow_linearly(attack: str) -> None:
    small, large = _cost(ATTACKS[attack](2_500)), _cost(ATTACKS[attack](40_000))
    # Sixteen times the text: about sixteen times the time when linear, 256 when quadratic. Generous for a machine
    # shared with other work (the floor keeps timer noise on the small text from deciding).
    assert large < max(small, 2e-4) * 64, f"{attack}: {small * 1000:.2f} ms -> {large * 1000:.2f} ms"
    assert large < 0.25, f"{attack}: {large:.2f} s for 40,000 characters"


@pytest.mark.parametrize("attack", ["em-dashes", "unclosed-mentions", "one-long-word"])
def test_the_longest_text_slack_can_send_is_answered_inside_a_second(edge: Edge, attack: str) -> None:
    text = ("wanted " + ATTACKS[attack](MAX_TEXT))[:MAX_TEXT]
    r, _ = edge.command(text)
    assert r.status == 200
    assert r.seconds < 1.0, f"{r.seconds:.2f} s"
    shown = blocks_text(r.json()["blocks"])
    assert "Nothing was changed" in shown and "Working on it" not in r.text
    (event,) = edge.audit()
    assert event.outcome == "invalid" and len(event.detail) <= 1000


def test_text_longer_than_slack_can_send_is_refused_at_once(edge: Edge) -> None:
    before = edge.actions()
    # Just over the limit, and a megabyte (the most a request's body may carry, commands.web.MAX_BODY).
    for filler in ("\u2014" * (MAX_TEXT + 1), "a" * 1_000_000):
        text = f'action add "{filler}" --owner me'  # would be deferred, and would add an action
        r, response_url = edge.command(text, timeout=5)
        assert r.status == 200, r
        assert r.seconds < 1.0, f"{len(text):,} characters: {r.seconds:.2f} s"
        shown = blocks_text(r.json()["blocks"])
        assert f"a `/mo` question can be at most {MAX_TEXT:,}" in shown
        assert "Nothing was changed" in shown
        assert edge.fake.posts_to(response_url) == []  # answered in the ack, nothing deferred
    assert edge.actions() == before
    events = edge.audit()
    assert [(e.outcome, e.detail[:12], len(e.detail)) for e in events] == [("invalid", 'action add "', 1000)] * 2
    assert all(e.detail.endswith("…") for e in events)
