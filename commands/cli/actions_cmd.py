"""`mo-bot actions export|list|show` and `mo-bot remind`: the strategy action log from the terminal.

``actions export`` writes the log as the subgroup's papers show it (pillar, action, owner, status, due, last
update) as CSV or an Excel workbook; ``actions list`` prints the same filtered, paginated view `/mo actions`
shows; ``remind`` sends the weekly owner reminders now (``--dry-run`` prints who would get what).
Every read is audited as the operator (``cli:<login>``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.action_log.rules import pillar_choices, resolve_pillar
from bot.action_log.types import PILLARS, STATUSES, ActionFilters, Actor
from bot.clock import today_in
from commands.cli.common import cli_actor, cli_date, open_runtime

# The action log's queries, exports and papers and the reminders job are imported by the handlers that use them:
# every other `mo-bot` command (an import, a figure) would otherwise load them all at start-up.


def _pillar(value: str) -> str:
    slug = resolve_pillar(value)
    if slug is None:
        raise argparse.ArgumentTypeError(f"{value!r} is not a pillar; choose {pillar_choices()}")
    return slug


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("actions", help="the strategy action log: export for papers, list, show one")
    p.add_argument("--force", metavar="SLUG", help="the force (default: the configured default force)")
    asub = p.add_subparsers(dest="actions_command", metavar="ACTION", required=True)

    e = asub.add_parser("export", help="write the log as CSV or an Excel workbook (as Appendix 1 shows it)")
    e.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    e.add_argument("--pillar", type=_pillar, help=f"one pillar: {', '.join(PILLARS)}")
    e.add_argument("--status", action="append", choices=STATUSES, help="only these statuses (repeatable)")
    e.add_argument("--out", metavar="FILE", help="output file (default: standard output for CSV)")
    e.set_defaults(func=run_export)

    pp = asub.add_parser(
        "paper", help="the paper for the meeting: Actions, Achievements and HMIC Recommendations by pillar"
    )
    pp.add_argument("--format", choices=["docx", "xlsx", "csv"], default="docx")
    pp.add_argument("--out", metavar="FILE", required=True, help="the file to write")
    pp.add_argument("--as-of", type=cli_date, metavar="DATE", help="the paper's date (default: today)")
    pp.set_defaults(func=run_paper)

    ls = asub.add_parser("list", help="the filtered log grouped by pillar, as /mo actions shows it")
    ls.add_argument("--owner", help="a Slack user ID or initials such as HH")
    ls.add_argument("--status", choices=[*STATUSES, "all"])
    ls.add_argument("--pillar", type=_pillar)
    ls.add_argument("--overdue", action="store_true")
    ls.add_argument("--due-within", type=int, metavar="DAYS")
    ls.add_argument("--page", type=int, default=1)
    ls.add_argument("--page-size", type=int, default=50)
    ls.set_defaults(func=run_list)

    sh = asub.add_parser("show", help="one action with its history")
    sh.add_argument("reference", help="e.g. A-12")
    sh.set_defaults(func=run_show)

    r = sub.add_parser("remind", help="DM each action owner their overdue and due-within-7-days actions now")
    r.add_argument("--dry-run", action="store_true", help="print who would be reminded of what; send nothing")
    r.add_argument("--force", metavar="SLUG", help="only this force")
    r.set_defaults(func=run_remind)


def run_paper(args: argparse.Namespace) -> int:
    from bot.action_log import paper, paper_docx

    rt = open_runtime(args)
    try:
        force = rt.config.force(args.force)
        today = today_in(rt.clock, force.timezone)
        as_of = args.as_of or today
        if as_of > today:
            print(f"mo-bot: --as-of {as_of.isoformat()} is in the future; the paper can be dated today or earlier",
                  file=sys.stderr)  # fmt: skip
            return 2
        with rt.sessions() as s:
            doc = paper.build_paper(s, force, _actor(), as_of, rt.clock.now())
            s.commit()
    finally:
        rt.engine.dispose()
    data = {"docx": paper_docx.docx_bytes, "xlsx": paper.xlsx_bytes, "csv": paper.csv_bytes}[args.format](doc)
    Path(args.out).write_bytes(data)
    counts = ", ".join(f"{s.count} {s.title}" for s in doc.sections)
    print(f"wrote {args.out}: {counts}; {len(doc.round)} update-round answer(s)")
    return 0


def _actor() -> Actor:
    return Actor(cli_actor(), role="admin")


def run_export(args: argparse.Namespace) -> int:
    from bot.action_log import export

    rt = open_runtime(args)
    try:
        force = rt.config.force(args.force)
        with rt.sessions() as s:
            rows = export.export_rows(
                s, force, _actor(), rt.clock.now(), pillar=args.pillar, statuses=tuple(args.status or ())
            )
            s.commit()
    finally:
        rt.engine.dispose()
    if args.format == "xlsx":
        if not args.out:
            print("mo-bot: --format xlsx needs --out FILE", file=sys.stderr)
            return 2
        Path(args.out).write_bytes(export.xlsx_bytes(rows))
    elif args.out:
        Path(args.out).write_bytes(export.csv_bytes(rows))
    else:
        export.write_csv(rows, sys.stdout)
    if args.out:
        print(f"wrote {len(rows)} actions to {args.out}", file=sys.stderr)
    return 0


def run_list(args: argparse.Namespace) -> int:
    from bot.action_log import queries

    rt = open_runtime(args)
    try:
        force = rt.config.force(args.force)
        today = today_in(rt.clock, force.timezone)
        f = ActionFilters(
            owner=args.owner.upper() if args.owner and not args.owner.startswith(("U", "W")) else args.owner,
            statuses=STATUSES if args.status == "all" else (args.status,) if args.status else (),
            pillar=args.pillar,
            overdue=args.overdue,
            due_within_days=args.due_within,
        )
        with rt.sessions() as s:
            page = queries.list_actions(s, force, _actor(), f, today, rt.clock.now(), args.page, args.page_size)
            s.commit()
    finally:
        rt.engine.dispose()
    for g in page.groups:
        print(g.label)
        for a in g.items:
            due = a.due_on.isoformat() if a.due_on else "-"
            flag = f"  OVERDUE {a.days_overdue}d" if a.overdue else ""
            print(f"  {a.reference:<7} {a.status:<9} {a.owner_label:<12} due {due}{flag}  {a.title}")
    print(f"page {page.page} of {page.pages} · {page.total} actions")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from bot.action_log import queries
    from bot.action_log.export import describe_update

    rt = open_runtime(args)
    try:
        force = rt.config.force(args.force)
        with rt.sessions() as s:
            d = queries.get_action(
                s, force, _actor(), args.reference, today_in(rt.clock, force.timezone), rt.clock.now()
            )
            s.commit()
    finally:
        rt.engine.dispose()
    if d is None:
        print(f"mo-bot: there is no action {args.reference}", file=sys.stderr)
        return 2
    a = d.action
    print(f"{a.reference}  {a.title}")
    print(f"  pillar {a.pillar_label} · owner {a.owner_label} · status {a.status} · due {a.due_on or '-'}")
    if a.source:
        print(f"  source {a.source}")
    for h in d.history:
        change = "" if h.field in ("note", "created") else f"{h.field} {h.old_value or '-'} → {h.new_value or '-'}"
        what = " — ".join(x for x in (change or describe_update(h), h.note if change and h.note else "") if x)
        print(f"  {h.changed_at:%Y-%m-%d %H:%M} {h.changed_by}: {what}")
    return 0


def run_remind(args: argparse.Namespace) -> int:
    from commands.cli.jobs_cmd import slack_client_from_env
    from jobs.reminders import plan_all, reopen_recurring, send_reminders

    rt = open_runtime(args)
    try:
        forces = [rt.config.force(args.force)] if args.force else None
        if args.dry_run:
            said = 0
            for force, a in reopen_recurring(rt, forces, dry_run=True):
                print(f"{force.slug} would reopen {a.reference} (recurs every {a.recur_months} month(s))")
                said += 1
            for force, plan in plan_all(rt, forces):
                for r in plan.reminders:
                    refs = ", ".join(a.reference + (" (overdue)" if a.overdue else "") for a in r.actions)
                    print(f"{force.slug} would DM {r.user_id}: {refs}")
                    said += 1
                for a in plan.unmapped:
                    who = ", ".join(a.unmapped_owners) or a.owner_label
                    print(f"{force.slug} {who} (no Slack user mapped; not DMed): {a.reference}")
                    said += 1
            if not said:
                print("nothing due: no reminder would be sent and no recurring action would reopen")
            return 0
        client = slack_client_from_env()
        if client is None:
            print("mo-bot: SLACK_BOT_TOKEN is not set; use --dry-run to see who would be reminded", file=sys.stderr)
            return 2
        run = send_reminders(rt, client, forces)
    finally:
        rt.engine.dispose()
    print(run)
    return 1 if run.failed_users else 0
