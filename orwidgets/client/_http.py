"""One call to any OpenRouter-compatible base URL (the emulator or the real API), as a result.

The clients never raise for an answer or a network failure: every outcome is a
:class:`~orwidgets.client.CallResult`. The API key is held as a
:class:`~orwidgets._secret.SecretKey` and revealed only into the ``Authorization`` header of the
request being sent; it is never stored in the client's default headers, a result or a message.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from .._secret import SecretKey
from ._classify import (
    CallResult,
    _raw_headers,
    build_result,
    result_from_exception,
    result_from_response,
)

__all__ = [
    "OPENROUTER_API_BASE",
    "DEFAULT_REAL_API_CAP",
    "DEFAULT_MESSAGES",
    "api_base",
    "is_loopback",
    "RealApiNotConfirmed",
    "RealApiCapExceeded",
    "check_real_api",
    "OpenRouterClient",
    "AsyncOpenRouterClient",
]

#: The real API. Never a default anywhere: callers choose it explicitly.
OPENROUTER_API_BASE = "https://openrouter.ai/api/v1"
#: Calls one run may send to a non-loopback address (the real API) unless raised explicitly.
DEFAULT_REAL_API_CAP = 25
#: What a test call asks: short, so that paid calls cost next to nothing.
DEFAULT_MESSAGES: tuple[dict[str, str], ...] = ({"role": "user", "content": "Say OK."},)

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def api_base(url: str) -> str:
    """The API base for a URL: ``http://127.0.0.1:8000`` becomes ``.../api/v1``.

    A URL with a path is taken as the API base already (``https://openrouter.ai/api/v1``).
    """
    if not isinstance(url, str) or not url.strip():
        raise ValueError(f"base_url: expected an http(s) URL, got {url!r}")
    parsed = httpx.URL(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"base_url: expected an http(s) URL, got {url!r}")
    text = str(parsed).rstrip("/")
    if parsed.path in ("", "/"):
        text += "/api/v1"
    return text


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine (127.0.0.0/8, ::1, localhost)."""
    try:
        host = httpx.URL(url).host
    except Exception:
        return False
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RealApiNotConfirmed(PermissionError):
    """A burst to a non-loopback address (the real API) was not confirmed."""


class RealApiCapExceeded(ValueError):
    """A run to a non-loopback address asks for more calls than the cap allows."""


def check_real_api(
    base_url: str, *, confirmed: bool, count: int, cap: int = DEFAULT_REAL_API_CAP
) -> None:
    """The real-API guard: a pure function of the address, the confirmation and the count.

    Loopback addresses (the in-kernel emulator, a local ``python -m orwidgets.emulator``) pass.
    Anything else needs ``confirmed=True`` and at most ``cap`` calls: every free-model call to
    the real API, rejected or not, spends the day's quota.

    Raises
    ------
    RealApiNotConfirmed
        The address is not loopback and the run was not confirmed.
    RealApiCapExceeded
        The address is not loopback and ``count`` is above ``cap``.
    """
    if is_loopback(base_url):
        return
    if confirmed is not True:
        raise RealApiNotConfirmed(
            f"{httpx.URL(base_url).host} is not this machine: confirm the run first "
            "(confirm_real_api=True). Every free-model call, rejected or not, spends the day's "
            "quota."
        )
    if count > cap:
        raise RealApiCapExceeded(
            f"count: {count} calls are above the cap of {cap} per run against a real API; "
            "lower the count or raise the cap explicitly."
        )


def _key(api_key: SecretKey | str | None) -> SecretKey | None:
    if api_key is None or isinstance(api_key, SecretKey):
        return api_key
    if isinstance(api_key, str):
        return SecretKey(api_key) if api_key.strip() else None
    raise ValueError("api_key: expected a SecretKey, a string or None")


def _chat_payload(
    model: str,
    messages: Sequence[Mapping[str, Any]] | None,
    max_tokens: int | None,
    stream: bool,
    extra: Mapping[str, Any] | None,
) -> dict[str, Any]:
    if not isinstance(model, str) or not model:
        raise ValueError(f"model: expected a model id, got {model!r}")
    payload: dict[str, Any] = {
        "model": model,
        "messages": [dict(m) for m in (messages if messages is not None else DEFAULT_MESSAGES)],
    }
    if max_tokens is not None:
        payload["max_tokens"] = int(max_tokens)
    if stream:
        payload["stream"] = True
    if extra:
        payload.update(extra)
    return payload


class _StreamAssembler:
    """Reads SSE lines into one OpenAI-shaped body; an ``error`` chunk becomes the body's error."""

    def __init__(self) -> None:
        self.content: list[str] = []
        self.meta: dict[str, Any] = {}
        self.usage: Any = None
        self.finish_reason: Any = None
        self.error: Any = None
        self.unparsed: list[str] = []

    def feed(self, line: str) -> bool:
        """Feed one line; returns False at ``[DONE]``."""
        line = line.strip()
        if not line or line.startswith(":") or not line.startswith("data:"):
            return True
        data = line[5:].strip()
        if data == "[DONE]":
            return False
        try:
            chunk = json.loads(data)
        except ValueError:
            self.unparsed.append(data[:200])
            return True
        if not isinstance(chunk, dict):
            return True
        for key in ("id", "model", "provider", "created"):
            if key in chunk:
                self.meta[key] = chunk[key]
        if chunk.get("error") is not None:
            self.error = chunk["error"]
        if chunk.get("usage") is not None:
            self.usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta") or {}
            if isinstance(delta, dict) and delta.get("content"):
                self.content.append(str(delta["content"]))
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        return True

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = dict(self.meta)
        body["object"] = "chat.completion"
        body["choices"] = [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "".join(self.content)},
                "finish_reason": self.finish_reason,
            }
        ]
        if self.usage is not None:
            body["usage"] = self.usage
        body["streamed"] = True
        if self.error is not None:
            body["error"] = self.error
        return body


