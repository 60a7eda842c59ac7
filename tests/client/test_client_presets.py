"""Each preset against the emulator (in memory, fake clock) gives the expected count per class.

Expectations are derived here from :mod:`orwidgets.policy` numbers and hand arithmetic, not read
from the presets' own ``expected``.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from client_helpers import FakeClock, requires_emulator
from orwidgets.client import PRESETS, CallClass, get_preset, run_preset
from orwidgets.client._presets import (
    BURST_BALANCE_USD,
    BURST_CALLS,
    DRAIN_BURST,
    NEGATIVE_CALLS_EACH,
    UPSTREAM_CALLS,
    UPSTREAM_EVERY,
    UPSTREAM_RETRY_AFTER_S,
)
from orwidgets.policy import (
    FREE_DAILY_HIGH,
    FREE_DAILY_LEGACY,
    FREE_DAILY_LOW,
    FREE_PER_MINUTE,
    paid_rps,
)

pytestmark = requires_emulator

LABELS = [
    "21 free calls in one minute",
    "the 51st free call of the day",
    "1,000-call day after a $10 top-up",
    "paid burst above your RPS",
    "balance drains mid-burst and RPS falls",
    "negative balance blocks free models",
    "upstream provider 429 with Retry-After",
    "fan-out on a small balance: in-flight 402",
    "the same fan-out, recovered by with_retries",
    "a key's daily limit runs out: 403",
    "all providers at capacity: 429",
    "free variant ended: 404, then the paid model",
]


def run(label: str, policy: str = "2025-04"):
    from orwidgets.emulator import create_app

    app = create_app(latency_ms=0, clock=FakeClock())
    return asyncio.run(run_preset(label, "http://127.0.0.1:9", app.state.emulator.admin_token,
                                  transport=httpx.ASGITransport(app=app), policy=policy))


def test_preset_labels_are_the_dom_contract_ones_in_order():
    assert [p.label for p in PRESETS] == LABELS


def test_21_free_calls_in_one_minute_give_20_ok_and_1_per_minute_429():
    result = run("21 free calls in one minute")
    assert result.counts == {CallClass.OK: FREE_PER_MINUTE, CallClass.FREE_PER_MINUTE: 1}


def test_the_per_minute_429_resets_at_the_next_whole_minute():
    result = run("21 free calls in one minute")
    rejected = [r for r in result.results if r.call_class is CallClass.FREE_PER_MINUTE][0]
    assert rejected.rate_limit.reset_ms % 60_000 == 0 and rejected.retry_after_s is None


def test_the_51st_free_call_of_the_day_is_a_per_day_429():
    result = run("the 51st free call of the day")
    assert result.counts == {CallClass.OK: FREE_DAILY_LOW, CallClass.FREE_PER_DAY_LOW: 1}


def test_the_per_day_429_resets_at_the_next_utc_midnight():
    result = run("the 51st free call of the day")
    rejected = [r for r in result.results if r.call_class is CallClass.FREE_PER_DAY_LOW][0]
    assert rejected.rate_limit.reset_ms % 86_400_000 == 0
    assert rejected.rate_limit.limit == FREE_DAILY_LOW


def test_a_topped_up_day_gives_1000_ok_then_the_high_balance_429():
    result = run("1,000-call day after a $10 top-up")
    assert result.counts == {CallClass.OK: FREE_DAILY_HIGH, CallClass.FREE_PER_DAY_HIGH: 1}


def test_paid_burst_above_the_rps_gets_rps_through_and_the_rest_429():
    rps = paid_rps(BURST_BALANCE_USD, "2025-04")
    result = run("paid burst above your RPS")
    assert result.counts == {CallClass.OK: rps, CallClass.PAID_RATE: BURST_CALLS - rps}


def test_draining_balance_lowers_the_rps_inside_the_second_then_402():
    # Second 1: 2 ok (RPS 2, then 1 after the second call), second 2: 1 ok, second 3: all 402.
    result = run("balance drains mid-burst and RPS falls")
    assert result.counts == {
        CallClass.OK: 2 + 1,
        CallClass.PAID_RATE: (DRAIN_BURST - 2) + (DRAIN_BURST - 1),
        CallClass.AFFORDABILITY: DRAIN_BURST,
    }


def test_negative_balance_blocks_free_and_paid_models_with_402():
    result = run("negative balance blocks free models")
    assert result.counts == {CallClass.NEGATIVE_BALANCE: 2 * NEGATIVE_CALLS_EACH}
    assert {r.model.endswith(":free") for r in result.results} == {True, False}


def test_upstream_preset_fails_every_third_call_with_retry_after():
    result = run("upstream provider 429 with Retry-After")
    failed = UPSTREAM_CALLS // UPSTREAM_EVERY
    assert result.counts == {CallClass.OK: UPSTREAM_CALLS - failed, CallClass.UPSTREAM: failed}
    upstream = [r for r in result.results if r.call_class is CallClass.UPSTREAM]
    assert {r.retry_after_s for r in upstream} == {UPSTREAM_RETRY_AFTER_S}


def test_under_current_docs_the_paid_burst_has_no_platform_cap():
    result = run("paid burst above your RPS", policy="current")
    assert result.counts == {CallClass.OK: BURST_CALLS}


def test_under_current_docs_draining_ends_in_402_without_rate_429s():
    result = run("balance drains mid-burst and RPS falls", policy="current")
    assert result.counts == {CallClass.OK: 3, CallClass.AFFORDABILITY: 3 * DRAIN_BURST - 3}


def test_under_legacy_2024_the_day_has_200_free_calls_for_everyone():
    result = run("1,000-call day after a $10 top-up", policy="legacy-2024")
    assert result.counts == {CallClass.OK: FREE_DAILY_LEGACY, CallClass.FREE_PER_DAY_LOW: 1}


@pytest.mark.parametrize("policy", ["legacy-2024", "2025-04", "current"])
def test_each_preset_states_what_its_run_gives(policy):
    from orwidgets.emulator import create_app

    # (today's presets run under a version of their own: test_client_presets_2026.py)
    for preset in (p for p in PRESETS if p.policy is None):
        app = create_app(latency_ms=0, clock=FakeClock())
        result = asyncio.run(run_preset(preset, "http://127.0.0.1:9", app.state.emulator.admin_token,
                                        transport=httpx.ASGITransport(app=app), policy=policy))
        assert result.counts == preset.expected(policy), preset.label


def test_upstream_preset_clears_its_fault_rules_afterwards():
    from orwidgets.emulator import create_app

    app = create_app(latency_ms=0, clock=FakeClock())
    asyncio.run(run_preset("upstream", "http://127.0.0.1:9", app.state.emulator.admin_token,
                           transport=httpx.ASGITransport(app=app)))
    assert app.state.emulator.faults.rules == []


def test_upstream_preset_puts_back_the_fault_rules_it_found():
    from orwidgets.emulator import create_app

    app = create_app(latency_ms=0, clock=FakeClock())
    emu = app.state.emulator
    emu.faults.configure({"rules": [{"kind": "http_503", "model": "x-ai/*", "every": 2}]})
    asyncio.run(run_preset("upstream", "http://127.0.0.1:9", emu.admin_token,
                           transport=httpx.ASGITransport(app=app)))
    assert [(r.kind, r.model, r.every) for r in emu.faults.rules] == [("http_503", "x-ai/*", 2)]


def test_unknown_preset_names_the_choices():
    with pytest.raises(KeyError, match="21 free calls in one minute"):
        get_preset("nope")
