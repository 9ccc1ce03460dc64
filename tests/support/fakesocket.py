"""Socket Mode for the fake Slack (:mod:`fakeslack`): the WebSocket that ``apps.connections.open`` hands out, as a
small RFC 6455 server (stdlib only) on the fake's own 127.0.0.1 port. Reached as ``fake.socket_mode``.

How slack_sdk's builtin client (``slack_sdk.socket_mode.builtin``, what ``SocketModeHandler`` uses) connects, and
what this fake does for each step:

1. ``POST apps.connections.open`` with ``Authorization: Bearer xapp-…`` (the app-level token). The fake answers
   ``{"ok": true, "url": "ws://127.0.0.1:PORT/link/?ticket=…&app_id=…"}`` (real Slack: ``wss://wss-primary.slack.com
   /link/?ticket=…``). Each ticket opens one connection. The token rules live in ``FakeSlack._authenticate``.
2. ``GET /link/?ticket=…`` with ``Upgrade: websocket``: the fake answers ``101 Switching Protocols`` with
   ``Sec-WebSocket-Accept``, then sends Slack's ``hello`` (``num_connections``, ``debug_info``,
   ``connection_info.app_id``). The client uses plain ``ws://`` for any port but 443 (its "library testing" path).
   An unknown or already used ticket gets HTTP 401; while ``accepting`` is False every upgrade gets HTTP 503
   (``.refused`` counts both).
3. The client pings right after the handshake and every ``ping_interval`` seconds, and calls the connection stale
   after four intervals without a pong: the fake answers every ping with a pong carrying the same bytes (unless
   ``answer_pings`` is False: a connection gone silent, as when the network is lost without a close or a reset).
4. Envelopes (``{"envelope_id", "type", "payload", "accepts_response_payload"}``) go to the newest open connection;
   the client acks each with ``{"envelope_id", "payload"?}``, recorded as :class:`Ack`.

For a test
----------
- ``fake.socket_mode.slash_command(form)`` (the fields :func:`slackutil.slash_command` makes), ``.interactive(body)``
  (``block_actions``, ``view_submission``, shortcuts…), ``.event(body, retry_attempt=0, retry_reason="")``
  (an ``event_callback``), or ``.send(type, payload, …)``: push one envelope, return its ``envelope_id``.
- ``.wait_ack(envelope_id, timeout=5)`` → the :class:`Ack` (AssertionError on timeout); ``.acks``, ``.envelopes``.
- ``.wait_connected(count=1)`` → the newest open :class:`Connection`; ``.open_connections()``; ``.connections``
  (every one, closed ones too, with ``opened_at``/``closed_at``/``close_code``/``pings``); ``.tickets_issued``.
- ``.drop()`` closes every open connection the way Slack's edge does (a close frame, 1001 "going away", then the
  TCP close); ``.drop(reset=True)`` resets it instead (TCP RST, no close frame: a lost network). Returns once the
  fake's side is closed; the client notices on its own threads.
- ``.request_refresh()`` sends Slack's ``{"type": "disconnect", "reason": "refresh_requested"}``, after which the
  client opens a new connection at once and closes the old one.
- ``.accepting = False`` refuses new connections (HTTP 503) until set back to True, so a test can see the client
  disconnected before it reconnects. ``.answer_pings = False`` stops the pongs (the client then calls the
  connection stale and closes it itself).
- Anything the fake must refuse (an unmasked client frame, RFC 6455 5.1) closes the connection with 1002 and is
  noted in ``Connection.protocol_errors``.

All state is guarded by the FakeSlack's condition, so ``fake.wait_for(lambda f: …)`` also wakes on socket events.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from http.server import BaseHTTPRequestHandler

    from tests.support.fakeslack import FakeSlack

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
SOCKET_PATH = "/link/"
DEFAULT_APP_TOKEN = "xapp-1-A0MOBOT01-0000-fakeapptoken"
DEFAULT_APP_ID = "A0MOBOT01"


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a client's ``Sec-WebSocket-Key`` (RFC 6455 section 4.2.2)."""
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


def encode_frame(opcode: int, payload: bytes, *, mask: bytes | None = None) -> bytes:
    """One final frame. Servers send unmasked frames; a client masks with a 4-byte ``mask``."""
    head = bytes([0x80 | opcode])
    bit = 0x80 if mask else 0
    n = len(payload)
    if n <= 125:
        head += bytes([bit | n])
    elif n <= 0xFFFF:
        head += struct.pack("!BH", bit | 126, n)
    else:
        head += struct.pack("!BQ", bit | 127, n)
    if mask:
        return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + payload


