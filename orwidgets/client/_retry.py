"""Retrying the way OpenRouter's limits ask for, in users' own code.

* per-minute (and paid-rate) 429: wait until ``X-RateLimit-Reset``, then try again;
* per-day 429: stop at once and say until when; retrying is not only useless but costly, because
  rejected attempts count toward the day's quota;
* upstream-provider 429 (and 5xx, network errors, timeouts): honour ``Retry-After`` when given,
  else back off exponentially, with jitter either way;
* 401, 402, 403 (and other 4xx): never retried.

``call`` may return a :class:`~orwidgets.client.CallResult`, an ``httpx.Response``, or anything
(an ``openai`` SDK object); it may raise ``openai.APIStatusError`` and friends (any exception with
a ``response`` attribute), or ``httpx`` transport errors. Create ``openai`` clients with
``max_retries=0`` so that the SDK does not retry the daily cap behind your back.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from ._classify import CallClass, CallResult, result_from_exception, result_from_response

__all__ = ["RetryGaveUp", "with_retries", "awith_retries", "RetryAttempt"]

T = TypeVar("T")

#: Margin added after ``X-RateLimit-Reset`` so that the retry lands in the new window.
RESET_MARGIN_S = 0.05


class RetryGaveUp(Exception):
    """The helper stopped retrying.

    Attributes
    ----------
    result:
        The last answer, classified.
    attempts:
        How many calls were made.
    until:
        When trying again can succeed (per-day: the next 00:00 UTC), if known.
    reason:
        A sentence for people.
    """

    def __init__(
        self,
        reason: str,
        *,
        result: CallResult,
        attempts: int,
        until: datetime | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.result = result
        self.attempts = attempts
        self.until = until

    @property
    def call_class(self) -> CallClass:
        return self.result.call_class


@dataclass(frozen=True)
class RetryAttempt:
    """Passed to ``on_retry`` before each wait."""

    attempt: int
    result: CallResult
    wait_s: float


def _is_response(value: Any) -> bool:
    return hasattr(value, "status_code") and hasattr(value, "headers")


def _outcome(value: Any, error: BaseException | None, sent_at: float) -> CallResult | None:
    """Classify what a call gave; ``None`` means 'success, not an HTTP answer we can read'."""
    if error is not None:
        response = getattr(error, "response", None)
        if response is not None and _is_response(response):
            try:
                response.read()
            except Exception:
                pass
            return result_from_response(response, sent_at=sent_at, latency_s=0.0)
        return result_from_exception(error, sent_at=sent_at, latency_s=0.0)
    if isinstance(value, CallResult):
        return value
    if _is_response(value):
        return result_from_response(value, sent_at=sent_at, latency_s=0.0)
    return None


def _is_transport_error(error: BaseException) -> bool:
    """Network failures and timeouts from httpx, httpx2 or the openai SDK (not bugs)."""
    if isinstance(error, (TimeoutError, ConnectionError)):
        return True
    for klass in type(error).__mro__:
        module = klass.__module__.split(".")[0]
        if module in ("httpx", "httpx2", "openai", "httpcore") and klass.__name__ in (
            "TransportError",
            "TimeoutException",
            "APIConnectionError",
            "APITimeoutError",
            "NetworkError",
        ):
            return True
    return False


class _Policy:
    """The decision, apart from how to call and how to sleep (shared by sync and async)."""

    def __init__(
        self,
        max_attempts: int,
        max_wait_s: float,
        base_delay_s: float,
        max_delay_s: float,
        jitter: float,
        clock: Callable[[], float],
        rng: random.Random | None,
    ) -> None:
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise ValueError(f"max_attempts: expected a whole number >= 1, got {max_attempts!r}")
        for name, value in (
            ("max_wait_s", max_wait_s),
            ("base_delay_s", base_delay_s),
            ("max_delay_s", max_delay_s),
            ("jitter", jitter),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name}: expected a number >= 0, got {value!r}")
        self.max_attempts = max_attempts
        self.max_wait_s = float(max_wait_s)
        self.base_delay_s = float(base_delay_s)
        self.max_delay_s = float(max_delay_s)
        self.jitter = float(jitter)
        self.clock = clock
        self.rng = rng or random.Random()

    def _backoff(self, attempt: int) -> float:
        delay = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return delay * (1 + self.rng.uniform(0, self.jitter))

    def wait_for(self, result: CallResult, attempt: int) -> float:
        """Seconds to wait before the next attempt; raises :class:`RetryGaveUp` to stop."""
        cls = result.call_class
        if cls in (CallClass.FREE_PER_DAY_LOW, CallClass.FREE_PER_DAY_HIGH):
            until = result.reset_at
            when = f" until {until:%Y-%m-%d %H:%M} UTC" if until else " until 00:00 UTC"
            raise RetryGaveUp(
                f"{cls.label}: the free daily quota is spent{when}. Not retrying: rejected "
                f"attempts count toward the quota. {cls.advice}",
                result=result, attempts=attempt, until=until,
            )
        retryable = cls.retryable or (
            cls is CallClass.HTTP_ERROR and result.status is not None
            and (result.status >= 500 or result.status == 408)
        )
        if not retryable:
            raise RetryGaveUp(
                f"{result.describe()}. Not retried: {cls.advice}", result=result, attempts=attempt
            )
        if attempt >= self.max_attempts:
            raise RetryGaveUp(
                f"{result.describe()}. Gave up after {attempt} attempts.",
                result=result, attempts=attempt, until=result.reset_at,
            )
        if cls in (CallClass.FREE_PER_MINUTE, CallClass.PAID_RATE) and result.rate_limit:
            wait = max(0.0, result.rate_limit.reset_ms / 1000 - self.clock()) + RESET_MARGIN_S
        elif result.retry_after_s is not None:
            # Never earlier than the server asked; jitter spreads a crowd of clients out.
            wait = result.retry_after_s * (1 + self.rng.uniform(0, self.jitter))
        else:
            wait = self._backoff(attempt)
        if wait > self.max_wait_s:
            raise RetryGaveUp(
                f"{result.describe()}. The next try would be in {wait:.1f} s, above "
                f"max_wait_s={self.max_wait_s:g}.",
                result=result, attempts=attempt, until=result.reset_at,
            )
        return wait


def _answered(exc: BaseException) -> bool:
    """An exception that stands for an answer (an SDK error with a response) or a transport
    failure: both are classified; anything else is the caller's bug and propagates."""
    return getattr(exc, "response", None) is not None or _is_transport_error(exc)


