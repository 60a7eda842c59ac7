"""The in-flight spending budget in the engine (2026-08): holds, settlement, the two 402s."""

from __future__ import annotations

import threading
from dataclasses import replace
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest

from orwidgets.engine import Engine, Reason, Request
from orwidgets.policy import IN_FLIGHT_DEFAULTS, MESSAGES, InFlightParams

T0 = datetime(2026, 9, 20, 10, 0, 0, tzinfo=timezone.utc).timestamp()
# The captured texts (tests/test_policy.py pins each one to the reference, word for word).
IN_FLIGHT_TEXT, WEIGHT_TEXT = MESSAGES.in_flight, MESSAGES.weight_exceeds_budget
CREDITS_HINT, IN_FLIGHT_HINT = MESSAGES.remedy_credits, MESSAGES.remedy_in_flight


def make(balance: float, policy: str = "2026-08", **params):
    engine = Engine(policy, in_flight=InFlightParams(**params) if params else None)
    acct, _ = engine.create_account(balance, 10.0)
    return engine, acct.account_id


def running(engine, aid, request, n, now=T0):
    """n decisions at ``now`` whose requests keep running until completed."""
    return [engine.decide(aid, request, now, duration_s=None) for _ in range(n)]


# $1.00 of balance: the budget is min(0.5 x 1.00, 25) = $0.50. This call costs $0.10 and its
# estimate (its maximum cost) is $0.20: two fit, the third does not.
CALL = Request.paid_call(0.10, 0.20)


def test_two_calls_fit_the_budget_and_the_third_gets_the_in_flight_402():
    engine, aid = make(1.0)
    first, second, third = running(engine, aid, CALL, 3)
    assert first.ok and second.ok
    assert (third.status, third.reason) == (402, Reason.IN_FLIGHT_BUDGET)
    assert third.message == IN_FLIGHT_TEXT
    assert third.headers() == {"Retry-After": "120"}
    assert third.error_body("user_1") == {
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
        "user_id": "user_1",
    }
    snap = engine.snapshot(aid, T0)
    assert (snap.running_requests, snap.running_usd, snap.held_usd) == (2, 0.4, 0.4)
    assert snap.in_flight_budget_usd == 0.5  # from $1.00: the charges of running calls count back


def test_a_refused_call_changes_nothing():
    engine, aid = make(1.0)
    running(engine, aid, CALL, 2)
    before = engine.snapshot(aid, T0)
    assert not running(engine, aid, CALL, 1)[0].ok
    assert engine.snapshot(aid, T0) == before


def test_a_finished_call_holds_its_actual_cost_for_the_settlement_window_then_nothing():
    engine, aid = make(1.0)
    first, second = running(engine, aid, CALL, 2)
    assert engine.complete(first.hold, T0 + 1)
    assert engine.complete(second.hold, T0 + 1)
    snap = engine.snapshot(aid, T0 + 1)
    # two $0.10 costs settle; the budget is now half of the $0.80 left
    assert (snap.running_usd, snap.settling_usd, snap.in_flight_budget_usd) == (0.0, 0.2, 0.4)
    # $0.20 settling + $0.20 estimate = $0.40 fits $0.40 ...
    assert engine.decide(aid, CALL, T0 + 1, duration_s=None).ok
    # ... and the next one does not, until the first two settle 120 s after they ended
    assert engine.decide(aid, CALL, T0 + 120.5).reason is Reason.IN_FLIGHT_BUDGET
    assert engine.snapshot(aid, T0 + 121).settling_usd == 0.0
    assert engine.decide(aid, CALL, T0 + 121).ok


def test_complete_is_idempotent():
    engine, aid = make(1.0)
    (d,) = running(engine, aid, CALL, 1)
    assert engine.complete(d.hold, T0) is True
    assert engine.complete(d.hold, T0) is False
    assert engine.snapshot(aid, T0).settling_usd == 0.1


def test_a_failed_call_is_refunded_and_settles_nothing():
    engine, aid = make(1.0)
    (d,) = running(engine, aid, CALL, 1)
    engine.complete(d.hold, T0 + 2, failed=True)
    snap = engine.snapshot(aid, T0 + 2)
    assert (snap.balance_usd, snap.usage_usd, snap.held_usd, snap.running_requests) == (1.0, 0.0, 0.0, 0)


def test_a_call_with_a_duration_ends_by_itself():
    engine, aid = make(1.0)
    engine.decide(aid, CALL, T0, duration_s=30)
    assert engine.snapshot(aid, T0 + 29).running_usd == 0.2
    later = engine.snapshot(aid, T0 + 31)
    assert (later.running_usd, later.settling_usd) == (0.0, 0.1)
    assert engine.snapshot(aid, T0 + 30 + 120).held_usd == 0.0


