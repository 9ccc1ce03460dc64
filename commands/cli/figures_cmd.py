"""`mo-bot figures {wanted,suspects,bail}`: the figures at a date, human-readable or as one JSON object.

Exit status: 0 answered; 2 for an unknown district, reason or force (the valid values are listed).
Every run is audited (a consultation under DPA 2018 s.62), with the references it shows counted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable

from bot.clock import today_in
from bot.config import Force
from bot.coverage import covered_from, is_covered
from bot.dates import a_month_before
from bot.figures import (
    WANTED_REASONS,
    BailFigures,
    Filters,
    SuspectFigures,
    WantedFigures,
    bail_figures,
    figures_to_json,
    suspect_figures,
    wanted_figures,
)
from bot.figures.json import trend_to_json
from bot.figures.month_ago import with_month_ago_by_age, with_month_ago_known_then
from bot.figures.outcomes import with_outcomes
from bot.figures.trend import Trend, trend
from bot.freshness import Freshness, dataset_freshness, latest_import, rebuilt_from, revised_up_to
from bot.runtime import Runtime
from commands.cli.common import audit_cli, cli_date, open_runtime

TITLES = {"wanted": "Wanted circulations", "suspects": "Outstanding suspects", "bail": "Pre-charge bail and RUI"}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("figures", help="print the wanted, suspects or bail figures at a date")
    p.add_argument("dataset", choices=["wanted", "suspects", "bail"])
    p.add_argument("--force", metavar="SLUG", help="force (default: the configured default force)")
    p.add_argument("--district", metavar="NAME", help="district name or alias, e.g. ipswich, bse, east")
    p.add_argument("--offence", metavar="GROUP", help="offence group (case-insensitive)")
    p.add_argument("--reason", metavar="REASON", help=f"wanted only: one of {', '.join(WANTED_REASONS)}")
    p.add_argument("--older-than-days", type=int, metavar="N", help="only rows opened more than N days before")
    p.add_argument("--as-of", type=cli_date, metavar="DATE", help="date of the figures (default: today)")
    p.add_argument("--within-days", type=int, metavar="N", help="bail: look-ahead for bail ending soon")
    p.add_argument(
        "--trend",
        action="store_true",
        help="the last twelve month ends and this month, each as known then (bail: bail and RUI apart)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _district_help(force: Force) -> str:
    return "; ".join(f"{d.slug}" + (f" (also {', '.join(d.aliases)})" if d.aliases else "") for d in force.districts)


def run(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        return _run(rt, args)
    finally:
        rt.engine.dispose()


def _run(rt: Runtime, args: argparse.Namespace) -> int:
    cfg = rt.config
    force = cfg.force(args.force)
    district = None
    if args.district:
        district = force.resolve_district(args.district)
        if district is None:
            print(
                f"mo-bot: unknown district {args.district!r} for {force.slug}; valid: {_district_help(force)}",
                file=sys.stderr,
            )
            return 2
    if args.reason is not None:
        if args.dataset != "wanted":
            print("mo-bot: --reason applies to wanted only", file=sys.stderr)
            return 2
        if args.reason not in WANTED_REASONS:
            print(f"mo-bot: unknown reason {args.reason!r}; valid: {', '.join(WANTED_REASONS)}", file=sys.stderr)
            return 2
    if args.older_than_days is not None and args.older_than_days < 0:
        print("mo-bot: --older-than-days must not be negative", file=sys.stderr)
        return 2
    filters = Filters(district=district, offence=args.offence, reason=args.reason, older_than_days=args.older_than_days)
    now = rt.clock.now()
    as_of = args.as_of or today_in(rt.clock, force.timezone)
    if args.trend:
        return _trend(rt, args, force, filters, as_of, now)
    with rt.sessions() as s:
        fig: WantedFigures | SuspectFigures | BailFigures
        # "a month ago": in the JSON, the services' count with today's knowledge, its age filter counted back from
        # that day; in the text, as the `/mo` answers give it, the same question asked that day, as known then
        # (bot/figures/month_ago.py). The age filter is a number of days here, the same back from either date.
        month_ago = a_month_before(as_of)
        earlier = filters.counted_back_from(as_of, month_ago)
        covered = covered_from(s, force.slug, args.dataset)
        if args.dataset == "wanted":
            review = cfg.wanted_review_days

            def wanted(f: Filters, at: dt.date = as_of) -> WantedFigures:
                return wanted_figures(s, force, at, f, review_days=review)

            fig = with_month_ago_by_age(wanted(filters), filters, earlier, wanted)
            if not args.json:
                fig = with_month_ago_known_then(fig, month_ago, covered, lambda: wanted(filters, month_ago))
        elif args.dataset == "suspects":

            def suspects(f: Filters, at: dt.date = as_of) -> SuspectFigures:
                return suspect_figures(s, force, at, f)

            fig = with_month_ago_by_age(suspects(filters), filters, earlier, suspects)
            if not args.json:
                fig = with_month_ago_known_then(fig, month_ago, covered, lambda: suspects(filters, month_ago))
        else:
            fig = bail_figures(s, force, as_of, filters, ending_within_days=cfg.bail_window(args.within_days))
        fig = with_outcomes(s, fig, force, filters)
        fresh = next(f for f in dataset_freshness(s, cfg, force, now) if f.dataset == args.dataset)
        rests_on = revised_up_to(s, force.slug, args.dataset, as_of, fresh.file_as_of)
        rebuilt = rebuilt_from(s, force.slug, args.dataset, as_of)
    shown = len(fig.bail_ending_soon) if isinstance(fig, BailFigures) else 0
    audit_cli(
        rt,
        force.slug,
        f"figures {args.dataset} district={district or '-'} offence={args.offence or '-'} "
        f"reason={args.reason or '-'} older_than_days={args.older_than_days} as_of={as_of.isoformat()}",
        disclosed=shown,
        at=now,
    )
    if args.json:
        js = figures_to_json(fig, export_as_of=fresh.file_as_of, revised_up_to=rests_on, rebuilt_from=rebuilt)
        print(json.dumps(js, indent=2))
    else:
        print(render(fig, force, fresh, cfg.wanted_review_days, rests_on, rebuilt))
    return 0


def _trend(
    rt: Runtime, args: argparse.Namespace, force: Force, filters: Filters, as_of: dt.date, now: dt.datetime
) -> int:
    """`--trend`: the month-by-month figures `/mo … --trend` answers, as text or JSON."""
    if filters.older_than_days is not None:
        print("mo-bot: --trend takes no --older-than-days: a case's age changes from one month end to the next",
              file=sys.stderr)  # fmt: skip
        return 2
    datasets = ("bail", "rui") if args.dataset == "bail" else (args.dataset,)
    with rt.sessions() as s:
        trends = [trend(s, d, force, as_of, filters) for d in datasets]
        batch = latest_import(s, force.slug, "bail" if args.dataset == "bail" else args.dataset)
        data = batch.as_of if batch is not None else None
    audit_cli(
        rt,
        force.slug,
        f"figures {args.dataset} --trend district={filters.district or '-'} offence={args.offence or '-'} "
        f"reason={args.reason or '-'} as_of={as_of.isoformat()}",
        at=now,
    )
    if args.json:
        out = [trend_to_json(t, force=force.slug, district=filters.district) for t in trends]
        print(json.dumps(out[0] if len(out) == 1 else {"trends": out}, indent=2))
    else:
        where = force.district_label(filters.district) if filters.district else "all districts"
        print("\n\n".join(render_trend_text(t, f"{force.name}, {where}", data) for t in trends))
    return 0


TREND_TITLES = {
    "wanted": "Wanted circulations open",
    "suspects": "Outstanding suspects",
    "bail": "Active pre-charge bail",
    "rui": "Active RUI",
}


def render_trend_text(t: Trend, place: str, data: dt.date | None = None) -> str:
    """A trend as a plain table: a month end the data does not cover shows "-", not 0, and so do the openings and
    closings of a month after ``data``, the latest export's date (as `/mo … --trend` shows them)."""

    def n(v: int | None) -> str:
        return "-" if v is None else str(v)

    after = data if data is not None and data < t.as_of else None

    out = [f"{TREND_TITLES[t.dataset]} by month — {place}, as of {t.as_of.isoformat()}"]
    lapsed = t.dataset == "bail"
    out.append(
        f"{'month':<8} {'end':<10} {'open':>8} {'opened':>7} {'closed':>7}" + (f" {'lapsed':>7}" if lapsed else "")
    )
    for m in t.months:
        unknown = after is not None and m.first > after
        opened, closed = (None, None) if unknown else (m.opened, m.closed)
        row = f"{m.first:%Y-%m}  {m.end.isoformat()} {n(m.open_at_end):>8} {n(opened):>7} {n(closed):>7}"
        out.append(row + (f" {n(m.lapsed_at_end):>7}" if lapsed else ""))
    if after is not None and any(m.first > after for m in t.months):
        out.append(f"opened and closed -: after {after.isoformat()}, the latest export's date, not known yet.")
    if t.covered_from is None:
        out.append("Never imported: no figures.")
    elif any(m.open_at_end is None or m.opened is None for m in t.months):
        out.append(f"-: not covered by the data, which is complete from {t.covered_from.isoformat()}.")
    if lapsed and t.first_export and t.lapsed_unknown:
        out.append(f"lapsed -: before the first bail export, as of {t.first_export.isoformat()}, bail end dates are "
                   "known only after the extensions since.")  # fmt: skip
    if t.rebuilt and t.first_export is not None:
        out.append(f"Month ends before {t.first_export.isoformat()} are rebuilt from the first export, each case as "
                   "it stood then.")  # fmt: skip
    return "\n".join(out)


