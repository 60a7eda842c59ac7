"""Classification of every class, from the real bodies recorded in openrouter-facts.md.

The bodies below are copied from ``shared/reference/openrouter-facts.md`` (sections 1 and 2.3) as
captured on the wire; ``user_id`` values are elided there and here.
"""

from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest

from client_helpers import LOCAL_API, Recorder, json_response, requires_emulator
from orwidgets.client import (
    CallClass,
    OpenRouterClient,
    classify,
    parse_rate_limit,
    parse_retry_after,
)
from orwidgets.policy import (
    FREE_DAILY_HIGH,
    FREE_DAILY_LOW,
    FREE_PER_MINUTE,
    MESSAGES,
    LimitSource,
    affordability_message,
)

# --- real captures (openrouter-facts.md) -----------------------------------------------------------

DAILY_LOW_2026 = {
    "error": {
        "message": "Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model requests per day",
        "code": 429,
        "metadata": {
            "headers": {"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1790467200000"},
            "limit_source": "openrouter_free_tier_daily",
            "remedy_hint": "Wait for the daily reset (see X-RateLimit-Reset), or purchase credits to raise your free-model daily limit.",
            "provider_name": None,
        },
    },
    "user_id": "user_…",
}
#: 2025 shape: no limit_source, no remedy_hint.
DAILY_LOW_2025 = {
    "error": {
        "message": "Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model requests per day",
        "code": 429,
        "metadata": {
            "headers": {"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1747785600000"},
            "provider_name": None,
        },
    },
    "user_id": "user_…",
}
PER_MINUTE_2025 = {
    "error": {
        "message": "Rate limit exceeded: free-models-per-min. ",
        "code": 429,
        "metadata": {
            "headers": {"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1765680060000"},
            "provider_name": None,
        },
    },
    "user_id": "user_…",
}
PER_MINUTE_2026 = {
    "error": {
        "message": "Rate limit exceeded: free-models-per-min. ",
        "code": 429,
        "metadata": {
            "headers": {"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1774047180000"},
            "limit_source": "openrouter_free_tier_per_minute",
            "remedy_hint": "Slow down requests to free models, or retry after the per-minute window resets.",
            "provider_name": None,
        },
    },
    "user_id": "user_…",
}
DAILY_HIGH_2026 = {
    "error": {
        "message": "Rate limit exceeded: free-models-per-day-high-balance. ",
        "code": 429,
        "metadata": {
            "headers": {"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1786579200000"},
            "limit_source": "openrouter_free_tier_daily",
            "remedy_hint": "Wait for the daily reset",
            "provider_name": None,
        },
    },
    "user_id": "user_…",
}
UPSTREAM_2026 = {
    "error": {
        "message": "Provider returned error",
        "code": 429,
        "metadata": {
            "raw": "google/gemma-4-31b-it:free is temporarily rate-limited upstream. Please retry shortly, or add your own key to accumulate your rate limits: https://openrouter.ai/settings/integrations",
            "provider_name": "Google AI Studio",
            "is_byok": False,
            "provider_error_code": "429",
        },
    },
    "user_id": "user_…",
}
#: BerriAI/litellm#8448 (2025-02-11): HTTP 200 with the error in the body.
UPSTREAM_AS_200_2025 = {
    "error": {
        "message": "Provider returned error",
        "code": 429,
        "metadata": {"raw": "error code: 1015", "provider_name": "Kluster"},
    }
}
#: The docs' generic 429 (also what a mid-stream error chunk carries).
GENERIC_429_DOCS = {
    "error": {"code": 429, "message": "Rate limit exceeded", "metadata": {"error_type": "rate_limit_exceeded"}}
}
#: R9 (2026-08-19 docs): every provider at capacity, a typed availability error.
CAPACITY_EXHAUSTED = {
    "error": {
        "code": 429,
        "message": "All providers are at capacity",
        "error_type": "rate_limit_exceeded",
        "availability": {"code": "capacity_exhausted", "retryable": True, "retry_after": 30},
    }
}
NEGATIVE_402 = {
    "error": {"message": "Insufficient credits. Add more using https://openrouter.ai/settings/credits", "code": 402}
}
NEVER_PURCHASED_402 = {
    "error": {
        "message": "Insufficient credits. This account never purchased credits. Make sure your key is on the correct account or org, and if so, purchase more at https://openrouter.ai/settings/credits",
        "code": 402,
    }
}
AFFORD_402_2025 = {
    "error": {
        "message": "This request requires more credits, or fewer max_tokens. You requested up to 64000 tokens, but can only afford 2666. To increase, visit https://openrouter.ai/settings/credits and upgrade to a paid account",
        "code": 402,
        "metadata": {"provider_name": None},
    },
    "user_id": "user_…",
}
PROMPT_LIMIT_402 = {
    "error": {
        "message": "Prompt tokens limit exceeded: 9000 > 8000. To increase, visit https://openrouter.ai/settings/keys and create a key with a higher monthly limit",
        "code": 402,
    }
}
NO_AUTH_401 = {"error": {"message": "No auth credentials found", "code": 401}}
UNKNOWN_KEY_401 = {"error": {"message": "User not found.", "code": 401}}
MANAGEMENT_403 = {"error": {"code": 403, "message": "Only management keys can perform this operation"}}
KEY_LIMIT_403 = {"error": {"code": 403, "message": "Key limit exceeded (total limit)"}}
SUCCESS_2026 = {
    "id": "gen-1768598902-c6b7oNEA4LEwLeeN30Jq",
    "provider": "Xiaomi",
    "model": "xiaomi/mimo-v2-flash:free",
    "object": "chat.completion",
    "created": 1768598902,
    "choices": [{"logprobs": None, "finish_reason": "stop", "native_finish_reason": "stop", "index": 0,
                 "message": {"role": "assistant", "content": "…", "refusal": None, "reasoning": None}}],
    "usage": {"prompt_tokens": 32, "completion_tokens": 45, "total_tokens": 77, "cost": 0, "is_byok": False},
}


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, SUCCESS_2026, CallClass.OK),
        (429, PER_MINUTE_2025, CallClass.FREE_PER_MINUTE),
        (429, PER_MINUTE_2026, CallClass.FREE_PER_MINUTE),
        (429, DAILY_LOW_2025, CallClass.FREE_PER_DAY_LOW),
        (429, DAILY_LOW_2026, CallClass.FREE_PER_DAY_LOW),
        (429, DAILY_HIGH_2026, CallClass.FREE_PER_DAY_HIGH),
        (429, UPSTREAM_2026, CallClass.UPSTREAM),
        (200, UPSTREAM_AS_200_2025, CallClass.UPSTREAM),
        (429, GENERIC_429_DOCS, CallClass.UPSTREAM),
        (429, CAPACITY_EXHAUSTED, CallClass.CAPACITY_EXHAUSTED),
        (402, NEGATIVE_402, CallClass.NEGATIVE_BALANCE),
        (402, NEVER_PURCHASED_402, CallClass.NEGATIVE_BALANCE),
        (402, AFFORD_402_2025, CallClass.AFFORDABILITY),
        (402, PROMPT_LIMIT_402, CallClass.AFFORDABILITY),
        (401, NO_AUTH_401, CallClass.UNAUTHORIZED),
        (401, UNKNOWN_KEY_401, CallClass.UNAUTHORIZED),
        (403, MANAGEMENT_403, CallClass.FORBIDDEN),
        (403, KEY_LIMIT_403, CallClass.KEY_LIMIT),
    ],
    ids=[
        "success", "per-minute-2025", "per-minute-2026", "per-day-low-2025", "per-day-low-2026",
        "per-day-high-2026", "upstream-2026", "upstream-as-http-200-2025", "generic-429-docs",
        "capacity-exhausted", "negative-balance", "never-purchased", "affordability",
        "prompt-limit", "no-auth", "unknown-key", "management-only", "key-limit",
    ],
)
def test_real_captured_body_is_classified(status, body, expected):
    assert classify(status, body) is expected


