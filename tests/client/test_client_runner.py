"""The load runner, the real-API guard and the background job."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest

from client_helpers import LOCAL_API, FakeClock, Recorder, json_response, requires_emulator
from orwidgets.client import (
    DEFAULT_REAL_API_CAP,
    OPENROUTER_API_BASE,
    BackgroundJob,
    CallClass,
    RealApiCapExceeded,
    RealApiNotConfirmed,
    check_real_api,
    is_loopback,
    run_load,
)
from orwidgets.policy import FREE_PER_MINUTE

FREE = "meta-llama/llama-3.3-70b-instruct:free"
OK_BODY = {"id": "gen-1", "object": "chat.completion", "choices": [], "usage": {"cost": 0}}


def must_not_be_called(request: httpx.Request) -> httpx.Response:
    pytest.fail(f"the guard let a request through: {request.method} {request.url}")


# --- the guard -------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://127.0.0.1:8787/api/v1", "http://localhost:1/api/v1",
                                 "http://[::1]:8000", "http://127.0.0.2:9/api/v1"])
def test_loopback_addresses_need_no_confirmation(url):
    assert is_loopback(url)
    check_real_api(url, confirmed=False, count=10_000)


@pytest.mark.parametrize("url", [OPENROUTER_API_BASE, "http://10.0.0.5:8787/api/v1",
                                 "http://emulator.example:80/api/v1"])
def test_non_loopback_without_confirmation_is_refused(url):
    assert not is_loopback(url)
    with pytest.raises(RealApiNotConfirmed, match="confirm"):
        check_real_api(url, confirmed=False, count=1)


def test_non_loopback_above_the_cap_is_refused_even_when_confirmed():
    with pytest.raises(RealApiCapExceeded, match=str(DEFAULT_REAL_API_CAP)):
        check_real_api(OPENROUTER_API_BASE, confirmed=True, count=DEFAULT_REAL_API_CAP + 1)


def test_non_loopback_confirmed_within_the_cap_passes():
    check_real_api(OPENROUTER_API_BASE, confirmed=True, count=DEFAULT_REAL_API_CAP)


def test_run_load_to_the_real_api_without_confirmation_sends_nothing():
    transport = httpx.MockTransport(must_not_be_called)
    with pytest.raises(RealApiNotConfirmed):
        asyncio.run(run_load(OPENROUTER_API_BASE, FREE, 3, transport=transport))


def test_run_load_to_the_real_api_above_the_cap_sends_nothing():
    transport = httpx.MockTransport(must_not_be_called)
    with pytest.raises(RealApiCapExceeded):
        asyncio.run(run_load(OPENROUTER_API_BASE, FREE, DEFAULT_REAL_API_CAP + 1,
                             transport=transport, confirm_real_api=True))


def test_run_load_to_the_real_api_confirmed_sends_the_calls():
    rec = Recorder([json_response(200, OK_BODY)])
    run = asyncio.run(run_load(OPENROUTER_API_BASE, FREE, 3, transport=httpx.MockTransport(rec),
                               confirm_real_api=True))
    assert run.finished == 3 and len(rec.requests) == 3
    assert {str(r.url) for r in rec.requests} == {OPENROUTER_API_BASE + "/chat/completions"}


# --- the runner ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "name"), [({"rate": 0}, "rate"), ({"rate": float("nan")}, "rate"),
                                              ({"concurrency": 0}, "concurrency"),
                                              ({"concurrency": 2.5}, "concurrency")])
def test_bad_settings_are_refused_with_the_parameter_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        asyncio.run(run_load(LOCAL_API, FREE, 1, transport=httpx.MockTransport(must_not_be_called),
                             **kwargs))


def test_negative_count_is_refused():
    with pytest.raises(ValueError, match="count"):
        asyncio.run(run_load(LOCAL_API, FREE, -1))


def test_network_failures_are_recorded_as_results():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    run = asyncio.run(run_load(LOCAL_API, FREE, 4, concurrency=2,
                               transport=httpx.MockTransport(refuse)))
    assert run.counts == {CallClass.NETWORK_ERROR: 4}


def test_rate_mode_schedules_call_i_at_i_over_rate():
    clock = FakeClock(0.0)
    sends: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sends.append(clock.now)
        return json_response(200, OK_BODY)

    run = asyncio.run(run_load(LOCAL_API, FREE, 5, rate=4.0, transport=httpx.MockTransport(answer),
                               monotonic=clock, sleep=clock.asleep))
    assert run.finished == 5 and run.offered_rate == 4.0
    assert sends == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])


def test_cancel_stops_sending_new_calls():
    cancel = threading.Event()
    rec = Recorder([json_response(200, OK_BODY)])

    def stop_after_five(result):
        if len(rec.requests) >= 5:
            cancel.set()

    run = asyncio.run(run_load(LOCAL_API, FREE, 50, concurrency=1, transport=httpx.MockTransport(rec),
                               cancel=cancel, on_result=stop_after_five))
    assert run.cancelled and run.finished == 5 and len(rec.requests) == 5


def test_on_result_sees_every_call_as_it_finishes():
    seen = []
    asyncio.run(run_load(LOCAL_API, FREE, 7, concurrency=3,
                         transport=httpx.MockTransport(Recorder([json_response(200, OK_BODY)])),
                         on_result=seen.append))
    assert len(seen) == 7 and all(r.ok for r in seen)


@requires_emulator
def test_21_calls_against_the_emulator_record_time_latency_status_class_headers_message():
    from orwidgets.emulator import create_app

    app = create_app(latency_ms=0, clock=FakeClock())
    key = app.state.emulator.demo_keys["free"]
    run = asyncio.run(run_load(LOCAL_API, FREE, FREE_PER_MINUTE + 1, concurrency=1, api_key=key,
                               transport=httpx.ASGITransport(app=app)))
    assert run.counts == {CallClass.OK: FREE_PER_MINUTE, CallClass.FREE_PER_MINUTE: 1}
    last = [r for r in run.results if not r.ok][0]
    assert last.status == 429 and last.message.startswith("Rate limit exceeded: free-models-per-min")
    assert last.headers["x-ratelimit-limit"] == str(FREE_PER_MINUTE)
    assert last.latency_s >= 0 and last.sent_at > 0 and last.model == FREE


# --- the background job ----------------------------------------------------------------------------


def test_background_job_runs_in_its_own_thread_and_loop():
    main_thread = threading.get_ident()

    async def work(cancel):
        await asyncio.sleep(0)
        return threading.get_ident()

    job = BackgroundJob(work).start()
    assert job.wait(10)
    assert job.error is None and job.result != main_thread


def test_background_job_keeps_the_error_and_still_calls_on_done():
    done = []

    async def broken(cancel):
        raise RuntimeError("boom")

    job = BackgroundJob(broken, on_done=done.append).start()
    assert job.wait(10)
    assert isinstance(job.error, RuntimeError) and done == [job]


def test_background_job_keeps_an_on_done_error_instead_of_losing_it():
    async def fine(cancel):
        return 1

    def bad_callback(job):
        raise ValueError("callback broke")

    job = BackgroundJob(fine, on_done=bad_callback).start()
    assert job.wait(10)
    assert isinstance(job.callback_error, ValueError)
