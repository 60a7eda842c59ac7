"""The openai SDK meets each 2026 answer: an ``openai.APIStatusError`` is classified exactly as the
raw HTTP answer is (body and headers come from ``err.response``), and with_retries wraps SDK calls
with the same decisions. The server is a tiny Starlette app in the test, reached in memory."""

from __future__ import annotations

import asyncio
import json
import math
from functools import partial
from typing import Any

import httpx
import pytest

from client_bodies_2026 import (
    AFFORD_402_2026,
    AFFORD_M,
    CAPACITY_FALLBACK,
    CAPACITY_RETRY_AFTER,
    FREE_MODEL,
    FREE_VARIANT_ENDED_404,
    IN_FLIGHT_402,
    IN_FLIGHT_402_TRIMMED,
    KEY_AFFORD_402,
    KEY_IMAGE_402,
    KEY_LIMIT_403_CAPTURED,
    PAID_TWIN,
    UPSTREAM_429_2026_10,
    WEIGHT_402,
    WORKSPACE_403,
    capacity_429,
)
from client_helpers import DAY_START, LOCAL_API, FakeClock, ok_body
from orwidgets.client import (
    AsyncOpenRouterClient,
    CallClass,
    RetryGaveUp,
    awith_retries,
    with_retries,
)
from orwidgets.client._retry import SHRINK_MARGIN

openai = pytest.importorskip("openai")
httpx2 = pytest.importorskip("httpx2")
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

PAID = "openai/gpt-4o-mini"
KEY = "sk-or-v1-" + "4" * 64
MESSAGES_ = [{"role": "user", "content": "hi"}]
OK_BODY = ok_body(PAID)
Answer = tuple[int, dict[str, Any], dict[str, str]]


class ScriptedServer:
    """A Starlette app whose chat route answers from a script (the last answer repeats) and
    records the JSON bodies it was sent."""

    def __init__(self, answers: list[Answer]) -> None:
        self.answers = answers
        self.bodies: list[dict[str, Any]] = []
        self.app = Starlette(routes=[Route("/api/v1/chat/completions", self.chat,
                                           methods=["POST"])])

    async def chat(self, request: Request) -> JSONResponse:
        self.bodies.append(await request.json())
        status, body, headers = self.answers[min(len(self.bodies), len(self.answers)) - 1]
        return JSONResponse(body, status_code=status, headers=headers)

    def sdk(self) -> Any:
        return openai.AsyncOpenAI(
            base_url=LOCAL_API, api_key=KEY, max_retries=0,
            http_client=httpx2.AsyncClient(transport=httpx2.ASGITransport(app=self.app)))

    def raw(self) -> AsyncOpenRouterClient:
        return AsyncOpenRouterClient(LOCAL_API, KEY, transport=httpx.ASGITransport(app=self.app))


ANSWERS: list[tuple[str, Answer, CallClass]] = [
    ("in-flight", (402, IN_FLIGHT_402, {"Retry-After": "120"}), CallClass.IN_FLIGHT_BUDGET),
    # The header (90) differs from metadata.headers (120): only err.response's headers say 90.
    ("in-flight-header-wins", (402, IN_FLIGHT_402, {"Retry-After": "90"}),
     CallClass.IN_FLIGHT_BUDGET),
    ("in-flight-trimmed-no-header", (402, IN_FLIGHT_402_TRIMMED, {}), CallClass.IN_FLIGHT_BUDGET),
    ("weight-exceeds-budget", (402, WEIGHT_402, {}), CallClass.WEIGHT_EXCEEDS_BUDGET),
    ("affordability", (402, AFFORD_402_2026, {}), CallClass.AFFORDABILITY),
    ("key-limit-affordability", (402, KEY_AFFORD_402, {}), CallClass.KEY_LIMIT_AFFORDABILITY),
    ("key-limit-image", (402, KEY_IMAGE_402, {}), CallClass.KEY_LIMIT_AFFORDABILITY),
    ("key-limit-403", (403, KEY_LIMIT_403_CAPTURED, {}), CallClass.KEY_LIMIT),
    ("workspace-budget-403", (403, WORKSPACE_403, {}), CallClass.SPEND_BUDGET),
    ("capacity-exhausted", (429, capacity_429(), {"Retry-After": str(CAPACITY_RETRY_AFTER)}),
     CallClass.CAPACITY_EXHAUSTED),
    ("free-variant-ended", (404, FREE_VARIANT_ENDED_404, {}), CallClass.FREE_VARIANT_ENDED),
    ("upstream-2026-10", (429, UPSTREAM_429_2026_10, {"Retry-After": "1"}), CallClass.UPSTREAM),
]