class _Base:
    def __init__(
        self,
        base_url: str,
        api_key: SecretKey | str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = api_base(base_url)
        self._api_key = _key(api_key)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ValueError(f"timeout: expected seconds > 0, got {timeout!r}")
        self.timeout = float(timeout)

    @property
    def has_key(self) -> bool:
        return self._api_key is not None

    @property
    def is_loopback(self) -> bool:
        return is_loopback(self.base_url)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key.reveal()}"
        return headers

    def _url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def __repr__(self) -> str:
        key = self._api_key.masked if self._api_key is not None else "<no key>"
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key={key})"


class OpenRouterClient(_Base):
    """Blocking calls to one base URL; every method returns a :class:`CallResult`.

    Parameters
    ----------
    base_url:
        API base (``OPENROUTER_API_BASE``, or an emulator's ``api_base``; a bare
        ``http://host:port`` gets ``/api/v1`` appended).
    api_key:
        A :class:`~orwidgets._secret.SecretKey` or a string (wrapped at once), or ``None``.
    timeout:
        Seconds for the whole call.
    transport:
        An ``httpx`` transport (tests: ``httpx.MockTransport``).
    """

    def __init__(
        self,
        base_url: str,
        api_key: SecretKey | str | None = None,
        timeout: float = 30.0,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, api_key, timeout)
        self._http = httpx.Client(timeout=self.timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OpenRouterClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self, method: str, path: str, *, json_body: Any = None, model: str | None = None
    ) -> CallResult:
        """Any call under the API base, classified."""
        sent_at = time.time()
        start = time.perf_counter()
        try:
            response = self._http.request(
                method, self._url(path), json=json_body, headers=self._headers()
            )
        except Exception as exc:  # network failures are results, never raised
            return result_from_exception(
                exc, sent_at=sent_at, latency_s=time.perf_counter() - start, model=model
            )
        return result_from_response(
            response, sent_at=sent_at, latency_s=time.perf_counter() - start, model=model
        )

    def chat(
        self,
        model: str,
        messages: Sequence[Mapping[str, Any]] | None = None,
        max_tokens: int | None = None,
        stream: bool = False,
        **extra: Any,
    ) -> CallResult:
        """``POST /chat/completions``. Never raises for an answer or a network failure."""
        payload = _chat_payload(model, messages, max_tokens, stream, extra)
        if not stream:
            return self.request("POST", "chat/completions", json_body=payload, model=model)
        sent_at = time.time()
        start = time.perf_counter()
        try:
            with self._http.stream(
                "POST", self._url("chat/completions"), json=payload, headers=self._headers()
            ) as response:
                if response.status_code != 200:
                    response.read()
                    return result_from_response(
                        response, sent_at=sent_at, latency_s=time.perf_counter() - start,
                        model=model,
                    )
                assembler = _StreamAssembler()
                for line in response.iter_lines():
                    if not assembler.feed(line):
                        break
                return build_result(
                    response.status_code, assembler.body(), _raw_headers(response),
                    sent_at=sent_at, latency_s=time.perf_counter() - start, model=model,
                )
        except Exception as exc:
            return result_from_exception(
                exc, sent_at=sent_at, latency_s=time.perf_counter() - start, model=model
            )

    def get_key(self) -> CallResult:
        """``GET /key``: the key's usage and (2026) ``free_model_daily_requests``."""
        return self.request("GET", "key")

    def get_credits(self) -> CallResult:
        """``GET /credits``: purchases and usage (management key under ``current``)."""
        return self.request("GET", "credits")

    def list_models(self) -> CallResult:
        """``GET /models``: the catalogue."""
        return self.request("GET", "models")


