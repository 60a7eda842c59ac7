"""Retrying the way OpenRouter's limits ask for, in users' own code.

The decision follows the retry table of the 2026 reference (Appendix A), in its order:

* an ``error.availability`` answer: obey ``availability.retryable``; ``capacity_exhausted`` waits
  ``availability.retry_after`` (also ``Retry-After``); with ``follow_fallbacks=True`` switch to
  the first untried model of ``fallback_models`` at once (``free_variant_ended`` too: the paid
  model costs money);
* per-day 429: stop at once and say until when; retrying is not only useless but costly, because
  rejected attempts count toward the day's quota;
* 402 ``weight_exceeds_budget``, a spent key limit (403), a guardrail or workspace budget (403):
  never retried; the :class:`RetryGaveUp` says until when when the body tells (or, for a key
  limit, when its named window restarts);
* an affordability 402 ("can only afford M"): with ``shrink_max_tokens=True`` retried once with
  ``max_tokens`` lowered below M (never without ``max_tokens``: that makes OpenRouter reserve the
  model's whole output);
* 402 ``in_flight_budget_exhausted``, and any other 402 that carries ``Retry-After``: wait what the
  server asks (header, else ``metadata.headers``, else ``metadata.retry_after_seconds``), then
  retry; every other 402 is terminal (it is not a wait-and-retry case);
* per-minute (and paid-rate) 429: wait until ``X-RateLimit-Reset`` (Unix milliseconds);
* upstream-provider 429 (and 5xx, network errors, timeouts): honour ``Retry-After`` when given,
  else back off exponentially, with jitter either way;
* 401, 403 and other 4xx: never retried.

A wait longer than ``max_wait_s`` gives up with a clear reason instead of retrying early.

What the helper says is English in ``RetryGaveUp.reason`` and ``RetryAttempt.action`` (logs,
assertions); ``reason_in(lang)`` and ``action_in(lang)`` give it in the reader's language.

``call`` may return a :class:`~orwidgets.client.CallResult`, an ``httpx.Response``, or anything
(an ``openai`` SDK object); it may raise ``openai.APIStatusError`` and friends (any exception with
a ``response`` attribute), or ``httpx`` transport errors. Create ``openai`` clients with
``max_retries=0`` so that the SDK does not retry the daily cap behind your back.

How a changed request reaches the call: the first call is ``call()``; once the helper lowers
``max_tokens`` or switches the model, it calls ``call(max_tokens=..., model=...)`` with what it
changed. ``functools.partial(client.chat, model=..., max_tokens=...)`` or
``functools.partial(sdk.chat.completions.create, model=..., messages=..., max_tokens=...)`` take
those keywords as they are.
"""

from __future__ import annotations

import asyncio
import calendar
import inspect
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from ..i18n import N_, Text, get_language
from ..policy import IN_FLIGHT_DEFAULTS, KEYS_URL
from ._classify import CallClass, CallResult, result_from_exception, result_from_response

__all__ = [
    "RetryGaveUp",
    "with_retries",
    "awith_retries",
    "RetryAttempt",
    "DEFAULT_MAX_WAIT_S",
    "next_window_start",
]

T = TypeVar("T")

#: Margin added after ``X-RateLimit-Reset`` so that the retry lands in the new window.
RESET_MARGIN_S = 0.05
#: The longest single wait by default. [inv] OpenRouter sends ``Retry-After: 120`` on the in-flight
#: 402 (every capture), and clients that cap their wait at 30-60 s fail exactly there; 180 s takes
#: 120 s plus the jitter that keeps a crowd of clients from coming back together.
DEFAULT_MAX_WAIT_S = 180.0
#: [inv] An affordability retry asks for ``floor(M x (1 - margin))`` tokens, at least 1: the
#: balance can move between the 402 and the retry (other requests settle).
SHRINK_MARGIN = 0.05
#: [inv] An in-flight 402 whose ``Retry-After`` was lost everywhere (header and
#: ``metadata.headers`` trimmed) is still waited out, for the value every capture carried [obs].
IN_FLIGHT_FALLBACK_WAIT_S = float(IN_FLIGHT_DEFAULTS.retry_after_s)

