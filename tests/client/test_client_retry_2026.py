"""with_retries against the 2026 answers, one test per row of the reference's retry table
(Appendix A) and one per client mistake of its §8, on a fake clock whose sleep advances it."""

from __future__ import annotations

import asyncio
import json
import math
import random
from datetime import datetime, timezone
from functools import partial

import httpx
import pytest

from client_bodies_2026 import (
    AFFORD_402_2026,
    AFFORD_402_PREVIOUS,
    AFFORD_M,
    AFFORD_N,
    AFFORD_SMALLER_M,
    CAPACITY_FALLBACK,
    CAPACITY_MODEL,
    CAPACITY_RETRY_AFTER,
    FREE_MODEL,
    FREE_VARIANT_ENDED_404,
    IN_FLIGHT_402,
    IN_FLIGHT_402_ANTHROPIC,
    IN_FLIGHT_402_TRIMMED,
    INSUFFICIENT_402_2026,
    KEY_AFFORD_402,
    KEY_IMAGE_402,
    KEY_LIMIT_403_CAPTURED,
    PAID_TWIN,
    UPSTREAM_429_2026_10,
    WEIGHT_402,
    WORKSPACE_403,
    capacity_429,
    key_limit_403,
)
from client_helpers import DAY_START, LOCAL_API, FakeClock, Recorder, json_response, ok_body
from orwidgets.client import (
    AsyncOpenRouterClient,
    CallClass,
    OpenRouterClient,
    RetryGaveUp,
    awith_retries,
    with_retries,
)
from orwidgets.client._retry import (
    DEFAULT_MAX_WAIT_S,
    RESET_MARGIN_S,
    SHRINK_MARGIN,
    next_window_start,
)
from orwidgets.policy import FREE_PER_MINUTE, MESSAGES, LimitSource, affordability_message

PAID = "openai/gpt-4o-mini"
OK_BODY = ok_body(PAID)


def ok() -> httpx.Response:
    """A fresh success (a response object is read once; async clients refuse a read one)."""
    return json_response(200, OK_BODY)

#: DAY_START is Monday 2026-03-02 00:00 UTC.
MONDAY = datetime(2026, 3, 2, tzinfo=timezone.utc)


def client_for(rec: Recorder) -> OpenRouterClient:
    return OpenRouterClient(LOCAL_API, "sk-or-v1-" + "3" * 64, transport=httpx.MockTransport(rec))


def sent(rec: Recorder, index: int) -> dict:
    return json.loads(rec.requests[index].content)


def run(answers, clock: FakeClock, **options):
    """with_retries over client.chat(PAID, max_tokens=AFFORD_N) with these answers."""
    rec = Recorder(answers)
    with client_for(rec) as client:
        call = partial(client.chat, model=PAID, max_tokens=AFFORD_N)
        result = with_retries(call, clock=clock, sleep=clock.sleep, **options)
    return result, rec


def gave_up(answers, clock: FakeClock, **options) -> tuple[RetryGaveUp, Recorder]:
    rec = Recorder(answers)
    with client_for(rec) as client, pytest.raises(RetryGaveUp) as info:
        with_retries(partial(client.chat, model=PAID, max_tokens=AFFORD_N), clock=clock,
                     sleep=clock.sleep, **options)
    return info.value, rec


# --- row: error.availability ----------------------------------------------------------------------


def test_capacity_exhausted_waits_retry_after_then_succeeds(clock):
    answer = json_response(429, capacity_429(), {"Retry-After": str(CAPACITY_RETRY_AFTER)})
    result, rec = run([answer, ok()], clock, jitter=0)
    assert result.ok and clock.sleeps == [CAPACITY_RETRY_AFTER] and len(rec.requests) == 2


def test_capacity_exhausted_without_the_header_waits_availability_retry_after(clock):
    result, _ = run([json_response(429, capacity_429()), ok()], clock, jitter=0)
    assert result.ok and clock.sleeps == [CAPACITY_RETRY_AFTER]


