"""Explorer widgets over OpenRouter's limits, each a thin view over a traitlets model.

>>> from orwidgets.widgets import Dashboard
>>> Dashboard()            # doctest: +SKIP

``LiveCalls`` lives in :mod:`orwidgets.widgets.livecalls` and loads on first use.
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
# Listed only when its module exists, so that `from orwidgets.widgets import *` never fails.
if importlib.util.find_spec(f"{__name__}.livecalls") is not None:
    __all__.append("LiveCalls")


def __getattr__(name: str) -> Any:
    # LiveCalls pulls in the client and its load runner: load it only when asked for.
    if name == "LiveCalls":
        value = importlib.import_module(".livecalls", __name__).LiveCalls
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # pragma: no cover
    from .livecalls import LiveCalls
