"""The decision engine: what one request gets at one instant, and why.

Accounts hold a balance, lifetime purchases, keys and the free/paid counters. :meth:`Engine.decide`
applies the check order of section 3 of the spec to one request at an instant passed in by the
caller (Unix seconds), so simulated time (a day in a second) and wall time use the same code.

Windows: the free per-minute counter uses clock minutes (``floor(now / 60)``), the daily counter
UTC calendar days (``floor(now / 86400)``: Unix time has no leap seconds, so this is 00:00 UTC),
the paid rate one-second windows.

Counting rules (``[inv]`` where the spec leaves it open):

* every free attempt that gets past the negative-balance check counts in both the minute and the
  day counters, admitted or not ("rejected attempts count", [doc]; the minute part is [inv]);
* the paid window counts admitted paid requests only, so exactly ``rps`` pass per second;
* a 402 does not count anywhere.

Keys: each :class:`ApiKey` may carry its own spending limit (``limit_usd`` per ``daily``,
``weekly`` or ``monthly`` UTC window, or for all time). Usage is counted per key in those windows.
A key whose usage in its window has reached its limit answers 403; one whose remaining limit cannot
cover a request's maximum cost answers the affordability 402 bound to the key. A disabled or
expired key is unknown (``None``: the 401 case) [inv].

The in-flight spending budget (versions with ``in_flight_budget``): each admitted paid request holds
its estimate (:meth:`Request.estimate_pusd`) while it runs; when it ends (:meth:`Engine.complete`,
or by itself at ``now + duration_s``) the hold becomes its actual cost for ``settle_s`` seconds,
then is released by time: no timer runs, the next decision or snapshot sees it gone. The budget is
``InFlightParams.budget_usd`` of the balance. After the affordability check: an estimate above the
budget is 402 ``weight_exceeds_budget``; one that does not fit beside what is held is 402
``in_flight_budget_exhausted`` with ``Retry-After``. Free models and zero estimates are never held.

Thread and asyncio safety: each account has its own lock, and a decision (checks, counters,
balance, holds) happens entirely under it with no ``await`` inside, so concurrent requests from
threads or tasks never overdraw the balance, exceed the budget or lose a count.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from enum import Enum
from functools import cached_property, lru_cache
from typing import Any, NamedTuple

from . import policy as _policy
from .policy import (
    IN_FLIGHT_DEFAULTS,
    MESSAGES,
    InFlightParams,
    LimitSource,
    PolicyVersion,
    check_number,
    get_policy,
)

__all__ = [
    "Reason",
    "Request",
    "RateLimit",
    "Decision",
    "Hold",
    "Account",
    "ApiKey",
    "AccountSnapshot",
    "KeySnapshot",
    "Engine",
    "window_reset_s",
    "iso_ms",
    "minute_reset_ms",
    "day_reset_ms",
    "second_reset_ms",
    "new_key",
    "to_pico",
    "from_pico",
    "PICO",
    "truncate_key",
]

SECONDS_PER_DAY = 86_400
#: Money is kept in integer pico-dollars inside the engine, so that a balance spent one request at
#: a time and the same spending done in one batch agree to the last unit (floats would not), and
#: "never below zero" is exact.
PICO = 10**12


_NANO = 1000  # pico-dollars per nano-dollar
_DOLLAR_NANO = 10**9


def _rps(balance_pusd: int, version: PolicyVersion) -> int | None:
    """:func:`orwidgets.policy.paid_rps` in integer pico-dollars, for the hot path.

    Same rule (nano-dollar rounding, then 1 per dollar rounded up, floor and cap from the
    version); a property test checks it against the policy function.
    """
    if not version.paid_rps_linked:
        return None
    nano = (balance_pusd + _NANO // 2) // _NANO
    raw = -(-nano // _DOLLAR_NANO)
    if nano < version.paid_rps_min * _DOLLAR_NANO:
        return version.paid_rps_min
    return version.paid_rps_cap if raw > version.paid_rps_cap else raw


def to_pico(usd: float) -> int:
    return round(usd * PICO)


def from_pico(pusd: int) -> float:
    return pusd / PICO


class Reason(str, Enum):
    """Why a request got the status it got."""

    OK = "ok"
    FREE_PER_MINUTE = "free_per_minute"
    FREE_PER_DAY_LOW = "free_per_day_low"
    FREE_PER_DAY_HIGH = "free_per_day_high"
    PAID_RATE = "paid_rate"
    NEGATIVE_BALANCE = "negative_balance"
    AFFORDABILITY = "affordability"
    #: 2026-08 on: the in-flight spending budget cannot take this request now (transient).
    IN_FLIGHT_BUDGET = "in_flight_budget_exhausted"
    #: 2026-08 on: this request's estimate alone is larger than the whole budget (terminal).
    WEIGHT_EXCEEDS_BUDGET = "weight_exceeds_budget"
    #: The key's own spending limit is spent in its window: 403 until the window rolls.
    KEY_LIMIT = "key_limit_exceeded"
    #: The key's remaining limit cannot cover this request's maximum cost: 402.
    KEY_LIMIT_AFFORDABILITY = "key_limit_affordability"

    @property
    def status(self) -> int:
        return _STATUS[self]


_STATUS = {
    Reason.OK: 200,
    Reason.FREE_PER_MINUTE: 429,
    Reason.FREE_PER_DAY_LOW: 429,
    Reason.FREE_PER_DAY_HIGH: 429,
    Reason.PAID_RATE: 429,
    Reason.NEGATIVE_BALANCE: 402,
    Reason.AFFORDABILITY: 402,
    Reason.IN_FLIGHT_BUDGET: 402,
    Reason.WEIGHT_EXCEEDS_BUDGET: 402,
    Reason.KEY_LIMIT: 403,
    Reason.KEY_LIMIT_AFFORDABILITY: 402,
}


def minute_reset_ms(now: float) -> int:
    """Start of the next clock minute, Unix milliseconds."""
    return (math.floor(now / 60) + 1) * 60_000


def day_reset_ms(now: float) -> int:
    """Next 00:00 UTC, Unix milliseconds."""
    return (math.floor(now / SECONDS_PER_DAY) + 1) * SECONDS_PER_DAY * 1000


def second_reset_ms(now: float) -> int:
    """Start of the next second, Unix milliseconds."""
    return (math.floor(now) + 1) * 1000


def new_key() -> str:
    """A key that looks like OpenRouter's: ``sk-or-v1-`` and 64 hex digits."""
    return "sk-or-v1-" + secrets.token_hex(32)


def truncate_key(key: str) -> str:
    """How ``GET /key`` labels a key: never the whole secret (``sk-or-v1-abc...xyz``)."""
    return f"{key[:12]}...{key[-3:]}" if len(key) > 15 else "sk-or-v1-..."


