"""`mo-bot` command line. Each sub-command lives in its own module exposing ``add_parser(subparsers)``, wired
below in the order the commands appear in ``--help``. Heavy third-party imports (Bolt, gunicorn, matplotlib,
APScheduler, openpyxl, Alembic) stay inside the handlers that use them, so `mo-bot --help` starts fast."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from bot.config import ConfigError
from bot.importing.readers import HashStarted
from commands.cli import (
    actions_cmd,
    ask_cmd,
    audit_cmd,
    db_cmd,
    demo_cmd,
    figures_cmd,
    import_cmd,
    jobs_cmd,
    serve_cmd,
    status_cmd,
    summary_cmd,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mo-bot",
        description="Managing Offenders figures, action log and Slack bot.",
    )
    parser.add_argument("--config", help="TOML config file (default: $MO_CONFIG, else built-in defaults)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    db_cmd.add_parser(sub)
    import_cmd.add_parser(sub)
    figures_cmd.add_parser(sub)
    status_cmd.add_parser(sub)
    demo_cmd.add_parser(sub)
    ask_cmd.add_parser(sub)
    serve_cmd.add_parser(sub)
    audit_cmd.add_parser(sub)
    actions_cmd.add_parser(sub)  # actions, remind
    jobs_cmd.add_parser(sub)
    summary_cmd.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None, *, early_hash: HashStarted | None = None) -> int:
    """``early_hash``: the file `mo-bot import` was given, already being hashed (:mod:`commands.entry`)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.early_hash = early_hash
    try:
        return int(args.func(args) or 0)
    except ConfigError as e:
        print(f"mo-bot: configuration error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`mo-bot actions export | head`): stop quietly, as other command-line tools do.
        # Point stdout at /dev/null so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by a closed pipe


if __name__ == "__main__":
    sys.exit(main())