# --- bodies built from the policy texts (what the emulator sends) ----------------------------------


def _policy_429(message: str, source: LimitSource | None, limit: int) -> dict:
    metadata = {"headers": {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0",
                            "X-RateLimit-Reset": "1772409660000"}, "provider_name": None}
    if source is not None:
        metadata["limit_source"] = source.value
    return {"error": {"code": 429, "message": message, "metadata": metadata}, "user_id": "user_x"}


def test_legacy_single_tier_daily_message_is_per_day_low():
    body = _policy_429(MESSAGES.free_per_day_legacy, None, 200)
    assert classify(429, body) is CallClass.FREE_PER_DAY_LOW


def test_paid_rate_is_told_by_its_limit_source():
    body = _policy_429(MESSAGES.paid_rate, LimitSource.PAID_RATE, 5)
    assert classify(429, body) is CallClass.PAID_RATE


def test_bare_rate_limit_message_with_rate_headers_and_no_source_is_paid_rate():
    body = _policy_429(MESSAGES.paid_rate, None, 5)
    assert classify(429, body) is CallClass.PAID_RATE


def test_upstream_limit_source_alone_is_upstream():
    body = {"error": {"code": 429, "message": "Too many requests",
                      "metadata": {"limit_source": LimitSource.UPSTREAM.value}}}
    assert classify(429, body) is CallClass.UPSTREAM


