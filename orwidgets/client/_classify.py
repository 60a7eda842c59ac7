"""What kind of answer a call got: the classes, the result record and the classifier.

A 429 alone does not say what to do next: per-minute means wait for the next minute, per-day means
stop until 00:00 UTC (every retry spends quota), upstream means back off and honour
``Retry-After``. The classifier reads the status together with ``error.message`` and
``error.metadata.limit_source`` (2026 bodies), falls back to the message alone (2025 bodies have no
``limit_source``) and handles the February-2025 case of an HTTP 200 whose body is an error.

Every message text it compares with comes from :mod:`orwidgets.policy`.
"""

from __future__ import annotations

import email.utils
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from ..engine import RateLimit
from ..policy import (
    FREE_DAILY_HIGH,
    MESSAGES,
    LimitSource,
    affordability_message,
)

__all__ = [
    "CallClass",
    "CallResult",
    "classify",
    "result_from_response",
    "result_from_exception",
    "parse_rate_limit",
    "parse_retry_after",
    "error_of",
    "header",
]

#: Bodies longer than this are kept as text only up to this many characters.
MAX_TEXT_BODY = 20_000


class CallClass(str, Enum):
    """The class of one answer. ``value`` is a stable id (used as ``data-class`` in the DOM)."""

    OK = "ok"
    FREE_PER_MINUTE = "free_per_minute"
    FREE_PER_DAY_LOW = "free_per_day_low"
    FREE_PER_DAY_HIGH = "free_per_day_high"
    PAID_RATE = "paid_rate"
    UPSTREAM = "upstream"
    NEGATIVE_BALANCE = "negative_balance"
    AFFORDABILITY = "affordability"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    HTTP_ERROR = "http_error"
    NETWORK_ERROR = "network_error"
    TIMEOUT = "timeout"

    @property
    def label(self) -> str:
        """Short human text for legends and counters."""
        return _LABELS[self]

    @property
    def color(self) -> str:
        """Hex colour for charts (same class, same colour everywhere)."""
        return _COLORS[self]

    @property
    def advice(self) -> str:
        """What a client should do next (policy remedy hints where OpenRouter sends one)."""
        return _ADVICE[self]

    @property
    def retryable(self) -> bool:
        """Whether waiting and trying again can succeed (per-day and 401/402/403 cannot)."""
        return self in _RETRYABLE


_LABELS = {
    CallClass.OK: "200 ok",
    CallClass.FREE_PER_MINUTE: "429 free per-minute",
    CallClass.FREE_PER_DAY_LOW: "429 free per-day (low tier)",
    CallClass.FREE_PER_DAY_HIGH: "429 free per-day (high tier)",
    CallClass.PAID_RATE: "429 paid rate (RPS)",
    CallClass.UPSTREAM: "429 upstream provider",
    CallClass.NEGATIVE_BALANCE: "402 negative balance",
    CallClass.AFFORDABILITY: "402 can't afford max_tokens",
    CallClass.UNAUTHORIZED: "401 unauthorized",
    CallClass.FORBIDDEN: "403 forbidden",
    CallClass.HTTP_ERROR: "other HTTP error",
    CallClass.NETWORK_ERROR: "network error",
    CallClass.TIMEOUT: "timeout",
}

# Colour-blind-friendly-ish: greens for success, warm colours for quota, purple/brown for rates.
_COLORS = {
    CallClass.OK: "#2ca02c",
    CallClass.FREE_PER_MINUTE: "#ff7f0e",
    CallClass.FREE_PER_DAY_LOW: "#d62728",
    CallClass.FREE_PER_DAY_HIGH: "#8c1c13",
    CallClass.PAID_RATE: "#9467bd",
    CallClass.UPSTREAM: "#8c564b",
    CallClass.NEGATIVE_BALANCE: "#e377c2",
    CallClass.AFFORDABILITY: "#bcbd22",
    CallClass.UNAUTHORIZED: "#7f7f7f",
    CallClass.FORBIDDEN: "#17becf",
    CallClass.HTTP_ERROR: "#1f77b4",
    CallClass.NETWORK_ERROR: "#393b79",
    CallClass.TIMEOUT: "#aec7e8",
}

