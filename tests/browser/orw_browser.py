"""Shared machinery of the browser tests and ``benchmarks/browser.py``.

JupyterLab and Voila run as subprocesses on loopback, each in its own session with a temporary
``HOME``, Jupyter dirs, lab settings and workspaces; Chromium is Debian's, driven by Playwright.
Nothing here may reach the internet: every non-loopback request from the page is aborted and
recorded. Know-how (flags, settings, selectors, timings): shared/reference/browser-and-binder.md.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BARE_NOTEBOOK = HERE / "bare.ipynb"
TUTORIAL = REPO / "notebooks" / "01-tutorial.ipynb"
#: The languages the tutorial is translated into (``notebooks/<lang>/``), as ``orwidgets.i18n``
#: spells them.
TRANSLATED = ("ja", "zh")
ARTIFACTS = REPO / "test-artifacts"
DOC_IMAGES = REPO / "docs" / "img"

INSTALL_HINT = "install Debian's chromium: apt-get install chromium"

# From browser-and-binder.md: --no-sandbox because CI runs as root; the rest keeps Chromium from
# phoning home (there is no network anyway) and from doing GPU work on a machine without one.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "TEST"
VIEWPORT = {"width": 1280, "height": 1400}

# Timeouts (ms). Bounded but generous: the machine has 2 shared cores; a FigureWidget notebook takes
# about 8.5 s to render in JupyterLab when the machine is quiet.
SERVER_START_S = 60.0
PAGE_LOAD_MS = 120_000
RUN_ALL_MS = 120_000
RENDER_MS = 60_000
REACT_MS = 15_000

# Every non-loopback request is aborted; these are the only ones a page is allowed to *try*.
# Each entry: (regex on the URL, why it is expected).
ALLOWED_ABORTED_URLS: list[tuple[str, str]] = [
    (
        r"^https://cdn\.jsdelivr\.net/npm/@fortawesome/fontawesome-free@[^/]*/css/",
        "Voila's page template links Font Awesome CSS from a CDN; icons are cosmetic",
    ),
]

# Console errors allowed, each with the reason. Kept minimal: anything else fails the test.
# Each entry: (regex on the console text, regex on the message's source URL or None, why).
ALLOWED_CONSOLE_ERRORS: list[tuple[str, str | None, str]] = [
    (
        r"^Failed to load resource: net::ERR_FAILED$",
        ALLOWED_ABORTED_URLS[0][0],
        "the Font Awesome CDN request above, aborted by our route (offline by design)",
    ),
]


def chromium_path() -> str | None:
    """Debian's ``chromium`` on PATH, or None."""
    return shutil.which("chromium")


def jupyter_bin(name: str) -> str:
    """The venv's own console script (sibling of ``sys.executable``), never one from PATH."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: install the test extras (make install-test)")
    return str(path)


def free_port() -> int:
    """A port free on 127.0.0.1 right now (bind to port 0 and let the kernel choose)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- Sandbox: HOME, Jupyter dirs, settings, a copy of the notebooks ------------------------------


@dataclass
class Sandbox:
    """A temporary world for the servers. Notebooks are *copies*: running them never writes
    outputs or widget state into the repository's files."""

    root: Path
    env: dict[str, str]
    notebooks: Path  # the servers' root dir
    settings: Path
    workspaces: Path
    logs: Path

    @property
    def tutorial(self) -> str:
        """The tutorial's path relative to the servers' root dir."""
        return "notebooks/" + TUTORIAL.name

    def tutorial_in(self, lang: str) -> str:
        """The tutorial in ``lang`` (``en``: the English one), relative to the servers' root."""
        return self.tutorial if lang == "en" else f"notebooks/{lang}/{TUTORIAL.name}"

    @property
    def bare(self) -> str:
        return BARE_NOTEBOOK.name


def make_sandbox(root: Path) -> Sandbox:
    """Create HOME, Jupyter config/data/runtime dirs, lab settings, a kernelspec and notebook copies.

    ``sys.prefix/share/jupyter`` stays on the Jupyter path (lab extensions of ipywidgets, anywidget,
    plotly and voila live there); only a kernelspec pointing at *this* interpreter is put in front
    of it via ``JUPYTER_PATH``.
    """
    root.mkdir(parents=True, exist_ok=True)
    home = root / "home"
    dirs = {
        "JUPYTER_CONFIG_DIR": root / "jupyter-config",
        "JUPYTER_DATA_DIR": root / "jupyter-data",
        "JUPYTER_RUNTIME_DIR": root / "jupyter-runtime",
        "IPYTHONDIR": root / "ipython",
        "JUPYTER_PATH": root / "jupyter-path",
    }
    for d in [home, *dirs.values()]:
        d.mkdir(parents=True, exist_ok=True)

    kernel_dir = dirs["JUPYTER_PATH"] / "kernels" / "python3"
    kernel_dir.mkdir(parents=True, exist_ok=True)
    (kernel_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
                "metadata": {"debugger": True},
            }
        )
    )

    settings = root / "lab-settings"
    _write_json(
        settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings",
        # The "Jupyter news" toast appears anyway otherwise and covers cell outputs.
        {"fetchNews": "false", "checkForUpdates": False},
    )
    _write_json(
        settings / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings",
        # Belt and braces with the copies: never save an executed notebook.
        {"autosave": False},
    )
    workspaces = root / "lab-workspaces"
    workspaces.mkdir(exist_ok=True)
    logs = root / "logs"
    logs.mkdir(exist_ok=True)

    notebooks = root / "nb"
    notebooks.mkdir(exist_ok=True)
    shutil.copy2(BARE_NOTEBOOK, notebooks / BARE_NOTEBOOK.name)
    if TUTORIAL.parent.is_dir():
        # The whole folder: the tutorial may use files next to it.
        shutil.copytree(
            TUTORIAL.parent,
            notebooks / TUTORIAL.parent.name,
            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
            dirs_exist_ok=True,
        )

    env = dict(os.environ)
    env.update({k: str(v) for k, v in dirs.items()})
    env["HOME"] = str(home)
    env["PYTHONUNBUFFERED"] = "1"
    # The tutorial talks to the real API when a key is set: never from the tests.
    env.pop("OPENROUTER_API_KEY", None)
    # As on Binder, no language comes from the environment: a translated notebook's own
    # set_language(...) has to choose it (test_browser_make_lab.py sets it the way make lab does).
    env.pop("ORWIDGETS_LANG", None)
    # Put the venv first so anything a kernel spawns by name is the venv's.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return Sandbox(root, env, notebooks, settings, workspaces, logs)


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


