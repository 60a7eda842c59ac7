"""OpenRouter's free-usage quotas and rate limits as dated policy versions.

This module is the one place in orwidgets that knows the rules: every number, message and
header value that the engine, the emulator, the client, the widgets and the tutorial use comes
from here. It is plain data (frozen dataclasses) and pure functions: no I/O, no clocks, no
widgets. Standard library only.

Source of truth: ``shared/reference/openrouter-rules.md`` (sections 2-4). Where that spec marks a
rule as our own choice (no public source exists), the constant below says ``[inv]``: it is
emulator behaviour, not a documented OpenRouter fact.

Text for readers (a version's ``title``, ``in_force_text`` and ``changes``, the names of the RPS
rules, :func:`explain_paid_rps`) is English marked with ``N_`` for the gettext catalogues: show it
as ``translator(lang)(version.title)`` (:mod:`orwidgets.i18n`), or pass ``lang=``. OpenRouter's wire
texts (:data:`MESSAGES` and the functions that build messages) are never marked: they go out and
are quoted exactly as OpenRouter sends them.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, replace
from enum import Enum
from types import ModuleType
from typing import Literal

__all__ = [
    "N_",
    "DEFAULT_POLICY_ID",
    "CURRENT_ALIAS",
    "ALIASES",
    "CURRENT",
    "FREE_PER_MINUTE",
    "FREE_DAILY_LEGACY",
    "FREE_DAILY_LOW",
    "FREE_DAILY_HIGH",
    "TOPUP_THRESHOLD_USD",
    "PAID_RPS_MIN",
    "PAID_RPS_CAP",
    "CREDITS_URL",
    "KEYS_URL",
    "WORKSPACE_KEYS_URL",
    "AVAILABILITY_DOCS_URL",
    "CAPACITY_RETRY_AFTER_S",
    "FREE_GRANT_FROM_USD_2026",
    "InFlightParams",
    "IN_FLIGHT_DEFAULTS",
    "LIMIT_RESETS",
    "PolicyVersion",
    "RpsAnswer",
    "Messages",
    "MESSAGES",
    "free_per_day_message",
    "LimitSource",
    "AvailabilityCode",
    "POLICIES",
    "get_policy",
    "policy_ids",
    "policy_choices",
    "resolve_policy_id",
    "paid_rps",
    "explain_paid_rps",
    "RPS_RULES",
    "rps_rule_text",
    "rps_rule_text_in",
    "daily_free_quota",
    "daily_free_quota_topped_up",
    "free_per_minute",
    "affordability_message",
    "unknown_model_message",
    "upstream_raw_message",
    "key_limit_message",
    "key_affordability_message",
    "capacity_exhausted_message",
    "free_variant_ended_message",
    "free_daily_grant_from",
    "is_free_model",
    "check_number",
    "format_usd",
]



def _i18n() -> ModuleType:
    """:mod:`orwidgets.i18n` (standard library only too), imported the first time text is shown
    in a language rather than when the rules are."""
    global _I18N
    if _I18N is None:
        from . import i18n

        _I18N = i18n
    return _I18N


_I18N: ModuleType | None = None


def N_(message: str) -> str:
    """Mark reader-facing text for the catalogues (``make messages``) without translating it here:
    the same identity as :func:`orwidgets.i18n.N_`, defined locally so that this module needs
    nothing but the standard library when it is imported."""
    return message


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

#: The 2026 docs grant the high tier "starting one credit below the table's threshold (currently 9
#: credits)", to absorb rounding and top-up fees. [doc limits.mdx@221d5fb, ~2026-09]
FREE_GRANT_FROM_USD_2026 = 9.0

CREDITS_URL = "https://openrouter.ai/settings/credits"
#: Where the key-limit messages send people (2026-01 capture; the 2025-01 one said /keys). [obs]
KEYS_URL = "https://openrouter.ai/settings/keys"
_KEYS_URL_2025 = "https://openrouter.ai/keys"
#: By 2026-08-31 key-bound messages link the key's own page: this, then ``/<key hash>``. [obs]
WORKSPACE_KEYS_URL = "https://openrouter.ai/workspaces/default/keys"
#: ``error.availability.docs_url`` of the typed availability errors: this, then ``#<code>``. [doc]
AVAILABILITY_DOCS_URL = "https://openrouter.ai/docs/errors"
#: ``availability.retry_after`` of a ``capacity_exhausted`` 429 when nothing else is said: the
#: docs' example value. [doc example; inv as a default]
CAPACITY_RETRY_AFTER_S = 40

#: ``limit_reset`` values a key limit may have (``None``: the limit never resets). [doc spec]
LIMIT_RESETS = ("daily", "weekly", "monthly")

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
    #: 402s about the account's credits (plain, affordability, weight_exceeds_budget). [obs][doc]
    CREDITS = "openrouter_credits"
    #: 402 in_flight_budget_exhausted. [doc][obs]
    IN_FLIGHT = "openrouter_in_flight_budget"
    #: A key's own spending limit: the 403 when spent, the 402 when too small for a request. [obs]
    KEY_LIMIT = "openrouter_key_limit"
    #: 403 when a guardrail's budget (per member or per key) is spent. [3P developersdigest]
    GUARDRAIL_BUDGET = "openrouter_guardrail_budget"
    #: 403 when an (Enterprise) workspace budget is met or exceeded. [3P developersdigest]
    WORKSPACE_BUDGET = "openrouter_workspace_budget"


class AvailabilityCode(str, Enum):
    """``error.availability.code`` values orwidgets tells apart. The docs list 11 stable codes;
    clients must fall back on ``availability.retryable`` for the others. [doc errors page]"""

    #: 429: every provider of the model answered 429; ``retryable``, with ``retry_after``.
    CAPACITY_EXHAUSTED = "capacity_exhausted"
    #: 404: a ``:free`` promotion ended; ``fallback_models`` names the paid slug.
    FREE_VARIANT_ENDED = "free_variant_ended"


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
    #: A keyless request since about 2026-10 (earlier: ``no_auth``). [obs or-toolbox 2026-10-02]
    no_auth_2026: str = "No cookie auth credentials found"
    #: The in-flight spending budget is full (transient; comes with ``Retry-After``). [doc][obs]
    in_flight: str = (
        "This request would exceed your available credits given your current in-flight "
        "requests. Retry after in-flight requests settle, or add credits."
    )
    #: One request's estimate is larger than the whole in-flight budget (terminal). [obs]
    weight_exceeds_budget: str = (
        "This request's maximum cost exceeds your available credits. Add credits, or lower "
        "max_tokens or prompt size."
    )
    #: ``remedy_hint`` of every 402 whose ``limit_source`` is ``openrouter_credits``. [obs]
    remedy_credits: str = (
        f"Add credits at {CREDITS_URL}, or lower max_tokens / prompt size to fit your remaining "
        "balance."
    )
    #: ``remedy_hint`` of the in-flight 402. [doc][obs]
    remedy_in_flight: str = (
        "Retry after your in-flight requests settle (see the Retry-After header). Adding credits "
        f"at {CREDITS_URL} raises your in-flight budget, up to a capped ceiling."
    )
    #: ``remedy_hint`` of 402s bound by the key's own limit. [obs or-toolbox 2026-10-02]
    remedy_key_limit: str = (
        f"Raise or remove this API key's usage limit at {KEYS_URL}, or use a key without a limit."
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
        ``"legacy"``: ``GET /key`` carries real ``rate_limit`` numbers (10 x RPS per 10 s);
        ``"2025"``: ``rate_limit`` is deprecated (``-1``) and there is no free counter;
        ``"2026"``: the OpenAPI example's fields (``creator_user_id``, ``expires_at``,
        ``workspace_id``, ...) plus ``free_model_daily_requests``.
    credits_requires_management:
        Whether ``GET /credits`` answers 403 to a non-management key.
    free_grant_from_usd:
        Credits purchased from which the high tier is granted; ``None``: at the threshold itself.
    in_flight_budget:
        Whether paid requests are held against the in-flight spending budget (402
        ``in_flight_budget_exhausted`` / ``weight_exceeds_budget``).
    credit_402_metadata:
        Whether 402 bodies carry ``metadata.limit_source``, ``remedy_hint`` and
        ``provider_name: null`` (the 2026 shape) instead of the older bare bodies.
    key_limit_form:
        The wording of the 403 for a spent key limit: ``"2025-01"`` (``Key limit exceeded.
        Manage it using https://openrouter.ai/keys``), ``"2026-01"`` (names the period),
        ``"2026-10"`` (also "$X of $Y used; resets <ISO>." and ``limit_source``).
    no_auth_message:
        The 401 ``error.message`` of a request without a key.
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
    key_shape: Literal["legacy", "2025", "2026"]
    credits_requires_management: bool
    free_grant_from_usd: float | None = None
    in_flight_budget: bool = False
    credit_402_metadata: bool = False
    key_limit_form: Literal["2025-01", "2026-01", "2026-10"] = "2025-01"
    no_auth_message: str = MESSAGES.no_auth

    @property
    def has_topup_tier(self) -> bool:
        return self.free_daily_high is not None and self.topup_threshold_usd is not None

    @property
    def label(self) -> str:
        """Short on-screen name: id and title (the title does not repeat the period)."""
        suffix = f" [{CURRENT_ALIAS}]" if self.id == ALIASES.get(CURRENT_ALIAS) else ""
        return f"{self.id}: {self.title}{suffix}"

    @property
    def is_current(self) -> bool:
        """Whether ``current`` names this version (the newest)."""
        return self.id == ALIASES.get(CURRENT_ALIAS)


LEGACY_2024 = PolicyVersion(
    id="legacy-2024",
    title=N_("200 free calls a day for everyone"),
    in_force_from="2024-01-01",
    in_force_until="2025-04-08",
    in_force_text=N_("2024 to about 2025-04-08"),
    sources=(
        "openrouter.ai/docs/limits (2024 and early-2025 snapshots)",
        "quoted in huggingface/smolagents#361 (2025-01-26)",
    ),
    changes=N_(
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
    title=N_("50 a day, or 1,000 after a $10 top-up (the article)"),
    in_force_from="2025-04-08",
    in_force_until="2025-07-01",
    in_force_text=N_("about 2025-04-08 to mid-2025"),
    sources=(
        "openrouter.ai/docs/api-reference/limits (spring 2025)",
        "the seed article (seed-article.ja.txt)",
        "Reddit r/openrouter, 2025-04-08; OpenRouter staff on r/RooCode, 2025-04-12",
    ),
    changes=N_(
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

V2025_07 = PolicyVersion(
    id="2025-07",
    title=N_("No platform cap on paid models"),
    in_force_from="2025-07-01",
    in_force_until="2026-08-23",
    in_force_text=N_("mid-2025 to about 2026-08"),
    sources=(
        "openrouter.ai/docs/api-reference/limits (mid-2025 snapshots: the RPS-per-credit rule gone)",
        "OpenRouter OpenAPI spec (2025-09-19: rate_limit 'will always return -1'; 2026-02: "
        "GET /credits needs a management key)",
        "OpenRouterTeam/docs limits.mdx and free.mdx (2026-07/08)",
    ),
    changes=N_(
        "Free models keep 20 a minute and 50 or 1,000 a day; a one-time purchase of 10 credits "
        "keeps the 1,000 tier even after the balance is spent. Paid models have no platform "
        "request cap any more (DDoS protection and upstream providers only). GET /key reports a "
        "deprecated rate_limit of -1 and no free-request counter yet; GET /credits needs a "
        "management key (documented from early 2026)."
    ),
    free_per_minute=FREE_PER_MINUTE,
    free_daily_low=FREE_DAILY_LOW,
    free_daily_high=FREE_DAILY_HIGH,
    topup_threshold_usd=TOPUP_THRESHOLD_USD,
    paid_rps_linked=False,
    paid_rps_min=PAID_RPS_MIN,
    paid_rps_cap=PAID_RPS_CAP,
    key_shape="2025",
    credits_requires_management=True,
    key_limit_form="2026-01",
)

V2026_08 = PolicyVersion(
    id="2026-08",
    title=N_("In-flight spending budget and typed credit errors"),
    in_force_from="2026-08-23",
    in_force_until=None,
    in_force_text=N_("about 2026-08-23 on (docs and captures to 2026-10)"),
    sources=(
        "OpenRouterTeam/docs api_reference/limits.mdx @221d5fb (read 2026-09-19 to 2026-10-02)",
        "errors-and-debugging.mdx and the changelog of 2026-08-19 (availability errors)",
        "captured answers 2026-07-30 to 2026-10-11 (hermes-agent#102517, pi#8507, or-toolbox)",
    ),
    changes=N_(
        "Paid requests are held against an in-flight spending budget (a fraction of the balance, "
        "up to a ceiling, only below a balance threshold): a request that does not fit answers "
        "402 in_flight_budget_exhausted with Retry-After, one larger than the whole budget 402 "
        "weight_exceeds_budget. Every 402 carries metadata.limit_source and remedy_hint. A spent "
        "key limit answers 403 'Key limit exceeded' with what was used and when it resets. "
        "GET /key gains free_model_daily_requests, workspace and expiry fields. The 1,000 tier is "
        "granted from 9 credits purchased. A request without a key reads 'No cookie auth "
        "credentials found'."
    ),
    free_per_minute=FREE_PER_MINUTE,
    free_daily_low=FREE_DAILY_LOW,
    free_daily_high=FREE_DAILY_HIGH,
    topup_threshold_usd=TOPUP_THRESHOLD_USD,
    paid_rps_linked=False,
    paid_rps_min=PAID_RPS_MIN,
    paid_rps_cap=PAID_RPS_CAP,
    key_shape="2026",
    credits_requires_management=True,
    free_grant_from_usd=FREE_GRANT_FROM_USD_2026,
    in_flight_budget=True,
    credit_402_metadata=True,
    key_limit_form="2026-10",
    no_auth_message=MESSAGES.no_auth_2026,
)

#: The registry of dated versions, oldest first.
POLICIES: dict[str, PolicyVersion] = {
    p.id: p for p in (LEGACY_2024, V2025_04, V2025_07, V2026_08)
}
#: The article's version is the explainer's default.
DEFAULT_POLICY_ID = V2025_04.id
#: ``current`` is not a version of its own: it names the newest one, whatever its date.
CURRENT_ALIAS = "current"
ALIASES: dict[str, str] = {CURRENT_ALIAS: list(POLICIES)[-1]}
CURRENT = POLICIES[ALIASES[CURRENT_ALIAS]]


def policy_ids() -> list[str]:
    """Dated version ids, oldest first (aliases such as ``current`` not included)."""
    return list(POLICIES)


def policy_choices() -> list[str]:
    """What a user may name: every dated id, then the aliases (``current``)."""
    return [*POLICIES, *ALIASES]


def resolve_policy_id(policy: str) -> str:
    """The dated id a name stands for (``"current"`` -> the newest); ``ValueError`` if unknown."""
    return get_policy(policy).id


def get_policy(policy: str | PolicyVersion | None = None) -> PolicyVersion:
    """Look a version up by id or alias (``None`` gives the default); a version passes through."""
    if policy is None:
        return POLICIES[DEFAULT_POLICY_ID]
    if isinstance(policy, PolicyVersion):
        return policy
    try:
        return POLICIES[ALIASES.get(policy, policy)]
    except (KeyError, TypeError):
        raise ValueError(
            f"policy: unknown policy version {policy!r}; choose one of "
            f"{', '.join(policy_choices())}"
        ) from None


def format_usd(value: float) -> str:
    """``$1,234.56``, ``-$0.50``: the sign before the dollar, everywhere orwidgets prints money;
    an amount that rounds to zero cents is ``$0.00``, never ``-$0.00``."""
    cents = round(check_number(value, "value"), 2)
    return f"{'-' if cents < 0 else ''}${abs(cents):,.2f}"


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

    ``rps`` is ``None`` when the version has no balance-linked rate (``current``). ``rule`` is a
    stable English id, one of ``"minimum 1"``, ``"rounded up"``, ``"exact"``, ``"cap 500"``,
    ``"no platform cap"`` (with the version's own floor and cap); ``rule_text`` is how the reader
    sees it, in the answer's language (:func:`rps_rule_text`), as is ``text``. ``blocked`` is true
    when paid requests answer 402 anyway (balance at or below zero).
    """

    balance_usd: float
    rps: int | None
    rule: str
    text: str
    blocked: bool
    rule_text: str = ""

    def __post_init__(self) -> None:
        if not self.rule_text:
            object.__setattr__(self, "rule_text", self.rule)


