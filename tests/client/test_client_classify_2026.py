"""The 2026 answers are told apart: typed fields first (availability.code, metadata.reason,
limit_source), the message only as a fallback; and a CallResult carries what a caller needs."""

from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest

from client_bodies_2026 import (
    AFFORD_402_2026,
    AFFORD_402_PREVIOUS,
    AFFORD_M,
    AFFORD_SMALLER_M,
    CAPACITY_FALLBACK,
    CAPACITY_RETRY_AFTER,
    FREE_VARIANT_ENDED_404,
    IN_FLIGHT_402,
    IN_FLIGHT_402_ANTHROPIC,
    IN_FLIGHT_402_TRIMMED,
    INSUFFICIENT_402_2026,
    KEY_AFFORD_402,
    KEY_IMAGE_402,
    KEY_LIMIT_403_2026_10,
    KEY_LIMIT_403_CAPTURED,
    KEY_PROSE_CREDITS_402,
    PAID_TWIN,
    UPSTREAM_429_2026_10,
    WEIGHT_402,
    WORKSPACE_403,
    capacity_429,
    key_limit_403,
)
from client_helpers import LOCAL_API, Recorder, json_response
from orwidgets.client import CallClass, OpenRouterClient, classify
from orwidgets.client._classify import build_result
from orwidgets.engine import Reason
from orwidgets.policy import (
    KEYS_URL,
    MESSAGES,
    affordability_message,
    capacity_exhausted_message,
    free_variant_ended_message,
)

OCT_12 = datetime(2026, 10, 12, tzinfo=timezone.utc)


def result_of(status: int, body, headers: dict[str, str] | None = None):
    return build_result(status, body, headers or {}, sent_at=0.0, latency_s=0.0)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (402, IN_FLIGHT_402, CallClass.IN_FLIGHT_BUDGET),
        (402, IN_FLIGHT_402_TRIMMED, CallClass.IN_FLIGHT_BUDGET),
        (402, IN_FLIGHT_402_ANTHROPIC, CallClass.IN_FLIGHT_BUDGET),
        (402, WEIGHT_402, CallClass.WEIGHT_EXCEEDS_BUDGET),
        (402, AFFORD_402_2026, CallClass.AFFORDABILITY),
        (402, KEY_PROSE_CREDITS_402, CallClass.AFFORDABILITY),
        (402, KEY_AFFORD_402, CallClass.KEY_LIMIT_AFFORDABILITY),
        (402, KEY_IMAGE_402, CallClass.KEY_LIMIT_AFFORDABILITY),
        (402, INSUFFICIENT_402_2026, CallClass.NEGATIVE_BALANCE),
        (403, KEY_LIMIT_403_CAPTURED, CallClass.KEY_LIMIT),
        (403, KEY_LIMIT_403_2026_10, CallClass.KEY_LIMIT),
        (403, key_limit_403("2026-01", "daily"), CallClass.KEY_LIMIT),
        (403, key_limit_403("2025-01", None), CallClass.KEY_LIMIT),
        (403, WORKSPACE_403, CallClass.SPEND_BUDGET),
        (429, capacity_429(), CallClass.CAPACITY_EXHAUSTED),
        (404, FREE_VARIANT_ENDED_404, CallClass.FREE_VARIANT_ENDED),
        (429, UPSTREAM_429_2026_10, CallClass.UPSTREAM),
    ],
    ids=[
        "in-flight", "in-flight-trimmed", "in-flight-anthropic-skin", "weight-exceeds-budget",
        "affordability-2026", "affordability-key-prose-credits-source", "key-limit-affordability",
        "key-limit-image-balance", "insufficient-credits-2026", "key-limit-403-captured",
        "key-limit-403-2026-10", "key-limit-403-2026-01", "key-limit-403-2025",
        "workspace-budget-403", "capacity-exhausted", "free-variant-ended", "upstream-2026-10",
    ],
)
def test_2026_answer_is_classified(status, body, expected):
    assert classify(status, body) is expected


# --- §8.6: fields, not prose ----------------------------------------------------------------------


def test_in_flight_402_is_not_treated_as_out_of_credits():
    result = result_of(402, IN_FLIGHT_402)
    assert result.call_class not in (CallClass.NEGATIVE_BALANCE, CallClass.AFFORDABILITY)
    assert result.call_class.retryable
    assert result.call_class.advice == MESSAGES.remedy_in_flight


def test_in_flight_message_alone_matches_neither_insufficient_credits_nor_affordability():
    body = {"error": {"code": 402, "message": MESSAGES.in_flight}}
    assert classify(402, body) is CallClass.IN_FLIGHT_BUDGET


def test_in_flight_limit_source_alone_is_in_flight():
    body = {"error": {"code": 402, "message": "changed wording",
                      "metadata": {"limit_source": "openrouter_in_flight_budget"}}}
    assert classify(402, body) is CallClass.IN_FLIGHT_BUDGET


