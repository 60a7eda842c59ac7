"""OpenRouter's public API besides chat: ``GET /api/v1/key`` (and the legacy ``/api/v1/auth/key``),
``GET /api/v1/credits``, ``GET /api/v1/models``, and the emulator's ``GET /``.

Handlers are module-level Starlette endpoints that read ``request.app.state.emulator``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request as HttpRequest
from starlette.responses import Response
from starlette.routing import Route

from ..engine import Account, from_pico, to_pico, truncate_key
from ..policy import MESSAGES
from ._wire import JSON, bearer, error_response, ok
from .catalogue import models_payload
from .state import Emulator

__all__ = ["ROUTES", "authenticate", "keyed", "DEPRECATED_NOTE"]

#: ``GET /key`` ``rate_limit.interval`` under the legacy key shape: requests per 10 seconds [doc].
_LEGACY_RATE_INTERVAL_S = 10
#: ``rate_limit.note`` of the current key shape [obs].
DEPRECATED_NOTE = MESSAGES.deprecated_rate_limit_note
_MODELS_BODY = models_payload()


def _emulator(request: HttpRequest) -> Emulator:
    return request.app.state.emulator


def authenticate(emu: Emulator, request: HttpRequest) -> tuple[Account, str] | Response:
    """The account and key of the ``Authorization: Bearer`` header, or the 401 that says why not."""
    key = bearer(request.headers.get("authorization"))
    if key is None:
        return error_response(401, MESSAGES.no_auth)
    acct = emu.engine.account_for_key(key)
    if acct is None:
        return error_response(401, MESSAGES.unknown_key)
    return acct, key


KeyedHandler = Callable[[HttpRequest, Emulator, Account, str], Awaitable[Response]]


def keyed(handler: KeyedHandler) -> Callable[[HttpRequest], Awaitable[Response]]:
    """A Starlette endpoint that runs ``handler(request, emulator, account, key)`` for a request
    with a valid key, and answers the 401 otherwise."""

    @functools.wraps(handler)
    async def endpoint(request: HttpRequest) -> Response:
        emu = _emulator(request)
        auth = authenticate(emu, request)
        if isinstance(auth, Response):
            return auth
        return await handler(request, emu, *auth)

    return endpoint


@keyed
async def key_info(request: HttpRequest, emu: Emulator, acct: Account, key: str) -> Response:
    engine = emu.engine
    version = engine.policy
    snap = engine.snapshot(acct.account_id, emu.clock.now())
    data: dict[str, Any] = {
        "label": truncate_key(key),
        "limit": None,
        "limit_remaining": None,
        "limit_reset": None,
        "include_byok_in_limit": False,
        "usage": snap.usage_usd,
        "usage_daily": snap.usage_daily_usd,
        # [inv] the emulator keeps no weekly/monthly windows: both report all-time usage.
        "usage_weekly": snap.usage_usd,
        "usage_monthly": snap.usage_usd,
        "byok_usage": 0,
        "byok_usage_daily": 0,
        "byok_usage_weekly": 0,
        "byok_usage_monthly": 0,
        # "Whether the user has paid for credits before": not the $10 test. [doc]
        "is_free_tier": snap.purchased_usd <= 0,
        "is_management_key": snap.management,
        "is_provisioning_key": snap.management,
    }
    if version.key_shape != "legacy":
        if version.key_shape == "2026":
            data["free_model_daily_requests"] = {
                "used": snap.free_used_today,
                "limit": snap.free_daily_limit,
                "remaining": snap.free_remaining_today,
            }
        data["rate_limit"] = {"requests": -1, "interval": "10s", "note": DEPRECATED_NOTE}
    else:
        rps = snap.paid_rps if snap.paid_rps is not None else version.paid_rps_min
        data["rate_limit"] = {
            "requests": _LEGACY_RATE_INTERVAL_S * rps,
            "interval": f"{_LEGACY_RATE_INTERVAL_S}s",
        }
    return ok({"data": data})


@keyed
async def credits(request: HttpRequest, emu: Emulator, acct: Account, key: str) -> Response:
    if emu.engine.policy.credits_requires_management and not acct.management:
        return error_response(403, MESSAGES.management_only)
    snap = emu.engine.snapshot(acct.account_id, emu.clock.now())
    purchased = to_pico(snap.purchased_usd)
    # balance = total_credits - total_usage [doc], so usage is what makes that identity hold.
    return ok({"data": {
        "total_credits": from_pico(purchased),
        "total_usage": from_pico(purchased - to_pico(snap.balance_usd)),
    }})


async def models(request: HttpRequest) -> Response:
    return Response(_MODELS_BODY, media_type=JSON)


async def root(request: HttpRequest) -> Response:
    return ok({
        "name": "orwidgets OpenRouter emulator",
        "api_base": "/api/v1",
        "policy": _emulator(request).engine.policy.id,
        "docs": "see the orwidgets README, section 'The OpenRouter emulator'",
    })


ROUTES = [
    Route("/", root, methods=["GET"]),
    Route("/api/v1/key", key_info, methods=["GET"]),
    Route("/api/v1/auth/key", key_info, methods=["GET"]),
    Route("/api/v1/credits", credits, methods=["GET"]),
    Route("/api/v1/models", models, methods=["GET"]),
]
