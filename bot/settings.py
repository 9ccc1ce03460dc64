"""Process settings for `mo-bot serve`, read from the environment (12-factor; see docs/slack-setup.md).

Every problem is collected before start-up stops, so an admin fixing a deployment sees all of them at once,
one clear line each, instead of one per restart.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORT = 3000
DEFAULT_API_URL = "https://slack.com/api/"

# Slack's signing secrets are 32 hex characters; accept any run of 16+ word characters so a rotated or test secret
# of another length still works, but catch the usual paste accidents (empty, quoted, spaces).
_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,}$")


class SettingsError(Exception):
    """One or more settings are missing or malformed; ``problems`` holds one line per setting."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    bot_token: str
    signing_secret: str
    app_token: str | None  # set → Socket Mode
    api_url: str | None  # Web API base URL ending in "/", None → Slack's own
    database_url: str | None  # None → the config's (MO_CONFIG's database_url or the SQLite default)
    config_path: str | None
    port: int
    web_concurrency: int  # gunicorn worker processes
    threads: int  # threads per worker

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None


def normalise_api_url(value: str) -> str:
    """``http://host:8080/api`` or ``…/api/`` → ``…/api/`` (slack_sdk joins the method name straight on)."""
    return value if value.endswith("/") else value + "/"


def _positive_int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int, problems: list[str]) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        problems.append(f"{name}: expected a whole number from {lo} to {hi}, got {raw!r}")
        return default
    if not lo <= value <= hi:
        problems.append(f"{name}: must be from {lo} to {hi}, got {value}")
        return default
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the environment; raise :class:`SettingsError` listing every problem."""
    env = os.environ if env is None else env
    problems: list[str] = []

    token = env.get("SLACK_BOT_TOKEN", "").strip()
    if not token:
        problems.append("SLACK_BOT_TOKEN: missing (the Bot User OAuth Token, xoxb-…, from OAuth & Permissions)")
    elif not token.startswith("xoxb-"):
        kind = (
            "a user token" if token.startswith("xoxp-") else "an app-level token" if token.startswith("xapp-") else ""
        )
        hint = f" — this looks like {kind}" if kind else ""
        problems.append(f"SLACK_BOT_TOKEN: must be a bot token starting with 'xoxb-'{hint}")

    secret = env.get("SLACK_SIGNING_SECRET", "").strip()
    if not secret:
        problems.append("SLACK_SIGNING_SECRET: missing (Basic Information → App Credentials → Signing Secret)")
    elif not _SECRET.match(secret):
        problems.append("SLACK_SIGNING_SECRET: malformed (expected the 32-character hex secret, no quotes or spaces)")

    app_token: str | None = env.get("SLACK_APP_TOKEN", "").strip() or None
    if app_token is not None and not app_token.startswith("xapp-"):
        problems.append("SLACK_APP_TOKEN: must be an app-level token starting with 'xapp-' (or unset for HTTP mode)")

    api_url: str | None = env.get("SLACK_API_URL", "").strip() or None
    if api_url is not None:
        parts = urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(f"SLACK_API_URL: expected an http(s) URL such as https://slack.com/api/, got {api_url!r}")
        elif parts.query or parts.fragment:
            problems.append(f"SLACK_API_URL: must be a base URL without ?query or #fragment, got {api_url!r}")
        else:
            api_url = normalise_api_url(api_url)

    database_url: str | None = env.get("DATABASE_URL", "").strip() or None
    if database_url is not None and "://" not in database_url:
        problems.append(f"DATABASE_URL: expected a URL like postgresql://user@host/db, got {database_url!r}")

    config_path: str | None = env.get("MO_CONFIG", "").strip() or None
    if config_path is not None and not os.path.isfile(config_path):
        problems.append(f"MO_CONFIG: file not found: {config_path}")

    port = _positive_int(env, "PORT", DEFAULT_PORT, 1, 65535, problems)
    # Two cores on the reference machine: 2 workers × 8 threads saturates them while a slow query blocks only a thread.
    workers = _positive_int(env, "WEB_CONCURRENCY", 2, 1, 64, problems)
    threads = _positive_int(env, "THREADS", 8, 1, 256, problems)

    if problems:
        raise SettingsError(problems)
    return Settings(
        bot_token=token,
        signing_secret=secret,
        app_token=app_token,
        api_url=api_url,
        database_url=database_url,
        config_path=config_path,
        port=port,
        web_concurrency=workers,
        threads=threads,
    )
