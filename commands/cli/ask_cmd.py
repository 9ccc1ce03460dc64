"""`mo-bot ask "wanted --district ipswich"`: the `/mo` answer in the terminal, without Slack.

The same parser, permission check, rendering and audit as Slack. Without ``--user`` the asker is the operator
(``cli:<login>``, an admin: they already hold the database); with ``--user U…`` that Slack user's configured
roles apply, and ``--team``/``--channel`` check the workspace and channel rules as Slack would.
Exit status: 0 answered, 2 refused or not understood, 1 failed.
"""

from __future__ import annotations

import argparse
import json
import shlex

from bot.access import Requester, identify
from bot.slack.render_text import blocks_to_text
from commands.cli.common import cli_actor, open_runtime

EXIT = {"ok": 0, "refused": 2, "invalid": 2, "error": 1}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "ask",
        help='ask what /mo answers in Slack, e.g. mo-bot ask "wanted --district ipswich"',
        description="Answer a /mo question in the terminal: mo-bot ask wanted --district ipswich. "
        "Options of mo-bot ask itself go before the question; everything from the question on is the /mo text.",
    )
    p.add_argument("--user", metavar="U…", help="answer as this Slack user (their configured role applies)")
    p.add_argument("--group", action="append", default=[], metavar="S…", help="a user group the --user is in")
    p.add_argument("--force", metavar="SLUG", help="the force to ask about (default: the configured default force)")
    p.add_argument("--team", metavar="T…", help="as if asked from this Slack workspace (its force applies)")
    p.add_argument("--channel", metavar="C…", help="as if asked in this channel (checks the channel rule)")
    p.add_argument("--json", action="store_true", help="print the Block Kit reply as JSON instead of text")
    p.add_argument(
        "text", nargs=argparse.REMAINDER, help='the /mo text, e.g. bail --expiring 14d (quoting is optional; "help")'
    )
    p.set_defaults(func=run)


def question(words: list[str]) -> str:
    """The /mo text from the command line: one quoted argument as it is, or words the shell split (a word that
    held spaces was one quoted value, so it is quoted again)."""
    if words[:1] == ["--"]:
        words = words[1:]
    if len(words) == 1:
        return words[0]
    return " ".join(shlex.quote(w) if " " in w else w for w in words)


def run(args: argparse.Namespace) -> int:
    # Imported here, not at the top: the /mo pipeline loads every /mo handler and renderer, ~40 ms of CPU that every
    # other mo-bot command would pay at start-up.
    from commands.mo.pipeline import answer

    rt = open_runtime(args)
    try:
        who = Requester(
            user_id=args.user or cli_actor(),
            team_id=args.team,
            channel_id=args.channel,
            channel_is_dm=bool(args.channel and args.channel.startswith("D")),
            user_groups=tuple(args.group),
            force_override=args.force,
            terminal=True,
        )
        reply = answer(rt, identify(rt.config, who), question(args.text))
    finally:
        rt.engine.dispose()
    if args.json:
        print(json.dumps({"response_type": reply.response_type, "text": reply.text, "blocks": reply.blocks}, indent=2))
    else:
        print(blocks_to_text(reply.blocks), end="")
        if reply.response_type == "in_channel":
            print("(in Slack this answer would be posted to the channel)")
    return EXIT[reply.outcome]
