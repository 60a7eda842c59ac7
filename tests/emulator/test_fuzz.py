"""Fuzz: random methods, paths, headers and bodies at every route never get a 5xx or a non-JSON error.

Hypothesis drives the in-memory app (``httpx.ASGITransport`` re-raises any exception the app lets
escape, so a crash fails the test even before its status is looked at), then a smaller run goes
over real sockets. Delays are recorded, not slept, so injected slow/hang faults cost nothing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from emulator_support import ADMIN
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orwidgets.emulator import CATALOGUE

ROUTES = [
    "/api/v1/chat/completions", "/api/v1/key", "/api/v1/auth/key", "/api/v1/credits",
    "/api/v1/models", "/api/v1/keys", "/api/v1/keys/" + "0" * 64, "/api/v1/keys/{member}",
    "/_emulator/accounts", "/_emulator/accounts/acct_five",
    "/_emulator/accounts/acct_five/topup", "/_emulator/accounts/nobody/topup", "/_emulator/clock",
    "/_emulator/policy", "/_emulator/faults", "/_emulator/in_flight", "/_emulator/reset", "/",
    "/api/v1",
]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
ASCII = st.characters(min_codepoint=32, max_codepoint=126)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)
field_values = json_values | st.sampled_from(
    [0, -1, 1, 10**9, 0.5, "current", "2025-04", "*", "upstream_429", "hang", "slow", "mid_stream_429",
     "capacity_exhausted", "free_variant_ended", "*:free", "2026-08",
     "2026-01-01T23:59:55Z", [], {}, True, "daily", "weekly", "monthly", "2099-01-01T00:00:00Z",
     "00000000-0000-0000-0000-000000000000", 1e308, -1e308]
)
messages = st.lists(
    st.fixed_dictionaries({}, optional={"role": st.sampled_from(["user", "system", "x", 3]),
                                        "content": field_values}),
    max_size=3,
) | field_values
chat_like = st.fixed_dictionaries(
    {},
    optional={
        "model": st.sampled_from([m.id for m in CATALOGUE] + ["nope", 5, None]),
        "messages": messages,
        "prompt": field_values,
        "max_tokens": field_values,
        "max_completion_tokens": field_values,
        "stream": field_values,
    },
)
admin_like = st.dictionaries(
    st.sampled_from(["balance_usd", "purchased_usd", "management", "usd", "advance_seconds", "now",
                     "policy", "rules", "label", "name", "other", "limit", "limit_reset",
                     "include_byok_in_limit", "expires_at", "disabled", "creator_user_id",
                     "workspace_id", "fraction", "ceiling_usd", "threshold_usd", "settle_s",
                     "completion_cap_tokens", "retry_after_s"]),
    field_values | st.lists(st.dictionaries(
        st.sampled_from(["kind", "model", "every", "probability", "seed", "retry_after_s", "delay_ms"]),
        field_values, max_size=5), max_size=3),
    max_size=4,
)
bodies = (
    st.none()
    | st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
    | chat_like.map(lambda v: json.dumps(v).encode())
    | admin_like.map(lambda v: json.dumps(v).encode())
)


@st.composite
def requests(draw: Any) -> dict[str, Any]:
    path = draw(st.sampled_from(ROUTES) | st.text(ASCII, max_size=20).map(lambda s: "/" + s.lstrip("/")))
    if draw(st.booleans()):
        path += "?" + draw(st.sampled_from(["include_disabled=true", "include_disabled=x", "offset=1",
                                            "offset=-3", "offset=99999999999999999999",
                                            "workspace_id=zz"]))
    headers: dict[str, str] = {}
    auth = draw(st.sampled_from(["none", "valid", "junk", "bearer-junk"]))
    if auth == "valid":
        headers["Authorization"] = "Bearer " + draw(st.sampled_from(
            ["five", "free", "negative", "management", "team", "member", "small"]))
    elif auth == "junk":
        headers["Authorization"] = draw(st.text(ASCII, max_size=40))
    elif auth == "bearer-junk":
        headers["Authorization"] = "Bearer " + draw(st.text(ASCII, max_size=70))
    token = draw(st.sampled_from(["none", "valid", "junk"]))
    if token == "valid":
        headers["X-Admin-Token"] = ADMIN
    elif token == "junk":
        headers["X-Admin-Token"] = draw(st.text(ASCII, max_size=30))
    headers = {k: v.strip() for k, v in headers.items()}  # clients refuse padded header values
    if draw(st.booleans()):
        headers["Content-Type"] = draw(st.sampled_from(["application/json", "text/plain", "", "x/y; charset=utf-8"]))
    return {"method": draw(st.sampled_from(METHODS)), "path": path, "headers": headers, "body": draw(bodies)}


def check(api, req: dict[str, Any]) -> None:
    req = {**req, "path": req["path"].replace("{member}", api.emu.engine.key(api.keys["member"]).hash)}
    headers = dict(req["headers"])
    if headers.get("Authorization", "").startswith("Bearer ") and headers["Authorization"][7:] in api.keys:
        headers["Authorization"] = "Bearer " + api.keys[headers["Authorization"][7:]]
    kwargs: dict[str, Any] = {"headers": headers}
    if req["body"] is not None:
        kwargs["content"] = req["body"]
    r = api.client.request(req["method"], req["path"], **kwargs)
    assert r.status_code < 500, (req, r.status_code, r.text[:300])
    if req["method"] == "HEAD":
        return
    if r.status_code >= 400:
        body = r.json()
        assert body["error"]["code"] == r.status_code
        assert isinstance(body["error"]["message"], str)
    elif not r.headers.get("content-type", "").startswith("text/event-stream"):
        r.json()


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(req=requests())
def test_fuzz_in_memory_never_answers_5xx(memory_api, req):
    check(memory_api, req)


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(req=requests())
def test_fuzz_over_real_sockets_never_answers_5xx(uvicorn_api, req):
    check(uvicorn_api, req)


@pytest.mark.parametrize("path", ROUTES)
def test_every_route_answers_json_to_a_garbage_body(api, path):
    r = api.client.request("POST", path, content=b"\xff\xfe\x00garbage",
                           headers={"X-Admin-Token": ADMIN, **api.auth("five")})
    assert r.status_code < 500
    if r.status_code >= 400:
        assert r.json()["error"]["code"] == r.status_code
