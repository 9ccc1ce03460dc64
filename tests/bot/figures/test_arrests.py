"""Arrested or not: a closure counts as "without arrest" only when its recorded outcome says so; one with no outcome
(or closed by a snapshot export that stopped listing it) is counted apart, never as a closure without arrest."""

from __future__ import annotations

from bot.figures.arrests import ArrestSplit, arrest_split, arrests_text


def test_only_a_recorded_outcome_other_than_arrest_is_without_arrest() -> None:
    by_outcome = {"arrested": 5, "located": 3, "cancelled": 2, "nfa": 1, "other": 1, "not_recorded": 4}
    split = arrest_split({**by_outcome, "not_in_export": 2})
    assert split == ArrestSplit(arrested=5, without_arrest=7, not_recorded=6)
    assert split.closed == sum(by_outcome.values()) + 2
    assert arrests_text(split) == "5 arrested, 7 without arrest, 6 outcome not recorded"


def test_the_unknown_part_is_named_only_when_there_is_one() -> None:
    assert arrests_text(arrest_split({"arrested": 1200, "voluntary_attendance": 1})) == (
        "1,200 arrested, 1 without arrest"
    )
    assert arrest_split({}) == ArrestSplit(0, 0, 0)
    # An export with no outcome column: every closure is unknown, none is "without arrest" (nor "0 arrested").
    assert arrest_split({"not_recorded": 10}) == ArrestSplit(0, 0, 10)
    assert arrests_text(arrest_split({"not_recorded": 10})) == "outcome not recorded"
    assert arrests_text(arrest_split({"not_recorded": 9, "not_in_export": 1})) == "outcome not recorded"
