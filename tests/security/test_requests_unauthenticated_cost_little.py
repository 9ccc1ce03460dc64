"""A request that is not Slack's is refused cheaply, with a 4xx, and leaves one line in the log saying why.

The attacks (replayed over HTTP into the WSGI app ``mo-bot serve`` runs, and once against ``mo-bot serve`` itself):

- bodies of 10 MB: Bolt read each whole and logged it at INFO when its signature failed (five added 52 MB to the
  log). Promise: a body over ``commands.web.MAX_BODY`` is refused with 413 before it is read, and nothing of it is
  logged; a body without a ``Content-Length`` is refused with 411 unread.
- a newline in a body: Bolt's log line quoted the body, so the body could write a log line of its own. Promise: no
  byte of a refused request reaches the log, and every log line of ``mo-bot serve`` is one record.
- a non-numeric ``X-Slack-Request-Timestamp``: ``int()`` raised inside Bolt's check, a 500 and a traceback.
  Promise: every malformed timestamp or signature header is a 401; a control character in an ``X-Slack-*`` header
  is a 400; a body that is not UTF-8 or that Bolt cannot parse is a 4xx — never a 500.
- Bolt's internal ``X-Slack-Bolt-Lazy-Only`` header on a signed request (the signature does not cover headers)
  made Bolt skip the listener's ack and answer with nothing. Promise: nothing outside the process sets it.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import socket
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

import commands.app as commands_app
from commands.cli.logfmt import OneLineFormatter
from commands.signing import CHECKED_AT_EDGE
from commands.web import MAX_BODY, SLACK_PATH
from tests.e2e.test_serve import MO_BOT, _config_file, _free_port, _wait_healthy, serve_env
from tests.security import slack_edge
from tests.security.slack_edge import CHANNEL, Edge, raw_request, signed_head
from tests.support import fakeslack
from tests.support.fakeslack import FakeSlack
from tests.support.slackutil import blocks_text, post_signed, slash_command

fake_slack = fakeslack.fake_slack
edge = slack_edge.edge

MARKER = "SECRET-BODY-CONTENT-7f3a"
FORGED = "\n2026-01-01 00:00:00,000 INFO mo_bot.audit forged-line"


def _form(edge: Edge, text: str) -> bytes:
    return urlencode(
        slash_command(
            text,
            user_id="U0ANALYST",
            team_id=edge.fake.team_id,
            channel_id=CHANNEL,
            response_url=edge.fake.new_response_url(),
        )
    ).encode()


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(f"{r.name} {r.levelname} {r.getMessage()}" for r in caplog.records)


def test_a_body_over_the_limit_is_refused_before_it_is_read(edge: Edge, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    host, port = edge.host_port
    # Ten megabytes are promised and none are sent: only a server that does not wait for them can answer.
    head = signed_head(SLACK_PATH, b"", content_length=str(10 * 1024 * 1024))
    r = raw_request(host, port, head, timeout=3)
    assert r.status == 413, r
    assert r.seconds < 1
    # One over the limit, sent whole, is refused just the same; the limit itself is read.
    body = (f"text={MARKER}&pad=" + "x" * MAX_BODY).encode()[: MAX_BODY + 1]
    assert raw_request(host, port, signed_head(SLACK_PATH, body), body).status == 413
    assert MARKER not in _logged(caplog)
    refusals = [r for r in caplog.records if r.name == "mo_bot.web"]
    assert [r.getMessage() for r in refusals] == [
        f"mo-bot: refused a request to /slack/events: body over {MAX_BODY:,} bytes (HTTP 413)"
    ] * 2
    assert edge.audit() == [] and edge.fake.calls == []


def test_a_body_without_a_length_is_refused_unread(edge: Edge) -> None:
    host, port = edge.host_port
    head = signed_head(SLACK_PATH, b"", content_length="", extra=(b"Transfer-Encoding: chunked",))
    r = raw_request(host, port, head, timeout=3)
    assert r.status == 411 and r.seconds < 1


@pytest.mark.parametrize(
    ("timestamp", "signature", "reason"),
    [
        ("abc", None, "malformed X-Slack-Request-Timestamp header"),
        ("", None, "malformed X-Slack-Request-Timestamp header"),
        ("1700 000000", None, "malformed X-Slack-Request-Timestamp header"),
        ("+1700000000", None, "malformed X-Slack-Request-Timestamp header"),
        ("1_700_000_000", None, "malformed X-Slack-Request-Timestamp header"),
        ("1e9", None, "malformed X-Slack-Request-Timestamp header"),
        ("9" * 400, None, "malformed X-Slack-Request-Timestamp header"),
        ("NOW", None, "malformed X-Slack-Request-Timestamp header"),
        (None, "v1=" + "0" * 64, "malformed X-Slack-Signature header"),
        (None, "v0=" + "g" * 64, "malformed X-Slack-Signature header"),
        (None, "v0=" + "A" * 64, "malformed X-Slack-Signature header"),
        (None, "v0=", "malformed X-Slack-Signature header"),
        (None, "", "malformed X-Slack-Signature header"),
        ("1000000000", None, "timestamp outside the five-minute window"),
        (None, "v0=" + "0" * 64, "signature does not match"),
    ],
)
def test_every_malformed_signature_header_is_a_401(
    edge: Edge, caplog: pytest.LogCaptureFixture, timestamp: str | None, signature: str | None, reason: str
) -> None:
    caplog.set_level(logging.DEBUG)
    body = _form(edge, f"wanted {MARKER}")
    host, port = edge.host_port
    ts = timestamp if timestamp is not None else str(int(time.time()))
    head = signed_head(SLACK_PATH, body, timestamp=ts, signature=signature)
    r = raw_request(host, port, head, body)
    assert r.status == 401, r
    assert json.loads(r.body) == {"error": "invalid request"}
    # One line, at INFO, naming the reason — and nothing of the request: not the body, not the headers.
    lines = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert [r.getMessage() for r in lines] == [f"mo-bot: refused a request not signed by Slack: {reason}"]
    logged = _logged(caplog)
    assert MARKER not in logged
    for value in (ts, signature):
        if value and len(value) > 3:
            assert value not in logged
    assert edge.audit() == [] and edge.fake.calls == []


def test_missing_signature_headers_are_a_401(edge: Edge, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    host, port = edge.host_port
    body = _form(edge, f"help {MARKER}")
    length = b"Content-Length: " + str(len(body)).encode()
    head = b"\r\n".join([b"POST /slack/events HTTP/1.1", b"Host: x", length, b"Connection: close"])
    assert raw_request(host, port, head, body).status == 401
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO] == [
        "mo-bot: refused a request not signed by Slack: no X-Slack-Request-Timestamp header"
    ]
    assert MARKER not in _logged(caplog)


@pytest.mark.parametrize(
    ("header", "value"),
    [
        (b"X-Slack-Request-Timestamp", b"17000\x0100000"),
        (b"X-Slack-Retry-Num", b"1\x7f"),
        (b"X-Slack-Retry-Reason", b"http_timeout\x00"),
    ],
)
def test_a_control_character_in_a_slack_header_is_refused_not_a_500(edge: Edge, header: bytes, value: bytes) -> None:
    host, port = edge.host_port
    body = _form(edge, "help")
    head = signed_head(SLACK_PATH, body)
    if header == b"X-Slack-Request-Timestamp":
        head = b"\r\n".join(line for line in head.split(b"\r\n") if not line.startswith(header))
    r = raw_request(host, port, head + b"\r\n" + header + b": " + value, body)
    assert r.status in (400, 401), r
    assert edge.audit() == []


@pytest.mark.parametrize(
    "body",
    [b"{", b'{"type": "block_actions", "team": 5}', b"payload=%7Bnot-json", b"payload=" + b"%5B" * 200_000],
    ids=["truncated-json", "wrong-shape", "bad-payload", "deep-nesting"],
)
def test_a_body_bolt_cannot_parse_is_refused_not_a_500(edge: Edge, body: bytes) -> None:
    # Well-formed headers over a body Slack would never send. With the secret at the edge the (unsigned) body is
    # refused before anything parses it; without, Bolt's parse fails and that is a 400 — a 500 either way before.
    host, port = edge.host_port
    for head in (signed_head(SLACK_PATH, body, signature="v0=" + "0" * 64), signed_head(SLACK_PATH, body)):
        r = raw_request(host, port, head, body)
        assert r.status in (400, 401), r
    assert edge.audit() == []


def test_a_body_that_is_not_utf8_is_refused_not_a_500(edge: Edge) -> None:
    host, port = edge.host_port
    body = b"text=\xff\xfe&command=%2Fmo"
    assert raw_request(host, port, signed_head(SLACK_PATH, body), body).status == 400


def test_bolts_internal_headers_cannot_be_sent_from_outside(edge: Edge) -> None:
    host, port = edge.host_port
    body = _form(edge, "help")
    extra = (b"X-Slack-Bolt-Lazy-Only: 1", b"X-Slack-Bolt-Lazy-Function-Name: on_mo")
    r = raw_request(host, port, signed_head(SLACK_PATH, body, extra=extra), body)
    assert r.status == 200
    assert "/mo wanted" in blocks_text(json.loads(r.body)["blocks"])  # the answer, in the ack, as without them


def test_slack_requests_still_answered_and_logged_quietly(edge: Edge, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    r, _ = edge.command("help")
    assert r.status == 200 and "/mo wanted" in blocks_text(r.json()["blocks"])
    assert [x for x in caplog.records if x.name.startswith(("mo_bot.web", "mo_bot.signing", "slack_bolt"))] == []


# ------------------------------------------------------------------------------------------------------- the log


def _record(msg: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("mo_bot.test", logging.INFO, __file__, 1, msg, args, info)


def test_no_value_in_a_log_record_can_start_a_line_of_its_own() -> None:
    fmt = OneLineFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        raise ValueError(f"bad value {FORGED}\r\x1b[2J")
    except ValueError as e:
        error = e
    out = [
        fmt.format(_record("mo-bot: retry %s", FORGED)),
        fmt.format(_record("mo-bot: " + FORGED + "\u2028x\x85")),
        fmt.format(_record("mo-bot: failed %s", "user text", exc=error)),
    ]
    for text in out:
        first, *rest = text.split("\n")
        assert first.split(" ", 3)[2] == "INFO" and "\r" not in text and "\x1b" not in text
        assert all(line.startswith("    ") for line in rest), text  # a traceback, indented under its record
    assert "\\n2026-01-01 00:00:00,000 INFO mo_bot.audit forged-line" in out[0]
    assert "\\u2028" in out[1] and "\\x85" in out[1]
    assert "Traceback" in out[2] and "\\x1b[2J" in out[2]


# ------------------------------------------------------------------------------------------------ mo-bot serve


def _flood(host: str, port: int, head: bytes, body: bytes) -> int:
    """Send a large request as a client that does not stop when answered early; the status it was answered with."""
    with socket.create_connection((host, port), timeout=10) as sock:
        reply = io.BytesIO()

        def read() -> None:
            try:
                while chunk := sock.recv(65536):
                    reply.write(chunk)
            except OSError:
                pass

        reader = threading.Thread(target=read)
        reader.start()
        # Answered and closed before the whole body went is what a server that does not read it does.
        with contextlib.suppress(OSError):
            sock.sendall(head + b"\r\n\r\n" + body)
        reader.join(10)
    data = reply.getvalue()
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0


def test_mo_bot_serve_refuses_floods_and_forgeries_with_one_line_each(
    db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    port = _free_port()
    env = serve_env(fake_slack, db_url, _config_file(tmp_path / "mo.toml", fake_slack.team_id, CHANNEL), port)
    env["LOG_LEVEL"] = "info"  # what the campaign ran with: Bolt wrote bodies at INFO
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen([MO_BOT, "serve"], env=env, stdout=log_file, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(base + "/healthz", proc)
            size_before = os.path.getsize(log_path)
            body = (f"text={MARKER}{FORGED}&pad=".encode() + b"x" * (10 * 1024 * 1024))[: 10 * 1024 * 1024]
            bad_sig = "v0=" + "0" * 64
            t0 = time.perf_counter()
            statuses = [
                _flood("127.0.0.1", port, signed_head(SLACK_PATH, body, signature=bad_sig), body) for _ in range(5)
            ]
            flood_s = time.perf_counter() - t0
            # A forged line in a small body with a bad signature, and a timestamp that is not a number.
            small = f"text={MARKER}{FORGED}".encode()
            forged = raw_request("127.0.0.1", port, signed_head(SLACK_PATH, small, signature=bad_sig), small)
            word = raw_request("127.0.0.1", port, signed_head(SLACK_PATH, small, timestamp="abc"), small)
            # gunicorn itself refuses a control character in a header value.
            ctl_head = signed_head(SLACK_PATH, small, extra=(b"X-Slack-Retry-Num: 1\x01",))
            ctl = raw_request("127.0.0.1", port, ctl_head, small)
            # And Slack is still answered.
            form = slash_command(
                "help",
                user_id="U0ANYONE1",
                team_id=fake_slack.team_id,
                channel_id=CHANNEL,
                response_url=fake_slack.new_response_url(),
            )
            ok = post_signed(base + SLACK_PATH, form)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    log = log_path.read_bytes()
    grown = len(log) - size_before
    assert grown < 5_000, f"the log grew by {grown:,} bytes"
    text = log.decode("utf-8", "replace")
    assert MARKER not in text and "forged-line" not in text
    assert "Traceback" not in text
    assert statuses == [413] * 5
    assert flood_s < 10
    assert (forged.status, word.status, ctl.status, ok.status) == (401, 401, 400, 200)
    assert text.count("body over 1,048,576 bytes (HTTP 413)") == 5
    assert "refused a request not signed by Slack: signature does not match" in text
    assert "refused a request not signed by Slack: malformed X-Slack-Request-Timestamp header" in text
    # Every line is a record of its own: it starts with the date (our format) or "[" (gunicorn's).
    for line in text.splitlines():
        assert line[:1] in ("2", "[") or line.startswith("    "), line


def test_the_edges_word_that_a_signature_held_cannot_come_from_the_request(
    edge: Edge, caplog: pytest.LogCaptureFixture
) -> None:
    """The edge tells Bolt's check it has verified a request through the request's context, which Bolt fills from
    the body's own fields: a body naming that key, with a signature that does not match, is still refused — by the
    edge, and by Bolt's check where no edge checked it."""
    caplog.set_level(logging.INFO)
    form = dict(
        slash_command(
            "wanted",
            user_id="U0ANALYST",
            team_id=edge.fake.team_id,
            channel_id=CHANNEL,
            response_url=edge.fake.new_response_url(),
        )
    )
    form[CHECKED_AT_EDGE] = "true"
    body = urlencode(form).encode()
    host, port = edge.host_port
    r = raw_request(host, port, signed_head(SLACK_PATH, body, signature="v0=" + "0" * 64), body)
    assert r.status == 401, r
    assert edge.audit() == [] and edge.fake.calls == []


def test_a_request_the_edge_verified_is_not_verified_again(edge: Edge, monkeypatch: pytest.MonkeyPatch) -> None:
    """One HMAC per request: where the edge has the secret (as `mo-bot serve` builds it) Bolt's check trusts its
    word; without it, Bolt's check is the one that runs."""
    calls: list[str] = []
    real = commands_app.signature_problem

    def counted(*args: object, **kwargs: object) -> str | None:
        calls.append("bolt")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(commands_app, "signature_problem", counted)
    reply, _ = edge.command("wanted")
    assert reply.status == 200 and "Wanted" in blocks_text(reply.json()["blocks"])
    assert calls == ([] if edge.variant == "serve" else ["bolt"])