# --- Servers ----------------------------------------------------------------------------------


@dataclass
class Server:
    """One server subprocess (leader of its own process group) and how to reach it."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    token: str | None = None
    _log: Any = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str, **query: str) -> str:
        q = dict(query)
        if self.token:
            q["token"] = self.token
        qs = "&".join(f"{k}={v}" if v != "" else k for k, v in q.items())
        return f"{self.base_url}/{path.lstrip('/')}" + (f"?{qs}" if qs else "")

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 15.0) -> None:
        stop_process_tree(self.proc, timeout)
        if self._log is not None:
            self._log.close()


def _spawn(
    name: str,
    argv: list[str],
    sandbox: Sandbox,
    port: int,
    token: str | None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Server:
    log_path = sandbox.logs / f"{name}.log"
    log = open(log_path, "ab")  # noqa: SIM115 - closed in Server.stop
    proc = subprocess.Popen(
        argv,
        cwd=cwd or sandbox.notebooks,
        env=sandbox.env if env is None else env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: killable as one, immune to our ^C
    )
    return Server(name, proc, port, log_path, token, log)


def _wait_http(server: Server, path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    url = server.url(path)
    last: object = None
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with {server.proc.returncode}:\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = exc
        time.sleep(0.2)  # polling interval of a readiness probe, not a stand-in for a wait
    server.stop()
    raise TimeoutError(
        f"{server.name} did not answer {url} in {timeout} s ({last}):\n{server.log_tail()}"
    )


def start_lab(sandbox: Sandbox) -> Server:
    """JupyterLab on a free loopback port with the sandbox's settings; returns once it answers."""
    port = free_port()
    argv = [
        jupyter_bin("jupyter"), "lab", "--no-browser", "--allow-root",
        f"--IdentityProvider.token={TOKEN}",
        "--ServerApp.ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={sandbox.notebooks}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        "--LabApp.expose_app_in_browser=True",
        # The same server also serves Notebook 7 (/notebooks/<path>) when `notebook` is installed.
        "--JupyterNotebookApp.expose_app_in_browser=True",
        f"--LabApp.workspaces_dir={sandbox.workspaces}",
        f"--LabApp.user_settings_dir={sandbox.settings}",
    ]  # fmt: skip
    server = _spawn("jupyterlab", argv, sandbox, port, TOKEN)
    _wait_http(server, "api/status", SERVER_START_S)
    check_kernelspec(server)
    return server


def start_lab_command(
    name: str, argv: list[str], sandbox: Sandbox, port: int, cwd: Path,
    env: dict[str, str] | None = None,
) -> Server:
    """A JupyterLab started by a command line of someone else's making (``make lab``'s), which
    must listen on ``port`` with the token ``TEST``; returns once it answers. ``env`` (default
    the sandbox's) is the server's environment, which its kernels inherit."""
    server = _spawn(name, argv, sandbox, port, TOKEN, cwd=cwd, env=env)
    _wait_http(server, "api/status", SERVER_START_S)
    check_kernelspec(server)
    return server


def start_voila_command(
    name: str, argv: list[str], sandbox: Sandbox, port: int, cwd: Path,
    env: dict[str, str] | None = None,
) -> Server:
    """A Voila started by someone else's command line (``make voila``'s), serving one notebook
    at ``/`` on ``port``; returns once it answers (a static file: ``/`` would start a kernel)."""
    server = _spawn(name, argv, sandbox, port, None, cwd=cwd, env=env)
    _wait_http(server, "voila/static/voila.js", SERVER_START_S)
    return server


def voila_json_flags() -> list[str]:
    """The repository's ``voila.json`` as command-line flags (the server runs elsewhere)."""
    config = json.loads((REPO / "voila.json").read_text(encoding="utf-8"))
    return [
        f"--{section}.{name}={json.dumps(value) if isinstance(value, list) else value}"
        for section, values in config.items()
        for name, value in values.items()
    ]


def start_voila(sandbox: Sandbox) -> Server:
    """Voila serving the sandbox's notebook folder (``/voila/render/<path>``)."""
    port = free_port()
    argv = [
        jupyter_bin("voila"), str(sandbox.notebooks), "--no-browser",
        f"--port={port}", "--Voila.ip=127.0.0.1", "--Voila.port_retries=0",
        "--VoilaConfiguration.show_tracebacks=True",
        # The repository's voila.json, as `make voila` and Binder read it from the root.
        *voila_json_flags(),
    ]  # fmt: skip
    server = _spawn("voila", argv, sandbox, port, None)
    _wait_http(server, "", SERVER_START_S)
    return server


def check_kernelspec(server: Server) -> None:
    """The default kernel must run this venv's interpreter (the one with orwidgets installed)."""
    with urllib.request.urlopen(server.url("api/kernelspecs"), timeout=10) as r:
        specs = json.load(r)
    argv = specs["kernelspecs"][specs["default"]]["spec"]["argv"]
    if Path(argv[0]) != Path(sys.executable):
        raise RuntimeError(f"kernel would run {argv[0]!r}, not {sys.executable!r}")


