"""Fault injection: upstream 429/502/503, slow answers, hangs and the mid-stream 429."""

from __future__ import annotations

import json

import httpx
import pytest

from orwidgets.emulator import DEFAULT_FREE_MODEL, DEFAULT_PAID_MODEL, MODELS
from orwidgets.policy import MESSAGES, LimitSource, upstream_raw_message

CHEAP_PAID = "qwen/qwen3-32b"


def set_faults(api, *rules) -> httpx.Response:
    r = api.admin("POST", "/_emulator/faults", {"rules": list(rules)})
    assert r.status_code == 200, r.text
    return r


def statuses(api, n, who="five", **kw) -> list[int]:
    return [api.chat(who, **kw).status_code for _ in range(n)]


def test_faults_are_off_by_default(api):
    assert statuses(api, 10) == [200] * 10


def test_upstream_429_every_nth_call_with_retry_after_and_the_observed_body(api):
    set_faults(api, {"kind": "upstream_429", "model": "*", "every": 3, "retry_after_s": 15})
    answers = [api.chat("five") for _ in range(6)]
    assert [r.status_code for r in answers] == [200, 200, 429, 200, 200, 429]
    r = answers[2]
    assert r.headers["Retry-After"] == "15"
    assert not any(h.lower().startswith("x-ratelimit") for h in r.headers)
    body = r.json()
    assert body["user_id"] == api.user_id("five")
    error = body["error"]
    assert error["code"] == 429
    assert error["message"] == MESSAGES.upstream
    meta = error["metadata"]
    assert meta["raw"] == upstream_raw_message(DEFAULT_FREE_MODEL)
    assert meta["provider_name"] == MODELS[DEFAULT_FREE_MODEL].provider
    assert meta["is_byok"] is False
    assert meta["limit_source"] == LimitSource.UPSTREAM.value


def test_upstream_429_defaults_to_a_retry_after(api):
    set_faults(api, {"kind": "upstream_429"})
    r = api.chat("five")
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "15"


def test_upstream_429_without_retry_after_when_asked(api):
    set_faults(api, {"kind": "upstream_429", "retry_after_s": None})
    r = api.chat("five")
    assert r.status_code == 429
    assert "retry-after" not in r.headers


def test_an_upstream_failure_costs_nothing(api):
    set_faults(api, {"kind": "upstream_429", "model": CHEAP_PAID})
    assert api.chat("five", model=CHEAP_PAID, max_tokens=8).status_code == 429
    assert api.account("acct_five")["balance_usd"] == 5.0


def test_an_upstream_failure_on_a_free_model_counts_as_an_attempt(api):
    set_faults(api, {"kind": "upstream_429"})
    api.chat("five")
    assert api.account("acct_five")["free_used_today"] == 1


@pytest.mark.parametrize(("kind", "status"), [("http_502", 502), ("http_503", 503)])
def test_502_and_503_answer_openrouter_error_json(api, kind, status):
    set_faults(api, {"kind": kind})
    r = api.chat("five")
    assert r.status_code == status
    error = r.json()["error"]
    assert error["code"] == status
    assert error["message"] == MESSAGES.upstream
    assert error["metadata"]["provider_name"] == MODELS[DEFAULT_FREE_MODEL].provider


def test_faults_apply_per_model(api):
    set_faults(api, {"kind": "http_503", "model": DEFAULT_PAID_MODEL})
    assert api.chat("five", model=DEFAULT_FREE_MODEL).status_code == 200
    assert api.chat("five", model=DEFAULT_PAID_MODEL, max_tokens=8).status_code == 503


def test_fault_model_patterns_match_shell_style(api):
    set_faults(api, {"kind": "http_502", "model": "*:free"})
    assert api.chat("five", model=DEFAULT_FREE_MODEL).status_code == 502
    assert api.chat("five", model=CHEAP_PAID, max_tokens=8).status_code == 200


def test_faults_never_hide_the_platforms_own_errors(api):
    set_faults(api, {"kind": "upstream_429"})
    assert api.chat("negative").status_code == 402
    assert api.chat("sk-or-v1-" + "1" * 64).status_code == 401


def test_seeded_probability_gives_the_same_pattern_each_time(api):
    rule = {"kind": "http_503", "probability": 0.5, "seed": 42}
    set_faults(api, rule)
    first = statuses(api, 10)
    api.time.t += 60
    set_faults(api, rule)
    second = statuses(api, 10)
    assert first == second
    assert 200 in first and 503 in first


def test_probability_zero_never_fires_and_one_always_fires(api):
    set_faults(api, {"kind": "http_503", "probability": 0})
    assert statuses(api, 5) == [200] * 5
    set_faults(api, {"kind": "http_503", "probability": 1})
    assert statuses(api, 5) == [503] * 5


def test_empty_rules_clear_the_faults(api):
    set_faults(api, {"kind": "http_502"})
    set_faults(api)
    assert statuses(api, 3) == [200] * 3


def test_first_firing_rule_wins(api):
    set_faults(api, {"kind": "http_502", "every": 2}, {"kind": "http_503"})
    assert statuses(api, 4) == [503, 502, 503, 502]


