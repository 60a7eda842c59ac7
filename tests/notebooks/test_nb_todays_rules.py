"""The tutorial's section 11 (today's rules, 2026-08): its prose names the in-flight numbers through
placeholders, its demos get each new answer from the emulator, and its retry table comes from the
client's classes and the retry helper. Expected values come from ``orwidgets.policy``.
"""

from __future__ import annotations

import re
from html import unescape

import pytest

from orwidgets import policy
from orwidgets.client import CallClass

P = policy.IN_FLIGHT_DEFAULTS
SECTION = ["todays-rules", "in-flight-402", "in-flight-retry", "weight-402", "key-limit-403",
           "key-afford-402", "availability", "retry-table", "client-mistakes"]


def section_sources(builder) -> dict[str, str]:
    cells = builder.sources("en")["01-tutorial"]
    return {c.id: c.source for c in cells if c.id in SECTION}


def built_section(builder) -> str:
    nb = builder.render(builder.sources("en")["01-tutorial"], builder.prose_values(), "test")
    return " ".join(" ".join(c.source for c in nb.cells if c.get("id") in SECTION).split())


def test_the_section_is_there_in_order(builder):
    ids = [c.id for c in builder.sources("en")["01-tutorial"]]
    found = [i for i in ids if i in SECTION]
    assert found == SECTION
    assert ids.index("todays-rules") > ids.index("policies-compared")
    assert ids.index("client-mistakes") < ids.index("real-key")


@pytest.mark.parametrize("typed", [
    f"{P.retry_after_s}", f"{P.completion_cap_tokens:,}", f"${P.ceiling_usd:g}",
    f"${P.threshold_usd:g}", f"{P.fraction:g} ×", f"{policy.CAPACITY_RETRY_AFTER_S} s",
])
def test_section_prose_types_no_in_flight_number(builder, typed):
    for cell_id, source in section_sources(builder).items():
        prose = re.sub(r"\{\{[^}]*\}\}", "", source).replace("\\$", "$")
        assert typed not in prose, f"{cell_id} types {typed!r}: use a placeholder"


def test_built_section_states_the_policys_in_flight_numbers_and_texts(builder):
    text = built_section(builder)
    assert f"a budget of {P.fraction:g} × the balance" in text
    assert f"at most <span>&#36;</span>{P.ceiling_usd:g}" in text
    assert f"from a balance of <span>&#36;</span>{P.threshold_usd:g} on" in text
    assert f"stays held {P.settle_s:g} s" in text
    assert f"counts {P.completion_cap_tokens:,} completion tokens" in text
    assert f"`Retry-After` is {P.retry_after_s} s" in text
    assert f'`"{policy.MESSAGES.in_flight}"`' in text
    assert f'`"{policy.MESSAGES.weight_exceeds_budget}"`' in text
    for source in (policy.LimitSource.IN_FLIGHT, policy.LimitSource.CREDITS,
                   policy.LimitSource.KEY_LIMIT):
        assert f"`{source.value}`" in text


def test_built_section_follows_changed_in_flight_numbers(builder, monkeypatch):
    changed = policy.InFlightParams(fraction=0.25, ceiling_usd=40, retry_after_s=90)
    monkeypatch.setattr(policy, "IN_FLIGHT_DEFAULTS", changed)
    text = built_section(builder)
    assert "a budget of 0.25 × the balance" in text and "`Retry-After` is 90 s" in text
    assert "at most <span>&#36;</span>40" in text


# --- the demos, run in a real kernel -----------------------------------------------------------------


def test_the_in_flight_402_comes_after_sequential_calls_and_says_retry_after(run_notebook):
    out = run_notebook("01-tutorial.ipynb").stdout("in-flight-402-code")
    first = out.splitlines()[0]
    passed = int(re.match(r"(\d+) calls passed one after the other; call (\d+) got 402\.", first)
                 .group(1))
    assert passed >= 1
    assert "0 calls running" in out
    assert CallClass.IN_FLIGHT_BUDGET.label in out
    assert f"Retry-After: {P.retry_after_s}" in out
    assert f'"message": "{policy.MESSAGES.in_flight}"' in out
    assert '"reason": "in_flight_budget_exhausted"' in out
    assert f'"Retry-After": "{P.retry_after_s}"' in out  # metadata.headers: what browsers can read


def test_a_short_wait_cap_gives_up_and_the_default_waits_it_out(run_notebook):
    out = run_notebook("01-tutorial.ipynb").stdout("in-flight-retry-code")
    assert out.startswith("max_wait_s=60: gave up after 1 call: ")
    assert f"The server asks to wait {P.retry_after_s} s (Retry-After), above max_wait_s=60" in out
    waited = re.search(r"wait Retry-After, (\d+) s", out)
    assert P.retry_after_s <= int(waited.group(1)) <= P.retry_after_s * 1.25 + 1
    assert f"the default max_wait_s: {CallClass.OK.label}" in out


