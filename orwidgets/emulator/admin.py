"""The emulator's own admin API under ``/_emulator/`` (header ``X-Admin-Token``): accounts, clock,
policy, fault rules, the in-flight budget's numbers, reset, and the journal and verdict. Not OpenRouter's: it drives the emulator from tests and notebooks.

Handlers are module-level Starlette endpoints that read ``request.app.state.emulator``; each is
wrapped by :func:`_admin`, which answers 401 without the right token.
"""

from __future__ import annotations

import dataclasses
import functools
import hmac
import math
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request as HttpRequest
from starlette.responses import Response
from starlette.routing import Route

from ..policy import ALIASES, get_policy, policy_ids
from ..verdict import verdict_json
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


#: Query parameters of the journal and verdict routes.
_JOURNAL_PARAMS = ("since", "limit")
_MSG_NO_JOURNAL = ("journal: this emulator keeps no journal (it was started with journal=False "
                   "or --no-journal)")


def _query(request: HttpRequest, allowed: tuple[str, ...]) -> dict[str, Any] | Response:
    """``since`` (Unix seconds or an ISO 8601 time) and ``limit`` (a whole number >= 1) of the
    query string, checked; a 400 naming the first bad one."""
    params = request.query_params
    for name in params:
        if name not in allowed:
            return error_response(400, f"unknown query parameter {name!r}; allowed: "
                                       f"{', '.join(allowed)}")
        if len(params.getlist(name)) > 1:
            return error_response(400, f"{name}: give it once")
    values: dict[str, Any] = {}
    since = params.get("since")
    if since is not None:
        try:
            values["since"] = _since(since)
        except ValueError as exc:
            return error_response(400, str(exc))
    limit = params.get("limit")
    if limit is not None:
        if not limit.isdecimal() or int(limit) < 1:
            return error_response(400, f"limit: expected a whole number >= 1, got {limit!r}")
        values["limit"] = int(limit)
    return values


def _since(text: str) -> float:
    """Unix seconds (``1767268800.5``) or an ISO 8601 time (``2026-01-01T12:00:00Z``)."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is not None:
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"since: expected Unix seconds (0 or more) or an ISO 8601 time, "
                             f"got {text!r}")
        return value
    try:
        return parse_time(text, "since")
    except ValueError:
        raise ValueError(f"since: expected Unix seconds or an ISO 8601 time such as "
                         f"'2026-01-01T12:00:00Z', got {text!r}") from None


@_admin
async def journal(request: HttpRequest, emu: Emulator) -> Response:
    """The journal of answers, oldest first: all of it, from ``since`` on, or the newest
    ``limit``."""
    query = _query(request, _JOURNAL_PARAMS)
    if isinstance(query, Response):
        return query
    if emu.journal is None:
        return error_response(404, _MSG_NO_JOURNAL)
    return ok(emu.journal.to_json(**query))


@_admin
async def verdict(request: HttpRequest, emu: Emulator) -> Response:
    """The verdict on the journal (from ``since`` on, or its newest ``limit`` entries): the
    findings, and how many of each rule."""
    query = _query(request, _JOURNAL_PARAMS)
    if isinstance(query, Response):
        return query
    if emu.journal is None:
        return error_response(404, _MSG_NO_JOURNAL)
    return ok(verdict_json(emu.journal.select(**query)))


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
    Route("/_emulator/journal", journal, methods=["GET"]),
    Route("/_emulator/verdict", verdict, methods=["GET"]),
]
