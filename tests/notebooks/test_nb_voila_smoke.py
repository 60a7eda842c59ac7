"""The tutorial as a Voila app: the page renders with widgets, without code, without errors.

Bounded in time; skipped when Voila is missing or cannot start here. The browser tests check that
the widgets actually draw; this only checks what the server sends.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nbhelpers import NOTEBOOK_DIR, kernel_env

httpx = pytest.importorskip("httpx")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

START_TIMEOUT_S = 30  # until the server answers at all
RENDER_TIMEOUT_S = 150  # GET / returns only after the whole notebook ran on the server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def voila_page(tmp_path_factory) -> str:
    voila = Path(sys.executable).with_name("voila")
    if not voila.exists():
        pytest.skip("voila is not installed next to this Python")
    home = tmp_path_factory.mktemp("voila-home")
    env = kernel_env(home)
    env["HOME"] = str(home)
    port = _free_port()
    proc = subprocess.Popen(
        [str(voila), str(NOTEBOOK_DIR / "01-tutorial.ipynb"), "--no-browser", f"--port={port}",
         "--Voila.ip=127.0.0.1", "--Voila.port_retries=0"],
        cwd=NOTEBOOK_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.skip(f"voila exited at start: {proc.stderr.read().decode()[-400:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.skip("voila did not start listening in time")
                time.sleep(0.2)  # polling a subprocess, not standing in for a clock
        response = httpx.get(base + "/", timeout=RENDER_TIMEOUT_S)
        assert response.status_code == 200
        yield response.text
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_voila_renders_the_tutorial_prose(voila_page):
    assert "OpenRouter&#39;s free quotas and rate limits" in voila_page or (
        "OpenRouter's free quotas and rate limits" in voila_page
    )


def test_voila_renders_widgets(voila_page):
    assert voila_page.count("application/vnd.jupyter.widget-view+json") >= 3


def test_voila_hides_the_code(voila_page):
    assert "from orwidgets.emulator import start" not in voila_page


def test_voila_run_has_no_errors(voila_page):
    assert "Traceback" not in voila_page
