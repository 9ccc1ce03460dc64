"""Process settings: bot.settings is the one reader of the environment; every process reads it leniently and
`mo-bot serve` checks it strictly (tests/e2e/test_serve.py); the config takes the file and the database URL the
settings name."""

from __future__ import annotations

import re

import pytest

from bot.config import ConfigError
from bot.runtime import Runtime, config_from_settings
from bot.settings import Environment, SettingsError, load_settings, read_environment
from tests.support.paths import REPO_ROOT

GOOD = {"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_SIGNING_SECRET": "0123456789abcdef0123456789abcdef"}


def test_reading_the_environment_never_fails_and_keeps_values_as_given() -> None:
    assert read_environment({}) == Environment()
    env = read_environment(
        {
            "SLACK_BOT_TOKEN": " xoxp-not-a-bot-token ",
            "SLACK_API_URL": "http://127.0.0.1:9/api",
            "DATABASE_URL": "",
            "MO_CONFIG": "/nonexistent/mo.toml",
            "PORT": "http",
            "WEB_CONCURRENCY": "  ",
            "LOG_LEVEL": "debug",
        }
    )
    assert env.bot_token == "xoxp-not-a-bot-token"  # the CLI does not check what only serve needs
    assert env.api_url == "http://127.0.0.1:9/api"
    assert (env.database_url, env.web_concurrency, env.app_token) == (None, None, None)  # blank is unset
    assert (env.config_path, env.port, env.log_level) == ("/nonexistent/mo.toml", "http", "debug")


def test_serve_settings_carry_logging_and_whether_web_concurrency_was_set() -> None:
    s = load_settings(GOOD)
    assert (s.log_level, s.access_log, s.web_concurrency, s.web_concurrency_set) == ("INFO", None, 2, False)
    s = load_settings({**GOOD, "LOG_LEVEL": "debug", "MO_ACCESS_LOG": "-", "WEB_CONCURRENCY": "3"})
    assert (s.log_level, s.access_log, s.web_concurrency, s.web_concurrency_set) == ("debug", "-", 3, True)


def test_warming_the_shared_answers_is_on_unless_switched_off() -> None:
    assert load_settings(GOOD).warm_answers is True
    assert load_settings({**GOOD, "MO_WARM_ANSWERS": "0"}).warm_answers is False
    assert load_settings({**GOOD, "MO_WARM_ANSWERS": "On"}).warm_answers is True
    with pytest.raises(SettingsError, match="MO_WARM_ANSWERS: expected 1 or 0"):
        load_settings({**GOOD, "MO_WARM_ANSWERS": "maybe"})


def test_config_from_settings_file_and_database_url(tmp_path) -> None:
    toml = tmp_path / "mo.toml"
    toml.write_text('database_url = "sqlite:///from-file.db"\nwanted_review_days = 21\n')
    other = tmp_path / "other.toml"
    other.write_text("wanted_review_days = 35\n")

    cfg = config_from_settings(read_environment({"MO_CONFIG": str(toml)}))
    assert (cfg.source, cfg.database_url, cfg.wanted_review_days) == (str(toml), "sqlite:///from-file.db", 21)
    # DATABASE_URL wins over the file's database_url, and is rewritten to the psycopg driver.
    cfg = config_from_settings(read_environment({"MO_CONFIG": str(toml), "DATABASE_URL": "postgres://u@h/db"}))
    assert cfg.database_url == "postgresql+psycopg://u@h/db"
    # --config wins over MO_CONFIG.
    cfg = config_from_settings(read_environment({"MO_CONFIG": str(toml)}), str(other))
    assert (cfg.source, cfg.wanted_review_days) == (str(other), 35)
    # No file: the built-in defaults and the SQLite default.
    cfg = config_from_settings(read_environment({}))
    assert (cfg.source, cfg.database_url) == ("built-in defaults", "sqlite:///mo-bot.db")
    with pytest.raises(ConfigError, match="MO_CONFIG: file not found"):
        config_from_settings(read_environment({"MO_CONFIG": str(tmp_path / "missing.toml")}))
    with pytest.raises(ConfigError, match="DATABASE_URL: expected a URL"):
        config_from_settings(read_environment({"DATABASE_URL": "mo-bot.db"}))


def test_runtime_from_settings_uses_the_settings_database(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'rt.db'}"
    rt = Runtime.from_settings(read_environment({"DATABASE_URL": url}))
    try:
        assert rt.config.database_url == url and rt.engine.url.database == str(tmp_path / "rt.db")
    finally:
        rt.engine.dispose()


def test_only_bot_settings_reads_the_environment() -> None:
    """Every variable the bot reads is named in bot/settings.py only: nothing else calls os.environ or getenv,
    or looks a variable up by its name."""
    names = re.findall(r'get\("([A-Z_]+)"\)', (REPO_ROOT / "bot" / "settings.py").read_text())
    assert {"SLACK_BOT_TOKEN", "SLACK_API_URL", "DATABASE_URL", "MO_CONFIG", "LOG_LEVEL"} <= set(names)
    lookup = re.compile(r"os\.environ|getenv\(|[\"'](" + "|".join(names) + r")[\"']")
    offenders = [
        f"{p.relative_to(REPO_ROOT)}:{n}"
        for top in ("bot", "commands", "jobs")
        for p in sorted((REPO_ROOT / top).rglob("*.py"))
        if p != REPO_ROOT / "bot" / "settings.py"
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if lookup.search(line)
    ]
    assert offenders == []