def read_frame(rfile: Any) -> tuple[bool, int, bool, bytes] | None:
    """(fin, opcode, masked, unmasked payload) of the next frame, or None at end of stream."""

    def exactly(n: int) -> bytes | None:
        data = rfile.read(n) if n else b""
        return data if data is not None and len(data) == n else None

    head = exactly(2)
    if head is None:
        return None
    fin, opcode, masked, n = bool(head[0] & 0x80), head[0] & 0x0F, bool(head[1] & 0x80), head[1] & 0x7F
    if n in (126, 127):
        ext = exactly(2 if n == 126 else 8)
        if ext is None:
            return None
        n = struct.unpack("!H" if len(ext) == 2 else "!Q", ext)[0]
    key = exactly(4) if masked else b""
    payload = exactly(n)
    if key is None or payload is None:
        return None
    if masked:
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return fin, opcode, masked, payload


@dataclass
class Envelope:
    envelope_id: str
    type: str
    payload: dict[str, Any]
    connection: int
    message: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class Ack:
    envelope_id: str
    payload: dict[str, Any] | None  # None when the client acked without a payload
    connection: int
    at: float = field(default_factory=time.monotonic)


class Connection:
    """The fake's end of one WebSocket (one ticket)."""

    def __init__(self, cid: int, ticket: str, sock: socket.socket, wfile: Any) -> None:
        self.id = cid
        self.ticket = ticket
        self.sock = sock
        self._wfile = wfile
        self._write_lock = threading.Lock()
        self.opened_at = time.monotonic()
        self.closed_at: float | None = None
        self.close_code: int | None = None  # the code of the close frame the fake sent, if any
        self.pings = 0  # pings received from the client (each answered with a pong)
        self.messages: list[dict[str, Any]] = []  # text messages from the client that are not acks
        self.protocol_errors: list[str] = []
        self._reset = False

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def send_frame(self, opcode: int, payload: bytes) -> bool:
        with self._write_lock:
            try:
                self._wfile.write(encode_frame(opcode, payload))
                return True
            except OSError:
                return False

    def send_json(self, message: dict[str, Any]) -> bool:
        return self.send_frame(OP_TEXT, json.dumps(message).encode())

    def close(self, code: int = 1001, reason: str = "going away", *, reset: bool = False) -> None:
        """Close frame + TCP close, or (``reset``) a TCP reset. The reader thread finishes the job."""
        self._reset = reset
        if not reset and self.close_code is None:
            self.close_code = code
            self.send_frame(OP_CLOSE, struct.pack("!H", code) + reason.encode())
        # SHUT_RD wakes the reader thread without sending anything; the reader then closes (RST with linger 0).
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RD if reset else socket.SHUT_RDWR)

    def _finish(self) -> None:
        try:
            if self._reset:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.close()
        except OSError:
            pass


