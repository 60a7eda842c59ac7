"""Engine decisions per second in simulated time, against a baseline loop of the same length.

The baseline does what any decision must do anyway (read the simulated clock, look the account up
by key, read a counter), so the ratio is the cost of the rules themselves.

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


def decisions(n: int, free: bool) -> float:
    engine = Engine("2025-04")
    acct, key = engine.create_account(1000.0, 10.0)
    req = Request.free_call() if free else Request.paid_call(0.0001)
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
    print(f"engine: {n:,} decisions per run, median of {rounds} runs (simulated clock, 1,000 req/s)")
    print(f"  baseline loop (clock + key lookup)   {base:>12,.0f} /s")
    print(f"  free-model decisions                 {free:>12,.0f} /s   ratio {free / base:.3f}")
    print(f"  paid-model decisions                 {paid:>12,.0f} /s   ratio {paid / base:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
