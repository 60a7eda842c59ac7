"""Fault injection: upstream-provider failures, slow answers and hangs, on demand.

Off by default. ``POST /_emulator/faults`` replaces the rule list::

    {"rules": [{"kind": "upstream_429", "model": "*", "every": 3, "retry_after_s": 15},
               {"kind": "slow", "model": "openai/gpt-4o-mini", "probability": 0.5, "seed": 7,
                "delay_ms": 3000}]}

``{"rules": []}`` clears them. A rule fires on a chat completion that the platform checks admitted
(spec section 3 steps 1-5 passed): faults stand for what happens *behind* OpenRouter, at the provider,
so an injected failure never hides a 401/402/429 of the platform itself. ``model`` is an exact id or
a shell pattern (``*``, ``*:free``). ``every: N`` fires on the Nth, 2Nth, ... matching call;
``probability: p`` fires with probability p from a generator seeded with ``seed`` (reproducible);
with neither, the rule fires on every matching call. ``times: N`` makes a rule answer N calls at
most (the first N it fires on), then never again: ``{"kind": "upstream_429", "times": 2}`` fails
the first two calls and lets every later one through. Rules are tried in order; the first that
fires wins (every matching rule advances its own schedule; only the winner uses up one of its
``times``).

The bodies of 502 and 503 and the ``metadata`` extras are the emulator's own choice [inv]; the
upstream 429 follows observed captures [obs]; ``capacity_exhausted`` (429) and
``free_variant_ended`` (404, ``:free`` models only) follow the documented availability errors of
2026-08-19 [doc], with the numeric ``error.code`` and top-level ``user_id`` of every other answer
[inv: the docs' example omits both].
"""

from __future__ import annotations

import fnmatch
import math
import random
import threading
from dataclasses import asdict, dataclass
from typing import Any

from ..policy import CAPACITY_RETRY_AFTER_S, is_free_model

__all__ = ["FAULT_KINDS", "FaultRule", "FaultSet", "FaultError"]

FAULT_KINDS = ("upstream_429", "http_502", "http_503", "slow", "hang", "mid_stream_429",
               "capacity_exhausted", "free_variant_ended")
#: kind -> status code of the answer (``slow``/``hang``/``mid_stream_429`` answer 200).
FAULT_STATUS = {"upstream_429": 429, "http_502": 502, "http_503": 503, "capacity_exhausted": 429,
                "free_variant_ended": 404}
#: Defaults [inv]: an upstream 429 says "retry in 15 s" (the value seen in a 2026 capture).
DEFAULT_RETRY_AFTER_S = 15
#: The typed availability errors of 2026-08-19 [doc]: ``capacity_exhausted`` retries after the docs'
#: example 40 s by default; ``free_variant_ended`` is not retryable and only hits ``:free`` models.
DEFAULT_RETRY_AFTER_S_BY_KIND = {"upstream_429": DEFAULT_RETRY_AFTER_S,
                                 "capacity_exhausted": CAPACITY_RETRY_AFTER_S}
DEFAULT_SLOW_MS = 3_000
#: A hang holds the request until the client gives up, or this long at most.
DEFAULT_HANG_MS = 600_000
#: Upper bound for delays and Retry-After, so that a typo cannot wedge a server for days.
MAX_DELAY_MS = 3_600_000

_FIELDS = {"kind", "model", "every", "probability", "seed", "retry_after_s", "delay_ms", "times"}

# [inv] texts of the injected 502/503 (no capture of these exists).
BAD_GATEWAY_RAW = "{model}: the provider returned an invalid response (502 Bad Gateway)."
OVERLOADED_RAW = "{model} is overloaded at the provider. Please retry shortly."
#: ``error.metadata.error_type`` values from the docs' vocabulary [doc].
ERROR_TYPE_RATE_LIMIT = "rate_limit_exceeded"
ERROR_TYPE_OVERLOADED = "provider_overloaded"
ERROR_TYPE_NOT_FOUND = "not_found"


class FaultError(ValueError):
    """A fault rule that cannot be used; the message names the field."""


