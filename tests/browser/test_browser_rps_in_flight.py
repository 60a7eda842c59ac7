"""RPSExplorer under 2026-08 in JupyterLab and Voila: the slider moves the in-flight budget's
readout and the chart's marker, with the in-kernel emulator's own numbers.

The notebook gives the emulator other numbers than the defaults (a quarter of the balance, a $10
ceiling), so a budget that shows them came through ``GET /_emulator/in_flight``. Expectations come
from ``orwidgets.policy.InFlightParams`` and the engine (``orwidgets.simulation.in_flight_fit``).
Screenshots: ``test-artifacts/rps-in-flight-<app>-<state>.png``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import orw_browser as ob
import pytest

from orwidgets.policy import IN_FLIGHT_DEFAULTS

pytestmark = pytest.mark.browser

NOTEBOOK = "orw-rps-in-flight.ipynb"
NUMBERS = {"fraction": 0.25, "ceiling_usd": 10.0}
PARAMS = IN_FLIGHT_DEFAULTS.updated(NUMBERS)
START_USD = 4.0
CELLS = [
    "from orwidgets.emulator import start\n"
    "from orwidgets.widgets import RPSExplorer\n"
    "emu = start(latency_ms=0)\n"
    f"emu.emulator.set_in_flight({NUMBERS!r})",
    f"RPSExplorer(policy='2026-08', balance_usd={START_USD}, emulator=emu)",
]
BUDGET = f"{ob.RPS} .orw-in-flight-readout .orw-budget-value"
FIT = f"{ob.RPS} .orw-in-flight-readout .orw-fit-value"


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
    page, watch = request.getfixturevalue(request.param)
    root = page.locator(ob.RPS).first
    root.wait_for(timeout=ob.RENDER_MS)
    root.scroll_into_view_if_needed()
    page.locator(BUDGET).first.wait_for(timeout=ob.RENDER_MS)
    return request.param, page, watch


def _marker(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """([root, name]) => {
          const g = document.querySelector(root + ' .js-plotly-plot');
          const t = g && g.data && g.data.find(d => d.name === name);
          return t ? {x: t.x[0], y: t.y[0], symbol: (t.marker || {}).symbol || 'circle'} : null;
        }""",
        [ob.RPS, ob.MARKER],
    )


def _text(page: Any, selector: str) -> str:
    return (page.locator(selector).first.text_content() or "").strip()


def _wait_text(page: Any, selector: str, want: str) -> None:
    page.wait_for_function(
        "([sel, want]) => { const e = document.querySelector(sel);"
        " return !!e && e.textContent.trim() === want; }",
        arg=[selector, want], timeout=ob.REACT_MS,
    )


def _expected(balance: float) -> tuple[str, str]:
    """The budget and the count of requests that fit, as the readout words them."""
    from orwidgets.simulation import in_flight_fit
    from orwidgets.widgets._common import fmt_count, fmt_usd_fine
    from orwidgets.widgets.rps import InFlightModel
    from orwidgets.widgets import AccountModel

    request = InFlightModel(AccountModel(policy="2026-08", balance_usd=balance),
                            params=PARAMS).request()
    fit = in_flight_fit(balance, request, "2026-08", PARAMS)
    budget = PARAMS.budget_usd(balance)
    return ("none" if budget is None else fmt_usd_fine(budget),
            "Any number" if fit.fit is None else fmt_count(fit.fit))


def _shot(page: Any, app: str, state: str) -> None:
    path = ob.screenshot(page.locator(ob.RPS).first, f"rps-in-flight-{app}-{state}")
    if app == "lab" and state == "start" and os.environ.get("ORW_DOC_IMAGES") == "1":
        shutil.copy2(path, ob.DOC_IMAGES / "rps-in-flight.png")


def test_the_budget_shows_the_emulators_numbers(shown: Any) -> None:
    app, page, _ = shown
    budget, fit = _expected(START_USD)
    _wait_text(page, BUDGET, budget)
    assert budget == "$1.00"  # a quarter of $4, from the emulator (the default would be half)
    assert _text(page, FIT) == fit
    assert "the emulator's (GET /_emulator/in_flight)" in _text(
        page, f"{ob.RPS} .orw-in-flight-source")
    marker = _marker(page)
    assert (marker["x"], marker["y"]) == (START_USD, pytest.approx(PARAMS.budget_usd(START_USD)))
    _shot(page, app, "start")


def test_an_arrow_key_on_the_slider_moves_the_budget_and_the_marker(shown: Any) -> None:
    app, page, _ = shown
    before = _marker(page)
    page.focus(ob.RPS_HANDLE)
    page.keyboard.press("ArrowRight")
    moved = ob.wait_trace_changed(page, ob.RPS, ob.MARKER, [before["x"]])
    balance = moved["x"][0]
    assert balance > before["x"]
    budget, fit = _expected(balance)
    _wait_text(page, BUDGET, budget)
    _wait_text(page, FIT, fit)
    assert moved["y"][0] == pytest.approx(PARAMS.budget_usd(balance))


def test_the_far_end_of_the_slider_is_past_the_threshold_no_budget(shown: Any) -> None:
    app, page, _ = shown
    page.focus(ob.RPS_HANDLE)
    page.keyboard.press("End")
    _wait_text(page, BUDGET, "none")
    _wait_text(page, FIT, "Any number")
    page.wait_for_function(
        "([root, name]) => { const g = document.querySelector(root + ' .js-plotly-plot');"
        " const t = g && g.data && g.data.find(d => d.name === name);"
        " return !!t && t.marker && t.marker.symbol === 'triangle-up'; }",
        arg=[ob.RPS, ob.MARKER], timeout=ob.REACT_MS,
    )
    marker = _marker(page)
    assert marker["x"] >= PARAMS.threshold_usd and marker["y"] > PARAMS.ceiling_usd
    _shot(page, app, "no-budget")


def test_the_chart_marks_the_ceiling_and_the_threshold(shown: Any) -> None:
    _, page, _ = shown
    ceiling = ob.plotly_trace(page, ob.RPS, "ceiling")
    threshold = ob.plotly_trace(page, ob.RPS, "threshold")
    assert set(ceiling["y"]) == {PARAMS.ceiling_usd}
    assert set(threshold["x"]) == {PARAMS.threshold_usd}


def test_no_label_of_the_request_controls_is_cut_off(shown: Any) -> None:
    app, page, _ = shown
    page.locator(f"{ob.RPS} .orw-in-flight-model").first.scroll_into_view_if_needed()
    assert ob.cut_off_texts(page, ob.RPS) == []


def test_no_console_errors(shown: Any) -> None:
    _, _, watch = shown
    watch.assert_clean()
