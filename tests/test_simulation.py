"""Simulated time over the same engine: per-second series for the planner and the tutorial."""

from __future__ import annotations

import math

import pytest

from orwidgets.engine import Reason
from orwidgets.policy import FREE_DAILY_LOW, FREE_PER_MINUTE, paid_rps
from orwidgets.simulation import DEFAULT_START, TopUp, Traffic, simulate


def test_paid_rps_falls_as_the_balance_is_spent():
    # $20 at 10 calls/s of $0.01: $0.10 a second. The cap is ceil(balance) until it drops below 10.
    result = simulate(Traffic(rps=10, cost_per_call_usd=0.01), 200, balance_usd=20.0)
    assert result.paid_rps_cap[0] == paid_rps(result.balance_usd[0])
    # Balance after second i (all admitted while cap >= 10): 20 - 0.1 (i + 1).
    # The cap drops below 10 once the balance is <= 9: 20 - 0.1(i+1) <= 9  ->  i >= 109.
    assert result.first_cap_below(10) == 109
    assert result.outcomes[Reason.PAID_RATE][110] > 0
    assert result.paid_rps_cap[-1] < result.paid_rps_cap[0]
    assert all(a >= b for a, b in zip(result.balance_usd, result.balance_usd[1:]))


def test_free_traffic_hits_the_minute_then_the_day():
    # One free call every 2 s: 30 attempts a minute, every one counted in the day.
    # Minute 0: 20 ok, 10 per-minute 429 (day counter 30).
    # Minute 1: 20 pass the minute check and the day check (30..49 < 50), 10 per-minute 429.
    # Minute 2: the day counter is at 60 >= 50: 20 per-day 429, then 10 per-minute 429.
    result = simulate(Traffic(rps=0.5, free_fraction=1.0), 180, balance_usd=0.0)
    per_minute = [sum(result.outcomes[r][m * 60:(m + 1) * 60]) for m in range(3)
                  for r in (Reason.OK, Reason.FREE_PER_MINUTE, Reason.FREE_PER_DAY_LOW)]
    assert per_minute == [FREE_PER_MINUTE, 10, 0, FREE_PER_MINUTE, 10, 0, 0, 10, FREE_PER_MINUTE]
    assert FREE_DAILY_LOW == 50


def test_topup_lands_at_its_second():
    result = simulate(
        Traffic(rps=1, cost_per_call_usd=1.0, topups=(TopUp(at_s=5, usd=10),)), 10, balance_usd=2.0
    )
    assert result.outcomes[Reason.OK][:5] == [1, 1, 0, 0, 0]
    assert result.outcomes[Reason.AFFORDABILITY][2:5] == [1, 1, 1]
    # 0 + 10 bought at second 5, minus the $1 call admitted in that second.
    assert result.balance_usd[5] == 9.0
    assert result.outcomes[Reason.OK][5:] == [1] * 5


def test_fractional_and_step_patterns_send_the_right_totals():
    result = simulate(Traffic(rps=[(0, 0.5), (10, 3)]), 20, balance_usd=100)
    assert sum(result.offered_paid[:10]) == 5
    assert sum(result.offered_paid[10:]) == 30


def test_a_simulated_day_fits_the_series_and_totals():
    result = simulate(Traffic(rps=5, free_fraction=0.2, cost_per_call_usd=0.0001), 86_400, balance_usd=50)
    assert len(result.seconds) == 86_400
    assert sum(result.offered_free) + sum(result.offered_paid) == 5 * 86_400
    assert sum(result.totals().values()) == 5 * 86_400
    assert result.start == DEFAULT_START


def test_2025_07_never_rate_limits_paid_calls():
    result = simulate(Traffic(rps=50, cost_per_call_usd=0.001), 60, balance_usd=2.0, policy="2025-07")
    assert result.count(Reason.PAID_RATE) == 0
    assert result.count(Reason.OK) == 2000
    assert result.paid_rps_cap[0] is None


@pytest.mark.parametrize(
    "kwargs, param",
    [
        ({"free_fraction": 1.5}, "free_fraction"),
        ({"cost_per_call_usd": math.nan}, "cost_per_call_usd"),
        ({"rps": -1}, "rps"),
    ],
)
def test_bad_traffic_is_a_clear_error(kwargs, param):
    with pytest.raises(ValueError, match=param):
        Traffic(**kwargs)


def test_bad_duration_is_a_clear_error():
    with pytest.raises(ValueError, match="duration_s"):
        simulate(Traffic(), 1.5)


def test_to_dict_holds_every_series_under_plain_names():
    result = simulate(Traffic(rps=2, cost_per_call_usd=1.0), 3, balance_usd=3.0)
    data = result.to_dict()
    assert data["policy"] == "2025-04" and data["seconds"] == [0, 1, 2]
    assert data["ok"] == result.outcomes[Reason.OK] == [2, 1, 0]
    assert data["balance_usd"] == [1.0, 0.0, 0.0]
    assert set(data) >= {reason.value for reason in Reason}


def test_a_fan_out_on_a_small_balance_meets_the_in_flight_budget():
    # $0.02 under 2026-08: a budget of $0.01. Calls cost $0.0001 but hold their $0.0025 maximum
    # for the 10 s they run: 4 of a fan-out of 8 fit. Their costs then settle for 120 s, so two
    # seconds after they end 3 of the next 4 fit (0.0004 + 3 x 0.0025 <= half of $0.0196).
    traffic = Traffic(rps=[(0, 8), (1, 0), (12, 4), (13, 0)], cost_per_call_usd=0.0001,
                      max_cost_per_call_usd=0.0025, duration_s=10)
    result = simulate(traffic, 14, balance_usd=0.02, purchased_usd=10, policy="2026-08")
    assert (result.outcomes[Reason.OK][0], result.outcomes[Reason.IN_FLIGHT_BUDGET][0]) == (4, 4)
    assert (result.outcomes[Reason.OK][12], result.outcomes[Reason.IN_FLIGHT_BUDGET][12]) == (3, 1)
    assert result.in_flight_budget_usd[0] == pytest.approx(0.01)
    assert result.in_flight_held_usd[0] == pytest.approx(0.01)
    assert result.in_flight_held_usd[11] == pytest.approx(0.0004)
    assert result.count(Reason.IN_FLIGHT_BUDGET) == 5


def test_older_versions_report_no_in_flight_budget():
    result = simulate(Traffic(rps=2, cost_per_call_usd=0.01, duration_s=5), 3, balance_usd=1.0)
    assert result.in_flight_budget_usd == [None] * 3 and result.in_flight_held_usd == [0.0] * 3


@pytest.mark.parametrize("kwargs, param", [
    ({"cost_per_call_usd": 0.01, "max_cost_per_call_usd": 0.001}, "max_cost_per_call_usd"),
    ({"duration_s": -1}, "duration_s"),
])
def test_bad_in_flight_traffic_is_a_clear_error(kwargs, param):
    with pytest.raises(ValueError, match=param):
        Traffic(**kwargs)
