"""The retry helper: waits to the reset on per-minute, gives up at once on per-day, honours
Retry-After, never retries 401/402/403. Time is a fake clock whose sleep advances it."""

from __future__ import annotations

import json
import random

import httpx
import pytest

from client_helpers import DAY_START, LOCAL_API, FakeClock, Recorder, json_response, ok_body
from orwidgets.client import CallClass, OpenRouterClient, RetryGaveUp, with_retries
from orwidgets.client._retry import RESET_MARGIN_S
from orwidgets.engine import day_reset_ms, minute_reset_ms
from orwidgets.policy import FREE_DAILY_LOW, FREE_PER_MINUTE, MESSAGES, LimitSource

FREE = "meta-llama/llama-3.3-70b-instruct:free"
OK_BODY = ok_body(FREE)


def rate_429(message: str, source: LimitSource, limit: int, reset_ms: int) -> httpx.Response:
    headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0",
               "X-RateLimit-Reset": str(reset_ms)}
    body = {"error": {"code": 429, "message": message,
                      "metadata": {"headers": headers, "limit_source": source.value,
                                   "provider_name": None}}, "user_id": "user_x"}
    return json_response(429, body, headers)


def upstream_429(retry_after: str | None) -> httpx.Response:
    body = {"error": {"code": 429, "message": MESSAGES.upstream,
                      "metadata": {"raw": f"{FREE} is temporarily rate-limited upstream.",
                                   "provider_name": "Chutes", "is_byok": False}}}
    return json_response(429, body, {"Retry-After": retry_after} if retry_after else {})


def client_for(rec: Recorder) -> OpenRouterClient:
    return OpenRouterClient(LOCAL_API, "sk-or-v1-" + "1" * 64, transport=httpx.MockTransport(rec))


def test_per_minute_429_waits_until_the_reset_then_succeeds():
    clock = FakeClock(DAY_START + 23.0)
    reset = minute_reset_ms(clock.now)
    rec = Recorder([rate_429(MESSAGES.free_per_minute, LimitSource.FREE_PER_MINUTE,
                             FREE_PER_MINUTE, reset), json_response(200, OK_BODY)])
    with client_for(rec) as client:
        result = with_retries(lambda: client.chat(FREE), clock=clock, sleep=clock.sleep)
    assert result.ok
    assert clock.sleeps == [pytest.approx(reset / 1000 - (DAY_START + 23.0) + RESET_MARGIN_S)]
    assert len(rec.requests) == 2


def test_per_day_429_gives_up_at_once_and_says_until_when():
    clock = FakeClock(DAY_START + 3600)
    reset = day_reset_ms(clock.now)
    rec = Recorder([rate_429(MESSAGES.free_per_day_low, LimitSource.FREE_DAILY, FREE_DAILY_LOW,
                             reset), json_response(200, OK_BODY)])
    with client_for(rec) as client, pytest.raises(RetryGaveUp) as info:
        with_retries(lambda: client.chat(FREE), clock=clock, sleep=clock.sleep)
    assert len(rec.requests) == 1 and clock.sleeps == []
    assert info.value.call_class is CallClass.FREE_PER_DAY_LOW
    assert info.value.until.timestamp() == reset / 1000
    assert "2026-03-03 00:00 UTC" in str(info.value)


def test_upstream_429_honours_retry_after_with_jitter_never_earlier():
    clock = FakeClock()
    rec = Recorder([upstream_429("15"), json_response(200, OK_BODY)])
    expected = 15 * (1 + random.Random(7).uniform(0, 0.25))
    with client_for(rec) as client:
        result = with_retries(lambda: client.chat(FREE), clock=clock, sleep=clock.sleep,
                              rng=random.Random(7))
    assert result.ok
    assert clock.sleeps == [pytest.approx(expected)]
    assert 15 <= clock.sleeps[0] <= 15 * 1.25