def test_capacity_exhausted_without_any_retry_hint_backs_off(clock):
    result, _ = run([json_response(429, capacity_429(retry_after=None))] * 2 + [ok()], clock,
                    jitter=0, base_delay_s=1.0)
    assert result.ok and clock.sleeps == [1.0, 2.0]


def test_capacity_exhausted_follows_the_fallback_model_at_once_when_asked(clock):
    seen = []
    result, rec = run([json_response(429, capacity_429()), ok()], clock, follow_fallbacks=True,
                      on_retry=seen.append)
    assert result.ok and clock.sleeps == []
    assert sent(rec, 0)["model"] == PAID and sent(rec, 1)["model"] == CAPACITY_FALLBACK
    assert sent(rec, 1)["max_tokens"] == AFFORD_N
    assert seen[0].overrides == {"model": CAPACITY_FALLBACK} and seen[0].wait_s == 0.0
    assert CAPACITY_FALLBACK in seen[0].action


def test_capacity_exhausted_on_the_fallback_too_waits_instead_of_switching_back(clock):
    again = capacity_429(fallbacks=(CAPACITY_MODEL, CAPACITY_FALLBACK))
    result, rec = run([json_response(429, capacity_429()), json_response(429, again), ok()], clock,
                      follow_fallbacks=True, jitter=0)
    assert result.ok and clock.sleeps == [CAPACITY_RETRY_AFTER]
    assert [sent(rec, i)["model"] for i in range(3)] == [PAID, CAPACITY_FALLBACK, CAPACITY_FALLBACK]


def test_capacity_exhausted_is_not_followed_to_a_fallback_by_default(clock):
    _, rec = run([json_response(429, capacity_429()), ok()], clock, jitter=0)
    assert sent(rec, 1)["model"] == PAID


def test_free_variant_ended_is_not_retried_and_names_the_paid_model(clock):
    stop, rec = gave_up([json_response(404, FREE_VARIANT_ENDED_404), ok()], clock)
    assert len(rec.requests) == 1 and clock.sleeps == []
    assert stop.call_class is CallClass.FREE_VARIANT_ENDED
    assert f"The paid model is {PAID_TWIN}; follow_fallbacks=True switches to it." in stop.reason


def test_free_variant_ended_switches_to_the_paid_model_when_asked(clock):
    rec = Recorder([json_response(404, FREE_VARIANT_ENDED_404), ok()])
    with client_for(rec) as client:
        result = with_retries(partial(client.chat, model=FREE_MODEL, max_tokens=8),
                              follow_fallbacks=True, clock=clock, sleep=clock.sleep)
    assert result.ok and clock.sleeps == []
    assert [sent(rec, i)["model"] for i in range(2)] == [FREE_MODEL, PAID_TWIN]


def test_availability_retryable_false_is_obeyed_even_on_a_503(clock):
    body = {"error": {"code": 503, "message": "No endpoints", "availability": {
        "code": "no_endpoints_available", "retryable": False, "requested_models": [PAID],
        "docs_url": "https://openrouter.ai/docs/errors"}}}
    stop, rec = gave_up([json_response(503, body), ok()], clock)
    assert len(rec.requests) == 1 and stop.result.status == 503


def test_availability_retryable_true_is_obeyed_on_an_unknown_code(clock):
    body = {"error": {"code": 404, "message": "warming up", "availability": {
        "code": "model_warming_up", "retryable": True, "retry_after": 5,
        "requested_models": [PAID], "docs_url": "https://openrouter.ai/docs/errors"}}}
    result, _ = run([json_response(404, body), ok()], clock, jitter=0)
    assert result.ok and clock.sleeps == [5.0]


def test_follow_fallbacks_needs_a_call_that_takes_the_model():
    with pytest.raises(ValueError, match=r"follow_fallbacks=True: the call must accept model="):
        with_retries(lambda: None, follow_fallbacks=True)


