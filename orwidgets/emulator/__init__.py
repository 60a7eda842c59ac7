"""A local OpenRouter emulator: a real HTTP server over the engine, no key and no network needed.

Three ways to run it::

    app = create_app(latency_ms=0)            # in memory: httpx.ASGITransport(app=app)
    handle = start()                          # in a notebook: background thread, free loopback port
    $ orwidgets emulator --port 8787          # command line (also python -m orwidgets.emulator)

See the README section "The OpenRouter emulator" for the routes, the admin API and the demo accounts.
"""

from __future__ import annotations

from .app import create_app
from .catalogue import CATALOGUE, DEFAULT_FREE_MODEL, DEFAULT_PAID_MODEL, MODELS, Model
from .faults import FAULT_KINDS, FaultRule
from .server import EmulatorHandle, PublicHostWarning, start, stop
from .state import DEMO_ACCOUNTS, DEMO_KEYS, DemoAccount, DemoKey, Emulator, EmulatorClock

__all__ = [
    "create_app",
    "start",
    "stop",
    "EmulatorHandle",
    "Emulator",
    "EmulatorClock",
    "DEMO_ACCOUNTS",
    "DemoAccount",
    "DEMO_KEYS",
    "DemoKey",
    "CATALOGUE",
    "MODELS",
    "Model",
    "DEFAULT_FREE_MODEL",
    "DEFAULT_PAID_MODEL",
    "FAULT_KINDS",
    "FaultRule",
    "PublicHostWarning",
]
