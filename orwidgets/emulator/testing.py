"""The emulator as the pytest plugin hands it to a test (:mod:`orwidgets.pytest_plugin`).

One server per test session, put back to its start state before every test. Imported only when a
test first asks for ``openrouter_emulator`` or ``openrouter_env``, so loading the plugin stays cheap.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from .app import create_app
from .faults import FaultRule
from .server import BackgroundServer, EmulatorHandle
from .state import EmulatorClock, LatencySpec

__all__ = ["OpenRouterEmulator", "TestSession", "DEFAULT_TEST_LATENCY_MS"]

#: [inv] Tests get their answers at once; a test that wants the notebooks' 20-50 ms says so.
DEFAULT_TEST_LATENCY_MS = 0


class OpenRouterEmulator(EmulatorHandle):
    """The running emulator, for one test (what ``openrouter_emulator`` returns).

    Everything :class:`~orwidgets.emulator.server.EmulatorHandle` has (``base_url``,
    ``api_base``, ``admin_token``, ``emulator``, ``journal``, ``verdict()``,
    ``assert_resilient()``), plus:

    Attributes
    ----------
    keys:
        Account name -> API key: the demo accounts (``free``, ``topped_up``, ``five``,
        ``negative``, ``management``) and the accounts of the test's marker. The repr masks them.
    clock:
        The emulator's clock: ``now()`` (Unix seconds), ``advance(seconds)``, ``set(unix_s)``,
        ``freeze()`` (it then moves only when told to; the marker's ``freeze=True``). Drive a
        retry helper with it to wait without waiting:
        ``with_retries(call, clock=emu.clock.now, sleep=emu.clock.advance)``.
    policy:
        The id of the policy version in force.
    """

    def __init__(self, server: BackgroundServer, keys: Mapping[str, str]) -> None:
        super().__init__(server, server.app)
        self._keys = dict(keys)

    @property
    def keys(self) -> dict[str, str]:  # type: ignore[override]
        return self._keys

    @property
    def clock(self) -> EmulatorClock:
        return self.emulator.clock

    @property
    def policy(self) -> str:
        return self.emulator.policy.id

    def set_faults(self, rules: list[dict[str, Any]]) -> list[FaultRule]:
        """Replace the fault rules (as ``POST /_emulator/faults``); ``[]`` clears them."""
        return self.emulator.faults.configure({"rules": rules})

    def set_policy(self, policy: str) -> str:
        """Switch the policy version for the rest of the test; returns its dated id."""
        return self.emulator.set_policy(policy).id

    def add_account(self, name: str, *, balance_usd: float = 0.0, purchased_usd: float = 0.0,
                    management: bool = False, label: str = "") -> str:
        """A new account with one key, also in :attr:`keys` under ``name``; returns the key."""
        if not isinstance(name, str) or not name:
            raise ValueError("name: expected a non-empty string")
        if name in self._keys:
            raise ValueError(f"name: an account named {name!r} exists already")
        _, key = self.emulator.create_account(balance_usd, purchased_usd, management,
                                              label=label or name, name=name)
        self._keys[name] = key
        return key

    def stop(self) -> None:
        raise RuntimeError("the test session's emulator serves every test; it stops by itself "
                           "when the session ends")

    def __repr__(self) -> str:
        return super().__repr__().replace("EmulatorHandle(", "OpenRouterEmulator(", 1)


class TestSession:
    """The session's server, and the start state every test gets."""

    __test__ = False  # not a test class, whatever pytest's name pattern says

    def __init__(self) -> None:
        app = create_app(latency_ms=DEFAULT_TEST_LATENCY_MS, admin_token=secrets.token_urlsafe(24))
        self.emulator = app.state.emulator
        self._sleep = self.emulator.sleep
        self.server = BackgroundServer(app).start()

    def fresh(
        self,
        *,
        policy: str | None = None,
        latency_ms: LatencySpec = DEFAULT_TEST_LATENCY_MS,
        faults: list[dict[str, Any]] | None = None,
        accounts: list[dict[str, Any]] = (),  # type: ignore[assignment]
        now: float | None = None,
        freeze: bool = False,
    ) -> OpenRouterEmulator:
        """Back to the start state, then the test's settings; raises ``ValueError`` on a bad one."""
        emu = self.emulator
        # demo accounts (same keys) and counters, real time, no faults, start policy, empty journal
        emu.reset()
        emu.sleep = self._sleep
        emu.set_latency(latency_ms)
        if policy is not None:
            emu.set_policy(policy)
        if freeze:  # first: then the clock stands exactly at `now`
            emu.clock.freeze()
        if now is not None:
            emu.clock.set(now)
        if faults is not None:
            emu.faults.configure({"rules": faults})
        handle = OpenRouterEmulator(self.server, emu.demo_keys)
        for i, spec in enumerate(accounts):
            fields = {k: v for k, v in spec.items() if k != "name"}
            try:
                handle.add_account(spec["name"], **fields)
            except ValueError as exc:
                raise ValueError(f"accounts[{i}]: {exc}") from None
        return handle

    def stop(self) -> None:
        self.server.stop()
        self.emulator.close()
