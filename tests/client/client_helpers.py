"""Helpers for the client tests: a fake clock, recorded transports, the emulator in memory.

(A plain module with a unique name: test files cannot import a conftest.)

Nothing here reaches the network: HTTP goes through ``httpx.MockTransport`` (canned answers) or
``httpx.ASGITransport`` (the emulator app in the same process, on a fake clock).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

#: A loopback base URL: transports ignore the host, and the real-API guard lets it pass.
LOCAL_API = "http://127.0.0.1:9/api/v1"
#: 2026-03-02 00:00:00 UTC, a whole day (and minute): windows start exactly here.
DAY_START = 1_772_409_600.0


class FakeClock:
    """Unix seconds that move only when told (``sleep`` advances them and records the wait)."""

    def __init__(self, start: float = DAY_START) -> None:
        self.now = float(start)
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        # Let ready tasks run first (at the time they were due), then move the time on.
        await asyncio.sleep(0)
        self.sleep(seconds)

    def advance(self, seconds: float) -> None:
        self.now += seconds


def ok_body(model: str) -> dict[str, Any]:
    """A chat completion as OpenRouter answers it (content ``"OK"``)."""
    return {
        "id": "gen-1", "object": "chat.completion", "created": 1, "model": model,
        "provider": "Chutes",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "OK"},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4, "cost": 0},
    }


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json", **(headers or {})},
    )


class Recorder:
    """A MockTransport handler that answers from a list (or a function) and records requests."""

    def __init__(self, answers: list[httpx.Response] | Callable[[httpx.Request], httpx.Response]):
        self.answers = answers
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if callable(self.answers):
            return self.answers(request)
        return self.answers[min(len(self.requests), len(self.answers)) - 1]


def emulator_available() -> bool:
    try:
        from orwidgets.emulator import create_app  # noqa: F401
    except Exception:
        return False
    return True


requires_emulator = pytest.mark.skipif(
    not emulator_available(), reason="orwidgets.emulator is not there yet"
)
