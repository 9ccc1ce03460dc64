"""Plain tests, one per edge the definitions pin: leap day, 31 Mar → 28/29 Feb a month ago, same-day close,
force isolation, filters, review boundaries, the bail extension-authority boundaries, data_as_of, JSON keys."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy.orm import Session

from bot.dates import a_month_before, add_months, last_months, latest_start_reaching
from bot.figures import (
    Filters,
    bail_figures,
    figures_to_json,
    monthly_series,
    suspect_figures,
    wanted_figures,
)
from bot.figures.bail import by_authority_order, next_authority
from bot.models import BailPeriod, ImportBatch, OutstandingSuspect, WantedCirculation

D = dt.date
_ref = itertools.count(1)


def wanted(session: Session, circulated: dt.date, closed: dt.date | None = None, **kw) -> None:
    row = dict(
        force="suffolk",
        reference=f"W{next(_ref)}",
        offence="burglary",
        district="ipswich",
        reason="never_arrested",
        circulated_on=circulated,
        closed_on=closed,
        status="closed" if closed else "open",
    )
    session.add(WantedCirculation(**(row | kw)))


def suspect(session: Session, identified: dt.date, closed: dt.date | None = None, **kw) -> None:
    row = dict(
        force="suffolk",
        reference=f"S{next(_ref)}",
        offence="burglary",
        district="ipswich",
        identified_on=identified,
        closed_on=closed,
        status="closed" if closed else "open",
    )
    session.add(OutstandingSuspect(**(row | kw)))


def bail(session: Session, started: dt.date, ended: dt.date | None = None, **kw) -> None:
    row = dict(
        force="suffolk",
        reference=f"B{next(_ref)}",
        offence="burglary",
        district="ipswich",
        kind="bail",
        started_on=started,
        ended_on=ended,
    )
    session.add(BailPeriod(**(row | kw)))


# ------------------------------------------------------------------ calendar helpers


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(D(2024, 1, 31), 1) == D(2024, 2, 29)
    assert add_months(D(2023, 1, 31), 1) == D(2023, 2, 28)
    assert add_months(D(2024, 2, 29), 12) == D(2025, 2, 28)
    assert add_months(D(2023, 11, 30), 3) == D(2024, 2, 29)
    assert add_months(D(2024, 12, 31), -10) == D(2024, 2, 29)


def test_a_month_before() -> None:
    assert a_month_before(D(2024, 3, 31)) == D(2024, 2, 29)
    assert a_month_before(D(2023, 3, 31)) == D(2023, 2, 28)
    assert a_month_before(D(2024, 1, 15)) == D(2023, 12, 15)
    assert a_month_before(D(2024, 5, 31)) == D(2024, 4, 30)


@pytest.mark.parametrize("as_of", [D(2024, 2, 29), D(2023, 2, 28), D(2024, 6, 30), D(2024, 3, 31), D(2025, 1, 1)])
@pytest.mark.parametrize("n", [1, 3, 6, 9, 12])
def test_latest_start_reaching_is_the_last_start_that_reaches(as_of: dt.date, n: int) -> None:
    t = latest_start_reaching(as_of, n)
    assert add_months(t, n) <= as_of
    # Every later start within a year falls short; every earlier one reaches (monotonic).
    assert all(add_months(t + dt.timedelta(days=k), n) > as_of for k in range(1, 400))
    assert all(add_months(t - dt.timedelta(days=k), n) <= as_of for k in range(0, 400))


def test_last_months_oldest_first_current_month_ends_at_as_of() -> None:
    assert last_months(D(2024, 3, 15), 3) == [
        (D(2024, 1, 1), D(2024, 1, 31)),
        (D(2024, 2, 1), D(2024, 2, 29)),
        (D(2024, 3, 1), D(2024, 3, 15)),
    ]


# ------------------------------------------------------------------ open at D


def test_same_day_close_is_never_open_but_counts_as_opened_and_closed(session, config) -> None:
    suffolk = config.force("suffolk")
    wanted(session, D(2024, 5, 10), D(2024, 5, 10))
    wanted(session, D(2024, 5, 10), D(2024, 5, 11))
    session.flush()
    on_day = wanted_figures(session, suffolk, D(2024, 5, 10))
    assert on_day.open == 1  # the one closing the next day
    assert (on_day.opened_in_month, on_day.closed_in_month) == (2, 1)
    assert wanted_figures(session, suffolk, D(2024, 5, 11)).open == 0
    assert wanted_figures(session, suffolk, D(2024, 5, 9)).open == 0


def test_open_a_month_ago_on_31_march_looks_at_29_february(session, config) -> None:
    suffolk = config.force("suffolk")
    wanted(session, D(2024, 2, 1), D(2024, 2, 29))  # closed on the day: not open then
    wanted(session, D(2024, 2, 1), D(2024, 3, 1))  # open on 29 Feb
    wanted(session, D(2024, 2, 29))  # circulated that day: open
    wanted(session, D(2024, 3, 1))  # not yet circulated on 29 Feb
    session.flush()
    fig = wanted_figures(session, suffolk, D(2024, 3, 31))
    assert fig.open_a_month_ago == 2
    assert fig.open == 2
    assert (fig.opened_in_month, fig.closed_in_month) == (1, 1)


def test_open_a_month_ago_in_a_common_year_is_28_february(session, config) -> None:
    suffolk = config.force("suffolk")
    suspect(session, D(2023, 2, 28))
    suspect(session, D(2023, 2, 1), D(2023, 2, 28))
    suspect(session, D(2023, 3, 1))
    session.flush()
    assert suspect_figures(session, suffolk, D(2023, 3, 31)).open_a_month_ago == 1


def test_leap_day_age_bands(session, config) -> None:
    suffolk = config.force("suffolk")
    wanted(session, D(2024, 2, 29))
    session.flush()
    # 2025-02-28 is 365 days after 2024-02-29; 2025-03-01 is 366.
    assert wanted_figures(session, suffolk, D(2025, 2, 28)).by_age_band["181-365d"] == 1
    assert wanted_figures(session, suffolk, D(2025, 3, 1)).by_age_band["over-365d"] == 1
    bands = wanted_figures(session, suffolk, D(2024, 3, 27)).by_age_band  # 27 days
    assert bands["0-27d"] == 1
    assert wanted_figures(session, suffolk, D(2024, 3, 28)).by_age_band["28-90d"] == 1


def test_age_band_edges_and_zeros(session, config) -> None:
    suffolk = config.force("suffolk")
    as_of = D(2024, 12, 31)
    for days in (0, 27, 28, 90, 91, 180, 181, 365, 366):
        wanted(session, as_of - dt.timedelta(days=days))
    session.flush()
    fig = wanted_figures(session, suffolk, as_of)
    assert fig.by_age_band == {"0-27d": 2, "28-90d": 2, "91-180d": 2, "181-365d": 2, "over-365d": 1}
    assert list(fig.by_age_band) == ["0-27d", "28-90d", "91-180d", "181-365d", "over-365d"]


def test_review_overdue_boundary(session, config) -> None:
    suffolk = config.force("suffolk")
    as_of = D(2024, 6, 30)
    wanted(session, D(2024, 1, 1), last_reviewed_on=as_of - dt.timedelta(days=28))  # exactly 28: not overdue
    wanted(session, D(2024, 1, 1), last_reviewed_on=as_of - dt.timedelta(days=29))  # overdue
    wanted(session, as_of - dt.timedelta(days=29))  # never reviewed, circulated 29 days ago: overdue
    wanted(session, as_of - dt.timedelta(days=28))  # never reviewed, 28 days: not overdue
    wanted(session, D(2024, 1, 1), D(2024, 2, 1))  # closed: never overdue
    session.flush()
    assert wanted_figures(session, suffolk, as_of).review_overdue == 2
    assert wanted_figures(session, suffolk, as_of, review_days=7).review_overdue == 4


# ------------------------------------------------------------------ force isolation and filters


def test_norfolk_rows_never_count_for_suffolk(session, config) -> None:
    suffolk, norfolk = config.force("suffolk"), config.force("norfolk")
    as_of = D(2024, 6, 30)
    # Norfolk rows, some even carrying a Suffolk district name: none may reach Suffolk's figures.
    for district in ("norwich", "ipswich"):
        wanted(session, D(2024, 6, 1), force="norfolk", district=district)
        suspect(session, D(2024, 6, 1), force="norfolk", district=district)
        bail(session, D(2024, 6, 1), force="norfolk", district=district, bail_end_on=D(2024, 7, 1))
        bail(session, D(2024, 6, 1), force="norfolk", district=district, kind="rui")
    session.add(ImportBatch(force="norfolk", dataset="wanted", file_name="n.csv", file_sha256="0" * 64, as_of=as_of))
    session.flush()
    w, s, b = (
        wanted_figures(session, suffolk, as_of),
        suspect_figures(session, suffolk, as_of),
        bail_figures(session, suffolk, as_of, ending_within_days=14),
    )
    assert (w.open, w.opened_in_month, s.open, b.active_bail, b.active_rui) == (0, 0, 0, 0, 0)
    assert b.bail_ending_soon == [] and b.opened_in_month == {"bail": 0, "rui": 0}
    assert w.by_district == {"ipswich": 0, "bury-st-edmunds": 0, "lowestoft": 0}
    assert w.data_as_of is None  # Norfolk's import is not Suffolk's
    assert all(p.open_at_end == p.opened == 0 for p in monthly_series(session, "wanted", suffolk, as_of, 3))
    n = wanted_figures(session, norfolk, as_of)
    assert n.open == 2 and n.by_district == {"norwich": 1, "kings-lynn": 0, "great-yarmouth": 0, "ipswich": 1}
    assert bail_figures(session, norfolk, as_of, ending_within_days=14).active_rui == 2


def test_filters_narrow_every_figure(session, config) -> None:
    suffolk = config.force("suffolk")
    as_of = D(2024, 6, 30)
    wanted(session, D(2024, 6, 5), district="ipswich", offence="Burglary", reason="bail_breach")
    wanted(session, D(2024, 6, 5), district="lowestoft", offence="burglary", reason="never_arrested")
    wanted(session, D(2024, 6, 5), district="ipswich", offence="robbery", reason="never_arrested")
    wanted(session, D(2024, 6, 5), D(2024, 6, 20), district="ipswich", offence="BURGLARY")
    session.flush()
    ips = wanted_figures(session, suffolk, as_of, Filters(district="ipswich"))
    assert ips.district == "ipswich" and ips.by_district == {"ipswich": 2}
    assert (ips.open, ips.opened_in_month, ips.closed_in_month) == (2, 3, 1)
    burg = wanted_figures(session, suffolk, as_of, Filters(offence="bUrGlArY"))
    # The filter matches every spelling, and the breakdown shows them as the one group they are.
    assert burg.open == 2 and burg.by_offence == {"Burglary": 2}
    assert burg.by_district == {"ipswich": 1, "bury-st-edmunds": 0, "lowestoft": 1}
    both = wanted_figures(session, suffolk, as_of, Filters(district="ipswich", offence="burglary"))
    assert (both.open, both.closed_in_month) == (1, 1)
    reason = wanted_figures(session, suffolk, as_of, Filters(reason="never_arrested"))
    assert reason.open == 2 and reason.by_reason["never_arrested"] == 2 and reason.by_reason["bail_breach"] == 0
    assert list(reason.by_reason) == ["never_arrested", "bail_breach", "failed_to_answer_bail", "rui_fresh_evidence"]


def test_older_than_days_is_strict(session, config) -> None:
    suffolk = config.force("suffolk")
    as_of = D(2024, 6, 30)
    wanted(session, as_of - dt.timedelta(days=30))  # exactly 30 days: not "more than 30"
    wanted(session, as_of - dt.timedelta(days=31))
    session.flush()
    assert wanted_figures(session, suffolk, as_of, Filters(older_than_days=30)).open == 1
    assert wanted_figures(session, suffolk, as_of, Filters(older_than_days=29)).open == 2


def test_reason_filter_is_for_wanted_only(session, config) -> None:
    suffolk = config.force("suffolk")
    with pytest.raises(ValueError, match="wanted circulations only"):
        suspect_figures(session, suffolk, D(2024, 1, 1), Filters(reason="bail_breach"))
    with pytest.raises(ValueError, match="unknown reason"):
        wanted_figures(session, suffolk, D(2024, 1, 1), Filters(reason="shoplifting"))


# ------------------------------------------------------------------ bail


def test_extension_authority_boundaries() -> None:
    start = D(2024, 1, 31)  # + 3 months = 30 Apr; + 6 months = 31 Jul (clamped arithmetic)
    assert next_authority(start, D(2024, 4, 30)) == "inspector"
    assert next_authority(start, D(2024, 5, 1)) == "superintendent"
    assert next_authority(start, D(2024, 7, 31)) == "superintendent"
    assert next_authority(start, D(2024, 8, 1)) == "magistrates' court"
    leap = D(2023, 11, 29)  # + 3 months = 29 Feb 2024
    assert next_authority(leap, D(2024, 2, 29)) == "inspector"
    assert next_authority(leap, D(2024, 3, 1)) == "superintendent"


def test_bail_ending_soon_lists_authorities_in_order(session, config) -> None:
    suffolk = config.force("suffolk")
    as_of = D(2024, 4, 20)
    start = D(2024, 1, 31)
    bail(session, start, bail_end_on=D(2024, 4, 30), reference="B-INSP")  # exactly 3 months
    bail(session, D(2023, 11, 1), bail_end_on=D(2024, 5, 1), reference="B-SUPT")  # exactly 6 months
    bail(session, D(2023, 7, 1), bail_end_on=D(2024, 5, 1), reference="B-COURT")  # beyond 9 months
    bail(session, start, bail_end_on=as_of, reference="B-TODAY")  # ends today: still listed, 0 days
    bail(session, start, bail_end_on=D(2024, 5, 5), reference="B-LATER")  # 15 days: outside 14
    bail(session, start, bail_end_on=D(2024, 4, 19), reference="B-PAST")  # already passed
    bail(session, start, D(2024, 4, 1), bail_end_on=D(2024, 4, 25), reference="B-ENDED")  # not active
    bail(session, start, kind="rui", bail_end_on=D(2024, 4, 25), reference="R-1")  # RUI: no bail end
    session.flush()
    fig = bail_figures(session, suffolk, as_of, ending_within_days=14)
    assert [(e.reference, e.days_left, e.next_authority) for e in fig.bail_ending_soon] == [
        ("B-TODAY", 0, "inspector"),
        ("B-INSP", 10, "inspector"),
        ("B-COURT", 11, "magistrates' court"),
        ("B-SUPT", 11, "superintendent"),
    ]
    assert fig.bail_ending_soon_total == 4
    capped = bail_figures(session, suffolk, as_of, ending_soon_cap=2, ending_within_days=14)
    assert len(capped.bail_ending_soon) == 2 and capped.bail_ending_soon_total == 4
    assert len(bail_figures(session, suffolk, as_of, ending_within_days=15).bail_ending_soon) == 5


def test_length_bands_in_calendar_months(session, config) -> None:
    suffolk = config.force("suffolk")
    as_of = D(2024, 6, 30)
    # 31 Mar + 3 months = 30 Jun: exactly 3 months on 30 June (clamped), so 3-6m.
    for start in (D(2024, 3, 31), D(2024, 4, 1), D(2023, 6, 30), D(2023, 7, 1), D(2023, 12, 30), D(2023, 9, 30)):
        bail(session, start, kind="rui")
    session.flush()
    bands = bail_figures(session, suffolk, as_of, ending_within_days=14).length_bands
    assert bands["rui"] == {"0-3m": 1, "3-6m": 1, "6-9m": 1, "9-12m": 2, "over-12m": 1}
    assert bands["bail"] == {"0-3m": 0, "3-6m": 0, "6-9m": 0, "9-12m": 0, "over-12m": 0}
    leap = D(2024, 2, 29)
    bail(session, leap, kind="bail", reference="LEAP")
    session.flush()
    assert bail_figures(session, suffolk, D(2025, 2, 28), ending_within_days=14).length_bands["bail"]["over-12m"] == 1
    assert bail_figures(session, suffolk, D(2025, 2, 27), ending_within_days=14).length_bands["bail"]["9-12m"] == 1


# ------------------------------------------------------------------ series, data_as_of, JSON


def test_series_walks_back_month_ends(session, config) -> None:
    suffolk = config.force("suffolk")
    suspect(session, D(2023, 12, 31), D(2024, 1, 1))
    suspect(session, D(2024, 1, 31), D(2024, 2, 29))
    suspect(session, D(2024, 2, 29))
    suspect(session, D(2024, 3, 10), D(2024, 3, 15))
    session.flush()
    pts = monthly_series(session, "suspects", suffolk, D(2024, 3, 12), 4)
    assert [(p.month, p.open_at_end, p.opened, p.closed) for p in pts] == [
        ("2023-12", 1, 1, 0),
        ("2024-01", 1, 1, 1),
        ("2024-02", 1, 1, 1),
        ("2024-03", 2, 1, 0),  # up to 12 March: the 15 March closure has not happened yet
    ]
    with pytest.raises(ValueError, match="kind"):
        monthly_series(session, "bail", suffolk, D(2024, 3, 12), 4)
    with pytest.raises(ValueError, match="unknown dataset"):
        monthly_series(session, "actions", suffolk, D(2024, 3, 12), 4)


def test_data_as_of_is_latest_import_of_that_force_and_dataset(session, config) -> None:
    suffolk = config.force("suffolk")
    t1 = dt.datetime(2024, 6, 1, 9, tzinfo=dt.UTC)
    t2 = dt.datetime(2024, 6, 8, 9, tzinfo=dt.UTC)
    for force, ds, at in (("suffolk", "wanted", t1), ("suffolk", "wanted", t2), ("suffolk", "bail", t1)):
        session.add(
            ImportBatch(
                force=force, dataset=ds, file_name="x.csv", file_sha256="0" * 64, as_of=at.date(), imported_at=at
            )
        )
    session.add(
        ImportBatch(
            force="norfolk",
            dataset="suspects",
            file_name="x.csv",
            file_sha256="0" * 64,
            as_of=D(2024, 6, 9),
            imported_at=t2 + dt.timedelta(days=1),
        )
    )
    session.flush()
    as_of = D(2024, 6, 10)
    assert wanted_figures(session, suffolk, as_of).data_as_of == t2
    assert bail_figures(session, suffolk, as_of, ending_within_days=14).data_as_of == t1
    assert suspect_figures(session, suffolk, as_of).data_as_of is None


def test_json_keys_are_exactly_the_figure_names(session, config) -> None:
    suffolk = config.force("suffolk")
    bail(session, D(2024, 1, 31), bail_end_on=D(2024, 4, 30))
    t = dt.datetime(2024, 4, 20, 9, tzinfo=dt.UTC)
    for ds in ("wanted", "suspects", "bail"):
        session.add(
            ImportBatch(
                force="suffolk",
                dataset=ds,
                file_name="x.csv",
                file_sha256="0" * 64,
                as_of=D(2024, 4, 20),
                covers_from=D(2023, 1, 1),
                imported_at=t,
            )
        )
    session.flush()
    common = {"dataset", "force", "district", "as_of", "data_as_of", "export_as_of", "revised_up_to", "rebuilt_from"}
    common |= {"covered_from", "covered"}
    w = figures_to_json(wanted_figures(session, suffolk, D(2024, 4, 20)))
    assert set(w) == common | {
        "open",
        "by_district",
        "by_age_band",
        "by_reason",
        "by_offence",
        "review_overdue",
        "opened_in_month",
        "closed_in_month",
        "open_a_month_ago",
        "closed_by_outcome",
        "people",
        "named_rows",
    }
    s = figures_to_json(suspect_figures(session, suffolk, D(2024, 4, 20)))
    assert set(s) == set(w) - {"by_reason", "review_overdue"}
    b = figures_to_json(
        bail_figures(session, suffolk, D(2024, 4, 20), Filters(district="ipswich"), ending_within_days=14)
    )
    assert set(b) == common | {
        "active_bail",
        "active_rui",
        "lapsed_bail",
        "lapsed_bail_by_district",
        "opened_in_month",
        "closed_in_month",
        "length_bands",
        "by_district",
        "by_offence",
        "over_12m_by_district",
        "over_12m_by_offence",
        "bail_ending_soon",
        "closed_by_outcome",
        "people",
        "named_rows",
    }
    assert (b["dataset"], b["force"], b["district"], b["as_of"], b["data_as_of"]) == (
        "bail",
        "suffolk",
        "ipswich",
        "2024-04-20",
        t.isoformat(),
    )
    assert (b["covered_from"], b["covered"]) == ("2023-01-01", True)
    # Before the coverage: no figure at all, only what the data covers.
    early = figures_to_json(wanted_figures(session, suffolk, D(2022, 12, 31)), export_as_of=D(2024, 4, 20))
    assert early == {
        "dataset": "wanted",
        "force": "suffolk",
        "district": None,
        "as_of": "2022-12-31",
        "data_as_of": t.isoformat(),
        "export_as_of": "2024-04-20",
        "revised_up_to": None,
        "rebuilt_from": None,
        "covered_from": "2023-01-01",
        "covered": False,
    }
    assert b["bail_ending_soon"] == [
        {
            "reference": b["bail_ending_soon"][0]["reference"],
            "district": "ipswich",
            "offence": "burglary",
            "started_on": "2024-01-31",
            "bail_end_on": "2024-04-30",
            "days_left": 10,
            "next_authority": "inspector",
        }
    ]
    assert b["by_district"] == {"bail": {"ipswich": 1}, "rui": {"ipswich": 0}}


def test_bail_begun_before_28_oct_2022_follows_the_2017_ladder() -> None:
    """PCA 2017: 28 days, then a superintendent to 3 months, then a magistrates' court; PCSCA 2022 from 28 Oct."""
    start = D(2022, 10, 27)
    assert next_authority(start, start + dt.timedelta(days=28)) == "superintendent"
    assert next_authority(start, start + dt.timedelta(days=29)) == "magistrates' court"
    assert next_authority(start, add_months(start, 3)) == "magistrates' court"
    new = D(2022, 10, 28)
    assert next_authority(new, add_months(new, 3)) == "inspector"
    assert next_authority(new, add_months(new, 6)) == "superintendent"
    assert next_authority(new, add_months(new, 6) + dt.timedelta(days=1)) == "magistrates' court"


def test_tied_authorities_are_listed_in_ladder_order() -> None:
    tied = {"magistrates' court": 2, "superintendent": 2, "inspector": 1}
    assert list(by_authority_order(tied)) == ["superintendent", "magistrates' court", "inspector"]
    assert list(by_authority_order({"magistrates' court": 1, "inspector": 1})) == ["inspector", "magistrates' court"]
