"""The journal timeline, driven without a browser: its figure holds one mark per call in the
colour of its class, a bar per wait the answers asked for, and a red ring per call that broke a
rule of the verdict."""

from __future__ import annotations

import pytest

from orwidgets.client import CallClass
from orwidgets.journal import Entry, Journal
from orwidgets.verdict import verdict
from orwidgets.widgets import JournalTimeline
from orwidgets.widgets.timeline import BROKE_COLOR, class_color, class_label, journal_class

T0 = 1_767_268_801.0  # 2026-01-01T12:00:01Z
RESET = 1_767_268_860_000  # the next minute, 12:01:00
FREE = "meta-llama/llama-3.3-70b-instruct:free"
KEY_A = "sk-or-v1-" + "a" * 64
KEY_B = "sk-or-v1-" + "b" * 64


def call(t: float, status: int = 200, cls: str = "ok", **extra) -> Entry:
    fields = {"model": FREE, "key": "sk-or-v1-aaa...aaa", "key_id": "a1", **extra}
    return Entry(T0 + t, status, cls, **fields)


def hammering() -> list[Entry]:
    """20 calls that pass, a per-minute 429, and two retries 0.5 s apart (before the reset)."""
    return ([call(i * 0.1) for i in range(20)]
            + [call(2 + i * 0.5, 429, "free_per_minute", rate_limit_reset=RESET) for i in range(3)])


def waiting() -> list[Entry]:
    """An upstream 429 asking for 10 s, then the retry 12 s later."""
    return [call(0, 429, "upstream_429", retry_after=10), call(12)]


def trace(w: JournalTimeline, name: str):
    (found,) = [t for t in w.figure.data if t.meta == name]
    return found


def test_one_mark_per_call_in_its_class_colour():
    w = JournalTimeline(hammering())
    ok, minute = trace(w, "ok"), trace(w, "free_per_minute")
    assert list(ok.x) == pytest.approx([i * 0.1 for i in range(20)])
    assert list(minute.x) == pytest.approx([2, 2.5, 3])
    assert set(ok.y) == set(minute.y) == {"sk-or-v1-aaa...aaa"}
    assert ok.marker.color == CallClass.OK.color and ok.name == "200 ok"
    assert minute.marker.color == CallClass.FREE_PER_MINUTE.color
    assert minute.name == "429 free per-minute"
    assert (w.calls, w.refused, w.rows) == (23, 3, ["sk-or-v1-aaa...aaa"])


def test_each_wait_is_a_bar_to_the_time_it_asked_for():
    w = JournalTimeline(hammering())
    bars = trace(w, "wait")
    until = RESET / 1000 - T0  # 59 s after the first call
    assert list(bars.x) == pytest.approx([2, until, None, 2.5, until, None, 3, until, None])
    assert "asked to wait until 12:01:00.000 UTC (X-RateLimit-Reset)" in bars.text[0]
    upstream = trace(JournalTimeline(waiting()), "wait")
    assert list(upstream.x) == [0, 10, None]
    assert "(Retry-After 10 s)" in upstream.text[0]


def test_the_calls_that_broke_a_rule_are_ringed_red():
    entries = hammering()
    w = JournalTimeline(entries)
    rings = trace(w, "broke")
    [finding] = verdict(entries)
    assert list(rings.x) == pytest.approx([c.time - T0 for c in finding.calls[1:]]) == [2.5, 3]
    assert rings.marker.color == BROKE_COLOR and rings.marker.symbol == "circle-open"
    assert w.broke == 2
    assert w.findings == {"sk-or-v1-aaa...aaa": ["retry-before-reset"]}
    assert list(trace(JournalTimeline(waiting()), "broke").x) == []


