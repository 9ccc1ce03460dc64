"""What Slack sends the app, shaped as real workspaces send it: the slash command's form, the interactive payloads
(``block_actions`` from an in-channel message, an ephemeral message, a modal and App Home; ``view_submission``;
``view_closed``; the message shortcut) and Events API envelopes (``app_home_opened``, ``message.im``).

Each builder follows the fields of a public recorded sample — slackapi/java-slack-sdk ``json-logs/samples/`` (named
beside each builder) — written here from those facts, with values from the fake Slack (``fake.new_trigger_id()``,
``fake.new_response_url(...)``) so that the fake can tell a fresh trigger from an expired one and knows what each
response_url belongs to. ``tests/support/test_payloads.py`` checks every kind against its sample's fields.

Facts worth knowing, because the fake used to get them wrong:

- A ``block_actions`` from an **ephemeral** message (every ``/mo`` answer is one) has ``container.is_ephemeral:
  true`` and a ``response_url`` but **no** ``message``: Slack does not send what it showed only to one person.
- A ``block_actions`` from a modal or App Home has ``container.type: "view"`` and the ``view``, but neither
  ``channel``, ``message`` nor ``response_url``.
- An Events API delivery carries ``authorizations`` (the installation it is for), ``event_context``, ``event_id``
  and ``event_time``; the event its own ``event_ts``.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from tests.support.fakeslack import FakeSlack
from tests.support.slackutil import Reply, post_signed

APP_ID = "A0MOBOT01"
ENTERPRISE_NONE = None  # a workspace outside Enterprise Grid: Slack sends ``enterprise: null``
_seq = itertools.count(1)


def _ts() -> str:
    return f"{time.time():.6f}"


def _team(fake: FakeSlack) -> dict[str, Any]:
    return {"id": fake.team_id, "domain": "fake"}


def _user(fake: FakeSlack, user: str) -> dict[str, Any]:
    return {"id": user, "username": "someone", "name": "someone", "team_id": fake.team_id}


# --------------------------------------------------------------------------------------------------- slash command
def slash_command(
    fake: FakeSlack, text: str, *, user: str, channel: str, channel_name: str | None = None
) -> tuple[dict[str, str], str]:
    """The form of a slash command and its response_url (java-slack-sdk
    ``json-logs/samples/app-backend/slash-commands/SlashCommandPayload.json``; ``is_enterprise_install`` as in the
    slash command body of slackapi/bolt-js ``src/receivers/AwsLambdaReceiver.spec.ts``). A DM's ``channel_name`` is
    ``directmessage`` whoever it is with."""
    response_url = fake.new_response_url("command")
    form = {
        "token": "legacy-verification-token-unused",
        "team_id": fake.team_id,
        "team_domain": "fake",
        "channel_id": channel,
        "channel_name": channel_name or ("directmessage" if channel.startswith("D") else "managing-offenders"),
        "user_id": user,
        "user_name": "someone",
        "command": "/mo",
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": fake.new_trigger_id(),
    }
    return form, response_url


# --------------------------------------------------------------------------------------------------- block_actions
def overflow_action(action_id: str, value: str, *, block_id: str = "b") -> dict[str, Any]:
    """One choice from an overflow menu, as ``actions[0]`` (BlockActionPayload.json ``actions``)."""
    return {
        "type": "overflow",
        "action_id": action_id,
        "block_id": block_id,
        "selected_option": {"text": {"type": "plain_text", "text": "x", "emoji": True}, "value": value},
        "action_ts": _ts(),
    }


def button_action(action_id: str, value: str, *, block_id: str = "b") -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": "x", "emoji": True},
        "value": value,
        "action_ts": _ts(),
    }


def block_actions(
    fake: FakeSlack,
    action: dict[str, Any],
    *,
    user: str,
    channel: str | None = None,
    message: dict[str, Any] | None = None,
    ephemeral: bool = False,
    view: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], str | None]:
    """A click (java-slack-sdk ``json-logs/samples/app-backend/interactive-components/BlockActionPayload.json``) and
    its response_url (None from a view). From a message in ``channel``: ``message`` is the message as posted (its
    ``ts``, ``text`` and ``blocks``); with ``ephemeral=True`` it is what the user saw but Slack does not send it. From
    a view (a modal, or App Home when ``view["type"] == "home"``): ``view`` as views.open/publish returned it."""
    body: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(fake, user),
        "api_app_id": APP_ID,
        "token": "legacy-verification-token-unused",
        "trigger_id": fake.new_trigger_id(),
        "team": _team(fake),
        "enterprise": ENTERPRISE_NONE,
        "is_enterprise_install": False,
        "actions": [action],
    }
    if view is not None:
        body["container"] = {"type": "view", "view_id": view["id"]}
        body["view"] = {**view, "state": view.get("state") or {"values": {}}}
        return body, None
    assert channel is not None and message is not None, "a click on a message names its channel and message"
    response_url = fake.new_response_url("interaction", original=message)
    body["container"] = {
        "type": "message",
        "message_ts": message["ts"],
        "channel_id": channel,
        "is_ephemeral": ephemeral,
    }
    body["channel"] = {"id": channel, "name": "directmessage" if channel.startswith("D") else "managing-offenders"}
    if not ephemeral:
        body["message"] = {"type": "message", "user": fake.bot_user_id, "bot_id": "BFAKE0001", **message}
    body["state"] = {"values": {}}
    body["response_url"] = response_url
    return body, response_url


# ----------------------------------------------------------------------------------------------------------- views
def view_submission(fake: FakeSlack, view: dict[str, Any], state: dict[str, Any], *, user: str) -> dict[str, Any]:
    """A modal submitted (java-slack-sdk ``json-logs/samples/app-backend/views/ViewSubmissionPayload.json``):
    ``view`` as views.open stored it (with its ``id`` and ``hash``), ``state`` its input values by block id."""
    return {
        "type": "view_submission",
        "team": _team(fake),
        "user": _user(fake, user),
        "api_app_id": APP_ID,
        "token": "legacy-verification-token-unused",
        "trigger_id": fake.new_trigger_id(),
        "view": _as_sent_back(fake, view, state),
        "enterprise": ENTERPRISE_NONE,
        "is_enterprise_install": False,
        "response_urls": [],
    }


def view_closed(fake: FakeSlack, view: dict[str, Any], *, user: str) -> dict[str, Any]:
    """A modal closed with ``notify_on_close`` (java-slack-sdk
    ``json-logs/samples/app-backend/views/ViewClosedPayload.json``): no trigger_id, ``is_cleared``."""
    return {
        "type": "view_closed",
        "team": _team(fake),
        "user": _user(fake, user),
        "api_app_id": APP_ID,
        "token": "legacy-verification-token-unused",
        "view": _as_sent_back(fake, view, {}),
        "enterprise": ENTERPRISE_NONE,
        "is_enterprise_install": False,
        "is_cleared": False,
    }


def _as_sent_back(fake: FakeSlack, view: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    n = next(_seq)
    vid = str(view.get("id") or f"V{n:08d}")
    return {
        "id": vid,
        "team_id": fake.team_id,
        "type": view["type"],
        "title": view.get("title"),
        "submit": view.get("submit"),
        "close": view.get("close"),
        "blocks": view.get("blocks", []),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "external_id": view.get("external_id", ""),
        "state": {"values": state},
        "hash": str(view.get("hash") or f"{n}.h"),
        "clear_on_close": bool(view.get("clear_on_close", False)),
        "notify_on_close": bool(view.get("notify_on_close", False)),
        "root_view_id": vid,
        "previous_view_id": None,
        "app_id": APP_ID,
        "app_installed_team_id": fake.team_id,
        "bot_id": "BFAKE0001",
    }


# ------------------------------------------------------------------------------------------------ message shortcut
def message_shortcut(
    fake: FakeSlack, message: dict[str, Any], *, user: str, channel: str, callback_id: str
) -> tuple[dict[str, Any], str]:
    """A message shortcut (java-slack-sdk
    ``json-logs/samples/app-backend/interactive-components/MessageShortcutPayload.json``): ``type`` is
    ``message_action``; the message as it is in the channel."""
    response_url = fake.new_response_url("interaction")
    body = {
        "type": "message_action",
        "callback_id": callback_id,
        "trigger_id": fake.new_trigger_id(),
        "message_ts": message["ts"],
        "response_url": response_url,
        "message": {"type": "message", **message},
        "team": _team(fake),
        "user": {"id": user, "name": "someone", "team_id": fake.team_id},
        "channel": {"id": channel, "name": "managing-offenders"},
        "token": "legacy-verification-token-unused",
        "action_ts": _ts(),
        "enterprise": ENTERPRISE_NONE,
        "is_enterprise_install": False,
    }
    return body, response_url


# ------------------------------------------------------------------------------------------------------ Events API
def event_envelope(fake: FakeSlack, event: dict[str, Any]) -> dict[str, Any]:
    """An Events API delivery (java-slack-sdk ``json-logs/samples/events/MessagePayload.json`` and
    ``AppHomeOpenedPayload.json``): the event, and for whom and when it was sent."""
    n = next(_seq)
    return {
        "token": "legacy-verification-token-unused",
        "team_id": fake.team_id,
        "api_app_id": APP_ID,
        "event": {**event, "event_ts": event.get("event_ts") or _ts()},
        "type": "event_callback",
        "event_id": f"Ev{n:010d}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": fake.team_id,
                "user_id": fake.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-eyJldCI6ImV2ZW50IiwidGlkIjoi{n:08d}",
    }


def app_home_opened(fake: FakeSlack, user: str, *, tab: str = "home") -> dict[str, Any]:
    """The user opened the bot's Home or Messages tab (AppHomeOpenedPayload.json): ``channel`` is the user's DM with
    the bot whichever tab it is; ``view`` only once a Home view was published."""
    event: dict[str, Any] = {"type": "app_home_opened", "user": user, "channel": bot_dm(fake, user), "tab": tab}
    published = fake.views.get(f"VHOME{user}")
    if tab == "home" and published is not None:
        event["view"] = published
    return event_envelope(fake, event)


def message_im(fake: FakeSlack, user: str, text: str) -> dict[str, Any]:
    """A message a user wrote to the bot in its Messages tab (MessagePayload.json's event, ``channel_type: im``)."""
    event = {
        "client_msg_id": f"{next(_seq):08x}-0000-4000-8000-000000000000",
        "type": "message",
        "text": text,
        "user": user,
        "ts": _ts(),
        "team": fake.team_id,
        "blocks": [
            {
                "type": "rich_text",
                "block_id": "rt1",
                "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
            }
        ],
        "channel": bot_dm(fake, user),
        "channel_type": "im",
    }
    return event_envelope(fake, event)


def bot_dm(fake: FakeSlack, user: str) -> str:
    """The id of ``user``'s DM with the bot (what conversations.open answers for them)."""
    if user not in fake.users:
        fake.users[user] = {"name": user.lower()}
    return fake._open_im(user).id


# ---------------------------------------------------------------------------------------------------------- sending
def send_interaction(url: str, body: dict[str, Any], **kw: Any) -> Reply:
    """POST an interactive payload as Slack does: form-encoded, one ``payload`` field of JSON."""
    return post_signed(url, {"payload": json.dumps(body)}, **kw)


def send_command(url: str, fake: FakeSlack, form: dict[str, str], **kw: Any) -> Reply:
    """POST a slash command and tell the fake what the ack showed the user."""
    reply = post_signed(url, form, **kw)
    if reply.status == 200:
        fake.slash_ack(form["response_url"], reply.body)
    return reply
