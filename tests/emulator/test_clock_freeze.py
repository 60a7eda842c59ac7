"""The emulator clock can stand still: then only advance() and set() move it."""

from __future__ import annotations

from emulator_support import T0, FakeTime

from orwidgets.emulator.state import EmulatorClock


def test_a_frozen_clock_stands_still_while_real_time_runs():
    base = FakeTime(T0)
    clock = EmulatorClock(base)
    clock.advance(10)
    assert clock.freeze() == T0 + 10 and clock.frozen
    base.t += 100
    assert clock.now() == T0 + 10


def test_advance_and_set_move_a_frozen_clock_exactly():
    base = FakeTime(T0)
    clock = EmulatorClock(base)
    clock.freeze()
    assert clock.advance(0.25) == T0 + 0.25
    assert clock.set(1_767_268_859.5) == 1_767_268_859.5
    base.t += 5
    assert clock.now() == 1_767_268_859.5


def test_unfreeze_runs_on_from_where_it_stood_and_reset_goes_back_to_real_time():
    base = FakeTime(T0)
    clock = EmulatorClock(base)
    clock.freeze()
    clock.advance(60)
    base.t += 5
    assert clock.unfreeze() == T0 + 60 and not clock.frozen
    base.t += 1
    assert clock.now() == T0 + 61
    clock.freeze()
    clock.reset()
    assert not clock.frozen and clock.now() == base.t


def test_the_admin_clock_answers_the_frozen_time_and_offset(api):
    api.emu.clock.freeze()
    api.time.t = T0 + 30  # real time runs on; the emulator's stands
    body = api.admin("GET", "/_emulator/clock").json()
    assert body["now_ms"] == int(T0 * 1000) and body["offset_seconds"] == -30.0
    api.admin("POST", "/_emulator/clock", {"advance_seconds": 2})
    assert api.admin("GET", "/_emulator/clock").json()["now_ms"] == int((T0 + 2) * 1000)
