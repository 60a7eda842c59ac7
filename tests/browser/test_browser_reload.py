"""A page that reloads onto a kernel holding every figure of the tutorial draws them all again.

On a reload (or a second tab) the page creates every widget model the kernel holds at once.
anywidget gives each model 2 s to load its front end; when every FigureWidget carried plotly's
5 MB module and the page evaluated one copy per figure (about 1.3 s each, one after another),
the later figures failed with "Failed to initialize model" and stayed blank. Now the page
evaluates the module once for all of them (``orwidgets/widgets/_plotly_once.py``).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orw_browser as ob
import pytest

from orwidgets import policy

pytestmark = pytest.mark.browser

PLANNER = ".orw-planner"
FIGURES = [ob.QUOTA, ob.RPS, PLANNER, ob.LIVECALLS]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _saved_widget_views(path: Path) -> int:
    """How many widget views the notebook file on disk shows (0 until a save wrote outputs)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # mid-write
        return 0
    return sum(
        WIDGET_VIEW in output.get("data", {})
        for cell in nb["cells"]
        for output in cell.get("outputs", [])
    )


@pytest.fixture(scope="module")
def reloaded(chromium: Any, lab_server: ob.Server, jupyter_sandbox: ob.Sandbox) -> Iterator[Any]:
    if not ob.TUTORIAL.exists():
        pytest.fail(f"{ob.TUTORIAL} does not exist", pytrace=False)
    # A copy under another name: a kernel of its own, and its saved outputs stay in the sandbox.
    copy = jupyter_sandbox.tutorial.replace(".ipynb", "-reload.ipynb")
    path = jupyter_sandbox.notebooks / copy
    shutil.copy2(jupyter_sandbox.notebooks / jupyter_sandbox.tutorial, path)
    context, page, watch = ob.new_page(chromium)
    ob.open_lab_notebook(page, lab_server, copy)
    ob.run_all_cells(page)
    page.wait_for_selector(f"{ob.LIVECALLS} .js-plotly-plot", timeout=ob.RENDER_MS)
    # Save, so that the reloaded page shows the outputs (widget views) again.
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    deadline = time.monotonic() + ob.REACT_MS / 1000
    while _saved_widget_views(path) == 0 and time.monotonic() < deadline:
        time.sleep(0.2)  # polling the file a save writes, not a stand-in for a clock
    assert _saved_widget_views(path) > 0, "the save did not write the widget outputs"
    page.reload(timeout=ob.PAGE_LOAD_MS)
    ob.wait_lab_kernel(page, copy)
    yield page, watch
    context.close()


@pytest.mark.parametrize("root", FIGURES)
def test_reload_draws_every_figure_with_its_traces(reloaded: Any, root: str) -> None:
    page, _ = reloaded
    locator = page.locator(f"{root} .js-plotly-plot").first
    locator.wait_for(timeout=ob.RENDER_MS)
    page.wait_for_function(
        "(root) => { const g = document.querySelector(root + ' .js-plotly-plot');"
        " return !!g && !!g.data && g.data.length > 0; }",
        arg=root,
        timeout=ob.RENDER_MS,
    )
    charts = ob.plot_trace_counts(page, root)
    assert charts and all(n > 0 for n in charts), f"traces per chart in {root}: {charts}"


def test_reload_rps_slider_still_answers(reloaded: Any) -> None:
    page, _ = reloaded
    page.locator(ob.RPS).first.scroll_into_view_if_needed()
    page.wait_for_selector(f"{ob.RPS} .js-plotly-plot", timeout=ob.RENDER_MS)
    x0, _, _ = ob.rps_state(page)
    page.focus(ob.RPS_HANDLE)
    page.keyboard.press("End")
    x1 = ob.wait_trace_changed(page, ob.RPS, ob.MARKER, [x0])["x"][0]
    ob.wait_rps_value(page, str(policy.paid_rps(x1)))
    assert x1 > x0


def test_reload_shows_no_failed_model_and_no_console_error(reloaded: Any) -> None:
    page, watch = reloaded
    for root in FIGURES:  # every figure has had its chance to load
        page.wait_for_selector(f"{root} .js-plotly-plot", timeout=ob.RENDER_MS)
    assert "Failed to initialize" not in (page.locator("body").text_content() or "")
    watch.assert_clean()
