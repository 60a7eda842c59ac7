"""``POST /api/v1/chat/completions``: OpenRouter's public chat route, the emulator's hot path.

A raw ASGI endpoint (no Request/Response objects on the success path: measurably faster) that
reads its emulator from ``scope["app"].state.emulator``. :func:`chat_completions` is the one place
where every answer of this route is finalised and sent.

Token estimate [inv]: the emulator runs no model, so it counts tokens as characters / 4, rounded up,
over all message texts (at least 1 prompt token). ``max_tokens`` (or ``max_completion_tokens``) sets
the request's maximum output; without it the model's ``max_completion_tokens`` is used, as
OpenRouter's affordability check does. The canned reply is cut at ``max_tokens``.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any, NamedTuple

from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ..engine import Decision, Hold, Request, from_pico, to_pico
from ..journal import Journal
from ..policy import (
    AVAILABILITY_DOCS_URL,
    MESSAGES,
    LimitSource,
    capacity_exhausted_message,
    free_variant_ended_message,
    unknown_model_message,
    upstream_raw_message,
)
from ._wire import (
    JSON,
    MSG_NOT_OBJECT,
    AsgiEndpoint,
    bearer,
    dumps,
    dumps_str,
    error_response,
    parse_json,
    read_body,
)
from .catalogue import DEFAULT_FREE_MODEL, Model, get_model, twin
from .faults import (
    BAD_GATEWAY_RAW,
    ERROR_TYPE_NOT_FOUND,
    ERROR_TYPE_OVERLOADED,
    ERROR_TYPE_RATE_LIMIT,
    OVERLOADED_RAW,
    FaultRule,
)
from .state import Emulator

__all__ = ["ROUTES", "PATH", "ChatAnswer", "chat_completions", "estimate_tokens", "reply_text", "parse_chat",
           "ChatInput"]

CHARS_PER_TOKEN = 4
_PLAN_CACHE_SIZE = 4096
_ROLES = frozenset({"system", "user", "assistant", "tool", "developer", "function"})
_MSG_NO_INPUT = 'Input required: specify "prompt" or "messages"'


# --- request parsing ----------------------------------------------------------------------------


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


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def parse_chat(payload: Any) -> ChatInput | str:
    """The fields the emulator uses, or the 400 message."""
    if not isinstance(payload, dict):
        return MSG_NOT_OBJECT
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


# --- the answer plan (cached) -------------------------------------------------------------------

#: ``usage.prompt_tokens_details`` / ``completion_tokens_details``: every counter a real answer of
#: 2026 carries [obs: ``tests/conform/recorded/chat_free.json``], all zero: the emulator caches
#: nothing and sees no audio, video, image or reasoning tokens.
PROMPT_TOKENS_DETAILS = {"cached_tokens": 0, "cache_write_tokens": 0, "audio_tokens": 0,
                         "video_tokens": 0}
COMPLETION_TOKENS_DETAILS = {"reasoning_tokens": 0, "image_tokens": 0, "audio_tokens": 0}


def cost_details(request: Request) -> dict[str, Any]:
    """``usage.cost_details`` of an admitted request: what the upstream provider was paid, whole
    and split into prompt and completion.

    ``0`` three times for a free model [obs 2026-03]. [inv] For a paid model the split of the
    request's own cost: prompt tokens x prompt price, completion tokens x completion price, and
    their sum, which is ``usage.cost`` (real answers report the provider's price, which may differ
    from the charge by a little; the emulator has no other price).
    """
    if request.free:
        return {"upstream_inference_cost": 0, "upstream_inference_prompt_cost": 0,
                "upstream_inference_completions_cost": 0}
    prompt = request.prompt_tokens * to_pico(request.prompt_price)
    done = min(request.completion_tokens, request.max_tokens)
    completions = done * to_pico(request.completion_price)
    return {"upstream_inference_cost": from_pico(request.cost_pusd),
            "upstream_inference_prompt_cost": from_pico(prompt),
            "upstream_inference_completions_cost": from_pico(completions)}


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
    details: dict[str, Any]  # the usage fields after "cost"
    head: str  # after the id, up to "created":
    middle: str  # after created, up to "cost":
    tail: str  # after the cost

    def usage(self, cost: float | int) -> dict[str, Any]:
        """``usage`` of this answer (a stream's last chunk carries it), given its cost."""
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.prompt_tokens + self.completion_tokens, "cost": cost,
                **self.details}


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
        max_tokens_given=max_tokens is not None,
    )
    choices = [{
        "logprobs": None,
        "finish_reason": finish,
        "native_finish_reason": finish,
        "index": 0,
        "message": {"role": "assistant", "content": text, "refusal": None, "reasoning": None},
    }]
    head = (
        '","provider":' + dumps_str(model.provider) + ',"model":' + dumps_str(model.id)
        + ',"object":"chat.completion","created":'
    )
    # [inv] no fingerprint to report (real answers carry the provider's, or null): always null
    middle = (
        ',"system_fingerprint":null,"choices":' + dumps_str(choices)
        + ',"usage":{"prompt_tokens":' + str(prompt_tokens)
        + ',"completion_tokens":' + str(completion_tokens) + ',"total_tokens":'
        + str(prompt_tokens + completion_tokens) + ',"cost":'
    )
    # the order of a real answer of 2026 [obs]
    details = {"is_byok": False, "prompt_tokens_details": PROMPT_TOKENS_DETAILS,
               "cost_details": cost_details(request),
               "completion_tokens_details": COMPLETION_TOKENS_DETAILS}
    tail = "," + dumps_str(details)[1:-1] + "}}"
    return _Plan(model, request, prompt_tokens, completion_tokens, text, finish, details, head,
                 middle, tail)


