"""RPSExplorer: balance in, paid RPS and its rule out, the chart's marker and regions."""

from __future__ import annotations

import math

import pytest
from widget_helpers import trace

from orwidgets import policy
from orwidgets.widgets import AccountModel, RPSExplorer
from orwidgets.widgets._model import MAX_USD
from orwidgets.widgets.rps import SLIDER_MAX_USD, SLIDER_MIN_USD, RPSModel, staircase

V = policy.get_policy("2025-04")


@pytest.fixture
def explorer() -> RPSExplorer:
    return RPSExplorer(balance_usd=10.0)


def marker(e: RPSExplorer) -> tuple[float, object]:
    t = trace(e.figure, "current balance")
    assert len(t.x) == len(t.y) == 1
    return t.x[0], t.y[0]


def test_balance_half_a_dollar_gives_the_minimum_and_marker_there(explorer):
    explorer.balance_usd = 0.5
    assert explorer.rps == V.paid_rps_min
    assert explorer.rule == f"minimum {V.paid_rps_min}"
    assert marker(explorer) == (0.5, V.paid_rps_min)


@pytest.mark.parametrize("balance", [0.5, 1.0, 1.2, 5.0, 42.3, 499.01, 500.0, 1000.0])
def test_model_rps_and_rule_are_the_policys(balance):
    model = RPSModel(AccountModel(balance_usd=balance))
    answer = policy.explain_paid_rps(balance, "2025-04")
    assert (model.rps, model.rule, model.text) == (answer.rps, answer.rule, answer.text)


def test_readout_span_holds_the_rps_and_the_rule(explorer):
    explorer.balance_usd = 42.3
    html = explorer._readout.value
    assert '<span class="orw-rps-value"' in html
    assert f">{math.ceil(42.3)}</span>" in html
    assert "(rounded up)" in html


def test_cap_rule_at_a_thousand_dollars(explorer):
    explorer.balance_usd = 1000.0
    assert (explorer.rps, explorer.rule) == (V.paid_rps_cap, f"cap {V.paid_rps_cap}")
    assert marker(explorer) == (1000.0, V.paid_rps_cap)


def test_slider_change_sets_balance_in_cents_and_moves_marker(explorer):
    explorer._slider.value = 42.1696503
    assert explorer.balance_usd == 42.17
    assert explorer._input.value == 42.17
    assert marker(explorer) == (42.17, 43)


def test_typed_balance_moves_slider_readout_and_marker(explorer):
    explorer._input.value = 1.2
    assert explorer._slider.value == 1.2
    assert marker(explorer) == (1.2, policy.paid_rps(1.2))
    assert ">2</span>" in explorer._readout.value


def test_slider_is_precise_near_zero_and_reaches_past_a_thousand(explorer):
    s = explorer._slider
    lowest, highest = s.base ** s.min, s.base ** s.max
    assert lowest == pytest.approx(SLIDER_MIN_USD) and lowest <= 0.01
    assert highest == pytest.approx(SLIDER_MAX_USD) and highest > 1000
    # One step near $0.50 is about a cent.
    assert 0.5 * (s.base ** s.step - 1) < 0.02


def test_zero_balance_pins_slider_at_its_minimum_and_says_402(explorer):
    explorer._input.value = 0.0
    assert explorer.balance_usd == 0.0
    assert explorer._slider.value == pytest.approx(SLIDER_MIN_USD)
    assert "402" in explorer._readout.value
    assert marker(explorer) == (0.0, V.paid_rps_min)


def test_pinned_slider_does_not_write_back_into_the_balance(explorer):
    explorer._input.value = -0.5
    assert explorer.balance_usd == -0.5  # not the slider's minimum


def test_nan_typed_is_refused_with_a_notice_and_the_field_restored(explorer):
    explorer._input.value = math.nan
    assert explorer.balance_usd == 10.0
    assert explorer._input.value == 10.0
    assert "not a finite number" in explorer._notice.text


def test_huge_typed_balance_clamps_with_a_notice(explorer):
    explorer._input.value = 5e9
    assert explorer.balance_usd == MAX_USD
    assert "clamped" in explorer._notice.text
    assert explorer._slider.value == pytest.approx(SLIDER_MAX_USD)


def test_balance_beyond_the_slider_widens_the_chart(explorer):
    explorer._input.value = 5000.0
    low, high = explorer.figure.layout.xaxis.range
    assert 10 ** high >= 5000.0
    assert marker(explorer) == (5000.0, V.paid_rps_cap)


def test_step_line_is_the_policy_function_at_every_step():
    xs, ys = staircase(V)
    assert len(xs) == len(ys)
    for a, b, ya, yb in zip(xs[0::2], xs[1::2], ys[0::2], ys[1::2]):
        assert ya == yb == policy.paid_rps(b, V)
        assert policy.paid_rps((a + b) / 2, V) == ya
    assert min(ys) == V.paid_rps_min and max(ys) == V.paid_rps_cap


def test_chart_traces_floor_and_cap_regions(explorer):
    floor, cap = trace(explorer.figure, "floor region"), trace(explorer.figure, "cap region")
    assert floor.visible and cap.visible
    assert max(floor.x) == V.paid_rps_min
    assert min(cap.x) == V.paid_rps_cap
    line = trace(explorer.figure, "paid RPS")
    assert list(line.x) == staircase(V)[0]


