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

Thread and asyncio safety: each account has its own lock, and a decision (checks, counters and
balance) happens entirely under it with no ``await`` inside, so concurrent requests from threads or
tasks never overdraw the balance or lose a count.
"""

from __future__ import annotations

import math
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import Any

from . import policy as _policy
from .policy import MESSAGES, LimitSource, PolicyVersion, check_number, get_policy

__all__ = [
    "Reason",
    "Request",
    "RateLimit",
    "Decision",
    "Account",
    "AccountSnapshot",
    "Engine",
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


@dataclass(frozen=True)
class Request:
    """What the engine needs to know about one chat completion request.

    ``prompt_tokens`` and ``max_tokens`` (the requested output, or the model's default maximum when
    the caller gave none) set the maximum cost the affordability check tests; ``completion_tokens``
    (at most ``max_tokens``) sets the cost actually charged. Prices are USD per token.
    """

    free: bool
    prompt_tokens: int = 0
    max_tokens: int = 0
    completion_tokens: int = 0
    prompt_price: float = 0.0
    completion_price: float = 0.0

    @classmethod
    def free_call(cls) -> Request:
        return cls(free=True)

    @classmethod
    def paid_call(cls, cost_usd: float) -> Request:
        """A paid call of a fixed cost (one output token priced at ``cost_usd``)."""
        cost = check_number(cost_usd, "cost_usd")
        if cost < 0:
            raise ValueError(f"cost_usd: must be zero or more, got {cost_usd!r}")
        return cls(free=False, max_tokens=1, completion_tokens=1, completion_price=cost)

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


@dataclass(frozen=True, slots=True)
class Decision:
    """The engine's answer for one request."""

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

    @property
    def ok(self) -> bool:
        return self.status == 200

    def headers(self) -> dict[str, str]:
        """HTTP headers for the answer: ``X-RateLimit-*`` on 429s only (none on success)."""
        return self.rate_limit.headers() if self.rate_limit is not None else {}

    def error_body(self, user_id: str) -> dict[str, Any]:
        """OpenRouter's error JSON for this decision (``error.code`` equals the status)."""
        if self.ok:
            raise ValueError("error_body: a successful decision has no error body")
        metadata: dict[str, Any] = {}
        if self.rate_limit is not None:
            metadata["headers"] = self.rate_limit.headers()
        if self.limit_source is not None:
            metadata["limit_source"] = self.limit_source
        if self.remedy_hint is not None:
            metadata["remedy_hint"] = self.remedy_hint
        error: dict[str, Any] = {"code": self.status, "message": self.message}
        if self.reason is not Reason.NEGATIVE_BALANCE:
            metadata["provider_name"] = None
            error["metadata"] = metadata
        return {"error": error, "user_id": user_id}


@dataclass
class Account:
    """One OpenRouter account. Mutate it only through :class:`Engine`, which holds its lock."""

    account_id: str
    user_id: str
    balance_pusd: int = 0
    purchased_pusd: int = 0
    management: bool = False
    keys: list[str] = field(default_factory=list)
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
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

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

    def __repr__(self) -> str:
        # Keys are secrets: show how many, never which.
        return (
            f"Account(account_id={self.account_id!r}, balance_usd={self.balance_usd!r}, "
            f"purchased_usd={self.purchased_usd!r}, management={self.management!r}, "
            f"keys=<{len(self.keys)} hidden>)"
        )


@dataclass(frozen=True)
class AccountSnapshot:
    """A consistent copy of an account's state at one instant (counters rolled to ``now``)."""

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


