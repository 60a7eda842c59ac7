"""No widget text is cut off: every button label, description label and dropdown option of every
widget fits its box, in JupyterLab (at the tutorial's width) and in Voila.

ipywidgets draws buttons and description labels with ``overflow: hidden; text-overflow: ellipsis``
and a fixed default width, so a label one word too long silently became "Check with si…"
(planner), "heavy developer …" (advisor) or "concurre…" (LiveCalls). This test measures the
rendered text against its box (``orw_browser.cut_off_texts``), on a small notebook holding one of
each widget, first as built and then in the states that show more controls (the real-API target
and the rate mode of LiveCalls, the model cost of the planner, the custom URL of the account
panel). Screenshots: ``test-artifacts/labels-<app>-<widget>.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orw_browser as ob
import pytest

pytestmark = pytest.mark.browser

NOTEBOOK = "orw-every-widget.ipynb"
CELLS = [
    "from orwidgets.emulator import start\n"
    "from orwidgets.widgets import (AccountPanel, DepletionPlanner, FreeQuotaExplorer, LiveCalls,\n"
    "                               RPSExplorer, TopUpAdvisor)\n"
    "emu = start(latency_ms=0)",
    "RPSExplorer()",
    "FreeQuotaExplorer()",
    "DepletionPlanner()",
    "TopUpAdvisor()",
    "AccountPanel()",
    "LiveCalls(emu)",
]
#: Widget name -> root selector (the DOM contract's classes).
WIDGETS = {
    "rps": ob.RPS,
    "quota": ob.QUOTA,
    "planner": ".orw-planner",
    "advisor": ".orw-advisor",
    "account": ".orw-account-panel",
    "livecalls": ob.LIVECALLS,
}


def _model_count() -> int:
    from orwidgets.emulator import CATALOGUE

    return len(CATALOGUE)


def _show(page: Any, root: str) -> None:
    locator = page.locator(root).first
    locator.wait_for(timeout=ob.RENDER_MS)
    locator.scroll_into_view_if_needed()
    # JupyterLab lays out cells far down the notebook once they scroll into view.
    page.wait_for_function(
        "(root) => { const r = document.querySelector(root);"
        " return !!r && r.getBoundingClientRect().height > 0 && r.innerText.trim().length > 0; }",
        arg=root, timeout=ob.REACT_MS,
    )
    if root == ob.LIVECALLS:
        # Its model list arrives from the emulator's GET /models after the first render: the
        # longest labels are in there.
        page.wait_for_function(
            "([sel, n]) => { const s = document.querySelector(sel);"
            " return !!s && s.options.length >= n; }",
            arg=[f"{ob.LIVECALLS} .orw-model select", _model_count()], timeout=ob.REACT_MS,
        )


def _assert_fits(page: Any, app: str, name: str, state: str = "") -> None:
    root = WIDGETS[name]
    _show(page, root)
    problems = ob.cut_off_texts(page, root)
    suffix = f"-{state}" if state else ""
    ob.screenshot(page.locator(root).first, f"labels-{app}-{name}{suffix}")
    assert not problems, f"{name}{suffix} in {app}: cut-off text:\n  " + "\n  ".join(problems)


def _click_and_wait(page: Any, click: str, appears: str) -> None:
    button = page.locator(click).first
    button.scroll_into_view_if_needed()
    button.click()
    page.locator(appears).first.wait_for(state="visible", timeout=ob.REACT_MS)


#: States that show more controls: (name, widget, action) where action makes them appear.
def _real_api_rate(page: Any) -> None:
    _click_and_wait(page, f"{ob.LIVECALLS} .orw-target button:has-text('OpenRouter')",
                    f"{ob.LIVECALLS} .orw-confirm")
    _click_and_wait(page, f"{ob.LIVECALLS} .orw-mode button:has-text('rate')",
                    f"{ob.LIVECALLS} .orw-rate")


def _model_cost(page: Any) -> None:
    _click_and_wait(page, ".orw-planner .orw-cost-mode button:has-text('model')",
                    ".orw-planner .orw-planner-model")


def _custom_url(page: Any) -> None:
    select = page.locator(".orw-account-panel .orw-account-target select").first
    select.scroll_into_view_if_needed()
    select.select_option(label="custom URL")
    page.locator(".orw-account-panel .orw-account-url").first.wait_for(
        state="visible", timeout=ob.REACT_MS)


def _in_flight(page: Any) -> None:
    from orwidgets.policy import get_policy

    select = page.locator(f"{ob.RPS} .orw-policy-picker select").first
    select.scroll_into_view_if_needed()
    select.select_option(label=get_policy("2026-08").label)
    page.locator(f"{ob.RPS} .orw-in-flight-model").first.wait_for(
        state="visible", timeout=ob.REACT_MS)


STATES = [("real-api-rate", "livecalls", _real_api_rate), ("model-cost", "planner", _model_cost),
          ("custom-url", "account", _custom_url), ("in-flight", "rps", _in_flight)]


@pytest.fixture(scope="module")
def notebook(jupyter_sandbox: ob.Sandbox) -> str:
    ob.write_notebook(jupyter_sandbox.notebooks / NOTEBOOK, CELLS)
    return NOTEBOOK


@pytest.fixture(scope="module")
def lab(chromium: Any, lab_server: ob.Server, notebook: str) -> Iterator[Any]:
    context, page, watch = ob.new_page(chromium)
    ob.open_lab_notebook(page, lab_server, notebook)
    ob.run_all_cells(page)
    yield page, watch
    context.close()


@pytest.fixture(scope="module")
def voila(chromium: Any, voila_server: ob.Server, notebook: str) -> Iterator[Any]:
    context, page, watch = ob.new_page(chromium)
    ob.open_voila(page, voila_server, notebook)
    yield page, watch
    context.close()


@pytest.fixture(scope="module", params=["lab", "voila"])
def shown(request: pytest.FixtureRequest) -> tuple[str, Any, ob.PageWatch]:
    """The notebook's page in one app: (app name, page, watch)."""
    page, watch = request.getfixturevalue(request.param)
    return request.param, page, watch


@pytest.mark.parametrize("name", list(WIDGETS))
def test_no_widget_text_is_cut_off(shown: Any, name: str) -> None:
    app, page, _ = shown
    _assert_fits(page, app, name)


@pytest.mark.parametrize(("state", "name", "action"), STATES, ids=[s[0] for s in STATES])
def test_no_widget_text_is_cut_off_in_other_states(shown: Any, state: str, name: str,
                                                   action: Any) -> None:
    app, page, _ = shown
    action(page)
    _assert_fits(page, app, name, state)


def test_the_page_has_no_console_errors(shown: Any) -> None:
    shown[2].assert_clean()
