"""OpenRouter's public API besides chat: ``GET /api/v1/key`` (and the legacy ``/api/v1/auth/key``),
``GET /api/v1/credits``, ``GET /api/v1/models``, and the emulator's ``GET /``.

Handlers are module-level Starlette endpoints that read ``request.app.state.emulator``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request as HttpRequest
from starlette.responses import Response
from starlette.routing import Route

from ..engine import ApiKey, from_pico, to_pico
from ..policy import MESSAGES
from ._wire import JSON, bearer, error_response, ok
from .catalogue import models_payload
from .state import Emulator

__all__ = ["ROUTES", "authenticate", "keyed", "iso_seconds", "DEPRECATED_NOTE",
           "DEFAULT_WORKSPACE_ID"]

#: ``GET /key`` ``rate_limit.interval`` under the legacy key shape: requests per 10 seconds [doc].
_LEGACY_RATE_INTERVAL_S = 10
#: ``rate_limit.note`` of the current key shape [obs].
DEPRECATED_NOTE = MESSAGES.deprecated_rate_limit_note
_MODELS_BODY = models_payload()
#: ``workspace_id`` of every key: a personal account's default workspace, as in the real
#: capture of 2026-10-02. [obs]
DEFAULT_WORKSPACE_ID = "00000000-0000-0000-0000-000000000000"


def _emulator(request: HttpRequest) -> Emulator:
    return request.app.state.emulator


def authenticate(emu: Emulator, request: HttpRequest) -> ApiKey | Response:
    """The key of the ``Authorization: Bearer`` header, or the 401 that says why not (a disabled
    or expired key is unknown: "User not found." [inv])."""
    engine = emu.engine
    secret = bearer(request.headers.get("authorization"))
    if secret is None:
        return error_response(401, engine.policy.no_auth_message)
    key = engine.authenticate(secret, emu.clock.now())
    if key is None:
        return error_response(401, MESSAGES.unknown_key)
    return key


KeyedHandler = Callable[[HttpRequest, Emulator, ApiKey], Awaitable[Response]]


def keyed(handler: KeyedHandler) -> Callable[[HttpRequest], Awaitable[Response]]:
    """A Starlette endpoint that runs ``handler(request, emulator, key)`` for a request with a
    usable key, and answers the 401 otherwise."""

    @functools.wraps(handler)
    async def endpoint(request: HttpRequest) -> Response:
        emu = _emulator(request)
        key = authenticate(emu, request)
        if isinstance(key, Response):
            return key
        return await handler(request, emu, key)

    return endpoint


def iso_seconds(unix_s: float | None) -> str | None:
    """``2027-12-31T23:59:59Z``, as the key routes write times (``None`` stays ``None``)."""
    if unix_s is None:
        return None
    text = datetime.fromtimestamp(unix_s, timezone.utc).isoformat(timespec="seconds")
    return text.replace("+00:00", "Z")


@keyed
async def key_info(request: HttpRequest, emu: Emulator, key: ApiKey) -> Response:
    engine = emu.engine
    version = engine.policy
    now = emu.clock.now()
    snap = engine.snapshot(key.account.account_id, now)
    ks = engine.key_snapshot(key, now)
    usage = {
        # the key's own usage, per UTC day, Monday week and calendar month [doc spec]
        "usage": ks.usage_usd,
        "usage_daily": ks.usage_daily_usd,
        "usage_weekly": ks.usage_weekly_usd,
        "usage_monthly": ks.usage_monthly_usd,
        "byok_usage": 0,
        "byok_usage_daily": 0,
        "byok_usage_weekly": 0,
        "byok_usage_monthly": 0,
    }
    limit = {"limit": ks.limit_usd, "limit_remaining": ks.limit_remaining_usd,
             "limit_reset": ks.limit_reset, "include_byok_in_limit": ks.include_byok_in_limit}
    # "Whether the user has paid for credits before": not the $10 test. [doc]
    is_free_tier = snap.purchased_usd <= 0
    if version.key_shape == "2026":
        # Every field of the OpenAPI example and the 2026 additions, in the order of the real
        # capture of 2026-10-02 (openrouter-2026.md §6).
        data: dict[str, Any] = {
            "label": ks.label,
            "is_management_key": ks.management,
            "is_provisioning_key": ks.management,
            "limit": ks.limit_usd,
            "limit_reset": ks.limit_reset,
            "limit_remaining": ks.limit_remaining_usd,
            "include_byok_in_limit": ks.include_byok_in_limit,
            **usage,
            "is_free_tier": is_free_tier,
            "expires_at": iso_seconds(ks.expires_at),
            "creator_user_id": ks.creator_user_id,
            "organization_id": None,  # a personal account [obs]
            "workspace_id": DEFAULT_WORKSPACE_ID,
            "allowed_data_regions": ["global"],  # [obs]
            "free_model_daily_requests": {
                "used": snap.free_used_today,
                "limit": snap.free_daily_limit,
                "remaining": snap.free_remaining_today,
            },
            "rate_limit": {"requests": -1, "interval": "10s", "note": DEPRECATED_NOTE},
        }
        return ok({"data": data})
    data = {
        "label": ks.label,
        **limit,
        **usage,
        "is_free_tier": is_free_tier,
        "is_management_key": ks.management,
        "is_provisioning_key": ks.management,
    }
    if version.key_shape == "2025":
        data["rate_limit"] = {"requests": -1, "interval": "10s", "note": DEPRECATED_NOTE}
    else:
        rps = snap.paid_rps if snap.paid_rps is not None else version.paid_rps_min
        data["rate_limit"] = {
            "requests": _LEGACY_RATE_INTERVAL_S * rps,
            "interval": f"{_LEGACY_RATE_INTERVAL_S}s",
        }
    return ok({"data": data})


@keyed
async def credits(request: HttpRequest, emu: Emulator, key: ApiKey) -> Response:
    if emu.engine.policy.credits_requires_management and not key.management:
        return error_response(403, MESSAGES.management_only)
    snap = emu.engine.snapshot(key.account.account_id, emu.clock.now())
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
