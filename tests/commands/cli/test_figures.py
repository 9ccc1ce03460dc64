"""`mo-bot figures` and `mo-bot status` through commands.cli.main, against the test database, with the clock
injected into the runtime the command opens."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Callable

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.figures import Filters, bail_figures, figures_to_json, suspect_figures, wanted_figures
from bot.figures.json import trend_to_json
from bot.figures.outcomes import with_outcomes
from bot.figures.trend import trend
from bot.models import AuditEvent, BailPeriod, ImportBatch, OutstandingSuspect, WantedCirculation
from bot.runtime import Runtime
from commands.cli import figures_cmd, main, status_cmd
from tests.support.seed import _batch

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


@pytest.fixture
def cli(monkeypatch, db_url, sessions):
    """Point the CLI at the test database and give its runtime a FixedClock."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("MO_CONFIG", raising=False)
    for mod in (figures_cmd, status_cmd):
        real = mod.open_runtime

        def fixed(args: argparse.Namespace, _real: Callable[[argparse.Namespace], Runtime] = real) -> Runtime:
            rt = _real(args)
            rt.clock = FixedClock(NOW)
            return rt

        monkeypatch.setattr(mod, "open_runtime", fixed)
    return sessions


def seed(sessions) -> None:
    with sessions() as s, s.begin():
        rows = [
            ("suffolk", "W1", "ipswich", "burglary", dt.date(2026, 11, 2), None),
            ("suffolk", "W2", "bury-st-edmunds", "robbery", dt.date(2026, 6, 1), None),
            ("suffolk", "W3", "bury-st-edmunds", "burglary", dt.date(2026, 10, 1), dt.date(2026, 11, 5)),
            ("norfolk", "W1", "norwich", "burglary", dt.date(2026, 11, 1), None),
        ]
        for force, ref, district, offence, opened, closed in rows:
            s.add(
                WantedCirculation(
                    force=force,
                    reference=ref,
                    district=district,
                    offence=offence,
                    reason="never_arrested",
                    circulated_on=opened,
                    closed_on=closed,
                    status="closed" if closed else "open",
                )
            )
            s.add(
                OutstandingSuspect(
                    force=force,
                    reference=ref.replace("W", "S"),
                    district=district,
                    offence=offence,
                    identified_on=opened,
                    closed_on=closed,
                    status="closed" if closed else "open",
                )
            )
        s.add(
            BailPeriod(
                force="suffolk",
                reference="B1",
                district="lowestoft",
                offence="burglary",
                kind="bail",
                started_on=dt.date(2026, 8, 28),
                bail_end_on=dt.date(2026, 11, 28),
            )
        )
        s.add(
            ImportBatch(
                force="suffolk",
                dataset="wanted",
                file_name="wanted.csv",
                file_sha256="0" * 64,
                as_of=dt.date(2026, 11, 22),
                imported_at=NOW - dt.timedelta(days=1),
            )
        )


