"""The states a reader reaches in each widget, built in a language: what the language tests walk
(``test_widget_language.py`` under the pseudo-language, ``test_widget_catalogues.py`` under the
real catalogues).

:data:`SHOWN` maps every widget class to a function of the language that yields ``(state, widget,
data)``: ``data`` is what the widget may show untranslated in that state (what was typed, what an
API answered, ids). A widget state is yielded as it is at that moment: read it before the next.
"""

from __future__ import annotations

import re

import pytest

from orwidgets.policy import POLICIES
from orwidgets.widgets import AccountModel, FreeQuotaExplorer


def quota_states(lang: str):
    yield "default", FreeQuotaExplorer(lang=lang)
    for pid in POLICIES:
        yield f"{pid} topped up", FreeQuotaExplorer(policy=pid, topped_up=True, lang=lang)
    acct = AccountModel(balance_usd=2.0, purchased_usd=20.0)
    yield "rule differs", FreeQuotaExplorer(acct, lang=lang)
    yield "blocked", FreeQuotaExplorer(AccountModel(balance_usd=-1.0), lang=lang)
    busy = FreeQuotaExplorer(calls_per_hour=3000, lang=lang)
    busy._start.value = "25:00"  # a refused time: the notice
    yield "over the per-minute limit, a bad time", busy
    idle = FreeQuotaExplorer(calls_per_hour=0, lang=lang)
    idle._on_balance({"new": "many"})  # what a typed non-number does (the box refuses it)
    yield "no calls, a bad number", idle
    used = AccountModel()
    used.free_used_today = 7
    yield "used today", FreeQuotaExplorer(used, lang=lang)


#: What a reader typed comes back in a notice as typed: data.
TYPED = ["'many'", "'lots'", "'x'", "'25:00'", "nan"]


def rps_states(lang: str):
    from orwidgets.widgets import RPSExplorer

    for pid in POLICIES:
        for balance in (0.5, 2.0, 42.3, 1000.0, 0.0, -5.0):
            yield f"{pid} at {balance}", RPSExplorer(policy=pid, balance_usd=balance, lang=lang)
    typed = RPSExplorer(lang=lang)
    typed._on_input({"new": "lots"})
    yield "a refused balance", typed
    flight = RPSExplorer(policy="2026-08", balance_usd=0.02, lang=lang)
    yield "in flight", flight
    flight.in_flight.no_max_tokens = False
    flight.in_flight.max_tokens = 50_000
    yield "in flight, max_tokens above the cap", flight
    flight.in_flight.max_tokens = 1000
    yield "in flight, its max_tokens", flight
    flight._on_control("prompt_tokens", {"new": "x"})
    yield "in flight, a refused prompt", flight
    flight.in_flight.model_id, flight.in_flight.max_tokens = "openai/gpt-4o", 1500
    yield "one request above the budget", flight
    poor = RPSExplorer(policy="2026-08", balance_usd=0.1, lang=lang)
    poor.in_flight.model_id = "openai/gpt-4o"
    yield "affordability", poor
    yield "no budget", RPSExplorer(policy="2026-08", balance_usd=500.0, lang=lang)
    yield "given numbers", RPSExplorer(policy="2026-08", in_flight={"fraction": 0.1}, lang=lang)
    yield "no emulator", RPSExplorer(emulator=object(), policy="2026-08", lang=lang)


def planner_states(lang: str):
    from orwidgets.widgets import DepletionPlanner

    def planner(account=None, **kwargs):
        return DepletionPlanner(account, scheduler=lambda d, f: None, lang=lang, **kwargs)

    yield "default", planner()
    for pattern in ("constant", "business hours (09-18 UTC)", "daily wave (peak 14:00 UTC)"):
        run = planner(pattern=pattern, needed_rps=4, horizon_hours=6)
        run.run_simulation()
        yield f"{pattern}, simulated", run
    ok = planner(needed_rps=2, plan_hours=2)
    ok.model.verify_topup()
    yield "a top-up checked", ok
    short = planner(needed_rps=2, plan_hours=2)
    short.model.topup_usd = 0.0  # what a check of too small a top-up says
    short.model.verify_topup()
    yield "too small a top-up checked", short
    long = planner(horizon_hours=72, needed_rps=3)
    long.run_simulation()
    long.model.needed_rps = 4
    yield "stale, press Simulate", long
    yield "by model", planner(cost_mode="model")
    yield "no balance-linked cap", planner(AccountModel(policy="2025-07"))
    yield "above the cap", planner(needed_rps=600)
    yield "within the floor", planner(needed_rps=0.5)
    rich = planner(needed_rps=2, cost_per_request_usd=0.0)
    yield "never within a year", rich
    yield "already now", planner(needed_rps=20)
    typed = planner()
    typed._need.value = float("nan")
    yield "a refused number", typed


