"""Value types of `/mo` flags: each converts the typed text and, when it can't, says what was expected.

Types that depend on who asks (a district of *their* force, a date not after *their* today) read the
:class:`ParseContext`; without one (``plan()``, which must stay cheap and force-free) they only check the shape.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.config import Force, normalise_token
from bot.dates import age_days, age_words


class BadValue(ValueError):
    """A flag value that can't be used; ``message`` says why and ``hint`` what would work."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class ParseContext:
    force: Force | None = None
    today: dt.date | None = None


@dataclass(frozen=True)
class ValueType:
    name: str
    metavar: str
    # Shown in help and in errors: the accepted format.
    format_hint: str
    convert: Callable[[str, ParseContext], Any]
    is_switch: bool = False
    # Whether help repeats format_hint after the flag's own help (useful for dates and durations, noise for text).
    help_format: bool = True
    # How many of the words after a value's first word are part of it (a value typed as people say it: "--older-than
    # 3 months", "--as-of 30 Nov 2026"), given the first word and the words after it (up to the next flag).
    more_words: Callable[[str, Sequence[str]], int] | None = None


@dataclass(frozen=True)
class Duration:
    """A length of time as typed (``90d``, ``12w``, ``6m``); months are calendar months back from a date."""

    amount: int
    unit: str  # d | w | m

    def days(self, before: dt.date) -> int:
        return age_days(self.amount, self.unit, before)

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"

    def words(self) -> str:
        return age_words(self.amount, self.unit)


def did_you_mean(word: str, options: list[str] | tuple[str, ...], n: int = 3) -> list[str]:
    return difflib.get_close_matches(word.lower(), list(options), n=n, cutoff=0.6)


# ---------------------------------------------------------------------------------------------------------------
def _text(raw: str, _ctx: ParseContext) -> str:
    v = raw.strip()
    if not v:
        raise BadValue("is empty")
    if len(v) > 100:
        raise BadValue("is longer than 100 characters")
    return v


def _switch(raw: str, _ctx: ParseContext) -> bool:
    return True


# Day, month, year: 30/11/2026, and 30.11.2026 or 30-11-2026 as UK forms and spreadsheets also write it.
_DMY = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})$")
# The way the answers write a date ("30 Nov 2026"), so a date copied from one is understood.
_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
                "november", "december")  # fmt: skip
MONTHS = {name: i for i, full in enumerate(_MONTH_NAMES, start=1) for name in (full, full[:3])} | {"sept": 9}
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})\s+([a-z]+)\.?,?\s+(\d{4})$", re.IGNORECASE)
DATE_FORMATS = "YYYY-MM-DD or DD/MM/YYYY, e.g. 2026-11-01, 01/11/2026 or 1 Nov 2026"


def date_words(first: str, after: Sequence[str]) -> int:
    """How many of the words ``after`` a date's ``first`` word are part of it: a day, a month's name and a year
    typed apart ("30 Nov 2026") are one date."""
    if (
        first.isdigit()
        and len(first) <= 2
        and len(after) >= 2
        and after[0].lower().rstrip(".,") in MONTHS
        and re.fullmatch(r"\d{4}", after[1])
    ):
        return 2
    return 0


def parse_date(raw: str) -> dt.date:
    v = raw.strip()
    try:
        m = _DMY.match(v)
        if m:
            return dt.date(int(m[4]), int(m[3]), int(m[1]))
        m = _DAY_MONTH_YEAR.match(v)
        if m and m[2].lower() in MONTHS:
            return dt.date(int(m[3]), MONTHS[m[2].lower()], int(m[1]))
        if re.match(r"^\d{4}-\d{2}-\d{2}$", v):
            return dt.date.fromisoformat(v)
    except ValueError:
        raise BadValue(f"{raw!r} is not a real date", f"expected {DATE_FORMATS}") from None
    raise BadValue(f"{raw!r} is not a date", f"expected {DATE_FORMATS}")


def _date(raw: str, _ctx: ParseContext) -> dt.date:
    return parse_date(raw)


def _as_of(raw: str, ctx: ParseContext) -> dt.date:
    d = parse_date(raw)
    if ctx.today is not None and d > ctx.today:
        raise BadValue(f"{d.isoformat()} is in the future", f"use a date up to today ({ctx.today.isoformat()})")
    if d.year < 2000:
        raise BadValue(f"{d.isoformat()} is before the data starts", "use a date from 2000 on")
    return d


