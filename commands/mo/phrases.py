"""Questions in people's own words — "how many wanted in ipswich", "rui over 12 months in lowestoft", "bail ending
this week", "suspects for burglary older than 3 months", "who's on bail in bury" — read as the `/mo` command they
mean, by a deterministic grammar over the registry's own vocabulary: its figure sub-commands and their aliases,
the asker's force's districts and aliases, the wanted reasons, periods, a whole date ("on 31 Oct 2026", "as of
31/10/2026") and an offence group named after "for".
No network and no model: the same words always give the same command, and the answer shows that command
(``as /mo wanted --district ipswich``) so people learn the short form.

Only counts are ever produced (no ``--list``, ``--share`` or ``--post``): a phrase never discloses case references
or posts to a channel, and is always answered inside the ack like the counts it stands for.

Every word must be understood: a word that is neither vocabulary nor one of the few joining words ("how many",
"in", "on", "who's"…) makes the phrase not understood, and the reply names it with the closest commands. A phrase
that names no figure, or two, is not understood either — the grammar never guesses between readings.
"""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import re
from dataclasses import dataclass

from bot.config import Force
from commands.mo.specs import Registry
from commands.mo.values import MONTHS, BadValue, parse_date

# The sub-commands a phrase can stand for, and the flags each accepts in a phrase.
FIGURES = ("wanted", "suspects", "bail", "rui", "status")
_FLAGS = {
    "wanted": ("--district", "--offence", "--reason", "--older-than", "--trend", "--as-of"),
    "suspects": ("--district", "--offence", "--older-than", "--trend", "--as-of"),
    "bail": ("--district", "--offence", "--older-than", "--expiring", "--trend", "--as-of"),
    "rui": ("--district", "--offence", "--older-than", "--trend", "--as-of"),
    "status": (),
}
# Asking how a figure moved over the months (`--trend`; not with an age or an expiry window, which are one day's).
_TREND_PHRASES: dict[tuple[str, ...], str] = {
    ("trend",): "",
    ("trends",): "",
    ("over", "time"): "",
    ("month", "by", "month"): "",
    ("by", "month"): "",
    ("per", "month"): "",
    ("each", "month"): "",
    ("monthly",): "",
    ("over", "the", "last", "year"): "",
    ("over", "the", "year"): "",
}
# Other names people give a figure (on top of the registry's names and aliases).
_FIGURE_PHRASES: dict[tuple[str, ...], str] = {
    ("released", "under", "investigation"): "rui",
    ("under", "investigation"): "rui",
    ("pre", "charge", "bail"): "bail",
    ("precharge", "bail"): "bail",
    ("outstanding", "suspects"): "suspects",
    ("wanted", "persons"): "wanted",
    ("wanted", "people"): "wanted",
    ("freshness",): "status",
    ("fresh",): "status",
    ("last", "import"): "status",
    ("last", "imported"): "status",
    ("up", "to", "date"): "status",
}
# The wanted reasons as people say them, by the --reason value the registry accepts.
_REASON_PHRASES: dict[tuple[str, ...], str] = {
    ("never", "arrested"): "never-arrested",
    ("not", "yet", "arrested"): "never-arrested",
    ("not", "arrested"): "never-arrested",
    ("failed", "to", "answer", "bail"): "ftab",
    ("failing", "to", "answer", "bail"): "ftab",
    ("ftab",): "ftab",
    ("breach", "of", "bail"): "breach",
    ("bail", "breach"): "breach",
    ("breached", "bail"): "breach",
    ("fresh", "evidence"): "rui-fresh-evidence",
}
_OLDER = (
    ("older", "than"),
    ("more", "than"),
    ("longer", "than"),
    ("at", "least"),
    ("for", "over"),
    ("for", "more", "than"),
    ("over",),
    ("above",),
    ("for",),  # "wanted for 3 months"
)
_UNITS = {
    "d": "d", "day": "d", "days": "d",
    "w": "w", "wk": "w", "wks": "w", "week": "w", "weeks": "w",
    "m": "m", "mo": "m", "mth": "m", "mths": "m", "month": "m", "months": "m",
    "y": "y", "yr": "y", "yrs": "y", "year": "y", "years": "y",
}  # fmt: skip
_ENDING = ("ending", "ends", "end", "expiring", "expires", "expire", "due", "running")
_WINDOWS: dict[tuple[str, ...], str] = {
    ("today",): "1d",
    ("tomorrow",): "2d",
    ("this", "week"): "7d",
    ("next", "week"): "14d",
    ("this", "fortnight"): "14d",
    ("next", "fortnight"): "14d",
    ("this", "month"): "1m",
    ("next", "month"): "2m",
}
# Joining words: understood and ignored.
_FILLER = frozenset(
    {
        "how", "many", "much", "number", "of", "count", "total", "are", "is", "there", "the", "a", "who", "what",
        "show", "me", "give", "tell", "us", "all", "any", "people", "person", "persons", "offenders", "cases",
        "records", "currently", "now", "at", "present", "open", "active", "do", "we", "have", "has", "got", "our",
        "from", "with", "please", "can", "you", "whats", "whos", "hows", "by", "to", "soon", "out", "data", "figures",
        "in", "on", "when", "was", "were", "thanks", "about",
    }
)  # fmt: skip
# Words that end an offence group named after "for".
_STOP = frozenset(
    {"in", "at", "on", "over", "older", "more", "longer", "above", "ending", "expiring", "since", "please", "thanks"}
)
_PUNCTUATION = '?!.,;:"()'
# Longer text is not read as a phrase: questions are a few words, and the grammar's look-ahead (an offence after
# "for") must stay cheap on the longest text Slack can send.
MAX_PHRASE_CHARS = 200
_NUMBER = re.compile(r"^(\d{1,4})([a-z]*)$")
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "nine": 9, "twelve": 12, "eighteen": 18}


