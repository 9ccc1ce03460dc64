"""The fake Slack Web API behaves like Slack where our tests depend on it (driven through slack_sdk itself)."""

from __future__ import annotations

import json
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