_DAY_CAPS = (CallClass.FREE_PER_DAY_LOW, CallClass.FREE_PER_DAY_HIGH)
_SHRINKABLE = (CallClass.AFFORDABILITY, CallClass.KEY_LIMIT_AFFORDABILITY)
#: 402 classes: retried only when in-flight or when the answer carries ``Retry-After``.
_PAYMENT = frozenset({
    CallClass.NEGATIVE_BALANCE, CallClass.AFFORDABILITY, CallClass.IN_FLIGHT_BUDGET,
    CallClass.WEIGHT_EXCEEDS_BUDGET, CallClass.KEY_LIMIT_AFFORDABILITY,
})


class RetryGaveUp(Exception):
    """The helper stopped retrying.

    Attributes
    ----------
    result:
        The last answer, classified.
    attempts:
        How many calls were made.
    until:
        When trying again can succeed (per-day: the next 00:00 UTC; a spent key limit: its reset;
        a wait above ``max_wait_s``: the end of that wait), if known.
    reason:
        A sentence for people, in English (:meth:`reason_in` gives it in another language).
    """

    def __init__(
        self,
        reason: str | Text,
        *,
        result: CallResult,
        attempts: int,
        until: datetime | None = None,
    ) -> None:
        self._text = reason if isinstance(reason, Text) else None
        self.reason = str(reason)
        super().__init__(self.reason)
        self.result = result
        self.attempts = attempts
        self.until = until

    @property
    def call_class(self) -> CallClass:
        return self.result.call_class

    def reason_in(self, lang: str | None = None) -> str:
        """:attr:`reason` in ``lang`` (the language in force when ``None``: see
        :func:`orwidgets.i18n.get_language`); OpenRouter's message in it stays as it came."""
        if self._text is None:
            return self.reason
        return self._text.render(get_language(lang))


@dataclass(frozen=True)
class RetryAttempt:
    """Passed to ``on_retry`` before each wait.

    ``overrides`` are the keyword arguments the next call gets (``model``, ``max_tokens``; empty
    while nothing was changed); ``action`` says what the helper does next, in English words
    (:meth:`action_in` says it in another language).
    """

    attempt: int
    result: CallResult
    wait_s: float
    overrides: dict[str, Any] = field(default_factory=dict)
    action: str = ""
    action_text: Text | None = field(default=None, compare=False, repr=False)

    def action_in(self, lang: str | None = None) -> str:
        """:attr:`action` in ``lang`` (the language in force when ``None``)."""
        if self.action_text is None:
            return self.action
        return self.action_text.render(get_language(lang))


def next_window_start(period: str | None, now: float) -> datetime | None:
    """Where a key-limit window restarts after ``now`` (Unix seconds): OpenRouter resets key
    limits at 00:00 UTC, weeks run Monday to Sunday [doc OpenAPI spec]; months are taken to start
    on the 1st [inv, the spec is silent]. ``None`` for ``total`` (lifetime) or an unknown period."""
    today = datetime.fromtimestamp(math.floor(now / 86_400) * 86_400, tz=timezone.utc)
    if period == "daily":
        return today + timedelta(days=1)
    if period == "weekly":
        return today + timedelta(days=7 - today.weekday())
    if period == "monthly":
        days = calendar.monthrange(today.year, today.month)[1]
        return today.replace(day=1) + timedelta(days=days)
    return None


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


def _check_takes(call: Callable[..., Any], option: str, keyword: str) -> None:
    """An option that changes the request needs a call that takes the keyword."""
    try:
        inspect.signature(call).bind_partial(**{keyword: None})
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ValueError) and "no signature" in str(exc):
            return  # a builtin we cannot inspect: trust the caller
        raise ValueError(
            f"{option}=True: the call must accept {keyword}=..., for example "
            f"functools.partial(client.chat, model=..., max_tokens=...)"
        ) from None


def _utc(when: datetime) -> str:
    return f"{when:%Y-%m-%d %H:%M} UTC"