def test_no_cap_policy_says_no_balance_linked_cap(explorer):
    explorer.policy = "2025-07"  # (2026-08, with the in-flight budget: test_rps_in_flight.py)
    assert explorer.rps is None
    assert explorer.rule == "no platform cap"
    html = explorer._readout.value
    assert "no balance-linked platform cap" in html
    assert '<span class="orw-rps-value"' in html
    assert marker(explorer) == (10.0, None)
    assert not trace(explorer.figure, "floor region").visible
    assert not trace(explorer.figure, "cap region").visible
    assert len(trace(explorer.figure, "paid RPS").x) == 0
    assert "no balance-linked platform cap" in explorer.figure.layout.annotations[0].text


def test_policy_back_from_current_restores_the_line(explorer):
    explorer.policy = "2025-07"
    explorer.policy = "current"
    explorer.policy = "legacy-2024"
    assert explorer.rps == policy.paid_rps(10.0, "legacy-2024")
    assert trace(explorer.figure, "floor region").visible
    assert len(explorer.figure.layout.annotations) == 0


def test_policy_name_and_dates_are_on_screen(explorer):
    explorer._picker.value = "legacy-2024"
    assert explorer.policy == "legacy-2024"
    v = policy.get_policy("legacy-2024")
    assert v.id in explorer._caption.value and v.in_force_text in explorer._caption.value


def test_changes_update_the_same_figure_in_place(explorer):
    fig, uids = explorer.figure, [t.uid for t in explorer.figure.data]
    for b in (0.3, 7.0, 900.0):
        explorer.balance_usd = b
    explorer.policy = "legacy-2024"
    assert explorer.figure is fig
    assert [t.uid for t in explorer.figure.data] == uids


def test_dom_contract_classes(explorer):
    assert "orw-rps-explorer" in explorer._dom_classes
    assert "orw-balance-slider" in explorer._slider._dom_classes
    assert "orw-balance-input" in explorer._input._dom_classes
    assert "orw-rps-readout" in explorer._readout._dom_classes


def test_repr_names_policy_balance_and_rps():
    e = RPSExplorer(balance_usd=42.3)
    assert repr(e) == "RPSExplorer(policy='2025-04', balance_usd=42.3, rps=43)"


def test_public_traits_have_help(explorer):
    for name in ("policy", "balance_usd", "rps", "rule"):
        assert explorer.traits()[name].help


def test_synced_figure_state_follows_updates_for_views_that_connect_later():
    from orwidgets.widgets import RPSExplorer

    explorer = RPSExplorer(balance_usd=42.3)
    explorer.balance_usd = 1000.0
    state = {t["name"]: t for t in explorer.figure._widget_data}
    assert set(state) >= {"paid RPS", "floor region", "cap region", "current balance"}
    assert (list(state["current balance"]["x"]), list(state["current balance"]["y"])) == ([1000.0], [500])


def test_slider_snapping_a_typed_balance_does_not_overwrite_it():
    from orwidgets.widgets import RPSExplorer
    from orwidgets.widgets.rps import SLIDER_STEP

    explorer = RPSExplorer()
    explorer._input.value = 42.3
    # What the browser sends back: 42.3 snapped to the log grid (10 ** 1.63 = 42.66).
    explorer._slider.value = 10 ** (round(math.log10(42.3) / SLIDER_STEP) * SLIDER_STEP)
    assert (explorer.balance_usd, explorer.rps) == (42.3, 43)
    # One arrow-key step down from the snapped value is a real move.
    explorer._slider.value = 10 ** (round(math.log10(42.3) / SLIDER_STEP) * SLIDER_STEP - SLIDER_STEP)
    assert explorer.balance_usd == 41.69


# --- what the reader sees: words, money, axes ----------------------------------------------------


def readout_line(e: RPSExplorer) -> str:
    """The readout's first line as text (tags dropped)."""
    import re
    from html import unescape

    first = e._readout.value.split("</div>", 1)[0]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", first)).replace("→", "->").split())


def test_one_paid_request_is_singular(explorer):
    explorer.balance_usd = 0.5
    assert readout_line(explorer) == "$0.50 -> 1 paid request per second (minimum 1)"
    explorer.balance_usd = 2.0
    assert readout_line(explorer) == "$2.00 -> 2 paid requests per second (exact)"


@pytest.mark.parametrize("pid", ["2025-04", "current"])
def test_a_negative_balance_reads_minus_dollar_everywhere(explorer, pid):
    explorer.policy = pid
    explorer._input.value = -5.0
    html = explorer._readout.value
    assert "-$5.00" in html and "$-" not in html


def test_policy_sentence_puts_the_sign_before_the_dollar():
    assert policy.explain_paid_rps(-5.0).text.startswith("-$5.00 buys 1 paid request per second")


def test_free_models_are_blocked_only_below_zero_under_current(explorer):
    explorer.policy = "current"
    explorer.balance_usd = -0.5
    assert "free models included" in explorer._readout.value
    explorer.balance_usd = 0.0  # paid models answer 402; free models still work at $0
    assert "free models included" not in explorer._readout.value
    assert "402" in explorer._readout.value


def test_rps_axis_labels_the_cap_500_not_5(explorer):
    y = explorer.figure.layout.yaxis
    labels = dict(zip(y.tickvals, y.ticktext))
    assert labels[V.paid_rps_cap] == "500"
    assert labels[V.paid_rps_min] == "1"
    assert y.tickmode == "array"


def test_balance_axis_labels_whole_amounts_and_follows_a_wider_range(explorer):
    x = explorer.figure.layout.xaxis
    labels = dict(zip(x.tickvals, x.ticktext))
    assert labels[0.01] == "$0.01" and labels[1] == "$1" and labels[500] == "$500"
    explorer._input.value = 50_000.0
    labels = dict(zip(explorer.figure.layout.xaxis.tickvals, explorer.figure.layout.xaxis.ticktext))
    assert labels[10_000] == "$10,000"