def _facts(result) -> tuple:
    return (result.call_class, result.status, result.message, result.retry_after_s,
            result.reason, result.limit_source, result.fallback_models,
            result.affordable_tokens, result.resets_at)


@pytest.mark.parametrize(("answer", "expected"), [(a, c) for _, a, c in ANSWERS],
                         ids=[name for name, _, _ in ANSWERS])
def test_sdk_error_is_classified_as_the_raw_http_answer(answer, expected):
    server = ScriptedServer([answer])

    async def scenario():
        async with server.raw() as raw:
            direct = await raw.chat(PAID, max_tokens=8)
        sdk = server.sdk()
        try:
            with pytest.raises(RetryGaveUp) as info:
                await awith_retries(
                    lambda: sdk.chat.completions.create(model=PAID, messages=MESSAGES_,
                                                        max_tokens=8),
                    max_attempts=1, clock=FakeClock(), sleep=FakeClock().asleep)
        finally:
            await sdk.close()
        return direct, info.value

    direct, stop = asyncio.run(scenario())
    assert direct.call_class is expected
    if "Retry-After" in answer[2]:
        assert direct.retry_after_s == float(answer[2]["Retry-After"])
    assert isinstance(stop.__cause__, openai.APIStatusError)
    assert stop.__cause__.status_code == answer[0]
    assert _facts(stop.result) == _facts(direct)
    assert len(server.bodies) == 2


def test_sdk_in_flight_402_is_waited_out_then_the_call_succeeds():
    clock = FakeClock(DAY_START)
    server = ScriptedServer([(402, IN_FLIGHT_402, {"Retry-After": "120"}), (200, OK_BODY, {})])

    async def scenario():
        sdk = server.sdk()
        try:
            return await awith_retries(
                lambda: sdk.chat.completions.create(model=PAID, messages=MESSAGES_, max_tokens=8),
                jitter=0, clock=clock, sleep=clock.asleep)
        finally:
            await sdk.close()

    completion = asyncio.run(scenario())
    assert completion.choices[0].message.content == "OK"
    assert clock.sleeps == [120.0] and len(server.bodies) == 2


def test_sdk_affordability_402_is_retried_with_max_tokens_lowered_through_a_partial():
    clock = FakeClock(DAY_START)
    server = ScriptedServer([(402, AFFORD_402_2026, {}), (200, OK_BODY, {})])

    async def scenario():
        sdk = server.sdk()
        try:
            create = partial(sdk.chat.completions.create, model=PAID, messages=MESSAGES_,
                             max_tokens=16384)
            return await awith_retries(create, shrink_max_tokens=True, clock=clock,
                                       sleep=clock.asleep)
        finally:
            await sdk.close()

    asyncio.run(scenario())
    assert [b["max_tokens"] for b in server.bodies] == [
        16384, math.floor(AFFORD_M * (1 - SHRINK_MARGIN))]


def test_sdk_capacity_and_free_variant_follow_their_fallbacks_when_asked():
    clock = FakeClock(DAY_START)
    server = ScriptedServer([(429, capacity_429(), {"Retry-After": str(CAPACITY_RETRY_AFTER)}),
                             (200, OK_BODY, {})])
    ended = ScriptedServer([(404, FREE_VARIANT_ENDED_404, {}), (200, OK_BODY, {})])

    async def scenario(srv: ScriptedServer, model: str):
        sdk = srv.sdk()
        try:
            create = partial(sdk.chat.completions.create, model=model, messages=MESSAGES_)
            return await awith_retries(create, follow_fallbacks=True, clock=clock,
                                       sleep=clock.asleep)
        finally:
            await sdk.close()

    asyncio.run(scenario(server, PAID))
    asyncio.run(scenario(ended, FREE_MODEL))
    assert [b["model"] for b in server.bodies] == [PAID, CAPACITY_FALLBACK]
    assert [b["model"] for b in ended.bodies] == [FREE_MODEL, PAID_TWIN]
    assert clock.sleeps == []


def test_sync_sdk_key_limit_403_gives_up_chained_to_permission_denied():
    def handler(request):
        return httpx2.Response(403, content=json.dumps(KEY_LIMIT_403_CAPTURED).encode(),
                               headers={"content-type": "application/json"})

    client = openai.OpenAI(base_url=LOCAL_API, api_key=KEY, max_retries=0,
                           http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    clock = FakeClock(DAY_START)
    with pytest.raises(RetryGaveUp) as info:
        with_retries(lambda: client.chat.completions.create(model=PAID, messages=MESSAGES_),
                     clock=clock, sleep=clock.sleep)
    assert info.value.call_class is CallClass.KEY_LIMIT
    assert isinstance(info.value.__cause__, openai.PermissionDeniedError)
    assert info.value.until.isoformat() == "2026-10-12T00:00:00+00:00"