class Engine:
    """Accounts, keys and decisions under one policy version.

    Parameters
    ----------
    policy:
        A version id or :class:`~orwidgets.policy.PolicyVersion` (default: the article's).
    clock:
        Callable returning Unix seconds, used only when a call does not pass ``now``.
    """

    def __init__(
        self,
        policy: str | PolicyVersion | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._policy = get_policy(policy)
        self._clock = clock
        self._accounts: dict[str, Account] = {}
        self._by_key: dict[str, Account] = {}
        self._registry_lock = threading.Lock()
        self._seq = 0

    def __repr__(self) -> str:
        return f"Engine(policy={self._policy.id!r}, accounts={len(self._accounts)})"

    # -- policy and clock ----------------------------------------------------------------------

    @property
    def policy(self) -> PolicyVersion:
        return self._policy

    @policy.setter
    def policy(self, value: str | PolicyVersion) -> None:
        self._policy = get_policy(value)

    def _now(self, now: float | None) -> float:
        if now is None:
            if self._clock is None:
                raise ValueError("now: no time given and the engine has no clock")
            now = self._clock()
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
        """Create an account with one key; returns the account and its key."""
        balance = check_number(balance_usd, "balance_usd")
        purchased = check_number(purchased_usd, "purchased_usd")
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
            key = self._add_key_locked(acct, key)
        return acct, key

    def _add_key_locked(self, acct: Account, key: str | None) -> str:
        key = key or new_key()
        if key in self._by_key:
            raise ValueError("key: this key belongs to an account already")
        acct.keys.append(key)
        self._by_key[key] = acct
        return key

    def add_key(self, account_id: str) -> str:
        """Another key on the same account: limits stay account-wide."""
        with self._registry_lock:
            return self._add_key_locked(self.account(account_id), None)

    def account(self, account_id: str) -> Account:
        try:
            return self._accounts[account_id]
        except KeyError:
            raise KeyError(f"account_id: no account {account_id!r}") from None

    def account_for_key(self, key: str) -> Account | None:
        return self._by_key.get(key)

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
        balance = None if balance_usd is None else check_number(balance_usd, "balance_usd")
        purchased = None if purchased_usd is None else check_number(purchased_usd, "purchased_usd")
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
        amount = check_number(usd, "usd")
        if amount <= 0:
            raise ValueError(f"usd: a top-up must be more than zero, got {usd!r}")
        acct = self.account(account_id)
        with acct.lock:
            acct.balance_pusd += to_pico(amount)
            acct.purchased_pusd += to_pico(amount)
        return acct

    def refund(self, account_id: str, usd: float) -> Account:
        """Give back what an admitted request was charged when it failed afterwards (an upstream
        error or a mid-stream failure): balance up, usage down. Takes the decision lock, so a
        refund never races a decision."""
        amount = check_number(usd, "usd")
        if amount < 0:
            raise ValueError(f"usd: a refund must be zero or more, got {usd!r}")
        acct = self.account(account_id)
        pusd = to_pico(amount)
        with acct.lock:
            acct.balance_pusd += pusd
            acct.usage_pusd -= pusd
            acct.usage_daily_pusd = max(0, acct.usage_daily_pusd - pusd)
        return acct

    def snapshot(self, account_id: str, now: float | None = None) -> AccountSnapshot:
        t = self._now(now)
        acct = self.account(account_id)
        version = self._policy
        with acct.lock:
            _roll(acct, t)
            return AccountSnapshot(
                account_id=acct.account_id,
                user_id=acct.user_id,
                label=acct.label,
                balance_usd=acct.balance_usd,
                purchased_usd=acct.purchased_usd,
                usage_usd=acct.usage_usd,
                usage_daily_usd=acct.usage_daily_usd,
                management=acct.management,
                key_count=len(acct.keys),
                free_used_today=acct.day_count,
                free_daily_limit=_policy.daily_free_quota(acct.purchased_usd, version),
                free_used_this_minute=acct.minute_count,
                paid_in_this_second=acct.second_count,
                paid_rps=_rps(acct.balance_pusd, version),
                now=t,
            )

    # -- decisions -----------------------------------------------------------------------------

    def decide(self, account_id: str, request: Request, now: float | None = None) -> Decision:
        """Decide one request at ``now`` (Unix seconds) and apply its effects atomically."""
        t = self._now(now)
        acct = self.account(account_id)
        with acct.lock:
            return self._decide_locked(acct, request, t)

    def decide_for_key(self, key: str, request: Request, now: float | None = None) -> Decision | None:
        """As :meth:`decide`, by API key; ``None`` for an unknown key (the 401 case)."""
        acct = self._by_key.get(key)
        if acct is None:
            return None
        t = self._now(now)
        with acct.lock:
            return self._decide_locked(acct, request, t)

    def _decide_locked(self, acct: Account, req: Request, now: float) -> Decision:
        version = self._policy
        _roll(acct, now)
        quota = _policy._quota(acct.purchased_pusd / PICO, version)
        reason, message, rate, source, hint, cost = Reason.OK, None, None, None, None, 0

        if acct.balance_pusd < 0:
            # 2. A negative balance blocks every model, free ones included.
            reason, message = Reason.NEGATIVE_BALANCE, MESSAGES.negative_balance
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
            rps = _rps(acct.balance_pusd, version)
            if rps is not None and acct.second_count >= rps:
                # 4. Paid request rate, where the version links it to the balance.
                reason, message = Reason.PAID_RATE, MESSAGES.paid_rate
                rate = RateLimit(rps, 0, second_reset_ms(now))
                source, hint = LimitSource.PAID_RATE.value, MESSAGES.remedy_paid_rate
            elif req.max_cost_pusd > acct.balance_pusd or acct.balance_pusd <= 0:
                # 5. The balance cannot cover the most this request may cost.
                reason = Reason.AFFORDABILITY
                message = _policy.affordability_message(
                    req.max_tokens, req.affordable_tokens(acct.balance_pusd)
                )
            else:
                # 6. Success: charge what it cost; cost <= max cost <= balance: never below zero.
                cost = req.cost_pusd
                acct.balance_pusd -= cost
                acct.usage_pusd += cost
                acct.usage_daily_pusd += cost
                acct.second_count += 1
        return Decision(
            status=_STATUS[reason], reason=reason, message=message, rate_limit=rate,
            limit_source=source, remedy_hint=hint, cost_usd=cost / PICO,
            balance_usd=acct.balance_pusd / PICO, free_used_today=acct.day_count,
            free_daily_limit=quota, free_used_this_minute=acct.minute_count,
            paid_rps=_rps(acct.balance_pusd, version), now=now,
        )

    def decide_batch(
        self, account_id: str, request: Request, count: int, now: float | None = None
    ) -> dict[Reason, int]:
        """Decide ``count`` identical requests arriving at the same instant.

        Gives exactly the counts and end state of ``count`` calls to :meth:`decide` (a property
        test checks this), in O(log count) instead of O(count): the simulation uses it to run a day
        of heavy traffic in well under a second.
        """
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"count: expected a whole number >= 0, got {count!r}")
        t = self._now(now)
        acct = self.account(account_id)
        with acct.lock:
            return self._batch_locked(acct, request, count, t)

    def _batch_locked(self, acct: Account, request: Request, count: int, t: float) -> dict[Reason, int]:
        out: dict[Reason, int] = {}
        if count == 0:
            return out
        version = self._policy
        _roll(acct, t)
        if acct.balance_pusd < 0:
            out[Reason.NEGATIVE_BALANCE] = count
            return out
        if request.free:
            quota = _policy._quota(acct.purchased_pusd / PICO, version)
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
        admitted = self._paid_prefix_locked(acct, request, count)
        if admitted:
            total = request.cost_pusd * admitted
            acct.balance_pusd -= total
            acct.usage_pusd += total
            acct.usage_daily_pusd += total
            acct.second_count += admitted
            out[Reason.OK] = admitted
        rest = count - admitted
        if rest:
            # Once one request fails, state no longer changes: the rest fail the same way.
            rps = _rps(acct.balance_pusd, version)
            rate_blocked = rps is not None and acct.second_count >= rps
            out[Reason.PAID_RATE if rate_blocked else Reason.AFFORDABILITY] = rest
        return out

    def _paid_prefix_locked(self, acct: Account, req: Request, count: int) -> int:
        """How many of ``count`` paid requests in a row would pass (the passing set is a prefix)."""
        version = self._policy
        b0, c, m, used = acct.balance_pusd, req.cost_pusd, req.max_cost_pusd, acct.second_count

        def passes(j: int) -> bool:
            # Request j (0-based) sees the balance after j charges and j more in this second.
            balance = b0 - j * c
            rps = _rps(balance, version)
            if rps is not None and used + j >= rps:
                return False
            return not (m > balance or balance <= 0)

        lo, hi = 0, count  # passes(j) holds for j < answer; monotone in j
        while lo < hi:
            mid = (lo + hi) // 2
            if passes(mid):
                lo = mid + 1
            else:
                hi = mid
        return lo

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
