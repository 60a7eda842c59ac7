"""Fixtures: the emulator in memory (httpx.ASGITransport) and on a real uvicorn server on loopback.

``api`` is parametrized, so every contract test runs against both. Each app is built once per
session and reset before each test (same keys, fake clock back at ``T0``, latency 0, no faults).
Time comes from a fake clock: no test waits for the wall clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from emulator_support import ADMIN, T0, Api, FakeTime, InMemoryClient

from orwidgets.emulator import create_app
from orwidgets.emulator.server import BackgroundServer
from orwidgets.emulator.state import Emulator


def _make_app(fake: FakeTime) -> Any:
    return create_app(latency_ms=0, admin_token=ADMIN, clock=fake, seed=0)


@pytest.fixture(scope="session")
def memory_target() -> Iterator[tuple[Any, Any, FakeTime]]:
    fake = FakeTime()
    app = _make_app(fake)
    client = InMemoryClient(app)
    yield app, client, fake
    client.close()


@pytest.fixture(scope="session")
def uvicorn_target() -> Iterator[tuple[Any, Any, FakeTime]]:
    fake = FakeTime()
    app = _make_app(fake)
    server = BackgroundServer(app).start()
    client = httpx.Client(base_url=server.base_url, timeout=10)
    yield app, client, fake
    client.close()
    server.stop()


def _prepare(mode: str, target: tuple[Any, Any, FakeTime]) -> Api:
    app, client, fake = target
    emu: Emulator = app.state.emulator
    emu.reset()
    fake.t = T0
    emu.set_latency(0)
    api = Api(mode, app, client, fake)
    emu.sleep = api.sleeps
    return api


@pytest.fixture(params=["memory", "uvicorn"])
def api(request: pytest.FixtureRequest) -> Api:
    """The emulator, in memory and over real sockets (each test runs against both)."""
    return _prepare(request.param, request.getfixturevalue(f"{request.param}_target"))


@pytest.fixture
def memory_api(memory_target: tuple[Any, Any, FakeTime]) -> Api:
    return _prepare("memory", memory_target)


@pytest.fixture
def uvicorn_api(uvicorn_target: tuple[Any, Any, FakeTime]) -> Api:
    return _prepare("uvicorn", uvicorn_target)
