"""The official ``openai`` SDK against the emulator over real sockets (base_url = emulator + /api/v1)."""

from __future__ import annotations

import openai
import pytest

from orwidgets.emulator import DEFAULT_FREE_MODEL, DEFAULT_PAID_MODEL
from orwidgets.policy import FREE_PER_MINUTE, MESSAGES, LimitSource


def sdk(api, who: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=str(api.client.base_url).rstrip("/") + "/api/v1",
                         api_key=api.keys.get(who, who), max_retries=0, timeout=10)


MESSAGES_HI = [{"role": "user", "content": "hello"}]


def test_sdk_chat_completion_succeeds_with_usage_and_cost(uvicorn_api):
    reply = sdk(uvicorn_api, "five").chat.completions.create(
        model=DEFAULT_PAID_MODEL, messages=MESSAGES_HI, max_tokens=12)
    assert reply.choices[0].message.content
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage.completion_tokens == 12
    assert reply.model == DEFAULT_PAID_MODEL
    assert reply.model_extra["provider"]
    assert reply.usage.model_extra["cost"] > 0


def test_sdk_raises_rate_limit_error_with_the_body_intact(uvicorn_api):
    client = sdk(uvicorn_api, "five")
    for _ in range(FREE_PER_MINUTE):
        client.chat.completions.create(model=DEFAULT_FREE_MODEL, messages=MESSAGES_HI)
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model=DEFAULT_FREE_MODEL, messages=MESSAGES_HI)
    err = info.value
    assert err.status_code == 429
    assert err.body["message"] == MESSAGES.free_per_minute  # the SDK keeps body["error"] here
    full = err.response.json()
    assert full["error"]["metadata"]["limit_source"] == LimitSource.FREE_PER_MINUTE.value
    assert full["error"]["metadata"]["headers"]["X-RateLimit-Limit"] == str(FREE_PER_MINUTE)
    assert err.response.headers["X-RateLimit-Remaining"] == "0"


def test_sdk_raises_api_status_error_402_for_a_negative_balance(uvicorn_api):
    with pytest.raises(openai.APIStatusError) as info:
        sdk(uvicorn_api, "negative").chat.completions.create(model=DEFAULT_FREE_MODEL, messages=MESSAGES_HI)
    err = info.value
    assert not isinstance(err, openai.RateLimitError)
    assert err.status_code == 402
    assert err.body["message"] == MESSAGES.negative_balance
    assert err.response.json()["error"] == {"code": 402, "message": MESSAGES.negative_balance}


def test_sdk_raises_authentication_error_for_an_unknown_key(uvicorn_api):
    with pytest.raises(openai.AuthenticationError) as info:
        sdk(uvicorn_api, "sk-or-v1-" + "2" * 64).chat.completions.create(
            model=DEFAULT_FREE_MODEL, messages=MESSAGES_HI)
    assert info.value.body["message"] == MESSAGES.unknown_key


def test_sdk_streams_chunks_and_the_final_usage(uvicorn_api):
    stream = sdk(uvicorn_api, "five").chat.completions.create(
        model=DEFAULT_FREE_MODEL, messages=MESSAGES_HI, stream=True)
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("Hello from the orwidgets emulator")
    assert chunks[-1].choices == []
    assert chunks[-1].usage.total_tokens == chunks[-1].usage.prompt_tokens + chunks[-1].usage.completion_tokens


def test_sdk_surfaces_the_mid_stream_429_as_an_api_error(uvicorn_api):
    uvicorn_api.admin("POST", "/_emulator/faults", {"rules": [{"kind": "mid_stream_429"}]})
    stream = sdk(uvicorn_api, "five").chat.completions.create(
        model=DEFAULT_FREE_MODEL, messages=MESSAGES_HI, stream=True)
    with pytest.raises(openai.APIError) as info:
        list(stream)
    assert MESSAGES.mid_stream in str(info.value)


def test_sdk_lists_the_models(uvicorn_api):
    ids = [m.id for m in sdk(uvicorn_api, "five").models.list()]
    assert DEFAULT_FREE_MODEL in ids and DEFAULT_PAID_MODEL in ids


# --- the answers of 2026-08 ---------------------------------------------------------------------


def newest(api) -> None:
    assert api.admin("PUT", "/_emulator/policy", {"policy": "2026-08"}).status_code == 200


