"""manifest.yml is valid YAML and agrees with the app it creates: the /mo command, the shortcut's callback, the
event the app listens to, one endpoint for everything, the scopes the code needs, and nothing more."""

from __future__ import annotations

import re
from typing import Any

import yaml
from slack_sdk import WebClient

from bot.config import load_config
from bot.slack.render_actions import SHORTCUT
from commands.mo.catalog import default_registry
from commands.mo.parser import parse
from commands.mo.values import ParseContext
from tests.support.fakeslack import METHOD_SCOPES
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
    assert features["app_home"]["messages_tab_enabled"] is True  # message.im answers there
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
        "im:history": '{"type": "message", "subtype": None}',
    }
    for scope, method in uses.items():
        assert method in code, f"{scope} is declared but nothing calls {method}"


# --- Slack's published app-manifest schema -----------------------------------------------------------------------
# The rules below are the facts of slackapi/manifest-schema schemas/manifest.schema.1.0.0.json for the fields this
# manifest uses (required keys, types, enums, lengths, patterns, and no keys the schema does not define), written
# out here rather than copied, so the test needs no network and no schema library.
TOP_LEVEL = {"display_information", "features", "oauth_config", "settings", "_metadata", "app_directory", "functions",
             "workflows", "datastores", "outgoing_domains", "types", "external_auth_providers", "$schema"}  # fmt: skip
FEATURES = {"app_home", "bot_user", "functions", "shortcuts", "slash_commands", "workflow_steps", "unfurl_domains",
            "assistant_view"}  # fmt: skip
SETTINGS = {"allowed_ip_address_ranges", "event_subscriptions", "incoming_webhooks", "interactivity",
            "org_deploy_enabled", "socket_mode_enabled", "is_hosted", "token_rotation_enabled", "siws_links",
            "hermes_app_type", "function_runtime", "is_mcp_enabled"}  # fmt: skip
HTTP_URL = re.compile(r"^https?://")


def _text(value: object, lo: int, hi: int, where: str) -> None:
    assert isinstance(value, str), f"{where} must be a string"
    assert lo <= len(value) <= hi, f"{where}: {len(value)} characters, the schema allows {lo}–{hi}"


def _only(obj: dict[str, Any], allowed: set[str], required: set[str], where: str) -> None:
    assert isinstance(obj, dict), f"{where} must be an object"
    assert not set(obj) - allowed, f"{where}: keys the schema does not define: {sorted(set(obj) - allowed)}"
    assert required <= set(obj), f"{where}: required keys missing: {sorted(required - set(obj))}"


def _booleans(obj: dict[str, Any], keys: tuple[str, ...], where: str) -> None:
    for k in keys:
        if k in obj:
            assert isinstance(obj[k], bool), f"{where}.{k} must be a boolean"


