"""Typed results of the figures services: what the CLI prints as JSON, the Slack answers render and the
monthly summary charts. Breakdowns are ordered dicts: bands in band order, districts in config order,
reasons and offences by count (descending, then name)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

WANTED_AGE_BANDS: tuple[str, ...] = ("0-27d", "28-90d", "91-180d", "181-365d", "over-365d")
LENGTH_BANDS: tuple[str, ...] = ("0-3m", "3-6m", "6-9m", "9-12m", "over-12m")
KINDS: tuple[str, ...] = ("bail", "rui")
WANTED_REASONS: tuple[str, ...] = ("never_arrested", "failed_to_answer_bail", "bail_breach", "rui_fresh_evidence")


@dataclass(frozen=True)
class Filters:
    """Narrowing a question; every figure of one answer is computed under the same filters."""

    district: str | None = None  # a district slug of the force (already resolved from aliases)
    offence: str | None = None  # offence group, matched case-insensitively
    reason: str | None = None  # wanted only: one of WANTED_REASONS
    older_than_days: int | None = None  # only rows opened more than this many days before as_of

    def opened_before(self, as_of: dt.date) -> dt.date | None:
        """The age filter's cutoff at ``as_of``: only cases opened before this date are counted."""
        if self.older_than_days is None:
            return None
        if self.older_than_days < 0:
            raise ValueError("older_than_days must not be negative")
        return as_of - dt.timedelta(days=self.older_than_days)

    def asked_at(self, older_than_days_at: int | None) -> Filters:
        """These filters for the figures asked at another date, the age filter counting back from that date:
        ``older_than_days_at`` (a calendar age, "12m", is not the same number of days from every date)."""
        if self.older_than_days is None or older_than_days_at is None:
            return self
        return replace(self, older_than_days=older_than_days_at)

    def counted_back_from(self, as_of: dt.date, at: dt.date, older_than_days_at: int | None = None) -> Filters:
        """These filters for a count at an earlier date ``at`` beside an answer at ``as_of``, the age filter counting
        back from ``at``: "over 12 months old on 7 Nov", which is how "111 on 7 Nov" next to today's figure reads.
        (Counted back from ``as_of`` instead, the earlier figure would be today's cohort a month before, which only
        shrinks as cases close: a fall every month, whatever the real trend.) The figures take the cutoff as days
        before the date they are asked at, so it is given as such. ``older_than_days_at``: the age in days back from
        ``at`` (a calendar age, "12m", is not the same number of days from every date); default the same days."""
        if self.older_than_days is None:
            return self
        if at > as_of:
            raise ValueError("a comparison date must not be after the answer's date")
        back = self.older_than_days if older_than_days_at is None else older_than_days_at
        return replace(self, older_than_days=(as_of - at).days + back)


@dataclass(frozen=True)
class People:
    """How many people the counted rows are about: the distinct person references among them, and how many of those
    rows carry one (``person_ref`` is optional row by row: the rest are about people nobody can count)."""

    people: int
    named_rows: int


@dataclass(frozen=True)
class MonthPoint:
    month: str  # "YYYY-MM"
    open_at_end: int  # open on the month's last day (or on as_of for the current month); bail: active only
    opened: int
    closed: int
    lapsed_at_end: int = 0  # bail only: lapsed on that day (open, bail end date passed), not in open_at_end


@dataclass(frozen=True)
class WantedFigures:
    force: str
    district: str | None
    as_of: dt.date
    data_as_of: dt.datetime | None  # imported_at of the latest import of this force's wanted data
    open: int
    by_district: dict[str, int]
    by_age_band: dict[str, int]
    by_reason: dict[str, int]
    by_offence: dict[str, int]
    review_overdue: int
    opened_in_month: int
    closed_in_month: int
    open_a_month_ago: int
    # The first date this force's dataset is complete from (bot/coverage.py); None: never imported.
    covered_from: dt.date | None = None
    # Filled by bot.figures.outcomes.with_outcomes (None until then: read from the table, not the indexes).
    closed_by_outcome: dict[str, int] | None = None  # outcome -> closed in the month
    people: int | None = None  # distinct person references among the open rows
    named_rows: int | None = None  # the open rows that carry one (the others name no person)
    dataset: str = "wanted"


@dataclass(frozen=True)
class SuspectFigures:
    force: str
    district: str | None
    as_of: dt.date
    data_as_of: dt.datetime | None
    open: int
    by_district: dict[str, int]
    by_age_band: dict[str, int]
    by_offence: dict[str, int]
    opened_in_month: int
    closed_in_month: int
    open_a_month_ago: int
    # The first date this force's dataset is complete from (bot/coverage.py); None: never imported.
    covered_from: dt.date | None = None
    # Filled by bot.figures.outcomes.with_outcomes (None until then: read from the table, not the indexes).
    closed_by_outcome: dict[str, int] | None = None  # outcome -> closed in the month
    people: int | None = None  # distinct person references among the open rows
    named_rows: int | None = None  # the open rows that carry one (the others name no person)
    dataset: str = "suspects"


@dataclass(frozen=True)
class BailEnding:
    """An active bail period whose current bail end date falls within the look-ahead window."""

    reference: str
    district: str
    offence: str
    started_on: dt.date
    bail_end_on: dt.date
    days_left: int
    # Who must authorise the next extension under PCSCA 2022: 'inspector' (to 6 months),
    # 'superintendent' (to 9 months) or 'magistrates' court' (beyond 9 months).
    next_authority: str


@dataclass(frozen=True)
class BailFigures:
    force: str
    district: str | None
    as_of: dt.date
    data_as_of: dt.datetime | None
    active_bail: int  # open bail whose bail end date has not passed (lapsed bail is not active)
    active_rui: int
    lapsed_bail: int  # open bail whose bail end date has passed with no end recorded
    lapsed_bail_by_district: dict[str, int]  # district -> lapsed bail (config order, zeros included)
    opened_in_month: dict[str, int]  # kind -> count
    closed_in_month: dict[str, int]  # kind -> count
    length_bands: dict[str, dict[str, int]]  # kind -> band -> count
    by_district: dict[str, dict[str, int]]  # kind -> district -> count
    by_offence: dict[str, dict[str, int]]  # kind -> offence -> count
    bail_ending_within_days: int  # the look-ahead window N of bail_ending_soon, in days
    # kind -> district / offence -> active and running over 12 months (non-zero only).
    over_12m_by_district: dict[str, dict[str, int]] = field(default_factory=dict)
    over_12m_by_offence: dict[str, dict[str, int]] = field(default_factory=dict)
    bail_ending_soon: list[BailEnding] = field(default_factory=list)
    # All active bail ending within the window; bail_ending_soon may be capped below it.
    bail_ending_soon_total: int = 0
    # The first date this force's dataset is complete from (bot/coverage.py); None: never imported.
    covered_from: dt.date | None = None
    # Filled by bot.figures.outcomes.with_outcomes (None until then: read from the table, not the indexes).
    closed_by_outcome: dict[str, dict[str, int]] | None = None  # kind -> outcome -> ended in the month
    people: dict[str, int] | None = None  # kind -> distinct person references, active
    named_rows: dict[str, int] | None = None  # kind -> the active periods that carry one
    dataset: str = "bail"