#: The RPS rules a reader sees: rule id (its number replaced by ``{n}``) -> marked text.
RPS_RULES: dict[str, str] = {
    "minimum {n}": N_("minimum {n}"),
    "rounded up": N_("rounded up"),
    "exact": N_("exact"),
    "cap {n}": N_("cap {n}"),
    "no platform cap": N_("no platform cap"),
}


def rps_rule_text(rule: str, lang: str | None = None) -> str:
    """The name of an RPS rule (``RpsAnswer.rule``: ``"cap 500"``) as the reader sees it, in
    ``lang`` (the language in force when ``None``; see :func:`orwidgets.i18n.get_language`)."""
    return rps_rule_text_in(rule, _i18n().get_language(lang))


def rps_rule_text_in(rule: str, lang: str) -> str:
    """:func:`rps_rule_text` in exactly ``lang``, already chosen (a widget's own language, which a
    later :func:`orwidgets.set_language` does not change); English is the id itself."""
    head, _, number = rule.rpartition(" ")
    numbered = number.isdigit() and f"{head} {{n}}" in RPS_RULES
    if not numbered and rule not in RPS_RULES:
        raise ValueError(f"rule: not an RPS rule: {rule!r}; expected one of "
                         f"{', '.join(RPS_RULES)}")
    if lang == "en":
        return rule
    if numbered:
        return _i18n().translate(RPS_RULES[f"{head} {{n}}"], lang).format(n=number)
    return _i18n().translate(RPS_RULES[rule], lang)


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


