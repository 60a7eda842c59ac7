"""Running it: start() in a notebook (background thread), the CLI, and the loopback-only default."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import httpx
import pytest

from orwidgets.emulator import (
    DEFAULT_FREE_MODEL,
    DEMO_ACCOUNTS,
    DEMO_KEYS,
    PublicHostWarning,
    create_app,
    start,
)
from orwidgets.emulator import server as server_module
from orwidgets.emulator.cli import main as cli_main
from orwidgets.emulator.server import BackgroundServer, is_loopback
from orwidgets.policy import CURRENT

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def own_handle():
    """A start()ed emulator this test may stop (skips if another test's emulator is running)."""
    if server_module._RUNNING is not None and server_module._RUNNING.running:
        pytest.skip("another emulator started with start() is running in this process")
    handle = start(latency_ms=0)
    yield handle
    handle.stop()


def test_start_serves_on_loopback_with_the_demo_keys(own_handle):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", own_handle.base_url)
    assert own_handle.api_base == own_handle.base_url + "/api/v1"
    assert set(own_handle.keys) == {d.name for d in DEMO_ACCOUNTS} | {k.name for k in DEMO_KEYS}
    r = httpx.get(own_handle.api_base + "/key", headers={"Authorization": f"Bearer {own_handle.keys['free']}"})
    assert r.status_code == 200


def test_start_again_returns_the_same_running_server(own_handle):
    again = start()
    assert again is own_handle
    assert again.base_url == own_handle.base_url


def test_start_again_with_a_policy_switches_the_running_one(own_handle):
    assert start(policy="current") is own_handle
    r = httpx.get(own_handle.base_url + "/_emulator/policy", headers={"X-Admin-Token": own_handle.admin_token})
    assert r.json()["policy"] == CURRENT.id


def test_handle_repr_masks_keys_and_the_admin_token(own_handle):
    text = repr(own_handle) + own_handle._repr_html_()
    for key in own_handle.keys.values():
        assert key not in text
    assert own_handle.admin_token not in text
    assert "sk-or-v1-" in text


def test_stop_shuts_the_server_down_and_a_new_start_serves_afresh(own_handle):
    url = own_handle.base_url
    own_handle.stop()
    assert not own_handle.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/api/v1/models", timeout=2)
    fresh = start(latency_ms=0)
    try:
        assert fresh is not own_handle
        assert httpx.get(fresh.api_base + "/models").status_code == 200
    finally:
        fresh.stop()


def test_background_server_warns_when_not_on_loopback(monkeypatch):
    # Pretend 127.0.0.1 is public, so the warning path runs without opening a real public port.
    monkeypatch.setattr(server_module, "is_loopback", lambda host: False)
    with pytest.warns(PublicHostWarning, match="not only on loopback"):
        srv = BackgroundServer(create_app(latency_ms=0)).start()
    srv.stop()


def test_background_server_is_silent_on_loopback():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        srv = BackgroundServer(create_app(latency_ms=0)).start()
    srv.stop()


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("::1", True), ("localhost", True),
                                                ("0.0.0.0", False), ("192.168.1.5", False), ("example.org", False)])
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


# --- CLI ----------------------------------------------------------------------------------------


