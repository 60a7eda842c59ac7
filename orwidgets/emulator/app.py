"""The OpenRouter-compatible Starlette app over the engine (spec sections 3-4).

Routes: ``POST /api/v1/chat/completions``, ``GET /api/v1/key`` (and the legacy ``/api/v1/auth/key``),
``GET /api/v1/credits``, ``GET /api/v1/models``, and the admin API under ``/_emulator/`` (header
``X-Admin-Token``). Every answer that is not a success is OpenRouter's error JSON
``{"error": {"code": <status>, "message": ..., "metadata"?: ...}, "user_id"?: ...}``, including
404, 405, 413 and the (never expected) 500.

Token estimate [inv]: the emulator runs no model, so it counts tokens as characters / 4, rounded up,
over all message texts (at least 1 prompt token). ``max_tokens`` (or ``max_completion_tokens``) sets
the request's maximum output; without it the model's ``max_completion_tokens`` is used, as
OpenRouter's affordability check does. The canned reply is cut at ``max_tokens``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import math
from collections.abc import Callable
from typing import Any, NamedTuple

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request as HttpRequest
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ..engine import Request, from_pico, to_pico, truncate_key
from ..policy import (
    ALIASES,
    MESSAGES,
    LimitSource,
    PolicyVersion,
    get_policy,
    policy_ids,
    unknown_model_message,
    upstream_raw_message,
)
from .catalogue import DEFAULT_FREE_MODEL, Model, get_model, models_payload
from .faults import (
    BAD_GATEWAY_RAW,
    ERROR_TYPE_OVERLOADED,
    ERROR_TYPE_RATE_LIMIT,
    OVERLOADED_RAW,
    FaultError,
    FaultRule,
)
from .state import DEFAULT_LATENCY_MS, Emulator, EmulatorClock, LatencySpec, parse_time

__all__ = ["create_app", "MAX_BODY_BYTES", "estimate_tokens", "reply_text"]

#: Request bodies above this answer 413. [inv: OpenRouter's own limit is not documented]
MAX_BODY_BYTES = 1 << 20
#: Bodies up to this size are read and dropped before the 413, so the client sees the answer
#: instead of a reset connection; beyond it the connection closes.
_DRAIN_LIMIT = 16 << 20
CHARS_PER_TOKEN = 4
_PLAN_CACHE_SIZE = 4096
#: ``GET /key`` ``rate_limit.interval`` under the legacy key shape: requests per 10 seconds [doc].
_LEGACY_RATE_INTERVAL_S = 10
#: ``rate_limit.note`` of the current key shape [obs].
DEPRECATED_NOTE = MESSAGES.deprecated_rate_limit_note
_JSON = "application/json"
_ROLES = frozenset({"system", "user", "assistant", "tool", "developer", "function"})

# Texts of the emulator's own 4xx answers (OpenRouter's exact wording for these is not captured). [inv]
_MSG_INVALID_JSON = "Invalid JSON in request body"
_MSG_NOT_OBJECT = "Request body must be a JSON object"
_MSG_NO_INPUT = 'Input required: specify "prompt" or "messages"'
_MSG_TOO_LARGE = f"Request body too large: the limit is {MAX_BODY_BYTES} bytes"
_MSG_ADMIN = "Admin route: send the emulator's admin token in the X-Admin-Token header"
_MSG_NOT_FOUND = "Not Found"
_MSG_SERVER = "Internal emulator error"


def _dumps_str(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _dumps(obj: Any) -> bytes:
    return _dumps_str(obj).encode("utf-8")


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
    return Response(_dumps(body), status_code=status, headers=headers, media_type=_JSON)


def _ok(body: Any, status: int = 200) -> Response:
    return Response(_dumps(body), status_code=status, media_type=_JSON)


# --- request parsing ----------------------------------------------------------------------------


async def _read_body(receive: Receive, declared: str | bytes | None) -> bytes | Response:
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
            return error_response(413, _MSG_TOO_LARGE, headers={"Connection": "close"})
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
                return error_response(413, _MSG_TOO_LARGE, headers={"Connection": "close"})
            if total <= MAX_BODY_BYTES:
                chunks.append(chunk)
        if not message.get("more_body", False):
            break
    if total > MAX_BODY_BYTES:
        return error_response(413, _MSG_TOO_LARGE)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _parse_json(body: bytes) -> Any:
    """Parsed JSON, or a :class:`Response` (400) when the body is not JSON."""
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        return error_response(400, f"{_MSG_INVALID_JSON}: {exc.msg} (position {exc.pos})")
    except UnicodeDecodeError:
        return error_response(400, f"{_MSG_INVALID_JSON}: not UTF-8 text")
    except (ValueError, RecursionError):
        return error_response(400, f"{_MSG_INVALID_JSON}: a value is too large or nested too deeply")


async def _read_json(request: HttpRequest, *, empty: Any = None) -> Any:
    body = await _read_body(request.receive, request.headers.get("content-length"))
    if isinstance(body, Response):
        return body
    if not body.strip():
        if empty is None:
            return error_response(400, f"{_MSG_NOT_OBJECT}; the body is empty")
        return empty
    return _parse_json(body)


def _bearer(value: str | None) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header value."""
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    return token or None


