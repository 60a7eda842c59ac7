"""The verdict: each rule with a client that breaks it and one that does not (hand-built journals)."""

from __future__ import annotations

import pytest

from orwidgets.engine import day_reset_ms, minute_reset_ms, second_reset_ms
from orwidgets.journal import Entry
from orwidgets.verdict import RULES, Finding, assert_resilient, format_findings, verdict

T0 = 1_767_268_800.0  # 2026-01-01T12:00:00Z: the start of a minute, 12 h before midnight
FREE = "meta-llama/llama-3.3-70b-instruct:free"
OTHER_FREE = "qwen/qwen3-32b:free"
PAID = "openai/gpt-4o-mini"


def call(t: float, status: int = 200, cls: str = "ok", *, model: str | None = FREE, key: str = "k1",
         max_tokens: int | None = None, retry_after: float | None = None, reset: int | None = None,
         path: str = "/api/v1/chat/completions") -> Entry:
    return Entry(time=T0 + t, status=status, call_class=cls, model=model, max_tokens=max_tokens,
                 key=f"sk-or-v1-{key}...xyz", key_id=key, path=path, retry_after=retry_after,
                 rate_limit_reset=reset)


def per_minute(t: float, **kw) -> Entry:
    return call(t, 429, "free_per_minute", reset=minute_reset_ms(T0 + t), **kw)


def per_day(t: float, **kw) -> Entry:
    return call(t, 429, "free_per_day_low", reset=day_reset_ms(T0 + t), **kw)


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


# --- retry-before-reset -------------------------------------------------------------------------


def test_free_requests_before_the_per_minute_reset_break_retry_before_reset():
    journal = [call(0), per_minute(20), per_minute(20.5), per_minute(21), per_minute(22)]
    finding = only(verdict(journal))
    assert finding.rule == "retry-before-reset"
    assert finding.count == 3
    assert finding.calls == tuple(journal[1:])
    assert finding.key == "sk-or-v1-k1...xyz"
    assert finding.message == (
        "sent 3 more free-model requests within 2.0 s of a per-minute 429 whose reset was 40 s "
        "away; wait until X-RateLimit-Reset (every refused attempt also counts toward the daily "
        "quota)"
    )


def test_another_free_model_counts_too_the_minute_limit_is_for_all_free_models():
    finding = only(verdict([per_minute(20), call(30, 429, "free_per_minute", model=OTHER_FREE,
                                                 reset=minute_reset_ms(T0 + 30))]))
    assert (finding.rule, finding.count) == ("retry-before-reset", 1)


def test_waiting_until_the_reset_is_clean():
    journal = [per_minute(20), call(25, model=PAID), call(60), call(61)]
    assert verdict(journal) == []


def test_the_minute_window_is_judged_per_key():
    assert verdict([per_minute(20, key="a"), call(21, key="b")]) == []


def test_without_a_reset_header_the_next_minute_is_the_reset():
    bare = call(20, 429, "free_per_minute")  # a hand-written journal with no X-RateLimit-Reset
    assert only(verdict([bare, call(59)])).rule == "retry-before-reset"
    assert verdict([bare, call(60)]) == []


# --- retry-after-daily-limit --------------------------------------------------------------------


def test_free_requests_after_a_per_day_429_break_retry_after_daily_limit():
    journal = [call(7199), per_day(7200), per_day(7201), per_day(7260)]
    finding = only(verdict(journal))
    assert finding.rule == "retry-after-daily-limit"
    assert finding.count == 2
    assert finding.calls == tuple(journal[1:])
    assert finding.message == (
        "sent 2 more free-model requests after a per-day 429 at 14:00:00 UTC, 10 h before the "
        "daily reset at 00:00 UTC; each was refused and counted toward the quota: stop until "
        "the reset (or buy credits for the higher tier)"
    )


def test_stopping_until_midnight_is_clean():
    midnight = day_reset_ms(T0) / 1000 - T0
    assert verdict([per_day(7200), call(midnight), call(midnight + 1)]) == []


