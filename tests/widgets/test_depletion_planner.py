"""DepletionPlanner: the forecast (closed form) checked by hand and against the engine."""

from __future__ import annotations

import math

import pytest
from widget_helpers import trace

from orwidgets import policy
from orwidgets.engine import Reason
from orwidgets.simulation import Traffic, simulate
from orwidgets.widgets import AccountModel, DepletionPlanner
from orwidgets.widgets.planner import (
    MAX_HORIZON_HOURS,
    PATTERNS,
    PlannerModel,
    balance_threshold,
    catalogue_prices,
)

V = policy.get_policy("2025-04")
HOUR = 3600
# The worked case: $10, 5 RPS needed, $0.001 a call.
B0, NEED, COST = 10.0, 5.0, 0.001
T = math.ceil(NEED) - 1  # the cap is below 5 once ceil(balance) <= 4, i.e. balance <= 4


def model(**kw) -> PlannerModel:
    acct = AccountModel(balance_usd=kw.pop("balance_usd", B0), purchased_usd=10.0,
                        policy=kw.pop("policy", "2025-04"))
    kw.setdefault("needed_rps", NEED)
    kw.setdefault("cost_per_request_usd", COST)
    return PlannerModel(acct, **kw)


@pytest.fixture
def planner(scheduler) -> DepletionPlanner:
    acct = AccountModel(balance_usd=B0, purchased_usd=10.0)
    return DepletionPlanner(acct, scheduler=scheduler, needed_rps=NEED,
                            cost_per_request_usd=COST)


# --- the threshold -------------------------------------------------------------------------------


@pytest.mark.parametrize("need", [1.5, 2, 2.5, 5, 37.2, 100, 499.5, 500])
def test_threshold_is_the_largest_balance_whose_rps_is_below_the_need(need):
    t = balance_threshold(need, V)
    assert policy.paid_rps(t, V) < need
    assert policy.paid_rps(t + 1e-6, V) >= need


@pytest.mark.parametrize("need", [0, 0.5, 1])
def test_needs_within_the_floor_are_never_short(need):
    assert balance_threshold(need, V) == "never"


def test_needs_above_the_cap_are_always_short():
    assert balance_threshold(V.paid_rps_cap + 1, V) == "always"


def test_current_has_no_balance_linked_threshold():
    assert balance_threshold(NEED, "current") == "never"


# --- forecast against the hand computation and the engine --------------------------------------


def test_forecast_crossing_equals_the_hand_computation():
    m = model()
    # (10 - 4) / (5 * 0.001) = 1,200 s: the balance reaches $4 after 20 minutes.
    assert m.threshold_usd == T
    assert m.crossing_s == pytest.approx((B0 - T) / (NEED * COST))
    assert round(m.crossing_s) == 1200


def test_simulated_crossing_equals_the_hand_computation():
    m = model(horizon_hours=1)
    m.simulate()
    assert m.sim_crossing_s == round((B0 - T) / (NEED * COST))


def test_simulation_counts_the_throttled_and_refused_calls():
    m = model(horizon_hours=1)
    result = m.simulate()
    ok, rate, refused = m.sim_counts
    assert ok == result.count(Reason.OK)
    assert ok * COST == pytest.approx(B0)  # every dollar got spent on served calls
    assert rate == result.count(Reason.PAID_RATE) > 0
    assert ok + rate + refused == NEED * HOUR


def test_topup_for_one_hour_is_the_hand_computation():
    m = model(plan_hours=1)
    # Balance at the end must stay above T: 10 + X - 5 * 0.001 * 3600 > 4, so X > 12.
    spend = NEED * COST * HOUR
    assert spend == pytest.approx(18.0)
    assert m.topup_usd == pytest.approx(T + spend - B0 + 0.01)
    assert m.topup_usd == pytest.approx(12.01)


def test_topup_keeps_the_cap_above_the_need_in_the_engine():
    m = model(plan_hours=1)
    traffic = Traffic(rps=NEED, cost_per_call_usd=COST)
    enough = simulate(traffic, HOUR, balance_usd=B0 + m.topup_usd, purchased_usd=10.0)
    assert enough.first_cap_below(NEED) is None
    assert enough.count(Reason.PAID_RATE) == enough.count(Reason.AFFORDABILITY) == 0


def test_a_cent_less_than_the_topup_is_not_enough_in_the_engine():
    m = model(plan_hours=1)
    short = simulate(Traffic(rps=NEED, cost_per_call_usd=COST), HOUR,
                     balance_usd=B0 + m.topup_usd - 0.01, purchased_usd=10.0)
    assert short.first_cap_below(NEED) == HOUR - 1  # the very last second


def test_verify_topup_reports_success():
    m = model(plan_hours=1)
    assert m.verify_topup() is True
    assert "never fell below the need" in m.topup_check


def test_enough_balance_needs_no_topup():
    m = model(balance_usd=100.0, plan_hours=1)
    assert m.topup_usd == 0.0
    assert m.topup_reason == "The balance already covers the period."