class FakeSocketMode:
    """See the module docstring."""

    def __init__(self, owner: FakeSlack, app_id: str = DEFAULT_APP_ID) -> None:
        self.owner = owner
        self.app_id = app_id
        self.accepting = True
        self.answer_pings = True
        self.tickets: dict[str, bool] = {}  # ticket -> used
        self.connections: list[Connection] = []
        self.envelopes: list[Envelope] = []
        self.acks: list[Ack] = []
        self.refused = 0  # upgrades answered with something other than 101
        self._ids = itertools.count(1)

    @property
    def _cond(self) -> threading.Condition:
        return self.owner._cond

    @property
    def tickets_issued(self) -> int:
        with self._cond:
            return len(self.tickets)

    # ----------------------------------------------------------------------------------------- apps.connections.open
    def new_url(self) -> str:
        ticket = uuid.uuid4().hex
        with self._cond:
            self.tickets[ticket] = False
        return f"ws://127.0.0.1:{self.owner.port}{SOCKET_PATH}?ticket={ticket}&app_id={self.app_id}"

    # ----------------------------------------------------------------------------------------- the WebSocket
    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        """Runs on the HTTP server's thread for ``GET /link/``: handshake, hello, then read until closed."""
        handler.close_connection = True
        ticket = (parse_qs(urlsplit(handler.path).query).get("ticket") or [""])[0]
        key = handler.headers.get("Sec-WebSocket-Key", "")
        if "websocket" not in handler.headers.get("Upgrade", "").lower() or not key:
            self._refuse(handler, 400, b"expected a WebSocket upgrade")
            return
        if handler.headers.get("Sec-WebSocket-Version") != "13":
            self._refuse(handler, 426, b"Sec-WebSocket-Version 13 only")
            return
        with self._cond:
            if not self.accepting:
                status = 503
            elif self.tickets.get(ticket) is not False:
                status = 401  # unknown, or already used: a ticket opens one connection
            else:
                status = 101
                self.tickets[ticket] = True
            if status != 101:
                self.refused += 1
                self._cond.notify_all()
        if status != 101:
            self._refuse(handler, status, b"refused")
            return
        handler.wfile.write(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n"
            ).encode()
        )
        with self._cond:
            conn = Connection(next(self._ids), ticket, handler.connection, handler.wfile)
            self.connections.append(conn)
            hello = {
                "type": "hello",
                "num_connections": len(self._open()),
                "debug_info": {
                    "host": f"applink-fake-{conn.id}",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.app_id},
            }
            self._cond.notify_all()
        conn.send_json(hello)
        try:
            self._read_loop(conn, handler.rfile)
        finally:
            conn._finish()
            with self._cond:
                conn.closed_at = time.monotonic()
                self._cond.notify_all()

    @staticmethod
    def _refuse(handler: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "text/plain")
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(body)

    def _read_loop(self, conn: Connection, rfile: Any) -> None:
        parts: list[bytes] = []
        while True:
            try:
                frame = read_frame(rfile)
            except OSError:
                return
            if frame is None:
                return
            fin, opcode, masked, data = frame
            if not masked:
                conn.protocol_errors.append(f"unmasked client frame (opcode {opcode})")
                conn.close(1002, "protocol error")
                return
            if opcode == OP_PING:
                with self._cond:
                    conn.pings += 1
                    answer = self.answer_pings
                if answer:
                    conn.send_frame(OP_PONG, data)
            elif opcode == OP_PONG:
                continue
            elif opcode == OP_CLOSE:
                if conn.close_code is None:  # the client started the closing handshake: echo its code
                    conn.close_code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1000
                    conn.send_frame(OP_CLOSE, data[:2])
                return
            elif opcode in (OP_TEXT, OP_CONTINUATION):
                parts.append(data)
                if fin:
                    self._on_text(conn, b"".join(parts))
                    parts = []

    def _on_text(self, conn: Connection, data: bytes) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            message = {"unparsed": data.decode("utf-8", "replace")}
        with self._cond:
            if isinstance(message, dict) and message.get("envelope_id"):
                self.acks.append(Ack(str(message["envelope_id"]), message.get("payload"), conn.id))
            else:
                conn.messages.append(message)
            self._cond.notify_all()

    # ----------------------------------------------------------------------------------------- inspection
    def _open(self) -> list[Connection]:
        return [c for c in self.connections if c.is_open]

    def open_connections(self) -> list[Connection]:
        with self._cond:
            return self._open()

    def wait_connected(self, count: int = 1, timeout: float = 5.0) -> Connection:
        """The newest open connection, once ``count`` connections have been opened in all."""
        ok = self.owner.wait_for(lambda f: len(self.connections) >= count and bool(self._open()), timeout)
        assert ok, f"no Socket Mode connection #{count} within {timeout} s (opened: {len(self.connections)})"
        return self.open_connections()[-1]

    def acks_for(self, envelope_id: str) -> list[Ack]:
        with self._cond:
            return [a for a in self.acks if a.envelope_id == envelope_id]

    def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> Ack:
        ok = self.owner.wait_for(lambda f: bool(self.acks_for(envelope_id)), timeout)
        assert ok, f"envelope {envelope_id} was not acknowledged within {timeout} s"
        return self.acks_for(envelope_id)[0]

    # ----------------------------------------------------------------------------------------- what Slack sends
    def send(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool = True,
        envelope_id: str | None = None,
        **extra: Any,
    ) -> str:
        """Push one envelope to the newest open connection; returns its ``envelope_id``."""
        eid = envelope_id or str(uuid.uuid4())
        message = {
            "envelope_id": eid,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            **extra,
        }
        with self._cond:
            open_now = self._open()
            assert open_now, "no open Socket Mode connection to send to"
            conn = open_now[-1]
            self.envelopes.append(Envelope(eid, envelope_type, payload, conn.id, message))
        assert conn.send_json(message), "the Socket Mode connection closed while sending"
        return eid

    def slash_command(self, form: dict[str, str]) -> str:
        return self.send("slash_commands", dict(form))

    def interactive(self, body: dict[str, Any]) -> str:
        return self.send("interactive", body)

    def event(self, body: dict[str, Any], *, retry_attempt: int = 0, retry_reason: str = "") -> str:
        """An Events API delivery; Slack sends ``retry_attempt``/``retry_reason`` with every one (0 and "" first)."""
        return self.send(
            "events_api", body, accepts_response_payload=False, retry_attempt=retry_attempt, retry_reason=retry_reason
        )

    def request_refresh(self, reason: str = "refresh_requested") -> int:
        """Slack's ``disconnect`` message to every open connection; returns how many got it."""
        sent = 0
        for conn in self.open_connections():
            sent += conn.send_json({"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}})
        return sent

    def drop(self, *, reset: bool = False, code: int = 1001, reason: str = "going away", timeout: float = 5.0) -> int:
        """Close every open connection (see the module docstring); returns how many were open."""
        conns = self.open_connections()
        for conn in conns:
            conn.close(code, reason, reset=reset)
        ok = self.owner.wait_for(lambda f: not any(c.is_open for c in conns), timeout)
        assert ok, "a Socket Mode connection did not close"
        return len(conns)
