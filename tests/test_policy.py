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


def test_registry_has_the_dated_versions_oldest_first_and_the_article_is_default():
    assert list(POLICIES) == ["legacy-2024", "2025-04", "2025-07", "2026-08"]
    assert DEFAULT_POLICY_ID == "2025-04"
    assert get_policy() is POLICIES["2025-04"]


def test_current_is_an_alias_of_the_newest_version():
    assert policy.ALIASES == {"current": "2026-08"}
    assert get_policy("current") is POLICIES["2026-08"] is policy.CURRENT
    assert policy.resolve_policy_id("current") == "2026-08"
    assert policy.policy_choices() == [*POLICIES, "current"]
    assert "current" not in POLICIES  # every version in the registry has a date


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
    with pytest.raises(ValueError, match="legacy-2024, 2025-04, 2025-07, 2026-08, current"):
        get_policy("2023")


# --- 2026: the vocabulary of today's version ------------------------------------------------------


def test_2026_grants_the_high_tier_from_nine_credits_and_older_versions_from_ten():
    assert daily_free_quota(9, "2026-08") == 1000
    assert daily_free_quota(8.99, "2026-08") == 50
    assert daily_free_quota(9, "2025-07") == 50 and daily_free_quota(10, "2025-07") == 1000
    assert daily_free_quota(9, "2025-04") == 50
    assert policy.free_daily_grant_from("2026-08") == 9.0
    assert policy.free_daily_grant_from("2025-04") == 10.0
    assert policy.free_daily_grant_from("legacy-2024") is None


@pytest.mark.parametrize("form, reset, expected", [
    ("2025-01", "daily", "Key limit exceeded. Manage it using https://openrouter.ai/keys"),
    ("2026-01", None,
     "Key limit exceeded (total limit). Manage it using https://openrouter.ai/settings/keys"),
    ("2026-01", "monthly",
     "Key limit exceeded (monthly limit). Manage it using https://openrouter.ai/settings/keys"),
])
def test_key_limit_message_older_forms(form, reset, expected):
    assert policy.key_limit_message(form, reset) == expected


def test_key_limit_message_newest_form_says_what_was_used_and_when_it_resets():
    assert policy.key_limit_message(
        "2026-10", "weekly", used_usd=20.05, limit_usd=20, resets_at="2026-10-12T00:00:00.000Z"
    ) == ("Key limit exceeded (weekly limit). Manage it using https://openrouter.ai/settings/keys"
          " $20.05 of $20.00 used; resets 2026-10-12T00:00:00.000Z.")
    assert policy.key_limit_message("2026-10", None, used_usd=1, limit_usd=1) == (
        "Key limit exceeded (total limit). Manage it using https://openrouter.ai/settings/keys"
        " $1.00 of $1.00 used.")


def test_key_limit_message_refuses_an_unknown_period():
    with pytest.raises(ValueError, match="limit_reset"):
        policy.key_limit_message("2026-10", "hourly", used_usd=1, limit_usd=1)


def test_2026_messages_are_the_captured_ones():
    assert MESSAGES.in_flight == (
        "This request would exceed your available credits given your current in-flight "
        "requests. Retry after in-flight requests settle, or add credits.")
    assert MESSAGES.weight_exceeds_budget == (
        "This request's maximum cost exceeds your available credits. Add credits, or lower "
        "max_tokens or prompt size.")
    assert MESSAGES.remedy_credits == (
        "Add credits at https://openrouter.ai/settings/credits, or lower max_tokens / prompt size "
        "to fit your remaining balance.")
    assert MESSAGES.remedy_in_flight == (
        "Retry after your in-flight requests settle (see the Retry-After header). Adding credits at "
        "https://openrouter.ai/settings/credits raises your in-flight budget, up to a capped ceiling.")
    assert MESSAGES.remedy_key_limit == (
        "Raise or remove this API key's usage limit at https://openrouter.ai/settings/keys, or use "
        "a key without a limit.")
    assert get_policy("2026-08").no_auth_message == "No cookie auth credentials found"
    assert get_policy("2025-07").no_auth_message == "No auth credentials found"
    assert policy.capacity_exhausted_message("a/b", 40) == (
        "All providers for a/b are at capacity. Retry after 40 seconds.")


