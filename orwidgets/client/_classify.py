"""What kind of answer a call got: the classes, the result record and the classifier.

A 429 alone does not say what to do next: per-minute means wait for the next minute, per-day means
stop until 00:00 UTC (every retry spends quota), upstream means back off and honour
``Retry-After``. A 402 alone does not either: the in-flight budget (2026-08) is transient and comes
with ``Retry-After``, the affordability 402 wants fewer ``max_tokens``, the others want credits.

The classifier reads the typed fields first, in the order of the reference's retry table:
``error.availability.code``, then ``error.metadata.reason`` and ``error.metadata.limit_source``
(2026 bodies); the message text only as a fallback (bodies before 2026 have no metadata, trimmed
captures and the Anthropic-Messages skin lose it). It also handles the February-2025 case of an
HTTP 200 whose body is an error, and mid-stream error chunks.

Every message text it compares with comes from :mod:`orwidgets.policy`.
"""

from __future__ import annotations

import email.utils
import json
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from ..engine import RateLimit, Reason
from ..i18n import N_, Text, get_language, translate
from ..policy import (
    CREDITS_URL,
    FREE_DAILY_HIGH,
    KEYS_URL,
    PAID_RPS_CAP,
    LIMIT_RESETS,
    MESSAGES,
    AvailabilityCode,
    LimitSource,
    affordability_message,
    capacity_exhausted_message,
    free_variant_ended_message,
    key_limit_message,
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
    "affordable_tokens",
    "key_limit_period",
    "key_limit_resets_at",
]

#: Bodies longer than this are kept as text only up to this many characters.
MAX_TEXT_BODY = 20_000


class CallClass(str, Enum):
    """The class of one answer. ``value`` is a stable id (used as ``data-class`` in the DOM); where
    the engine has a :class:`~orwidgets.engine.Reason` for the same answer, the ids are equal."""

    OK = "ok"
    FREE_PER_MINUTE = "free_per_minute"
    FREE_PER_DAY_LOW = "free_per_day_low"
    FREE_PER_DAY_HIGH = "free_per_day_high"
    PAID_RATE = "paid_rate"
    UPSTREAM = "upstream"
    NEGATIVE_BALANCE = "negative_balance"
    AFFORDABILITY = "affordability"
    #: 402 ``in_flight_budget_exhausted``: transient, wait ``Retry-After`` (120 s seen) and retry.
    IN_FLIGHT_BUDGET = "in_flight_budget_exhausted"
    #: 402 ``weight_exceeds_budget``: this request alone is above the whole in-flight budget.
    WEIGHT_EXCEEDS_BUDGET = "weight_exceeds_budget"
    #: 402 with ``limit_source: openrouter_key_limit``: the key's remaining limit is too small.
    KEY_LIMIT_AFFORDABILITY = "key_limit_affordability"
    #: 403 ``Key limit exceeded (<period> limit)``: spent until the key's window resets.
    KEY_LIMIT = "key_limit_exceeded"
    #: 403 from a guardrail or workspace budget (``limit_source``), spent until ``resets_at``.
    #: [inv] told by ``limit_source`` alone: those values and ``resets_at`` are [3P] only.
    SPEND_BUDGET = "spend_budget"
    #: 429 ``availability.code == capacity_exhausted``: every provider of the model is full.
    CAPACITY_EXHAUSTED = "capacity_exhausted"
    #: 404 ``availability.code == free_variant_ended``: the ``:free`` promotion is over.
    FREE_VARIANT_ENDED = "free_variant_ended"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    HTTP_ERROR = "http_error"
    NETWORK_ERROR = "network_error"
    TIMEOUT = "timeout"

    @property
    def label(self) -> str:
        """Short human text for legends and counters, in English (the catalogues' msgid: show
        it in the reader's language with :meth:`label_in`)."""
        return _LABELS[self]

    def label_in(self, lang: str | None = None) -> str:
        """:attr:`label` in ``lang`` (the language in force when ``None``: see
        :func:`orwidgets.i18n.get_language`)."""
        return translate(_LABELS[self], get_language(lang))

    @property
    def color(self) -> str:
        """Hex colour for charts (same class, same colour everywhere)."""
        return _COLORS[self]

    @property
    def advice(self) -> str:
        """What a client should do next, in English: OpenRouter's own ``remedy_hint`` where it
        sends one (quoted exactly), else ours. :meth:`advice_in` gives it in a language."""
        return _ADVICE_EN[self]

    def advice_in(self, lang: str | None = None) -> str:
        """:attr:`advice` in ``lang`` (the language in force when ``None``). [inv] Where the English
        advice is OpenRouter's ``remedy_hint``, which is never translated, the other languages say
        the same thing in our own words (the msgid is ours, not the wire text)."""
        return _ADVICE[self].render(get_language(lang))

    def advice_text(self) -> Text:
        """The advice as an :class:`orwidgets.i18n.Text`, for sentences that embed it."""
        return _ADVICE[self]

    @property
    def retryable(self) -> bool:
        """Whether waiting and trying again can succeed (per-day, 401/403 and every 402 but the
        in-flight one cannot)."""
        return self in _RETRYABLE