def explain_paid_rps(
    balance_usd: float, policy: str | PolicyVersion | None = None, lang: str | None = None
) -> RpsAnswer:
    """:func:`paid_rps` with the rule that produced the number and a sentence for the reader.

    ``text`` and ``rule_text`` are in ``lang``: the language in force when ``None`` (English unless
    :func:`orwidgets.set_language` or ``ORWIDGETS_LANG`` chose another); ``rule`` stays the id.
    """
    i18n = _i18n()
    balance = check_number(balance_usd, "balance_usd")
    version = get_policy(policy)
    lang = i18n.get_language(lang)
    _ = i18n.exact_translator(lang)
    blocked = balance <= 0
    rps, rule = _rps_rule(balance, version)
    shown = rps_rule_text_in(rule, lang)
    if rps is None:
        text = _("Under '{policy}' paid models have no balance-linked platform request cap (only "
                 "DDoS protection and upstream providers limit them).").format(policy=version.id)
        return RpsAnswer(balance, None, rule, text, blocked, shown)
    if blocked:
        text = _.ngettext(
            "{balance} buys {rps} paid request per second ({rule}). But a balance at or below $0 "
            "answers 402 on paid models first.",
            "{balance} buys {rps} paid requests per second ({rule}). But a balance at or below $0 "
            "answers 402 on paid models first.",
            rps,
        )
    else:
        text = _.ngettext("{balance} buys {rps} paid request per second ({rule}).",
                          "{balance} buys {rps} paid requests per second ({rule}).", rps)
    text = text.format(balance=format_usd(balance), rps=f"{rps:,}", rule=shown)
    return RpsAnswer(balance, rps, rule, text, blocked, shown)