# --- row: the in-flight 402 -----------------------------------------------------------------------


def test_in_flight_402_waits_retry_after_then_retries(clock):
    answer = json_response(402, IN_FLIGHT_402, {"Retry-After": "120"})
    result, rec = run([answer, ok()], clock, jitter=0)
    assert result.ok and clock.sleeps == [120.0] and len(rec.requests) == 2


def test_in_flight_402_is_not_treated_as_out_of_credits(clock):
    seen = []
    answer = json_response(402, IN_FLIGHT_402, {"Retry-After": "120"})
    result, _ = run([answer, ok()], clock, jitter=0, on_retry=seen.append)
    assert result.ok
    assert seen[0].result.call_class is CallClass.IN_FLIGHT_BUDGET
    assert seen[0].action == "wait Retry-After"


def test_retry_after_in_metadata_headers_is_found_when_the_header_is_missing(clock):
    result, _ = run([json_response(402, IN_FLIGHT_402), ok()], clock, jitter=0)
    assert result.ok and clock.sleeps == [120.0]


def test_in_flight_402_with_every_retry_hint_trimmed_waits_the_usual_120_s(clock):
    result, _ = run([json_response(402, IN_FLIGHT_402_TRIMMED), ok()], clock, jitter=0)
    assert result.ok and clock.sleeps == [120.0]


def test_in_flight_402_of_the_anthropic_skin_is_retried_from_its_message(clock):
    answer = json_response(402, IN_FLIGHT_402_ANTHROPIC, {"Retry-After": "120"})
    result, _ = run([answer, ok()], clock, jitter=0)
    assert result.ok and clock.sleeps == [120.0]


def test_default_max_wait_takes_the_120_s_openrouter_sends_with_jitter_on_top(clock):
    assert DEFAULT_MAX_WAIT_S >= 120
    rng = random.Random(3)
    expected = 120 * (1 + random.Random(3).uniform(0, 0.25))
    answer = json_response(402, IN_FLIGHT_402, {"Retry-After": "120"})
    result, _ = run([answer, ok()], clock, rng=rng)
    assert result.ok and clock.sleeps == [pytest.approx(expected)]
    assert 120 <= clock.sleeps[0] <= DEFAULT_MAX_WAIT_S


def test_jitter_never_stretches_a_wait_beyond_max_wait_nor_below_the_server_value(clock):
    class High(random.Random):
        def uniform(self, a, b):
            return b

    answer = json_response(402, IN_FLIGHT_402, {"Retry-After": "120"})
    result, _ = run([answer, ok()], clock, rng=High(), jitter=1.0, max_wait_s=130)
    assert result.ok and clock.sleeps == [130.0]
    clock2 = FakeClock()
    result, _ = run([answer, ok()], clock2, rng=High(), jitter=1.0, max_wait_s=120)
    assert clock2.sleeps == [120.0]


def test_a_client_capping_waits_at_60_s_gives_up_saying_so_instead_of_retrying_early(clock):
    answer = json_response(402, IN_FLIGHT_402, {"Retry-After": "120"})
    stop, rec = gave_up([answer, ok()], clock, max_wait_s=60)
    assert len(rec.requests) == 1 and clock.sleeps == []
    assert "The server asks to wait 120 s (Retry-After), above max_wait_s=60: gave up instead " \
           "of retrying early. Raise max_wait_s to wait it out." in stop.reason
    assert stop.until.timestamp() == DAY_START + 120


def test_in_flight_402_gives_up_after_max_attempts(clock):
    answer = json_response(402, IN_FLIGHT_402, {"Retry-After": "120"})
    stop, rec = gave_up([answer], clock, jitter=0, max_attempts=3)
    assert (stop.attempts, len(rec.requests), clock.sleeps) == (3, 3, [120.0, 120.0])
    assert stop.call_class is CallClass.IN_FLIGHT_BUDGET