def _descendants(pid: int) -> list[int]:
    """Child processes (kernels included: they live in sessions of their own), deepest last."""
    try:
        import psutil  # ipykernel depends on it
    except ImportError:  # pragma: no cover
        return []
    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover
        return True
    # A zombie child of someone else still "exists"; psutil tells the truth.
    try:
        import psutil

        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except Exception:  # noqa: BLE001
        return True


def stop_process_tree(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """SIGTERM the server's process group (it shuts its kernels down), then SIGKILL by pid
    whatever of the group and of its recorded descendants (kernels) is left."""
    if proc.poll() is not None:
        return
    children = _descendants(proc.pid)
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=5)
    deadline = time.monotonic() + 5
    for pid in children:
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)  # give a kernel its own shutdown a moment
        if _alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# --- Pages: offline routing and console watching -------------------------------------------------

_NON_LOOPBACK = re.compile(r"^(?!https?://(127\.0\.0\.1|localhost)(:\d+)?/)[a-z]+://")


@dataclass
class PageWatch:
    """What a page tried and complained about: aborted URLs, console errors, uncaught exceptions."""

    aborted: list[str] = field(default_factory=list)
    console_errors: list[tuple[str, str]] = field(default_factory=list)  # (text, source url)
    page_errors: list[str] = field(default_factory=list)

    def unexpected_aborts(self) -> list[str]:
        return [
            u for u in self.aborted if not any(re.search(p, u) for p, _ in ALLOWED_ABORTED_URLS)
        ]

    def unexpected_console_errors(
        self,
        allowed_uncaught: Sequence[tuple[str, str]] = (),
        allowed_console: Sequence[tuple[str, str | None, str]] = (),
    ) -> list[str]:
        out = []
        for text, url in self.console_errors:
            if not any(
                re.search(tp, text) and (up is None or re.search(up, url or ""))
                for tp, up, _ in [*ALLOWED_CONSOLE_ERRORS, *allowed_console]
            ):
                out.append(f"{text}  [{url}]")
        return out + [
            f"uncaught: {e}" for e in self.page_errors
            if not any(re.search(pattern, e) for pattern, _ in allowed_uncaught)
        ]

    def assert_clean(
        self,
        allowed_uncaught: Sequence[tuple[str, str]] = (),
        allowed_console: Sequence[tuple[str, str | None, str]] = (),
    ) -> None:
        problems = _counted(self.unexpected_console_errors(allowed_uncaught, allowed_console))
        aborts = _counted(self.unexpected_aborts())
        message = ""
        if problems:
            message += "unexpected console errors:\n  " + "\n  ".join(problems) + "\n"
        if aborts:
            message += "unexpected non-loopback requests (aborted):\n  " + "\n  ".join(aborts)
        assert not message, message


def _counted(items: list[str]) -> list[str]:
    """Distinct items in first-seen order, repeated ones with their count."""
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return [f"{k}  (x{n})" if n > 1 else k for k, n in counts.items()]


def new_page(browser: Any) -> tuple[Any, Any, PageWatch]:
    """A fresh context and page, offline except for loopback, with a watch attached."""
    context = browser.new_context(viewport=VIEWPORT)
    watch = PageWatch()

    def _abort(route: Any) -> None:
        watch.aborted.append(route.request.url)
        route.abort()

    context.route(_NON_LOOPBACK, _abort)
    page = context.new_page()

    def _console(msg: Any) -> None:
        if msg.type == "error":
            loc = msg.location or {}
            watch.console_errors.append((msg.text, loc.get("url", "")))

    page.on("console", _console)
    page.on("pageerror", lambda exc: watch.page_errors.append(str(exc)))
    return context, page, watch


class FrameCounter:
    """Sizes of the websocket frames a page receives (kernel messages, Voila's cell results), in
    the order Playwright reports them; attach before the page opens."""

    def __init__(self, page: Any) -> None:
        self.sizes: list[int] = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._count))

    def _count(self, payload: str | bytes) -> None:
        self.sizes.append(len(payload.encode() if isinstance(payload, str) else payload))

    @property
    def frames(self) -> int:
        return len(self.sizes)

    @property
    def bytes(self) -> int:
        return sum(self.sizes)

    def larger_than(self, size: int) -> list[int]:
        return [s for s in self.sizes if s > size]


def launch_chromium(playwright: Any) -> Any:
    exe = chromium_path()
    if exe is None:
        raise RuntimeError(INSTALL_HINT)
    return playwright.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)


# --- JupyterLab and Voila page actions ------------------------------------------------------------

_RUN_ALL_JS = """() => {
  window.__orwRunAll = null;
  window.jupyterapp.commands.execute('notebook:run-all-cells').then(
    ok => { window.__orwRunAll = {ok: ok !== false}; },
    err => { window.__orwRunAll = {ok: false, error: String(err)}; });
}"""

_KERNEL_READY_JS = """(path) => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!w || !w.context || w.context.path !== path || !w.sessionContext) return false;
  const s = w.sessionContext.session;
  const k = s && s.kernel;
  return !!k && k.connectionStatus === 'connected' && k.status === 'idle';
}"""

_CELL_ERRORS_JS = """() => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  const errors = [];
  for (const cell of nb.model.cells) {
    if (cell.type !== 'code') continue;
    for (let i = 0; i < cell.outputs.length; i++) {
      const o = cell.outputs.get(i).toJSON();
      if (o.output_type === 'error') errors.push(o.ename + ': ' + o.evalue);
    }
  }
  return errors;
}"""


def wait_lab_kernel(page: Any, path: str, timeout_ms: int = PAGE_LOAD_MS) -> None:
    """Wait until JupyterLab's current document is ``path`` and its kernel is idle."""
    page.wait_for_function(_KERNEL_READY_JS, arg=path, timeout=timeout_ms)


