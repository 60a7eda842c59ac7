"""Scripted scenarios against the emulator, with exact and reproducible outcomes.

Each preset prepares the emulator through its admin API (a fresh account, the clock moved to a
whole minute, second or day, fault rules) and then sends real HTTP calls, so that the count of each
class is exact: "21 free calls in one minute" gives ``free_per_minute`` ok and one per-minute 429
under every policy. :meth:`Preset.expected` gives those counts for a policy version, from
:mod:`orwidgets.policy`'s numbers.

The presets talk to the emulator only over HTTP (admin API plus the OpenRouter routes), so they work
the same against the in-kernel emulator, a separate ``python -m orwidgets.emulator`` process, or
``httpx.ASGITransport`` in tests. They move the emulator's clock forward and, for the upstream
preset, set and then clear its fault rules.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import httpx

from ..engine import PICO, SECONDS_PER_DAY, to_pico
from ..i18n import N_
from ..policy import (
    FREE_PER_MINUTE,
    TOPUP_THRESHOLD_USD,
    PolicyVersion,
    daily_free_quota,
    get_policy,
    is_free_model,
    paid_rps,
)
from ._classify import CallClass, CallResult
from ._http import AsyncOpenRouterClient, api_base
from ._runner import DEFAULT_MAX_TOKENS, LoadRun

__all__ = [
    "Preset",
    "PresetRun",
    "PRESETS",
    "get_preset",
    "run_preset",
    "EmulatorAdmin",
    "EmulatorAdminError",
    "FREE_MODEL",
    "PAID_MODEL",
]

#: The emulator catalogue's defaults (``orwidgets.emulator.catalogue``); repeated here so that the
#: client never imports the emulator package (both sit on the engine, side by side).
FREE_MODEL = "meta-llama/llama-3.3-70b-instruct:free"
PAID_MODEL = "openai/gpt-4o-mini"

#: Paid-burst preset: balance and calls in the one-second burst.
BURST_BALANCE_USD = 5.0
BURST_CALLS = 12
#: Draining preset: calls per one-second burst, and bursts.
DRAIN_BURST = 4
DRAIN_SECONDS = 3
#: Negative-balance preset.
NEGATIVE_BALANCE_USD = -0.5
NEGATIVE_CALLS_EACH = 5
#: Upstream preset: every Nth call fails upstream, with this Retry-After.
UPSTREAM_EVERY = 3
UPSTREAM_CALLS = 12
UPSTREAM_RETRY_AFTER_S = 15


class EmulatorAdminError(RuntimeError):
    """The emulator's admin API refused a request (the message is its ``error.message``)."""


def _iso(unix_s: float) -> str:
    text = datetime.fromtimestamp(unix_s, timezone.utc).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def emulator_root(url: str) -> str:
    """``http://127.0.0.1:PORT`` from an emulator URL with or without ``/api/v1``."""
    return api_base(url).removesuffix("/api/v1")