def test_any_402_carrying_retry_after_is_retried_after_it(clock):
    body = {"error": {"code": 402, "message": "Payment required for now"}}
    result, _ = run([json_response(402, body, {"Retry-After": "30"}), ok()], clock, jitter=0)
    assert result.ok and clock.sleeps == [30.0]


def test_in_flight_402_in_a_200_body_is_not_counted_as_success(clock):
    result, rec = run([json_response(200, IN_FLIGHT_402), ok()], clock, jitter=0)
    assert result.ok and len(rec.requests) == 2 and clock.sleeps == [120.0]


# --- row: weight_exceeds_budget -------------------------------------------------------------------


def test_weight_exceeds_budget_is_never_retried(clock):
    stop, rec = gave_up([json_response(402, WEIGHT_402), ok()], clock, shrink_max_tokens=True)
    assert len(rec.requests) == 1 and clock.sleeps == []
    assert stop.call_class is CallClass.WEIGHT_EXCEEDS_BUDGET
    assert "retrying will not help: lower max_tokens or the prompt, or add credits" in stop.reason


def test_weight_exceeds_budget_is_not_retried_even_with_a_retry_after(clock):
    stop, rec = gave_up([json_response(402, WEIGHT_402, {"Retry-After": "5"}), ok()], clock)
    assert len(rec.requests) == 1 and stop.call_class is CallClass.WEIGHT_EXCEEDS_BUDGET


# --- row: the affordability 402 ("can only afford M") ---------------------------------------------


def test_affordability_402_is_not_retried_by_default_and_says_what_would(clock):
    stop, rec = gave_up([json_response(402, AFFORD_402_2026), ok()], clock)
    assert len(rec.requests) == 1
    assert f"shrink_max_tokens=True retries once with max_tokens below {AFFORD_M}." in stop.reason


def test_affordability_402_is_retried_once_with_max_tokens_lowered_below_m(clock):
    seen = []
    result, rec = run([json_response(402, AFFORD_402_2026), ok()], clock, shrink_max_tokens=True,
                      on_retry=seen.append)
    lowered = math.floor(AFFORD_M * (1 - SHRINK_MARGIN))
    assert result.ok and clock.sleeps == []
    assert sent(rec, 0)["max_tokens"] == AFFORD_N
    assert sent(rec, 1)["max_tokens"] == lowered and 0 < lowered < AFFORD_M
    assert seen[0].overrides == {"max_tokens": lowered}


def test_affordability_retry_never_drops_max_tokens(clock):
    _, rec = run([json_response(402, AFFORD_402_2026), ok()], clock, shrink_max_tokens=True)
    assert "max_tokens" in sent(rec, 1) and sent(rec, 1)["model"] == PAID


def test_affordability_402_is_shrunk_only_once(clock):
    stop, rec = gave_up([json_response(402, AFFORD_402_2026)] * 3, clock, shrink_max_tokens=True)
    lowered = math.floor(AFFORD_M * (1 - SHRINK_MARGIN))
    assert len(rec.requests) == 2
    assert f"max_tokens was already lowered once, to {lowered}." in stop.reason


def test_affordability_shrinks_to_the_smallest_m_of_the_endpoints_tried(clock):
    _, rec = run([json_response(402, AFFORD_402_PREVIOUS), ok()], clock, shrink_max_tokens=True)
    assert sent(rec, 1)["max_tokens"] == math.floor(AFFORD_SMALLER_M * (1 - SHRINK_MARGIN))


def test_key_limit_affordability_with_a_token_count_is_shrunk_too(clock):
    result, rec = run([json_response(402, KEY_AFFORD_402), ok()], clock, shrink_max_tokens=True)
    assert result.ok and sent(rec, 1)["max_tokens"] < AFFORD_M


def test_shrink_max_tokens_needs_a_call_that_takes_max_tokens():
    with pytest.raises(ValueError,
                       match=r"shrink_max_tokens=True: the call must accept max_tokens="):
        with_retries(lambda model=PAID: None, shrink_max_tokens=True)