DURATION_FORMS = "a number and d, w, m or y, e.g. 90d, 12w, 6m or 1y"
MAX_YEARS = 99  # 9999d or 9999m already reach further back than any case; a year count past this is a typo
_DURATION_UNITS = r"(d|days?|w|weeks?|m|months?|y|yrs?|years?)"
_DURATION = re.compile(r"^(\d{1,4})\s*" + _DURATION_UNITS + "$")


def _duration(raw: str, _ctx: ParseContext) -> Duration:
    m = _DURATION.match(raw.strip().lower())
    if not m:
        raise BadValue(f"{raw!r} is not a length of time", f"expected {DURATION_FORMS}")
    if int(m[1]) == 0:
        raise BadValue(f"{raw!r} is no time at all", "use 1 or more, e.g. 1d, 12w or 6m")
    if m[2][0] == "y":
        if int(m[1]) > MAX_YEARS:
            raise BadValue(f"{raw!r} is longer than any record runs", f"use up to {MAX_YEARS}y")
        # A year is twelve calendar months back, and is said as such: `1y` and `12m` are one question (one answer
        # key), as "over a year old" in a question already is.
        return Duration(int(m[1]) * 12, "m")
    return Duration(int(m[1]), m[2][0])


def _month(raw: str, _ctx: ParseContext) -> str:
    v = raw.strip()
    m = re.match(r"^(\d{4})-(\d{2})$", v)
    if not m or not 1 <= int(m[2]) <= 12:
        raise BadValue(f"{raw!r} is not a month", "expected YYYY-MM, e.g. 2026-10")
    return v


def _district(raw: str, ctx: ParseContext) -> str:
    v = _text(raw, ctx)
    if ctx.force is None:
        return normalise_token(v)
    slug = ctx.force.resolve_district(v)
    if slug is not None:
        return slug
    names = [n for d in ctx.force.districts for n in (d.slug, normalise_token(d.label), *d.aliases)]
    close = did_you_mean(normalise_token(v), names)
    guess = ""
    if close:
        slugs = dict.fromkeys(ctx.force.resolve_district(c) for c in close)
        guess = f"did you mean {' or '.join(f'`{s}`' for s in slugs)}? "
    raise BadValue(f"{v!r} is not a district of {ctx.force.name}", f"{guess}districts: {ctx.force.district_choices()}")


_USER = re.compile(r"^@?([UW][A-Z0-9]{2,})$")


def _user_or_me(raw: str, _ctx: ParseContext) -> str:
    v = raw.strip()
    if v.lower() in ("me", "@me"):
        return "me"
    m = _USER.match(v)
    if not m:
        raise BadValue(f"{raw!r} is not a Slack user", "mention the person with @ (pick them from the list) or say me")
    return m[1]


def choice(*values: str, aliases: dict[str, str] | None = None, metavar: str | None = None) -> ValueType:
    """One of ``values``; hyphens, spaces and underscores are the same, case is ignored."""
    aliases = aliases or {}
    key = {v.replace("_", "-"): v for v in values}
    key.update({a.replace("_", "-"): v for a, v in aliases.items()})

    def conv(raw: str, _ctx: ParseContext) -> str:
        k = normalise_token(raw)
        if k in key:
            return key[k]
        close = did_you_mean(k, list(key))
        guess = f"did you mean `{key[close[0]]}`? " if close else ""
        raise BadValue(f"{raw!r} is not one of the choices", f"{guess}choices: {', '.join(values)}")

    return ValueType("choice", metavar or "|".join(values), "one of " + ", ".join(values), conv)


TEXT = ValueType("text", "TEXT", "words", _text, help_format=False)
SWITCH = ValueType("switch", "", "", _switch, is_switch=True, help_format=False)
_UNIT_WORD = re.compile(_DURATION_UNITS + "$", re.IGNORECASE)


def _unit_words(first: str, after: Sequence[str]) -> int:
    """A number typed apart from its unit ("3 months") is one length of time."""
    return 1 if first.isdigit() and after and _UNIT_WORD.match(after[0]) else 0


DATE = ValueType("date", "DATE", DATE_FORMATS, _date, more_words=date_words)
AS_OF_DATE = ValueType("as-of date", "DATE", DATE_FORMATS + ", not in the future", _as_of, more_words=date_words)
DURATION = ValueType(
    "duration", "AGE", "a number and d, w, m or y: 90d, 12w, 6m, 1y", _duration, more_words=_unit_words
)
MONTH = ValueType("month", "YYYY-MM", "YYYY-MM, e.g. 2026-10", _month)
DISTRICT = ValueType("district", "DISTRICT", "a district of your force, or an alias", _district, help_format=False)
USER_OR_ME = ValueType("user", "@USER|me", "a Slack @mention, or me", _user_or_me, help_format=False)
