"""The fake Slack's shared files behave like Slack's: files.info describes them, and the bytes at
url_private_download go to the bot token only (anything else is sent to the sign-in page)."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.support import fakeslack
from tests.support.fakeslack import FakeSlack

fake_slack = fakeslack.fake_slack


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _get(url: str, token: str | None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.build_opener(_NoRedirect()).open(req, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


def test_a_shared_file_is_described_and_served_to_the_bot_token_only(fake_slack: FakeSlack) -> None:
    body = fake_slack.shared_files.share(user="U1", channel="D1", name="Wanted Nov.csv", content=b"a,b\n1,2\n")
    event = body["event"]
    assert (event["type"], event["subtype"], event["channel_type"], body["type"]) == (
        "message",
        "file_share",
        "im",
        "event_callback",
    )
    f = event["files"][0]
    info = WebClient(token=fake_slack.token, base_url=fake_slack.base_url).files_info(file=f["id"])["file"]
    assert info == f and info["size"] == 8 and info["filetype"] == "csv"
    assert info["url_private_download"].endswith(f"/files-pri/{fake_slack.team_id}-{f['id']}/download/wanted%20nov.csv")
    assert _get(info["url_private_download"], fake_slack.token) == (200, b"a,b\n1,2\n")
    assert _get(info["url_private_download"], None)[0] == 302
    assert _get(info["url_private_download"], "xoxb-someone-else")[0] == 302
    assert [(d.authorised, d.bytes_sent) for d in fake_slack.shared_files.downloads] == [
        (True, 8),
        (False, 0),
        (False, 0),
    ]
    # The user's message is in the DM, so the bot can reply in its thread.
    assert (event["channel"], event["ts"]) in fake_slack.messages


def test_files_info_of_an_unknown_file_is_file_not_found(fake_slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as e:
        WebClient(token=fake_slack.token, base_url=fake_slack.base_url).files_info(file="F404")
    assert e.value.response["error"] == "file_not_found"
