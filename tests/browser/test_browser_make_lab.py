"""``make lab`` as a reader meets it: the JupyterLab that tools/lab.py starts, with its settings,
in a scratch copy of the repository (a git repo of its own). The reader opens the URL, Run All,
Save; the repository must stay clean, and no "Jupyter news" toast may cover the widgets.

In another language: ``make lab NB_LANG=zh`` opens the Chinese tutorial, and its kernels make
Chinese widgets even in a notebook that never calls ``set_language`` (``ORWIDGETS_LANG`` reaches
them through the server's environment); ``make voila NB_LANG=ja`` serves the Japanese tutorial."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def _make_lab(tmp_path_factory: pytest.TempPathFactory, sandbox: ob.Sandbox,
              lang: str) -> Iterator[tuple[Path, ob.Server, Any]]:
    """``make lab NB_LANG=<lang>`` in a fresh copy of the repository: what tools/lab.py
    prepares, its command line and the environment it gives the server (and so the kernels)."""
    repo = _copy_of_the_repository(tmp_path_factory.mktemp("repository"))
    tool = _load_lab_tool()
    layout = tool.plan(repo, lang)
    tool.prepare(layout)
    port = ob.free_port()
    # make lab's own command line, plus what a test needs: no browser of its own, a known port
    # and token on loopback, the app exposed to page scripts (Run All).
    argv = tool.lab_argv(layout, [
        "--no-browser", f"--IdentityProvider.token={ob.TOKEN}", "--ServerApp.ip=127.0.0.1",
        f"--port={port}", "--ServerApp.port_retries=0", "--LabApp.expose_app_in_browser=True",
    ])  # fmt: skip
    name = "make-lab" if lang == "en" else f"make-lab-{lang}"
    server = ob.start_lab_command(name, argv, sandbox, port, cwd=repo,
                                  env=tool.kernel_env(layout, sandbox.env))
    try:
        yield repo, server, layout
    finally:
        _stop(server)


def _stop(server: ob.Server) -> None:
    server.stop()
    ob.ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy2(server.log_path, ob.ARTIFACTS / f"{server.name}.log")


def _made_lab_fixture(lang: str) -> Any:
    """A module fixture: (repository copy, server, layout) of ``make lab NB_LANG=<lang>``."""

    @pytest.fixture(scope="module")
    def made(tmp_path_factory: pytest.TempPathFactory,
             jupyter_sandbox: ob.Sandbox) -> Iterator[tuple[Path, ob.Server, Any]]:
        with _make_lab(tmp_path_factory, jupyter_sandbox, lang) as made:
            yield made

    return made


made_lab = _made_lab_fixture("en")


def _printed_path(server: ob.Server) -> str:
    """The path of the first URL the server printed (the token shows as "..." when it comes
    from the command line)."""
    urls = re.findall(r"http://127\.0\.0\.1:\d+/\S*", server.log_path.read_text(errors="replace"))
    assert urls, server.log_tail()
    return urlsplit(urls[0]).path


def test_the_url_jupyterlab_prints_is_the_tutorial(made_lab: Any) -> None:
    _, server, _ = made_lab
    assert _printed_path(server) == "/lab/tree/my-notebooks/01-tutorial.ipynb"


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


# --- Another language: make lab NB_LANG=zh, make voila NB_LANG=ja ---------------------------------

#: A notebook that makes a widget without choosing a language: ORWIDGETS_LANG must choose it.
NO_SET_LANGUAGE = ["from orwidgets.widgets import FreeQuotaExplorer\nFreeQuotaExplorer()"]


made_lab_zh = _made_lab_fixture("zh")


def test_make_lab_nb_lang_zh_opens_the_chinese_tutorial(made_lab_zh: Any) -> None:
    repo, server, layout = made_lab_zh
    assert _printed_path(server) == "/lab/tree/my-notebooks/zh/01-tutorial.ipynb"
    assert layout.tutorial.read_bytes() == (repo / "notebooks/zh/01-tutorial.ipynb").read_bytes()


def test_make_lab_nb_lang_zh_kernels_speak_chinese_without_set_language(
    made_lab_zh: Any, chromium: Any
) -> None:
    from orwidgets import policy

    _, server, layout = made_lab_zh
    # In the reader's working copies (git ignores them), beside the tutorial.
    notebook = ob.write_notebook(layout.work / "orw-no-set-language.ipynb", NO_SET_LANGUAGE)
    path = notebook.relative_to(layout.root).as_posix()  # my-notebooks/zh/...
    _ = ob.Catalogue("zh")
    context, page, watch = ob.new_page(chromium)
    try:
        ob.open_lab_notebook(page, server, path)
        ob.run_all_cells(page)
        toggle = page.locator(ob.TOPUP).first
        toggle.wait_for(timeout=ob.RENDER_MS)
        want = _("topped up {threshold}+ credits").format(
            threshold=f"{policy.TOPUP_THRESHOLD_USD:g}")
        assert want != "topped up {threshold}+ credits".format(
            threshold=f"{policy.TOPUP_THRESHOLD_USD:g}")  # the catalogue translates it
        assert (toggle.text_content() or "").strip() == want
        page.wait_for_selector(f"{ob.QUOTA} .js-plotly-plot .gtitle", timeout=ob.RENDER_MS)
        assert ob.english_left(*ob.shown_texts(page, ob.QUOTA), _) == []
        ob.screenshot(page.locator(ob.QUOTA).first, "make-lab-zh-no-set-language")
        page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
    finally:
        context.close()
    watch.assert_clean()


@pytest.fixture(scope="module")
def made_voila_ja(
    tmp_path_factory: pytest.TempPathFactory, jupyter_sandbox: ob.Sandbox
) -> Iterator[tuple[Path, ob.Server]]:
    repo = _copy_of_the_repository(tmp_path_factory.mktemp("repository"))
    tool = _load_lab_tool()
    layout = tool.plan(repo, "ja")
    port = ob.free_port()
    argv = tool.voila_argv(layout, ["--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
                                    "--Voila.port_retries=0"])
    server = ob.start_voila_command("make-voila-ja", argv, jupyter_sandbox, port, cwd=repo,
                                    env=tool.kernel_env(layout, jupyter_sandbox.env))
    try:
        yield repo, server
    finally:
        _stop(server)


def test_make_voila_nb_lang_ja_serves_the_japanese_tutorial(made_voila_ja: Any,
                                                             chromium: Any) -> None:
    import nbformat

    repo, server = made_voila_ja
    tutorial = nbformat.read(repo / "notebooks/ja/01-tutorial.ipynb", as_version=4)
    title = ob.markdown_text(tutorial.cells[0].source).strip().splitlines()[0]
    _ = ob.Catalogue("ja")
    context, page, watch = ob.new_page(chromium)
    try:
        page.goto(server.url(""), timeout=ob.PAGE_LOAD_MS)  # what `make voila` opens
        page.wait_for_selector(f"{ob.RPS} .js-plotly-plot", timeout=ob.RENDER_MS)
        assert page.locator(".jp-MarkdownCell h1").first.inner_text().strip().rstrip("¶") == title
        label = page.locator(f"{ob.RPS} .orw-balance-slider .widget-label").first
        assert (label.text_content() or "").strip() == _("Balance $") != "Balance $"
    finally:
        context.close()
    watch.assert_clean()
