"""The verdict: which of OpenRouter's limits a client ignored, read from the emulator's journal.

:func:`verdict` takes journal entries (from :class:`orwidgets.journal.Journal`, a JSON-lines file
read with :func:`orwidgets.journal.read_journal`, or any objects with the same attributes) and
returns :class:`Finding` objects; :func:`assert_resilient` raises ``AssertionError`` listing them.
Every rule is judged per key (``key_id``) and only on chat completions:

``retry-before-reset``
    a free-model request after a per-minute 429 and before its ``X-RateLimit-Reset``;
``retry-after-daily-limit``
    a free-model request after a per-day 429 and before the next 00:00 UTC, which did not
    succeed either (every refused attempt still counts toward the day);
``retry-before-retry-after``
    a request to the same model before the ``Retry-After`` of an answer had passed (an upstream
    or capacity 429, a 503, an in-flight 402: any answer that carried the header);
``retry-of-terminal-error``
    the same request (same model and ``max_tokens``) sent again after a 401, a 403 or a 402 that
    carried no ``Retry-After``, and refused again;
``paid-rate-exceeded``
    paid requests that kept coming within the second after a paid-rate 429 (versions with the
    balance-linked requests per second).

A finding holds the answer that set the limit first in ``calls``, then the requests that broke it;
``count`` is how many broke it. Requests already on their way when the limit answer left (concurrent
calls) count too: the journal cannot tell them from retries, and a client that bursts past a limit
learns it here. This module reads only :mod:`orwidgets.engine` (the class ids and the windows).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from .engine import Reason, day_reset_ms, minute_reset_ms, second_reset_ms

__all__ = [
    "RULES",
    "Call",
    "Finding",
    "verdict",
    "verdict_json",
    "format_findings",
    "assert_resilient",
]

#: Rule id -> what it means, in one line (stable ids: tests and CI logs may match on them).
RULES: dict[str, str] = {
    "retry-before-reset": "a free-model request after a per-minute 429, before its X-RateLimit-Reset",
    "retry-after-daily-limit": "a free-model request after a per-day 429, before the next 00:00 UTC",
    "retry-before-retry-after": "a request to the same model before the Retry-After of an answer passed",
    "retry-of-terminal-error": "the same request sent again after a 401, a 403 or a 402 without "
                               "Retry-After, and refused again",
    "paid-rate-exceeded": "paid requests within the second after a paid-rate 429",
}

_CHAT_PATH = "/api/v1/chat/completions"
_PER_DAY = frozenset({Reason.FREE_PER_DAY_LOW.value, Reason.FREE_PER_DAY_HIGH.value})
_PER_MINUTE = Reason.FREE_PER_MINUTE.value
_PAID_RATE = Reason.PAID_RATE.value
#: Calls listed under a finding by :func:`format_findings` before "... and N more".
SHOWN_CALLS = 6


class Call(Protocol):
    """What the verdict reads of a journal entry (:class:`orwidgets.journal.Entry` has it)."""

    time: float
    status: int
    call_class: str
    model: str | None
    max_tokens: int | None
    key: str | None
    key_id: str | None
    path: str
    retry_after: float | None
    rate_limit_reset: int | None


@dataclass(frozen=True)
class Finding:
    """One broken rule: the answer that set the limit, then the requests that ignored it.

    Attributes
    ----------
    rule:
        The rule's stable id (a key of :data:`RULES`).
    message:
        A sentence for the developer: what happened, with the numbers.
    calls:
        The entries involved, the limit's answer first.
    count:
        How many requests broke the rule (``len(calls) - 1``).
    key:
        The masked key they came from (``None``: requests without a key).
    """

    rule: str
    message: str
    calls: tuple[Any, ...]
    count: int
    key: str | None = None

    def to_json(self) -> dict[str, Any]:
        calls = [c.to_json() if hasattr(c, "to_json") else _call_json(c) for c in self.calls]
        return {"rule": self.rule, "message": self.message, "count": self.count, "key": self.key,
                "calls": calls}

    def __str__(self) -> str:
        who = f"key {self.key}" if self.key else "no key"
        return f"[{self.rule}] {who}: {self.message}"


def _call_json(call: Any) -> dict[str, Any]:
    return {name: getattr(call, name, None) for name in (
        "time", "key", "key_id", "path", "model", "max_tokens", "status", "call_class",
        "retry_after", "rate_limit_reset")}


def _span(seconds: float) -> str:
    """A duration for people: ``0.25 s``, ``40 s``, ``3 min 20 s``, ``9 h 56 min``."""
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.2g} s" if seconds < 1 else f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, rest = divmod(round(seconds / 60), 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def _clock(unix_s: float) -> str:
    return datetime.fromtimestamp(unix_s, timezone.utc).strftime("%H:%M:%S")


def _times(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


class _Episode:
    """A limit in force (from ``first`` until ``until``) and the requests that ignored it."""

    __slots__ = ("first", "until", "broke")

    def __init__(self, first: Any, until: float) -> None:
        self.first = first
        self.until = until
        self.broke: list[Any] = []


def _window(
    ep: _Episode | None, call: Any, trigger: str, next_reset_ms: Callable[[float], int],
    close: Callable[[_Episode], None],
) -> _Episode | None:
    """A limit in force until its ``X-RateLimit-Reset``: a request before the reset breaks it; the
    first one after it ends the episode (and opens the next when it got the same 429)."""
    if ep is not None and call.time < ep.until:
        ep.broke.append(call)
        return ep
    if ep is not None and ep.broke:
        close(ep)
    if call.call_class != trigger:
        return None
    # Without the header (a hand-written journal), the window's own end.
    return _Episode(call, (call.rate_limit_reset or next_reset_ms(call.time)) / 1000)


def _per_key(calls: Sequence[Any]) -> list[Finding]:
    """Judge the chat calls of one key, oldest first: one pass, a little state per rule."""
    found: list[tuple[float, Finding]] = []
    key = calls[0].key
    minute: _Episode | None = None
    day: _Episode | None = None
    paid: _Episode | None = None
    waits: dict[str | None, _Episode] = {}
    terminal: dict[tuple[str | None, int | None], _Episode] = {}

    def emit(rule: str, ep: _Episode, message: str) -> None:
        found.append((ep.first.time, Finding(rule, message, (ep.first, *ep.broke), len(ep.broke), key)))

    def close_minute(ep: _Episode) -> None:
        n, last = len(ep.broke), ep.broke[-1].time
        emit("retry-before-reset", ep, (
            f"sent {_times(n, 'more free-model request')} within {_span(last - ep.first.time)} of "
            f"a per-minute 429 whose reset was {_span(ep.until - ep.first.time)} away; wait until "
            "X-RateLimit-Reset (every refused attempt also counts toward the daily quota)"))

    def close_day(ep: _Episode) -> None:
        n = len(ep.broke)
        emit("retry-after-daily-limit", ep, (
            f"sent {_times(n, 'more free-model request')} after a per-day 429 at "
            f"{_clock(ep.first.time)} UTC, {_span(ep.until - ep.first.time)} before the daily "
            "reset at 00:00 UTC; each was refused and counted toward the quota: stop until the "
            "reset (or buy credits for the higher tier)"))

    def close_wait(ep: _Episode) -> None:
        n, last, first = len(ep.broke), ep.broke[-1].time, ep.first
        emit("retry-before-retry-after", ep, (
            f"sent {_times(n, 'more request')} to {first.model} within "
            f"{_span(last - first.time)} of a {first.status} ({first.call_class}) whose "
            f"Retry-After asked to wait {_span(first.retry_after)}"))

    def close_terminal(ep: _Episode) -> None:
        n, first = len(ep.broke), ep.first
        tokens = "no max_tokens" if first.max_tokens is None else f"max_tokens {first.max_tokens}"
        what = f"a {first.status} ({first.call_class})"
        if first.status == 402:
            what += " without Retry-After"
        emit("retry-of-terminal-error", ep, (
            f"sent the same request ({first.model}, {tokens}) {_times(n, 'more time')} after "
            f"{what}, and it was refused again each time: waiting does not fix this answer; "
            "change the request, the key or the credits first"))

    def close_paid(ep: _Episode) -> None:
        n, last = len(ep.broke), ep.broke[-1].time
        emit("paid-rate-exceeded", ep, (
            f"sent {_times(n, 'more paid request')} within {_span(last - ep.first.time)} after a "
            "paid-rate 429, before the next second (its X-RateLimit-Reset); keep to the "
            "requests per second your balance buys"))

    for call in calls:
        t, cls, model = call.time, call.call_class, call.model
        free = model is not None and model.endswith(":free")
        ok = call.status == 200 and cls == Reason.OK.value
        if free:
            minute = _window(minute, call, _PER_MINUTE, minute_reset_ms, close_minute)
            if day is not None and (t >= day.until or ok):
                if day.broke:
                    close_day(day)
                day = None
            if day is not None:
                day.broke.append(call)
            elif cls in _PER_DAY:
                day = _Episode(call, day_reset_ms(t) / 1000)
        elif model is not None:
            paid = _window(paid, call, _PAID_RATE, second_reset_ms, close_paid)
        # Retry-After: per model, whatever the answer was.
        wait = waits.get(model)
        if wait is not None and t < wait.until:
            wait.broke.append(call)
            if call.retry_after:
                wait.until = max(wait.until, t + call.retry_after)
        else:
            if wait is not None:
                if wait.broke:
                    close_wait(wait)
                del waits[model]
            if call.retry_after and call.status != 200:
                waits[model] = _Episode(call, t + call.retry_after)
        # Terminal answers: the same request again, refused again.
        status = call.status
        refused = status in (401, 403) or (status == 402 and call.retry_after is None)
        same = (model, call.max_tokens)
        term = terminal.get(same)
        if term is not None:
            if refused:
                term.broke.append(call)
            else:
                if term.broke:
                    close_terminal(term)
                del terminal[same]
        elif refused:
            terminal[same] = _Episode(call, float("inf"))
    # Limits still in force when the journal ends.
    if minute is not None and minute.broke:
        close_minute(minute)
    if day is not None and day.broke:
        close_day(day)
    if paid is not None and paid.broke:
        close_paid(paid)
    for wait in waits.values():
        if wait.broke:
            close_wait(wait)
    for term in terminal.values():
        if term.broke:
            close_terminal(term)
    found.sort(key=lambda pair: pair[0])
    return [finding for _, finding in found]


def verdict(calls: Iterable[Call]) -> list[Finding]:
    """The rules the calls broke, as :class:`Finding` objects (empty: the client was resilient).

    ``calls`` may come in any order; they are judged oldest first, per key, chat completions only.
    """
    by_key: dict[str | None, list[Any]] = {}
    for call in sorted(calls, key=lambda c: c.time):
        if getattr(call, "path", _CHAT_PATH) != _CHAT_PATH:
            continue
        who = call.key_id if call.key_id is not None else call.key
        group = by_key.get(who)
        if group is None:
            by_key[who] = [call]
        else:
            group.append(call)
    findings: list[Finding] = []
    for group in by_key.values():
        findings.extend(_per_key(group))
    findings.sort(key=lambda f: f.calls[0].time)
    return findings


def verdict_json(calls: Iterable[Call], findings: Sequence[Finding] | None = None) -> dict[str, Any]:
    """The verdict as one JSON object, the same from ``GET /_emulator/verdict`` and
    ``orwidgets verdict --json``: ``calls`` (journal entries read), ``keys`` (distinct keys),
    ``count`` (findings), ``rules`` (findings per rule id, every rule listed) and ``findings``.
    Pass ``findings`` when they were judged already."""
    calls = list(calls)
    if findings is None:
        findings = verdict(calls)
    per_rule = dict.fromkeys(RULES, 0)
    for finding in findings:
        per_rule[finding.rule] = per_rule.get(finding.rule, 0) + 1
    keys = {c.key_id if c.key_id is not None else c.key for c in calls}
    return {"calls": len(calls), "keys": len(keys), "count": len(findings), "rules": per_rule,
            "findings": [f.to_json() for f in findings]}


def _call_line(call: Any) -> str:
    stamp = datetime.fromtimestamp(call.time, timezone.utc).strftime("%H:%M:%S.%f")[:-3]
    extra = []
    if call.retry_after is not None:
        extra.append(f"Retry-After {call.retry_after:g}")
    if call.rate_limit_reset is not None:
        extra.append(f"reset {_clock(call.rate_limit_reset / 1000)}")
    tokens = "" if call.max_tokens is None else f" max_tokens={call.max_tokens}"
    tail = f" ({', '.join(extra)})" if extra else ""
    return f"{stamp} UTC  {call.status} {call.call_class:<22} {call.model}{tokens}{tail}"


def format_findings(findings: Sequence[Finding], *, shown: int = SHOWN_CALLS) -> str:
    """The findings as text for people: one paragraph each, with the first calls involved."""
    if not findings:
        return "no findings: the client respected every limit the verdict checks"
    lines = [f"{_times(len(findings), 'finding')}:"]
    for number, finding in enumerate(findings, 1):
        lines.append(f"{number}. {finding}")
        for call in finding.calls[:shown]:
            lines.append(f"     {_call_line(call)}")
        if len(finding.calls) > shown:
            lines.append(f"     ... and {len(finding.calls) - shown} more")
    return "\n".join(lines)


def assert_resilient(calls: Iterable[Call]) -> None:
    """Raise ``AssertionError`` listing the findings, if there are any."""
    findings = verdict(calls)
    if findings:
        raise AssertionError(
            "the client did not respect OpenRouter's limits: " + format_findings(findings)
        )
