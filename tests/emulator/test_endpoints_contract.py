"""GET /api/v1/key, /credits, /models and the error answers of every route (spec section 4)."""

from __future__ import annotations

import re

import pytest

from orwidgets.emulator import DEFAULT_FREE_MODEL, DEFAULT_PAID_MODEL
from orwidgets.engine import Request, truncate_key
from orwidgets.policy import (
    FREE_DAILY_HIGH,
    FREE_DAILY_LOW,
    MESSAGES,
    TOPUP_THRESHOLD_USD,
    paid_rps,
)

CONTRACT_MODEL_IDS = {
    "meta-llama/llama-3.3-70b-instruct:free", "meta-llama/llama-3.3-70b-instruct",
    "deepseek/deepseek-chat-v3-0324:free", "deepseek/deepseek-chat-v3-0324", "qwen/qwen3-32b:free",
    "qwen/qwen3-32b", "openai/gpt-4o-mini", "anthropic/claude-3.5-haiku",
    "google/gemini-2.0-flash-exp:free", "google/gemini-2.0-flash-001", "x-ai/grok-3-mini",
}


def set_policy(api, policy: str) -> None:
    assert api.admin("PUT", "/_emulator/policy", {"policy": policy}).status_code == 200


# --- GET /api/v1/key ----------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["legacy-2024", "2025-04"])
def test_key_under_legacy_shape_reports_rate_limit_numbers_and_no_free_counter(api, policy):
    set_policy(api, policy)
    data = api.client.get("/api/v1/key", headers=api.auth("five")).json()["data"]
    assert data["rate_limit"] == {"requests": 10 * paid_rps(5.0, policy), "interval": "10s"}
    assert "free_model_daily_requests" not in data


def test_key_under_current_reports_the_free_counter_and_a_deprecated_rate_limit(api):
    set_policy(api, "current")
    for _ in range(3):
        api.chat("free")
    data = api.client.get("/api/v1/key", headers=api.auth("free")).json()["data"]
    assert data["free_model_daily_requests"] == {"used": 3, "limit": FREE_DAILY_LOW, "remaining": FREE_DAILY_LOW - 3}
    assert data["rate_limit"] == {"requests": -1, "interval": "10s",
                                  "note": "This field is deprecated and safe to ignore."}


def test_key_free_counter_limit_is_1000_after_a_topup(api):
    set_policy(api, "current")
    data = api.client.get("/api/v1/key", headers=api.auth("topped_up")).json()["data"]
    assert data["free_model_daily_requests"]["limit"] == FREE_DAILY_HIGH


def test_key_free_counter_counts_rejected_attempts(api):
    set_policy(api, "current")
    # earlier today: 20 admitted and the rest refused per minute; every attempt counts
    api.emu.engine.decide_batch("acct_free", Request.free_call(), FREE_DAILY_LOW + 2, now=api.time.t - 120)
    data = api.client.get("/api/v1/key", headers=api.auth("free")).json()["data"]
    assert data["free_model_daily_requests"] == {"used": FREE_DAILY_LOW + 2, "limit": FREE_DAILY_LOW, "remaining": 0}


def test_key_label_is_truncated_and_the_key_never_appears(api):
    key = api.keys["five"]
    r = api.client.get("/api/v1/key", headers=api.auth("five"))
    assert r.json()["data"]["label"] == truncate_key(key)
    assert key not in r.text


def test_key_is_free_tier_means_never_paid(api):
    assert api.client.get("/api/v1/key", headers=api.auth("free")).json()["data"]["is_free_tier"] is True
    assert api.client.get("/api/v1/key", headers=api.auth("five")).json()["data"]["is_free_tier"] is False


def test_key_flags_management_keys(api):
    get = lambda who: api.client.get("/api/v1/key", headers=api.auth(who)).json()["data"]  # noqa: E731
    assert get("management")["is_management_key"] is True
    assert get("five")["is_management_key"] is False


def test_key_usage_follows_spending(api):
    cost = api.chat("five", model=DEFAULT_PAID_MODEL, max_tokens=5).json()["usage"]["cost"]
    data = api.client.get("/api/v1/key", headers=api.auth("five")).json()["data"]
    assert data["usage"] == pytest.approx(cost, abs=1e-15)
    assert data["usage_daily"] == pytest.approx(cost, abs=1e-15)
    assert data["limit"] is None and data["limit_remaining"] is None


def test_legacy_auth_key_path_answers_the_same(api):
    a = api.client.get("/api/v1/key", headers=api.auth("five")).json()
    b = api.client.get("/api/v1/auth/key", headers=api.auth("five")).json()
    assert a == b


@pytest.mark.parametrize("path", ["/api/v1/key", "/api/v1/auth/key", "/api/v1/credits"])
def test_key_routes_without_a_key_are_401_no_auth(api, path):
    r = api.client.get(path)
    assert r.status_code == 401
    assert r.json() == {"error": {"code": 401, "message": MESSAGES.no_auth}}


@pytest.mark.parametrize("path", ["/api/v1/key", "/api/v1/credits"])
def test_key_routes_with_an_unknown_key_are_401_user_not_found(api, path):
    r = api.client.get(path, headers={"Authorization": "Bearer sk-or-v1-" + "f" * 64})
    assert r.status_code == 401
    assert r.json() == {"error": {"code": 401, "message": MESSAGES.unknown_key}}


# --- GET /api/v1/credits ------------------------------------------------------------------------


def test_credits_reports_purchases_and_usage_under_2025_04(api):
    r = api.client.get("/api/v1/credits", headers=api.auth("five"))
    assert r.status_code == 200
    assert r.json() == {"data": {"total_credits": 5.0, "total_usage": 0.0}}


