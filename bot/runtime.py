"""What every entry point (CLI, Slack app, jobs) needs: config, database sessions and a clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, SystemClock
from bot.config import Config, load_config
from bot.db import make_engine, make_session_factory


@dataclass
class Runtime:
    config: Config
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def create(cls, config: Config, clock: Clock | None = None, engine: Engine | None = None) -> Runtime:
        engine = engine or make_engine(config.database_url)
        return cls(config=config, engine=engine, sessions=make_session_factory(engine), clock=clock or SystemClock())

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, config_path: str | None = None) -> Runtime:
        return cls.create(load_config(config_path, env))