# --- key limit windows ----------------------------------------------------------------------------

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _week_of_day(day: int) -> int:
    """Index of the UTC week (Monday to Sunday) holding Unix day ``day`` (1970-01-05 was a Monday)."""
    return (day + 3) // 7


@lru_cache(maxsize=512)
def _month_of_day(day: int) -> int:
    """``year * 12 + month - 1`` of Unix day ``day``."""
    d = date.fromordinal(_EPOCH_ORDINAL + day)
    return d.year * 12 + d.month - 1


def window_reset_s(limit_reset: str | None, now: float) -> float | None:
    """When the key-limit window holding ``now`` ends: the next 00:00 UTC (``daily``), Monday
    00:00 UTC (``weekly``), 1st of the month 00:00 UTC (``monthly``); ``None`` for a lifetime
    limit. [doc spec: "Resets happen automatically at midnight UTC, and weeks are Monday through
    Sunday"]"""
    day = math.floor(now / SECONDS_PER_DAY)
    if limit_reset is None:
        return None
    if limit_reset == "daily":
        return float((day + 1) * SECONDS_PER_DAY)
    if limit_reset == "weekly":
        return float(((_week_of_day(day) + 1) * 7 - 3) * SECONDS_PER_DAY)
    if limit_reset == "monthly":
        year, month = divmod(_month_of_day(day) + 1, 12)
        return float((date(year, month + 1, 1).toordinal() - _EPOCH_ORDINAL) * SECONDS_PER_DAY)
    raise ValueError(f"limit_reset: expected one of {', '.join(_policy.LIMIT_RESETS)} or None, "
                     f"got {limit_reset!r}")


def iso_ms(unix_s: float) -> str:
    """``2026-10-12T00:00:00.000Z``: how the 2026 key-limit message writes times."""
    text = datetime.fromtimestamp(unix_s, timezone.utc).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


