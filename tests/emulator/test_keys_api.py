"""The management-key API (GET/POST /api/v1/keys, GET/PATCH/DELETE /api/v1/keys/{hash}): every
route, every error, and usage windows rolling on the fake clock."""

from __future__ import annotations

import hashlib
import re

import pytest

from orwidgets.emulator import DEFAULT_PAID_MODEL
from orwidgets.policy import MESSAGES

KEYS = "/api/v1/keys"
WORKSPACE = "00000000-0000-0000-0000-000000000000"
FIELDS = ["hash", "name", "label", "disabled", "limit", "limit_remaining", "limit_reset",
          "include_byok_in_limit", "usage", "usage_daily", "usage_weekly", "usage_monthly",
          "byok_usage", "byok_usage_daily", "byok_usage_weekly", "byok_usage_monthly",
          "created_at", "updated_at", "expires_at", "creator_user_id", "workspace_id"]


def team(api, method: str, path: str = KEYS, **kw):
    return api.client.request(method, path, headers=api.auth("team"), **kw)


def create(api, **body):
    r = team(api, "POST", json={"name": "ci", **body})
    assert r.status_code == 201, r.text
    return r.json()


def bad(r, detail: str) -> None:
    assert r.status_code == 400
    assert r.json() == {"error": {"code": 400, "message": f"Invalid request parameters: {detail}"}}


# --- POST /api/v1/keys ---------------------------------------------------------------------------


def test_create_answers_201_with_the_key_and_its_data(api):
    body = create(api, limit=5, limit_reset="weekly", include_byok_in_limit=True,
                  expires_at="2027-12-31T23:59:59Z")
    secret = body["key"]
    assert set(body) == {"data", "key"} and re.fullmatch(r"sk-or-v1-[0-9a-f]{64}", secret)
    data = body["data"]
    assert list(data) == FIELDS
    assert data == {
        "hash": hashlib.sha256(secret.encode()).hexdigest(), "name": "ci",
        "label": f"{secret[:12]}...{secret[-3:]}", "disabled": False,
        "limit": 5.0, "limit_remaining": 5.0, "limit_reset": "weekly", "include_byok_in_limit": True,
        "usage": 0.0, "usage_daily": 0.0, "usage_weekly": 0.0, "usage_monthly": 0.0,
        "byok_usage": 0, "byok_usage_daily": 0, "byok_usage_weekly": 0, "byok_usage_monthly": 0,
        "created_at": "2026-03-20T22:52:10Z", "updated_at": None, "expires_at": "2027-12-31T23:59:59Z",
        "creator_user_id": api.user_id("team"), "workspace_id": WORKSPACE,
    }


def test_a_created_key_calls_models_for_the_team_account_and_counts_its_usage(api):
    body = create(api)
    r = api.chat(body["key"], model=DEFAULT_PAID_MODEL, max_tokens=10)
    assert r.status_code == 200
    cost = r.json()["usage"]["cost"]
    data = team(api, "GET", f"{KEYS}/{body['data']['hash']}").json()["data"]
    assert data["usage"] == data["usage_daily"] == pytest.approx(cost, abs=1e-15)
    assert api.account("acct_team")["balance_usd"] == pytest.approx(19.0 - cost, abs=1e-12)


def test_a_created_key_limit_is_enforced(api):
    api.admin("PUT", "/_emulator/policy", {"policy": "current"})
    body = create(api, limit=0, limit_reset="daily")
    r = api.chat(body["key"], model=DEFAULT_PAID_MODEL, max_tokens=10)
    assert r.status_code == 403
    assert r.json()["error"]["message"] == (
        "Key limit exceeded (daily limit). Manage it using https://openrouter.ai/workspaces/default/"
        f"keys/{body['data']['hash']} $0.00 of $0.00 used; resets 2026-03-21T00:00:00.000Z.")