def test_slow_fault_adds_its_delay(memory_api):
    set_faults(memory_api, {"kind": "slow", "delay_ms": 1500})
    assert memory_api.chat("five").status_code == 200
    assert memory_api.sleeps.delays == [1.5]


def test_hang_holds_the_answer_until_the_client_times_out(uvicorn_api):
    import asyncio

    uvicorn_api.emu.sleep = asyncio.sleep  # a real hang, on the server's own loop
    set_faults(uvicorn_api, {"kind": "hang", "delay_ms": 30_000})
    with pytest.raises(httpx.ReadTimeout):
        uvicorn_api.client.post(
            "/api/v1/chat/completions",
            json={"model": DEFAULT_FREE_MODEL, "messages": [{"role": "user", "content": "hi"}]},
            headers=uvicorn_api.auth("five"), timeout=0.3,
        )
    set_faults(uvicorn_api)
    assert uvicorn_api.chat("five").status_code == 200  # the server is still answering


def test_hang_that_reaches_its_cap_answers(memory_api):
    set_faults(memory_api, {"kind": "hang", "delay_ms": 2000})
    assert memory_api.chat("five").status_code == 200
    assert 2.0 in memory_api.sleeps.delays


def test_mid_stream_429_arrives_as_an_sse_error_chunk_after_a_200(api):
    set_faults(api, {"kind": "mid_stream_429", "model": CHEAP_PAID})
    r = api.chat("five", model=CHEAP_PAID, max_tokens=40, stream=True)
    assert r.status_code == 200
    events = [line[6:] for line in r.text.split("\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    last = json.loads(events[-2])
    assert last["error"] == {"code": 429, "message": MESSAGES.mid_stream,
                             "metadata": {"error_type": "rate_limit_exceeded"}}
    assert last["choices"][0]["finish_reason"] == "error"
    assert not any("usage" in json.loads(e) for e in events[:-1])
    assert api.account("acct_five")["balance_usd"] == 5.0


def test_mid_stream_429_leaves_plain_requests_alone(api):
    set_faults(api, {"kind": "mid_stream_429"})
    assert api.chat("five").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"rules": [{"kind": "explode"}]},
        {"rules": [{"kind": "http_502", "every": 2, "probability": 0.5}]},
        {"rules": [{"kind": "http_502", "probability": 2}]},
        {"rules": [{"kind": "http_502", "every": 0}]},
        {"rules": [{"kind": "http_502", "colour": "red"}]},
        {"rules": [{"kind": "slow", "delay_ms": -5}]},
        {"rules": [{"kind": "http_502", "model": ""}]},
        {"rules": "all"},
        {"faults": []},
        [],
    ],
)
def test_bad_fault_rules_are_400_and_change_nothing(api, body):
    set_faults(api, {"kind": "http_502", "every": 1000})
    r = api.admin("POST", "/_emulator/faults", body)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == 400
    assert api.chat("five").status_code == 200


def test_faults_answer_echoes_the_normalised_rules(api):
    r = set_faults(api, {"kind": "slow"})
    assert r.json() == {"rules": [{"kind": "slow", "model": "*", "seed": 0, "delay_ms": 3000}]}


# --- the typed availability errors (2026-08-19 docs) ----------------------------------------------


def test_capacity_exhausted_is_the_documented_429_with_retry_after(api):
    set_faults(api, {"kind": "capacity_exhausted", "model": CHEAP_PAID})
    r = api.chat("five", model=CHEAP_PAID, max_tokens=5)
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "40"
    assert r.json() == {
        "error": {
            "code": 429,
            "message": f"All providers for {CHEAP_PAID} are at capacity. Retry after 40 seconds.",
            "error_type": "rate_limit_exceeded",
            "http_status": 429,
            "availability": {
                "code": "capacity_exhausted", "retryable": True, "retry_after": 40,
                "requested_models": [CHEAP_PAID], "affected_providers": ["deepinfra"],
                "fallback_models": [CHEAP_PAID + ":free"],
                "docs_url": "https://openrouter.ai/docs/errors#capacity_exhausted",
            },
            "metadata": {"previous_errors": [
                {"provider": "deepinfra", "code": "capacity_exhausted", "status": 429}]},
        },
        "user_id": api.user_id("five"),
    }
    assert api.account("acct_five")["balance_usd"] == 5.0  # it cost nothing


def test_capacity_exhausted_without_a_retry_hint_omits_it_everywhere(api):
    set_faults(api, {"kind": "capacity_exhausted", "retry_after_s": None})
    r = api.chat("five", model=DEFAULT_PAID_MODEL, max_tokens=5)
    error = r.json()["error"]
    assert error["message"] == f"All providers for {DEFAULT_PAID_MODEL} are at capacity."
    assert "retry_after" not in error["availability"] and "retry-after" not in r.headers
    assert "fallback_models" not in error["availability"]  # GPT-4o-mini has no other variant


