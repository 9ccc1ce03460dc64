"""What an export may contain: canonical columns per dataset, header aliases, value vocabularies, and the
header names that would carry names or dates of birth (refused outright).

This module is the single source of truth: ``docs/importing.md`` renders these tables (a test checks the two
agree), and the validators build their lookup dictionaries from them once per import.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

ColumnKind = Literal["text", "district", "date", "enum", "force", "owner"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind
    required: bool = False  # the header must be present
    max_len: int = 64  # the store's column width; longer text is a row error rather than a truncation
    vocabulary: str | None = None  # for kind "enum": a key of VOCABULARIES
    future_ok: bool = False  # dates that may lie after the as-of date (bail end, due date)


def _cols(*cols: Column) -> tuple[Column, ...]:
    return cols


FORCE = Column("force", "force", max_len=32)

SCHEMAS: dict[str, tuple[Column, ...]] = {
    "wanted": _cols(
        Column("reference", "text", required=True),
        Column("person_ref", "text"),
        Column("crime_ref", "text"),
        Column("offence", "text", required=True),
        Column("district", "district", required=True),
        Column("reason", "enum", required=True, vocabulary="reason"),
        Column("circulated_on", "date", required=True),
        Column("last_reviewed_on", "date"),
        Column("closed_on", "date"),
        Column("status", "enum", vocabulary="case_status"),
        Column("outcome", "enum", vocabulary="closure_outcome"),
        Column("oic", "text", max_len=32),
    ),
    "suspects": _cols(
        Column("reference", "text", required=True),
        Column("person_ref", "text"),
        Column("crime_ref", "text"),
        Column("offence", "text", required=True),
        Column("district", "district", required=True),
        Column("identified_on", "date", required=True),
        Column("closed_on", "date"),
        Column("status", "enum", vocabulary="case_status"),
        Column("outcome", "enum", vocabulary="closure_outcome"),
        Column("oic", "text", max_len=32),
    ),
    "bail": _cols(
        Column("reference", "text", required=True),
        Column("person_ref", "text"),
        Column("crime_ref", "text"),
        Column("offence", "text", required=True),
        Column("district", "district", required=True),
        Column("kind", "enum", required=True, vocabulary="kind"),
        Column("started_on", "date", required=True),
        Column("bail_end_on", "date", future_ok=True),
        Column("ended_on", "date"),
        Column("outcome", "enum", vocabulary="outcome"),
        Column("oic", "text", max_len=32),
    ),
    "actions": _cols(
        Column("reference", "text", required=True, max_len=32),
        Column("pillar", "enum", required=True, vocabulary="pillar"),
        Column("title", "text", required=True, max_len=500),
        Column("detail", "text", max_len=100_000),
        Column("owner", "owner", max_len=16),
        Column("status", "enum", required=True, vocabulary="action_status"),
        Column("due_on", "date", future_ok=True),
        Column("source", "text", max_len=500),
        Column("notes", "text", max_len=100_000),
        Column("kind", "enum", vocabulary="action_kind"),
        Column("recurs", "enum", vocabulary="recurrence"),
        Column("completed_on", "date"),
        Column("evidence", "text", max_len=100_000),
    ),
}

# The model class / table each dataset lands in, and its opened / closed date columns.
TABLES: dict[str, str] = {"wanted": "wanted", "suspects": "suspect", "bail": "bail_period", "actions": "action"}
OPENED: dict[str, str] = {"wanted": "circulated_on", "suspects": "identified_on", "bail": "started_on"}
CLOSED: dict[str, str] = {"wanted": "closed_on", "suspects": "closed_on", "bail": "ended_on"}

# Header aliases, by canonical column. A header matches after normalisation (see ``header_key``), so
# "Date Circulated", "date_circulated" and "DATE-CIRCULATED" are one alias. The canonical name always matches.
ALIASES: dict[str, tuple[str, ...]] = {
    "force": ("Force", "Force Name", "Force Code"),
    "reference": (
        "Ref",
        "Reference No",
        "Wanted Ref",
        "Wanted Reference",
        "Circulation Ref",
        "Circulation Reference",
        "Circulation No",
        "Suspect Ref",
        "Suspect Reference",
        "Bail Ref",
        "Bail Reference",
        "Period Ref",
        "Action Ref",
        "Action No",
        "Action ID",
        "ID",
    ),
    "person_ref": ("Person Ref", "Person Reference", "Person ID", "Nominal Ref", "Nominal ID", "Nominal Reference"),
    "crime_ref": ("Crime No", "Crime Number", "Crime Ref", "Crime Reference", "CRN", "Occurrence Ref"),
    "offence": ("Offence Group", "Offence Type", "Offence Category", "Crime Type", "Crime Group"),
    "district": ("Policing Area", "Area", "District", "Division", "Locality"),
    "reason": ("Circulation Reason", "Wanted Reason", "Reason Wanted", "Circumstance"),
    "circulated_on": ("Date Circulated", "Circulated", "Circulated Date", "Circulation Date", "Date Wanted"),
    "last_reviewed_on": ("Last Reviewed", "Date Last Reviewed", "Last Review Date", "Last Review", "Reviewed On"),
    "closed_on": ("Date Closed", "Closed", "Closed Date", "Closure Date", "Date Cancelled", "Date Arrested"),
    "status": ("Status", "Current Status", "State", "Action Status"),
    "oic": ("OIC", "Officer in Case", "Officer in Charge", "Officer", "OIC Collar", "Collar No"),
    "identified_on": ("Date Identified", "Identified", "Identified Date", "Date Suspect Identified"),
    "kind": ("Type", "Bail Type", "Bail or RUI", "Bail RUI", "Bail/RUI"),
    "started_on": ("Start Date", "Date Started", "Started", "Bail Start", "Bail Start Date", "Date Bailed"),
    "bail_end_on": (
        "Bail End Date",
        "Current Bail End",
        "Current Bail End Date",
        "Bail End",
        "Bail Expiry",
        "Bail Expiry Date",
        "Bail Due Date",
        "Answer Date",
    ),
    "ended_on": ("Date Ended", "End Date", "Ended", "Ended Date", "Date Finalised", "Finalised Date"),
    "outcome": ("Outcome", "Result", "Final Outcome"),
    "pillar": ("Pillar", "Strategy Pillar", "Theme", "Strand"),
    "title": ("Title", "Action", "Action Title", "Action Description"),
    "detail": ("Detail", "Details", "Description"),
    "owner": ("Owner", "Owners", "Action Owner", "Lead", "Owner Initials"),
    "due_on": ("Due Date", "Due", "Due By", "Deadline", "Target Date"),
    "source": ("Source", "Origin", "Recommendation", "Source Recommendation"),
    "notes": ("Notes", "Note", "Update", "Latest Update", "Comments", "Progress"),
    "recurs": ("Recurs", "Recurring", "Frequency", "Repeat", "Repeats"),
    "completed_on": ("Completed", "Date Completed", "Completed On", "Completion Date", "Achieved On"),
    "evidence": ("Evidence", "Closing Evidence", "Closure Evidence", "Closed By"),
}

# Value vocabularies: canonical value -> accepted spellings (matched after ``value_key`` normalisation).
VOCABULARIES: dict[str, dict[str, tuple[str, ...]]] = {
    "reason": {
        "never_arrested": ("never arrested", "not arrested", "not yet arrested", "never been arrested", "NA"),
        "failed_to_answer_bail": (
            "failed to answer bail",
            "fail to answer bail",
            "failure to answer bail",
            "failed to answer police bail",
            "FTA",
            "FTAB",
            "FTA bail",
        ),
        "bail_breach": (
            "bail breach",
            "breach of bail",
            "breach of bail conditions",
            "breached bail",
            "breached bail conditions",
            "breach",
        ),
        "rui_fresh_evidence": (
            "RUI fresh evidence",
            "RUI - fresh evidence",
            "RUI with fresh evidence",
            "RUI new evidence",
            "fresh evidence",
            "new evidence",
            "released under investigation fresh evidence",
        ),
    },
    "case_status": {
        "open": ("open", "live", "active", "circulated", "outstanding", "current", "wanted", "ongoing"),
        "closed": (
            "closed",
            "arrested",
            "located",
            "cancelled",
            "canceled",
            "withdrawn",
            "NFA",
            "no further action",
            "filed",
            "dealt with",
            "resolved",
            "complete",
            "completed",
        ),
    },
    # How a wanted circulation or an outstanding suspect was closed (the performance meeting's "closed without
    # arrest", §9.4). Sites add spellings through the config's [vocabularies.closure_outcome] aliases.
    "closure_outcome": {
        "arrested": ("arrested", "arrest", "arrested on warrant", "detained", "in custody", "charged"),
        "voluntary_attendance": ("voluntary attendance", "VA", "interviewed voluntarily", "attended voluntarily"),
        "located": ("located", "traced", "found", "located not arrested"),
        "cancelled": ("cancelled", "canceled", "withdrawn", "no longer wanted", "circulation cancelled"),
        "nfa": ("NFA", "no further action", "no further police action", "NFPA", "filed"),
        "other": ("other", "other outcome"),
        "not_in_export": ("not in export",),
    },
    "kind": {
        "bail": ("bail", "pre-charge bail", "precharge bail", "pre charge bail", "PCB", "police bail"),
        "rui": ("RUI", "released under investigation", "release under investigation", "under investigation"),
    },
    "outcome": {
        "charged": ("charged", "charge", "charged or summonsed", "summonsed", "postal requisition", "requisitioned"),
        "nfa": ("NFA", "no further action", "no further police action", "NFPA"),
        "out_of_court_disposal": (
            "out of court disposal",
            "out-of-court disposal",
            "OOCD",
            "caution",
            "conditional caution",
            "community resolution",
            "cannabis warning",
        ),
        "converted_to_rui": ("converted to RUI", "to RUI", "RUI", "released under investigation", "bail lapsed"),
        "converted_to_bail": ("converted to bail", "to bail", "bailed", "re-bailed", "pre-charge bail"),
        "other": ("other", "other outcome"),
        # Written by --snapshot when an open period is absent from a full export; accepted on re-import.
        "not_in_export": ("not in export",),
    },
    "pillar": {
        "detect": (
            "detect",
            "Detect Crime & Create Confidence",
            "Detect Crime and Create Confidence",
            "Detect Crime",
            "Create confidence",
        ),
        "divert": ("divert", "Divert & Deter", "Divert and Deter", "Deter"),
        "deliver": ("deliver", "Deliver a Quality Service", "Deliver Quality Service", "Quality Service"),
        "demonstrate": (
            "demonstrate",
            "Demonstrate Compliance & Quality",
            "Demonstrate Compliance and Quality",
            "Demonstrate Compliance",
            "Compliance",
        ),
    },
    # What an item of the log is: an action being worked, an achievement recorded as done, or an HMICFRS
    # recommendation (the appendix's third section).
    "action_kind": {
        "action": ("action", "actions"),
        "achievement": ("achievement", "achievements"),
        "hmic": ("hmic", "hmicfrs", "hmic recommendation", "hmic recommendations", "recommendation"),
    },
    # How often a recurring action comes round, in months.
    "recurrence": {
        "1": ("monthly", "every month", "1m", "1 month", "every 1 month"),
        "3": ("quarterly", "every quarter", "every 3 months", "3m", "3 months"),
        "6": ("every 6 months", "six monthly", "6 monthly", "half yearly", "twice a year", "6m", "6 months"),
        "12": ("annually", "yearly", "every year", "every 12 months", "12m", "12 months"),
    },
    "action_status": {
        "open": ("open", "new", "not started"),
        "ongoing": ("ongoing", "in progress", "in hand", "underway", "on going"),
        "held": ("held", "on hold", "hold", "paused"),
        "complete": ("complete", "completed", "done", "achieved", "closed", "achievement"),
        "cancelled": ("cancelled", "canceled", "withdrawn", "dropped"),
    },
}


# A status that says how a case closed is a closed status: every spelling of a closure outcome ("Voluntary
# Attendance", "traced", "in custody" …) as well as those listed above, so an export that writes the outcome in its
# status column is read, and the status gives the outcome (bot/importing/validate.py). Not "other" (it says
# nothing of the case being closed) nor the bot's own "not in export".
def _with_closing_outcomes(closed: tuple[str, ...], outcomes: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    spellings = [s for o, names in outcomes.items() if o not in ("other", "not_in_export") for s in (o, *names)]
    unique: dict[str, str] = {}
    for s in (*closed, *(s.replace("_", " ") for s in spellings)):
        unique.setdefault(s.casefold(), s)  # "NFA" and "nfa" are one spelling: listed once, as first written
    return tuple(unique.values())


VOCABULARIES["case_status"]["closed"] = _with_closing_outcomes(
    VOCABULARIES["case_status"]["closed"], VOCABULARIES["closure_outcome"]
)

# Headers that would carry names or dates of birth. The bot stores pseudonymous references only
# (DPA 2018 Part 3, data minimisation), so a file offering them is refused before any data row is read.
NAME_HEADERS = frozenset(
    {
        "name",
        "names",
        "forename",
        "forenames",
        "firstname",
        "firstnames",
        "givenname",
        "givennames",
        "christianname",
        "middlename",
        "middlenames",
        "surname",
        "surnames",
        "lastname",
        "familyname",
        "maidenname",
        "fullname",
        "aliasname",
        "aliasnames",
        "alias",
        "aliases",
        "aka",
        "nickname",
        "initialsandsurname",
        # Welsh forces' exports: enw (name), cyfenw (surname), enw cyntaf (first name).
        "enw",
        "cyfenw",
        "enwcyntaf",
    }
)
DOB_HEADERS = frozenset(
    {"dob", "dateofbirth", "birthdate", "birthday", "dobdate", "yearofbirth", "dateborn", "yob", "born", "dyddiadgeni"}
)
# Contained anywhere in a header, these mean names or dates of birth ("Place of Birth" too: personal, not kept).
NAME_PARTS = ("forename", "surname", "alias")
DOB_PARTS = ("birth", "dyddiadgeni")
# "<thing> name" headers that describe a place or category rather than a person.
_NON_PERSONAL_NAME_PREFIXES = frozenset(
    {"offence", "crime", "district", "area", "force", "file", "team", "unit", "station", "pillar", "sheet", "user"}
)

# Latin look-alikes (after NFKC, which already folds full-width, mathematical and compatibility letters): the
# letters of other scripts that Unicode's confusables data (UTS #39) gives a Latin letter as their prototype, so
# that "Nаme" with a Cyrillic "а", "ΝΑΜΕ" in Greek capitals or "ᴅᴏʙ" in small capitals reads as the header it
# imitates. Digits 0 and 1 fold to o and l, as in UTS #39 ("D0B"); "|" to l.
_LOOKALIKES = str.maketrans(
    {
        **dict.fromkeys("АаⲀⲁᎪ", "a"),  # Cyrillic, Coptic, Cherokee
        **dict.fromkeys("ΑαⱭɑ", "a"),  # Greek, Latin alpha
        **dict.fromkeys("ВвΒβƄьЬᏴ", "b"),
        **dict.fromkeys("СсϹϲⲤⲥᏟ", "c"),
        **dict.fromkeys("ԀԁᎠ", "d"),
        **dict.fromkeys("ЕеЀѐЁёΕεϵᎬ", "e"),
        **dict.fromkeys("ϜϝҒғ", "f"),
        **dict.fromkeys("ԌԍɡᏀ", "g"),
        **dict.fromkeys("НнҺһΗհᎻ", "h"),
        **dict.fromkeys("ІіЇїΙιɩıӀӏ", "i"),
        **dict.fromkeys("ЈјϳȷᎫ", "j"),
        **dict.fromkeys("КкΚκĸᏦ", "k"),
        **dict.fromkeys("ԼӀӏⅼᏞ|1", "l"),
        **dict.fromkeys("МмΜᎷ", "m"),
        **dict.fromkeys("Νո", "n"),
        **dict.fromkeys("ОоΟοσՕօ০0", "o"),
        **dict.fromkeys("РрΡρᏢ", "p"),
        **dict.fromkeys("Ԛԛզ", "q"),
        **dict.fromkeys("Ꮢг", "r"),
        **dict.fromkeys("ЅѕՏꜱᏚ", "s"),
        **dict.fromkeys("ТтΤτᎢ", "t"),
        **dict.fromkeys("Սսυϋΰ", "u"),
        **dict.fromkeys("ѴѵνᏙ", "v"),
        **dict.fromkeys("ԜԝѡᎳաɯ", "w"),
        **dict.fromkeys("ХхΧχ", "x"),
        **dict.fromkeys("УуҮүΥγ", "y"),
        **dict.fromkeys("ΖᏃ", "z"),
        # Small capitals.
        "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ɢ": "g", "ʜ": "h", "ɪ": "i", "ᴊ": "j", "ᴋ": "k",
        "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w",
        "ʏ": "y", "ᴢ": "z",
    }
)  # fmt: skip


def fold_lookalikes(text: str) -> str:
    """``text`` as the Latin letters it looks like, lower case: NFKC (full-width ``ＮＡＭＥ``, mathematical
    ``𝐍𝐚𝐦𝐞``), look-alike letters of other scripts, then accents and other combining marks dropped."""
    folded = unicodedata.normalize("NFKC", text).translate(_LOOKALIKES)
    decomposed = unicodedata.normalize("NFKD", folded.casefold().translate(_LOOKALIKES))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def header_key(header: object) -> str:
    """Normalise a header: look-alike characters folded to the Latin letters they imitate, lower case, every
    character that is not a letter or digit dropped.

    So case, spaces, hyphens, underscores, punctuation, invisible characters and disguises never matter:
    ``D.O.B.`` → ``dob``, ``Date-Circulated`` → ``datecirculated``, ``Nаme`` (Cyrillic а) and ``ＮＡＭＥ`` → ``name``.
    """
    return re.sub(r"[^0-9a-z]+", "", fold_lookalikes(str(header if header is not None else "")))


def personal_header_reason(header: object) -> str | None:
    """Why a header may not be imported (it holds names or dates of birth), or None if it is fine."""
    key = header_key(header)
    if not key:
        return None
    if "birth" in key and not any(word in key for word in ("date", "day", "year")):
        return "it would hold details of birth"
    if (
        key in DOB_HEADERS
        or any(part in key for part in DOB_PARTS)
        or key.startswith(("dob", "born"))
        or key.endswith(("dob", "born"))
    ):
        return "it would hold dates of birth"
    if key in NAME_HEADERS or any(part in key for part in NAME_PARTS):
        return "it would hold names"
    for suffix in ("names", "name"):
        if key.endswith(suffix):
            prefix = key[: -len(suffix)]
            if prefix not in _NON_PERSONAL_NAME_PREFIXES:
                return "it would hold names"
    return None


# A dot or apostrophe inside a word joins it: ``R.U.I.`` is "rui", ``N.F.A.`` "nfa", ``King’s`` "kings".
_INSIDE_WORD = re.compile(r"(?<=[0-9a-z])[.'\u2018\u2019\u02bc](?=[0-9a-z])")


def value_key(value: str) -> str:
    """Normalise a vocabulary value: lower case, ``&`` read as "and", a dot or apostrophe inside a word dropped
    (abbreviations written with dots), runs of other punctuation as one space."""
    joined = _INSIDE_WORD.sub("", value.lower().replace("&", " and "))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", joined).split())


def header_map(dataset: str) -> dict[str, str]:
    """Normalised header -> canonical column, for one dataset (its own columns plus ``force``)."""
    out: dict[str, str] = {}
    for col in (*SCHEMAS[dataset], FORCE):
        out[header_key(col.name)] = col.name
        for alias in ALIASES.get(col.name, ()):
            out.setdefault(header_key(alias), col.name)
    return out


class UnknownVocabularyValue(ValueError):
    """The config adds spellings to a value the vocabulary does not have."""


def vocabulary_lookup(vocabulary: str, extra: Mapping[str, Sequence[str]] | None = None) -> dict[str, str]:
    """Normalised spelling -> canonical value; ``extra`` (the config's [vocabularies.<name>]) adds spellings to
    existing values — one naming no value of the vocabulary raises :class:`UnknownVocabularyValue`."""
    out: dict[str, str] = {}
    for canonical, spellings in VOCABULARIES[vocabulary].items():
        out[value_key(canonical)] = canonical
        for s in spellings:
            out.setdefault(value_key(s), canonical)
    for canonical, added in (extra or {}).items():
        if canonical not in VOCABULARIES[vocabulary]:
            raise UnknownVocabularyValue(
                f"config vocabularies.{vocabulary}: unknown value {canonical!r}; "
                f"valid values: {', '.join(VOCABULARIES[vocabulary])}"
            )
        for s in added:
            out[value_key(s)] = canonical
    return out


def markdown_tables() -> str:
    """The column, alias and vocabulary tables of ``docs/importing.md`` (kept in step by a test)."""
    out = ["### Columns per dataset", "", "| dataset | required columns | optional columns |", "|---|---|---|"]
    for dataset, cols in SCHEMAS.items():
        req = ", ".join(f"`{c.name}`" for c in cols if c.required)
        opt = ", ".join(f"`{c.name}`" for c in (*cols, FORCE) if not c.required)
        out.append(f"| {dataset} | {req} | {opt} |")
    out += ["", "### Header aliases", "", "| column | also accepted as |", "|---|---|"]
    for name, aliases in ALIASES.items():
        out.append(f"| `{name}` | {', '.join(aliases)} |")
    out += ["", "### Values", "", "| vocabulary | value | also accepted as |", "|---|---|---|"]
    for vocab, values in VOCABULARIES.items():
        for canonical, spellings in values.items():
            others = [s for s in spellings if value_key(s) != value_key(canonical)]
            out.append(f"| {vocab} | `{canonical}` | {', '.join(others) or '—'} |")
    out += [
        "",
        "### Refused headers (names and dates of birth)",
        "",
        "After normalisation (lower case, letters and digits only) a header is refused when it is one of: "
        + ", ".join(f"`{h}`" for h in sorted(NAME_HEADERS | DOB_HEADERS))
        + "; or contains "
        + ", ".join(f"`{p}`" for p in (*NAME_PARTS, *DOB_PARTS))
        + "; or starts or ends with `dob` or `born`; or ends with `name`/`names` (except after "
        + ", ".join(f"`{p}`" for p in sorted(_NON_PERSONAL_NAME_PREFIXES))
        + "). Before that, look-alike characters are read as the Latin letters they imitate: Unicode NFKC "
        "(full-width `ＮＡＭＥ`), the Cyrillic, Greek, Armenian and Cherokee letters and small capitals that "
        "Unicode's confusables data maps to a Latin letter (`Nаme` with a Cyrillic `а`), `0` as `o` and `1` as "
        "`l`, and accents dropped; and every worksheet of a workbook is checked, not only the one imported.",
    ]
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # regenerate the tables: python -m bot.importing.columns
    print(markdown_tables(), end="")
