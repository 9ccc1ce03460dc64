"""The Bolt app: signing secret, authorisation, the global middleware and the listener modules.

Listener modules
----------------
Each listener module exposes ``register(app: slack_bolt.App) -> None`` (the Bolt starter-template way) and is
imported and registered below by name. What a listener needs at request time — the Runtime and who is asking —
comes from the Bolt context (:func:`commands.middleware.asked`), put there once per request by
:class:`commands.middleware.Identify`; so tests can build an app around any runtime with ``build_app(rt, …)``.
Listeners stay thin: read the asker, call the `/mo` pipeline or a domain service, render; no SQL in listeners.

Choices that matter (measured with bench/bench_slack.py; docs/performance.md):

- ``process_before_response=True``: the listener runs inline on the request thread (~0.13 ms dispatch) instead of
  on a pool the request thread polls every 10 ms (~11 ms per request). Work that may exceed Slack's 3-second ack
  goes to a lazy listener (``app.command(...)(ack=…, lazy=[…])``) or Bolt's listener executor, off the ack.
- ``authorize``: returns the bot token without calling ``auth.test`` (a plain ``token=`` makes Bolt call
  ``auth.test`` on the first request — a network round trip, and a call to real Slack from tests).
- Retries of Events API deliveries are acknowledged without running again (:class:`commands.middleware.Dedupe`).
- The signature: Bolt's own check is off and :class:`VerifySignature` takes its place, in the ``before_authorize``
  slot — where Bolt's ran: after Slack's ``ssl_check`` ping (an empty 200), before authorisation and every other
  middleware. Bolt's logs each refused request at INFO with its whole body and answers a non-numeric timestamp
  with a 500 (:mod:`commands.signing`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped, warning_token_skipped
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient

from bot.runtime import Runtime
from bot.settings import Settings, load_settings
from bot.slack.bot_dms import shared_bot_dms
from bot.slack.client import make_client
from bot.slack.user_groups import shared_user_groups
from commands.listeners import (
    action_log_buttons,
    action_log_forms,
    app_home,
    dm_questions,
    file_import,
    slash_mo,
    turn_into_action,
    update_round,
    watch_buttons,
)
from commands.middleware import Dedupe, Identify, on_listener_error
from commands.mo.warm import warm_before_commit
from commands.signing import CHECKED_AT_EDGE, refused, signature_problem


class VerifySignature(Middleware):
    """Slack's signature, checked by :func:`commands.signing.signature_problem`: any malformed header is a 401 and
    the log line names the reason only. Socket Mode requests carry no signature (the WebSocket is authenticated),
    and one the edge has checked (``commands.web.WebApp``) is not checked twice."""

    def __init__(self, signing_secret: str) -> None:
        self._secret = signing_secret

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:
        if req.mode == "socket_mode" or req.context.get(CHECKED_AT_EDGE) is True:
            return next()
        problem = signature_problem(
            self._secret,
            _one(req.headers.get("x-slack-request-timestamp")),
            _one(req.headers.get("x-slack-signature")),
            req.raw_body.encode("utf-8"),
        )
        if problem is None:
            return next()
        refused(problem)
        return BoltResponse(status=401, body={"error": "invalid request"})


def _one(values: object) -> str | None:
    # Bolt keeps each header as a list of its values; a header sent twice is not one Slack sent.
    if isinstance(values, list | tuple) and values:
        return values[0] if len(values) == 1 and isinstance(values[0], str) else "(repeated)"
    return None


class _TokenSkipped(logging.Filter):
    """Drops Bolt's warnings that SLACK_BOT_TOKEN "will be unused" / "ignored" because a ``client`` and
    ``authorize`` are given: Bolt reads the variable itself, and ``authorize`` hands over that same token, so the
    warning at every start is noise."""

    NOISE = frozenset({warning_token_skipped(), warning_client_prioritized_and_token_skipped()})

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in self.NOISE


_BOLT_LOG = logging.getLogger("slack_bolt.App")


def build_app(rt: Runtime, *, client: WebClient | None = None, settings: Settings | None = None) -> App:
    """The Bolt app for ``rt``. ``client`` (tests: pointed at the fake Slack) supplies the Web API base URL and
    retry handlers; the bot token always comes from ``settings`` (default: the environment)."""
    settings = settings or load_settings()
    base = client or make_client(None, settings.api_url)
    # Bolt makes a per-request client from this one (copying base_url and retry handlers) and gives it the token
    # from authorize(); the shared one carries no token so nothing can use it unauthorised.
    app_client = WebClient(
        token=None,
        base_url=base.base_url,
        timeout=base.timeout,
        retry_handlers=list(base.retry_handlers) if base.retry_handlers else None,
        logger=base.logger,
    )
    bot_token = settings.bot_token

    def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        # One installation: the same bot token for every request. Which workspaces may USE the bot is decided
        # by the access rules (config: forces.*.slack_team_ids), which refuse and audit an unknown workspace.
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=bot_token)

    if not any(isinstance(f, _TokenSkipped) for f in _BOLT_LOG.filters):
        _BOLT_LOG.addFilter(_TokenSkipped())
    app = App(
        signing_secret=settings.signing_secret,
        client=app_client,
        authorize=authorize,
        process_before_response=True,
        request_verification_enabled=False,
        before_authorize=VerifySignature(settings.signing_secret),
        # Bolt's own "unhandled request" warning would spam the log for events we do not subscribe to.
        raise_error_for_unhandled_request=False,
    )
    # The user groups that roles name are read by a background thread of this process, never while Slack waits
    # for an ack (bot.slack.user_groups); it uses a client of its own, with the bot token.
    groups = shared_user_groups(rt, rt.config)
    groups.start(
        WebClient(
            token=bot_token,
            base_url=base.base_url,
            timeout=base.timeout,
            retry_handlers=list(base.retry_handlers) if base.retry_handlers else None,
            logger=base.logger,
        )
    )
    # Retries first: a retried delivery does no work at all, not even finding out who sent it.
    app.use(Dedupe(rt))
    app.use(Identify(rt, groups, shared_bot_dms(rt)))
    app.error(on_listener_error(rt))
    slash_mo.register(app)
    action_log_buttons.register(app)
    action_log_forms.register(app)
    turn_into_action.register(app)
    app_home.register(app)
    # An analyst's import in Slack commits with its standard answers computed, as `mo-bot import` does.
    file_import.register(app, before_commit=warm_before_commit if settings.warm_answers else None)
    dm_questions.register(app)
    watch_buttons.register(app)
    update_round.register(app)
    return app