def test_affordability_of_a_2025_body_is_shrunk_the_same_way(clock):
    body = {"error": {"code": 402, "message": affordability_message(AFFORD_N, AFFORD_M),
                      "metadata": {"provider_name": None}}}
    _, rec = run([json_response(402, body), ok()], clock, shrink_max_tokens=True)
    assert sent(rec, 1)["max_tokens"] == math.floor(AFFORD_M * (1 - SHRINK_MARGIN))


# --- row: other 402s ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (INSUFFICIENT_402_2026, CallClass.NEGATIVE_BALANCE),
        (KEY_IMAGE_402, CallClass.KEY_LIMIT_AFFORDABILITY),
        ({"error": {"code": 402, "message": "Payment required"}}, CallClass.NEGATIVE_BALANCE),
    ],
    ids=["insufficient-credits", "key-limit-image", "unknown-402"],
)
def test_a_402_without_retry_after_is_not_retried(clock, body, expected):
    stop, rec = gave_up([json_response(402, body), ok()], clock, shrink_max_tokens=True)
    assert len(rec.requests) == 1 and clock.sleeps == []
    assert stop.call_class is expected
    assert stop.reason.endswith(f"Not retried: {expected.advice}")


# --- row: key-limit and budget 403s ---------------------------------------------------------------


def test_key_limit_403_is_not_retried_and_says_until_the_reset_it_names(clock):
    stop, rec = gave_up([json_response(403, KEY_LIMIT_403_CAPTURED), ok()], clock)
    assert len(rec.requests) == 1 and clock.sleeps == []
    assert stop.until == datetime(2026, 10, 12, tzinfo=timezone.utc)
    assert "Not retried: spent until 2026-10-12 00:00 UTC (the answer says so)." in stop.reason


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("daily", datetime(2026, 3, 3, tzinfo=timezone.utc)),
        ("weekly", datetime(2026, 3, 9, tzinfo=timezone.utc)),
        ("monthly", datetime(2026, 4, 1, tzinfo=timezone.utc)),
    ],
)
def test_key_limit_403_without_a_reset_time_says_so_and_when_its_window_restarts(period, expected):
    clock = FakeClock(DAY_START + 3600)
    stop, rec = gave_up([json_response(403, key_limit_403("2026-01", period)), ok()], clock)
    assert len(rec.requests) == 1 and stop.until == expected
    assert (f"Not retried: the body gives no reset time; the key's {period} window starts again "
            f"at {expected:%Y-%m-%d} 00:00 UTC.") in stop.reason


def test_lifetime_key_limit_403_never_resets(clock):
    stop, _ = gave_up([json_response(403, key_limit_403("2026-01", None)), ok()], clock)
    assert stop.until is None and "a lifetime (total) key limit never resets" in stop.reason


def test_2025_key_limit_403_says_its_window_start_is_unknown_from_the_body(clock):
    stop, _ = gave_up([json_response(403, key_limit_403("2025-01", None)), ok()], clock)
    assert stop.until is None and stop.call_class is CallClass.KEY_LIMIT
    assert "the key's window start is unknown from the body alone" in stop.reason


def test_workspace_budget_403_is_not_retried_until_its_resets_at(clock):
    stop, rec = gave_up([json_response(403, WORKSPACE_403), ok()], clock)
    assert len(rec.requests) == 1 and stop.call_class is CallClass.SPEND_BUDGET
    assert stop.until == datetime(2026, 12, 1, tzinfo=timezone.utc)


def test_next_window_start_of_a_monthly_limit_rolls_over_the_year():
    december = datetime(2026, 12, 31, 23, 59, tzinfo=timezone.utc).timestamp()
    assert next_window_start("monthly", december) == datetime(2027, 1, 1, tzinfo=timezone.utc)
    assert next_window_start("weekly", MONDAY.timestamp()) == datetime(2026, 3, 9,
                                                                        tzinfo=timezone.utc)
    assert next_window_start("total", december) is None


