"""`mo-bot serve`: run the Slack bot.

- HTTP mode (default): gunicorn, embedded, with gthread workers (``WEB_CONCURRENCY`` processes × ``THREADS``
  threads, keep-alive; on SQLite one process unless ``WEB_CONCURRENCY`` is set — see ``run``) serving
  ``POST /slack/events`` and ``GET /healthz`` on ``$PORT``. Not Bolt's
  ``app.start()``: that dev server is single-threaded (p99 ~1.1 s at 8 concurrent users; resets at 32).
- Socket Mode (``SLACK_APP_TOKEN`` set): one process holds the WebSocket to Slack; ``/healthz`` is still served on
  ``$PORT`` (a small threaded server) and reports 503 while the socket is down.

By default serve also runs the scheduler (monthly summary, reminders, bail digest, freshness check, retention) in
a process of its own beside the app (:mod:`commands.cli.serve_scheduler`), so one ``web`` process deploys
everything; ``--no-scheduler`` leaves that to a separate ``mo-bot jobs run-scheduler``. ``/healthz`` reports the
scheduler's state, and ``--check`` reports it with the settings, config and database, writing nothing
(:mod:`commands.cli.serve_check`).

Settings come from the environment (``bot.settings``); every problem is printed on its own line and start-up
stops with exit status 2.
"""

from __future__ import annotations

import argparse
import atexit
import dataclasses
import logging
import signal
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from bot.runtime import Runtime
from bot.settings import Settings, SettingsError, load_settings
from commands.cli import logfmt
from commands.cli.common import open_runtime
from commands.cli.serve_check import run_check
from commands.cli.serve_scheduler import SchedulerBeside
from commands.web import WebApp, database_check, scheduler_check, socket_check

if TYPE_CHECKING:
    from slack_bolt import App

log = logging.getLogger("mo_bot.serve")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve",
        help="run the Slack bot (HTTP on $PORT, or Socket Mode when SLACK_APP_TOKEN is set)",
        description="Run the Slack bot. Settings come from the environment: SLACK_BOT_TOKEN, "
        "SLACK_SIGNING_SECRET, SLACK_APP_TOKEN (Socket Mode), SLACK_API_URL, DATABASE_URL, MO_CONFIG, PORT, "
        "WEB_CONCURRENCY, THREADS. See docs/slack-setup.md.",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="check the settings, config, database and scheduler, then exit (writes nothing)",
    )
    p.add_argument(
        "--no-scheduler",
        action="store_true",
        help="do not run the scheduled jobs beside the app (run `mo-bot jobs run-scheduler` separately)",
    )
    p.set_defaults(func=run)


def settings_or_exit(env: dict[str, str] | None = None) -> Settings:
    try:
        return load_settings(env)
    except SettingsError as e:
        for line in e.problems:
            print(f"mo-bot serve: {line}", file=sys.stderr)
        raise SystemExit(2) from None


