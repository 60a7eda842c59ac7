"""RPSExplorer under a version with the in-flight budget (2026-08): the budget a balance buys, what
one request of the reader's size holds, how many fit at once, and the chart of budget against
balance. Numbers are worked out here from the policy's parameters and the catalogue's prices.
"""

from __future__ import annotations

import math
import re
from html import unescape

import pytest
from traitlets import TraitError
from widget_helpers import trace

from orwidgets.policy import IN_FLIGHT_DEFAULTS, InFlightParams
from orwidgets.widgets import AccountModel, RPSExplorer
from orwidgets.widgets.rps import InFlightModel

P = IN_FLIGHT_DEFAULTS
MINI = "openai/gpt-4o-mini"
GPT4O = "openai/gpt-4o"
#: The tutorial's prompt ("Say OK.", 7 characters) at the emulator's 4 characters a token.
PROMPT_TOKENS = math.ceil(len("Say OK.") / 4)


def prices(model_id: str) -> tuple[float, float, int]:
    from orwidgets.emulator import MODELS

    m = MODELS[model_id]
    return float(m.prompt_price), float(m.completion_price), m.max_completion_tokens


def estimate(model_id: str, completion_tokens: int, prompt: int = PROMPT_TOKENS) -> float:
    prompt_price, completion_price, _ = prices(model_id)
    return prompt * prompt_price + completion_tokens * completion_price


def span(html: str, cls: str) -> str:
    return unescape(re.search(rf'class="{cls}"[^>]*>([^<]*)<', html).group(1))


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def explorer() -> RPSExplorer:
    return RPSExplorer(policy="2026-08", balance_usd=0.02)


def marker(e: RPSExplorer) -> tuple[float, float]:
    t = trace(e.figure, "current balance")
    return t.x[0], t.y[0]


# --- the model -------------------------------------------------------------------------------------


def test_two_cents_hold_four_requests_without_max_tokens(explorer):
    f = explorer.in_flight
    one = estimate(MINI, P.completion_cap_tokens)
    assert f.applies and f.model_id == MINI and f.no_max_tokens
    assert f.prompt_tokens == PROMPT_TOKENS
    assert f.estimate_tokens == P.completion_cap_tokens
    assert f.budget_usd == pytest.approx(P.fraction * 0.02)
    assert f.estimate_usd == pytest.approx(one)
    assert f.fit == math.floor(P.fraction * 0.02 / one) == 4
    assert (f.first, f.refused) == ("ok", "in_flight_budget_exhausted")


@pytest.mark.parametrize("balance", [0.05, 1.0, 4.0, 37.5, 60.0, 99.99])
def test_budget_and_fit_follow_the_balance_up_to_the_ceiling(explorer, balance):
    explorer.balance_usd = balance
    budget = min(P.fraction * balance, P.ceiling_usd)
    one = estimate(MINI, P.completion_cap_tokens)
    assert explorer.in_flight.budget_usd == pytest.approx(budget)
    assert explorer.in_flight.fit == math.floor(budget / one)
    assert marker(explorer) == (balance, pytest.approx(budget))


def test_no_budget_at_or_above_the_threshold(explorer):
    explorer.balance_usd = P.threshold_usd
    f = explorer.in_flight
    assert (f.budget_usd, f.fit, f.first, f.refused) == (None, None, "ok", "")
    assert span(explorer._in_flight_readout.value, "orw-budget-value") == "none"
    assert span(explorer._in_flight_readout.value, "orw-fit-value") == "Any number"
    t = trace(explorer.figure, "current balance")
    assert t.x[0] == P.threshold_usd and t.marker.symbol == "triangle-up"
    assert t.y[0] > P.ceiling_usd  # at the top of the chart, above every budget


def test_max_tokens_counts_up_to_the_cap(explorer):
    f = explorer.in_flight
    f.no_max_tokens = False
    f.max_tokens = 1000
    assert f.estimate_tokens == 1000
    assert f.estimate_usd == pytest.approx(estimate(MINI, 1000))
    f.max_tokens = 50_000
    assert f.estimate_tokens == P.completion_cap_tokens
    assert f.max_cost_usd == pytest.approx(estimate(MINI, 50_000))
    assert "max_tokens 50,000, cut to the cap" in text(explorer._in_flight_readout.value)


