"""The decision engine: check order, windows, counters, messages and headers (spec sections 3-4)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest

from orwidgets.engine import (
    Engine,
    Reason,
    Request,
    day_reset_ms,
    minute_reset_ms,
    truncate_key,
)
from orwidgets.policy import (
    FREE_DAILY_HIGH,
    FREE_DAILY_LOW,
    FREE_PER_MINUTE,
    MESSAGES,
    LimitSource,
    affordability_message,
)

# 2026-03-20 22:52:10 UTC: mid-minute, mid-day.
T0 = datetime(2026, 3, 20, 22, 52, 10, tzinfo=timezone.utc).timestamp()
NEXT_MINUTE_MS = int(datetime(2026, 3, 20, 22, 53, tzinfo=timezone.utc).timestamp() * 1000)
NEXT_MIDNIGHT_MS = int(datetime(2026, 3, 21, tzinfo=timezone.utc).timestamp() * 1000)
FREE = Request.free_call()


def make(balance=0.0, purchased=0.0, policy="2025-04"):
    engine = Engine(policy)
    acct, key = engine.create_account(balance, purchased)
    return engine, acct.account_id


def spread_free_calls(engine, aid, n, start):
    """n free calls, at most 20 per clock minute, starting at ``start``; returns the decisions."""
    out = []
    for i in range(n):
        out.append(engine.decide(aid, FREE, start + (i // FREE_PER_MINUTE) * 60 + (i % FREE_PER_MINUTE) * 0.1))
    return out


def test_reset_helpers_give_next_minute_and_next_midnight_in_ms():
    assert minute_reset_ms(T0) == NEXT_MINUTE_MS
    assert day_reset_ms(T0) == NEXT_MIDNIGHT_MS


def test_20_free_calls_in_a_minute_pass_and_the_21st_is_429_per_minute():
    engine, aid = make()
    for i in range(FREE_PER_MINUTE):
        assert engine.decide(aid, FREE, T0 + i).status == 200
    d = engine.decide(aid, FREE, T0 + 20)
    assert d.status == 429
    assert d.reason is Reason.FREE_PER_MINUTE
    assert d.message == "Rate limit exceeded: free-models-per-min. "
    assert d.headers() == {
        "X-RateLimit-Limit": "20",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(NEXT_MINUTE_MS),
    }
    assert d.limit_source == LimitSource.FREE_PER_MINUTE.value == "openrouter_free_tier_per_minute"


def test_free_calls_pass_again_at_the_next_clock_minute():
    engine, aid = make()
    for i in range(FREE_PER_MINUTE + 1):
        engine.decide(aid, FREE, T0 + i)
    assert engine.decide(aid, FREE, NEXT_MINUTE_MS / 1000).status == 200


def test_per_minute_error_body_is_the_spec_shape():
    engine, aid = make()
    for i in range(FREE_PER_MINUTE):
        engine.decide(aid, FREE, T0)
    d = engine.decide(aid, FREE, T0)
    body = d.error_body("user_x")
    assert body == {
        "error": {
            "code": 429,
            "message": MESSAGES.free_per_minute,
            "metadata": {
                "headers": d.headers(),
                "limit_source": "openrouter_free_tier_per_minute",
                "remedy_hint": MESSAGES.remedy_per_minute,
                "provider_name": None,
            },
        },
        "user_id": "user_x",
    }


def test_51st_free_call_without_topup_is_429_per_day_low_tier():
    engine, aid = make()
    decisions = spread_free_calls(engine, aid, FREE_DAILY_LOW + 1, T0 - 3 * 3600)
    assert [d.status for d in decisions[:-1]] == [200] * FREE_DAILY_LOW
    d = decisions[-1]
    assert (d.status, d.reason) == (429, Reason.FREE_PER_DAY_LOW)
    assert d.message == (
        "Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model requests per day"
    )
    assert d.headers()["X-RateLimit-Limit"] == "50"
    assert d.headers()["X-RateLimit-Remaining"] == "0"
    assert d.headers()["X-RateLimit-Reset"] == str(NEXT_MIDNIGHT_MS)
    assert d.remedy_hint == MESSAGES.remedy_per_day_low


def test_with_10_credits_purchased_the_limit_is_1000_and_the_message_high_tier():
    engine, aid = make(balance=0.0, purchased=10.0)  # balance spent: the tier stays
    decisions = spread_free_calls(engine, aid, FREE_DAILY_HIGH + 1, T0 - 20 * 3600)
    assert sum(d.ok for d in decisions) == FREE_DAILY_HIGH
    d = decisions[-1]
    assert (d.status, d.reason) == (429, Reason.FREE_PER_DAY_HIGH)
    assert d.message == "Rate limit exceeded: free-models-per-day-high-balance. "
    assert d.headers()["X-RateLimit-Limit"] == "1000"
    assert d.remedy_hint == "Wait for the daily reset"


def test_daily_counter_resets_at_midnight_utc():
    engine, aid = make()
    before_midnight = NEXT_MIDNIGHT_MS / 1000 - 3600
    spread_free_calls(engine, aid, FREE_DAILY_LOW, before_midnight - 600)
    assert engine.decide(aid, FREE, NEXT_MIDNIGHT_MS / 1000 - 0.001).reason is Reason.FREE_PER_DAY_LOW
    d = engine.decide(aid, FREE, NEXT_MIDNIGHT_MS / 1000)
    assert d.ok and d.free_used_today == 1


def test_rejected_attempts_count_so_used_exceeds_limit():
    engine, aid = make()
    spread_free_calls(engine, aid, FREE_DAILY_LOW + 10, T0 - 3 * 3600)
    snap = engine.snapshot(aid, T0)
    assert snap.free_used_today == FREE_DAILY_LOW + 10
    assert snap.free_remaining_today == 0


def test_legacy_gives_200_a_day_to_everyone():
    engine, aid = make(purchased=50, policy="legacy-2024")
    decisions = spread_free_calls(engine, aid, 201, T0 - 12 * 3600)
    assert sum(d.ok for d in decisions) == 200
    assert decisions[-1].message == MESSAGES.free_per_day_legacy


@pytest.mark.parametrize("free", [True, False])
def test_negative_balance_is_402_on_free_and_paid_models(free):
    engine, aid = make(balance=-0.5, purchased=10)
    request = FREE if free else Request.paid_call(0.001)
    d = engine.decide(aid, request, T0)
    assert (d.status, d.reason) == (402, Reason.NEGATIVE_BALANCE)
    assert d.message == "Insufficient credits. Add more using https://openrouter.ai/settings/credits"
    assert d.headers() == {}
    assert d.error_body("u") == {"error": {"code": 402, "message": d.message}, "user_id": "u"}


def test_negative_balance_402_does_not_spend_free_quota():
    engine, aid = make(balance=-0.5)
    engine.decide(aid, FREE, T0)
    assert engine.snapshot(aid, T0).free_used_today == 0


def test_paid_burst_admits_exactly_rps_per_second_and_rejects_the_rest():
    engine, aid = make(balance=5.0, purchased=5.0)
    req = Request.paid_call(0.0001)
    for second in range(3):
        decisions = [engine.decide(aid, req, T0 + second + i / 100) for i in range(12)]
        assert [d.status for d in decisions] == [200] * 5 + [429] * 7
        rejected = decisions[-1]
        assert rejected.reason is Reason.PAID_RATE
        assert rejected.message == MESSAGES.paid_rate
        assert rejected.headers()["X-RateLimit-Limit"] == "5"
        assert rejected.headers()["X-RateLimit-Reset"] == str((int(T0) + second + 1) * 1000)


def test_success_carries_no_rate_limit_headers():
    engine, aid = make(balance=5.0)
    assert engine.decide(aid, Request.paid_call(0.01), T0).headers() == {}
    assert engine.decide(aid, FREE, T0).headers() == {}


def test_rps_falls_as_paid_calls_spend_the_balance():
    engine, aid = make(balance=3.0, purchased=3.0)
    req = Request.paid_call(0.5)
    admitted = []
    for second in range(5):
        admitted.append(sum(engine.decide(aid, req, T0 + second).ok for _ in range(10)))
    # The cap is read from the balance at each request:
    # s0: $3.00 (3 rps) ok, $2.50 (3 rps) ok, $2.00 -> 2 rps with 2 done: 429.
    # s1: $2.00 ok, $1.50 (2 rps) ok.  s2: $1.00 ok, then $0.50 -> 1 rps: 429.
    # s3: $0.50 ok -> $0.00.  s4: nothing affordable: 402.
    assert admitted == [2, 2, 1, 1, 0]
    assert engine.snapshot(aid, T0 + 4).balance_usd == 0.0


def test_current_policy_has_no_paid_rate_cap():
    engine, aid = make(balance=2.0, policy="current")
    req = Request.paid_call(0.001)
    assert all(engine.decide(aid, req, T0).ok for _ in range(50))


def test_affordability_402_fills_in_n_and_m():
    engine, aid = make(balance=0.01)
    # 100 prompt tokens at $1e-6 and up to 64000 output tokens at $4e-6: costs up to $0.2561.
    req = Request(free=False, prompt_tokens=100, max_tokens=64000, completion_tokens=50,
                  prompt_price=1e-6, completion_price=4e-6)
    d = engine.decide(aid, req, T0)
    assert (d.status, d.reason) == (402, Reason.AFFORDABILITY)
    assert d.message == affordability_message(64000, (0.01 - 100e-6) // 4e-6)
    assert "You requested up to 64000 tokens, but can only afford 2475." in d.message
    assert d.error_body("u")["error"]["metadata"] == {"provider_name": None}


def test_zero_balance_cannot_afford_a_paid_call():
    engine, aid = make(balance=0.0)
    assert engine.decide(aid, Request.paid_call(0.001), T0).reason is Reason.AFFORDABILITY


def test_success_charges_the_cost_not_the_maximum():
    engine, aid = make(balance=1.0)
    req = Request(free=False, prompt_tokens=10, max_tokens=1000, completion_tokens=20,
                  prompt_price=1e-6, completion_price=2e-6)
    d = engine.decide(aid, req, T0)
    assert d.ok and d.cost_usd == pytest.approx(10e-6 + 20 * 2e-6)
    assert d.balance_usd == pytest.approx(1.0 - 50e-6)


def test_limits_are_account_wide_across_keys():
    engine, aid = make()
    second_key = engine.add_key(aid)
    first_key = engine.account(aid).keys[0]
    for i in range(FREE_PER_MINUTE):
        engine.decide_for_key(first_key if i % 2 else second_key, FREE, T0)
    assert engine.decide_for_key(second_key, FREE, T0).reason is Reason.FREE_PER_MINUTE


def test_unknown_key_gives_none():
    engine, _ = make()
    assert engine.decide_for_key("sk-or-v1-" + "0" * 64, FREE, T0) is None


def test_topup_raises_balance_and_purchases_and_unlocks_the_high_tier():
    engine, aid = make()
    engine.topup(aid, 10)
    snap = engine.snapshot(aid, T0)
    assert (snap.balance_usd, snap.purchased_usd, snap.free_daily_limit) == (10.0, 10.0, 1000)
    with pytest.raises(ValueError, match="usd"):
        engine.topup(aid, -1)


def test_engine_clock_is_used_when_no_time_is_given():
    now = [T0]
    engine = Engine(clock=lambda: now[0])
    acct, _ = engine.create_account()
    for _ in range(FREE_PER_MINUTE):
        engine.decide(acct.account_id, FREE)
    assert engine.decide(acct.account_id, FREE).reason is Reason.FREE_PER_MINUTE
    now[0] += 60
    assert engine.decide(acct.account_id, FREE).ok


def test_no_clock_and_no_time_is_a_clear_error():
    engine, aid = make()
    with pytest.raises(ValueError, match="now"):
        engine.decide(aid, FREE)


def test_keys_look_real_and_never_show_in_reprs():
    engine, aid = make()
    key = engine.account(aid).keys[0]
    assert key.startswith("sk-or-v1-") and len(key) == 9 + 64
    int(key[9:], 16)
    assert key not in repr(engine.account(aid)) and key not in repr(engine)
    label = truncate_key(key)
    assert label.startswith("sk-or-v1-") and "..." in label and len(label) < 20


def test_1000_concurrent_decisions_from_threads_are_exact():
    # 2025-07: no in-flight budget, so the balance alone limits the paid calls
    engine, aid = make(balance=0.5, purchased=10, policy="2025-07")
    paid = Request.paid_call(0.001)  # affords exactly 500
    barrier = threading.Barrier(8)

    def work(i):
        if i < 8:
            barrier.wait()
        return engine.decide(aid, paid if i % 2 else FREE, T0 + (i % 2) * 0)

    with ThreadPoolExecutor(max_workers=8) as pool:
        decisions = list(pool.map(work, range(1000)))
    paid_ok = sum(d.ok for i, d in enumerate(decisions) if i % 2)
    free_ok = sum(d.ok for i, d in enumerate(decisions) if not i % 2)
    snap = engine.snapshot(aid, T0)
    assert paid_ok == 500 and snap.balance_usd == 0.0
    assert free_ok == FREE_PER_MINUTE
    assert snap.free_used_today == 500 and snap.free_used_this_minute == 500


def test_decisions_are_safe_under_asyncio_tasks_in_threads():
    engine, aid = make(balance=0.2, policy="2025-07")
    paid = Request.paid_call(0.001)

    async def burst():
        async def one():
            await asyncio.sleep(0)
            return engine.decide(aid, paid, T0)

        return await asyncio.gather(*(one() for _ in range(250)))

    def run():
        return asyncio.run(burst())

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = [d for batch in pool.map(lambda _: run(), range(4)) for d in batch]
    assert sum(d.ok for d in results) == 200
    assert engine.snapshot(aid, T0).balance_usd == 0.0


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "1"])
def test_bad_account_values_raise_value_error_naming_the_parameter(bad):
    engine, aid = make()
    with pytest.raises(ValueError, match="balance_usd"):
        engine.set_account(aid, balance_usd=bad)
    with pytest.raises(ValueError, match="purchased_usd"):
        engine.create_account(0, bad)
    with pytest.raises(ValueError, match="now"):
        engine.decide(aid, FREE, bad)


def test_refund_gives_back_a_charge_and_takes_it_off_usage():
    engine, aid = make(balance=1.0)
    d = engine.decide(aid, Request.paid_call(0.25), T0)
    engine.refund(aid, d.cost_usd)
    snap = engine.snapshot(aid, T0)
    assert (snap.balance_usd, snap.usage_usd, snap.usage_daily_usd) == (1.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="usd"):
        engine.refund(aid, -1)
