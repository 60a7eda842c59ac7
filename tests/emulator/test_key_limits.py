"""Per-key limits over HTTP: the 403 of a spent key in each version's wording, the key-bound 402,
disabled and expired keys, and GET /api/v1/key reporting a key's own windows."""

from __future__ import annotations

import pytest

from orwidgets.emulator import DEFAULT_FREE_MODEL, DEFAULT_PAID_MODEL
from orwidgets.engine import iso_ms
from orwidgets.policy import MESSAGES

KEY_HINT = MESSAGES.remedy_key_limit  # pinned to the capture by tests/test_policy.py


def use(api, policy: str) -> None:
    assert api.admin("PUT", "/_emulator/policy", {"policy": policy}).status_code == 200


def member(api):
    return api.emu.engine.key(api.keys["member"])


def test_the_member_key_has_spent_its_daily_limit_403_in_the_newest_wording(api):
    use(api, "current")
    r = api.chat("member", model=DEFAULT_PAID_MODEL, max_tokens=10)
    text = ("Key limit exceeded (daily limit). Manage it using "
            f"https://openrouter.ai/workspaces/default/keys/{member(api).hash} $1.00 of $1.00 used; "
            "resets 2026-03-21T00:00:00.000Z.")
    assert r.status_code == 403
    assert r.json() == {"error": {"code": 403, "message": text,
                                  "metadata": {"limit_source": "openrouter_key_limit"}},
                        "user_id": api.user_id("team")}
    assert "retry-after" not in r.headers


@pytest.mark.parametrize("policy, text", [
    ("2025-04", "Key limit exceeded. Manage it using https://openrouter.ai/keys"),
    ("2025-07", "Key limit exceeded (daily limit). Manage it using https://openrouter.ai/settings/keys"),
])
def test_older_versions_send_the_403_as_captured_then(api, policy, text):
    use(api, policy)
    r = api.chat("member", model=DEFAULT_PAID_MODEL, max_tokens=10)
    assert (r.status_code, r.json()["error"]) == (403, {"code": 403, "message": text})


def test_the_spent_key_is_refused_on_free_models_too_and_the_team_key_is_not(api):
    assert api.chat("member", model=DEFAULT_FREE_MODEL).status_code == 403
    assert api.chat("team", model=DEFAULT_PAID_MODEL, max_tokens=10).status_code == 200


def test_the_limit_comes_back_at_midnight_utc(api):
    api.admin("POST", "/_emulator/clock", {"now": "2026-03-20T23:59:59Z"})
    assert api.chat("member", model=DEFAULT_PAID_MODEL, max_tokens=10).status_code == 403
    api.admin("POST", "/_emulator/clock", {"now": "2026-03-21T00:00:00Z"})
    assert api.chat("member", model=DEFAULT_PAID_MODEL, max_tokens=10).status_code == 200


def test_a_remainder_too_small_for_the_request_is_the_key_bound_402(api):
    use(api, "current")
    engine = api.emu.engine
    key = member(api)
    engine.update_key(key, limit_usd=1.005, now=api.time.t)  # $0.005 left today
    # gpt-4o without max_tokens: up to 16,384 tokens; $0.005 buys (0.005 - 2 x 0.0000025) / 0.00001
    r = api.chat("member", model="openai/gpt-4o")
    text = ("This request requires more credits, or fewer max_tokens. You requested up to 16384 "
            "tokens, but can only afford 499. To increase, visit "
            f"https://openrouter.ai/workspaces/default/keys/{key.hash} and adjust the key's daily limit")
    assert r.status_code == 402
    assert r.json() == {"error": {"code": 402, "message": text,
                                  "metadata": {"limit_source": "openrouter_key_limit",
                                               "remedy_hint": KEY_HINT, "provider_name": None,
                                               "previous_errors": [{"code": 402, "message": text}]}},
                        "user_id": api.user_id("team")}
    assert api.chat("member", model="openai/gpt-4o", max_tokens=400).status_code == 200


