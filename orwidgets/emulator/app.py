"""The OpenRouter-compatible Starlette app over the engine (spec sections 3-4).

:func:`create_app` assembles the routes of each surface, one module each:

* :mod:`.chat`: ``POST /api/v1/chat/completions`` (raw ASGI: the hot path);
* :mod:`.public`: the rest of OpenRouter's public API (``/api/v1/key``, ``/credits``, ``/models``);
* :mod:`.keys_api`: OpenRouter's management-key API (``/api/v1/keys``, ``/api/v1/keys/{hash}``);
* :mod:`.admin`: the emulator's own admin API under ``/_emulator/`` (header ``X-Admin-Token``).

Shared pieces (OpenRouter's error JSON, body parsing) live in :mod:`._wire`. Every answer that is
not a success is OpenRouter's error JSON, including 404, 405, 413 and the (never expected) 500.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request as HttpRequest
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ..policy import InFlightParams, PolicyVersion
from . import admin, chat, keys_api, public
from ._wire import MAX_BODY_BYTES, MSG_NOT_FOUND, MSG_SERVER, error_response
from .chat import estimate_tokens, reply_text
from .state import DEFAULT_LATENCY_MS, Emulator, EmulatorClock, LatencySpec

__all__ = ["create_app", "EmulatorApp", "MAX_BODY_BYTES", "estimate_tokens", "reply_text"]


async def _http_error(request: HttpRequest, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = exc.detail if exc.status_code != 404 else MSG_NOT_FOUND
    return error_response(exc.status_code, message, headers=dict(exc.headers or {}))


async def _server_error(request: HttpRequest, exc: Exception) -> Response:
    return error_response(500, MSG_SERVER)


class EmulatorApp(Starlette):
    """Starlette, with ``POST /api/v1/chat/completions`` answered before the router and the
    middleware stack: the hot path skips about 10 microseconds of route matching and exception
    wrapping per request (measured in-process; the route stays in the router too, so that its
    other methods get the 405). A crash there still answers OpenRouter's 500 JSON and is
    re-raised, as the middleware would."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == chat.PATH and scope["method"] == "POST":
            scope["app"] = self
            try:
                await chat.chat_completions(scope, receive, send)
            except Exception:
                try:
                    await error_response(500, MSG_SERVER)(scope, receive, send)
                except Exception:  # noqa: BLE001 - the answer had started: the server closes it
                    pass
                raise
            return
        await super().__call__(scope, receive, send)


def create_app(
    policy: str | PolicyVersion | None = None,
    latency_ms: LatencySpec = DEFAULT_LATENCY_MS,
    admin_token: str | None = None,
    clock: EmulatorClock | Any = None,
    accounts: Any = None,
    seed: int = 0,
    in_flight: InFlightParams | dict[str, Any] | None = None,
) -> Starlette:
    """Build the emulator app.

    Parameters
    ----------
    policy:
        Policy version id (default: the article's, ``2025-04``).
    latency_ms:
        Chat answer latency: a number of ms, a ``(low, high)`` range drawn uniformly (default
        20-50 ms), or 0 for benchmarks and tests.
    admin_token:
        Value of the ``X-Admin-Token`` header the admin API requires (random when omitted).
    clock:
        An :class:`~orwidgets.emulator.state.EmulatorClock` or a callable returning Unix seconds
        (tests pass a fake); real time by default.
    accounts:
        Extra accounts: a list of dicts (``balance_usd``, ``purchased_usd``, ``management``,
        ``label``, ``name``, ``account_id``, ``key``) or the path of a JSON file holding one.
    seed:
        Seeds the latency draws.
    in_flight:
        The in-flight budget's numbers (:class:`~orwidgets.policy.InFlightParams`, or a dict of
        some of ``fraction``, ``ceiling_usd``, ``threshold_usd``, ``settle_s``,
        ``completion_cap_tokens``, ``retry_after_s``; the others keep their defaults). They apply
        under versions with an in-flight budget; ``reset`` restores them.

    Returns
    -------
    EmulatorApp
        A Starlette app, with ``app.state.emulator`` (:class:`~orwidgets.emulator.state.Emulator`).
    """
    emu = Emulator(policy, latency_ms, admin_token, clock, accounts, seed, in_flight)
    app = EmulatorApp(
        routes=[*chat.ROUTES, *public.ROUTES, *keys_api.ROUTES, *admin.ROUTES],
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    app.router.redirect_slashes = False  # a wrong path is a 404 JSON, not a redirect
    app.state.emulator = emu
    return app
