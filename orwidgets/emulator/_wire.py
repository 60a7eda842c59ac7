"""What every route of the emulator shares: OpenRouter's error JSON, body reading and parsing,
the ``Authorization: Bearer`` key, and the texts of the emulator's own 4xx answers.

Every answer that is not a success is ``{"error": {"code": <status>, "message": ...,
"metadata"?: ...}, "user_id"?: ...}``, including 404, 405, 413 and the (never expected) 500.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request as HttpRequest
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

__all__ = [
    "MAX_BODY_BYTES",
    "JSON",
    "dumps",
    "dumps_str",
    "error_response",
    "ok",
    "read_body",
    "parse_json",
    "read_json",
    "body_fields",
    "fields",
    "bearer",
    "AsgiEndpoint",
]

#: Request bodies above this answer 413. [inv: OpenRouter's own limit is not documented]
MAX_BODY_BYTES = 1 << 20
#: Bodies up to this size are read and dropped before the 413, so the client sees the answer
#: instead of a reset connection; beyond it the connection closes.
_DRAIN_LIMIT = 16 << 20
JSON = "application/json"

# Texts of the emulator's own 4xx answers (OpenRouter's exact wording for these is not captured). [inv]
MSG_INVALID_JSON = "Invalid JSON in request body"
MSG_NOT_OBJECT = "Request body must be a JSON object"
MSG_TOO_LARGE = f"Request body too large: the limit is {MAX_BODY_BYTES} bytes"
MSG_NOT_FOUND = "Not Found"
MSG_SERVER = "Internal emulator error"


def dumps_str(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def dumps(obj: Any) -> bytes:
    return dumps_str(obj).encode("utf-8")


def error_response(
    status: int,
    message: str,
    *,
    metadata: dict[str, Any] | None = None,
    user_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """OpenRouter's error JSON; ``error.code`` equals the HTTP status."""
    error: dict[str, Any] = {"code": status, "message": message}
    if metadata is not None:
        error["metadata"] = metadata
    body: dict[str, Any] = {"error": error}
    if user_id is not None:
        body["user_id"] = user_id
    return Response(dumps(body), status_code=status, headers=headers, media_type=JSON)


def ok(body: Any, status: int = 200) -> Response:
    return Response(dumps(body), status_code=status, media_type=JSON)


async def read_body(receive: Receive, declared: str | bytes | None) -> bytes | Response:
    """The body, or a 413/400 answer. Never keeps more than the limit in memory.

    Reads the ASGI messages directly: Starlette's ``request.stream()`` generator costs more than
    the rest of a small request's parsing.
    """
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            return error_response(400, "Invalid Content-Length header")
        if size > _DRAIN_LIMIT:
            return error_response(413, MSG_TOO_LARGE, headers={"Connection": "close"})
    chunks: list[bytes] = []
    total = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect: nobody will read the answer
            return error_response(400, "Client disconnected while sending the body")
        chunk = message.get("body", b"")
        if chunk:
            total += len(chunk)
            if total > _DRAIN_LIMIT:
                return error_response(413, MSG_TOO_LARGE, headers={"Connection": "close"})
            if total <= MAX_BODY_BYTES:
                chunks.append(chunk)
        if not message.get("more_body", False):
            break
    if total > MAX_BODY_BYTES:
        return error_response(413, MSG_TOO_LARGE)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def parse_json(body: bytes) -> Any:
    """Parsed JSON, or a :class:`Response` (400) when the body is not JSON."""
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        return error_response(400, f"{MSG_INVALID_JSON}: {exc.msg} (position {exc.pos})")
    except UnicodeDecodeError:
        return error_response(400, f"{MSG_INVALID_JSON}: not UTF-8 text")
    except (ValueError, RecursionError):
        return error_response(400, f"{MSG_INVALID_JSON}: a value is too large or nested too deeply")


async def read_json(request: HttpRequest, *, empty: Any = None) -> Any:
    """The parsed body; an empty body is ``empty`` (or a 400 when ``empty`` is ``None``)."""
    body = await read_body(request.receive, request.headers.get("content-length"))
    if isinstance(body, Response):
        return body
    if not body.strip():
        if empty is None:
            return error_response(400, f"{MSG_NOT_OBJECT}; the body is empty")
        return empty
    return parse_json(body)


async def body_fields(
    request: HttpRequest, allowed: set[str], *, empty: Any = None
) -> dict[str, Any] | Response:
    """The JSON body restricted to ``allowed`` keys, or the 400/413 that says why not."""
    return fields(await read_json(request, empty=empty), allowed)


def fields(body: Any, allowed: set[str]) -> dict[str, Any] | Response:
    """The body as a dict restricted to ``allowed`` keys, or a 400."""
    if isinstance(body, Response):
        return body
    if not isinstance(body, dict):
        return error_response(400, MSG_NOT_OBJECT)
    unknown = sorted(set(body) - allowed)
    if unknown:
        return error_response(
            400, f"unknown field {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}"
        )
    return body


def bearer(value: str | None) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header value."""
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    return token or None


class AsgiEndpoint:
    """Wraps an ASGI callable so that Starlette's ``Route`` passes it scope/receive/send as is."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
