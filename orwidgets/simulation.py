"""Traffic over simulated time, decided by the same engine as live requests.

:func:`simulate` feeds a traffic pattern (requests per second over time, a free/paid mix, a cost per
paid call, how long each runs, top-ups) second by second through :meth:`Engine.decide_batch
<orwidgets.engine.Engine.decide_batch>` and returns per-second series: outcomes by reason, the
balance, the paid RPS cap the balance allows, and (under a version with an in-flight budget) the
budget and what it holds. The planner widget and the tutorial plot these.

:func:`in_flight_fit` asks the same engine how many identical paid requests fit in the in-flight
budget of a balance at one instant (the RPS explorer's view under a version with that budget).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .engine import PICO, Engine, Reason, Request, _rps
from .policy import IN_FLIGHT_DEFAULTS, InFlightParams, PolicyVersion, check_number, get_policy

__all__ = ["TopUp", "Traffic", "SimulationResult", "simulate", "DEFAULT_START", "InFlightFit",
           "in_flight_fit"]

#: A Thursday during the ``2025-04`` policy, at 00:00 UTC.
DEFAULT_START = datetime(2025, 5, 1, tzinfo=timezone.utc).timestamp()

RpsPattern = float | Sequence[tuple[float, float]] | Callable[[float], float]


@dataclass(frozen=True)
class TopUp:
    """Buy ``usd`` credits ``at_s`` seconds after the start."""

    at_s: float
    usd: float


@dataclass(frozen=True)
class Traffic:
    """A traffic pattern.

    Parameters
    ----------
    rps:
        Requests per second: a constant, a step list ``[(from_second, rps), ...]`` (each step holds
        until the next), or a function of the second since the start. Fractions accumulate, so 0.5
        sends one request every other second.
    free_fraction:
        Share of requests that go to ``:free`` models (0 to 1).
    cost_per_call_usd:
        What one paid call costs.
    max_cost_per_call_usd:
        Its maximum cost, which the affordability check and the in-flight estimate use
        (``None``: the cost itself).
    duration_s:
        How long each paid call runs. While it runs it holds its maximum cost against the
        in-flight budget (versions that have one); then its cost settles for ``settle_s``.
    topups:
        Credit purchases during the run.
    """

    rps: RpsPattern = 1.0
    free_fraction: float = 0.0
    cost_per_call_usd: float = 0.001
    topups: tuple[TopUp, ...] = ()
    max_cost_per_call_usd: float | None = None
    duration_s: float = 0.0

    def __post_init__(self) -> None:
        frac = check_number(self.free_fraction, "free_fraction")
        if not 0 <= frac <= 1:
            raise ValueError(f"free_fraction: must be between 0 and 1, got {self.free_fraction!r}")
        cost = check_number(self.cost_per_call_usd, "cost_per_call_usd")
        if cost < 0:
            raise ValueError(f"cost_per_call_usd: must be zero or more, got {cost!r}")
        if self.max_cost_per_call_usd is not None:
            most = check_number(self.max_cost_per_call_usd, "max_cost_per_call_usd")
            if most < cost:
                raise ValueError(f"max_cost_per_call_usd: must be at least cost_per_call_usd "
                                 f"({cost!r}), got {most!r}")
        if not 0 <= check_number(self.duration_s, "duration_s") <= 86_400:
            raise ValueError(f"duration_s: must be between 0 and 86400, got {self.duration_s!r}")
        if isinstance(self.rps, (int, float)):
            if check_number(self.rps, "rps") < 0:
                raise ValueError(f"rps: must be zero or more, got {self.rps!r}")
        elif not callable(self.rps):
            for start, value in self.rps:
                check_number(start, "rps step start")
                if check_number(value, "rps") < 0:
                    raise ValueError(f"rps: must be zero or more, got {value!r}")
        for top in self.topups:
            check_number(top.at_s, "topups.at_s")
            check_number(top.usd, "topups.usd")

    def rate_at(self, second: float) -> float:
        """Offered requests per second at ``second`` since the start."""
        pattern = self.rps
        if isinstance(pattern, (int, float)):
            return float(pattern)
        if callable(pattern):
            return max(0.0, check_number(pattern(second), "rps"))
        value = 0.0
        for start, rate in sorted(pattern):
            if second >= start:
                value = float(rate)
        return value


@dataclass
class SimulationResult:
    """Per-second series of a simulation (index ``i`` is second ``i`` since the start)."""

    policy_id: str
    start: float
    seconds: list[int] = field(default_factory=list)
    offered_free: list[int] = field(default_factory=list)
    offered_paid: list[int] = field(default_factory=list)
    outcomes: dict[Reason, list[int]] = field(default_factory=dict)
    balance_usd: list[float] = field(default_factory=list)
    paid_rps_cap: list[int | None] = field(default_factory=list)
    #: The in-flight budget at the end of each second (``None``: none applies) and what it held.
    in_flight_budget_usd: list[float | None] = field(default_factory=list)
    in_flight_held_usd: list[float] = field(default_factory=list)

    def __repr__(self) -> str:
        totals = ", ".join(f"{r.value}={n}" for r, n in self.totals().items() if n)
        return f"SimulationResult(policy={self.policy_id!r}, seconds={len(self.seconds)}, {totals})"

    def totals(self) -> dict[Reason, int]:
        return {reason: sum(series) for reason, series in self.outcomes.items()}

    def count(self, reason: Reason) -> int:
        return sum(self.outcomes[reason])

    def first_second(self, predicate: Callable[[int], bool]) -> int | None:
        """The first second index for which ``predicate(i)`` holds, or ``None``."""
        for i in range(len(self.seconds)):
            if predicate(i):
                return i
        return None

    def first_cap_below(self, needed_rps: float) -> int | None:
        """First second at which the paid RPS cap is below ``needed_rps`` (``None``: never)."""
        caps = self.paid_rps_cap
        return self.first_second(lambda i: caps[i] is not None and caps[i] < needed_rps)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "policy": self.policy_id,
            "start": self.start,
            "seconds": self.seconds,
            "offered_free": self.offered_free,
            "offered_paid": self.offered_paid,
            "balance_usd": self.balance_usd,
            "paid_rps_cap": self.paid_rps_cap,
            "in_flight_budget_usd": self.in_flight_budget_usd,
            "in_flight_held_usd": self.in_flight_held_usd,
        }
        for reason, series in self.outcomes.items():
            data[reason.value] = series
        return data


def simulate(
    traffic: Traffic,
    duration_s: int,
    *,
    balance_usd: float = 10.0,
    purchased_usd: float = 0.0,
    policy: str | PolicyVersion | None = None,
    start: float = DEFAULT_START,
    in_flight: InFlightParams | None = None,
) -> SimulationResult:
    """Run ``traffic`` for ``duration_s`` simulated seconds against a fresh account.

    Within a second, free requests are decided before paid ones (they never interact: free calls
    cost nothing and paid calls never take the balance below zero), all at the start of the
    second. Top-ups land at the start of their second. The balance, cap, budget and holdings
    recorded for a second are those at its end. ``in_flight``: the budget's numbers (default
    :data:`~orwidgets.policy.IN_FLIGHT_DEFAULTS`).
    """
    if isinstance(duration_s, bool) or not isinstance(duration_s, int) or duration_s < 0:
        raise ValueError(f"duration_s: expected a whole number of seconds >= 0, got {duration_s!r}")
    version = get_policy(policy)
    engine = Engine(version, in_flight=in_flight)
    acct, _ = engine.create_account(balance_usd, purchased_usd)
    aid = acct.account_id
    start = check_number(start, "start")
    free_req = Request.free_call()
    paid_req = Request.paid_call(traffic.cost_per_call_usd, traffic.max_cost_per_call_usd)
    run_s = float(traffic.duration_s)
    topups: dict[int, float] = {}
    for top in traffic.topups:
        topups[max(0, math.floor(top.at_s))] = topups.get(max(0, math.floor(top.at_s)), 0.0) + top.usd

    result = SimulationResult(policy_id=version.id, start=start)
    outcomes = {reason: [0] * duration_s for reason in Reason}
    result.outcomes = outcomes
    seconds = result.seconds
    offered_free, offered_paid = result.offered_free, result.offered_paid
    balances, caps = result.balance_usd, result.paid_rps_cap
    budgets, held = result.in_flight_budget_usd, result.in_flight_held_usd
    frac = traffic.free_fraction
    constant = traffic.rps if isinstance(traffic.rps, (int, float)) else None
    cum_total = 0.0
    sent_total = sent_free = 0
    for i in range(duration_s):
        now = start + i
        if i in topups:
            engine.topup(aid, topups[i])
        cum_total += constant if constant is not None else traffic.rate_at(i)
        total = math.floor(cum_total + 1e-9) - sent_total
        free = math.floor((sent_total + total) * frac + 1e-9) - sent_free
        paid = total - free
        sent_total += total
        sent_free += free
        seconds.append(i)
        offered_free.append(free)
        offered_paid.append(paid)
        with acct.lock:  # the engine's own batch decision, without per-call lookups
            for request, n_req in ((free_req, free), (paid_req, paid)):
                if n_req:
                    for reason, n in engine._batch_locked(acct, request, n_req, now,
                                                          run_s).items():
                        outcomes[reason][i] += n
            if acct.ending or acct.settling:
                engine._roll_locked(acct, now + 1 - 1e-6)  # holds as at the second's end
            balances.append(acct.balance_pusd / PICO)
            caps.append(_rps(acct.balance_pusd, version))
            budget = engine._budget_pusd(acct) if version.in_flight_budget else None
            budgets.append(None if budget is None else budget / PICO)
            held.append(acct.held_pusd / PICO)
    return result


#: How long the requests of :func:`in_flight_fit` run: far longer than the instant it looks at.
_FIT_RUN_S = 3600.0


@dataclass(frozen=True)
class InFlightFit:
    """What the in-flight budget of a balance allows for requests of one size, at one instant.

    Attributes
    ----------
    balance_usd:
        The balance asked about.
    budget_usd:
        The in-flight budget it buys; ``None`` where none applies (a version without one, or a
        balance at or above the threshold).
    estimate_usd:
        What one such request holds while it runs (0 for free models: they are never held).
    fit:
        How many such requests the engine admits at once before one is refused; ``None`` where
        the budget does not limit them (no budget, or nothing held).
    first:
        What the first request alone gets (``Reason.OK`` when it is admitted; else the refusal:
        affordability, ``weight_exceeds_budget``, a negative balance).
    refused:
        What the first request that does not fit gets (``in_flight_budget_exhausted`` when the
        budget is what stops them), or ``None`` when nothing was refused.
    """

    balance_usd: float
    budget_usd: float | None
    estimate_usd: float
    fit: int | None
    first: Reason
    refused: Reason | None


def in_flight_fit(
    balance_usd: float,
    request: Request,
    policy: str | PolicyVersion | None = None,
    in_flight: InFlightParams | None = None,
    *,
    now: float = DEFAULT_START,
) -> InFlightFit:
    """How many copies of ``request`` start at once on a fresh account holding ``balance_usd``.

    The engine decides them (:meth:`~orwidgets.engine.Engine.decide_batch`, each running for an
    hour, so none settles): the budget is :meth:`~orwidgets.policy.InFlightParams.budget_usd` of
    the balance, each request holds :meth:`~orwidgets.engine.Request.estimate_pusd`, and the
    checks before the budget (the balance against the request's maximum cost) apply as they do to
    a live call. ``request.completion_tokens`` is what the engine charges when it admits one; give
    0 to ask about the budget alone (OpenRouter charges when a request ends).
    """
    version = get_policy(policy)
    params = in_flight if in_flight is not None else IN_FLIGHT_DEFAULTS
    balance = check_number(balance_usd, "balance_usd")
    engine = Engine(version, in_flight=params)
    acct, _ = engine.create_account(balance, max(0.0, balance))
    held = version.in_flight_budget and not request.free
    estimate = request.estimate_pusd(params) if held else 0
    budget = engine._budget_pusd(acct) if version.in_flight_budget else None
    limited = budget is not None and estimate > 0
    # One more than the budget can hold: the engine then names what stops the next one.
    probe = budget // estimate + 1 if limited else 1
    counts = engine.decide_batch(acct.account_id, request, probe, now, duration_s=_FIT_RUN_S)
    admitted = counts.get(Reason.OK, 0)
    refused = next((reason for reason in counts if reason is not Reason.OK), None)
    return InFlightFit(
        balance_usd=balance,
        budget_usd=None if budget is None else budget / PICO,
        estimate_usd=estimate / PICO,
        fit=admitted if limited else None,
        first=Reason.OK if admitted else (refused or Reason.OK),
        refused=refused,
    )