def test_upstream_429_without_retry_after_backs_off_exponentially():
    clock = FakeClock()
    rec = Recorder([upstream_429(None)] * 3 + [json_response(200, OK_BODY)])
    with client_for(rec) as client:
        result = with_retries(lambda: client.chat(FREE), clock=clock, sleep=clock.sleep,
                              jitter=0.0, base_delay_s=1.0)
    assert result.ok and clock.sleeps == [1.0, 2.0, 4.0]


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (402, MESSAGES.negative_balance),
        (402, "This request requires more credits, or fewer max_tokens. You requested up to 9 "
              "tokens, but can only afford 1. To increase, visit x and add more credits"),
        (401, MESSAGES.unknown_key),
        (403, MESSAGES.management_only),
    ],
    ids=["402-negative", "402-affordability", "401", "403"],
)
def test_402_401_403_are_never_retried(status, message):
    clock = FakeClock()
    rec = Recorder([json_response(status, {"error": {"code": status, "message": message}}),
                    json_response(200, OK_BODY)])
    with client_for(rec) as client, pytest.raises(RetryGaveUp) as info:
        with_retries(lambda: client.chat(FREE), clock=clock, sleep=clock.sleep)
    assert len(rec.requests) == 1 and clock.sleeps == []
    assert info.value.result.status == status


def test_gives_up_after_max_attempts():
    clock = FakeClock()
    rec = Recorder([upstream_429("1")])
    with client_for(rec) as client, pytest.raises(RetryGaveUp) as info:
        with_retries(lambda: client.chat(FREE), clock=clock, sleep=clock.sleep, max_attempts=3)
    assert info.value.attempts == 3 and len(rec.requests) == 3 and len(clock.sleeps) == 2


def test_a_wait_above_max_wait_gives_up_instead_of_sleeping():
    clock = FakeClock()
    rec = Recorder([upstream_429("600")])
    with client_for(rec) as client, pytest.raises(RetryGaveUp, match="max_wait_s"):
        with_retries(lambda: client.chat(FREE), clock=clock, sleep=clock.sleep, max_wait_s=120)
    assert clock.sleeps == []


def test_network_error_is_retried_with_backoff():
    clock = FakeClock()
    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ConnectError("refused", request=request)
        return json_response(200, OK_BODY)

    with client_for(Recorder(flaky)) as client:
        result = with_retries(lambda: client.chat(FREE), clock=clock, sleep=clock.sleep, jitter=0)
    assert result.ok and clock.sleeps == [1.0]


def test_works_with_plain_httpx_and_returns_the_response():
    clock = FakeClock(DAY_START + 50)
    reset = minute_reset_ms(clock.now)
    rec = Recorder([rate_429(MESSAGES.free_per_minute, LimitSource.FREE_PER_MINUTE,
                             FREE_PER_MINUTE, reset), json_response(200, OK_BODY)])
    with httpx.Client(transport=httpx.MockTransport(rec)) as http:
        response = with_retries(
            lambda: http.post(LOCAL_API + "/chat/completions", json={"model": FREE}),
            clock=clock, sleep=clock.sleep,
        )
    assert isinstance(response, httpx.Response) and response.status_code == 200
    assert clock.sleeps == [pytest.approx(10.0 + RESET_MARGIN_S)]


def test_unexpected_exceptions_from_the_call_propagate_unchanged():
    with pytest.raises(ZeroDivisionError):
        with_retries(lambda: 1 / 0)


# --- the openai SDK (its own transport: httpx2) -----------------------------------------------------

openai = pytest.importorskip("openai")
httpx2 = pytest.importorskip("httpx2")