def test_duration_zero_ends_after_the_other_decisions_of_the_same_instant():
    engine, aid = make(1.0)
    decisions = [engine.decide(aid, CALL, T0) for _ in range(3)]
    assert [d.ok for d in decisions] == [True, True, False]  # all three at T0 overlap
    assert engine.snapshot(aid, T0 + 0.001).running_usd == 0.0


def test_a_call_larger_than_the_whole_budget_is_weight_exceeds_budget_without_retry_after():
    engine, aid = make(1.0)
    d = engine.decide(aid, Request.paid_call(0.3, 0.6), T0)  # affordable ($0.60 <= $1.00), > $0.50
    assert (d.status, d.reason) == (402, Reason.WEIGHT_EXCEEDS_BUDGET)
    assert d.headers() == {}
    assert d.error_body("u") == {
        "error": {"code": 402, "message": WEIGHT_TEXT,
                  "metadata": {"reason": "weight_exceeds_budget", "limit_source": "openrouter_credits",
                               "remedy_hint": CREDITS_HINT, "provider_name": None}},
        "user_id": "u",
    }


def test_affordability_comes_before_the_budget_checks_and_carries_the_2026_metadata():
    engine, aid = make(1.0)
    req = Request(free=False, prompt_tokens=100, max_tokens=2000, completion_tokens=10,
                  prompt_price=1e-6, completion_price=1e-3)  # up to $2.0001 against $1.00
    d = engine.decide(aid, req, T0)
    text = ("This request requires more credits, or fewer max_tokens. You requested up to 2000 "
            "tokens, but can only afford 999. To increase, visit "
            "https://openrouter.ai/settings/credits and add more credits")
    assert (d.status, d.reason, d.message) == (402, Reason.AFFORDABILITY, text)
    assert d.error_body("u") == {
        "error": {"code": 402, "message": text,
                  "metadata": {"limit_source": "openrouter_credits", "remedy_hint": CREDITS_HINT,
                               "provider_name": None,
                               "previous_errors": [{"code": 402, "message": text}]}},
        "user_id": "u",
    }


def test_negative_balance_402_carries_the_2026_metadata_and_older_versions_stay_bare():
    body = make(-0.5)[0].decide("acct_0001", Request.free_call(), T0).error_body("u")
    assert body == {"error": {"code": 402, "message": MESSAGES.negative_balance,
                              "metadata": {"limit_source": "openrouter_credits",
                                           "remedy_hint": CREDITS_HINT, "provider_name": None}},
                    "user_id": "u"}
    old = make(-0.5, "2025-07")[0].decide("acct_0001", Request.free_call(), T0).error_body("u")
    assert old == {"error": {"code": 402, "message": MESSAGES.negative_balance}, "user_id": "u"}


@pytest.mark.parametrize("policy", ["legacy-2024", "2025-04", "2025-07"])
def test_older_versions_have_no_budget(policy):
    engine, aid = make(1.0, policy)
    decisions = running(engine, aid, Request.paid_call(0.01, 0.2), 10)
    assert decisions[0].ok  # (2025-04 and legacy allow one paid call per second at $1)
    assert Reason.IN_FLIGHT_BUDGET not in {d.reason for d in decisions}
    assert engine.snapshot(aid, T0).held_usd == 0.0


def test_at_or_above_the_threshold_no_budget_applies_but_calls_are_still_held():
    engine, aid = make(100.0)
    big = Request.paid_call(1.0, 60.0)  # more than the $25 ceiling
    assert all(d.ok for d in running(engine, aid, big, 3))
    snap = engine.snapshot(aid, T0)
    assert snap.in_flight_budget_usd is None and snap.running_usd == 180.0


def test_below_the_threshold_the_budget_stops_at_the_ceiling():
    engine, aid = make(99.99)
    assert engine.snapshot(aid, T0).in_flight_budget_usd == 25.0
    assert engine.decide(aid, Request.paid_call(1.0, 25.01), T0).reason is Reason.WEIGHT_EXCEEDS_BUDGET


def test_free_models_and_zero_estimates_are_never_held():
    engine, aid = make(0.01)
    assert all(d.ok for d in running(engine, aid, Request.free_call(), 20))
    assert all(d.ok for d in running(engine, aid, Request.paid_call(0.0), 50))
    assert engine.snapshot(aid, T0).running_requests == 0


