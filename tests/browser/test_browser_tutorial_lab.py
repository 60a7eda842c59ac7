"""The tutorial in JupyterLab: Run All, then a person's clicks, drags and key presses.

Expectations come from ``orwidgets.policy`` or from the issue's hand-derivable figures ($0.50 buys
the minimum 1 RPS, $42.30 rounds up to 43, $1,000 hits the 500 cap).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import orw_browser as ob
import pytest

from orwidgets import policy

pytestmark = pytest.mark.browser

PRESET = "21 free calls in one minute"


@pytest.fixture(scope="module")
def lab(chromium: Any, lab_server: ob.Server, jupyter_sandbox: ob.Sandbox) -> Iterator[Any]:
    if not ob.TUTORIAL.exists():
        pytest.fail(f"{ob.TUTORIAL} does not exist", pytrace=False)
    context, page, watch = ob.new_page(chromium)
    ob.open_lab_notebook(page, lab_server, jupyter_sandbox.tutorial)
    ob.run_all_cells(page)
    page.wait_for_selector(f"{ob.RPS} .js-plotly-plot", timeout=ob.RENDER_MS)
    yield page, watch
    context.close()


def _screenshot(page: Any, selector: str, name: str) -> None:
    path = ob.screenshot(page.locator(selector).first, name)
    # Pictures for the README come from here: ORW_DOC_IMAGES=1 copies them into docs/img/.
    if os.environ.get("ORW_DOC_IMAGES") == "1":
        ob.DOC_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, ob.DOC_IMAGES / f"{name.removeprefix('lab-')}.png")


def _settle(page: Any) -> float:
    """Let every echo between kernel and page finish; then the RPS readout, the marker's height
    and the policy agree for the marker's balance, which the slider and the field also show.
    Returns that balance."""
    ob.lab_kernel_barrier(page)
    ob.wait_rps_settled(page)
    x, y, _ = ob.rps_state(page)
    want = policy.paid_rps(x)
    ob.wait_rps_value(page, str(want))
    assert y == want, f"marker at ({x}, {y}); the policy says {want} RPS for ${x}"
    return x


def _from(page: Any, balance: str) -> float:
    """Put the explorer at a known balance through its typed input. $100 is a point of the log
    slider's grid (10**2), so the slider has nothing to round."""
    page.locator(ob.RPS).first.scroll_into_view_if_needed()
    ob.type_balance(page, balance)
    ob.wait_rps_marker_at(page, float(balance))
    x = _settle(page)
    assert x == pytest.approx(float(balance), abs=0.005)
    return x


# --- RPS explorer ------------------------------------------------------------------------------


def test_rps_explorer_renders_slider_readout_and_chart(lab: Any) -> None:
    page, _ = lab
    root = page.locator(ob.RPS).first
    root.wait_for(timeout=ob.RENDER_MS)
    root.scroll_into_view_if_needed()
    for part in (ob.RPS_HANDLE, ob.RPS_INPUT, ob.RPS_VALUE, f"{ob.RPS} .js-plotly-plot"):
        assert page.locator(part).first.is_visible(), part
    _settle(page)


@pytest.mark.parametrize("root", [ob.RPS, ob.QUOTA, ob.LIVECALLS])
def test_widget_renders_with_nonblank_charts(lab: Any, root: str) -> None:
    page, _ = lab
    locator = page.locator(root).first
    locator.scroll_into_view_if_needed()
    assert locator.is_visible()
    charts = ob.plot_trace_counts(page, root)
    assert charts and all(n > 0 for n in charts), f"traces per chart in {root}: {charts}"


@pytest.mark.parametrize(
    ("root", "name", "has_chart"),
    [(".orw-planner", "lab-planner", True), (".orw-advisor", "lab-advisor", False),
     (".orw-account-panel", "lab-account-panel", False)],
)
def test_other_tutorial_widgets_render(lab: Any, root: str, name: str, has_chart: bool) -> None:
    page, _ = lab
    locator = page.locator(root).first
    locator.scroll_into_view_if_needed()
    assert locator.is_visible()
    # JupyterLab renders cells far down the notebook once they scroll into view.
    page.wait_for_function("(root) => document.querySelector(root).innerText.trim().length > 0",
                           arg=root, timeout=ob.REACT_MS)
    if has_chart:
        charts = ob.plot_trace_counts(page, root)
        assert charts and all(n > 0 for n in charts), f"traces per chart in {root}: {charts}"
    _screenshot(page, root, name)


