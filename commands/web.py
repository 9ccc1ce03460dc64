"""The WSGI application `mo-bot serve` runs: Slack's ``POST /slack/events`` through Bolt's WSGI adapter, and
``GET /healthz`` for the platform's health checks.

``/healthz`` answers 200 with JSON when every check passes and 503 otherwise: the database answers ``SELECT 1``
(both modes), and in Socket Mode the WebSocket to Slack is connected. It never names the database URL or the
tokens, so it is safe to expose.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, text

if TYPE_CHECKING:
    from slack_bolt import App

log = logging.getLogger("mo_bot.web")

SLACK_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

# A health check: (name, callable returning (ok, detail)).
Check = tuple[str, Callable[[], tuple[bool, str]]]


def database_check(engine: Engine) -> Check:
    def check() -> tuple[bool, str]:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as e:  # any failure to reach the database is "unhealthy", never a 500
            log.warning("mo-bot: health check: database unreachable: %s", type(e).__name__)
            return False, f"unreachable ({type(e).__name__})"
        return True, "ok"

    return "database", check


def socket_check(is_connected: Callable[[], bool]) -> Check:
    def check() -> tuple[bool, str]:
        try:
            up = bool(is_connected())
        except Exception:
            up = False
        return up, "connected" if up else "disconnected"

    return "slack_socket", check


class WebApp:
    """Routes ``/healthz`` itself and hands everything else to Bolt's WSGI handler (which 404s unknown paths)."""

    def __init__(self, app: App | None, checks: list[Check], mode: str) -> None:
        self.checks = checks
        self.mode = mode
        self.slack: Any = None
        if app is not None:
            from slack_bolt.adapter.wsgi import SlackRequestHandler

            self.slack = SlackRequestHandler(app, path=SLACK_PATH)

    def health(self) -> tuple[int, dict[str, Any]]:
        results = {name: check() for name, check in self.checks}
        ok = all(r[0] for r in results.values())
        body: dict[str, Any] = {"status": "ok" if ok else "unavailable", "mode": self.mode}
        body.update({name: detail for name, (_, detail) in results.items()})
        return (200 if ok else 503), body

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == HEALTH_PATH:
            if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
                return _plain(start_response, "405 Method Not Allowed", b"GET only\n", [("Allow", "GET, HEAD")])
            status, body = self.health()
            data = json.dumps(body).encode()
            reason = "200 OK" if status == 200 else "503 Service Unavailable"
            start_response(
                reason,
                [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(data))),
                    ("Cache-Control", "no-store"),
                ],
            )
            return [] if environ.get("REQUEST_METHOD") == "HEAD" else [data]
        if self.slack is None:
            return _plain(start_response, "404 Not Found", b"Not Found\n")
        return self.slack(environ, start_response)


def _plain(
    start_response: Callable[..., Any], status: str, body: bytes, extra: list[tuple[str, str]] | None = None
) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body))), *(extra or [])])
    return [body]
