"""Helpers shared by the emulator tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import httpx

from orwidgets.emulator import DEFAULT_FREE_MODEL
from orwidgets.emulator.state import Emulator

ADMIN = "test-admin-token"
#: 2026-03-20 22:52:10.250 UTC: mid-minute, mid-day, mid-second.
T0 = datetime(2026, 3, 20, 22, 52, 10, 250000, tzinfo=timezone.utc).timestamp()
NEXT_MINUTE_MS = int(datetime(2026, 3, 20, 22, 53, tzinfo=timezone.utc).timestamp() * 1000)
NEXT_MIDNIGHT_MS = int(datetime(2026, 3, 21, tzinfo=timezone.utc).timestamp() * 1000)


class FakeTime:
    """The clock's base: a number the test moves by hand."""

    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class SleepRecorder:
    """Stands in for ``asyncio.sleep``: records each delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


class InMemoryClient:
    """A synchronous face over ``httpx.AsyncClient(transport=httpx.ASGITransport(app))``."""

    def __init__(self, app: Any, base_url: str = "http://emulator.test") -> None:
        self.base_url = base_url
        self._loop = asyncio.new_event_loop()
        self._client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._loop.run_until_complete(self._client.request(method, url, **kwargs))

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)

    def put(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("PUT", url, **kw)

    def patch(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("PATCH", url, **kw)

    def delete(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", url, **kw)

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()


@dataclass
class Api:
    """One emulator under test and a client for it."""

    mode: str
    app: Any
    client: Any
    time: FakeTime
    sleeps: SleepRecorder = field(default_factory=SleepRecorder)

    @property
    def emu(self) -> Emulator:
        return self.app.state.emulator

    @property
    def keys(self) -> dict[str, str]:
        return self.emu.demo_keys

    def auth(self, name_or_key: str) -> dict[str, str]:
        key = self.keys.get(name_or_key, name_or_key)
        return {"Authorization": f"Bearer {key}"}

    def chat(self, who: str, model: str = DEFAULT_FREE_MODEL, content: str = "hello",
             **extra: Any) -> httpx.Response:
        body = {"model": model, "messages": [{"role": "user", "content": content}], **extra}
        return self.client.post("/api/v1/chat/completions", json=body, headers=self.auth(who))

    def admin(self, method: str, path: str, json: Any = None) -> httpx.Response:
        kw: dict[str, Any] = {"headers": {"X-Admin-Token": ADMIN}}
        if json is not None:
            kw["json"] = json
        return self.client.request(method, path, **kw)

    def account(self, account_id: str) -> dict[str, Any]:
        r = self.admin("GET", "/_emulator/accounts")
        assert r.status_code == 200
        return next(a for a in r.json()["data"] if a["account_id"] == account_id)

    def user_id(self, name: str) -> str:
        return self.account(f"acct_{name}")["user_id"]




async def raw_post(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """One HTTP/1.1 POST on its own TCP connection to 127.0.0.1 (a minimal client: httpx's pool
    takes seconds to open a thousand connections at once, which would hide what is measured)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}",
                "Content-Type: application/json", "Connection: close"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        raw_head = await reader.readuntil(b"\r\n\r\n")
        status = int(raw_head[9:12])
        lower = raw_head.lower()
        i = lower.find(b"content-length:")
        length = int(lower[i + 15: lower.find(b"\r\n", i)])
        return status, await reader.readexactly(length)
    finally:
        writer.close()