def test_credits_balance_identity_holds_for_a_negative_balance(api):
    data = api.client.get("/api/v1/credits", headers=api.auth("negative")).json()["data"]
    assert data["total_credits"] - data["total_usage"] == pytest.approx(-0.5)


def test_credits_needs_a_management_key_under_current(api):
    set_policy(api, "current")
    r = api.client.get("/api/v1/credits", headers=api.auth("five"))
    assert r.status_code == 403
    assert r.json() == {"error": {"code": 403, "message": MESSAGES.management_only}}


def test_credits_answers_a_management_key_under_current(api):
    set_policy(api, "current")
    r = api.client.get("/api/v1/credits", headers=api.auth("management"))
    assert r.status_code == 200
    assert r.json()["data"]["total_credits"] == TOPUP_THRESHOLD_USD


def test_credits_answers_a_management_account_created_by_the_admin_api(api):
    set_policy(api, "current")
    made = api.admin("POST", "/_emulator/accounts", {"balance_usd": 2, "purchased_usd": 2, "management": True}).json()
    r = api.client.get("/api/v1/credits", headers=api.auth(made["key"]))
    assert r.json() == {"data": {"total_credits": 2.0, "total_usage": 0.0}}


# --- GET /api/v1/models -------------------------------------------------------------------------


def test_models_lists_the_contract_ids(api):
    ids = {m["id"] for m in api.client.get("/api/v1/models").json()["data"]}
    assert CONTRACT_MODEL_IDS <= ids
    assert DEFAULT_FREE_MODEL in ids and DEFAULT_PAID_MODEL in ids


def test_models_entries_have_string_prices_and_limits(api):
    for m in api.client.get("/api/v1/models").json()["data"]:
        assert isinstance(m["name"], str) and m["name"]
        assert isinstance(m["context_length"], int) and m["context_length"] > 0
        assert isinstance(m["pricing"]["prompt"], str) and isinstance(m["pricing"]["completion"], str)
        float(m["pricing"]["prompt"]), float(m["pricing"]["completion"])
        assert isinstance(m["top_provider"]["max_completion_tokens"], int)


def test_free_variants_are_priced_zero_and_named_free(api):
    models = api.client.get("/api/v1/models").json()["data"]
    free = [m for m in models if m["id"].endswith(":free")]
    paid = [m for m in models if not m["id"].endswith(":free")]
    assert len(free) >= 4 and len(paid) >= 8
    for m in free:
        assert m["pricing"]["prompt"] == m["pricing"]["completion"] == "0"
        assert m["name"].endswith("(free)")
    for m in paid:
        assert float(m["pricing"]["prompt"]) > 0 and float(m["pricing"]["completion"]) > 0


def test_openai_models_have_no_free_variant(api):
    ids = [m["id"] for m in api.client.get("/api/v1/models").json()["data"]]
    assert any(i.startswith("openai/") for i in ids)
    assert not any(i.startswith("openai/") and i.endswith(":free") for i in ids)


def test_models_cover_the_article_families(api):
    vendors = {m["id"].split("/")[0] for m in api.client.get("/api/v1/models").json()["data"]}
    assert {"deepseek", "qwen", "openai", "anthropic", "google", "x-ai", "meta-llama"} <= vendors


# --- errors of every route ----------------------------------------------------------------------


def test_unknown_path_is_404_json(api):
    r = api.client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.json() == {"error": {"code": 404, "message": "Not Found"}}


def test_trailing_slash_is_404_not_a_redirect(api):
    r = api.client.get("/api/v1/models/")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v1/chat/completions"), ("POST", "/api/v1/key"), ("DELETE", "/api/v1/models"),
     ("PUT", "/api/v1/credits"), ("DELETE", "/_emulator/accounts"), ("PUT", "/_emulator/faults")],
)
def test_wrong_method_is_405_json_with_allow(api, method, path):
    r = api.client.request(method, path)
    assert r.status_code == 405
    assert r.json() == {"error": {"code": 405, "message": "Method Not Allowed"}}
    assert "allow" in r.headers


def test_body_over_one_mebibyte_is_413(api):
    r = api.client.post("/api/v1/chat/completions", content=b" " * (1024 * 1024 + 1),
                        headers={**api.auth("five"), "Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == 413


def test_body_of_exactly_one_mebibyte_is_read(api):
    body = b'{"model": "' + DEFAULT_FREE_MODEL.encode() + b'", "messages": [{"role": "user", "content": "hi"}]}'
    body += b" " * (1024 * 1024 - len(body))
    r = api.client.post("/api/v1/chat/completions", content=body, headers=api.auth("five"))
    assert r.status_code == 200


def test_generated_keys_look_like_openrouter_keys(api):
    for key in api.keys.values():
        assert re.fullmatch(r"sk-or-v1-[0-9a-f]{64}", key)


def test_a_crash_in_the_chat_fast_path_still_answers_the_500_json(monkeypatch):
    import asyncio

    import httpx

    from orwidgets.emulator import chat, create_app

    async def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(chat, "_answer", broken)
    app = create_app(latency_ms=0)

    async def call():
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.post("/api/v1/chat/completions", json={"messages": []})

    r = asyncio.run(call())
    assert r.status_code == 500
    assert r.json() == {"error": {"code": 500, "message": "Internal emulator error"}}


def test_the_chat_fast_path_leaves_other_methods_to_the_router(api):
    r = api.client.get("/api/v1/chat/completions")
    assert (r.status_code, r.headers["allow"]) == (405, "POST")