def test_need_above_the_cap_cannot_be_topped_up():
    m = model(needed_rps=V.paid_rps_cap + 100)
    assert not m.topup_possible and m.cap_always_short
    assert m.crossing_s == 0
    assert f"above the {V.paid_rps_cap} RPS cap" in m.topup_reason


def test_current_policy_only_needs_the_calls_paid_for():
    m = model(policy="current", plan_hours=1)
    assert m.crossing_s is None and m.threshold_usd is None
    spend = NEED * COST * HOUR
    assert m.topup_usd == pytest.approx(spend - B0)
    assert m.verify_topup() is True


def test_business_hours_crossing_matches_hand_and_engine():
    pattern = "business hours (09-18 UTC)"
    night, day = PATTERNS[pattern][0] * NEED, PATTERNS[pattern][9] * NEED
    assert (night, day) == (1.0, NEED)  # 1 RPS at night never meets the floor; 5 by day
    m = model(balance_usd=50.0, pattern=pattern, horizon_hours=10)
    at_nine = 50.0 - night * COST * 9 * HOUR  # 50 - 32.4 = 17.6
    expected = 9 * HOUR + (at_nine - T) / (day * COST)  # 32,400 + 2,720 s
    assert m.crossing_s == pytest.approx(expected)
    m.simulate()
    assert m.sim_crossing_s == round(expected)


def test_second_day_crossing_matches_hand_and_engine():
    # $110 at $0.0004 a call: a day spends 15 h at 1 RPS plus 9 h at 5 RPS = $86.40; day 0 ends
    # business hours at $32.24, day 1 reaches 09:00 with 110 - 86.40 - 12.96 = $10.64 and falls
    # to $4 after (10.64 - 4) / (5 * 0.0004) = 3,320 s.
    cost, pattern = 0.0004, "business hours (09-18 UTC)"
    m = model(balance_usd=110.0, cost_per_request_usd=cost, pattern=pattern, horizon_hours=34)
    night, day = PATTERNS[pattern][0] * NEED, NEED
    per_day = (15 * night + 9 * day) * HOUR * cost
    at_nine = 110.0 - per_day - 9 * HOUR * night * cost
    expected = 24 * HOUR + 9 * HOUR + (at_nine - T) / (day * cost)
    assert m.crossing_s == pytest.approx(expected)
    assert round(expected) == 86_400 + 32_400 + 3_320
    m.simulate()
    assert m.sim_crossing_s == round(expected)


def test_business_hours_topup_verified_by_the_engine():
    m = model(balance_usd=50.0, pattern="business hours (09-18 UTC)", plan_hours=12)
    assert m.verify_topup() is True
    short = simulate(m.traffic(), 12 * HOUR, balance_usd=50.0 + m.topup_usd - 0.01)
    caps = short.paid_rps_cap
    assert any(c < m.rate_at(i) for i, c in enumerate(caps))


def test_model_cost_prices_tokens_from_the_catalogue():
    prices = catalogue_prices()
    if not prices:
        pytest.skip("the emulator catalogue is not importable")
    model_id, (p, c) = next(iter(prices.items()))
    m = model(cost_mode="model", model_id=model_id, prompt_tokens=1000, completion_tokens=300)
    assert m.cost_usd == pytest.approx(1000 * p + 300 * c)


# --- bad values ----------------------------------------------------------------------------------


def test_negative_need_and_cost_clamp_to_zero():
    m = model(needed_rps=-3, cost_per_request_usd=-1)
    assert (m.needed_rps, m.cost_per_request_usd) == (0.0, 0.0)


def test_horizon_clamps_to_a_week():
    assert model(horizon_hours=10_000).horizon_hours == MAX_HORIZON_HOURS
    assert model(horizon_hours=0).horizon_hours == 1


def test_typed_nan_cost_is_refused_with_a_notice(planner):
    planner._cost.value = math.nan
    assert planner.model.cost_per_request_usd == COST
    assert planner._cost.value == COST
    assert "not a finite number" in planner._notice.text


def test_typed_negative_need_clamps_with_a_notice(planner):
    planner._need.value = -4.0
    assert planner.needed_rps == 0.0 and planner._need.value == 0.0
    assert "clamped to 0" in planner._notice.text


def test_typed_tokens_take_whole_numbers(planner):
    planner._prompt.value = -10
    assert planner.model.prompt_tokens == 0


# --- the view: debounced simulation, figure data -------------------------------------------------


def test_view_schedules_one_simulation_and_draws_the_crossing(planner, scheduler):
    assert scheduler.flush() == 1
    m = planner.model
    assert not m.stale and m.sim_crossing_s == round((B0 - T) / (NEED * COST))
    mark = trace(planner.figure, "cap below need")
    assert tuple(mark.x) == (m.sim_crossing_s / HOUR,)
    assert tuple(mark.y) == (T,)
    bal = trace(planner.figure, "balance")
    assert bal.y[-1] == m.result.balance_usd[-1]
    assert bal.x[-1] == 1.0  # hours


def test_rapid_changes_debounce_to_one_simulation(planner, scheduler):
    scheduler.flush()
    for need in (6, 7, 8):
        planner._need.value = float(need)
    assert len(scheduler.pending) == 1
    scheduler.flush()
    assert planner.model.sim_crossing_s == round((B0 - (8 - 1)) / (8 * COST))


