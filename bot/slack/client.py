"""The one place a Slack ``WebClient`` is made: pointed at ``SLACK_API_URL`` when set (a proxy or the test fake)
and given retry handlers so a blip at Slack does not lose a post.

- connection errors (reset, refused, DNS): retried twice with exponential backoff and jitter;
- HTTP 429: retried after the ``Retry-After`` seconds Slack names (capped, so a bad header cannot hang a worker);
- HTTP 500/502/503/504: retried twice with backoff (slack_sdk's own handler only knows 500 and 503).

``sleep`` is injectable so tests can check the waits without waiting.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from http.client import RemoteDisconnected
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
MAX_RETRY_AFTER_S = 60.0

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


def retry_handlers(sleep: Sleep = time.sleep) -> list[RetryHandler]:
    return [
        ConnectionErrorRetryHandler(
            max_retry_count=2,
            interval_calculator=BackoffRetryIntervalCalculator(backoff_factor=0.5),
            error_types=[URLError, ConnectionResetError, ConnectionRefusedError, RemoteDisconnected, TimeoutError],
        ),
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