def advisor_states(lang: str):
    from orwidgets.widgets import TopUpAdvisor
    from orwidgets.widgets.advisor import PRESETS

    for preset in PRESETS:
        yield preset, TopUpAdvisor(preset=preset, lang=lang)
    yield "not enough alone", TopUpAdvisor(free_calls_per_day=5000, lang=lang)
    yield "spending anyway", TopUpAdvisor(free_calls_per_day=10, paid_usd_per_day=2.0, lang=lang)
    yield "already topped up", TopUpAdvisor(AccountModel(purchased_usd=20), free_calls_per_day=5000,
                                            lang=lang)
    yield "no tier", TopUpAdvisor(AccountModel(policy="legacy-2024"), free_calls_per_day=500,
                                  lang=lang)
    for pid, rps in (("2025-04", 0.5), ("2025-04", 600), ("2025-04", 20), ("2025-07", 20)):
        yield f"{pid} at {rps} RPS", TopUpAdvisor(AccountModel(policy=pid), needed_rps=rps,
                                                  lang=lang)
    typed = TopUpAdvisor(lang=lang)
    typed._paid.value = float("nan")
    yield "a refused number", typed


#: What the API answered, shown as it came: a key's label, a limit's window, a rate-limit
#: interval, the fake answers' messages, and the emulator's demo key names.
ANSWERED = ["10s", "daily", "weekly", "Invalid API key", "connection refused",
            "Internal Server Error", "free", "topped_up", "five", "negative", "management",
            "small", "team", "member"]


def account_states(lang: str):
    from datetime import datetime, timezone

    from widget_helpers import FakeClient, FakeResult, in_memory_emulator

    from orwidgets.widgets import AccountPanel

    at_19h = datetime(2026, 10, 2, 19, 0, tzinfo=timezone.utc).timestamp()
    yield "not read yet", AccountPanel(lang=lang)
    for pid in POLICIES:
        for demo in ("topped_up", "five", "management", "member", "negative"):
            handle, client = in_memory_emulator(pid, lambda: at_19h)
            panel = AccountPanel(AccountModel(policy=pid), demo_account=demo, lang=lang,
                                 emulator_factory=lambda handle=handle: handle,
                                 client_factory=client)
            panel.refresh()
            yield f"{pid} {demo}", panel
    panel.account.balance_usd += 3
    panel.account.purchased_usd += 3
    yield "what-if", panel

    def fake(key, credits, **kwargs):
        return AccountPanel(target="openrouter", api_key="sk-or-v1-" + "ab" * 30, lang=lang,
                            client_factory=lambda url, k: FakeClient(key, credits),
                            clock=lambda: at_19h, **kwargs)

    data = {"label": "sk-or-v1-ab...abab", "usage": 1.0, "is_free_tier": True,
            "is_management_key": False}
    credits = FakeResult(200, {"data": {"total_credits": 2.0, "total_usage": 1.0}})
    for limit in ({"limit": 5, "limit_remaining": 2, "limit_reset": "weekly"},
                  {"limit": 5, "limit_remaining": 2, "limit_reset": None},
                  {"limit": None, "limit_remaining": None, "limit_reset": None},
                  {"rate_limit": {"requests": 100, "interval": "10s"}}):
        panel = fake(FakeResult(200, {"data": {**data, **limit}}), credits)
        panel.refresh()
        yield f"limits {limit}", panel
    for answer in (FakeResult(401, None, "Invalid API key"),
                   FakeResult(None, None, "connection refused"), FakeResult(None, None, None)):
        panel = fake(answer, credits)
        panel.refresh()
        yield f"GET /key failed: {answer}", panel
    panel = fake(FakeResult(200, {"data": data}), FakeResult(500, None, "Internal Server Error"))
    panel.refresh()
    yield "GET /credits failed", panel
    keyless = AccountPanel(target="openrouter", lang=lang)
    keyless.refresh()
    yield "no key", keyless
    custom = AccountPanel(target="custom", lang=lang)
    custom.refresh()
    yield "no URL", custom


