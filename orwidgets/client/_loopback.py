"""A lean HTTP/1.1 keep-alive transport for httpx, used for loopback targets (the emulator).

[inv] Why: on the small shared machines this project runs on, httpx's default transport (httpcore
over anyio) costs several milliseconds of event-loop round trips per request, which caps a load
run near 200 calls per second whatever the emulator can do; the load runner must reach 600. This
transport speaks plain HTTP/1.1 over asyncio streams: one write per request, one buffered read per
answer, idle connections kept for reuse. It is used only for ``http://`` URLs on loopback
addresses, where there is no TLS, no proxy and no redirect to handle; everything else goes through
httpx's own transport. ``benchmarks/runner.py`` measures both.

Behaviour that matters: a connection is reused only when it was left in a clean state (a request
cancelled or timed out mid-way closes its connection); a reused connection that turns out to be
closed by the server before any byte of the answer arrives is retried once on a fresh one (the
server never read the request); connection failures and timeouts raise the matching ``httpx``
exceptions, so callers classify them as usual.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

import httpx

__all__ = ["LoopbackTransport"]

_MAX_HEAD = 64 * 1024


class _StaleConnection(Exception):
    """The server had closed a reused connection before answering."""


class LoopbackTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over asyncio streams with a keep-alive pool (loopback ``http://`` only).

    Parameters
    ----------
    max_connections:
        Most connections open at once (requests beyond wait for one).
    timeout:
        Seconds for connecting and for the whole answer (a ``Timeout`` on the request wins).
    """

    def __init__(self, max_connections: int = 100, timeout: float = 30.0) -> None:
        if max_connections < 1:
            raise ValueError(f"max_connections: expected >= 1, got {max_connections!r}")
        self._max = max_connections
        self._timeout = timeout
        self._idle: dict[tuple[str, int], list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = (
            defaultdict(list)
        )
        self._slots: asyncio.Semaphore | None = None

    def _timeouts(self, request: httpx.Request) -> tuple[float | None, float | None]:
        ext = request.extensions.get("timeout") or {}
        return (ext.get("connect", self._timeout), ext.get("read", self._timeout))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme != "http":
            raise httpx.UnsupportedProtocol(f"LoopbackTransport speaks http:// only, not {url}",
                                            request=request)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._max)
        body = await request.aread()
        wire = _serialize(request, body)
        key = (url.host, url.port or 80)
        connect_timeout, read_timeout = self._timeouts(request)
        async with self._slots:
            for _ in range(2):
                conn, reused = await self._connection(key, request, connect_timeout)
                try:
                    response, keep = await asyncio.wait_for(
                        _exchange(conn, wire, request, reused), read_timeout
                    )
                except _StaleConnection:
                    _close(conn)
                    continue
                except asyncio.TimeoutError:
                    _close(conn)
                    raise httpx.ReadTimeout("timed out waiting for the answer",
                                            request=request) from None
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                        ValueError) as exc:
                    _close(conn)
                    raise httpx.ReadError(f"{type(exc).__name__}: {exc}", request=request) from exc
                except BaseException:  # cancelled mid-exchange: the connection state is unknown
                    _close(conn)
                    raise
                if keep:
                    self._idle[key].append(conn)
                else:
                    _close(conn)
                return response
        raise httpx.ReadError("the server closed the connection twice", request=request)

    async def _connection(
        self, key: tuple[str, int], request: httpx.Request, timeout: float | None
    ) -> tuple[tuple[asyncio.StreamReader, asyncio.StreamWriter], bool]:
        idle = self._idle[key]
        while idle:
            reader, writer = idle.pop()
            if reader.at_eof() or writer.is_closing():
                _close((reader, writer))
                continue
            return (reader, writer), True
        try:
            conn = await asyncio.wait_for(
                asyncio.open_connection(key[0], key[1], limit=_MAX_HEAD), timeout
            )
        except asyncio.TimeoutError:
            raise httpx.ConnectTimeout("timed out connecting", request=request) from None
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from exc
        return conn, False

    async def aclose(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                _close(conn)
        self._idle.clear()


def _serialize(request: httpx.Request, body: bytes) -> bytes:
    url = request.url
    target = url.raw_path.decode("ascii")
    lines = [f"{request.method} {target} HTTP/1.1"]
    names = set()
    for name, value in request.headers.raw:
        names.add(name.lower())
        lines.append(f"{name.decode('latin-1')}: {value.decode('latin-1')}")
    if body and b"content-length" not in names and b"transfer-encoding" not in names:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _exchange(
    conn: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    wire: bytes,
    request: httpx.Request,
    reused: bool,
) -> tuple[httpx.Response, bool]:
    reader, writer = conn
    writer.write(wire)
    await writer.drain()
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if reused and not exc.partial:
            raise _StaleConnection from None
        raise
    status_line, *header_lines = head[:-4].split(b"\r\n")
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise ValueError(f"not an HTTP/1.x status line: {status_line[:80]!r}")
    status = int(parts[1])
    headers: list[tuple[bytes, bytes]] = []
    length: int | None = None
    chunked = False
    keep = parts[0] == b"HTTP/1.1"
    for line in header_lines:
        name, _, value = line.partition(b":")
        value = value.strip()
        lower = name.lower()
        if lower == b"content-length":
            length = int(value)
        elif lower == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
            continue  # the body handed to httpx is already de-chunked
        elif lower == b"connection":
            keep = b"close" not in value.lower() and (keep or b"keep-alive" in value.lower())
        headers.append((name, value))
    if request.method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        content = b""
    elif chunked:
        chunks = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line[:-2].split(b";", 1)[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # the empty trailer section
                break
            chunks.append((await reader.readexactly(size + 2))[:-2])
        content = b"".join(chunks)
    elif length is not None:
        content = await reader.readexactly(length)
    else:
        content = await reader.read()  # delimited by the server closing the connection
        keep = False
    response = httpx.Response(status, headers=headers, content=content, request=request,
                              extensions={"http_version": parts[0]})
    return response, keep


def _close(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
    writer = conn[1]
    try:
        writer.close()
    except Exception:  # pragma: no cover - closing a broken socket
        pass
