"""Serving the app with uvicorn: in a background thread (notebooks, tests) or in the foreground (CLI).

:func:`start` is what a notebook calls: it serves the emulator from a daemon thread with its own
event loop on a free loopback port, so the kernel's own loop is untouched, and it returns the same
running server when called again in the same kernel.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
import warnings
from typing import Any

import uvicorn
from starlette.applications import Starlette

from .._secret import mask
from ..journal import Journal
from ..policy import InFlightParams, PolicyVersion
from ..verdict import Finding, assert_resilient, verdict
from .app import create_app
from .state import DEFAULT_LATENCY_MS, Emulator, JournalSpec, LatencySpec, _check_admin_token

__all__ = ["BackgroundServer", "EmulatorHandle", "start", "stop", "bind_socket", "is_loopback",
           "uvicorn_config", "PublicHostWarning"]

LOOPBACK = "127.0.0.1"


class PublicHostWarning(UserWarning):
    """The emulator is listening beyond loopback: its keys and admin API are reachable."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def public_host_message(host: str) -> str:
    return (
        f"the emulator listens on {host!r}, not only on loopback: anyone who can reach this "
        "machine can use its demo keys and, with the admin token, its admin API"
    )


def bind_socket(host: str = LOOPBACK, port: int = 0) -> socket.socket:
    """A listening TCP socket (``port=0``: a free port chosen by the OS)."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port: expected a whole number 0-65535, got {port!r}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only when it sees it,
    # and without TCP_NODELAY every answer (headers, then body) stalls ~40 ms on delayed ACKs.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def _http_impl() -> str:
    try:
        import httptools  # noqa: F401
    except ImportError:
        return "h11"
    return "httptools"


def uvicorn_config(app: Any, **overrides: Any) -> uvicorn.Config:
    """The server settings the emulator (and its benchmark baseline) run with."""
    settings: dict[str, Any] = dict(
        http=_http_impl(),
        loop="asyncio",
        lifespan="off",
        log_level="warning",
        log_config=None,  # leave the host's (notebook's) logging configuration alone
        access_log=False,  # an access log would write keys' traffic; and it is slow
        timeout_graceful_shutdown=1,
        backlog=2048,
    )
    settings.update(overrides)
    return uvicorn.Config(app, **settings)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class BackgroundServer:
    """uvicorn serving ``app`` from a daemon thread (its own event loop)."""

    def __init__(self, app: Any, host: str = LOOPBACK, port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        return f"http://{_url_host(self.host)}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._server is not None \
            and self._server.started and not self._server.should_exit

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        if not is_loopback(self.host):
            warnings.warn(public_host_message(self.host), PublicHostWarning, stacklevel=3)
        sock = bind_socket(self.host, self.port)
        self.port = sock.getsockname()[1]
        self._server = uvicorn.Server(uvicorn_config(self.app))
        ready = threading.Event()

        def run() -> None:
            try:
                asyncio.run(self._server.serve(sockets=[sock]))  # type: ignore[union-attr]
            except BaseException as exc:  # pragma: no cover - reported to the caller below
                self._error = exc
            finally:
                sock.close()
                ready.set()

        self._thread = threading.Thread(target=run, name=f"orwidgets-emulator-{self.port}", daemon=True)
        self._thread.start()
        step = 0.005
        waited = 0.0
        while not self._server.started and self._thread.is_alive() and waited < timeout:
            ready.wait(step)
            waited += step
        if not self._server.started:
            self.stop()
            raise RuntimeError(f"emulator server did not start: {self._error!r}")
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Shut down (open requests get ``timeout_graceful_shutdown`` to finish) and join."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout)
        if thread.is_alive():  # pragma: no cover - a stuck request
            server.force_exit = True
            thread.join(timeout)

    def __repr__(self) -> str:
        return f"BackgroundServer({self.base_url!r}, running={self.running})"


class EmulatorHandle:
    """A running emulator: where it is, its keys, and how to stop it.

    Attributes
    ----------
    base_url:
        ``http://127.0.0.1:PORT``.
    api_base:
        ``base_url + "/api/v1"``: the ``base_url`` to give the ``openai`` SDK or any
        OpenRouter client.
    admin_token:
        The ``X-Admin-Token`` value for the admin API.
    keys:
        Demo name -> API key (``free``, ``topped_up``, ``five``, ``negative``, ``management``,
        ``small``, ``team``, and ``member``, a limited key of ``team``). The repr masks them.
    emulator:
        The :class:`~orwidgets.emulator.state.Emulator` (engine, clock, faults) for in-process use.
    app:
        The Starlette app.
    """

    def __init__(self, server: BackgroundServer, app: Starlette) -> None:
        self._server = server
        self.app = app
        self.emulator: Emulator = app.state.emulator

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def api_base(self) -> str:
        return self.base_url + "/api/v1"

    @property
    def admin_token(self) -> str:
        return self.emulator.admin_token

    @property
    def keys(self) -> dict[str, str]:
        return dict(self.emulator.demo_keys)

    @property
    def running(self) -> bool:
        return self._server.running

    @property
    def journal(self) -> Journal:
        """Every answer the emulator gave since the last reset, oldest first (a sequence of
        :class:`~orwidgets.journal.Entry`); the admin API's own requests are not in it."""
        journal = self.emulator.journal
        if journal is None:
            raise RuntimeError(
                "orwidgets: this emulator was started with journal=False, so journal, verdict() "
                "and assert_resilient() have nothing to judge; start it without that"
            )
        return journal

    def verdict(self) -> list[Finding]:
        """The limits the clients ignored, from the journal (:func:`orwidgets.verdict.verdict`)."""
        return verdict(self.journal.entries())

    def assert_resilient(self) -> None:
        """Raise ``AssertionError`` listing the findings, if the clients ignored a limit."""
        assert_resilient(self.journal.entries())

    def stop(self) -> None:
        """Stop the server (and close its journal file); a later :func:`start` serves a fresh
        emulator."""
        global _RUNNING
        with _LOCK:
            self._server.stop()
            self.emulator.close()
            if _RUNNING is self:
                _RUNNING = None

    def __enter__(self) -> EmulatorHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        keys = ", ".join(f"{name}={mask(key)}" for name, key in self.emulator.demo_keys.items())
        return (
            f"EmulatorHandle(base_url={self.base_url!r}, policy={self.emulator.policy.id!r}, "
            f"running={self.running}, keys={{{keys}}}, admin_token='<hidden>')"
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td><code>{name}</code></td><td><code>{mask(key)}</code></td></tr>"
            for name, key in self.emulator.demo_keys.items()
        )
        state = "running" if self.running else "stopped"
        return (
            f"<div><b>orwidgets emulator</b> ({state}) at <code>{self.api_base}</code>, "
            f"policy <code>{self.emulator.policy.id}</code>"
            f"<table><tr><th>account</th><th>key</th></tr>{rows}</table></div>"
        )