def sdk_client(answers: list[tuple[int, dict, dict]]):
    seen: list = []

    def handler(request):
        seen.append(request)
        status, body, headers = answers[min(len(seen), len(answers)) - 1]
        return httpx2.Response(status, content=json.dumps(body).encode(),
                               headers={"content-type": "application/json", **headers})

    client = openai.OpenAI(base_url=LOCAL_API, api_key="sk-or-v1-" + "2" * 64, max_retries=0,
                           http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    return client, seen


def test_wraps_openai_sdk_calls_waiting_out_a_per_minute_429():
    clock = FakeClock(DAY_START + 30)
    reset = minute_reset_ms(clock.now)
    minute = rate_429(MESSAGES.free_per_minute, LimitSource.FREE_PER_MINUTE, FREE_PER_MINUTE, reset)
    client, seen = sdk_client([(429, json.loads(minute.content), dict(minute.headers)),
                               (200, OK_BODY, {})])
    completion = with_retries(
        lambda: client.chat.completions.create(model=FREE, messages=[{"role": "user", "content": "hi"}]),
        clock=clock, sleep=clock.sleep,
    )
    assert completion.choices[0].message.content == "OK"
    assert len(seen) == 2 and clock.sleeps == [pytest.approx(30.0 + RESET_MARGIN_S)]


def test_openai_sdk_per_day_429_gives_up_chained_to_the_sdk_error():
    clock = FakeClock(DAY_START)
    day = rate_429(MESSAGES.free_per_day_high, LimitSource.FREE_DAILY, 1000, day_reset_ms(clock.now))
    client, seen = sdk_client([(429, json.loads(day.content), dict(day.headers)), (200, OK_BODY, {})])
    with pytest.raises(RetryGaveUp) as info:
        with_retries(
            lambda: client.chat.completions.create(model=FREE, messages=[{"role": "user", "content": "x"}]),
            clock=clock, sleep=clock.sleep,
        )
    assert info.value.call_class is CallClass.FREE_PER_DAY_HIGH
    assert isinstance(info.value.__cause__, openai.RateLimitError)
    assert len(seen) == 1


def test_openai_sdk_402_is_not_retried():
    client, seen = sdk_client([(402, {"error": {"code": 402, "message": MESSAGES.negative_balance}}, {}),
                               (200, OK_BODY, {})])
    clock = FakeClock()
    with pytest.raises(RetryGaveUp) as info:
        with_retries(
            lambda: client.chat.completions.create(model=FREE, messages=[{"role": "user", "content": "x"}]),
            clock=clock, sleep=clock.sleep,
        )
    assert info.value.call_class is CallClass.NEGATIVE_BALANCE and len(seen) == 1


# --- against the emulator, on one fake clock shared with the helper ---------------------------------


def _emulator(clock: FakeClock):
    from orwidgets.emulator import create_app

    return create_app(latency_ms=0, clock=clock)


def test_async_helper_against_the_emulator_waits_for_the_next_minute_and_succeeds():
    pytest.importorskip("orwidgets.emulator")
    import asyncio

    from orwidgets.client import AsyncOpenRouterClient, awith_retries

    clock = FakeClock(DAY_START + 12.0)
    app = _emulator(clock)
    key = app.state.emulator.demo_keys["free"]

    async def scenario():
        async with AsyncOpenRouterClient(LOCAL_API, key, transport=httpx.ASGITransport(app=app)) as c:
            for _ in range(FREE_PER_MINUTE):
                assert (await c.chat(FREE, max_tokens=4)).ok
            return await awith_retries(lambda: c.chat(FREE, max_tokens=4), clock=clock,
                                       sleep=clock.asleep)

    result = asyncio.run(scenario())
    assert result.ok
    assert clock.sleeps == [pytest.approx(60 - 12.0 + RESET_MARGIN_S)]


def test_async_helper_against_the_emulator_gives_up_on_the_51st_call_of_the_day():
    pytest.importorskip("orwidgets.emulator")
    import asyncio

    from orwidgets.client import AsyncOpenRouterClient, awith_retries

    clock = FakeClock(DAY_START)
    app = _emulator(clock)
    key = app.state.emulator.demo_keys["free"]

    async def scenario():
        async with AsyncOpenRouterClient(LOCAL_API, key, transport=httpx.ASGITransport(app=app)) as c:
            for i in range(FREE_DAILY_LOW):
                if i and i % FREE_PER_MINUTE == 0:
                    clock.advance(60)
                assert (await c.chat(FREE, max_tokens=4)).ok
            clock.advance(60)
            return await awith_retries(lambda: c.chat(FREE, max_tokens=4), clock=clock,
                                       sleep=clock.asleep)

    with pytest.raises(RetryGaveUp) as info:
        asyncio.run(scenario())
    assert info.value.call_class is CallClass.FREE_PER_DAY_LOW and info.value.attempts == 1
    assert info.value.until.timestamp() == DAY_START + 86_400
    assert clock.sleeps == []