def test_daily_source_with_unknown_message_takes_the_tier_from_the_limit():
    high = _policy_429("Rate limit exceeded", LimitSource.FREE_DAILY, FREE_DAILY_HIGH)
    low = _policy_429("Rate limit exceeded", LimitSource.FREE_DAILY, FREE_DAILY_LOW)
    assert (classify(429, high), classify(429, low)) == (
        CallClass.FREE_PER_DAY_HIGH, CallClass.FREE_PER_DAY_LOW)


def test_per_minute_source_wins_over_a_changed_message():
    body = _policy_429("Rate limit exceeded", LimitSource.FREE_PER_MINUTE, FREE_PER_MINUTE)
    assert classify(429, body) is CallClass.FREE_PER_MINUTE


def test_affordability_message_from_policy_is_affordability():
    body = {"error": {"code": 402, "message": affordability_message(100, 3),
                      "metadata": {"provider_name": None}}}
    assert classify(402, body) is CallClass.AFFORDABILITY


def test_negative_balance_message_from_policy_is_negative_balance():
    assert classify(402, {"error": {"code": 402, "message": MESSAGES.negative_balance}}) is \
        CallClass.NEGATIVE_BALANCE


@pytest.mark.parametrize("status", [400, 404, 500, 502, 503])
def test_other_statuses_are_http_errors(status):
    body = {"error": {"code": status, "message": "something"}}
    assert classify(status, body) is CallClass.HTTP_ERROR


def test_html_answer_with_200_is_an_http_error_not_ok():
    assert classify(200, "<html>captive portal</html>") is CallClass.HTTP_ERROR


def test_no_answer_is_a_network_error():
    assert classify(None, error=httpx.ConnectError("refused")) is CallClass.NETWORK_ERROR


def test_no_answer_because_of_a_timeout_is_a_timeout():
    assert classify(None, error=httpx.ReadTimeout("slow")) is CallClass.TIMEOUT


def test_every_class_has_a_label_and_a_hex_colour():
    for call_class in CallClass:
        assert call_class.label and call_class.color.startswith("#") and len(call_class.color) == 7


def test_remedy_advice_comes_from_the_policy_texts():
    assert CallClass.FREE_PER_MINUTE.advice == MESSAGES.remedy_per_minute
    assert CallClass.FREE_PER_DAY_LOW.advice == MESSAGES.remedy_per_day_low
    assert CallClass.FREE_PER_DAY_HIGH.advice == MESSAGES.remedy_per_day_high


# --- headers ---------------------------------------------------------------------------------------


def test_rate_limit_is_read_from_metadata_headers_when_http_headers_are_missing():
    rate = parse_rate_limit({}, PER_MINUTE_2025)
    assert (rate.limit, rate.remaining, rate.reset_ms) == (20, 0, 1765680060000)


def test_rate_limit_http_headers_win_over_metadata_and_any_case_works():
    headers = {"x-ratelimit-limit": "50", "X-RATELIMIT-REMAINING": "0", "X-RateLimit-Reset": "1790467200000"}
    rate = parse_rate_limit(headers, PER_MINUTE_2025)
    assert (rate.limit, rate.remaining, rate.reset_ms) == (50, 0, 1790467200000)


def test_retry_after_seconds_header_is_parsed():
    assert parse_retry_after({"Retry-After": "15"}) == 15.0


def test_retry_after_http_date_is_seconds_from_now():
    assert parse_retry_after({"Retry-After": "Mon, 02 Mar 2026 00:00:30 GMT"}, now=1_772_409_600.0) == 30.0


def test_retry_after_inside_metadata_headers_is_parsed():
    body = {"error": {"code": 429, "message": "Provider returned error",
                      "metadata": {"headers": {"Retry-After": "15"}, "provider_name": "Venice"}}}
    assert parse_retry_after({}, body) == 15.0


def test_retry_after_from_availability_hint():
    assert parse_retry_after({}, CAPACITY_EXHAUSTED) == 30.0


