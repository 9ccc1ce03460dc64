"""The performance meeting's question (§9.4 of the subgroup's report): of the wanted and suspects closed, how many by
arrest and how many without.

"Without arrest" counts only closures whose recorded outcome says so (located, cancelled, NFA, voluntary attendance,
other). A closure the export gave no outcome for, or that was closed because the case left a snapshot export, says
nothing either way: it is counted apart as "outcome not recorded", never taken to be a closure without arrest."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

NOT_RECORDED = "not_recorded"  # the key of the closures whose export gave no outcome
# The outcomes that do not say how a case ended: none recorded, and a snapshot's closure of a case it no longer lists.
UNKNOWN_OUTCOMES = frozenset({NOT_RECORDED, "not_in_export"})


@dataclass(frozen=True)
class ArrestSplit:
    arrested: int
    without_arrest: int
    not_recorded: int  # closed with no outcome that says either way

    @property
    def closed(self) -> int:
        return self.arrested + self.without_arrest + self.not_recorded


def arrest_split(by_outcome: Mapping[str, int]) -> ArrestSplit:
    """Split closures by outcome (``closed_by_outcome``) into arrested, without arrest and not recorded."""
    arrested = by_outcome.get("arrested", 0)
    unknown = sum(n for o, n in by_outcome.items() if o in UNKNOWN_OUTCOMES)
    return ArrestSplit(arrested, sum(by_outcome.values()) - arrested - unknown, unknown)


def arrests_text(split: ArrestSplit) -> str:
    """In words: "2 arrested, 1 without arrest, 1 outcome not recorded" (the last part only when there are such
    closures), or "outcome not recorded" when no closure has one (an export without outcomes: no zeros that read as
    facts)."""
    if split.not_recorded and not split.arrested and not split.without_arrest:
        return "outcome not recorded"
    text = f"{split.arrested:,} arrested, {split.without_arrest:,} without arrest"
    if split.not_recorded:
        text += f", {split.not_recorded:,} outcome not recorded"
    return text
