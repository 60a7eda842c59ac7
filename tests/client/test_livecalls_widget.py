"""The LiveCalls widget in plain Python (no kernel): DOM contract, runs, errors, guard, key."""

from __future__ import annotations

import json

import httpx
import pytest

from client_helpers import FakeClock, Recorder, json_response, requires_emulator
from orwidgets.client import DEFAULT_REAL_API_CAP, OPENROUTER_API_BASE, PRESETS, CallClass
from orwidgets.policy import FREE_PER_MINUTE, MESSAGES

pytestmark = requires_emulator
ipywidgets = pytest.importorskip("ipywidgets")

KEY = "sk-or-v1-" + "c0ffee" * 10 + "beef"
WAIT_S = 60


@pytest.fixture
def app():
    from orwidgets.emulator import create_app

    return create_app(latency_ms=0, clock=FakeClock())


@pytest.fixture
def widget_class():
    from orwidgets.widgets.livecalls import LiveCalls

    return LiveCalls


def must_not_be_called(request: httpx.Request) -> httpx.Response:
    pytest.fail(f"the widget sent a request it must not send: {request.method} {request.url}")


def all_widget_state() -> str:
    from ipywidgets.widgets.widget import _instances

    return json.dumps([w.get_state() for w in list(_instances.values())], default=str)


# --- DOM contract ----------------------------------------------------------------------------------


def test_dom_contract_classes_are_on_the_parts(app, widget_class):
    w = widget_class(app)
    assert "orw-livecalls" in w._dom_classes
    for part, cls in ((w._preset, "orw-preset"), (w._run_button, "orw-run"),
                      (w._stop_button, "orw-stop"), (w._counts, "orw-counts"),
                      (w._error_box, "orw-last-error"), (w._status, "orw-status")):
        assert cls in part._dom_classes


def test_preset_picker_offers_the_contract_labels(app, widget_class):
    from orwidgets.widgets.livecalls import CUSTOM

    w = widget_class(app)
    labels = [CUSTOM] + [p.label for p in PRESETS]
    # In English the shown labels are the values; in every language the values stay these.
    assert list(w._preset.options) == [(label, label) for label in labels]


# --- runs --------------------------------------------------------------------------------------------


def test_21_calls_preset_shows_counts_done_and_the_last_error(app, widget_class):
    w = widget_class(app)
    assert w.run("21 free calls in one minute", wait=True, timeout=WAIT_S)
    assert "done" in w.status and "done" in w._status.value
    assert f'data-class="{CallClass.OK.value}">{FREE_PER_MINUTE}</span>' in w._counts.value
    assert f'data-class="{CallClass.FREE_PER_MINUTE.value}">1</span>' in w._counts.value
    assert "<pre" in w._error_box.value
    assert MESSAGES.free_per_minute.strip() in w._error_box.value
    assert "x-ratelimit-reset" in w._error_box.value.lower()


def test_timeline_has_one_point_per_call_in_the_trace_of_its_class(app, widget_class):
    w = widget_class(app)
    w.run("21 free calls in one minute", wait=True, timeout=WAIT_S)
    by_name = {t.name: t for t in w.figure.data}
    assert len(by_name[CallClass.OK.label].x) == FREE_PER_MINUTE
    assert len(by_name[CallClass.FREE_PER_MINUTE.label].x) == 1
    assert by_name[CallClass.FREE_PER_MINUTE.label].customdata[0][0] == "HTTP 429"


def test_progress_bar_reaches_the_number_of_calls(app, widget_class):
    w = widget_class(app)
    w.run("negative balance blocks free models", wait=True, timeout=WAIT_S)
    assert w._progress.value == w._progress.max == sum(w.counts.values())


def test_custom_run_on_a_demo_account_counts_its_answers(app, widget_class):
    w = widget_class(app)
    w._account_pick.value = "demo:negative"
    w.count = 4
    w.run("custom: the settings below", wait=True, timeout=WAIT_S)
    assert w.counts == {CallClass.NEGATIVE_BALANCE: 4} and "done" in w.status


