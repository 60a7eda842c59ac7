"""FreeQuotaExplorer: top-up toggle and purchases to the daily quota, versions, and my pace."""

from __future__ import annotations

import math

import pytest
from widget_helpers import trace

from orwidgets import policy
from orwidgets.widgets import AccountModel, FreeQuotaExplorer
from orwidgets.widgets.quota import TOPPED_UP_LABEL, FreeQuotaModel, parse_hhmm

V = policy.get_policy("2025-04")
LOW, HIGH = V.free_daily_low, V.free_daily_high
THRESHOLD = V.topup_threshold_usd


@pytest.fixture
def explorer() -> FreeQuotaExplorer:
    return FreeQuotaExplorer(AccountModel(balance_usd=0.0, purchased_usd=0.0))


def quota_span(e: FreeQuotaExplorer) -> str:
    html = e._readout.value
    start = html.index('class="orw-daily-quota"')
    return html[html.index(">", start) + 1: html.index("</span>", start)]


def test_never_topped_up_gets_the_low_tier(explorer):
    assert explorer.daily_quota == policy.daily_free_quota(0.0) == LOW
    assert quota_span(explorer) == str(LOW)


def test_toggle_on_gives_the_high_tier_and_sets_purchases(explorer):
    explorer._toggle.value = True
    assert explorer.purchased_usd == THRESHOLD
    assert explorer.daily_quota == HIGH
    assert quota_span(explorer).replace(",", "") == str(HIGH)


def test_toggle_off_returns_to_the_low_tier(explorer):
    explorer._toggle.value = True
    explorer._toggle.value = False
    assert (explorer.purchased_usd, explorer.daily_quota) == (0.0, LOW)


def test_typed_purchases_at_the_threshold_turn_the_toggle_on(explorer):
    explorer._purchased.value = THRESHOLD
    assert explorer._toggle.value is True
    assert explorer.daily_quota == HIGH


def test_purchases_just_below_the_threshold_stay_low(explorer):
    explorer._purchased.value = THRESHOLD - 0.01
    assert explorer.daily_quota == LOW and explorer._toggle.value is False


def test_negative_purchases_clamp_to_zero_with_a_notice(explorer):
    explorer._purchased.value = -20.0
    assert explorer.purchased_usd == 0.0
    assert explorer._purchased.value == 0.0
    assert "clamped to 0" in explorer._notice.text


def test_nan_purchases_are_refused_and_the_field_restored(explorer):
    explorer._purchased.value = 12.0
    explorer._purchased.value = math.nan
    assert explorer.purchased_usd == 12.0 and explorer._purchased.value == 12.0
    assert "not a finite number" in explorer._notice.text


def test_purchase_rule_and_article_balance_rule_differ_after_spending():
    acct = AccountModel(balance_usd=3.0, purchased_usd=THRESHOLD)
    e = FreeQuotaExplorer(acct)
    assert e.model.daily_quota == policy.daily_free_quota(THRESHOLD) == HIGH
    assert e.model.quota_by_balance == policy.daily_free_quota(3.0) == LOW
    assert e.model.rule_differs
    assert "orw-rule-differs" in e._readout.value


def test_rules_agree_when_balance_equals_purchases():
    e = FreeQuotaExplorer(AccountModel(balance_usd=THRESHOLD, purchased_usd=THRESHOLD))
    assert not e.model.rule_differs
    assert "orw-rule-differs" not in e._readout.value


def test_legacy_everyone_gets_the_same_quota(explorer):
    explorer.policy = "legacy-2024"
    legacy = policy.get_policy("legacy-2024").free_daily_low
    assert explorer.daily_quota == legacy
    explorer._toggle.value = True
    assert explorer.daily_quota == legacy
    assert "buying credits does not change it" in explorer._readout.value


def test_per_minute_readout_is_the_policys(explorer):
    assert explorer.model.per_minute == policy.free_per_minute()
    assert f'class="orw-per-minute">{policy.free_per_minute()}</span>' in explorer._readout.value


def test_chart_bars_hold_each_versions_quota(explorer):
    low, high = trace(explorer.figure, "not topped up"), trace(explorer.figure, TOPPED_UP_LABEL)
    assert list(low.customdata) == list(policy.POLICIES)
    ticks = explorer.figure.layout.xaxis
    assert list(ticks.ticktext) == list(policy.POLICIES) and list(ticks.tickvals) == list(low.x)
    for pid, lo, hi in zip(low.customdata, low.y, high.y):
        v = policy.get_policy(pid)
        assert lo == v.free_daily_low
        assert hi == (v.free_daily_high if v.has_topup_tier else v.free_daily_low)