def test_reason_wins_over_a_message_that_reads_like_affordability():
    body = {"error": {"code": 402, "message": affordability_message(100, 3),
                      "metadata": {"reason": "weight_exceeds_budget",
                                   "limit_source": "openrouter_credits"}}}
    assert classify(402, body) is CallClass.WEIGHT_EXCEEDS_BUDGET


def test_weight_message_without_metadata_is_weight_not_context_length():
    assert classify(402, {"error": {"code": 402, "message": MESSAGES.weight_exceeds_budget}}) is \
        CallClass.WEIGHT_EXCEEDS_BUDGET


def test_key_limit_source_wins_over_credits_wording():
    body = {"error": {"code": 402, "message": MESSAGES.negative_balance,
                      "metadata": {"limit_source": "openrouter_key_limit"}}}
    assert classify(402, body) is CallClass.KEY_LIMIT_AFFORDABILITY


def test_availability_code_wins_over_the_status():
    # A capacity error inside a streamed chunk: HTTP 200, the typed error in the body.
    assert classify(200, capacity_429()) is CallClass.CAPACITY_EXHAUSTED


def test_capacity_message_without_its_availability_object_is_capacity():
    body = {"error": {"code": 429, "message": capacity_exhausted_message("a/b", 40)}}
    assert classify(429, body) is CallClass.CAPACITY_EXHAUSTED


def test_free_variant_message_without_availability_is_free_variant_and_names_the_paid_model():
    body = {"error": {"code": 404, "message": free_variant_ended_message("x/y:free", "x/y")}}
    result = result_of(404, body)
    assert (result.call_class, result.fallback_models) == (CallClass.FREE_VARIANT_ENDED, ("x/y",))


def test_unknown_availability_code_falls_back_to_the_status():
    body = {"error": {"code": 404, "message": "gone", "availability": {
        "code": "model_deprecated", "retryable": False, "requested_models": ["a/b"],
        "fallback_models": ["a/c"], "docs_url": "https://openrouter.ai/docs/errors"}}}
    result = result_of(404, body)
    assert (result.call_class, result.fallback_models) == (CallClass.HTTP_ERROR, ("a/c",))


def test_http_status_of_a_typed_error_in_a_200_body_is_its_status():
    body = {"error": {"message": "gone", "http_status": 404}}
    assert classify(200, body) is CallClass.HTTP_ERROR


def test_guardrail_budget_403_is_a_spend_budget_not_a_key_limit():
    body = {"error": {"code": 403, "message": "Budget limit exceeded",
                      "metadata": {"limit_source": "openrouter_guardrail_budget", "scope": "member",
                                   "limit_usd": 5, "spend_usd": 5.01,
                                   "resets_at": "2026-03-03T00:00:00.000Z"}}}
    result = result_of(403, body)
    assert (result.call_class, result.resets_at) == (
        CallClass.SPEND_BUDGET, datetime(2026, 3, 3, tzinfo=timezone.utc))


def test_other_403s_stay_forbidden():
    assert classify(403, {"error": {"code": 403, "message": MESSAGES.management_only}}) is \
        CallClass.FORBIDDEN


# --- what a CallResult carries --------------------------------------------------------------------


def test_retry_after_comes_from_the_header_first():
    result = result_of(402, IN_FLIGHT_402, {"Retry-After": "90"})
    assert (result.retry_after_s, result.reason) == (90.0, "in_flight_budget_exhausted")


def test_retry_after_in_metadata_headers_is_found_when_the_header_is_missing():
    assert result_of(402, IN_FLIGHT_402).retry_after_s == 120.0


def test_retry_after_seconds_in_metadata_when_no_header_anywhere():
    body = {"error": {"code": 429, "message": MESSAGES.upstream,
                      "metadata": {"retry_after_seconds": 7, "provider_name": "Liquid"}}}
    assert result_of(429, body).retry_after_s == 7.0


def test_retry_after_from_availability_when_nothing_else_says():
    assert result_of(429, capacity_429()).retry_after_s == float(CAPACITY_RETRY_AFTER)


def test_capacity_result_carries_fallback_models_and_availability():
    result = result_of(429, capacity_429(), {"Retry-After": str(CAPACITY_RETRY_AFTER)})
    assert result.fallback_models == (CAPACITY_FALLBACK,)
    assert result.availability["code"] == "capacity_exhausted"
    assert result.retry_after_s == float(CAPACITY_RETRY_AFTER)


def test_free_variant_result_carries_the_paid_fallback():
    assert result_of(404, FREE_VARIANT_ENDED_404).fallback_models == (PAID_TWIN,)


def test_affordable_tokens_is_the_m_of_can_only_afford():
    assert result_of(402, AFFORD_402_2026).affordable_tokens == AFFORD_M


