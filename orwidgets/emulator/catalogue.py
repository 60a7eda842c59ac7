"""The emulator's model catalogue: a dozen realistic models, paid entries and ``:free`` variants.

Ids, names and context lengths follow OpenRouter's public catalogue for these families; the prices
are realistic orders of magnitude (USD per token, as **strings**, the way ``GET /api/v1/models``
sends them), not a copy of today's price list. Free variants are separate entries whose id ends in
``:free``, whose name ends in ``(free)`` and whose prices are all ``"0"`` [doc]. OpenAI's GPT models
have no free variant (the article says so).

Each entry has the fields of a real entry of 2026-09 [obs: ``tests/conform/recorded/models.json``,
and ``openai/gpt-4.1-nano`` of 2026-09-08], in its order: ``default_parameters`` (``{}``, as
captured), ``supported_voices`` (``null``: text models), ``knowledge_cutoff`` (the vendor's
published cutoff, written as OpenRouter writes a month: its last day, ``"2023-12-31"`` for
Meta's "December 2023"; ``null`` where the vendor published none), ``expiration_date`` (``null``,
but a date for the free variant that is meant to end) and ``links.details``.

``pricing`` lists only the prices a model has [obs: the 2026-09 entries leave out the zero
``request``, ``image``, ``web_search`` and ``internal_reasoning`` prices older answers listed]:
``prompt`` and ``completion`` always, and ``input_cache_read`` for the paid models whose
providers bill cached input (a fraction of the prompt price, as the vendors bill it). The
emulator reports no cached tokens, so it never charges that price. [inv] Other prices real
entries may carry (``input_cache_write``, ``web_search``, ...) are left out: the emulator has no
such feature to price.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..policy import is_free_model

__all__ = [
    "Model",
    "CATALOGUE",
    "MODELS",
    "DEFAULT_FREE_MODEL",
    "DEFAULT_PAID_MODEL",
    "FREE_PREVIEW_ENDS",
    "get_model",
    "twin",
    "models_payload",
]

#: The model the tutorial and the widgets use for free calls.
DEFAULT_FREE_MODEL = "meta-llama/llama-3.3-70b-instruct:free"
#: The model they use for paid calls (GPT: no free variant exists).
DEFAULT_PAID_MODEL = "openai/gpt-4o-mini"


@dataclass(frozen=True)
class Model:
    """One catalogue entry.

    Attributes
    ----------
    id, name:
        OpenRouter id (``vendor/slug`` or ``vendor/slug:free``) and display name.
    context_length:
        Context window in tokens.
    prompt_price, completion_price:
        USD per token as strings (``"0"`` for free variants).
    max_completion_tokens:
        The default maximum output, used by the affordability check when a request gives no
        ``max_tokens`` (spec section 3, step 5).
    provider:
        The provider name the emulator reports in ``provider`` and upstream errors.
    created:
        Unix seconds, as in the real catalogue.
    knowledge_cutoff:
        ``YYYY-MM-DD`` or ``None`` (the vendor published none).
    cache_read_price:
        ``pricing.input_cache_read`` (USD per cached prompt token) or ``None`` (not listed).
    expiration_date:
        ``YYYY-MM-DD``: the day a free variant is meant to end; ``None`` for the others.
    """

    id: str
    name: str
    context_length: int
    prompt_price: str
    completion_price: str
    max_completion_tokens: int
    provider: str
    created: int
    description: str
    hugging_face_id: str = ""
    tokenizer: str = "Other"
    knowledge_cutoff: str | None = None
    cache_read_price: str | None = None
    expiration_date: str | None = None

    @property
    def free(self) -> bool:
        return is_free_model(self.id)

    @property
    def canonical_slug(self) -> str:
        return self.id.split(":", 1)[0]

    @property
    def prompt_price_usd(self) -> float:
        return float(self.prompt_price)

    @property
    def completion_price_usd(self) -> float:
        return float(self.completion_price)

    def to_json(self) -> dict[str, Any]:
        """The entry as ``GET /api/v1/models`` sends it."""
        return {
            "id": self.id,
            "canonical_slug": self.canonical_slug,
            "hugging_face_id": self.hugging_face_id,
            "name": self.name,
            "created": self.created,
            "description": self.description,
            "context_length": self.context_length,
            "architecture": {
                "modality": "text->text",
                "input_modalities": ["text"],
                "output_modalities": ["text"],
                "tokenizer": self.tokenizer,
                "instruct_type": None,
            },
            "pricing": self.pricing(),
            "top_provider": {
                "context_length": self.context_length,
                "max_completion_tokens": self.max_completion_tokens,
                "is_moderated": self.provider in {"OpenAI", "Anthropic"},
            },
            "per_request_limits": None,
            "supported_parameters": ["max_tokens", "temperature", "top_p", "stop", "stream"],
            "default_parameters": {},
            "supported_voices": None,
            "knowledge_cutoff": self.knowledge_cutoff,
            "expiration_date": self.expiration_date,
            "links": {"details": f"/api/v1/models/{self.id}/endpoints"},
        }

    def pricing(self) -> dict[str, str]:
        """``pricing``: the prices this model has (``prompt`` and ``completion`` always)."""
        prices = {"prompt": self.prompt_price, "completion": self.completion_price}
        if self.cache_read_price is not None:
            prices["input_cache_read"] = self.cache_read_price
        return prices


def _pair(
    slug: str,
    name: str,
    context: int,
    prompt: str,
    completion: str,
    max_out: int,
    provider: str,
    created: int,
    description: str,
    *,
    hf: str = "",
    tokenizer: str = "Other",
    cutoff: str | None = None,
    cache_read: str | None = None,
    free_provider: str | None = None,
    free_max_out: int | None = None,
) -> tuple[Model, ...]:
    """A paid entry and, when ``free_provider`` is given, its ``:free`` twin (the same model:
    the same cutoff; free of every price, so no cache price either)."""
    paid = Model(slug, name, context, prompt, completion, max_out, provider, created, description,
                 hf, tokenizer, cutoff, cache_read)
    if free_provider is None:
        return (paid,)
    free = Model(f"{slug}:free", f"{name} (free)", context, "0", "0", free_max_out or max_out,
                 free_provider, created, description, hf, tokenizer, cutoff)
    return free, paid


#: ``expiration_date`` of ``google/gemini-2.0-flash-exp:free``, the one free variant meant to end
#: (a preview). [inv] a fixed day after the captures (a real entry carried ``2026-10-31`` in
#: 2026-10): the emulator lists it but does not end the variant on that day; the fault
#: ``free_variant_ended`` shows what comes after.
FREE_PREVIEW_ENDS = "2026-12-31"

CATALOGUE: tuple[Model, ...] = (
    *_pair("meta-llama/llama-3.3-70b-instruct", "Meta: Llama 3.3 70B Instruct", 131_072,
           "0.00000013", "0.0000004", 16_384, "DeepInfra", 1_733_506_137,
           "Meta's multilingual 70B instruction-tuned model.",
           hf="meta-llama/Llama-3.3-70B-Instruct", tokenizer="Llama3", cutoff="2023-12-31",
           free_provider="Chutes", free_max_out=4_096),
    *_pair("deepseek/deepseek-chat-v3-0324", "DeepSeek: DeepSeek V3 0324", 163_840,
           "0.00000027", "0.0000011", 16_384, "DeepInfra", 1_742_824_755,
           "DeepSeek's mixture-of-experts chat model, March 2025 revision.",
           hf="deepseek-ai/DeepSeek-V3-0324", tokenizer="DeepSeek",
           free_provider="Chutes", free_max_out=8_192),
    *_pair("qwen/qwen3-32b", "Qwen: Qwen3 32B", 40_960,
           "0.0000001", "0.0000003", 8_192, "DeepInfra", 1_745_875_945,
           "Alibaba's dense 32B Qwen3 model with thinking and non-thinking modes.",
           hf="Qwen/Qwen3-32B", tokenizer="Qwen3",
           free_provider="Chutes", free_max_out=8_192),
    *_pair("google/gemini-2.0-flash-001", "Google: Gemini 2.0 Flash", 1_048_576,
           "0.0000001", "0.0000004", 8_192, "Google Vertex", 1_738_769_413,
           "Google's fast multimodal model.", tokenizer="Gemini", cutoff="2024-08-31",
           cache_read="0.000000025"),
    Model("google/gemini-2.0-flash-exp:free", "Google: Gemini 2.0 Flash Experimental (free)",
          1_048_576, "0", "0", 8_192, "Google AI Studio", 1_733_937_523,
          "Experimental release of Gemini 2.0 Flash, free while in preview.", "", "Gemini",
          knowledge_cutoff="2024-08-31", expiration_date=FREE_PREVIEW_ENDS),
    *_pair("openai/gpt-4o-mini", "OpenAI: GPT-4o-mini", 128_000,
           "0.00000015", "0.0000006", 16_384, "OpenAI", 1_721_260_800,
           "OpenAI's small GPT-4o model. No free variant exists.", tokenizer="GPT",
           cutoff="2023-10-31", cache_read="0.000000075"),
    *_pair("openai/gpt-4o", "OpenAI: GPT-4o", 128_000,
           "0.0000025", "0.00001", 16_384, "OpenAI", 1_715_558_400,
           "OpenAI's GPT-4o. No free variant exists.", tokenizer="GPT",
           cutoff="2023-10-31", cache_read="0.00000125"),
    *_pair("anthropic/claude-3.5-haiku", "Anthropic: Claude 3.5 Haiku", 200_000,
           "0.0000008", "0.000004", 8_192, "Anthropic", 1_730_678_400,
           "Anthropic's fastest Claude 3.5 model.", tokenizer="Claude",
           cutoff="2024-07-31", cache_read="0.00000008"),
    *_pair("anthropic/claude-sonnet-4", "Anthropic: Claude Sonnet 4", 200_000,
           "0.000003", "0.000015", 64_000, "Anthropic", 1_747_930_371,
           "Anthropic's Claude Sonnet 4.", tokenizer="Claude",
           cutoff="2025-03-31", cache_read="0.0000003"),
    *_pair("x-ai/grok-3-mini", "xAI: Grok 3 Mini", 131_072,
           "0.0000003", "0.0000005", 32_768, "xAI", 1_744_240_068,
           "xAI's small reasoning model.", tokenizer="Grok", cache_read="0.000000075"),
)

#: id -> model
MODELS: dict[str, Model] = {m.id: m for m in CATALOGUE}


#: ``:free`` variants whose paid model has another id than the slug without ``:free``.
_PAID_OF_FREE = {"google/gemini-2.0-flash-exp:free": "google/gemini-2.0-flash-001"}


def twin(model: Model) -> Model | None:
    """The other variant of a model: the paid model of a ``:free`` one, the ``:free`` variant of a
    paid one (``None`` when the catalogue has none)."""
    if model.free:
        return MODELS.get(_PAID_OF_FREE.get(model.id, model.canonical_slug))
    return MODELS.get(f"{model.id}:free")


def get_model(model_id: object) -> Model | None:
    """The catalogue entry for ``model_id``, or ``None`` (the 400 case)."""
    return MODELS.get(model_id) if isinstance(model_id, str) else None


def models_payload(catalogue: tuple[Model, ...] = CATALOGUE) -> bytes:
    """The ``GET /api/v1/models`` body, serialised once (it never changes)."""
    return json.dumps({"data": [m.to_json() for m in catalogue]}, separators=(",", ":")).encode()
