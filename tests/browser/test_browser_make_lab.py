"""``make lab`` as a reader meets it: the JupyterLab that tools/lab.py starts, with its settings,
in a scratch copy of the repository (a git repo of its own). The reader opens the URL, Run All,
Save; the repository must stay clean, and no "Jupyter news" toast may cover the widgets."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import nbformat
import orw_browser as ob
import pytest

pytestmark = pytest.mark.browser

NEWS_QUESTION = "Would you like to get notified about official Jupyter news?"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=orwidgets tests", "-c", "user.email=tests@localhost", *args],
        cwd=repo, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip


def _copy_of_the_repository(dest: Path) -> Path:
    """Every file git tracks (or would track) in the working tree, committed in a fresh repo."""
    listed = _git(ob.REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in sorted(set(filter(None, listed.split("\0")))):
        source = ob.REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "the repository as the tests found it")
    return dest


def _load_lab_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("orw_tools_lab", ob.REPO / "tools" / "lab.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def made_lab(
    tmp_path_factory: pytest.TempPathFactory, jupyter_sandbox: ob.Sandbox
) -> Iterator[tuple[Path, ob.Server, Any]]:
    repo = _copy_of_the_repository(tmp_path_factory.mktemp("repository"))
    tool = _load_lab_tool()
    layout = tool.plan(repo)
    tool.prepare(layout)
    port = ob.free_port()
    # make lab's own command line, plus what a test needs: no browser of its own, a known port
    # and token on loopback, the app exposed to page scripts (Run All).
    argv = tool.lab_argv(layout, [
        "--no-browser", f"--IdentityProvider.token={ob.TOKEN}", "--ServerApp.ip=127.0.0.1",
        f"--port={port}", "--ServerApp.port_retries=0", "--LabApp.expose_app_in_browser=True",
    ])  # fmt: skip
    server = ob.start_lab_command("make-lab", argv, jupyter_sandbox, port, cwd=repo)
    try:
        yield repo, server, layout
    finally:
        server.stop()
        ob.ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy2(server.log_path, ob.ARTIFACTS / "make-lab.log")


def test_the_url_jupyterlab_prints_is_the_tutorial(made_lab: Any) -> None:
    _, server, _ = made_lab
    urls = re.findall(r"http://127\.0\.0\.1:\d+/\S*", server.log_path.read_text(errors="replace"))
    assert urls, server.log_tail()
    # The token shows as "..." when it comes from the command line: compare the path.
    assert urlsplit(urls[0]).path == "/lab/tree/my-notebooks/01-tutorial.ipynb"


def test_run_all_and_save_leave_the_repository_clean_with_no_news_toast(
    made_lab: Any, chromium: Any
) -> None:
    repo, server, layout = made_lab
    copy = layout.tutorial
    tracked_before = (repo / "notebooks" / "01-tutorial.ipynb").read_bytes()
    context, page, watch = ob.new_page(chromium)
    try:
        page.goto(server.url(""), timeout=ob.PAGE_LOAD_MS)  # the server's root, as a browser opens it
        ob.wait_lab_kernel(page, "my-notebooks/01-tutorial.ipynb")  # the tutorial, not the files
        ob.run_all_cells(page)
        page.wait_for_selector(f"{ob.RPS} .js-plotly-plot", timeout=ob.RENDER_MS)
        # The question comes as a toast soon after JupyterLab starts; Run All took far longer.
        assert page.get_by_text(NEWS_QUESTION).count() == 0
        ob.screenshot(page.locator(ob.RPS).first, "make-lab-rps-explorer")
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        page.wait_for_function(
            "() => !window.jupyterapp.shell.currentWidget.context.model.dirty",
            timeout=ob.REACT_MS,
        )
    finally:
        context.close()
    saved = nbformat.read(copy, as_version=4)
    assert any(c.get("outputs") for c in saved.cells if c.cell_type == "code"), (
        "the reader's Save did not reach the working copy"
    )
    assert _git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert (repo / "notebooks" / "01-tutorial.ipynb").read_bytes() == tracked_before
    watch.assert_clean()