def test_custom_run_at_a_rate_sends_every_call(app, widget_class):
    w = widget_class(app)
    w.mode, w.rate, w.count = "rate", 500.0, 5
    w.run("custom: the settings below", wait=True, timeout=WAIT_S)
    assert sum(w.counts.values()) == 5 and w.last_run.offered_rate == 500.0


def test_models_are_loaded_from_the_emulator_catalogue(app, widget_class):
    from orwidgets.emulator import CATALOGUE

    w = widget_class(app)
    assert w._models_job.wait(WAIT_S)
    ids = [value for _, value in w._model.options]
    assert sorted(ids) == sorted(m.id for m in CATALOGUE)


def test_stop_ends_a_run_as_stopped(app, widget_class):
    app.state.emulator.faults.configure({"rules": [{"kind": "hang", "model": "*"}]})
    w = widget_class(app)
    w._account_pick.value = "demo:topped_up"
    w.count, w.concurrency = 50, 1
    w.run("custom: the settings below")
    w.stop()
    assert w.wait(WAIT_S)
    assert w.status.startswith("stopped") and not w.running


def test_an_error_in_the_worker_shows_in_the_status_line(widget_class):
    w = widget_class(object())
    w.run("21 free calls in one minute", wait=True, timeout=WAIT_S)
    assert w.status.startswith("error: TypeError") and "emulator" in w.status
    assert w.last_traceback and not w.running and not w._run_button.disabled


def test_a_second_run_while_running_is_refused(app, widget_class):
    app.state.emulator.faults.configure({"rules": [{"kind": "hang", "model": "*"}]})
    w = widget_class(app)
    w._account_pick.value = "demo:topped_up"
    w.count, w.concurrency = 50, 1
    w.run("custom: the settings below")
    try:
        assert not w.run("custom: the settings below")
        assert "Stop" in w.status
    finally:
        w.stop()
        w.wait(WAIT_S)


def test_a_bad_policy_is_refused_with_its_name(app, widget_class):
    from traitlets import TraitError

    w = widget_class(app)
    with pytest.raises(TraitError, match="policy"):
        w.policy = "2019"


# --- the real-API guard ------------------------------------------------------------------------------


def test_real_api_without_confirmation_sends_nothing(widget_class):
    w = widget_class(api_key=KEY, real_transport=httpx.MockTransport(must_not_be_called))
    w.target, w.count = "openrouter", 3
    assert not w.run("custom: the settings below")
    assert w.status.startswith("not sent") and "I understand" in w.status


def test_real_api_without_a_key_sends_nothing(widget_class):
    w = widget_class(key_env=None, confirm_real_api=True,
                     real_transport=httpx.MockTransport(must_not_be_called))
    w.target = "openrouter"
    assert not w.run("custom: the settings below")
    assert "no API key" in w.status


def test_real_api_refuses_presets(widget_class):
    w = widget_class(api_key=KEY, confirm_real_api=True,
                     real_transport=httpx.MockTransport(must_not_be_called))
    w.target = "openrouter"
    assert not w.run("21 free calls in one minute")
    assert "emulator only" in w.status


def test_real_api_confirmed_run_is_capped_and_needs_a_new_confirmation(widget_class):
    rec = Recorder([json_response(200, {"id": "gen-1", "choices": [], "usage": {"cost": 0}})])
    w = widget_class(api_key=KEY, confirm_real_api=True, real_transport=httpx.MockTransport(rec))
    w.target, w.count = "openrouter", DEFAULT_REAL_API_CAP + 100
    assert w.run("custom: the settings below", wait=True, timeout=WAIT_S)
    assert len(rec.requests) == DEFAULT_REAL_API_CAP and w.count == DEFAULT_REAL_API_CAP
    assert {str(r.url) for r in rec.requests} == {OPENROUTER_API_BASE + "/chat/completions"}
    assert "cap" in w.status and w._confirm.value is False
    assert not w.run("custom: the settings below")


# --- the key -------------------------------------------------------------------------------------------