@dataclass(frozen=True)
class FaultRule:
    """One validated rule (see the module docstring for the schema)."""

    kind: str
    model: str = "*"
    every: int | None = None
    probability: float | None = None
    seed: int = 0
    retry_after_s: float | None = None
    delay_ms: float | None = None
    times: int | None = None

    @property
    def status(self) -> int:
        return FAULT_STATUS.get(self.kind, 200)

    def matches(self, model_id: str, stream: bool) -> bool:
        if self.kind == "mid_stream_429" and not stream:
            return False
        if self.kind == "free_variant_ended" and not is_free_model(model_id):
            return False
        return self.model == "*" or self.model == model_id or fnmatch.fnmatchcase(model_id, self.model)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def parse(cls, raw: object, index: int = 0) -> FaultRule:
        where = f"rules[{index}]"
        if not isinstance(raw, dict):
            raise FaultError(f"{where}: expected an object")
        unknown = sorted(set(raw) - _FIELDS)
        if unknown:
            raise FaultError(f"{where}: unknown field {unknown[0]!r}; allowed: {', '.join(sorted(_FIELDS))}")
        kind = raw.get("kind")
        if kind not in FAULT_KINDS:
            raise FaultError(f"{where}.kind: expected one of {', '.join(FAULT_KINDS)}, got {kind!r}")
        model = raw.get("model", "*")
        if not isinstance(model, str) or not model:
            raise FaultError(f"{where}.model: expected a model id or pattern such as '*'")
        if kind == "free_variant_ended" and not any(c in model for c in "*?[") \
                and not is_free_model(model):
            raise FaultError(f"{where}.model: free_variant_ended applies to ':free' models only, "
                             f"got {model!r}")
        every = raw.get("every")
        probability = raw.get("probability")
        if every is not None and probability is not None:
            raise FaultError(f"{where}: give 'every' or 'probability', not both")
        if every is not None and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
            raise FaultError(f"{where}.every: expected a whole number >= 1, got {every!r}")
        times = raw.get("times")
        if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
            raise FaultError(f"{where}.times: expected a whole number >= 1 (calls it answers, "
                             f"then never again), got {times!r}")
        if probability is not None:
            probability = _number(probability, f"{where}.probability", 0.0, 1.0)
        seed = raw.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise FaultError(f"{where}.seed: expected a whole number, got {seed!r}")
        if kind == "free_variant_ended" and raw.get("retry_after_s") is not None:
            raise FaultError(f"{where}.retry_after_s: free_variant_ended is not retryable")
        retry_after = raw.get("retry_after_s", DEFAULT_RETRY_AFTER_S_BY_KIND.get(kind))
        if retry_after is not None:
            retry_after = _number(retry_after, f"{where}.retry_after_s", 0.0, MAX_DELAY_MS / 1000)
        delay = raw.get("delay_ms")
        if delay is None:
            delay = {"slow": DEFAULT_SLOW_MS, "hang": DEFAULT_HANG_MS}.get(kind)
        if delay is not None:
            delay = _number(delay, f"{where}.delay_ms", 0.0, MAX_DELAY_MS)
        return cls(kind, model, every, probability, seed, retry_after, delay, times)


def _number(value: object, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise FaultError(f"{name}: expected a number, got {value!r}")
    if not low <= value <= high:
        raise FaultError(f"{name}: must be between {low:g} and {high:g}, got {value!r}")
    return float(value) if isinstance(value, float) else value


class _Active:
    __slots__ = ("rule", "count", "fired", "rng")

    def __init__(self, rule: FaultRule) -> None:
        self.rule = rule
        self.count = 0
        self.fired = 0  # calls this rule answered
        self.rng = random.Random(rule.seed)

    @property
    def spent(self) -> bool:
        return self.rule.times is not None and self.fired >= self.rule.times

    def fires(self) -> bool:
        self.count += 1
        rule = self.rule
        if rule.probability is not None:
            return self.rng.random() < rule.probability
        return self.count % (rule.every or 1) == 0


class FaultSet:
    """The active rules and their schedules (thread-safe)."""

    def __init__(self) -> None:
        self._active: list[_Active] = []
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self._active)

    @property
    def rules(self) -> list[FaultRule]:
        return [a.rule for a in self._active]

    def configure(self, body: object) -> list[FaultRule]:
        """Replace the rules from a ``{"rules": [...]}`` body; raises :class:`FaultError`."""
        if not isinstance(body, dict) or set(body) != {"rules"} or not isinstance(body["rules"], list):
            raise FaultError('body: expected {"rules": [...]} (an empty list clears them)')
        rules = [FaultRule.parse(raw, i) for i, raw in enumerate(body["rules"])]
        with self._lock:
            self._active = [_Active(r) for r in rules]
        return rules

    def clear(self) -> None:
        with self._lock:
            self._active = []

    def pick(self, model_id: str, stream: bool) -> FaultRule | None:
        """The rule that fires for this call, if any (advances every matching schedule)."""
        fired: FaultRule | None = None
        with self._lock:
            for active in self._active:
                if active.spent or not active.rule.matches(model_id, stream):
                    continue
                if active.fires() and fired is None:
                    fired = active.rule
                    active.fired += 1
        return fired
