"""The tutorial in Notebook 7: LiveCalls works there too (same server as the JupyterLab tests)."""

from __future__ import annotations

import importlib.util
import shutil
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
    # A copy under another name: a kernel of its own, so that what this page shows comes from
    # its own Run All (test_browser_reload.py covers a page that attaches to a running kernel).
    copy = jupyter_sandbox.tutorial.replace(".ipynb", "-notebook7.ipynb")
    shutil.copy2(jupyter_sandbox.notebooks / jupyter_sandbox.tutorial, jupyter_sandbox.notebooks / copy)
    context, page, watch = ob.new_page(chromium)
    ob.open_notebook7(page, lab_server, copy)
    ob.run_all_cells(page)
    page.wait_for_selector(f"{ob.RPS} .js-plotly-plot", timeout=ob.RENDER_MS)
    yield page, watch, jupyter_sandbox.notebooks / copy
    context.close()


def test_notebook7_renders_the_rps_chart_with_its_traces(notebook7: Any) -> None:
    page, _, _ = notebook7
    page.locator(ob.RPS).first.scroll_into_view_if_needed()
    charts = ob.plot_trace_counts(page, ob.RPS)
    assert charts and all(n > 0 for n in charts), charts


def test_notebook7_livecalls_preset_shows_20_ok_and_one_per_minute_429(notebook7: Any) -> None:
    from orwidgets.client import CallClass

    page, _, _ = notebook7
    counts, last_error = ob.run_livecalls_preset(page, PRESET)
    assert counts == {CallClass.OK.value: policy.free_per_minute(), CallClass.FREE_PER_MINUTE.value: 1}
    assert policy.MESSAGES.free_per_minute.strip() in last_error
    ob.screenshot(page.locator(ob.LIVECALLS).first, "notebook7-livecalls")


def test_notebook7_markdown_shows_every_word_as_text_and_no_math(notebook7: Any) -> None:
    page, _, nb_path = notebook7
    assert ob.markdown_render_problems(nb_path, ob.lab_rendered_markdown(page)) == []


def test_notebook7_has_no_console_errors(notebook7: Any) -> None:
    _, watch, _ = notebook7
    watch.assert_clean(ob.NOTEBOOK7_ALLOWED_UNCAUGHT, ob.NOTEBOOK7_ALLOWED_CONSOLE)
