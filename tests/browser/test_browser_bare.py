"""The harness itself, on ``bare.ipynb`` (one slider + one FigureWidget): if these fail, the
tutorial tests cannot mean anything."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orw_browser as ob
import pytest

pytestmark = pytest.mark.browser

ROOT = ".bare-slider"
HANDLE = ".bare-slider .noUi-handle"
# bare.ipynb: FloatSlider(value=10.0, step=0.1), marker trace at (value, value).
START = 10.0
STEP = 0.1


@pytest.fixture(scope="module")
def bare_lab(chromium: Any, lab_server: ob.Server, jupyter_sandbox: ob.Sandbox) -> Iterator[Any]:
    context, page, watch = ob.new_page(chromium)
    ob.open_lab_notebook(page, lab_server, jupyter_sandbox.bare)
    ob.run_all_cells(page)
    page.wait_for_selector(".js-plotly-plot", timeout=ob.RENDER_MS)
    yield page, watch
    context.close()


@pytest.fixture(scope="module")
def bare_voila(
    chromium: Any, voila_server: ob.Server, jupyter_sandbox: ob.Sandbox
) -> Iterator[Any]:
    context, page, watch = ob.new_page(chromium)
    ob.open_voila(page, voila_server, jupyter_sandbox.bare)
    page.wait_for_selector(".js-plotly-plot", timeout=ob.RENDER_MS)
    yield page, watch
    context.close()


def _marker(page: Any) -> dict[str, Any] | None:
    return ob.plotly_trace(page, "body", "marker")


def _arrow_right_moves_marker(page: Any) -> None:
    before = _marker(page)
    assert before is not None
    page.focus(HANDLE)
    page.keyboard.press("ArrowRight")
    after = ob.wait_trace_changed(page, "body", "marker", before["x"])
    assert after["x"][0] == pytest.approx(before["x"][0] + STEP)
    assert after["y"] == after["x"]


def test_lab_kernel_is_the_venv_python(lab_server: ob.Server) -> None:
    ob.check_kernelspec(lab_server)  # raises with both paths if not


def test_lab_bare_figurewidget_renders_its_traces(bare_lab: Any) -> None:
    page, _ = bare_lab
    marker = _marker(page)
    assert marker == {"x": [START], "y": [START]}
    assert page.locator(".js-plotly-plot .scatterlayer .trace").count() == 2


def test_lab_bare_arrow_key_moves_the_marker(bare_lab: Any) -> None:
    _arrow_right_moves_marker(bare_lab[0])


def test_lab_bare_has_no_console_errors(bare_lab: Any) -> None:
    bare_lab[1].assert_clean()


def test_voila_bare_figurewidget_renders_its_traces(bare_voila: Any) -> None:
    page, _ = bare_voila
    assert _marker(page) == {"x": [START], "y": [START]}


def test_voila_bare_arrow_key_moves_the_marker(bare_voila: Any) -> None:
    _arrow_right_moves_marker(bare_voila[0])


def test_voila_bare_has_no_console_errors(bare_voila: Any) -> None:
    bare_voila[1].assert_clean()
