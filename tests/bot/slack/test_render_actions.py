"""An action's history as the card shows it: an owner change names each owner — initials as the log writes them,
a Slack user as a mention — never a whole owner list wrapped in one mention ("<@JM & JG>")."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.action_log.types import HistoryEntry
from bot.slack.render_actions import history_line

AT = dt.datetime(2026, 12, 7, 22, 25, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("old", "new", "shown"),
    [
        ("HH", "JM", "owner HH → JM"),
        ("JM & JG", "JM", "owner JM & JG → JM"),
        ("JM", "JM & U0JG", "owner JM → JM & <@U0JG>"),  # a Slack user the force maps to no initials
        ("U0VIEW", None, "owner <@U0VIEW> → —"),
        ("<!channel>", "JM", "owner &lt;!channel&gt; → JM"),  # whatever was stored, escaped
        ("JM", "WB & UK", "owner JM → WB & UK"),  # initials that start as Slack IDs do are not mentions
        ("JM", "U012AB3CD", "owner JM → <@U012AB3CD>"),
    ],
)
def test_an_owner_change_names_each_owner(old: str, new: str | None, shown: str) -> None:
    line = history_line(HistoryEntry("owner", old, new, "U0CHAIR", AT, None, 2), dt.UTC)
    assert line == f"• 7 Dec 2026 22:25 <@U0CHAIR>: {shown}"


def test_a_change_recorded_later_than_it_happened_says_when_it_took_effect() -> None:
    """`--on 2026-10-15`: the history said only the day it was typed."""
    h = HistoryEntry("due_on", None, "2026-11-01", "U0CHAIR", AT, None, 2, dt.date(2026, 10, 15))
    assert history_line(h, dt.UTC) == "• 7 Dec 2026 22:25 <@U0CHAIR>: due date — → 2026-11-01 (as of 15 Oct 2026)"
    same_day = HistoryEntry("status", "open", "ongoing", "U0CHAIR", AT, None, 3, AT.date())
    assert "(as of" not in history_line(same_day, dt.UTC)


def test_a_title_change_shows_both_titles() -> None:
    h = HistoryEntry("title", "Review <!channel> cases", "Review IOM cases", "U0CHAIR", AT, None, 2)
    assert history_line(h, dt.UTC) == (
        "• 7 Dec 2026 22:25 <@U0CHAIR>: title “Review &lt;!channel&gt; cases” → “Review IOM cases”"
    )


def test_the_logs_own_note_shows_on_the_card_once() -> None:
    """A-27's cancellation reason came with the log and is in no history row: the card never showed it."""
    from bot.action_log.types import ActionView
    from bot.slack.render_actions import render_action_card

    a = ActionView(
        id=27, force="suffolk", reference="A-27", pillar="detect", title="Preventative orders tool kits",
        detail=None, owner_user_id=None, owner_initials="HH", status="cancelled", due_on=None, completed_on=None,
        source=None, notes="Duplicate of A-5: <!channel> listed twice", created_by="cli:analyst", created_at=AT,
        updated_at=AT, version=1, today=AT.date(),
    )  # fmt: skip
    _text, blocks = render_action_card(a, ())
    shown = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    assert "Note: Duplicate of A-5: &lt;!channel&gt; listed twice" in shown
    noted = HistoryEntry("note", None, None, "U0CHAIR", AT, a.notes, 2)
    _text, blocks = render_action_card(a, (noted,))
    assert not any(e["text"].startswith("Note:") for b in blocks if b["type"] == "context" for e in b["elements"])