def test_a_typed_key_is_moved_to_memory_and_the_box_emptied_at_once(widget_class):
    w = widget_class(key_env=None)
    w._key_input.value = KEY
    assert w._key_input.value == "" and w.has_key
    assert KEY not in all_widget_state()
    assert KEY not in repr(w) and KEY not in w._key_status.value


def test_a_key_from_the_frontend_never_stays_in_the_synced_state(widget_class):
    w = widget_class(key_env=None)
    w._key_input.set_state({"value": KEY})  # what a browser's comm message does
    assert w._key_input.value == "" and w.has_key
    assert KEY not in all_widget_state()


def test_the_key_box_does_not_echo_its_value(widget_class):
    w = widget_class(key_env=None)
    assert w._key_input.trait_metadata("value", "echo_update") is False


def test_the_environment_key_is_used_and_shown_masked(widget_class, monkeypatch):
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    w = widget_class()
    assert w.has_key and "sk-or-v1-c0f...eef" in w._key_status.value
    assert KEY not in all_widget_state() and KEY not in repr(w)


def test_real_api_calls_carry_the_key_only_in_the_authorization_header(widget_class):
    rec = Recorder([json_response(401, {"error": {"code": 401, "message": MESSAGES.unknown_key}})])
    w = widget_class(api_key=KEY, confirm_real_api=True, real_transport=httpx.MockTransport(rec))
    w.target, w.count = "openrouter", 2
    w.run("custom: the settings below", wait=True, timeout=WAIT_S)
    assert {r.headers["Authorization"] for r in rec.requests} == {f"Bearer {KEY}"}
    assert w.counts == {CallClass.UNAUTHORIZED: 2}
    assert KEY not in all_widget_state() and KEY not in w.status


def test_a_preset_may_be_named_by_key_and_an_unknown_one_is_refused(app, widget_class):
    from traitlets import TraitError

    w = widget_class(app)
    w.preset = "minute"
    assert w.preset == "21 free calls in one minute"
    with pytest.raises(TraitError, match="no preset"):
        w.preset = "the 52nd call"


def test_out_of_range_settings_are_clamped_by_the_controls(app, widget_class):
    w = widget_class(app)
    w.count, w.concurrency = -5, 0
    assert (w.count, w.concurrency) == (1, 1)


def test_policy_follows_the_shared_account_model(app, widget_class):
    model = pytest.importorskip("orwidgets.widgets._model")
    account = model.AccountModel(policy="current", balance_usd=3.0, purchased_usd=3.0)
    w = widget_class(app, account=account)
    assert w.policy == account.policy == "2026-08"  # "current" is stored as the newest dated id
    account.policy = "legacy-2024"
    assert w.policy == "legacy-2024"


def test_a_fresh_account_run_copies_the_account_model(app, widget_class):
    model = pytest.importorskip("orwidgets.widgets._model")
    account = model.AccountModel(policy="2025-04", balance_usd=-1.0, purchased_usd=0.0)
    w = widget_class(app, account=account)
    w._account_pick.value = "fresh"
    w.count = 3
    w.run("custom: the settings below", wait=True, timeout=WAIT_S)
    assert w.counts == {CallClass.NEGATIVE_BALANCE: 3}


# --- what the reader sees --------------------------------------------------------------------------


def error_text(w) -> str:
    """The last error's <pre> as plain text."""
    from html import unescape

    return unescape(w._error_box.value.split("<pre", 1)[1].split(">", 1)[1].split("</pre>")[0])


def test_before_the_first_run_the_chart_says_what_will_appear(app, widget_class):
    from orwidgets.widgets.livecalls import EMPTY_CHART_TEXT

    w = widget_class(app)
    layout = w.figure.layout
    assert [a.text for a in layout.annotations] == [EMPTY_CHART_TEXT]
    assert layout.xaxis.visible is False and layout.yaxis.visible is False
    assert all(len(t.x) == 0 for t in w.figure.data)
    w.run("21 free calls in one minute", wait=True, timeout=WAIT_S)
    assert len(w.figure.layout.annotations) == 0
    assert w.figure.layout.xaxis.visible is True and w.figure.layout.yaxis.visible is True