def test_figures_wanted_json_equals_the_service_and_is_audited(cli, config, capsys) -> None:
    seed(cli)
    assert main(["figures", "wanted", "--district", "bse", "--as-of", "2026-11-23", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    with cli() as s:
        bury = Filters(district="bury-st-edmunds")
        suffolk = config.force("suffolk")
        want = figures_to_json(
            with_outcomes(s, wanted_figures(s, suffolk, TODAY, bury), suffolk, bury),
            export_as_of=dt.date(2026, 11, 22),
            revised_up_to=None,
        )
        audit = s.scalars(select(AuditEvent)).all()
    assert out == want
    # The import's time and its file's own date; the figures for today apply the latest export.
    assert (out["export_as_of"], out["revised_up_to"]) == ("2026-11-22", None)
    assert (out["district"], out["open"], out["closed_in_month"]) == ("bury-st-edmunds", 1, 1)
    assert out["data_as_of"] == (NOW - dt.timedelta(days=1)).isoformat()
    assert [(a.action, a.outcome, a.force) for a in audit] == [("command", "ok", "suffolk")]
    assert audit[0].detail.startswith("figures wanted district=bury-st-edmunds")
    assert audit[0].actor.startswith("cli:")


def test_a_date_is_read_as_slash_mo_reads_one(cli, capsys) -> None:
    """`--as-of 23/11/2026` or "23 Nov 2026" is the day `--as-of 2026-11-23` is; a day that does not exist is refused
    with the forms that work, and nothing is asked (or audited)."""
    seed(cli)
    outs = []
    for said in ("2026-11-23", "23/11/2026", "23 Nov 2026"):
        assert main(["figures", "wanted", "--as-of", said, "--json"]) == 0
        outs.append(json.loads(capsys.readouterr().out))
    assert outs[0] == outs[1] == outs[2] and outs[0]["as_of"] == "2026-11-23"
    with pytest.raises(SystemExit) as refused:
        main(["figures", "wanted", "--as-of", "31/11/2026"])
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert "'31/11/2026' is not a real date" in err and "01/11/2026 or 1 Nov 2026" in err
    with cli() as s:
        assert len(s.scalars(select(AuditEvent)).all()) == 3


def test_figures_default_as_of_is_today_on_the_clock_and_force_is_respected(cli, config, capsys) -> None:
    seed(cli)
    assert main(["figures", "suspects", "--force", "norfolk", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    with cli() as s:
        norfolk = config.force("norfolk")
        want = figures_to_json(
            with_outcomes(s, suspect_figures(s, norfolk, TODAY), norfolk, Filters()),
            export_as_of=None,
            revised_up_to=None,
        )
    assert out == want
    assert (out["as_of"], out["force"], out["open"]) == ("2026-11-23", "norfolk", 1)
    assert out["by_district"] == {"norwich": 1, "kings-lynn": 0, "great-yarmouth": 0}


def test_figures_human_readable(cli, capsys) -> None:
    seed(cli)
    assert main(["figures", "wanted", "--as-of", "2026-11-23"]) == 0
    text = capsys.readouterr().out
    assert "Wanted circulations — Suffolk Constabulary, all districts, as of 2026-11-23" in text
    assert "Open: 2 (a month ago: 2)" in text
    assert "Ipswich 1 · Bury St Edmunds 1 · Lowestoft 0" in text
    assert "Data as of 2026-11-22, imported 2026-11-22 10:00 UTC (latest wanted import)" in text
    assert "STALE" not in text
    assert main(["figures", "suspects", "--offence", "BURGLARY"]) == 0
    text = capsys.readouterr().out
    assert "Open: 1 " in text and "no suspects import yet (STALE)" in text


def test_figures_for_a_past_date_name_the_export_they_are_revised_up_to(cli, capsys) -> None:
    """Figures for a date between two exports apply the revisions known then (the earlier export's): the output says
    so, as the `/mo` answers do, so that the latest data is not taken to be in them."""
    seed(cli)
    with cli() as s, s.begin():
        # An export as of 15 Nov (imported that day) holding every case open since 1 Nov.
        _batch(s, "suffolk", "wanted", NOW - dt.timedelta(days=8), dt.date(2026, 11, 1))
    assert main(["figures", "wanted", "--as-of", "2026-11-18"]) == 0
    text = capsys.readouterr().out
    assert "Data as of 2026-11-22, imported 2026-11-22 10:00 UTC (latest wanted import)" in text
    assert "Figures at 2026-11-18 as revised up to the export as of 2026-11-15" in text
    assert main(["figures", "wanted", "--as-of", "2026-11-18", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["as_of"], out["export_as_of"], out["revised_up_to"]) == ("2026-11-18", "2026-11-22", "2026-11-15")
    assert out["rebuilt_from"] is None
    # Before the first export (15 Nov): rebuilt from it, each case as it stood then.
    assert main(["figures", "wanted", "--as-of", "2026-11-10"]) == 0
    text = capsys.readouterr().out
    assert "Figures at 2026-11-10 rebuilt from the first export, as of 2026-11-15, each case as it stood then" in text
    assert "revised up to" not in text
    assert main(["figures", "wanted", "--as-of", "2026-11-10", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rebuilt_from"] == "2026-11-15"
    # Before the coverage there is no figure at all, rebuilt or revised.
    assert main(["figures", "wanted", "--as-of", "2026-10-20"]) == 0
    text = capsys.readouterr().out
    assert "No wanted data before 2026-11-01" in text and "rebuilt" not in text and "revised" not in text
    assert main(["figures", "wanted", "--as-of", "2026-10-20", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["covered"], out["rebuilt_from"], out["revised_up_to"]) == (False, None, None)
    # On or after the latest export's date the figures apply it: nothing more to say.
    assert main(["figures", "wanted", "--as-of", "2026-11-22"]) == 0
    assert "revised up to" not in capsys.readouterr().out
    assert main(["figures", "wanted", "--as-of", "2026-11-22", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["revised_up_to"] is None


def test_figures_bail_lists_who_authorises_the_next_extension(cli, config, capsys) -> None:
    seed(cli)
    assert main(["figures", "bail", "--as-of", "2026-11-23"]) == 0
    text = capsys.readouterr().out
    assert "Bail ending within 14 days: 1" in text
    assert "B1  ends 2026-11-28 (5 days)  Lowestoft  burglary  next: inspector" in text
    assert main(["figures", "bail", "--as-of", "2026-11-23", "--within-days", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    with cli() as s:
        suffolk = config.force("suffolk")
        want = figures_to_json(
            with_outcomes(s, bail_figures(s, suffolk, TODAY, ending_within_days=3), suffolk, Filters()),
            export_as_of=None,
            revised_up_to=None,
        )
    assert out == want and out["bail_ending_soon"] == [] and out["active_bail"] == 1


def test_unknown_district_exits_2_listing_valid_values(cli, capsys) -> None:
    assert main(["figures", "wanted", "--district", "felixstowe"]) == 2
    err = capsys.readouterr().err
    assert "unknown district 'felixstowe'" in err
    for valid in ("ipswich", "bury-st-edmunds", "bse", "lowestoft", "east"):
        assert valid in err
    assert main(["figures", "suspects", "--reason", "bail_breach"]) == 2
    assert main(["figures", "wanted", "--reason", "shoplifting"]) == 2
    assert main(["figures", "wanted", "--force", "essex"]) == 2
    assert "unknown force 'essex'" in capsys.readouterr().err


def test_status_flags_stale_datasets(cli, capsys) -> None:
    seed(cli)
    with cli() as s, s.begin():
        s.add(
            ImportBatch(
                force="suffolk",
                dataset="bail",
                file_name="bail.csv",
                file_sha256="0" * 64,
                as_of=dt.date(2026, 11, 1),
                imported_at=NOW - dt.timedelta(days=10),
            )
        )
    assert main(["status", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["now"] == NOW.isoformat()
    suffolk = {f["dataset"]: f for f in out["forces"]["suffolk"]}
    assert (suffolk["wanted"]["stale"], suffolk["wanted"]["age_days"], suffolk["wanted"]["expected_days"]) == (
        False,
        1.0,
        7,
    )
    assert (suffolk["bail"]["stale"], suffolk["bail"]["file_as_of"]) == (True, "2026-11-01")
    assert suffolk["suspects"] == {
        "dataset": "suspects",
        "imported_at": None,
        "file_as_of": None,
        "expected_days": 35,
        "age_days": None,
        "stale": True,
        "updated_in_bot": None,
        "kept": True,
    }
    norfolk = {f["dataset"]: f for f in out["forces"]["norfolk"]}
    assert all(norfolk[ds]["stale"] for ds in ("wanted", "suspects", "bail"))
    # Norfolk keeps no action log: nothing to be overdue.
    assert (norfolk["actions"]["stale"], norfolk["actions"]["kept"]) == (False, False)
    assert main(["status", "--force", "suffolk"]) == 0
    text = capsys.readouterr().out
    lines = {line.split()[0]: line for line in text.splitlines() if line.startswith("  ")}
    assert "STALE" not in lines["wanted"] and "imported 22 Nov 2026 10:00 GMT (1 day ago)" in lines["wanted"]
    # The data's own date and age first, as `/mo status` says them: an export of 1 Nov is old however recent its
    # import (10 days ago here).
    assert "data as of 1 Nov 2026 (22 days old), imported 13 Nov 2026 10:00 GMT (10 days ago)" in lines["bail"]
    assert lines["bail"].endswith("STALE") and "never imported" in lines["suspects"]
    assert " days ago" in text and ".0 days" not in text
    assert "Norfolk" not in text


def test_a_month_ago_under_an_age_filter_counts_the_cases_over_that_age_on_that_day(cli, capsys) -> None:
    """Opened over 40 days before 23 Nov: W2 (1 Jun) — W3 (1 Oct) closed on 5 Nov. A month earlier, on 23 Oct, the
    cases over 40 days old (opened before 13 Sep) and open were W2 alone: W3 was then 22 days old. Today's cohort a
    month earlier would count W3 too (2), a fall that is only the cohort's cases closing."""
    seed(cli)
    assert main(["figures", "wanted", "--older-than-days", "40", "--as-of", "2026-11-23", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["open"], out["open_a_month_ago"]) == (1, 1)
    assert main(["figures", "suspects", "--older-than-days", "40", "--as-of", "2026-11-23"]) == 0
    assert "Open: 1 (a month ago: 1)" in capsys.readouterr().out
    assert main(["figures", "wanted", "--as-of", "2026-11-23", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["open"], out["open_a_month_ago"]) == (2, 2)  # W1 and W2; on 23 Oct W2 and W3


def test_figures_trend_equals_the_trend_service_and_shows_no_number_before_the_data(cli, config, capsys) -> None:
    seed(cli)  # the wanted export is as of 22 Nov 2026 and declares no earlier coverage: complete from that day
    assert main(["figures", "wanted", "--trend", "--as-of", "2026-11-23", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    suffolk = config.force("suffolk")
    with cli() as s:
        want = trend_to_json(trend(s, "wanted", suffolk, TODAY, Filters()), force="suffolk", district=None)
        audit = s.scalars(select(AuditEvent)).all()
    assert out == want
    months = out["months"]
    assert [m["month"] for m in months][-2:] == ["2026-10", "2026-11"] and len(months) == 13
    assert months[-2]["open_at_end"] is None  # 31 Oct: before the data, no figure rather than 0
    assert (months[-1]["end"], months[-1]["open_at_end"], months[-1]["opened"]) == ("2026-11-23", 2, None)
    assert [(a.action, a.outcome) for a in audit] == [("command", "ok")]
    assert audit[0].detail.startswith("figures wanted --trend district=-")

    assert main(["figures", "wanted", "--trend", "--as-of", "2026-11-23"]) == 0
    text = capsys.readouterr().out
    assert "2026-10  2026-10-31        -       -       -" in text
    assert "2026-11  2026-11-23        2       -       -" in text
    assert "-: not covered by the data, which is complete from 2026-11-22." in text

    assert main(["figures", "bail", "--trend", "--json"]) == 0
    both = json.loads(capsys.readouterr().out)
    assert [t["dataset"] for t in both["trends"]] == ["bail", "rui"]
    assert "lapsed_at_end" in both["trends"][0]["months"][0] and "lapsed_at_end" not in both["trends"][1]["months"][0]

    assert main(["figures", "wanted", "--trend", "--older-than-days", "30"]) == 2
    assert "--trend takes no --older-than-days" in capsys.readouterr().err


def test_the_text_says_what_no_export_covers_as_the_answers_do(cli, tmp_path, capsys) -> None:
    """Data as of 30 Sep, asked on 23 Nov: the text said "(a month ago: 2) Opened this month: 0 Closed this month:
    0" and its trend "0 0" for October and November; bail before the first bail export gave "Lapsed bail: 0" and an
    ending-soon count from end dates extended since."""
    wanted = tmp_path / "wanted.csv"
    wanted.write_text("reference,offence,district,reason,circulated_on\nW1,theft,ipswich,FTA,2026-08-01\n")
    assert main(["import", "wanted", str(wanted), "--as-of", "2026-09-30", "--covers-from", "2026-08-01"]) == 0
    bail = tmp_path / "bail.csv"
    bail.write_text(
        "reference,offence,district,kind,started_on,bail_end_on\nB1,theft,ipswich,bail,2026-09-01,2026-11-25\n"
    )
    assert main(["import", "bail", str(bail), "--as-of", "2026-11-20", "--covers-from", "2026-08-01"]) == 0
    capsys.readouterr()
    assert main(["figures", "wanted", "--as-of", "2026-11-23"]) == 0
    out = capsys.readouterr().out
    assert "Open: 1 (a month ago: no export since 2026-09-30)   This month: not known yet, no export since" in out
    assert main(["figures", "wanted", "--trend", "--as-of", "2026-11-23"]) == 0
    rows = {line[:7]: line.split() for line in capsys.readouterr().out.splitlines() if line[:4] == "2026"}
    assert rows["2026-09"][3:5] == ["0", "0"] and rows["2026-10"][3:5] == ["-", "-"] and rows["2026-11"][3:5] == [
        "-", "-"
    ]  # fmt: skip
    assert main(["figures", "bail", "--as-of", "2026-10-31"]) == 0
    out = capsys.readouterr().out
    no_figure = "no figure: bail end dates are known only from the first bail export, as of 2026-11-20"
    assert f"Lapsed bail: {no_figure}" in out and f"Bail ending within 14 days: {no_figure}" in out