def run(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    logfmt.configure(settings.log_level)
    if args.check:
        return run_check(args, settings)
    # Validates the config and the schema up front, in the parent, so a broken deployment fails once, clearly,
    # instead of in every worker.
    rt = open_runtime(args)
    rt.engine.dispose()  # workers make their own connections; none may be inherited across fork
    if rt.engine.dialect.name == "sqlite" and not settings.web_concurrency_set:
        # SQLite has one writer at a time and every answer appends an audit row; writers in different processes
        # wait in SQLite's busy handler, which sleeps 1–100 ms at a time (measured: 2 processes × 8 threads gave
        # less throughput than 1 process and a p99 over 700 ms). One process of threads serves SQLite better;
        # PostgreSQL takes concurrent inserts and keeps the default of 2 processes.
        settings = dataclasses.replace(settings, web_concurrency=1)
    heartbeat_path = None if args.no_scheduler else start_scheduler(getattr(args, "config", None))
    if settings.socket_mode:
        return serve_socket_mode(args, settings, heartbeat_path)
    return serve_http(args, settings, heartbeat_path)


def start_scheduler(config_path: str | None) -> Path:
    """Start the scheduler process beside the app (stopped when serve exits); returns its heartbeat file."""
    path = Path(tempfile.mkdtemp(prefix="mo-bot-serve-")) / "scheduler.json"
    beside = SchedulerBeside(path, config_path, owns_directory=True).start()
    atexit.register(beside.stop)
    return path


def bolt_app(rt: Runtime, settings: Settings) -> App:
    # Imported here, not at the top: commands.app loads slack_bolt and every listener, ~100 ms of CPU that every
    # other mo-bot command would pay at start-up.
    from commands.app import build_app
    from commands.listeners.slash_mo import start_resuming
    from commands.mo.warm import start_warming

    app = build_app(rt, settings=settings)
    # This process keeps the deferred requests it accepts alive and answers those a stopped one accepted.
    start_resuming(rt, settings)
    # The standard answers of each new import, computed once for every process and replica.
    if settings.warm_answers:
        start_warming(rt)
    return app


def make_web_app(config_path: str | None, settings: Settings, heartbeat_path: Path | None = None) -> WebApp:
    """The WSGI app for one worker process: its own runtime (engine, pool) and Bolt app; ``heartbeat_path`` is the
    scheduler's that serve runs beside it (None: ``--no-scheduler``)."""
    rt = Runtime.from_settings(settings, config_path)
    app = bolt_app(rt, settings)
    checks = [database_check(rt.engine), scheduler_check(heartbeat_path)]
    return WebApp(app, checks, mode="http", signing_secret=settings.signing_secret)


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "bind": f"0.0.0.0:{settings.port}",
        "workers": settings.web_concurrency,
        "threads": settings.threads,
        "worker_class": "gthread",
        # Keep connections open between requests (Slack and load balancers reuse them): with a new TCP connection
        # per request a bare Bolt app behind gunicorn served ~3× fewer requests (8 clients: ~650 vs ~2,200 rps).
        "keepalive": 75,
        "timeout": 30,
        "graceful_timeout": 20,
        "accesslog": settings.access_log,
        "errorlog": "-",
        "loglevel": settings.log_level.lower(),
        "logger_class": logfmt.gunicorn_logger_class,
        "proc_name": "mo-bot",
        # Slack posts to one short path with a dozen headers; these bound what gunicorn reads before the app sees a
        # request (the body's limit is the app's: commands.web.MAX_BODY, checked before it is read). gunicorn
        # answers a longer request line or more or longer headers with a 400 itself.
        "limit_request_line": 2048,
        "limit_request_fields": 50,
        "limit_request_field_size": 8190,
    }


def serve_http(args: argparse.Namespace, settings: Settings, heartbeat_path: Path | None = None) -> int:
    from gunicorn.app.base import BaseApplication

    config_path = getattr(args, "config", None)

    class MoBotServer(BaseApplication):
        def __init__(self, factory: Callable[[], WebApp], options: dict[str, Any]) -> None:
            self.factory = factory
            self.options = options
            super().__init__()

        def load_config(self) -> None:
            for key, value in self.options.items():
                self.cfg.set(key, value)

        def load(self) -> WebApp:
            return self.factory()

    MoBotServer(lambda: make_web_app(config_path, settings, heartbeat_path), gunicorn_options(settings)).run()
    return 0


def serve_socket_mode(args: argparse.Namespace, settings: Settings, heartbeat_path: Path | None = None) -> int:
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.errors import SlackApiError

    class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *a: Any) -> None:  # health probes every few seconds would flood the log
            pass

    rt = Runtime.from_settings(settings, getattr(args, "config", None))
    handler = SocketModeHandler(bolt_app(rt, settings), settings.app_token)
    checks = [database_check(rt.engine), socket_check(handler.client.is_connected), scheduler_check(heartbeat_path)]
    health = WebApp(None, checks, mode="socket")
    server = make_server("0.0.0.0", settings.port, health, ThreadingWSGIServer, QuietHandler)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        try:
            handler.connect()  # non-blocking; the client reconnects by itself and /healthz shows when it is down
        except SlackApiError as e:
            # A refused app token never heals by retrying: say so in one line and stop.
            print(f"mo-bot serve: SLACK_APP_TOKEN: Slack refused it ({e.response.get('error')})", file=sys.stderr)
            return 2
        except OSError as e:  # Slack unreachable (after the client's own retries): one line, and a restart retries
            reason = getattr(e, "reason", None) or e.strerror or type(e).__name__
            print(f"mo-bot serve: cannot reach Slack at {settings.api_url}: {reason}", file=sys.stderr)
            return 2
        log.info("mo-bot: Socket Mode connected; /healthz on port %d", settings.port)
        server.serve_forever()
    finally:
        server.server_close()
        handler.close()
    return 0
