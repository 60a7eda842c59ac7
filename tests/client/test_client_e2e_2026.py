"""End to end, one test per new answer of ``2026-08``: the emulator answers it over HTTP (in memory,
its clock on a fake base), the client classifies it into its own class with the fields a retry
needs, and ``awith_retries`` acts on it on the emulator's clock (its ``sleep`` moves that clock, so
a ``Retry-After: 120`` costs no real time).

Expected values are worked out here from ``orwidgets.policy`` (messages, in-flight numbers), the
catalogue's prices and the demo accounts' README numbers, never read back from the code under test.
"""

from __future__ import annotations

import asyncio
import math
import random
from datetime import datetime, timezone
from functools import partial

import httpx
import pytest

from client_helpers import DAY_START, LOCAL_API, FakeClock, requires_emulator
from orwidgets.client import AsyncOpenRouterClient, CallClass, RetryGaveUp, awith_retries
from orwidgets.client._retry import SHRINK_MARGIN
from orwidgets.policy import (
    CAPACITY_RETRY_AFTER_S,
    IN_FLIGHT_DEFAULTS,
    MESSAGES,
    LimitSource,
    capacity_exhausted_message,
    free_variant_ended_message,
)

pytestmark = requires_emulator

MINI = "openai/gpt-4o-mini"
GPT4O = "openai/gpt-4o"
FREE = "meta-llama/llama-3.3-70b-instruct:free"
TWIN = "meta-llama/llama-3.3-70b-instruct"
#: 12:00:30 UTC on DAY_START (the demo `member` spent its daily limit that day, at start).
NOON = DAY_START + 12 * 3600 + 30
RETRY_AFTER = IN_FLIGHT_DEFAULTS.retry_after_s


class Emulator:
    """The emulator under 2026-08 in memory, and the client pieces that reach it."""

    def __init__(self) -> None:
        from orwidgets.emulator import create_app

        self.app = create_app(policy="2026-08", latency_ms=0, clock=FakeClock())
        self.emu = self.app.state.emulator
        self.emu.clock.set(NOON)
        self.waits: list[float] = []

    def client(self, key: str) -> AsyncOpenRouterClient:
        return AsyncOpenRouterClient(LOCAL_API, key, transport=httpx.ASGITransport(app=self.app))

    def key(self, name: str) -> str:
        return self.emu.demo_keys[name]

    def now(self) -> float:
        return self.emu.clock.now()

    async def sleep(self, seconds: float) -> None:
        """with_retries' sleep: the emulator's clock moves, nobody waits."""
        self.waits.append(seconds)
        self.emu.clock.advance(seconds)

    def retrying(self, call, **options):
        """awith_retries on the emulator's clock, recording every attempt it announces."""
        attempts = []
        options.setdefault("rng", random.Random(1))
        return awith_retries(call, clock=self.now, sleep=self.sleep,
                             on_retry=attempts.append, **options), attempts


def run(coroutine):
    return asyncio.run(coroutine)


def price(model_id: str) -> tuple[float, float]:
    from orwidgets.emulator import MODELS

    m = MODELS[model_id]
    return float(m.prompt_price), float(m.completion_price)


def hold(e: Emulator, name: str, model_id: str, *, duration_s: float) -> None:
    """A paid request the chat route admitted and that runs ``duration_s`` more (emulator time):
    what a concurrent call of the same client holds."""
    from orwidgets.emulator import MODELS
    from orwidgets.emulator.chat import _plan

    request = _plan(MODELS[model_id], len("Say OK."), None).request
    decision = e.emu.engine.decide_for_key(e.key(name), request, e.now(), duration_s=duration_s)
    assert decision.ok, decision.reason


def midnight_after(unix_s: float) -> datetime:
    return datetime.fromtimestamp((math.floor(unix_s / 86_400) + 1) * 86_400, tz=timezone.utc)


# --- 402 in_flight_budget_exhausted ------------------------------------------------------------------


def test_in_flight_402_is_transient_and_with_retries_waits_retry_after_on_the_emulator_clock():
    e = Emulator()
    # The `small` account ($0.02): a budget of $0.01 holds four calls without max_tokens; four
    # are running (30 s more), so a fifth does not fit.
    for _ in range(4):
        hold(e, "small", MINI, duration_s=30)

    async def go():
        async with e.client(e.key("small")) as client:
            first = await client.chat(MINI)
            task, attempts = e.retrying(partial(client.chat, MINI))
            return first, await task, attempts

    first, final, attempts = run(go())
    assert first.status == 402 and first.call_class is CallClass.IN_FLIGHT_BUDGET
    assert first.message == MESSAGES.in_flight
    assert first.reason == "in_flight_budget_exhausted"
    assert first.limit_source == LimitSource.IN_FLIGHT.value
    assert first.retry_after_s == RETRY_AFTER
    assert first.headers["retry-after"] == str(RETRY_AFTER)
    meta = first.body["error"]["metadata"]
    assert meta["headers"] == {"Retry-After": str(RETRY_AFTER)}
    assert meta["remedy_hint"] == MESSAGES.remedy_in_flight
    assert first.body["user_id"].startswith("user_")
    assert CallClass.IN_FLIGHT_BUDGET.retryable
    # with_retries: refused once, waited Retry-After (jitter on top, never below), then ok.
    assert [a.result.call_class for a in attempts] == [CallClass.IN_FLIGHT_BUDGET]
    assert attempts[0].action == "wait Retry-After"
    assert RETRY_AFTER <= e.waits[0] <= RETRY_AFTER * 1.25
    assert final.ok and final.model == MINI


