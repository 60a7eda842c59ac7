"""TopUpAdvisor: the verdict and its reasons for the article's user types and edge cases."""

from __future__ import annotations

import math

import pytest

from orwidgets import policy
from orwidgets.widgets import AccountModel, TopUpAdvisor
from orwidgets.widgets.advisor import PRESETS, VERDICTS, AdvisorModel

V = policy.get_policy("2025-04")
LOW, HIGH = V.free_daily_low, V.free_daily_high
PER_MIN = policy.free_per_minute()


def advisor(purchased: float = 0.0, pol: str = "2025-04", **needs) -> AdvisorModel:
    return AdvisorModel(AccountModel(balance_usd=purchased, purchased_usd=purchased, policy=pol),
                        **needs)


def test_heavy_developer_preset_is_worth_it_and_warns_about_the_minute():
    preset = PRESETS["heavy developer (agent-mode tools)"]
    assert LOW < preset["free_calls_per_day"] <= HIGH
    assert preset["peak_free_per_minute"] > PER_MIN
    m = advisor(preset="heavy developer (agent-mode tools)")
    assert (m.verdict, m.worth_it) == ("worth it", True)
    assert (m.quota_now, m.quota_topped_up) == (LOW, HIGH)
    assert any(f"above the {PER_MIN} a minute limit" in r for r in m.reasons)


def test_light_user_preset_does_not_need_it():
    m = advisor(preset="light user")
    assert PRESETS["light user"]["free_calls_per_day"] <= LOW
    assert (m.verdict, m.worth_it) == ("not needed", False)
    assert not any("a minute limit" in r for r in m.reasons)


def test_production_app_preset_gets_the_balance_to_keep():
    m = advisor(preset="production app")
    need = PRESETS["production app"]["needed_rps"]
    threshold = math.ceil(need) - 1  # the cap is below the need while ceil(balance) < need
    assert policy.paid_rps(threshold, V) < need <= policy.paid_rps(threshold + 0.01, V)
    assert any(f"keep the balance above ${threshold:,.2f}" in r for r in m.reasons)
    days = V.topup_threshold_usd / PRESETS["production app"]["paid_usd_per_day"]
    assert m.days_to_spend_topup == pytest.approx(days)


def test_already_topped_up():
    m = advisor(purchased=V.topup_threshold_usd, free_calls_per_day=300)
    assert (m.verdict, m.worth_it) == ("already topped up", False)


def test_more_than_the_high_tier_is_not_enough_alone():
    m = advisor(free_calls_per_day=HIGH + 500)
    assert (m.verdict, m.worth_it) == ("worth it, but not enough alone", True)
    assert any("500 short" in r for r in m.reasons)


def test_paid_spending_makes_a_small_need_worth_it():
    m = advisor(free_calls_per_day=10, paid_usd_per_day=2.0)
    assert m.verdict == "worth it"
    assert m.days_to_spend_topup == pytest.approx(V.topup_threshold_usd / 2.0)


def test_legacy_top_up_has_no_effect_on_free_calls():
    m = advisor(pol="legacy-2024", free_calls_per_day=300)
    legacy = policy.get_policy("legacy-2024").free_daily_low
    assert (m.verdict, m.quota_now, m.quota_topped_up) == ("no effect under this policy",
                                                          legacy, legacy)


def test_current_policy_explains_there_is_no_rps_cap():
    m = advisor(pol="current", needed_rps=50.0)
    assert any("no balance-linked platform cap" in r for r in m.reasons)


def test_editing_a_need_switches_to_custom():
    m = advisor(preset="light user")
    m.free_calls_per_day = 70
    assert m.preset == "custom"
    assert m.verdict == "worth it"


def test_every_verdict_is_a_known_one():
    for pid in policy.POLICIES:
        for need in (0, LOW, LOW + 1, HIGH + 1):
            assert advisor(pol=pid, free_calls_per_day=need).verdict in VERDICTS


def test_negative_needs_clamp_to_zero():
    m = advisor(free_calls_per_day=-5, paid_usd_per_day=-2.0)
    assert (m.free_calls_per_day, m.paid_usd_per_day) == (0, 0.0)


def test_widget_preset_buttons_fill_the_fields():
    w = TopUpAdvisor(AccountModel(purchased_usd=0.0))
    w._preset.value = "heavy developer (agent-mode tools)"
    preset = PRESETS["heavy developer (agent-mode tools)"]
    assert w._free.value == preset["free_calls_per_day"]
    assert w._peak.value == preset["peak_free_per_minute"]
    assert w.verdict == "worth it"
    assert '<span class="orw-verdict"' in w._readout.value


def test_widget_typed_need_flips_the_verdict_and_preset():
    w = TopUpAdvisor(AccountModel(purchased_usd=0.0), preset="light user")
    w._free.value = LOW + 1
    assert (w.model.preset, w._preset.value, w.verdict) == ("custom", "custom", "worth it")


def test_widget_purchases_field_reaches_the_account():
    acct = AccountModel(purchased_usd=0.0)
    w = TopUpAdvisor(acct)
    w._purchased.value = V.topup_threshold_usd
    assert acct.topped_up and w.verdict == "already topped up"


def test_widget_negative_purchases_clamp_with_a_notice():
    w = TopUpAdvisor(AccountModel(purchased_usd=0.0))
    w._purchased.value = -3.0
    assert w.purchased_usd == 0.0 and "clamped to 0" in w._notice.text


def test_repr():
    w = TopUpAdvisor(AccountModel(purchased_usd=0.0), preset="light user")
    assert repr(w) == "TopUpAdvisor(policy='2025-04', preset='light user', verdict='not needed')"


def test_numbers_in_the_reasons_have_separators_and_agree_in_number():
    m = advisor(free_calls_per_day=LOW + 1, needed_rps=1000.0)
    text = " ".join(m.reasons)
    assert "1,000 RPS is above the 500 RPS cap" in text and "1000 RPS" not in text
    assert "and 1 call a day would get a per-day 429" in text  # one over the quota: singular


def test_one_day_of_paid_usage_is_singular():
    m = advisor(paid_usd_per_day=V.topup_threshold_usd)
    assert any(r.endswith("in 1 day anyway.") for r in m.reasons)


def test_preset_buttons_are_as_wide_as_their_labels():
    # The default button width cut "heavy developer (agent-mode tools)" to "heavy developer ...".
    assert TopUpAdvisor()._preset.style.button_width == "auto"
