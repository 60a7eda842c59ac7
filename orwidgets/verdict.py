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
learns it here. This module reads only :mod:`orwidgets.engine` (the class ids and the windows)
and :mod:`orwidgets.i18n`.

Messages are in the language in force when the verdict is made (English unless
:func:`orwidgets.set_language`, ``lang=`` or ``ORWIDGETS_LANG`` chose another), so that pytest
assertions and the CLI read in English by default; the rule ids never change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from .engine import Reason, day_reset_ms, minute_reset_ms, second_reset_ms
from .i18n import N_, Text, get_language, translate

__all__ = [
    "RULES",
    "Call",
    "Finding",
    "verdict",
    "verdict_json",
    "format_findings",
    "assert_resilient",
]

#: Rule id -> what it means, in one line (stable ids: tests and CI logs may match on them). The
#: descriptions are English msgids: ``translator(lang)(RULES[rule])`` shows one in a language.
RULES: dict[str, str] = {
    "retry-before-reset": N_("a free-model request after a per-minute 429, before its "
                             "X-RateLimit-Reset"),
    "retry-after-daily-limit": N_("a free-model request after a per-day 429, before the next "
                                  "00:00 UTC"),
    "retry-before-retry-after": N_("a request to the same model before the Retry-After of an "
                                   "answer passed"),
    "retry-of-terminal-error": N_("the same request sent again after a 401, a 403 or a 402 "
                                  "without Retry-After, and refused again"),
    "paid-rate-exceeded": N_("paid requests within the second after a paid-rate 429"),
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
        A sentence for the developer: what happened, with the numbers, in ``lang``.
    calls:
        The entries involved, the limit's answer first.
    count:
        How many requests broke the rule (``len(calls) - 1``).
    key:
        The masked key they came from (``None``: requests without a key).
    lang:
        The language of ``message`` and of ``str(finding)``.
    """

    rule: str
    message: str
    calls: tuple[Any, ...]
    count: int
    key: str | None = None
    lang: str = field(default="en", compare=False)

    def to_json(self) -> dict[str, Any]:
        calls = [c.to_json() if hasattr(c, "to_json") else _call_json(c) for c in self.calls]
        return {"rule": self.rule, "message": self.message, "count": self.count, "key": self.key,
                "calls": calls}

    def __str__(self) -> str:
        if self.key:
            text = Text(N_("[{rule}] key {key}: {message}"), rule=self.rule, key=self.key,
                        message=self.message)
        else:
            text = Text(N_("[{rule}] no key: {message}"), rule=self.rule, message=self.message)
        return text.render(self.lang)


def _call_json(call: Any) -> dict[str, Any]:
    return {name: getattr(call, name, None) for name in (
        "time", "key", "key_id", "path", "model", "max_tokens", "status", "call_class",
        "retry_after", "rate_limit_reset")}


def _span(seconds: float) -> Text:
    """A duration for people: ``0.25 s``, ``40 s``, ``3 min 20 s``, ``9 h 56 min``."""
    seconds = max(0.0, seconds)
    if seconds < 10:
        shown = f"{seconds:.2g}" if seconds < 1 else f"{seconds:.1f}"
        return Text(N_("{s} s"), s=shown)
    if seconds < 120:
        return Text(N_("{s} s"), s=f"{seconds:.0f}")
    if seconds < 3600:
        minutes, rest = divmod(round(seconds), 60)
        if rest:
            return Text(N_("{m} min {s} s"), m=minutes, s=rest)
        return Text(N_("{m} min"), m=minutes)
    hours, rest = divmod(round(seconds / 60), 60)
    if rest:
        return Text(N_("{h} h {m} min"), h=hours, m=rest)
    return Text(N_("{h} h"), h=hours)


def _clock(unix_s: float) -> str:
    return datetime.fromtimestamp(unix_s, timezone.utc).strftime("%H:%M:%S")


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


def _per_key(calls: Sequence[Any], lang: str) -> list[Finding]:
    """Judge the chat calls of one key, oldest first: one pass, a little state per rule."""
    found: list[tuple[float, Finding]] = []
    key = calls[0].key
    minute: _Episode | None = None
    day: _Episode | None = None
    paid: _Episode | None = None
    waits: dict[str | None, _Episode] = {}
    terminal: dict[tuple[str | None, int | None], _Episode] = {}

    def emit(rule: str, ep: _Episode, message: Text) -> None:
        found.append((ep.first.time, Finding(rule, message.render(lang), (ep.first, *ep.broke),
                                             len(ep.broke), key, lang)))

    def close_minute(ep: _Episode) -> None:
        n, last = len(ep.broke), ep.broke[-1].time
        emit("retry-before-reset", ep, Text.ngettext(
            "sent {n} more free-model request within {span} of a per-minute 429 whose reset was "
            "{reset} away; wait until X-RateLimit-Reset (every refused attempt also counts toward "
            "the daily quota)",
            "sent {n} more free-model requests within {span} of a per-minute 429 whose reset was "
            "{reset} away; wait until X-RateLimit-Reset (every refused attempt also counts toward "
            "the daily quota)",
            n, n=n, span=_span(last - ep.first.time), reset=_span(ep.until - ep.first.time)))

    def close_day(ep: _Episode) -> None:
        n = len(ep.broke)
        emit("retry-after-daily-limit", ep, Text.ngettext(
            "sent {n} more free-model request after a per-day 429 at {clock} UTC, {span} before "
            "the daily reset at 00:00 UTC; each was refused and counted toward the quota: stop "
            "until the reset (or buy credits for the higher tier)",
            "sent {n} more free-model requests after a per-day 429 at {clock} UTC, {span} before "
            "the daily reset at 00:00 UTC; each was refused and counted toward the quota: stop "
            "until the reset (or buy credits for the higher tier)",
            n, n=n, clock=_clock(ep.first.time), span=_span(ep.until - ep.first.time)))

    def close_wait(ep: _Episode) -> None:
        n, last, first = len(ep.broke), ep.broke[-1].time, ep.first
        emit("retry-before-retry-after", ep, Text.ngettext(
            "sent {n} more request to {model} within {span} of a {status} ({call_class}) whose "
            "Retry-After asked to wait {wait}",
            "sent {n} more requests to {model} within {span} of a {status} ({call_class}) whose "
            "Retry-After asked to wait {wait}",
            n, n=n, model=first.model, span=_span(last - first.time), status=first.status,
            call_class=first.call_class, wait=_span(first.retry_after)))

    def close_terminal(ep: _Episode) -> None:
        n, first = len(ep.broke), ep.first
        if first.max_tokens is None:
            tokens = Text(N_("no max_tokens"))
        else:
            tokens = Text(N_("max_tokens {max_tokens}"), max_tokens=first.max_tokens)
        if first.status == 402:
            what = Text(N_("a {status} ({call_class}) without Retry-After"),
                        status=first.status, call_class=first.call_class)
        else:
            what = Text(N_("a {status} ({call_class})"), status=first.status,
                        call_class=first.call_class)
        emit("retry-of-terminal-error", ep, Text.ngettext(
            "sent the same request ({model}, {tokens}) {n} more time after {what}, and it was "
            "refused again each time: waiting does not fix this answer; change the request, the "
            "key or the credits first",
            "sent the same request ({model}, {tokens}) {n} more times after {what}, and it was "
            "refused again each time: waiting does not fix this answer; change the request, the "
            "key or the credits first",
            n, n=n, model=first.model, tokens=tokens, what=what))

    def close_paid(ep: _Episode) -> None:
        n, last = len(ep.broke), ep.broke[-1].time
        emit("paid-rate-exceeded", ep, Text.ngettext(
            "sent {n} more paid request within {span} after a paid-rate 429, before the next "
            "second (its X-RateLimit-Reset); keep to the requests per second your balance buys",
            "sent {n} more paid requests within {span} after a paid-rate 429, before the next "
            "second (its X-RateLimit-Reset); keep to the requests per second your balance buys",
            n, n=n, span=_span(last - ep.first.time)))

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


def verdict(calls: Iterable[Call], lang: str | None = None) -> list[Finding]:
    """The rules the calls broke, as :class:`Finding` objects (empty: the client was resilient).

    ``calls`` may come in any order; they are judged oldest first, per key, chat completions only.
    The messages are in ``lang`` (the language in force when ``None``: see
    :func:`orwidgets.i18n.get_language`).
    """
    lang = get_language(lang)
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
        findings.extend(_per_key(group, lang))
    findings.sort(key=lambda f: f.calls[0].time)
    return findings


def verdict_json(calls: Iterable[Call], findings: Sequence[Finding] | None = None,
                 lang: str | None = None) -> dict[str, Any]:
    """The verdict as one JSON object, the same from ``GET /_emulator/verdict`` and
    ``orwidgets verdict --json``: ``calls`` (journal entries read), ``keys`` (distinct keys),
    ``count`` (findings), ``rules`` (findings per rule id, every rule listed) and ``findings``.
    Pass ``findings`` when they were judged already (else their messages are in ``lang``)."""
    calls = list(calls)
    if findings is None:
        findings = verdict(calls, lang)
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


def format_findings(findings: Sequence[Finding], *, shown: int = SHOWN_CALLS,
                    lang: str | None = None) -> str:
    """The findings as text for people: one paragraph each, with the first calls involved, in
    ``lang`` (when ``None``: the findings' own language, else the language in force)."""
    lang = findings[0].lang if lang is None and findings else get_language(lang)
    if not findings:
        return translate(N_("no findings: the client respected every limit the verdict checks"),
                         lang)
    lines = [Text.ngettext("{n} finding:", "{n} findings:", len(findings),
                           n=len(findings)).render(lang)]
    for number, finding in enumerate(findings, 1):
        lines.append(f"{number}. {finding}")
        for call in finding.calls[:shown]:
            lines.append(f"     {_call_line(call)}")
        if len(finding.calls) > shown:
            more = Text(N_("... and {n} more"), n=len(finding.calls) - shown).render(lang)
            lines.append(f"     {more}")
    return "\n".join(lines)


def assert_resilient(calls: Iterable[Call], lang: str | None = None) -> None:
    """Raise ``AssertionError`` listing the findings, if there are any (in ``lang``: the language
    in force when ``None``)."""
    findings = verdict(calls, lang)
    if findings:
        raise AssertionError(Text(
            N_("the client did not respect OpenRouter's limits: {findings}"),
            findings=format_findings(findings),
        ).render(findings[0].lang))