def test_a_wait_cap_below_retry_after_gives_up_and_says_until_when():
    e = Emulator()
    for _ in range(4):
        hold(e, "small", MINI, duration_s=30)

    async def go():
        async with e.client(e.key("small")) as client:
            task, _ = e.retrying(partial(client.chat, MINI), max_wait_s=60)
            with pytest.raises(RetryGaveUp) as info:
                await task
            return info.value

    gave_up = run(go())
    assert gave_up.attempts == 1 and e.waits == []
    assert gave_up.until == datetime.fromtimestamp(NOON + RETRY_AFTER, tz=timezone.utc)
    assert "above max_wait_s=60" in gave_up.reason


# --- 402 weight_exceeds_budget ---------------------------------------------------------------------


def test_weight_exceeds_budget_is_never_retried():
    e = Emulator()
    prompt_price, completion_price = price(GPT4O)
    assert 1500 * completion_price > IN_FLIGHT_DEFAULTS.fraction * 0.02  # above the whole budget

    async def go():
        async with e.client(e.key("small")) as client:
            first = await client.chat(GPT4O, max_tokens=1500)
            task, attempts = e.retrying(partial(client.chat, GPT4O, max_tokens=1500))
            with pytest.raises(RetryGaveUp) as info:
                await task
            return first, info.value, attempts

    first, gave_up, attempts = run(go())
    assert first.status == 402 and first.call_class is CallClass.WEIGHT_EXCEEDS_BUDGET
    assert first.message == MESSAGES.weight_exceeds_budget
    assert first.reason == "weight_exceeds_budget"
    assert first.limit_source == LimitSource.CREDITS.value
    assert first.retry_after_s is None and "retry-after" not in first.headers
    assert not CallClass.WEIGHT_EXCEEDS_BUDGET.retryable
    assert gave_up.attempts == 1 and attempts == [] and e.waits == []
    assert gave_up.call_class is CallClass.WEIGHT_EXCEEDS_BUDGET


# --- 403 key limit, and the 402 bound to a key's limit ----------------------------------------------


def test_a_spent_key_limit_is_a_403_that_names_its_reset_and_is_not_retried():
    e = Emulator()
    resets = midnight_after(NOON)

    async def go():
        async with e.client(e.key("member")) as client:
            first = await client.chat(MINI, max_tokens=16)
            task, attempts = e.retrying(partial(client.chat, MINI, max_tokens=16))
            with pytest.raises(RetryGaveUp) as info:
                await task
            e.emu.clock.set(info.value.until.timestamp())  # the reset the answer named
            after = await client.chat(MINI, max_tokens=16)
            return first, info.value, attempts, after

    first, gave_up, attempts, after = run(go())
    assert first.status == 403 and first.call_class is CallClass.KEY_LIMIT
    member_hash = e.emu.engine.key(e.key("member")).hash
    assert first.message == (
        "Key limit exceeded (daily limit). Manage it using "
        f"https://openrouter.ai/workspaces/default/keys/{member_hash} $1.00 of $1.00 used; "
        f"resets {resets:%Y-%m-%dT%H:%M:%S}.000Z.")
    assert first.limit_source == LimitSource.KEY_LIMIT.value
    assert first.resets_at == resets and first.retry_after_s is None
    assert gave_up.attempts == 1 and attempts == [] and e.waits == []
    assert gave_up.until == resets
    assert after.ok  # a new daily window


