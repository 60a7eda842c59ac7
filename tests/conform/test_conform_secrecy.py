"""The key never appears in any output: text or JSON, stdout or stderr, also on errors and when
the target echoes it back."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from conform_support import SECRET, Proxy, run_cli, serve
from starlette.responses import Response

from orwidgets.conform import check
from orwidgets.emulator import create_app

REDACTED = "<redacted key>"


@pytest.fixture
def secret_target():
    """A proxy in front of an emulator where SECRET is a real key (a fresh, paid-before account)."""
    app = create_app(policy="current", latency_ms=0, accounts=[
        {"name": "mine", "balance_usd": 3.0, "purchased_usd": 3.0, "key": SECRET}])
    proxy = Proxy(app)
    with serve(proxy) as base:
        yield base, proxy


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _echo(status: int, *where: str):
    """A raw answer with the key in a message, a metadata value, a metadata key and a header."""
    async def raw(path: str):
        if not any(path.endswith(w) for w in where):
            return None
        body = {"error": {"code": status, "message": f"Key {SECRET} is not allowed here",
                          "metadata": {"key": SECRET, SECRET: True}}}
        return Response(json.dumps(body), status, headers={"X-Echo": SECRET},
                        media_type="application/json")
    return raw


def _assert_secret_absent(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text
        assert SECRET[9:] not in text  # nor the key without its prefix


@pytest.mark.parametrize("mode", [[], ["--json"]])
def test_a_normal_run_never_shows_the_key(secret_target, mode):
    base, _ = secret_target
    result = run_cli("--base-url", base, "--key", SECRET, *mode)
    assert result.code == 0, result.out
    _assert_secret_absent(result.out, result.err)


@pytest.mark.parametrize("mode", [[], ["--json"]])
def test_a_key_echoed_back_is_redacted_everywhere(secret_target, mode):
    base, proxy = secret_target
    proxy.raw = _echo(403, "/chat/completions")
    result = run_cli("--base-url", base, "--key", SECRET, *mode)
    assert result.code == 1
    _assert_secret_absent(result.out, result.err)
    assert f"Key {REDACTED} is not allowed here" in result.out


@pytest.mark.parametrize("mode", [[], ["--json"]])
def test_a_refused_key_echoed_in_the_error_line_is_redacted(secret_target, mode):
    base, proxy = secret_target
    proxy.raw = _echo(401, "/key")
    result = run_cli("--base-url", base, "--key", SECRET, *mode)
    assert result.code == 2
    _assert_secret_absent(result.out, result.err)
    assert result.err == ('orwidgets conform: the target refused the key: GET /key answered 401 '
                          f'"Key {REDACTED} is not allowed here"; check --key or '
                          'OPENROUTER_API_KEY\n')


@pytest.mark.parametrize("mode", [[], ["--json"]])
def test_a_target_that_is_down_never_shows_the_key(mode):
    result = run_cli("--base-url", f"http://127.0.0.1:{_closed_port()}/api/v1", "--key", SECRET,
                     *mode)
    assert result.code == 2
    _assert_secret_absent(result.out, result.err)


def test_a_refused_confirmation_never_shows_the_key():
    result = run_cli("--base-url", "https://openrouter.example/api/v1", "--key", SECRET)
    assert result.code == 2
    _assert_secret_absent(result.out, result.err)


def test_the_report_object_never_holds_the_key(secret_target):
    base, proxy = secret_target
    proxy.raw = _echo(402, "/chat/completions")
    report = check(SECRET, base_url=base)
    assert report.exit_code == 1
    _assert_secret_absent(str(report), repr(report), report._repr_html_(), report.to_json_text(),
                          repr(vars(report)))


def test_check_works_inside_a_running_event_loop_as_in_a_notebook(secret_target):
    base, _ = secret_target

    async def cell():
        return check(SECRET, base_url=base)

    report = asyncio.run(cell())
    assert (report.exit_code, report.calls) == (0, 6)
    html = report._repr_html_()
    assert "<table>" in html and "No difference" in html
    _assert_secret_absent(html)