def bar_middle(fig, name: str, pid: str) -> float:
    """x of the middle of the bar ``name`` for version ``pid``, from the bar trace itself."""
    bars = trace(fig, name)
    i = list(bars.customdata).index(pid)
    return bars.x[i] + bars.offset + bars.width / 2


def test_chart_marker_sits_on_the_accounts_own_bar(explorer):
    you = trace(explorer.figure, "your quota")
    assert (tuple(you.x), tuple(you.y)) == ((bar_middle(explorer.figure, "not topped up",
                                                        "2025-04"),), (LOW,))
    explorer._toggle.value = True
    assert (tuple(you.x), tuple(you.y)) == ((bar_middle(explorer.figure, TOPPED_UP_LABEL,
                                                        "2025-04"),), (HIGH,))
    explorer.policy = "legacy-2024"
    assert tuple(you.x) == (bar_middle(explorer.figure, TOPPED_UP_LABEL, "legacy-2024"),)
    explorer._toggle.value = False
    assert tuple(you.x) == (bar_middle(explorer.figure, "not topped up", "legacy-2024"),)


def test_the_two_bars_of_a_version_do_not_overlap_and_the_marker_is_inside_one(explorer):
    low, high = trace(explorer.figure, "not topped up"), trace(explorer.figure, TOPPED_UP_LABEL)
    for x in low.x:
        assert x + low.offset + low.width <= x + high.offset  # side by side
        assert x - 0.5 < x + low.offset and x + high.offset + high.width < x + 0.5
    you = trace(explorer.figure, "your quota")
    x = low.x[list(low.customdata).index(explorer.policy)]
    assert x + low.offset < you.x[0] < x + low.offset + low.width


def test_2026_grant_from_9_credits_puts_the_marker_on_the_high_bar():
    grant = policy.free_daily_grant_from("2026-08")
    e = FreeQuotaExplorer(AccountModel(policy="2026-08", purchased_usd=grant, balance_usd=grant))
    assert not e.topped_up and e.daily_quota == HIGH  # 9 credits: not "topped up 10+", yet high
    you = trace(e.figure, "your quota")
    assert tuple(you.x) == (bar_middle(e.figure, TOPPED_UP_LABEL, "2026-08"),)


# --- a negative balance: 402 before any quota -----------------------------------------------------


def test_negative_balance_says_402_even_on_free_models(explorer):
    explorer._balance.value = -3.0
    html = explorer._readout.value
    assert explorer.model.blocked and explorer.model.usable_today == 0
    assert quota_span(explorer) == "0"
    assert "A balance of -$3.00 answers 402 on every model, free ones included" in html
    assert "Daily free-model quota" not in html  # the headline no longer offers the 50
    assert f"the quota is {LOW} requests per UTC day" in html  # the tier, once the balance is back
    assert "every call gets a 402" in explorer._pace_readout.value
    assert explorer.daily_quota == LOW  # the tier itself does not change


def test_negative_balance_drops_the_chart_marker_to_zero_with_402(explorer):
    explorer._balance.value = -3.0
    you = trace(explorer.figure, "your quota")
    assert tuple(you.y) == (0,) and tuple(you.text) == ("402",)
    explorer._balance.value = 0.0  # at $0 free models answer again
    assert not explorer.model.blocked
    assert tuple(you.y) == (LOW,) and tuple(you.text) == ("",)
    assert "402" not in explorer._readout.value


def test_negative_balance_through_a_shared_account():
    acct = AccountModel(balance_usd=5.0, purchased_usd=0.0)
    e = FreeQuotaExplorer(acct)
    acct.balance_usd = -0.5
    assert quota_span(e) == "0" and "-$0.50" in e._readout.value


# --- the toggle, words and numbers ----------------------------------------------------------------


def test_toggle_shows_a_check_mark_only_when_on(explorer):
    assert explorer._toggle.value is False and explorer._toggle.icon == ""
    explorer._toggle.value = True
    assert explorer._toggle.icon == "check"
    explorer._purchased.value = 0.0
    assert explorer._toggle.value is False and explorer._toggle.icon == ""


