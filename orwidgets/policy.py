"""OpenRouter's free-usage quotas and rate limits as dated policy versions.

This module is the one place in orwidgets that knows the rules: every number, message and
header value that the engine, the emulator, the client, the widgets and the tutorial use comes
from here. It is plain data (frozen dataclasses) and pure functions: no I/O, no clocks, no
widgets. Standard library only.

Source of truth: ``shared/reference/openrouter-rules.md`` (sections 2-4). Where that spec marks a
rule as our own choice (no public source exists), the constant below says ``[inv]``: it is
emulator behaviour, not a documented OpenRouter fact.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from enum import Enum
from typing import Literal

__all__ = [
    "DEFAULT_POLICY_ID",
    "FREE_PER_MINUTE",
    "FREE_DAILY_LEGACY",
    "FREE_DAILY_LOW",
    "FREE_DAILY_HIGH",
    "TOPUP_THRESHOLD_USD",
    "PAID_RPS_MIN",
    "PAID_RPS_CAP",
    "CREDITS_URL",
    "PolicyVersion",
    "RpsAnswer",
    "Messages",
    "MESSAGES",
    "free_per_day_message",
    "LimitSource",
    "POLICIES",
    "get_policy",
    "policy_ids",
    "paid_rps",
    "explain_paid_rps",
    "daily_free_quota",
    "daily_free_quota_topped_up",
    "free_per_minute",
    "affordability_message",
    "unknown_model_message",
    "upstream_raw_message",
    "is_free_model",
    "check_number",
]

# --- The numbers (section 2 of the spec) -------------------------------------------------------

#: Free (``:free``) model requests per clock minute, in every version. [doc]
FREE_PER_MINUTE = 20
#: Free model requests per UTC day for everyone under ``legacy-2024``. [doc]
FREE_DAILY_LEGACY = 200
#: Free model requests per UTC day below the top-up threshold (2025-04 on). [doc]
FREE_DAILY_LOW = 50
#: Free model requests per UTC day at or above the top-up threshold (2025-04 on). [doc]
FREE_DAILY_HIGH = 1000
#: Credits (US$) purchased all-time that unlock the high daily tier. [doc]
TOPUP_THRESHOLD_USD = 10.0
#: Paid requests per second never go below this while a version links RPS to the balance. [doc]
PAID_RPS_MIN = 1
#: ... and never above this ("surge limit, typically 500 requests per second"). [doc]
PAID_RPS_CAP = 500

CREDITS_URL = "https://openrouter.ai/settings/credits"

# Balances come out of float arithmetic (10.0 - 0.1 - 0.2 ...); compare them at nano-dollar
# precision so that 5.000000000001 does not round up to 6 RPS.
_BALANCE_DECIMALS = 9


class LimitSource(str, Enum):
    """``error.metadata.limit_source`` values. The first two are observed on the wire [obs]."""

    FREE_PER_MINUTE = "openrouter_free_tier_per_minute"
    FREE_DAILY = "openrouter_free_tier_daily"
    #: [inv] no capture of a paid-rate 429 exists; this value is the emulator's own.
    PAID_RATE = "openrouter_paid_rps"
    UPSTREAM = "upstream_provider_shared_pool"


@dataclass(frozen=True)
class Messages:
    """The exact ``error.message`` texts of section 4 (and the remedy hints that go with them)."""

    #: Note the trailing ``". "``: it is on the wire. [obs]
    free_per_minute: str = "Rate limit exceeded: free-models-per-min. "
    #: Low tier, no trailing period. [obs]
    free_per_day_low: str = (
        "Rate limit exceeded: free-models-per-day. "
        "Add 10 credits to unlock 1000 free model requests per day"
    )
    #: High tier, trailing ``". "``. [obs]
    free_per_day_high: str = "Rate limit exceeded: free-models-per-day-high-balance. "
    #: [inv] before 2025-04 everyone had one tier; no capture of its message exists.
    free_per_day_legacy: str = "Rate limit exceeded: free-models-per-day. "
    #: Paid request rate above the balance-linked RPS. Generic docs text; [inv] for this case.
    paid_rate: str = "Rate limit exceeded"
    negative_balance: str = f"Insufficient credits. Add more using {CREDITS_URL}"
    no_auth: str = "No auth credentials found"
    unknown_key: str = "User not found."
    management_only: str = "Only management keys can perform this operation"
    upstream: str = "Provider returned error"
    #: ``GET /key`` ``rate_limit.note`` in the current shape. [obs]
    deprecated_rate_limit_note: str = "This field is deprecated and safe to ignore."
    mid_stream: str = "Rate limit exceeded"
    remedy_per_minute: str = (
        "Slow down requests to free models, or retry after the per-minute window resets."
    )
    remedy_per_day_low: str = (
        "Wait for the daily reset (see X-RateLimit-Reset), "
        "or purchase credits to raise your free-model daily limit."
    )
    remedy_per_day_high: str = "Wait for the daily reset"
    #: [inv] the emulator's hint for its paid-rate 429.
    remedy_paid_rate: str = (
        "Paid requests per second follow your balance (1 per dollar, 500 at most): "
        "slow down or add credits."
    )


MESSAGES = Messages()


@dataclass(frozen=True)
class PolicyVersion:
    """One dated version of OpenRouter's limits.

    Attributes
    ----------
    id, title:
        Registry key and a human title.
    in_force_from, in_force_until:
        ISO dates (approximate where the sources are); ``None`` for open ends.
    in_force_text:
        The period as the tutorial prints it.
    sources:
        Where the rule comes from (see ``openrouter-facts.md``).
    changes:
        What changed from the version before, in a few sentences.
    free_per_minute, free_daily_low, free_daily_high:
        Free-model limits. ``free_daily_high`` is ``None`` where no top-up tier exists.
    topup_threshold_usd:
        Credits purchased all-time that unlock the high tier (``None``: no tier).
    paid_rps_linked:
        Whether paid requests per second follow the balance (1 per dollar, rounded up).
    paid_rps_min, paid_rps_cap:
        Floor and ceiling of that rate.
    key_shape:
        ``"legacy"``: ``GET /key`` carries real ``rate_limit`` numbers and no
        ``free_model_daily_requests``; ``"current"``: the 2026 shape.
    credits_requires_management:
        Whether ``GET /credits`` answers 403 to a non-management key.
    """

    id: str
    title: str
    in_force_from: str | None
    in_force_until: str | None
    in_force_text: str
    sources: tuple[str, ...]
    changes: str
    free_per_minute: int
    free_daily_low: int
    free_daily_high: int | None
    topup_threshold_usd: float | None
    paid_rps_linked: bool
    paid_rps_min: int
    paid_rps_cap: int
    key_shape: Literal["legacy", "current"]
    credits_requires_management: bool

    @property
    def has_topup_tier(self) -> bool:
        return self.free_daily_high is not None and self.topup_threshold_usd is not None

    @property
    def label(self) -> str:
        """Short on-screen name: id, title and period."""
        return f"{self.id}: {self.title} ({self.in_force_text})"


LEGACY_2024 = PolicyVersion(
    id="legacy-2024",
    title="200 free calls a day for everyone",
    in_force_from="2024-01-01",
    in_force_until="2025-04-08",
    in_force_text="2024 to about 2025-04-08",
    sources=(
        "openrouter.ai/docs/limits (2024 and early-2025 snapshots)",
        "quoted in huggingface/smolagents#361 (2025-01-26)",
    ),
    changes=(
        "Every account gets 20 free-model requests a minute and 200 a day. Paid models get one "
        "request per second per credit of balance, partial credits rounding up, at least 1 and "
        "at most 500 per second (earlier docs said 200). A negative balance answers 402."
    ),
    free_per_minute=FREE_PER_MINUTE,
    free_daily_low=FREE_DAILY_LEGACY,
    free_daily_high=None,
    topup_threshold_usd=None,
    paid_rps_linked=True,
    paid_rps_min=PAID_RPS_MIN,
    paid_rps_cap=PAID_RPS_CAP,
    key_shape="legacy",
    credits_requires_management=False,
)

V2025_04 = PolicyVersion(
    id="2025-04",
    title="50 a day, or 1,000 after a $10 top-up (the article)",
    in_force_from="2025-04-08",
    in_force_until="2025-07-01",
    in_force_text="about 2025-04-08 to mid-2025",
    sources=(
        "openrouter.ai/docs/api-reference/limits (spring 2025)",
        "the seed article (seed-article.ja.txt)",
        "Reddit r/openrouter, 2025-04-08; OpenRouter staff on r/RooCode, 2025-04-12",
    ),
    changes=(
        "The free daily cap splits in two: 50 a day for accounts that have bought fewer than 10 "
        "credits, 1,000 a day from 10 credits purchased. The article (and the first docs "
        "wording) said 'balance of $10'; the docs soon said credits purchased, which is what "
        "orwidgets models. 20 a minute and the balance-linked paid RPS (min 1, cap 500) stay."
    ),
    free_per_minute=FREE_PER_MINUTE,
    free_daily_low=FREE_DAILY_LOW,
    free_daily_high=FREE_DAILY_HIGH,
    topup_threshold_usd=TOPUP_THRESHOLD_USD,
    paid_rps_linked=True,
    paid_rps_min=PAID_RPS_MIN,
    paid_rps_cap=PAID_RPS_CAP,
    key_shape="legacy",
    credits_requires_management=False,
)

CURRENT = PolicyVersion(
    id="current",
    title="Current docs: no platform cap on paid models",
    in_force_from="2025-07-01",
    in_force_until=None,
    in_force_text="mid-2025 on (docs as of 2026-10)",
    sources=(
        "OpenRouterTeam/docs limits.mdx and free.mdx (2026-07/08)",
        "openrouter.ai/docs/use-cases/limits (excerpts, 2026-10)",
    ),
    changes=(
        "Free models keep 20 a minute and 50 or 1,000 a day; a one-time purchase of 10 credits "
        "keeps the 1,000 tier even after the balance is spent. Paid models have no platform "
        "request cap any more (DDoS protection and upstream providers only). GET /key reports "
        "free_model_daily_requests and a deprecated rate_limit of -1; GET /credits needs a "
        "management key."
    ),
    free_per_minute=FREE_PER_MINUTE,
    free_daily_low=FREE_DAILY_LOW,
    free_daily_high=FREE_DAILY_HIGH,
    topup_threshold_usd=TOPUP_THRESHOLD_USD,
    paid_rps_linked=False,
    paid_rps_min=PAID_RPS_MIN,
    paid_rps_cap=PAID_RPS_CAP,
    key_shape="current",
    credits_requires_management=True,
)

#: The registry, oldest first.
POLICIES: dict[str, PolicyVersion] = {p.id: p for p in (LEGACY_2024, V2025_04, CURRENT)}
#: The article's version is the explainer's default.
DEFAULT_POLICY_ID = V2025_04.id


def policy_ids() -> list[str]:
    """Registered version ids, oldest first."""
    return list(POLICIES)


def get_policy(policy: str | PolicyVersion | None = None) -> PolicyVersion:
    """Look a version up by id (``None`` gives the default); a version passes through."""
    if policy is None:
        return POLICIES[DEFAULT_POLICY_ID]
    if isinstance(policy, PolicyVersion):
        return policy
    try:
        return POLICIES[policy]
    except (KeyError, TypeError):
        raise ValueError(
            f"policy: unknown policy version {policy!r}; choose one of {', '.join(POLICIES)}"
        ) from None


def check_number(value: object, name: str) -> float:
    """Return ``value`` as a finite float, or raise ``ValueError`` naming the parameter."""
    kind = type(value)
    if (kind is float or kind is int) and math.isfinite(value):  # fast path: the common case
        return float(value)  # type: ignore[arg-type]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name}: expected a number, got {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    return result


# --- Paid requests per second -------------------------------------------------------------------


@dataclass(frozen=True)
class RpsAnswer:
    """The paid RPS a balance buys, with the rule that produced it.

    ``rps`` is ``None`` when the version has no balance-linked rate (``current``). ``rule`` is one
    of ``"minimum 1"``, ``"rounded up"``, ``"exact"``, ``"cap 500"``, ``"no platform cap"``.
    ``blocked`` is true when paid requests answer 402 anyway (balance at or below zero).
    """

    balance_usd: float
    rps: int | None
    rule: str
    text: str
    blocked: bool


def _rps_rule(balance: float, version: PolicyVersion) -> tuple[int | None, str]:
    if not version.paid_rps_linked:
        return None, "no platform cap"
    rounded = round(balance, _BALANCE_DECIMALS)
    raw = math.ceil(rounded)
    if rounded < version.paid_rps_min:  # $0.50 gets 1 "as the minimum", as the article puts it
        return version.paid_rps_min, f"minimum {version.paid_rps_min}"
    if raw > version.paid_rps_cap:
        return version.paid_rps_cap, f"cap {version.paid_rps_cap}"
    return raw, "exact" if raw == rounded else "rounded up"


def paid_rps(balance_usd: float, policy: str | PolicyVersion | None = None) -> int | None:
    """Paid requests per second for a balance: 1 per dollar, rounded up, minimum 1, cap 500.

    Returns ``None`` where the version has no balance-linked rate (``current``: paid models have no
    platform request cap). A balance at or below zero still returns the minimum, but such an account
    gets 402 on paid models before the rate matters (see :func:`explain_paid_rps`).
    """
    balance = check_number(balance_usd, "balance_usd")
    return _rps_rule(balance, get_policy(policy))[0]


def explain_paid_rps(balance_usd: float, policy: str | PolicyVersion | None = None) -> RpsAnswer:
    """:func:`paid_rps` with the rule that produced the number and a sentence for the reader."""
    balance = check_number(balance_usd, "balance_usd")
    version = get_policy(policy)
    blocked = balance <= 0
    rps, rule = _rps_rule(balance, version)
    if rps is None:
        return RpsAnswer(
            balance,
            None,
            rule,
            f"Under '{version.id}' paid models have no balance-linked platform request cap "
            "(only DDoS protection and upstream providers limit them).",
            blocked,
        )
    text = f"${balance:,.2f} buys {rps} paid request{'s' if rps != 1 else ''} per second ({rule})."
    if blocked:
        text += " But a balance at or below $0 answers 402 on paid models first."
    return RpsAnswer(balance, rps, rule, text, blocked)


# --- Free-model quotas --------------------------------------------------------------------------


def _quota(purchased: float, version: PolicyVersion) -> int:
    if version.free_daily_high is None or version.topup_threshold_usd is None:
        return version.free_daily_low
    if round(purchased, _BALANCE_DECIMALS) >= version.topup_threshold_usd:
        return version.free_daily_high
    return version.free_daily_low


def daily_free_quota(purchased_usd: float, policy: str | PolicyVersion | None = None) -> int:
    """Free-model requests per UTC day for an account that has bought ``purchased_usd`` credits."""
    purchased = check_number(purchased_usd, "purchased_usd")
    return _quota(purchased, get_policy(policy))


def daily_free_quota_topped_up(topped_up: bool, policy: str | PolicyVersion | None = None) -> int:
    """The daily quota from a plain yes/no: has the account topped up at least the threshold?"""
    if not isinstance(topped_up, bool):
        raise ValueError(f"topped_up: expected True or False, got {topped_up!r}")
    version = get_policy(policy)
    threshold = version.topup_threshold_usd or 0.0
    return daily_free_quota(threshold if topped_up else 0.0, version)


def free_per_minute(policy: str | PolicyVersion | None = None) -> int:
    """Free-model requests per clock minute (20 in every version)."""
    return get_policy(policy).free_per_minute


def is_free_model(model_id: str) -> bool:
    """Free variants are the models whose id ends in ``:free``."""
    return isinstance(model_id, str) and model_id.endswith(":free")


# --- Messages with values in them ---------------------------------------------------------------


def affordability_message(requested_tokens: int, affordable_tokens: int) -> str:
    """The 402 when the balance cannot cover a request's maximum cost. [obs]"""
    for name, value in (("requested_tokens", requested_tokens), ("affordable_tokens", affordable_tokens)):
        check_number(value, name)
    return (
        "This request requires more credits, or fewer max_tokens. "
        f"You requested up to {int(requested_tokens)} tokens, but can only afford "
        f"{int(affordable_tokens)}. To increase, visit {CREDITS_URL} and add more credits"
    )


def free_per_day_message(purchased_usd: float, policy: str | PolicyVersion | None = None) -> str:
    """The per-day 429 message for an account's tier (low, high, or the single legacy tier)."""
    version = get_policy(policy)
    purchased = check_number(purchased_usd, "purchased_usd")
    if not version.has_topup_tier:
        return MESSAGES.free_per_day_legacy
    if daily_free_quota(purchased, version) == version.free_daily_high:
        return MESSAGES.free_per_day_high
    return MESSAGES.free_per_day_low


def unknown_model_message(model: object) -> str:
    """400 for a model id that is not in the catalogue. [inv wording]"""
    return f"{model} is not a valid model ID"


def upstream_raw_message(model: str) -> str:
    """``error.metadata.raw`` of the upstream-provider 429. [obs]"""
    return (
        f"{model} is temporarily rate-limited upstream. Please retry shortly, or add your own key "
        "to accumulate your rate limits: https://openrouter.ai/settings/integrations"
    )
