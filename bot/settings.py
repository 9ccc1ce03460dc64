"""Process settings: the one place the bot reads its environment (12-factor; see docs/configuration.md and
docs/slack-setup.md). Every environment variable the bot reads is named here and nowhere else.

- :func:`read_environment` is what every process reads (the CLI, the scheduler, `mo-bot serve`): each variable
  as given, stripped, unset or blank as None. It never fails: a process uses what it needs and the code that
  uses a value reports a bad one (the config load names a bad ``DATABASE_URL`` or a missing ``MO_CONFIG`` file).
- :func:`load_settings` is the strict check `mo-bot serve` needs before it starts: every problem is collected
  before start-up stops, so an admin fixing a deployment sees all of them at once, one clear line each, instead
  of one per restart.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORT = 3000
DEFAULT_LOG_LEVEL = "INFO"

# Slack's signing secrets are 32 hex characters; accept any run of 16+ word characters so a rotated or test secret
# of another length still works, but catch the usual paste accidents (empty, quoted, spaces).
_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,}$")


class SettingsError(Exception):
    """One or more settings are missing or malformed; ``problems`` holds one line per setting."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Environment:
    """The environment variables the bot reads, as given (stripped; None when unset or blank)."""

    bot_token: str | None = None  # SLACK_BOT_TOKEN
    signing_secret: str | None = None  # SLACK_SIGNING_SECRET
    app_token: str | None = None  # SLACK_APP_TOKEN
    api_url: str | None = None  # SLACK_API_URL: a proxy or the test fake instead of Slack's own Web API
    database_url: str | None = None  # DATABASE_URL: wins over the config file's database_url
    config_path: str | None = None  # MO_CONFIG: the TOML config file
    port: str | None = None  # PORT
    web_concurrency: str | None = None  # WEB_CONCURRENCY: gunicorn worker processes
    threads: str | None = None  # THREADS: threads per worker
    log_level: str | None = None  # LOG_LEVEL
    access_log: str | None = None  # MO_ACCESS_LOG: gunicorn's access log ("-" for stderr)
    warm_answers: str | None = None  # MO_WARM_ANSWERS: 0 → this process computes no shared answers


def read_environment(env: Mapping[str, str] | None = None) -> Environment:
    """The process environment (or ``env``, for tests) as :class:`Environment`; never fails."""
    env = os.environ if env is None else env

    def get(name: str) -> str | None:
        return env.get(name, "").strip() or None

    return Environment(
        bot_token=get("SLACK_BOT_TOKEN"),
        signing_secret=get("SLACK_SIGNING_SECRET"),
        app_token=get("SLACK_APP_TOKEN"),
        api_url=get("SLACK_API_URL"),
        database_url=get("DATABASE_URL"),
        config_path=get("MO_CONFIG"),
        port=get("PORT"),
        web_concurrency=get("WEB_CONCURRENCY"),
        threads=get("THREADS"),
        log_level=get("LOG_LEVEL"),
        access_log=get("MO_ACCESS_LOG"),
        warm_answers=get("MO_WARM_ANSWERS"),
    )


@dataclass(frozen=True)
class Settings:
    """`mo-bot serve`'s settings, checked by :func:`load_settings`."""

    bot_token: str
    signing_secret: str
    app_token: str | None  # set → Socket Mode
    api_url: str | None  # Web API base URL ending in "/", None → Slack's own
    database_url: str | None  # None → the config's (MO_CONFIG's database_url or the SQLite default)
    config_path: str | None
    port: int
    web_concurrency: int  # gunicorn worker processes
    threads: int  # threads per worker
    log_level: str = DEFAULT_LOG_LEVEL
    access_log: str | None = None  # gunicorn's access log; None → none
    # Whether WEB_CONCURRENCY was set: when it was not, serve runs one process on SQLite (see serve_cmd.run).
    web_concurrency_set: bool = False
    # Whether this process computes the standard answers of each new import for everyone (commands/mo/warm.py);
    # off for a deployment whose database this process may not write (a read replica's).
    warm_answers: bool = True

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None