_LABELS = {
    CallClass.OK: N_("200 ok"),
    CallClass.FREE_PER_MINUTE: N_("429 free per-minute"),
    CallClass.FREE_PER_DAY_LOW: N_("429 free per-day (low tier)"),
    CallClass.FREE_PER_DAY_HIGH: N_("429 free per-day (high tier)"),
    CallClass.PAID_RATE: N_("429 paid rate (RPS)"),
    CallClass.UPSTREAM: N_("429 upstream provider"),
    CallClass.NEGATIVE_BALANCE: N_("402 negative balance"),
    CallClass.AFFORDABILITY: N_("402 can't afford max_tokens"),
    CallClass.IN_FLIGHT_BUDGET: N_("402 in-flight budget full (wait)"),
    CallClass.WEIGHT_EXCEEDS_BUDGET: N_("402 request above in-flight budget"),
    CallClass.KEY_LIMIT_AFFORDABILITY: N_("402 key limit too small"),
    CallClass.KEY_LIMIT: N_("403 key limit spent"),
    CallClass.SPEND_BUDGET: N_("403 guardrail/workspace budget spent"),
    CallClass.CAPACITY_EXHAUSTED: N_("429 all providers at capacity"),
    CallClass.FREE_VARIANT_ENDED: N_("404 free variant ended"),
    CallClass.UNAUTHORIZED: N_("401 unauthorized"),
    CallClass.FORBIDDEN: N_("403 forbidden"),
    CallClass.HTTP_ERROR: N_("other HTTP error"),
    CallClass.NETWORK_ERROR: N_("network error"),
    CallClass.TIMEOUT: N_("timeout"),
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
    CallClass.IN_FLIGHT_BUDGET: "#ffbb78",
    CallClass.WEIGHT_EXCEEDS_BUDGET: "#dbdb8d",
    CallClass.KEY_LIMIT_AFFORDABILITY: "#f7b6d2",
    CallClass.KEY_LIMIT: "#9edae5",
    CallClass.SPEND_BUDGET: "#c5b0d5",
    CallClass.CAPACITY_EXHAUSTED: "#c49c94",
    CallClass.FREE_VARIANT_ENDED: "#ff9896",
    CallClass.UNAUTHORIZED: "#7f7f7f",
    CallClass.FORBIDDEN: "#17becf",
    CallClass.HTTP_ERROR: "#1f77b4",
    CallClass.NETWORK_ERROR: "#393b79",
    CallClass.TIMEOUT: "#aec7e8",
}

