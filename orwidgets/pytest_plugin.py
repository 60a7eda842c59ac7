"""The pytest plugin: an OpenRouter emulator for your tests (entry point ``pytest11``: ``orwidgets``).

Installing orwidgets is enough; ``pytest -p no:orwidgets`` turns it off. Loading it costs nothing:
the emulator (Starlette, uvicorn) is imported and started only when a test first asks for a fixture.

Fixtures
--------
``openrouter_emulator``
    One emulator on 127.0.0.1 for the whole session, put back to its start state before every test
    (accounts and their counters, clock, faults, policy, latency 0). An
    :class:`~orwidgets.emulator.testing.OpenRouterEmulator`: ``api_base``, ``base_url``, ``keys``, ``admin_token``, ``clock``
    (``now()``, ``advance(seconds)``, ``set(unix_s)``, ``freeze()``), ``journal`` (every answer
    of the test, oldest first), ``verdict()``,
    ``assert_resilient()``, and a few helpers.
``openrouter_env``
    The same emulator, plus ``OPENAI_BASE_URL``, ``OPENAI_API_KEY``, ``OPENROUTER_API_KEY``,
    ``OPENROUTER_API_BASE`` and ``OPENROUTER_BASE_URL`` pointing at it with the ``free`` demo key
    for the test (restored afterwards): ``openai.OpenAI()`` with no arguments talks to it.

Marker
------
``@pytest.mark.openrouter(policy=..., latency_ms=..., faults=[...], accounts=[...], now=...,
freeze=...)`` on a
test, a class or a module (``pytestmark``). Each keyword is taken from the closest marker: a
test's own marker wins over its class's, which wins over its module's.

Option
------
``--openrouter-block-real`` (or ``openrouter_block_real = true`` in the ini file): any attempt from
the tests to reach ``openrouter.ai`` or a subdomain fails the test at once, with a message saying
how to point the client at the emulator. Loopback and every other host are untouched.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest

if TYPE_CHECKING:  # pragma: no cover
    from .emulator.testing import OpenRouterEmulator, TestSession

__all__ = ["RealOpenRouterBlocked", "ENV_VARS", "MARKER_KEYWORDS", "MARKER_USAGE"]

#: Environment variables ``openrouter_env`` sets: the base URL ones get ``api_base``
#: (``http://127.0.0.1:PORT/api/v1``), the key ones the ``free`` demo key.
ENV_VARS: dict[str, str] = {
    "OPENAI_BASE_URL": "api_base",
    "OPENAI_API_KEY": "key",
    "OPENROUTER_API_KEY": "key",
    "OPENROUTER_API_BASE": "api_base",
    "OPENROUTER_BASE_URL": "api_base",
}
MARKER_KEYWORDS = ("policy", "latency_ms", "faults", "accounts", "now", "freeze")
MARKER_USAGE = (
    "usage: @pytest.mark.openrouter(policy='2025-04', latency_ms=0, "
    "faults=[{'kind': 'upstream_429', 'every': 2}], "
    "accounts=[{'name': 'rich', 'balance_usd': 50, 'purchased_usd': 50}], "
    "now='2026-01-01T12:00:00Z', freeze=True), keywords only, each optional"
)
_ACCOUNT_FIELDS = frozenset({"name", "balance_usd", "purchased_usd", "management", "label"})
_BLOCKED_DOMAIN = "openrouter.ai"


# --- the marker ---------------------------------------------------------------------------------


class _Settings(NamedTuple):
    policy: str | None
    latency_ms: tuple[float, float]
    faults: list[dict[str, Any]] | None
    accounts: list[dict[str, Any]]
    now: float | None
    freeze: bool


class _MarkerError(ValueError):
    pass


def _settings(item: pytest.Item) -> _Settings:
    """The marker keywords that apply to ``item`` (closest marker first), checked: a bad one
    raises ``ValueError`` with a message that names it."""
    from .emulator.faults import FaultError, FaultSet
    from .emulator.state import DEMO_ACCOUNTS, parse_latency, parse_time
    from .emulator.testing import DEFAULT_TEST_LATENCY_MS
    from .policy import check_number, get_policy

    given: dict[str, Any] = {}
    for marker in item.iter_markers("openrouter"):
        if marker.args:
            raise _MarkerError(f"positional arguments are not accepted, got {marker.args!r}")
        for name, value in marker.kwargs.items():
            if name not in MARKER_KEYWORDS:
                raise _MarkerError(f"unknown keyword {name!r}; accepted: {', '.join(MARKER_KEYWORDS)}")
            given.setdefault(name, value)
    try:
        policy = given.get("policy")
        if policy is not None:
            policy = get_policy(policy).id
        latency = parse_latency(given.get("latency_ms", DEFAULT_TEST_LATENCY_MS))
        faults = given.get("faults")
        if faults is not None:
            if not isinstance(faults, (list, tuple)):
                raise _MarkerError(f"faults: expected a list of fault rules, got {faults!r}")
            faults = [dict(rule) if isinstance(rule, dict) else rule for rule in faults]
            FaultSet().configure({"rules": faults})  # checks them; the emulator's set gets them later
        accounts = given.get("accounts") or []
        if not isinstance(accounts, (list, tuple)):
            raise _MarkerError(f"accounts: expected a list of account objects, got {accounts!r}")
        names = {demo.name for demo in DEMO_ACCOUNTS}
        for i, spec in enumerate(accounts):
            if not isinstance(spec, dict):
                raise _MarkerError(f"accounts[{i}]: expected an object such as {{'name': 'rich', "
                                   "'balance_usd': 50}")
            unknown = sorted(set(spec) - _ACCOUNT_FIELDS)
            if unknown:
                raise _MarkerError(f"accounts[{i}]: unknown field {unknown[0]!r}; accepted: "
                                   f"{', '.join(sorted(_ACCOUNT_FIELDS))}")
            name = spec.get("name")
            if not isinstance(name, str) or not name:
                raise _MarkerError(f"accounts[{i}].name: expected a non-empty string (the name "
                                   "of its key in openrouter_emulator.keys)")
            if name in names:
                raise _MarkerError(f"accounts[{i}].name: {name!r} is taken (demo accounts and "
                                   "names must be unique)")
            names.add(name)
        now = given.get("now")
        if now is not None:
            now = parse_time(now) if isinstance(now, str) else check_number(now, "now")
        freeze = given.get("freeze", False)
        if not isinstance(freeze, bool):
            raise _MarkerError(f"freeze: expected True or False, got {freeze!r}")
    except FaultError as exc:
        raise _MarkerError(f"faults: {exc}") from None
    return _Settings(policy, latency, faults, [dict(a) for a in accounts], now, freeze)


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _orwidgets_emulator_session() -> Iterator[TestSession]:
    from .emulator.testing import TestSession

    session = TestSession()
    yield session
    session.stop()


@pytest.fixture
def openrouter_emulator(request: pytest.FixtureRequest,
                        _orwidgets_emulator_session: TestSession) -> OpenRouterEmulator:
    """An OpenRouter emulator on 127.0.0.1, in its start state for this test.

    Configure it with ``@pytest.mark.openrouter(policy=..., latency_ms=..., faults=[...],
    accounts=[...], now=..., freeze=...)``. See :class:`orwidgets.emulator.testing.OpenRouterEmulator`.
    """
    item = request.node
    try:
        return _orwidgets_emulator_session.fresh(**_settings(item)._asdict())
    except ValueError as exc:  # _MarkerError, or an account the emulator refused
        problem = str(exc)
    # Outside the except block: the report shows this message alone, no chained traceback.
    pytest.fail(f"@pytest.mark.openrouter on {item.nodeid}: {problem}\n{MARKER_USAGE}", pytrace=False)


@pytest.fixture
def openrouter_env(openrouter_emulator: OpenRouterEmulator) -> Iterator[OpenRouterEmulator]:
    """The emulator, with the environment variables clients read pointing at it (free key)."""
    values = {"api_base": openrouter_emulator.api_base, "key": openrouter_emulator.keys["free"]}
    with pytest.MonkeyPatch.context() as patch:
        for name, what in ENV_VARS.items():
            patch.setenv(name, values[what])
        yield openrouter_emulator


# --- the guard against the real API -------------------------------------------------------------


class RealOpenRouterBlocked(pytest.fail.Exception):  # type: ignore[name-defined,misc]
    """A test tried to reach openrouter.ai while ``--openrouter-block-real`` is on.

    It derives from pytest's own failure exception (a ``BaseException``), so no client's
    ``except Exception`` retry loop swallows it: the test fails at once.
    """


def _blocked_host(host: object) -> str | None:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return None
    name = host.strip().rstrip(".").lower()
    if name == _BLOCKED_DOMAIN or name.endswith("." + _BLOCKED_DOMAIN):
        return host
    return None


def _refuse(host: str, how: str) -> RealOpenRouterBlocked:
    return RealOpenRouterBlocked(
        f"orwidgets --openrouter-block-real: this test tried to reach the real OpenRouter API "
        f"({host}, through {how}). Point the client at the emulator instead: the openrouter_env "
        "fixture sets OPENAI_BASE_URL, OPENROUTER_API_BASE and the keys; "
        "openrouter_emulator.api_base is the base URL."
    )


class _Guard:
    """Patches name resolution (every client goes through it) and the HTTP clients' transports
    (which see the host even when a proxy would do the resolving); undoes it all at the end."""

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []

    def _patch(self, owner: Any, name: str, make: Callable[[Any], Any]) -> None:
        original = getattr(owner, name)
        setattr(owner, name, make(original))
        self._undo.append(lambda: setattr(owner, name, original))

    def install(self) -> None:
        def resolver(original: Callable[..., Any], how: str) -> Callable[..., Any]:
            def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
                if _blocked_host(host):
                    raise _refuse(str(host), how)
                return original(host, *args, **kwargs)
            return guarded

        for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex"):
            self._patch(socket, name, lambda original, n=name: resolver(original, f"socket.{n}"))

        def connect(original: Callable[..., Any]) -> Callable[..., Any]:
            def guarded(conn: Any, *args: Any, **kwargs: Any) -> Any:
                host = getattr(conn, "_tunnel_host", None) or conn.host
                if _blocked_host(host):
                    raise _refuse(str(host), "http.client")
                return original(conn, *args, **kwargs)
            return guarded

        import http.client

        self._patch(http.client.HTTPConnection, "connect", connect)
        import importlib.util

        for module_name in ("httpx", "httpx2"):  # httpx2: the openai SDK's fork of httpx
            if importlib.util.find_spec(module_name) is None:
                continue
            module = importlib.import_module(module_name)
            self._patch(module.HTTPTransport, "handle_request", _sync_transport(module_name))
            self._patch(module.AsyncHTTPTransport, "handle_async_request",
                        _async_transport(module_name))
        if importlib.util.find_spec("requests") is not None:
            import requests.adapters

            def send(original: Callable[..., Any]) -> Callable[..., Any]:
                def guarded(adapter: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
                    from urllib.parse import urlsplit

                    host = urlsplit(request.url).hostname
                    if _blocked_host(host):
                        raise _refuse(str(host), "requests")
                    return original(adapter, request, *args, **kwargs)
                return guarded

            self._patch(requests.adapters.HTTPAdapter, "send", send)

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()


def _sync_transport(how: str) -> Callable[[Any], Any]:
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(transport: Any, request: Any) -> Any:
            if _blocked_host(request.url.host):
                raise _refuse(request.url.host, how)
            return original(transport, request)
        return guarded
    return make


def _async_transport(how: str) -> Callable[[Any], Any]:
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        async def guarded(transport: Any, request: Any) -> Any:
            if _blocked_host(request.url.host):
                raise _refuse(request.url.host, how)
            return await original(transport, request)
        return guarded
    return make


_GUARD_KEY = pytest.StashKey[_Guard]()


# --- hooks --------------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("orwidgets", "orwidgets OpenRouter emulator")
    group.addoption(
        "--openrouter-block-real", action="store_true", default=None,
        help="fail any test that tries to reach openrouter.ai (the emulator and every other "
             "host stay reachable)",
    )
    parser.addini("openrouter_block_real", type="bool", default=False,
                  help="as --openrouter-block-real")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "openrouter(policy=None, latency_ms=0, faults=None, accounts=None, now=None, freeze=False): "
        "configure the orwidgets OpenRouter emulator (openrouter_emulator / openrouter_env) for "
        "a test",
    )
    block = config.getoption("openrouter_block_real")
    if block is None:
        block = config.getini("openrouter_block_real")
    if block:
        guard = _Guard()
        guard.install()
        config.stash[_GUARD_KEY] = guard


def pytest_unconfigure(config: pytest.Config) -> None:
    guard = config.stash.get(_GUARD_KEY, None)
    if guard is not None:
        guard.uninstall()
        del config.stash[_GUARD_KEY]


def pytest_report_header(config: pytest.Config) -> str | None:
    if _GUARD_KEY in config.stash:
        return "orwidgets: --openrouter-block-real is on (openrouter.ai is unreachable)"
    return None
