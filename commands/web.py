"""The WSGI application `mo-bot serve` runs: Slack's ``POST /slack/events`` into the Bolt app, and ``GET /healthz``
for the platform's health checks.

``/healthz`` answers 200 with JSON when every check passes and 503 otherwise: the database answers ``SELECT 1``
(both modes), in Socket Mode the WebSocket to Slack is connected, and the scheduler serve runs beside the app is
alive (its heartbeat, :mod:`commands.heartbeat`; with ``--no-scheduler`` it says the scheduler runs elsewhere).
It never names the database URL or the tokens, so it is safe to expose.

``POST /slack/events`` is open to the internet, so what is not Slack's is refused here, before Bolt sees it, and
in order of cost: a control character in an ``X-Slack-*`` header is a 400; a missing, malformed or stale
timestamp or signature header is a 401 (:func:`commands.signing.header_problem`); a body without a
``Content-Length`` (411) or over :data:`MAX_BODY` (413) — all of these before a byte of the body is read; then,
with the signing secret (as ``mo-bot serve`` builds it), a signature that does not match is a 401 before the body
is decoded or parsed, and a body that is not UTF-8 is a 400. The request handed to Bolt says in its context that
its signature held here (``commands.signing.CHECKED_AT_EDGE``), so ``commands.app.VerifySignature`` — which guards
the app however else it is driven, e.g. without the secret here — does not compute the same HMAC twice; a body
Bolt still cannot turn into a request is a 400, never a 500. Bolt's own self-invocation headers (``X-Slack-Bolt-*``)
are dropped. Each refusal logs one line naming the reason, never the content.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, text

from commands import heartbeat
from commands.signing import CHECKED_AT_EDGE, header_problem, refused, signature_problem

if TYPE_CHECKING:
    from slack_bolt import App

log = logging.getLogger("mo_bot.web")

SLACK_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

# Slack's payloads are small: a slash command is a few hundred bytes, and the largest this app receives are a
# message shortcut (a message of up to 40,000 characters, carried twice — as text and as rich-text blocks — each
# non-ASCII character \u-escaped in the JSON and then form-encoded: up to about 640 KB) and the App Home or a
# modal coming back with its view (at most 100 blocks). 1 MiB holds all of those with room to spare and keeps what
# one unauthenticated request can make a worker read and hash to a few milliseconds.
MAX_BODY = 1024 * 1024
# Bolt's own self-invocation headers (lazy listeners on FaaS); nothing outside the process may set them.
_BOLT_INTERNAL = "HTTP_X_SLACK_BOLT_"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

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


def scheduler_check(heartbeat_path: Path | None) -> Check:
    """The scheduler's state: from its heartbeat, or (None: ``serve --no-scheduler``) that it runs elsewhere."""

    def check() -> tuple[bool, str]:
        if heartbeat_path is None:
            return True, "not run by serve (--no-scheduler): run `mo-bot jobs run-scheduler`"
        return heartbeat.read(heartbeat_path)

    return "scheduler", check


class WebApp:
    """Routes ``/healthz`` and ``POST /slack/events`` (to the Bolt app, through the checks above); 404 otherwise."""

    def __init__(self, app: App | None, checks: list[Check], mode: str, *, signing_secret: str | None = None) -> None:
        self.checks = checks
        self.mode = mode
        self.signing_secret = signing_secret
        self.app = app

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
        if path == SLACK_PATH and environ.get("REQUEST_METHOD") == "POST" and self.app is not None:
            return self.slack_events(self.app, environ, start_response)
        return _plain(start_response, "404 Not Found", b"Not Found\n")

    def slack_events(self, app: App, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """A request from Slack, or one refused at the edge (see the module docstring)."""
        from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
        from slack_bolt.request import BoltRequest

        for key, value in environ.items():
            if key.startswith("HTTP_X_SLACK_") and (not isinstance(value, str) or _CONTROL.search(value)):
                return _refuse(start_response, 400, "control character in an X-Slack header")
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE")
        problem = header_problem(timestamp, signature)
        if problem is not None:
            return _unauthorised(start_response, problem)
        length = environ.get("CONTENT_LENGTH") or ""
        if not length:
            return _refuse(start_response, 411, "no Content-Length")
        if not length.isascii() or not length.isdigit():
            return _refuse(start_response, 400, "malformed Content-Length")
        if int(length) > MAX_BODY:
            return _refuse(start_response, 413, f"body over {MAX_BODY:,} bytes")
        raw = _read(environ.get("wsgi.input"), int(length))
        if len(raw) != int(length):
            return _refuse(start_response, 400, "body shorter than its Content-Length")
        if self.signing_secret is not None:
            problem = signature_problem(self.signing_secret, timestamp, signature, raw)
            if problem is not None:
                return _unauthorised(start_response, problem)
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _refuse(start_response, 400, "body is not UTF-8")
        headers: dict[str, str | Sequence[str]] = {}
        for key, value in environ.items():
            if key.startswith(_BOLT_INTERNAL):
                continue
            if key.startswith("HTTP_"):
                headers[key[5:].lower().replace("_", "-")] = value
            elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                headers[key.lower().replace("_", "-")] = value
        checked = {CHECKED_AT_EDGE: True} if self.signing_secret is not None else None
        try:
            req = BoltRequest(body=body, query=environ.get("QUERY_STRING", ""), headers=headers, context=checked)
        except Exception:  # Bolt parses the body as it builds the request; Slack never sends one it cannot parse
            return _refuse(start_response, 400, "body Bolt cannot parse")
        resp = app.dispatch(req)
        out = WsgiHttpResponse(status=resp.status, headers=resp.headers, body=resp.body)
        start_response(out.status, out.get_headers())
        return out.get_body()


def _read(stream: Any, length: int) -> bytes:
    """Exactly ``length`` bytes or fewer if the client stops; never more (a WSGI input may hold the next request)."""
    if stream is None or length == 0:
        return b""
    chunks: list[bytes] = []
    left = length
    while left > 0:
        chunk = stream.read(min(left, 65536))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


_REASONS = {400: "400 Bad Request", 411: "411 Length Required", 413: "413 Content Too Large"}


def _refuse(start_response: Callable[..., Any], status: int, why: str) -> list[bytes]:
    log.info("mo-bot: refused a request to %s: %s (HTTP %d)", SLACK_PATH, why, status)
    return _plain(start_response, _REASONS[status], (why + "\n").encode())


def _unauthorised(start_response: Callable[..., Any], problem: str) -> list[bytes]:
    refused(problem)
    body = b'{"error": "invalid request"}'
    start_response("401 Unauthorized", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _plain(
    start_response: Callable[..., Any], status: str, body: bytes, extra: list[tuple[str, str]] | None = None
) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body))), *(extra or [])])
    return [body]