def _text_chars(content: Any) -> int | None:
    """Characters of a message's text; ``None`` when the content has the wrong type."""
    if isinstance(content, str):
        return len(content)
    if content is None:
        return 0
    if isinstance(content, list):
        total = 0
        for part in content:
            if isinstance(part, str):
                total += len(part)
            elif isinstance(part, dict):
                text = part.get("text")
                if isinstance(text, str):
                    total += len(text)
                elif text is not None:
                    return None
            else:
                return None
        return total
    return None


def estimate_tokens(chars: int) -> int:
    """Tokens for ``chars`` characters: ``ceil(chars / 4)``. [inv]"""
    return -(-chars // CHARS_PER_TOKEN)


class ChatInput(NamedTuple):
    """The fields of a chat request the emulator uses."""

    model: str
    prompt_chars: int
    message_count: int
    max_tokens: int | None
    stream: bool


class _Plan(NamedTuple):
    """Everything about a successful answer that depends only on (model, prompt size, max_tokens).

    Cached: the hot path then parses, authenticates, decides and formats three numbers.
    """

    model: Model
    request: Request
    prompt_tokens: int
    completion_tokens: int
    text: str
    finish: str
    head: str  # after the id, up to "created":
    middle: str  # after created, up to "cost":
    tail: str  # after the cost


def _plan(model: Model, prompt_chars: int, max_tokens: int | None) -> _Plan:
    prompt_tokens = max(1, estimate_tokens(prompt_chars))
    limit = max_tokens if max_tokens is not None else model.max_completion_tokens
    text = reply_text(model, prompt_chars)
    reply_tokens = estimate_tokens(len(text))
    completion_tokens = min(limit, reply_tokens)
    finish = "stop"
    if reply_tokens > completion_tokens:
        text, finish = text[: completion_tokens * CHARS_PER_TOKEN], "length"
    request = Request(
        free=model.free,
        prompt_tokens=prompt_tokens,
        max_tokens=limit,
        completion_tokens=completion_tokens,
        prompt_price=model.prompt_price_usd,
        completion_price=model.completion_price_usd,
    )
    choices = [{
        "logprobs": None,
        "finish_reason": finish,
        "native_finish_reason": finish,
        "index": 0,
        "message": {"role": "assistant", "content": text, "refusal": None, "reasoning": None},
    }]
    head = (
        '","provider":' + _dumps_str(model.provider) + ',"model":' + _dumps_str(model.id)
        + ',"object":"chat.completion","created":'
    )
    middle = (
        ',"choices":' + _dumps_str(choices) + ',"usage":{"prompt_tokens":' + str(prompt_tokens)
        + ',"completion_tokens":' + str(completion_tokens) + ',"total_tokens":'
        + str(prompt_tokens + completion_tokens) + ',"cost":'
    )
    tail = (
        ',"is_byok":false,"prompt_tokens_details":{"cached_tokens":0},'
        '"completion_tokens_details":{"reasoning_tokens":0}}}'
    )
    return _Plan(model, request, prompt_tokens, completion_tokens, text, finish, head, middle, tail)


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def parse_chat(payload: Any) -> ChatInput | str:
    """The fields the emulator uses, or the 400 message."""
    if not isinstance(payload, dict):
        return _MSG_NOT_OBJECT
    messages = payload.get("messages")
    chars = 0
    count = 0
    if messages is None:
        prompt = payload.get("prompt")
        if not isinstance(prompt, str):
            return _MSG_NO_INPUT
        chars, count = len(prompt), 1
    else:
        if not isinstance(messages, list) or not messages:
            return "messages: expected a non-empty list of message objects"
        for i, msg in enumerate(messages):
            if not isinstance(msg, dict):
                return f"messages[{i}]: expected an object with 'role' and 'content'"
            role = msg.get("role")
            if not isinstance(role, str) or role not in _ROLES:
                return f"messages[{i}].role: expected one of {', '.join(sorted(_ROLES))}"
            n = _text_chars(msg.get("content"))
            if n is None:
                return f"messages[{i}].content: expected a string, a list of content parts, or null"
            chars += n
        count = len(messages)
    model = payload.get("model", DEFAULT_FREE_MODEL)  # [inv] the account default: a free model
    if model is None:
        model = DEFAULT_FREE_MODEL
    if not isinstance(model, str):
        return "model: expected a model id string"
    max_tokens = payload.get("max_tokens")
    if max_tokens is None:
        max_tokens = payload.get("max_completion_tokens")
        name = "max_completion_tokens"
    else:
        name = "max_tokens"
    if max_tokens is not None and not _positive_int(max_tokens):
        return f"{name}: expected a whole number >= 1"
    stream = payload.get("stream", False)
    if stream is None:
        stream = False
    if not isinstance(stream, bool):
        return "stream: expected true or false"
    return ChatInput(model, chars, count, max_tokens, stream)


def reply_text(model: Model, prompt_chars: int) -> str:
    """The canned, deterministic answer."""
    return (
        f"Hello from the orwidgets emulator, answering as {model.name}. "
        f"This is a canned reply to a {prompt_chars}-character prompt: no language model ran, "
        "but the limits, status codes and costs are OpenRouter's."
    )


# --- the app ------------------------------------------------------------------------------------


def create_app(
    policy: str | PolicyVersion | None = None,
    latency_ms: LatencySpec = DEFAULT_LATENCY_MS,
    admin_token: str | None = None,
    clock: EmulatorClock | Any = None,
    accounts: Any = None,
    seed: int = 0,
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

    Returns
    -------
    starlette.applications.Starlette
        With ``app.state.emulator`` (:class:`~orwidgets.emulator.state.Emulator`).
    """
    emu = Emulator(policy, latency_ms, admin_token, clock, accounts, seed)
    models_body = models_payload()

    # -- chat completions (the hot path: keep it lean) ----------------------------------------

    plans: dict[tuple[str, int, int | None], _Plan] = {}

    async def chat_completions(scope: Scope, receive: Receive, send: Send) -> None:
        # A raw ASGI endpoint: no Request/Response objects on the success path (measurably faster).
        response = await chat_answer(scope, receive)
        if isinstance(response, bytes):
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(response)).encode()),
            ]})
            await send({"type": "http.response.body", "body": response})
        else:
            await response(scope, receive, send)

    async def chat_answer(scope: Scope, receive: Receive) -> bytes | Response:
        auth = declared = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                auth = value.decode("latin-1")
            elif name == b"content-length":
                declared = value
        body = await _read_body(receive, declared)
        if isinstance(body, Response):
            return body
        payload = _parse_json(body)
        if isinstance(payload, Response):
            return payload
        chat = parse_chat(payload)
        if isinstance(chat, str):
            return error_response(400, chat)
        # 1. auth, then the model (spec section 3 order)
        key = _bearer(auth)
        if key is None:
            return error_response(401, MESSAGES.no_auth)
        engine = emu.engine
        acct = engine.account_for_key(key)
        if acct is None:
            return error_response(401, MESSAGES.unknown_key)
        plan_key = (chat.model, chat.prompt_chars, chat.max_tokens)
        plan = plans.get(plan_key)
        if plan is None:
            model = get_model(chat.model)
            if model is None:
                return error_response(400, unknown_model_message(chat.model), user_id=acct.user_id)
            if len(plans) >= _PLAN_CACHE_SIZE:
                plans.clear()
            plan = plans[plan_key] = _plan(model, chat.prompt_chars, chat.max_tokens)
        model = plan.model
        # 2-6. the engine
        now = emu.clock.now()
        decision = engine.decide_for_key(key, plan.request, now)
        if decision is None:  # the key vanished in a concurrent reset
            return error_response(401, MESSAGES.unknown_key)
        if not decision.ok:
            return Response(
                _dumps(decision.error_body(acct.user_id)),
                status_code=decision.status,
                headers=decision.headers(),
                media_type=_JSON,
            )
        fault = emu.faults.pick(model.id, chat.stream) if emu.faults else None
        if fault is not None and fault.status != 200:
            # The provider failed after the platform admitted the call: it costs nothing. [inv]
            emu.refund(acct, decision.cost_usd)
            return _fault_response(fault, model, acct.user_id)
        if emu.latency_ms[1] > 0 or fault is not None:
            delay = emu.latency_s()
            if fault is not None and fault.kind == "slow":
                delay += (fault.delay_ms or 0) / 1000
            if delay > 0:
                await emu.sleep(delay)
            if fault is not None and fault.kind == "hang":
                if await _hang(receive, emu, (fault.delay_ms or 0) / 1000):
                    emu.refund(acct, decision.cost_usd)  # the client gave up: nothing delivered
                    return error_response(408, "Client closed the request")
        created = int(now)
        gen_id = emu.next_generation_id(created)
        cost = "0" if model.free else repr(decision.cost_usd)  # `0` for :free, as on the wire [obs]
        if chat.stream:
            mid_stream = fault is not None and fault.kind == "mid_stream_429"
            if mid_stream:
                emu.refund(acct, decision.cost_usd)
            usage = {
                "prompt_tokens": plan.prompt_tokens,
                "completion_tokens": plan.completion_tokens,
                "total_tokens": plan.prompt_tokens + plan.completion_tokens,
                "cost": 0 if model.free else decision.cost_usd,
                "is_byok": False,
                "prompt_tokens_details": {"cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0},
            }
            return StreamingResponse(
                _sse(gen_id, created, model, plan.text, plan.finish, usage, mid_stream),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache"},
            )
        return ('{"id":"' + gen_id + plan.head + str(created) + plan.middle + cost + plan.tail).encode()

    # -- key, credits, models ------------------------------------------------------------------

    def _auth(request: HttpRequest) -> tuple[Any, str] | Response:
        key = _bearer(request.headers.get("authorization"))
        if key is None:
            return error_response(401, MESSAGES.no_auth)
        acct = emu.engine.account_for_key(key)
        if acct is None:
            return error_response(401, MESSAGES.unknown_key)
        return acct, key

    async def key_info(request: HttpRequest) -> Response:
        auth = _auth(request)
        if isinstance(auth, Response):
            return auth
        acct, key = auth
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
        return _ok({"data": data})

    async def credits(request: HttpRequest) -> Response:
        auth = _auth(request)
        if isinstance(auth, Response):
            return auth
        acct, _ = auth
        if emu.engine.policy.credits_requires_management and not acct.management:
            return error_response(403, MESSAGES.management_only)
        snap = emu.engine.snapshot(acct.account_id, emu.clock.now())
        purchased = to_pico(snap.purchased_usd)
        # balance = total_credits - total_usage [doc], so usage is what makes that identity hold.
        return _ok({"data": {
            "total_credits": from_pico(purchased),
            "total_usage": from_pico(purchased - to_pico(snap.balance_usd)),
        }})

    async def models(request: HttpRequest) -> Response:
        return Response(models_body, media_type=_JSON)

    async def root(request: HttpRequest) -> Response:
        return _ok({
            "name": "orwidgets OpenRouter emulator",
            "api_base": "/api/v1",
            "policy": emu.engine.policy.id,
            "docs": "see the orwidgets README, section 'The OpenRouter emulator'",
        })

    # -- admin API -----------------------------------------------------------------------------

    def _admin_denied(request: HttpRequest) -> Response | None:
        given = request.headers.get("x-admin-token")
        if given is None or not hmac.compare_digest(
            given.encode("utf-8", "surrogateescape"), emu.admin_token.encode("utf-8")
        ):
            return error_response(401, _MSG_ADMIN)
        return None

    async def admin_accounts(request: HttpRequest) -> Response:
        denied = _admin_denied(request)
        if denied is not None:
            return denied
        if request.method == "GET":
            return _ok({"data": emu.accounts_view()})
        fields = await _body_fields(
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
        return _ok({"account_id": account_id, "key": key}, status=201)

    async def admin_account_patch(request: HttpRequest) -> Response:
        denied = _admin_denied(request)
        if denied is not None:
            return denied
        account_id = request.path_params["account_id"]
        fields = await _body_fields(request, {"balance_usd", "purchased_usd"})
        if isinstance(fields, Response):
            return fields
        if not fields:
            return error_response(400, "body: give balance_usd and/or purchased_usd")
        return _change_account(account_id, lambda: emu.engine.set_account(account_id, **fields))

    async def admin_topup(request: HttpRequest) -> Response:
        denied = _admin_denied(request)
        if denied is not None:
            return denied
        account_id = request.path_params["account_id"]
        fields = await _body_fields(request, {"usd"})
        if isinstance(fields, Response):
            return fields
        if "usd" not in fields:
            return error_response(400, 'body: expected {"usd": <amount>}')
        return _change_account(account_id, lambda: emu.engine.topup(account_id, fields["usd"]))

    def _change_account(account_id: str, change: Callable[[], Any]) -> Response:
        """Apply ``change``; the account as it is then, 404 for an unknown id, 400 for a value."""
        try:
            change()
        except KeyError:
            return error_response(404, f"account_id: no account {account_id!r}")
        except ValueError as exc:
            return error_response(400, str(exc))
        return _ok(emu.account_view(account_id))

    async def admin_clock(request: HttpRequest) -> Response:
        denied = _admin_denied(request)
        if denied is not None:
            return denied
        if request.method == "POST":
            fields = await _body_fields(request, {"advance_seconds", "now"})
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
        return _ok(emu.clock.to_json())

    def _policy_json() -> dict[str, Any]:
        version = emu.engine.policy
        return {"policy": version.id, "title": version.title, "available": policy_ids(),
                "aliases": dict(ALIASES)}

    async def admin_policy(request: HttpRequest) -> Response:
        denied = _admin_denied(request)
        if denied is not None:
            return denied
        if request.method == "PUT":
            fields = await _body_fields(request, {"policy"})
            if isinstance(fields, Response):
                return fields
            try:
                emu.set_policy(get_policy(fields.get("policy", "")))
            except ValueError as exc:
                return error_response(400, str(exc))
        return _ok(_policy_json())

    async def admin_faults(request: HttpRequest) -> Response:
        denied = _admin_denied(request)
        if denied is not None:
            return denied
        body = await _read_json(request)
        if isinstance(body, Response):
            return body
        try:
            rules = emu.faults.configure(body)
        except FaultError as exc:
            return error_response(400, str(exc))
        return _ok({"rules": [r.to_json() for r in rules]})

    async def admin_reset(request: HttpRequest) -> Response:
        denied = _admin_denied(request)
        if denied is not None:
            return denied
        emu.reset()
        return _ok({"reset": True, "policy": emu.engine.policy.id, "clock": emu.clock.to_json(),
                    "accounts": len(emu.engine.accounts())})

    # -- errors as OpenRouter JSON -------------------------------------------------------------

    async def http_error(request: HttpRequest, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = exc.detail if exc.status_code != 404 else _MSG_NOT_FOUND
        return error_response(exc.status_code, message, headers=dict(exc.headers or {}))

    async def server_error(request: HttpRequest, exc: Exception) -> Response:
        return error_response(500, _MSG_SERVER)

    routes = [
        Route("/api/v1/chat/completions", _AsgiEndpoint(chat_completions), methods=["POST"]),
        Route("/", root, methods=["GET"]),
        Route("/api/v1/key", key_info, methods=["GET"]),
        Route("/api/v1/auth/key", key_info, methods=["GET"]),
        Route("/api/v1/credits", credits, methods=["GET"]),
        Route("/api/v1/models", models, methods=["GET"]),
        Route("/_emulator/accounts", admin_accounts, methods=["GET", "POST"]),
        Route("/_emulator/accounts/{account_id}", admin_account_patch, methods=["PATCH"]),
        Route("/_emulator/accounts/{account_id}/topup", admin_topup, methods=["POST"]),
        Route("/_emulator/clock", admin_clock, methods=["GET", "POST"]),
        Route("/_emulator/policy", admin_policy, methods=["GET", "PUT"]),
        Route("/_emulator/faults", admin_faults, methods=["POST"]),
        Route("/_emulator/reset", admin_reset, methods=["POST"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    app.router.redirect_slashes = False  # a wrong path is a 404 JSON, not a redirect
    app.state.emulator = emu
    return app


class _AsgiEndpoint:
    """Wraps an ASGI callable so that Starlette's ``Route`` passes it scope/receive/send as is."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


async def _body_fields(
    request: HttpRequest, allowed: set[str], *, empty: Any = None
) -> dict[str, Any] | Response:
    """The JSON body restricted to ``allowed`` keys, or the 400/413 that says why not."""
    return _fields(await _read_json(request, empty=empty), allowed)


def _fields(body: Any, allowed: set[str]) -> dict[str, Any] | Response:
    """The body as a dict restricted to ``allowed`` keys, or a 400."""
    if isinstance(body, Response):
        return body
    if not isinstance(body, dict):
        return error_response(400, _MSG_NOT_OBJECT)
    unknown = sorted(set(body) - allowed)
    if unknown:
        return error_response(
            400, f"unknown field {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}"
        )
    return body


def _fault_response(fault: FaultRule, model: Model, user_id: str) -> Response:
    headers: dict[str, str] = {}
    metadata: dict[str, Any] = {"provider_name": model.provider, "is_byok": False}
    if fault.kind == "upstream_429":
        message = MESSAGES.upstream
        metadata = {"raw": upstream_raw_message(model.id), **metadata,
                    "provider_error_code": "429", "limit_source": LimitSource.UPSTREAM.value}
    elif fault.kind == "http_502":
        message = MESSAGES.upstream
        metadata = {"raw": BAD_GATEWAY_RAW.format(model=model.id), **metadata,
                    "provider_error_code": "502"}
    else:  # http_503
        message = MESSAGES.upstream
        metadata = {"raw": OVERLOADED_RAW.format(model=model.id), **metadata,
                    "provider_error_code": "503", "error_type": ERROR_TYPE_OVERLOADED}
    if fault.retry_after_s is not None and fault.kind != "http_502":
        seconds = math.ceil(fault.retry_after_s)
        headers["Retry-After"] = str(seconds)
        metadata["retry_after_seconds"] = seconds
    return error_response(fault.status, message, metadata=metadata, user_id=user_id, headers=headers)


async def _hang(receive: Receive, emu: Emulator, cap_s: float) -> bool:
    """Hold the request until the client disconnects (``True``) or ``cap_s`` passes (``False``)."""
    sleeper = asyncio.ensure_future(emu.sleep(cap_s))

    async def disconnected() -> None:
        while True:
            message = await receive()
            if message.get("type") == "http.disconnect":
                return

    watcher = asyncio.ensure_future(disconnected())
    try:
        done, _ = await asyncio.wait({sleeper, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeper, watcher):
            task.cancel()
    return watcher in done and sleeper not in done


def _sse(gen_id: str, created: int, model: Model, text: str, finish: str,
         usage: dict[str, Any], mid_stream_error: bool):
    """Server-sent events: content chunks, then usage with empty choices, then ``[DONE]``."""

    def chunk(choices: list[dict[str, Any]], **extra: Any) -> bytes:
        body = {"id": gen_id, "provider": model.provider, "model": model.id,
                "object": "chat.completion.chunk", "created": created, "choices": choices, **extra}
        return b"data: " + _dumps(body) + b"\n\n"

    words = text.split(" ")
    pieces = [" ".join(words[i:i + 4]) + (" " if i + 4 < len(words) else "")
              for i in range(0, len(words), 4)] or [""]
    if mid_stream_error:
        pieces = pieces[: max(1, len(pieces) // 2)]

    async def events():
        for i, piece in enumerate(pieces):
            delta: dict[str, Any] = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
            last = i == len(pieces) - 1 and not mid_stream_error
            yield chunk([{"index": 0, "delta": delta, "finish_reason": finish if last else None,
                          "native_finish_reason": finish if last else None, "logprobs": None}])
        if mid_stream_error:
            # [doc] the HTTP status stays 200; the error arrives as a chunk with finish_reason "error".
            yield chunk(
                [{"index": 0, "delta": {"content": ""}, "finish_reason": "error",
                  "native_finish_reason": "error", "logprobs": None}],
                error={"code": 429, "message": MESSAGES.mid_stream,
                       "metadata": {"error_type": ERROR_TYPE_RATE_LIMIT}},
            )
        else:
            yield chunk([], usage=usage)
        yield b"data: [DONE]\n\n"

    return events()
