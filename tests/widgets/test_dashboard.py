"""Dashboard: one account model, every tab follows a change made in any other."""

from __future__ import annotations

import sys

import pytest
from widget_helpers import trace

from orwidgets import policy
from orwidgets.widgets import AccountModel, Dashboard
from orwidgets.widgets.dashboard import TAB_TITLES
from orwidgets.policy import CURRENT


@pytest.fixture
def dash(scheduler) -> Dashboard:
    return Dashboard(AccountModel(balance_usd=10.0, purchased_usd=0.0),
                     planner={"scheduler": scheduler})


def test_tabs_share_one_account(dash):
    for tab in (dash.rps, dash.quota, dash.planner, dash.advisor, dash.account_panel):
        assert tab.account is dash.account
    assert list(dash.titles[:5]) == list(TAB_TITLES[:5])


def test_balance_slider_in_rps_tab_reaches_every_other_tab(dash):
    dash.rps._slider.value = 42.1696503
    balance = dash.account.balance_usd
    assert balance == 42.17
    # Planner: start balance, its field, and its closed-form crossing for the new balance.
    assert dash.planner.balance_usd == balance and dash.planner._balance.value == balance
    m = dash.planner.model
    assert m.crossing_s == pytest.approx((balance - m.threshold_usd) / (m.needed_rps * m.cost_usd))
    # Free quota: the article's balance reading now reaches the threshold.
    assert dash.quota.model.quota_by_balance == policy.daily_free_quota(balance)
    # Advisor and account panel: their readouts were redrawn with the new balance.
    assert dash.advisor.model.revision > 0
    assert "$42.17" in dash.account_panel._readout.value


def test_balance_typed_in_planner_moves_the_rps_marker(dash):
    dash.planner._balance.value = 0.5
    assert dash.rps.rps == policy.paid_rps(0.5)
    marker = trace(dash.rps.figure, "current balance")
    assert (marker.x[0], marker.y[0]) == (0.5, policy.paid_rps(0.5))


def test_topup_toggle_in_quota_tab_reaches_the_advisor(dash):
    assert dash.advisor.verdict != "already topped up"
    dash.quota._toggle.value = True
    assert dash.advisor.verdict == "already topped up"
    assert dash.advisor._purchased.value == policy.TOPUP_THRESHOLD_USD


def test_planner_topup_reaches_quota_and_rps(dash):
    dash.planner.model.plan_hours = 1
    topup = dash.planner.topup_usd
    assert topup > 0
    dash.planner._apply.click()
    assert dash.rps.balance_usd == pytest.approx(10.0 + topup)
    assert dash.quota.purchased_usd == pytest.approx(topup)


def test_policy_picked_in_one_tab_switches_all(dash):
    dash.advisor._picker.value = CURRENT.id  # the picker lists dated versions only
    for tab in (dash, dash.rps, dash.quota, dash.planner, dash.advisor, dash.account_panel):
        assert tab.policy == CURRENT.id
    assert dash.rps.rps is None
    assert CURRENT.id in dash.quota._caption.value


def test_missing_live_calls_leaves_a_note(monkeypatch):
    monkeypatch.setitem(sys.modules, "orwidgets.widgets.livecalls", None)  # import fails
    d = Dashboard(planner={"scheduler": lambda delay, fn: None})
    assert d.live_calls is None
    assert d.titles[-1] == TAB_TITLES[-1]
    assert "not available" in d.children[-1].value
    assert len(d.children) == len(TAB_TITLES)


def test_live_calls_tab_can_be_left_out():
    d = Dashboard(planner={"scheduler": lambda delay, fn: None}, show_live_calls=False)
    assert list(d.titles) == list(TAB_TITLES[:5])


def test_repr(dash):
    assert repr(dash).startswith("Dashboard(policy='2025-04', balance_usd=10.0, "
                                 "purchased_usd=0.0, tabs=['RPS', 'Free quota'")


def test_lazy_public_names():
    import orwidgets
    import orwidgets.widgets as w

    assert orwidgets.Dashboard is Dashboard
    assert set(w.__all__) >= {"RPSExplorer", "FreeQuotaExplorer", "DepletionPlanner",
                              "TopUpAdvisor", "AccountPanel", "AccountModel", "Dashboard"}


def test_live_calls_tab_shares_the_account_when_available(dash):
    if dash.live_calls is None:
        pytest.skip(f"LiveCalls unavailable: {dash.live_calls_error}")
    assert dash.children[-1] is dash.live_calls
    dash.rps.policy = "current"
    assert dash.live_calls.policy == CURRENT.id  # the alias names the newest dated version
