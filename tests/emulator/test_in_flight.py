"""The in-flight spending budget over HTTP (2026-08): exact 402 bodies and headers, and the hold
of each request from admission until its answer is sent, on every path."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from emulator_support import ADMIN, FakeTime

from orwidgets.emulator import DEFAULT_FREE_MODEL, DEFAULT_PAID_MODEL, create_app
from orwidgets.engine import Request
from orwidgets.policy import MESSAGES

CHAT = "/api/v1/chat/completions"
# The captured texts (tests/test_policy.py pins each one to the reference, word for word).
IN_FLIGHT_TEXT, WEIGHT_TEXT = MESSAGES.in_flight, MESSAGES.weight_exceeds_budget
CREDITS_HINT, IN_FLIGHT_HINT = MESSAGES.remedy_credits, MESSAGES.remedy_in_flight


def newest(api) -> None:
    assert api.admin("PUT", "/_emulator/policy", {"policy": "2026-08"}).status_code == 200


def occupy(api, who: str, usd: float) -> None:
    """Another client's requests of the same account, running: they hold ``usd`` of the budget."""
    key = api.emu.engine.key(api.keys[who])
    api.emu.engine.decide_for_key(key, Request.paid_call(0.0, usd), api.time.t, duration_s=None)


# --- exact answers (in memory and over real sockets) ---------------------------------------------


def test_a_call_beside_a_full_budget_gets_the_in_flight_402_with_retry_after(api):
    newest(api)
    occupy(api, "small", 0.00996)  # of the $0.01 budget the $0.02 balance gives
    r = api.chat("small", model=DEFAULT_PAID_MODEL, max_tokens=100)  # holds about $0.00006
    assert r.status_code == 402
    assert r.json() == {
        "error": {
            "code": 402,
            "message": IN_FLIGHT_TEXT,
            "metadata": {
                "reason": "in_flight_budget_exhausted",
                "limit_source": "openrouter_in_flight_budget",
                "remedy_hint": IN_FLIGHT_HINT,
                "headers": {"Retry-After": "120"},
                "provider_name": None,
            },
        },
        "user_id": api.user_id("small"),
    }
    assert r.headers["Retry-After"] == "120"
    assert not any(name.lower().startswith("x-ratelimit") for name in r.headers)


def test_a_call_larger_than_the_budget_gets_weight_exceeds_budget_without_retry_after(api):
    newest(api)
    # gpt-4o, 1,500 tokens: about $0.015, which $0.02 affords but a $0.01 budget cannot hold
    r = api.chat("small", model="openai/gpt-4o", max_tokens=1500)
    assert r.status_code == 402
    assert r.json() == {
        "error": {"code": 402, "message": WEIGHT_TEXT,
                  "metadata": {"reason": "weight_exceeds_budget", "limit_source": "openrouter_credits",
                               "remedy_hint": CREDITS_HINT, "provider_name": None}},
        "user_id": api.user_id("small"),
    }
    assert "retry-after" not in r.headers


def test_the_affordability_402_of_2026_carries_limit_source_and_previous_errors(api):
    newest(api)
    # no max_tokens: gpt-4o's 16,384 at $0.00001 against $0.02 after a 2-token prompt: 1,999
    r = api.chat("small", model="openai/gpt-4o")
    text = ("This request requires more credits, or fewer max_tokens. You requested up to 16384 "
            "tokens, but can only afford 1999. To increase, visit "
            "https://openrouter.ai/settings/credits and add more credits")
    assert r.status_code == 402
    assert r.json() == {
        "error": {"code": 402, "message": text,
                  "metadata": {"limit_source": "openrouter_credits", "remedy_hint": CREDITS_HINT,
                               "provider_name": None,
                               "previous_errors": [{"code": 402, "message": text}]}},
        "user_id": api.user_id("small"),
    }


def test_the_negative_balance_402_of_2026_carries_limit_source(api):
    newest(api)
    r = api.chat("negative")
    assert r.json() == {
        "error": {"code": 402, "message": MESSAGES.negative_balance,
                  "metadata": {"limit_source": "openrouter_credits", "remedy_hint": CREDITS_HINT,
                               "provider_name": None}},
        "user_id": api.user_id("negative"),
    }


@pytest.mark.parametrize("policy", ["2025-04", "2025-07"])
def test_older_versions_keep_their_402_bodies(api, policy):
    api.admin("PUT", "/_emulator/policy", {"policy": policy})
    assert api.chat("negative").json()["error"] == {"code": 402, "message": MESSAGES.negative_balance}
    assert api.chat("small", model="openai/gpt-4o").json()["error"]["metadata"] == {"provider_name": None}


@pytest.mark.parametrize("method, path", [("POST", CHAT), ("GET", "/api/v1/key"),
                                          ("GET", "/api/v1/credits"), ("GET", "/api/v1/keys")])
