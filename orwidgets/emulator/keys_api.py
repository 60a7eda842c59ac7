"""OpenRouter's management-key API: ``GET/POST /api/v1/keys``, ``GET/PATCH/DELETE
/api/v1/keys/{hash}``, answered as the OpenAPI spec says (openrouter-openapi-keys.yaml).

Only management keys may call it; any other key gets the documented 403 ``Only management keys
can perform this operation``. The keys it makes belong to the management key's account: they call
models like any key, and each may carry its own spending limit (``limit``, ``limit_reset``) that
the engine enforces. Handlers are module-level Starlette endpoints (``request.app.state.emulator``).

Our choices where the spec is silent [inv]: the list, get, update and delete routes see the
account's ordinary keys only (management keys are not "API keys" here, a 404); a page of the list
holds up to 100 keys; ``label`` is the truncated key, as ``GET /key`` shows it (the spec's examples
show both that and the name); 400 messages start with the spec's ``Invalid request parameters``
and name the field; ``expires_at`` must lie in the future; a ``workspace_id`` other than the
account's one lists nothing and is refused on create.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request as HttpRequest
from starlette.responses import Response
from starlette.routing import Route

from ..engine import ApiKey
from ..policy import MESSAGES
from ._wire import error_response, ok, read_json
from .public import DEFAULT_WORKSPACE_ID, iso_seconds, keyed
from .state import Emulator, parse_time

__all__ = ["ROUTES", "PAGE_SIZE"]

#: Keys per page of ``GET /api/v1/keys``. [inv]
PAGE_SIZE = 100
_BAD = "Invalid request parameters"  # the spec's 400 example text [doc]
_NOT_FOUND = "Resource not found"  # the spec's 404 example text [doc]
_CREATE_FIELDS = {"name", "limit", "limit_reset", "include_byok_in_limit", "expires_at",
                  "creator_user_id", "workspace_id"}
_UPDATE_FIELDS = {"name", "disabled", "include_byok_in_limit", "limit", "limit_reset"}


def _bad(detail: str) -> Response:
    return error_response(400, f"{_BAD}: {detail}")


def key_json(emu: Emulator, key: ApiKey) -> dict[str, Any]:
    """A key as the keys routes answer it (the fields the spec requires, and ``expires_at``)."""
    snap = emu.engine.key_snapshot(key, emu.clock.now())
    return {
        "hash": snap.hash,
        "name": snap.name,
        "label": snap.label,
        "disabled": snap.disabled,
        "limit": snap.limit_usd,
        "limit_remaining": snap.limit_remaining_usd,
        "limit_reset": snap.limit_reset,
        "include_byok_in_limit": snap.include_byok_in_limit,
        "usage": snap.usage_usd,
        "usage_daily": snap.usage_daily_usd,
        "usage_weekly": snap.usage_weekly_usd,
        "usage_monthly": snap.usage_monthly_usd,
        "byok_usage": 0,
        "byok_usage_daily": 0,
        "byok_usage_weekly": 0,
        "byok_usage_monthly": 0,
        "created_at": iso_seconds(snap.created_at),
        "updated_at": iso_seconds(snap.updated_at),
        "expires_at": iso_seconds(snap.expires_at),
        "creator_user_id": snap.creator_user_id,
        "workspace_id": DEFAULT_WORKSPACE_ID,
    }


def _managed(handler):
    """:func:`~.public.keyed`, and a 403 for a key that is not a management key."""

    @keyed
    async def endpoint(request: HttpRequest, emu: Emulator, key: ApiKey) -> Response:
        if not key.management:
            return error_response(403, MESSAGES.management_only)
        return await handler(request, emu, key)

    endpoint.__name__ = handler.__name__
    return endpoint


def _item(handler):
    """:func:`_managed`, for ``/keys/{hash}``: runs ``handler(request, emulator, key)`` with the
    key the path names if it is one of the manager's account's ordinary keys (a 404 else)."""

    async def endpoint(request: HttpRequest, emu: Emulator, manager: ApiKey) -> Response:
        key = emu.engine.key_by_hash(request.path_params["hash"])
        if key is None or key.account is not manager.account or key.management:
            return error_response(404, _NOT_FOUND)
        return await handler(request, emu, key)

    endpoint.__name__ = handler.__name__
    return _managed(endpoint)


def _engine_fields(body: dict[str, Any], now: float) -> dict[str, Any] | Response:
    """The body's fields as the engine names them, or the 400 naming the first bad one."""
    fields: dict[str, Any] = {}
    for name, value in body.items():
        if name == "limit":
            fields["limit_usd"] = value
        elif name == "expires_at":
            if value is None:
                fields["expires_at"] = None
                continue
            try:
                when = parse_time(value, "expires_at")
            except ValueError as exc:
                return _bad(str(exc))
            if when <= now:
                return _bad(f"expires_at: must be in the future, got {value!r}")
            fields["expires_at"] = when
        elif name == "workspace_id":
            if value != DEFAULT_WORKSPACE_ID:
                return _bad(f"workspace_id: no workspace {value!r} on this account "
                            f"(its default workspace is {DEFAULT_WORKSPACE_ID})")
        else:
            fields[name] = value
    return fields