# OpenRouter's remedy_hint texts are the English advice as they are (never reworded); the msgid
# beside each is our own wording of the same advice, for the catalogues. [inv]
_ADVICE: dict[CallClass, Text] = {
    CallClass.OK: Text(N_("Success.")),
    CallClass.FREE_PER_MINUTE: Text(
        N_("Send free-model requests more slowly, or retry once the minute's window resets "
           "(X-RateLimit-Reset)."),
        english=MESSAGES.remedy_per_minute),
    CallClass.FREE_PER_DAY_LOW: Text(
        N_("Wait for the daily reset (X-RateLimit-Reset), or buy credits to raise the free-model "
           "daily limit."),
        english=MESSAGES.remedy_per_day_low),
    CallClass.FREE_PER_DAY_HIGH: Text(N_("Wait for the daily reset (X-RateLimit-Reset)."),
                                      english=MESSAGES.remedy_per_day_high),
    CallClass.PAID_RATE: Text(
        N_("Paid requests per second follow the balance (1 per dollar, at most {cap}): send them "
           "more slowly or add credits."),
        english=MESSAGES.remedy_paid_rate, cap=f"{PAID_RPS_CAP:,}"),
    CallClass.UPSTREAM: Text(N_("The provider behind the model is saturated: back off and honour "
                                "Retry-After.")),
    CallClass.NEGATIVE_BALANCE: Text(N_("Add credits to bring the balance above zero (free models "
                                        "too).")),
    CallClass.AFFORDABILITY: Text(N_("Ask for fewer max_tokens or add credits.")),
    # OpenRouter's own remedy_hint: wait for Retry-After; this is not "out of credits".
    CallClass.IN_FLIGHT_BUDGET: Text(
        N_("Wait for Retry-After while your in-flight requests settle, then retry. Adding credits "
           "at {url} raises the in-flight budget, up to its ceiling."),
        english=MESSAGES.remedy_in_flight, url=CREDITS_URL),
    CallClass.WEIGHT_EXCEEDS_BUDGET: Text(N_(
        "This one request's maximum cost is larger than the whole in-flight budget, so retrying "
        "will not help: lower max_tokens or the prompt, or add credits."
    )),
    CallClass.KEY_LIMIT_AFFORDABILITY: Text(
        N_("What is left of this API key's limit cannot pay for the request: raise or remove the "
           "key's limit at {url}, or use a key without a limit."),
        english=MESSAGES.remedy_key_limit, url=KEYS_URL),
    CallClass.KEY_LIMIT: Text(N_(
        "This API key's own spending limit is spent until its window resets (00:00 UTC; weeks "
        "start on Monday, months on the 1st): raise the limit at {url}. Account credits do not "
        "help."
    ), url=KEYS_URL),
    CallClass.SPEND_BUDGET: Text(N_(
        "A guardrail or workspace budget is spent until it resets: ask the organisation's admin."
    )),
    CallClass.CAPACITY_EXHAUSTED: Text(N_(
        "Every provider of this model is at capacity: retry after availability.retry_after "
        "(also Retry-After), or switch to a model in fallback_models."
    )),
    CallClass.FREE_VARIANT_ENDED: Text(N_(
        "The :free promotion of this model has ended: switch to the paid model in "
        "fallback_models (normal prices apply) or pick another free model."
    )),
    CallClass.UNAUTHORIZED: Text(N_("Check the API key.")),
    CallClass.FORBIDDEN: Text(N_("This key may not do this (for example a management-key-only "
                                 "route).")),
    CallClass.HTTP_ERROR: Text(N_("See the status and body.")),
    CallClass.NETWORK_ERROR: Text(N_("The request did not get an answer: check the address and "
                                     "network.")),
    CallClass.TIMEOUT: Text(N_("No answer in time: try again later or raise the timeout.")),
}
_ADVICE_EN = {call_class: str(text) for call_class, text in _ADVICE.items()}