_ADVICE = {
    CallClass.OK: "Success.",
    CallClass.FREE_PER_MINUTE: MESSAGES.remedy_per_minute,
    CallClass.FREE_PER_DAY_LOW: MESSAGES.remedy_per_day_low,
    CallClass.FREE_PER_DAY_HIGH: MESSAGES.remedy_per_day_high,
    CallClass.PAID_RATE: MESSAGES.remedy_paid_rate,
    CallClass.UPSTREAM: "The provider behind the model is saturated: back off and honour Retry-After.",
    CallClass.NEGATIVE_BALANCE: "Add credits to bring the balance above zero (free models too).",
    CallClass.AFFORDABILITY: "Ask for fewer max_tokens or add credits.",
    CallClass.UNAUTHORIZED: "Check the API key.",
    CallClass.FORBIDDEN: "This key may not do this (management key or key limit).",
    CallClass.HTTP_ERROR: "See the status and body.",
    CallClass.NETWORK_ERROR: "The request did not get an answer: check the address and network.",
    CallClass.TIMEOUT: "No answer in time: try again later or raise the timeout.",
}

_RETRYABLE = frozenset(
    {
        CallClass.FREE_PER_MINUTE,
        CallClass.PAID_RATE,
        CallClass.UPSTREAM,
        CallClass.NETWORK_ERROR,
        CallClass.TIMEOUT,
    }
)

# --- message markers, derived from the policy texts ----------------------------------------------

_RATE_PREFIX = MESSAGES.free_per_minute.split(":", 1)[0] + ":"  # "Rate limit exceeded:"


def _limit_token(message: str) -> str | None:
    """``free-models-per-min`` from ``"Rate limit exceeded: free-models-per-min. "``."""
    if not message.startswith(_RATE_PREFIX):
        return None
    rest = message[len(_RATE_PREFIX):].strip()
    token = rest.split(None, 1)[0] if rest else ""
    return token.rstrip(".") or None


_TOKEN_MINUTE = _limit_token(MESSAGES.free_per_minute)
_TOKEN_DAY_LOW = _limit_token(MESSAGES.free_per_day_low)
_TOKEN_DAY_HIGH = _limit_token(MESSAGES.free_per_day_high)
_TOKEN_DAY_LEGACY = _limit_token(MESSAGES.free_per_day_legacy)
_NEGATIVE_PREFIX = MESSAGES.negative_balance.split(".", 1)[0]  # "Insufficient credits"
_AFFORD_PREFIX = affordability_message(0, 0).split(".", 1)[0]
#: [obs] R12 of openrouter-facts.md: a prompt larger than a key's limit is the same kind of 402.
_PROMPT_LIMIT_PREFIX = "Prompt tokens limit exceeded"
#: [obs] 2026 limit_source values of 402s that are about one request's cost, not the balance sign.
_AFFORD_SOURCES = frozenset({"openrouter_credits", "openrouter_in_flight_budget"})
_UPSTREAM_RAW_MARK = "rate-limited upstream"


# --- small parsers ---------------------------------------------------------------------------------


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """Case-insensitive header lookup on a plain mapping."""
    if not headers:
        return None
    value = headers.get(name)
    if value is not None:
        return value
    lower = name.lower()
    for key, value in headers.items():
        if key.lower() == lower:
            return value
    return None


def error_of(body: Any) -> dict[str, Any] | None:
    """The ``error`` object of an OpenRouter error body, if there is one."""
    if isinstance(body, Mapping):
        err = body.get("error")
        if isinstance(err, Mapping):
            return dict(err)
    return None


def _metadata(err: Mapping[str, Any] | None) -> dict[str, Any]:
    if err is None:
        return {}
    meta = err.get("metadata")
    return dict(meta) if isinstance(meta, Mapping) else {}


