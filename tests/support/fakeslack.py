"""A local fake of the Slack Web API for end-to-end tests: a real HTTP server on 127.0.0.1 that slack_sdk's
``WebClient(base_url=fake.base_url)`` (or ``SLACK_API_URL``) talks to.

Use it through the ``fake_slack`` fixture (bring it into your test module with ``import fakeslack`` and
``fake_slack = fakeslack.fake_slack``; the ``tests/`` directory is on ``sys.path`` under pytest) or as a
context manager ``with FakeSlack() as fake:``.

What it does
------------
- **Records every call in order** — ``fake.calls`` is a list of :class:`Call` (``method``, ``params`` merged from the
  query string, form body and JSON body with JSON-valued fields such as ``blocks``/``view``/``files`` decoded,
  ``headers``, ``status``, ``response``). Helpers: ``fake.calls_to("chat.postMessage")`` (successful calls only
  unless ``include_failed=True``), ``fake.methods()`` (the method names in order), ``fake.wait_for(pred)``.
- **Answers Slack-shaped JSON** — ``ok``, ``ts``, ``channel``, ``message``, ``response_metadata``…
- **Rejects what real Slack rejects** (HTTP 200 with ``ok: false`` like Slack): ``not_authed`` / ``invalid_auth``
  unless ``Authorization: Bearer <fake.token>``; ``not_allowed_token_type`` for the app-level token
  (``fake.app_token``) on any method but ``apps.connections.open``, and for a bot or user token on that one;
  ``channel_not_found`` for a channel it does not know; ``not_in_channel`` for a known channel the bot is not a
  member of (``fake.add_channel("C1", member=False)``); ``invalid_blocks`` (with ``response_metadata.messages``
  naming the JSON pointer) for more than 50 blocks in a message or 100 in a modal / Home tab, section text over
  3,000 characters, more than 10 section fields or a field over 2,000, header text over 150 or not plain_text, a
  plain_text object whose text is empty, a button label over 75, duplicate block_ids, an unknown block type;
  ``msg_too_long`` for text over 40,000 characters; ``no_text`` when a message has neither text nor blocks; a
  ``missing_text`` warning when blocks come without the ``text`` fallback (the answer stays ok, like Slack);
  an overflow menu without 2–5 options, a static_select over 100 options, an option's text over 75 or value over
  150; ``invalid_arguments`` for a modal title/submit/close over 24 characters, a modal with inputs but no
  ``submit``, a ``callback_id`` over 255; ``message_not_found`` on updating a
  message it never saw; ``user_not_found`` / ``no_such_subteam`` / ``view_not_found`` / ``file_not_found``.
- **Failures on demand** — ``fake.fail_next("chat.postMessage", status=429, retry_after=1)`` answers the next
  call to that method with HTTP 429 ``ratelimited`` and a ``Retry-After`` header; ``status=500``/``503`` gives a
  server error; ``error="not_in_channel"`` gives HTTP 200 ``ok: false``; ``times=N`` repeats it N times.
- **Slow answers on demand** — ``fake.delay_next("chat.postMessage", seconds=1.5)`` does the next call's work (the
  message is posted and recorded) and only then waits before answering, as Slack does when it is slow: a client
  whose timeout is shorter gives up without knowing the message was posted. ``times=N`` delays N calls.
  ``fake.delay_response_urls(seconds=60)`` makes the next post to a response_url wait before Slack takes it: one
  whose sender has gone by then (its connection closed: the process was killed) is dropped unseen.
- **response_url** — ``fake.new_response_url(kind)`` hands out ``http://127.0.0.1:PORT/response/<id>`` for a slash
  command (``kind="command"``) or an interaction on a message (``"interaction"``, ``original=`` the message the user
  sees); what is POSTed there is recorded in ``fake.response_posts`` (:class:`ResponsePost` with ``payload``:
  ``response_type``, ``replace_original``, ``text``, ``blocks``…). As in Slack: at most 5 posts within 30 minutes
  (``used_url`` / ``expired_url``, HTTP 404), each message checked as ``chat.postMessage`` checks it (``no_text``,
  ``invalid_blocks``, ``msg_too_long``, HTTP 400), and ``fake.visible(url)`` is what the user sees: a post with
  ``replace_original`` replaces an interaction's original message, while a slash command's response_url ignores it
  and adds a message after the ack's (``fake.slash_ack(url, body)`` tells the fake what the ack showed).
- **trigger_id** — ``fake.new_trigger_id()`` issues one good for one ``views.open``/``views.push`` within 3 seconds
  (``expired_trigger_id`` after, ``trigger_exchanged`` when used twice); a trigger_id the fake did not issue is
  taken as fresh. ``fake.time_travel(seconds)`` ages trigger_ids and response_urls without waiting.
- **Scopes and plans** — the bot token has exactly the bot scopes of ``manifest.yml`` (``fake.scopes``): a method
  needing another (:data:`METHOD_SCOPES`) is ``missing_scope`` with ``needed`` and ``provided``. ``fake.plan =
  "free"`` makes the user-group methods ``plan_upgrade_required``. ``fake.heal()`` drops pending failures and delays.
- **Files v2** — ``files.getUploadURLExternal`` hands out ``http://127.0.0.1:PORT/upload/<file_id>``; the bytes POSTed
  there are kept in ``fake.uploads[file_id]``; ``files.completeUploadExternal`` checks the file was uploaded and
  records ``files`` (with ``alt_txt``/``title``), ``channel_id``, ``initial_comment``, ``thread_ts``;
  ``fake.files[file_id]`` holds each file's ``name``, ``length``, ``title`` and ``alt_txt`` (slack_sdk's
  ``files_upload_v2`` sends the alt text with ``files.getUploadURLExternal``).
- **Socket Mode** — ``apps.connections.open`` takes only ``Authorization: Bearer <fake.app_token>`` (``xapp-…``;
  another app token, or the right one as a ``token`` form field only, is ``invalid_auth``) and answers
  ``ws://127.0.0.1:PORT/link/?ticket=…``: a WebSocket on the fake's own port that sends ``hello``, answers pings,
  takes envelopes from the test and records the client's acks. ``fake.socket_mode`` drives it:
  ``.slash_command(form)`` / ``.interactive(body)`` / ``.event(body)`` push an envelope and return its id,
  ``.wait_ack(id)`` gives the ack (``payload`` is what the bot answered), ``.wait_connected()``, ``.drop()``
  (close frame; ``reset=True`` for a TCP reset), ``.request_refresh()`` (Slack's ``disconnect`` message),
  ``.accepting = False`` (refuse new connections), ``.answer_pings = False`` (a silent connection). Details in
  :mod:`fakesocket`.

Methods: apps.connections.open, auth.test, chat.postMessage, chat.postEphemeral, chat.update, chat.delete,
chat.getPermalink, conversations.open, conversations.info, views.open, views.update, views.publish, views.push,
users.info, usergroups.list, usergroups.users.list, files.getUploadURLExternal, files.completeUploadExternal,
files.info (and the bytes at each shared file's ``url_private_download``, to the bot token only: :mod:`fakefiles`).
Anything else answers ``unknown_method`` (and is recorded), so a test notices a call it did not expect.

State you can set: ``fake.token``, ``fake.app_token``, ``fake.team_id``, ``fake.bot_user_id``,
``fake.add_channel(id, member=True, name=None, is_im=False)``, ``fake.users[user_id] = {...}``,
``fake.usergroups[group_id] = ["U…", …]``.
``fake.messages[(channel, ts)]`` holds every message the bot posted or updated; ``fake.views[view_id]`` every view.
``fake.reset()`` forgets calls, posts, envelopes and acks (keeps channels, users, groups and open sockets).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml

from tests.support.fakefiles import FILES_PATH, FakeFiles
from tests.support.fakesocket import DEFAULT_APP_TOKEN, SOCKET_PATH, FakeSocketMode
from tests.support.paths import REPO_ROOT

DEFAULT_TOKEN = "xoxb-fake-0000-test-token"
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_MESSAGE_TEXT = 40000
MAX_VIEW_TITLE = 24
MAX_RESPONSE_URL_POSTS = 5
RESPONSE_URL_LIFETIME_S = 30 * 60  # "up to 5 times within 30 minutes" (docs.slack.dev, handling user interaction)
TRIGGER_LIFETIME_S = 3.0  # a trigger_id expires 3 seconds after the request that carried it (expired_trigger_id)
MAX_OVERFLOW_OPTIONS = 5
MIN_OVERFLOW_OPTIONS = 2
MAX_SELECT_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_CALLBACK_ID = 255
# The bot scope(s) each Web API method needs (any one of them), from the methods' reference pages on
# docs.slack.dev ("Required scopes"); a method not listed needs none (auth.test, views.*, chat.getPermalink).
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "files.info": ("files:read",),
    "chat.postMessage": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.delete": ("chat:write",),
    "conversations.open": ("im:write", "mpim:write", "channels:manage", "groups:write"),
    "conversations.info": ("channels:read", "groups:read", "im:read", "mpim:read"),
    "users.info": ("users:read",),
    "usergroups.list": ("usergroups:read",),
    "usergroups.users.list": ("usergroups:read",),
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
}
USERGROUP_METHODS = ("usergroups.list", "usergroups.users.list")  # paid plans only (plan_upgrade_required)
RESPONSE_URL_DELAY = "response_url"  # the key delay_response_urls uses in the delays of delay_next
APP_TOKEN_METHODS = ("apps.connections.open",)  # the methods that take the app-level token (xapp-…)
JSON_FIELDS = ("blocks", "attachments", "view", "files", "metadata", "users")
KNOWN_BLOCKS = {
    "section",
    "header",
    "divider",
    "context",
    "actions",
    "image",
    "input",
    "rich_text",
    "file",
    "video",
    "markdown",
}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    status: int
    response: dict[str, Any]
    at: float = field(default_factory=time.monotonic)

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))


@dataclass
class ResponsePost:
    response_id: str
    url: str
    payload: dict[str, Any]
    headers: dict[str, str]


@dataclass
class ResponseUrl:
    """A response_url the fake handed out: what kind of request carried it, when, how often it was used, and the
    messages the user sees through it (``visible``)."""

    kind: str  # "command" (a slash command) or "interaction" (block_actions, shortcut…)
    issued: float
    uses: int = 0
    visible: list[dict[str, Any]] = field(default_factory=list)
    has_original: bool = False  # visible[0] is the message the interaction came from (replace_original replaces it)


def manifest_bot_scopes() -> frozenset[str]:
    """The bot scopes ``manifest.yml`` asks for: the token the fake accepts has exactly these, so a scope removed
    from the manifest makes every call that needs it fail with ``missing_scope``."""
    manifest = yaml.safe_load((REPO_ROOT / "manifest.yml").read_text(encoding="utf-8"))
    return frozenset(manifest["oauth_config"]["scopes"]["bot"])


@dataclass
class _Failure:
    status: int
    error: str
    retry_after: int | None
    remaining: int


@dataclass
class Channel:
    id: str
    name: str
    member: bool
    is_im: bool = False
    user: str | None = None


class SlackError(Exception):
    def __init__(self, error: str, messages: list[str] | None = None, **extra: str) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []
        self.extra = extra


# ----------------------------------------------------------------------------------------------- Block Kit checks


def _text_problems(obj: Any, ptr: str, *, max_len: int, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        return [f"[ERROR] must be a text object [json-pointer:{ptr}]"]
    if plain_only and obj["type"] != "plain_text":
        return [f"[ERROR] must be plain_text [json-pointer:{ptr}/type]"]
    text = obj.get("text")
    if not isinstance(text, str) or (obj["type"] == "plain_text" and not text):
        return [f"[ERROR] must be a non-empty string [json-pointer:{ptr}/text]"]
    if len(text) > max_len:
        return [f"[ERROR] must be less than {max_len + 1} characters [json-pointer:{ptr}/text]"]
    return []


def _element_problems(el: Any, ptr: str) -> list[str]:
    if not isinstance(el, dict) or "type" not in el:
        return [f"[ERROR] must be an element object [json-pointer:{ptr}]"]
    problems: list[str] = []
    if el["type"] == "button":
        problems += _text_problems(el.get("text"), f"{ptr}/text", max_len=MAX_BUTTON_TEXT, plain_only=True)
        if len(str(el.get("value", ""))) > 2000:
            problems.append(f"[ERROR] must be less than 2001 characters [json-pointer:{ptr}/value]")
    if len(str(el.get("action_id", ""))) > 255:
        problems.append(f"[ERROR] must be less than 256 characters [json-pointer:{ptr}/action_id]")
    if el["type"] == "overflow":
        problems += _options_problems(el.get("options"), f"{ptr}/options", MIN_OVERFLOW_OPTIONS, MAX_OVERFLOW_OPTIONS)
    elif el["type"] == "static_select" and "option_groups" not in el:
        problems += _options_problems(el.get("options"), f"{ptr}/options", 1, MAX_SELECT_OPTIONS)
        if isinstance(el.get("initial_option"), dict):
            problems += _option_problems(el["initial_option"], f"{ptr}/initial_option")
    return problems


def _options_problems(options: Any, ptr: str, least: int, most: int) -> list[str]:
    """An overflow takes 2 to 5 options, a static_select 1 to 100; each option's text at most 75 characters and its
    value at most 150 (Block Kit reference: overflow menu, select menus, option object)."""
    if not isinstance(options, list) or not least <= len(options) <= most:
        return [f"[ERROR] {least} to {most} items allowed [json-pointer:{ptr}]"]
    problems: list[str] = []
    for i, o in enumerate(options):
        problems += _option_problems(o, f"{ptr}/{i}")
    return problems


def _option_problems(option: Any, ptr: str) -> list[str]:
    if not isinstance(option, dict):
        return [f"[ERROR] must be an option object [json-pointer:{ptr}]"]
    problems = _text_problems(option.get("text"), f"{ptr}/text", max_len=MAX_OPTION_TEXT)
    if len(str(option.get("value", ""))) > MAX_OPTION_VALUE:
        problems.append(f"[ERROR] must be less than {MAX_OPTION_VALUE + 1} characters [json-pointer:{ptr}/value]")
    return problems


def block_problems(blocks: Any, *, max_blocks: int) -> list[str]:
    """What real Slack would say about ``blocks`` (empty list = acceptable)."""
    if not isinstance(blocks, list):
        return ["[ERROR] must be an array [json-pointer:/blocks]"]
    problems: list[str] = []
    if len(blocks) > max_blocks:
        problems.append(f"[ERROR] no more than {max_blocks} items allowed [json-pointer:/blocks]")
    seen_ids: set[str] = set()
    for i, b in enumerate(blocks):
        ptr = f"/blocks/{i}"
        if not isinstance(b, dict) or b.get("type") not in KNOWN_BLOCKS:
            problems.append(f"[ERROR] unsupported type [json-pointer:{ptr}/type]")
            continue
        bid = b.get("block_id")
        if bid is not None:
            if not isinstance(bid, str) or len(bid) > 255:
                problems.append(f"[ERROR] must be less than 256 characters [json-pointer:{ptr}/block_id]")
            elif bid in seen_ids:
                problems.append(f"[ERROR] duplicate block_id [json-pointer:{ptr}/block_id]")
            else:
                seen_ids.add(bid)
        kind = b["type"]
        if kind == "section":
            if "text" not in b and "fields" not in b:
                problems.append(f"[ERROR] must provide text or fields [json-pointer:{ptr}]")
            if "text" in b:
                problems += _text_problems(b["text"], f"{ptr}/text", max_len=MAX_SECTION_TEXT)
            if "fields" in b:
                fields = b["fields"]
                if not isinstance(fields, list) or not 1 <= len(fields) <= MAX_SECTION_FIELDS:
                    problems.append(f"[ERROR] 1 to {MAX_SECTION_FIELDS} items allowed [json-pointer:{ptr}/fields]")
                else:
                    for j, f in enumerate(fields):
                        problems += _text_problems(f, f"{ptr}/fields/{j}", max_len=MAX_FIELD_TEXT)
            if "accessory" in b:
                problems += _element_problems(b["accessory"], f"{ptr}/accessory")
        elif kind == "header":
            problems += _text_problems(b.get("text"), f"{ptr}/text", max_len=MAX_HEADER_TEXT, plain_only=True)
        elif kind == "context":
            els = b.get("elements")
            if not isinstance(els, list) or not 1 <= len(els) <= 10:
                problems.append(f"[ERROR] 1 to 10 items allowed [json-pointer:{ptr}/elements]")
            else:
                for j, e in enumerate(els):
                    if isinstance(e, dict) and e.get("type") in ("plain_text", "mrkdwn"):
                        problems += _text_problems(e, f"{ptr}/elements/{j}", max_len=MAX_SECTION_TEXT)
        elif kind == "actions":
            els = b.get("elements")
            if not isinstance(els, list) or not 1 <= len(els) <= 25:
                problems.append(f"[ERROR] 1 to 25 items allowed [json-pointer:{ptr}/elements]")
            else:
                for j, e in enumerate(els):
                    problems += _element_problems(e, f"{ptr}/elements/{j}")
        elif kind == "image":
            if not b.get("alt_text"):
                problems.append(f"[ERROR] missing required field: alt_text [json-pointer:{ptr}]")
        elif kind == "input":
            problems += _text_problems(b.get("label"), f"{ptr}/label", max_len=2000, plain_only=True)
            if "element" not in b:
                problems.append(f"[ERROR] missing required field: element [json-pointer:{ptr}]")
            else:
                problems += _element_problems(b["element"], f"{ptr}/element")
    return problems


def view_problems(view: Any) -> tuple[str, list[str]]:
    """(error code, messages) for a modal or Home tab view; ("", []) when acceptable."""
    if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
        return "invalid_arguments", ["[ERROR] view.type must be modal or home [json-pointer:/view/type]"]
    msgs: list[str] = []
    if len(str(view.get("callback_id", ""))) > MAX_CALLBACK_ID:
        msgs.append(f"[ERROR] must be less than {MAX_CALLBACK_ID + 1} characters [json-pointer:/view/callback_id]")
    if view["type"] == "modal":
        for key in ("title", "submit", "close"):
            if key in view or key == "title":
                msgs += _text_problems(view.get(key), f"/view/{key}", max_len=MAX_VIEW_TITLE, plain_only=True)
        if len(str(view.get("private_metadata", ""))) > 3000:
            msgs.append("[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]")
        blocks = view.get("blocks")
        has_input = isinstance(blocks, list) and any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        if has_input and "submit" not in view:
            # Slack: a modal's submit "is required when an input block is within the blocks array".
            msgs.append("[ERROR] must provide submit when there are input blocks [json-pointer:/view/submit]")
    if msgs:
        return "invalid_arguments", msgs
    problems = block_problems(view.get("blocks", []), max_blocks=MAX_VIEW_BLOCKS)
    return ("invalid_blocks", problems) if problems else ("", [])


# ----------------------------------------------------------------------------------------------------- the fake


class FakeSlack:
    """See the module docstring."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        team_id: str = "T0FAKE001",
        bot_user_id: str = "UBOT0001",
        app_token: str = DEFAULT_APP_TOKEN,
    ) -> None:
        self.token = token
        self.app_token = app_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.calls: list[Call] = []
        self.response_posts: list[ResponsePost] = []
        self.uploads: dict[str, bytes] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.usergroups: dict[str, list[str]] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._delays: dict[str, list[list[float]]] = {}  # method -> [[seconds, calls left], ...]
        self._response_urls: dict[str, ResponseUrl] = {}
        self._triggers: dict[str, float] = {}  # trigger_id -> when it was issued (fake time)
        self._triggers_used: set[str] = set()
        self._time_offset = 0.0
        self.scopes: frozenset[str] = manifest_bot_scopes()
        self.plan = "standard"  # "free": user groups are a paid-plan feature (plan_upgrade_required)
        self.files: dict[str, dict[str, Any]] = {}
        self._seq = itertools.count(1)
        self._cond = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.socket_mode = FakeSocketMode(self)
        self.shared_files = FakeFiles(self)  # files users share with the bot: fakefiles.py

    # ----------------------------------------------------------------------------------------- lifecycle
    def start(self) -> FakeSlack:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-slack", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self.socket_mode.drop()  # the HTTP server's shutdown would leave WebSocket threads running
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeSlack not started"
        return self._server.server_address[1]

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What to give ``WebClient(base_url=…)`` or ``SLACK_API_URL``."""
        return f"{self.root}/api/"

    # ----------------------------------------------------------------------------------------- set-up
    def add_channel(
        self, channel_id: str, *, member: bool = True, name: str | None = None, is_im: bool = False
    ) -> Channel:
        ch = Channel(channel_id, name or channel_id.lower(), member, is_im)
        with self._cond:
            self.channels[channel_id] = ch
        return ch

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = None,
        error: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail: HTTP ``status`` (429 → ``ratelimited`` with
        ``Retry-After``), or HTTP 200 ``ok: false`` with ``error`` when ``status`` is 200."""
        if status == 429 and retry_after is None:
            retry_after = 1
        err = error or {429: "ratelimited", 200: "internal_error"}.get(status, "fatal_error")
        with self._cond:
            self._failures.setdefault(method, []).append(_Failure(status, err, retry_after, times))

    def heal(self) -> None:
        """Forget the failures and delays still pending (Slack is well again)."""
        with self._cond:
            self._failures.clear()
            self._delays.clear()

    def delay_next(self, method: str, *, seconds: float, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` ``seconds`` late, after doing their work."""
        with self._cond:
            self._delays.setdefault(method, []).append([seconds, times])

    def delay_response_urls(self, *, seconds: float, times: int = 1) -> None:
        """The next ``times`` posts to a response_url wait ``seconds`` before Slack takes them."""
        self.delay_next(RESPONSE_URL_DELAY, seconds=seconds, times=times)

    def response_url_delays_left(self) -> int:
        """How many of the delays set by :meth:`delay_response_urls` no post has reached yet."""
        with self._cond:
            return sum(n for _, n in self._delays.get(RESPONSE_URL_DELAY, []))

    def _take_delay(self, method: str) -> float:
        with self._cond:
            queue = self._delays.get(method)
            if not queue:
                return 0.0
            seconds = queue[0][0]
            queue[0][1] -= 1
            if queue[0][1] <= 0:
                queue.pop(0)
            return seconds

    def now(self) -> float:
        """The fake's clock (monotonic seconds, moved on by :meth:`time_travel`)."""
        return time.monotonic() + self._time_offset

    def time_travel(self, seconds: float) -> None:
        """Move the fake's clock on: trigger_ids and response_urls age without the test waiting."""
        with self._cond:
            self._time_offset += seconds

    def new_trigger_id(self) -> str:
        """A trigger_id as Slack puts in an interaction or slash command: good for one views.open (or push) within
        3 seconds of now, ``expired_trigger_id`` after that."""
        n = next(self._seq)
        tid = f"{1_300_000_000_000 + n}.{100_000_000 + n}.{n:032x}"
        with self._cond:
            self._triggers[tid] = self.now()
        return tid

    def new_response_url(self, kind: str = "command", *, original: dict[str, Any] | None = None) -> str:
        """A response_url for a slash command (``kind="command"``) or an interaction on a message
        (``"interaction"``, with the ``original`` message the user sees)."""
        if kind not in ("command", "interaction"):
            raise ValueError(kind)
        rid = f"R{next(self._seq):06d}"
        with self._cond:
            url = ResponseUrl(kind, self.now())
            if original is not None:
                url.visible.append(dict(original))
                url.has_original = True
            self._response_urls[rid] = url
        return f"{self.root}/response/{rid}"

    def slash_ack(self, response_url: str, body: bytes | dict[str, Any] | None) -> None:
        """What the app answered in the HTTP response to a slash command: Slack shows it (if it has text or blocks)
        to the user, before anything posted to the command's response_url."""
        if isinstance(body, bytes):
            body = json.loads(body) if body.strip().startswith(b"{") else ({"text": body.decode()} if body else None)
        if not body or not (body.get("text") or body.get("blocks")):
            return
        with self._cond:
            self._response_urls[response_url.rsplit("/", 1)[1]].visible.append(dict(body))

    def visible(self, response_url: str) -> list[dict[str, Any]]:
        """The messages the user sees through ``response_url``: the original (or the ack), then what was posted
        to it — replaced in place where Slack replaces, added where it adds."""
        with self._cond:
            return [dict(m) for m in self._response_urls[response_url.rsplit("/", 1)[1]].visible]

    def reset(self) -> None:
        with self._cond:
            self.calls.clear()
            self.response_posts.clear()
            self._failures.clear()
            self._delays.clear()
            self.socket_mode.envelopes.clear()
            self.socket_mode.acks.clear()
            self._triggers_used.clear()

    # ----------------------------------------------------------------------------------------- inspection
    def calls_to(self, method: str, *, include_failed: bool = False) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method and (include_failed or c.ok)]

    def methods(self) -> list[str]:
        with self._cond:
            return [c.method for c in self.calls]

    def posts_to(self, url: str) -> list[ResponsePost]:
        with self._cond:
            return [p for p in self.response_posts if p.url == url]

    def wait_for(self, predicate: Callable[[FakeSlack], bool], timeout: float = 5.0) -> bool:
        """Block until ``predicate(self)`` holds (re-checked on every recorded call or post) or ``timeout``.
        For work finished on another thread (lazy listeners); returns the predicate's final value."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return predicate(self)
                self._cond.wait(left)
            return True

    # ----------------------------------------------------------------------------------------- internals
    def _ts(self) -> str:
        return f"{1_790_000_000 + next(self._seq)}.{next(self._seq):06d}"

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        f = queue[0]
        f.remaining -= 1
        if f.remaining <= 0:
            queue.pop(0)
        return f

    def _record(self, call: Call) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    def handle_api(self, method: str, params: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict, dict]:
        """Returns (HTTP status, JSON body, extra headers) and records the call."""
        with self._cond:
            failure = self._take_failure(method)
        extra: dict[str, str] = {}
        if failure is not None and failure.status != 200:
            status, body = failure.status, {"ok": False, "error": failure.error}
            if failure.retry_after is not None:
                extra["Retry-After"] = str(failure.retry_after)
        else:
            status = 200
            try:
                self._authenticate(method, params, headers)
                self._authorise(method, headers)
                if failure is not None:
                    raise SlackError(failure.error)
                handler = getattr(self, "_m_" + method.replace(".", "_"), None)
                if handler is None:
                    raise SlackError("unknown_method")
                body = {"ok": True, **handler(params)}
            except SlackError as e:
                body = {"ok": False, "error": e.error, **e.extra}
                if e.messages:
                    body["response_metadata"] = {"messages": e.messages}
        self._record(Call(method, params, headers, status, body))
        delay = self._take_delay(method)
        if delay:
            time.sleep(delay)  # the work is done and recorded; only the answer is late
        return status, body, extra

    def _authenticate(self, method: str, params: dict[str, Any], headers: dict[str, str]) -> None:
        auth = headers.get("authorization", "")
        bearer = auth[7:] if auth.lower().startswith("bearer ") else None
        token = bearer or params.get("token")
        if not token:
            raise SlackError("not_authed")
        if method in APP_TOKEN_METHODS:
            if not str(token).startswith("xapp-"):
                raise SlackError("not_allowed_token_type")  # a bot or user token where an app-level one belongs
            if bearer != self.app_token:
                # Slack refuses a wrong or revoked app token, and takes the right one only as a Bearer header
                # (not as a ``token`` form field: slackapi/python-slack-sdk#1877).
                raise SlackError("invalid_auth")
            return
        if token == self.app_token:
            raise SlackError("not_allowed_token_type")  # an app-level token calls only app-level methods
        if token != self.token:
            raise SlackError("invalid_auth")

    def _authorise(self, method: str, headers: dict[str, str]) -> None:
        """A bot token has the manifest's scopes: a method needing another is ``missing_scope`` (with ``needed``
        and ``provided``, as Slack answers); user groups on a free workspace are ``plan_upgrade_required``."""
        if method in APP_TOKEN_METHODS:
            return
        needed = METHOD_SCOPES.get(method)
        if needed and not self.scopes.intersection(needed):
            raise SlackError("missing_scope", needed=",".join(needed), provided=",".join(sorted(self.scopes)))
        if method in USERGROUP_METHODS and self.plan == "free":
            raise SlackError("plan_upgrade_required")

    def _take_trigger(self, trigger_id: Any) -> None:
        """A trigger_id is good once, within 3 seconds of the request that carried it. One the fake did not issue
        (a hand-made payload) is taken as fresh."""
        if not isinstance(trigger_id, str) or not trigger_id:
            raise SlackError("invalid_trigger_id")
        with self._cond:
            issued = self._triggers.get(trigger_id)
            if issued is None:
                return
            if self.now() - issued > TRIGGER_LIFETIME_S:
                raise SlackError("expired_trigger_id")
            if trigger_id in self._triggers_used:
                raise SlackError("trigger_exchanged")
            self._triggers_used.add(trigger_id)

    def _channel(self, channel_id: Any, *, post: bool = True) -> Channel:
        if not isinstance(channel_id, str) or not channel_id:
            raise SlackError("channel_not_found")
        with self._cond:
            ch = self.channels.get(channel_id)
            if ch is None and channel_id.startswith(("U", "W")) and channel_id in self.users:
                # Posting to a user ID delivers to the bot's DM with that user, as Slack does.
                ch = self._open_im(channel_id)
        if ch is None:
            raise SlackError("channel_not_found")
        if post and not ch.member:
            raise SlackError("not_in_channel")
        return ch

    def _open_im(self, user: str) -> Channel:
        cid = "D" + user[1:]
        ch = self.channels.get(cid)
        if ch is None:
            ch = Channel(cid, f"im-{user}", True, is_im=True, user=user)
            self.channels[cid] = ch
        return ch

    def _check_message(self, params: dict[str, Any]) -> list[str]:
        text = params.get("text")
        blocks = params.get("blocks")
        if not text and not blocks and not params.get("attachments"):
            raise SlackError("no_text")
        if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
            raise SlackError("msg_too_long")
        if blocks is not None:
            problems = block_problems(blocks, max_blocks=MAX_MESSAGE_BLOCKS)
            if problems:
                raise SlackError("invalid_blocks", problems)
        return [] if text else ["missing_text"]

    @staticmethod
    def _warn(warnings: list[str]) -> dict[str, Any]:
        return {"warning": ",".join(warnings), "response_metadata": {"warnings": warnings}} if warnings else {}

    # ----------------------------------------------------------------------------------------- methods
    def _m_apps_connections_open(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.socket_mode.new_url()}

    def _m_auth_test(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://fake.slack.test/",
            "team": "Fake workspace",
            "user": "mo-bot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": "BFAKE0001",
        }

    def _m_chat_postMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        ch = self._channel(p.get("channel"))
        warnings = self._check_message(p)
        ts = self._ts()
        message = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": "BFAKE0001",
            "ts": ts,
            "text": p.get("text", ""),
            "blocks": p.get("blocks", []),
        }
        if p.get("thread_ts"):
            thread = str(p["thread_ts"])
            if (ch.id, thread) not in self.messages:
                raise SlackError("thread_not_found")
            message["thread_ts"] = thread
        with self._cond:
            self.messages[(ch.id, ts)] = message
        return {"channel": ch.id, "ts": ts, "message": message, **self._warn(warnings)}

    def _m_chat_postEphemeral(self, p: dict[str, Any]) -> dict[str, Any]:
        self._channel(p.get("channel"))
        if not p.get("user"):
            raise SlackError("user_not_in_channel")
        warnings = self._check_message(p)
        return {"message_ts": self._ts(), **self._warn(warnings)}

    def _m_chat_update(self, p: dict[str, Any]) -> dict[str, Any]:
        ch = self._channel(p.get("channel"))
        ts = str(p.get("ts", ""))
        with self._cond:
            old = self.messages.get((ch.id, ts))
        if old is None:
            raise SlackError("message_not_found")
        if old.get("user") != self.bot_user_id:
            raise SlackError("cant_update_message")
        warnings = self._check_message(p)
        new = {**old, "text": p.get("text", ""), "blocks": p.get("blocks", []), "edited": {"ts": self._ts()}}
        with self._cond:
            self.messages[(ch.id, ts)] = new
        return {"channel": ch.id, "ts": ts, "text": new["text"], "message": new, **self._warn(warnings)}

    def _m_chat_delete(self, p: dict[str, Any]) -> dict[str, Any]:
        ch = self._channel(p.get("channel"))
        ts = str(p.get("ts", ""))
        with self._cond:
            if self.messages.pop((ch.id, ts), None) is None:
                raise SlackError("message_not_found")
        return {"channel": ch.id, "ts": ts}

    def _m_chat_getPermalink(self, p: dict[str, Any]) -> dict[str, Any]:
        ch = self._channel(p.get("channel"), post=False)
        ts = str(p.get("message_ts", ""))
        with self._cond:
            if (ch.id, ts) not in self.messages:
                raise SlackError("message_not_found")
        return {"channel": ch.id, "permalink": f"https://fake.slack.test/archives/{ch.id}/p{ts.replace('.', '')}"}

    def _m_conversations_open(self, p: dict[str, Any]) -> dict[str, Any]:
        users = p.get("users")
        if isinstance(users, list):
            users = ",".join(users)
        if not users or "," in str(users):
            raise SlackError("not_enough_users" if not users else "invalid_arguments")
        with self._cond:
            if users not in self.users:
                raise SlackError("user_not_found")
            ch = self._open_im(str(users))
        return {"channel": {"id": ch.id, "is_im": True, "user": users}}

    def _m_conversations_info(self, p: dict[str, Any]) -> dict[str, Any]:
        ch = self._channel(p.get("channel"), post=False)
        return {"channel": {"id": ch.id, "name": ch.name, "is_member": ch.member, "is_im": ch.is_im}}

    def _store_view(self, view: dict[str, Any], view_id: str | None = None) -> dict[str, Any]:
        code, problems = view_problems(view)
        if code:
            raise SlackError(code, problems)
        vid = view_id or f"V{next(self._seq):08d}"
        stored = {**view, "id": vid, "team_id": self.team_id, "hash": f"h{next(self._seq)}"}
        with self._cond:
            self.views[vid] = stored
        return stored

    def _m_views_open(self, p: dict[str, Any]) -> dict[str, Any]:
        self._take_trigger(p.get("trigger_id"))
        return {"view": self._store_view(p.get("view"))}  # type: ignore[arg-type]

    def _m_views_push(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._m_views_open(p)

    def _m_views_update(self, p: dict[str, Any]) -> dict[str, Any]:
        vid = p.get("view_id")
        if not vid and p.get("external_id"):
            vid = next((k for k, v in self.views.items() if v.get("external_id") == p["external_id"]), None)
        if not vid or vid not in self.views:
            raise SlackError("view_not_found")
        if p.get("hash") and p["hash"] != self.views[vid].get("hash"):
            raise SlackError("hash_conflict")
        return {"view": self._store_view(p.get("view"), vid)}  # type: ignore[arg-type]

    def _m_views_publish(self, p: dict[str, Any]) -> dict[str, Any]:
        user = p.get("user_id")
        if not user:
            raise SlackError("invalid_arguments")
        view = p.get("view")
        if not isinstance(view, dict) or view.get("type") != "home":
            raise SlackError("invalid_arguments", ["[ERROR] view.type must be home [json-pointer:/view/type]"])
        return {"view": self._store_view(view, f"VHOME{user}")}

    def _m_users_info(self, p: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(p.get("user", "")))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": {"id": p["user"], "team_id": self.team_id, **user}}

    def _m_usergroups_list(self, p: dict[str, Any]) -> dict[str, Any]:
        groups = [
            {"id": gid, "team_id": self.team_id, "handle": gid.lower(), "user_count": len(members)}
            for gid, members in self.usergroups.items()
        ]
        if str(p.get("include_users", "")).lower() in ("1", "true"):
            for g in groups:
                g["users"] = list(self.usergroups[g["id"]])
        return {"usergroups": groups}

    def _m_usergroups_users_list(self, p: dict[str, Any]) -> dict[str, Any]:
        gid = str(p.get("usergroup", ""))
        if gid not in self.usergroups:
            raise SlackError("no_such_subteam")
        return {"users": list(self.usergroups[gid])}

    def _m_files_getUploadURLExternal(self, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("filename"):
            raise SlackError("invalid_arguments")
        try:
            length = int(p.get("length", ""))
        except ValueError:
            raise SlackError("invalid_arguments") from None
        fid = f"F{next(self._seq):08d}"
        with self._cond:
            self.files[fid] = {"id": fid, "name": p["filename"], "length": length, "alt_txt": p.get("alt_txt")}
        return {"upload_url": f"{self.root}/upload/{fid}", "file_id": fid}

    def _m_files_completeUploadExternal(self, p: dict[str, Any]) -> dict[str, Any]:
        files = p.get("files")
        if not isinstance(files, list) or not files:
            raise SlackError("invalid_arguments")
        channel = p.get("channel_id") or p.get("channels")
        if channel:
            self._channel(channel)
        if p.get("thread_ts") and not channel:
            raise SlackError("invalid_arguments")
        out = []
        with self._cond:
            for f in files:
                meta = self.files.get(str(f.get("id")))
                if meta is None or meta["id"] not in self.uploads:
                    raise SlackError("file_not_found")
                if len(self.uploads[meta["id"]]) != meta["length"]:
                    raise SlackError("file_upload_size_mismatch")
                meta.update({k: v for k, v in f.items() if k in ("title", "alt_txt")})
                out.append({k: meta.get(k) for k in ("id", "name", "title", "alt_txt")})
        return {"files": out}

    def _m_files_info(self, p: dict[str, Any]) -> dict[str, Any]:
        found = self.shared_files.files_info(p)
        if found is None:
            raise SlackError("file_not_found")
        return found

    # ----------------------------------------------------------------------------------------- non-API URLs
    def handle_response_url(self, rid: str, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        """A post to a response_url, as Slack takes it: at most 5 within 30 minutes (``used_url`` /
        ``expired_url``), the message checked as ``chat.postMessage`` checks it (``no_text``, ``invalid_blocks``,
        ``msg_too_long``). ``replace_original`` replaces the message an interaction came from; a slash command's
        response_url ignores it (Slack shows every post as a new message: bolt-python#1268, bolt-js#2287), and
        ``response_type: in_channel`` posts to the channel for everyone."""
        with self._cond:
            entry = self._response_urls.get(rid)
            if entry is None:
                return 404, "invalid_url"
            if self.now() - entry.issued > RESPONSE_URL_LIFETIME_S:
                return 404, "expired_url"
            if entry.uses >= MAX_RESPONSE_URL_POSTS:
                return 404, "used_url"
            try:
                payload = json.loads(body or b"{}")
            except ValueError:
                return 400, "invalid_payload"
            if not isinstance(payload, dict):
                return 400, "invalid_payload"
            if not payload.get("delete_original"):
                try:
                    self._check_message(payload)
                except SlackError as e:
                    return 400, e.error
            entry.uses += 1
            self.response_posts.append(ResponsePost(rid, url, payload, headers))
            shown = {k: payload[k] for k in ("text", "blocks", "response_type") if k in payload}
            replaces = entry.kind == "interaction" and entry.has_original
            if replaces and payload.get("delete_original"):
                entry.visible.pop(0)
                entry.has_original = False
            elif replaces and payload.get("replace_original"):
                entry.visible[0] = shown
            elif not payload.get("delete_original"):
                entry.visible.append(shown)
            self._cond.notify_all()
        return 200, "ok"

    def handle_upload(self, fid: str, body: bytes) -> int:
        with self._cond:
            if fid not in self.files:
                return 404
            self.uploads[fid] = body
            self._cond.notify_all()
        return 200


def _sender_gone(conn: socket.socket) -> bool:
    """Whether the client closed its connection (it sent its whole request already, so nothing else is to come)."""
    try:
        return conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def _decode_params(raw: dict[str, Any]) -> dict[str, Any]:
    out = dict(raw)
    for key in JSON_FIELDS:
        v = out.get(key)
        if isinstance(v, str) and v[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):  # left as sent; the method's own checks reject it
                out[key] = json.loads(v)
    return out


class _Handler(BaseHTTPRequestHandler):
    owner: FakeSlack
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def _reply(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        # A client that timed out (see delay_next) has closed its end; that is its business, not an error here.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

    def do_GET(self) -> None:
        if urlsplit(self.path).path == SOCKET_PATH:
            self.owner.socket_mode.serve(self)
            return
        if urlsplit(self.path).path.startswith(FILES_PATH):
            self.owner.shared_files.serve(self, urlsplit(self.path).path)
            return
        self.do_POST()

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        if parts.path.startswith("/api/"):
            params: dict[str, Any] = dict(parse_qsl(parts.query))
            ctype = headers.get("content-type", "")
            if "json" in ctype:
                try:
                    params.update(json.loads(body or b"{}"))
                except ValueError:
                    self._reply(200, b'{"ok":false,"error":"invalid_json"}', "application/json")
                    return
            elif body:
                params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            status, out, extra = self.owner.handle_api(parts.path[5:], _decode_params(params), headers)
            self._reply(status, json.dumps(out).encode(), "application/json; charset=utf-8", extra)
        elif parts.path.startswith("/response/"):
            delay = self.owner._take_delay(RESPONSE_URL_DELAY)
            if delay:
                time.sleep(delay)
                if _sender_gone(self.connection):
                    self.close_connection = True  # never taken: nothing recorded, nobody to answer
                    return
            url = f"{self.owner.root}{parts.path}"
            status, said = self.owner.handle_response_url(parts.path.rsplit("/", 1)[1], url, body, headers)
            self._reply(status, said.encode(), "text/plain")
        elif parts.path.startswith("/upload/"):
            status = self.owner.handle_upload(parts.path.rsplit("/", 1)[1], body)
            self._reply(status, f"OK - {len(body)}".encode(), "text/plain")
        else:
            self._reply(404, b"not found", "text/plain")


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A started FakeSlack whose token is ``fake.token``, with channel C0MOBOT01 (bot is a member)."""
    with FakeSlack() as fake:
        fake.add_channel("C0MOBOT01", name="managing-offenders")
        yield fake