def test_one_request_above_the_whole_budget_is_weight_exceeds_budget(explorer):
    f = explorer.in_flight
    f.model_id, f.no_max_tokens, f.max_tokens = GPT4O, False, 1500
    assert estimate(GPT4O, 1500) > P.fraction * 0.02  # the premise
    assert (f.fit, f.first, f.refused) == (0, "weight_exceeds_budget", "weight_exceeds_budget")
    words = text(explorer._in_flight_readout.value)
    assert "0 fit: one request holds more than the whole budget: 402 weight_exceeds_budget" in words


def test_without_max_tokens_the_balance_must_cover_the_models_whole_output_first(explorer):
    f = explorer.in_flight
    f.model_id = GPT4O
    explorer.balance_usd = 0.1
    _, _, most = prices(GPT4O)
    assert estimate(GPT4O, most) > 0.1 > estimate(GPT4O, P.completion_cap_tokens)
    assert (f.fit, f.first) == (0, "affordability")
    words = text(explorer._in_flight_readout.value)
    assert f"the model's maximum output, {most:,} tokens" in words


def test_a_negative_balance_holds_nothing(explorer):
    explorer.balance_usd = -1.0
    assert (explorer.in_flight.budget_usd, explorer.in_flight.first) == (0.0, "negative_balance")


def test_the_readout_names_the_estimate_and_what_the_next_request_gets(explorer):
    html = explorer._in_flight_readout.value
    assert span(html, "orw-budget-value") == "$0.01"
    assert span(html, "orw-estimate-value") == "$0.00246"
    assert span(html, "orw-fit-value") == "4"
    words = text(html)
    assert ("2 prompt tokens × $0.15/M + 4,096 completion tokens (no max_tokens: the "
            "per-request cap) × $0.60/M.") in words
    assert ("request 5 gets 402 in_flight_budget_exhausted with Retry-After: 120 s. It is "
            "transient, not 'out of credits'") in words
    assert "(0.5 × the balance, at most $25.00; none from a balance of $100.00 on)" in words
    assert "In-flight numbers: orwidgets' defaults" in words


def test_the_view_matches_what_the_emulator_admits_for_the_small_demo_account():
    from orwidgets.emulator import create_app
    from orwidgets.emulator.chat import _plan

    app = create_app(policy="2026-08", latency_ms=0, clock=lambda: 1_780_000_000.0)
    emu = app.state.emulator
    small = emu.engine.account("acct_small")
    request = _plan(emu_model(MINI), len("Say OK."), None).request  # what the chat route decides
    decisions = [emu.engine.decide_for_key(emu.demo_keys["small"], request, duration_s=None)
                 for _ in range(6)]
    admitted = sum(d.ok for d in decisions)
    view = RPSExplorer(policy="2026-08", balance_usd=small.balance_usd)
    assert view.in_flight.fit == admitted == 4
    assert decisions[admitted].reason.value == view.in_flight.refused


def emu_model(model_id: str):
    from orwidgets.emulator import MODELS

    return MODELS[model_id]


def test_bad_sizes_are_refused_or_clamped():
    f = InFlightModel(AccountModel(policy="2026-08"))
    with pytest.raises(TraitError, match="free models are never held"):
        f.model_id = "meta-llama/llama-3.3-70b-instruct:free"
    f.max_tokens = 0
    f.prompt_tokens = -5
    assert (f.max_tokens, f.prompt_tokens) == (1, 0)


def test_under_versions_without_the_budget_nothing_is_computed():
    f = InFlightModel(AccountModel(policy="2025-07", balance_usd=0.02))
    assert not f.applies and f.fit is None and f.budget_usd is None


# --- the controls ---------------------------------------------------------------------------------


def test_controls_are_built_only_when_a_version_with_the_budget_is_shown():
    e = RPSExplorer()
    assert e._controls == {} and e._in_flight_box.layout.display == "none"
    e.policy = "2026-08"
    assert set(e._controls) == {"model_id", "no_max_tokens", "max_tokens", "prompt_tokens"}
    assert e._in_flight_box.layout.display is None
    e.policy = "2025-04"
    assert e._in_flight_box.layout.display == "none"


def test_the_controls_drive_the_model(explorer):
    c = explorer._controls
    assert c["max_tokens"].disabled
    c["model_id"].value = GPT4O
    c["no_max_tokens"].value = False
    assert not c["max_tokens"].disabled
    c["max_tokens"].value = 200
    c["prompt_tokens"].value = 1000
    f = explorer.in_flight
    assert (f.model_id, f.no_max_tokens, f.max_tokens, f.prompt_tokens) == (GPT4O, False, 200,
                                                                            1000)
    assert f.estimate_usd == pytest.approx(estimate(GPT4O, 200, prompt=1000))
    f.model_id = MINI  # and back: the model moves the control
    assert c["model_id"].value == MINI