@pytest.mark.parametrize("body, detail", [
    ({}, "name: required (a non-empty string)"),
    ({"name": ""}, "name: expected a non-empty string, got ''"),
    ({"name": 5}, "name: expected a non-empty string, got 5"),
    ({"name": "x", "limit": -1}, "limit: must be between 0 and 1,000,000,000,000, got -1"),
    ({"name": "x", "limit": "5"}, "limit: expected a number, got '5'"),
    ({"name": "x", "limit_reset": "hourly"},
     "limit_reset: expected one of daily, weekly, monthly or null, got 'hourly'"),
    ({"name": "x", "include_byok_in_limit": "yes"}, "include_byok_in_limit: expected true or false, got 'yes'"),
    ({"name": "x", "expires_at": "soon"},
     "expires_at: expected an ISO 8601 time such as '2026-01-01T23:59:55Z', got 'soon'"),
    ({"name": "x", "expires_at": "2026-03-20T00:00:00Z"},
     "expires_at: must be in the future, got '2026-03-20T00:00:00Z'"),
    ({"name": "x", "workspace_id": "0df9e665-d932-5740-b2c7-b52af166bc11"},
     "workspace_id: no workspace '0df9e665-d932-5740-b2c7-b52af166bc11' on this account "
     f"(its default workspace is {WORKSPACE})"),
    ({"name": "x", "colour": "red"},
     "unknown field 'colour'; allowed: creator_user_id, expires_at, include_byok_in_limit, limit, "
     "limit_reset, name, workspace_id"),
    ([1, 2], "the body must be a JSON object"),
])
def test_create_with_a_bad_body_is_400_naming_the_field(api, body, detail):
    bad(team(api, "POST", json=body), detail)
    assert len(team(api, "GET").json()["data"]) == 1  # only the member key: nothing was made


def test_create_accepts_the_documented_optional_fields(api):
    body = create(api, workspace_id=WORKSPACE, creator_user_id="user_someone", limit=None,
                  limit_reset=None, expires_at=None)
    assert (body["data"]["creator_user_id"], body["data"]["limit"]) == ("user_someone", None)


# --- GET /api/v1/keys ----------------------------------------------------------------------------


def test_list_shows_the_account_s_ordinary_keys_and_hides_disabled_ones(api):
    made = [create(api, name=f"k{i}")["data"]["hash"] for i in range(3)]
    team(api, "PATCH", f"{KEYS}/{made[1]}", json={"disabled": True})
    names = [k["name"] for k in team(api, "GET").json()["data"]]
    assert names == ["member", "k0", "k2"]
    everything = team(api, "GET", params={"include_disabled": "true"}).json()["data"]
    assert [k["name"] for k in everything] == ["member", "k0", "k1", "k2"]
    assert [k["name"] for k in team(api, "GET", params={"offset": "2"}).json()["data"]] == ["k2"]
    assert team(api, "GET", params={"workspace_id": WORKSPACE}).json()["data"][0]["name"] == "member"
    assert team(api, "GET", params={"workspace_id": "0df9e665-d932-5740-b2c7-b52af166bc11"}).json() == \
        {"data": []}


def test_list_of_another_management_account_does_not_show_team_keys(api):
    create(api)
    assert api.client.get(KEYS, headers=api.auth("management")).json() == {"data": []}


@pytest.mark.parametrize("params, detail", [
    ({"include_disabled": "maybe"}, "include_disabled: expected true or false, got 'maybe'"),
    ({"offset": "-1"}, "offset: expected a whole number >= 0, got '-1'"),
    ({"offset": "two"}, "offset: expected a whole number >= 0, got 'two'"),
])
def test_list_with_a_bad_query_is_400(api, params, detail):
    bad(team(api, "GET", params=params), detail)


# --- GET / PATCH / DELETE /api/v1/keys/{hash} ------------------------------------------------------


def test_get_answers_one_key(api):
    made = create(api, limit=2)["data"]
    assert team(api, "GET", f"{KEYS}/{made['hash']}").json() == {"data": made}


