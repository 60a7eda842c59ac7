"""The tutorial in Notebook 7: LiveCalls works there too (same server as the JupyterLab tests)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from typing import Any

import orw_browser as ob
import pytest

from orwidgets import policy

pytestmark = pytest.mark.browser

PRESET = "21 free calls in one minute"


@pytest.fixture(scope="module")
def notebook7(chromium: Any, lab_server: ob.Server, jupyter_sandbox: ob.Sandbox) -> Iterator[Any]:
    if importlib.util.find_spec("notebook") is None:
        pytest.fail("the test extra installs `notebook` (Notebook 7); it is missing", pytrace=False)
    context, page, watch = ob.new_page(chromium)
    ob.open_notebook7(page, lab_server, jupyter_sandbox.tutorial)
    ob.run_all_cells(page)
    page.wait_for_selector(f"{ob.RPS} .js-plotly-plot", timeout=ob.RENDER_MS)
    yield page, watch
    context.close()


def test_notebook7_renders_the_rps_chart_with_its_traces(notebook7: Any) -> None:
    page, _ = notebook7
    page.locator(ob.RPS).first.scroll_into_view_if_needed()
    charts = ob.plot_trace_counts(page, ob.RPS)
    assert charts and all(n > 0 for n in charts), charts


def test_notebook7_livecalls_preset_shows_20_ok_and_one_per_minute_429(notebook7: Any) -> None:
    from orwidgets.client import CallClass

    page, _ = notebook7
    root = page.locator(ob.LIVECALLS).first
    root.scroll_into_view_if_needed()
    root.locator(".orw-preset select").select_option(label=PRESET)
    root.locator(".orw-run").click()
    page.wait_for_function(
        "(sel) => { const e = document.querySelector(sel); return !!e && /\\bdone\\b/.test(e.textContent); }",
        arg=f"{ob.LIVECALLS} .orw-status",
        timeout=60_000,
    )
    counts = {
        c.get_attribute("data-class"): int((c.text_content() or "").strip())
        for c in root.locator(".orw-count").all()
    }
    assert counts == {CallClass.OK.value: policy.free_per_minute(), CallClass.FREE_PER_MINUTE.value: 1}
    assert policy.MESSAGES.free_per_minute.strip() in (root.locator(".orw-last-error pre").text_content() or "")
    ob.screenshot(root, "notebook7-livecalls")


def test_notebook7_has_no_console_errors(notebook7: Any) -> None:
    _, watch = notebook7
    watch.assert_clean(ob.NOTEBOOK7_ALLOWED_UNCAUGHT)