@pytest.mark.parametrize("given, max_tokens, held_tokens", [
    (True, 100, 100),        # max_tokens given: as given ...
    (True, 9000, 4096),      # ... up to the completion cap
    (False, 16384, 4096),    # not given: the cap, whatever the model's own maximum
])
def test_the_estimate_counts_max_tokens_up_to_the_cap(given, max_tokens, held_tokens):
    engine, aid = make(50.0)
    req = Request(free=False, prompt_tokens=10, max_tokens=max_tokens, completion_tokens=5,
                  prompt_price=1e-6, completion_price=1e-5, max_tokens_given=given)
    running(engine, aid, req, 1)
    assert engine.snapshot(aid, T0).running_usd == pytest.approx(10e-6 + held_tokens * 1e-5, abs=1e-15)


def test_an_estimate_above_the_maximum_cost_is_an_affordability_402_naming_its_tokens():
    # [inv] a completion cap above the model's maximum: the estimate, not the maximum, is unpaid
    engine, aid = make(0.05, completion_cap_tokens=10_000)
    req = Request(free=False, prompt_tokens=1, max_tokens=1000, completion_tokens=5,
                  prompt_price=1e-5, completion_price=1e-5, max_tokens_given=False)
    d = engine.decide(aid, req, T0)
    assert d.reason is Reason.AFFORDABILITY
    assert "You requested up to 10000 tokens, but can only afford 4999." in d.message


def test_changed_numbers_apply_at_the_next_decision():
    engine, aid = make(1.0)
    engine.in_flight = IN_FLIGHT_DEFAULTS.updated({"fraction": 1.0, "retry_after_s": 30})
    decisions = running(engine, aid, CALL, 6)
    assert [d.ok for d in decisions] == [True] * 5 + [False]
    assert decisions[-1].headers() == {"Retry-After": "30"}


def test_n_identical_calls_at_one_instant_admit_exactly_what_the_budget_holds():
    engine, aid = make(1.0)
    decisions = running(engine, aid, Request.paid_call(0.003, 0.01), 80)
    assert sum(d.ok for d in decisions) == 50  # $0.50 / $0.01
    assert {d.reason for d in decisions[50:]} == {Reason.IN_FLIGHT_BUDGET}


def test_1000_concurrent_decisions_from_threads_never_hold_more_than_the_budget():
    engine, aid = make(1.0)
    req = Request.paid_call(0.001, 0.004)
    barrier = threading.Barrier(8)

    def work(i):
        if i < 8:
            barrier.wait()
        return engine.decide(aid, req, T0, duration_s=None)

    with ThreadPoolExecutor(max_workers=8) as pool:
        decisions = list(pool.map(work, range(1000)))
    assert sum(d.ok for d in decisions) == 125  # $0.50 / $0.004, exactly
    snap = engine.snapshot(aid, T0)
    assert snap.running_usd == pytest.approx(0.5, abs=1e-12) and snap.running_requests == 125
    for d in decisions:
        if d.ok:
            engine.complete(d.hold, T0 + 1)
    assert engine.snapshot(aid, T0 + 1 + IN_FLIGHT_DEFAULTS.settle_s).held_usd == 0.0


def test_a_batch_holds_like_single_decisions():
    one, many = make(1.0), make(1.0)
    singles = [one[0].decide(one[1], CALL, T0, duration_s=5) for _ in range(4)]
    batch = many[0].decide_batch(many[1], CALL, 4, T0, duration_s=5)
    assert batch == {Reason.OK: 2, Reason.IN_FLIGHT_BUDGET: 2}
    assert [d.reason for d in singles] == [Reason.OK] * 2 + [Reason.IN_FLIGHT_BUDGET] * 2
    for t in (T0, T0 + 6, T0 + 125.5):
        a, b = one[0].snapshot(one[1], t), many[0].snapshot(many[1], t)
        assert replace(a, user_id="") == replace(b, user_id="")


@pytest.mark.parametrize("duration", [-1, float("nan"), "5"])
def test_a_bad_duration_is_a_clear_error(duration):
    engine, aid = make(1.0)
    with pytest.raises(ValueError, match="duration_s"):
        engine.decide(aid, CALL, T0, duration_s=duration)
    with pytest.raises(ValueError, match="duration_s"):
        engine.decide_batch(aid, CALL, 2, T0, duration_s=duration)


def test_a_batch_cannot_run_until_completed():
    engine, aid = make(1.0)
    with pytest.raises(ValueError, match="duration_s"):
        engine.decide_batch(aid, CALL, 2, T0, duration_s=None)
