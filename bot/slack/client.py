"""The one place a Slack ``WebClient`` is made: pointed at ``SLACK_API_URL`` when set (a proxy or the test fake)
and given retry handlers so a blip at Slack does not lose a post — and never makes one twice.

- no connection (refused, DNS, reset or timed out before the request was written): retried twice with backoff;
- HTTP 429: retried after the ``Retry-After`` seconds Slack names (capped, so a bad header cannot hang a worker);
- HTTP 500/502/503/504: retried twice with backoff (slack_sdk's own handler only knows 500 and 503);
- no answer AFTER the request was written (read timeout, connection reset or closed before the response): Slack may
  have acted. A call that is safe to repeat (a read, ``chat.update``, ``views.publish``…) is retried like a
  connection error; any other (``chat.postMessage``, ``files.completeUploadExternal``…) is never sent again and
  raises :class:`SlackOutcomeUnknown`, so the caller records that it may have happened instead of doing it twice.

``sleep`` is injectable so tests can check the waits without waiting.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from http.client import HTTPException
from urllib.error import URLError
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
MAX_RETRY_AFTER_S = 60.0
# Web API methods whose repetition changes nothing a person sees: reads, and writes that set a state rather than
# add something (an update with the same content, a DM channel that exists once, an upload slot nobody sees until
# files.completeUploadExternal shares it). Every other method is treated as adding something.
SAFE_TO_REPEAT = frozenset(
    {
        "api.test",
        "apps.connections.open",
        "auth.test",
        "bots.info",
        "chat.getPermalink",
        "chat.update",
        "conversations.history",
        "conversations.info",
        "conversations.members",
        "conversations.open",
        "conversations.replies",
        "files.getUploadURLExternal",
        "files.info",
        "team.info",
        "usergroups.list",
        "usergroups.users.list",
        "users.info",
        "users.list",
        "users.lookupByEmail",
        "views.publish",
    }
)

Sleep = Callable[[float], None]


def _retry_after_seconds(response: HttpResponse) -> float | None:
    for name, values in response.headers.items():
        if name.lower() == "retry-after":
            raw = values[0] if isinstance(values, list) else values
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return None
    return None


class RateLimitRetryHandler(RetryHandler):
    """429 → wait ``Retry-After`` (plus up to 0.25 s jitter so replicas don't stampede), then try again."""

    def __init__(self, max_retry_count: int = 3, sleep: Sleep = time.sleep, max_wait: float = MAX_RETRY_AFTER_S):
        super().__init__(max_retry_count)
        self.sleep = sleep
        self.max_wait = max_wait

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code == 429

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        assert response is not None
        state.next_attempt_requested = True
        wait = _retry_after_seconds(response)
        wait = 1.0 if wait is None else wait
        self.sleep(min(wait, self.max_wait) + random.uniform(0, 0.25))
        state.increment_current_attempt()


class ServerErrorRetryHandler(RetryHandler):
    """5xx → back off (0.5 s, 1 s, … with jitter) and try again."""

    def __init__(self, max_retry_count: int = 2, sleep: Sleep = time.sleep, backoff_factor: float = 0.5):
        super().__init__(max_retry_count, BackoffRetryIntervalCalculator(backoff_factor=backoff_factor))
        self.sleep = sleep

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code in RETRYABLE_STATUSES

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        self.sleep(self.interval_calculator.calculate_sleep_duration(state.current_attempt))
        state.increment_current_attempt()


class SlackOutcomeUnknown(SlackClientError):
    """Slack was sent a call that is not safe to repeat and gave no answer (the read timed out, or the connection
    was reset or closed before the response). It may have acted — the message may be in the channel — so the call
    was not sent again. ``method`` is the Web API method; ``cause`` what the connection raised."""

    def __init__(self, method: str, cause: BaseException) -> None:
        super().__init__(f"no answer from Slack to {method} ({type(cause).__name__}); it may have been done")
        self.method = method
        self.cause = cause


def api_method(request: HttpRequest) -> str:
    """``chat.postMessage`` from ``https://slack.com/api/chat.postMessage`` (or a proxy's or the fake's URL)."""
    return urlsplit(request.url).path.rsplit("/", 1)[-1]


def _after_sending(error: Exception | None) -> bool:
    """Whether ``error`` came after the whole request was written. urllib wraps everything raised while connecting
    or writing the request in ``URLError`` (Slack cannot act on a request it did not receive whole); what it raises
    while waiting for or reading the response (a read timeout, a reset, a close before the status line, a short
    body) comes unwrapped."""
    if error is None or isinstance(error, URLError):
        return False
    return isinstance(error, OSError | HTTPException)


class ConnectionRetryHandler(RetryHandler):
    """Connection errors: retried with backoff when Slack cannot have acted (the request never reached it whole) or
    the method is :data:`SAFE_TO_REPEAT`; otherwise raises :class:`SlackOutcomeUnknown` instead of re-sending."""

    def __init__(self, max_retry_count: int = 2, sleep: Sleep = time.sleep, backoff_factor: float = 0.5):
        super().__init__(max_retry_count, BackoffRetryIntervalCalculator(backoff_factor=backoff_factor))
        self.sleep = sleep

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if _after_sending(error) and api_method(request) not in SAFE_TO_REPEAT:
            # Claimed whatever the attempt count (another handler's retries may have used it up), so that
            # prepare_for_next_attempt turns the error into SlackOutcomeUnknown rather than re-sending.
            return True
        return super().can_retry(state=state, request=request, response=response, error=error)

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is None and (isinstance(error, URLError) or _after_sending(error))

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        method = api_method(request)
        if error is not None and _after_sending(error) and method not in SAFE_TO_REPEAT:
            # slack_sdk lets a handler end the attempts by raising (its own rate-limit handler does): this one is
            # never re-sent, and the caller learns the outcome is unknown rather than that the call failed.
            raise SlackOutcomeUnknown(method, error) from error
        state.next_attempt_requested = True
        self.sleep(self.interval_calculator.calculate_sleep_duration(state.current_attempt))
        state.increment_current_attempt()


def retry_handlers(sleep: Sleep = time.sleep) -> list[RetryHandler]:
    return [
        ConnectionRetryHandler(sleep=sleep),
        RateLimitRetryHandler(sleep=sleep),
        ServerErrorRetryHandler(sleep=sleep),
    ]


def make_client(
    token: str | None, base_url: str | None = None, *, timeout: int = 10, sleep: Sleep = time.sleep
) -> WebClient:
    """A WebClient with the retry handlers above; ``base_url`` (e.g. ``http://127.0.0.1:8080/api/``) overrides
    Slack's own for a proxy or the test fake."""
    url = WebClient.BASE_URL if not base_url else base_url if base_url.endswith("/") else base_url + "/"
    return WebClient(token=token, base_url=url, timeout=timeout, retry_handlers=retry_handlers(sleep))


def slack_error_reason(exc: BaseException) -> str | None:
    """Slack's error code for a failed Web API call (``not_in_channel``, ``ratelimited``, ``http_503``…)."""
    if isinstance(exc, SlackOutcomeUnknown):
        return f"no answer to {exc.method} (outcome unknown)"
    if isinstance(exc, SlackApiError):
        resp = exc.response
        err = resp.get("error") if resp is not None and hasattr(resp, "get") else None
        status = getattr(resp, "status_code", None)
        if status == 429:
            return "ratelimited (429 after retries)"
        if status is not None and status >= 500:
            return f"http_{status}"
        return str(err or f"http_{status}")
    if isinstance(exc, SlackClientError | OSError):
        return f"connection: {type(exc).__name__}"
    return None