def test_the_status_is_printed_once_in_the_last_error(app, widget_class):
    w = widget_class(app)
    w.run("21 free calls in one minute", wait=True, timeout=WAIT_S)
    first = error_text(w).splitlines()[0]
    assert first == f"HTTP {CallClass.FREE_PER_MINUTE.label}: {MESSAGES.free_per_minute.strip()}"
    assert "HTTP 429: 429" not in w._error_box.value


def test_a_class_without_a_status_in_its_label_gets_it_in_front():
    from orwidgets.client import CallResult
    from orwidgets.widgets.livecalls import _call_line

    result = CallResult(CallClass.HTTP_ERROR, 503, "no capacity", None, {}, 0.0, 0.01)
    assert _call_line(result) == "HTTP 503 (other HTTP error): no capacity"
    timeout = CallResult(CallClass.TIMEOUT, None, "read timed out", None, {}, 0.0, 10.0)
    assert _call_line(timeout) == "timeout: read timed out"


def test_against_a_served_emulator_times_are_the_emulators_not_the_servers_date(widget_class):
    """uvicorn adds a real-time ``date`` header; the emulator's clock (here 2026-03-02) sets
    X-RateLimit-Reset. The widget leaves the real date out and shows the reset in UTC, labelled
    as the emulator's clock."""
    from datetime import datetime, timezone

    from orwidgets.emulator import create_app
    from orwidgets.emulator.server import BackgroundServer, EmulatorHandle

    clock = FakeClock()
    app = create_app(latency_ms=0, clock=clock)
    server = BackgroundServer(app).start()
    try:
        w = widget_class(EmulatorHandle(server, app))
        assert w.run("21 free calls in one minute", wait=True, timeout=WAIT_S)
        raw = w._last_error.headers
        assert any(name.lower() == "date" for name in raw)  # the server did send one
        reset_ms = next(v for k, v in raw.items() if k.lower() == "x-ratelimit-reset")
        text = error_text(w)
    finally:
        server.stop()
    lines = text.splitlines()
    assert not any(line.lower().startswith("date:") for line in lines)
    assert "date header left out" in text
    when = datetime.fromtimestamp(int(reset_ms) / 1000, tz=timezone.utc)
    assert when.date() == datetime.fromtimestamp(clock.now, tz=timezone.utc).date()
    reset_line = next(line for line in lines if line.lower().startswith("x-ratelimit-reset:"))
    assert reset_line.endswith(f"(= {when:%Y-%m-%d %H:%M:%S} UTC, emulator clock)")


def test_real_api_errors_keep_the_date_header(widget_class):
    body = {"error": {"code": 429, "message": MESSAGES.free_per_minute}}
    rec = Recorder([json_response(429, body, {"date": "Mon, 02 Mar 2026 10:00:00 GMT",
                                              "X-RateLimit-Reset": "1772445660000"})])
    w = widget_class(api_key=KEY, confirm_real_api=True, real_transport=httpx.MockTransport(rec))
    w.target, w.count = "openrouter", 1
    w.run("custom: the settings below", wait=True, timeout=WAIT_S)
    text = error_text(w)
    assert "date: Mon, 02 Mar 2026 10:00:00 GMT" in text
    assert "1772445660000   (= 2026-03-02 10:01:00 UTC)" in text


def test_counts_and_status_agree_in_number(app, widget_class):
    w = widget_class(app)
    w._account_pick.value = "demo:negative"
    w.count = 1
    w.run("custom: the settings below", wait=True, timeout=WAIT_S)
    assert w.status.startswith("done: 1 call in ")


def test_mode_buttons_are_as_wide_as_their_labels(app, widget_class):
    # A fixed 90 px cut "concurrency" to "concurre...".
    assert widget_class(app)._mode.style.button_width == "auto"


