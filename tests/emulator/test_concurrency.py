"""1,000 concurrent requests over real sockets: exact counts, no lost update, no overdraw.

A dedicated uvicorn server on 127.0.0.1 with real (small) latency, so that the requests really
overlap inside the server, and a frozen fake clock, so that all of them fall in the same second,
minute and day and the expected counts follow from the rules alone.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from emulator_support import ADMIN, FakeTime, raw_post

from orwidgets.emulator import create_app
from orwidgets.emulator.server import BackgroundServer
from orwidgets.policy import FREE_PER_MINUTE, MESSAGES, paid_rps

N = 1000
CHEAP_PAID = "qwen/qwen3-32b"


@pytest.fixture
def server() -> Iterator[tuple[Any, str]]:
    app = create_app(latency_ms=(5, 20), admin_token=ADMIN, clock=FakeTime(), seed=1)
    srv = BackgroundServer(app).start()
    yield app, srv.base_url
    srv.stop()


def burst(base_url: str, key: str, body: dict[str, Any], n: int = N) -> list[tuple[int, dict]]:
    """``n`` requests at once, each on its own connection; returns (status, JSON body) pairs."""
    port = int(base_url.rsplit(":", 1)[1])
    data = json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {key}"}

    async def run() -> list[tuple[int, bytes]]:
        return await asyncio.gather(
            *(raw_post(port, "/api/v1/chat/completions", data, headers) for _ in range(n))
        )

    return [(status, json.loads(raw)) for status, raw in asyncio.run(run())]


def counts(responses: list[tuple[int, dict]]) -> Counter:
    return Counter((status, body["error"]["message"] if status != 200 else "ok")
                   for status, body in responses)


def create(base_url: str, **fields: Any) -> dict[str, Any]:
    r = httpx.post(base_url + "/_emulator/accounts", json=fields, headers={"X-Admin-Token": ADMIN})
    assert r.status_code == 201
    return r.json()


def balance(base_url: str, account_id: str) -> float:
    data = httpx.get(base_url + "/_emulator/accounts", headers={"X-Admin-Token": ADMIN}).json()["data"]
    return next(a for a in data if a["account_id"] == account_id)["balance_usd"]


def test_1000_concurrent_free_calls_admit_exactly_the_per_minute_cap(server):
    app, base_url = server
    key = app.state.emulator.demo_keys["topped_up"]
    body = {"model": "meta-llama/llama-3.3-70b-instruct:free", "messages": [{"role": "user", "content": "hi"}]}
    result = counts(burst(base_url, key, body))
    assert result == {(200, "ok"): FREE_PER_MINUTE, (429, MESSAGES.free_per_minute): N - FREE_PER_MINUTE}
    snap = app.state.emulator.engine.snapshot("acct_topped_up")
    assert snap.free_used_today == N  # every attempt counted, none lost


def test_1000_concurrent_paid_calls_admit_exactly_the_balance_rps(server):
    app, base_url = server
    acct = create(base_url, balance_usd=49.5, purchased_usd=49.5)
    body = {"model": CHEAP_PAID, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}
    result = counts(burst(base_url, acct["key"], body))
    rps = paid_rps(49.5, "2025-04")
    assert result == {(200, "ok"): rps, (429, MESSAGES.paid_rate): N - rps}


def test_1000_concurrent_paid_calls_never_overdraw_the_balance(server):
    app, base_url = server
    # 2025-07: no in-flight budget, so the balance alone limits the burst
    httpx.put(base_url + "/_emulator/policy", json={"policy": "2025-07"}, headers={"X-Admin-Token": ADMIN})
    body = {"model": CHEAP_PAID, "messages": [{"role": "user", "content": "x" * 40}], "max_tokens": 8}
    # the reply is longer than 8 tokens, so each call costs exactly its maximum cost
    model = next(m for m in httpx.get(base_url + "/api/v1/models").json()["data"] if m["id"] == CHEAP_PAID)
    cost = 10 * Decimal(model["pricing"]["prompt"]) + 8 * Decimal(model["pricing"]["completion"])
    affordable = 300
    start = cost * affordable + cost / 2  # room for 300 calls and half of another
    acct = create(base_url, balance_usd=float(start), purchased_usd=10.0)
    responses = burst(base_url, acct["key"], body)
    result = Counter(status for status, _ in responses)
    assert result == {200: affordable, 402: N - affordable}
    assert all(body["usage"]["cost"] == pytest.approx(float(cost), rel=1e-12)
               for status, body in responses if status == 200)
    left = balance(base_url, acct["account_id"])
    assert left >= 0
    assert left == pytest.approx(float(cost / 2), abs=1e-12)


def test_requests_in_flight_at_once_never_hold_more_than_the_in_flight_budget():
    # 2026-08 on a real socket, every answer 300 ms late, so the requests really run together.
    # Each call holds 10 prompt tokens and 8 output tokens of qwen3-32b: $0.0000034, which is
    # also what it costs (the reply is cut at 8 tokens). A balance of 201 such calls gives a
    # budget of 100.5 of them: exactly 100 are admitted, the other 200 get the in-flight 402.
    app = create_app(policy="2026-08", latency_ms=(300, 300), admin_token=ADMIN, clock=FakeTime(), seed=1)
    srv = BackgroundServer(app).start()
    try:
        base_url = srv.base_url
        model = next(m for m in httpx.get(base_url + "/api/v1/models").json()["data"] if m["id"] == CHEAP_PAID)
        estimate = 10 * Decimal(model["pricing"]["prompt"]) + 8 * Decimal(model["pricing"]["completion"])
        acct = create(base_url, balance_usd=float(201 * estimate), purchased_usd=10.0)
        body = json.dumps({"model": CHEAP_PAID, "messages": [{"role": "user", "content": "x" * 40}],
                           "max_tokens": 8}).encode()
        port = int(base_url.rsplit(":", 1)[1])
        seen: list[dict[str, Any]] = []

        async def watch(done: asyncio.Event) -> None:
            async with httpx.AsyncClient(base_url=base_url, headers={"X-Admin-Token": ADMIN}) as c:
                while not done.is_set():
                    data = (await c.get("/_emulator/accounts")).json()["data"]
                    seen.append(next(a for a in data if a["account_id"] == acct["account_id"])["in_flight"])

        async def run() -> list[tuple[int, bytes]]:
            done = asyncio.Event()
            watcher = asyncio.ensure_future(watch(done))
            answers = await asyncio.gather(*(raw_post(port, "/api/v1/chat/completions", body,
                                                      {"Authorization": f"Bearer {acct['key']}"})
                                             for _ in range(300)))
            done.set()
            await watcher
            return answers

        answers = asyncio.run(run())
        result = Counter((status, json.loads(raw)["error"]["metadata"]["reason"] if status != 200 else "ok")
                         for status, raw in answers)
        assert result == {(200, "ok"): 100, (402, "in_flight_budget_exhausted"): 200}
        budget = float(Decimal("100.5") * estimate)
        assert max(s["running_requests"] for s in seen) >= 2  # they did run together
        assert all(s["held_usd"] <= budget + 1e-15 for s in seen)
        after = next(a for a in httpx.get(base_url + "/_emulator/accounts",
                                          headers={"X-Admin-Token": ADMIN}).json()["data"]
                     if a["account_id"] == acct["account_id"])["in_flight"]
        assert after["running_requests"] == 0
        assert after["held_usd"] == pytest.approx(float(100 * estimate), abs=1e-15)  # settling
    finally:
        srv.stop()
