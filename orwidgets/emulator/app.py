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
from starlette.types import Message, Receive, Scope, Send

from ..journal import Journal
from ..policy import InFlightParams, PolicyVersion
from . import admin, chat, keys_api, public
from ._wire import MAX_BODY_BYTES, MSG_NOT_FOUND, MSG_SERVER, bearer, error_response
from .chat import estimate_tokens, reply_text
from .state import DEFAULT_LATENCY_MS, Emulator, EmulatorClock, JournalSpec, LatencySpec

#: The admin API's root: its requests are not the client's, so the journal leaves them out.
ADMIN_ROOT = "/_emulator"

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
        if scope["type"] == "http":
            path = scope["path"]
            if path == chat.PATH and scope["method"] == "POST":
                scope["app"] = self
                try:
                    await chat.chat_completions(scope, receive, send)  # it records its answers
                except Exception:
                    try:
                        await error_response(500, MSG_SERVER)(scope, receive, send)
                    except Exception:  # noqa: BLE001 - the answer had started: the server closes it
                        pass
                    raise
                return
            journal = self.state.emulator.journal
            if journal is not None and not _is_admin(path):
                await self._recorded(scope, receive, send, journal)
                return
        await super().__call__(scope, receive, send)

    async def _recorded(self, scope: Scope, receive: Receive, send: Send, journal: Journal) -> None:
        """Serve any route but the chat one and the admin API, and record the answer (``model``
        null); the key and account are read on arrival (a key deleted by this very request
        still shows whose it was)."""
        emu: Emulator = self.state.emulator
        now = emu.clock.now()
        secret = account = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                secret = bearer(value.decode("latin-1"))
        if secret is not None:
            key = emu.engine.authenticate(secret, now)
            account = key.account.account_id if key is not None else None

        async def recording(message: Message) -> None:
            # Recorded as the answer starts, before the client can read it (see chat.py).
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = {k.lower(): v.decode("latin-1") for k, v in message.get("headers", ())}
                journal.record(
                    time=now, status=status, call_class=route_class(status, secret is not None),
                    key=secret, account=account, path=scope["path"],
                    retry_after=chat.header_seconds(headers.get(b"retry-after")),
                    rate_limit_reset=chat.header_ms(headers.get(b"x-ratelimit-reset")),
                )
            await send(message)

        await super().__call__(scope, receive, recording)


#: The journal class of an answer of the routes other than chat, by status. [inv] On these
#: routes the status says it all: a 403 is a route for management keys, a 404 an unknown path or
#: key hash.
_ROUTE_CLASSES = {400: "invalid_request", 403: "management_only", 404: "not_found",
                  405: "method_not_allowed", 413: "too_large", 500: "server_error"}


def route_class(status: int, with_key: bool) -> str:
    """The journal class of an answer of a route other than chat completions."""
    if 200 <= status < 300:
        return "ok"
    if status == 401:
        return "unknown_key" if with_key else "no_auth"
    return _ROUTE_CLASSES.get(status, f"http_{status}")


def _is_admin(path: str) -> bool:
    return path == ADMIN_ROOT or path.startswith(ADMIN_ROOT + "/")


def create_app(
    policy: str | PolicyVersion | None = None,
    latency_ms: LatencySpec = DEFAULT_LATENCY_MS,
    admin_token: str | None = None,
    clock: EmulatorClock | Any = None,
    accounts: Any = None,
    seed: int = 0,
    in_flight: InFlightParams | dict[str, Any] | None = None,
    journal: JournalSpec = None,
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
    journal:
        The journal of answers (:mod:`orwidgets.journal`): ``None`` keeps it in memory, a path
        or a text file writes it there too as JSON lines (a path replaces an old file;
        ``ValueError`` when it cannot be written), a :class:`~orwidgets.journal.Journal` is used
        as it is, ``False`` records nothing. Every answer but the admin API's is recorded.

    Returns
    -------
    EmulatorApp
        A Starlette app, with ``app.state.emulator`` (:class:`~orwidgets.emulator.state.Emulator`).
    """
    emu = Emulator(policy, latency_ms, admin_token, clock, accounts, seed, in_flight, journal)
    app = EmulatorApp(
        routes=[*chat.ROUTES, *public.ROUTES, *keys_api.ROUTES, *admin.ROUTES],
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    app.router.redirect_slashes = False  # a wrong path is a 404 JSON, not a redirect
    app.state.emulator = emu
    return app