#: Where a wait's length came from: the header (its name, in every language), or the value every
#: capture of the in-flight 402 carried when the answer lost it.
_RETRY_AFTER = "Retry-After"
_USUAL_IN_FLIGHT_WAIT = Text(N_("the usual in-flight Retry-After"))
#: The reason for a spent key limit whose body names no reset time, per window.
_KEY_WINDOW = {
    "daily": N_("Not retried: the body gives no reset time; the key's daily window starts again "
                "at {when}. {advice}"),
    "weekly": N_("Not retried: the body gives no reset time; the key's weekly window starts "
                 "again at {when}. {advice}"),
    "monthly": N_("Not retried: the body gives no reset time; the key's monthly window starts "
                  "again at {when}. {advice}"),
}


@dataclass
class _Step:
    """What to do before the next attempt."""

    wait_s: float
    changes: dict[str, Any]
    action: Text


class _Policy:
    """The decision and its memory (models tried, max_tokens lowered), apart from how to call and
    how to sleep: shared by the sync and async loops."""

    def __init__(
        self,
        max_attempts: int,
        max_wait_s: float,
        base_delay_s: float,
        max_delay_s: float,
        jitter: float,
        clock: Callable[[], float],
        rng: random.Random | None,
        follow_fallbacks: bool = False,
        shrink_max_tokens: bool = False,
    ) -> None:
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise ValueError(f"max_attempts: expected a whole number >= 1, got {max_attempts!r}")
        for name, value in (
            ("max_wait_s", max_wait_s),
            ("base_delay_s", base_delay_s),
            ("max_delay_s", max_delay_s),
            ("jitter", jitter),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(f"{name}: expected a number >= 0, got {value!r}")
        for name, flag in (("follow_fallbacks", follow_fallbacks),
                           ("shrink_max_tokens", shrink_max_tokens)):
            if not isinstance(flag, bool):
                raise ValueError(f"{name}: expected True or False, got {flag!r}")
        self.max_attempts = max_attempts
        self.max_wait_s = float(max_wait_s)
        self.base_delay_s = float(base_delay_s)
        self.max_delay_s = float(max_delay_s)
        self.jitter = float(jitter)
        self.clock = clock
        self.rng = rng or random.Random()
        self.follow_fallbacks = follow_fallbacks
        self.shrink_max_tokens = shrink_max_tokens
        #: What the next call gets as keywords (what the helper changed so far).
        self.overrides: dict[str, Any] = {}
        self._tried_models: set[str] = set()
        self._shrunk_to: int | None = None

    def check_call(self, call: Callable[..., Any]) -> None:
        if self.follow_fallbacks:
            _check_takes(call, "follow_fallbacks", "model")
        if self.shrink_max_tokens:
            _check_takes(call, "shrink_max_tokens", "max_tokens")

    # --- the pieces of a decision --------------------------------------------------------------

    def _stop(self, result: CallResult, attempt: int, why: Text,
              until: datetime | None = None) -> RetryGaveUp:
        reason = Text(N_("{answer}. {why}"), answer=result.describe_text(), why=why)
        return RetryGaveUp(reason, result=result, attempts=attempt, until=until)

    def _check_attempts(self, result: CallResult, attempt: int) -> None:
        if attempt >= self.max_attempts:
            why = Text.ngettext("Gave up after {n} attempt.", "Gave up after {n} attempts.",
                                attempt, n=attempt)
            raise self._stop(result, attempt, why, until=result.reset_at)

    def _too_long(self, result: CallResult, attempt: int, wait: float,
                  until: datetime | None = None) -> RetryGaveUp:
        return self._stop(result, attempt, Text(
            N_("The next try would be in {wait} s, above max_wait_s={max_wait}."),
            wait=f"{wait:.1f}", max_wait=f"{self.max_wait_s:g}"), until=until)

    def _backoff(self, attempt: int) -> float:
        delay = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return delay * (1 + self.rng.uniform(0, self.jitter))

    def _server_wait(self, result: CallResult, attempt: int, seconds: float,
                     source: str | Text) -> _Step:
        """Wait what the server asked, never less: jitter goes on top, up to ``max_wait_s``. A
        server wait above ``max_wait_s`` gives up (retrying earlier would only fail again)."""
        if seconds > self.max_wait_s:
            until = datetime.fromtimestamp(self.clock() + seconds, tz=timezone.utc)
            raise self._stop(result, attempt, Text(
                N_("The server asks to wait {seconds} s ({source}), above max_wait_s={max_wait}: "
                   "gave up instead of retrying early. Raise max_wait_s to wait it out."),
                seconds=f"{seconds:g}", source=source, max_wait=f"{self.max_wait_s:g}",
            ), until=until)
        wait = seconds * (1 + self.rng.uniform(0, self.jitter))
        return _Step(min(wait, max(seconds, self.max_wait_s)), {},
                     Text(N_("wait {source}"), source=source))

    def _fallback(self, result: CallResult) -> str | None:
        if not self.follow_fallbacks or not result.fallback_models:
            return None
        tried = set(self._tried_models)
        requested = (result.availability or {}).get("requested_models")
        if isinstance(requested, list):
            tried.update(str(m) for m in requested)
        if result.model:
            tried.add(result.model)
        if "model" in self.overrides:
            tried.add(str(self.overrides["model"]))
        return next((m for m in result.fallback_models if m not in tried), None)

    def _shrunk(self, result: CallResult) -> int | None:
        """The lowered ``max_tokens`` for an affordability 402, once; ``None``: no such retry."""
        if (not self.shrink_max_tokens or result.call_class not in _SHRINKABLE
                or result.affordable_tokens is None or self._shrunk_to is not None):
            return None
        lowered = math.floor(result.affordable_tokens * (1 - SHRINK_MARGIN))
        return lowered if lowered >= 1 else None

    def _key_limit_stop(self, result: CallResult, attempt: int) -> RetryGaveUp:
        cls = result.call_class
        advice = cls.advice_text()
        if result.resets_at is not None:
            return self._stop(result, attempt, Text(
                N_("Not retried: spent until {when} (the answer says so). {advice}"),
                when=_utc(result.resets_at), advice=advice), until=result.resets_at)
        if cls is CallClass.SPEND_BUDGET:
            return self._stop(result, attempt, Text(
                N_("Not retried; the answer does not say when it resets. {advice}"),
                advice=advice))
        period = result.key_limit_period
        if period == "total":
            return self._stop(result, attempt, Text(
                N_("Not retried: a lifetime (total) key limit never resets; raise it at {url}."),
                url=KEYS_URL))
        until = next_window_start(period, self.clock())
        if until is None:
            return self._stop(result, attempt, Text(
                N_("Not retried: the key's window start is unknown from the body alone "
                   "(GET /api/v1/key shows its limit_reset). {advice}"), advice=advice))
        return self._stop(result, attempt, Text(
            _KEY_WINDOW[period], when=_utc(until), advice=advice), until=until)

    def _give_up_text(self, result: CallResult) -> Text:
        cls = result.call_class
        advice = cls.advice_text()
        if cls is CallClass.FREE_VARIANT_ENDED and result.fallback_models:
            return Text(N_("Not retried: {advice} The paid model is {model}; "
                           "follow_fallbacks=True switches to it."),
                        advice=advice, model=result.fallback_models[0])
        if cls in _SHRINKABLE:
            if self._shrunk_to is not None:
                return Text(N_("Not retried: {advice} max_tokens was already lowered once, to "
                               "{max_tokens}."), advice=advice, max_tokens=self._shrunk_to)
            if result.affordable_tokens is not None and not self.shrink_max_tokens:
                return Text(N_("Not retried: {advice} shrink_max_tokens=True retries once with "
                               "max_tokens below {tokens}."),
                            advice=advice, tokens=result.affordable_tokens)
        return Text(N_("Not retried: {advice}"), advice=advice)

    # --- the decision ---------------------------------------------------------------------------

    def decide(self, result: CallResult, attempt: int) -> _Step:
        """What to do after a failed attempt; raises :class:`RetryGaveUp` to stop."""
        cls = result.call_class
        # [inv] A fallback is taken at once, even on a retryable capacity_exhausted: it is another
        # pool of providers, so waiting would only delay it. Back to waiting once all are tried.
        fallback = self._fallback(result)
        if fallback is not None:
            self._check_attempts(result, attempt)
            self._tried_models.add(fallback)
            return _Step(0.0, {"model": fallback}, Text(
                N_("switch to the fallback model {model} (its own price applies)"), model=fallback))
        if cls in _DAY_CAPS:
            until = result.reset_at
            raise self._stop(result, attempt, Text(
                N_("The free daily quota is spent until {when}. Not retrying: rejected attempts "
                   "count toward the quota. {advice}"),
                when=_utc(until) if until else "00:00 UTC", advice=cls.advice_text()), until=until)
        availability = result.availability
        if availability is not None and availability.get("retryable") is False:
            raise self._stop(result, attempt, self._give_up_text(result))
        if cls in (CallClass.KEY_LIMIT, CallClass.SPEND_BUDGET):
            raise self._key_limit_stop(result, attempt)
        if cls is CallClass.WEIGHT_EXCEEDS_BUDGET:
            raise self._stop(result, attempt, self._give_up_text(result))
        lowered = self._shrunk(result)
        if lowered is not None:
            self._check_attempts(result, attempt)
            self._shrunk_to = lowered
            return _Step(0.0, {"max_tokens": lowered}, Text(
                N_("retry once with max_tokens={max_tokens} (can only afford {tokens})"),
                max_tokens=lowered, tokens=result.affordable_tokens))
        if cls in _PAYMENT:
            if cls is CallClass.IN_FLIGHT_BUDGET:
                # Transient, not "out of credits": wait for the holds to settle.
                seconds, source = result.retry_after_s, _RETRY_AFTER
                if seconds is None:
                    seconds, source = IN_FLIGHT_FALLBACK_WAIT_S, _USUAL_IN_FLIGHT_WAIT
            elif result.retry_after_s is not None:
                seconds, source = result.retry_after_s, _RETRY_AFTER
            else:  # a 402 without Retry-After is not a wait-and-retry case
                raise self._stop(result, attempt, self._give_up_text(result))
            self._check_attempts(result, attempt)
            return self._server_wait(result, attempt, seconds, source)
        retryable = cls.retryable or (availability or {}).get("retryable") is True or (
            cls is CallClass.HTTP_ERROR and result.status is not None
            and (result.status >= 500 or result.status == 408)
        )
        if not retryable:
            raise self._stop(result, attempt, self._give_up_text(result))
        self._check_attempts(result, attempt)
        if cls in (CallClass.FREE_PER_MINUTE, CallClass.PAID_RATE) and result.rate_limit:
            # X-RateLimit-Reset is Unix milliseconds; no jitter: the window opens for everyone.
            wait = max(0.0, result.rate_limit.reset_ms / 1000 - self.clock()) + RESET_MARGIN_S
            if wait > self.max_wait_s:
                raise self._too_long(result, attempt, wait, until=result.reset_at)
            return _Step(wait, {}, Text(N_("wait until X-RateLimit-Reset")))
        if result.retry_after_s is not None:
            return self._server_wait(result, attempt, result.retry_after_s, _RETRY_AFTER)
        wait = self._backoff(attempt)
        if wait > self.max_wait_s:
            raise self._too_long(result, attempt, wait)
        return _Step(wait, {}, Text(N_("back off")))

    def after(
        self,
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
            step = self.decide(result, attempt)
        except RetryGaveUp as gave_up:
            raise gave_up from error
        self.overrides.update(step.changes)
        if on_retry is not None:
            on_retry(RetryAttempt(attempt, result, step.wait_s, dict(self.overrides),
                                  str(step.action), step.action))
        return step.wait_s


def _answered(exc: BaseException) -> bool:
    """An exception that stands for an answer (an SDK error with a response) or a transport
    failure: both are classified; anything else is the caller's bug and propagates."""
    return getattr(exc, "response", None) is not None or _is_transport_error(exc)


def with_retries(
    call: Callable[..., T],
    *,
    max_attempts: int = 5,
    max_wait_s: float = DEFAULT_MAX_WAIT_S,
    base_delay_s: float = 1.0,
    max_delay_s: float = 60.0,
    jitter: float = 0.25,
    follow_fallbacks: bool = False,
    shrink_max_tokens: bool = False,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Any] = time.sleep,
    rng: random.Random | None = None,
    on_retry: Callable[[RetryAttempt], Any] | None = None,
) -> T:
    """Call ``call()`` until it succeeds, retrying only what can succeed by waiting.

    Parameters
    ----------
    call:
        ``lambda: client.chat(model)``, ``lambda: httpx.post(...)`` or
        ``lambda: openai_client.chat.completions.create(...)``. With ``follow_fallbacks`` or
        ``shrink_max_tokens`` it must accept ``model=`` / ``max_tokens=`` keywords (a
        ``functools.partial`` does), which the helper passes once it changes them.
    max_attempts:
        Calls at most, the first included.
    max_wait_s:
        Longest single wait (default 180 s: OpenRouter's in-flight 402 asks for 120 s). A server
        asking for longer (a far ``X-RateLimit-Reset``, a big ``Retry-After``) makes the helper
        give up and say until when, instead of retrying early.
    base_delay_s, max_delay_s:
        Exponential backoff when the answer gives no time: ``base * 2**(attempt-1)``, capped.
    jitter:
        Backoff and ``Retry-After`` waits are stretched by a random factor in ``[1, 1+jitter]``
        (never beyond ``max_wait_s``, never below what the server asked).
    follow_fallbacks:
        On an availability error naming ``fallback_models`` (``capacity_exhausted``,
        ``free_variant_ended``), switch at once to the first model not tried yet. Off by default:
        the fallback may be another model at another price (a ``:free`` model's paid twin).
    shrink_max_tokens:
        On an affordability 402 ("can only afford M"), retry once with ``max_tokens`` lowered to
        5 % below M. Off by default.
    clock, sleep, rng:
        Injected time and randomness (tests pass a fake clock whose ``sleep`` advances it).
    on_retry:
        Called with a :class:`RetryAttempt` before each wait (and before an immediate retry with a
        changed request).

    Returns
    -------
    The value of the first successful call.

    Raises
    ------
    RetryGaveUp
        On a per-day 429, a spent key limit, ``weight_exceeds_budget``, a 402 without
        ``Retry-After``, 401/403 and other 4xx (at once), or when attempts or ``max_wait_s`` run
        out. Chained to the SDK's exception when there was one.
    ValueError
        A bad option, or an option whose keyword the call does not accept.
    """
    policy = _Policy(max_attempts, max_wait_s, base_delay_s, max_delay_s, jitter, clock, rng,
                     follow_fallbacks, shrink_max_tokens)
    policy.check_call(call)
    attempt = 0
    while True:
        attempt += 1
        sent_at = clock()
        error: BaseException | None = None
        value: Any = None
        try:
            value = call(**policy.overrides)
        except Exception as exc:
            if not _answered(exc):
                raise
            error = exc
        wait = policy.after(attempt, value, error, sent_at, on_retry)
        if wait is None:
            return value
        if wait > 0:
            sleep(wait)


async def awith_retries(
    call: Callable[..., Awaitable[T]],
    *,
    max_attempts: int = 5,
    max_wait_s: float = DEFAULT_MAX_WAIT_S,
    base_delay_s: float = 1.0,
    max_delay_s: float = 60.0,
    jitter: float = 0.25,
    follow_fallbacks: bool = False,
    shrink_max_tokens: bool = False,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    rng: random.Random | None = None,
    on_retry: Callable[[RetryAttempt], Any] | None = None,
) -> T:
    """:func:`with_retries` for coroutines (``AsyncOpenRouterClient``, ``openai.AsyncOpenAI``)."""
    policy = _Policy(max_attempts, max_wait_s, base_delay_s, max_delay_s, jitter, clock, rng,
                     follow_fallbacks, shrink_max_tokens)
    policy.check_call(call)
    attempt = 0
    while True:
        attempt += 1
        sent_at = clock()
        error: BaseException | None = None
        value: Any = None
        try:
            value = await call(**policy.overrides)
        except Exception as exc:
            if not _answered(exc):
                raise
            error = exc
        wait = policy.after(attempt, value, error, sent_at, on_retry)
        if wait is None:
            return value
        if wait > 0:
            await sleep(wait)