# --- requests -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """What the engine needs to know about one chat completion request.

    ``prompt_tokens`` and ``max_tokens`` (the requested output, or the model's default maximum when
    the caller gave none) set the maximum cost the affordability check tests; ``completion_tokens``
    (at most ``max_tokens``) sets the cost actually charged. Prices are USD per token.
    ``max_tokens_given`` says whether the caller set ``max_tokens``: the in-flight estimate counts
    ``min(max_tokens, completion cap)`` when it did, the cap when it did not.
    """

    free: bool
    prompt_tokens: int = 0
    max_tokens: int = 0
    completion_tokens: int = 0
    prompt_price: float = 0.0
    completion_price: float = 0.0
    max_tokens_given: bool = True

    @classmethod
    def free_call(cls) -> Request:
        return cls(free=True)

    @classmethod
    def paid_call(cls, cost_usd: float, max_cost_usd: float | None = None) -> Request:
        """A paid call of a fixed cost; ``max_cost_usd`` (default: the cost) is its maximum cost,
        which the affordability check and the in-flight estimate use.

        Modelled as one prompt token priced at the cost and one output token priced at the
        difference, with ``max_tokens=1`` given: cost, maximum cost and estimate come out exact.
        """
        cost = check_number(cost_usd, "cost_usd")
        if cost < 0:
            raise ValueError(f"cost_usd: must be zero or more, got {cost_usd!r}")
        if max_cost_usd is None:
            return cls(free=False, max_tokens=1, completion_tokens=1, completion_price=cost)
        most = check_number(max_cost_usd, "max_cost_usd")
        if most < cost:
            raise ValueError(f"max_cost_usd: must be at least cost_usd ({cost!r}), got {max_cost_usd!r}")
        return cls(free=False, prompt_tokens=1, prompt_price=cost, max_tokens=1,
                   completion_tokens=0, completion_price=most - cost)

    @cached_property
    def max_cost_pusd(self) -> int:
        if self.free:
            return 0
        return self.prompt_tokens * to_pico(self.prompt_price) + self.max_tokens * to_pico(
            self.completion_price
        )

    @cached_property
    def cost_pusd(self) -> int:
        if self.free:
            return 0
        done = min(self.completion_tokens, self.max_tokens)
        return self.prompt_tokens * to_pico(self.prompt_price) + done * to_pico(self.completion_price)

    @property
    def max_cost_usd(self) -> float:
        return from_pico(self.max_cost_pusd)

    @property
    def cost_usd(self) -> float:
        return from_pico(self.cost_pusd)

    def estimate_pusd(self, params: InFlightParams) -> int:
        """What this request holds against the in-flight budget: prompt tokens x prompt price +
        the completion tokens :meth:`InFlightParams.estimate_tokens` counts x completion price.
        (Remembered for the last ``params``: the emulator decides the same requests again.)"""
        cached = self.__dict__.get("_estimate")
        if cached is not None and cached[0] is params:
            return cached[1]
        if self.free:
            value = 0
        else:
            tokens = params.estimate_tokens(self.max_tokens if self.max_tokens_given else None)
            value = (self.prompt_tokens * to_pico(self.prompt_price)
                     + tokens * to_pico(self.completion_price))
        self.__dict__["_estimate"] = (params, value)  # a cache, not state: the request stays frozen
        return value

    def affordable_tokens(self, balance_pusd: int) -> int:
        """Output tokens the balance can pay for after the prompt, as the 402 message says."""
        left = balance_pusd - self.prompt_tokens * to_pico(self.prompt_price)
        if left <= 0:
            return 0
        price = to_pico(self.completion_price)
        if price <= 0:
            return self.max_tokens
        return left // price


@dataclass(frozen=True, slots=True)
class RateLimit:
    """The three ``X-RateLimit-*`` values of a 429 (reset in Unix milliseconds)."""

    limit: int
    remaining: int
    reset_ms: int

    def headers(self) -> dict[str, str]:
        """As HTTP headers and as ``error.metadata.headers``: strings."""
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_ms),
        }


class Hold:
    """An admitted paid request (or a batch of identical ones) from admission until it ends.

    ``counted``: whether it is held against the in-flight budget (versions with one, and only
    when its estimate is above zero). ``ends_at``: when it ends by itself (the simulation knows
    each request's duration); ``None``: it runs until :meth:`Engine.complete`.
    """

    __slots__ = ("account", "key", "count", "estimate_pusd", "cost_pusd", "counted", "ends_at",
                 "active")

    def __init__(self, account: Account, key: ApiKey | None, count: int, estimate_pusd: int,
                 cost_pusd: int, counted: bool, ends_at: float | None) -> None:
        self.account = account
        self.key = key
        self.count = count
        self.estimate_pusd = estimate_pusd
        self.cost_pusd = cost_pusd
        self.counted = counted
        self.ends_at = ends_at
        self.active = True

    def __lt__(self, other: Hold) -> bool:  # heap ties on ends_at
        return id(self) < id(other)

    def __repr__(self) -> str:
        return (f"Hold(account_id={self.account.account_id!r}, count={self.count}, "
                f"estimate_usd={from_pico(self.estimate_pusd)!r}, cost_usd={from_pico(self.cost_pusd)!r}, "
                f"counted={self.counted}, active={self.active})")


class Decision(NamedTuple):
    """The engine's answer for one request (immutable: a named tuple, the cheapest to build on
    the hot path).

    ``hold`` is set for an admitted paid request: pass it to :meth:`Engine.complete` when the
    request ends (the emulator does; callers that give ``duration_s`` need not).
    ``retry_after_s`` is the ``Retry-After`` of an in-flight 402. ``typed`` says whether the
    version sends the 2026 402 bodies (``limit_source``, ``remedy_hint``, ...), and
    ``key_limit_metadata`` whether a key-limit 403 carries ``limit_source``.
    """

    status: int
    reason: Reason
    message: str | None
    rate_limit: RateLimit | None
    limit_source: str | None
    remedy_hint: str | None
    cost_usd: float
    balance_usd: float
    free_used_today: int
    free_daily_limit: int
    free_used_this_minute: int
    paid_rps: int | None
    now: float
    hold: Hold | None = None
    retry_after_s: int | None = None
    typed: bool = False
    key_limit_metadata: bool = False

    @property
    def ok(self) -> bool:
        return self.status == 200

    def headers(self) -> dict[str, str]:
        """HTTP headers for the answer: ``X-RateLimit-*`` on 429s, ``Retry-After`` on the in-flight
        402; none on success."""
        if self.rate_limit is not None:
            return self.rate_limit.headers()
        if self.retry_after_s is not None:
            return {"Retry-After": str(self.retry_after_s)}
        return {}

    def error_body(self, user_id: str) -> dict[str, Any]:
        """OpenRouter's error JSON for this decision (``error.code`` equals the status).

        Metadata keys come in the order of the captures they follow (openrouter-2026.md §1.3,
        §2.2, §2.3). Where the 2026 bodies go beyond the captures the choice is ours [inv]:
        ``provider_name: null`` on every typed 402 (captured on the affordability ones),
        ``previous_errors`` only on the affordability 402s (captured there, one entry per attempt;
        the emulator makes one), the ``remedy_hint`` of ``weight_exceeds_budget`` (not captured:
        the credits hint), and the top-level ``user_id`` on every answer.
        """
        if self.ok:
            raise ValueError("error_body: a successful decision has no error body")
        error: dict[str, Any] = {"code": self.status, "message": self.message}
        reason = self.reason
        metadata: dict[str, Any] | None = None
        if self.rate_limit is not None:
            metadata = {"headers": self.rate_limit.headers(), "limit_source": self.limit_source,
                        "remedy_hint": self.remedy_hint, "provider_name": None}
        elif reason is Reason.KEY_LIMIT:
            if self.key_limit_metadata:
                metadata = {"limit_source": self.limit_source}
        elif not self.typed:
            # before 2026: the negative-balance 402 is bare, the affordability ones say only this
            if reason is not Reason.NEGATIVE_BALANCE:
                metadata = {"provider_name": None}
        elif reason in (Reason.IN_FLIGHT_BUDGET, Reason.WEIGHT_EXCEEDS_BUDGET):
            metadata = {"reason": reason.value, "limit_source": self.limit_source,
                        "remedy_hint": self.remedy_hint}
            if self.retry_after_s is not None:
                metadata["headers"] = {"Retry-After": str(self.retry_after_s)}
            metadata["provider_name"] = None
        else:
            metadata = {"limit_source": self.limit_source, "remedy_hint": self.remedy_hint,
                        "provider_name": None}
            if reason is not Reason.NEGATIVE_BALANCE:
                metadata["previous_errors"] = [{"code": self.status, "message": self.message}]
        if metadata is not None:
            error["metadata"] = metadata
        return {"error": error, "user_id": user_id}


# --- accounts and keys ----------------------------------------------------------------------------


@dataclass(eq=False)
class Account:
    """One OpenRouter account. Mutate it only through :class:`Engine`, which holds its lock.

    The in-flight bookkeeping: ``running_pusd`` is the sum of the estimates of counted holds still
    running (``running_cost_pusd`` what they were charged, ``running_count`` how many);
    ``settling`` a heap of ``(until, amount)`` actual costs of finished requests, summed in
    ``settling_pusd``; ``ending`` a heap of ``(ends_at, hold)`` for holds that end by themselves.
    """

    account_id: str
    user_id: str
    balance_pusd: int = 0
    purchased_pusd: int = 0
    management: bool = False
    api_keys: list[ApiKey] = field(default_factory=list)
    label: str = ""
    usage_pusd: int = 0
    minute_window: int = -1
    minute_count: int = 0
    day_window: int = -1
    day_count: int = 0
    second_window: int = -1
    second_count: int = 0
    usage_day_window: int = -1
    usage_daily_pusd: int = 0
    running_pusd: int = 0
    running_cost_pusd: int = 0
    running_count: int = 0
    settling: list[tuple[float, int]] = field(default_factory=list, repr=False)
    settling_pusd: int = 0
    ending: list[tuple[float, Hold]] = field(default_factory=list, repr=False)
    quota_cache: tuple[int, PolicyVersion, int] | None = field(default=None, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def keys(self) -> list[str]:
        """The account's keys (secrets), oldest first."""
        return [k.secret for k in self.api_keys]

    @property
    def balance_usd(self) -> float:
        return from_pico(self.balance_pusd)

    @property
    def purchased_usd(self) -> float:
        return from_pico(self.purchased_pusd)

    @property
    def usage_usd(self) -> float:
        return from_pico(self.usage_pusd)

    @property
    def usage_daily_usd(self) -> float:
        return from_pico(self.usage_daily_pusd)

    @property
    def held_pusd(self) -> int:
        """What the in-flight budget holds now (running estimates + settling actual costs)."""
        return self.running_pusd + self.settling_pusd

    def __repr__(self) -> str:
        # Keys are secrets: show how many, never which.
        return (
            f"Account(account_id={self.account_id!r}, balance_usd={self.balance_usd!r}, "
            f"purchased_usd={self.purchased_usd!r}, management={self.management!r}, "
            f"keys=<{len(self.api_keys)} hidden>)"
        )