def test_free_tier_429_has_no_retry_after():
    assert parse_retry_after({}, DAILY_LOW_2026) is None


# --- through the client, with real HTTP headers ----------------------------------------------------


def test_client_result_carries_class_headers_reset_and_message():
    headers = {"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1790467200000"}
    rec = Recorder([json_response(429, DAILY_LOW_2026, headers)])
    with OpenRouterClient(LOCAL_API, "sk-or-v1-" + "0" * 64, transport=httpx.MockTransport(rec)) as client:
        result = client.chat("meta-llama/llama-3.3-70b-instruct:free")
    assert result.call_class is CallClass.FREE_PER_DAY_LOW
    assert result.status == 429
    assert result.message == DAILY_LOW_2026["error"]["message"]
    assert result.headers["X-RateLimit-Reset"] == "1790467200000"
    assert result.reset_at == datetime(2026, 9, 27, tzinfo=timezone.utc)
    assert result.limit_source == LimitSource.FREE_DAILY.value


def test_client_upstream_result_carries_retry_after_and_raw_detail():
    rec = Recorder([json_response(429, UPSTREAM_2026, {"Retry-After": "15"})])
    with OpenRouterClient(LOCAL_API, None, transport=httpx.MockTransport(rec)) as client:
        result = client.chat("google/gemma-4-31b-it:free")
    assert (result.call_class, result.retry_after_s) == (CallClass.UPSTREAM, 15.0)
    assert result.detail == UPSTREAM_2026["error"]["metadata"]["raw"]


def test_client_network_failure_is_a_result_not_an_exception():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    with OpenRouterClient(LOCAL_API, None, transport=httpx.MockTransport(refuse)) as client:
        result = client.chat("openai/gpt-4o-mini")
    assert (result.call_class, result.status) == (CallClass.NETWORK_ERROR, None)
    assert "Connection refused" in result.message


def test_client_timeout_is_a_result_not_an_exception():
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with OpenRouterClient(LOCAL_API, None, transport=httpx.MockTransport(slow)) as client:
        result = client.chat("openai/gpt-4o-mini")
    assert result.call_class is CallClass.TIMEOUT


def test_client_sends_the_key_only_in_the_authorization_header():
    key = "sk-or-v1-" + "5ec7e7" * 10 + "abcd"
    rec = Recorder([json_response(200, SUCCESS_2026)])
    with OpenRouterClient(LOCAL_API, key, transport=httpx.MockTransport(rec)) as client:
        result = client.chat("xiaomi/mimo-v2-flash:free", max_tokens=8)
        text = repr(client) + repr(result)
    assert rec.requests[0].headers["Authorization"] == f"Bearer {key}"
    assert key not in text


def test_client_sends_model_messages_and_max_tokens():
    rec = Recorder([json_response(200, SUCCESS_2026)])
    with OpenRouterClient(LOCAL_API, None, transport=httpx.MockTransport(rec)) as client:
        client.chat("openai/gpt-4o-mini", [{"role": "user", "content": "hi"}], max_tokens=7)
    import json

    sent = json.loads(rec.requests[0].content)
    assert sent == {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}],
                    "max_tokens": 7}
    assert str(rec.requests[0].url) == LOCAL_API + "/chat/completions"


def test_bare_host_base_url_gets_the_api_path():
    rec = Recorder([json_response(200, {"data": []})])
    with OpenRouterClient("http://127.0.0.1:9", None, transport=httpx.MockTransport(rec)) as client:
        client.list_models()
    assert str(rec.requests[0].url) == "http://127.0.0.1:9/api/v1/models"


def test_stream_with_a_mid_stream_error_chunk_is_classified_from_the_chunk():
    sse = (
        'data: {"id":"gen-1","model":"m","choices":[{"delta":{"content":"Hel"}}]}\n\n'
        'data: {"id":"gen-1","error":{"code":429,"message":"Rate limit exceeded",'
        '"metadata":{"error_type":"rate_limit_exceeded"}},'
        '"choices":[{"delta":{"content":""},"finish_reason":"error"}]}\n\n'
        "data: [DONE]\n\n"
    )
    rec = Recorder([httpx.Response(200, content=sse.encode(),
                                   headers={"content-type": "text/event-stream"})])
    with OpenRouterClient(LOCAL_API, None, transport=httpx.MockTransport(rec)) as client:
        result = client.chat("m", stream=True)
    assert (result.status, result.call_class, result.message) == (
        200, CallClass.UPSTREAM, "Rate limit exceeded")