def test_manifest_follows_slacks_app_manifest_schema() -> None:
    m = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    _only(m, TOP_LEVEL, {"display_information"}, "manifest")

    info = m["display_information"]
    _only(info, {"name", "description", "background_color", "long_description"}, {"name"}, "display_information")
    _text(info["name"], 1, 35, "display_information.name")
    _text(info["description"], 1, 140, "display_information.description")
    _text(info["long_description"], 175, 4000, "display_information.long_description")
    _text(info["background_color"], 4, 7, "display_information.background_color")
    assert re.fullmatch(r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", info["background_color"])

    features = m["features"]
    _only(features, FEATURES, set(), "features")
    home = features["app_home"]
    _only(home, {"home_tab_enabled", "messages_tab_enabled", "messages_tab_read_only_enabled"}, set(), "app_home")
    _booleans(home, tuple(home), "app_home")
    bot_user = features["bot_user"]
    _only(bot_user, {"display_name", "always_online"}, {"display_name"}, "bot_user")
    _text(bot_user["display_name"], 1, 80, "bot_user.display_name")
    _booleans(bot_user, ("always_online",), "bot_user")
    commands = features["slash_commands"]
    assert isinstance(commands, list) and 1 <= len(commands) <= 50
    for c in commands:
        _only(
            c, {"command", "url", "description", "usage_hint", "should_escape"}, {"command", "description"}, "command"
        )
        _text(c["command"], 2, 32, "slash_commands.command")
        assert c["command"].startswith("/")
        _text(c["url"], 1, 3000, "slash_commands.url")
        assert HTTP_URL.match(c["url"])
        _text(c["description"], 1, 2000, "slash_commands.description")
        _text(c["usage_hint"], 1, 1000, "slash_commands.usage_hint")
        _booleans(c, ("should_escape",), "slash_commands")
    shortcuts = features["shortcuts"]
    assert isinstance(shortcuts, list) and 1 <= len(shortcuts) <= 10
    for sc in shortcuts:
        _only(
            sc,
            {"name", "type", "callback_id", "description"},
            {"name", "type", "callback_id", "description"},
            "shortcut",
        )
        _text(sc["name"], 1, 24, "shortcuts.name")
        assert sc["type"] in ("message", "global")
        _text(sc["callback_id"], 1, 255, "shortcuts.callback_id")
        _text(sc["description"], 1, 150, "shortcuts.description")

    oauth = m["oauth_config"]
    _only(oauth, {"redirect_urls", "scopes", "token_management_enabled", "pkce_enabled"}, set(), "oauth_config")
    _only(oauth["scopes"], {"user", "bot", "user_optional", "bot_optional"}, set(), "oauth_config.scopes")
    bot_scopes = oauth["scopes"]["bot"]
    assert isinstance(bot_scopes, list) and len(bot_scopes) <= 255
    for scope in bot_scopes:
        _text(scope, 1, 50, "oauth_config.scopes.bot[]")

    settings = m["settings"]
    _only(settings, SETTINGS, set(), "settings")
    events = settings["event_subscriptions"]
    _only(events, {"request_url", "user_events", "bot_events", "metadata_subscriptions"}, set(), "event_subscriptions")
    assert HTTP_URL.match(events["request_url"]) and len(events["request_url"]) <= 3500
    assert len(events["bot_events"]) <= 100 and len(set(events["bot_events"])) == len(events["bot_events"])
    for e in events["bot_events"]:
        _text(e, 1, 50, "bot_events[]")
    interactivity = settings["interactivity"]
    _only(interactivity, {"is_enabled", "request_url", "message_menu_options_url"}, {"is_enabled"}, "interactivity")
    assert isinstance(interactivity["is_enabled"], bool)
    assert HTTP_URL.match(interactivity["request_url"]) and len(interactivity["request_url"]) <= 3500
    _booleans(settings, ("org_deploy_enabled", "socket_mode_enabled", "token_rotation_enabled"), "settings")


# Web API methods that need no scope (their reference pages on docs.slack.dev list none for a bot token).
NO_SCOPE = {"auth.test", "views.open", "views.push", "views.update", "views.publish", "chat.getPermalink"}
# slack_sdk's files_upload_v2 is these two Web API methods.
COMPOSITE = {"files_upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal")}


def test_every_web_api_method_the_code_calls_has_its_scope_in_the_manifest() -> None:
    """A scope missing from the manifest is a `missing_scope` error in a real workspace (the fake Slack refuses the
    same way: it reads the scopes from manifest.yml)."""
    root = MANIFEST.parent
    code = "\n".join(
        p.read_text(encoding="utf-8") for d in ("bot", "commands", "jobs") for p in (root / d).rglob("*.py")
    )
    called = {name for name in re.findall(r"\.([a-z]+_[A-Za-z0-9_]+)\(", code) if hasattr(WebClient, name)}
    assert {"chat_postMessage", "usergroups_users_list", "views_open", "conversations_open"} <= called
    scopes = set(yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))["oauth_config"]["scopes"]["bot"])
    for name in sorted(called):
        for method in COMPOSITE.get(name, (name.replace("_", "."),)):
            needed = METHOD_SCOPES.get(method)
            if needed is None:
                assert method in NO_SCOPE, f"{method}: add the scope it needs to tests/support/fakeslack.METHOD_SCOPES"
                continue
            assert scopes.intersection(needed), f"{method} needs one of {needed}; manifest.yml has {sorted(scopes)}"


def test_every_question_the_usage_hint_shows_is_one_the_parser_takes() -> None:
    """Slack shows the hint as people type `/mo`: a question in it that the parser refuses would teach a mistake."""
    [command] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))["features"]["slash_commands"]
    ctx = ParseContext(force=load_config().force("suffolk"))
    questions = [q.strip() for q in command["usage_hint"].split("|")]
    assert "rui --trend" in questions
    for q in questions:
        parse(q, default_registry(), ctx)  # raises ParseError for a question it does not take