def test_affordable_tokens_on_a_2025_body_without_metadata():
    body = {"error": {"code": 402, "message": affordability_message(64000, 2666),
                      "metadata": {"provider_name": None}}}
    result = result_of(402, body)
    assert (result.call_class, result.affordable_tokens) == (CallClass.AFFORDABILITY, 2666)


def test_affordable_tokens_is_the_smallest_m_of_every_endpoint_tried():
    assert result_of(402, AFFORD_402_PREVIOUS).affordable_tokens == AFFORD_SMALLER_M


def test_key_bound_402_without_a_token_count_has_no_affordable_tokens():
    result = result_of(402, KEY_IMAGE_402)
    assert result.affordable_tokens is None
    assert result.call_class.advice == MESSAGES.remedy_key_limit


def test_key_limit_403_resets_at_is_parsed_from_the_captured_message():
    result = result_of(403, KEY_LIMIT_403_CAPTURED)
    assert result.resets_at == OCT_12
    assert result.key_limit_period == "weekly"
    assert result.limit_source == "openrouter_key_limit"


def test_key_limit_403_in_the_policy_wording_gives_the_same_reset():
    assert result_of(403, KEY_LIMIT_403_2026_10).resets_at == OCT_12


def test_key_limit_403_without_a_reset_time_has_none_and_names_its_period():
    result = result_of(403, key_limit_403("2026-01", "daily"))
    assert (result.resets_at, result.key_limit_period) == (None, "daily")
    assert result_of(403, key_limit_403("2025-01", None)).key_limit_period is None


def test_workspace_budget_resets_at_comes_from_metadata():
    assert result_of(403, WORKSPACE_403).resets_at == datetime(2026, 12, 1, tzinfo=timezone.utc)


def test_results_of_older_answers_carry_none_of_the_new_fields():
    result = result_of(402, {"error": {"code": 402, "message": MESSAGES.negative_balance}})
    assert (result.reason, result.availability, result.fallback_models, result.affordable_tokens,
            result.resets_at) == (None, None, (), None, None)


def test_client_carries_the_in_flight_answer_with_its_http_header():
    rec = Recorder([json_response(402, IN_FLIGHT_402, {"Retry-After": "120"})])
    with OpenRouterClient(LOCAL_API, None, transport=httpx.MockTransport(rec)) as client:
        result = client.chat("openai/gpt-4o-mini", max_tokens=8)
    assert (result.status, result.call_class, result.message) == (
        402, CallClass.IN_FLIGHT_BUDGET, MESSAGES.in_flight)
    assert (result.headers["Retry-After"], result.retry_after_s) == ("120", 120.0)


def test_streamed_in_flight_402_is_classified_before_any_chunk():
    rec = Recorder([json_response(402, IN_FLIGHT_402, {"Retry-After": "120"})])
    with OpenRouterClient(LOCAL_API, None, transport=httpx.MockTransport(rec)) as client:
        result = client.chat("openai/gpt-4o-mini", max_tokens=8, stream=True)
    assert (result.call_class, result.retry_after_s) == (CallClass.IN_FLIGHT_BUDGET, 120.0)


# --- the classes themselves -----------------------------------------------------------------------


def test_new_class_ids_equal_the_engine_reasons_for_the_same_answer():
    for reason in (Reason.IN_FLIGHT_BUDGET, Reason.WEIGHT_EXCEEDS_BUDGET, Reason.KEY_LIMIT,
                   Reason.KEY_LIMIT_AFFORDABILITY):
        assert CallClass(reason.value).name == reason.name


def test_availability_class_ids_are_the_wire_codes():
    assert CallClass("capacity_exhausted") is CallClass.CAPACITY_EXHAUSTED
    assert CallClass("free_variant_ended") is CallClass.FREE_VARIANT_ENDED


def test_every_class_has_its_own_label_and_colour():
    labels = [c.label for c in CallClass]
    colours = [c.color for c in CallClass]
    assert len(set(labels)) == len(labels) and len(set(colours)) == len(colours)


def test_only_in_flight_and_capacity_of_the_new_classes_are_retryable():
    new = {CallClass.IN_FLIGHT_BUDGET, CallClass.WEIGHT_EXCEEDS_BUDGET, CallClass.KEY_LIMIT,
           CallClass.KEY_LIMIT_AFFORDABILITY, CallClass.SPEND_BUDGET,
           CallClass.CAPACITY_EXHAUSTED, CallClass.FREE_VARIANT_ENDED}
    assert {c for c in new if c.retryable} == {CallClass.IN_FLIGHT_BUDGET,
                                              CallClass.CAPACITY_EXHAUSTED}


def test_key_limit_advice_sends_people_to_the_key_settings_not_to_credits():
    assert KEYS_URL in CallClass.KEY_LIMIT.advice
    assert "credits do not help" in CallClass.KEY_LIMIT.advice