def test_long_horizon_waits_for_the_simulate_button(planner, scheduler):
    scheduler.flush()
    planner._horizon.value = 72
    assert scheduler.pending == [] and planner.model.stale
    assert "press Simulate" in planner._status.value


def test_forecast_line_marks_the_closed_form_crossing(planner):
    line = trace(planner.figure, "forecast crossing")
    x = planner.model.crossing_s / HOUR
    assert tuple(line.x) == (x, x)


def test_apply_topup_reaches_the_shared_account(planner):
    planner.model.plan_hours = 1
    topup = planner.topup_usd
    planner._apply.click()
    assert planner.account.balance_usd == pytest.approx(B0 + topup)
    assert planner.account.purchased_usd == pytest.approx(10.0 + topup)
    assert planner.topup_usd == 0.0


def test_readout_states_threshold_crossing_and_topup(planner):
    html = planner._readout.value
    assert "$4.00" in html and "after 20 min" in html
    assert f'class="orw-topup-usd">${planner.topup_usd:,.2f}</span>' in html


def test_repr():
    p = DepletionPlanner(AccountModel(balance_usd=B0), scheduler=lambda d, f: None,
                         needed_rps=NEED, cost_per_request_usd=COST, plan_hours=1)
    assert repr(p).startswith("DepletionPlanner(policy='2025-04', balance_usd=10.0, "
                              "needed_rps=5.0, cost_usd=0.001, crossing_s=1200")


def test_long_period_is_verified_on_its_last_days():
    # 30 days at 5 RPS and $0.00001 a call: the end of the month decides, and its last two days
    # are simulated from the balance left after the first 28.
    m = model(cost_per_request_usd=0.00001, plan_hours=30 * 24)
    assert m.topup_usd == pytest.approx(T + NEED * 0.00001 * 30 * 86400 - B0 + 0.01)
    assert m.verify_topup() is True
    assert m.topup_check.startswith("Simulated the last 2 d 00 h of 30 d 00 h")


# --- one grid for both y axes ---------------------------------------------------------------------


def grid(axis) -> tuple[int, int]:
    """(gridlines below zero, intervals in all) of a y axis with a linear tick step."""
    lo, hi = axis.range
    below, total = -lo / axis.dtick, (hi - lo) / axis.dtick
    assert below == pytest.approx(round(below)) and total == pytest.approx(round(total))
    return round(below), round(total)


def values(fig, *names: str) -> list[float]:
    return [v for n in names for v in trace(fig, n).y if v is not None]


@pytest.mark.parametrize(("balance", "need"), [(B0, NEED), (250.0, 43.0), (3.0, 120.0),
                                               (-2.0, 5.0)])
def test_both_y_axes_share_one_grid_and_hold_their_curves(scheduler, balance, need):
    p = DepletionPlanner(AccountModel(balance_usd=balance, purchased_usd=10.0),
                         scheduler=scheduler, needed_rps=need, cost_per_request_usd=COST)
    scheduler.flush()
    left, right = p.figure.layout.yaxis, p.figure.layout.yaxis2
    assert grid(left) == grid(right)  # same number of steps, zero on the same gridline
    assert left.tick0 == right.tick0 == 0 and left.tickmode == right.tickmode == "linear"
    money = values(p.figure, "balance")
    rates = values(p.figure, "paid RPS cap", "needed RPS", "cap below need")
    assert left.range[0] <= min(money) and max(money) <= left.range[1]
    assert right.range[0] <= min(rates) and max(rates) <= right.range[1]


def test_the_grid_follows_a_new_simulation(planner, scheduler):
    scheduler.flush()
    before = planner.figure.layout.yaxis.range
    planner.account.balance_usd = 400.0
    planner.model.needed_rps = 300.0
    scheduler.flush()
    left, right = planner.figure.layout.yaxis, planner.figure.layout.yaxis2
    assert left.range != before and left.range[1] >= 400.0 and right.range[1] >= 300.0
    assert grid(left) == grid(right)


def test_forecast_line_runs_the_full_height_of_the_rate_axis(planner):
    line = trace(planner.figure, "forecast crossing")
    assert list(line.y) == list(planner.figure.layout.yaxis2.range)


# --- words and numbers ----------------------------------------------------------------------------


def test_needs_print_with_thousands_separators(scheduler):
    p = DepletionPlanner(AccountModel(balance_usd=B0), scheduler=scheduler, needed_rps=1000.0)
    assert "1,000 RPS is above the 500 RPS cap" in p._readout.value
    assert "1000" not in p._readout.value


def test_simulation_status_counts_with_separators():
    # $3.5995 at 1 RPS and $0.001 a call for an hour: 3,599 calls served, the last one refused.
    p = DepletionPlanner(AccountModel(balance_usd=3.5995, purchased_usd=0.0),
                         scheduler=lambda delay, fn: fn(), needed_rps=1.0,
                         cost_per_request_usd=0.001)
    assert p.model.sim_counts == [3599, 0, 1]
    assert ("3,599 served, 0 throttled by the paid rate (429), 1 refused (402)"
            in p._status.value)