def open_lab_notebook(page: Any, server: Server, path: str) -> None:
    """Open a notebook in JupyterLab (fresh workspace) and wait for its kernel to be idle."""
    page.goto(server.url(f"lab/tree/{path}", reset=""), timeout=PAGE_LOAD_MS)
    page.wait_for_selector(
        '.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=PAGE_LOAD_MS
    )
    # The indicator says "idle" before a kernel exists: wait for the notebook's own kernel.
    wait_lab_kernel(page, path)


#: Uncaught errors allowed in Notebook 7 only, each with the reason.
NOTEBOOK7_ALLOWED_UNCAUGHT: list[tuple[str, str]] = [
    (
        r"^Cannot read properties of undefined \(reading 'schema'\)$",
        "Notebook 7.6.5's own front end throws it on opening any notebook on this server, "
        "bare.ipynb (no orwidgets code) included",
    ),
    (
        r"^Command 'filebrowser:open-path' not registered\.$",
        "Notebook 7.6.5's notebook page has no file browser; its own front end asks for one",
    ),
]
#: Console errors allowed in Notebook 7 only, each with the reason.
NOTEBOOK7_ALLOWED_CONSOLE: list[tuple[str, str | None, str]] = [
    (
        r"status of 403",
        r"/static/notebook/[0-9a-f]+\.woff2?$",
        "fonts that Notebook 7.6.5's CSS asks for under /static/notebook/, which the server "
        "refuses ('not in root static directory'); nothing of orwidgets",
    ),
]


def open_notebook7(page: Any, server: Server, path: str) -> None:
    """Open a notebook in Notebook 7 and wait for its kernel to be idle."""
    page.goto(server.url(f"notebooks/{path}"), timeout=PAGE_LOAD_MS)
    wait_lab_kernel(page, path)


def run_livecalls_preset(page: Any, preset: str) -> tuple[dict[str, int], str]:
    """Pick ``preset`` in the first LiveCalls, press Run, wait for "done"; return the count per
    call class shown and the last error's text."""
    root = page.locator(LIVECALLS).first
    root.scroll_into_view_if_needed()
    root.locator(".orw-preset select").select_option(label=preset)
    root.locator(".orw-run").click()
    page.wait_for_function(
        "(sel) => { const e = document.querySelector(sel); return !!e && /\\bdone\\b/.test(e.textContent); }",
        arg=f"{LIVECALLS} .orw-status",
        timeout=60_000,
    )
    counts = {
        c.get_attribute("data-class"): int((c.text_content() or "").strip())
        for c in root.locator(".orw-count").all()
    }
    error = root.locator(".orw-last-error pre")
    error.scroll_into_view_if_needed()
    assert error.is_visible(), "the last error is not shown"
    return counts, error.text_content() or ""


@contextmanager
def notebook_page(browser: Any, app: str, server: Server,
                  path: str) -> Iterator[tuple[Any, PageWatch]]:
    """A fresh page showing ``path`` in ``app`` (``"lab"``: opened and Run All; ``"voila"``:
    rendered); when done, JupyterLab's kernel of it is shut down (the machine wants its memory
    back) and the page closed."""
    context, page, watch = new_page(browser)
    try:
        if app == "lab":
            open_lab_notebook(page, server, path)
            run_all_cells(page)
        else:
            open_voila(page, server, path)
        yield page, watch
        if app == "lab":
            page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
    finally:
        context.close()


def run_all_cells(page: Any, timeout_ms: int = RUN_ALL_MS) -> None:
    """Run All in the current notebook; fail with the cells' errors if any raised."""
    page.evaluate(_RUN_ALL_JS)
    page.wait_for_function("() => window.__orwRunAll !== null", timeout=timeout_ms)
    result = page.evaluate("() => window.__orwRunAll")
    errors = page.evaluate(_CELL_ERRORS_JS)
    if errors or not result.get("ok"):
        raise AssertionError(f"Run All failed: {result}; cell errors: {errors}")


def open_voila(page: Any, server: Server, path: str) -> None:
    """Voila answers only after the notebook ran on the server: a long timeout for ``goto``."""
    page.goto(server.url(f"voila/render/{path}"), timeout=PAGE_LOAD_MS)


def plotly_trace(page: Any, root_selector: str, name: str) -> dict[str, Any] | None:
    """``{x, y}`` of the trace called ``name`` of the first plotly graph under ``root_selector``:
    its ``meta`` (the English name the widgets keep in every language), else its ``name``."""
    return page.evaluate(
        """([root, name]) => {
          const g = document.querySelector(root + ' .js-plotly-plot');
          if (!g || !g.data) return null;
          const t = g.data.find(d => d.meta === name || d.name === name);
          return t ? {x: Array.from(t.x), y: Array.from(t.y)} : null;
        }""",
        [root_selector, name],
    )


def wait_trace_changed(
    page: Any, root_selector: str, name: str, old_x: Any, timeout_ms: int = REACT_MS
) -> dict[str, Any]:
    """Wait until the trace's x differs from ``old_x``; return the new ``{x, y}``."""
    page.wait_for_function(
        """([root, name, old]) => {
          const g = document.querySelector(root + ' .js-plotly-plot');
          if (!g || !g.data) return false;
          const t = g.data.find(d => d.meta === name || d.name === name);
          return !!t && JSON.stringify(Array.from(t.x)) !== JSON.stringify(old);
        }""",
        arg=[root_selector, name, old_x],
        timeout=timeout_ms,
    )
    trace = plotly_trace(page, root_selector, name)
    assert trace is not None
    return trace