def test_a_success_after_a_per_day_429_shows_the_limit_lifted():
    # A top-up to the higher tier between the two calls: the journal cannot see it, the 200 can.
    assert verdict([per_day(7200), call(7300), call(7301)]) == []


def test_the_high_tier_per_day_429_counts_as_well():
    journal = [call(10, 429, "free_per_day_high"), call(11, 429, "free_per_day_high")]
    assert only(verdict(journal)).rule == "retry-after-daily-limit"


# --- retry-before-retry-after -------------------------------------------------------------------


def upstream(t: float, retry_after: float = 15, **kw) -> Entry:
    return call(t, 429, "upstream_429", model=PAID, retry_after=retry_after, **kw)


def test_requests_before_retry_after_break_retry_before_retry_after():
    journal = [upstream(0), upstream(1), call(2.5, model=PAID)]
    finding = only(verdict(journal))
    assert (finding.rule, finding.count, finding.calls) == (
        "retry-before-retry-after", 2, tuple(journal))
    assert finding.message == (
        "sent 2 more requests to openai/gpt-4o-mini within 2.5 s of a 429 (upstream_429) whose "
        "Retry-After asked to wait 15 s"
    )


def test_waiting_retry_after_and_other_models_are_clean():
    assert verdict([upstream(0), call(1, model="openai/gpt-4o"), call(15, model=PAID)]) == []


def test_a_later_retry_after_extends_the_wait_while_the_client_hammers():
    journal = [upstream(0, 10), upstream(5, 10), call(12, model=PAID)]  # 12 < 5 + 10
    assert only(verdict(journal)).count == 2


def test_an_in_flight_402_with_retry_after_asks_for_the_wait_too():
    in_flight = call(0, 402, "in_flight_budget_exhausted", model=PAID, max_tokens=500, retry_after=120)
    finding = only(verdict([in_flight, call(30, model=PAID, max_tokens=500)]))
    assert finding.rule == "retry-before-retry-after"
    assert "a 402 (in_flight_budget_exhausted) whose Retry-After asked to wait 2 min" in finding.message
    assert verdict([in_flight, call(120, model=PAID, max_tokens=500)]) == []


def test_a_503_with_retry_after_counts_without_retry_after_it_does_not():
    assert only(verdict([call(0, 503, "http_503", model=PAID, retry_after=5),
                         call(1, model=PAID)])).rule == "retry-before-retry-after"
    assert verdict([call(0, 503, "http_503", model=PAID), call(1, model=PAID)]) == []


# --- retry-of-terminal-error --------------------------------------------------------------------


@pytest.mark.parametrize(("status", "cls", "what"), [
    (402, "negative_balance", "a 402 (negative_balance) without Retry-After"),
    (402, "affordability", "a 402 (affordability) without Retry-After"),
    (401, "unknown_key", "a 401 (unknown_key)"),
    (403, "key_limit_exceeded", "a 403 (key_limit_exceeded)"),
])
def test_the_same_request_refused_again_breaks_retry_of_terminal_error(status, cls, what):
    journal = [call(t, status, cls, model=PAID, max_tokens=100) for t in (0, 1, 2)]
    finding = only(verdict(journal))
    assert (finding.rule, finding.count, finding.calls) == (
        "retry-of-terminal-error", 2, tuple(journal))
    assert finding.message == (
        f"sent the same request (openai/gpt-4o-mini, max_tokens 100) 2 more times after {what}, "
        "and it was refused again each time: waiting does not fix this answer; change the "
        "request, the key or the credits first"
    )


def test_a_smaller_max_tokens_after_an_affordability_402_is_a_new_request():
    journal = [call(0, 402, "affordability", model=PAID, max_tokens=4000),
               call(1, model=PAID, max_tokens=100)]
    assert verdict(journal) == []


def test_a_repeat_that_succeeds_was_worth_it():
    # The credits were topped up between the two calls: the 200 proves the cause was fixed.
    journal = [call(0, 402, "negative_balance", model=PAID, max_tokens=100),
               call(5, model=PAID, max_tokens=100)]
    assert verdict(journal) == []