def test_a_keyless_request_under_2026_08_reads_no_cookie_auth_credentials(api, method, path):
    newest(api)
    r = api.client.request(method, path, json={"messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 401
    assert r.json() == {"error": {"code": 401, "message": "No cookie auth credentials found"}}


def test_free_models_are_never_held(api):
    newest(api)
    occupy(api, "small", 0.01)  # the whole budget
    assert api.chat("small", model=DEFAULT_FREE_MODEL).status_code == 200


def test_a_finished_call_settles_its_cost_for_settle_s(api):
    newest(api)
    r = api.chat("small", model=DEFAULT_PAID_MODEL, max_tokens=10)
    assert r.status_code == 200
    cost = r.json()["usage"]["cost"]
    held = api.account("acct_small")["in_flight"]
    assert held["running_requests"] == 0
    assert held["settling_usd"] == pytest.approx(cost, abs=1e-15)
    api.time.t += 120
    assert api.account("acct_small")["in_flight"]["held_usd"] == 0.0


# --- the hold of a request in flight (in memory, with a sleep the test controls) ------------------


class Gate:
    """Stands in for the emulator's sleep: waits until the test opens it."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.waiting = 0

    async def __call__(self, seconds: float) -> None:
        self.waiting += 1
        await self.event.wait()


def in_flight(emu, name="small"):
    return emu.engine.snapshot(f"acct_{name}")


async def request(client: httpx.AsyncClient, emu, who: str = "small", **body: Any) -> httpx.Response:
    payload = {"model": DEFAULT_PAID_MODEL, "messages": [{"role": "user", "content": "hello"}],
               "max_tokens": 10, **body}
    return await client.post(CHAT, json=payload, headers={"Authorization": f"Bearer {emu.demo_keys[who]}"})


async def until(predicate, tries: int = 200) -> None:
    for _ in range(tries):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


def drive(scenario, rules: list | None = None, **app_kwargs: Any):
    """Run ``scenario(client, emulator, gate)`` against a fresh 2026-08 app in memory, whose
    sleeps wait for ``gate``; returns the emulator and what the scenario returned."""
    app_kwargs.setdefault("latency_ms", (30, 30))
    app = create_app(policy="2026-08", admin_token=ADMIN, clock=FakeTime(), **app_kwargs)
    emu = app.state.emulator
    emu.sleep = gate = Gate()
    if rules:
        emu.faults.configure({"rules": rules})

    async def main():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            return await scenario(c, emu, gate)

    return emu, asyncio.run(main())


def answer_one(rules: list | None = None, **body: Any):
    """One request without waiting (latency 0); the emulator and its answer."""
    return drive(lambda c, emu, gate: request(c, emu, **body), rules, latency_ms=0)


def test_a_request_holds_its_estimate_while_it_waits_and_its_cost_once_answered():
    async def scenario(c, emu, gate):
        task = asyncio.create_task(request(c, emu))
        await until(lambda: gate.waiting == 1)
        during = in_flight(emu)
        gate.event.set()
        return during, await task

    emu, (during, r) = drive(scenario)
    # 2 prompt tokens at $0.00000015 and 10 at $0.0000006
    assert (during.running_requests, during.running_usd) == (1, pytest.approx(0.0000063, abs=1e-15))
    after = in_flight(emu)
    assert r.status_code == 200
    assert (after.running_requests, after.settling_usd) == (0, pytest.approx(r.json()["usage"]["cost"]))


def test_requests_in_flight_at_once_never_hold_more_than_the_budget():
    async def scenario(c, emu, gate):
        # no max_tokens: each holds 2 x $0.00000015 + 4,096 x $0.0000006 = $0.0024579
        tasks = [asyncio.create_task(request(c, emu, max_tokens=None)) for _ in range(8)]
        await until(lambda: gate.waiting == 4 and sum(t.done() for t in tasks) == 4)
        during = in_flight(emu)
        gate.event.set()
        return during, await asyncio.gather(*tasks)

    _, (during, responses) = drive(scenario)
    assert sorted(r.status_code for r in responses) == [200] * 4 + [402] * 4
    assert during.running_requests == 4 and during.running_usd <= during.in_flight_budget_usd == 0.01


def test_a_cancelled_request_releases_its_hold_and_is_refunded():
    async def scenario(c, emu, gate):
        task = asyncio.create_task(request(c, emu))
        await until(lambda: gate.waiting == 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    emu, _ = drive(scenario)
    after = in_flight(emu)
    assert (after.running_requests, after.held_usd, after.balance_usd) == (0, 0.0, 0.02)


@pytest.mark.parametrize("rule", [{"kind": "upstream_429"}, {"kind": "http_502"},
                                  {"kind": "http_503", "retry_after_s": 5}])
def test_an_injected_failure_releases_the_hold_and_costs_nothing(rule):
    emu, r = answer_one([rule])
    assert r.status_code >= 429
    after = in_flight(emu)
    assert (after.running_requests, after.held_usd, after.balance_usd) == (0, 0.0, 0.02)


def test_a_stream_holds_until_it_ends_and_then_settles_its_cost():
    emu, r = answer_one(stream=True)
    assert r.status_code == 200 and r.text.endswith("data: [DONE]\n\n")
    after = in_flight(emu)
    assert after.running_requests == 0 and after.settling_usd > 0


def test_a_mid_stream_failure_releases_the_hold_and_costs_nothing():
    emu, r = answer_one([{"kind": "mid_stream_429"}], stream=True)
    assert '"finish_reason":"error"' in r.text
    after = in_flight(emu)
    assert (after.running_requests, after.held_usd, after.balance_usd) == (0, 0.0, 0.02)


def test_a_client_that_gives_up_on_a_hang_releases_the_hold(uvicorn_api):
    api = uvicorn_api
    newest(api)
    api.emu.sleep = asyncio.sleep  # a real hang on the server's own loop
    api.admin("POST", "/_emulator/faults", {"rules": [{"kind": "hang", "delay_ms": 30_000}]})
    with pytest.raises(httpx.ReadTimeout):
        api.client.post(CHAT, json={"model": DEFAULT_PAID_MODEL, "max_tokens": 10,
                                    "messages": [{"role": "user", "content": "hi"}]},
                        headers=api.auth("small"), timeout=0.3)
    deadline = time.monotonic() + 5  # the server notices the closed connection on its own loop
    while api.account("acct_small")["in_flight"]["running_requests"] and time.monotonic() < deadline:
        time.sleep(0.01)
    held = api.account("acct_small")
    assert held["in_flight"]["running_requests"] == 0 and held["in_flight"]["held_usd"] == 0.0
    assert held["balance_usd"] == 0.02  # nothing was delivered: refunded
