"""Scripted scenarios against the emulator, with exact and reproducible outcomes.

Each preset prepares the emulator through its admin API (a fresh account, the clock moved to a
whole minute, second or day, fault rules) and then sends real HTTP calls, so that the count of each
class is exact: "21 free calls in one minute" gives ``free_per_minute`` ok and one per-minute 429
under every policy. :meth:`Preset.expected` gives those counts for a policy version, from
:mod:`orwidgets.policy`'s numbers.

The presets talk to the emulator only over HTTP (admin API plus the OpenRouter routes), so they work
the same against the in-kernel emulator, a separate ``python -m orwidgets.emulator`` process, or
``httpx.ASGITransport`` in tests. They move the emulator's clock forward (never back) and create
fresh accounts. A preset that needs a policy version of its own (today's answers need ``2026-08``)
switches the emulator to it and back afterwards; one that injects faults puts the rules it found
back afterwards.

Where a preset retries with :func:`~orwidgets.client.awith_retries`, the helper "sleeps" on the
emulator's clock: it waits (for real) only until the scenario's calls still running have ended,
then moves the emulator's clock to the end of the wait, so a ``Retry-After: 120`` costs no two
minutes of anybody's time.
"""

from __future__ import annotations

import asyncio
import functools
import math
import random
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import httpx

from ..engine import PICO, SECONDS_PER_DAY, Request, to_pico
from ..i18n import N_
from ..policy import (
    CAPACITY_RETRY_AFTER_S,
    FREE_PER_MINUTE,
    IN_FLIGHT_DEFAULTS,
    POLICIES,
    TOPUP_THRESHOLD_USD,
    InFlightParams,
    PolicyVersion,
    daily_free_quota,
    get_policy,
    is_free_model,
    paid_rps,
)
from ._classify import CallClass, CallResult
from ._http import AsyncOpenRouterClient, api_base
from ._retry import RetryGaveUp, awith_retries
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

