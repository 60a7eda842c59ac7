"""Engine decisions per second in simulated time, against a baseline loop of the same length.

The baseline does what any decision must do anyway (read the simulated clock, look the account up
by key, read a counter), so the ratio is the cost of the rules themselves.

The in-flight check (2026-08) is measured against the same paid decisions without it (2025-07,
whose rules are otherwise the same: no paid rate cap), in the same run, on a $50 balance (under
the $100 threshold, so every call is held): each decision then holds its estimate, ends (its
duration is 0), and its cost settles for 120 simulated seconds; at 1,000 calls per simulated
second about 120,000 settled costs are held at once. The difference of the two per-decision
times is the check's cost.

    python benchmarks/engine.py [N]
"""

from __future__ import annotations

import statistics
import sys
import time

from orwidgets.engine import Engine, Request

T0 = 1_774_000_000.0


def _clock_factory():
    state = {"now": T0}

    def tick() -> float:
        state["now"] += 0.001  # 1,000 requests per simulated second
        return state["now"]

    return tick


def baseline(n: int) -> float:
    engine = Engine("2025-04")
    acct, key = engine.create_account(1000.0, 10.0)
    by_key = {key: acct}
    tick = _clock_factory()
    start = time.perf_counter()
    sink = 0
    for _ in range(n):
        now = tick()
        a = by_key[key]
        sink += a.day_count + int(now)
    elapsed = time.perf_counter() - start
    assert sink >= 0
    return n / elapsed


def decisions(n: int, free: bool, policy: str = "2025-04", balance: float = 1000.0) -> float:
    engine = Engine(policy)
    acct, key = engine.create_account(balance, 10.0)
    req = Request.free_call() if free else Request.paid_call(0.00001, 0.0001)
    tick = _clock_factory()
    decide = engine.decide_for_key
    start = time.perf_counter()
    for _ in range(n):
        decide(key, req, tick())
    elapsed = time.perf_counter() - start
    return n / elapsed


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else 200_000
    rounds = 5
    base = statistics.median(baseline(n) for _ in range(rounds))
    free = statistics.median(decisions(n, True) for _ in range(rounds))
    paid = statistics.median(decisions(n, False) for _ in range(rounds))
    # the in-flight check: alternate with and without, so that noise hits both alike
    without, with_check = [], []
    for _ in range(rounds):
        without.append(decisions(n, False, "2025-07", 50.0))
        with_check.append(decisions(n, False, "2026-08", 50.0))
    off, on = statistics.median(without), statistics.median(with_check)
    print(f"engine: {n:,} decisions per run, median of {rounds} runs (simulated clock, 1,000 req/s)")
    print(f"  baseline loop (clock + key lookup)   {base:>12,.0f} /s")
    print(f"  free-model decisions                 {free:>12,.0f} /s   ratio {free / base:.3f}")
    print(f"  paid-model decisions                 {paid:>12,.0f} /s   ratio {paid / base:.3f}")
    print(f"  paid, 2025-07 (no in-flight check)   {off:>12,.0f} /s   ratio {off / base:.3f}")
    print(f"  paid, 2026-08 (in-flight check)      {on:>12,.0f} /s   ratio {on / base:.3f}")
    print(f"  in-flight check: {on / off:.3f} x the decisions without it, "
          f"{(1 / on - 1 / off) * 1e9:+,.0f} ns per decision (hold, end, settle, release)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