class EmulatorAdmin:
    """The emulator's admin API (``/_emulator/...``, header ``X-Admin-Token``) over httpx.

    Parameters
    ----------
    base_url:
        The emulator's address (``handle.base_url`` or ``handle.api_base``).
    admin_token:
        ``handle.admin_token``.
    transport:
        An async httpx transport (tests: ``httpx.ASGITransport(app=create_app(...))``).
    """

    def __init__(
        self,
        base_url: str,
        admin_token: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.root = emulator_root(base_url)
        self._token = admin_token
        self._http = httpx.AsyncClient(base_url=self.root, transport=transport, timeout=timeout)

    def __repr__(self) -> str:
        return f"EmulatorAdmin({self.root!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> EmulatorAdmin:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = await self._http.request(
            method, path, json=body, headers={"X-Admin-Token": self._token}
        )
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code >= 400:
            message = None
            if isinstance(data, Mapping) and isinstance(data.get("error"), Mapping):
                message = data["error"].get("message")
            raise EmulatorAdminError(
                f"{method} {path}: HTTP {response.status_code}: {message or response.text[:200]}"
            )
        return data

    async def create_account(
        self, balance_usd: float = 0.0, purchased_usd: float = 0.0, *, label: str = ""
    ) -> tuple[str, str]:
        """A fresh account; returns ``(account_id, key)``."""
        data = await self._call("POST", "/_emulator/accounts", {
            "balance_usd": balance_usd, "purchased_usd": purchased_usd, "label": label,
        })
        return data["account_id"], data["key"]

    async def topup(self, account_id: str, usd: float) -> dict[str, Any]:
        return await self._call("POST", f"/_emulator/accounts/{account_id}/topup", {"usd": usd})

    async def now(self) -> float:
        """Emulator time, Unix seconds."""
        data = await self._call("GET", "/_emulator/clock")
        return data["now_ms"] / 1000

    async def set_time(self, unix_s: float) -> float:
        data = await self._call("POST", "/_emulator/clock", {"now": _iso(unix_s)})
        return data["now_ms"] / 1000

    async def policy(self) -> str:
        return (await self._call("GET", "/_emulator/policy"))["policy"]

    async def set_policy(self, policy_id: str) -> str:
        return (await self._call("PUT", "/_emulator/policy", {"policy": policy_id}))["policy"]

    async def set_faults(self, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return (await self._call("POST", "/_emulator/faults", {"rules": rules}))["rules"]

    async def clear_faults(self) -> None:
        await self.set_faults([])

    async def models(self) -> list[dict[str, Any]]:
        return (await self._call("GET", "/api/v1/models"))["data"]


@dataclass
class PresetRun(LoadRun):
    """A :class:`LoadRun` of a preset, with the counts the policy predicts."""

    preset: str = ""
    policy: str = ""
    expected: dict[CallClass, int] = field(default_factory=dict)

    @property
    def matches_expected(self) -> bool:
        return self.counts == self.expected


class _Context:
    """What a preset script can do: admin calls, fresh keys, and bursts of recorded calls."""

    def __init__(
        self,
        admin: EmulatorAdmin,
        api: str,
        transport: httpx.AsyncBaseTransport | None,
        run: PresetRun,
        cancel: threading.Event,
        on_result: Callable[[CallResult], Any] | None,
        concurrency: int,
    ) -> None:
        self.admin = admin
        self.api = api
        self.transport = transport
        self.run = run
        self.cancel = cancel
        self.on_result = on_result
        self.concurrency = concurrency
        self.policy: PolicyVersion = get_policy(run.policy)
        self._clients: list[AsyncOpenRouterClient] = []

    def client(self, key: str) -> AsyncOpenRouterClient:
        client = AsyncOpenRouterClient(
            self.api, key, transport=self.transport, max_connections=self.concurrency
        )
        self._clients.append(client)
        return client

    async def close(self) -> None:
        for client in self._clients:
            await client.aclose()

    async def fresh(self, balance_usd: float, purchased_usd: float, label: str) -> AsyncOpenRouterClient:
        _, key = await self.admin.create_account(balance_usd, purchased_usd, label=label)
        return self.client(key)

    async def calls(
        self,
        client: AsyncOpenRouterClient,
        model: str,
        count: int,
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        concurrency: int | None = None,
        record: bool = True,
    ) -> list[CallResult]:
        """``count`` calls with at most ``concurrency`` in flight (all at once by default)."""
        if self.cancel.is_set() or count <= 0:
            return []
        limit = asyncio.Semaphore(min(concurrency or count, self.concurrency))
        out: list[CallResult] = []

        async def one() -> None:
            async with limit:
                if self.cancel.is_set():
                    return
                if record:
                    self.run.sent += 1
                result = await client.chat(model, max_tokens=max_tokens)
            out.append(result)
            if record:
                self.run.results.append(result)
                if self.on_result is not None:
                    self.on_result(result)

        await asyncio.gather(*(one() for _ in range(count)))
        return out


Script = Callable[[_Context], Awaitable[None]]


@dataclass(frozen=True)
class Preset:
    """One scenario.

    Attributes
    ----------
    key:
        Short id (``"minute"``, ``"day"``, ...).
    label:
        The text on the preset picker (the DOM contract fixes these).
    description:
        What happens and why, in two sentences.
    calls:
        Calls the scenario sends under a policy (for progress bars).
    expected:
        Calls per class under a policy.
    """

    key: str
    label: str
    description: str
    script: Script = field(repr=False)
    _expected: Callable[[PolicyVersion], dict[CallClass, int]] = field(repr=False)

    def expected(self, policy: str | PolicyVersion | None = None) -> dict[CallClass, int]:
        counts = self._expected(get_policy(policy))
        return {c: counts[c] for c in CallClass if counts.get(c)}

    def calls(self, policy: str | PolicyVersion | None = None) -> int:
        return sum(self.expected(policy).values())


# --- the scripts -----------------------------------------------------------------------------------


def _next_minute(now: float) -> float:
    return (math.floor(now / 60) + 1) * 60.0


def _next_day(now: float) -> float:
    return (math.floor(now / SECONDS_PER_DAY) + 1) * float(SECONDS_PER_DAY)


def _threshold(version: PolicyVersion) -> float:
    # Under legacy-2024 buying 10 credits happens too; it just changes nothing for free calls.
    return version.topup_threshold_usd if version.topup_threshold_usd is not None else TOPUP_THRESHOLD_USD


async def _minute(ctx: _Context) -> None:
    client = await ctx.fresh(0.0, 0.0, "preset: 21 free calls")
    await ctx.admin.set_time(_next_minute(await ctx.admin.now()))
    await ctx.calls(client, FREE_MODEL, ctx.policy.free_per_minute + 1)


def _minute_expected(v: PolicyVersion) -> dict[CallClass, int]:
    return {CallClass.OK: v.free_per_minute, CallClass.FREE_PER_MINUTE: 1}


async def _a_day_of_free_calls(ctx: _Context, client: AsyncOpenRouterClient, quota: int) -> None:
    """``quota`` calls spread over whole minutes from 00:00 UTC, then one more in a new minute."""
    day = _next_day(await ctx.admin.now())
    per_minute = ctx.policy.free_per_minute
    minutes = math.ceil(quota / per_minute)
    for m in range(minutes):
        if ctx.cancel.is_set():
            return
        await ctx.admin.set_time(day + 60 * m)
        await ctx.calls(client, FREE_MODEL, min(per_minute, quota - m * per_minute))
    await ctx.admin.set_time(day + 60 * minutes)
    await ctx.calls(client, FREE_MODEL, 1)


async def _day(ctx: _Context) -> None:
    client = await ctx.fresh(0.0, 0.0, "preset: the day's last free call")
    await _a_day_of_free_calls(ctx, client, daily_free_quota(0.0, ctx.policy))


def _day_expected(v: PolicyVersion) -> dict[CallClass, int]:
    return {CallClass.OK: daily_free_quota(0.0, v), CallClass.FREE_PER_DAY_LOW: 1}


async def _topped_up_day(ctx: _Context) -> None:
    account_id, key = await ctx.admin.create_account(0.0, 0.0, label="preset: top-up day")
    threshold = _threshold(ctx.policy)
    await ctx.admin.topup(account_id, threshold)
    await _a_day_of_free_calls(ctx, ctx.client(key), daily_free_quota(threshold, ctx.policy))


def _topped_up_expected(v: PolicyVersion) -> dict[CallClass, int]:
    quota = daily_free_quota(_threshold(v), v)
    last = CallClass.FREE_PER_DAY_HIGH if v.has_topup_tier else CallClass.FREE_PER_DAY_LOW
    return {CallClass.OK: quota, last: 1}


async def _whole_second(ctx: _Context, offset_s: int = 0, base: float | None = None) -> float:
    """Move the clock to a whole second (a paid window starts there) and return it."""
    start = base if base is not None else math.floor(await ctx.admin.now()) + 1.0
    await ctx.admin.set_time(start + offset_s)
    return start


async def _paid_burst(ctx: _Context) -> None:
    client = await ctx.fresh(BURST_BALANCE_USD, BURST_BALANCE_USD, "preset: paid burst")
    await _whole_second(ctx)
    await ctx.calls(client, PAID_MODEL, BURST_CALLS)


def _paid_burst_expected(v: PolicyVersion) -> dict[CallClass, int]:
    rps = paid_rps(BURST_BALANCE_USD, v)
    ok = BURST_CALLS if rps is None else min(rps, BURST_CALLS)
    return {CallClass.OK: ok, CallClass.PAID_RATE: BURST_CALLS - ok}


def _price_pusd(model: Mapping[str, Any], name: str) -> int:
    return to_pico(float(model["pricing"][name]))


async def _drain(ctx: _Context) -> None:
    """$1 plus 1.5 calls' cost, and max_tokens set so that the maximum cost is just under what
    is left after two calls.

    Second 1: RPS 2; the 2nd call takes the balance under $1 and the RPS falls to 1: 2 ok, the
    rest 429. Second 2: 1 ok, the rest 429. Second 3: the balance no longer covers max_tokens: 402.
    """
    catalogue = await ctx.admin.models()
    paid = [m for m in catalogue if not is_free_model(m["id"])]
    model = max(paid, key=lambda m: float(m["pricing"]["completion"]))
    prompt_p, completion_p = _price_pusd(model, "prompt"), _price_pusd(model, "completion")
    # One probe call (not recorded) tells what a call costs: the emulator's token count is its own.
    probe_tokens = PICO // completion_p  # about $1 of output: the same order as below
    probe = await ctx.fresh(2.0, 2.0, "preset: drain probe")
    result = (await ctx.calls(probe, model["id"], 1, max_tokens=probe_tokens, record=False))[0]
    if not result.ok or not isinstance(result.body, Mapping):
        raise EmulatorAdminError(f"drain preset: the probe call failed: {result.describe()}")
    usage = result.body["usage"]
    cost = to_pico(float(usage["cost"]))
    prompt_cost = int(usage["prompt_tokens"]) * prompt_p
    if cost <= completion_p:
        raise EmulatorAdminError("drain preset: a call costs too little to drain the balance")
    balance = PICO + math.ceil(1.5 * cost)
    max_tokens = (balance - 2 * cost - prompt_cost) // completion_p
    client = await ctx.fresh(balance / PICO, balance / PICO, "preset: balance drains")
    start = await _whole_second(ctx)
    for second in range(DRAIN_SECONDS):
        if ctx.cancel.is_set():
            return
        await _whole_second(ctx, second, base=start)
        await ctx.calls(client, model["id"], DRAIN_BURST, max_tokens=max_tokens)


def _drain_expected(v: PolicyVersion) -> dict[CallClass, int]:
    total = DRAIN_BURST * DRAIN_SECONDS
    if not v.paid_rps_linked:
        # No rate: three calls fit before the balance stops covering max_tokens.
        return {CallClass.OK: 3, CallClass.AFFORDABILITY: total - 3}
    # 2 ok in second 1 (RPS 2 then 1), 1 ok in second 2 (RPS 1), none in second 3 (402).
    return {
        CallClass.OK: 3,
        CallClass.PAID_RATE: (DRAIN_BURST - 2) + (DRAIN_BURST - 1),
        CallClass.AFFORDABILITY: DRAIN_BURST * (DRAIN_SECONDS - 2),
    }


async def _negative(ctx: _Context) -> None:
    client = await ctx.fresh(NEGATIVE_BALANCE_USD, 0.0, "preset: negative balance")
    await ctx.calls(client, FREE_MODEL, NEGATIVE_CALLS_EACH)
    await ctx.calls(client, PAID_MODEL, NEGATIVE_CALLS_EACH)


def _negative_expected(v: PolicyVersion) -> dict[CallClass, int]:
    return {CallClass.NEGATIVE_BALANCE: 2 * NEGATIVE_CALLS_EACH}


async def _upstream(ctx: _Context) -> None:
    threshold = _threshold(ctx.policy)
    client = await ctx.fresh(threshold, threshold, "preset: upstream 429")
    await ctx.admin.set_time(_next_minute(await ctx.admin.now()))
    await ctx.admin.set_faults([{
        "kind": "upstream_429", "model": FREE_MODEL, "every": UPSTREAM_EVERY,
        "retry_after_s": UPSTREAM_RETRY_AFTER_S,
    }])
    try:
        # One at a time: the Nth, 2Nth... call fails, as the rule says.
        await ctx.calls(client, FREE_MODEL, UPSTREAM_CALLS, concurrency=1)
    finally:
        await ctx.admin.clear_faults()


def _upstream_expected(v: PolicyVersion) -> dict[CallClass, int]:
    failed = UPSTREAM_CALLS // UPSTREAM_EVERY
    return {CallClass.OK: UPSTREAM_CALLS - failed, CallClass.UPSTREAM: failed}


PRESETS: tuple[Preset, ...] = (
    Preset(
        "minute", N_("21 free calls in one minute"),
        f"A fresh account sends {FREE_PER_MINUTE + 1} free-model calls inside one clock minute: "
        f"{FREE_PER_MINUTE} pass, the last gets the per-minute 429 (X-RateLimit-Reset: the next "
        "minute).",
        _minute, _minute_expected,
    ),
    Preset(
        "day", N_("the 51st free call of the day"),
        "A never-topped-up account spends its daily free quota from 00:00 UTC, "
        f"{FREE_PER_MINUTE} calls a minute (the preset moves the emulator clock a minute at a "
        "time); one more call gets the per-day 429 until the next 00:00 UTC.",
        _day, _day_expected,
    ),
    Preset(
        "topup", N_("1,000-call day after a $10 top-up"),
        "The account buys the threshold in credits once, which raises the daily free quota; it "
        f"spends it {FREE_PER_MINUTE} calls a clock minute (the emulator clock moves), and one "
        "more call gets the high-balance per-day 429.",
        _topped_up_day, _topped_up_expected,
    ),
    Preset(
        "burst", N_("paid burst above your RPS"),
        f"A ${BURST_BALANCE_USD:.0f} balance buys {paid_rps(BURST_BALANCE_USD, '2025-04')} paid "
        f"requests per second under 2025-04: a burst of {BURST_CALLS} in one second gets "
        f"{paid_rps(BURST_BALANCE_USD, '2025-04')} through and the rest paid-rate 429s (the "
        f"current docs have no such cap: all {BURST_CALLS} pass).",
        _paid_burst, _paid_burst_expected,
    ),
    Preset(
        "drain", N_("balance drains mid-burst and RPS falls"),
        "The balance starts just above $1 (2 RPS); the second paid call takes it under $1 and the "
        "rate falls to 1 inside the same second. Two seconds later it no longer covers max_tokens: "
        "402.",
        _drain, _drain_expected,
    ),
    Preset(
        "negative", N_("negative balance blocks free models"),
        "An account at -$0.50 calls a free model and a paid one: every call answers 402, free ones "
        "included. Adding credits to get above zero is the only way out.",
        _negative, _negative_expected,
    ),
    Preset(
        "upstream", N_("upstream provider 429 with Retry-After"),
        "The provider behind the free model is saturated (emulator fault injection): every third "
        "call gets 'Provider returned error' with Retry-After, even with credits. Back off and "
        "retry; this is not your quota.",
        _upstream, _upstream_expected,
    ),
)


def get_preset(name: str) -> Preset:
    """A preset by key or label."""
    for preset in PRESETS:
        if name in (preset.key, preset.label):
            return preset
    raise KeyError(f"preset: no preset {name!r}; choose one of: "
                   + "; ".join(p.label for p in PRESETS))


async def run_preset(
    preset: Preset | str,
    base_url: str,
    admin_token: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    policy: str | None = None,
    cancel: threading.Event | None = None,
    on_result: Callable[[CallResult], Any] | None = None,
    concurrency: int = 50,
    run: PresetRun | None = None,
) -> PresetRun:
    """Prepare the emulator and run one preset; every call is recorded in the returned run.

    Parameters
    ----------
    preset:
        A :class:`Preset`, or its key or label.
    base_url, admin_token:
        The emulator (``handle.base_url``, ``handle.admin_token``).
    transport:
        An async httpx transport for both the admin API and the calls (tests).
    policy:
        Switch the emulator to this policy version first (``None``: keep its current one).
    cancel, on_result:
        As for :func:`~orwidgets.client.run_load`.
    concurrency:
        Most calls in flight at once.
    run:
        A :class:`PresetRun` to fill in (another thread may watch it grow).
    """
    if isinstance(preset, str):
        preset = get_preset(preset)
    cancel = cancel or threading.Event()
    admin = EmulatorAdmin(base_url, admin_token, transport=transport)
    ctx: _Context | None = None
    start = time.perf_counter()
    try:
        version = await admin.set_policy(policy) if policy is not None else await admin.policy()
        expected = preset.expected(version)
        if run is None:
            run = PresetRun(requested=0, offered_rate=None, concurrency=concurrency)
        run.preset, run.policy, run.expected = preset.label, version, expected
        run.requested = sum(expected.values())
        run.concurrency = concurrency
        run.started_at = time.time()
        ctx = _Context(admin, admin.root + "/api/v1", transport, run, cancel, on_result,
                       concurrency)
        await preset.script(ctx)
    finally:
        if ctx is not None:
            await ctx.close()
        await admin.aclose()
        if run is not None:
            run.duration_s = time.perf_counter() - start
            run.cancelled = cancel.is_set() and run.finished < run.requested
    return run