def test_in_flight_budget_is_a_fraction_of_the_balance_up_to_the_ceiling_below_the_threshold():
    p = policy.IN_FLIGHT_DEFAULTS
    assert p.budget_usd(10) == pytest.approx(p.fraction * 10)
    assert p.budget_usd(p.threshold_usd - 0.01) == p.ceiling_usd
    assert p.budget_usd(p.threshold_usd) is None
    assert p.budget_usd(-1) == 0.0
    assert p.estimate_tokens(None) == p.completion_cap_tokens
    assert p.estimate_tokens(10) == 10
    assert p.estimate_tokens(10**9) == p.completion_cap_tokens


@pytest.mark.parametrize("field, value", [
    ("fraction", 0), ("fraction", 1.5), ("ceiling_usd", -1), ("threshold_usd", float("nan")),
    ("settle_s", -1), ("completion_cap_tokens", 0), ("completion_cap_tokens", 1.5),
    ("retry_after_s", True),
])
def test_in_flight_params_name_the_bad_field(field, value):
    with pytest.raises(ValueError, match=field):
        policy.InFlightParams(**{field: value})


def test_only_the_newest_version_has_the_in_flight_budget():
    assert [v.id for v in POLICIES.values() if v.in_flight_budget] == ["2026-08"]


@pytest.mark.parametrize("value, text", [
    (-5, "-$5.00"), (1234.5, "$1,234.50"), (-0.004, "$0.00"), (0, "$0.00"), (0.5, "$0.50"),
])
def test_format_usd_puts_the_sign_before_the_dollar(value, text):
    assert policy.format_usd(value) == text


def test_key_limit_message_newest_form_links_the_key_page_when_it_knows_the_hash():
    assert policy.key_limit_message(
        "2026-10", "weekly", used_usd=20.05, limit_usd=20, resets_at="2026-10-12T00:00:00.000Z",
        key_hash="abc123",
    ) == ("Key limit exceeded (weekly limit). Manage it using "
          "https://openrouter.ai/workspaces/default/keys/abc123 $20.05 of $20.00 used; "
          "resets 2026-10-12T00:00:00.000Z.")


@pytest.mark.parametrize("form, reset, tail", [
    ("2026-10", "daily", "https://openrouter.ai/workspaces/default/keys/h1 and adjust the key's daily limit"),
    ("2026-10", None, "https://openrouter.ai/workspaces/default/keys/h1 and adjust the key's total limit"),
    ("2026-01", "weekly",
     "https://openrouter.ai/settings/keys and create a key with a higher monthly limit"),
    ("2025-01", None, "https://openrouter.ai/settings/keys and create a key with a higher monthly limit"),
])
def test_key_affordability_message_has_the_key_bound_tail_of_its_time(form, reset, tail):
    assert policy.key_affordability_message(form, 16384, 9862, reset, "h1") == (
        "This request requires more credits, or fewer max_tokens. You requested up to 16384 "
        f"tokens, but can only afford 9862. To increase, visit {tail}")


def test_availability_messages():
    assert policy.capacity_exhausted_message("a/b", None) == "All providers for a/b are at capacity."
    assert policy.free_variant_ended_message("a/b:free", "a/b") == (
        "The free variant of a/b:free has ended. Use a/b (paid).")


def test_in_flight_params_update_names_unknown_fields_and_keeps_the_rest():
    p = policy.IN_FLIGHT_DEFAULTS.updated({"settle_s": 10})
    assert (p.settle_s, p.fraction) == (10, policy.IN_FLIGHT_DEFAULTS.fraction)
    with pytest.raises(ValueError, match="unknown field 'speed'"):
        policy.IN_FLIGHT_DEFAULTS.updated({"speed": 1})
    with pytest.raises(ValueError, match="ceiling_usd: must be more than 0 and at most"):
        policy.InFlightParams(ceiling_usd=1e10)
