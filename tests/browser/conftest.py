"""Session fixtures of the browser tests: Debian's Chromium, JupyterLab and Voila on loopback.

Playwright's sync API keeps an event loop running in the main thread until the session ends, which
breaks any later test that runs a loop itself: ``tests/conftest.py`` runs the browser tests last.

Without ``chromium`` the tests are skipped loudly on a developer's machine and fail under
``CI=true``. Fixture names avoid pytest-playwright's (``browser``, ``page``, ``context``...):
that plugin may be installed but is not required.
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import orw_browser as ob


def _require_chromium() -> str:
    exe = ob.chromium_path()
    if exe is not None:
        return exe
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but no `chromium` on PATH: {ob.INSTALL_HINT}", pytrace=False)
    message = f"BROWSER TESTS SKIPPED: no `chromium` on PATH; {ob.INSTALL_HINT}"
    warnings.warn(message, stacklevel=1)
    sys.stderr.write(f"\n{'!' * 80}\n{message}\n{'!' * 80}\n")
    pytest.skip(message)


@pytest.fixture(scope="session", autouse=True)
def chromium_executable() -> str:
    """Every test in this folder gets the skip-or-fail check, before any server starts."""
    return _require_chromium()


@pytest.fixture(scope="session")
def jupyter_sandbox(
    tmp_path_factory: pytest.TempPathFactory, chromium_executable: str
) -> ob.Sandbox:
    return ob.make_sandbox(tmp_path_factory.mktemp("orw-browser"))


@pytest.fixture(scope="session")
def lab_server(jupyter_sandbox: ob.Sandbox) -> Iterator[ob.Server]:
    server = ob.start_lab(jupyter_sandbox)
    try:
        yield server
    finally:
        server.stop()
        _keep_log(server)


@pytest.fixture(scope="session")
def voila_server(jupyter_sandbox: ob.Sandbox) -> Iterator[ob.Server]:
    server = ob.start_voila(jupyter_sandbox)
    try:
        yield server
    finally:
        server.stop()
        _keep_log(server)


def _keep_log(server: ob.Server) -> None:
    ob.ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy2(server.log_path, ob.ARTIFACTS / f"{server.name}.log")


@pytest.fixture(scope="session")
def chromium(chromium_executable: str) -> Iterator[Any]:
    """A headless Chromium (Debian's) for the whole session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = ob.launch_chromium(p)
        try:
            yield browser
        finally:
            browser.close()