def test_requests_without_a_key_are_judged_together():
    journal = [call(t, 401, "no_auth", model=FREE) for t in (0, 1)]
    journal = [Entry(time=e.time, status=e.status, call_class=e.call_class, model=e.model)
               for e in journal]
    finding = only(verdict(journal))
    assert (finding.rule, finding.key) == ("retry-of-terminal-error", None)
    assert str(finding).startswith("[retry-of-terminal-error] no key: sent the same request")


# --- paid-rate-exceeded -------------------------------------------------------------------------


def paid_rate(t: float) -> Entry:
    return call(t, 429, "paid_rate", model=PAID, reset=second_reset_ms(T0 + t))


def test_paid_requests_in_the_same_second_break_paid_rate_exceeded():
    journal = [call(0.1, model=PAID), paid_rate(0.2), paid_rate(0.3), paid_rate(0.6)]
    finding = only(verdict(journal))
    assert (finding.rule, finding.count, finding.calls) == ("paid-rate-exceeded", 2, tuple(journal[1:]))
    assert finding.message == (
        "sent 2 more paid requests within 0.4 s after a paid-rate 429, before the next second "
        "(its X-RateLimit-Reset); keep to the requests per second your balance buys"
    )


def test_waiting_for_the_next_second_is_clean():
    assert verdict([paid_rate(0.2), call(0.5, model=FREE), call(1.0, model=PAID)]) == []


# --- the whole verdict --------------------------------------------------------------------------


def test_findings_come_oldest_first_across_keys_and_rules():
    journal = [paid_rate(100.2), paid_rate(100.3), per_minute(20, key="b"), per_minute(21, key="b")]
    assert [f.rule for f in verdict(journal)] == ["retry-before-reset", "paid-rate-exceeded"]


def test_only_chat_completions_are_judged():
    journal = [per_minute(20), call(21, path="/api/v1/key", model=None)]
    assert verdict(journal) == []


def test_calls_may_come_in_any_order():
    journal = [per_minute(22), per_minute(20), per_minute(21)]
    assert [c.time for c in only(verdict(journal)).calls] == [T0 + 20, T0 + 21, T0 + 22]


def test_every_finding_uses_a_documented_rule():
    journal = [per_minute(20), per_minute(21), per_day(7200), per_day(7201), upstream(8000),
               upstream(8001), paid_rate(9000.1), paid_rate(9000.2),
               call(9500, 401, "unknown_key", model=PAID), call(9501, 401, "unknown_key", model=PAID)]
    assert sorted(f.rule for f in verdict(journal)) == sorted(RULES)


def test_a_clean_journal_passes_assert_resilient():
    assert_resilient([call(0), per_minute(20), call(60)])


def test_assert_resilient_lists_the_findings_readably():
    journal = [per_minute(20)] + [per_minute(20 + i / 10) for i in range(1, 9)]
    with pytest.raises(AssertionError) as caught:
        assert_resilient(journal)
    text = str(caught.value)
    assert text.splitlines()[:3] == [
        "the client did not respect OpenRouter's limits: 1 finding:",
        "1. [retry-before-reset] key sk-or-v1-k1...xyz: sent 8 more free-model requests within "
        "0.8 s of a per-minute 429 whose reset was 40 s away; wait until X-RateLimit-Reset "
        "(every refused attempt also counts toward the daily quota)",
        "     12:00:20.000 UTC  429 free_per_minute        "
        "meta-llama/llama-3.3-70b-instruct:free (reset 12:01:00)",
    ]
    assert text.splitlines()[-1] == "     ... and 3 more"


def test_format_findings_says_when_there_are_none():
    assert format_findings([]) == "no findings: the client respected every limit the verdict checks"


def test_a_finding_turns_into_json_with_its_calls():
    finding = only(verdict([upstream(0), upstream(1)]))
    data = finding.to_json()
    assert (data["rule"], data["count"], data["key"]) == ("retry-before-retry-after", 1,
                                                          "sk-or-v1-k1...xyz")
    assert [c["class"] for c in data["calls"]] == ["upstream_429", "upstream_429"]
    assert data["calls"][0]["retry_after"] == 15
