"""Contract tests: every payload kind the fake Slack sends (tests/support/payloads.py) has only fields that Slack's
own recorded samples have, and the fields those samples always carry.

The field lists below are written down from public samples (not copied): slackapi/java-slack-sdk
``json-logs/samples/`` — the SDK's merged record of every field Slack was seen to send for that payload — and, where
a field is missing there, slackapi/bolt-python ``tests/scenario_tests/``. Each list names its file."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import fakeslack, payloads
from tests.support.fakeslack import FakeSlack

fake_slack = fakeslack.fake_slack

# java-slack-sdk json-logs/samples/app-backend/slash-commands/SlashCommandPayload.json; is_enterprise_install from
# the slash command body in slackapi/bolt-js src/receivers/AwsLambdaReceiver.spec.ts (bolt-python's
# tests/scenario_tests/test_slash_command.py has the same fields less api_app_id and is_enterprise_install).
SLASH_FIELDS = {
    "token", "api_app_id", "team_id", "team_domain", "enterprise_id", "enterprise_name", "channel_id",
    "channel_name", "user_id", "user_name", "command", "text", "response_url", "trigger_id", "is_enterprise_install",
}  # fmt: skip
SLASH_ALWAYS = SLASH_FIELDS - {"enterprise_id", "enterprise_name"}

# java-slack-sdk json-logs/samples/app-backend/interactive-components/BlockActionPayload.json
BLOCK_ACTIONS_FIELDS = {
    "type", "enterprise", "team", "user", "api_app_id", "token", "container", "trigger_id", "channel", "message",
    "response_url", "view", "state", "app_unfurl", "actions", "is_enterprise_install", "bot_access_token",
    "function_data", "interactivity",
}  # fmt: skip
BLOCK_ACTIONS_CONTAINER = {
    "type", "message_ts", "attachment_id", "channel_id", "view_id", "text", "is_ephemeral", "is_app_unfurl",
    "app_unfurl_url", "thread_ts",
}  # fmt: skip
BLOCK_ACTIONS_ACTION = {
    "action_id", "block_id", "text", "value", "type", "style", "action_ts", "placeholder", "confirm", "url",
    "initial_option", "selected_option", "selected_user", "initial_user", "selected_conversation",
    "initial_conversation", "selected_channel", "initial_channel", "min_query_length", "selected_date",
    "initial_date", "selected_time", "initial_time", "rich_text_value",
}  # fmt: skip
USER_FIELDS = {"id", "username", "name", "team_id"}
TEAM_FIELDS = {"id", "domain", "enterprise_id", "enterprise_name"}
CHANNEL_FIELDS = {"id", "name"}

# java-slack-sdk json-logs/samples/app-backend/views/ViewSubmissionPayload.json; response_urls and view.blocks from
# bolt-python tests/scenario_tests/test_view_submission.py (the Java model keeps blocks elsewhere).
VIEW_SUBMISSION_FIELDS = {
    "type", "enterprise", "team", "user", "api_app_id", "token", "trigger_id", "view", "is_enterprise_install",
    "is_cleared", "bot_access_token", "function_data", "interactivity", "response_urls",
}  # fmt: skip
VIEW_FIELDS = {
    "id", "team_id", "type", "title", "submit", "close", "private_metadata", "callback_id", "external_id", "state",
    "hash", "clear_on_close", "notify_on_close", "submit_disabled", "root_view_id", "previous_view_id", "app_id",
    "app_installed_team_id", "bot_id", "blocks",
}  # fmt: skip

# java-slack-sdk json-logs/samples/app-backend/views/ViewClosedPayload.json
VIEW_CLOSED_FIELDS = {
    "type", "enterprise", "team", "user", "api_app_id", "token", "view", "is_enterprise_install", "is_cleared",
    "bot_access_token", "function_data", "interactivity",
}  # fmt: skip

# java-slack-sdk json-logs/samples/app-backend/interactive-components/MessageShortcutPayload.json
SHORTCUT_FIELDS = {
    "type", "callback_id", "trigger_id", "message_ts", "response_url", "message", "enterprise", "team", "user",
    "channel", "token", "action_ts", "is_enterprise_install",
}  # fmt: skip
SHORTCUT_USER = {"id", "name", "team_id"}  # no username here, unlike block_actions' user

# java-slack-sdk json-logs/samples/events/MessagePayload.json (the envelope; AppHomeOpenedPayload.json has the same
# fields less authorizations)
ENVELOPE_FIELDS = {
    "token", "enterprise_id", "team_id", "api_app_id", "type", "authed_users", "authed_teams", "authorizations",
    "is_ext_shared_channel", "event_id", "event_time", "event_context", "event",
}  # fmt: skip
ENVELOPE_ALWAYS = {
    "team_id",
    "api_app_id",
    "type",
    "authorizations",
    "event_id",
    "event_time",
    "event_context",
    "event",
}
AUTHORIZATION_FIELDS = {"enterprise_id", "team_id", "user_id", "is_bot", "is_enterprise_install"}
# java-slack-sdk json-logs/samples/events/AppHomeOpenedPayload.json (event)
APP_HOME_EVENT = {"type", "user", "channel", "tab", "event_ts", "view"}
# java-slack-sdk json-logs/samples/events/MessagePayload.json (event; the fields a user's plain message has)
MESSAGE_EVENT = {
    "client_msg_id", "type", "team", "channel", "user", "bot_id", "bot_profile", "text", "blocks", "attachments",
    "ts", "parent_user_id", "thread_ts", "event_ts", "channel_type", "edited",
}  # fmt: skip


def within(found: dict[str, Any], allowed: set[str], always: set[str] = frozenset(), what: str = "") -> None:  # type: ignore[assignment]
    extra = set(found) - allowed
    missing = set(always) - set(found)
    assert not extra, f"{what}: fields real Slack does not send: {sorted(extra)}"
    assert not missing, f"{what}: fields real Slack always sends are missing: {sorted(missing)}"


def test_slash_command_has_the_fields_of_slacks_sample(fake_slack: FakeSlack) -> None:
    form, url = payloads.slash_command(fake_slack, "wanted", user="U1", channel="C0MOBOT01")
    within(form, SLASH_FIELDS, SLASH_ALWAYS, "slash command")
    assert form["response_url"] == url and all(isinstance(v, str) for v in form.values())  # a form: strings only


@pytest.mark.parametrize("where", ["in_channel", "ephemeral", "modal", "app_home"])
def test_block_actions_have_the_fields_of_slacks_sample(fake_slack: FakeSlack, where: str) -> None:
    action = payloads.overflow_action("mo_act_menu_0", "status:held|suffolk|A-1|1")
    message = {"ts": "1700000000.000100", "text": "x", "blocks": []}
    if where in ("modal", "app_home"):
        view = {"id": "V1", "type": "modal" if where == "modal" else "home", "blocks": [], "hash": "h"}
        body, url = payloads.block_actions(fake_slack, action, user="U1", view=view)
        assert url is None and body["container"] == {"type": "view", "view_id": "V1"}
        assert {"channel", "message", "response_url"}.isdisjoint(body)  # a view is not in a conversation
        within(body["view"], VIEW_FIELDS | {"state"}, {"id", "type"}, "block_actions view")
    else:
        eph = where == "ephemeral"
        body, url = payloads.block_actions(fake_slack, action, user="U1", channel="C1", message=message, ephemeral=eph)
        assert body["response_url"] == url and body["container"]["is_ephemeral"] is eph
        # Slack does not send back a message it showed to one person only.
        assert ("message" in body) is (not eph)
        within(body["channel"], CHANNEL_FIELDS, CHANNEL_FIELDS, "block_actions channel")
    within(body, BLOCK_ACTIONS_FIELDS, {"type", "user", "team", "api_app_id", "container", "actions"}, "block_actions")
    within(body["container"], BLOCK_ACTIONS_CONTAINER, {"type"}, "block_actions container")
    within(body["actions"][0], BLOCK_ACTIONS_ACTION, {"action_id", "block_id", "type", "action_ts"}, "action")
    within(body["user"], USER_FIELDS, {"id", "team_id"}, "user")
    within(body["team"], TEAM_FIELDS, {"id", "domain"}, "team")


def test_view_submission_and_closed_have_the_fields_of_slacks_samples(fake_slack: FakeSlack) -> None:
    view = {"id": "V9", "type": "modal", "callback_id": "mo_add", "blocks": [], "hash": "h"}
    sub = payloads.view_submission(
        fake_slack, view, {"title": {"title": {"type": "plain_text_input", "value": "x"}}}, user="U1"
    )
    within(sub, VIEW_SUBMISSION_FIELDS, {"type", "team", "user", "api_app_id", "trigger_id", "view"}, "view_submission")
    within(sub["view"], VIEW_FIELDS, {"id", "type", "callback_id", "state", "hash", "private_metadata"}, "view")
    closed = payloads.view_closed(fake_slack, view, user="U1")
    within(closed, VIEW_CLOSED_FIELDS, {"type", "team", "user", "api_app_id", "view", "is_cleared"}, "view_closed")
    assert "trigger_id" not in closed


def test_message_shortcut_has_the_fields_of_slacks_sample(fake_slack: FakeSlack) -> None:
    message = {"ts": "1700000000.000200", "text": "hello", "user": "U2"}
    body, url = payloads.message_shortcut(fake_slack, message, user="U1", channel="C1", callback_id="turn_into_action")
    within(body, SHORTCUT_FIELDS, SHORTCUT_FIELDS - {"enterprise", "is_enterprise_install"}, "message shortcut")
    assert body["type"] == "message_action" and body["response_url"] == url
    within(body["user"], SHORTCUT_USER, {"id", "team_id"}, "shortcut user")


def test_events_have_the_envelope_of_slacks_samples(fake_slack: FakeSlack) -> None:
    home = payloads.app_home_opened(fake_slack, "U1")
    within(home, ENVELOPE_FIELDS, ENVELOPE_ALWAYS, "envelope")
    within(home["authorizations"][0], AUTHORIZATION_FIELDS, AUTHORIZATION_FIELDS, "authorization")
    within(home["event"], APP_HOME_EVENT, {"type", "user", "channel", "tab", "event_ts"}, "app_home_opened")
    im = payloads.message_im(fake_slack, "U1", "hello")
    within(im, ENVELOPE_FIELDS, ENVELOPE_ALWAYS, "envelope")
    within(im["event"], MESSAGE_EVENT, {"type", "user", "text", "ts", "channel", "event_ts", "channel_type"}, "message")
    # The channel of both is the user's DM with the bot: what conversations.open answers for that user.
    assert home["event"]["channel"] == im["event"]["channel"] == payloads.bot_dm(fake_slack, "U1")
    assert home["event_id"] != im["event_id"]