_RETRYABLE = frozenset(
    {
        CallClass.FREE_PER_MINUTE,
        CallClass.PAID_RATE,
        CallClass.UPSTREAM,
        CallClass.IN_FLIGHT_BUDGET,
        CallClass.CAPACITY_EXHAUSTED,
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
#: First sentences of the 2026 402s: the fallback when ``metadata.reason`` is missing (trimmed
#: captures, the Anthropic-Messages skin). The in-flight text shares no prefix with the
#: "Insufficient credits" and affordability texts, so it never falls into those classes.
_IN_FLIGHT_PREFIX = MESSAGES.in_flight.split(". ", 1)[0]
_WEIGHT_PREFIX = MESSAGES.weight_exceeds_budget.split(". ", 1)[0]
_KEY_LIMIT_PREFIX = key_limit_message("2025-01", None).split(".", 1)[0]  # "Key limit exceeded"
_UPSTREAM_RAW_MARK = "rate-limited upstream"
#: Classes whose answers can name an affordable M, and classes that can name a reset time.
_AFFORD_CLASSES = frozenset({CallClass.AFFORDABILITY, CallClass.KEY_LIMIT_AFFORDABILITY})
_RESET_CLASSES = frozenset({CallClass.KEY_LIMIT, CallClass.SPEND_BUDGET})
_SPEND_BUDGET_SOURCES = frozenset({LimitSource.GUARDRAIL_BUDGET.value,
                                   LimitSource.WORKSPACE_BUDGET.value})


def _template(text: str, *sentinels: str, group: str = r"(.+?)") -> re.Pattern[str]:
    """A regex from a policy text built with sentinel values: each sentinel becomes ``group``."""
    pattern = re.escape(text)
    for sentinel in sentinels:
        pattern = pattern.replace(re.escape(sentinel), group)
    return re.compile(pattern)


def _sentence(text: str, marker: str) -> str:
    """The sentence of ``text`` holding ``marker`` (without its final period)."""
    start = text.rfind(". ", 0, text.index(marker))
    start = 0 if start < 0 else start + 2
    end = text.find(".", text.index(marker))
    return text[start:] if end < 0 else text[start:end]


_N, _M = 111_111_111, 222_222_222
#: "You requested up to N tokens, but can only afford M" (the tails after it vary).
_AFFORD_RE = _template(_sentence(affordability_message(_N, _M), str(_M)), str(_N), str(_M),
                       group=r"(\d+)")
#: "All providers for <model> are at capacity" (the typed 429 without its availability object).
_CAPACITY_RE = _template(_sentence(capacity_exhausted_message("\x00", 0), "\x00"), "\x00")
#: [inv] wording of our own (the docs give none); tells the paid model when availability is gone.
_FREE_ENDED_RE = re.compile(
    re.escape(free_variant_ended_message("\x01", "\x00"))
    .replace(re.escape("\x00"), r"(?P<paid>.+?)", 1).replace(re.escape("\x00"), r"(?P=paid)")
    .replace(re.escape("\x01"), r"(?P<free>.+?)", 1).replace(re.escape("\x01"), r"(?P=free)")
)
#: "Key limit exceeded (daily limit)": the key's window, 2026-01 wording on.
_KEY_PERIOD_RE = _template(_sentence(key_limit_message("2026-01", LIMIT_RESETS[0]), "("),
                           LIMIT_RESETS[0], group=r"(\w+)")
_KEY_LIMIT_2026_10 = key_limit_message("2026-10", LIMIT_RESETS[0], used_usd=0, limit_usd=0,
                                       resets_at="\x00")
#: "... used; resets 2026-10-12T00:00:00.000Z." (2026-10 wording): the ISO time.
_RESETS_RE = re.compile(
    re.escape(_KEY_LIMIT_2026_10[_KEY_LIMIT_2026_10.rindex(";") + 1:
                                 _KEY_LIMIT_2026_10.index("\x00")])
    + r"(\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)"
)


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


def _availability(err: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``error.availability`` (2026-08 typed model-availability errors), if there is one."""
    if err is None:
        return None
    availability = err.get("availability")
    return dict(availability) if isinstance(availability, Mapping) else None


def _parse_time(text: Any) -> datetime | None:
    """An ISO 8601 time (``Z`` allowed, also on Python 3.10) as an aware UTC datetime."""
    if not isinstance(text, str) or not text.strip():
        return None
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


def affordable_tokens(body: Any) -> int | None:
    """The M of "... but can only afford M" in an affordability 402, else ``None``.

    When ``metadata.previous_errors`` names other attempts (one per provider endpoint, each with
    its own M), the smallest M is returned: a retry with that many ``max_tokens`` fits every
    endpoint that was tried. [inv: the reference shows the differing Ms but not which one
    OpenRouter would route a retry to]
    """
    err = error_of(body)
    if err is None:
        return None
    texts = [err.get("message")]
    previous = _metadata(err).get("previous_errors")
    if isinstance(previous, list):
        texts += [p.get("message") for p in previous if isinstance(p, Mapping)]
    found = [int(m.group(2)) for t in texts if isinstance(t, str)
             for m in [_AFFORD_RE.search(t)] if m]
    return min(found) if found else None


def key_limit_period(message: str | None) -> str | None:
    """``daily``/``weekly``/``monthly``/``total`` from "Key limit exceeded (<period> limit)";
    ``None`` for the 2025 wording, which does not name it."""
    match = _KEY_PERIOD_RE.search(message or "")
    return match.group(1) if match else None


def key_limit_resets_at(body: Any) -> datetime | None:
    """When a spent limit or budget resets: "resets <ISO>" in the message (2026-10 key-limit
    wording), else ``error.metadata.resets_at`` (budget 403s, [3P]); ``None`` when not said."""
    err = error_of(body)
    if err is None:
        return None
    match = _RESETS_RE.search(str(err.get("message") or ""))
    if match:
        return _parse_time(match.group(1))
    return _parse_time(_metadata(err).get("resets_at"))


def _fallback_models(err: Mapping[str, Any] | None) -> tuple[str, ...]:
    """``availability.fallback_models``; without it, the paid model our 404 wording names."""
    availability = _availability(err) or {}
    models = availability.get("fallback_models")
    if isinstance(models, list):
        return tuple(str(m) for m in models if isinstance(m, str) and m)
    match = _FREE_ENDED_RE.fullmatch(str((err or {}).get("message") or ""))
    return (match.group("paid"),) if match else ()


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


def _classify_availability(err: Mapping[str, Any] | None) -> CallClass | None:
    """First row of the retry table: a typed availability error is told by its code, whatever the
    status says (it also arrives inside mid-stream error chunks). Unknown codes: ``None``, and the
    status decides (the retry helper then obeys ``availability.retryable``)."""
    code = (_availability(err) or {}).get("code")
    if code == AvailabilityCode.CAPACITY_EXHAUSTED.value:
        return CallClass.CAPACITY_EXHAUSTED
    if code == AvailabilityCode.FREE_VARIANT_ENDED.value:
        return CallClass.FREE_VARIANT_ENDED
    return None


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
    if _CAPACITY_RE.match(message):
        # The documented capacity_exhausted text, its availability object lost on the way.
        return CallClass.CAPACITY_EXHAUSTED
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
    meta = _metadata(err)
    reason, source = meta.get("reason"), meta.get("limit_source")
    # The typed fields first (2026): the docs say to branch on them, never on the prose.
    if reason == Reason.IN_FLIGHT_BUDGET.value or source == LimitSource.IN_FLIGHT.value:
        return CallClass.IN_FLIGHT_BUDGET
    if reason == Reason.WEIGHT_EXCEEDS_BUDGET.value:
        return CallClass.WEIGHT_EXCEEDS_BUDGET
    if source == LimitSource.KEY_LIMIT.value:
        return CallClass.KEY_LIMIT_AFFORDABILITY
    # The message, for bodies without reason (trimmed captures, the Anthropic skin, pre-2026).
    # [inv] A key-bound affordability prose ("... adjust the key's daily limit") without
    # limit_source stays AFFORDABILITY: 2026 captures carry that prose with limit_source
    # openrouter_credits (the balance was binding), so the prose cannot tell the key apart.
    if message.startswith(_IN_FLIGHT_PREFIX):
        return CallClass.IN_FLIGHT_BUDGET
    if message.startswith(_WEIGHT_PREFIX):
        return CallClass.WEIGHT_EXCEEDS_BUDGET
    if message.startswith(_NEGATIVE_PREFIX):
        # "Insufficient credits..." (negative balance, or never purchased), with or without
        # limit_source openrouter_credits.
        return CallClass.NEGATIVE_BALANCE
    if message.startswith((_AFFORD_PREFIX, _PROMPT_LIMIT_PREFIX)) or \
            source == LimitSource.CREDITS.value:
        return CallClass.AFFORDABILITY
    # [inv] Unknown 402s: treated as out of credits (never retried without Retry-After).
    return CallClass.NEGATIVE_BALANCE


def _classify_403(err: Mapping[str, Any] | None) -> CallClass:
    message = str((err or {}).get("message") or "")
    source = _metadata(err).get("limit_source")
    if source == LimitSource.KEY_LIMIT.value or message.startswith(_KEY_LIMIT_PREFIX):
        return CallClass.KEY_LIMIT
    if source in _SPEND_BUDGET_SOURCES:
        return CallClass.SPEND_BUDGET
    return CallClass.FORBIDDEN


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
        # mid-stream errors look the same. The body's code (or the typed errors' http_status,
        # their docs examples have no numeric code) is the real status.
        effective = _as_int(err.get("code")) or _as_int(err.get("http_status")) or 500
    if 200 <= effective < 300:
        return CallClass.OK if isinstance(body, Mapping) else CallClass.HTTP_ERROR
    typed = _classify_availability(err)
    if typed is not None:
        return typed
    if effective == 429:
        return _classify_429(err, headers, body)
    if effective == 402:
        return _classify_402(err)
    if effective == 401:
        return CallClass.UNAUTHORIZED
    if effective == 403:
        return _classify_403(err)
    if effective == 404 and _FREE_ENDED_RE.fullmatch(str((err or {}).get("message") or "")):
        return CallClass.FREE_VARIANT_ENDED
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
    reason:
        ``error.metadata.reason`` when present (``in_flight_budget_exhausted``,
        ``weight_exceeds_budget``).
    availability:
        ``error.availability`` (typed model-availability errors, 2026-08), else ``None``.
    fallback_models:
        ``availability.fallback_models`` (the paid slug after a ``:free`` promotion ends: it costs
        money), else ``()``.
    affordable_tokens:
        The M of an affordability 402's "can only afford M" (see :func:`affordable_tokens`).
    resets_at:
        When a spent key limit (or budget) resets, as the body says; ``None`` when it does not.
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
    reason: str | None = None
    availability: dict[str, Any] | None = None
    fallback_models: tuple[str, ...] = ()
    affordable_tokens: int | None = None
    resets_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.call_class is CallClass.OK

    @property
    def key_limit_period(self) -> str | None:
        """``daily``/``weekly``/``monthly``/``total`` of a key-limit 403, when its message says."""
        if self.call_class is not CallClass.KEY_LIMIT:
            return None
        return key_limit_period(self.message)

    @property
    def reset_at(self) -> datetime | None:
        """``X-RateLimit-Reset`` as an aware UTC datetime."""
        if self.rate_limit is None:
            return None
        return datetime.fromtimestamp(self.rate_limit.reset_ms / 1000, tz=timezone.utc)

    def describe(self, lang: str | None = None) -> str:
        """One line: status, class and message, in ``lang`` (the language in force when
        ``None``); the message is OpenRouter's, as it came."""
        return self.describe_text().render(get_language(lang))

    def describe_text(self) -> Text:
        """:meth:`describe` as an :class:`orwidgets.i18n.Text` (English when ``str()``-ed)."""
        label = _ShortLabel(self.call_class, self.status)
        message = self.message.strip() if self.message else ""
        if self.status is None:
            if message:
                return Text(N_("no answer: {label}: {message}"), label=label, message=message)
            return Text(N_("no answer: {label}"), label=label)
        if message:
            return Text(N_("HTTP {status} {label}: {message}"), status=self.status, label=label,
                        message=message)
        return Text(N_("HTTP {status} {label}"), status=self.status, label=label)


class _ShortLabel:
    """A class label in a sentence that names the status already: labels start with their status
    ("429 free per-minute"), which is then said once."""

    __slots__ = ("call_class", "status")

    def __init__(self, call_class: CallClass, status: int | None) -> None:
        self.call_class, self.status = call_class, status

    def render(self, lang: str) -> str:
        label = translate(_LABELS[self.call_class], lang)
        prefix = f"{self.status} "
        if self.status is not None and label.startswith(prefix):
            return label[len(prefix):]
        return label


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
    reason = meta.get("reason")
    availability = _availability(err)
    # Only the classes they belong to pay for the regexes (the load runner classifies every call).
    fallbacks = _fallback_models(err) if availability is not None or \
        call_class is CallClass.FREE_VARIANT_ENDED else ()
    tokens = affordable_tokens(body) if call_class in _AFFORD_CLASSES else None
    resets_at = key_limit_resets_at(body) if call_class in _RESET_CLASSES else None
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
        reason=str(reason) if reason is not None else None,
        availability=availability,
        fallback_models=fallbacks,
        affordable_tokens=tokens,
        resets_at=resets_at,
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
