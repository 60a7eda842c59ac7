"""Shared helpers: formatting, typed numbers, guarded observers, the scheduler, the key field."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from orwidgets.policy import POLICIES
from orwidgets.widgets import AccountModel
from orwidgets.widgets._common import (
    KeyField,
    Notice,
    aligned_ranges,
    call_later,
    fmt_clock,
    fmt_count,
    fmt_duration,
    fmt_usd,
    fmt_usd_fine,
    guarded,
    log_ticks,
    plural_n,
    policy_caption,
    policy_picker,
    set_number,
)

KEY = "sk-or-v1-" + "c0ffee" * 10 + "abcd"


@pytest.mark.parametrize(("value", "text"), [(1234.5, "$1,234.50"), (-0.5, "-$0.50"),
                                             (-5, "-$5.00"), (-1234.5, "-$1,234.50"),
                                             (-0.001, "$0.00"), (None, "unknown")])
def test_fmt_usd_puts_the_sign_before_the_dollar(value, text):
    assert fmt_usd(value) == text


@pytest.mark.parametrize(("value", "text"), [
    (0.0024579, "$0.00246"), (-0.0024579, "-$0.00246"), (0.000015, "$0.000015"),
    (0.123456, "$0.123"), (0.01, "$0.01"), (0.5, "$0.50"), (25, "$25.00"), (1234.5, "$1,234.50"),
    (0, "$0.00"), (None, "unknown")])
def test_fmt_usd_fine_keeps_fractions_of_a_cent_readable(value, text):
    assert fmt_usd_fine(value) == text


@pytest.mark.parametrize(("value", "text"), [(1000, "1,000"), (1000.0, "1,000"), (2.5, "2.5"),
                                             (1 / 3, "0.33"), (1_000_000, "1,000,000"),
                                             (0, "0"), (None, "unknown")])
def test_fmt_count_groups_thousands_and_trims_zeros(value, text):
    assert fmt_count(value) == text


@pytest.mark.parametrize(("count", "n"), [(1, 1), (1.0, 1), (0, 0), (2, 2), (1000, 1000),
                                          (1.5, 2), (0.5, 2), (-3, 3), (None, 2), (2**40, 2)])
def test_plural_n_reads_a_count_as_english_does(count, n):
    # "1 call", "0 calls", "1.5 calls": only exactly one is singular; n is whole for ngettext.
    assert plural_n(count) == n and isinstance(plural_n(count), int)


@pytest.mark.parametrize(("seconds", "text"), [(45, "45 s"), (1200, "20 min"),
                                               (3 * 3600 + 300, "3 h 05 min"),
                                               (2 * 86400 + 4 * 3600, "2 d 04 h"),
                                               (None, "never")])
def test_fmt_duration(seconds, text):
    assert fmt_duration(seconds) == text


def test_fmt_clock_wraps_to_the_day():
    assert fmt_clock(86_400 + 14 * 3600 + 5 * 60) == "14:05"


def test_policy_picker_offers_every_version():
    picker = policy_picker("current")
    assert [v for _, v in picker.options] == list(POLICIES)
    assert picker.value == list(POLICIES)[-1]  # "current" selects the newest dated version
    assert [label for label, _ in picker.options][-1].endswith("[current]")


@pytest.mark.parametrize("pid", list(POLICIES))
def test_policy_caption_gives_the_version_and_its_period_once(pid):
    v = POLICIES[pid]
    html = policy_caption(pid)
    assert f">{v.id}</b>" in html
    assert html.count(v.in_force_text) == 1 and html.count("in force") == 1
    # The ISO dates behind the period were a second copy of it.
    for date in (v.in_force_from, v.in_force_until):
        if date and date not in v.in_force_text:
            assert date not in html
    # The picker above the caption already shows the title.
    assert v.title not in html


def test_only_the_newest_caption_says_current_names_it():
    captions = {pid: policy_caption(pid) for pid in POLICIES}
    marked = [pid for pid, html in captions.items() if "<code>current</code>" in html]
    assert marked == [list(POLICIES)[-1]]


@pytest.mark.parametrize("pid", list(POLICIES))
def test_policy_picker_label_does_not_repeat_the_period(pid):
    v = POLICIES[pid]
    label = dict((value, text) for text, value in policy_picker(pid).options)[pid]
    assert label.startswith(f"{v.id}: ")
    for part in (v.in_force_text, v.in_force_from, v.in_force_until):
        assert not part or part not in label


def test_set_number_takes_a_good_value_and_clears_the_notice():
    acct, notice = AccountModel(), Notice()
    notice.show("old")
    assert set_number(acct, "balance_usd", 12.5, notice) is True
    assert acct.balance_usd == 12.5 and notice.text == ""


@pytest.mark.parametrize("bad", ["abc", None, math.nan, math.inf])
def test_set_number_refuses_and_explains_bad_values(bad):
    acct, notice = AccountModel(balance_usd=3.0), Notice()
    assert set_number(acct, "balance_usd", bad, notice, "balance") is False
    assert acct.balance_usd == 3.0
    assert notice.text.startswith("balance: ") and "kept 3.0" in notice.text


def test_set_number_reports_a_clamp():
    acct, notice = AccountModel(), Notice()
    assert set_number(acct, "purchased_usd", -4, notice, "credits purchased") is True
    assert acct.purchased_usd == 0.0
    assert notice.text == "credits purchased: -4 is out of range; clamped to 0."


def test_guarded_observer_shows_the_error_instead_of_raising():
    notice = Notice()

    @guarded(notice)
    def boom(change):
        raise RuntimeError("exploded")

    assert boom({}) is None
    assert notice.text == "Something went wrong: RuntimeError: exploded"
    assert notice.level == "error"
    assert "exploded" in notice.last_traceback  # type: ignore[attr-defined]


def test_call_later_without_a_running_loop_runs_now():
    ran = []
    handle = call_later(5.0, lambda: ran.append(1))
    handle.cancel()
    assert ran == [1]


def test_key_field_takes_the_environment_key(monkeypatch):
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    field = KeyField()
    assert field.from_env and field.key is not None and field.key.reveal() == KEY
    assert KEY not in field.status.value
    assert f"key {field.key.masked} (from OPENROUTER_API_KEY)" in field.status.value


def test_key_field_moves_the_typed_key_into_memory_and_empties_the_box():
    changed = []
    field = KeyField(on_change=lambda: changed.append(1))
    field.box.value = KEY
    assert field.box.value == ""
    assert field.key is not None and field.key.reveal() == KEY
    assert changed == [1]
    state = json.dumps(field.box.get_state(), default=str) + field.status.value
    assert KEY not in state
    assert f"key {field.key.masked} (in memory)" in field.status.value


def test_key_field_refuses_a_blank_key_and_keeps_nothing():
    field = KeyField()
    field.box.value = "   "
    assert field.key is None and field.box.value == ""
    assert ">The key you pasted is empty; nothing was kept.<" in field.status.value


def test_key_boxes_never_echo_a_typed_key_back_over_the_comm():
    from orwidgets.widgets._common import KeyBox, KeyField

    assert KeyBox.class_traits()["value"].metadata.get("echo_update") is False
    assert isinstance(KeyField().box, KeyBox)


def test_figure_state_refresh_is_coalesced_on_a_running_loop(monkeypatch):
    import asyncio

    from orwidgets.widgets import _common
    from orwidgets.widgets._common import figure_widget

    monkeypatch.setattr(_common, "FIGURE_SYNC_DELAY_S", 0.0)  # due on the loop's next turn

    async def drag():
        fig = figure_widget()
        fig.add_scatter(x=[0], y=[0], name="m")
        fig.sync_state()
        for x in range(1, 6):
            with fig.batch_update():
                fig.data[0].x = [x]
        before = [list(t["x"]) for t in fig._widget_data]
        for _ in range(3):  # a few turns of the loop: the single pending refresh runs
            await asyncio.sleep(0)
        return before, [list(t["x"]) for t in fig._widget_data]

    before, after = asyncio.run(drag())
    assert before == [[0]] and after == [[5]]


# --- axes -----------------------------------------------------------------------------------------


def test_log_ticks_label_the_cap_in_full():
    ticks = log_ticks(0.7, 800.0, extra=(500,))
    # plotly's own labels for these were 1, 10, 100 and "5" for the cap.
    assert ticks["tickvals"] == [1, 10, 100, 500]
    assert ticks["ticktext"] == ["1", "10", "100", "500"]


def test_log_ticks_in_money_are_whole_amounts():
    ticks = log_ticks(0.01, 2000.0, money=True, extra=(500,))
    assert dict(zip(ticks["tickvals"], ticks["ticktext"])) == {
        0.01: "$0.01", 0.1: "$0.10", 1: "$1", 10: "$10", 100: "$100", 500: "$500"}


def test_log_ticks_in_money_below_a_cent_are_not_rounded_to_nothing():
    ticks = log_ticks(0.0001, 50.0, money=True, extra=(25,))
    assert dict(zip(ticks["tickvals"], ticks["ticktext"])) == {
        0.0001: "$0.0001", 0.001: "$0.001", 0.01: "$0.01", 0.1: "$0.10", 1: "$1", 25: "$25"}


def _grid(axis: dict) -> tuple[int, int]:
    """(intervals below zero, intervals in all) of an axis from aligned_ranges."""
    lo, hi = axis["range"]
    step = axis["dtick"]
    below, total = -lo / step, (hi - lo) / step
    assert below == pytest.approx(round(below)) and total == pytest.approx(round(total))
    return round(below), round(total)


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@example(left=[0.0, 0.0], right=[0.0, 5e-324])  # once underflowed to log10(0)
@given(st.tuples(finite, finite).map(sorted), st.tuples(finite, finite).map(sorted))
def test_aligned_ranges_share_one_grid_and_cover_the_data(left, right):
    a, b = aligned_ranges(tuple(left), tuple(right))
    assert _grid(a) == _grid(b)  # same gridlines, zero on the same one
    for axis, (lo, hi) in ((a, left), (b, right)):
        assert axis["range"][0] <= min(lo, 0.0) and axis["range"][1] >= max(hi, 0.0)
        mantissa = axis["dtick"] / 10 ** math.floor(math.log10(axis["dtick"]))
        assert round(mantissa, 9) in (1.0, 2.0, 2.5, 5.0)