@dataclass(frozen=True)
class Phrased:
    """The `/mo` command a phrase means (canonical text: sub-command, then flags in a fixed order)."""

    command: str


@dataclass(frozen=True)
class NotUnderstood:
    word: str | None  # the first word not understood (None: no figure named, or two)
    suggestions: tuple[str, ...]  # the closest commands, as `/mo` text
    # A day and month said without a year ("on 30 nov"): (day, month number), so the refusal can say what is missing.
    no_year: tuple[int, int] | None = None


def words_of(text: str) -> list[str]:
    """Lower-case words: apostrophes dropped ("who's" → "whos"), hyphens and slashes read as spaces, a question's
    punctuation at a word's ends dropped. A word with anything else in it is kept as it is, so it is not understood
    (a phrase is never read by ignoring what it does not know)."""
    s = text.lower().replace("\u2019", "'").replace("'", "")
    out: list[str] = []
    for raw in re.sub(r"(?<=\w)[-/](?=\w)", " ", s).split():
        w = raw.strip(_PUNCTUATION).rstrip("+")
        if w:
            out.append(w)
    return out


def _figure_names(reg: Registry) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in FIGURES:
        spec = reg.get(name)
        if spec is None:
            continue
        for n in (spec.name, *spec.aliases):
            out[n] = spec.name
    return out


def understand(text: str, force: Force, reg: Registry) -> Phrased | NotUnderstood:
    if len(text) > MAX_PHRASE_CHARS:
        return NotUnderstood(None, ())  # a question in words is a line; a longer text is not read as one
    words = words_of(text)
    names = _figure_names(reg)
    found = _read(words, force, names)
    if isinstance(found, Phrased):
        return found
    return NotUnderstood(found, _suggest(words, force, names), _day_and_month(words))


