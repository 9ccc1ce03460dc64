"""manifest.yml is valid YAML and agrees with the app it creates: the /mo command, the shortcut's callback, the
event the app listens to, one endpoint for everything, the scopes the code needs, and nothing more."""

from __future__ import annotations

import yaml

from bot.slack.render_actions import SHORTCUT
from tests.support.paths import REPO_ROOT

MANIFEST = REPO_ROOT / "manifest.yml"


def test_manifest_parses_and_matches_the_app() -> None:
    m = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    features, settings = m["features"], m["settings"]
    [command] = features["slash_commands"]
    assert command["command"] == "/mo" and command["should_escape"] is True
    assert [s["callback_id"] for s in features["shortcuts"]] == [SHORTCUT]
    assert features["app_home"]["home_tab_enabled"] is True
    assert settings["event_subscriptions"]["bot_events"] == ["app_home_opened", "message.im"]
    urls = {command["url"], settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"]}
    assert urls == {"https://YOUR-HOST/slack/events"}
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is False  # HTTP by default; docs/slack-setup.md shows Socket Mode
    assert sorted(m["oauth_config"]["scopes"]["bot"]) == sorted(
        [
            "commands",
            "chat:write",
            "im:write",
            "files:write",
            "usergroups:read",
            "users:read",
            "files:read",
            "im:history",
        ]
    )
    # Slack's own limits on the display fields.
    assert len(m["display_information"]["name"]) <= 35
    assert len(m["display_information"]["description"]) <= 140


def test_every_scope_is_used_by_the_code() -> None:
    """A scope nobody calls is a permission the workspace admin is asked for in vain."""
    root = MANIFEST.parent
    code = "\n".join(
        p.read_text(encoding="utf-8") for d in ("bot", "commands", "jobs") for p in (root / d).rglob("*.py")
    )
    uses = {
        "chat:write": "chat_postMessage",
        "im:write": "conversations_open",
        "files:write": "files_upload_v2",
        "usergroups:read": "usergroups_users_list",
        "users:read": "users_info",
        "files:read": "files_info",
        "im:history": '{"type": "message", "subtype": "file_share"}',
    }
    for scope, method in uses.items():
        assert method in code, f"{scope} is declared but nothing calls {method}"
