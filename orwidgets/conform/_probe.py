"""The probe plan, and sending it to one target (the real API or the in-process emulator).

Every probe is free or refused before any model runs, except the free-model chat, which spends
one request of the account's free daily quota. Nothing here raises for a network failure: an
answer that did not come is an :class:`Answer` with ``error`` set.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from .._secret import SecretKey
from ..i18n import N_, Text, get_language
from ..policy import is_free_model

__all__ = ["Probe", "PLAN", "CREDITS_PROBE", "Answer", "ModelChoice", "choose_models",
           "send", "UNKNOWN_MODEL", "UNAFFORDABLE_MAX_TOKENS", "PROMPT", "Scrub", "shown"]

#: The model id of the 400 probe. [inv] any id no catalogue will ever list.
UNKNOWN_MODEL = "orwidgets/conform-no-such-model"
#: ``max_tokens`` of the paid probe: at gpt-4o-mini's $0.60 per million output tokens this is
#: $600 of output, so the affordability check refuses it (402) before any provider runs. [inv]
UNAFFORDABLE_MAX_TOKENS = 1_000_000_000
#: What every chat probe asks: short, so that a reply that did run costs next to nothing.
PROMPT = "Say OK."
#: Characters of a body that is not JSON kept for the report.
_EXCERPT = 120

#: Replaces every occurrence of the key in a text the target sent back.
Scrub = Callable[[str], str]


@dataclass(frozen=True)
class ModelChoice:
    """The free and paid model a side's chat probes use, picked from that side's catalogue."""

    free: str
    paid: str


@dataclass(frozen=True)
class Probe:
    """One request of the plan.

    Attributes
    ----------
    id:
        Stable id (JSON report).
    label:
        How the report names it (``GET /key``).
    method, path:
        The request, ``path`` under the API base.
    auth:
        Whether it carries the key.
    expect:
        The status OpenRouter is expected to answer (documentation only: the comparison is
        with the emulator, never with this).
    cost:
        What it costs the account, for the confirmation.

    ``label`` and ``cost`` are English (the JSON report's, stable); :meth:`label_in` and
    :meth:`cost_in` give them in a language.
    """

    id: str
    label: str
    method: str
    path: str
    auth: bool
    expect: int
    cost: str

    def label_in(self, lang: str | None = None) -> str:
        """:attr:`label` in ``lang`` (the language in force when ``None``)."""
        return shown(self.label, get_language(lang))

    def cost_in(self, lang: str | None = None) -> str:
        """:attr:`cost` in ``lang`` (the language in force when ``None``)."""
        return shown(self.cost, get_language(lang))

    def body(self, models: ModelChoice) -> dict[str, Any] | None:
        """The JSON body of a chat probe (``None`` for a GET)."""
        if self.method != "POST":
            return None
        model, max_tokens = {
            "chat_no_key": (models.free, 1),
            "chat_unknown_model": (UNKNOWN_MODEL, 1),
            "chat_free": (models.free, 1),
            "chat_paid": (models.paid, UNAFFORDABLE_MAX_TOKENS),
        }[self.id]
        return {"model": model, "messages": [{"role": "user", "content": PROMPT}],
                "max_tokens": max_tokens}


_CHAT = "/chat/completions"
#: English label or cost of a probe -> the same text for the catalogues (:func:`shown`).
_SHOWN: dict[str, Text] = {}


def _probe(id: str, label: Text, method: str, path: str, auth: bool, expect: int,
           cost: Text) -> Probe:
    _SHOWN[str(label)], _SHOWN[str(cost)] = label, cost
    return Probe(id, str(label), method, path, auth, expect, str(cost))


def shown(text: str, lang: str) -> str:
    """A probe's English ``label`` or ``cost`` in exactly ``lang`` (other text as it is)."""
    known = _SHOWN.get(text)
    return text if known is None else known.render(lang)


def _refused(status: int) -> Text:
    return Text(N_("free: refused before any model runs ({status})"), status=status)


#: The plan of issue #14, in order. Cut at ``max_calls``; the cut probes are reported as skipped.
PLAN: tuple[Probe, ...] = (
    _probe("models", Text(N_("GET /models (no key)")), "GET", "/models", False, 200,
           Text(N_("free: reads the public catalogue"))),
    _probe("key", Text(N_("GET /key")), "GET", "/key", True, 200,
           Text(N_("free: reads the key's limits and usage"))),
    _probe("chat_no_key", Text(N_("POST /chat/completions without a key")), "POST", _CHAT, False,
           401, _refused(401)),
    _probe("chat_unknown_model", Text(N_("POST /chat/completions, unknown model")), "POST", _CHAT,
           True, 400, _refused(400)),
    _probe("chat_free", Text(N_("POST /chat/completions, free model, max_tokens 1")), "POST",
           _CHAT, True, 200, Text(N_("one free-model request of today's quota"))),
    _probe("chat_paid", Text(N_("POST /chat/completions, paid model, max_tokens {max_tokens}"),
                             max_tokens=UNAFFORDABLE_MAX_TOKENS),
           "POST", _CHAT, True, 402,
           Text(N_("free: refused before any model runs (402: no balance covers it)"))),
)
#: Opt-in (``--credits``): the account's purchases and balance, when the key may read them.
#: [inv] not in the plan of issue #14, whose six requests fill the default ``--max-calls``.
CREDITS_PROBE = _probe("credits", Text(N_("GET /credits")), "GET", "/credits", True, 200,
                       Text(N_("free: reads the account's purchases and usage")))


@dataclass
class Answer:
    """What one side answered to one probe.

    ``error`` is set (and ``status`` is ``None``) when no answer came: refused connection,
    timeout, broken transfer. Every text in it has been through the key scrubber.
    """

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    is_json: bool = False
    content_type: str = ""
    excerpt: str = ""
    size: int = 0
    error: str | None = None

    @property
    def error_object(self) -> dict[str, Any] | None:
        """``body["error"]`` when it is an object."""
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return self.body["error"]
        return None

    @property
    def message(self) -> str | None:
        """``error.message`` when it is a string."""
        err = self.error_object
        text = err.get("message") if err else None
        return text if isinstance(text, str) else None

    @property
    def metadata(self) -> dict[str, Any] | None:
        err = self.error_object
        meta = err.get("metadata") if err else None
        return meta if isinstance(meta, dict) else None

    def data(self) -> dict[str, Any] | None:
        """``body["data"]`` of a 200 when it is an object (``/key``, ``/credits``)."""
        data = self.body.get("data") if isinstance(self.body, dict) else None
        return data if self.status == 200 and isinstance(data, dict) else None


def _scrub_json(value: Any, scrub: Scrub) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_scrub_json(v, scrub) for v in value]
    if isinstance(value, dict):
        return {scrub(str(k)): _scrub_json(v, scrub) for k, v in value.items()}
    return value


