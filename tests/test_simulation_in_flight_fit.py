"""simulation.in_flight_fit: how many copies of one request start at once within the in-flight
budget, as the engine decides them one by one; the budget as InFlightParams words it."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orwidgets.engine import Engine, Reason, Request
from orwidgets.policy import IN_FLIGHT_DEFAULTS, InFlightParams
from orwidgets.simulation import in_flight_fit

T0 = 1_780_000_000.0
MINI = dict(prompt_price=0.15e-6, completion_price=0.6e-6)


def request(max_tokens: int | None, prompt: int = 2, **prices) -> Request:
    return Request(free=False, prompt_tokens=prompt,
                   max_tokens=16_384 if max_tokens is None else max_tokens, completion_tokens=0,
                   max_tokens_given=max_tokens is not None, **(prices or MINI))


def one_by_one(balance: float, req: Request, params: InFlightParams, most: int = 100_000):
    """The same question asked the slow way: decide copies until the first refusal."""
    engine = Engine("2026-08", in_flight=params)
    acct, _ = engine.create_account(balance, max(0.0, balance))
    for n in range(most):
        decision = engine.decide(acct.account_id, req, T0, duration_s=3600.0)
        if not decision.ok:
            return n, decision.reason
    return most, None


def test_two_cents_hold_four_calls_without_max_tokens():
    fit = in_flight_fit(0.02, request(None), "2026-08")
    estimate = 2 * MINI["prompt_price"] + IN_FLIGHT_DEFAULTS.completion_cap_tokens * \
        MINI["completion_price"]
    assert fit.budget_usd == pytest.approx(0.01)
    assert fit.estimate_usd == pytest.approx(estimate)
    assert (fit.fit, fit.first, fit.refused) == (math.floor(0.01 / estimate), Reason.OK,
                                                 Reason.IN_FLIGHT_BUDGET)


@settings(max_examples=60, deadline=None)
@given(balance=st.floats(0.001, 99.0), max_tokens=st.one_of(st.none(), st.integers(1, 20_000)),
       fraction=st.sampled_from([0.1, 0.5, 1.0]))
def test_the_fit_is_what_the_engine_admits_one_request_at_a_time(balance, max_tokens, fraction):
    params = IN_FLIGHT_DEFAULTS.updated({"fraction": fraction})
    req = request(max_tokens, prompt=1000, prompt_price=2.5e-6, completion_price=10e-6)
    fit = in_flight_fit(balance, req, "2026-08", params)
    admitted, reason = one_by_one(balance, req, params)
    assert (fit.fit, fit.refused) == (admitted, reason)
    assert fit.budget_usd == pytest.approx(params.budget_usd(balance), abs=1e-12)


def test_at_the_threshold_no_budget_limits_them():
    fit = in_flight_fit(IN_FLIGHT_DEFAULTS.threshold_usd, request(None), "2026-08")
    assert (fit.budget_usd, fit.fit, fit.first, fit.refused) == (None, None, Reason.OK, None)


def test_first_refusals_come_before_the_budget():
    weight = in_flight_fit(0.02, request(1500, prompt_price=2.5e-6, completion_price=10e-6),
                           "2026-08")
    assert (weight.fit, weight.first) == (0, Reason.WEIGHT_EXCEEDS_BUDGET)
    afford = in_flight_fit(0.02, request(None, prompt_price=2.5e-6, completion_price=10e-6),
                           "2026-08")
    assert (afford.fit, afford.first) == (0, Reason.AFFORDABILITY)
    negative = in_flight_fit(-1.0, request(None), "2026-08")
    assert (negative.budget_usd, negative.first) == (0.0, Reason.NEGATIVE_BALANCE)


def test_versions_without_the_budget_and_free_models_hold_nothing():
    older = in_flight_fit(0.02, request(None), "2025-07")
    assert (older.budget_usd, older.estimate_usd, older.fit) == (None, 0.0, None)
    free = in_flight_fit(0.02, Request.free_call(), "2026-08")
    assert (free.estimate_usd, free.fit, free.first) == (0.0, None, Reason.OK)
