"""The fake Slack Web API behaves like Slack where our tests depend on it (driven through slack_sdk itself)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import HeaderBlock, SectionBlock

from bot.slack.client import make_client
from tests.support import fakeslack
from tests.support.fakeslack import FakeSlack, block_problems

fake_slack = fakeslack.fake_slack  # the fixture (tests/ is on sys.path under pytest)


def client_for(fake: FakeSlack, token: str | None = None) -> WebClient:
    waits: list[float] = []
    c = make_client(token or fake.token, fake.base_url, sleep=waits.append)
    c.waits = waits  # type: ignore[attr-defined]
    return c


def test_auth_and_post_recorded_in_order(fake_slack: FakeSlack) -> None:
    c = client_for(fake_slack)
    assert c.auth_test()["user_id"] == fake_slack.bot_user_id
    r = c.chat_postMessage(channel="C0MOBOT01", text="hello", blocks=[SectionBlock(text="*hi*")])
    assert r["ok"] and r["channel"] == "C0MOBOT01" and r["ts"]
    assert fake_slack.methods() == ["auth.test", "chat.postMessage"]
    call = fake_slack.calls_to("chat.postMessage")[0]
    assert call.params["text"] == "hello"
    assert call.params["blocks"][0] == {"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}
    assert call.headers["authorization"] == f"Bearer {fake_slack.token}"
    assert fake_slack.messages[("C0MOBOT01", r["ts"])]["text"] == "hello"


def test_bad_or_missing_token_is_refused(fake_slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as e:
        client_for(fake_slack, "xoxb-someone-else").chat_postMessage(channel="C0MOBOT01", text="x")
    assert e.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as e:
        make_client(None, fake_slack.base_url).auth_test()
    assert e.value.response["error"] == "not_authed"
    assert fake_slack.messages == {}


def test_channels_unknown_and_not_joined(fake_slack: FakeSlack) -> None:
    fake_slack.add_channel("C0PRIVATE", member=False)
    c = client_for(fake_slack)
    for channel, error in (("C0NOWHERE", "channel_not_found"), ("C0PRIVATE", "not_in_channel")):
        with pytest.raises(SlackApiError) as e:
            c.chat_postMessage(channel=channel, text="x")
        assert e.value.response["error"] == error
    assert len(fake_slack.calls_to("chat.postMessage", include_failed=True)) == 2
    assert fake_slack.calls_to("chat.postMessage") == []


@pytest.mark.parametrize(
    ("blocks", "pointer"),
    [
        ([{"type": "divider"}] * 51, "/blocks"),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}], "/blocks/0/text/text"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}], "/blocks/0/text/text"),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "*x*"}}], "/blocks/0/text/type"),
        ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "a"}] * 11}], "/blocks/0/fields"),
        ([{"type": "section", "text": {"type": "plain_text", "text": ""}}], "/blocks/0/text/text"),
        ([{"type": "section", "block_id": "a", "text": {"type": "mrkdwn", "text": "a"}}] * 2, "/blocks/1/block_id"),
        ([{"type": "carousel"}], "/blocks/0/type"),
    ],
)
def test_invalid_blocks_rejected_like_slack(fake_slack: FakeSlack, blocks: list[dict], pointer: str) -> None:
    with pytest.raises(SlackApiError) as e:
        client_for(fake_slack).chat_postMessage(channel="C0MOBOT01", text="fallback", blocks=blocks)
    assert e.value.response["error"] == "invalid_blocks"
    assert any(pointer + "]" in m for m in e.value.response["response_metadata"]["messages"])


def test_limits_are_inclusive_and_sdk_models_pass(fake_slack: FakeSlack) -> None:
    blocks = [HeaderBlock(text="x" * 150).to_dict()] + [SectionBlock(text="y" * 3000).to_dict()] * 49
    assert block_problems(blocks, max_blocks=50) == []
    r = client_for(fake_slack).chat_postMessage(channel="C0MOBOT01", text="t", blocks=blocks)
    assert r["ok"]


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_text_rules(fake_slack: FakeSlack) -> None:
    c = client_for(fake_slack)
    for kwargs, error in (({}, "no_text"), ({"text": "x" * 40001}, "msg_too_long")):
        with pytest.raises(SlackApiError) as e:
            c.chat_postMessage(channel="C0MOBOT01", **kwargs)
        assert e.value.response["error"] == error
    r = c.chat_postMessage(channel="C0MOBOT01", blocks=[{"type": "divider"}])
    assert r["response_metadata"]["warnings"] == ["missing_text"]


def test_429_with_retry_after_is_honoured_then_succeeds(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=7)
    c = client_for(fake_slack)
    r = c.chat_postMessage(channel="C0MOBOT01", text="after the limit")
    assert r["ok"]
    attempts = fake_slack.calls_to("chat.postMessage", include_failed=True)
    assert [a.status for a in attempts] == [429, 200]
    assert len(c.waits) == 1 and 7 <= c.waits[0] < 7.5  # type: ignore[attr-defined]
    assert len(fake_slack.messages) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_retried_with_backoff(fake_slack: FakeSlack, status: int) -> None:
    fake_slack.fail_next("chat.postMessage", status=status, times=2)
    c = client_for(fake_slack)
    assert c.chat_postMessage(channel="C0MOBOT01", text="eventually")["ok"]
    assert [a.status for a in fake_slack.calls_to("chat.postMessage", include_failed=True)] == [status, status, 200]
    assert len(c.waits) == 2 and c.waits[1] > c.waits[0] * 0.5  # type: ignore[attr-defined]


def test_5xx_gives_up_after_the_retries(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=503, times=5)
    with pytest.raises(SlackApiError):
        client_for(fake_slack).chat_postMessage(channel="C0MOBOT01", text="x")
    assert len(fake_slack.calls_to("chat.postMessage", include_failed=True)) == 3
    assert fake_slack.messages == {}


def test_error_on_demand_with_http_200(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=200, error="not_in_channel")
    c = client_for(fake_slack)
    with pytest.raises(SlackApiError) as e:
        c.chat_postMessage(channel="C0MOBOT01", text="x")
    assert e.value.response["error"] == "not_in_channel"
    assert c.chat_postMessage(channel="C0MOBOT01", text="x")["ok"]


def test_update_permalink_thread(fake_slack: FakeSlack) -> None:
    c = client_for(fake_slack)
    ts = c.chat_postMessage(channel="C0MOBOT01", text="v1")["ts"]
    assert c.chat_update(channel="C0MOBOT01", ts=ts, text="v2")["ok"]
    assert fake_slack.messages[("C0MOBOT01", ts)]["text"] == "v2"
    reply = c.chat_postMessage(channel="C0MOBOT01", text="note", thread_ts=ts)
    assert reply["message"]["thread_ts"] == ts
    assert ts.replace(".", "") in c.chat_getPermalink(channel="C0MOBOT01", message_ts=ts)["permalink"]
    with pytest.raises(SlackApiError) as e:
        c.chat_update(channel="C0MOBOT01", ts="1.000001", text="x")
    assert e.value.response["error"] == "message_not_found"


def test_dm_views_users_groups(fake_slack: FakeSlack) -> None:
    fake_slack.users["U0AAA"] = {"name": "aa", "tz": "Europe/London"}
    fake_slack.usergroups["S0ANALYST"] = ["U0AAA"]
    c = client_for(fake_slack)
    dm = c.conversations_open(users="U0AAA")["channel"]["id"]
    assert c.chat_postMessage(channel=dm, text="psst")["ok"]
    with pytest.raises(SlackApiError):
        c.conversations_open(users="U0NOBODY")
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Add action"}, "blocks": []}
    vid = c.views_open(trigger_id="123.456", view=modal)["view"]["id"]
    assert c.views_update(view_id=vid, view={**modal, "title": {"type": "plain_text", "text": "Edit"}})["ok"]
    with pytest.raises(SlackApiError) as e:
        c.views_open(trigger_id="1", view={**modal, "title": {"type": "plain_text", "text": "x" * 25}})
    assert e.value.response["error"] == "invalid_arguments"
    with pytest.raises(SlackApiError) as e:
        c.views_publish(user_id="U0AAA", view={"type": "home", "blocks": [{"type": "divider"}] * 101})
    assert e.value.response["error"] == "invalid_blocks"
    assert c.views_publish(user_id="U0AAA", view={"type": "home", "blocks": [{"type": "divider"}] * 100})["ok"]
    assert c.users_info(user="U0AAA")["user"]["tz"] == "Europe/London"
    assert c.usergroups_users_list(usergroup="S0ANALYST")["users"] == ["U0AAA"]
    assert c.usergroups_list()["usergroups"][0]["id"] == "S0ANALYST"
    with pytest.raises(SlackApiError) as e:
        c.usergroups_users_list(usergroup="S0NONE")
    assert e.value.response["error"] == "no_such_subteam"


def test_files_upload_v2_flow(fake_slack: FakeSlack) -> None:
    c = client_for(fake_slack)
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    parent = c.chat_postMessage(channel="C0MOBOT01", text="summary")["ts"]
    r = c.files_upload_v2(
        channel="C0MOBOT01",
        content=png,
        filename="wanted.png",
        title="Wanted",
        alt_txt="Bar chart of wanted",
        initial_comment="charts",
        thread_ts=parent,
    )
    assert r["ok"]
    assert fake_slack.methods()[-2:] == ["files.getUploadURLExternal", "files.completeUploadExternal"]
    fid = fake_slack.calls_to("files.getUploadURLExternal")[0].response["file_id"]
    assert fake_slack.uploads[fid] == png
    done = fake_slack.calls_to("files.completeUploadExternal")[0].params
    assert fake_slack.files[fid]["alt_txt"] == "Bar chart of wanted"
    assert r["files"][0]["alt_txt"] == "Bar chart of wanted"
    assert (done["initial_comment"], done["thread_ts"], done["channel_id"]) == ("charts", parent, "C0MOBOT01")


def test_response_url_records_posts_and_allows_five(fake_slack: FakeSlack) -> None:
    url = fake_slack.new_response_url()
    body = {"response_type": "in_channel", "replace_original": False, "text": "t", "blocks": []}
    statuses = []
    for _ in range(6):
        req = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
        try:
            statuses.append(urllib.request.urlopen(req, timeout=5).status)
        except urllib.error.HTTPError as e:
            statuses.append(e.code)
    assert statuses == [200] * 5 + [404]
    posts = fake_slack.posts_to(url)
    assert len(posts) == 5 and posts[0].payload["response_type"] == "in_channel"
    assert fake_slack.wait_for(lambda f: len(f.response_posts) == 5, timeout=0.1)


def test_unknown_method_is_recorded(fake_slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as e:
        client_for(fake_slack).api_call("admin.users.remove")
    assert e.value.response["error"] == "unknown_method"
    assert fake_slack.methods() == ["admin.users.remove"]


# --- response_url, trigger_id, limits and scopes, as Slack has them -------------------------------------------------
def _post(url: str, payload: dict[str, object]) -> tuple[int, str]:
    req = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_a_slash_commands_response_url_adds_messages_whatever_replace_original_says(fake_slack: FakeSlack) -> None:
    url = fake_slack.new_response_url("command")
    fake_slack.slash_ack(url, b'{"text": "working on it", "response_type": "ephemeral"}')
    assert _post(url, {"text": "the answer", "replace_original": True}) == (200, "ok")
    # bolt-python#1268, bolt-js#2287: the ack's message stays; the answer is a second message.
    assert [m["text"] for m in fake_slack.visible(url)] == ["working on it", "the answer"]


def test_an_interactions_response_url_replaces_the_message_it_came_from(fake_slack: FakeSlack) -> None:
    url = fake_slack.new_response_url("interaction", original={"text": "list v1"})
    assert _post(url, {"text": "list v2", "replace_original": True})[0] == 200
    assert _post(url, {"text": "a note", "replace_original": False})[0] == 200
    assert [m["text"] for m in fake_slack.visible(url)] == ["list v2", "a note"]
    assert _post(url, {"delete_original": True})[0] == 200
    assert [m["text"] for m in fake_slack.visible(url)] == ["a note"]


def test_a_response_url_checks_the_message_and_takes_five_posts_in_thirty_minutes(fake_slack: FakeSlack) -> None:
    url = fake_slack.new_response_url("command")
    assert _post(url, {"response_type": "ephemeral"}) == (400, "no_text")
    assert _post(url, {"text": "x", "blocks": [{"type": "section"}]}) == (400, "invalid_blocks")
    assert _post(url, {"text": "x" * 40_001}) == (400, "msg_too_long")
    for _ in range(5):
        assert _post(url, {"text": "ok"})[0] == 200
    assert _post(url, {"text": "sixth"}) == (404, "used_url")
    late = fake_slack.new_response_url("command")
    fake_slack.time_travel(30 * 60 + 1)
    assert _post(late, {"text": "too late"}) == (404, "expired_url")


def test_a_trigger_id_opens_one_modal_within_three_seconds(fake_slack: FakeSlack) -> None:
    c = client_for(fake_slack)
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []}
    fresh = fake_slack.new_trigger_id()
    assert c.views_open(trigger_id=fresh, view=modal)["ok"]
    with pytest.raises(SlackApiError) as e:
        c.views_open(trigger_id=fresh, view=modal)
    assert e.value.response["error"] == "trigger_exchanged"
    old = fake_slack.new_trigger_id()
    fake_slack.time_travel(3.5)
    with pytest.raises(SlackApiError) as e:
        c.views_open(trigger_id=old, view=modal)
    assert e.value.response["error"] == "expired_trigger_id"


def _modal(*blocks: dict[str, object], **extra: object) -> dict[str, object]:
    return {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": list(blocks), **extra}


def _opt(text: str, value: str = "v") -> dict[str, object]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


@pytest.mark.parametrize(
    ("view", "error", "pointer"),
    [
        (_modal({"type": "section", "text": {"type": "mrkdwn", "text": "x"},
                 "accessory": {"type": "overflow", "action_id": "o", "options": [_opt("one")]}}),
         "invalid_blocks", "/blocks/0/accessory/options"),
        (_modal({"type": "section", "text": {"type": "mrkdwn", "text": "x"},
                 "accessory": {"type": "overflow", "action_id": "o", "options": [_opt(str(n)) for n in range(6)]}}),
         "invalid_blocks", "/blocks/0/accessory/options"),
        (_modal({"type": "input", "label": {"type": "plain_text", "text": "L"},
                 "element": {"type": "static_select", "action_id": "s", "options": [_opt(str(n)) for n in range(101)]}},
                submit={"type": "plain_text", "text": "Save"}),
         "invalid_blocks", "/blocks/0/element/options"),
        (_modal({"type": "input", "label": {"type": "plain_text", "text": "L"},
                 "element": {"type": "static_select", "action_id": "s", "options": [_opt("x" * 76)]}},
                submit={"type": "plain_text", "text": "Save"}),
         "invalid_blocks", "/blocks/0/element/options/0/text/text"),
        (_modal({"type": "input", "label": {"type": "plain_text", "text": "L"},
                 "element": {"type": "plain_text_input", "action_id": "t"}}),
         "invalid_arguments", "/view/submit"),
        (_modal(callback_id="c" * 256), "invalid_arguments", "/view/callback_id"),
    ],
)  # fmt: skip
def test_block_kit_limits_slack_enforces(
    fake_slack: FakeSlack, view: dict[str, object], error: str, pointer: str
) -> None:
    with pytest.raises(SlackApiError) as e:
        client_for(fake_slack).views_open(trigger_id=fake_slack.new_trigger_id(), view=view)
    assert e.value.response["error"] == error
    assert any(f"[json-pointer:{pointer}]" in m for m in e.value.response["response_metadata"]["messages"])


def test_a_scope_missing_from_the_manifest_is_missing_scope(fake_slack: FakeSlack) -> None:
    c = client_for(fake_slack)
    assert "chat:write" in fake_slack.scopes  # read from manifest.yml
    fake_slack.scopes = fake_slack.scopes - {"chat:write"}
    with pytest.raises(SlackApiError) as e:
        c.chat_postMessage(channel="C0MOBOT01", text="x")
    body = e.value.response.data
    assert (body["error"], body["needed"]) == ("missing_scope", "chat:write")
    assert "chat:write" not in body["provided"].split(",") and "commands" in body["provided"].split(",")


def test_user_groups_need_a_paid_plan(fake_slack: FakeSlack) -> None:
    fake_slack.usergroups["S1"] = ["U1"]
    fake_slack.plan = "free"
    with pytest.raises(SlackApiError) as e:
        client_for(fake_slack).usergroups_users_list(usergroup="S1")
    assert e.value.response["error"] == "plan_upgrade_required"


def test_ratelimited_answers_with_retry_after(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("usergroups.users.list", status=429, retry_after=30)
    fake_slack.usergroups["S1"] = ["U1"]
    req = urllib.request.Request(
        fake_slack.base_url + "usergroups.users.list?usergroup=S1",
        headers={"Authorization": f"Bearer {fake_slack.token}"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=5)
    assert e.value.code == 429 and e.value.headers["Retry-After"] == "30"
    assert json.loads(e.value.read())["error"] == "ratelimited"