def test_patch_changes_the_fields_and_stamps_updated_at(api):
    made = create(api)["data"]
    api.time.t += 3600
    r = team(api, "PATCH", f"{KEYS}/{made['hash']}",
             json={"name": "renamed", "limit": 75, "limit_reset": "daily", "include_byok_in_limit": True})
    assert r.status_code == 200
    data = r.json()["data"]
    assert (data["name"], data["limit"], data["limit_reset"], data["include_byok_in_limit"]) == (
        "renamed", 75.0, "daily", True)
    assert (data["created_at"], data["updated_at"]) == ("2026-03-20T22:52:10Z", "2026-03-20T23:52:10Z")


def test_raising_the_member_limit_lets_it_call_again(api):
    member_hash = team(api, "GET").json()["data"][0]["hash"]
    assert api.chat("member", model=DEFAULT_PAID_MODEL, max_tokens=10).status_code == 403
    data = team(api, "PATCH", f"{KEYS}/{member_hash}", json={"limit": 2}).json()["data"]
    assert (data["limit_remaining"], data["usage_daily"]) == (1.0, 1.0)
    assert api.chat("member", model=DEFAULT_PAID_MODEL, max_tokens=10).status_code == 200


def test_a_disabled_key_is_401_and_enabling_it_again_restores_it(api):
    made = create(api)
    path = f"{KEYS}/{made['data']['hash']}"
    team(api, "PATCH", path, json={"disabled": True})
    assert api.chat(made["key"]).json() == {"error": {"code": 401, "message": MESSAGES.unknown_key}}
    team(api, "PATCH", path, json={"disabled": False})
    assert api.chat(made["key"]).status_code == 200


@pytest.mark.parametrize("body, detail", [
    ({}, "give at least one of disabled, include_byok_in_limit, limit, limit_reset, name"),
    ({"limit": -5}, "limit: must be between 0 and 1,000,000,000,000, got -5"),
    ({"disabled": "yes"}, "disabled: expected true or false, got 'yes'"),
    ({"expires_at": "2099-01-01T00:00:00Z"},
     "unknown field 'expires_at'; allowed: disabled, include_byok_in_limit, limit, limit_reset, name"),
])
def test_patch_with_a_bad_body_is_400_and_changes_nothing(api, body, detail):
    made = create(api, limit=3)["data"]
    bad(team(api, "PATCH", f"{KEYS}/{made['hash']}", json=body), detail)
    assert team(api, "GET", f"{KEYS}/{made['hash']}").json()["data"] == made


def test_delete_removes_the_key(api):
    made = create(api)
    path = f"{KEYS}/{made['data']['hash']}"
    r = team(api, "DELETE", path)
    assert (r.status_code, r.json()) == (200, {"deleted": True})
    assert team(api, "GET", path).status_code == 404
    assert api.chat(made["key"]).status_code == 401


def key_of(api, who: str) -> str:
    return hashlib.sha256(api.keys[who].encode()).hexdigest()


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
@pytest.mark.parametrize("target", ["nothing", "team", "five"])
def test_a_key_that_is_not_one_of_the_account_s_ordinary_keys_is_404(api, method, target):
    # an unknown hash, the management key itself, another account's key
    key_hash = "0" * 64 if target == "nothing" else key_of(api, target)
    r = team(api, method, f"{KEYS}/{key_hash}", json={"name": "x"} if method == "PATCH" else None)
    assert r.status_code == 404
    assert r.json() == {"error": {"code": 404, "message": "Resource not found"}}


# --- who may call it ------------------------------------------------------------------------------

ROUTES = [("GET", KEYS), ("POST", KEYS), ("GET", f"{KEYS}/{'0' * 64}"),
          ("PATCH", f"{KEYS}/{'0' * 64}"), ("DELETE", f"{KEYS}/{'0' * 64}")]


