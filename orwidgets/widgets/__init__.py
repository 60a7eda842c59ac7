"""Explorer widgets over OpenRouter's limits, each a thin view over a traitlets model.

>>> from orwidgets.widgets import Dashboard
>>> Dashboard()            # doctest: +SKIP

``LiveCalls`` (:mod:`orwidgets.widgets.livecalls`) and ``JournalTimeline``
(:mod:`orwidgets.widgets.timeline`) load on first use: they pull in the client.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

from ._model import AccountModel
from .account import AccountPanel
from .advisor import TopUpAdvisor
from .dashboard import Dashboard
from .planner import DepletionPlanner
from .quota import FreeQuotaExplorer
from .rps import RPSExplorer

__all__ = [
    "AccountModel",
    "AccountPanel",
    "Dashboard",
    "DepletionPlanner",
    "FreeQuotaExplorer",
    "RPSExplorer",
    "TopUpAdvisor",
]
#: name -> module, loaded when first asked for (they pull in the client and its load runner).
_LAZY = {"LiveCalls": ".livecalls", "JournalTimeline": ".timeline"}
# Listed only when its module exists, so that `from orwidgets.widgets import *` never fails.
__all__ += [name for name, module in _LAZY.items()
            if importlib.util.find_spec(module, __name__) is not None]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # pragma: no cover
    from .livecalls import LiveCalls
    from .timeline import JournalTimeline