def screenshot(locator: Any, name: str) -> Path:
    """Save ``test-artifacts/<name>.png`` (element screenshot: the notebook panel scrolls inside
    the page, so ``full_page`` would miss it)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    locator.scroll_into_view_if_needed()
    locator.screenshot(path=str(path), animations="disabled")
    return path


# --- The tutorial's widgets (DOM contract: notes/contracts.md) ------------------------------------

RPS = ".orw-rps-explorer"
RPS_HANDLE = f"{RPS} .orw-balance-slider .noUi-handle"
RPS_INPUT = f"{RPS} .orw-balance-input input"
RPS_VALUE = f"{RPS} .orw-rps-readout .orw-rps-value"
MARKER = "current balance"
QUOTA = ".orw-quota-explorer"
TOPUP = f"{QUOTA} .orw-topup-toggle"
DAILY_QUOTA = f"{QUOTA} .orw-daily-quota"
LIVECALLS = ".orw-livecalls"


def rps_state(page: Any) -> tuple[float, Any, str]:
    """(marker x, marker y, RPS readout text) of the first RPS explorer."""
    trace = plotly_trace(page, RPS, MARKER)
    assert trace is not None, f"no plotly trace named {MARKER!r} under {RPS}"
    text = (page.locator(RPS_VALUE).first.text_content() or "").strip()
    return float(trace["x"][0]), trace["y"][0], text


def wait_rps_marker_at(page: Any, balance: float, timeout_ms: int = REACT_MS) -> None:
    """Wait until the marker sits at ``balance`` (to the cent: the widget rounds to cents)."""
    page.wait_for_function(
        """([root, name, want]) => {
          const g = document.querySelector(root + ' .js-plotly-plot');
          if (!g || !g.data) return false;
          const t = g.data.find(d => d.meta === name || d.name === name);
          return !!t && t.x.length === 1 && Math.abs(t.x[0] - want) < 0.005;
        }""",
        arg=[RPS, MARKER, balance],
        timeout=timeout_ms,
    )


def wait_rps_value(page: Any, text: str, timeout_ms: int = REACT_MS) -> None:
    """Wait until the RPS readout shows ``text``."""
    page.wait_for_function(
        """([sel, want]) => {
          const e = document.querySelector(sel);
          return !!e && e.textContent.trim() === want;
        }""",
        arg=[RPS_VALUE, text],
        timeout=timeout_ms,
    )


def type_balance(page: Any, value: str) -> None:
    """Type a balance into the FloatText and commit it (FloatText syncs on Enter)."""
    box = page.locator(RPS_INPUT).first
    box.scroll_into_view_if_needed()
    box.fill(value)
    box.press("Enter")


_RPS_SETTLED_JS = """([root, name]) => {
  const g = document.querySelector(root + ' .js-plotly-plot');
  if (!g || !g.data) return false;
  const t = g.data.find(d => d.meta === name || d.name === name);
  if (!t || t.x.length !== 1) return false;
  const box = document.querySelector(root + ' .orw-balance-input input');
  if (!box) return false;
  return Math.abs(parseFloat(box.value) - t.x[0]) < 0.005;
}"""


def wait_rps_settled(page: Any, timeout_ms: int = REACT_MS) -> None:
    """Wait until the typed field and the chart marker show one balance (the slider has no
    readout of its own: it would show its grid point, not the balance)."""
    page.wait_for_function(_RPS_SETTLED_JS, arg=[RPS, MARKER], timeout=timeout_ms)


def lab_kernel_barrier(page: Any, timeout_ms: int = REACT_MS) -> None:
    """A kernel_info round trip on the notebook's kernel. The kernel handles shell messages (comm
    updates included) in order, so every widget message the page sent before this one has been
    handled when it returns: a later echo of the front end cannot be missed."""
    page.wait_for_function(
        """() => {
          if (window.__orwBarrier === undefined) {
            window.__orwBarrier = false;
            window.jupyterapp.shell.currentWidget.sessionContext.session.kernel
              .requestKernelInfo().then(() => { window.__orwBarrier = true; });
          }
          if (window.__orwBarrier) { delete window.__orwBarrier; return true; }
          return false;
        }""",
        timeout=timeout_ms,
    )


def plot_trace_counts(page: Any, root_selector: str) -> list[int]:
    """Number of traces drawn by each plotly graph under the first ``root_selector`` (0: a blank
    chart, e.g. a FigureWidget whose front end never received its traces)."""
    return page.evaluate(
        """(root) => {
          const r = document.querySelector(root);
          return r ? Array.from(r.querySelectorAll('.js-plotly-plot'))
                          .map(g => (g.data || []).length) : [];
        }""",
        root_selector,
    )


# --- Cut-off labels (test_browser_widget_labels.py) -----------------------------------------------

_CUT_OFF_JS = """([sel, index]) => {
  const root = document.querySelectorAll(sel)[index];
  if (!root) return [`no element ${sel} #${index}`];
  const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
  const px = v => parseFloat(v) || 0;
  const contentWidth = e => {
    const s = getComputedStyle(e);
    return e.clientWidth - px(s.paddingLeft) - px(s.paddingRight);
  };
  const textWidth = e => {
    const range = document.createRange();
    range.selectNodeContents(e);
    return range.getBoundingClientRect().width;
  };
  const canvas = document.createElement('canvas').getContext('2d');
  const problems = [];
  // Buttons (toggle buttons included) and description labels: ipywidgets cuts them with an
  // ellipsis (overflow hidden, nowrap). Either the box scrolls, or its text is wider than it.
  const texts = root.querySelectorAll(
    'button, .widget-label, .widget-label-basic, .widget-inline-hbox > label');
  for (const e of texts) {
    // An inline box has no width of its own to cut its text to (ToggleButtons' description).
    if (!shown(e) || getComputedStyle(e).display === 'inline') continue;
    const text = (e.textContent || '').trim();
    if (!text) continue;
    const need = textWidth(e), room = contentWidth(e);
    if (e.scrollWidth > e.clientWidth || need > room + 0.5) {
      problems.push(`${e.tagName.toLowerCase()} "${text}": text ${need.toFixed(1)} px, ` +
                    `room ${room.toFixed(1)} px`);
    }
  }
  // Dropdowns: every option must fit, as a reader who picks it would see it in the box.
  for (const select of root.querySelectorAll('select')) {
    if (!shown(select)) continue;
    canvas.font = getComputedStyle(select).font;
    const room = contentWidth(select);
    for (const option of select.options) {
      const need = canvas.measureText(option.text).width;
      if (need > room + 0.5) {
        problems.push(`select option "${option.text}"${option.selected ? ' (selected)' : ''}: ` +
                      `text ${need.toFixed(1)} px, room ${room.toFixed(1)} px`);
      }
    }
  }
  return problems;
}"""


def cut_off_texts(page: Any, root_selector: str, index: int = 0) -> list[str]:
    """Every button label, description label and dropdown option under the ``index``-th
    ``root_selector`` that does not fit its box (ipywidgets would show it cut, with "…").
    Only elements on screen count: scroll the root into view first."""
    return page.evaluate(_CUT_OFF_JS, [root_selector, index])


def write_notebook(path: Path, cells: Sequence[str]) -> Path:
    """A notebook of code cells (no outputs) for a test to open; kernel ``python3``."""
    nb = {
        "cells": [
            {"cell_type": "code", "execution_count": None, "id": f"cell-{i}", "metadata": {},
             "outputs": [], "source": source}
            for i, source in enumerate(cells)
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                    "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


# --- Markdown as the reader sees it: text, never LaTeX --------------------------------------------

#: Tutorial cells that once rendered as math (issue 13), by a text they contain: the tests take
#: screenshots of them to look at.
MARKDOWN_ONCE_BROKEN = {
    "section-2-balance-or-purchases": "Balance or purchases?",
    "section-4-table": "Paid models: RPS follows your balance",
    "faq": "I'm still capped at",
}

#: What MathJax leaves where it typeset something (CHTML and SVG output, MathML).
MATH_SELECTOR = "mjx-container, .MathJax, math"

_LAB_MARKDOWN_JS = """async (mathSelector) => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const out = [];
  for (const cell of nb.widgets) {
    if (cell.model.type !== 'markdown') continue;
    // Off-screen cells may skip layout (innerText needs it), and the windowed notebook renders
    // a far cell's markdown only once it is scrolled to, asynchronously: wait for it (a slow
    // machine can take many frames), up to a deadline, instead of a fixed number of frames.
    cell.node.scrollIntoView();
    const deadline = Date.now() + 10000;
    let r = null;
    do {
      await frame();
      r = cell.node.querySelector('.jp-RenderedMarkdown');
    } while ((!r || !r.innerText.trim()) && Date.now() < deadline);
    out.push({id: cell.model.id, found: !!r,
              math: r ? r.querySelectorAll(mathSelector).length : 0, text: r ? r.innerText : ''});
  }
  return out;
}"""

_VOILA_MARKDOWN_JS = """(mathSelector) => Array.from(document.querySelectorAll('.jp-MarkdownCell'))
  .map(cell => {
    const r = cell.querySelector('.jp-RenderedMarkdown');
    return {id: cell.id.replace(/^cell-id=/, ''), found: !!r,
            math: r ? r.querySelectorAll(mathSelector).length : 0, text: r ? r.innerText : ''};
  })"""


@dataclass
class RenderedMarkdown:
    """One markdown cell as the page shows it."""

    id: str
    found: bool
    math: int  # math elements inside the rendered markdown
    text: str  # its innerText


def lab_rendered_markdown(page: Any) -> list[RenderedMarkdown]:
    """Every markdown cell of JupyterLab's (or Notebook 7's) current notebook, in order."""
    return [RenderedMarkdown(**c) for c in page.evaluate(_LAB_MARKDOWN_JS, MATH_SELECTOR)]


def voila_rendered_markdown(page: Any) -> list[RenderedMarkdown]:
    """Every markdown cell of a Voila page, in order."""
    return [RenderedMarkdown(**c) for c in page.evaluate(_VOILA_MARKDOWN_JS, MATH_SELECTOR)]


_BLOCK_TAGS = frozenset(
    "p li ul ol td th tr table thead tbody h1 h2 h3 h4 h5 h6 pre br hr div blockquote".split()
)


def markdown_text(source: str) -> str:
    """The text a markdown cell should show: its source rendered by a CommonMark parser (with
    tables and inline HTML, as the notebooks use them), markup removed, blocks on lines of their
    own, inline pieces joined as a browser's innerText joins them."""
    from html.parser import HTMLParser

    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(source)
    pieces: list[str] = []

    class _Text(HTMLParser):
        def handle_starttag(self, tag: str, attrs: Any) -> None:
            if tag in _BLOCK_TAGS:
                pieces.append("\n")

        def handle_endtag(self, tag: str) -> None:
            if tag in _BLOCK_TAGS:
                pieces.append("\n")

        def handle_data(self, data: str) -> None:
            pieces.append(data)

    parser = _Text(convert_charrefs=True)
    parser.feed(html)
    parser.close()
    return "".join(pieces)


