"""The command is there: ``orwidgets conform`` and ``python -m orwidgets conform``."""

from __future__ import annotations

import os
import subprocess
import sys

from orwidgets.__main__ import COMMANDS


def test_conform_is_a_command():
    assert COMMANDS["conform"][0] == "orwidgets.conform.cli"


def test_python_dash_m_orwidgets_conform_help():
    out = subprocess.run([sys.executable, "-m", "orwidgets", "conform", "--help"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0
    assert out.stdout.startswith("usage: orwidgets conform [-h] [--base-url BASE_URL]")
    for option in ("--key", "--policy", "--max-calls", "--yes", "--json", "--credits", "--timeout"):
        assert option in out.stdout


def test_the_command_list_names_conform():
    out = subprocess.run([sys.executable, "-m", "orwidgets", "--help"], capture_output=True,
                         text=True, timeout=120)
    assert "  conform    diff the real OpenRouter API against the emulator" in out.stdout


def test_a_non_interactive_run_against_the_real_api_stops_before_any_request():
    """Run as a subprocess with stdin from /dev/null: no terminal, no --yes, exit 2, no traceback.

    Should that ever break, the proxy variables send the request to a closed loopback port
    instead of the network.
    """
    env = {**os.environ, "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
           "NO_PROXY": ""}
    out = subprocess.run(
        [sys.executable, "-m", "orwidgets", "conform", "--key", "sk-or-v1-" + "0" * 64],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, env=env,
    )
    assert (out.returncode, out.stdout) == (2, "")
    assert "Traceback" not in out.stderr
    assert out.stderr.splitlines()[-1].endswith("pass --yes")