# --- Free-model quotas --------------------------------------------------------------------------


def free_daily_grant_from(policy: str | PolicyVersion | None = None) -> float | None:
    """Credits purchased from which the high daily tier applies (``None``: no tier).

    The threshold the messages name (10) and the one the 2026 docs grant from (9) differ.
    """
    version = get_policy(policy)
    if not version.has_topup_tier:
        return None
    if version.free_grant_from_usd is not None:
        return version.free_grant_from_usd
    return version.topup_threshold_usd


def _quota(purchased: float, version: PolicyVersion) -> int:
    if version.free_daily_high is None or version.topup_threshold_usd is None:
        return version.free_daily_low
    grant_from = version.free_grant_from_usd
    if grant_from is None:
        grant_from = version.topup_threshold_usd
    if round(purchased, _BALANCE_DECIMALS) >= grant_from:
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


def key_limit_message(
    form: str,
    limit_reset: str | None,
    *,
    used_usd: float | None = None,
    limit_usd: float | None = None,
    resets_at: str | None = None,
    key_hash: str | None = None,
) -> str:
    """The 403 ``error.message`` for a key whose limit is spent, in a version's wording.

    ``form`` is :attr:`PolicyVersion.key_limit_form`; ``limit_reset`` the key's period
    (``None``: a lifetime limit, worded ``total``); ``resets_at`` an ISO 8601 time for the
    ``2026-10`` form (omitted for lifetime limits); ``key_hash`` the key's hash, which the
    ``2026-10`` form links (``.../workspaces/default/keys/<hash>``; without it, the settings
    page). [obs, see openrouter-2026.md §2.2]
    """
    if form == "2025-01":
        return f"Key limit exceeded. Manage it using {_KEYS_URL_2025}"
    period = _period(limit_reset)
    if form == "2026-01":
        return f"Key limit exceeded ({period} limit). Manage it using {KEYS_URL}"
    if form != "2026-10":
        raise ValueError(f"form: unknown key-limit wording {form!r}")
    url = f"{WORKSPACE_KEYS_URL}/{key_hash}" if key_hash else KEYS_URL
    text = f"Key limit exceeded ({period} limit). Manage it using {url}"
    used = check_number(used_usd, "used_usd")
    limit = check_number(limit_usd, "limit_usd")
    text += f" ${used:,.2f} of ${limit:,.2f} used"
    # [inv] a lifetime limit never resets, so the captured "; resets <ISO>" part is left out.
    return text + (f"; resets {resets_at}." if resets_at and limit_reset else ".")


