"""Today's presets (2026-08) against the emulator in memory, on a fake clock: the in-flight fan-out
with and without ``with_retries``, a key's daily limit, capacity exhausted, free variant ended.

Each test counts the answers by class (from the scenario's own numbers and the policy's, not from
the presets' ``expected``), reads the fields the client found in them, and checks that the
emulator is left as the preset found it: policy, fault rules, in-flight numbers.
"""

from __future__ import annotations

import asyncio
import math
from datetime import datetime, timezone

import httpx
import pytest

from client_helpers import DAY_START, FakeClock, requires_emulator
from orwidgets.client import CallClass, get_preset, run_preset
from orwidgets.client._presets import (
    CAPACITY_CALLS,
    CAPACITY_EVERY,
    FANOUT_CALLS,
    FANOUT_FIT,
    FANOUT_MAX_TOKENS,
    FREE_ENDED_CALLS,
    KEY_LIMIT_CALLS,
    KEY_LIMIT_EXTRA,
    PAID_MODEL,
    EmulatorAdminError,
)
from orwidgets.engine import Reason
from orwidgets.policy import (
    CAPACITY_RETRY_AFTER_S,
    IN_FLIGHT_DEFAULTS,
    MESSAGES,
    LimitSource,
    get_policy,
)

pytestmark = requires_emulator

FREE = "meta-llama/llama-3.3-70b-instruct:free"
FREE_TWIN = "meta-llama/llama-3.3-70b-instruct"
TODAY = "2026-08"


def emulator(policy: str = "2025-04"):
    from orwidgets.emulator import create_app

    clock = FakeClock()
    app = create_app(latency_ms=0, clock=clock, policy=policy)
    return app, app.state.emulator, clock


def run(app, name: str, policy: str | None = None):
    return asyncio.run(run_preset(name, "http://127.0.0.1:9", app.state.emulator.admin_token,
                                  transport=httpx.ASGITransport(app=app), policy=policy))


def of(result, call_class: CallClass):
    return [r for r in result.results if r.call_class is call_class]


def test_todays_presets_need_the_first_version_with_the_in_flight_budget():
    for key in ("in_flight", "in_flight_retry", "key_limit", "capacity", "free_ended"):
        preset = get_preset(key)
        assert preset.policy == TODAY and get_policy(preset.policy).in_flight_budget
        # Their counts do not depend on the version a caller names: they run under their own.
        assert preset.expected("legacy-2024") == preset.expected(TODAY)


# --- the in-flight fan-out ---------------------------------------------------------------------------


def test_fan_out_gets_the_in_flight_402_beyond_what_the_budget_holds():
    app, emu, _ = emulator()
    result = run(app, "fan-out on a small balance: in-flight 402")
    assert result.policy == TODAY
    assert result.counts == {CallClass.OK: FANOUT_FIT,
                             CallClass.IN_FLIGHT_BUDGET: FANOUT_CALLS - FANOUT_FIT}
    for refused in of(result, CallClass.IN_FLIGHT_BUDGET):
        assert refused.status == 402
        assert refused.message == MESSAGES.in_flight
        assert refused.reason == Reason.IN_FLIGHT_BUDGET.value
        assert refused.limit_source == LimitSource.IN_FLIGHT.value
        assert refused.retry_after_s == IN_FLIGHT_DEFAULTS.retry_after_s
        assert refused.headers["retry-after"] == str(IN_FLIGHT_DEFAULTS.retry_after_s)
    assert {r.model for r in result.results} == {PAID_MODEL}