@pytest.mark.parametrize("method, path", ROUTES)
def test_a_key_that_is_not_a_management_key_is_403(api, method, path):
    for who in ("five", "member"):
        r = api.client.request(method, path, headers=api.auth(who), json={"name": "x"})
        assert r.status_code == 403
        assert r.json() == {"error": {"code": 403, "message": MESSAGES.management_only}}


@pytest.mark.parametrize("method, path", ROUTES)
def test_no_key_or_an_unknown_key_is_401(api, method, path):
    assert api.client.request(method, path).json() == {"error": {"code": 401, "message": MESSAGES.no_auth}}
    r = api.client.request(method, path, headers={"Authorization": "Bearer sk-or-v1-" + "e" * 64})
    assert r.json() == {"error": {"code": 401, "message": MESSAGES.unknown_key}}


@pytest.mark.parametrize("method, path, allow", [("PUT", KEYS, "GET, HEAD, POST"),
                                                 ("POST", f"{KEYS}/x", "DELETE, GET, HEAD, PATCH")])
def test_a_wrong_method_is_405_listing_every_allowed_one(api, method, path, allow):
    r = api.client.request(method, path, headers=api.auth("team"))
    assert r.status_code == 405
    assert sorted(r.headers["allow"].split(", ")) == allow.split(", ")


# --- windows rolling on the fake clock, as the keys routes show them -------------------------------


def usage(api, key_hash: str) -> tuple[float, float, float, float, float | None]:
    d = team(api, "GET", f"{KEYS}/{key_hash}").json()["data"]
    return d["usage_daily"], d["usage_weekly"], d["usage_monthly"], d["usage"], d["limit_remaining"]


def test_daily_usage_rolls_at_midnight_utc(api):
    made = create(api, limit=1, limit_reset="daily")["data"]
    api.emu.engine.spend(api.emu.engine.key_by_hash(made["hash"]), 0.75, api.time.t)
    assert usage(api, made["hash"]) == (0.75, 0.75, 0.75, 0.75, 0.25)
    api.admin("POST", "/_emulator/clock", {"now": "2026-03-21T00:00:00Z"})  # Saturday
    assert usage(api, made["hash"]) == (0.0, 0.75, 0.75, 0.75, 1.0)


def test_weekly_usage_rolls_on_monday(api):
    made = create(api, limit=1, limit_reset="weekly")["data"]
    api.emu.engine.spend(api.emu.engine.key_by_hash(made["hash"]), 0.5, api.time.t)  # Friday
    api.admin("POST", "/_emulator/clock", {"now": "2026-03-22T23:59:59Z"})  # Sunday
    assert usage(api, made["hash"]) == (0.0, 0.5, 0.5, 0.5, 0.5)
    api.admin("POST", "/_emulator/clock", {"now": "2026-03-23T00:00:00Z"})  # Monday
    assert usage(api, made["hash"]) == (0.0, 0.0, 0.5, 0.5, 1.0)


def test_monthly_usage_rolls_on_the_first(api):
    made = create(api, limit=1, limit_reset="monthly")["data"]
    api.emu.engine.spend(api.emu.engine.key_by_hash(made["hash"]), 0.25, api.time.t)
    api.admin("POST", "/_emulator/clock", {"now": "2026-03-31T23:59:59Z"})
    assert usage(api, made["hash"])[2:] == (0.25, 0.25, 0.75)
    api.admin("POST", "/_emulator/clock", {"now": "2026-04-01T00:00:00Z"})  # a Wednesday
    assert usage(api, made["hash"]) == (0.0, 0.0, 0.0, 0.25, 1.0)


def test_the_management_demo_account_can_create_keys_too(api):
    r = api.client.post(KEYS, headers=api.auth("management"), json={"name": "from-management"})
    assert r.status_code == 201
    assert api.chat(r.json()["key"]).status_code == 200
    assert r.json()["data"]["creator_user_id"] == api.user_id("management")
