"""The value of `--reference` is replaced in the audited text, in every spelling the parser accepts."""

from __future__ import annotations

import pytest

from bot.withheld import withhold_reference
from commands.mo.pipeline import audit_detail


@pytest.mark.parametrize(
    ("typed", "audited"),
    [
        ("audit --since 2026-11-01 --reference 37/12345/24", "audit --since 2026-11-01 --reference <withheld>"),
        ("audit --reference=37/12345/24 --format csv", "audit --reference=<withheld> --format csv"),
        ("audit --REFERENCE 37/12345/24", "audit --REFERENCE <withheld>"),
        ('audit --reference "37 12345 24" --since 2026-11-01', "audit --reference <withheld> --since 2026-11-01"),
        ("audit --reference '37/1", "audit --reference <withheld>"),
        ("audit —reference 37/12345/24", "audit --reference <withheld>"),  # a client's em dash, normalised first
        ("wanted --district ipswich", "wanted --district ipswich"),
    ],
)
def test_the_audited_text_never_holds_the_reference(typed: str, audited: str) -> None:
    assert audit_detail(typed) == audited


def test_a_replacement_goes_where_the_value_was() -> None:
    assert withhold_reference("audit --reference R1 --since 2026-01-01", "hmac:ab") == (
        "audit --reference hmac:ab --since 2026-01-01"
    )