def run_cli(*args: str) -> tuple[subprocess.Popen, dict[str, str]]:
    proc = subprocess.Popen([sys.executable, "-m", "orwidgets.emulator", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    info: dict[str, str] = {}
    lines = []
    for line in proc.stdout:  # type: ignore[union-attr]
        lines.append(line)
        if "base URL" in line:
            info["base_url"] = line.split()[-1]
        elif "admin token" in line:
            info["admin_token"] = line.split()[2]
        elif re.match(r"\s+\w+\s+sk-or-v1-", line):
            name, key = line.split()[:2]
            info[name] = key
        if line.startswith("Ctrl+C"):
            break
    info["banner"] = "".join(lines)
    return proc, info


def stop_cli(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_cli_prints_url_token_and_demo_keys_and_serves(tmp_path):
    accounts = tmp_path / "accounts.json"
    accounts.write_text(json.dumps([{"name": "teacher", "balance_usd": 3, "purchased_usd": 3}]))
    proc, info = run_cli("--port", "0", "--latency-ms", "0", "--admin-token", "cli-token",
                         "--policy", "current", "--accounts", str(accounts))
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", info["base_url"])
        assert info["admin_token"] == "cli-token"
        assert {d.name for d in DEMO_ACCOUNTS} | {k.name for k in DEMO_KEYS} | {"teacher"} <= set(info)
        chat = httpx.post(info["base_url"] + "/api/v1/chat/completions",
                          json={"model": DEFAULT_FREE_MODEL, "messages": [{"role": "user", "content": "hi"}]},
                          headers={"Authorization": f"Bearer {info['teacher']}"})
        assert chat.status_code == 200
        policy = httpx.get(info["base_url"] + "/_emulator/policy", headers={"X-Admin-Token": "cli-token"})
        assert policy.json()["policy"] == CURRENT.id
    finally:
        assert stop_cli(proc) == 0


def test_cli_help_exits_zero(capsys):
    with pytest.raises(SystemExit) as info:
        cli_main(["--help"])
    assert info.value.code == 0
    assert "--admin-token" in capsys.readouterr().out


def test_cli_unknown_policy_exits_with_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        cli_main(["--policy", "2019"])
    assert info.value.code == 2


def test_cli_bad_latency_exits_2_with_a_message(capsys):
    assert cli_main(["--latency-ms", "fast"]) == 2
    assert "--latency-ms" in capsys.readouterr().err


def test_cli_warns_when_the_host_is_not_loopback(monkeypatch, capsys):
    # Binding is made to fail, so no public port is ever opened.
    def refuse(host, port):
        raise OSError("refused in test")

    monkeypatch.setattr(server_module, "bind_socket", refuse)
    assert cli_main(["--host", "0.0.0.0", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert "warning:" in err and "not only on loopback" in err
    assert "cannot listen" in err


def test_cli_reports_a_busy_port(capsys):
    srv = BackgroundServer(create_app(latency_ms=0)).start()
    try:
        assert cli_main(["--port", str(srv.port)]) == 1
        assert "cannot listen" in capsys.readouterr().err
    finally:
        srv.stop()


def test_orwidgets_main_dispatches_to_the_emulator_cli(capsys):
    from orwidgets.__main__ import main

    with pytest.raises(SystemExit) as info:
        main(["emulator", "--help"])
    assert info.value.code == 0


def test_cli_unreadable_accounts_file_exits_2(tmp_path, capsys):
    assert cli_main(["--accounts", str(tmp_path / "missing.json")]) == 2
    assert "accounts: cannot read" in capsys.readouterr().err


def test_cli_accounts_file_with_a_bad_field_exits_2(tmp_path, capsys):
    bad = tmp_path / "accounts.json"
    bad.write_text(json.dumps([{"name": "x", "balance": 3}]))
    assert cli_main(["--accounts", str(bad)]) == 2
    assert "unknown field 'balance'" in capsys.readouterr().err


def test_top_level_help_lists_every_command_with_all_its_options(capsys):
    from orwidgets.__main__ import COMMANDS, main

    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert f"  {name} " in out
    for option in ("--host", "--port", "--policy", "--admin-token", "--latency-ms", "--accounts",
                   "--seed", "--in-flight-fraction", "--in-flight-ceiling-usd",
                   "--in-flight-threshold-usd", "--in-flight-settle-s",
                   "--in-flight-completion-cap-tokens", "--in-flight-retry-after-s"):
        assert option in out


def test_top_level_without_a_command_prints_usage_and_exits_2(capsys):
    from orwidgets.__main__ import main

    assert main([]) == 2
    assert "usage: orwidgets <command>" in capsys.readouterr().err
    assert main(["nope"]) == 2
    assert "unknown command 'nope'" in capsys.readouterr().err


# --- the in-flight budget's numbers at start --------------------------------------------------------


def test_cli_in_flight_flags_set_the_numbers_the_admin_api_reports():
    proc, info = run_cli("--port", "0", "--latency-ms", "0", "--admin-token", "cli-token",
                         "--in-flight-fraction", "0.25", "--in-flight-ceiling-usd", "3",
                         "--in-flight-threshold-usd", "50", "--in-flight-settle-s", "10",
                         "--in-flight-completion-cap-tokens", "512", "--in-flight-retry-after-s", "60")
    try:
        r = httpx.get(info["base_url"] + "/_emulator/in_flight", headers={"X-Admin-Token": "cli-token"})
        assert r.json() == {"fraction": 0.25, "ceiling_usd": 3.0, "threshold_usd": 50.0,
                            "settle_s": 10.0, "completion_cap_tokens": 512, "retry_after_s": 60}
        assert "in-flight    budget 0.25 x balance up to $3.00" in info["banner"]
    finally:
        assert stop_cli(proc) == 0


@pytest.mark.parametrize("args, message", [
    (["--in-flight-fraction", "1.5"],
     "orwidgets emulator: --in-flight-fraction: must be more than 0 and at most 1, got 1.5"),
    (["--in-flight-settle-s", "-1"],
     "orwidgets emulator: --in-flight-settle-s: must be between 0 and 86400, got -1.0"),
])
def test_cli_bad_in_flight_value_exits_2_with_one_line_naming_the_flag(capsys, args, message):
    assert cli_main(args) == 2
    assert capsys.readouterr().err.strip() == message


def test_cli_in_flight_flag_that_is_not_a_number_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        cli_main(["--in-flight-completion-cap-tokens", "lots"])
    assert info.value.code == 2
    assert "--in-flight-completion-cap-tokens: invalid int value: 'lots'" in capsys.readouterr().err


def test_start_takes_in_flight_numbers_and_a_running_emulator_changes_them():
    if server_module._RUNNING is not None and server_module._RUNNING.running:
        pytest.skip("another emulator started with start() is running in this process")
    handle = start(latency_ms=0, in_flight={"retry_after_s": 30})
    try:
        assert handle.emulator.in_flight.retry_after_s == 30
        assert start(in_flight={"settle_s": 1}) is handle
        handle.emulator.reset()
        assert (handle.emulator.in_flight.retry_after_s, handle.emulator.in_flight.settle_s) == (30, 1)
    finally:
        handle.stop()
