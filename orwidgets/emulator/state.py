"""The emulator's state: its clock, the demo accounts, latency, faults, and the engine under them."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import os
import random
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Union

from ..engine import Account, ApiKey, Engine, new_key
from ..journal import Journal
from ..policy import (
    IN_FLIGHT_DEFAULTS,
    TOPUP_THRESHOLD_USD,
    InFlightParams,
    PolicyVersion,
    check_number,
    get_policy,
)
from .faults import FaultSet

__all__ = [
    "DemoAccount",
    "DEMO_ACCOUNTS",
    "DemoKey",
    "DEMO_KEYS",
    "EmulatorClock",
    "Emulator",
    "DEFAULT_LATENCY_MS",
    "parse_latency",
    "parse_time",
    "iso_z",
]

#: Default answer latency of a chat completion, a uniform draw in this range (milliseconds): small,
#: but long enough that concurrent calls really overlap.
DEFAULT_LATENCY_MS: tuple[float, float] = (20.0, 50.0)
#: Clock moves are bounded so that times stay printable dates (years 1970 to 9999).
_MIN_TIME, _MAX_TIME = 0.0, 253_402_300_799.0

LatencySpec = Union[None, float, int, str, tuple, list]
#: What ``journal=`` takes: ``None`` (in memory), a path or text file (in memory and written there
#: as JSON lines), a :class:`~orwidgets.journal.Journal`, or ``False`` (no journal at all).
JournalSpec = Union[None, bool, str, "os.PathLike[str]", Any, Journal]


@dataclass(frozen=True)
class DemoAccount:
    """An account the emulator creates at start (documented in the README)."""

    name: str
    balance_usd: float
    purchased_usd: float
    management: bool
    description: str

    @property
    def account_id(self) -> str:
        return f"acct_{self.name}"


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("free", 0.0, 0.0, False,
                "never topped up: the low free daily tier; paid models answer 402"),
    DemoAccount("topped_up", TOPUP_THRESHOLD_USD, TOPUP_THRESHOLD_USD, False,
                "bought the threshold once: the high free daily tier"),
    DemoAccount("five", 5.0, 5.0, False,
                "balance 5: below the threshold, and 5 paid requests per second under 2025-04"),
    DemoAccount("negative", -0.5, 0.0, False,
                "balance below zero: 402 on every model, free ones included"),
    DemoAccount("management", TOPUP_THRESHOLD_USD, TOPUP_THRESHOLD_USD, True,
                "a management key: may read GET /api/v1/credits and manage keys (/api/v1/keys)"),
    DemoAccount("small", 0.02, TOPUP_THRESHOLD_USD, False,
                "balance $0.02 left of $10 bought: under 2026-08 an in-flight budget of $0.01, so "
                "a fan-out of paid calls gets 402 in_flight_budget_exhausted, and one call larger "
                "than the budget 402 weight_exceeds_budget"),
    DemoAccount("team", 20.0, 20.0, True,
                "a team's management key; its 'member' key has a $1 daily limit, spent today "
                "(the account's balance is $19 after it)"),
)


@dataclass(frozen=True)
class DemoKey:
    """A second key on a demo account, with its own limit (documented in the README)."""

    name: str
    account: str
    limit_usd: float | None
    limit_reset: str | None
    spent_today_usd: float
    description: str


DEMO_KEYS: tuple[DemoKey, ...] = (
    DemoKey("member", "team", 1.0, "daily", 1.0,
            "a key of 'team' with a $1 daily limit, all spent today: 403 Key limit exceeded "
            "until 00:00 UTC (or until the team raises it through PATCH /api/v1/keys/{hash})"),
)


def iso_z(unix_s: float) -> str:
    """``2026-01-01T23:59:55.000Z``."""
    text = datetime.fromtimestamp(unix_s, timezone.utc).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def parse_time(value: object, name: str = "now") -> float:
    """An ISO 8601 time (``Z`` or an offset; naive means UTC) as Unix seconds."""
    if not isinstance(value, str):
        raise ValueError(f"{name}: expected an ISO 8601 time such as '2026-01-01T23:59:55Z'")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{name}: expected an ISO 8601 time such as '2026-01-01T23:59:55Z', got {value!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    unix = moment.timestamp()
    if not _MIN_TIME <= unix <= _MAX_TIME:
        raise ValueError(f"{name}: must be between 1970 and 9999, got {value!r}")
    return unix


class EmulatorClock:
    """Real time plus an adjustable offset (``base`` is injectable for tests); it can also stand
    still (:meth:`freeze`) and then moves only when told to.

    Parameters
    ----------
    base:
        Callable returning Unix seconds; :func:`time.time` by default. Tests pass a fake so that
        no test waits for the wall clock.
    """

    def __init__(self, base: Callable[[], float] | None = None) -> None:
        self._base = base or time.time
        self.offset = 0.0
        self._frozen: float | None = None
        self._lock = threading.Lock()

    def now(self) -> float:
        """Emulator time, Unix seconds."""
        frozen = self._frozen
        return self._base() + self.offset if frozen is None else frozen

    @property
    def frozen(self) -> bool:
        """Whether the clock stands still (it moves by :meth:`advance` and :meth:`set` only)."""
        return self._frozen is not None

    def freeze(self) -> float:
        """Stop the clock where it is: from now on only :meth:`advance` and :meth:`set` move it
        (tests that count calls within one second or minute then never cross a boundary by
        accident). Returns the time it stands at."""
        with self._lock:
            if self._frozen is None:
                self._frozen = self._base() + self.offset
            return self._frozen

    def unfreeze(self) -> float:
        """Let time run again from where the clock stands."""
        with self._lock:
            if self._frozen is not None:
                self.offset = self._frozen - self._base()
                self._frozen = None
        return self.now()

    def advance(self, seconds: float) -> float:
        """Move the clock by ``seconds`` (negative goes back); returns the new time."""
        step = check_number(seconds, "advance_seconds")
        with self._lock:
            target = self.now() + step
            if not _MIN_TIME <= target <= _MAX_TIME:
                raise ValueError(f"advance_seconds: the clock would leave the years 1970-9999 ({seconds!r})")
            if self._frozen is not None:
                self._frozen = target
            else:
                self.offset += step
        return self.now()

    def set(self, unix_s: float) -> float:
        """Jump to ``unix_s`` (Unix seconds); time keeps running from there (unless frozen)."""
        target = check_number(unix_s, "now")
        if not _MIN_TIME <= target <= _MAX_TIME:
            raise ValueError(f"now: must be between 1970 and 9999, got {unix_s!r}")
        with self._lock:
            if self._frozen is not None:
                self._frozen = float(target)
            else:
                self.offset = target - self._base()
        return self.now()

    def reset(self) -> None:
        """Back to real time (the base clock), running."""
        with self._lock:
            self.offset = 0.0
            self._frozen = None

    def to_json(self) -> dict[str, Any]:
        now = self.now()
        offset = self.offset if self._frozen is None else now - self._base()
        return {"now": iso_z(now), "now_ms": int(math.floor(now * 1000)), "offset_seconds": offset}

    def __repr__(self) -> str:
        frozen = ", frozen" if self.frozen else ""
        return f"EmulatorClock(now={iso_z(self.now())!r}, offset_seconds={self.offset!r}{frozen})"


#: ``"30"``, ``"20-50"`` or ``"20,50"``: one or two numbers, each with an optional sign (so that
#: ``"-5"`` reads as minus five and is refused, not as "5" after a dash).
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE]\+?\d+)?"
_LATENCY_TEXT = re.compile(rf"^\s*({_NUMBER})\s*(?:[-,]\s*({_NUMBER})\s*)?$")


def parse_latency(value: LatencySpec) -> tuple[float, float]:
    """``None`` (default range), a number of ms, ``(low, high)``, or a string ``"20-50"``/``"30"``.

    Negative values are refused (``ValueError``), also when written as text: ``"-5"`` is minus
    five milliseconds, not 5."""
    if value is None:
        return DEFAULT_LATENCY_MS
    original = value
    if isinstance(value, str):
        match = _LATENCY_TEXT.match(value)
        if match is None:
            raise ValueError(f"latency_ms: expected '30' or '20-50' (milliseconds, 0 or more), "
                             f"got {value!r}")
        value = tuple(float(g) for g in match.groups() if g is not None)
    if isinstance(value, (tuple, list)):
        if len(value) == 1:
            value = (value[0], value[0])
        if len(value) != 2:
            raise ValueError(f"latency_ms: expected a number or (low, high), got {value!r}")
        low, high = (check_number(v, "latency_ms") for v in value)
    else:
        low = high = check_number(value, "latency_ms")
    if low < 0 or high < 0:
        raise ValueError(f"latency_ms: must be 0 or more milliseconds, got {original!r}")
    if high < low or high > 600_000:
        raise ValueError(f"latency_ms: need 0 <= low <= high <= 600000, got {original!r}")
    return (low, high)


def _load_specs(accounts: object) -> list[dict[str, Any]]:
    """Extra accounts: a list of dicts, or a path to a JSON file holding one (or ``{"accounts": [...]}``)."""
    if accounts is None:
        return []
    if isinstance(accounts, (str, os.PathLike)):
        path = Path(accounts)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValueError(f"accounts: cannot read {path}: {exc.strerror}") from None
        except ValueError as exc:
            raise ValueError(f"accounts: {path} is not valid JSON: {exc}") from None
        if isinstance(data, dict) and "accounts" in data:
            data = data["accounts"]
        accounts = data
    if not isinstance(accounts, Iterable) or isinstance(accounts, (dict, bytes)):
        raise ValueError("accounts: expected a list of account objects")
    allowed = {"name", "balance_usd", "purchased_usd", "management", "label", "account_id", "key"}
    specs = []
    for i, spec in enumerate(accounts):
        if not isinstance(spec, dict):
            raise ValueError(f"accounts[{i}]: expected an object")
        unknown = sorted(set(spec) - allowed)
        if unknown:
            raise ValueError(f"accounts[{i}]: unknown field {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")
        specs.append(dict(spec))
    return specs


class Emulator:
    """Everything one emulator instance knows; ``app.state.emulator`` of :func:`create_app`.

    Attributes
    ----------
    engine:
        The :class:`~orwidgets.engine.Engine` deciding every request. :meth:`reset` replaces it,
        so read it from here each time rather than keeping a reference.
    clock:
        The :class:`EmulatorClock`.
    admin_token:
        The value the ``X-Admin-Token`` header must carry.
    demo_keys:
        Demo account name -> key (plus named accounts from ``accounts``).
    faults:
        The :class:`~orwidgets.emulator.faults.FaultSet`.
    latency_ms:
        ``(low, high)`` range of the chat answer latency.
    in_flight:
        The in-flight budget's numbers the engine uses now (:meth:`set_in_flight` changes them;
        ``start_in_flight`` is what :meth:`reset` restores).
    sleep:
        The coroutine function used for latency, slow answers and hangs (``asyncio.sleep``);
        tests replace it to record delays instead of waiting.
    journal:
        The :class:`~orwidgets.journal.Journal` of every answer (``None`` when started with
        ``journal=False``); :meth:`reset` clears it, :meth:`set_journal` changes it.
    """

    def __init__(
        self,
        policy: str | PolicyVersion | None = None,
        latency_ms: LatencySpec = DEFAULT_LATENCY_MS,
        admin_token: str | None = None,
        clock: EmulatorClock | Callable[[], float] | None = None,
        accounts: object = None,
        seed: int = 0,
        in_flight: InFlightParams | dict[str, Any] | None = None,
        journal: JournalSpec = None,
    ) -> None:
        self.start_policy = get_policy(policy).id
        self.start_in_flight = IN_FLIGHT_DEFAULTS.updated(in_flight or {})
        if isinstance(clock, EmulatorClock):
            self.clock = clock
        elif clock is None or callable(clock):
            self.clock = EmulatorClock(clock)
        else:
            raise ValueError("clock: expected an EmulatorClock or a callable returning Unix seconds")
        self.admin_token = _check_admin_token(admin_token) if admin_token else secrets.token_urlsafe(24)
        self.latency_ms = parse_latency(latency_ms)
        self.seed = seed
        self.faults = FaultSet()
        self.sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
        self._rng = random.Random(seed)
        self._ids = itertools.count(1)
        self._id_prefix = secrets.token_hex(4)
        # Start specs, keys fixed once so that reset() keeps every key valid.
        self._specs: list[dict[str, Any]] = []
        self._names: dict[str, str] = {}  # account_id -> name
        for demo in DEMO_ACCOUNTS:
            self._specs.append({
                "name": demo.name, "account_id": demo.account_id, "balance_usd": demo.balance_usd,
                "purchased_usd": demo.purchased_usd, "management": demo.management,
                "label": demo.name, "key": new_key(),
            })
        for spec in _load_specs(accounts):
            spec.setdefault("key", new_key())
            self._specs.append(spec)
        self._key_specs = [(demo, new_key()) for demo in DEMO_KEYS]
        self.engine: Engine
        self.demo_keys: dict[str, str]
        self._build()
        # Last: a journal file is opened only once everything else was accepted.
        self.journal: Journal | None = None
        self.set_journal(journal)

    # -- state ---------------------------------------------------------------------------------

    def _build(self) -> None:
        engine = Engine(self.start_policy, clock=self.clock.now, in_flight=self.start_in_flight)
        demo_keys: dict[str, str] = {}
        names: dict[str, str] = {}
        for spec in self._specs:
            fields = {k: v for k, v in spec.items() if k != "name"}
            acct, key = engine.load_accounts([fields])[0]
            if spec.get("name"):
                demo_keys[spec["name"]] = key
                names[acct.account_id] = spec["name"]
        now = self.clock.now()
        for demo, secret in self._key_specs:
            made = engine.create_key(f"acct_{demo.account}", name=demo.name, secret=secret, now=now,
                                     limit_usd=demo.limit_usd, limit_reset=demo.limit_reset)
            if demo.spent_today_usd:
                engine.spend(made, demo.spent_today_usd, now)
            demo_keys[demo.name] = secret
        self.engine, self.demo_keys, self._names = engine, demo_keys, names

    def reset(self) -> None:
        """Start state again: the start accounts (same keys), real time, no faults, the start
        policy and in-flight numbers, an empty journal (its file keeps what was written)."""
        self.faults.clear()
        self.clock.reset()
        self._rng = random.Random(self.seed)
        self._build()
        if self.journal is not None:
            self.journal.clear()

    def set_journal(self, journal: JournalSpec) -> Journal | None:
        """Where answers are recorded from now on: ``None`` keeps the current journal (or makes
        one in memory), a path or text file writes the entries there too (the entries already
        in memory stay), a :class:`~orwidgets.journal.Journal` replaces it, ``False`` stops
        recording. A file the previous journal opened is closed; ``ValueError`` for a path that
        cannot be written (nothing changes then)."""
        old = self.journal
        if journal is False:
            new = None
        elif isinstance(journal, Journal):
            new = journal
        elif journal is None:
            new = old if old is not None else Journal()
        elif journal is True:
            raise ValueError("journal: expected None, False, a path, a text file or a Journal")
        elif old is not None:
            old.set_sink(journal)
            return old
        else:
            new = Journal(sink=journal)
        if old is not None and old is not new:
            old.close()
        self.journal = new
        return new

    def close(self) -> None:
        """Close what the emulator opened (its journal file); it stays usable in memory."""
        if self.journal is not None:
            self.journal.close()

    @property
    def policy(self) -> PolicyVersion:
        return self.engine.policy

    def set_policy(self, policy: str | PolicyVersion, *, as_default: bool = False) -> PolicyVersion:
        """Switch the policy version now (and, with ``as_default``, the one :meth:`reset` restores)."""
        version = get_policy(policy)
        self.engine.policy = version
        if as_default:
            self.start_policy = version.id
        return version

    @property
    def in_flight(self) -> InFlightParams:
        return self.engine.in_flight

    def set_in_flight(self, changes: InFlightParams | dict[str, Any], *,
                      as_default: bool = False) -> InFlightParams:
        """Change some of the in-flight budget's numbers now (and, with ``as_default``, the ones
        :meth:`reset` restores); ``ValueError`` names a bad field."""
        params = self.engine.in_flight.updated(changes)
        self.engine.in_flight = params
        if as_default:
            self.start_in_flight = params
        return params

    def set_latency(self, latency_ms: LatencySpec) -> tuple[float, float]:
        self.latency_ms = parse_latency(latency_ms)
        return self.latency_ms

    def latency_s(self) -> float:
        """One draw of the answer latency, seconds (0 when the range is 0)."""
        low, high = self.latency_ms
        if high <= 0:
            return 0.0
        return (low if low == high else self._rng.uniform(low, high)) / 1000.0

    def next_generation_id(self, created: int) -> str:
        return f"gen-{created}-{self._id_prefix}{next(self._ids):012d}"

    def account_name(self, account_id: str) -> str | None:
        return self._names.get(account_id)

    # -- accounts (admin API) ------------------------------------------------------------------

    def create_account(
        self, balance_usd: float = 0.0, purchased_usd: float = 0.0, management: bool = False,
        label: str = "", name: str | None = None,
    ) -> tuple[str, str]:
        """A new account with one key; returns ``(account_id, key)``."""
        acct, key = self.engine.create_account(balance_usd, purchased_usd, management, label=label)
        if name:
            self._names[acct.account_id] = name
        return acct.account_id, key

    def key_view(self, key: ApiKey, now: float) -> dict[str, Any]:
        """A key as the admin API lists it (the full key: the admin owns it), with its limit."""
        snap = self.engine.key_snapshot(key, now)
        return {
            "key": key.secret,
            "label": snap.label,
            "hash": snap.hash,
            "name": snap.name,
            "management": snap.management,
            "disabled": snap.disabled,
            "expires_at": iso_z(snap.expires_at) if snap.expires_at is not None else None,
            "limit": snap.limit_usd,
            "limit_reset": snap.limit_reset,
            "limit_remaining": snap.limit_remaining_usd,
            "limit_resets_at": iso_z(snap.resets_at) if snap.resets_at is not None else None,
            "usage": snap.usage_usd,
            "usage_daily": snap.usage_daily_usd,
            "usage_weekly": snap.usage_weekly_usd,
            "usage_monthly": snap.usage_monthly_usd,
        }

    def account_view(self, account_id: str) -> dict[str, Any]:
        """An account as the admin API lists it (full keys: the admin owns them)."""
        acct = self.engine.account(account_id)
        now = self.clock.now()
        snap = self.engine.snapshot(account_id, now)
        return {
            "account_id": acct.account_id,
            "name": self._names.get(acct.account_id),
            "label": acct.label,
            "user_id": acct.user_id,
            "balance_usd": snap.balance_usd,
            "purchased_usd": snap.purchased_usd,
            "usage_usd": snap.usage_usd,
            "management": acct.management,
            "keys": [self.key_view(k, now) for k in list(acct.api_keys)],
            "free_used_today": snap.free_used_today,
            "free_daily_limit": snap.free_daily_limit,
            "free_used_this_minute": snap.free_used_this_minute,
            "paid_rps": snap.paid_rps,
            "in_flight": {
                "budget_usd": snap.in_flight_budget_usd,
                "held_usd": snap.held_usd,
                "running_usd": snap.running_usd,
                "settling_usd": snap.settling_usd,
                "running_requests": snap.running_requests,
            },
        }

    def accounts_view(self) -> list[dict[str, Any]]:
        return [self.account_view(a.account_id) for a in self.engine.accounts()]

    def __repr__(self) -> str:
        return (
            f"Emulator(policy={self.policy.id!r}, accounts={len(self.engine.accounts())}, "
            f"latency_ms={self.latency_ms!r}, faults={len(self.faults.rules)}, clock={self.clock!r})"
        )


def _check_admin_token(token: object) -> str:
    if not isinstance(token, str) or not token.strip():
        raise ValueError("admin_token: expected a non-empty string")
    if not token.isascii() or not token.isprintable() or any(c.isspace() for c in token):
        raise ValueError("admin_token: use printable ASCII without spaces (it travels in a header)")
    return token
