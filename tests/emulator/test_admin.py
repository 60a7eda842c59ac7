"""The admin API (header X-Admin-Token): accounts, clock, policy, reset; and the latency setting."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest
from emulator_support import ADMIN, T0

from orwidgets.emulator import DEMO_ACCOUNTS, create_app
from orwidgets.emulator.state import DEMO_KEYS
from orwidgets.emulator.state import DEFAULT_LATENCY_MS
from orwidgets.policy import DEFAULT_POLICY_ID, policy_ids

ADMIN_ROUTES = [
    ("GET", "/_emulator/accounts"),
    ("POST", "/_emulator/accounts"),
    ("PATCH", "/_emulator/accounts/acct_five"),
    ("POST", "/_emulator/accounts/acct_five/topup"),
    ("GET", "/_emulator/clock"),
    ("POST", "/_emulator/clock"),
    ("GET", "/_emulator/policy"),
    ("PUT", "/_emulator/policy"),
    ("GET", "/_emulator/faults"),
    ("POST", "/_emulator/faults"),
    ("GET", "/_emulator/in_flight"),
    ("PUT", "/_emulator/in_flight"),
    ("POST", "/_emulator/reset"),
]


def iso(unix_s: float) -> str:
    return datetime.fromtimestamp(unix_s, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_admin_routes_without_the_token_are_401_json(api, method, path):
    r = api.client.request(method, path, json={})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == 401
    assert "X-Admin-Token" in r.json()["error"]["message"]


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_admin_routes_with_a_wrong_token_are_401(api, method, path):
    r = api.client.request(method, path, json={}, headers={"X-Admin-Token": ADMIN + "x"})
    assert r.status_code == 401


def test_admin_token_is_random_when_not_given():
    a = create_app(latency_ms=0).state.emulator.admin_token
    b = create_app(latency_ms=0).state.emulator.admin_token
    assert a != b and len(a) >= 24


# --- accounts -----------------------------------------------------------------------------------


def test_accounts_lists_the_demo_accounts_with_their_keys(api):
    data = api.admin("GET", "/_emulator/accounts").json()["data"]
    by_name = {a["name"]: a for a in data}
    for demo in DEMO_ACCOUNTS:
        acct = by_name[demo.name]
        spent = sum(k.spent_today_usd for k in DEMO_KEYS if k.account == demo.name)
        assert acct["account_id"] == demo.account_id
        assert acct["balance_usd"] == demo.balance_usd - spent
        assert acct["purchased_usd"] == demo.purchased_usd
        assert acct["management"] is demo.management
        assert acct["keys"][0]["key"] == api.keys[demo.name]
        assert acct["keys"][0]["management"] is demo.management


def test_the_member_demo_key_belongs_to_team_with_its_daily_limit_spent(api):
    team = api.account("acct_team")
    member = team["keys"][1]
    assert member["key"] == api.keys["member"]
    assert (member["name"], member["management"], member["limit"], member["limit_reset"]) == (
        "member", False, 1.0, "daily")
    assert (member["usage_daily"], member["limit_remaining"]) == (1.0, 0.0)
    assert member["limit_resets_at"] == "2026-03-21T00:00:00.000Z"  # the day after T0
    assert team["balance_usd"] == 19.0


def test_create_account_answers_201_with_a_working_key(api):
    r = api.admin("POST", "/_emulator/accounts", {"balance_usd": 5.0, "purchased_usd": 10.0, "management": False})
    assert r.status_code == 201
    body = r.json()
    assert set(body) == {"account_id", "key"}
    assert re.fullmatch(r"sk-or-v1-[0-9a-f]{64}", body["key"])
    acct = api.account(body["account_id"])
    assert (acct["balance_usd"], acct["purchased_usd"], acct["management"]) == (5.0, 10.0, False)
    assert api.chat(body["key"]).status_code == 200


@pytest.mark.parametrize(
    "body",
    [{"balance_usd": "lots"}, {"purchased_usd": -1}, {"management": "yes"}, {"colour": "red"}, [1],
     {"balance_usd": float("nan")}],
)
def test_create_account_with_bad_fields_is_400(api, body):
    r = api.client.post("/_emulator/accounts", content=json.dumps(body).encode(),
                        headers={"X-Admin-Token": ADMIN, "Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == 400


def test_patch_sets_balance_and_purchases(api):
    r = api.admin("PATCH", "/_emulator/accounts/acct_free", {"balance_usd": 2.5, "purchased_usd": 12})
    assert r.status_code == 200
    assert (r.json()["balance_usd"], r.json()["purchased_usd"]) == (2.5, 12.0)
    assert api.account("acct_free")["free_daily_limit"] == 1000


def test_patch_with_only_one_field_leaves_the_other(api):
    api.admin("PATCH", "/_emulator/accounts/acct_five", {"balance_usd": 1.0})
    acct = api.account("acct_five")
    assert (acct["balance_usd"], acct["purchased_usd"]) == (1.0, 5.0)


def test_patch_of_an_unknown_account_is_404(api):
    r = api.admin("PATCH", "/_emulator/accounts/acct_nobody", {"balance_usd": 1})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == 404


def test_patch_with_no_field_is_400(api):
    assert api.admin("PATCH", "/_emulator/accounts/acct_five", {}).status_code == 400


def test_topup_adds_to_balance_and_purchases(api):
    r = api.admin("POST", "/_emulator/accounts/acct_five/topup", {"usd": 10})
    assert r.status_code == 200
    assert (r.json()["balance_usd"], r.json()["purchased_usd"]) == (15.0, 15.0)


def test_topup_lifts_the_free_daily_tier(api):
    assert api.account("acct_free")["free_daily_limit"] == 50
    api.admin("POST", "/_emulator/accounts/acct_free/topup", {"usd": 10})
    assert api.account("acct_free")["free_daily_limit"] == 1000


@pytest.mark.parametrize("body", [{"usd": 0}, {"usd": -5}, {"usd": "ten"}, {}, {"amount": 10}])
def test_topup_with_a_bad_amount_is_400(api, body):
    assert api.admin("POST", "/_emulator/accounts/acct_five/topup", body).status_code == 400


def test_topup_of_an_unknown_account_is_404(api):
    assert api.admin("POST", "/_emulator/accounts/acct_nobody/topup", {"usd": 10}).status_code == 404


# --- clock --------------------------------------------------------------------------------------


def test_clock_get_answers_now_iso_ms_and_offset(api):
    assert api.admin("GET", "/_emulator/clock").json() == {
        "now": iso(T0), "now_ms": int(T0 * 1000), "offset_seconds": 0.0,
    }


def test_clock_advance_moves_time_and_reports_the_offset(api):
    body = api.admin("POST", "/_emulator/clock", {"advance_seconds": 60}).json()
    assert body == {"now": iso(T0 + 60), "now_ms": int((T0 + 60) * 1000), "offset_seconds": 60.0}


def test_clock_set_to_an_iso_time(api):
    body = api.admin("POST", "/_emulator/clock", {"now": "2026-01-01T23:59:55Z"}).json()
    target = datetime(2026, 1, 1, 23, 59, 55, tzinfo=timezone.utc).timestamp()
    assert body["now"] == "2026-01-01T23:59:55.000Z"
    assert body["now_ms"] == int(target * 1000)
    assert body["offset_seconds"] == pytest.approx(target - T0)


def test_clock_keeps_running_from_the_new_time(api):
    api.admin("POST", "/_emulator/clock", {"now": "2026-01-01T23:59:55Z"})
    api.time.t += 2.5  # the base clock moves on
    assert api.admin("GET", "/_emulator/clock").json()["now"] == "2026-01-01T23:59:57.500Z"


def test_clock_stamps_the_chat_answers(api):
    api.admin("POST", "/_emulator/clock", {"now": "2026-01-01T00:00:07Z"})
    created = api.chat("five").json()["created"]
    assert created == int(datetime(2026, 1, 1, 0, 0, 7, tzinfo=timezone.utc).timestamp())


@pytest.mark.parametrize(
    "body",
    [{}, {"advance_seconds": "soon"}, {"now": "yesterday"}, {"now": 12}, {"advance_seconds": 1, "now": "2026-01-01T00:00:00Z"},
     {"advance_seconds": 1e12}, {"now": "1969-12-31T00:00:00Z"}, {"speed": 2}],
)
def test_clock_with_a_bad_body_is_400(api, body):
    r = api.admin("POST", "/_emulator/clock", body)
    assert r.status_code == 400
    assert api.admin("GET", "/_emulator/clock").json()["offset_seconds"] == 0.0


# --- policy -------------------------------------------------------------------------------------


def test_policy_get_names_the_version_and_the_choices(api):
    body = api.admin("GET", "/_emulator/policy").json()
    assert body["policy"] == DEFAULT_POLICY_ID
    assert body["available"] == policy_ids()


def test_policy_put_switches_the_version(api):
    r = api.admin("PUT", "/_emulator/policy", {"policy": "current"})
    newest = policy_ids()[-1]
    assert r.status_code == 200 and r.json()["policy"] == newest
    assert r.json()["aliases"] == {"current": newest}
    assert api.admin("GET", "/_emulator/policy").json()["policy"] == newest
    r = api.admin("PUT", "/_emulator/policy", {"policy": "2025-07"})
    assert r.status_code == 200 and r.json()["policy"] == "2025-07"


@pytest.mark.parametrize("body", [{"policy": "2019"}, {"policy": 3}, {}, {"policy": "current", "x": 1}])
def test_policy_put_with_an_unknown_version_is_400(api, body):
    r = api.admin("PUT", "/_emulator/policy", body)
    assert r.status_code == 400
    assert api.admin("GET", "/_emulator/policy").json()["policy"] == DEFAULT_POLICY_ID


# --- faults -----------------------------------------------------------------------------------


def test_get_faults_answers_the_active_rules_so_a_script_can_put_them_back(api):
    assert api.admin("GET", "/_emulator/faults").json() == {"rules": []}
    rules = [{"kind": "upstream_429", "model": "*:free", "every": 3, "retry_after_s": 7},
             {"kind": "capacity_exhausted", "model": "openai/*", "probability": 0.5, "seed": 1}]
    posted = api.admin("POST", "/_emulator/faults", {"rules": rules}).json()
    got = api.admin("GET", "/_emulator/faults").json()
    assert got["rules"][0] == {"kind": "upstream_429", "model": "*:free", "every": 3,
                               "probability": None, "seed": 0, "retry_after_s": 7,
                               "delay_ms": None, "times": None}
    assert [{k: v for k, v in r.items() if v is not None} for r in got["rules"]] == posted["rules"]
    # What GET answers is a body POST takes back as it is.
    api.admin("POST", "/_emulator/faults", {"rules": []})
    assert api.admin("POST", "/_emulator/faults", got).json() == posted
    assert api.admin("GET", "/_emulator/faults").json() == got


def test_get_faults_keeps_a_rule_without_retry_after_as_it_was(api):
    api.admin("POST", "/_emulator/faults", {"rules": [{"kind": "upstream_429",
                                                        "retry_after_s": None}]})
    got = api.admin("GET", "/_emulator/faults").json()
    assert got["rules"][0]["retry_after_s"] is None
    api.admin("POST", "/_emulator/faults", got)
    r = api.chat("topped_up", model="meta-llama/llama-3.3-70b-instruct:free")
    assert r.status_code == 429 and "retry-after" not in r.headers


# --- reset --------------------------------------------------------------------------------------


def test_reset_restores_the_start_state_and_keeps_the_demo_keys(api):
    keys = dict(api.keys)
    api.admin("POST", "/_emulator/accounts", {"balance_usd": 1})
    api.admin("PATCH", "/_emulator/accounts/acct_five", {"balance_usd": 99})
    api.admin("POST", "/_emulator/clock", {"advance_seconds": 3600})
    api.admin("PUT", "/_emulator/policy", {"policy": "current"})
    api.admin("POST", "/_emulator/faults", {"rules": [{"kind": "http_502"}]})
    for _ in range(3):
        api.chat("free")
    r = api.admin("POST", "/_emulator/reset")
    assert r.status_code == 200
    assert api.keys == keys
    assert len(api.admin("GET", "/_emulator/accounts").json()["data"]) == len(DEMO_ACCOUNTS)
    assert api.account("acct_five")["balance_usd"] == 5.0
    assert api.account("acct_free")["free_used_today"] == 0
    assert api.admin("GET", "/_emulator/clock").json()["offset_seconds"] == 0.0
    assert api.admin("GET", "/_emulator/policy").json()["policy"] == DEFAULT_POLICY_ID
    assert api.chat("five").status_code == 200  # no fault any more, same key works


# --- latency (recorded, not waited for) -----------------------------------------------------------


def test_default_latency_is_drawn_between_20_and_50_ms(memory_api):
    emu = memory_api.emu
    emu.set_latency(None)
    assert emu.latency_ms == DEFAULT_LATENCY_MS
    for _ in range(10):
        memory_api.chat("five")
    low, high = DEFAULT_LATENCY_MS
    assert len(memory_api.sleeps.delays) == 10
    assert all(low / 1000 <= d <= high / 1000 for d in memory_api.sleeps.delays)
    assert len(set(memory_api.sleeps.delays)) > 1


def test_latency_draws_are_reproducible_with_the_seed(memory_api):
    emu = memory_api.emu
    emu.set_latency((20, 50))
    first = [emu.latency_s() for _ in range(5)]
    emu.reset()
    assert [emu.latency_s() for _ in range(5)] == first


def test_zero_latency_never_sleeps(memory_api):
    memory_api.chat("five")
    memory_api.chat("five", stream=True)
    assert memory_api.sleeps.delays == []


def test_fixed_latency_is_applied_to_successes_only(memory_api):
    memory_api.emu.set_latency(30)
    assert memory_api.chat("five").status_code == 200
    assert memory_api.chat("negative").status_code == 402
    assert memory_api.sleeps.delays == [0.03]


@pytest.mark.parametrize("spec", [-1, (50, 20), "fast", float("inf"), (1, 2, 3)])
def test_bad_latency_is_refused_with_a_clear_error(spec):
    with pytest.raises(ValueError, match="latency_ms"):
        create_app(latency_ms=spec)


# --- the in-flight budget's numbers ------------------------------------------------------------------

IN_FLIGHT_START = {"fraction": 0.5, "ceiling_usd": 25.0, "threshold_usd": 100.0, "settle_s": 120.0,
                   "completion_cap_tokens": 4096, "retry_after_s": 120}


def test_in_flight_get_answers_exactly_the_six_numbers(api):
    r = api.admin("GET", "/_emulator/in_flight")
    assert (r.status_code, r.json()) == (200, IN_FLIGHT_START)


def test_in_flight_put_changes_a_subset_and_answers_the_whole_object(api):
    r = api.admin("PUT", "/_emulator/in_flight", {"fraction": 0.25, "retry_after_s": 30})
    assert (r.status_code, r.json()) == (200, {**IN_FLIGHT_START, "fraction": 0.25, "retry_after_s": 30})
    assert api.admin("GET", "/_emulator/in_flight").json()["fraction"] == 0.25


def test_in_flight_numbers_apply_to_the_next_request(api):
    api.admin("PUT", "/_emulator/policy", {"policy": "2026-08"})
    api.admin("PUT", "/_emulator/in_flight", {"fraction": 0.001, "retry_after_s": 7})
    # the $0.02 balance now gives a $0.00002 budget: a 100-token call holds more than that
    r = api.chat("small", model="openai/gpt-4o-mini", max_tokens=100)
    assert r.json()["error"]["metadata"]["reason"] == "weight_exceeds_budget"
    api.admin("PUT", "/_emulator/in_flight", {"fraction": 0.5})
    assert api.chat("small", model="openai/gpt-4o-mini", max_tokens=100).status_code == 200
    assert api.account("acct_small")["in_flight"]["budget_usd"] == pytest.approx(0.01, abs=1e-4)


@pytest.mark.parametrize("body, message", [
    ({"fraction": 0}, "fraction: must be more than 0 and at most 1, got 0"),
    ({"ceiling_usd": "lots"}, "ceiling_usd: expected a number, got 'lots'"),
    ({"threshold_usd": -5}, "threshold_usd: must be more than 0 and at most 1,000,000,000, got -5"),
    ({"settle_s": 1e9}, "settle_s: must be between 0 and 86400, got 1000000000.0"),
    ({"completion_cap_tokens": 10.5}, "completion_cap_tokens: expected a whole number, got 10.5"),
    ({"retry_after_s": True}, "retry_after_s: expected a whole number, got True"),
    ({"speed": 2}, "unknown field 'speed'; allowed: fraction, ceiling_usd, threshold_usd, settle_s, "
                   "completion_cap_tokens, retry_after_s"),
    ([1], "in_flight: expected an object with any of fraction, ceiling_usd, threshold_usd, settle_s, "
          "completion_cap_tokens, retry_after_s"),
])
def test_in_flight_put_with_a_bad_field_is_400_naming_it_and_changes_nothing(api, body, message):
    r = api.admin("PUT", "/_emulator/in_flight", body)
    assert r.status_code == 400
    assert r.json() == {"error": {"code": 400, "message": message}}
    assert api.admin("GET", "/_emulator/in_flight").json() == IN_FLIGHT_START


def test_in_flight_numbers_given_at_start_are_what_reset_restores():
    from orwidgets.emulator.state import Emulator

    emu = Emulator(latency_ms=0, in_flight={"settle_s": 30, "completion_cap_tokens": 1000})
    assert emu.in_flight.to_json() == {**IN_FLIGHT_START, "settle_s": 30,
                                      "completion_cap_tokens": 1000}
    emu.set_in_flight({"settle_s": 5})
    emu.reset()
    assert emu.in_flight.settle_s == 30


def test_reset_restores_the_in_flight_numbers(api):
    api.admin("PUT", "/_emulator/in_flight", {"ceiling_usd": 1})
    api.admin("POST", "/_emulator/reset")
    assert api.admin("GET", "/_emulator/in_flight").json() == IN_FLIGHT_START


def test_create_app_refuses_bad_in_flight_numbers():
    with pytest.raises(ValueError, match="fraction"):
        create_app(latency_ms=0, in_flight={"fraction": 3})