def test_free_variant_ended_is_the_documented_404_naming_the_paid_model(api):
    set_faults(api, {"kind": "free_variant_ended"})
    r = api.chat("five", model=DEFAULT_FREE_MODEL)
    paid = DEFAULT_FREE_MODEL.removesuffix(":free")
    assert r.status_code == 404
    assert "retry-after" not in r.headers
    assert r.json() == {
        "error": {
            "code": 404,
            "message": f"The free variant of {DEFAULT_FREE_MODEL} has ended. Use {paid} (paid).",
            "error_type": "not_found",
            "http_status": 404,
            "availability": {
                "code": "free_variant_ended", "retryable": False,
                "requested_models": [DEFAULT_FREE_MODEL], "fallback_models": [paid],
                "docs_url": "https://openrouter.ai/docs/errors#free_variant_ended",
            },
        },
        "user_id": api.user_id("five"),
    }


def test_free_variant_ended_leaves_paid_models_alone(api):
    set_faults(api, {"kind": "free_variant_ended"})
    assert api.chat("five", model=DEFAULT_PAID_MODEL, max_tokens=5).status_code == 200
    gemini = api.chat("five", model="google/gemini-2.0-flash-exp:free")
    assert gemini.json()["error"]["availability"]["fallback_models"] == ["google/gemini-2.0-flash-001"]


@pytest.mark.parametrize("rule, message", [
    ({"kind": "free_variant_ended", "retry_after_s": 5},
     "rules[0].retry_after_s: free_variant_ended is not retryable"),
    ({"kind": "free_variant_ended", "model": DEFAULT_PAID_MODEL},
     f"rules[0].model: free_variant_ended applies to ':free' models only, got '{DEFAULT_PAID_MODEL}'"),
    ({"kind": "capacity_exhausted", "retry_after_s": -1},
     "rules[0].retry_after_s: must be between 0 and 3600, got -1"),
])
def test_bad_availability_rules_are_400_naming_the_field(api, rule, message):
    r = api.admin("POST", "/_emulator/faults", {"rules": [rule]})
    assert r.status_code == 400
    assert r.json()["error"]["message"] == message


def test_availability_rules_are_echoed_normalised(api):
    r = set_faults(api, {"kind": "capacity_exhausted"}, {"kind": "free_variant_ended", "model": "*:free"})
    assert r.json() == {"rules": [
        {"kind": "capacity_exhausted", "model": "*", "seed": 0, "retry_after_s": 40},
        {"kind": "free_variant_ended", "model": "*:free", "seed": 0},
    ]}


# --- times: fire on the first N calls, then never -------------------------------------------------


def test_times_fails_the_first_calls_then_lets_every_later_one_through(api):
    set_faults(api, {"kind": "upstream_429", "times": 2, "retry_after_s": 3})
    first = api.chat("five")
    assert first.status_code == 429 and first.headers["Retry-After"] == "3"
    assert statuses(api, 10) == [429] + [200] * 9


def test_times_counts_the_calls_a_rule_answers_with_every(api):
    set_faults(api, {"kind": "http_503", "every": 2, "times": 2})
    assert statuses(api, 8) == [200, 503, 200, 503, 200, 200, 200, 200]


def test_times_counts_only_the_calls_of_its_model(api):
    set_faults(api, {"kind": "http_502", "model": CHEAP_PAID, "times": 1})
    assert statuses(api, 2) == [200, 200]  # the default free model: not this rule's
    assert statuses(api, 2, model=CHEAP_PAID) == [502, 200]


def test_a_rule_that_loses_to_an_earlier_one_keeps_its_times(api):
    # The first rule answers the first call; the second fires then too but did not answer it,
    # so its one time is still there for the next call.
    set_faults(api, {"kind": "http_502", "times": 1}, {"kind": "http_503", "times": 1})
    assert statuses(api, 3) == [502, 503, 200]


def test_new_rules_start_their_times_again(api):
    rule = {"kind": "http_502", "times": 1}
    set_faults(api, rule)
    assert statuses(api, 2) == [502, 200]
    set_faults(api, rule)
    assert statuses(api, 2) == [502, 200]


def test_times_is_echoed_in_the_normalised_rules(api):
    r = set_faults(api, {"kind": "upstream_429", "times": 2})
    assert r.json() == {"rules": [{"kind": "upstream_429", "model": "*", "seed": 0,
                                   "retry_after_s": 15, "times": 2}]}


def test_times_null_means_no_limit(api):
    r = set_faults(api, {"kind": "http_502", "times": None})
    assert r.json()["rules"] == [{"kind": "http_502", "model": "*", "seed": 0}]
    assert statuses(api, 3) == [502] * 3


@pytest.mark.parametrize("times", [0, -1, 1.5, "2", True])
def test_bad_times_is_a_400_naming_the_field(api, times):
    r = api.admin("POST", "/_emulator/faults", {"rules": [{"kind": "http_502", "times": times}]})
    assert r.status_code == 400
    assert r.json()["error"]["message"] == (
        f"rules[0].times: expected a whole number >= 1 (calls it answers, then never again), "
        f"got {times!r}")