def test_weight_exceeds_budget_is_not_retried_and_fewer_tokens_fit(run_notebook):
    out = run_notebook("01-tutorial.ipynb").stdout("weight-402-code")
    assert out.startswith(CallClass.WEIGHT_EXCEEDS_BUDGET.label)
    assert f'"message": "{policy.MESSAGES.weight_exceeds_budget}"' in out
    assert "Retry-After" not in out.split("with_retries")[0]
    assert "with_retries stopped after 1 call" in out
    assert f"max_tokens=500: {CallClass.OK.label}" in out
    assert f"no max_tokens: {CallClass.AFFORDABILITY.label}: This request requires more credits" in out


def test_the_spent_key_limit_names_its_reset_and_pays_again_after_it(run_notebook):
    out = run_notebook("01-tutorial.ipynb").stdout("key-limit-403-code")
    assert out.startswith(CallClass.KEY_LIMIT.label)
    assert "Key limit exceeded (daily limit). Manage it using" in out
    assert "$1.00 of $1.00 used; resets " in out
    resets = re.search(r"resets (\d{4}-\d{2}-\d{2})T00:00:00\.000Z\.", out).group(1)
    assert f"the client read: resets_at {resets} 00:00:00+00:00, limit_source openrouter_key_limit" in out
    assert f"with_retries stopped after 1 call, until {resets} 00:00:00+00:00" in out
    assert out.rstrip().endswith(f"at 00:00 UTC: {CallClass.OK.label}")


def test_the_key_bound_402_shrinks_max_tokens_once_below_what_it_can_afford(run_notebook):
    out = run_notebook("01-tutorial.ipynb").stdout("key-afford-402-code")
    assert out.startswith("201 {'name': 'ci', 'limit': 0.001, 'limit_remaining': 0.001")
    m = int(re.search(r"but can only afford (\d+)\.", out).group(1))
    assert f'"limit_source": "{policy.LimitSource.KEY_LIMIT.value}"' in out
    shrunk = int(re.search(r"retry once with max_tokens=(\d+) \(can only afford (\d+)\)", out)
                 .group(1))
    assert shrunk < m
    assert CallClass.OK.label in out.splitlines()[-1]


def test_capacity_waits_retry_after_and_free_variant_ended_switches_only_when_asked(run_notebook):
    out = run_notebook("01-tutorial.ipynb").stdout("availability-code")
    assert out.startswith(CallClass.CAPACITY_EXHAUSTED.label)
    assert f"Retry-After: {policy.CAPACITY_RETRY_AFTER_S}" in out
    assert '"code": "capacity_exhausted"' in out and '"code": "free_variant_ended"' in out
    assert f"-> {CallClass.OK.label}" in out
    assert "without follow_fallbacks: " in out and "follow_fallbacks=True switches to it." in out
    assert re.search(r"follow_fallbacks=True: 200 ok from meta-llama/llama-3\.3-70b-instruct, "
                     r"usage\.cost \d", out)


def test_the_retry_table_lists_each_new_answer_with_what_the_helper_does(run_notebook):
    rows = {row[0]: row for row in executed_table(run_notebook("01-tutorial.ipynb"))}
    assert list(rows) == [c.label for c in (
        CallClass.IN_FLIGHT_BUDGET, CallClass.WEIGHT_EXCEEDS_BUDGET, CallClass.AFFORDABILITY,
        CallClass.KEY_LIMIT, CallClass.KEY_LIMIT_AFFORDABILITY, CallClass.CAPACITY_EXHAUSTED,
        CallClass.FREE_VARIANT_ENDED)]
    assert rows[CallClass.IN_FLIGHT_BUDGET.label][1:4] == [
        "yes", f"wait Retry-After ({P.retry_after_s} s), then retry",
        f"wait Retry-After ({P.retry_after_s} s), then retry"]
    assert rows[CallClass.WEIGHT_EXCEEDS_BUDGET.label][1:4] == [
        "no", "never: stops at once", "never: stops at once"]
    assert rows[CallClass.KEY_LIMIT.label][2].startswith("never: stops at once, until ")
    assert rows[CallClass.CAPACITY_EXHAUSTED.label][2] == (
        f"wait Retry-After ({policy.CAPACITY_RETRY_AFTER_S} s), then retry")
    assert rows[CallClass.FREE_VARIANT_ENDED.label][2:4] == [
        "never: stops at once",
        "switch to the fallback model meta-llama/llama-3.3-70b-instruct (its own price applies),"
        " at once"]
    for shrinks in (CallClass.AFFORDABILITY, CallClass.KEY_LIMIT_AFFORDABILITY):
        assert rows[shrinks.label][2] == "never: stops at once"
        assert rows[shrinks.label][3].startswith("retry once with max_tokens=")
    for label, row in rows.items():
        call_class = next(c for c in CallClass if c.label == label)
        assert row[1] == ("yes" if call_class.retryable else "no")
        assert row[4] == call_class.advice


def executed_table(executed) -> list[list[str]]:
    """The rows of the HTML table the retry-table cell displayed."""
    cell = executed.cell("retry-table-code")
    markup = next(o["data"]["text/html"] for o in cell.get("outputs", [])
                  if "text/html" in o.get("data", {}))
    rows = re.findall(r"<tr>(.*?)</tr>", markup)
    return [[unescape(c).replace("&#36;", "$") for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in rows[1:]]
