"""A control character typed into a form is refused like one typed after `/mo`: the `/mo` text check never sees a
modal's fields, so the action log's own rules refuse a NUL, an ESC or any other control in a title, detail, source or
note — answered next to the field, nothing stored, and (on PostgreSQL, which cannot store a NUL) no failed statement
and no lost audit row. Through signed ``view_submission`` requests into the Bolt app, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.models import Action, AuditEvent
from tests.e2e import test_action_log_in_slack as e2e
from tests.e2e.test_action_log_in_slack import Bot

bot = e2e.bot  # the fixtures: the action log's Bolt app around the fake Slack
fake_slack = e2e.fake_slack

FIELDS = [("title", "Secure\x00 RUI data", "U+0000 (NUL)"), ("detail", "see \x1b[2J", "U+001B (ESC)"),
          ("source", "HMIC\x7f", "U+007F (DEL)")]  # fmt: skip


@pytest.mark.parametrize(("field", "value", "named"), FIELDS)
def test_a_control_character_in_the_add_form_is_refused_next_to_its_field(
    bot: Bot, field: str, value: str, named: str
) -> None:
    bot.command("action add")
    view = bot.last_view()
    values = {"title": "Secure RUI data", "pillar": "deliver", field: value}
    resp = bot.submit(view, values)
    assert resp["response_action"] == "errors"
    assert named in resp["errors"][field] and "control character" in resp["errors"][field]
    with bot.rt.sessions() as s:
        assert s.scalars(select(Action)).all() == []
    # The same form, retyped, is accepted: nothing was half-written.
    resp = bot.submit(view, {**values, field: "plain text"})
    assert resp.get("response_action") is None
    assert bot.action("A-1").title == ("plain text" if field == "title" else "Secure RUI data")


def test_a_control_character_in_a_note_changes_nothing_and_is_audited_safely(bot: Bot) -> None:
    ref = bot.create()
    bot.click(f"note|suffolk|{ref}|1")
    view = bot.last_view()
    resp = bot.submit(view, {"note": "called\x00 the OIC"})
    assert resp["response_action"] == "errors" and "U+0000 (NUL)" in resp["errors"]["note"]
    assert bot.action(ref).version == 1 and len(bot.history(ref)) == 1
    with bot.rt.sessions() as s:
        details = [e.detail for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert not any("\x00" in d for d in details)
    resp = bot.submit(view, {"note": "called the OIC"})
    assert resp.get("response_action") is None
    assert bot.history(ref)[-1].note == "called the OIC"