def test_a_key_limit_too_small_for_the_request_is_the_key_bound_402_and_shrinks_once():
    e = Emulator()
    limit = 0.001

    async def go():
        async with e.client(e.key("team")) as team:
            made = await team.request("POST", "keys", json_body={
                "name": "e2e", "limit": limit, "limit_reset": "daily"})
        assert made.status == 201, made.describe()
        async with e.client(made.body["key"]) as client:
            first = await client.chat(MINI, max_tokens=4000)
            task, attempts = e.retrying(partial(client.chat, MINI, max_tokens=4000),
                                        shrink_max_tokens=True)
            return first, await task, attempts

    first, final, attempts = run(go())
    prompt_price, completion_price = price(MINI)
    prompt_tokens = math.ceil(len("Say OK.") / 4)
    m = math.floor((limit - prompt_tokens * prompt_price) / completion_price + 1e-9)
    assert first.status == 402 and first.call_class is CallClass.KEY_LIMIT_AFFORDABILITY
    assert first.limit_source == LimitSource.KEY_LIMIT.value
    assert first.affordable_tokens == m
    assert f"You requested up to 4000 tokens, but can only afford {m}." in first.message
    assert first.body["error"]["metadata"]["remedy_hint"] == MESSAGES.remedy_key_limit
    assert first.retry_after_s is None
    # Retried once, at once, with max_tokens just below M (never without max_tokens).
    assert [a.overrides for a in attempts] == [{"max_tokens": math.floor(m * (1 - SHRINK_MARGIN))}]
    assert e.waits == [] and final.ok


# --- 429 capacity_exhausted, 404 free_variant_ended -----------------------------------------------------


def faults(e: Emulator, *rules: dict) -> None:
    e.emu.faults.configure({"rules": list(rules)})


def test_capacity_exhausted_waits_availability_retry_after_then_passes():
    e = Emulator()
    faults(e, {"kind": "capacity_exhausted", "model": FREE, "every": 2})

    async def go():
        async with e.client(e.key("topped_up")) as client:
            assert (await client.chat(FREE, max_tokens=8)).ok  # the 1st; the rule fires on the 2nd
            first = await client.chat(FREE, max_tokens=8)
            assert (await client.chat(FREE, max_tokens=8)).ok  # the 3rd; the next one fails
            task, attempts = e.retrying(partial(client.chat, FREE, max_tokens=8))
            return first, await task, attempts

    first, final, attempts = run(go())
    assert first.status == 429 and first.call_class is CallClass.CAPACITY_EXHAUSTED
    assert first.message == capacity_exhausted_message(FREE, CAPACITY_RETRY_AFTER_S)
    a = first.availability
    assert (a["code"], a["retryable"], a["retry_after"]) == (
        "capacity_exhausted", True, CAPACITY_RETRY_AFTER_S)
    assert a["requested_models"] == [FREE]
    assert first.retry_after_s == CAPACITY_RETRY_AFTER_S
    assert first.headers["retry-after"] == str(CAPACITY_RETRY_AFTER_S)
    assert first.fallback_models == (TWIN,)
    assert first.body["error"]["error_type"] == "rate_limit_exceeded"
    assert [x.result.call_class for x in attempts] == [CallClass.CAPACITY_EXHAUSTED]
    assert CAPACITY_RETRY_AFTER_S <= e.waits[0] <= CAPACITY_RETRY_AFTER_S * 1.25
    assert final.ok and final.model == FREE


def test_capacity_exhausted_with_follow_fallbacks_switches_at_once_to_the_other_model():
    e = Emulator()
    faults(e, {"kind": "capacity_exhausted", "model": FREE})

    async def go():
        async with e.client(e.key("topped_up")) as client:
            task, attempts = e.retrying(partial(client.chat, model=FREE, max_tokens=8),
                                        follow_fallbacks=True)
            return await task, attempts

    final, attempts = run(go())
    assert [x.overrides for x in attempts] == [{"model": TWIN}] and e.waits == []
    assert final.ok and final.model == TWIN


def test_free_variant_ended_is_not_retried_unless_asked_and_the_fallback_costs_money():
    e = Emulator()
    faults(e, {"kind": "free_variant_ended", "model": FREE})

    async def go():
        async with e.client(e.key("topped_up")) as client:
            first = await client.chat(FREE, max_tokens=8)
            task, _ = e.retrying(partial(client.chat, model=FREE, max_tokens=8))
            with pytest.raises(RetryGaveUp) as info:
                await task
            task, attempts = e.retrying(partial(client.chat, model=FREE, max_tokens=8),
                                        follow_fallbacks=True)
            return first, info.value, await task, attempts

    first, gave_up, final, attempts = run(go())
    assert first.status == 404 and first.call_class is CallClass.FREE_VARIANT_ENDED
    assert first.message == free_variant_ended_message(FREE, TWIN)
    assert first.availability["code"] == "free_variant_ended"
    assert first.availability["retryable"] is False
    assert first.fallback_models == (TWIN,) and first.retry_after_s is None
    assert gave_up.attempts == 1
    assert f"The paid model is {TWIN}; follow_fallbacks=True switches to it." in gave_up.reason
    assert [x.overrides for x in attempts] == [{"model": TWIN}] and e.waits == []
    prompt_price, completion_price = price(TWIN)
    assert final.ok and final.model == TWIN
    assert final.body["usage"]["cost"] == pytest.approx(
        final.body["usage"]["prompt_tokens"] * prompt_price
        + final.body["usage"]["completion_tokens"] * completion_price)
    assert final.body["usage"]["cost"] > 0