def _next_wait(
    policy: _Policy,
    attempt: int,
    value: Any,
    error: BaseException | None,
    sent_at: float,
    on_retry: Callable[[RetryAttempt], Any] | None,
) -> float | None:
    """After one attempt: ``None`` when it succeeded, else the wait before the next one (raises
    :class:`RetryGaveUp` when there must be none). Shared by the sync and async loops."""
    result = _outcome(value, error, sent_at)
    if result is None or result.ok:
        return None
    try:
        wait = policy.wait_for(result, attempt)
    except RetryGaveUp as gave_up:
        raise gave_up from error
    if on_retry is not None:
        on_retry(RetryAttempt(attempt, result, wait))
    return wait


def with_retries(
    call: Callable[[], T],
    *,
    max_attempts: int = 5,
    max_wait_s: float = 120.0,
    base_delay_s: float = 1.0,
    max_delay_s: float = 60.0,
    jitter: float = 0.25,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Any] = time.sleep,
    rng: random.Random | None = None,
    on_retry: Callable[[RetryAttempt], Any] | None = None,
) -> T:
    """Call ``call()`` until it succeeds, retrying only what can succeed by waiting.

    Parameters
    ----------
    call:
        A zero-argument callable: ``lambda: client.chat(model)``, ``lambda: httpx.post(...)`` or
        ``lambda: openai_client.chat.completions.create(...)``.
    max_attempts:
        Calls at most, the first included.
    max_wait_s:
        Longest single wait; a longer one (a per-minute reset far away, a big ``Retry-After``)
        gives up instead and says until when.
    base_delay_s, max_delay_s:
        Exponential backoff when the answer gives no time: ``base * 2**(attempt-1)``, capped.
    jitter:
        Backoff and ``Retry-After`` waits are stretched by a random factor in ``[1, 1+jitter]``.
    clock, sleep, rng:
        Injected time and randomness (tests pass a fake clock whose ``sleep`` advances it).
    on_retry:
        Called with a :class:`RetryAttempt` before each wait.

    Returns
    -------
    The value of the first successful call.

    Raises
    ------
    RetryGaveUp
        On a per-day 429 (at once), on 401/402/403 and other 4xx (at once), or when attempts or
        ``max_wait_s`` run out. Chained to the SDK's exception when there was one.
    """
    policy = _Policy(max_attempts, max_wait_s, base_delay_s, max_delay_s, jitter, clock, rng)
    attempt = 0
    while True:
        attempt += 1
        sent_at = clock()
        error: BaseException | None = None
        value: Any = None
        try:
            value = call()
        except Exception as exc:
            if not _answered(exc):
                raise
            error = exc
        wait = _next_wait(policy, attempt, value, error, sent_at, on_retry)
        if wait is None:
            return value
        sleep(wait)


async def awith_retries(
    call: Callable[[], Awaitable[T]],
    *,
    max_attempts: int = 5,
    max_wait_s: float = 120.0,
    base_delay_s: float = 1.0,
    max_delay_s: float = 60.0,
    jitter: float = 0.25,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    rng: random.Random | None = None,
    on_retry: Callable[[RetryAttempt], Any] | None = None,
) -> T:
    """:func:`with_retries` for coroutines (``AsyncOpenRouterClient``, ``openai.AsyncOpenAI``)."""
    policy = _Policy(max_attempts, max_wait_s, base_delay_s, max_delay_s, jitter, clock, rng)
    attempt = 0
    while True:
        attempt += 1
        sent_at = clock()
        error: BaseException | None = None
        value: Any = None
        try:
            value = await call()
        except Exception as exc:
            if not _answered(exc):
                raise
            error = exc
        wait = _next_wait(policy, attempt, value, error, sent_at, on_retry)
        if wait is None:
            return value
        await sleep(wait)