def test_a_late_model_list_failure_does_not_overwrite_a_runs_status(widget_class, monkeypatch):
    """The model list loads in the background from the start; when it fails after a run has
    reported (both fail on a bad emulator), the run's own outcome stays in the status line."""
    from orwidgets.widgets import livecalls

    held = []
    real_job = livecalls.BackgroundJob

    def hold_models(factory, *, on_done, name):
        job = real_job(factory, on_done=on_done, name=name)
        if name == "orwidgets-livecalls-models":
            held.append(job)
            job.start = lambda: None  # started by the test, after the run
        return job

    monkeypatch.setattr(livecalls, "BackgroundJob", hold_models)
    w = widget_class(object())
    w.run("21 free calls in one minute", wait=True, timeout=WAIT_S)
    assert w.status.startswith("error: TypeError")
    del held[0].start  # the real start() again
    held[0].start()
    assert held[0].wait(WAIT_S)
    assert w.status.startswith("error: TypeError")


# --- today's scenarios (2026-08) ----------------------------------------------------------------------


def test_the_in_flight_scenarios_note_says_it_switches_the_emulator(app, widget_class):
    w = widget_class(app)
    w.preset = "fan-out on a small balance: in-flight 402"
    note = w._preset_note.value
    assert "Expected under 2026-08:</b>" in note
    assert (f"{CallClass.OK.label}: 4, {CallClass.IN_FLIGHT_BUDGET.label}: 4.") in note
    assert "switches the emulator to it, and back to the version it found" in note
    w.policy = "2026-08"  # nothing to switch: no such sentence
    assert "switches the emulator" not in w._preset_note.value


def test_the_recovered_fan_out_shows_the_new_class_in_its_own_colour_and_counter(app,
                                                                                 widget_class):
    w = widget_class(app)
    assert w.run("the same fan-out, recovered by with_retries", wait=True, timeout=WAIT_S)
    assert w.counts == {CallClass.OK: 8, CallClass.IN_FLIGHT_BUDGET: 4}
    assert "exactly what the policy predicts" in w.status
    by_name = {t.name: t for t in w.figure.data}
    in_flight = by_name[CallClass.IN_FLIGHT_BUDGET.label]
    assert in_flight.name == "402 in-flight budget full (wait)"
    assert len(in_flight.x) == 4 and in_flight.showlegend
    assert in_flight.marker.color == CallClass.IN_FLIGHT_BUDGET.color
    assert len({t.marker.color for t in w.figure.data}) == len(CallClass)  # one colour each
    assert (f'data-class="{CallClass.IN_FLIGHT_BUDGET.value}">4</span>') in w._counts.value
    assert app.state.emulator.engine.policy.id == "2025-04"  # put back as found
    # The last error is the in-flight 402 as OpenRouter sends it, with its advice.
    assert MESSAGES.in_flight in w._error_box.value
    assert "retry-after: 120" in w._error_box.value.lower()
    assert "Retry after your in-flight requests settle" in w._error_box.value


@pytest.mark.parametrize(("preset", "call_class"), [
    ("a key's daily limit runs out: 403", CallClass.KEY_LIMIT),
    ("all providers at capacity: 429", CallClass.CAPACITY_EXHAUSTED),
    ("free variant ended: 404, then the paid model", CallClass.FREE_VARIANT_ENDED),
])
def test_todays_scenarios_count_their_class(app, widget_class, preset, call_class):
    w = widget_class(app)
    assert w.run(preset, wait=True, timeout=WAIT_S)
    assert call_class in w.counts and "exactly what the policy predicts" in w.status
    assert f'data-class="{call_class.value}">{w.counts[call_class]}</span>' in w._counts.value
    assert call_class.label in w._counts.value


def test_custom_runs_offer_the_2026_demo_keys(app, widget_class):
    w = widget_class(app)
    values = [v for _, v in w._account_pick.options]
    assert {"demo:small", "demo:team", "demo:member"} <= set(values)
    w.policy = "2026-08"
    w._account_pick.value = "demo:member"
    w.model, w.count = "openai/gpt-4o-mini", 2
    w.run("custom: the settings below", wait=True, timeout=WAIT_S)
    assert w.counts == {CallClass.KEY_LIMIT: 2}