def words(text: str) -> list[str]:
    """Runs of letters, digits and underscores (so markup and punctuation do not count)."""
    return re.findall(r"\w+", text)


#: Characters of Japanese and Chinese writing: kana, CJK ideographs (with extension A and the
#: compatibility block), the iteration mark and half-width katakana.
_CJK = "\u3005\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
_SCRIPT_RUNS = re.compile(f"[{_CJK}]+|[^\\W{_CJK}]+")


def text_tokens(text: str) -> list[str]:
    """What a reader must find of ``text`` on the page, in pieces small enough that one missing
    piece shows: the :func:`words` of Latin text, and every two adjacent characters (a bigram)
    of a run of Japanese or Chinese, which has no spaces between words (a whole sentence would
    be one "word": a row lost from a table or a phrase a formula swallowed would hide inside it).
    A run of one character is its own token. Runs split at spaces, punctuation and at a change of
    script (``OpenRouterとは``: ``OpenRouter``, ``とは``)."""
    tokens: list[str] = []
    for run in _SCRIPT_RUNS.findall(text):
        if re.match(f"[{_CJK}]", run) and len(run) > 1:
            tokens.extend(run[i:i + 2] for i in range(len(run) - 1))
        else:
            tokens.append(run)
    return tokens


def missing_words(source: str, shown_text: str) -> list[str]:
    """The :func:`text_tokens` of markdown ``source`` that ``shown_text`` (a page's innerText of
    it) lacks, as many times as it lacks them, sorted."""
    missing = Counter(text_tokens(markdown_text(source))) - Counter(text_tokens(shown_text))
    return sorted(missing.elements())