@pytest.mark.parametrize(
    ("typed", "rps"),
    [("0.5", 1), ("42.3", 43), ("1000", 500)],
    ids=["minimum", "rounded-up", "cap"],
)
def test_typed_balance_sets_rps_readout_and_marker(lab: Any, typed: str, rps: int) -> None:
    page, _ = lab
    ob.type_balance(page, typed)
    ob.wait_rps_marker_at(page, float(typed))
    ob.wait_rps_value(page, str(rps))
    x = _settle(page)
    if typed == "42.3":
        _screenshot(page, ob.RPS, "lab-rps-explorer")
    # The typed balance must stay what was typed (not snapped to the log slider's grid).
    assert x == pytest.approx(float(typed), abs=0.005), f"typed {typed}, balance became {x}"
    assert ob.rps_state(page)[1:] == (rps, str(rps))


@pytest.mark.parametrize(
    ("key", "direction"),
    [("End", 1), ("Home", -1), ("ArrowRight", 1), ("ArrowLeft", -1), ("PageUp", 1)],
)
def test_slider_key_moves_rps_readout_and_marker(lab: Any, key: str, direction: int) -> None:
    page, _ = lab
    start = _from(page, "100")
    page.focus(ob.RPS_HANDLE)
    page.keyboard.press(key)
    ob.wait_trace_changed(page, ob.RPS, ob.MARKER, [start])
    x = _settle(page)
    assert (x - start) * direction > 0


def test_slider_mouse_drag_moves_rps_readout_and_marker(lab: Any) -> None:
    page, _ = lab
    start = _from(page, "100")
    handle = page.locator(ob.RPS_HANDLE).first
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 120, cy, steps=8)
    page.mouse.up()
    ob.wait_trace_changed(page, ob.RPS, ob.MARKER, [start])
    x = _settle(page)
    assert x > start


# --- Free quota explorer ----------------------------------------------------------------------


def _quota(page: Any) -> int:
    return int((page.locator(ob.DAILY_QUOTA).first.text_content() or "").strip().replace(",", ""))


def test_topup_toggle_switches_daily_quota(lab: Any) -> None:
    page, _ = lab
    toggle = page.locator(ob.TOPUP).first
    toggle.scroll_into_view_if_needed()
    low = policy.daily_free_quota_topped_up(False)
    high = policy.daily_free_quota_topped_up(True)
    assert (low, high) == (policy.FREE_DAILY_LOW, policy.FREE_DAILY_HIGH)
    seen = []
    for _ in range(2):
        on = "mod-active" in (toggle.get_attribute("class") or "")
        assert _quota(page) == (high if on else low)
        toggle.click()
        want = low if on else high
        page.wait_for_function(
            "([sel, want]) => { const e = document.querySelector(sel);"
            " return !!e && e.textContent.trim().replace(/,/g, '') === String(want); }",
            arg=[ob.DAILY_QUOTA, want],
            timeout=ob.REACT_MS,
        )
        seen.append(_quota(page))
        if want == high:
            _screenshot(page, ob.QUOTA, "lab-quota-explorer")
    assert sorted(seen) == [low, high]


# --- LiveCalls --------------------------------------------------------------------------------


def test_livecalls_preset_shows_20_ok_and_one_per_minute_429(lab: Any) -> None:
    from orwidgets.client import CallClass

    page, _ = lab
    counts, last_error = ob.run_livecalls_preset(page, PRESET)
    assert counts == {
        CallClass.OK.value: policy.free_per_minute(),
        CallClass.FREE_PER_MINUTE.value: 1,
    }
    assert policy.MESSAGES.free_per_minute.strip() in last_error
    _screenshot(page, ob.LIVECALLS, "lab-livecalls")


# --- Prose: text, never LaTeX -----------------------------------------------------------------



def test_markdown_shows_every_word_as_text_and_no_math(lab: Any, jupyter_sandbox: ob.Sandbox) -> None:
    page, _ = lab
    shown = ob.lab_rendered_markdown(page)
    nb_path = jupyter_sandbox.notebooks / jupyter_sandbox.tutorial
    assert ob.markdown_render_problems(nb_path, shown) == []
    for name, text in ob.MARKDOWN_ONCE_BROKEN.items():
        ob.screenshot(page.locator(f'.jp-MarkdownCell:has-text("{text}")').first, f"lab-{name}")


@pytest.mark.parametrize("name", ["02-embed-gallery.ipynb", "03-test-your-app.ipynb"])
def test_other_notebooks_markdown_shows_as_text(
    chromium: Any, lab_server: ob.Server, jupyter_sandbox: ob.Sandbox, name: str
) -> None:
    context, page, _ = ob.new_page(chromium)
    try:
        ob.open_lab_notebook(page, lab_server, f"notebooks/{name}")  # opened, not run
        shown = ob.lab_rendered_markdown(page)
    finally:
        context.close()
    assert ob.markdown_render_problems(jupyter_sandbox.notebooks / "notebooks" / name, shown) == []


# --- Last: nothing complained -----------------------------------------------------------------


def test_tutorial_in_lab_has_no_console_errors(lab: Any) -> None:
    lab[1].assert_clean()