@dataclass(eq=False)
class ApiKey:
    """One API key of an account: its secret, its own spending limit and its usage windows.

    Usage is counted per key in UTC windows: the day (from 00:00), the week (from Monday 00:00),
    the calendar month, and all time. The limit compares against the window ``limit_reset``
    names (all time when ``None``). Mutate it only through :class:`Engine` (the account's lock).
    """

    secret: str = field(repr=False)
    hash: str
    account: Account = field(repr=False)
    name: str = ""
    management: bool = False
    limit_pusd: int | None = None
    limit_reset: str | None = None
    include_byok_in_limit: bool = False
    expires_at: float | None = None
    disabled: bool = False
    created_at: float = 0.0
    updated_at: float | None = None
    creator_user_id: str | None = None
    usage_pusd: int = 0
    day: int = -1
    week: int = -1
    month: int = -1
    usage_day_pusd: int = 0
    usage_week_pusd: int = 0
    usage_month_pusd: int = 0

    @property
    def label(self) -> str:
        return truncate_key(self.secret)

    def usable(self, now: float) -> bool:
        """Neither disabled nor expired at ``now``."""
        return not self.disabled and (self.expires_at is None or now < self.expires_at)

    def _roll(self, now: float) -> None:
        day = math.floor(now / SECONDS_PER_DAY)
        if day == self.day:
            return
        self.day, self.usage_day_pusd = day, 0
        week, month = _week_of_day(day), _month_of_day(day)
        if week != self.week:
            self.week, self.usage_week_pusd = week, 0
        if month != self.month:
            self.month, self.usage_month_pusd = month, 0

    def _charge(self, pusd: int) -> None:
        self.usage_pusd += pusd
        self.usage_day_pusd += pusd
        self.usage_week_pusd += pusd
        self.usage_month_pusd += pusd

    def _refund(self, pusd: int) -> None:
        self.usage_pusd -= pusd
        self.usage_day_pusd = max(0, self.usage_day_pusd - pusd)
        self.usage_week_pusd = max(0, self.usage_week_pusd - pusd)
        self.usage_month_pusd = max(0, self.usage_month_pusd - pusd)

    def _window_usage(self) -> int:
        """Usage in the window of the limit (rolled by the caller)."""
        reset = self.limit_reset
        if reset is None:
            return self.usage_pusd
        if reset == "daily":
            return self.usage_day_pusd
        if reset == "weekly":
            return self.usage_week_pusd
        return self.usage_month_pusd

    def __repr__(self) -> str:
        return (f"ApiKey(label={self.label!r}, account_id={self.account.account_id!r}, "
                f"name={self.name!r}, limit_usd={_usd(self.limit_pusd)!r}, "
                f"limit_reset={self.limit_reset!r}, disabled={self.disabled!r})")


def _usd(pusd: int | None) -> float | None:
    return None if pusd is None else from_pico(pusd)


@dataclass(frozen=True)
class KeySnapshot:
    """A key's state at one instant, windows rolled to ``now`` (what ``/key`` and ``/keys`` show)."""

    hash: str
    name: str
    label: str
    management: bool
    disabled: bool
    limit_usd: float | None
    limit_reset: str | None
    limit_remaining_usd: float | None
    include_byok_in_limit: bool
    usage_usd: float
    usage_daily_usd: float
    usage_weekly_usd: float
    usage_monthly_usd: float
    expires_at: float | None
    created_at: float
    updated_at: float | None
    creator_user_id: str | None
    resets_at: float | None
    account_id: str
    now: float


@dataclass(frozen=True)
class AccountSnapshot:
    """A consistent copy of an account's state at one instant (counters rolled to ``now``).

    ``in_flight_budget_usd`` is the budget the balance gives under a version with one (``None``:
    no such version, or the balance is at or above the threshold); ``held_usd`` what it holds
    (``running_usd`` of requests still running, ``settling_usd`` of finished ones).
    """

    account_id: str
    user_id: str
    label: str
    balance_usd: float
    purchased_usd: float
    usage_usd: float
    usage_daily_usd: float
    management: bool
    key_count: int
    free_used_today: int
    free_daily_limit: int
    free_used_this_minute: int
    paid_in_this_second: int
    paid_rps: int | None
    now: float
    in_flight_budget_usd: float | None = None
    held_usd: float = 0.0
    running_usd: float = 0.0
    settling_usd: float = 0.0
    running_requests: int = 0

    @property
    def free_remaining_today(self) -> int:
        return max(0, self.free_daily_limit - self.free_used_today)

    @property
    def day_reset_ms(self) -> int:
        return day_reset_ms(self.now)


def _roll(acct: Account, now: float) -> None:
    minute = math.floor(now / 60)
    if minute != acct.minute_window:
        acct.minute_window, acct.minute_count = minute, 0
    day = math.floor(now / SECONDS_PER_DAY)
    if day != acct.day_window:
        acct.day_window, acct.day_count = day, 0
    if day != acct.usage_day_window:
        acct.usage_day_window, acct.usage_daily_pusd = day, 0
    second = math.floor(now)
    if second != acct.second_window:
        acct.second_window, acct.second_count = second, 0


def _quota(acct: Account, version: PolicyVersion) -> int:
    """The account's free daily quota, remembered while purchases and version stay the same."""
    cached = acct.quota_cache
    if cached is not None and cached[0] == acct.purchased_pusd and cached[1] is version:
        return cached[2]
    quota = _policy._quota(acct.purchased_pusd / PICO, version)
    acct.quota_cache = (acct.purchased_pusd, version, quota)
    return quota


_KEY_FIELDS = ("name", "limit_usd", "limit_reset", "include_byok_in_limit", "expires_at",
               "disabled", "creator_user_id")


