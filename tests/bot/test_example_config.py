"""docs/mo-bot.example.toml shows every `[slack]` setting docs/configuration.md documents, with a value the loader
takes."""

from __future__ import annotations

import re
import tomllib

from bot.config import load_config
from tests.support.paths import REPO_ROOT


def test_the_example_shows_every_documented_slack_setting() -> None:
    doc = (REPO_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    section = doc.split("## `[slack]`", 1)[1].split("\n#", 1)[0]
    documented = re.findall(r"^\| `([a-z_]+)` \|", section, re.M)
    assert "import_max_mb" in documented
    example = REPO_ROOT / "docs" / "mo-bot.example.toml"
    shown = tomllib.loads(example.read_text(encoding="utf-8"))["slack"]
    assert [k for k in documented if k not in shown] == []
    assert load_config(example).slack.import_max_bytes == shown["import_max_mb"] * 1024 * 1024