@pytest.mark.parametrize("change", [{"disabled": True}, {"expires_at": "past"}])
def test_disabled_and_expired_keys_are_401_user_not_found(api, change):
    key = api.emu.engine.key(api.keys["team"])
    if change.get("expires_at") == "past":
        change = {"expires_at": api.time.t - 1}
    api.emu.engine.update_key(key, now=api.time.t, **change)
    for r in (api.chat("team"), api.client.get("/api/v1/key", headers=api.auth("team"))):
        assert r.status_code == 401
        assert r.json() == {"error": {"code": 401, "message": "User not found."}}


# --- GET /api/v1/key ------------------------------------------------------------------------------


def test_key_of_2026_has_every_field_in_the_captured_order(api):
    use(api, "current")
    r = api.client.get("/api/v1/key", headers=api.auth("member"))
    data = r.json()["data"]
    key = member(api)
    assert list(data) == [
        "label", "is_management_key", "is_provisioning_key", "limit", "limit_reset",
        "limit_remaining", "include_byok_in_limit", "usage", "usage_daily", "usage_weekly",
        "usage_monthly", "byok_usage", "byok_usage_daily", "byok_usage_weekly", "byok_usage_monthly",
        "is_free_tier", "expires_at", "creator_user_id", "organization_id", "workspace_id",
        "allowed_data_regions", "free_model_daily_requests", "rate_limit",
    ]
    assert data == {
        "label": key.label, "is_management_key": False, "is_provisioning_key": False,
        "limit": 1.0, "limit_reset": "daily", "limit_remaining": 0.0, "include_byok_in_limit": False,
        "usage": 1.0, "usage_daily": 1.0, "usage_weekly": 1.0, "usage_monthly": 1.0,
        "byok_usage": 0, "byok_usage_daily": 0, "byok_usage_weekly": 0, "byok_usage_monthly": 0,
        "is_free_tier": False, "expires_at": None, "creator_user_id": api.user_id("team"),
        "organization_id": None, "workspace_id": "00000000-0000-0000-0000-000000000000",
        "allowed_data_regions": ["global"],
        "free_model_daily_requests": {"used": 0, "limit": 1000, "remaining": 1000},
        "rate_limit": {"requests": -1, "interval": "10s",
                       "note": "This field is deprecated and safe to ignore."},
    }
    assert api.keys["member"] not in r.text


def test_key_of_2025_07_has_a_deprecated_rate_limit_and_no_free_counter(api):
    use(api, "2025-07")
    data = api.client.get("/api/v1/key", headers=api.auth("member")).json()["data"]
    assert data["rate_limit"] == {"requests": -1, "interval": "10s",
                                  "note": "This field is deprecated and safe to ignore."}
    assert "free_model_daily_requests" not in data and "workspace_id" not in data
    assert (data["limit"], data["limit_reset"], data["limit_remaining"]) == (1.0, "daily", 0.0)


def test_key_usage_fields_are_windows_not_all_time(api):
    key = api.emu.engine.key(api.keys["five"])
    api.emu.engine.spend(key, 0.125, api.time.t - 86_400 * 30)  # February
    api.emu.engine.spend(key, 0.25, api.time.t - 86_400 * 19)  # 2026-03-01, a Sunday
    api.emu.engine.spend(key, 0.5, api.time.t - 86_400 * 3)   # Tuesday 2026-03-17
    data = api.client.get("/api/v1/key", headers=api.auth("five")).json()["data"]
    assert (data["usage_daily"], data["usage_weekly"], data["usage_monthly"], data["usage"]) == (
        0.0, 0.5, 0.75, 0.875)


def test_member_limit_resets_at_in_the_admin_view_is_the_next_midnight(api):
    team = api.account("acct_team")
    assert team["keys"][1]["limit_resets_at"] == iso_ms(api.time.t - api.time.t % 86_400 + 86_400)


@pytest.mark.parametrize("policy, limit", [("2026-08", 1000), ("2025-07", 50), ("2025-04", 50)])
def test_nine_credits_bought_unlock_the_1000_tier_only_under_2026_08(api, policy, limit):
    use(api, policy)
    made = api.admin("POST", "/_emulator/accounts", {"balance_usd": 9, "purchased_usd": 9}).json()
    assert api.account(made["account_id"])["free_daily_limit"] == limit
    if policy == "2026-08":
        data = api.client.get("/api/v1/key", headers=api.auth(made["key"])).json()["data"]
        assert data["free_model_daily_requests"] == {"used": 0, "limit": 1000, "remaining": 1000}