def _key_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Validated key fields (engine units); ``ValueError`` naming the field."""
    unknown = sorted(set(changes) - set(_KEY_FIELDS))
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}; allowed: {', '.join(_KEY_FIELDS)}")
    out: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "name":
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"name: expected a non-empty string, got {value!r}")
            out["name"] = value
        elif name == "limit_usd":
            if value is None:
                out["limit_pusd"] = None
            else:
                limit = check_number(value, "limit")
                if not 0 <= limit <= _MAX_USD:
                    raise ValueError(f"limit: must be between 0 and {_MAX_USD:,.0f}, got {value!r}")
                out["limit_pusd"] = to_pico(limit)
        elif name == "limit_reset":
            if value is not None and value not in _policy.LIMIT_RESETS:
                raise ValueError(f"limit_reset: expected one of {', '.join(_policy.LIMIT_RESETS)} "
                                 f"or null, got {value!r}")
            out["limit_reset"] = value
        elif name in ("include_byok_in_limit", "disabled"):
            if not isinstance(value, bool):
                raise ValueError(f"{name}: expected true or false, got {value!r}")
            out[name] = value
        elif name == "expires_at":
            out["expires_at"] = None if value is None else check_number(value, "expires_at")
        elif name == "creator_user_id":
            if value is not None and (not isinstance(value, str) or not value):
                raise ValueError(f"creator_user_id: expected a non-empty string or null, got {value!r}")
            out["creator_user_id"] = value
    return out


#: The largest amount of money the engine accepts anywhere (a pico-dollar sum stays exact far
#: beyond it); larger values are refused with a clear error instead of overflowing.
_MAX_USD = 1e12


class Engine:
    """Accounts, keys and decisions under one policy version.

    Parameters
    ----------
    policy:
        A version id or :class:`~orwidgets.policy.PolicyVersion` (default: the article's).
    clock:
        Callable returning Unix seconds, used only when a call does not pass ``now``.
    in_flight:
        The in-flight budget's numbers (:data:`~orwidgets.policy.IN_FLIGHT_DEFAULTS`); they apply
        under versions with ``in_flight_budget``. Settable at run time (:attr:`in_flight`).
    """

    def __init__(
        self,
        policy: str | PolicyVersion | None = None,
        clock: Callable[[], float] | None = None,
        in_flight: InFlightParams | None = None,
    ) -> None:
        self._policy = get_policy(policy)
        self._clock = clock
        self._accounts: dict[str, Account] = {}
        self._by_key: dict[str, ApiKey] = {}
        self._by_hash: dict[str, ApiKey] = {}
        self._registry_lock = threading.Lock()
        self._seq = 0
        self.in_flight = in_flight if in_flight is not None else IN_FLIGHT_DEFAULTS

    def __repr__(self) -> str:
        return f"Engine(policy={self._policy.id!r}, accounts={len(self._accounts)})"

    # -- policy, clock and the in-flight numbers -----------------------------------------------

    @property
    def policy(self) -> PolicyVersion:
        return self._policy

    @policy.setter
    def policy(self, value: str | PolicyVersion) -> None:
        self._policy = get_policy(value)

    @property
    def in_flight(self) -> InFlightParams:
        return self._in_flight

    @in_flight.setter
    def in_flight(self, value: InFlightParams) -> None:
        if not isinstance(value, InFlightParams):
            raise ValueError(f"in_flight: expected InFlightParams, got {value!r}")
        self._in_flight = value
        # pico-dollar forms for the hot path (the budget is floor(fraction x balance))
        self._if_threshold = to_pico(value.threshold_usd)
        self._if_ceiling = to_pico(value.ceiling_usd)
        self._if_fraction = value.fraction

    def _budget_pusd(self, acct: Account) -> int | None:
        """The in-flight budget of the account's balance as OpenRouter's books show it (the
        emulator charges at admission, so what running requests were charged is added back
        [inv]); ``None`` at or above the threshold."""
        books = acct.balance_pusd + acct.running_cost_pusd
        if books >= self._if_threshold:
            return None
        if books <= 0:
            return 0
        budget = int(books * self._if_fraction)
        return budget if budget < self._if_ceiling else self._if_ceiling

    def _now(self, now: float | None) -> float:
        if now is None:
            if self._clock is None:
                raise ValueError("now: no time given and the engine has no clock")
            now = self._clock()
        if type(now) is float and now - now == 0.0:  # the common case: a finite float
            return now
        return check_number(now, "now")

    # -- accounts ------------------------------------------------------------------------------

    def create_account(
        self,
        balance_usd: float = 0.0,
        purchased_usd: float = 0.0,
        management: bool = False,
        *,
        account_id: str | None = None,
        label: str = "",
        key: str | None = None,
    ) -> tuple[Account, str]:
        """Create an account with one key (a management key when ``management``); returns the
        account and its key."""
        balance = _money(balance_usd, "balance_usd")
        purchased = _money(purchased_usd, "purchased_usd")
        if purchased < 0:
            raise ValueError(f"purchased_usd: must be zero or more, got {purchased_usd!r}")
        if not isinstance(management, bool):
            raise ValueError(f"management: expected True or False, got {management!r}")
        with self._registry_lock:
            self._seq += 1
            acct_id = account_id or f"acct_{self._seq:04d}"
            if acct_id in self._accounts:
                raise ValueError(f"account_id: {acct_id!r} exists already")
            acct = Account(
                account_id=acct_id,
                user_id=f"user_{secrets.token_hex(12)}",
                balance_pusd=to_pico(balance),
                purchased_pusd=to_pico(purchased),
                management=management,
                label=label,
            )
            self._accounts[acct_id] = acct
            made = self._add_key_locked(acct, key, management=management, name=label,
                                        created_at=self._clock() if self._clock else 0.0)
        return acct, made.secret

    def _add_key_locked(self, acct: Account, secret: str | None, **fields: Any) -> ApiKey:
        secret = secret or new_key()
        if secret in self._by_key:
            raise ValueError("key: this key belongs to an account already")
        fields.setdefault("creator_user_id", acct.user_id)
        made = ApiKey(secret=secret, hash=hashlib.sha256(secret.encode()).hexdigest(),
                      account=acct, **fields)
        acct.api_keys.append(made)
        self._by_key[secret] = made
        self._by_hash[made.hash] = made
        return made

    def add_key(self, account_id: str) -> str:
        """Another key on the same account: limits stay account-wide."""
        return self.create_key(account_id).secret

    def create_key(self, account_id: str, *, now: float | None = None, secret: str | None = None,
                   management: bool = False, **fields: Any) -> ApiKey:
        """A new key on an account, with any of ``name``, ``limit_usd``, ``limit_reset``
        (``daily``/``weekly``/``monthly``/``None``), ``include_byok_in_limit``, ``expires_at``
        (Unix seconds), ``disabled``, ``creator_user_id``; ``ValueError`` names a bad field."""
        acct = self.account(account_id)
        changes = _key_changes(fields)
        t = self._now(now) if (now is not None or self._clock is not None) else 0.0
        with self._registry_lock:
            return self._add_key_locked(acct, secret, management=management, created_at=t,
                                        **changes)

    def update_key(self, key: ApiKey, *, now: float | None = None, **fields: Any) -> ApiKey:
        """Change a key's fields (as :meth:`create_key` names them); sets ``updated_at``."""
        changes = _key_changes(fields)
        t = self._now(now)
        with key.account.lock:
            for name, value in changes.items():
                setattr(key, name, value)
            key.updated_at = t
        return key

    def delete_key(self, key: ApiKey) -> None:
        """Remove a key: it answers 401 from now on."""
        with self._registry_lock:
            if self._by_key.get(key.secret) is key:
                del self._by_key[key.secret]
                del self._by_hash[key.hash]
                with key.account.lock:
                    key.account.api_keys.remove(key)

    def key(self, secret: str) -> ApiKey | None:
        """The key with this secret, whatever its state (``None``: unknown)."""
        return self._by_key.get(secret)

    def key_by_hash(self, key_hash: str) -> ApiKey | None:
        return self._by_hash.get(key_hash)

    def authenticate(self, secret: str, now: float | None = None) -> ApiKey | None:
        """The key if it may be used at ``now``; ``None`` when unknown, disabled or expired."""
        k = self._by_key.get(secret)
        if k is None or not k.usable(self._now(now)):
            return None
        return k

    def key_snapshot(self, key: ApiKey, now: float | None = None) -> KeySnapshot:
        t = self._now(now)
        with key.account.lock:
            key._roll(t)
            used = key._window_usage()
            limit = key.limit_pusd
            return KeySnapshot(
                hash=key.hash, name=key.name, label=key.label, management=key.management,
                disabled=key.disabled, limit_usd=_usd(limit), limit_reset=key.limit_reset,
                limit_remaining_usd=None if limit is None else from_pico(limit - used),
                include_byok_in_limit=key.include_byok_in_limit,
                usage_usd=from_pico(key.usage_pusd), usage_daily_usd=from_pico(key.usage_day_pusd),
                usage_weekly_usd=from_pico(key.usage_week_pusd),
                usage_monthly_usd=from_pico(key.usage_month_pusd),
                expires_at=key.expires_at, created_at=key.created_at, updated_at=key.updated_at,
                creator_user_id=key.creator_user_id,
                resets_at=window_reset_s(key.limit_reset, t) if limit is not None else None,
                account_id=key.account.account_id, now=t,
            )

    def account(self, account_id: str) -> Account:
        try:
            return self._accounts[account_id]
        except KeyError:
            raise KeyError(f"account_id: no account {account_id!r}") from None

    def account_for_key(self, key: str) -> Account | None:
        k = self._by_key.get(key)
        return None if k is None else k.account

    def accounts(self) -> list[Account]:
        return list(self._accounts.values())

    def set_account(
        self,
        account_id: str,
        *,
        balance_usd: float | None = None,
        purchased_usd: float | None = None,
    ) -> Account:
        acct = self.account(account_id)
        balance = None if balance_usd is None else _money(balance_usd, "balance_usd")
        purchased = None if purchased_usd is None else _money(purchased_usd, "purchased_usd")
        if purchased is not None and purchased < 0:
            raise ValueError(f"purchased_usd: must be zero or more, got {purchased_usd!r}")
        with acct.lock:
            if balance is not None:
                acct.balance_pusd = to_pico(balance)
            if purchased is not None:
                acct.purchased_pusd = to_pico(purchased)
        return acct

    def topup(self, account_id: str, usd: float) -> Account:
        """Buy credits: adds to both the balance and lifetime purchases."""
        amount = _money(usd, "usd")
        if amount <= 0:
            raise ValueError(f"usd: a top-up must be more than zero, got {usd!r}")
        acct = self.account(account_id)
        with acct.lock:
            acct.balance_pusd += to_pico(amount)
            acct.purchased_pusd += to_pico(amount)
        return acct

    def refund(self, account_id: str, usd: float, key: ApiKey | None = None) -> Account:
        """Give back what an admitted request was charged when it failed afterwards (an upstream
        error or a mid-stream failure): balance up, usage (and the key's) down. Takes the decision
        lock, so a refund never races a decision. :meth:`complete` with ``failed=True`` does this
        for a request with a hold."""
        amount = _money(usd, "usd")
        if amount < 0:
            raise ValueError(f"usd: a refund must be zero or more, got {usd!r}")
        acct = self.account(account_id)
        with acct.lock:
            self._refund_locked(acct, key, to_pico(amount))
        return acct

    @staticmethod
    def _refund_locked(acct: Account, key: ApiKey | None, pusd: int) -> None:
        acct.balance_pusd += pusd
        acct.usage_pusd -= pusd
        acct.usage_daily_pusd = max(0, acct.usage_daily_pusd - pusd)
        if key is not None:
            key._refund(pusd)

    def spend(self, key: ApiKey, usd: float, now: float | None = None) -> None:
        """Record spending on a key as if admitted requests had cost ``usd`` (no checks): the
        account's balance and usage and the key's windows move. For demo accounts and tests."""
        amount = _money(usd, "usd")
        if amount < 0:
            raise ValueError(f"usd: must be zero or more, got {usd!r}")
        t = self._now(now)
        pusd = to_pico(amount)
        acct = key.account
        with acct.lock:
            _roll(acct, t)
            key._roll(t)
            acct.balance_pusd -= pusd
            acct.usage_pusd += pusd
            acct.usage_daily_pusd += pusd
            key._charge(pusd)

    def snapshot(self, account_id: str, now: float | None = None) -> AccountSnapshot:
        t = self._now(now)
        acct = self.account(account_id)
        version = self._policy
        with acct.lock:
            self._roll_locked(acct, t)
            budget = self._budget_pusd(acct) if version.in_flight_budget else None
            return AccountSnapshot(
                account_id=acct.account_id,
                user_id=acct.user_id,
                label=acct.label,
                balance_usd=acct.balance_usd,
                purchased_usd=acct.purchased_usd,
                usage_usd=acct.usage_usd,
                usage_daily_usd=acct.usage_daily_usd,
                management=acct.management,
                key_count=len(acct.api_keys),
                free_used_today=acct.day_count,
                free_daily_limit=_policy.daily_free_quota(acct.purchased_usd, version),
                free_used_this_minute=acct.minute_count,
                paid_in_this_second=acct.second_count,
                paid_rps=_rps(acct.balance_pusd, version),
                now=t,
                in_flight_budget_usd=_usd(budget),
                held_usd=from_pico(acct.held_pusd),
                running_usd=from_pico(acct.running_pusd),
                settling_usd=from_pico(acct.settling_pusd),
                running_requests=acct.running_count,
            )

    # -- holds ---------------------------------------------------------------------------------

    def _roll_locked(self, acct: Account, now: float) -> None:
        """Roll the counters to ``now``; end the holds whose time is up, release settled costs."""
        _roll(acct, now)
        if not (acct.ending or acct.settling):
            return
        ending = acct.ending
        while ending and ending[0][0] < now:
            ends_at, hold = heapq.heappop(ending)
            self._complete_locked(acct, hold, ends_at, False)
        settling = acct.settling
        while settling and settling[0][0] <= now:
            acct.settling_pusd -= heapq.heappop(settling)[1]

    def complete(self, hold: Hold, now: float | None = None, *, failed: bool = False) -> bool:
        """End a request that held budget (idempotent: ``False`` if it had ended already).

        Its estimate is released; its actual cost stays held for ``settle_s`` seconds from ``now``
        (then it is released by time: no timer runs). ``failed=True``: the request delivered
        nothing, so its charge is refunded and nothing settles [inv: a failed request costs
        nothing in the emulator].
        """
        if not (hold.counted or failed):  # nothing shared changes: no lock needed
            was, hold.active = hold.active, False
            return was
        t = self._now(now)
        acct = hold.account
        with acct.lock:
            return self._complete_locked(acct, hold, t, failed)

    def _complete_locked(self, acct: Account, hold: Hold, t: float, failed: bool) -> bool:
        if not hold.active:
            return False
        hold.active = False
        cost = hold.cost_pusd
        if hold.counted:
            acct.running_pusd -= hold.estimate_pusd
            acct.running_cost_pusd -= cost
            acct.running_count -= hold.count
        if failed:
            if cost:
                if hold.key is not None:
                    hold.key._roll(t)
                self._refund_locked(acct, hold.key, cost)
        elif hold.counted and cost > 0:
            settle_s = self._in_flight.settle_s
            if settle_s > 0:
                heapq.heappush(acct.settling, (t + settle_s, cost))
                acct.settling_pusd += cost
        return True

    # -- decisions -----------------------------------------------------------------------------

    def decide(self, account_id: str, request: Request, now: float | None = None, *,
               duration_s: float | None = 0.0) -> Decision:
        """Decide one request at ``now`` (Unix seconds) and apply its effects atomically.

        ``duration_s``: how long an admitted paid request runs (it ends by itself then; 0: it
        ends at ``now``, after the other decisions of the same instant). ``None``: it runs until
        :meth:`complete` is called with ``decision.hold``.
        """
        t = self._now(now)
        acct = self.account(account_id)
        with acct.lock:
            return self._decide_locked(acct, request, t, None, duration_s)

    def decide_for_key(self, key: str | ApiKey, request: Request, now: float | None = None, *,
                       duration_s: float | None = 0.0) -> Decision | None:
        """As :meth:`decide`, by API key (its secret, or the :class:`ApiKey`), with the key's own
        limit; ``None`` for an unknown, disabled or expired key (the 401 case)."""
        k = key if isinstance(key, ApiKey) else self._by_key.get(key)
        if k is None:
            return None
        t = self._now(now)
        if not k.usable(t):
            return None
        acct = k.account
        with acct.lock:
            return self._decide_locked(acct, request, t, k, duration_s)

    def _decide_locked(self, acct: Account, req: Request, now: float, key: ApiKey | None,
                       duration_s: float | None) -> Decision:
        version = self._policy
        self._roll_locked(acct, now)
        quota = _quota(acct, version)
        reason, message, rate, source, hint, cost = Reason.OK, None, None, None, None, 0
        hold = retry_after = None
        if key is not None and key.limit_pusd is not None:
            key._roll(now)
            spent = key._window_usage() >= key.limit_pusd
        else:
            spent = False

        if spent:
            # 1. [inv] A key whose limit is spent answers 403 on every model, first among the
            # engine's checks (it is about the key the request came with; reference §2.2).
            reason, message = Reason.KEY_LIMIT, self._key_limit_message(key, now)  # type: ignore[arg-type]
            source = LimitSource.KEY_LIMIT.value
        elif acct.balance_pusd < 0:
            # 2. A negative balance blocks every model, free ones included.
            reason, message = Reason.NEGATIVE_BALANCE, MESSAGES.negative_balance
            source, hint = LimitSource.CREDITS.value, MESSAGES.remedy_credits
        elif req.free:
            # 3. Per-minute, then per-day; the attempt counts either way.
            minute_before, day_before = acct.minute_count, acct.day_count
            acct.minute_count += 1
            acct.day_count += 1
            if minute_before >= version.free_per_minute:
                reason, message = Reason.FREE_PER_MINUTE, MESSAGES.free_per_minute
                rate = RateLimit(version.free_per_minute, 0, minute_reset_ms(now))
                source, hint = LimitSource.FREE_PER_MINUTE.value, MESSAGES.remedy_per_minute
            elif day_before >= quota:
                high = version.has_topup_tier and quota == version.free_daily_high
                reason = Reason.FREE_PER_DAY_HIGH if high else Reason.FREE_PER_DAY_LOW
                message = _policy.free_per_day_message(acct.purchased_usd, version)
                rate = RateLimit(quota, 0, day_reset_ms(now))
                source = LimitSource.FREE_DAILY.value
                hint = MESSAGES.remedy_per_day_high if high else MESSAGES.remedy_per_day_low
        else:
            counted = version.in_flight_budget
            estimate = req.estimate_pusd(self._in_flight) if counted else 0
            counted = counted and estimate > 0
            reason = self._paid_reason(acct, key, req, estimate, 0)
            if reason is Reason.OK:
                # 6. Success: charge what it cost; cost <= max cost <= balance: never below zero.
                cost = req.cost_pusd
                hold = self._admit_locked(acct, key, req, 1, estimate, counted, now, duration_s)
            elif reason is Reason.PAID_RATE:
                rps = _rps(acct.balance_pusd, version)
                message = MESSAGES.paid_rate
                rate = RateLimit(rps, 0, second_reset_ms(now))  # type: ignore[arg-type]
                source, hint = LimitSource.PAID_RATE.value, MESSAGES.remedy_paid_rate
            elif reason is Reason.AFFORDABILITY:
                message = _policy.affordability_message(
                    max(req.max_tokens, self._estimate_tokens(req) if counted else 0),
                    req.affordable_tokens(acct.balance_pusd),
                )
                source, hint = LimitSource.CREDITS.value, MESSAGES.remedy_credits
            elif reason is Reason.KEY_LIMIT_AFFORDABILITY:
                assert key is not None and key.limit_pusd is not None
                message = _policy.key_affordability_message(
                    version.key_limit_form, req.max_tokens,
                    req.affordable_tokens(key.limit_pusd - key._window_usage()),
                    key.limit_reset, key.hash,
                )
                source, hint = LimitSource.KEY_LIMIT.value, MESSAGES.remedy_key_limit
            elif reason is Reason.WEIGHT_EXCEEDS_BUDGET:
                message = MESSAGES.weight_exceeds_budget
                source, hint = LimitSource.CREDITS.value, MESSAGES.remedy_credits
            else:  # IN_FLIGHT_BUDGET
                message = MESSAGES.in_flight
                source, hint = LimitSource.IN_FLIGHT.value, MESSAGES.remedy_in_flight
                retry_after = self._in_flight.retry_after_s
        typed = version.credit_402_metadata
        if reason.status == 402 and not typed:
            source = hint = None  # before 2026 no 402 carried limit_source or remedy_hint
        elif reason is Reason.KEY_LIMIT and version.key_limit_form != "2026-10":
            source = None
        return Decision(
            status=_STATUS[reason], reason=reason, message=message, rate_limit=rate,
            limit_source=source, remedy_hint=hint, cost_usd=cost / PICO,
            balance_usd=acct.balance_pusd / PICO, free_used_today=acct.day_count,
            free_daily_limit=quota, free_used_this_minute=acct.minute_count,
            paid_rps=_rps(acct.balance_pusd, version), now=now, hold=hold,
            retry_after_s=retry_after, typed=typed,
            key_limit_metadata=version.key_limit_form == "2026-10",
        )

    def _estimate_tokens(self, req: Request) -> int:
        return self._in_flight.estimate_tokens(req.max_tokens if req.max_tokens_given else None)

    def _key_limit_message(self, key: ApiKey, now: float) -> str:
        resets = window_reset_s(key.limit_reset, now)
        return _policy.key_limit_message(
            self._policy.key_limit_form, key.limit_reset,
            used_usd=from_pico(key._window_usage()), limit_usd=_usd(key.limit_pusd),
            resets_at=iso_ms(resets) if resets is not None else None, key_hash=key.hash,
        )

    def _paid_reason(self, acct: Account, key: ApiKey | None, req: Request, estimate: int,
                     j: int) -> Reason:
        """Steps 4-5 and the in-flight checks for the ``j``-th of a run of identical paid requests
        decided at one instant (``j`` earlier ones admitted), from the state before the run.

        Every condition only gets harder as ``j`` grows, so the admitted ones are a prefix of the
        run (what :meth:`decide_batch` relies on).
        """
        version = self._policy
        cost = req.cost_pusd
        balance = acct.balance_pusd - j * cost
        rps = _rps(balance, version)
        if rps is not None and acct.second_count + j >= rps:
            # 4. Paid request rate, where the version links it to the balance.
            return Reason.PAID_RATE
        # 5. What the request may cost at most against what pays for it. [inv] Where the key's
        # remaining limit is smaller than the balance, the key is what binds; and the in-flight
        # estimate counts here too (it can exceed the maximum when the cap is above the model's).
        need = req.max_cost_pusd
        if estimate > need:
            need = estimate
        if key is not None and key.limit_pusd is not None:
            remaining = key.limit_pusd - key._window_usage() - j * cost
            if remaining < balance and need > remaining:
                return Reason.KEY_LIMIT_AFFORDABILITY
        if need > balance or balance <= 0:
            return Reason.AFFORDABILITY
        if estimate > 0 and version.in_flight_budget:
            # The in-flight budget: the books balance (see _budget_pusd) does not change within
            # the run, since each admitted request's charge is added back while it runs.
            budget = self._budget_pusd(acct)
            if budget is not None:
                if estimate > budget:
                    return Reason.WEIGHT_EXCEEDS_BUDGET
                if acct.running_pusd + acct.settling_pusd + (j + 1) * estimate > budget:
                    return Reason.IN_FLIGHT_BUDGET
        return Reason.OK

    def _admit_locked(self, acct: Account, key: ApiKey | None, req: Request, count: int,
                      estimate: int, counted: bool, now: float,
                      duration_s: float | None) -> Hold:
        """Charge ``count`` admitted paid requests and hold them (``estimate`` each)."""
        total = req.cost_pusd * count
        acct.balance_pusd -= total
        acct.usage_pusd += total
        acct.usage_daily_pusd += total
        acct.second_count += count
        if key is not None:
            key._roll(now)
            key._charge(total)
        if duration_s is None:
            ends_at = None
        elif duration_s == 0.0:
            ends_at = now
        else:
            ends_at = now + _duration(duration_s)
        hold = Hold(acct, key, count, estimate * count, total, counted, ends_at)
        if counted:
            acct.running_pusd += hold.estimate_pusd
            acct.running_cost_pusd += total
            acct.running_count += count
            if ends_at is not None:
                heapq.heappush(acct.ending, (ends_at, hold))
        return hold

    def decide_batch(
        self, account_id: str, request: Request, count: int, now: float | None = None, *,
        duration_s: float = 0.0,
    ) -> dict[Reason, int]:
        """Decide ``count`` identical requests arriving at the same instant.

        Gives exactly the counts and end state of ``count`` calls to :meth:`decide` with the same
        ``duration_s`` (a property test checks this), in O(log count) instead of O(count): the
        simulation uses it to run a day of heavy traffic in well under a second.
        """
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"count: expected a whole number >= 0, got {count!r}")
        _duration(duration_s)  # a batch has no hold to complete: it must end by itself
        t = self._now(now)
        acct = self.account(account_id)
        with acct.lock:
            return self._batch_locked(acct, request, count, t, duration_s)

    def _batch_locked(self, acct: Account, request: Request, count: int, t: float,
                      duration_s: float = 0.0) -> dict[Reason, int]:
        out: dict[Reason, int] = {}
        if count == 0:
            return out
        version = self._policy
        self._roll_locked(acct, t)
        if acct.balance_pusd < 0:
            out[Reason.NEGATIVE_BALANCE] = count
            return out
        if request.free:
            quota = _quota(acct, version)
            pass_minute = max(0, min(count, version.free_per_minute - acct.minute_count))
            ok = max(0, min(pass_minute, quota - acct.day_count))
            per_minute = count - pass_minute
            per_day = pass_minute - ok
            acct.minute_count += count
            acct.day_count += count
            high = version.has_topup_tier and quota == version.free_daily_high
            for reason, n in (
                (Reason.OK, ok),
                (Reason.FREE_PER_MINUTE, per_minute),
                (Reason.FREE_PER_DAY_HIGH if high else Reason.FREE_PER_DAY_LOW, per_day),
            ):
                if n:
                    out[reason] = n
            return out
        counted = version.in_flight_budget
        estimate = request.estimate_pusd(self._in_flight) if counted else 0
        counted = counted and estimate > 0
        lo, hi = 0, count  # request j passes for j < answer: monotone in j
        while lo < hi:
            mid = (lo + hi) // 2
            if self._paid_reason(acct, None, request, estimate, mid) is Reason.OK:
                lo = mid + 1
            else:
                hi = mid
        admitted = lo
        rest = count - admitted
        if rest:
            # Once one request fails, state no longer changes: the rest fail the same way.
            out[self._paid_reason(acct, None, request, estimate, admitted)] = rest
        if admitted:
            self._admit_locked(acct, None, request, admitted, estimate, counted, t, duration_s)
            out[Reason.OK] = admitted
        return out

    # -- bulk ----------------------------------------------------------------------------------

    def load_accounts(self, specs: Iterable[dict[str, Any]]) -> list[tuple[Account, str]]:
        """Create accounts from dicts with ``balance_usd``, ``purchased_usd``, ``management``,
        optional ``label``, ``account_id`` and ``key``."""
        made = []
        for spec in specs:
            made.append(
                self.create_account(
                    spec.get("balance_usd", 0.0),
                    spec.get("purchased_usd", 0.0),
                    spec.get("management", False),
                    account_id=spec.get("account_id"),
                    label=spec.get("label", ""),
                    key=spec.get("key"),
                )
            )
        return made


def _duration(value: object) -> float:
    """A request's duration in seconds (finite, zero or more); ``ValueError`` naming it."""
    seconds = check_number(value, "duration_s")
    if seconds < 0:
        raise ValueError(f"duration_s: must be zero or more, got {value!r}")
    return seconds


def _money(value: object, name: str) -> float:
    """A finite amount of US dollars within what the engine accepts; ``ValueError`` naming it."""
    amount = check_number(value, name)
    if abs(amount) > _MAX_USD:
        raise ValueError(f"{name}: must be between -{_MAX_USD:,.0f} and {_MAX_USD:,.0f}, got {value!r}")
    return amount