#: 2026-03-02 00:00:00 UTC: the emulator's clock in the LiveCalls states (runs move it on).
DAY_START = 1_772_409_600.0


def answered(widget) -> list[str]:
    """What a LiveCalls run's answers said (messages, headers, bodies), as data."""
    import json

    found = []
    for result in widget.results:
        message = (result.message or "").strip()
        found += [message, message[:160]]
        for name, value in (result.headers or {}).items():
            found += [f"{name}: {value}", name, str(value)]
        if result.body is not None:
            text = (json.dumps(result.body, indent=2, ensure_ascii=False)
                    if isinstance(result.body, dict) else str(result.body))
            found += [line.strip() for line in text.splitlines() if line.strip()]
    return [text for text in found if re.search(r"[A-Za-z]", text)]


def livecalls_states(lang: str):
    import httpx

    from orwidgets.client import PRESETS
    from orwidgets.emulator import create_app
    from orwidgets.widgets import LiveCalls

    key = "sk-or-v1-" + "c0ffee" * 10 + "beef"
    app = create_app(latency_ms=0, clock=lambda: DAY_START)
    w = LiveCalls(app, account=AccountModel(), key_env=None, lang=lang)
    w._model.options = w._model_options([])
    yield "ready", w, []
    for preset in PRESETS:
        w.preset = preset.label
        yield f"scenario {preset.key}", w, []
    for label in ("21 free calls in one minute", "fan-out on a small balance: in-flight 402",
                  "upstream provider 429 with Retry-After"):
        assert w.run(label, wait=True, timeout=60)
        yield f"ran {label!r}", w, answered(w)
    w.target = "openrouter"
    yield "real API, a scenario picked", w, answered(w)
    assert not w.run()
    yield "real API refuses a scenario", w, answered(w)
    w.preset = "custom: the settings below"
    assert not w.run()
    yield "real API without a key", w, answered(w)
    w.set_key(key)
    assert not w.run()
    yield "real API not confirmed", w, answered(w)

    def answer(request):
        return httpx.Response(429, json={"error": {"code": 429, "message": "Rate limit exceeded"}},
                              headers={"X-RateLimit-Reset": "1772445660000"})

    real = LiveCalls(api_key=key, confirm_real_api=True, real_transport=httpx.MockTransport(answer),
                     lang=lang)
    real.target, real.count, real.mode = "openrouter", 40, "rate"
    assert real.run(wait=True, timeout=60)
    yield "a real-API run, capped", real, answered(real)
    broken = LiveCalls(object(), lang=lang)
    broken.run("21 free calls in one minute", wait=True, timeout=60)
    yield "an emulator that is not one", broken, ["TypeError", "emulator"]


#: 2026-03-02 12:00:00 UTC: the journal timeline's calls start here.
NOON = DAY_START + 12 * 3600
FREE = "meta-llama/llama-3.3-70b-instruct:free"
PAID = "openai/gpt-4o-mini"


def journal_call(t: float, status: int = 200, cls: str = "ok",
                 key: str | None = "sk-or-v1-aaa...aaa", model: str | None = FREE, **extra):
    from orwidgets.journal import Entry

    return Entry(NOON + t, status, cls, model=model, key=key, key_id=key, **extra)


def every_rule_broken() -> list:
    """One key's calls that break each of the verdict's five rules once."""
    minute_reset = int((NOON + 60) * 1000)
    return (
        [journal_call(i * 0.1) for i in range(20)]
        + [journal_call(2 + i * 0.5, 429, "free_per_minute", rate_limit_reset=minute_reset)
           for i in range(3)]
        + [journal_call(100 + i, 429, "free_per_day_low", rate_limit_reset=int(DAY_START * 1000)
                        + 86_400_000) for i in range(2)]
        + [journal_call(200, 429, "upstream_429", model=PAID, retry_after=10),
           journal_call(201, model=PAID)]
        + [journal_call(300 + i, 402, "negative_balance", model="openai/gpt-4o", max_tokens=100)
           for i in range(2)]
        + [journal_call(400 + i * 0.2, 429, "paid_rate", model="anthropic/claude-3.5-haiku",
                        rate_limit_reset=int((NOON + 401) * 1000)) for i in range(2)]
    )