def _read(words: list[str], force: Force, names: dict[str, str]) -> Phrased | str | None:
    """The command, or the first word not understood (None when no figure, or more than one, is named)."""
    figures: list[str] = []
    flags: dict[str, str] = {}
    i = 0
    while i < len(words):
        n = _match(words, i, _REASON_PHRASES)
        if n:
            flags["--reason"] = _REASON_PHRASES[tuple(words[i : i + n])]
            i += n
            continue
        n = _match(words, i, _TREND_PHRASES)
        if n:
            flags["--trend"] = ""
            i += n
            continue
        n, value = _on_date(words, i)
        if n:
            flags["--as-of"] = value
            i += n
            continue
        n, value = _expiring(words, i)
        if n:
            flags["--expiring"] = value
            i += n
            continue
        n, value = _older(words, i)
        if n:
            flags["--older-than"] = value
            i += n
            continue
        n = _match(words, i, _FIGURE_PHRASES)
        if n:
            figures.append(_FIGURE_PHRASES[tuple(words[i : i + n])])
            i += n
            continue
        n, district = _district(words, i, force)
        if n:
            flags["--district"] = district
            i += n
            continue
        if words[i] in names:
            figures.append(names[words[i]])
            i += 1
            continue
        if words[i] == "for":
            n, offence = _offence(words, i + 1, force, names)
            if n:
                flags["--offence"] = offence
                i += 1 + n
                continue
        if words[i] in _FILLER or words[i] == "for":
            i += 1
            continue
        return words[i]
    kinds = list(dict.fromkeys(figures))
    if len(kinds) != 1:
        return None
    command = kinds[0]
    allowed = _FLAGS[command]
    for flag in flags:
        if flag not in allowed:
            return None
    if "--trend" in flags and ("--older-than" in flags or "--expiring" in flags):
        return None
    parts = [command]
    for flag in ("--district", "--offence", "--reason", "--older-than", "--expiring", "--trend", "--as-of"):
        if flag in flags:
            parts += [flag, flags[flag]] if flags[flag] else [flag]
    return Phrased(" ".join(parts))


def _match(words: list[str], i: int, table: dict[tuple[str, ...], str]) -> int:
    for n in (4, 3, 2, 1):
        if tuple(words[i : i + n]) in table and i + n <= len(words):
            return n
    return 0


def _amount(words: list[str], i: int) -> tuple[int, str | None] | None:
    """A number and its unit at ``i``: ``12 months``, ``12m``, ``twelve months`` → (words used, "12m")."""
    if i >= len(words):
        return None
    w = words[i]
    m = _NUMBER.match(w)
    if m:
        amount, unit = int(m[1]), m[2]
        if unit:
            return (1, _duration(amount, unit)) if unit in _UNITS else None
    elif w in _WORDS:
        amount = _WORDS[w]
    else:
        return None
    if i + 1 < len(words) and words[i + 1] in _UNITS:
        return 2, _duration(amount, words[i + 1])
    return None


def _duration(amount: int, unit: str) -> str | None:
    u = _UNITS[unit]
    if amount == 0:
        return None
    return f"{amount * 12}m" if u == "y" else f"{amount}{u}"


def _older(words: list[str], i: int) -> tuple[int, str]:
    for lead in _OLDER:
        n = len(lead)
        if tuple(words[i : i + n]) == lead:
            got = _amount(words, i + n)
            if got is not None and got[1] is not None:
                used = n + got[0]
                if i + used < len(words) and words[i + used] in ("old", "ago"):
                    used += 1
                return used, got[1]
    got = _amount(words, i)  # "12 months old", "3m+"
    if got is not None and got[1] is not None and i + got[0] < len(words) and words[i + got[0]] in ("old", "plus"):
        return got[0] + 1, got[1]
    return 0, ""


_ORDINAL = re.compile(r"^(\d{1,2})(st|nd|rd|th)?$")


