"""``GET /_emulator/journal`` and ``GET /_emulator/verdict``: the admin token, ``since`` and
``limit``, the same verdict as Python's, and a clear 400 for every bad value."""

from __future__ import annotations

import pytest
from emulator_support import T0

from orwidgets.journal import Journal
from orwidgets.verdict import RULES, verdict, verdict_json


def hammer(api, n: int = 23) -> list[int]:
    """``n`` free calls at T0, T0+1, ...: past the 20 of a minute, so the last ones ignore a 429."""
    statuses = []
    for i in range(n):
        api.time.t = T0 + i
        statuses.append(api.chat("free").status_code)
    return statuses


@pytest.mark.parametrize("route", ["/_emulator/journal", "/_emulator/verdict"])
def test_the_routes_need_the_admin_token(api, route):
    r = api.client.get(route)
    assert r.status_code == 401
    assert r.json() == {"error": {"code": 401, "message": (
        "Admin route: send the emulator's admin token in the X-Admin-Token header")}}
    r = api.client.get(route, headers={"X-Admin-Token": "wrong"})
    assert r.status_code == 401


def test_the_journal_route_answers_every_entry_oldest_first(api):
    hammer(api, 3)
    body = api.admin("GET", "/_emulator/journal").json()
    assert body == {"data": [e.to_json() for e in api.emu.journal], "count": 3, "total": 3,
                    "dropped": 0}
    assert [e["time"] for e in body["data"]] == [T0, T0 + 1, T0 + 2]


@pytest.mark.parametrize(("query", "times"), [
    ("limit=2", [T0 + 3, T0 + 4]),                        # the newest two
    ("since=%s" % (T0 + 3), [T0 + 3, T0 + 4]),            # from that time on, inclusive
    ("since=2026-03-20T22:52:13.250Z", [T0 + 3, T0 + 4]),  # the same, as ISO 8601
    ("since=%s&limit=1" % (T0 + 1), [T0 + 4]),
    ("since=%s" % (T0 + 60), []),
    ("limit=99", [T0 + i for i in range(5)]),
])
def test_since_and_limit_select_entries(api, query, times):
    hammer(api, 5)
    body = api.admin("GET", "/_emulator/journal?" + query).json()
    assert [e["time"] for e in body["data"]] == times
    assert (body["count"], body["total"]) == (len(times), 5)


BAD_QUERIES = [
    ("limit=0", "limit: expected a whole number >= 1, got '0'"),
    ("limit=-3", "limit: expected a whole number >= 1, got '-3'"),
    ("limit=1.5", "limit: expected a whole number >= 1, got '1.5'"),
    ("limit=ten", "limit: expected a whole number >= 1, got 'ten'"),
    ("limit=", "limit: expected a whole number >= 1, got ''"),
    ("since=noon", "since: expected Unix seconds or an ISO 8601 time such as "
                   "'2026-01-01T12:00:00Z', got 'noon'"),
    ("since=-1", "since: expected Unix seconds (0 or more) or an ISO 8601 time, got '-1'"),
    ("since=nan", "since: expected Unix seconds (0 or more) or an ISO 8601 time, got 'nan'"),
    ("since=inf", "since: expected Unix seconds (0 or more) or an ISO 8601 time, got 'inf'"),
    ("since=1e999", "since: expected Unix seconds (0 or more) or an ISO 8601 time, got '1e999'"),
    ("since=1&since=2", "since: give it once"),
    ("key=abc", "unknown query parameter 'key'; allowed: since, limit"),
]


@pytest.mark.parametrize("route", ["/_emulator/journal", "/_emulator/verdict"])
@pytest.mark.parametrize(("query", "message"), BAD_QUERIES)
def test_a_bad_query_is_a_400_naming_it(api, route, query, message):
    hammer(api, 2)
    r = api.admin("GET", f"{route}?{query}")
    assert r.status_code == 400
    assert r.json() == {"error": {"code": 400, "message": message}}
    assert len(api.emu.journal) == 2  # nothing lost, nothing recorded


def test_the_verdict_route_agrees_with_python(api):
    assert hammer(api) == [200] * 20 + [429] * 3
    body = api.admin("GET", "/_emulator/verdict").json()
    findings = verdict(api.emu.journal)
    assert body == verdict_json(api.emu.journal.entries())
    assert body["findings"] == [f.to_json() for f in findings]
    assert (body["calls"], body["keys"], body["count"]) == (23, 1, 1)
    assert body["rules"] == {**dict.fromkeys(RULES, 0), "retry-before-reset": 1}
    [finding] = body["findings"]
    assert (finding["rule"], finding["count"]) == ("retry-before-reset", 2)
    assert [c["time"] for c in finding["calls"]] == [T0 + 20, T0 + 21, T0 + 22]


def test_the_verdict_route_judges_from_since_on(api):
    hammer(api)
    body = api.admin("GET", f"/_emulator/verdict?since={T0 + 21}").json()
    # the first 429 is before `since`: the second sets the limit, the third breaks it
    assert (body["calls"], body["count"]) == (2, 1)
    assert [c["time"] for c in body["findings"][0]["calls"]] == [T0 + 21, T0 + 22]
    body = api.admin("GET", "/_emulator/verdict?limit=1").json()
    assert (body["calls"], body["count"], body["findings"]) == (1, 0, [])


def test_the_verdict_of_an_empty_journal_is_clean(api):
    body = api.admin("GET", "/_emulator/verdict").json()
    assert body == {"calls": 0, "keys": 0, "count": 0, "rules": dict.fromkeys(RULES, 0),
                    "findings": []}


def test_a_full_journal_says_how_many_it_dropped(api):
    api.emu.set_journal(Journal(maxlen=2))
    try:
        hammer(api, 5)
        body = api.admin("GET", "/_emulator/journal").json()
        assert (body["count"], body["total"], body["dropped"]) == (2, 2, 3)
    finally:
        api.emu.set_journal(Journal())
