"""orwidgets: understand and test OpenRouter's free quotas and rate limits in Jupyter.

``import orwidgets`` is cheap: the widgets (plotly, ipywidgets) and the emulator (Starlette,
uvicorn) load the first time one of their names is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .i18n import get_language, set_language
from .policy import (
    DEFAULT_POLICY_ID,
    POLICIES,
    PolicyVersion,
    daily_free_quota,
    daily_free_quota_topped_up,
    explain_paid_rps,
    free_per_minute,
    get_policy,
    paid_rps,
)


# name -> module that defines it, loaded on first use
_LAZY = {
    "Engine": "orwidgets.engine",
    "Request": "orwidgets.engine",
    "Reason": "orwidgets.engine",
    "Traffic": "orwidgets.simulation",
    "TopUp": "orwidgets.simulation",
    "simulate": "orwidgets.simulation",
    "start_emulator": "orwidgets.emulator",
    "OpenRouterClient": "orwidgets.client",
    "CallClass": "orwidgets.client",
    "CallResult": "orwidgets.client",
    "classify": "orwidgets.client",
    "run_load": "orwidgets.client",
    "with_retries": "orwidgets.client",
    "RPSExplorer": "orwidgets.widgets",
    "FreeQuotaExplorer": "orwidgets.widgets",
    "DepletionPlanner": "orwidgets.widgets",
    "TopUpAdvisor": "orwidgets.widgets",
    "AccountPanel": "orwidgets.widgets",
    "AccountModel": "orwidgets.widgets",
    "Dashboard": "orwidgets.widgets",
    "LiveCalls": "orwidgets.widgets",
    "JournalTimeline": "orwidgets.widgets",
}
_ALIASES = {"start_emulator": "start"}

__all__ = [
    "__version__",
    "DEFAULT_POLICY_ID",
    "POLICIES",
    "PolicyVersion",
    "daily_free_quota",
    "daily_free_quota_topped_up",
    "explain_paid_rps",
    "free_per_minute",
    "get_policy",
    "paid_rps",
    "get_language",
    "set_language",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'orwidgets' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), _ALIASES.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # pragma: no cover
    from .engine import Engine, Reason, Request
    from .simulation import TopUp, Traffic, simulate
