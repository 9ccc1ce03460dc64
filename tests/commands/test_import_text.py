"""The message that comes with an export: the dataset and the import's options, or a refusal naming the word."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.file_imports.types import ImportOptions
from commands.import_text import ImportTextError, parse_import_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ImportOptions()),
        ("wanted", ImportOptions(dataset="wanted")),
        ("import bail --snapshot", ImportOptions(dataset="bail", snapshot=True)),
        ("RUI", ImportOptions(dataset="bail")),
        ("suspects --as-of 2026-11-30", ImportOptions(dataset="suspects", as_of=dt.date(2026, 11, 30))),
        ("suspects --as-of=30/11/2026", ImportOptions(dataset="suspects", as_of=dt.date(2026, 11, 30))),
        (
            "suspects --as-of 30 Nov 2026",
            ImportOptions(dataset="suspects", as_of=dt.date(2026, 11, 30)),
        ),  # as answers say
        (
            "bail --as-of 1 December 2026 --covers-from 1 Jan 2024 --snapshot",
            ImportOptions(dataset="bail", as_of=dt.date(2026, 12, 1), covers_from=dt.date(2024, 1, 1), snapshot=True),
        ),
        ("wanted \u2014snapshot", ImportOptions(dataset="wanted", snapshot=True)),  # Slack's em dash for --
        ("--snapshot", ImportOptions(snapshot=True)),
        (
            "suspects --as-of 2026-11-30 --covers-from 2024-01-01",
            ImportOptions(dataset="suspects", as_of=dt.date(2026, 11, 30), covers_from=dt.date(2024, 1, 1)),
        ),
    ],
)
def test_what_a_message_asks_for(text: str, expected: ImportOptions) -> None:
    assert parse_import_text(text) == expected


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("wanted --snapshop", "`--snapshop`"),
        ("wanted bail", "`bail`"),
        ("please import this", "`please`"),
        ("wanted --as-of yesterday", "`yesterday`"),
        ("wanted --as-of", "`(nothing)`"),
        ("wanted --covers-from soon", "`soon`"),
        ("actions --covers-from 2024-01-01", "`--covers-from`"),
    ],
)
def test_a_word_it_does_not_know_is_named(text: str, named: str) -> None:
    with pytest.raises(ImportTextError) as e:
        parse_import_text(text)
    assert named in str(e.value) and "Nothing was imported" in str(e.value)
