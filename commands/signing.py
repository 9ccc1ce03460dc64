"""Slack's request signature, checked so that a request that fails costs little and says nothing about itself.

Slack signs every HTTP request: ``X-Slack-Request-Timestamp`` (Unix seconds) and ``X-Slack-Signature``
(``v0=`` + the hex HMAC-SHA256 of ``v0:{timestamp}:{body}`` under the app's signing secret), and a request older
than five minutes is refused (docs.slack.dev, "Verifying requests from Slack").

Bolt's own check (``slack_bolt.middleware.RequestVerification``) is replaced by ``commands.app.VerifySignature``
because of how it fails: it logs every refused request at INFO with its whole body (five 10 MB requests added
52 MB to the log, and a newline in a body wrote a line of the attacker's choosing), and a timestamp that is not a
number makes ``int()`` raise inside it, which Bolt answers with a 500 and a traceback. Here every malformed header
is a 401, and the one log line says why in words of ours — never a header value or a byte of the body.

:func:`signature_problem` is the whole check; ``commands.web.WebApp`` runs it before Bolt parses a body (and says
so in the request's context, :data:`CHECKED_AT_EDGE`), and ``VerifySignature`` runs it inside Bolt for a request
that reaches the app any other way. This module imports no
Slack library, so the WSGI app can use it without loading Bolt.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Callable

log = logging.getLogger("mo_bot.signing")

# Slack's replay window: a signed request is good for five minutes either side of our clock.
WINDOW_SECONDS = 5 * 60
# The key of a Bolt request's context that says the edge (``commands.web.WebApp``) has checked its signature. Set
# by code in this process after the check, on the request object it builds — never read from anything a client
# sends — so ``VerifySignature`` need not compute the same HMAC again.
CHECKED_AT_EDGE = "mo_signature_checked_at_edge"
# Whole seconds since 1970 in ASCII digits. int() would also take " 12", "+12", "1_2" and Arabic-Indic digits, and
# the signature covers the header as sent, so only the plain form is accepted.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


def header_problem(timestamp: str | None, signature: str | None, now: Callable[[], float] = time.time) -> str | None:
    """What is wrong with the two headers alone (a fixed phrase, safe to log), or None; the body is not needed, so
    a request this refuses is refused before its body is read."""
    if timestamp is None:
        return "no X-Slack-Request-Timestamp header"
    if not _TIMESTAMP.fullmatch(timestamp):
        return "malformed X-Slack-Request-Timestamp header"
    if signature is None:
        return "no X-Slack-Signature header"
    if not _SIGNATURE.fullmatch(signature):
        return "malformed X-Slack-Signature header"
    if abs(now() - int(timestamp)) > WINDOW_SECONDS:
        return "timestamp outside the five-minute window"
    return None


def signature_problem(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: Callable[[], float] = time.time,
) -> str | None:
    """Why a request is not Slack's (a fixed phrase, safe to log), or None when its signature holds."""
    problem = header_problem(timestamp, signature, now)
    if problem is not None or timestamp is None or signature is None:
        return problem or "no signature"
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "signature does not match"
    return None


def refused(problem: str) -> None:
    """The one line a refused request leaves in the log."""
    log.info("mo-bot: refused a request not signed by Slack: %s", problem)