def test_sdk_raises_api_status_error_402_for_the_in_flight_budget_with_retry_after(uvicorn_api):
    from orwidgets.engine import Request

    newest(uvicorn_api)
    engine = uvicorn_api.emu.engine
    # another client's calls of the same account fill the $0.01 budget of the 'small' account
    engine.decide_for_key(engine.key(uvicorn_api.keys["small"]), Request.paid_call(0.0, 0.01),
                          uvicorn_api.time.t, duration_s=None)
    with pytest.raises(openai.APIStatusError) as info:
        sdk(uvicorn_api, "small").chat.completions.create(
            model=DEFAULT_PAID_MODEL, messages=MESSAGES_HI, max_tokens=10)
    err = info.value
    assert not isinstance(err, openai.RateLimitError)
    assert err.status_code == 402
    assert err.body["message"] == MESSAGES.in_flight
    assert err.body["metadata"]["reason"] == "in_flight_budget_exhausted"
    assert err.body["metadata"]["headers"] == {"Retry-After": "120"}
    assert err.response.headers["Retry-After"] == "120"


def test_sdk_raises_api_status_error_402_for_weight_exceeds_budget(uvicorn_api):
    newest(uvicorn_api)
    with pytest.raises(openai.APIStatusError) as info:
        sdk(uvicorn_api, "small").chat.completions.create(
            model="openai/gpt-4o", messages=MESSAGES_HI, max_tokens=1500)
    err = info.value
    assert err.status_code == 402
    assert err.body["metadata"]["reason"] == "weight_exceeds_budget"
    assert err.body["metadata"]["limit_source"] == LimitSource.CREDITS.value
    assert "retry-after" not in err.response.headers


def test_sdk_raises_permission_denied_403_for_a_spent_key_limit(uvicorn_api):
    newest(uvicorn_api)
    with pytest.raises(openai.PermissionDeniedError) as info:
        sdk(uvicorn_api, "member").chat.completions.create(
            model=DEFAULT_PAID_MODEL, messages=MESSAGES_HI, max_tokens=10)
    err = info.value
    assert err.status_code == 403
    assert err.body["message"].startswith("Key limit exceeded (daily limit). Manage it using ")
    assert err.body["metadata"] == {"limit_source": LimitSource.KEY_LIMIT.value}


def test_sdk_raises_rate_limit_error_for_capacity_exhausted(uvicorn_api):
    uvicorn_api.admin("POST", "/_emulator/faults", {"rules": [{"kind": "capacity_exhausted"}]})
    with pytest.raises(openai.RateLimitError) as info:
        sdk(uvicorn_api, "five").chat.completions.create(
            model=DEFAULT_PAID_MODEL, messages=MESSAGES_HI, max_tokens=10)
    err = info.value
    assert err.body["availability"]["code"] == "capacity_exhausted"
    assert err.body["availability"]["retryable"] is True
    assert err.response.headers["Retry-After"] == "40"


def test_sdk_raises_not_found_error_for_free_variant_ended(uvicorn_api):
    uvicorn_api.admin("POST", "/_emulator/faults", {"rules": [{"kind": "free_variant_ended"}]})
    with pytest.raises(openai.NotFoundError) as info:
        sdk(uvicorn_api, "five").chat.completions.create(model=DEFAULT_FREE_MODEL, messages=MESSAGES_HI)
    err = info.value
    assert err.body["availability"]["code"] == "free_variant_ended"
    assert err.body["availability"]["fallback_models"] == [DEFAULT_FREE_MODEL.removesuffix(":free")]
    # the paid model it names answers
    reply = sdk(uvicorn_api, "five").chat.completions.create(
        model=err.body["availability"]["fallback_models"][0], messages=MESSAGES_HI, max_tokens=5)
    assert reply.choices[0].message.content


def test_sdk_raises_authentication_error_for_a_disabled_key(uvicorn_api):
    key = uvicorn_api.emu.engine.key(uvicorn_api.keys["five"])
    uvicorn_api.emu.engine.update_key(key, disabled=True, now=uvicorn_api.time.t)
    with pytest.raises(openai.AuthenticationError) as info:
        sdk(uvicorn_api, "five").chat.completions.create(model=DEFAULT_FREE_MODEL, messages=MESSAGES_HI)
    assert info.value.body["message"] == MESSAGES.unknown_key