async def _body(request: HttpRequest, allowed: set[str]) -> dict[str, Any] | Response:
    body = await read_json(request)
    if isinstance(body, Response):
        return body
    if not isinstance(body, dict):
        return _bad("the body must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        return _bad(f"unknown field {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")
    return body


def _flag(value: str | None, name: str) -> bool | Response:
    if value is None:
        return False
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    return _bad(f"{name}: expected true or false, got {value!r}")


@_managed
async def list_keys(request: HttpRequest, emu: Emulator, manager: ApiKey) -> Response:
    query = request.query_params
    include_disabled = _flag(query.get("include_disabled"), "include_disabled")
    if isinstance(include_disabled, Response):
        return include_disabled
    raw_offset = query.get("offset")
    if raw_offset is None or raw_offset == "":
        offset = 0
    elif raw_offset.isascii() and raw_offset.isdigit():
        offset = int(raw_offset)
    else:
        return _bad(f"offset: expected a whole number >= 0, got {raw_offset!r}")
    workspace = query.get("workspace_id")
    keys = [k for k in list(manager.account.api_keys)
            if not k.management and (include_disabled or not k.disabled)]
    if workspace is not None and workspace != DEFAULT_WORKSPACE_ID:
        keys = []
    return ok({"data": [key_json(emu, k) for k in keys[offset:offset + PAGE_SIZE]]})


@_managed
async def create_key(request: HttpRequest, emu: Emulator, manager: ApiKey) -> Response:
    body = await _body(request, _CREATE_FIELDS)
    if isinstance(body, Response):
        return body
    if "name" not in body:
        return _bad("name: required (a non-empty string)")
    now = emu.clock.now()
    fields = _engine_fields(body, now)
    if isinstance(fields, Response):
        return fields
    fields.setdefault("creator_user_id", manager.account.user_id)
    try:
        made = emu.engine.create_key(manager.account.account_id, now=now, **fields)
    except ValueError as exc:
        return _bad(str(exc))
    return ok({"data": key_json(emu, made), "key": made.secret}, status=201)


@_item
async def get_key(request: HttpRequest, emu: Emulator, key: ApiKey) -> Response:
    return ok({"data": key_json(emu, key)})


@_item
async def update_key(request: HttpRequest, emu: Emulator, key: ApiKey) -> Response:
    body = await _body(request, _UPDATE_FIELDS)
    if isinstance(body, Response):
        return body
    if not body:
        return _bad(f"give at least one of {', '.join(sorted(_UPDATE_FIELDS))}")
    now = emu.clock.now()
    fields = _engine_fields(body, now)
    if isinstance(fields, Response):
        return fields
    try:
        emu.engine.update_key(key, now=now, **fields)
    except ValueError as exc:
        return _bad(str(exc))
    return ok({"data": key_json(emu, key)})


@_item
async def delete_key(request: HttpRequest, emu: Emulator, key: ApiKey) -> Response:
    emu.engine.delete_key(key)
    return ok({"deleted": True})


_COLLECTION = {"GET": list_keys, "HEAD": list_keys, "POST": create_key}
_ITEM = {"GET": get_key, "HEAD": get_key, "PATCH": update_key, "DELETE": delete_key}


async def keys(request: HttpRequest) -> Response:
    return await _COLLECTION[request.method](request)


async def key(request: HttpRequest) -> Response:
    return await _ITEM[request.method](request)


# One route per path, so that a wrong method gets a 405 whose Allow lists every method.
ROUTES = [
    Route("/api/v1/keys", keys, methods=["GET", "POST"]),
    Route("/api/v1/keys/{hash}", key, methods=["GET", "PATCH", "DELETE"]),
]
