"""The emulator against itself: for every policy version, nothing differs (exit 0)."""

from __future__ import annotations

import pytest
from conform_support import run_cli, serve

from orwidgets.emulator import create_app
from orwidgets.policy import policy_choices, resolve_policy_id

#: What OpenRouter answers each probe of the plan, in plan order (issue #14).
PLAN_STATUSES = [200, 200, 401, 400, 200, 402]


@pytest.mark.parametrize("policy", policy_choices())
def test_the_emulator_against_itself_differs_in_nothing(policy):
    app = create_app(policy=policy, latency_ms=0)
    with serve(app) as base:
        result = run_cli("--base-url", base, "--key", app.state.emulator.demo_keys["free"],
                         "--policy", policy)
    assert (result.code, result.err) == (0, ""), result.out
    assert result.out.splitlines()[-1] == (
        f"No difference: the emulator ({resolve_policy_id(policy)}) answers like {base} "
        "on 6 probes."
    )


@pytest.mark.parametrize("policy", policy_choices())
def test_the_json_report_of_the_emulator_against_itself_is_empty(policy):
    app = create_app(policy=policy, latency_ms=0)
    with serve(app) as base:
        result = run_cli("--base-url", base, "--key", app.state.emulator.demo_keys["free"],
                         "--policy", policy, "--json")
    report = result.json()
    assert (result.code, report["exit_code"], report["differences"]) == (0, 0, 0)
    assert report["error"] is None
    assert [p["real_status"] for p in report["probes"]] == PLAN_STATUSES
    assert [p["emulator_status"] for p in report["probes"]] == PLAN_STATUSES
    assert all(p["differences"] == [] for p in report["probes"])
    assert report["skipped"] == [] and report["calls"] == 6


@pytest.mark.parametrize("account", ["topped_up", "negative", "management"])
def test_other_accounts_against_themselves_differ_in_nothing(account):
    """The emulator account is shaped from the target's answers, so it answers the same:
    a negative balance (402 on the free model), a management key reading /credits."""
    app = create_app(policy="current", latency_ms=0)
    with serve(app) as base:
        result = run_cli("--base-url", base, "--key", app.state.emulator.demo_keys[account],
                         "--credits", "--max-calls", "7", "--json")
    report = result.json()
    assert (result.code, report["differences"]) == (0, 0), result.out
    assert report["calls"] == 7
    free_chat = next(p for p in report["probes"] if p["id"] == "chat_free")
    assert free_chat["real_status"] == (402 if account == "negative" else 200)


def test_the_account_is_inferred_from_the_legacy_rate_limit():
    app = create_app(policy="2025-04", latency_ms=0)
    with serve(app) as base:
        result = run_cli("--base-url", base, "--key", app.state.emulator.demo_keys["five"],
                         "--policy", "2025-04", "--json")
    report = result.json()
    assert report["account"] == {"balance_usd": 5.0, "purchased_usd": 1.0, "management": False}
    assert ("balance $5.00: GET /key rate_limit allows 50 requests per 10s (10 per dollar of "
            "balance)") in report["inferred"]
    assert result.code == 0