#: (model, prompt characters, max_tokens) -> plan. The catalogue never changes, so one cache
#: serves every app in the process.
_PLANS: dict[tuple[str, int, int | None], _Plan] = {}


# --- the endpoint -------------------------------------------------------------------------------


class ChatAnswer:
    """One answer of the route, as :func:`chat_completions` finalises it.

    ``status`` and ``kind`` say what it is: ``kind`` is the engine's reason (``"ok"``,
    ``"in_flight_budget_exhausted"``, ...), the injected fault's kind (``"upstream_429"``, ...;
    a ``slow`` or ``hang`` the client gave up on is a 408 of that kind), or one of the journal's
    own classes (``"invalid_request"``, ``"too_large"``, ``"no_auth"``, ``"unknown_key"``,
    ``"unknown_model"``): the journal's ``class``. The answer is ``body`` (the bytes of a plain
    success, sent without Starlette on the hot path) or ``response`` (any other answer: errors,
    streams), whose headers it carries. ``hold``: the engine's hold of an admitted paid request; ``failed``: it delivered
    nothing, so its charge is given back.
    """

    __slots__ = ("status", "kind", "body", "response", "hold", "failed")

    def __init__(self, status: int, kind: str, body: bytes | None = None,
                 response: Response | None = None, hold: Hold | None = None,
                 failed: bool = False) -> None:
        self.status = status
        self.kind = kind
        self.body = body
        self.response = response
        self.hold = hold
        self.failed = failed

    @property
    def headers(self) -> dict[str, str]:
        """The answer's HTTP headers."""
        if self.response is None:
            return {"content-type": JSON, "content-length": str(len(self.body or b""))}
        return dict(self.response.headers)

    def __repr__(self) -> str:
        return f"ChatAnswer(status={self.status}, kind={self.kind!r})"


def _error(status: int, kind: str, message: str, user_id: str | None = None) -> ChatAnswer:
    return ChatAnswer(status, kind, response=error_response(status, message, user_id=user_id))


class _Seen:
    """What :func:`_answer` learnt about the request, for the journal: the parsed fields, the
    raw key (the journal keeps it masked) and the account."""

    __slots__ = ("chat", "key", "account")

    def __init__(self) -> None:
        self.chat: ChatInput | None = None
        self.key: str | None = None
        self.account: str | None = None


