"""Notebook 03 in JupyterLab, run top to bottom: the journal timeline of three clients draws one
mark per call in its class' colour, the waits asked for, and red rings only where a client broke
a rule."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orw_browser as ob
import pytest

from orwidgets.client import CallClass

pytestmark = pytest.mark.browser

NOTEBOOK = "notebooks/03-test-your-app.ipynb"
TIMELINE = ".orw-journal-timeline"
ROWS = ["naive loop", "openai SDK, own retries", "with_retries"]


@pytest.fixture(scope="module")
def notebook03(chromium: Any, lab_server: ob.Server, jupyter_sandbox: ob.Sandbox) -> Iterator[Any]:
    context, page, watch = ob.new_page(chromium)
    ob.open_lab_notebook(page, lab_server, NOTEBOOK)
    ob.run_all_cells(page)
    page.wait_for_selector(f"{TIMELINE} .js-plotly-plot .scatterlayer .trace",
                           timeout=ob.RENDER_MS)
    yield page, watch
    context.close()


def _traces(page: Any) -> dict[str, dict[str, Any]]:
    return page.evaluate(
        """(root) => {
          const g = document.querySelector(root + ' .js-plotly-plot');
          const out = {};
          for (const t of (g && g.data) || []) {
            out[t.name] = {x: Array.from(t.x || []), y: Array.from(t.y || []),
                           color: t.marker ? t.marker.color : null};
          }
          return out;
        }""",
        TIMELINE,
    )


def test_the_timeline_draws_a_mark_per_call_in_its_class_colour(notebook03: Any) -> None:
    page, _ = notebook03
    traces = _traces(page)
    ok = traces[CallClass.OK.label]
    assert set(ok["y"]) == set(ROWS) and ok["color"] == CallClass.OK.color
    minute = traces[CallClass.FREE_PER_MINUTE.label]
    assert minute["color"] == CallClass.FREE_PER_MINUTE.color
    assert set(minute["y"]) == set(ROWS)  # with_retries met one too, and waited it out
    upstream = traces["429 upstream provider (injected)"]
    assert sorted(upstream["y"]) == sorted(ROWS)  # the saturated provider, once per client
    # a wait bar per refused call that said how long: each drawn from its call (None between bars)
    waits = traces["asked to wait"]
    assert len([x for x in waits["x"] if x is None]) == len(upstream["x"]) + len(minute["x"])


def test_red_rings_only_on_the_clients_that_broke_a_rule(notebook03: Any) -> None:
    page, _ = notebook03
    rings = _traces(page)["ignored a limit"]
    assert set(rings["y"]) == {"naive loop", "openai SDK, own retries"}
    verdicts = page.locator(f"{TIMELINE} .orw-timeline-verdict").all_text_contents()
    assert len(verdicts) == 3 and verdicts[2] == "no findings"
    assert "retry-before-reset" in verdicts[0] and "retry-before-retry-after" in verdicts[0]
    assert verdicts[1].endswith(": retry-before-reset")
    ob.screenshot(page.locator(TIMELINE).first, "lab-journal-timeline")


def test_notebook03_has_no_console_errors(notebook03: Any) -> None:
    notebook03[1].assert_clean()