def _as_int(value: Any) -> int | None:
    number = _as_float(value)
    return None if number is None else int(number)


def _as_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def parse_rate_limit(headers: Mapping[str, str] | None, body: Any = None) -> RateLimit | None:
    """The ``X-RateLimit-*`` triple from the HTTP headers, else from ``error.metadata.headers``.

    ``X-RateLimit-Reset`` is Unix time in milliseconds on the wire. A value that can only be
    seconds (fewer than 12 digits) is scaled to milliseconds [inv: defensive, never observed].
    """
    meta_headers = _metadata(error_of(body)).get("headers")
    meta_headers = meta_headers if isinstance(meta_headers, Mapping) else {}
    values = []
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        raw = header(headers, name)
        if raw is None:
            raw = header(meta_headers, name)
        values.append(_as_int(raw))
    limit, remaining, reset = values
    if limit is None or remaining is None or reset is None:
        return None
    if 0 < reset < 10**11:
        reset *= 1000
    return RateLimit(limit=limit, remaining=remaining, reset_ms=reset)


def parse_retry_after(
    headers: Mapping[str, str] | None, body: Any = None, now: float | None = None
) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or an HTTP date) or the body's hints.

    Body hints seen on the wire: ``error.metadata.headers["Retry-After"]``,
    ``error.metadata.retry_after_seconds`` and ``error.availability.retry_after`` (2026).
    """
    err = error_of(body)
    meta = _metadata(err)
    meta_headers = meta.get("headers") if isinstance(meta.get("headers"), Mapping) else {}
    candidates = [header(headers, "Retry-After"), header(meta_headers, "Retry-After")]
    for raw in candidates:
        if raw is None:
            continue
        seconds = _as_float(raw)
        if seconds is not None:
            return max(0.0, seconds)
        try:
            when = email.utils.parsedate_to_datetime(str(raw))
        except (TypeError, ValueError):
            continue
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            current = time.time() if now is None else now
            return max(0.0, when.timestamp() - current)
    hints = [meta.get("retry_after_seconds")]
    if err is not None:
        availability = err.get("availability")
        if isinstance(availability, Mapping):
            hints.append(availability.get("retry_after"))
        hints.append(err.get("retry_after"))
    for hint in hints:
        seconds = _as_float(hint)
        if seconds is not None:
            return max(0.0, seconds)
    return None


# --- the classifier --------------------------------------------------------------------------------


def _classify_429(err: Mapping[str, Any] | None, headers: Mapping[str, str] | None, body: Any) -> CallClass:
    message = str((err or {}).get("message") or "")
    meta = _metadata(err)
    source = meta.get("limit_source")
    token = _limit_token(message)
    if source == LimitSource.FREE_PER_MINUTE.value or token == _TOKEN_MINUTE:
        return CallClass.FREE_PER_MINUTE
    if token == _TOKEN_DAY_HIGH:
        return CallClass.FREE_PER_DAY_HIGH
    if token in (_TOKEN_DAY_LOW, _TOKEN_DAY_LEGACY):
        return CallClass.FREE_PER_DAY_LOW
    if source == LimitSource.FREE_DAILY.value:
        # Daily source with a message we do not know: the limit tells the tier.
        rate = parse_rate_limit(headers, body)
        if rate is not None and rate.limit >= FREE_DAILY_HIGH:
            return CallClass.FREE_PER_DAY_HIGH
        return CallClass.FREE_PER_DAY_LOW
    if source == LimitSource.PAID_RATE.value:
        return CallClass.PAID_RATE
    upstream_marks = (
        source == LimitSource.UPSTREAM.value
        or message == MESSAGES.upstream
        or _UPSTREAM_RAW_MARK in str(meta.get("raw") or "")
        or meta.get("provider_name")
        or (err or {}).get("availability")
    )
    if upstream_marks:
        return CallClass.UPSTREAM
    # [inv] no capture of a paid-rate 429 without limit_source exists: a bare "Rate limit exceeded"
    # that carries the X-RateLimit-* triple is read as the account's paid rate; anything else
    # (mid-stream errors, capacity, DDoS protection) is upstream-like: back off and retry.
    if message == MESSAGES.paid_rate and parse_rate_limit(headers, body) is not None:
        return CallClass.PAID_RATE
    return CallClass.UPSTREAM


def _classify_402(err: Mapping[str, Any] | None) -> CallClass:
    message = str((err or {}).get("message") or "")
    source = _metadata(err).get("limit_source")
    if message.startswith(_NEGATIVE_PREFIX):
        # 2026 bodies of this 402 carry limit_source "openrouter_credits" too (C4 capture)
        return CallClass.NEGATIVE_BALANCE
    if message.startswith((_AFFORD_PREFIX, _PROMPT_LIMIT_PREFIX)) or source in _AFFORD_SOURCES:
        return CallClass.AFFORDABILITY
    # "Insufficient credits..." (negative balance, or never purchased) and unknown 402s.
    return CallClass.NEGATIVE_BALANCE


def classify(
    status: int | None,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    *,
    error: BaseException | None = None,
) -> CallClass:
    """Classify one answer.

    Parameters
    ----------
    status:
        HTTP status, or ``None`` when no answer arrived.
    body:
        The parsed JSON body (a dict), or its text.
    headers:
        Response headers (any case).
    error:
        The exception raised instead of an answer (timeouts and network errors).

    Returns
    -------
    CallClass
    """
    if status is None:
        if error is not None and _is_timeout(error):
            return CallClass.TIMEOUT
        return CallClass.NETWORK_ERROR
    err = error_of(body)
    effective = status
    if 200 <= status < 300 and err is not None:
        # February 2025: an upstream 429 could arrive as HTTP 200 with the error in the body;
        # mid-stream errors look the same. The body's code is the real status.
        effective = _as_int(err.get("code")) or 500
    if 200 <= effective < 300:
        return CallClass.OK if isinstance(body, Mapping) else CallClass.HTTP_ERROR
    if effective == 429:
        return _classify_429(err, headers, body)
    if effective == 402:
        return _classify_402(err)
    if effective == 401:
        return CallClass.UNAUTHORIZED
    if effective == 403:
        return CallClass.FORBIDDEN
    if effective in (408, 504) and err is None and error is not None and _is_timeout(error):
        return CallClass.TIMEOUT
    return CallClass.HTTP_ERROR


def _is_timeout(error: BaseException) -> bool:
    try:
        import httpx

        if isinstance(error, httpx.TimeoutException):
            return True
    except ImportError:  # pragma: no cover - httpx is a dependency
        pass
    if isinstance(error, TimeoutError):
        return True
    # httpx2 (the openai SDK's fork) and the SDK's own APITimeoutError.
    return "timeout" in type(error).__name__.lower()


# --- the result record -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CallResult:
    """One call, as sent and as answered.

    Attributes
    ----------
    call_class:
        The :class:`CallClass` of the answer.
    status:
        HTTP status (``None`` for network errors and timeouts).
    message:
        ``error.message`` for errors, the exception text for network failures, else ``None``.
    body:
        Parsed JSON body (dict), or its text (truncated), or ``None``.
    headers:
        Response headers as received (the request's, with the key, are never kept).
    sent_at:
        Unix seconds when the request was sent.
    latency_s:
        Seconds until the whole answer was read.
    rate_limit:
        The ``X-RateLimit-*`` triple (reset in Unix ms), from headers or ``error.metadata.headers``.
    retry_after_s:
        ``Retry-After`` in seconds, or the body's retry hint.
    model:
        The model asked for.
    limit_source:
        ``error.metadata.limit_source`` when present (2026 bodies).
    detail:
        ``error.metadata.raw`` (the upstream provider's text) when present.
    """

    call_class: CallClass
    status: int | None
    message: str | None
    body: dict[str, Any] | str | None
    headers: dict[str, str]
    sent_at: float
    latency_s: float
    rate_limit: RateLimit | None = None
    retry_after_s: float | None = None
    model: str | None = None
    limit_source: str | None = None
    detail: str | None = field(default=None)

    @property
    def ok(self) -> bool:
        return self.call_class is CallClass.OK

    @property
    def reset_at(self) -> datetime | None:
        """``X-RateLimit-Reset`` as an aware UTC datetime."""
        if self.rate_limit is None:
            return None
        return datetime.fromtimestamp(self.rate_limit.reset_ms / 1000, tz=timezone.utc)

    def describe(self) -> str:
        """One line: status, class and message."""
        status = "no answer" if self.status is None else f"HTTP {self.status}"
        text = f"{status}: {self.call_class.label}"
        if self.message:
            text += f": {self.message.strip()}"
        return text


def _decode_body(content: bytes, content_type: str | None) -> dict[str, Any] | str | None:
    if not content:
        return None
    text = content.decode("utf-8", errors="replace")
    stripped = text.lstrip()
    if stripped.startswith("{") or (content_type or "").startswith("application/json"):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, dict):
            return value
    return text[:MAX_TEXT_BODY]


def _raw_headers(response: Any) -> dict[str, str]:
    """Headers with their wire case (httpx lowercases ``.items()``)."""
    headers = getattr(response, "headers", None)
    raw = getattr(headers, "raw", None)
    if raw:
        out: dict[str, str] = {}
        for key, value in raw:
            k = key.decode("latin-1") if isinstance(key, bytes) else str(key)
            v = value.decode("latin-1") if isinstance(value, bytes) else str(value)
            out[k] = f"{out[k]}, {v}" if k in out else v
        return out
    return dict(headers.items()) if headers is not None else {}


def build_result(
    status: int | None,
    body: dict[str, Any] | str | None,
    headers: Mapping[str, str],
    *,
    sent_at: float,
    latency_s: float,
    model: str | None = None,
    error: BaseException | None = None,
) -> CallResult:
    """A :class:`CallResult` from the parts of an answer."""
    call_class = classify(status, body, headers, error=error)
    err = error_of(body)
    meta = _metadata(err)
    if error is not None and status is None:
        message: str | None = f"{type(error).__name__}: {error}".rstrip(": ")
    elif err is not None:
        message = str(err.get("message")) if err.get("message") is not None else None
    elif call_class is CallClass.HTTP_ERROR and isinstance(body, str):
        message = body[:200]
    else:
        message = None
    source = meta.get("limit_source")
    raw = meta.get("raw")
    return CallResult(
        call_class=call_class,
        status=status,
        message=message,
        body=body,
        headers=dict(headers),
        sent_at=sent_at,
        latency_s=latency_s,
        rate_limit=parse_rate_limit(headers, body),
        retry_after_s=parse_retry_after(headers, body, now=sent_at + latency_s),
        model=model,
        limit_source=str(source) if source is not None else None,
        detail=str(raw) if raw is not None else None,
    )


def result_from_response(
    response: Any,
    *,
    sent_at: float,
    latency_s: float,
    model: str | None = None,
    body: dict[str, Any] | str | None = None,
) -> CallResult:
    """Classify a read response (``httpx.Response`` or anything shaped like one)."""
    if body is None:
        try:
            content = response.content
        except Exception:  # a streamed response not read: classify on status and headers alone
            content = b""
        body = _decode_body(content, header(response.headers, "content-type"))
    return build_result(
        int(response.status_code),
        body,
        _raw_headers(response),
        sent_at=sent_at,
        latency_s=latency_s,
        model=model,
    )


def result_from_exception(
    error: BaseException, *, sent_at: float, latency_s: float, model: str | None = None
) -> CallResult:
    """A network error or timeout as a result (never raised inside a callback)."""
    return build_result(
        None, None, {}, sent_at=sent_at, latency_s=latency_s, model=model, error=error
    )
