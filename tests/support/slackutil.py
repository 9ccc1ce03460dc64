"""Driving the bot as Slack does: signed HTTP requests into a WSGI app served on 127.0.0.1.

- :class:`LocalServer` — serve any WSGI app (``commands.web.WebApp``) from a thread: ``with LocalServer(app) as srv:``
  then ``srv.url``.
- :func:`sign` — Slack's v0 request signature (``v0=`` + HMAC-SHA256 of ``v0:{timestamp}:{body}``).
- :func:`slash_command` — the form fields Slack posts for a slash command (response_url from the fake Slack).
- :func:`post_signed` — POST a form or JSON body with ``X-Slack-Request-Timestamp`` / ``X-Slack-Signature``,
  optionally with a wrong signature, an old timestamp or ``X-Slack-Retry-Num``; returns a :class:`Reply`.

Other Slack test modules (actions, home, summary) use these for ``block_actions`` / ``view_submission`` /
``shortcut`` payloads: ``post_signed(url, {"payload": json.dumps(payload)}, secret=...)``.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

SIGNING_SECRET = "e3b0c44298fc1c149afbf4c8996fb924"  # 32 hex characters, like Slack's
_seq = itertools.count(1)


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class LocalServer:
    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self._server: WSGIServer | None = None

    def __enter__(self) -> LocalServer:
        self._server = make_server("127.0.0.1", 0, self.app, _ThreadingWSGIServer, _QuietHandler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"


def sign(body: bytes, timestamp: int | str, secret: str = SIGNING_SECRET) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def slash_command(
    text: str,
    *,
    user_id: str,
    team_id: str,
    channel_id: str,
    response_url: str,
    command: str = "/mo",
    channel_name: str = "managing-offenders",
) -> dict[str, str]:
    n = next(_seq)
    return {
        "token": "legacy-verification-token-unused",
        "team_id": team_id,
        "team_domain": "fake",
        "channel_id": channel_id,
        "channel_name": "directmessage" if channel_id.startswith("D") else channel_name,
        "user_id": user_id,
        "user_name": "someone",
        "command": command,
        "text": text,
        "api_app_id": "A0MOBOT01",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"{n}.{n * 7}.{n:032x}",
    }


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def post_signed(
    url: str,
    form: dict[str, str] | None = None,
    *,
    json_body: dict[str, Any] | None = None,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    retry_num: int | None = None,
    bad_signature: bool = False,
    timeout: float = 10.0,
) -> Reply:
    """POST to ``url`` as Slack would: form-encoded (commands, interactivity) or JSON (events)."""
    if json_body is not None:
        body, ctype = json.dumps(json_body).encode(), "application/json"
    else:
        body, ctype = urlencode(form or {}).encode(), "application/x-www-form-urlencoded"
    ts = int(time.time()) if timestamp is None else timestamp
    signature = sign(body, ts, secret)
    if bad_signature:
        signature = signature[:-4] + ("0000" if not signature.endswith("0000") else "1111")
    headers = {"Content-Type": ctype, "X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": signature}
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return _send(urllib.request.Request(url, data=body, headers=headers, method="POST"), timeout)


def get(url: str, timeout: float = 10.0) -> Reply:
    return _send(urllib.request.Request(url, method="GET"), timeout)


def _send(req: urllib.request.Request, timeout: float) -> Reply:
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return Reply(resp.status, dict(resp.headers.items()), resp.read(), time.perf_counter() - t0)
    except urllib.error.HTTPError as e:
        return Reply(e.code, dict(e.headers.items()), e.read(), time.perf_counter() - t0)


def blocks_text(blocks: list[dict[str, Any]]) -> str:
    """Every text string in ``blocks`` (sections, fields, headers, context), joined by newlines."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
                out.append(node["text"])
            for v in node.values():
                if isinstance(v, (dict, list)):
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(blocks)
    return "\n".join(out)
