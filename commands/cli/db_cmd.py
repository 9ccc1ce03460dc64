"""`mo-bot db upgrade|current`: schema migrations."""

from __future__ import annotations

import argparse

from bot.db import current_revision, make_engine, upgrade
from bot.runtime import config_from_settings
from bot.settings import read_environment


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("db", help="database schema: upgrade to the latest migration, or show the current one")
    p.add_argument("action", choices=["upgrade", "current"])
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = config_from_settings(read_environment(), args.config)
    if args.action == "upgrade":
        upgrade(cfg.database_url)
    engine = make_engine(cfg.database_url)
    print(f"schema revision: {current_revision(engine) or 'none'}")
    engine.dispose()
    return 0
