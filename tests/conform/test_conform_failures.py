"""A target that is down, a wrong key, a body that is not JSON, a timeout, bad options:
one clear line and exit 2, or a reported difference; never a traceback."""

from __future__ import annotations

import asyncio
import socket

import pytest
from conform_support import SECRET, run_cli
from starlette.responses import Response

from orwidgets.conform import check


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_a_target_that_is_down_is_one_line_and_exit_2():
    base = f"http://127.0.0.1:{_closed_port()}/api/v1"
    result = run_cli("--base-url", base, "--key", SECRET)
    assert (result.code, result.out) == (2, "")
    assert _one_line(result.err).startswith(
        f"orwidgets conform: cannot reach {base}: GET /models (no key): connection failed (")


def test_a_target_that_is_down_gives_a_json_report_with_the_reason():
    base = f"http://127.0.0.1:{_closed_port()}/api/v1"
    result = run_cli("--base-url", base, "--key", SECRET, "--json")
    report = result.json()
    assert (result.code, report["exit_code"], report["calls"]) == (2, 2, 1)
    assert report["error"].startswith(
        f"cannot reach {base}: GET /models (no key): connection failed")
    assert _one_line(result.err) == f"orwidgets conform: {report['error']}"


def test_a_wrong_key_stops_after_get_key_without_spending_quota(proxied):
    base, proxy, _ = proxied
    result = run_cli("--base-url", base, "--key", SECRET)
    assert (result.code, result.out) == (2, "")
    assert _one_line(result.err) == ('orwidgets conform: the target refused the key: GET /key '
                                     'answered 401 "User not found."; check --key or '
                                     'OPENROUTER_API_KEY')
    assert [s.path for s in proxy.seen] == ["/api/v1/models", "/api/v1/key"]


def test_a_body_that_is_not_json_is_a_reported_difference(proxied):
    base, proxy, emu = proxied
    page = "<html><body>Bad gateway, try later</body></html>"

    async def html_key(path: str):
        return Response(page, media_type="text/html") if path.endswith("/key") else None

    proxy.raw = html_key
    result = run_cli("--base-url", base, "--key", emu.demo_keys["free"], "--json")
    assert (result.code, result.err) == (1, "")
    key_probe = next(p for p in result.json()["probes"] if p["id"] == "key")
    assert [d["text"] for d in key_probe["differences"]] == [
        f'`GET /key`: the real answer is not JSON (text/html, {len(page)} bytes, starting '
        f'"{page}"); the emulator\'s is'
    ]


def test_an_error_page_instead_of_the_answer_is_a_status_difference(proxied):
    base, proxy, emu = proxied

    async def bad_gateway(path: str):
        return Response("<html>502</html>", 502, media_type="text/html") \
            if path.endswith("/models") else None

    proxy.raw = bad_gateway
    result = run_cli("--base-url", base, "--key", emu.demo_keys["free"])
    assert (result.code, result.err) == (1, "")
    assert "  - `GET /models (no key)`: the real answer is 502, the emulator's is 200" \
        in result.out.splitlines()


def test_a_timeout_is_one_line_and_exit_2(proxied):
    base, proxy, emu = proxied
    released = asyncio.Event()

    async def hang_free_chat(path: str):
        if path.endswith("/chat/completions") and len(proxy.seen) == 5:
            await released.wait()  # never set: the client gives up first
        return None

    proxy.raw = hang_free_chat
    result = run_cli("--base-url", base, "--key", emu.demo_keys["free"], "--timeout", "0.2")
    assert (result.code, result.out) == (2, "")
    assert _one_line(result.err) == (
        f"orwidgets conform: cannot reach {base}: POST /chat/completions, free model, "
        "max_tokens 1: no answer within 0.2 s")


def test_no_key_at_all_is_one_line_and_exit_2(monkeypatch, emulator_target):
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)
    base, _ = emulator_target
    result = run_cli("--base-url", base)
    assert (result.code, result.out) == (2, "")
    assert _one_line(result.err) == ("orwidgets conform: no API key: pass one (--key) or set "
                                     "OPENROUTER_API_KEY")


def test_the_key_comes_from_the_environment(monkeypatch, emulator_target):
    base, emu = emulator_target
    monkeypatch.setenv("OPENROUTER_API_KEY", emu.demo_keys["free"])
    assert run_cli("--base-url", base).code == 0


@pytest.mark.parametrize(("argv", "line"), [
    (["--max-calls", "0"],
     "orwidgets conform: max_calls: expected a whole number of at least 1, got 0"),
    (["--timeout", "0"],
     "orwidgets conform: timeout: expected a number of seconds above 0, got 0.0"),
    (["--base-url", "ftp://example.org"],
     "orwidgets conform: base_url: expected an http(s) URL, got 'ftp://example.org'"),
    (["--policy", "2030-01"],
     "orwidgets conform: argument --policy: invalid choice: '2030-01' (choose from "
     "'legacy-2024', '2025-04', '2025-07', '2026-08', 'current') ('orwidgets conform --help' "
     "lists the options)"),
    (["--max-calls", "six"],
     "orwidgets conform: argument --max-calls: invalid int value: 'six' ('orwidgets conform "
     "--help' lists the options)"),
])
def test_usage_errors_are_one_line_and_exit_2(argv, line, capsys):
    from orwidgets.conform.cli import main

    try:  # argparse exits; the checks after it return the status
        code = main(["--key", SECRET, "--yes", "--base-url", "http://127.0.0.1:9/api/v1", *argv])
    except SystemExit as stop:
        code = stop.code
    captured = capsys.readouterr()
    assert (code, captured.out) == (2, "")
    assert _one_line(captured.err) == line


def test_check_never_raises_for_the_network():
    report = check(SECRET, base_url=f"http://127.0.0.1:{_closed_port()}")
    assert report.exit_code == 2
    assert report.error.startswith("cannot reach http://127.0.0.1:")
    assert str(report).splitlines()[-1] == f"no comparison: {report.error}"


def test_a_body_nested_too_deeply_to_parse_is_not_json_and_no_traceback(proxied):
    base, proxy, emu = proxied
    deep = "[" * 200_000 + "]" * 200_000

    async def deep_key(path: str):
        return Response(deep, media_type="application/json") if path.endswith("/key") else None

    proxy.raw = deep_key
    result = run_cli("--base-url", base, "--key", emu.demo_keys["free"])
    assert (result.code, result.err) == (1, "")
    assert "  - `GET /key`: the real answer is not JSON (application/json, 400000 bytes, " \
           f'starting "{deep[:77]}..."); the emulator\'s is' in result.out.splitlines()