def every_class() -> list:
    """A call of every class a journal holds (fault kinds, the emulator's own answers, one it
    does not know), without a key, a model or both."""
    from orwidgets.client import CallClass
    from orwidgets.widgets.timeline import _LABELS

    classes = [*(c.value for c in CallClass), *_LABELS, "something_new"]
    return [journal_call(i, 418 if cls == "something_new" else 429, cls,
                         key=None if i % 2 else "sk-or-v1-bbb...bbb",
                         model=None if i % 3 == 0 else PAID, max_tokens=1000 if i % 4 else None,
                         retry_after=5 if i % 5 == 0 else None)
            for i, cls in enumerate(classes)]


def timeline_states(lang: str):
    from orwidgets.client import CallClass
    from orwidgets.journal import Journal
    from orwidgets.verdict import RULES
    from orwidgets.widgets import JournalTimeline
    from orwidgets.widgets.timeline import _LABELS

    # Data: rule ids, class ids (a finding names the answer's class), run names, a header name.
    ids = [*RULES, *(c.value for c in CallClass), *_LABELS, "something_new", "naive",
           "with_retries", "X-RateLimit-Reset"]
    yield "nothing to show", JournalTimeline(lang=lang), ids
    broken = JournalTimeline(every_rule_broken(), lang=lang)
    assert sorted(broken.findings["sk-or-v1-aaa...aaa"]) == sorted(RULES)  # all five messages
    yield "every rule broken", broken, ids
    yield "every class, no key, no model", JournalTimeline(every_class(), lang=lang), ids
    runs = {"naive": every_rule_broken(),
            "with_retries": [journal_call(0, 429, "upstream_429", retry_after=2),
                             journal_call(3)]}
    yield "runs side by side", JournalTimeline(runs, lang=lang), ids
    journal = Journal()
    journal.record(time=NOON, status=401, call_class="no_auth", model=FREE)
    live = JournalTimeline(journal, lang=lang)
    journal.record(time=NOON + 1, status=401, call_class="no_auth", model=FREE)
    live.refresh()
    yield "a live journal, refreshed", live, ids


def dashboard_states(lang: str):
    import sys
    from unittest import mock

    from orwidgets.widgets import Dashboard, LiveCalls

    quiet = {"scheduler": lambda delay, fn: None}
    dash = Dashboard(AccountModel(balance_usd=10.0), planner=quiet, lang=lang)
    assert {tab.lang for tab in dash.children} == {lang}
    yield "every tab", dash, TYPED + ANSWERED
    dash.rps._slider.value = 42.17
    yield "after the balance slider", dash, TYPED + ANSWERED
    dash.quota._toggle.value = True
    yield "after the top-up toggle", dash, TYPED + ANSWERED
    dash.advisor._picker.value = "2026-08"
    yield "under 2026-08", dash, TYPED + ANSWERED
    yield "no live calls tab", Dashboard(planner=quiet, show_live_calls=False, lang=lang), \
        TYPED + ANSWERED
    with pytest.raises(Exception) as refused:  # what the policy trait says, as data
        LiveCalls(account=AccountModel(), policy="nope")
    broken = Dashboard(planner=quiet, live_calls={"policy": "nope"}, lang=lang)
    assert broken.live_calls is None
    error = f"{type(refused.value).__name__}: {refused.value}"
    yield "live calls could not start", broken, [error, *ANSWERED]
    with mock.patch.dict(sys.modules, {"orwidgets.widgets.livecalls": None}):
        try:
            import orwidgets.widgets.livecalls  # noqa: F401
        except ImportError as exc:
            missing = str(exc)
        gone = Dashboard(planner=quiet, lang=lang)
    yield "live calls not installed", gone, [missing, *ANSWERED]


def typed(states):
    for state, widget in states:
        yield state, widget, TYPED


#: Every widget class, and the states a reader reaches in it: ``(state, widget, data)``, where
#: ``data`` is what it may show untranslated (what was typed, what an API answered, ids).
SHOWN = {
    "FreeQuotaExplorer": lambda lang: typed(quota_states(lang)),
    "RPSExplorer": lambda lang: typed(rps_states(lang)),
    "DepletionPlanner": lambda lang: typed(planner_states(lang)),
    "TopUpAdvisor": lambda lang: typed(advisor_states(lang)),
    "AccountPanel": lambda lang: ((state, w, ANSWERED) for state, w in account_states(lang)),
    "LiveCalls": lambda lang: ((state, w, data + ANSWERED)
                               for state, w, data in livecalls_states(lang)),
    "JournalTimeline": timeline_states,
    "Dashboard": dashboard_states,
}