def _period(limit_reset: str | None) -> str:
    """How the messages name a key's limit period (``total`` for a lifetime limit)."""
    if limit_reset is not None and limit_reset not in LIMIT_RESETS:
        raise ValueError(f"limit_reset: expected one of {', '.join(LIMIT_RESETS)} or None, "
                         f"got {limit_reset!r}")
    return limit_reset or "total"


def key_affordability_message(
    form: str,
    requested_tokens: int,
    affordable_tokens: int,
    limit_reset: str | None = None,
    key_hash: str | None = None,
) -> str:
    """The 402 when the key's remaining limit (not the balance) cannot cover a request.

    The affordability text with a key-bound tail: ``... and create a key with a higher monthly
    limit`` (R12, 2025-07 to 2025-11) in the older wordings, ``.../workspaces/default/keys/<hash>
    and adjust the key's <period> limit`` (captured 2026-08-31 and 2026-10-04) in the ``2026-10``
    one. [obs] Which wording goes with which version follows :attr:`PolicyVersion.key_limit_form`
    [inv]: no capture dates the change of the tail more closely.
    """
    head = affordability_message(requested_tokens, affordable_tokens).split(" To increase, ")[0]
    if form == "2026-10":
        url = f"{WORKSPACE_KEYS_URL}/{key_hash}" if key_hash else KEYS_URL
        return f"{head} To increase, visit {url} and adjust the key's {_period(limit_reset)} limit"
    return f"{head} To increase, visit {KEYS_URL} and create a key with a higher monthly limit"


