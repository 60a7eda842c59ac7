"""The emulator's own admin API under ``/_emulator/`` (header ``X-Admin-Token``): accounts, clock,
policy, fault rules, the in-flight budget's numbers and reset. Not OpenRouter's: it drives the emulator from tests and notebooks.

Handlers are module-level Starlette endpoints that read ``request.app.state.emulator``; each is
wrapped by :func:`_admin`, which answers 401 without the right token.
"""

from __future__ import annotations

import dataclasses
import functools
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request as HttpRequest
from starlette.responses import Response
from starlette.routing import Route

from ..policy import ALIASES, get_policy, policy_ids
from ._wire import body_fields, error_response, ok, read_json
from .faults import FaultError
from .state import Emulator, parse_time

__all__ = ["ROUTES"]

_MSG_ADMIN = "Admin route: send the emulator's admin token in the X-Admin-Token header"

Handler = Callable[[HttpRequest, Emulator], Awaitable[Response]]


def _admin(handler: Handler) -> Callable[[HttpRequest], Awaitable[Response]]:
    """A Starlette endpoint that runs ``handler(request, emulator)`` for the admin only (401 else)."""

    @functools.wraps(handler)
    async def endpoint(request: HttpRequest) -> Response:
        emu: Emulator = request.app.state.emulator
        given = request.headers.get("x-admin-token")
        if given is None or not hmac.compare_digest(
            given.encode("utf-8", "surrogateescape"), emu.admin_token.encode("utf-8")
        ):
            return error_response(401, _MSG_ADMIN)
        return await handler(request, emu)

    return endpoint


@_admin
async def accounts(request: HttpRequest, emu: Emulator) -> Response:
    if request.method == "GET":
        return ok({"data": emu.accounts_view()})
    fields = await body_fields(
        request, {"balance_usd", "purchased_usd", "management", "label", "name"}, empty={}
    )
    if isinstance(fields, Response):
        return fields
    label = fields.get("label", "")
    name = fields.get("name")
    if not isinstance(label, str) or (name is not None and not isinstance(name, str)):
        return error_response(400, "label, name: expected strings")
    try:
        account_id, key = emu.create_account(
            fields.get("balance_usd", 0.0), fields.get("purchased_usd", 0.0),
            fields.get("management", False), label=label, name=name,
        )
    except ValueError as exc:
        return error_response(400, str(exc))
    return ok({"account_id": account_id, "key": key}, status=201)


@_admin
async def account_patch(request: HttpRequest, emu: Emulator) -> Response:
    account_id = request.path_params["account_id"]
    fields = await body_fields(request, {"balance_usd", "purchased_usd"})
    if isinstance(fields, Response):
        return fields
    if not fields:
        return error_response(400, "body: give balance_usd and/or purchased_usd")
    return _change_account(emu, account_id, lambda: emu.engine.set_account(account_id, **fields))


@_admin
async def topup(request: HttpRequest, emu: Emulator) -> Response:
    account_id = request.path_params["account_id"]
    fields = await body_fields(request, {"usd"})
    if isinstance(fields, Response):
        return fields
    if "usd" not in fields:
        return error_response(400, 'body: expected {"usd": <amount>}')
    return _change_account(emu, account_id, lambda: emu.engine.topup(account_id, fields["usd"]))


def _change_account(emu: Emulator, account_id: str, change: Callable[[], Any]) -> Response:
    """Apply ``change``; the account as it is then, 404 for an unknown id, 400 for a value."""
    try:
        change()
    except KeyError:
        return error_response(404, f"account_id: no account {account_id!r}")
    except ValueError as exc:
        return error_response(400, str(exc))
    return ok(emu.account_view(account_id))


@_admin
async def clock(request: HttpRequest, emu: Emulator) -> Response:
    if request.method == "POST":
        fields = await body_fields(request, {"advance_seconds", "now"})
        if isinstance(fields, Response):
            return fields
        if len(fields) != 1:
            return error_response(
                400, 'body: expected {"advance_seconds": <seconds>} or {"now": "<ISO 8601 time>"}'
            )
        try:
            if "now" in fields:
                emu.clock.set(parse_time(fields["now"]))
            else:
                emu.clock.advance(fields["advance_seconds"])
        except ValueError as exc:
            return error_response(400, str(exc))
    return ok(emu.clock.to_json())


def _policy_json(emu: Emulator) -> dict[str, Any]:
    version = emu.engine.policy
    return {"policy": version.id, "title": version.title, "available": policy_ids(),
            "aliases": dict(ALIASES)}


@_admin
async def policy(request: HttpRequest, emu: Emulator) -> Response:
    if request.method == "PUT":
        fields = await body_fields(request, {"policy"})
        if isinstance(fields, Response):
            return fields
        try:
            emu.set_policy(get_policy(fields.get("policy", "")))
        except ValueError as exc:
            return error_response(400, str(exc))
    return ok(_policy_json(emu))


@_admin
async def faults(request: HttpRequest, emu: Emulator) -> Response:
    """GET answers the active rules with every field (``null`` where unset: an upstream rule's
    ``"retry_after_s": null`` means no Retry-After), so a script can POST them back exactly after
    its own; POST replaces them."""
    if request.method == "GET":
        return ok({"rules": [dataclasses.asdict(r) for r in emu.faults.rules]})
    body = await read_json(request)
    if isinstance(body, Response):
        return body
    try:
        rules = emu.faults.configure(body)
    except FaultError as exc:
        return error_response(400, str(exc))
    return ok({"rules": [r.to_json() for r in rules]})


@_admin
async def in_flight(request: HttpRequest, emu: Emulator) -> Response:
    """The in-flight budget's numbers: GET answers them; PUT changes any of them and answers all."""
    if request.method == "PUT":
        body = await read_json(request)
        if isinstance(body, Response):
            return body
        try:
            emu.set_in_flight(body)
        except ValueError as exc:
            return error_response(400, str(exc))
    return ok(emu.in_flight.to_json())


@_admin
async def reset(request: HttpRequest, emu: Emulator) -> Response:
    emu.reset()
    return ok({"reset": True, "policy": emu.engine.policy.id, "clock": emu.clock.to_json(),
               "accounts": len(emu.engine.accounts())})


ROUTES = [
    Route("/_emulator/accounts", accounts, methods=["GET", "POST"]),
    Route("/_emulator/accounts/{account_id}", account_patch, methods=["PATCH"]),
    Route("/_emulator/accounts/{account_id}/topup", topup, methods=["POST"]),
    Route("/_emulator/clock", clock, methods=["GET", "POST"]),
    Route("/_emulator/policy", policy, methods=["GET", "PUT"]),
    Route("/_emulator/faults", faults, methods=["GET", "POST"]),
    Route("/_emulator/in_flight", in_flight, methods=["GET", "PUT"]),
    Route("/_emulator/reset", reset, methods=["POST"]),
]
