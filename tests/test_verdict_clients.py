"""Each verdict rule, end to end: real clients against the emulator of the pytest plugin, judged
from the journal it kept. A naive loop, the ``openai`` SDK with its own retries, and
``with_retries``; for every rule at least one of them breaks it and one does not.

The clock is frozen (the marker's ``freeze=True``) at a known instant, so that "within the same
second" or "before the next minute" never depends on how fast this machine is; the clients wait
on that clock.
"""

from __future__ import annotations

from collections import Counter

import pytest
from verdict_clients import NAIVE_RETRIES, SDK_RETRIES, naive, retrying, sdk

from orwidgets.engine import Request

FREE = "meta-llama/llama-3.3-70b-instruct:free"
PAID = "qwen/qwen3-32b"  # cheap: a few calls barely move a balance
NOON = "2026-01-01T12:00:00Z"


def rules(emu) -> Counter:
    """Rule id -> requests that broke it."""
    found = Counter()
    for finding in emu.verdict():
        found[finding.rule] += finding.count
    return found


def spend_the_day(emu, key: str) -> None:
    """The free account's 50 calls of today, 20 a minute, by a client that keeps to the limits."""
    import httpx

    with httpx.Client(base_url=emu.api_base, headers={"Authorization": f"Bearer {key}"}) as http:
        for i in range(50):
            if i and i % 20 == 0:
                emu.clock.advance(60)
            assert http.post("/chat/completions", json={
                "model": FREE, "messages": [{"role": "user", "content": "hi"}]}).status_code == 200
    emu.clock.advance(60)


# --- retry-before-reset -------------------------------------------------------------------------


@pytest.mark.openrouter(now="2026-01-01T12:00:01Z", freeze=True)
@pytest.mark.parametrize(("client", "broke"), [(naive, NAIVE_RETRIES), (sdk, SDK_RETRIES),
                                               (retrying, 0)])
def test_retry_before_reset(openrouter_emulator, client, broke):
    emu = openrouter_emulator
    done = client(emu, emu.keys["free"], FREE, 21)
    assert rules(emu) == (Counter({"retry-before-reset": broke}) if broke else Counter())
    assert done == (21 if client is retrying else 20)


# --- retry-after-daily-limit --------------------------------------------------------------------


@pytest.mark.openrouter(now=NOON, freeze=True)
@pytest.mark.parametrize(("client", "broke"), [(naive, NAIVE_RETRIES), (sdk, SDK_RETRIES),
                                               (retrying, 0)])
def test_retry_after_daily_limit(openrouter_emulator, client, broke):
    emu = openrouter_emulator
    spend_the_day(emu, emu.keys["free"])
    assert client(emu, emu.keys["free"], FREE, 5) == 0
    assert rules(emu) == (Counter({"retry-after-daily-limit": broke}) if broke else Counter())
    assert [e.call_class for e in emu.journal][50] == "free_per_day_low"


# --- retry-before-retry-after -------------------------------------------------------------------


@pytest.mark.openrouter(now=NOON, freeze=True,
                        faults=[{"kind": "upstream_429", "times": 1, "retry_after_s": 10}])
# The naive loop's retry and its next two calls all come within the 10 s: three requests.
@pytest.mark.parametrize(("client", "broke"), [(naive, 3), (sdk, 0), (retrying, 0)])
def test_retry_before_retry_after_of_an_upstream_429(openrouter_emulator, client, broke):
    emu = openrouter_emulator
    assert client(emu, emu.keys["topped_up"], FREE, 3) == 3
    assert rules(emu) == (Counter({"retry-before-retry-after": broke}) if broke else Counter())
    first, second = list(emu.journal)[:2]
    assert (first.call_class, first.retry_after) == ("upstream_429", 10)
    # the SDK honours Retry-After up to two minutes; with_retries adds jitter on top, never below
    assert second.time - first.time == (0 if client is naive else pytest.approx(10, abs=2.5))
    assert second.time - first.time >= (0 if client is naive else 10)


@pytest.mark.openrouter(policy="2026-08", now=NOON, freeze=True)
@pytest.mark.parametrize(("client", "broke", "done"), [(naive, NAIVE_RETRIES, 0), (sdk, 0, 0),
                                                       (retrying, 0, 2)])
def test_retry_before_retry_after_of_an_in_flight_402(openrouter_emulator, client, broke, done):
    emu = openrouter_emulator
    engine = emu.emulator.engine
    # Another client of the same account holds its in-flight budget; it ends a minute from now,
    # and its cost settles for settle_s (120 s) after.
    engine.decide_for_key(engine.key(emu.keys["small"]), Request.paid_call(0.0, 0.00996),
                          emu.clock.now(), duration_s=60)
    assert client(emu, emu.keys["small"], "openai/gpt-4o-mini", 2, max_tokens=100) == done
    assert rules(emu) == (Counter({"retry-before-retry-after": broke}) if broke else Counter())
    first = emu.journal[0]
    assert (first.status, first.call_class, first.retry_after) == (
        402, "in_flight_budget_exhausted", 120)


# --- retry-of-terminal-error --------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [("negative", 402), ("member", 403),
                                             ("sk-or-v1-" + "f" * 64, 401)])
@pytest.mark.parametrize(("client", "broke"), [(naive, NAIVE_RETRIES), (sdk, 0), (retrying, 0)])
def test_retry_of_terminal_error(openrouter_emulator, client, broke, who, status):
    emu = openrouter_emulator
    key = emu.keys.get(who, who)
    assert client(emu, key, FREE, 3) == 0
    assert rules(emu) == (Counter({"retry-of-terminal-error": broke}) if broke else Counter())
    assert {e.status for e in emu.journal} == {status}


# --- paid-rate-exceeded -------------------------------------------------------------------------


@pytest.mark.openrouter(policy="2025-04", now=NOON, freeze=True)
@pytest.mark.parametrize(("client", "broke", "done"), [(naive, NAIVE_RETRIES, 5), (sdk, 1, 8),
                                                       (retrying, 0, 8)])
def test_paid_rate_exceeded(openrouter_emulator, client, broke, done):
    emu = openrouter_emulator
    # `five` buys 5 paid requests per second under 2025-04; eight calls, one after another.
    # The SDK's first retry comes 0.375-0.5 s later (the same second: refused again), its second
    # 0.75-1 s after that (the next second: answered).
    assert client(emu, emu.keys["five"], PAID, 8) == done
    assert rules(emu) == (Counter({"paid-rate-exceeded": broke}) if broke else Counter())