def test_the_fan_out_account_holds_exactly_its_calls_and_the_balance_covers_them_all():
    from orwidgets.client._http import DEFAULT_MESSAGES
    from orwidgets.emulator.chat import estimate_tokens

    app, emu, _ = emulator()
    run(app, "in_flight")
    acct = next(a for a in emu.accounts_view() if a["label"] == "preset: in-flight fan-out")
    price = next(m for m in emu_models(app) if m["id"] == PAID_MODEL)["pricing"]
    prompt = estimate_tokens(sum(len(m["content"]) for m in DEFAULT_MESSAGES))
    # What one call holds: its prompt and its max_tokens, at the catalogue's prices.
    estimate = prompt * float(price["prompt"]) + FANOUT_MAX_TOKENS * float(price["completion"])
    # (the policy went back to 2025-04, which has no budget: work it out from the start balance)
    budget = IN_FLIGHT_DEFAULTS.budget_usd(acct["balance_usd"] + acct["usage_usd"])
    assert FANOUT_FIT * estimate <= budget < (FANOUT_FIT + 1) * estimate
    # The balance itself pays for every call: the 402 is about the budget, not the credits.
    assert acct["balance_usd"] > FANOUT_CALLS * estimate


def emu_models(app):
    async def get():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://127.0.0.1:9") as c:
            return (await c.get("/api/v1/models")).json()["data"]

    return asyncio.run(get())


def test_with_retries_recovers_every_refused_call_on_the_emulators_clock():
    app, emu, clock = emulator()
    before = emu.clock.now()
    result = run(app, "the same fan-out, recovered by with_retries")
    refused = FANOUT_CALLS - FANOUT_FIT
    assert result.counts == {CallClass.OK: FANOUT_CALLS, CallClass.IN_FLIGHT_BUDGET: refused}
    # Each refused call waited Retry-After on the emulator's clock (the fake base never moved).
    assert clock.now == DAY_START
    assert emu.clock.now() - before >= IN_FLIGHT_DEFAULTS.retry_after_s
    # ...at most once, with at most 25 % jitter on top (concurrent waits share the clock).
    assert emu.clock.now() - before <= IN_FLIGHT_DEFAULTS.retry_after_s * 1.25 + 1


def test_the_fan_out_follows_the_emulators_own_in_flight_numbers():
    app, emu, _ = emulator()
    emu.set_in_flight({"fraction": 0.25, "retry_after_s": 30, "settle_s": 30})
    result = run(app, "in_flight_retry")
    assert result.counts == {CallClass.OK: FANOUT_CALLS,
                             CallClass.IN_FLIGHT_BUDGET: FANOUT_CALLS - FANOUT_FIT}
    assert {r.retry_after_s for r in of(result, CallClass.IN_FLIGHT_BUDGET)} == {30}
    assert emu.in_flight.fraction == 0.25  # left as it was found


def test_numbers_that_cannot_hold_the_fan_out_are_refused_clearly_and_the_policy_goes_back():
    app, emu, _ = emulator(policy="legacy-2024")
    emu.set_in_flight({"threshold_usd": 0.000001})  # no balance is under it: no budget at all
    with pytest.raises(EmulatorAdminError, match="no balance holds exactly 4 calls"):
        run(app, "in_flight")
    assert emu.engine.policy.id == "legacy-2024"
    assert emu.faults.rules == []


@pytest.mark.parametrize("name", ["in_flight", "in_flight_retry", "key_limit", "capacity",
                                  "free_ended"])
def test_a_preset_puts_back_the_policy_and_the_fault_rules_it_found(name):
    app, emu, _ = emulator(policy="legacy-2024")
    emu.faults.configure({"rules": [{"kind": "http_502", "model": "x-ai/*", "every": 4}]})
    in_flight = emu.in_flight
    result = run(app, name, policy="2025-04")  # their own version wins over the one named
    assert result.policy == TODAY
    assert emu.engine.policy.id == "legacy-2024"
    assert [(r.kind, r.model, r.every) for r in emu.faults.rules] == [("http_502", "x-ai/*", 4)]
    assert emu.in_flight == in_flight


# --- a key's daily limit ------------------------------------------------------------------------------


