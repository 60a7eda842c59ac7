"""Explorer widgets over OpenRouter's limits, each a thin view over a traitlets model.

>>> from orwidgets.widgets import Dashboard
>>> Dashboard()            # doctest: +SKIP

Each widget's module loads the first time its name is used, so that a notebook's first widget
waits for its own module only (the tutorial opens with ``FreeQuotaExplorer``; ``LiveCalls`` and
``JournalTimeline`` would bring the client and its load runner with them).
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

# name -> module (relative to this package) that defines it, loaded on first use
_LAZY = {
    "AccountModel": "._model",
    "AccountPanel": ".account",
    "Dashboard": ".dashboard",
    "DepletionPlanner": ".planner",
    "FreeQuotaExplorer": ".quota",
    "RPSExplorer": ".rps",
    "TopUpAdvisor": ".advisor",
    "LiveCalls": ".livecalls",
    "JournalTimeline": ".timeline",
}

# Listed only when its module exists, so that `from orwidgets.widgets import *` never fails.
__all__ = sorted(
    name for name, module in _LAZY.items() if importlib.util.find_spec(module, __name__) is not None
)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # pragma: no cover
    from ._model import AccountModel
    from .account import AccountPanel
    from .advisor import TopUpAdvisor
    from .dashboard import Dashboard
    from .livecalls import LiveCalls
    from .planner import DepletionPlanner
    from .quota import FreeQuotaExplorer
    from .rps import RPSExplorer
    from .timeline import JournalTimeline