# --- rows: free-tier 429s and upstream 429s -------------------------------------------------------


def test_x_ratelimit_reset_is_milliseconds():
    clock = FakeClock(DAY_START + 45)
    reset_ms = int((DAY_START + 60) * 1000)
    headers = {"X-RateLimit-Limit": str(FREE_PER_MINUTE), "X-RateLimit-Remaining": "0",
               "X-RateLimit-Reset": str(reset_ms)}
    body = {"error": {"code": 429, "message": MESSAGES.free_per_minute,
                      "metadata": {"headers": headers,
                                   "limit_source": LimitSource.FREE_PER_MINUTE.value}}}
    result, _ = run([json_response(429, body, headers), ok()], clock)
    assert result.ok and clock.sleeps == [pytest.approx(15.0 + RESET_MARGIN_S)]


def test_503_honours_retry_after_like_a_429(clock):
    body = {"error": {"code": 503, "message": "Service unavailable"}}
    result, _ = run([json_response(503, body, {"Retry-After": "20"}), ok()], clock, jitter=0)
    assert result.ok and clock.sleeps == [20.0]


def test_upstream_429_of_2026_waits_its_retry_after_seconds(clock):
    result, _ = run([json_response(429, UPSTREAM_429_2026_10), ok()], clock, jitter=0)
    assert result.ok and clock.sleeps == [1.0]


# --- the async twin -------------------------------------------------------------------------------


def test_async_helper_waits_out_an_in_flight_402_and_shrinks_an_affordability_402(clock):
    rec = Recorder([json_response(402, IN_FLIGHT_402, {"Retry-After": "120"}),
                    json_response(402, AFFORD_402_2026), ok()])

    async def scenario():
        async with AsyncOpenRouterClient(LOCAL_API, None,
                                         transport=httpx.MockTransport(rec)) as client:
            return await awith_retries(partial(client.chat, model=PAID, max_tokens=AFFORD_N),
                                       shrink_max_tokens=True, jitter=0, clock=clock,
                                       sleep=clock.asleep)

    result = asyncio.run(scenario())
    assert result.ok and clock.sleeps == [120.0]
    assert [sent(rec, i)["max_tokens"] for i in range(3)] == [
        AFFORD_N, AFFORD_N, math.floor(AFFORD_M * (1 - SHRINK_MARGIN))]


def test_async_helper_never_retries_a_key_limit_403(clock):
    rec = Recorder([json_response(403, KEY_LIMIT_403_CAPTURED), ok()])

    async def scenario():
        async with AsyncOpenRouterClient(LOCAL_API, None,
                                         transport=httpx.MockTransport(rec)) as client:
            return await awith_retries(lambda: client.chat(PAID), clock=clock, sleep=clock.asleep)

    with pytest.raises(RetryGaveUp) as info:
        asyncio.run(scenario())
    assert info.value.call_class is CallClass.KEY_LIMIT and len(rec.requests) == 1


def test_async_helper_follows_a_free_variant_to_its_paid_model(clock):
    rec = Recorder([json_response(404, FREE_VARIANT_ENDED_404), ok()])

    async def scenario():
        async with AsyncOpenRouterClient(LOCAL_API, None,
                                         transport=httpx.MockTransport(rec)) as client:
            return await awith_retries(partial(client.chat, model=FREE_MODEL),
                                       follow_fallbacks=True, clock=clock, sleep=clock.asleep)

    assert asyncio.run(scenario()).ok
    assert [sent(rec, i)["model"] for i in range(2)] == [FREE_MODEL, PAID_TWIN]


def test_bad_option_values_are_refused_with_the_option_named():
    with pytest.raises(ValueError, match=r"follow_fallbacks: expected True or False, got 'yes'"):
        with_retries(lambda: None, follow_fallbacks="yes")
    with pytest.raises(ValueError, match=r"max_wait_s: expected a number >= 0, got nan"):
        with_retries(lambda: None, max_wait_s=float("nan"))