async def chat_completions(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI endpoint, and the one place where every answer of the route is finalised.

    The clock is read once, when the request arrives: the engine decides at that instant and the
    journal records it. The answer is sent, then the request ends: an admitted paid request's
    hold is completed here (released, its actual cost settling), on every path: success, stream,
    injected failure, client gone, cancellation. The answer goes into the journal just before it
    is sent.
    """
    emu: Emulator = scope["app"].state.emulator
    now = emu.clock.now()
    seen = _Seen()
    try:
        answer = await _answer(emu, scope, receive, now, seen)
    except Exception:
        # The app answers the 500 JSON (EmulatorApp); the journal still shows it.
        if emu.journal is not None:
            _record(emu.journal, now, seen, 500, "server_error", None, None)
        raise
    # Recorded as it is about to be sent: a client that has read its answer finds it in the
    # journal (an assert_resilient() right after the last call sees every call).
    journal = emu.journal
    if journal is not None:
        if answer.response is None:  # a plain success: no waiting header
            _record(journal, now, seen, answer.status, answer.kind, None, None)
        else:
            headers = answer.response.headers
            _record(journal, now, seen, answer.status, answer.kind,
                    headers.get("retry-after"), headers.get("x-ratelimit-reset"))
    try:
        if answer.body is not None:
            await send({"type": "http.response.start", "status": answer.status, "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(answer.body)).encode()),
            ]})
            await send({"type": "http.response.body", "body": answer.body})
        else:
            await answer.response(scope, receive, send)  # type: ignore[misc]
    finally:
        if answer.hold is not None:  # the request ends now (the engine reads the emulator's clock)
            emu.engine.complete(answer.hold, failed=answer.failed)


def _record(journal: Journal, now: float, seen: _Seen, status: int, kind: str,
            retry_after: str | None, reset: str | None) -> None:
    """One journal entry: the request as sent, the answer as given (the headers as sent)."""
    chat = seen.chat
    journal.record(
        time=now, status=status, call_class=kind, key=seen.key, account=seen.account,
        model=None if chat is None else chat.model,
        max_tokens=None if chat is None else chat.max_tokens,
        stream=False if chat is None else chat.stream,
        path=PATH, retry_after=header_seconds(retry_after), rate_limit_reset=header_ms(reset),
    )


def header_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` in seconds (an HTTP date or garbage: ``None``)."""
    if value is None:
        return None
    try:
        seconds = int(value) if value.isdigit() else float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds < math.inf else None


def header_ms(value: str | None) -> int | None:
    """An ``X-RateLimit-Reset`` (Unix milliseconds), or ``None``."""
    return int(value) if value is not None and value.isdigit() else None


async def _answer(emu: Emulator, scope: Scope, receive: Receive, now: float,
                  seen: _Seen) -> ChatAnswer:
    auth = declared = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            auth = value.decode("latin-1")
        elif name == b"content-length":
            declared = value
    secret = seen.key = bearer(auth)
    body = await read_body(receive, declared)
    if isinstance(body, Response):
        status = body.status_code
        return ChatAnswer(status, "too_large" if status == 413 else "invalid_request", response=body)
    payload = parse_json(body)
    if isinstance(payload, Response):
        return ChatAnswer(payload.status_code, "invalid_request", response=payload)
    chat = parse_chat(payload)
    if isinstance(chat, str):
        return _error(400, "invalid_request", chat)
    seen.chat = chat
    # 1. auth, then the model (spec section 3 order)
    engine = emu.engine
    if secret is None:
        return _error(401, "no_auth", engine.policy.no_auth_message)
    key = engine.authenticate(secret, now)
    if key is None:
        return _error(401, "unknown_key", MESSAGES.unknown_key)
    acct = key.account
    seen.account = acct.account_id
    plan_key = (chat.model, chat.prompt_chars, chat.max_tokens)
    plan = _PLANS.get(plan_key)
    if plan is None:
        model = get_model(chat.model)
        if model is None:
            return _error(400, "unknown_model", unknown_model_message(chat.model), acct.user_id)
        if len(_PLANS) >= _PLAN_CACHE_SIZE:
            _PLANS.clear()
        plan = _PLANS[plan_key] = _plan(model, chat.prompt_chars, chat.max_tokens)
    model = plan.model
    # 2-6. the engine; an admitted paid request runs until chat_completions completes its hold
    decision = engine.decide_for_key(key, plan.request, now, duration_s=None)
    if decision is None:  # the key vanished in a concurrent change
        return _error(401, "unknown_key", MESSAGES.unknown_key)
    if not decision.ok:
        return ChatAnswer(decision.status, decision.reason.value, response=Response(
            dumps(decision.error_body(acct.user_id)), status_code=decision.status,
            headers=decision.headers(), media_type=JSON,
        ))
    if not (emu.faults or chat.stream or emu.latency_ms[1] > 0):
        return _completion(emu, plan, decision, now)  # the hot path: nothing to wait for
    hold = decision.hold
    try:
        return await _admitted(emu, receive, chat, plan, decision, acct.user_id, now)
    except BaseException:
        # cancelled while it waited (the server shuts down): the request delivered nothing
        if hold is not None:
            engine.complete(hold, emu.clock.now(), failed=True)
        raise


async def _admitted(emu: Emulator, receive: Receive, chat: ChatInput, plan: _Plan,
                    decision: Decision, user_id: str, now: float) -> ChatAnswer:
    """The answer to a request the platform admitted: a fault, a wait, then the completion."""
    model, hold = plan.model, decision.hold
    fault = emu.faults.pick(model.id, chat.stream) if emu.faults else None
    if fault is not None and fault.status != 200:
        # The provider failed after the platform admitted the call: it costs nothing. [inv]
        return ChatAnswer(fault.status, fault.kind, response=_fault_response(fault, model, user_id),
                          hold=hold, failed=True)
    if emu.latency_ms[1] > 0 or fault is not None:
        delay = emu.latency_s()
        watch = fault is not None and fault.kind in ("slow", "hang")
        if fault is not None and fault.kind == "slow":
            delay += (fault.delay_ms or 0) / 1000
        gone = False
        if delay > 0:
            gone = await _wait(receive, emu, delay, watch)
        if not gone and fault is not None and fault.kind == "hang":
            gone = await _wait(receive, emu, (fault.delay_ms or 0) / 1000, True)
        if gone:  # the client gave up: nothing delivered [inv: the answer is never read]
            # (only a watched wait ends early, that of a `slow` or `hang` fault: its kind)
            return ChatAnswer(408, fault.kind if fault is not None else "client_closed",
                              hold=hold, failed=True,
                              response=error_response(408, "Client closed the request"))
    if chat.stream:
        created = int(now)
        gen_id = emu.next_generation_id(created)
        mid_stream = fault is not None and fault.kind == "mid_stream_429"
        usage = plan.usage(0 if model.free else decision.cost_usd)
        return ChatAnswer(200, "mid_stream_429" if mid_stream else "ok", hold=hold,
                          failed=mid_stream, response=StreamingResponse(
                              _sse(gen_id, created, model, plan.text, plan.finish, usage, mid_stream),
                              media_type="text/event-stream", headers={"Cache-Control": "no-cache"},
                          ))
    return _completion(emu, plan, decision, now)


def _completion(emu: Emulator, plan: _Plan, decision: Decision, now: float) -> ChatAnswer:
    """The 200 of a plain (not streamed) completion."""
    created = int(now)
    gen_id = emu.next_generation_id(created)
    cost = "0" if plan.request.free else repr(decision.cost_usd)  # `0` for :free [obs]
    body = '{"id":"' + gen_id + plan.head + str(created) + plan.middle + cost + plan.tail
    return ChatAnswer(200, "ok", body=body.encode(), hold=decision.hold)


# --- injected faults ----------------------------------------------------------------------------


def _fault_response(fault: FaultRule, model: Model, user_id: str) -> Response:
    if fault.kind in ("capacity_exhausted", "free_variant_ended"):
        return _availability_response(fault, model, user_id)
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


def _provider_slug(model: Model) -> str:
    """``Google Vertex`` -> ``google-vertex``, as the availability errors name providers. [inv]"""
    return model.provider.lower().replace(" ", "-")


def _availability_response(fault: FaultRule, model: Model, user_id: str) -> Response:
    """The typed availability errors of 2026-08-19 [doc]: ``error.availability`` with ``code``,
    ``retryable``, ``requested_models`` and ``docs_url`` always, the other fields only when they
    have a value (never serialised empty)."""
    other = twin(model)
    code = fault.kind
    if code == "capacity_exhausted":
        retry = math.ceil(fault.retry_after_s) if fault.retry_after_s is not None else None
        message = capacity_exhausted_message(model.id, retry)
        availability: dict[str, Any] = {"code": code, "retryable": True}
        if retry is not None:
            availability["retry_after"] = retry
        availability["requested_models"] = [model.id]
        availability["affected_providers"] = [_provider_slug(model)]
        error_type = ERROR_TYPE_RATE_LIMIT
    else:  # free_variant_ended: only :free models get here, and each has a paid model
        assert other is not None
        message = free_variant_ended_message(model.id, other.id)
        availability = {"code": code, "retryable": False, "requested_models": [model.id]}
        retry, error_type = None, ERROR_TYPE_NOT_FOUND
    if other is not None:
        # [inv] the suggestion: the model's other variant (for free_variant_ended, its paid
        # model, as the docs say); none when the catalogue has no other variant
        availability["fallback_models"] = [other.id]
    availability["docs_url"] = f"{AVAILABILITY_DOCS_URL}#{code}"
    error: dict[str, Any] = {"code": fault.status, "message": message, "error_type": error_type,
                             "http_status": fault.status, "availability": availability}
    if code == "capacity_exhausted":
        error["metadata"] = {"previous_errors": [
            {"provider": _provider_slug(model), "code": code, "status": fault.status}]}
    headers = {"Retry-After": str(retry)} if retry is not None else None
    return Response(dumps({"error": error, "user_id": user_id}), status_code=fault.status,
                    headers=headers, media_type=JSON)


async def _wait(receive: Receive, emu: Emulator, seconds: float, watch: bool) -> bool:
    """Wait ``seconds``; with ``watch``, stop early when the client disconnects (``True``).

    Plain latency is not watched (it is short, and a watcher task per request costs throughput):
    a client that leaves during it is noticed when the answer is sent.
    """
    if not watch:
        await emu.sleep(seconds)
        return False
    sleeper = asyncio.ensure_future(emu.sleep(seconds))

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
                "object": "chat.completion.chunk", "created": created,
                "system_fingerprint": None, "choices": choices, **extra}
        return b"data: " + dumps(body) + b"\n\n"

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


PATH = "/api/v1/chat/completions"
ROUTES = [Route(PATH, AsgiEndpoint(chat_completions), methods=["POST"])]
