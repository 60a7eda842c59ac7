"""A proxy in front of the emulator alters one thing; conform reports it (exit 1)."""

from __future__ import annotations

import httpx
import pytest
from conform_support import change_json, run_cli

from orwidgets.conform import UNAFFORDABLE_MAX_TOKENS

PAID = f"POST /chat/completions, paid model, max_tokens {UNAFFORDABLE_MAX_TOKENS}"


def _run(base: str, emu) -> tuple[int, list[str], dict]:
    text = run_cli("--base-url", base, "--key", emu.demo_keys["free"])
    as_json = run_cli("--base-url", base, "--key", emu.demo_keys["free"], "--json")
    assert text.err == as_json.err == ""
    report = as_json.json()
    assert report["exit_code"] == text.code
    return text.code, [d["text"] for p in report["probes"] for d in p["differences"]], report


def _drop(body):
    del body["data"]["include_byok_in_limit"]
    return body


def _add(body):
    body["data"]["x_added_by_proxy"] = "0df9e665"
    return body


def _retype(body):
    body["data"]["usage"] = str(body["data"]["usage"])
    return body


@pytest.mark.parametrize(("change", "sentence"), [
    (_drop, "`GET /key`: the emulator has `data.include_byok_in_limit` (boolean), the real answer "
            "has none"),
    (_add, "`GET /key`: the real answer has `data.x_added_by_proxy` (string), the emulator "
           "has none"),
    (_retype, "`GET /key`: `data.usage` is string in the real answer, number in the emulator's"),
], ids=["dropped", "added", "retyped"])
def test_a_key_field_dropped_added_or_retyped_is_reported(proxied, change, sentence):
    base, proxy, emu = proxied
    proxy.alter = change_json("/key", change)
    code, sentences, report = _run(base, emu)
    assert (code, sentences) == (1, [sentence])
    assert [d["kind"] for p in report["probes"] for d in p["differences"]] == ["structure"]


def test_a_renamed_metadata_key_is_reported(proxied):
    base, proxy, emu = proxied

    def rename(body):
        meta = body["error"]["metadata"]
        meta["provider"] = meta.pop("provider_name")
        return body

    proxy.alter = change_json("/chat/completions", rename, status=402)
    code, sentences, report = _run(base, emu)
    assert code == 1
    assert sentences == [
        f"`{PAID}`: the real answer has `error.metadata.provider` (null), the emulator has none",
        f"`{PAID}`: the emulator has `error.metadata.provider_name` (null), the real answer "
        "has none",
    ]
    kinds = [d["kind"] for p in report["probes"] for d in p["differences"]]
    assert kinds == ["metadata", "metadata"]


def test_a_changed_message_is_reported_with_both_texts(proxied):
    base, proxy, emu = proxied
    emulator_says = httpx.post(base + "/chat/completions", json={"messages": [
        {"role": "user", "content": "hi"}]}).json()["error"]["message"]

    def reword(body):
        body["error"]["message"] = "Missing Authentication header"
        return body

    proxy.alter = change_json("/chat/completions", reword, status=401)
    code, sentences, report = _run(base, emu)
    assert code == 1
    assert sentences == [
        "`POST /chat/completions without a key`: `error.message` differs: the real answer says "
        f"\"Missing Authentication header\", the emulator says \"{emulator_says}\""
    ]
    no_key = next(p for p in report["probes"] if p["id"] == "chat_no_key")
    assert no_key["message"] == "different text"


def test_a_message_with_other_numbers_is_the_same_template_and_no_difference(proxied):
    base, proxy, emu = proxied

    def renumber(body):
        body["error"]["message"] = body["error"]["message"].replace(
            f"up to {UNAFFORDABLE_MAX_TOKENS} tokens", "up to 16384 tokens")
        return body

    proxy.alter = change_json("/chat/completions", renumber, status=402)
    code, sentences, report = _run(base, emu)
    paid = next(p for p in report["probes"] if p["id"] == "chat_paid")
    assert (code, sentences, paid["message"]) == (0, [], "same template")


def test_an_added_retry_after_header_is_reported(proxied):
    base, proxy, emu = proxied
    proxy.alter = change_json("/chat/completions", lambda body: body, status=402,
                              headers={"Retry-After": "120"})
    code, sentences, _ = _run(base, emu)
    assert (code, sentences) == (1, [
        f"`{PAID}`: the real answer sends the `Retry-After` header, the emulator's does not"
    ])


def test_an_added_rate_limit_header_on_a_success_is_reported(proxied):
    base, proxy, emu = proxied
    proxy.alter = change_json("/key", lambda body: body, headers={"x-ratelimit-limit": "20"})
    code, sentences, _ = _run(base, emu)
    assert (code, sentences) == (1, [
        "`GET /key`: the real answer sends the `X-RateLimit-Limit` header, the emulator's does not"
    ])


def test_another_status_is_reported_with_both_messages(proxied):
    base, proxy, emu = proxied

    def to_403(path, status, headers, body):
        if path.endswith("/chat/completions") and status == 402:
            body["error"]["code"] = 403
            return 403, headers, body
        return status, headers, body

    proxy.alter = to_403
    code, sentences, report = _run(base, emu)
    paid = next(p for p in report["probes"] if p["id"] == "chat_paid")
    assert (code, paid["real_status"], paid["emulator_status"]) == (1, 403, 402)
    assert len(sentences) == 1
    assert sentences[0].startswith(f"`{PAID}`: the real answer is 403 \"This request requires more")
    assert "the emulator's is 402 \"This request requires more" in sentences[0]
