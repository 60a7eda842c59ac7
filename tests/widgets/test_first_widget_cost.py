"""What the tutorial's first widget costs a reader: the modules it loads and what it sends.

plotly's FigureWidget front end is a 5 MB ES module. orwidgets sends it once per kernel (in one
hidden carrier widget) and every figure a small loader that waits for it: the page evaluates the
module once instead of once per figure (``orwidgets/widgets/_plotly_once.py`` says why).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import ipywidgets
import plotly
import pytest

from orwidgets.widgets import DepletionPlanner, FreeQuotaExplorer, RPSExplorer, _plotly_once
from orwidgets.widgets._common import figure_widget

#: plotly's own FigureWidget module, read here from plotly's package, not from orwidgets.
PLOTLY_MODULE = (Path(plotly.__file__).parent / "package_data" / "widgetbundle.js").read_text(
    encoding="utf-8"
)
PLOTLY_KEY = "plotly-widget-" + hashlib.sha256(PLOTLY_MODULE.encode("utf-8")).hexdigest()[:16]


def _python(code: str) -> str:
    """What ``code`` prints in a fresh interpreter (this one's modules would hide the cost)."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _live_states() -> list[dict]:
    from ipywidgets.widgets.widget import _instances

    return [w.get_state() for w in list(_instances.values())]


def _strings(value: object) -> list[str]:
    """Every string inside a widget's state (values of nested dicts and lists too)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []


@pytest.fixture
def constructed() -> list[ipywidgets.Widget]:
    """Every widget constructed while the test runs, in order (ipywidgets' own hook)."""
    seen: list[ipywidgets.Widget] = []
    previous = ipywidgets.Widget._widget_construction_callback
    ipywidgets.Widget.on_widget_constructed(seen.append)
    yield seen
    ipywidgets.Widget._widget_construction_callback = previous


def test_the_first_widget_loads_no_other_widget_nor_the_client_or_emulator():
    # In a fresh interpreter with what a kernel has loaded already (IPython), the tutorial's first
    # widget must not wait for modules it does not use.
    code = (
        "import sys, IPython, ipywidgets\n"
        "from orwidgets import FreeQuotaExplorer\n"
        "FreeQuotaExplorer()\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('orwidgets'))))\n"
        "print([m for m in ('httpx', 'starlette', 'uvicorn') if m in sys.modules])\n"
    )
    ours, heavy = _python(code).splitlines()
    assert ours.split(",") == [
        "orwidgets",
        "orwidgets._secret",
        "orwidgets._version",
        "orwidgets.engine",
        "orwidgets.i18n",
        "orwidgets.policy",
        "orwidgets.widgets",
        "orwidgets.widgets._common",
        "orwidgets.widgets._model",
        "orwidgets.widgets._plotly_once",
        "orwidgets.widgets.quota",
    ]
    assert heavy == "[]"


def test_widgets_package_names_load_on_first_use():
    import orwidgets.widgets as widgets

    assert widgets.__all__ == [
        "AccountModel", "AccountPanel", "Dashboard", "DepletionPlanner", "FreeQuotaExplorer",
        "JournalTimeline", "LiveCalls", "RPSExplorer", "TopUpAdvisor",
    ]  # fmt: skip
    assert dir(widgets) == widgets.__all__
    assert widgets.LiveCalls.__module__ == "orwidgets.widgets.livecalls"
    assert widgets.JournalTimeline.__module__ == "orwidgets.widgets.timeline"
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        widgets.Nope  # noqa: B018


def test_three_explorers_send_plotlys_module_once_and_each_figure_a_small_loader():
    explorers = [FreeQuotaExplorer(), RPSExplorer(), DepletionPlanner()]
    figures = [e.figure for e in explorers]
    assert len({id(f) for f in figures}) == 3
    carrier_ref = f"IPY_MODEL_{_plotly_once.carrier().model_id}"
    for fig in figures:
        state = fig.get_state()
        assert len(state["_esm"].encode("utf-8")) < 2_000
        assert f'slot("{PLOTLY_KEY}")' in state["_esm"]
        assert state[_plotly_once.CARRIER_TRAIT] == carrier_ref  # for lazy widget managers
    # Of every live widget's state (figures, carrier, sliders...), one holds plotly's module.
    holders = [s for s in _live_states() if any(PLOTLY_MODULE in t for t in _strings(s))]
    assert len(holders) == 1
    assert holders[0]["key"] == PLOTLY_KEY and holders[0]["source"] == PLOTLY_MODULE
    assert "globalThis.__orwidgetsModules" in holders[0]["_esm"]


def test_the_carrier_is_constructed_before_the_first_figure_and_only_once(constructed):
    _plotly_once.carrier().close()  # as Widget.close_all() would: the next figure needs a new one
    first = figure_widget()
    second = figure_widget()
    carriers = [w for w in constructed if getattr(w, "source", None) == PLOTLY_MODULE]
    assert len(carriers) == 1
    order = [id(w) for w in constructed]
    assert order.index(id(carriers[0])) < order.index(id(first)) < order.index(id(second))
    assert _plotly_once.carrier() is carriers[0] and carriers[0].comm is not None


def test_the_carrier_goes_out_before_plotly_is_imported():
    # The page evaluates plotly's module while the kernel is still importing plotly.
    code = (
        "import sys, ipywidgets\n"
        "seen = []\n"
        "ipywidgets.Widget.on_widget_constructed(\n"
        "    lambda w: seen.append((type(w).__name__, 'plotly.graph_objects' in sys.modules)))\n"
        "from orwidgets.widgets._common import figure_widget\n"
        "figure_widget()\n"
        "print([s for s in seen if s[0] in ('PlotlyModuleCarrier', 'SyncedFigureWidget')])\n"
    )
    assert _python(code) == "[('PlotlyModuleCarrier', False), ('SyncedFigureWidget', True)]"


def test_a_plotly_whose_module_differs_keeps_its_own_and_the_carrier_goes(monkeypatch):
    monkeypatch.setattr(_plotly_once, "_state", {})
    carrier = _plotly_once.carrier()
    assert carrier.source == PLOTLY_MODULE
    assert _plotly_once.figure_esm("export default {};  // some other plotly") is None
    assert carrier.comm is None  # closed: its module would be of no use to anyone
    assert _plotly_once.carrier() is None  # and no new one follows


def test_without_plotlys_module_file_there_is_no_carrier_and_no_loader(monkeypatch, tmp_path):
    monkeypatch.setattr(_plotly_once, "_state", {})
    monkeypatch.setattr(_plotly_once, "module_path", lambda: tmp_path / "widgetbundle.js")
    assert _plotly_once.carrier() is None
    assert _plotly_once.figure_esm(PLOTLY_MODULE) is None
