"""POST /api/v1/chat/completions over HTTP: the check order of spec section 3, the wire formats of
section 4. Every test runs in memory and against a real uvicorn server (the ``api`` fixture)."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import pytest
from emulator_support import NEXT_MIDNIGHT_MS, NEXT_MINUTE_MS, T0

from orwidgets.emulator import DEFAULT_FREE_MODEL, DEFAULT_PAID_MODEL
from orwidgets.engine import Request
from orwidgets.policy import (
    FREE_DAILY_HIGH,
    FREE_DAILY_LEGACY,
    FREE_DAILY_LOW,
    FREE_PER_MINUTE,
    MESSAGES,
    LimitSource,
    affordability_message,
    paid_rps,
    unknown_model_message,
)


CHAT = "/api/v1/chat/completions"
CHEAP_PAID = "qwen/qwen3-32b"


def no_ratelimit_headers(response) -> bool:
    return not any(name.lower().startswith("x-ratelimit") for name in response.headers)


def spend_free_calls(api, who: str, n: int) -> None:
    """n admitted free calls, 20 per clock minute, moving the fake clock a minute at a time."""
    for i in range(n):
        if i and i % FREE_PER_MINUTE == 0:
            api.time.t += 60
        assert api.chat(who).status_code == 200


def model_entry(api, model_id: str) -> dict:
    return next(m for m in api.client.get("/api/v1/models").json()["data"] if m["id"] == model_id)


# --- step 1: body, auth, model --------------------------------------------------------------------


def test_invalid_json_is_400_in_openrouter_error_shape(api):
    r = api.client.post(CHAT, content=b"{not json", headers=api.auth("five"))
    assert r.status_code == 400
    body = r.json()
    assert body["error"]["code"] == 400
    assert body["error"]["message"].startswith("Invalid JSON in request body")


def test_body_that_is_not_an_object_is_400(api):
    r = api.client.post(CHAT, json=[1, 2], headers=api.auth("five"))
    assert r.status_code == 400
    assert r.json()["error"]["message"] == "Request body must be a JSON object"


def test_missing_messages_is_400(api):
    r = api.client.post(CHAT, json={"model": DEFAULT_FREE_MODEL}, headers=api.auth("five"))
    assert r.status_code == 400
    assert r.json() == {"error": {"code": 400, "message": 'Input required: specify "prompt" or "messages"'}}


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"messages": "hello"}, "messages"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "user", "content": 42}]}, "messages[0].content"),
        ({"messages": [{"role": 7, "content": "hi"}]}, "messages[0].role"),
        ({"model": 12}, "model"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": "10"}, "max_tokens"),
        ({"max_tokens": 1.5}, "max_tokens"),
        ({"max_tokens": True}, "max_tokens"),
        ({"stream": "yes"}, "stream"),
    ],
)
def test_wrong_types_are_400_naming_the_field(api, patch, field):
    body = {"model": DEFAULT_FREE_MODEL, "messages": [{"role": "user", "content": "hi"}], **patch}
    r = api.client.post(CHAT, json=body, headers=api.auth("five"))
    assert r.status_code == 400
    assert r.json()["error"]["code"] == 400
    assert r.json()["error"]["message"].startswith(field + ":")


def test_body_is_checked_before_auth(api):
    r = api.client.post(CHAT, content=b"[", headers={"Content-Type": "application/json"})
    assert r.status_code == 400


def test_no_authorization_header_is_401_no_auth_credentials(api):
    r = api.client.post(CHAT, json={"model": DEFAULT_FREE_MODEL, "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 401
    assert r.json() == {"error": {"code": 401, "message": MESSAGES.no_auth}}


def test_non_bearer_authorization_is_401_no_auth_credentials(api):
    r = api.client.post(CHAT, json={"messages": [{"role": "user", "content": "hi"}]},
                        headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert r.status_code == 401
    assert r.json()["error"]["message"] == MESSAGES.no_auth


def test_unknown_key_is_401_user_not_found(api):
    r = api.chat("sk-or-v1-" + "0" * 64)
    assert r.status_code == 401
    assert r.json() == {"error": {"code": 401, "message": MESSAGES.unknown_key}}


def test_auth_is_checked_before_the_model(api):
    r = api.chat("sk-or-v1-" + "0" * 64, model="no/such-model")
    assert r.status_code == 401


def test_unknown_model_is_400_with_the_model_id_in_the_message(api):
    r = api.chat("five", model="no/such-model")
    assert r.status_code == 400
    assert r.json() == {
        "error": {"code": 400, "message": unknown_model_message("no/such-model")},
        "user_id": api.user_id("five"),
    }


# --- step 2: negative balance ---------------------------------------------------------------------


def test_negative_balance_is_402_on_a_free_model(api):
    r = api.chat("negative", model=DEFAULT_FREE_MODEL)
    assert r.status_code == 402
    assert r.json() == {
        "error": {"code": 402, "message": MESSAGES.negative_balance},
        "user_id": api.user_id("negative"),
    }
    assert no_ratelimit_headers(r)


def test_negative_balance_is_402_on_a_paid_model(api):
    r = api.chat("negative", model=DEFAULT_PAID_MODEL, max_tokens=10)
    assert r.status_code == 402
    assert r.json()["error"]["message"] == MESSAGES.negative_balance


# --- step 3: free models ------------------------------------------------------------------------


def test_21st_free_call_in_a_minute_is_429_per_minute_with_headers_and_body(api):
    for _ in range(FREE_PER_MINUTE):
        assert api.chat("five").status_code == 200
    r = api.chat("five")
    assert r.status_code == 429
    expected_headers = {
        "X-RateLimit-Limit": str(FREE_PER_MINUTE),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(NEXT_MINUTE_MS),
    }
    assert r.json() == {
        "error": {
            "code": 429,
            "message": MESSAGES.free_per_minute,
            "metadata": {
                "headers": expected_headers,
                "limit_source": LimitSource.FREE_PER_MINUTE.value,
                "remedy_hint": MESSAGES.remedy_per_minute,
                "provider_name": None,
            },
        },
        "user_id": api.user_id("five"),
    }
    for name, value in expected_headers.items():
        assert r.headers[name] == value
    assert "retry-after" not in r.headers


def test_the_next_minute_admits_free_calls_again(api):
    for _ in range(FREE_PER_MINUTE + 1):
        api.chat("five")
    api.time.t += 60
    assert api.chat("five").status_code == 200


def test_51st_free_call_of_the_day_without_topup_is_429_per_day_low(api):
    spend_free_calls(api, "free", FREE_DAILY_LOW)
    api.time.t += 60
    r = api.chat("free")
    assert r.status_code == 429
    error = r.json()["error"]
    assert error["message"] == MESSAGES.free_per_day_low
    assert error["metadata"] == {
        "headers": {"X-RateLimit-Limit": str(FREE_DAILY_LOW), "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(NEXT_MIDNIGHT_MS)},
        "limit_source": LimitSource.FREE_DAILY.value,
        "remedy_hint": MESSAGES.remedy_per_day_low,
        "provider_name": None,
    }
    assert r.headers["X-RateLimit-Limit"] == str(FREE_DAILY_LOW)
    assert r.headers["X-RateLimit-Reset"] == str(NEXT_MIDNIGHT_MS)
    assert "retry-after" not in r.headers


def test_1001st_free_call_after_a_topup_is_429_per_day_high(api):
    # 1,000 attempts earlier today (rejected ones count too), decided by the same engine
    aid = "acct_topped_up"
    api.emu.engine.decide_batch(aid, Request.free_call(), FREE_DAILY_HIGH, now=T0 - 120)
    r = api.chat("topped_up")
    assert r.status_code == 429
    error = r.json()["error"]
    assert error["message"] == MESSAGES.free_per_day_high
    assert error["metadata"]["remedy_hint"] == MESSAGES.remedy_per_day_high
    assert r.headers["X-RateLimit-Limit"] == str(FREE_DAILY_HIGH)
    assert r.headers["X-RateLimit-Reset"] == str(NEXT_MIDNIGHT_MS)


def test_201st_free_call_under_legacy_2024_is_429_with_the_single_tier(api):
    api.admin("PUT", "/_emulator/policy", {"policy": "legacy-2024"})
    api.emu.engine.decide_batch("acct_topped_up", Request.free_call(), FREE_DAILY_LEGACY, now=T0 - 120)
    r = api.chat("topped_up")
    assert r.status_code == 429
    assert r.json()["error"]["message"] == MESSAGES.free_per_day_legacy
    assert r.headers["X-RateLimit-Limit"] == str(FREE_DAILY_LEGACY)


def test_per_minute_is_checked_before_per_day(api):
    spend_free_calls(api, "free", FREE_DAILY_LOW)  # ends 10 calls into its third minute
    used_this_minute = FREE_DAILY_LOW % FREE_PER_MINUTE
    for _ in range(FREE_PER_MINUTE - used_this_minute):
        assert api.chat("free").json()["error"]["message"] == MESSAGES.free_per_day_low
    r = api.chat("free")
    assert r.json()["error"]["message"] == MESSAGES.free_per_minute


def test_daily_counter_resets_at_midnight_utc_via_the_clock_route(api):
    spend_free_calls(api, "free", FREE_DAILY_LOW)
    r = api.admin("POST", "/_emulator/clock", {"now": "2026-03-20T23:59:55Z"})
    assert r.status_code == 200
    assert api.chat("free").status_code == 429
    api.admin("POST", "/_emulator/clock", {"advance_seconds": 10})
    assert api.chat("free").status_code == 200


def test_free_caps_are_account_wide_across_keys(api):
    second_key = api.emu.engine.add_key("acct_five")
    for i in range(FREE_PER_MINUTE):
        assert api.chat("five" if i % 2 else second_key).status_code == 200
    assert api.chat(second_key).status_code == 429
    assert api.chat("five").status_code == 429


def test_free_caps_are_shared_by_all_free_models(api):
    free_models = [m["id"] for m in api.client.get("/api/v1/models").json()["data"] if m["id"].endswith(":free")]
    for i in range(FREE_PER_MINUTE):
        assert api.chat("five", model=free_models[i % len(free_models)]).status_code == 200
    assert api.chat("five", model=free_models[-1]).status_code == 429


# --- step 4: paid request rate ------------------------------------------------------------------


def test_paid_calls_above_the_balance_rps_are_429_rate_limit_exceeded(api):
    rps = paid_rps(5.0, "2025-04")
    for _ in range(rps):
        assert api.chat("five", model=CHEAP_PAID, max_tokens=8).status_code == 200
    r = api.chat("five", model=CHEAP_PAID, max_tokens=8)
    assert r.status_code == 429
    error = r.json()["error"]
    assert error["message"] == MESSAGES.paid_rate
    assert error["metadata"]["limit_source"] == LimitSource.PAID_RATE.value
    assert r.headers["X-RateLimit-Limit"] == str(rps)
    assert r.headers["X-RateLimit-Remaining"] == "0"
    assert r.headers["X-RateLimit-Reset"] == str((math.floor(T0) + 1) * 1000)


def test_paid_rate_window_is_one_second(api):
    for _ in range(paid_rps(5.0, "2025-04") + 1):
        api.chat("five", model=CHEAP_PAID, max_tokens=8)
    api.time.t += 1
    assert api.chat("five", model=CHEAP_PAID, max_tokens=8).status_code == 200


def test_paid_rps_follows_the_balance_rounded_up(api):
    api.admin("PATCH", "/_emulator/accounts/acct_five", {"balance_usd": 1.5})
    rps = paid_rps(1.5, "2025-04")
    statuses = [api.chat("five", model=CHEAP_PAID, max_tokens=8).status_code for _ in range(rps + 1)]
    assert statuses == [200] * rps + [429]


def test_current_policy_has_no_paid_request_cap(api):
    api.admin("PUT", "/_emulator/policy", {"policy": "current"})
    statuses = {api.chat("five", model=CHEAP_PAID, max_tokens=8).status_code for _ in range(12)}
    assert statuses == {200}


def test_legacy_policy_also_caps_paid_rps(api):
    api.admin("PUT", "/_emulator/policy", {"policy": "legacy-2024"})
    rps = paid_rps(5.0, "legacy-2024")
    statuses = [api.chat("five", model=CHEAP_PAID, max_tokens=8).status_code for _ in range(rps + 1)]
    assert statuses == [200] * rps + [429]


# --- step 5: affordability ------------------------------------------------------------------------


def test_request_the_balance_cannot_cover_is_402_with_requested_and_affordable_tokens(api):
    model = "anthropic/claude-sonnet-4"
    prices = model_entry(api, model)["pricing"]
    content = "x" * 40  # 40 characters -> 10 prompt tokens (chars / 4, the documented estimate)
    max_tokens = 1_000_000
    left = Decimal("5") - 10 * Decimal(prices["prompt"])
    affordable = int(left // Decimal(prices["completion"]))
    r = api.chat("five", model=model, content=content, max_tokens=max_tokens)
    assert r.status_code == 402
    assert r.json() == {
        "error": {"code": 402, "message": affordability_message(max_tokens, affordable),
                  "metadata": {"provider_name": None}},
        "user_id": api.user_id("five"),
    }


def test_without_max_tokens_the_models_maximum_output_is_requested(api):
    max_out = model_entry(api, DEFAULT_PAID_MODEL)["top_provider"]["max_completion_tokens"]
    r = api.chat("free", model=DEFAULT_PAID_MODEL)
    assert r.status_code == 402
    assert r.json()["error"]["message"] == affordability_message(max_out, 0)


# --- step 6: success ----------------------------------------------------------------------------


def test_paid_success_charges_usage_cost_from_the_prices(api):
    prices = model_entry(api, DEFAULT_PAID_MODEL)["pricing"]
    r = api.chat("five", model=DEFAULT_PAID_MODEL, content="y" * 40, max_tokens=5)
    assert r.status_code == 200
    usage = r.json()["usage"]
    assert usage["prompt_tokens"] == 10
    assert usage["completion_tokens"] == 5
    assert usage["total_tokens"] == 15
    expected = 10 * Decimal(prices["prompt"]) + 5 * Decimal(prices["completion"])
    assert usage["cost"] == pytest.approx(float(expected), rel=1e-12)
    balance = api.account("acct_five")["balance_usd"]
    assert balance == pytest.approx(float(Decimal("5") - expected), abs=1e-12)


def test_free_success_costs_zero_and_leaves_the_balance(api):
    r = api.chat("five")
    assert r.status_code == 200
    assert r.json()["usage"]["cost"] == 0
    assert api.account("acct_five")["balance_usd"] == 5.0


def test_success_carries_no_ratelimit_headers(api):
    r1 = api.chat("five")
    r2 = api.chat("five", model=CHEAP_PAID, max_tokens=8)
    assert r1.status_code == r2.status_code == 200
    assert no_ratelimit_headers(r1) and no_ratelimit_headers(r2)


def test_success_body_has_the_openai_compatible_shape(api):
    r = api.chat("five", content="hello there")
    body = r.json()
    assert r.headers["content-type"].startswith("application/json")
    assert body["id"].startswith("gen-")
    assert body["object"] == "chat.completion"
    assert body["model"] == DEFAULT_FREE_MODEL
    assert isinstance(body["provider"], str) and body["provider"]
    assert body["created"] == math.floor(T0)
    choice = body["choices"][0]
    assert choice["index"] == 0
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    assert isinstance(choice["message"]["content"], str) and choice["message"]["content"]
    assert body["usage"]["is_byok"] is False
    assert body["usage"]["prompt_tokens"] == math.ceil(len("hello there") / 4)


def test_reply_is_deterministic(api):
    a = api.chat("five", content="same").json()["choices"][0]["message"]["content"]
    b = api.chat("five", content="same").json()["choices"][0]["message"]["content"]
    assert a == b


def test_max_tokens_cuts_the_reply_with_finish_reason_length(api):
    body = api.chat("five", max_tokens=3).json()
    assert body["usage"]["completion_tokens"] == 3
    assert body["choices"][0]["finish_reason"] == "length"
    assert len(body["choices"][0]["message"]["content"]) <= 3 * 4


def test_prompt_field_is_accepted_instead_of_messages(api):
    r = api.client.post(CHAT, json={"model": DEFAULT_FREE_MODEL, "prompt": "x" * 8}, headers=api.auth("five"))
    assert r.status_code == 200
    assert r.json()["usage"]["prompt_tokens"] == 2


def test_content_parts_count_their_text(api):
    body = {"model": DEFAULT_FREE_MODEL,
            "messages": [{"role": "user", "content": [{"type": "text", "text": "z" * 16}]}]}
    r = api.client.post(CHAT, json=body, headers=api.auth("five"))
    assert r.status_code == 200
    assert r.json()["usage"]["prompt_tokens"] == 4


# --- streaming ----------------------------------------------------------------------------------


def sse_events(text: str) -> list[str]:
    return [line[len("data: "):] for line in text.split("\n") if line.startswith("data: ")]


def test_stream_sends_chunks_then_usage_then_done(api):
    plain = api.chat("five", model=CHEAP_PAID, max_tokens=30).json()
    api.time.t += 1  # a fresh paid-rate second
    r = api.chat("five", model=CHEAP_PAID, max_tokens=30, stream=True)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert no_ratelimit_headers(r)
    events = sse_events(r.text)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"] == plain["usage"]
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks[:-1])
    assert content == plain["choices"][0]["message"]["content"]
    assert chunks[-2]["choices"][0]["finish_reason"] == plain["choices"][0]["finish_reason"]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"


def test_stream_that_is_refused_answers_the_error_json_not_sse(api):
    r = api.chat("negative", stream=True)
    assert r.status_code == 402
    assert r.json()["error"]["message"] == MESSAGES.negative_balance
