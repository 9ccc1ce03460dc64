"""What the request tests share: the bot as ``mo-bot serve`` builds it (``commands.web.WebApp`` around the real Bolt
app, talking to the fake Slack), served on 127.0.0.1, and a raw HTTP client for requests no well-behaved library
would send (control characters in headers, a body that never comes, a missing ``Content-Length``).

``edge`` serves the app twice over, as a parameter: ``serve`` with the signing secret, as ``mo-bot serve`` builds it
(signature checked before Bolt parses the body), and ``bolt`` without it, as other tests and any other host of the
Bolt app build it (Bolt's own check, :class:`commands.app.VerifySignature`, is then the only one). Both must hold.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
from sqlalchemy import func, select

from bot.models import Action, AuditEvent
from bot.runtime import Runtime
from commands.web import WebApp, database_check
from tests.support.bolt import app_for
from tests.support.fakeslack import FakeSlack
from tests.support.slackutil import SIGNING_SECRET, LocalServer, Reply, post_signed, sign, slash_command

CHANNEL = "C0MOBOT01"
VIEWER = "U0VIEWER1"
ANALYST = "U0ANALYST"


@dataclass
class Edge:
    rt: Runtime
    fake: FakeSlack
    url: str  # .../slack/events
    variant: str  # "serve" (the secret checked at the edge too) or "bolt" (Bolt's check only)

    def command(self, text: str, *, user: str = ANALYST, **kw: object) -> tuple[Reply, str]:
        response_url = self.fake.new_response_url()
        team = self.fake.team_id
        form = slash_command(text, user_id=user, team_id=team, channel_id=CHANNEL, response_url=response_url)
        return post_signed(self.url, form, **kw), response_url  # type: ignore[arg-type]

    def audit(self) -> list[AuditEvent]:
        with self.rt.sessions() as s:
            return list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))

    def actions(self) -> int:
        with self.rt.sessions() as s:
            return s.scalar(select(func.count()).select_from(Action)) or 0

    @property
    def host_port(self) -> tuple[str, int]:
        rest = self.url.split("//", 1)[1].split("/", 1)[0]
        host, port = rest.split(":")
        return host, int(port)


def edge_runtime(runtime: Runtime, team_id: str) -> Runtime:
    """The test runtime with the fake workspace mapped to Suffolk, one allowed channel and an analyst."""
    cfg = runtime.config
    suffolk = replace(cfg.force("suffolk"), slack_team_ids=(team_id,))
    slack = replace(cfg.slack, channels=(CHANNEL,), roles={"analyst": (ANALYST,)})
    cfg = replace(cfg, forces={**cfg.forces, "suffolk": suffolk}, slack=slack)
    return Runtime(config=cfg, engine=runtime.engine, sessions=runtime.sessions, clock=runtime.clock)


@pytest.fixture(params=["serve", "bolt"])
def edge(request: pytest.FixtureRequest, runtime: Runtime, fake_slack: FakeSlack) -> Iterator[Edge]:
    rt = edge_runtime(runtime, fake_slack.team_id)
    app = app_for(rt, fake_slack)
    checks = [database_check(rt.engine)]
    if request.param == "serve":
        web = WebApp(app, checks, mode="http", signing_secret=SIGNING_SECRET)
    else:
        web = WebApp(app, checks, mode="http")
    with LocalServer(web) as srv:
        yield Edge(rt, fake_slack, srv.url + "/slack/events", request.param)


@dataclass
class RawReply:
    status: int
    head: bytes
    body: bytes
    seconds: float


def raw_request(host: str, port: int, head: bytes, body: bytes = b"", *, timeout: float = 5.0) -> RawReply:
    """Send ``head`` (request line and headers, CRLF-separated, without the blank line) and ``body`` as given, and
    read the reply until the server closes. A server still waiting for a body it was promised times out here."""
    t0 = time.perf_counter()
    with socket.create_connection((host, port), timeout=timeout) as sock:
        # The server may answer and close before taking the whole body (a refusal): its reply is still read.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head + b"\r\n\r\n" + body)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if _complete(b"".join(chunks)):
                break
    data = b"".join(chunks)
    seconds = time.perf_counter() - t0
    head_out, _, body_out = data.partition(b"\r\n\r\n")
    status = int(head_out.split(b" ", 2)[1]) if head_out.startswith(b"HTTP/") else 0
    return RawReply(status, head_out, body_out, seconds)


def _complete(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def signed_head(
    path: str,
    body: bytes,
    *,
    timestamp: str | None = None,
    signature: str | None = None,
    content_length: str | None = None,
    extra: tuple[bytes, ...] = (),
) -> bytes:
    """A POST's head, signed for ``body`` unless ``timestamp``/``signature`` say otherwise."""
    ts = timestamp if timestamp is not None else str(int(time.time()))
    sig = signature if signature is not None else sign(body, ts)
    lines = [
        f"POST {path} HTTP/1.1".encode(),
        b"Host: 127.0.0.1",
        b"Content-Type: application/x-www-form-urlencoded",
        b"X-Slack-Request-Timestamp: " + ts.encode("latin-1"),
        b"X-Slack-Signature: " + sig.encode("latin-1"),
        b"Connection: close",
    ]
    if content_length != "":
        lines.append(b"Content-Length: " + (content_length or str(len(body))).encode())
    return b"\r\n".join([*lines, *extra])
