"""The fields real answers of 2026 carry, in the emulator's ``GET /models`` and chat completions.

What is expected comes from the captures in ``tests/conform/recorded/`` (a ``/models`` entry of
2026-09, a free completion of 2026-03) and from the models' vendors, never from the emulator's
own tables: the set of keys of an emulator answer must equal the set of keys of the real one.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from orwidgets.emulator import DEFAULT_FREE_MODEL, DEFAULT_PAID_MODEL
from orwidgets.policy import POLICIES

RECORDED = Path(__file__).resolve().parents[1] / "conform" / "recorded"
CHEAP_PAID = "qwen/qwen3-32b"
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def captured(name: str) -> dict:
    return json.loads((RECORDED / f"{name}.json").read_text(encoding="utf-8"))["body"]


def keys_by_path(value, path: str = "") -> dict[str, set[str]]:
    """path -> the keys of the object there, for every object in ``value`` (not in lists)."""
    found: dict[str, set[str]] = {}
    if isinstance(value, dict):
        found[path] = set(value)
        for key, child in value.items():
            found.update(keys_by_path(child, f"{path}.{key}" if path else key))
    return found


def models(api) -> list[dict]:
    r = api.client.get("/api/v1/models")
    assert r.status_code == 200
    return r.json()["data"]


def set_policy(api, policy: str) -> None:
    assert api.admin("PUT", "/_emulator/policy", {"policy": policy}).status_code == 200


# --- GET /api/v1/models ---------------------------------------------------------------------------


REAL_ENTRY = captured("models")["data"][0]  # meta-llama/llama-3.1-8b-instruct, 2026-09


def test_every_entry_has_exactly_the_keys_of_a_real_entry_in_its_order(api):
    for entry in models(api):
        assert list(entry) == list(REAL_ENTRY), entry["id"]
        assert set(entry["architecture"]) == set(REAL_ENTRY["architecture"])
        assert set(entry["top_provider"]) == set(REAL_ENTRY["top_provider"])


def test_free_variants_list_only_the_zero_prompt_and_completion_prices(api):
    for entry in models(api):
        if entry["id"].endswith(":free"):
            assert entry["pricing"] == {"prompt": "0", "completion": "0"}


def test_paid_entries_list_no_price_they_do_not_have(api):
    """Real 2026 entries leave out the zero request/image/web_search/internal_reasoning prices."""
    paid = [e for e in models(api) if not e["id"].endswith(":free")]
    for entry in paid:
        assert set(entry["pricing"]) <= {"prompt", "completion", "input_cache_read"}, entry["id"]
        assert all(Decimal(v) > 0 for v in entry["pricing"].values()), entry["id"]
    assert any("input_cache_read" in e["pricing"] for e in paid)


def test_a_cached_prompt_token_costs_less_than_a_prompt_token(api):
    for entry in models(api):
        prices = entry["pricing"]
        if "input_cache_read" in prices:
            assert Decimal(prices["input_cache_read"]) < Decimal(prices["prompt"]), entry["id"]


@pytest.mark.parametrize(("model", "cached"), [
    ("openai/gpt-4o-mini", "0.075"),          # OpenAI: half the $0.15 input price
    ("anthropic/claude-sonnet-4", "0.30"),    # Anthropic: a tenth of the $3 input price
])
def test_cache_read_prices_are_the_vendors_per_million_tokens(api, model, cached):
    entry = next(e for e in models(api) if e["id"] == model)
    assert Decimal(entry["pricing"]["input_cache_read"]) * 1_000_000 == Decimal(cached)


def test_knowledge_cutoff_is_null_or_a_month_end_before_the_model_was_listed(api):
    for entry in models(api):
        cutoff = entry["knowledge_cutoff"]
        if cutoff is None:
            continue
        assert DAY.match(cutoff), entry["id"]
        day = date.fromisoformat(cutoff)
        assert (day + timedelta(days=1)).day == 1, f"{entry['id']}: {cutoff} is not a month's end"
        listed = datetime.fromtimestamp(entry["created"], timezone.utc).date()
        assert day < listed, entry["id"]


@pytest.mark.parametrize(("model", "cutoff"), [
    ("meta-llama/llama-3.3-70b-instruct", "2023-12-31"),  # Meta: December 2023
    ("openai/gpt-4o-mini", "2023-10-31"),                 # OpenAI: October 2023
    ("google/gemini-2.0-flash-001", "2024-08-31"),        # Google: August 2024
    ("qwen/qwen3-32b", None),                             # Alibaba published none
])
def test_knowledge_cutoff_is_the_vendors(api, model, cutoff):
    assert next(e for e in models(api) if e["id"] == model)["knowledge_cutoff"] == cutoff


def test_a_free_variant_has_its_paid_models_knowledge_cutoff(api):
    by_id = {e["id"]: e for e in models(api)}
    pairs = [(i, i.removesuffix(":free")) for i in by_id if i.endswith(":free")]
    pairs = [(free, paid) for free, paid in pairs if paid in by_id]
    assert len(pairs) >= 3
    for free, paid in pairs:
        assert by_id[free]["knowledge_cutoff"] == by_id[paid]["knowledge_cutoff"], free


def test_only_the_preview_free_variant_has_an_expiration_date(api):
    expiring = {e["id"]: e["expiration_date"] for e in models(api)
                if e["expiration_date"] is not None}
    assert list(expiring) == ["google/gemini-2.0-flash-exp:free"]
    assert DAY.match(expiring["google/gemini-2.0-flash-exp:free"])


def test_links_name_each_models_endpoints_route_and_the_rest_is_as_captured(api):
    for entry in models(api):
        assert entry["links"] == {"details": f"/api/v1/models/{entry['id']}/endpoints"}
        assert entry["default_parameters"] == {}
        assert entry["supported_voices"] is None


# --- POST /api/v1/chat/completions --------------------------------------------------------------


REAL_COMPLETION = captured("chat_free")  # a free completion of 2026-03


def test_a_completion_has_exactly_the_keys_of_a_real_one(api):
    body = api.chat("five").json()
    assert keys_by_path(body) == keys_by_path(REAL_COMPLETION)
    assert set(body["choices"][0]) == set(REAL_COMPLETION["choices"][0])
    assert body["system_fingerprint"] is None


def test_a_free_completion_has_zero_counters_and_zero_upstream_costs(api):
    usage = api.chat("five").json()["usage"]
    assert usage["prompt_tokens_details"] == {"cached_tokens": 0, "cache_write_tokens": 0,
                                              "audio_tokens": 0, "video_tokens": 0}
    assert usage["completion_tokens_details"] == {"reasoning_tokens": 0, "image_tokens": 0,
                                                  "audio_tokens": 0}
    assert usage["cost_details"] == {"upstream_inference_cost": 0,
                                     "upstream_inference_prompt_cost": 0,
                                     "upstream_inference_completions_cost": 0}


def test_a_paid_completions_cost_details_split_its_cost_by_the_prices(api):
    prices = next(e for e in models(api) if e["id"] == DEFAULT_PAID_MODEL)["pricing"]
    r = api.chat("five", model=DEFAULT_PAID_MODEL, content="y" * 40, max_tokens=5)
    usage = r.json()["usage"]
    assert (usage["prompt_tokens"], usage["completion_tokens"]) == (10, 5)
    details = usage["cost_details"]
    prompt = 10 * Decimal(prices["prompt"])
    completions = 5 * Decimal(prices["completion"])
    assert details["upstream_inference_prompt_cost"] == pytest.approx(float(prompt), rel=1e-12)
    assert details["upstream_inference_completions_cost"] == pytest.approx(float(completions),
                                                                           rel=1e-12)
    assert details["upstream_inference_cost"] == usage["cost"]
    assert usage["cost"] == pytest.approx(float(prompt + completions), rel=1e-12)


def sse_chunks(text: str) -> list[dict]:
    events = [line[len("data: "):] for line in text.split("\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    return [json.loads(e) for e in events[:-1]]


def test_a_stream_carries_the_same_fields(api):
    plain = api.chat("five", model=CHEAP_PAID, max_tokens=30).json()
    api.time.t += 1  # a fresh paid-rate second
    chunks = sse_chunks(api.chat("five", model=CHEAP_PAID, max_tokens=30, stream=True).text)
    assert all("system_fingerprint" in c and c["system_fingerprint"] is None for c in chunks)
    usage = chunks[-1]["usage"]
    assert usage == plain["usage"]
    assert keys_by_path(usage) == keys_by_path(REAL_COMPLETION["usage"])
    assert usage["cost_details"]["upstream_inference_cost"] == usage["cost"] > 0


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_every_policy_version_answers_with_the_2026_fields(api, policy):
    """[inv] The success body is today's in every version (see chat.py): only the rules differ."""
    set_policy(api, policy)
    free = api.chat("five", model=DEFAULT_FREE_MODEL).json()
    paid = api.chat("five", model=CHEAP_PAID, max_tokens=8).json()
    for body in (free, paid):
        assert keys_by_path(body) == keys_by_path(REAL_COMPLETION)
