"""The emulator's journal: every answer it gives, as it gave it (in memory and over real sockets).

Each test reads ``emulator.journal`` after real requests: the time is the emulator clock's at
arrival, the key is masked, and the class, status, ``Retry-After`` and ``X-RateLimit-Reset`` are
those of the answer the client received.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from emulator_support import ADMIN, NEXT_MIDNIGHT_MS, NEXT_MINUTE_MS, T0

from orwidgets._secret import mask
from orwidgets.emulator import DEFAULT_FREE_MODEL, DEFAULT_PAID_MODEL, create_app
from orwidgets.emulator.server import BackgroundServer, EmulatorHandle
from orwidgets.engine import Request
from orwidgets.journal import CHAT_PATH

CHEAP_PAID = "qwen/qwen3-32b"


def entry(api, index: int = -1):
    return api.emu.journal[index]


def set_faults(api, *rules) -> None:
    assert api.admin("POST", "/_emulator/faults", {"rules": list(rules)}).status_code == 200


# --- chat completions ---------------------------------------------------------------------------


def test_a_success_is_recorded_as_it_was_sent_and_answered(api):
    r = api.chat("free", max_tokens=7)
    assert r.status_code == 200
    assert len(api.emu.journal) == 1
    e = entry(api)
    assert e.to_json() == {
        "time": T0, "key": mask(api.keys["free"]), "key_id": e.key_id, "account": "acct_free",
        "path": CHAT_PATH, "model": DEFAULT_FREE_MODEL, "max_tokens": 7, "stream": False,
        "status": 200, "class": "ok", "retry_after": None, "rate_limit_reset": None,
    }


def test_the_time_is_the_emulator_clock_at_arrival(api):
    api.chat("free")
    api.time.t = T0 + 12.5
    api.chat("free")
    api.admin("POST", "/_emulator/clock", {"advance_seconds": 3600})
    api.chat("free")
    assert [e.time for e in api.emu.journal] == [T0, T0 + 12.5, T0 + 12.5 + 3600]


def test_max_completion_tokens_counts_as_max_tokens_and_none_when_absent(api):
    api.chat("free", max_completion_tokens=9)
    api.chat("free")
    assert [e.max_tokens for e in api.emu.journal] == [9, None]


def test_a_per_minute_429_keeps_the_reset_it_was_sent(api):
    answers = [api.chat("free") for _ in range(21)]
    assert answers[-1].status_code == 429
    e = entry(api)
    assert (e.status, e.call_class, e.retry_after) == (429, "free_per_minute", None)
    assert e.rate_limit_reset == int(answers[-1].headers["X-RateLimit-Reset"]) == NEXT_MINUTE_MS


def test_a_per_day_429_keeps_the_next_midnight(api):
    for minute in range(3):  # the free account's 50 a day, 20 a minute
        api.time.t = T0 + 60 * minute
        for _ in range(20 if minute < 2 else 10):
            assert api.chat("free").status_code == 200
    api.time.t = T0 + 180
    r = api.chat("free")
    e = entry(api)
    assert (r.status_code, e.status, e.call_class) == (429, 429, "free_per_day_low")
    assert e.rate_limit_reset == NEXT_MIDNIGHT_MS


def test_a_paid_rate_429_is_classed_by_the_engine(api):
    # 2025-04: the `five` account buys 5 paid requests per second
    statuses = [api.chat("five", model=CHEAP_PAID, max_tokens=5).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    e = entry(api)
    assert (e.call_class, e.account, e.model) == ("paid_rate", "acct_five", CHEAP_PAID)
    assert e.rate_limit_reset == int((int(T0) + 1) * 1000)


def test_an_upstream_429_keeps_its_retry_after(api):
    set_faults(api, {"kind": "upstream_429", "retry_after_s": 15, "times": 1})
    assert api.chat("five").status_code == 429
    assert api.chat("five").status_code == 200
    first, second = api.emu.journal
    assert (first.status, first.call_class, first.retry_after) == (429, "upstream_429", 15)
    assert (second.status, second.call_class, second.retry_after) == (200, "ok", None)


def test_an_in_flight_402_keeps_its_retry_after(api):
    assert api.admin("PUT", "/_emulator/policy", {"policy": "2026-08"}).status_code == 200
    key = api.emu.engine.key(api.keys["small"])  # another call of the account holds the budget
    api.emu.engine.decide_for_key(key, Request.paid_call(0.0, 0.00996), api.time.t, duration_s=None)
    r = api.chat("small", model=DEFAULT_PAID_MODEL, max_tokens=100)
    e = entry(api)
    assert (r.status_code, e.status, e.call_class) == (402, 402, "in_flight_budget_exhausted")
    assert e.retry_after == int(r.headers["Retry-After"]) == 120


@pytest.mark.parametrize(("kind", "status"), [("http_502", 502), ("http_503", 503),
                                              ("capacity_exhausted", 429)])
def test_injected_failures_are_classed_by_their_fault_kind(api, kind, status):
    set_faults(api, {"kind": kind})
    r = api.chat("five")
    e = entry(api)
    assert (r.status_code, e.status, e.call_class) == (status, status, kind)
    assert e.retry_after == (40 if kind == "capacity_exhausted" else None)


def test_a_stream_is_recorded_as_a_stream_and_a_mid_stream_failure_by_its_kind(api):
    api.chat("five", model=CHEAP_PAID, max_tokens=20, stream=True)
    set_faults(api, {"kind": "mid_stream_429", "model": CHEAP_PAID})
    api.chat("five", model=CHEAP_PAID, max_tokens=20, stream=True)
    assert [(e.status, e.call_class, e.stream) for e in api.emu.journal] == [
        (200, "ok", True), (200, "mid_stream_429", True)]


def test_refusals_before_the_engine_have_the_journals_own_classes(api):
    chat = "/api/v1/chat/completions"
    message = [{"role": "user", "content": "hi"}]
    api.client.post(chat, json={"model": DEFAULT_FREE_MODEL, "messages": message})
    api.chat("sk-or-v1-" + "0" * 64)
    api.chat("not-even-a-key")
    api.chat("free", model="nobody/no-such-model", max_tokens=3)
    api.client.post(chat, content=b"{not json", headers=api.auth("free"))
    api.client.post(chat, json={"model": DEFAULT_FREE_MODEL, "messages": "hi"}, headers=api.auth("free"))
    api.client.post(chat, content=b"x" * ((1 << 20) + 1), headers=api.auth("free"))
    got = [(e.status, e.call_class, e.key, e.account, e.model, e.max_tokens)
           for e in api.emu.journal]
    assert got == [
        (401, "no_auth", None, None, DEFAULT_FREE_MODEL, None),
        (401, "unknown_key", "sk-or-v1-000...000", None, DEFAULT_FREE_MODEL, None),
        (401, "unknown_key", "<hidden key>", None, DEFAULT_FREE_MODEL, None),
        (400, "unknown_model", mask(api.keys["free"]), "acct_free", "nobody/no-such-model", 3),
        (400, "invalid_request", mask(api.keys["free"]), None, None, None),
        (400, "invalid_request", mask(api.keys["free"]), None, None, None),
        (413, "too_large", mask(api.keys["free"]), None, None, None),
    ]


def test_a_hang_the_client_gave_up_on_is_a_408_of_kind_hang(uvicorn_api):
    uvicorn_api.emu.sleep = asyncio.sleep  # a real hang, on the server's own loop
    set_faults(uvicorn_api, {"kind": "hang", "delay_ms": 30_000})
    with pytest.raises(httpx.ReadTimeout):
        uvicorn_api.client.post(
            "/api/v1/chat/completions", headers=uvicorn_api.auth("five"), timeout=0.3,
            json={"model": DEFAULT_FREE_MODEL, "messages": [{"role": "user", "content": "hi"}]})
    set_faults(uvicorn_api)
    uvicorn_api.chat("five")  # answered after the server noticed the client leave
    assert [(e.status, e.call_class) for e in uvicorn_api.emu.journal] == [(408, "hang"), (200, "ok")]


def test_a_crash_is_answered_500_and_recorded_as_server_error(uvicorn_api, monkeypatch):
    from orwidgets.emulator import chat

    def broken(payload):
        raise RuntimeError("a bug")

    monkeypatch.setattr(chat, "parse_chat", broken)
    r = uvicorn_api.chat("free")
    assert r.status_code == 500 and r.json() == {"error": {"code": 500, "message": "Internal emulator error"}}
    e = entry(uvicorn_api)
    assert (e.status, e.call_class, e.key, e.model) == (500, "server_error", mask(uvicorn_api.keys["free"]), None)


# --- the other routes ---------------------------------------------------------------------------


def test_the_other_api_routes_are_recorded_with_their_path_and_no_model(api):
    free, team = api.auth("free"), api.auth("team")
    api.client.get("/api/v1/key", headers=free)
    api.client.get("/api/v1/models")
    api.client.get("/api/v1/key")
    api.client.get("/api/v1/key", headers=api.auth("sk-or-v1-" + "1" * 64))
    api.client.get("/api/v1/keys", headers=free)
    api.client.post("/api/v1/keys", json={"limit": 5}, headers=team)
    api.client.get("/api/v1/nowhere", headers=free)
    api.client.get("/api/v1/chat/completions", headers=free)
    got = [(e.path, e.status, e.call_class, e.account, e.model) for e in api.emu.journal]
    assert got == [
        ("/api/v1/key", 200, "ok", "acct_free", None),
        ("/api/v1/models", 200, "ok", None, None),
        ("/api/v1/key", 401, "no_auth", None, None),
        ("/api/v1/key", 401, "unknown_key", None, None),
        ("/api/v1/keys", 403, "management_only", "acct_free", None),
        ("/api/v1/keys", 400, "invalid_request", "acct_team", None),
        ("/api/v1/nowhere", 404, "not_found", "acct_free", None),
        ("/api/v1/chat/completions", 405, "method_not_allowed", "acct_free", None),
    ]
    assert all(e.time == T0 for e in api.emu.journal)


def test_a_key_deleted_by_its_own_request_still_names_its_account(api):
    made = api.client.post("/api/v1/keys", json={"name": "ci"}, headers=api.auth("team")).json()
    r = api.client.delete(f"/api/v1/keys/{made['data']['hash']}", headers=api.auth("team"))
    assert r.status_code == 200
    assert [(e.path.rsplit("/", 1)[0], e.account) for e in api.emu.journal] == [
        ("/api/v1", "acct_team"), ("/api/v1/keys", "acct_team")]


def test_the_admin_api_is_not_recorded(api):
    api.admin("GET", "/_emulator/accounts")
    api.admin("POST", "/_emulator/clock", {"advance_seconds": 1})
    api.client.get("/_emulator/journal")  # without the token: a 401, still not the client's call
    api.admin("GET", "/_emulator/journal")
    assert len(api.emu.journal) == 0


# --- reset, secrecy, off ------------------------------------------------------------------------


def test_reset_empties_the_journal(api):
    api.chat("free")
    assert api.admin("POST", "/_emulator/reset").status_code == 200
    assert len(api.emu.journal) == 0


def test_no_raw_key_reaches_the_journal_or_its_answers(api):
    for name in ("free", "team", "member"):
        api.chat(name)
        api.client.get("/api/v1/key", headers=api.auth(name))
    texts = [repr(list(api.emu.journal)), repr(api.emu.journal),
             api.admin("GET", "/_emulator/journal").text, api.admin("GET", "/_emulator/verdict").text]
    for key in api.keys.values():
        assert all(key not in text for text in texts)
    assert len({e.key_id for e in api.emu.journal}) == 3


def test_journal_false_records_nothing_and_says_so():
    app = create_app(latency_ms=0, admin_token=ADMIN, journal=False)
    emu = app.state.emulator
    assert emu.journal is None
    server = BackgroundServer(app).start()
    try:
        with httpx.Client(base_url=server.base_url) as http:
            r = http.post("/api/v1/chat/completions", headers={
                "Authorization": "Bearer " + emu.demo_keys["free"]},
                json={"model": DEFAULT_FREE_MODEL, "messages": [{"role": "user", "content": "hi"}]})
            assert r.status_code == 200
            message = ("journal: this emulator keeps no journal (it was started with journal=False "
                       "or --no-journal)")
            for route in ("/_emulator/journal", "/_emulator/verdict"):
                answer = http.get(route, headers={"X-Admin-Token": ADMIN})
                assert (answer.status_code, answer.json()) == (
                    404, {"error": {"code": 404, "message": message}})
        handle = EmulatorHandle(server, app)
        with pytest.raises(RuntimeError, match="started with journal=False"):
            handle.verdict()
    finally:
        server.stop()


def test_a_journal_file_gets_every_answer_as_a_json_line(tmp_path):
    from orwidgets.journal import read_journal

    path = tmp_path / "run.jsonl"
    app = create_app(latency_ms=0, journal=path)
    emu = app.state.emulator
    server = BackgroundServer(app).start()
    try:
        with httpx.Client(base_url=server.base_url) as http:
            for name in ("free", "negative"):
                http.post("/api/v1/chat/completions", headers={
                    "Authorization": "Bearer " + emu.demo_keys[name]},
                    json={"model": DEFAULT_FREE_MODEL, "messages": [{"role": "user", "content": "hi"}]})
                # each line is on disk as soon as the answer was recorded
                assert len(path.read_text().splitlines()) == len(emu.journal)
    finally:
        server.stop()
        emu.close()
    assert read_journal(path) == list(emu.journal)  # times kept to the microsecond in both
    assert [e.call_class for e in read_journal(path)] == ["ok", "negative_balance"]


# --- 1,000 concurrent requests over real sockets ------------------------------------------------


def test_a_thousand_concurrent_requests_are_all_recorded_in_time_order(tmp_path):
    """Real time and a random 5-20 ms latency: answers finish in another order than requests
    arrived, and the journal still holds each one once, oldest first, in memory and on file."""
    from collections import Counter

    from emulator_support import raw_post

    from orwidgets.journal import read_journal

    path = tmp_path / "load.jsonl"
    app = create_app(latency_ms=(5, 20), seed=3, journal=path)
    emu = app.state.emulator
    keys = [emu.demo_keys[name] for name in ("free", "topped_up", "five", "negative")]
    server = BackgroundServer(app).start()
    port = server.port
    body = ('{"model": "%s", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}'
            % CHEAP_PAID).encode()

    async def burst() -> list[int]:
        answers = await asyncio.gather(*(
            raw_post(port, "/api/v1/chat/completions", body,
                     {"Authorization": "Bearer " + keys[i % len(keys)]})
            for i in range(1000)))
        return [status for status, _ in answers]

    try:
        statuses = asyncio.run(burst())
    finally:
        server.stop()
        emu.close()
    entries = list(emu.journal)
    assert len(entries) == 1000 and emu.journal.dropped == 0
    times = [e.time for e in entries]
    assert times == sorted(times)
    assert Counter(e.status for e in entries) == Counter(statuses)
    assert Counter(e.key for e in entries) == Counter(mask(k) for k in keys for _ in range(250))
    assert len(set(statuses)) > 1  # refusals (402, 429) among the successes
    import json

    written = [json.loads(line)["time"] for line in path.read_text().splitlines()]
    assert written != sorted(written)  # answers left out of arrival order: late entries happened
    assert read_journal(path) == entries  # the reader sorts them back


# --- where the journal goes ---------------------------------------------------------------------


def test_set_journal_moves_the_file_and_keeps_the_entries(tmp_path):
    from orwidgets.emulator.state import Emulator
    from orwidgets.journal import Journal

    emu = Emulator(latency_ms=0)
    journal = emu.journal
    journal.record(time=T0, status=200, call_class="ok")
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert emu.set_journal(first) is journal
    journal.record(time=T0 + 1, status=200, call_class="ok")
    assert emu.set_journal(second) is journal and len(journal) == 2
    journal.record(time=T0 + 2, status=429, call_class="free_per_minute")
    with pytest.raises(ValueError, match="journal: cannot write .*: No such file or directory"):
        emu.set_journal(tmp_path / "no" / "c.jsonl")
    assert journal.sink_name == str(second)  # unchanged by the refusal
    emu.close()
    assert [len(p.read_text().splitlines()) for p in (first, second)] == [1, 1]
    with pytest.raises(ValueError, match="journal: expected None, False, a path"):
        emu.set_journal(True)
    mine = Journal()
    assert emu.set_journal(mine) is mine and emu.journal is mine
    assert emu.set_journal(False) is None and emu.journal is None
    assert emu.set_journal(None) is not None  # a new one, in memory


def test_start_writes_the_journal_and_stop_closes_the_file(tmp_path):
    from orwidgets.emulator import server as server_module
    from orwidgets.emulator import start

    if server_module._RUNNING is not None and server_module._RUNNING.running:
        pytest.skip("another emulator started with start() is running in this process")
    path = tmp_path / "notebook.jsonl"
    handle = start(latency_ms=0, journal=path)
    try:
        httpx.get(handle.api_base + "/models")
        later = tmp_path / "later.jsonl"
        assert start(journal=later) is handle  # the running one writes to the new file from now
        httpx.get(handle.api_base + "/models")
        assert len(handle.journal) == 2
    finally:
        handle.stop()
    assert [len(p.read_text().splitlines()) for p in (path, later)] == [1, 1]
    assert handle.emulator.journal.sink_name is None  # closed