def test_one_call_an_hour_is_singular(explorer):
    explorer._pace.value = 1.0
    assert "At 1 call an hour from" in explorer._pace_readout.value
    explorer._pace.value = 2.0
    assert "At 2 calls an hour from" in explorer._pace_readout.value


def test_counts_have_thousands_separators_everywhere(explorer):
    explorer._toggle.value = True
    explorer.calls_per_hour = 10.0
    text = explorer._readout.value + explorer._pace_readout.value
    assert "1,000" in text and "1000" not in text
    assert list(trace(explorer.figure, TOPPED_UP_LABEL).text) == [
        f"{policy.get_policy(pid).free_daily_high or policy.get_policy(pid).free_daily_low:,}"
        for pid in policy.POLICIES]
    assert explorer.figure.layout.yaxis.tickformat == ","


def test_synced_figure_state_follows_updates_for_views_that_connect_later(explorer):
    # Voila connects after the notebook ran: the state it gets must hold the traces as they are.
    explorer._toggle.value = True
    state = {t["name"]: t for t in explorer.figure._widget_data}
    assert set(state) == {"not topped up", TOPPED_UP_LABEL, "your quota"}
    assert list(state["your quota"]["y"]) == [HIGH]


def test_pace_exhausts_the_low_quota_at_the_hand_computed_time(explorer):
    explorer.calls_per_hour = 10.0
    explorer.start_utc = "09:00"
    # 50 calls at 10 an hour last 5 hours: from 09:00 to 14:00 UTC.
    hours = LOW / 10.0
    expected = f"{9 + int(hours):02d}:{int((hours % 1) * 60):02d}"
    assert explorer.model.lasts_s == hours * 3600
    assert explorer.model.exhausted_at == expected
    assert f"at {expected} UTC" in explorer._pace_readout.value
    assert "00:00 UTC" in explorer._pace_readout.value


def test_pace_with_the_high_quota_lasts_until_the_reset(explorer):
    explorer.calls_per_hour = 10.0
    explorer._toggle.value = True
    assert explorer.model.exhausted_at is None
    assert "last until the reset at 00:00 UTC" in explorer._pace_readout.value


def test_pace_above_the_per_minute_limit_warns(explorer):
    per_min = policy.free_per_minute()
    explorer._pace.value = (per_min + 1) * 60.0
    assert explorer.model.over_per_minute
    assert f"above the {per_min} per minute limit" in explorer._pace_readout.value


def test_zero_pace_lasts_all_day(explorer):
    explorer._pace.value = 0.0
    assert explorer.model.lasts_s is None and explorer.model.exhausted_at is None


def test_negative_pace_clamps_to_zero(explorer):
    explorer._pace.value = -5.0
    assert explorer.calls_per_hour == 0.0
    assert "clamped to 0" in explorer._notice.text


@pytest.mark.parametrize("bad", ["25:00", "9am", "12:75", ""])
def test_bad_start_time_is_explained_and_kept(explorer, bad):
    explorer._start.value = bad
    assert explorer.start_utc == "09:00"
    assert "start time" in explorer._notice.text


def test_parse_hhmm_accepts_one_digit_hours():
    assert parse_hhmm("7:05") == 7 * 3600 + 5 * 60


def test_free_used_today_gives_what_is_left():
    acct = AccountModel(purchased_usd=0.0)
    model = FreeQuotaModel(acct)
    acct.free_used_today = 12
    assert model.free_left_today == LOW - 12
    acct.free_used_today = LOW + 9  # rejected attempts count: used can exceed the limit
    assert model.free_left_today == 0


def test_dom_contract_classes(explorer):
    assert "orw-quota-explorer" in explorer._dom_classes
    assert "orw-topup-toggle" in explorer._toggle._dom_classes


def test_repr():
    e = FreeQuotaExplorer(AccountModel(purchased_usd=0.0))
    assert repr(e) == ("FreeQuotaExplorer(policy='2025-04', purchased_usd=0.0, topped_up=False, "
                       f"daily_quota={LOW})")


def test_balance_field_shows_where_the_article_reading_parts(explorer):
    explorer._toggle.value = True
    explorer._balance.value = THRESHOLD - 1
    assert explorer.account.balance_usd == THRESHOLD - 1
    assert explorer.model.rule_differs and explorer.daily_quota == HIGH
    assert "orw-rule-differs" in explorer._readout.value