def test_runs_side_by_side_each_from_its_own_first_call():
    later = [call(300 + e.time - T0, e.status, e.call_class, retry_after=e.retry_after)
             for e in waiting()]
    w = JournalTimeline({"naive": hammering(), "with_retries": later})
    assert w.rows == ["naive", "with_retries"]
    upstream = trace(w, "upstream_429")
    assert (list(upstream.x), list(upstream.y)) == ([0], ["with_retries"])
    assert w.findings == {"naive": ["retry-before-reset"], "with_retries": []}
    assert w.figure.layout.xaxis.title.text == "seconds since the run's first call (emulator clock)"
    summary = w.children[2].value
    assert "<b>naive</b>" in summary and "23 calls, 3 refused" in summary
    assert "1 finding: retry-before-reset" in summary and "no findings" in summary


def test_a_journal_shows_a_row_per_key_and_refreshes_when_it_grows():
    journal = Journal()
    journal.record(time=T0, status=200, call_class="ok", key=KEY_A, model=FREE)
    journal.record(time=T0 + 1, status=402, call_class="negative_balance", key=KEY_B, model=FREE)
    journal.record(time=T0 + 2, status=200, call_class="ok", key=KEY_A, path="/api/v1/key")
    w = JournalTimeline(journal)
    assert w.rows == ["sk-or-v1-aaa...aaa", "sk-or-v1-bbb...bbb"] and w.calls == 2  # chat only
    assert w.children[0].children[0].layout.display is None  # Refresh, for a live journal
    journal.record(time=T0 + 3, status=402, call_class="negative_balance", key=KEY_B, model=FREE)
    assert w.calls == 2
    w.children[0].children[0].click()
    assert w.calls == 3 and w.findings["sk-or-v1-bbb...bbb"] == ["retry-of-terminal-error"]
    assert w.figure.layout.xaxis.title.text == "seconds since the first call (emulator clock)"


def test_anything_with_a_journal_is_a_source():
    class Handle:
        journal = Journal()

    Handle.journal.record(time=T0, status=200, call_class="ok", key=KEY_A, model=FREE)
    assert JournalTimeline(Handle()).calls == 1


def test_a_wait_far_past_the_last_call_is_cut_at_the_edge():
    day = [call(0), call(1, 429, "free_per_day_low", rate_limit_reset=int((T0 + 40_000) * 1000))]
    w = JournalTimeline(day)
    low, high = w.figure.layout.xaxis.range
    assert high == pytest.approx(1 + 5 + 0.5)  # the last call, 5 s of the wait, a margin
    assert list(trace(w, "wait").x)[:2] == [1, 40_000]  # drawn whole, shown cut


def test_nothing_to_show():
    w = JournalTimeline()
    assert (w.calls, w.rows) == (0, [])
    assert [(t.meta, len(t.x)) for t in w.figure.data] == [("wait", 0), ("broke", 0)]
    assert "No calls to show yet." in w.children[2].value
    assert w.children[0].children[0].layout.display == "none"
    w.show([])
    assert w.calls == 0


def test_a_wrong_source_says_what_it_takes():
    with pytest.raises(TypeError, match="expected a Journal, entries, or a mapping of name to "
                                        "entries, got int"):
        JournalTimeline(42)


@pytest.mark.parametrize(("cls", "same_as", "label"), [
    ("upstream_429", CallClass.UPSTREAM, "429 upstream provider (injected)"),
    ("hang", CallClass.TIMEOUT, "408 hang, client gave up (injected)"),
    ("in_flight_budget_exhausted", CallClass.IN_FLIGHT_BUDGET, "402 in-flight budget full (wait)"),
    ("unknown_key", CallClass.UNAUTHORIZED, "401 unknown key"),
    ("something_new", CallClass.HTTP_ERROR, "other HTTP error"),
])
def test_every_journal_class_has_a_colour_and_a_label(cls, same_as, label):
    assert journal_class(cls) is same_as
    assert class_color(cls) == same_as.color
    assert class_label(cls) == label


def test_the_figure_state_that_a_late_view_draws_has_the_marks():
    # Voila and a reloaded page draw from the synced state, refreshed after each batch.
    w = JournalTimeline(hammering())
    w.figure.sync_state()
    assert [t["meta"] for t in w.figure._widget_data] == ["wait", "ok", "free_per_minute", "broke"]