def markdown_render_problems(nb_path: Path, shown: list[RenderedMarkdown]) -> list[str]:
    """What is wrong with how a page shows the markdown cells of ``nb_path``: a cell missing or
    not rendered, any math element, any word of the cell's text missing from what is shown (a
    formula swallows words, a collapsed table loses rows; Japanese and Chinese are compared by
    character pairs, see :func:`text_tokens`), and cells out of order."""
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    expected = [c for c in nb.cells if c.cell_type == "markdown"]
    by_id = {c.id: c for c in shown}
    problems = []
    if [c.id for c in shown] != [c.id for c in expected]:
        problems.append(
            f"markdown cells shown {[c.id for c in shown]}, expected {[c.id for c in expected]}"
        )
    for cell in expected:
        seen = by_id.get(cell.id)
        if seen is None or not seen.found:
            problems.append(f"{cell.id}: not rendered")
            continue
        if seen.math:
            problems.append(f"{cell.id}: {seen.math} math element(s) in the rendered markdown")
        missing = missing_words(cell.source, seen.text)
        if missing:
            problems.append(f"{cell.id}: words not shown {missing[:20]}")
    return problems


# --- Languages: what the page must say, from the translators' own files ---------------------------


class Catalogue:
    """One language's ``.po`` (``orwidgets/locale/<lang>/LC_MESSAGES/orwidgets.po``), read with
    Babel and compiled in memory, so that what a test expects comes from the file translators
    edit, not from the package's compiled ``.mo`` nor from the widgets' code. Fuzzy entries are
    left out, as ``pybabel compile`` leaves them out."""

    def __init__(self, lang: str) -> None:
        import gettext
        import io

        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        self.lang = lang
        self.path = REPO / "orwidgets" / "locale" / lang / "LC_MESSAGES" / "orwidgets.po"
        with self.path.open("rb") as f:
            self.catalog = read_po(f)
        compiled = io.BytesIO()
        write_mo(compiled, self.catalog)
        compiled.seek(0)
        self._gettext = gettext.GNUTranslations(compiled)

    def __call__(self, msgid: str) -> str:
        """The translation of ``msgid`` (``msgid`` itself when the catalogue has none)."""
        return self._gettext.gettext(msgid)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._gettext.ngettext(singular, plural, n)

    def english_texts(self) -> list[str]:
        """Every English msgid (plural forms too) whose translation reads differently: the texts
        a page in this language must not show."""
        out = []
        for message in self.catalog:
            if not message.id or message.fuzzy:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if all(strings):
                out.extend(i for i in ids if i not in strings)
        return out


#: A placeholder of a catalogue text: ``{name}``, ``{n:,}``, or plotly's ``%{x:,.2f}``.
_PLACEHOLDER = re.compile(r"%?\{[^{}]*\}")
#: An English word (a text without one, outside its placeholders, is numbers and signs).
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def placeholder_regex(msgid: str) -> re.Pattern[str]:
    """``msgid`` as a pattern over a shown text: each placeholder matches any text."""
    parts = _PLACEHOLDER.split(msgid)
    return re.compile(".+?".join(re.escape(p) for p in parts), re.DOTALL)


def english_left(labels: Sequence[str], text: str, catalogue: Catalogue) -> list[str]:
    """English that a widget shows where its language's catalogue has a translation.

    ``labels`` are short texts shown whole (buttons, descriptions, options, chart title, axes and
    legend, tooltips): one that *is* an English msgid (its placeholders filled with anything)
    is left over. ``text`` is everything the widget shows: a sentence of an English msgid (the
    longest piece between its placeholders, when it has three or more English words) found in
    it is left over too."""
    english = catalogue.english_texts()
    whole = [(m, placeholder_regex(m)) for m in english
             if _LATIN_WORD.search(_PLACEHOLDER.sub(" ", m))]
    left = sorted({f"label {label!r} is the English {m!r}"
                   for label in {" ".join(x.split()) for x in labels if x.strip()}
                   for m, pattern in whole if pattern.fullmatch(label)})
    flat = " ".join(text.split())
    for m in english:
        piece = max(_PLACEHOLDER.split(" ".join(m.split())), key=len).strip(" :;,.()")
        if len(_LATIN_WORD.findall(piece)) >= 3 and piece in flat:
            left.append(f"text has the English {piece!r} (of {m!r})")
    return left


_SHOWN_TEXTS_JS = """(sel) => {
  const root = document.querySelector(sel);
  if (!root) return null;
  const shown = e => e.getClientRects().length > 0;
  const labels = [];
  for (const e of root.querySelectorAll(
      'button, label, .widget-label, .widget-label-basic, .widget-toggle-button, ' +
      '.gtitle, .xtitle, .ytitle, .legendtext, .annotation-text')) {
    if (shown(e)) labels.push(e.textContent);
  }
  for (const o of root.querySelectorAll('select option')) labels.push(o.text);
  for (const e of root.querySelectorAll('[title]')) labels.push(e.getAttribute('title'));
  for (const e of root.querySelectorAll('input[placeholder], textarea[placeholder]')) {
    labels.push(e.getAttribute('placeholder'));
  }
  const svg = Array.from(root.querySelectorAll('svg text')).map(e => e.textContent).join('\\n');
  return {labels, text: root.innerText + '\\n' + svg};
}"""