_LOCK = threading.RLock()
_RUNNING: EmulatorHandle | None = None


def start(
    policy: str | PolicyVersion | None = None,
    latency_ms: LatencySpec = None,
    admin_token: str | None = None,
    port: int = 0,
    *,
    host: str = LOOPBACK,
    accounts: Any = None,
    seed: int = 0,
    in_flight: InFlightParams | dict[str, Any] | None = None,
    journal: JournalSpec = None,
) -> EmulatorHandle:
    """Serve the emulator from a background thread (the notebook way); idempotent per process.

    Parameters
    ----------
    policy:
        Policy version id (default ``2025-04``). On a running emulator, switches it (and makes it
        the version ``reset`` restores).
    latency_ms:
        Chat latency (ms or ``(low, high)``); ``None`` keeps the current one (20-50 ms at first).
    admin_token:
        ``X-Admin-Token`` value (random when omitted); on a running emulator, replaces it.
    port:
        TCP port; 0 (default) picks a free one. Ignored when the emulator is already running.
    host:
        Interface to listen on: loopback unless you say otherwise (a warning says what that means).
    accounts, seed:
        As for :func:`~orwidgets.emulator.create_app` (first start only).
    in_flight:
        The in-flight budget's numbers, as for :func:`~orwidgets.emulator.create_app`. On a
        running emulator, changes the given ones (and makes them what ``reset`` restores).
    journal:
        Where the journal of answers goes besides memory: a path (replaced if it exists) or a
        text file, written as JSON lines, one per answer, flushed at once; ``False``: no journal.
        On a running emulator, a path or file is where entries go from now on (those in memory
        stay). ``handle.journal``, ``handle.verdict()`` read it.

    Returns
    -------
    EmulatorHandle
        The same handle on every call while the server runs.
    """
    global _RUNNING
    with _LOCK:
        handle = _RUNNING
        if handle is not None and handle.running:
            emu = handle.emulator
            if policy is not None:
                emu.set_policy(policy, as_default=True)
            if latency_ms is not None:
                emu.set_latency(latency_ms)
            if admin_token is not None:
                emu.admin_token = _check_admin_token(admin_token)
            if in_flight is not None:
                emu.set_in_flight(in_flight, as_default=True)
            if journal is not None:
                emu.set_journal(journal)
            return handle
        app = create_app(
            policy=policy,
            latency_ms=DEFAULT_LATENCY_MS if latency_ms is None else latency_ms,
            admin_token=admin_token,
            accounts=accounts,
            seed=seed,
            in_flight=in_flight,
            journal=journal,
        )
        try:
            server = BackgroundServer(app, host, port).start()
        except BaseException:
            app.state.emulator.close()
            raise
        _RUNNING = EmulatorHandle(server, app)
        return _RUNNING


def stop() -> None:
    """Stop the emulator :func:`start` serves, if any."""
    with _LOCK:
        if _RUNNING is not None:
            _RUNNING.stop()