#: The version today's presets run under: the first with the in-flight budget (it also has the
#: 2026 key-limit wording and the typed availability errors).
TODAY_POLICY = next(v.id for v in POLICIES.values() if v.in_flight_budget)
#: In-flight fan-out: paid calls sent at once, how many the balance's budget holds, and the
#: max_tokens each asks for (given, so the estimate does not depend on the completion cap).
FANOUT_CALLS = 8
FANOUT_FIT = 4
FANOUT_MAX_TOKENS = 1000
#: How long each fan-out call runs (an injected ``slow`` fault): every call of the burst reaches
#: the emulator while the first ones still run, however busy the machine is. A real completion
#: runs for seconds.
FANOUT_RUN_MS = 500
#: Key-limit preset: the key's daily limit pays this many calls; two more are sent.
KEY_LIMIT_CALLS = 3
KEY_LIMIT_EXTRA = 2
#: Capacity preset: every Nth call finds every provider at capacity.
CAPACITY_EVERY = 3
CAPACITY_CALLS = 12
#: Free-variant preset: calls that get the 404 before one follows the fallback.
FREE_ENDED_CALLS = 3


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
        self, balance_usd: float = 0.0, purchased_usd: float = 0.0, *, label: str = "",
        management: bool = False,
    ) -> tuple[str, str]:
        """A fresh account (its key a management key when ``management``); returns
        ``(account_id, key)``."""
        data = await self._call("POST", "/_emulator/accounts", {
            "balance_usd": balance_usd, "purchased_usd": purchased_usd, "label": label,
            "management": management,
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

    async def faults(self) -> list[dict[str, Any]]:
        """The active fault rules, as ``set_faults`` takes them back."""
        return (await self._call("GET", "/_emulator/faults"))["rules"]

    async def in_flight(self) -> dict[str, Any]:
        """The in-flight budget's numbers (``GET /_emulator/in_flight``)."""
        return await self._call("GET", "/_emulator/in_flight")

    async def set_in_flight(self, **fields: Any) -> dict[str, Any]:
        """Change some of them; answers all of them."""
        return await self._call("PUT", "/_emulator/in_flight", fields)

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
        #: Calls of this scenario waiting for their answer (a retry "sleeps" until those that
        #: were running when it began have theirs).
        self._running: set[int] = set()
        self._ids = 0
        self._idle = asyncio.Condition()
        self._clock_lock = asyncio.Lock()
        #: Emulator time minus this process's time, as last seen (see :meth:`emulator_now`).
        self._offset = 0.0
        self.rng = random.Random(0)

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

    async def attempt(
        self, client: AsyncOpenRouterClient, *, model: str, max_tokens: int | None,
        record: bool = True,
    ) -> CallResult:
        """One call, recorded in the run (a retried call records every attempt)."""
        if self.cancel.is_set():
            raise _Cancelled
        if record:
            self.run.sent += 1
        self._ids += 1
        call_id = self._ids
        self._running.add(call_id)
        try:
            result = await client.chat(model, max_tokens=max_tokens)
        finally:
            self._running.discard(call_id)
            async with self._idle:
                self._idle.notify_all()
        if record:
            self.run.results.append(result)
            if self.on_result is not None:
                self.on_result(result)
        return result

    async def calls(
        self,
        client: AsyncOpenRouterClient,
        model: str,
        count: int,
        *,
        max_tokens: int | None = DEFAULT_MAX_TOKENS,
        concurrency: int | None = None,
        record: bool = True,
        retry: dict[str, Any] | None = None,
    ) -> list[CallResult]:
        """``count`` calls with at most ``concurrency`` in flight (all at once by default).

        ``retry``: make each call through :func:`awith_retries` with these options, sleeping on
        the emulator's clock (see :meth:`emulator_sleep`); every attempt is recorded.
        """
        if self.cancel.is_set() or count <= 0:
            return []
        limit = asyncio.Semaphore(min(concurrency or count, self.concurrency))
        out: list[CallResult] = []

        async def one() -> None:
            call = functools.partial(self.attempt, client, model=model, max_tokens=max_tokens,
                                     record=record)
            async with limit:
                try:
                    if retry is None:
                        result = await call()
                    else:
                        result = await awith_retries(call, clock=self.emulator_now,
                                                     sleep=self.emulator_sleep, rng=self.rng,
                                                     **retry)
                except RetryGaveUp as stop:
                    result = stop.result
                except _Cancelled:
                    return
            out.append(result)

        await asyncio.gather(*(one() for _ in range(count)))
        return out

    # -- the emulator's clock ------------------------------------------------------------------

    async def set_time(self, unix_s: float) -> float:
        """Move the emulator's clock (forward only, as every preset does) and remember it."""
        now = await self.admin.set_time(unix_s)
        self._offset = now - time.time()
        return now

    async def sync_clock(self) -> float:
        now = await self.admin.now()
        self._offset = now - time.time()
        return now

    def emulator_now(self) -> float:
        """Emulator time as last seen, moving with this process's clock (a retry helper's
        ``clock``)."""
        return time.time() + self._offset

    async def emulator_sleep(self, seconds: float) -> None:
        """A retry helper's ``sleep`` on the emulator's clock: wait (really) until the calls of
        this scenario running now have their answers, as they would long before the wait is
        over, then move the emulator's clock to the end of the wait, unless a concurrent wait
        already moved it further."""
        target = self.emulator_now() + seconds
        running = set(self._running)
        async with self._idle:
            await self._idle.wait_for(lambda: not running & self._running)
        async with self._clock_lock:
            if target > await self.sync_clock():
                await self.set_time(target)


class _Cancelled(Exception):
    """The run was stopped: a call was not sent."""


Script = Callable[[_Context], Awaitable[None]]


@dataclass(frozen=True)
class Preset:
    """One scenario.

    Attributes
    ----------
    key:
        Short id (``"minute"``, ``"day"``, ...).
    label:
        The text on the preset picker (the DOM contract fixes these), in English: the name code
        picks a preset by in every language; a widget shows it translated (an ``N_`` msgid).
    about:
        What happens and why, in two sentences: an ``N_`` msgid whose ``{fields}`` are
        :attr:`facts`. :attr:`description` is it in English, :meth:`describe` in a language.
    policy:
        The version the scenario needs: it switches the emulator to it and back afterwards
        (``None``: it runs under whatever version it is given).
    calls:
        Calls the scenario sends under a policy (for progress bars).
    expected:
        Calls per class under a policy (the preset's own ``policy`` when it has one).
    """

    key: str
    label: str
    about: str
    script: Script = field(repr=False)
    _expected: Callable[[PolicyVersion], dict[CallClass, int]] = field(repr=False)
    policy: str | None = None
    facts: Mapping[str, object] = field(default_factory=dict, repr=False, compare=False)

    @property
    def description(self) -> str:
        """What happens and why, in English."""
        return self.describe()

    def describe(self, translate: Callable[[str], str] = str) -> str:
        """What happens and why, through ``translate`` (a translator: ``translator(lang)``)."""
        return translate(self.about).format(**self.facts)

    def runs_under(self, policy: str | PolicyVersion | None = None) -> PolicyVersion:
        """The version a run asked for ``policy`` uses: the preset's own, else ``policy``."""
        return get_policy(self.policy if self.policy is not None else policy)

    def expected(self, policy: str | PolicyVersion | None = None) -> dict[CallClass, int]:
        counts = self._expected(self.runs_under(policy))
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


@asynccontextmanager
async def _faults(ctx: _Context, rules: list[dict[str, Any]]) -> AsyncIterator[None]:
    """These fault rules for the block, then the rules the emulator had before."""
    found = await ctx.admin.faults()
    await ctx.admin.set_faults(rules)
    try:
        yield
    finally:
        await ctx.admin.set_faults(found)


async def _topped_up_at_a_new_minute(ctx: _Context, label: str) -> AsyncOpenRouterClient:
    """A fresh account that bought the top-up threshold, at the start of a clock minute."""
    threshold = _threshold(ctx.policy)
    client = await ctx.fresh(threshold, threshold, label)
    await ctx.set_time(_next_minute(await ctx.sync_clock()))
    return client


async def _every_nth_fails(ctx: _Context, label: str, rule: dict[str, Any], calls: int) -> None:
    """``calls`` free calls one at a time while a fault rule fires on every Nth of them."""
    client = await _topped_up_at_a_new_minute(ctx, label)
    async with _faults(ctx, [{**rule, "model": FREE_MODEL}]):
        # One at a time: the Nth, 2Nth... call fails, as the rule says.
        await ctx.calls(client, FREE_MODEL, calls, concurrency=1)


def _every_nth_expected(calls: int, every: int, failure: CallClass) -> dict[CallClass, int]:
    return {CallClass.OK: calls - calls // every, failure: calls // every}


async def _upstream(ctx: _Context) -> None:
    await _every_nth_fails(ctx, "preset: upstream 429", {
        "kind": "upstream_429", "every": UPSTREAM_EVERY, "retry_after_s": UPSTREAM_RETRY_AFTER_S,
    }, UPSTREAM_CALLS)


def _upstream_expected(v: PolicyVersion) -> dict[CallClass, int]:
    return _every_nth_expected(UPSTREAM_CALLS, UPSTREAM_EVERY, CallClass.UPSTREAM)


# --- today's answers (2026-08) ---------------------------------------------------------------------


def _catalogue_entry(catalogue: list[dict[str, Any]], model_id: str) -> dict[str, Any]:
    entry = next((m for m in catalogue if m.get("id") == model_id), None)
    if entry is None:
        raise EmulatorAdminError(f"the emulator's catalogue has no {model_id!r}")
    return entry


async def _probe(ctx: _Context, client: AsyncOpenRouterClient, model: str,
                 max_tokens: int) -> Mapping[str, Any]:
    """One call that is not recorded (it tells what the emulator counts); its usage."""
    result = await ctx.attempt(client, model=model, max_tokens=max_tokens, record=False)
    if not result.ok or not isinstance(result.body, Mapping):
        raise EmulatorAdminError(f"{ctx.run.preset}: the probe call failed: {result.describe()}")
    return result.body


async def _fanout_account(ctx: _Context) -> AsyncOpenRouterClient:
    """A fresh account whose in-flight budget holds exactly :data:`FANOUT_FIT` of the fan-out's
    calls, whatever the emulator's in-flight numbers and prices are.

    One call holds its estimate (the engine's rule, :meth:`Request.estimate_pusd`); the balance
    is chosen so that the budget (``fraction`` of it) is FANOUT_FIT and three quarters estimates:
    FANOUT_FIT fit, one more does not, and the quarter left over covers what finished calls still
    hold while they settle (their actual cost, a short canned answer).
    """
    model = _catalogue_entry(await ctx.admin.models(), PAID_MODEL)
    params = IN_FLIGHT_DEFAULTS.updated(await ctx.admin.in_flight())
    # The prompt's token count is the emulator's own: a probe on another account tells it.
    probe = await ctx.fresh(1.0, 1.0, "preset: fan-out probe")
    usage = (await _probe(ctx, probe, PAID_MODEL, 1))["usage"]
    request = Request(
        free=False, prompt_tokens=int(usage["prompt_tokens"]), max_tokens=FANOUT_MAX_TOKENS,
        prompt_price=float(model["pricing"]["prompt"]),
        completion_price=float(model["pricing"]["completion"]),
    )
    estimate = request.estimate_pusd(params)
    balance = math.ceil((FANOUT_FIT + 0.75) * estimate / params.fraction)
    budget = params.budget_usd(balance / PICO)
    if budget is None or to_pico(budget) < FANOUT_FIT * estimate or request.max_cost_pusd > balance:
        raise EmulatorAdminError(
            f"{ctx.run.preset}: with the emulator's in-flight numbers ({params.to_json()}) no "
            f"balance holds exactly {FANOUT_FIT} calls; PUT /_emulator/in_flight back to the "
            "defaults")
    return await ctx.fresh(balance / PICO, TOPUP_THRESHOLD_USD, "preset: in-flight fan-out")


async def _fanout(ctx: _Context, retry: dict[str, Any] | None) -> None:
    client = await _fanout_account(ctx)
    await ctx.sync_clock()
    async with _faults(ctx, [{"kind": "slow", "model": PAID_MODEL, "delay_ms": FANOUT_RUN_MS}]):
        await ctx.calls(client, PAID_MODEL, FANOUT_CALLS, max_tokens=FANOUT_MAX_TOKENS,
                        retry=retry)


async def _in_flight(ctx: _Context) -> None:
    await _fanout(ctx, None)


def _in_flight_expected(v: PolicyVersion) -> dict[CallClass, int]:
    return {CallClass.OK: FANOUT_FIT, CallClass.IN_FLIGHT_BUDGET: FANOUT_CALLS - FANOUT_FIT}


async def _in_flight_retried(ctx: _Context) -> None:
    await _fanout(ctx, {})


def _in_flight_retried_expected(v: PolicyVersion) -> dict[CallClass, int]:
    # The refused ones wait Retry-After once, then pass: every call ends ok.
    return {CallClass.OK: FANOUT_CALLS, CallClass.IN_FLIGHT_BUDGET: FANOUT_CALLS - FANOUT_FIT}


async def _key_limit(ctx: _Context) -> None:
    """A management key makes a key whose daily limit pays exactly KEY_LIMIT_CALLS calls."""
    _, secret = await ctx.admin.create_account(TOPUP_THRESHOLD_USD, TOPUP_THRESHOLD_USD,
                                               label="preset: a team", management=True)
    manager = ctx.client(secret)
    # 01:00 UTC of a new day: the key's daily window has just begun.
    await ctx.set_time(_next_day(await ctx.sync_clock()) + 3600)
    body = await _probe(ctx, manager, PAID_MODEL, DEFAULT_MAX_TOKENS)
    if body["choices"][0].get("finish_reason") != "length":
        raise EmulatorAdminError(f"{ctx.run.preset}: the probe's answer was not cut at max_tokens,"
                                 " so a call's cost is not its maximum cost")
    cost = to_pico(float(body["usage"]["cost"]))
    made = await manager.request("POST", "keys", json_body={
        "name": "preset: daily limit", "limit": KEY_LIMIT_CALLS * cost / PICO,
        "limit_reset": "daily",
    })
    if made.status != 201 or not isinstance(made.body, Mapping):
        raise EmulatorAdminError(f"{ctx.run.preset}: POST /api/v1/keys: {made.describe()}")
    client = ctx.client(str(made.body["key"]))
    await ctx.calls(client, PAID_MODEL, KEY_LIMIT_CALLS + KEY_LIMIT_EXTRA, concurrency=1)
    # 00:00 UTC: a new window, the limit pays again.
    await ctx.set_time(_next_day(ctx.emulator_now()))
    await ctx.calls(client, PAID_MODEL, 1)


def _key_limit_expected(v: PolicyVersion) -> dict[CallClass, int]:
    return {CallClass.OK: KEY_LIMIT_CALLS + 1, CallClass.KEY_LIMIT: KEY_LIMIT_EXTRA}


async def _capacity(ctx: _Context) -> None:
    await _every_nth_fails(ctx, "preset: capacity exhausted", {
        "kind": "capacity_exhausted", "every": CAPACITY_EVERY,
        "retry_after_s": CAPACITY_RETRY_AFTER_S,
    }, CAPACITY_CALLS)


def _capacity_expected(v: PolicyVersion) -> dict[CallClass, int]:
    return _every_nth_expected(CAPACITY_CALLS, CAPACITY_EVERY, CallClass.CAPACITY_EXHAUSTED)


async def _free_ended(ctx: _Context) -> None:
    # (the top-up's credits: the paid fallback costs money)
    client = await _topped_up_at_a_new_minute(ctx, "preset: free variant ended")
    async with _faults(ctx, [{"kind": "free_variant_ended", "model": FREE_MODEL}]):
        await ctx.calls(client, FREE_MODEL, FREE_ENDED_CALLS, concurrency=1)
        # Opt-in: the helper switches to availability.fallback_models[0], the paid model.
        await ctx.calls(client, FREE_MODEL, 1, retry={"follow_fallbacks": True})


def _free_ended_expected(v: PolicyVersion) -> dict[CallClass, int]:
    return {CallClass.OK: 1, CallClass.FREE_VARIANT_ENDED: FREE_ENDED_CALLS + 1}


PRESETS: tuple[Preset, ...] = (
    Preset(
        "minute", N_("21 free calls in one minute"),
        N_("A fresh account sends {calls} free-model calls inside one clock minute: {limit} pass, "
           "the last gets the per-minute 429 (X-RateLimit-Reset: the next minute)."),
        _minute, _minute_expected, facts={"calls": FREE_PER_MINUTE + 1, "limit": FREE_PER_MINUTE},
    ),
    Preset(
        "day", N_("the 51st free call of the day"),
        N_("A never-topped-up account spends its daily free quota from 00:00 UTC, {limit} calls a "
           "minute (the preset moves the emulator clock a minute at a time); one more call gets "
           "the per-day 429 until the next 00:00 UTC."),
        _day, _day_expected, facts={"limit": FREE_PER_MINUTE},
    ),
    Preset(
        "topup", N_("1,000-call day after a $10 top-up"),
        N_("The account buys the threshold in credits once, which raises the daily free quota; it "
           "spends it {limit} calls a clock minute (the emulator clock moves), and one more call "
           "gets the high-balance per-day 429."),
        _topped_up_day, _topped_up_expected, facts={"limit": FREE_PER_MINUTE},
    ),
    Preset(
        "burst", N_("paid burst above your RPS"),
        N_("A {balance} balance buys {rps} paid requests per second under 2025-04: a burst of "
           "{calls} in one second gets {rps} through and the rest paid-rate 429s (the current "
           "docs have no such cap: all {calls} pass)."),
        _paid_burst, _paid_burst_expected,
        facts={"balance": f"${BURST_BALANCE_USD:.0f}", "calls": BURST_CALLS,
               "rps": paid_rps(BURST_BALANCE_USD, "2025-04")},
    ),
    Preset(
        "drain", N_("balance drains mid-burst and RPS falls"),
        N_("The balance starts just above $1 (2 RPS); the second paid call takes it under $1 and "
           "the rate falls to 1 inside the same second. Two seconds later it no longer covers "
           "max_tokens: 402."),
        _drain, _drain_expected,
    ),
    Preset(
        "negative", N_("negative balance blocks free models"),
        N_("An account at -$0.50 calls a free model and a paid one: every call answers 402, free "
           "ones included. Adding credits to get above zero is the only way out."),
        _negative, _negative_expected,
    ),
    Preset(
        "upstream", N_("upstream provider 429 with Retry-After"),
        N_("The provider behind the free model is saturated (emulator fault injection): every "
           "third call gets 'Provider returned error' with Retry-After, even with credits. Back "
           "off and retry; this is not your quota."),
        _upstream, _upstream_expected,
    ),
    Preset(
        "in_flight", N_("fan-out on a small balance: in-flight 402"),
        N_("Under {policy}: {calls} paid calls start at once (each runs {ms} ms) on a balance "
           "whose in-flight budget holds {fit} of them. {fit} pass; the others get 402 "
           "in_flight_budget_exhausted with Retry-After, although the balance covers them all. A "
           "client that reads it as 'out of credits' stops here."),
        _in_flight, _in_flight_expected, TODAY_POLICY,
        facts={"policy": TODAY_POLICY, "calls": FANOUT_CALLS, "ms": FANOUT_RUN_MS,
               "fit": FANOUT_FIT},
    ),
    Preset(
        "in_flight_retry", N_("the same fan-out, recovered by with_retries"),
        N_("The same {calls} calls, each through with_retries: the refused ones wait Retry-After "
           "(on the emulator's clock: nobody waits two minutes), the running calls settle, and "
           "the retries pass. Every call ends ok."),
        _in_flight_retried, _in_flight_retried_expected, TODAY_POLICY,
        facts={"calls": FANOUT_CALLS},
    ),
    Preset(
        "key_limit", N_("a key's daily limit runs out: 403"),
        N_("A management key creates a key (POST /api/v1/keys) whose daily limit pays {calls} "
           "calls; the next {extra} get 403 Key limit exceeded (daily limit), saying when it "
           "resets, although the account has credits. At 00:00 UTC (the emulator's clock moves) "
           "the limit pays again."),
        _key_limit, _key_limit_expected, TODAY_POLICY,
        facts={"calls": KEY_LIMIT_CALLS, "extra": KEY_LIMIT_EXTRA},
    ),
    Preset(
        "capacity", N_("all providers at capacity: 429"),
        N_("Every provider of the free model is full on one call in {every} (fault injection): "
           "429 capacity_exhausted with error.availability (retryable, retry_after) and "
           "Retry-After. Wait retry_after, or switch to a model in fallback_models."),
        _capacity, _capacity_expected, TODAY_POLICY, facts={"every": CAPACITY_EVERY},
    ),
    Preset(
        "free_ended", N_("free variant ended: 404, then the paid model"),
        N_("The free model's promotion has ended (fault injection): {calls} calls get 404 "
           "free_variant_ended, whose availability.fallback_models names the paid model. Then one "
           "call through with_retries(follow_fallbacks=True) switches to it: opt-in, because the "
           "paid model costs money."),
        _free_ended, _free_ended_expected, TODAY_POLICY, facts={"calls": FREE_ENDED_CALLS},
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
        Switch the emulator to this policy version first (``None``: keep its current one). A
        preset with a version of its own (:attr:`Preset.policy`) runs under that one instead,
        and puts the version it found back when it ends.
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
    found: str | None = None
    try:
        if preset.policy is not None:
            found = await admin.policy()
            version = await admin.set_policy(preset.policy)
        elif policy is not None:
            version = await admin.set_policy(policy)
        else:
            version = await admin.policy()
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
        try:
            if ctx is not None:
                await ctx.close()
            if found is not None:
                await admin.set_policy(found)
        finally:
            await admin.aclose()
        if run is not None:
            run.duration_s = time.perf_counter() - start
            run.cancelled = cancel.is_set() and run.finished < run.requested
    return run
