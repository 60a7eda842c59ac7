"""plotly's FigureWidget front end, sent and evaluated once per page instead of once per figure.

plotly 7's ``FigureWidget`` is an anywidget whose ``_esm`` trait is plotly's whole front end
(``plotly/package_data/widgetbundle.js``, about 5 MB). anywidget (0.11) sends that text with
every figure and evaluates it anew for each one (a fresh blob URL, so the browser's module cache
never helps): on the project's 2-core machines each evaluation blocks the page for about 1.3 s.
A page with four figures spends five seconds of its main thread on four copies of one module, and
the key press of a reader waits behind them; a page that reloads onto a kernel holding several
figures evaluates them all at once and anywidget's 2 s limit per model ("Failed to initialize
model") makes some fail.

Here every orwidgets figure carries a loader of a few hundred bytes instead (:func:`figure_esm`).
One hidden widget per kernel, :func:`carrier`, carries plotly's module text once; its front end
evaluates it once and puts the module in a page-wide registry under a key made of the text's
SHA-256, so two plotly versions never mix. Each figure's loader waits for that entry and hands
anywidget plotly's own default export: the figure is plotly's widget, unchanged. The carrier is
created before plotly is imported (the file is found without importing it), so its message
reaches the page while the kernel still spends seconds importing plotly and the page evaluates the
module meanwhile. It lives as long as the kernel (a closed one is replaced), and a page that
connects later (Voila, a reload, a second tab) receives it with the other widgets.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from typing import Any

#: The page-wide registry (``globalThis[REGISTRY]``): key -> {promise, resolve, reject, loading}.
REGISTRY = "__orwidgetsModules"

# The registry entry for a key, made by whichever side (carrier or figure) asks first.
_SLOT_JS = f"""const slot = (key) => {{
  const registry = (globalThis.{REGISTRY} ??= new Map());
  let entry = registry.get(key);
  if (!entry) {{
    entry = {{loading: false}};
    entry.promise = new Promise((resolve, reject) => {{
      entry.resolve = resolve;
      entry.reject = reject;
    }});
    registry.set(key, entry);
  }}
  return entry;
}};
"""

#: The carrier's front end: evaluate the module text once per page, publish it under its key.
CARRIER_ESM = (
    "// orwidgets: evaluates plotly's FigureWidget front end once for the whole page.\n"
    + _SLOT_JS
    + """export default {
  async initialize({ model }) {
    const entry = slot(model.get("key"));
    if (entry.loading) return;  // another carrier (a second kernel, a re-run) did it already
    entry.loading = true;
    const url = URL.createObjectURL(new Blob([model.get("source")], {type: "text/javascript"}));
    try {
      entry.resolve(await import(/* webpackIgnore: true */ url));
    } catch (error) {
      entry.reject(error);
      throw error;
    } finally {
      URL.revokeObjectURL(url);
    }
  },
};
"""
)

#: The trait by which a figure names the carrier: ``IPY_MODEL_<id>``, a plain string (a widget
#: reference would fail to serialise once the carrier is closed).
CARRIER_TRAIT = "_orw_plotly_module"

# A figure's front end: plotly's own widget (its default export is a factory, called once per
# model), taken from the registry once the carrier has evaluated the module. JupyterLab, Notebook
# and Voila create every model the kernel announces, the carrier among them; a widget manager that
# creates models only when asked for them meets the carrier through the figure's reference.
_FIGURE_ESM_TEMPLATE = (
    "// orwidgets: plotly's FigureWidget front end, evaluated once per page by the carrier.\n"
    + _SLOT_JS
    + """export default () => {
  let plotly;
  return {
    async initialize(context) {
      const entry = slot("%(key)s");
      const ref = context.model.get("%(trait)s");
      const manager = context.model.widget_manager;
      if (!entry.loading && manager && typeof ref === "string" && ref.startsWith("IPY_MODEL_")) {
        Promise.resolve()
          .then(() => manager.get_model(ref.slice("IPY_MODEL_".length)))
          .catch(() => {});  // the carrier may be on its way already: the registry waits for it
      }
      const made = (await entry.promise).default;
      plotly = typeof made === "function" ? await made() : made;
      return plotly.initialize?.(context);
    },
    render(context) {
      return plotly.render?.(context);
    },
  };
};
"""
)

_state: dict[str, Any] = {}


def module_path() -> Path | None:
    """Where plotly keeps its FigureWidget module, found without importing plotly (a kernel
    takes seconds to import it, and the page can evaluate the module meanwhile); ``None`` when
    plotly is not installed."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "package_data" / "widgetbundle.js"


def _module() -> tuple[str, str] | None:
    """(key, text) of plotly's FigureWidget module, read once; ``None`` when it is not there."""
    if "module" not in _state:
        path = module_path()
        if path is None or not path.is_file():
            _state["module"] = None
        else:
            text = path.read_text(encoding="utf-8")
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
            _state["module"] = (f"plotly-widget-{digest}", text)
    return _state["module"]


def carrier() -> Any:
    """The kernel's one carrier widget, created on first use (a closed one is replaced); ``None``
    once sharing is off (see :func:`figure_esm`)."""
    module = None if _state.get("off") else _module()
    if module is None:
        return None
    widget = _state.get("carrier")
    if widget is None or widget.comm is None:
        key, text = module
        widget = _state["carrier"] = _carrier_class()(key=key, source=text)
    return widget


def figure_esm(plotly_esm: str) -> str | None:
    """The loader a figure sends instead of ``plotly_esm``, plotly's own module text; ``None``
    (keep plotly's) when it is not the module the carrier sends: a plotly that moved or changed
    its module keeps working as plotly ships it, one copy per figure, and the carrier goes."""
    module = _module()
    if module is None or module[1] != plotly_esm:
        _state["off"] = True
        widget = _state.pop("carrier", None)
        if widget is not None:
            widget.close()
        return None
    return _FIGURE_ESM_TEMPLATE % {"key": module[0], "trait": CARRIER_TRAIT}


def carrier_ref() -> str:
    """What a new figure sends in :data:`CARRIER_TRAIT`: the carrier's ``IPY_MODEL_<id>``, or
    ``""`` without one."""
    widget = carrier()
    return "" if widget is None else f"IPY_MODEL_{widget.model_id}"


def _carrier_class() -> Any:
    if "class" not in _state:
        import anywidget
        from traitlets import Unicode

        class PlotlyModuleCarrier(anywidget.AnyWidget):
            """Hidden: carries plotly's module text to the page once (see the module doc)."""

            _esm = CARRIER_ESM
            key = Unicode().tag(sync=True)
            source = Unicode().tag(sync=True)

        _state["class"] = PlotlyModuleCarrier
    return _state["class"]
