"""Fixtures: the emulator on a loopback server (the target), and a proxy in front of it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conform_support import Proxy, serve

from orwidgets.emulator import create_app


@pytest.fixture
def emulator_target() -> Iterator[tuple[str, Any]]:
    """A fresh ``current`` emulator on loopback: (API base, its Emulator)."""
    app = create_app(policy="current", latency_ms=0)
    with serve(app) as base:
        yield base, app.state.emulator


@pytest.fixture
def proxied() -> Iterator[tuple[str, Proxy, Any]]:
    """A proxy on loopback in front of a fresh ``current`` emulator: (API base, proxy, Emulator).

    Set ``proxy.alter`` (or ``proxy.raw``) in the test before running conform.
    """
    app = create_app(policy="current", latency_ms=0)
    proxy = Proxy(app)
    with serve(proxy) as base:
        yield base, proxy, app.state.emulator