def _line(counts: dict[str, int], label: Callable[[str], str] = str) -> str:
    return " · ".join(f"{label(k)} {v}" for k, v in counts.items()) or "none"


def render(
    fig: WantedFigures | SuspectFigures | BailFigures,
    force: Force,
    fresh: Freshness,
    review_days: int,
    rests_on: dt.date | None = None,
    rebuilt: dt.date | None = None,
) -> str:
    """The figures as text. ``rests_on``: for a date before the latest export, the as-of date of the export whose
    revisions the figures apply (bot.freshness.revised_up_to), named so that the latest data is not taken to be in
    them; ``rebuilt``: for a date before the first export, that export's as-of date (bot.freshness.rebuilt_from)."""
    where = force.district_label(fig.district) if fig.district else "all districts"
    out = [f"{TITLES[fig.dataset]} — {force.name}, {where}, as of {fig.as_of.isoformat()}"]
    if fig.data_as_of is None:
        out.append(f"Data: no {fig.dataset} import yet (STALE)")
    else:
        stale = f" — STALE: expected every {fresh.expected_days} days" if fresh.stale else ""
        imported = fig.data_as_of.strftime("%Y-%m-%d %H:%M UTC")
        when = f"{fresh.file_as_of.isoformat()}, imported {imported}" if fresh.file_as_of else imported
        out.append(f"Data as of {when} (latest {fig.dataset} import){stale}")
    if fig.covered_from is not None and not is_covered(fig.covered_from, fig.as_of):
        out.append(f"No {fig.dataset} data before {fig.covered_from.isoformat()}: no figures for an earlier date.")
        return "\n".join(out)
    if fig.data_as_of is not None:
        if rebuilt is not None:
            out.append(
                f"Figures at {fig.as_of.isoformat()} rebuilt from the first export, as of {rebuilt.isoformat()}, "
                "each case as it stood then"
            )
        elif rests_on is not None:
            out.append(f"Figures at {fig.as_of.isoformat()} as revised up to the export as of {rests_on.isoformat()}")
    dl = force.district_label
    # As the /mo answers say it (bot/slack/render_figures.py): nothing after the latest export's date is known.
    data = fresh.file_as_of if fresh.file_as_of is not None and fresh.file_as_of < fig.as_of else None
    month_start = fig.as_of.replace(day=1)
    no_month = f"not known yet, no export since {data.isoformat()}" if data is not None and data < month_start else ""
    ago = a_month_before(fig.as_of)
    if isinstance(fig, WantedFigures | SuspectFigures):
        before = f"no export since {data.isoformat()}" if data is not None and data < ago else fig.open_a_month_ago
        month = (
            f"This month: {no_month}" if no_month
            else f"Opened this month: {fig.opened_in_month}   Closed this month: {fig.closed_in_month}"
        )  # fmt: skip
        out.append(f"Open: {fig.open} (a month ago: {before})   {month}")
        if isinstance(fig, WantedFigures):
            out.append(f"Review overdue (more than {review_days} days): {fig.review_overdue}")
        out.append(f"By district: {_line(fig.by_district, dl)}")
        out.append(f"By age: {_line(fig.by_age_band)}")
        if isinstance(fig, WantedFigures):
            out.append(f"By reason: {_line(fig.by_reason, lambda k: k.replace('_', ' '))}")
        out.append(f"By offence: {_line(fig.by_offence)}")
        return "\n".join(out)
    # Before the first bail export its end dates are those after every extension since: no lapsed or ending-soon
    # figure (as /mo bail and the summary).
    no_end_dates = (
        f"no figure: bail end dates are known only from the first bail export, as of {rebuilt.isoformat()}"
        if rebuilt is not None
        else ""
    )
    out.append(
        f"Active: bail {fig.active_bail} · RUI {fig.active_rui}   Lapsed bail: {no_end_dates or fig.lapsed_bail}"
    )
    for kind, label in (("bail", "Bail"), ("rui", "RUI")):
        opened, closed = fig.opened_in_month[kind], fig.closed_in_month[kind]
        month = f"this month {no_month}" if no_month else f"opened this month {opened}, closed this month {closed}"
        out.append(f"{label}: {month}")
        out.append(f"  length: {_line(fig.length_bands[kind])}")
        out.append(f"  by district: {_line(fig.by_district[kind], dl)}")
        out.append(f"  by offence: {_line(fig.by_offence[kind])}")
        if fig.over_12m_by_offence.get(kind):
            out.append(f"  over 12 months by district: {_line(fig.over_12m_by_district[kind], dl)}")
            out.append(f"  over 12 months by offence: {_line(fig.over_12m_by_offence[kind])}")
    n = fig.bail_ending_soon_total
    if no_end_dates:
        out.append(f"Bail ending within {fig.bail_ending_within_days} days: {no_end_dates}")
        return "\n".join(out)
    out.append(f"Bail ending within {fig.bail_ending_within_days} days: {n}")
    if len(fig.bail_ending_soon) < n:
        out.append(f"  (showing the first {len(fig.bail_ending_soon)})")
    for e in fig.bail_ending_soon:
        out.append(
            f"  {e.reference}  ends {e.bail_end_on.isoformat()} ({e.days_left} days)  {dl(e.district)}  "
            f"{e.offence}  next: {e.next_authority}"
        )
    return "\n".join(out)
