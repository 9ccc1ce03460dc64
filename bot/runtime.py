"""What every entry point (CLI, Slack app, jobs) needs: config, database sessions and a clock."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, SystemClock
from bot.config import Config, load_config
from bot.db import make_engine, make_session_factory
from bot.settings import Environment, Settings


def config_from_settings(settings: Environment | Settings, config_path: str | None = None) -> Config:
    """The config a process runs with: the file ``config_path`` (``--config``) or else the settings' MO_CONFIG,
    and the settings' DATABASE_URL over the file's database_url."""
    return load_config(config_path or settings.config_path, database_url=settings.database_url)


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
    def from_settings(cls, settings: Environment | Settings, config_path: str | None = None) -> Runtime:
        """The runtime of a process with ``settings`` (:func:`bot.settings.read_environment`, or serve's
        :func:`bot.settings.load_settings`); see :func:`config_from_settings`."""
        return cls.create(config_from_settings(settings, config_path))