def capacity_exhausted_message(model: str, retry_after_s: int | None) -> str:
    """``error.message`` of the typed 429 when every provider of a model is at capacity. [doc
    example; without a retry hint the second sentence is left out: inv]"""
    text = f"All providers for {model} are at capacity."
    if retry_after_s is None:
        return text
    return f"{text} Retry after {int(retry_after_s)} seconds."


def free_variant_ended_message(model: str, paid_model: str) -> str:
    """``error.message`` of the typed 404 after a ``:free`` promotion ends. [inv wording: the
    docs give the code and fields but no example message; this is the reference's sketch]"""
    return f"The free variant of {model} has ended. Use {paid_model} (paid)."


# --- The in-flight spending budget (2026-08) ------------------------------------------------------


@dataclass(frozen=True)
class InFlightParams:
    """The numbers of the in-flight spending budget. OpenRouter publishes none of them except
    the ``Retry-After`` it sends (120 s in every capture), so the defaults are **[inv]**; the
    emulator takes them at start and through ``GET/PUT /_emulator/in_flight``.

    budget = min(fraction x balance, ceiling_usd), applied only while balance < threshold_usd.
    A paid request holds prompt tokens x prompt price + min(max_tokens, completion_cap_tokens)
    (``completion_cap_tokens`` when ``max_tokens`` is not set) x completion price while it runs,
    then its actual cost for ``settle_s`` seconds.

    Attributes
    ----------
    fraction:
        Share of the balance the budget may hold, 0 < fraction <= 1. [inv] 0.5
    ceiling_usd:
        The budget never goes above this. [inv] 25
    threshold_usd:
        At or above this balance the budget does not apply. [inv] 100
    settle_s:
        How long a finished request's actual cost stays held. [inv] 120, as ``Retry-After``
    completion_cap_tokens:
        Completion tokens the estimate allows at most per request. [inv] 4096
    retry_after_s:
        ``Retry-After`` of the in-flight 402. [obs] 120
    """

    fraction: float = 0.5
    ceiling_usd: float = 25.0
    threshold_usd: float = 100.0
    settle_s: float = 120.0
    completion_cap_tokens: int = 4096
    retry_after_s: int = 120

    FIELDS = ("fraction", "ceiling_usd", "threshold_usd", "settle_s", "completion_cap_tokens",
              "retry_after_s")

    #: Upper bounds of the emulator's own (so that a typo cannot overflow a pico-dollar sum or
    #: hold a budget for years): a billion dollars, a day, ten million tokens.
    MAX_USD = 1e9
    MAX_SECONDS = 86_400
    MAX_TOKENS = 10_000_000

    def __post_init__(self) -> None:
        fraction = check_number(self.fraction, "fraction")
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction: must be more than 0 and at most 1, got {self.fraction!r}")
        for name in ("ceiling_usd", "threshold_usd"):
            value = check_number(getattr(self, name), name)
            if not 0 < value <= self.MAX_USD:
                raise ValueError(f"{name}: must be more than 0 and at most {self.MAX_USD:,.0f}, "
                                 f"got {getattr(self, name)!r}")
        if not 0 <= check_number(self.settle_s, "settle_s") <= self.MAX_SECONDS:
            raise ValueError(f"settle_s: must be between 0 and {self.MAX_SECONDS}, "
                             f"got {self.settle_s!r}")
        for name, low, high in (("completion_cap_tokens", 1, self.MAX_TOKENS),
                                ("retry_after_s", 0, self.MAX_SECONDS)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name}: expected a whole number, got {value!r}")
            if not low <= value <= high:
                raise ValueError(f"{name}: must be between {low} and {high}, got {value!r}")

    def budget_usd(self, balance_usd: float) -> float | None:
        """The budget a balance gives; ``None`` when the balance is at or above the threshold
        (no budget applies). A balance at or below zero gives 0."""
        balance = check_number(balance_usd, "balance_usd")
        if balance >= self.threshold_usd:
            return None
        return max(0.0, min(self.fraction * balance, self.ceiling_usd))

    def estimate_tokens(self, max_tokens: int | None) -> int:
        """Completion tokens a request's estimate counts."""
        if max_tokens is None:
            return self.completion_cap_tokens
        return min(int(max_tokens), self.completion_cap_tokens)

    def to_json(self) -> dict[str, float | int]:
        return {name: getattr(self, name) for name in self.FIELDS}

    def updated(self, changes: object) -> InFlightParams:
        """These parameters with some of them changed (a mapping of field names to values);
        ``ValueError`` naming the field for an unknown name or a bad value."""
        if isinstance(changes, InFlightParams):
            return changes
        if not isinstance(changes, dict):
            raise ValueError(f"in_flight: expected an object with any of {', '.join(self.FIELDS)}")
        unknown = sorted(set(changes) - set(self.FIELDS))
        if unknown:
            raise ValueError(f"unknown field {unknown[0]!r}; allowed: {', '.join(self.FIELDS)}")
        return replace(self, **changes)


IN_FLIGHT_DEFAULTS = InFlightParams()
