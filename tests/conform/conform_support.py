"""Helpers of the conform tests (imported by name: pytest puts this folder on sys.path).

* :func:`serve`: any ASGI app on a real uvicorn server on 127.0.0.1 (a free port).
* :class:`Proxy`: an app in front of the emulator that forwards every request, counts it, and can
  alter the answer (a dropped field, a renamed key, another message, an extra header).
* :func:`run_cli`: ``orwidgets conform`` in this process, its streams captured.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import Response

from orwidgets.conform.cli import run
from orwidgets.emulator.server import BackgroundServer

#: A key that no test server knows and that must never show in any output.
SECRET = "sk-or-v1-" + "5ec7e7" * 10 + "beef"


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve ``app`` on loopback; yields its API base (``http://127.0.0.1:PORT/api/v1``)."""
    server = BackgroundServer(app).start()
    try:
        yield server.base_url + "/api/v1"
    finally:
        server.stop()


@dataclass
class Seen:
    """One request the proxy received."""

    method: str
    path: str
    has_key: bool


#: An alteration: (request path, status, headers, parsed JSON body) -> the same, changed.
Alter = Callable[[str, int, dict[str, str], Any], tuple[int, dict[str, str], Any]]


@dataclass
class Proxy:
    """An ASGI app forwarding to ``upstream`` (in memory), recording and altering answers."""

    upstream: Any
    alter: Alter | None = None
    #: Answers a request path itself when it returns a response (non-JSON bodies, hangs).
    raw: Callable[[str], Awaitable[Response | None]] | None = None
    seen: list[Seen] = field(default_factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        path = request.url.path
        self.seen.append(Seen(request.method, path, "authorization" in request.headers))
        response = await self.raw(path) if self.raw else None
        if response is None:
            response = await self._forward(request, body)
        await response(scope, receive, send)

    async def _forward(self, request: Request, body: bytes) -> Response:
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() not in {"host", "content-length"}}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.upstream),
                                     base_url="http://upstream") as client:
            answer = await client.request(request.method, request.url.path, headers=headers,
                                          content=body)
        out_headers = {k: v for k, v in answer.headers.items()
                       if k.lower() not in {"content-length", "content-type"}}
        status, payload = answer.status_code, answer.json()
        if self.alter is not None:
            status, out_headers, payload = self.alter(request.url.path, status, out_headers,
                                                      payload)
        return Response(json.dumps(payload), status_code=status, headers=out_headers,
                        media_type="application/json")


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_cli(*argv: str, stdin: str = "", tty: bool = False, transport: Any = None) -> Outcome:
    """``orwidgets conform ARGV`` with captured streams (``tty``: stdin claims a terminal)."""

    class Stdin(io.StringIO):
        def isatty(self) -> bool:
            return tty

    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), stdin=Stdin(stdin), stdout=out, stderr=err, transport=transport)
    return Outcome(code, out.getvalue(), err.getvalue())


def change_json(path: str, change: Callable[[Any], Any], *, status: int | None = None,
                headers: dict[str, str] | None = None) -> Alter:
    """An alteration that changes the JSON body (and adds ``headers``) of answers to ``path``
    (only those with ``status``, when given)."""

    def alter(seen: str, code: int, hdrs: dict[str, str], body: Any):
        if seen.endswith(path) and (status is None or code == status):
            body = change(body)
            hdrs = {**hdrs, **(headers or {})}
        return code, hdrs, body

    return alter
