"""Helpers for the widget tests: a fake scheduler, fake client results, an in-memory transport."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


class _Handle:
    def __init__(self, owner: FakeScheduler, delay: float, fn: Callable[[], None]) -> None:
        self.owner, self.delay, self.fn, self.cancelled = owner, delay, fn, False

    def cancel(self) -> None:
        self.cancelled = True


class FakeScheduler:
    """Stands in for the event loop's ``call_later``: records, runs only on :meth:`flush`."""

    def __init__(self) -> None:
        self.handles: list[_Handle] = []

    def __call__(self, delay: float, fn: Callable[[], None]) -> _Handle:
        handle = _Handle(self, delay, fn)
        self.handles.append(handle)
        return handle

    @property
    def pending(self) -> list[_Handle]:
        return [h for h in self.handles if not h.cancelled]

    def flush(self) -> int:
        run = self.pending
        self.handles = []
        for handle in run:
            handle.fn()
        return len(run)


@dataclass
class FakeResult:
    """The parts of :class:`orwidgets.client.CallResult` the account panel reads."""

    status: int | None
    body: Any = None
    message: str | None = None
    call_class: Any = None


@dataclass
class FakeClient:
    key_result: FakeResult
    credits_result: FakeResult
    calls: list[str] = field(default_factory=list)

    def get_key(self) -> FakeResult:
        self.calls.append("key")
        return self.key_result

    def get_credits(self) -> FakeResult:
        self.calls.append("credits")
        return self.credits_result


class SyncASGITransport(httpx.BaseTransport):
    """Lets the blocking client call an ASGI app in memory (httpx's ASGITransport is async)."""

    def __init__(self, app: Any) -> None:
        self._inner = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def go() -> httpx.Response:
            response = await self._inner.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers,
                                  content=content, request=request)

        return asyncio.run(go())


def trace(fig: Any, name: str) -> Any:
    """The figure's trace called ``name``: its ``meta`` (the stable English name the widgets give
    every trace, whatever language its ``name`` shows), else its ``name``."""
    found = [t for t in fig.data if t.meta == name or (t.meta is None and t.name == name)]
    assert len(found) == 1, f"expected one trace named {name!r}, got {[t.name for t in fig.data]}"
    return found[0]


def in_memory_emulator(policy_id: str, clock: Callable[[], float]) -> tuple[Any, Any]:
    """An emulator app called in memory, as the account panel's ``emulator_factory`` and
    ``client_factory`` take it: ``(handle, client_factory)``."""
    import pytest

    emulator = pytest.importorskip("orwidgets.emulator", reason="the emulator is not installed")
    client_mod = pytest.importorskip("orwidgets.client", reason="the client is not installed")
    app = emulator.create_app(policy=policy_id, latency_ms=0, clock=clock)
    emu = app.state.emulator

    class Handle:
        api_base = "http://127.0.0.1:1/api/v1"  # never dialled: the transport is in memory
        keys = emu.demo_keys

    Handle.emulator = emu

    def client(url: str, key: Any) -> Any:
        return client_mod.OpenRouterClient(url, key, transport=SyncASGITransport(app))

    return Handle(), client
