"""Where requests go: only to the given base URL, at most --max-calls of them, and nothing to a
non-loopback address before it is confirmed."""

from __future__ import annotations

import socket

import httpx
import pytest
from conform_support import Proxy, run_cli

from orwidgets.conform import UNAFFORDABLE_MAX_TOKENS
from orwidgets.emulator import create_app

CHAT = "/api/v1/chat/completions"
PLAN = [("GET", "/api/v1/models", False), ("GET", "/api/v1/key", True), ("POST", CHAT, False),
        ("POST", CHAT, True), ("POST", CHAT, True), ("POST", CHAT, True)]
REMOTE = "https://openrouter.example/api/v1"


@pytest.fixture
def connections(monkeypatch):
    """Every address a socket of this process connects to while the test runs."""
    seen: list[tuple] = []
    original = socket.socket.connect

    def connect(self, address):
        seen.append(address)
        return original(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


def _plan(proxy: Proxy) -> list[tuple[str, str, bool]]:
    return [(s.method, s.path, s.has_key) for s in proxy.seen]


def test_the_plan_goes_to_the_base_url_and_nowhere_else(proxied, connections):
    base, proxy, emu = proxied
    port = httpx.URL(base).port
    result = run_cli("--base-url", base, "--key", emu.demo_keys["free"])
    assert result.code == 0, result.out
    assert _plan(proxy) == PLAN
    assert connections and {a[:2] for a in connections} == {("127.0.0.1", port)}


def test_max_calls_is_a_hard_cap_and_the_skipped_probes_are_named(proxied):
    base, proxy, emu = proxied
    result = run_cli("--base-url", base, "--key", emu.demo_keys["free"], "--max-calls", "4")
    assert result.code == 0
    assert _plan(proxy) == PLAN[:4]
    assert ("skipped (over --max-calls 4): POST /chat/completions, free model, max_tokens 1; "
            f"POST /chat/completions, paid model, max_tokens {UNAFFORDABLE_MAX_TOKENS}") \
        in result.out.splitlines()
    assert "calls to the target: 4 of at most 4" in result.out.splitlines()


def test_credits_is_one_more_call_and_cut_first(proxied):
    base, proxy, emu = proxied
    cut = run_cli("--base-url", base, "--key", emu.demo_keys["free"], "--credits", "--json")
    assert cut.json()["skipped"] == ["GET /credits"] and len(proxy.seen) == 6
    proxy.seen.clear()
    whole = run_cli("--base-url", base, "--key", emu.demo_keys["free"], "--credits",
                    "--max-calls", "7")
    assert whole.code == 0
    assert _plan(proxy) == [*PLAN, ("GET", "/api/v1/credits", True)]


def _remote_transport() -> tuple[httpx.ASGITransport, Proxy, str]:
    """A transport that answers for a non-loopback address from an in-memory emulator."""
    app = create_app(policy="current", latency_ms=0)
    proxy = Proxy(app)
    return httpx.ASGITransport(app=proxy), proxy, app.state.emulator.demo_keys["free"]


def test_a_non_loopback_target_without_a_terminal_or_yes_is_refused_before_any_request():
    transport, proxy, key = _remote_transport()
    result = run_cli("--base-url", REMOTE, "--key", key, transport=transport)
    assert (result.code, result.out, proxy.seen) == (2, "", [])
    lines = result.err.splitlines()
    assert lines[0] == f"orwidgets conform will send 6 requests to {REMOTE} (--max-calls 6):"
    assert "Cost: one free-model request of today's quota; no credits." in lines
    assert lines[-1] == ("orwidgets conform: stdin is not interactive, so nobody can confirm "
                         "these requests to a non-loopback address: pass --yes")


def test_a_non_loopback_target_is_asked_about_first_and_runs_on_yes():
    transport, proxy, key = _remote_transport()
    result = run_cli("--base-url", REMOTE, "--key", key, stdin="y\n", tty=True,
                     transport=transport)
    assert result.code == 0, result.out + result.err
    assert "Send them? [y/N] " in result.err
    assert result.err.index("will send 6 requests") < result.err.index("Send them?")
    assert _plan(proxy) == PLAN


@pytest.mark.parametrize("reply", ["n\n", "\n", ""])
def test_anything_but_yes_sends_nothing(reply):
    transport, proxy, key = _remote_transport()
    result = run_cli("--base-url", REMOTE, "--key", key, stdin=reply, tty=True,
                     transport=transport)
    assert (result.code, result.out, proxy.seen) == (2, "", [])
    assert result.err.splitlines()[-1].startswith(
        f"Send them? [y/N] orwidgets conform: not confirmed: 6 requests to {REMOTE}")


def test_yes_skips_the_question_but_still_says_what_goes_out():
    transport, proxy, key = _remote_transport()
    result = run_cli("--base-url", REMOTE, "--key", key, "--yes", transport=transport)
    assert result.code == 0
    assert result.err.splitlines()[0] == \
        f"orwidgets conform will send 6 requests to {REMOTE} (--max-calls 6):"
    assert "Send them?" not in result.err
    assert len(proxy.seen) == 6


def test_a_loopback_target_is_neither_described_nor_asked_about(proxied):
    base, proxy, emu = proxied
    result = run_cli("--base-url", base, "--key", emu.demo_keys["free"])
    assert (result.code, result.err) == (0, "")


def test_the_plan_text_counts_only_what_max_calls_lets_through():
    from orwidgets.conform import describe_plan

    text = describe_plan(REMOTE, max_calls=3)
    assert text.splitlines()[0] == \
        f"orwidgets conform will send 3 requests to {REMOTE} (--max-calls 3):"
    assert "Cost: nothing." in text.splitlines()
