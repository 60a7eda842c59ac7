"""The same tutorial served by Voila (what a Binder ``urlpath=voila/render/...`` link opens):
the widgets render and the RPS explorer reacts to its slider."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orw_browser as ob
import pytest

from orwidgets import policy

pytestmark = pytest.mark.browser



@pytest.fixture(scope="module")
def voila(chromium: Any, voila_server: ob.Server, jupyter_sandbox: ob.Sandbox) -> Iterator[Any]:
    if not ob.TUTORIAL.exists():
        pytest.fail(f"{ob.TUTORIAL} does not exist", pytrace=False)
    context, page, watch = ob.new_page(chromium)
    frames = ob.FrameCounter(page)
    ob.open_voila(page, voila_server, jupyter_sandbox.tutorial)
    page.wait_for_selector(f"{ob.RPS} .js-plotly-plot", timeout=ob.RENDER_MS)
    yield page, watch, frames
    context.close()


@pytest.mark.parametrize("root", [ob.RPS, ob.QUOTA, ob.LIVECALLS])
def test_voila_renders_widget(voila: Any, root: str) -> None:
    page, _, _ = voila
    locator = page.locator(root).first
    locator.wait_for(timeout=ob.RENDER_MS)
    locator.scroll_into_view_if_needed()
    assert locator.is_visible()
    ob.screenshot(locator, "voila-" + root.removeprefix(".orw-"))
    charts = ob.plot_trace_counts(page, root)
    assert charts and all(n > 0 for n in charts), f"traces per chart in {root}: {charts}"


def test_voila_slider_key_moves_rps_readout_and_marker(voila: Any) -> None:
    page, _, _ = voila
    x0, _, _ = ob.rps_state(page)
    page.focus(ob.RPS_HANDLE)
    page.keyboard.press("End")
    x1 = ob.wait_trace_changed(page, ob.RPS, ob.MARKER, [x0])["x"][0]
    want = policy.paid_rps(x1)
    ob.wait_rps_value(page, str(want))
    assert x1 > x0
    assert ob.rps_state(page)[1:] == (want, str(want))


def test_voila_typed_balance_sets_rps_readout(voila: Any) -> None:
    page, _, _ = voila
    ob.type_balance(page, "42.3")
    ob.wait_rps_marker_at(page, 42.3)
    ob.wait_rps_value(page, "43")  # $42.30 rounds up to 43 RPS


def test_voila_markdown_shows_every_word_as_text_and_no_math(
    voila: Any, jupyter_sandbox: ob.Sandbox
) -> None:
    page, _, _ = voila
    shown = ob.voila_rendered_markdown(page)
    nb_path = jupyter_sandbox.notebooks / jupyter_sandbox.tutorial
    assert ob.markdown_render_problems(nb_path, shown) == []
    for name, text in ob.MARKDOWN_ONCE_BROKEN.items():
        ob.screenshot(page.locator(f'.jp-MarkdownCell:has-text("{text}")').first, f"voila-{name}")


def test_voila_tutorial_has_no_console_errors(voila: Any) -> None:
    voila[1].assert_clean()


def test_voila_receives_plotlys_module_once_for_all_its_figures(voila: Any) -> None:
    # plotly's FigureWidget front end is a 5 MB module; the tutorial has four figures. One hidden
    # carrier sends it and the page evaluates it once (orwidgets/widgets/_plotly_once.py).
    page, _, frames = voila
    page.wait_for_selector(f"{ob.LIVECALLS} .js-plotly-plot", timeout=ob.RENDER_MS)
    assert len(page.locator(".js-plotly-plot").all()) >= 4
    assert len(frames.larger_than(1_000_000)) == 1, frames.larger_than(1_000_000)
    assert page.evaluate("() => globalThis.__orwidgetsModules.size") == 1
