"""The policy table: every worked example of the spec's section 2, and the messages of section 4."""

from __future__ import annotations

import math

import pytest

from orwidgets import policy
from orwidgets.policy import (
    DEFAULT_POLICY_ID,
    MESSAGES,
    POLICIES,
    daily_free_quota,
    daily_free_quota_topped_up,
    explain_paid_rps,
    free_per_minute,
    get_policy,
    paid_rps,
)

WORKED_EXAMPLES = [
    (0.5, 1),
    (1, 1),
    (1.2, 2),
    (5, 5),
    (10, 10),
    (499.01, 500),
    (500, 500),
    (1000, 500),
]


def test_registry_has_the_three_versions_oldest_first_and_the_article_is_default():
    assert list(POLICIES) == ["legacy-2024", "2025-04", "current"]
    assert DEFAULT_POLICY_ID == "2025-04"
    assert get_policy() is POLICIES["2025-04"]


@pytest.mark.parametrize("version", list(POLICIES.values()), ids=list(POLICIES))
def test_every_version_is_documented(version):
    assert version.title and version.in_force_text and version.changes
    assert version.sources, "each version names its sources"
    assert version.in_force_from is not None
    assert len(version.changes.split(". ")) >= 2


def test_version_periods_follow_each_other():
    versions = list(POLICIES.values())
    for before, after in zip(versions, versions[1:]):
        assert before.in_force_until == after.in_force_from
    assert versions[-1].in_force_until is None


@pytest.mark.parametrize("balance, rps", WORKED_EXAMPLES)
@pytest.mark.parametrize("version_id", ["2025-04", "legacy-2024"])
def test_paid_rps_worked_examples(version_id, balance, rps):
    assert paid_rps(balance, version_id) == rps


@pytest.mark.parametrize(
    "balance, rule",
    [(0.5, "minimum 1"), (1.2, "rounded up"), (5, "exact"), (499.01, "rounded up"), (1000, "cap 500")],
)
def test_explain_paid_rps_names_the_rule(balance, rule):
    answer = explain_paid_rps(balance)
    assert answer.rule == rule
    assert f"({rule})" in answer.text


def test_float_noise_does_not_round_a_whole_balance_up():
    # 10 - 0.1*... leaves 4.999999999999 or 5.000000000001 after float arithmetic.
    assert paid_rps(0.1 + 0.2 + 4.7) == 5
    assert paid_rps(5.000000000001) == 5


def test_balance_at_or_below_zero_is_blocked_but_valid():
    for balance in (0, -0.5):
        answer = explain_paid_rps(balance)
        assert answer.rps == 1 and answer.blocked
        assert "402" in answer.text


def test_current_has_no_balance_linked_cap():
    answer = explain_paid_rps(42, "current")
    assert answer.rps is None
    assert answer.rule == "no platform cap"
    assert "no balance-linked platform request cap" in answer.text
    assert paid_rps(1000, "current") is None


@pytest.mark.parametrize(
    "version_id, purchased, quota",
    [
        ("legacy-2024", 0, 200),
        ("legacy-2024", 100, 200),
        ("2025-04", 0, 50),
        ("2025-04", 9.99, 50),
        ("2025-04", 10, 1000),
        ("2025-04", 250, 1000),
        ("current", 0, 50),
        ("current", 10, 1000),
    ],
)
def test_daily_free_quota_from_purchases(version_id, purchased, quota):
    assert daily_free_quota(purchased, version_id) == quota


@pytest.mark.parametrize(
    "version_id, topped_up, quota",
    [("2025-04", False, 50), ("2025-04", True, 1000), ("legacy-2024", True, 200), ("current", True, 1000)],
)
def test_daily_free_quota_from_topped_up_flag(version_id, topped_up, quota):
    assert daily_free_quota_topped_up(topped_up, version_id) == quota


def test_free_per_minute_is_20_in_every_version():
    assert {free_per_minute(v) for v in POLICIES} == {20}


def test_exact_messages_of_section_4():
    assert MESSAGES.free_per_minute == "Rate limit exceeded: free-models-per-min. "
    assert MESSAGES.free_per_day_low == (
        "Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model requests per day"
    )
    assert MESSAGES.free_per_day_high == "Rate limit exceeded: free-models-per-day-high-balance. "
    assert MESSAGES.negative_balance == (
        "Insufficient credits. Add more using https://openrouter.ai/settings/credits"
    )
    assert MESSAGES.no_auth == "No auth credentials found"
    assert MESSAGES.unknown_key == "User not found."
    assert MESSAGES.management_only == "Only management keys can perform this operation"
    assert MESSAGES.upstream == "Provider returned error"
    assert MESSAGES.remedy_per_day_high == "Wait for the daily reset"


def test_affordability_message_fills_in_n_and_m():
    assert policy.affordability_message(64000, 2666) == (
        "This request requires more credits, or fewer max_tokens. You requested up to 64000 "
        "tokens, but can only afford 2666. To increase, visit https://openrouter.ai/settings/credits "
        "and add more credits"
    )


def test_per_day_message_follows_the_tier():
    assert policy.free_per_day_message(0) == MESSAGES.free_per_day_low
    assert policy.free_per_day_message(10) == MESSAGES.free_per_day_high
    assert policy.free_per_day_message(10, "legacy-2024") == MESSAGES.free_per_day_legacy


def test_upstream_and_unknown_model_texts():
    assert policy.upstream_raw_message("m:free").startswith("m:free is temporarily rate-limited upstream.")
    assert policy.unknown_model_message("nope/x") == "nope/x is not a valid model ID"


def test_free_models_are_the_free_suffix():
    assert policy.is_free_model("meta-llama/llama-3.3-70b-instruct:free")
    assert not policy.is_free_model("openai/gpt-4o-mini")


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, "5", None, True, [1]])
@pytest.mark.parametrize(
    "func, param",
    [(paid_rps, "balance_usd"), (explain_paid_rps, "balance_usd"), (daily_free_quota, "purchased_usd")],
)
def test_invalid_inputs_raise_value_error_naming_the_parameter(func, param, bad):
    with pytest.raises(ValueError, match=param):
        func(bad)


def test_topped_up_must_be_a_bool():
    with pytest.raises(ValueError, match="topped_up"):
        daily_free_quota_topped_up("yes")


def test_unknown_policy_id_names_the_choices():
    with pytest.raises(ValueError, match="legacy-2024, 2025-04, current"):
        get_policy("2023")