class AsyncOpenRouterClient(_Base):
    """The asyncio twin of :class:`OpenRouterClient`: one connection pool for many calls.

    Parameters
    ----------
    max_connections:
        Size of the connection pool (the load runner sets it to its concurrency).
    fast_loopback:
        For ``http://`` loopback addresses (the emulator) and no ``transport`` given, use the lean
        :class:`~orwidgets.client._loopback.LoopbackTransport` instead of httpx's default one
        (several times faster on small machines; see ``benchmarks/runner.py``). [inv]
    """

    def __init__(
        self,
        base_url: str,
        api_key: SecretKey | str | None = None,
        timeout: float = 30.0,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int = 100,
        fast_loopback: bool = True,
    ) -> None:
        super().__init__(base_url, api_key, timeout)
        if transport is None and fast_loopback and self.base_url.startswith("http://") \
                and is_loopback(self.base_url):
            from ._loopback import LoopbackTransport

            transport = LoopbackTransport(max_connections, self.timeout)
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._http = httpx.AsyncClient(timeout=self.timeout, transport=transport, limits=limits)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncOpenRouterClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def request(
        self, method: str, path: str, *, json_body: Any = None, model: str | None = None
    ) -> CallResult:
        sent_at = time.time()
        start = time.perf_counter()
        try:
            response = await self._http.request(
                method, self._url(path), json=json_body, headers=self._headers()
            )
        except Exception as exc:
            return result_from_exception(
                exc, sent_at=sent_at, latency_s=time.perf_counter() - start, model=model
            )
        return result_from_response(
            response, sent_at=sent_at, latency_s=time.perf_counter() - start, model=model
        )

    async def chat(
        self,
        model: str,
        messages: Sequence[Mapping[str, Any]] | None = None,
        max_tokens: int | None = None,
        stream: bool = False,
        **extra: Any,
    ) -> CallResult:
        """``POST /chat/completions``. Never raises for an answer or a network failure."""
        payload = _chat_payload(model, messages, max_tokens, stream, extra)
        if not stream:
            return await self.request("POST", "chat/completions", json_body=payload, model=model)
        sent_at = time.time()
        start = time.perf_counter()
        try:
            async with self._http.stream(
                "POST", self._url("chat/completions"), json=payload, headers=self._headers()
            ) as response:
                if response.status_code != 200:
                    await response.aread()
                    return result_from_response(
                        response, sent_at=sent_at, latency_s=time.perf_counter() - start,
                        model=model,
                    )
                assembler = _StreamAssembler()
                async for line in response.aiter_lines():
                    if not assembler.feed(line):
                        break
                return build_result(
                    response.status_code, assembler.body(), _raw_headers(response),
                    sent_at=sent_at, latency_s=time.perf_counter() - start, model=model,
                )
        except Exception as exc:
            return result_from_exception(
                exc, sent_at=sent_at, latency_s=time.perf_counter() - start, model=model
            )

    async def get_key(self) -> CallResult:
        return await self.request("GET", "key")

    async def get_credits(self) -> CallResult:
        return await self.request("GET", "credits")

    async def list_models(self) -> CallResult:
        return await self.request("GET", "models")