def shown_texts(page: Any, root_selector: str) -> tuple[list[str], str]:
    """(labels, all text) of the first ``root_selector``: buttons, description labels, dropdown
    options, toggle buttons, the chart's title, axes, legend and annotations, tooltips and
    placeholders; then the widget's whole text with its charts' text."""
    got = page.evaluate(_SHOWN_TEXTS_JS, root_selector)
    assert got is not None, f"no element {root_selector}"
    return got["labels"], got["text"]


# --- Fonts: which font draws the Japanese and Chinese characters ----------------------------------

_CJK_CHAR = re.compile(f"[{_CJK}]")


def cjk_fonts(page: Any, root_selector: str) -> dict[str, Any]:
    """Which fonts Chromium drew the text of the first ``root_selector`` with (DevTools'
    ``CSS.getPlatformFontsForNode``, per element for its own text nodes): ``{"cjk_chars": n,
    "fonts": {family: glyphs}, "cjk_glyphs": glyphs drawn by a font whose family says CJK,
    "elements": elements with CJK text}``. Without a CJK font the characters come out as boxes
    drawn by another family, and ``cjk_glyphs`` falls short of ``cjk_chars``."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        # Elements whose own text (not their children's) holds CJK characters.
        page.evaluate(
            """(sel) => {
              const r = document.querySelector(sel);
              let i = 0;
              for (const e of [r, ...r.querySelectorAll('*')]) {
                const own = Array.from(e.childNodes).filter(n => n.nodeType === 3)
                  .map(n => n.textContent).join('');
                if (/[\\u3040-\\u30ff\\u4e00-\\u9fff]/.test(own) && e.getClientRects().length)
                  e.setAttribute('data-orw-cjk', String(i++));
              }
            }""",
            root_selector,
        )
        nodes = cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": "[data-orw-cjk]"})
        fonts: dict[str, int] = {}
        cjk_chars = cjk_glyphs = 0
        for node in nodes["nodeIds"]:
            own = cdp.send("DOM.resolveNode", {"nodeId": node})
            text = cdp.send("Runtime.callFunctionOn", {
                "objectId": own["object"]["objectId"], "returnByValue": True,
                "functionDeclaration": "function() { return Array.from(this.childNodes)"
                                       ".filter(n => n.nodeType === 3).map(n => n.textContent)"
                                       ".join(''); }",
            })["result"]["value"]
            cjk_chars += len(_CJK_CHAR.findall(text))
            for font in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]:
                fonts[font["familyName"]] = fonts.get(font["familyName"], 0) + font["glyphCount"]
                if "CJK" in font["familyName"]:
                    cjk_glyphs += font["glyphCount"]
        return {"cjk_chars": cjk_chars, "fonts": fonts, "cjk_glyphs": cjk_glyphs,
                "elements": len(nodes["nodeIds"])}
    finally:
        page.evaluate("() => document.querySelectorAll('[data-orw-cjk]')"
                      ".forEach(e => e.removeAttribute('data-orw-cjk'))")
        cdp.detach()


# --- Pictures for the READMEs ---------------------------------------------------------------------

PICTURE_WIDTH = 980  # CSS px of the page while a picture is taken: prose lines a reader can follow

_PROSE_AND_WIDGET_JS = """(sel) => {
  const root = document.querySelector(sel);
  // Cells in document order (Voila wraps each in a <div> of its own: not siblings there).
  const cells = Array.from(document.querySelectorAll('.jp-Cell'));
  let i = cells.indexOf(root.closest('.jp-Cell')) - 1;
  while (i >= 0 && !cells[i].classList.contains('jp-MarkdownCell')) i--;
  const prose = i >= 0 ? cells[i] : null;
  const paragraphs = prose ? prose.querySelectorAll('.jp-RenderedMarkdown > p') : [];
  const first = paragraphs.length ? paragraphs[paragraphs.length - 1] : root;
  root.scrollIntoView({block: 'end'});  // the prose above it then stays clear of any toolbar
  const a = first.getBoundingClientRect(), b = root.getBoundingClientRect();
  const plot = root.querySelector('.js-plotly-plot .main-svg');
  const p = plot ? plot.getBoundingClientRect() : b;
  return {x: Math.min(a.left, b.left), y: a.top, right: Math.max(a.right, p.right),
          bottom: Math.max(b.bottom, p.bottom), plotFits: p.right <= b.right + 1};
}"""


def picture_of_widget_with_prose(page: Any, root_selector: str, name: str,
                                 width: int | None = PICTURE_WIDTH) -> Path:
    """``test-artifacts/<name>.png``: the first ``root_selector`` and the paragraph of prose
    right above its cell, with the page ``width`` px wide (``None``: as it is; the page's own
    width comes back after). JupyterLab's side bar leaves its notebook too narrow at
    :data:`PICTURE_WIDTH` for the widgets: give it ``None``."""
    before = page.viewport_size
    width = width or before["width"]
    page.set_viewport_size({"width": width, "height": before["height"]})
    try:
        page.locator(root_selector).first.scroll_into_view_if_needed()
        # plotly redraws a chart for the new width when the window resizes: wait for that.
        page.wait_for_function(f"() => ({_PROSE_AND_WIDGET_JS})({json.dumps(root_selector)})"
                               ".plotFits", timeout=REACT_MS)
        box = page.evaluate(_PROSE_AND_WIDGET_JS, root_selector)
        margin = 12
        x, y = max(0, box["x"] - margin), max(0, box["y"] - margin)
        clip = {"x": x, "y": y, "width": min(width, box["right"] + margin) - x,
                "height": min(before["height"], box["bottom"] + margin) - y}
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), clip=clip, animations="disabled")
        return path
    finally:
        page.set_viewport_size(before)
