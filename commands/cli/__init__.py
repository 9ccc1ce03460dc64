"""`mo-bot` command line. Each sub-command lives in its own module exposing ``add_parser(subparsers)``;
heavy imports (Bolt, matplotlib) stay inside the handlers so `mo-bot --help` starts fast."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from bot.config import ConfigError

# Modules under commands.cli, in the order their commands appear in --help.
COMMAND_MODULES = (
    "db_cmd",
    "import_cmd",
    "figures_cmd",
    "status_cmd",
    "demo_cmd",
    "ask_cmd",
    "serve_cmd",
    "audit_cmd",
    "actions_cmd",
    "jobs_cmd",
    "summary_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mo-bot",
        description="Managing Offenders figures, action log and Slack bot.",
    )
    parser.add_argument("--config", help="TOML config file (default: $MO_CONFIG, else built-in defaults)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(f"commands.cli.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"commands.cli.{name}":
                continue  # not built yet
            raise
        mod.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