def _on_date(words: list[str], i: int) -> tuple[int, str]:
    """A whole date at ``i`` (after "as of", if said): ``30 nov 2026`` or ``30th november 2026``, 30/11/2026 or
    2026-11-30 (which :func:`words_of` has split into three words), or a month's last day, ``end of october 2026``
    → (words used, ISO date). A day and month without a year is not a date here: which year would be a guess."""
    j = i + 2 if tuple(words[i : i + 2]) == ("as", "of") else i
    if j < len(words) and re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{4}", words[j]):  # 30.11.2026: one word
        try:
            return j - i + 1, parse_date(words[j]).isoformat()
        except BadValue:
            return 0, ""
    three = words[j : j + 3]
    if len(three) < 3:
        return 0, ""
    if three[:2] == ["end", "of"]:  # "at the end of october 2026": the month's last day
        month_year = words[j + 2 : j + 4]
        if len(month_year) == 2 and month_year[0] in MONTHS and re.fullmatch(r"\d{4}", month_year[1]):
            in_year, in_month = int(month_year[1]), MONTHS[month_year[0]]
            return j - i + 4, dt.date(in_year, in_month, calendar.monthrange(in_year, in_month)[1]).isoformat()
        return 0, ""
    day, month, year = three
    if len(day) == 4 and day.isdigit():  # ISO order
        year, month, day = three
    m = _ORDINAL.match(day)
    if m is None or len(year) != 4 or not year.isdigit():
        return 0, ""
    number = MONTHS.get(month) if not month.isdigit() else int(month)
    if number is None:
        return 0, ""
    try:
        when = dt.date(int(year), number, int(m[1]))
    except ValueError:
        return 0, ""
    return j - i + 3, when.isoformat()


def _day_and_month(words: list[str]) -> tuple[int, int] | None:
    """The first day and month's name said without a year after them ("on 30 nov"), as (day, month)."""
    for k in range(len(words) - 1):
        m = _ORDINAL.match(words[k])
        month = MONTHS.get(words[k + 1])
        with_year = k + 2 < len(words) and re.fullmatch(r"\d{4}", words[k + 2])
        # A day some year has (2000: a leap year); a day no month has is no date at all.
        if m and month and not with_year and 1 <= int(m[1]) <= calendar.monthrange(2000, month)[1]:
            return int(m[1]), month
    return None


def _expiring(words: list[str], i: int) -> tuple[int, str]:
    if i >= len(words) or words[i] not in _ENDING:
        return 0, ""
    j = i + 1
    while j < len(words) and words[j] in ("to", "end", "out", "soon", "in", "within", "the", "next"):
        if words[j] == "next" and tuple(words[j : j + 2]) in _WINDOWS:
            break
        j += 1
    n = _match(words, j, _WINDOWS)
    if n:
        return j - i + n, _WINDOWS[tuple(words[j : j + n])]
    got = _amount(words, j)
    if got is not None and got[1] is not None:
        return j - i + got[0], got[1]
    if j > i + 1 and words[j - 1] == "soon":
        return 0, ""
    return 0, ""


def _district(words: list[str], i: int, force: Force) -> tuple[int, str]:
    for n in (3, 2, 1):
        if i + n <= len(words):
            slug = force.resolve_district(" ".join(words[i : i + n]))
            if slug is not None:
                return n, slug
    return 0, ""


def _offence(words: list[str], i: int, force: Force, names: dict[str, str]) -> tuple[int, str]:
    """The offence group named after "for": the words up to the next keyword (``criminal damage``)."""
    j = i
    while j < len(words) and words[j] not in _STOP and words[j] not in names and not _district(words, j, force)[0]:
        if _older(words, j)[0] or _expiring(words, j)[0] or _match(words, j, _REASON_PHRASES):
            break
        if _match(words, j, _FIGURE_PHRASES):
            break
        j += 1
    if j == i or (_older(words, i)[0]) or words[i] in _FILLER:
        return 0, ""
    return j - i, " ".join(words[i:j])


def _suggest(words: list[str], force: Force, names: dict[str, str]) -> tuple[str, ...]:
    """The closest commands: each word that looks like a figure's name read as that name, and the phrase read again."""
    fixed = list(words)
    changed = False
    for k, w in enumerate(words):
        if w in names or w in _FILLER:
            continue
        close = difflib.get_close_matches(w, list(names), n=1, cutoff=0.75)
        if close:
            fixed[k] = close[0]
            changed = True
    if changed:
        again = _read(fixed, force, names)
        if isinstance(again, Phrased):
            return (again.command,)
    named = [names[w] for w in words if w in names]
    if named:
        return tuple(dict.fromkeys(named))[:3]
    return ()
