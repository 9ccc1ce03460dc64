"""Which dataset an export is, from its header row (names and aliases as the import reads them)."""

from __future__ import annotations

import pytest

from bot.file_imports.recognise import datasets_for_header


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["reference", "offence", "district", "reason", "circulated_on"], ("wanted",)),
        (["Reference", "Offence", "District", "Circulation Reason", "Date Circulated", "OIC"], ("wanted",)),
        (["reference", "offence", "district", "Date Identified", "Status"], ("suspects",)),
        (["Reference", "Offence", "District", "Bail Type", "Start Date", "Bail End Date"], ("bail",)),
        (["reference", "pillar", "title", "status"], ("actions",)),
        (["reference", "offence", "district", "reason", "circulated_on", "identified_on"], ("wanted", "suspects")),
        (["reference", "offence", "district"], ()),
        ([], ()),
    ],
)
def test_datasets_for_header(header: list[str], expected: tuple[str, ...]) -> None:
    assert datasets_for_header(header) == expected