def test_model_options_list_paid_catalogue_models_with_their_price(explorer):
    from orwidgets.emulator import CATALOGUE

    options = dict(explorer._controls["model_id"].options)
    assert sorted(options.values()) == sorted(m.id for m in CATALOGUE if not m.free)
    assert options[f"{MINI} ($0.60/M output tokens)"] == MINI


# --- the chart ------------------------------------------------------------------------------------


def test_chart_draws_the_budget_the_ceiling_the_threshold_and_the_estimate(explorer):
    fig = explorer.figure
    for name in ("floor region", "cap region", "paid RPS"):
        assert not trace(fig, name).visible
    line = trace(fig, "in-flight budget")
    assert line.visible
    knee = P.ceiling_usd / P.fraction
    assert list(line.x) == [0.01, knee, P.threshold_usd]
    assert list(line.y) == [pytest.approx(P.fraction * 0.01), P.ceiling_usd, P.ceiling_usd]
    assert set(trace(fig, "ceiling").y) == {P.ceiling_usd}
    assert set(trace(fig, "threshold").x) == {P.threshold_usd}
    assert min(trace(fig, "no budget region").x) == P.threshold_usd
    one = estimate(MINI, P.completion_cap_tokens)
    assert list(trace(fig, "one request's estimate").y) == [pytest.approx(one)] * 2
    assert fig.layout.yaxis.title.text == "in-flight budget (US$, log)"
    labels = dict(zip(fig.layout.yaxis.tickvals, fig.layout.yaxis.ticktext))
    assert labels[P.ceiling_usd] == "$25" and labels[0.01] == "$0.01"
    notes = [a.text for a in fig.layout.annotations]
    assert notes == ["ceiling $25.00", "threshold $100.00: no budget"]


def test_back_to_the_article_the_rps_chart_returns_in_the_same_figure(explorer):
    uids = [t.uid for t in explorer.figure.data]
    explorer.policy = "2025-04"
    fig = explorer.figure
    assert [t.uid for t in fig.data] == uids
    assert trace(fig, "paid RPS").visible and not trace(fig, "in-flight budget").visible
    assert marker(explorer) == (0.02, 1)
    assert fig.layout.yaxis.title.text == "paid requests per second (log)"


def test_synced_state_has_the_budget_marker_for_views_that_connect_later(explorer):
    explorer.balance_usd = 4.0
    state = {t["name"]: t for t in explorer.figure._widget_data}
    assert list(state["current balance"]["x"]) == [4.0]
    assert list(state["current balance"]["y"]) == [pytest.approx(2.0)]


# --- the numbers' source -----------------------------------------------------------------------------


def test_numbers_given_in_python_replace_the_defaults():
    e = RPSExplorer(policy="2026-08", balance_usd=10.0,
                    in_flight={"fraction": 0.1, "ceiling_usd": 0.5, "threshold_usd": 20})
    assert e.in_flight.params == InFlightParams(fraction=0.1, ceiling_usd=0.5, threshold_usd=20)
    assert e.in_flight.budget_usd == pytest.approx(0.5)  # 0.1 x $10 = $1, capped at $0.50
    assert "given in Python" in e._in_flight_readout.value


def test_an_emulator_given_supplies_its_own_numbers_on_switch_and_refresh():
    from orwidgets.emulator import create_app

    app = create_app(latency_ms=0)
    app.state.emulator.set_in_flight({"fraction": 0.25, "ceiling_usd": 10.0})
    e = RPSExplorer(emulator=app, balance_usd=8.0)  # the article's view: nothing read yet
    assert e.in_flight.params == IN_FLIGHT_DEFAULTS
    e.policy = "2026-08"
    assert (e.in_flight.params.fraction, e.in_flight.params.ceiling_usd) == (0.25, 10.0)
    assert e.in_flight.budget_usd == pytest.approx(2.0)
    assert "the emulator's (GET /_emulator/in_flight)" in unescape(e._in_flight_readout.value)
    app.state.emulator.set_in_flight({"fraction": 0.5})
    assert e.refresh_in_flight().fraction == 0.5
    assert e.in_flight.budget_usd == pytest.approx(4.0)


def test_an_emulator_that_cannot_be_read_leaves_a_notice_and_the_defaults():
    e = RPSExplorer(emulator=object(), policy="2026-08", balance_usd=1.0)
    assert e.in_flight.params == IN_FLIGHT_DEFAULTS
    assert e._notice.text.startswith("in-flight numbers: ")
    assert "showing orwidgets' defaults" in e._notice.text
