"""The heading of an action-log answer says what was asked in the log's own words: the pillar by its name, as the
log, the paper and the answer's own groups give it, not the short word typed after ``--pillar``."""

from __future__ import annotations

from bot.action_log.types import ActionFilters
from commands.mo.action_log import heading_for


def test_the_heading_names_the_pillar_and_the_filters() -> None:
    assert heading_for(ActionFilters(pillar="divert")) == "Action log — Divert & Deter"
    mine = ActionFilters(owner="U0OWNER01", overdue=True, pillar="demonstrate", kind="hmic")
    assert heading_for(mine, "U0OWNER01") == "HMIC recommendations — yours; overdue; Demonstrate Compliance & Quality"
    assert heading_for(ActionFilters(owner="JM", due_within_days=7)) == "Action log — owner JM; due within 7 days"
    assert heading_for(ActionFilters()) == "Action log"
