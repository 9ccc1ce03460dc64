"""The dpo duty: accepted in slack.roles beside the ranked roles, and adding no rank."""

from __future__ import annotations

import pytest

from bot.access import has_duty, role_for
from bot.config import DEFAULTS, ConfigError, _merge, build_config


def test_dpo_is_a_duty_not_a_rank() -> None:
    cfg = build_config(_merge(DEFAULTS, {"slack": {"roles": {"dpo": ["U1", "S1"], "analyst": ["U2"]}}}), "t")
    assert role_for(cfg, "U1") == "viewer" and has_duty(cfg, "dpo", "U1")
    assert has_duty(cfg, "dpo", "U3", ("S1",)) and not has_duty(cfg, "dpo", "U2")
    assert role_for(cfg, "U2") == "analyst"


def test_an_unknown_role_is_still_refused_and_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="known: viewer, analyst, admin, dpo"):
        build_config(_merge(DEFAULTS, {"slack": {"roles": {"auditor": ["U1"]}}}), "t")
