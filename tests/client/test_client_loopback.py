"""The lean loopback transport: keep-alive reuse, chunked bodies, stale connections, failures."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from client_helpers import FakeClock, requires_emulator
from orwidgets.client import AsyncOpenRouterClient, CallClass
from orwidgets.client._loopback import LoopbackTransport


async def serve(handler):
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head + await reader.readexactly(length)


def answer(body: dict, extra: bytes = b"") -> bytes:
    data = json.dumps(body).encode()
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + extra
            + b"Content-Length: " + str(len(data)).encode() + b"\r\n\r\n" + data)


def test_sequential_requests_reuse_one_connection():
    connections = []

    async def handler(reader, writer):
        connections.append(writer)
        try:
            while True:
                await read_request(reader)
                writer.write(answer({"ok": True}))
                await writer.drain()
        except asyncio.IncompleteReadError:
            writer.close()

    async def scenario():
        server, base = await serve(handler)
        transport = LoopbackTransport(4)
        async with httpx.AsyncClient(transport=transport) as client:
            statuses = [(await client.post(base + "/x", json={"i": i})).status_code for i in range(5)]
        server.close()
        return statuses

    assert asyncio.run(scenario()) == [200] * 5
    assert len(connections) == 1


def test_chunked_answer_is_de_chunked():
    async def handler(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        await writer.drain()
        writer.close()

    async def scenario():
        server, base = await serve(handler)
        async with httpx.AsyncClient(transport=LoopbackTransport()) as client:
            response = await client.get(base + "/")
        server.close()
        return response

    response = asyncio.run(scenario())
    assert response.text == "hello world" and "transfer-encoding" not in response.headers


def test_a_connection_the_server_closed_while_idle_is_replaced_transparently():
    served = []

    async def handler(reader, writer):
        await read_request(reader)
        served.append(1)
        # Keep-alive promised, but the server drops the connection right after answering.
        writer.write(answer({"n": len(served)}))
        await writer.drain()
        writer.close()

    async def scenario():
        server, base = await serve(handler)
        async with httpx.AsyncClient(transport=LoopbackTransport()) as client:
            first = (await client.get(base + "/")).json()
            await asyncio.sleep(0.05)  # let the close reach the client: the idle one is stale
            second = (await client.get(base + "/")).json()
        server.close()
        return first, second

    assert asyncio.run(scenario()) == ({"n": 1}, {"n": 2})


def test_connection_refused_is_an_httpx_connect_error_and_a_network_error_result():
    async def scenario():
        server, base = await serve(lambda r, w: w.close())
        server.close()
        await server.wait_closed()
        async with AsyncOpenRouterClient(base, None) as client:
            return await client.chat("m")

    assert asyncio.run(scenario()).call_class is CallClass.NETWORK_ERROR


def test_no_answer_within_the_timeout_is_a_timeout_result():
    async def handler(reader, writer):
        await read_request(reader)
        await asyncio.sleep(30)

    async def scenario():
        server, base = await serve(handler)
        async with AsyncOpenRouterClient(base, None, timeout=0.2) as client:
            result = await client.chat("m")
        server.close()
        return result

    assert asyncio.run(scenario()).call_class is CallClass.TIMEOUT


def test_https_urls_are_refused():
    async def scenario():
        async with httpx.AsyncClient(transport=LoopbackTransport()) as client:
            await client.get("https://127.0.0.1:1/")

    with pytest.raises(httpx.UnsupportedProtocol):
        asyncio.run(scenario())


def test_loopback_http_clients_use_it_and_others_do_not():
    async def scenario():
        local = AsyncOpenRouterClient("http://127.0.0.1:1", None)
        remote = AsyncOpenRouterClient("https://openrouter.ai/api/v1", None)
        opted_out = AsyncOpenRouterClient("http://127.0.0.1:1", None, fast_loopback=False)
        kinds = [type(c._http._transport).__name__ for c in (local, remote, opted_out)]
        for c in (local, remote, opted_out):
            await c.aclose()
        return kinds

    assert asyncio.run(scenario()) == ["LoopbackTransport", "AsyncHTTPTransport", "AsyncHTTPTransport"]


@requires_emulator
def test_against_a_served_emulator_the_21st_free_call_is_a_per_minute_429():
    from orwidgets.emulator import create_app
    from orwidgets.emulator.server import BackgroundServer
    from orwidgets.policy import FREE_PER_MINUTE

    app = create_app(latency_ms=0, clock=FakeClock())
    key = app.state.emulator.demo_keys["free"]
    server = BackgroundServer(app, "127.0.0.1", 0).start()

    async def scenario():
        async with AsyncOpenRouterClient(server.base_url, key, max_connections=4) as client:
            return await asyncio.gather(*(client.chat("meta-llama/llama-3.3-70b-instruct:free",
                                                      max_tokens=4)
                                          for _ in range(FREE_PER_MINUTE + 1)))

    try:
        results = asyncio.run(scenario())
    finally:
        server.stop()
    classes = sorted(r.call_class.value for r in results)
    assert classes.count(CallClass.OK.value) == FREE_PER_MINUTE
    assert classes.count(CallClass.FREE_PER_MINUTE.value) == 1