def test_stream_success_assembles_the_content():
    sse = (
        'data: {"id":"gen-1","choices":[{"delta":{"content":"Hel"}}]}\n\n'
        'data: {"id":"gen-1","choices":[{"delta":{"content":"lo"},"finish_reason":"stop"}]}\n\n'
        'data: {"id":"gen-1","choices":[],"usage":{"cost":0}}\n\n'
        "data: [DONE]\n\n"
    )
    rec = Recorder([httpx.Response(200, content=sse.encode())])
    with OpenRouterClient(LOCAL_API, None, transport=httpx.MockTransport(rec)) as client:
        result = client.chat("m", stream=True)
    assert result.ok and result.body["choices"][0]["message"]["content"] == "Hello"


# --- from the emulator's own answers (in memory) ------------------------------------------------


def _emulator_call(setup=None, *, key_name="topped_up", model="openai/gpt-4o-mini", path=None,
                   stream=False, policy=None, raw_key=None):
    import asyncio

    from client_helpers import FakeClock
    from orwidgets.client import AsyncOpenRouterClient
    from orwidgets.emulator import create_app

    app = create_app(latency_ms=0, clock=FakeClock(), policy=policy)
    emu = app.state.emulator
    if setup is not None:
        setup(emu)
    key = raw_key if raw_key is not None else (emu.demo_keys[key_name] if key_name else None)

    async def call():
        async with AsyncOpenRouterClient(LOCAL_API, key, transport=httpx.ASGITransport(app=app)) as c:
            if path is not None:
                return await c.request("GET", path)
            return await c.chat(model, max_tokens=8, stream=stream)

    return asyncio.run(call())


emulator_only = requires_emulator


@emulator_only
def test_emulator_missing_key_is_unauthorized():
    result = _emulator_call(key_name=None)
    assert (result.status, result.call_class, result.message) == (
        401, CallClass.UNAUTHORIZED, MESSAGES.no_auth)


@emulator_only
def test_emulator_unknown_key_is_unauthorized():
    result = _emulator_call(raw_key="sk-or-v1-" + "0" * 64)
    assert (result.status, result.call_class, result.message) == (
        401, CallClass.UNAUTHORIZED, MESSAGES.unknown_key)


@emulator_only
def test_emulator_credits_with_a_plain_key_under_current_is_forbidden():
    result = _emulator_call(path="credits", policy="current")
    assert (result.status, result.call_class, result.message) == (
        403, CallClass.FORBIDDEN, MESSAGES.management_only)


@emulator_only
def test_emulator_unknown_model_is_an_http_error():
    result = _emulator_call(model="no/such-model")
    assert (result.status, result.call_class) == (400, CallClass.HTTP_ERROR)


@emulator_only
@pytest.mark.parametrize(("kind", "status"), [("http_502", 502), ("http_503", 503)])
def test_emulator_injected_provider_failures_are_http_errors(kind, status):
    result = _emulator_call(lambda emu: emu.faults.configure({"rules": [{"kind": kind}]}))
    assert (result.status, result.call_class) == (status, CallClass.HTTP_ERROR)


@emulator_only
def test_emulator_mid_stream_429_is_classified_from_the_error_chunk():
    result = _emulator_call(lambda emu: emu.faults.configure({"rules": [{"kind": "mid_stream_429"}]}),
                            stream=True)
    assert (result.status, result.call_class) == (200, CallClass.UPSTREAM)
    assert result.message == MESSAGES.mid_stream


@emulator_only
def test_emulator_affordability_402_is_affordability():
    big = _emulator_call(lambda emu: emu.engine.set_account("acct_five", balance_usd=0.0001),
                         key_name="five", model="anthropic/claude-sonnet-4")
    assert (big.status, big.call_class) == (402, CallClass.AFFORDABILITY)


def test_describe_says_the_status_once():
    from orwidgets.client._classify import CallClass, CallResult

    common = dict(body=None, headers={}, sent_at=0.0, latency_s=0.0)
    result = CallResult(status=429, call_class=CallClass.FREE_PER_MINUTE,
                        message="Rate limit exceeded: free-models-per-min. ", **common)
    assert result.describe() == (
        "HTTP 429 free per-minute: Rate limit exceeded: free-models-per-min.")
    timeout = CallResult(status=None, call_class=CallClass.TIMEOUT, message=None, **common)
    assert timeout.describe() == "no answer: timeout"
