"""Offence groups that an export spells in more than one case ("Burglary", "BURGLARY", "burglary") are one group in
every breakdown, as ``--offence burglary`` counts them, named by the most used spelling."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.orm import Session

from bot.config import Config
from bot.figures import Filters, bail_figures, wanted_figures
from bot.figures.caseload import by_offence
from bot.importing.service import import_file
from bot.importing.types import ImportRequest

AS_OF = dt.date(2026, 11, 30)
NOW = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)


def test_spellings_are_one_group_named_by_the_most_used() -> None:
    assert by_offence({"Theft": 3, "THEFT": 1, "Drugs": 2}) == {"Theft": 4, "Drugs": 2}
    assert by_offence({"BURGLARY": 1, "burglary": 1, "Burglary": 1}) == {"Burglary": 3}  # a tie: mixed case
    assert by_offence({"burglary": 2, "Burglary": 1}) == {"burglary": 3}  # else the most used
    # Spacing is not case: `--offence "criminal damage"` does not match "Criminal  damage", nor does the breakdown.
    assert by_offence({"Criminal  damage": 1, "criminal damage": 1}) == {"Criminal  damage": 1, "criminal damage": 1}
    assert by_offence({"Fraud": 1, "Drugs": 1}) == {"Drugs": 1, "Fraud": 1}


def _import(session: Session, config: Config, tmp_path: Path, dataset: str, text: str) -> None:
    path = tmp_path / f"{dataset}.csv"
    path.write_text(text)
    report = import_file(session, config, ImportRequest(dataset, path, force="suffolk", as_of=AS_OF), NOW)
    assert report.ok, report
    session.commit()


def test_an_export_spelling_one_offence_three_ways_shows_one_group(
    session: Session, config: Config, tmp_path: Path
) -> None:
    _import(session, config, tmp_path, "wanted", (
        "Reference,Offence,District,Reason,Date Circulated\n"
        "O1,burglary,Ipswich,FTA,01/10/2026\nO2,BURGLARY,Ipswich,FTA,01/10/2026\n"
        "O3,Burglary ,Lowestoft,FTA,01/10/2026\nO4,Drugs,Ipswich,FTA,01/10/2026\n"
    ))  # fmt: skip
    suffolk = config.force("suffolk")
    fig = wanted_figures(session, suffolk, AS_OF)
    assert fig.by_offence == {"Burglary": 3, "Drugs": 1}
    assert wanted_figures(session, suffolk, AS_OF, Filters(offence="burglary")).open == 3
    _import(session, config, tmp_path, "bail", (
        "Reference,Offence,District,Kind,Start Date,Bail End Date\n"
        "B1,Theft,Ipswich,bail,01/10/2026,01/01/2027\nB2,THEFT,Ipswich,bail,01/10/2026,01/01/2027\n"
        "B3,theft,Ipswich,rui,01/10/2026,\n"
    ))  # fmt: skip
    bail = bail_figures(session, suffolk, AS_OF, Filters(), ending_within_days=14)
    assert bail.by_offence == {"bail": {"Theft": 2}, "rui": {"theft": 1}}