def test_a_keys_daily_limit_runs_out_with_a_403_and_pays_again_after_midnight():
    app, emu, _ = emulator()
    result = run(app, "a key's daily limit runs out: 403")
    assert result.counts == {CallClass.OK: KEY_LIMIT_CALLS + 1, CallClass.KEY_LIMIT: KEY_LIMIT_EXTRA}
    classes = [r.call_class for r in result.results]
    assert classes == ([CallClass.OK] * KEY_LIMIT_CALLS + [CallClass.KEY_LIMIT] * KEY_LIMIT_EXTRA
                       + [CallClass.OK])
    spent = of(result, CallClass.KEY_LIMIT)
    now = emu.clock.now()  # the last call happened at the 00:00 UTC that ended the window
    midnight = datetime.fromtimestamp(math.floor(now / 86_400) * 86_400, tz=timezone.utc)
    for r in spent:
        assert r.status == 403
        assert r.message.startswith("Key limit exceeded (daily limit). Manage it using ")
        assert r.limit_source == LimitSource.KEY_LIMIT.value
        assert r.resets_at == midnight
        assert r.retry_after_s is None


def test_the_limited_key_was_made_through_the_management_key_api():
    app, emu, _ = emulator()
    run(app, "key_limit")
    team = next(a for a in emu.accounts_view() if a["label"] == "preset: a team")
    assert team["management"] is True
    made = [k for k in team["keys"] if k["name"] == "preset: daily limit"]
    assert len(made) == 1 and made[0]["limit_reset"] == "daily"
    # The limit was exactly KEY_LIMIT_CALLS calls' cost; one more call was paid the next day.
    limit = made[0]["limit"]
    assert made[0]["usage"] == pytest.approx(limit * (KEY_LIMIT_CALLS + 1) / KEY_LIMIT_CALLS)
    assert made[0]["usage_daily"] == pytest.approx(limit / KEY_LIMIT_CALLS)
    assert made[0]["limit_remaining"] == pytest.approx(limit * (1 - 1 / KEY_LIMIT_CALLS))


# --- capacity exhausted and free variant ended ---------------------------------------------------------


def test_capacity_exhausted_on_every_third_call_names_its_wait_and_its_fallback():
    app, emu, _ = emulator()
    result = run(app, "all providers at capacity: 429")
    failed = CAPACITY_CALLS // CAPACITY_EVERY
    assert result.counts == {CallClass.OK: CAPACITY_CALLS - failed,
                             CallClass.CAPACITY_EXHAUSTED: failed}
    for r in of(result, CallClass.CAPACITY_EXHAUSTED):
        assert r.status == 429
        assert r.message == (f"All providers for {FREE} are at capacity. Retry after "
                             f"{CAPACITY_RETRY_AFTER_S} seconds.")
        assert r.availability["code"] == "capacity_exhausted"
        assert r.availability["retryable"] is True
        assert r.retry_after_s == CAPACITY_RETRY_AFTER_S
        assert r.fallback_models == (FREE_TWIN,)
    assert [i for i, r in enumerate(result.results, 1) if not r.ok] == \
        list(range(CAPACITY_EVERY, CAPACITY_CALLS + 1, CAPACITY_EVERY))


def test_free_variant_ended_then_the_opt_in_fallback_costs_money():
    app, emu, _ = emulator()
    result = run(app, "free variant ended: 404, then the paid model")
    assert result.counts == {CallClass.OK: 1, CallClass.FREE_VARIANT_ENDED: FREE_ENDED_CALLS + 1}
    ended = of(result, CallClass.FREE_VARIANT_ENDED)
    assert {(r.status, r.model, r.fallback_models) for r in ended} == {(404, FREE, (FREE_TWIN,))}
    assert all(r.availability["retryable"] is False for r in ended)
    (paid,) = of(result, CallClass.OK)
    assert paid.model == FREE_TWIN
    assert paid.body["usage"]["cost"] > 0
    assert result.results[-1] is paid  # the switch came last, after the 404 that named it
