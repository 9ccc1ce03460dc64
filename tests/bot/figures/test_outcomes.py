"""Outcomes and people: exports may say how a case closed (a vocabulary with aliases, extendable in the config;
an unknown outcome is refused naming the cell), the figures count the month's closures by outcome and the
distinct people open, and the answers show arrests, closures without arrest, outcomes and people — never who."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.orm import Session

from bot.config import DEFAULTS, Config, _merge, build_config
from bot.figures import Filters, bail_figures, figures_to_json, suspect_figures, wanted_figures
from bot.figures.cases import bail_ending_soon
from bot.figures.outcomes import with_outcomes
from bot.importing.service import import_file
from bot.importing.types import ImportReport, ImportRequest
from bot.slack.render_figures import Frame, render_bail, render_rui, render_suspects, render_wanted

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
AS_OF = dt.date(2026, 11, 20)
WANTED = "reference,person_ref,offence,district,reason,circulated_on,closed_on,status,outcome"


def run(session: Session, config: Config, tmp: Path, dataset: str, text: str) -> ImportReport:
    p = tmp / f"{dataset}.csv"
    p.write_text(text)
    report = import_file(session, config, ImportRequest(dataset=dataset, path=p, as_of=AS_OF), NOW)
    if report.ok:
        session.commit()
    else:
        session.rollback()
    return report


def test_wanted_outcomes_arrests_and_people(session: Session, config: Config, tmp_path: Path) -> None:
    rows = [
        "W1,P1,burglary,ipswich,never_arrested,2026-09-01,2026-11-03,closed,Arrested",
        "W2,P1,burglary,ipswich,never_arrested,2026-09-01,2026-11-04,closed,arrested on warrant",
        "W3,P2,theft,ipswich,never_arrested,2026-09-01,2026-11-05,closed,traced",
        "W4,P3,theft,ipswich,never_arrested,2026-09-01,2026-10-30,closed,cancelled",  # last month
        "W5,P4,theft,ipswich,never_arrested,2026-09-01,2026-11-06,closed,",
        "W6,P5,theft,ipswich,never_arrested,2026-09-01,,open,",
        "W7,P5,theft,ipswich,never_arrested,2026-10-01,,open,",
        "W8,,theft,ipswich,never_arrested,2026-10-01,,open,",
    ]
    assert run(session, config, tmp_path, "wanted", "\n".join([WANTED, *rows]) + "\n").ok
    force = config.force("suffolk")
    fig = with_outcomes(session, wanted_figures(session, force, AS_OF), force, Filters())
    assert fig.closed_in_month == 4
    assert fig.closed_by_outcome == {"arrested": 2, "located": 1, "not_recorded": 1}
    assert (fig.open, fig.people, fig.named_rows) == (3, 1, 2)  # P5 twice, and a record with no person reference
    js = figures_to_json(fig)
    assert js["closed_by_outcome"] == {"arrested": 2, "located": 1, "not_recorded": 1}
    assert (js["people"], js["named_rows"]) == (1, 2)
    frame = Frame(force=force, district=None, as_of=AS_OF, freshness=None)
    text = str(render_wanted(fig, frame, dt.date(2026, 10, 20), 28)[1])
    # W5 closed with no outcome: not a closure without arrest, which the export does not say.
    assert "4 closed (2 arrested, 1 without arrest, 1 outcome not recorded)" in text
    assert "• located (not arrested): 1" in text
    # Not "3 circulations · 1 person": W8 names nobody, and could be anyone.
    assert "*3* open wanted circulations · 1 person on the 2 with a person reference\\n" in text
    assert "P5" not in text and "P1" not in text  # people are counted, never shown


def test_a_closing_status_that_says_how_a_case_closed_is_its_outcome(
    session: Session, config: Config, tmp_path: Path
) -> None:
    """Exports often spell the closing status as how the case closed ("Arrested", "located", "withdrawn"): that is its
    outcome when the row gives none. "closed" says nothing, and an outcome the row gives wins. Each spelling comes
    three times, so the second and third go through the compiled fast path, the first through the validator."""
    spellings = {  # status cell -> the outcome it gives
        "Arrested": "arrested",
        "located": "located",
        "withdrawn": "cancelled",
        "NFA": "nfa",
        "closed": None,
        "dealt with": None,
        # Any spelling of a closure outcome is a closed status, not only those the status vocabulary lists.
        "Voluntary Attendance": "voluntary_attendance",
        "traced": "located",
        "in custody": "arrested",
    }
    rows, n = [], 0
    for _ in range(3):
        for status in spellings:
            n += 1
            rows.append(f"W{n},theft,ipswich,never_arrested,2026-09-01,2026-11-{1 + (n - 1) % 18:02d},{status}")
    header = "reference,offence,district,reason,circulated_on,closed_on,status"
    assert run(session, config, tmp_path, "wanted", "\n".join([header, *rows]) + "\n").ok
    force = config.force("suffolk")
    fig = with_outcomes(session, wanted_figures(session, force, AS_OF), force, Filters())
    expected: dict[str, int] = {}
    for outcome in spellings.values():
        expected[outcome or "not_recorded"] = expected.get(outcome or "not_recorded", 0) + 3
    assert fig.closed_by_outcome == expected and fig.closed_in_month == 27
    frame = Frame(force=force, district=None, as_of=AS_OF, freshness=None)
    text = str(render_wanted(fig, frame, dt.date(2026, 10, 20), 28)[1])
    assert "27 closed (6 arrested, 15 without arrest, 6 outcome not recorded)" in text

    # A second export (merged into the rows above): the outcome column, where given, wins over the status.
    with_column = "\n".join(
        [
            f"{header},outcome",
            "W1,theft,ipswich,never_arrested,2026-09-01,2026-11-01,Arrested,located",  # the column says located
            "W2,theft,ipswich,never_arrested,2026-09-01,2026-11-02,located,",  # empty: the status says
            "W5,theft,ipswich,never_arrested,2026-09-01,2026-11-05,closed,voluntary attendance",
        ]
    )
    assert run(session, config, tmp_path, "wanted", with_column + "\n").ok
    fig = with_outcomes(session, wanted_figures(session, force, AS_OF), force, Filters())
    expected["arrested"] -= 1
    expected["located"] += 1
    expected["not_recorded"] -= 1
    expected["voluntary_attendance"] += 1
    assert fig.closed_by_outcome == {k: v for k, v in expected.items() if v}

    # "other" says nothing of the case being closed: as a status it is still refused, and nothing changes.
    other = run(session, config, tmp_path, "wanted", f"{header}\nW1,theft,ipswich,never_arrested,2026-09-01,,other\n")
    assert not other.ok and "unknown status" in str(other.errors[0])
    assert with_outcomes(session, wanted_figures(session, force, AS_OF), force, Filters()) == fig


def test_the_suspects_answer_says_how_suspects_were_dealt_with(
    session: Session, config: Config, tmp_path: Path
) -> None:
    """Suspects closed this month by arrest, by voluntary attendance or with no further action, as their statuses
    say: the answer splits "dealt with" as the wanted answer splits its closures, and lists the outcomes."""
    header = "reference,person_ref,offence,district,identified_on,closed_on,status"
    statuses = ["Arrested", "Arrested", "Voluntary Attendance", "NFA", "Closed", "Open"]
    rows = [
        f"S{n},P{n},theft,ipswich,2026-09-01,{'' if st == 'Open' else f'2026-11-{n + 1:02d}'},{st}"
        for n, st in enumerate(statuses)
    ]
    assert run(session, config, tmp_path, "suspects", "\n".join([header, *rows]) + "\n").ok
    force = config.force("suffolk")
    fig = with_outcomes(session, suspect_figures(session, force, AS_OF), force, Filters())
    assert fig.closed_by_outcome == {"arrested": 2, "voluntary_attendance": 1, "nfa": 1, "not_recorded": 1}
    frame = Frame(force=force, district=None, as_of=AS_OF, freshness=None)
    text = str(render_suspects(fig, frame, dt.date(2026, 10, 20))[1])
    assert "5 dealt with (2 arrested, 2 without arrest, 1 outcome not recorded)" in text
    assert "Dealt with this month, by outcome" in text and "• voluntary attendance: 1" in text
    assert "P1" not in text  # people are counted, never shown


def test_an_unknown_outcome_is_refused_naming_it_and_the_config_can_add_spellings(
    session: Session, config: Config, db_url: str, tmp_path: Path
) -> None:
    bad = f"{WANTED}\nW1,P1,burglary,ipswich,never_arrested,2026-09-01,2026-11-03,closed,detained under s24\n"
    report = run(session, config, tmp_path, "wanted", bad)
    assert not report.ok and report.errors[0].column == "outcome"
    assert report.errors[0].value == "detained under s24" and "valid values: arrested" in report.errors[0].reason
    open_with_outcome = f"{WANTED}\nW1,P1,burglary,ipswich,never_arrested,2026-09-01,,open,arrested\n"
    refused = run(session, config, tmp_path, "wanted", open_with_outcome)
    assert not refused.ok and "an outcome needs closed_on" in refused.errors[0].reason
    raw = {"vocabularies": {"closure_outcome": {"arrested": ["detained under s24"]}}}
    local = build_config(_merge(DEFAULTS, raw), "test", database_url=db_url)
    assert run(session, local, tmp_path, "wanted", bad).ok
    force = config.force("suffolk")
    assert with_outcomes(session, wanted_figures(session, force, AS_OF), force, Filters()).closed_by_outcome == {
        "arrested": 1
    }
    wrong = build_config(
        _merge(DEFAULTS, {"vocabularies": {"closure_outcome": {"captured": ["nabbed"]}}}), "t", database_url=db_url
    )
    refused = run(session, wrong, tmp_path, "wanted", bad)
    assert refused.refused is not None and "vocabularies.closure_outcome: unknown value 'captured'" in refused.refused


def test_bail_and_rui_outcomes_conversions_and_people(session: Session, config: Config, tmp_path: Path) -> None:
    text = "\n".join(
        [
            "reference,person_ref,offence,district,kind,started_on,bail_end_on,ended_on,outcome",
            "B1,P1,theft,ipswich,bail,2026-08-01,2026-11-01,2026-11-02,charged",
            "B2,P2,theft,ipswich,bail,2026-08-01,2026-11-01,2026-11-03,converted to RUI",
            "B3,P3,theft,ipswich,bail,2026-10-01,2026-12-30,,",
            "B4,P3,theft,ipswich,bail,2026-10-01,2026-12-01,,",
            "B5,P4,theft,ipswich,bail,2026-08-01,2026-11-01,,",  # lapsed: not active, not a person on bail
            "R1,P2,theft,ipswich,rui,2026-11-03,,,",
            "R2,P6,theft,ipswich,rui,2026-06-01,,2026-11-10,NFA",
            "R3,,theft,ipswich,rui,2026-10-01,,,",  # names nobody
        ]
    )
    assert run(session, config, tmp_path, "bail", text + "\n").ok
    force = config.force("suffolk")
    fig = with_outcomes(session, bail_figures(session, force, AS_OF, ending_within_days=14), force, Filters())
    assert fig.closed_by_outcome == {"bail": {"charged": 1, "converted_to_rui": 1}, "rui": {"nfa": 1}}
    assert fig.people == {"bail": 1, "rui": 1} and (fig.active_bail, fig.lapsed_bail) == (2, 1)
    assert fig.named_rows == {"bail": 2, "rui": 1} and fig.active_rui == 2
    frame = Frame(force=force, district=None, as_of=AS_OF, freshness=None)
    rui = str(render_rui(fig, frame, dt.date(2026, 10, 20), {"bail": 0, "rui": 0})[1])
    assert "*2* active RUI · 1 person on the 1 with a person reference\\n" in rui
    soon = bail_ending_soon(session, force, AS_OF, Filters(), 14)
    shown = str(render_bail(fig, frame, dt.date(2026, 10, 20), {"bail": 0, "rui": 0}, soon)[1])
    assert "• converted to RUI: 1" in shown and "• charged: 1" in shown


def test_bail_ending_soon_counts_the_window_by_groups(session: Session, config: Config, tmp_path: Path) -> None:
    # AS_OF is 20 Nov 2026; a window of 14 days runs to 4 Dec inclusive, the week to 27 Nov.
    text = "\n".join(
        [
            "reference,person_ref,offence,district,kind,started_on,bail_end_on,ended_on,outcome",
            "S1,P1,theft,ipswich,bail,2026-11-01,2026-11-20,,",  # its last day: in the week
            "S2,P2,theft,ipswich,bail,2026-11-01,2026-11-27,,",  # day 7: in the week
            "S3,P3,theft,ipswich,bail,2026-11-01,2026-11-28,,",  # day 8
            "S4,P4,theft,ipswich,bail,2026-05-01,2026-12-04,,",  # day 14, beyond six months: a court
            "S5,P5,theft,ipswich,bail,2026-11-01,2026-12-05,,",  # day 15: outside
            "S6,P6,theft,ipswich,bail,2026-11-01,2026-11-19,,",  # lapsed yesterday: outside
            "S7,P7,burglary,lowestoft,bail,2026-11-01,2026-11-21,,",
            "S8,P8,theft,ipswich,bail,2022-09-01,2026-11-25,,",  # the 2017 ladder: a court
            "S9,P9,theft,ipswich,bail,2026-11-01,2026-11-22,2026-11-10,charged",  # ended: outside
            "R1,P9,theft,ipswich,rui,2026-11-01,,,",
        ]
    )
    assert run(session, config, tmp_path, "bail", text + "\n").ok
    soon = bail_ending_soon(session, config.force("suffolk"), AS_OF, Filters(), 14)
    assert (soon.within_days, soon.total, soon.within_7_days) == (14, 6, 4)
    assert soon.by_authority == {"inspector": 4, "magistrates' court": 2}
    assert soon.length_bands == {"0-3m": 4, "3-6m": 0, "6-9m": 1, "9-12m": 0, "over-12m": 1}
    assert {k: v for k, v in soon.by_district.items() if v} == {"ipswich": 5, "lowestoft": 1}
    assert list(soon.by_offence.items()) == [("theft", 5), ("burglary", 1)]
    one = bail_ending_soon(session, config.force("suffolk"), AS_OF, Filters(district="lowestoft"), 14)
    assert (one.total, one.by_district, one.by_offence) == (1, {"lowestoft": 1}, {"burglary": 1})


def test_an_export_without_person_references_gives_no_people_rather_than_zero(
    session: Session, config: Config, tmp_path: Path
) -> None:
    """`person_ref` is optional: an export without it leaves the people uncounted, not "3 circulations · 0 people"."""
    header = "reference,offence,district,reason,circulated_on,closed_on,status"
    rows = [f"W{i},theft,ipswich,never_arrested,2026-09-0{i},,open" for i in (1, 2, 3)]
    assert run(session, config, tmp_path, "wanted", "\n".join([header, *rows]) + "\n").ok
    bail = "reference,offence,district,kind,started_on,bail_end_on\nB1,theft,ipswich,rui,2026-09-01,\n"
    assert run(session, config, tmp_path, "bail", bail).ok
    force = config.force("suffolk")
    fig = with_outcomes(session, wanted_figures(session, force, AS_OF), force, Filters())
    assert (fig.open, fig.people) == (3, None)
    assert figures_to_json(fig)["people"] is None
    frame = Frame(force=force, district=None, as_of=AS_OF, freshness=None)
    text = str(render_wanted(fig, frame, dt.date(2026, 10, 20), 28)[1])
    assert "*3* open wanted circulations\\n" in text and "people" not in text and "person" not in text
    bail_fig = with_outcomes(session, bail_figures(session, force, AS_OF, ending_within_days=14), force, Filters())
    assert (bail_fig.active_rui, bail_fig.people) == (1, None)