def answer_from_response(response: httpx.Response, scrub: Scrub) -> Answer:
    """An :class:`Answer` from an HTTP response, the key scrubbed out of every text."""
    raw = response.content
    content_type = response.headers.get("content-type", "")
    answer = Answer(
        status=response.status_code,
        headers={scrub(k.lower()): scrub(v) for k, v in response.headers.items()},
        content_type=scrub(content_type),
        size=len(raw),
    )
    try:
        answer.body = _scrub_json(json.loads(raw), scrub)
        answer.is_json = True
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, too deep
        text = raw.decode("utf-8", "replace")
        answer.excerpt = scrub(" ".join(text[: _EXCERPT * 2].split()))[:_EXCERPT]
    return answer


def describe_exception(exc: Exception, timeout: float, lang: str = "en") -> str:
    """One short line for a failed request (never the request's headers), in ``lang``."""
    if isinstance(exc, httpx.TimeoutException):
        return Text(N_("no answer within {seconds} s"), seconds=f"{timeout:g}").render(lang)
    if isinstance(exc, httpx.ConnectError):
        reason = str(exc) or Text(N_("refused"))
        return Text(N_("connection failed ({reason})"), reason=reason).render(lang)
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def send(
    client: httpx.AsyncClient,
    probe: Probe,
    key: SecretKey,
    models: ModelChoice,
    scrub: Scrub,
    timeout: float,
    lang: str = "en",
) -> Answer:
    """Send one probe; never raises for what the network or the target does (a failure is said
    in ``lang``)."""
    headers = {"Accept": "application/json"}
    if probe.auth:
        headers["Authorization"] = f"Bearer {key.reveal()}"
    try:
        # httpx appends a relative path to the client's base URL (``.../api/v1/`` + ``key``).
        response = await client.request(probe.method, probe.path.lstrip("/"), headers=headers,
                                        json=probe.body(models))
    except httpx.HTTPError as exc:
        return Answer(error=scrub(describe_exception(exc, timeout, lang)))
    return answer_from_response(response, scrub)


def _price(entry: Mapping[str, Any]) -> float | None:
    pricing = entry.get("pricing")
    if not isinstance(pricing, dict):
        return None
    try:
        return float(pricing.get("completion"))
    except (TypeError, ValueError):
        return None


def choose_models(models: Answer | None) -> ModelChoice:
    """The free and the paid model for the chat probes, from a side's own ``GET /models``.

    The emulator's defaults (``meta-llama/llama-3.3-70b-instruct:free``, ``openai/gpt-4o-mini``)
    when the catalogue lists them, else the first ``:free`` model and the first model with a
    positive completion price; the defaults again when the catalogue did not answer. [inv]
    """
    # Imported here: the emulator package loads Starlette and uvicorn (`--help` stays quick).
    from ..emulator.catalogue import DEFAULT_FREE_MODEL, DEFAULT_PAID_MODEL

    ids: list[str] = []
    paid: list[str] = []
    if models is not None and models.status == 200 and isinstance(models.body, dict):
        for entry in models.body.get("data") or []:
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                ids.append(entry["id"])
                price = _price(entry)
                if not is_free_model(entry["id"]) and price is not None and price > 0:
                    paid.append(entry["id"])
    free = [m for m in ids if is_free_model(m)]
    return ModelChoice(
        free=DEFAULT_FREE_MODEL if DEFAULT_FREE_MODEL in free or not free else free[0],
        paid=DEFAULT_PAID_MODEL if DEFAULT_PAID_MODEL in paid or not paid else paid[0],
    )