def warm_answers_problem(raw: str | None) -> str:
    """What is wrong with an MO_WARM_ANSWERS value that :func:`warm_answers_on` reads as neither on nor off."""
    return f"MO_WARM_ANSWERS: expected 1 or 0 (on or off), got {raw!r}"


def warm_answers_on(raw: str | None) -> bool | None:
    """MO_WARM_ANSWERS as on (the default) or off; None when it is neither."""
    value = (raw or "1").lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    return None


def normalise_api_url(value: str) -> str:
    """``http://host:8080/api`` or ``…/api/`` → ``…/api/`` (slack_sdk joins the method name straight on)."""
    return value if value.endswith("/") else value + "/"


def _positive_int(name: str, raw: str | None, default: int, lo: int, hi: int, problems: list[str]) -> int:
    if raw is None:
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
    """Read (:func:`read_environment`) and validate the environment for `mo-bot serve`; raise
    :class:`SettingsError` listing every problem."""
    e = read_environment(env)
    problems: list[str] = []

    token = e.bot_token or ""
    if not token:
        problems.append("SLACK_BOT_TOKEN: missing (the Bot User OAuth Token, xoxb-…, from OAuth & Permissions)")
    elif not token.startswith("xoxb-"):
        kind = (
            "a user token" if token.startswith("xoxp-") else "an app-level token" if token.startswith("xapp-") else ""
        )
        hint = f" — this looks like {kind}" if kind else ""
        problems.append(f"SLACK_BOT_TOKEN: must be a bot token starting with 'xoxb-'{hint}")

    secret = e.signing_secret or ""
    if not secret:
        problems.append("SLACK_SIGNING_SECRET: missing (Basic Information → App Credentials → Signing Secret)")
    elif not _SECRET.match(secret):
        problems.append("SLACK_SIGNING_SECRET: malformed (expected the 32-character hex secret, no quotes or spaces)")

    if e.app_token is not None and not e.app_token.startswith("xapp-"):
        problems.append("SLACK_APP_TOKEN: must be an app-level token starting with 'xapp-' (or unset for HTTP mode)")

    api_url = e.api_url
    if api_url is not None:
        parts = urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(f"SLACK_API_URL: expected an http(s) URL such as https://slack.com/api/, got {api_url!r}")
        elif parts.query or parts.fragment:
            problems.append(f"SLACK_API_URL: must be a base URL without ?query or #fragment, got {api_url!r}")
        else:
            api_url = normalise_api_url(api_url)

    if e.database_url is not None and "://" not in e.database_url:
        problems.append(f"DATABASE_URL: expected a URL like postgresql://user@host/db, got {e.database_url!r}")

    if e.config_path is not None and not os.path.isfile(e.config_path):
        problems.append(f"MO_CONFIG: file not found: {e.config_path}")

    port = _positive_int("PORT", e.port, DEFAULT_PORT, 1, 65535, problems)
    # Two cores on the reference machine: 2 workers × 8 threads saturates them while a slow query blocks only a thread.
    workers = _positive_int("WEB_CONCURRENCY", e.web_concurrency, 2, 1, 64, problems)
    threads = _positive_int("THREADS", e.threads, 8, 1, 256, problems)

    warm = warm_answers_on(e.warm_answers)
    if warm is None:
        problems.append(warm_answers_problem(e.warm_answers))

    if problems:
        raise SettingsError(problems)
    return Settings(
        bot_token=token,
        signing_secret=secret,
        app_token=e.app_token,
        api_url=api_url,
        database_url=e.database_url,
        config_path=e.config_path,
        port=port,
        web_concurrency=workers,
        threads=threads,
        log_level=e.log_level or DEFAULT_LOG_LEVEL,
        access_log=e.access_log,
        web_concurrency_set=e.web_concurrency is not None,
        warm_answers=bool(warm),
    )
