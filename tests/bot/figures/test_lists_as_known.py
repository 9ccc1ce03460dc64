"""Case lists at a past date show each case as it was known then: a later import that closes a case, moves it to
another district, changes its offence group or extends its bail does not reach back into the list at an earlier
date, and the list's total stays the figure of the same question at that date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.orm import Session

from bot.config import Config
from bot.figures import Filters, bail_figures, suspect_figures, wanted_figures
from bot.figures.cases import CaseList, open_cases
from bot.importing.service import import_file
from bot.importing.types import ImportRequest

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
FIRST, SECOND = dt.date(2024, 3, 1), dt.date(2024, 4, 1)  # the as-of dates of the two imports
BEFORE, AFTER = dt.date(2024, 3, 25), dt.date(2024, 4, 5)  # a day each import is the latest one on

HEADERS = {
    "wanted": "reference,offence,district,reason,circulated_on,closed_on,status",
    "suspects": "reference,offence,district,identified_on,closed_on,status",
    "bail": "reference,offence,district,kind,started_on,bail_end_on,ended_on,outcome",
}


def load(session: Session, config: Config, tmp: Path, dataset: str, files: list[tuple[dt.date, list[str]]]) -> None:
    for i, (as_of, lines) in enumerate(files):
        path = tmp / f"{dataset}-{i}.csv"
        path.write_text("\n".join([HEADERS[dataset], *lines]) + "\n")
        request = ImportRequest(dataset=dataset, path=path, force="suffolk", as_of=as_of)
        report = import_file(session, config, request, NOW)
        assert report.ok, (report.refused, report.errors)
        session.commit()


def listed(cases: CaseList) -> list[tuple[str, str, str]]:
    return [(r.reference, r.district, r.offence) for r in cases.rows]


def test_wanted_list_at_an_earlier_date_shows_the_earlier_versions(
    session: Session, config: Config, tmp_path: Path
) -> None:
    load(
        session,
        config,
        tmp_path,
        "wanted",
        [
            (
                FIRST,
                [
                    "W1,burglary,ipswich,never_arrested,2024-01-10,,open",
                    "W2,robbery,lowestoft,bail_breach,2024-02-01,,open",
                    "W3,theft,ipswich,never_arrested,2024-02-15,,open",
                ],
            ),
            (
                SECOND,
                [
                    # Closed on 20 March, which the force only exported on 1 April.
                    "W1,burglary,ipswich,never_arrested,2024-01-10,2024-03-20,closed",
                    # Moved to Ipswich, and the reason corrected.
                    "W2,robbery,ipswich,failed_to_answer_bail,2024-02-01,,open",
                    "W3,theft,ipswich,never_arrested,2024-02-15,,open",
                ],
            ),
        ],
    )
    force = config.force("suffolk")
    then = open_cases(session, "wanted", force, BEFORE, Filters(), 10)
    assert listed(then) == [
        ("W1", "ipswich", "burglary"),
        ("W2", "lowestoft", "robbery"),
        ("W3", "ipswich", "theft"),
    ]
    now = open_cases(session, "wanted", force, AFTER, Filters(), 10)
    assert listed(now) == [("W2", "ipswich", "robbery"), ("W3", "ipswich", "theft")]
    # Every filter reads the values as known then: district, reason, and the total is the figure's.
    for filters, refs_then, refs_now in (
        (Filters(district="lowestoft"), ["W2"], []),
        (Filters(district="ipswich"), ["W1", "W3"], ["W2", "W3"]),
        (Filters(reason="bail_breach"), ["W2"], []),
        (Filters(reason="failed_to_answer_bail"), [], ["W2"]),
    ):
        for day, refs in ((BEFORE, refs_then), (AFTER, refs_now)):
            cases = open_cases(session, "wanted", force, day, filters, 10)
            assert [r.reference for r in cases.rows] == refs, (filters, day)
            assert cases.total == wanted_figures(session, force, day, filters).open == len(refs)


def test_wanted_list_names_the_reason_and_the_review_as_known_then(
    session: Session, config: Config, tmp_path: Path
) -> None:
    """A wanted list says why each person is wanted and when the circulation was last reviewed, flags those overdue
    for review, and counts them as the figures do — at a past date with the review recorded as known then."""
    header = "reference,offence,district,reason,circulated_on,last_reviewed_on,closed_on,status"
    for i, (as_of, lines) in enumerate(
        (
            (FIRST, ["W1,burglary,ipswich,never_arrested,2024-01-10,2024-02-01,,open",
                     "W2,robbery,ipswich,bail_breach,2024-02-01,,,open",
                     "W3,theft,ipswich,failed_to_answer_bail,2024-02-28,,,open"]),
            # W1 reviewed again on 30 March, which the force exported on 1 April.
            (SECOND, ["W1,burglary,ipswich,never_arrested,2024-01-10,2024-03-30,,open",
                      "W2,robbery,ipswich,bail_breach,2024-02-01,,,open",
                      "W3,theft,ipswich,failed_to_answer_bail,2024-02-28,,,open"]),
        )
    ):  # fmt: skip
        path = tmp_path / f"reviews-{i}.csv"
        path.write_text("\n".join([header, *lines]) + "\n")
        report = import_file(session, config, ImportRequest("wanted", path, force="suffolk", as_of=as_of), NOW)
        assert report.ok, (report.refused, report.errors)
        session.commit()
    force = config.force("suffolk")
    days = config.wanted_review_days
    assert days == 28
    for day, want in (
        # 25 March: W1 last reviewed 1 Feb (53 days), W2 never (circulated 1 Feb), W3 circulated 28 Feb (26 days).
        (BEFORE, [("W1", "never_arrested", dt.date(2024, 2, 1), True), ("W2", "bail_breach", None, True),
                  ("W3", "failed_to_answer_bail", None, False)]),
        # 5 April: W1 reviewed 30 March (6 days); W3 circulated 37 days before.
        (AFTER, [("W1", "never_arrested", dt.date(2024, 3, 30), False), ("W2", "bail_breach", None, True),
                 ("W3", "failed_to_answer_bail", None, True)]),
    ):  # fmt: skip
        cases = open_cases(session, "wanted", force, day, Filters(), 10, review_days=days)
        assert [(r.reference, r.reason, r.last_reviewed_on, r.review_overdue) for r in cases.rows] == want, day
        figure = wanted_figures(session, force, day, review_days=days).review_overdue
        assert cases.review_overdue == figure == sum(1 for w in want if w[3]), day
        capped = open_cases(session, "wanted", force, day, Filters(), 1, review_days=days)
        assert capped.review_overdue == figure  # the whole list's count, not only the rows shown


def test_suspects_list_at_an_earlier_date_shows_the_earlier_versions(
    session: Session, config: Config, tmp_path: Path
) -> None:
    load(
        session,
        config,
        tmp_path,
        "suspects",
        [
            (FIRST, ["S1,burglary,bury-st-edmunds,2024-02-01,,open", "S2,assault,lowestoft,2024-02-10,,open"]),
            # S1's offence group is corrected to robbery; S2 is dealt with on 28 March.
            (
                SECOND,
                ["S1,robbery,bury-st-edmunds,2024-02-01,,open", "S2,assault,lowestoft,2024-02-10,2024-03-28,closed"],
            ),
        ],
    )
    force = config.force("suffolk")
    assert listed(open_cases(session, "suspects", force, BEFORE, Filters(), 10)) == [
        ("S1", "bury-st-edmunds", "burglary"),
        ("S2", "lowestoft", "assault"),
    ]
    assert listed(open_cases(session, "suspects", force, AFTER, Filters(), 10)) == [
        ("S1", "bury-st-edmunds", "robbery")
    ]
    for filters, refs_then, refs_now in (
        (Filters(offence="burglary"), ["S1"], []),
        (Filters(offence="Robbery"), [], ["S1"]),
        (Filters(district="lowestoft"), ["S2"], []),
    ):
        for day, refs in ((BEFORE, refs_then), (AFTER, refs_now)):
            cases = open_cases(session, "suspects", force, day, filters, 10)
            assert [r.reference for r in cases.rows] == refs, (filters, day)
            assert cases.total == suspect_figures(session, force, day, filters).open == len(refs)


def test_bail_and_rui_lists_at_an_earlier_date_show_the_earlier_versions(
    session: Session, config: Config, tmp_path: Path
) -> None:
    load(
        session,
        config,
        tmp_path,
        "bail",
        [
            (
                FIRST,
                [
                    "B1,theft,ipswich,bail,2024-01-02,2024-04-01,,",
                    "B2,theft,lowestoft,bail,2024-01-05,2024-03-10,,",  # lapsed on 25 March as known then
                    "R1,drugs,ipswich,rui,2024-01-07,,,",
                ],
            ),
            (
                SECOND,
                [
                    "B1,theft,ipswich,bail,2024-01-02,2024-07-01,,",  # extended on 1 April to July
                    "B2,theft,lowestoft,bail,2024-01-05,2024-03-10,2024-03-15,charged",  # charged on 15 March
                    "R1,drugs,lowestoft,rui,2024-01-07,,,",  # moved to Lowestoft
                ],
            ),
        ],
    )
    force = config.force("suffolk")
    then = open_cases(session, "bail", force, BEFORE, Filters(), 10)
    assert [(r.reference, r.bail_end_on, r.days_left, r.next_authority) for r in then.rows] == [
        ("B2", dt.date(2024, 3, 10), -15, None),
        ("B1", dt.date(2024, 4, 1), 7, "inspector"),
    ]
    figures_then = bail_figures(session, force, BEFORE, ending_within_days=14)
    assert (then.total, then.lapsed) == (figures_then.active_bail + figures_then.lapsed_bail, 1) == (2, 1)
    now = open_cases(session, "bail", force, AFTER, Filters(), 10)
    assert [(r.reference, r.bail_end_on, r.days_left) for r in now.rows] == [("B1", dt.date(2024, 7, 1), 87)]
    assert (now.total, now.lapsed) == (1, 0)
    # The ending-soon list: on 25 March B1 was known to end on 1 April, within 14 days.
    soon_then = open_cases(session, "bail", force, BEFORE, Filters(), 10, ending_within_days=14)
    assert [r.reference for r in soon_then.rows] == ["B1"]
    assert soon_then.total == figures_then.bail_ending_soon_total == 1
    assert open_cases(session, "bail", force, AFTER, Filters(), 10, ending_within_days=14).total == 0

    for day, district in ((BEFORE, "ipswich"), (AFTER, "lowestoft")):
        rui = open_cases(session, "rui", force, day, Filters(district=district), 10)
        assert listed(rui) == [("R1", district, "drugs")]
        figures = bail_figures(session, force, day, Filters(district=district), ending_within_days=14)
        assert rui.total == figures.active_rui == 1
        other = "lowestoft" if district == "ipswich" else "ipswich"
        assert open_cases(session, "rui", force, day, Filters(district=other), 10).total == 0
