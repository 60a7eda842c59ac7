"""The verdict on a 100,000-line journal, against reading the same file in the same run.

    python benchmarks/verdict.py [LINES]

It writes a JSON-lines journal like one a day of mixed traffic leaves (three keys; free calls with
per-minute and per-day 429s, paid calls with paid-rate 429s, upstream 429s with Retry-After,
402s; clients that wait and clients that hammer), then times, median of 5 runs:

1. the baseline: reading the file and splitting it into lines (what any reader must do);
2. decoding the file and ``json.loads`` of every line (the least a JSON-lines reader does);
3. :func:`orwidgets.journal.read_journal` (decode, check every field, build entries, sort);
4. :func:`orwidgets.verdict.verdict` on the entries;
5. both, as ``orwidgets verdict FILE`` runs them.

The machine is shared and noisy: read the ratios to the baseline, not the absolute times.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orwidgets.engine import day_reset_ms, minute_reset_ms, second_reset_ms  # noqa: E402
from orwidgets.journal import read_journal  # noqa: E402
from orwidgets.verdict import verdict  # noqa: E402

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
FREE = "meta-llama/llama-3.3-70b-instruct:free"
PAID = "openai/gpt-4o-mini"
ROUNDS = 5


def make_journal(path: Path, lines: int, seed: int = 11) -> int:
    """Write ``lines`` entries over one day; returns how many carry a 429 or 402."""
    rng = random.Random(seed)
    refused = 0
    t = T0
    step = 86_000 / lines
    with path.open("w", encoding="utf-8") as out:
        for i in range(lines):
            t += step * rng.uniform(0.5, 1.5)
            key = ("k-wait", "k-hammer", "k-paid")[i % 3]
            entry = {"time": round(t, 6), "key": f"sk-or-v1-{key[2:5]}...xyz", "key_id": key,
                     "account": "acct_" + key, "path": "/api/v1/chat/completions",
                     "model": FREE, "max_tokens": 200, "stream": False, "status": 200,
                     "class": "ok", "retry_after": None, "rate_limit_reset": None}
            roll = rng.random()
            if key == "k-paid":
                entry["model"] = PAID
                if roll < 0.1:
                    entry.update(status=429, **{"class": "paid_rate"},
                                 rate_limit_reset=second_reset_ms(t))
                elif roll < 0.15:
                    entry.update(status=429, **{"class": "upstream_429"}, retry_after=15)
                elif roll < 0.17:
                    entry.update(status=402, **{"class": "affordability"})
            elif roll < 0.2:
                entry.update(status=429, **{"class": "free_per_minute"},
                             rate_limit_reset=minute_reset_ms(t))
            elif roll < 0.22:
                entry.update(status=429, **{"class": "free_per_day_low"},
                             rate_limit_reset=day_reset_ms(t))
            refused += entry["status"] != 200
            out.write(json.dumps(entry, separators=(",", ":")) + "\n")
    return refused


def _median(fn) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    lines = int(args[0]) if args else 100_000
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "journal.jsonl"
        refused = make_journal(path, lines)
        size_mb = path.stat().st_size / 1e6

        def baseline() -> None:
            path.read_bytes().splitlines()

        def loads_only() -> None:
            loads = json.loads
            for raw in path.read_text(encoding="utf-8").split("\n"):
                if raw:
                    loads(raw)

        entries = read_journal(path)
        findings = verdict(entries)
        base = _median(baseline)
        parse = _median(loads_only)
        read = _median(lambda: read_journal(path))
        judge = _median(lambda: verdict(entries))
        both = _median(lambda: verdict(read_journal(path)))
    print(f"verdict: {lines:,} journal lines ({size_mb:.1f} MB, {refused:,} refused answers, "
          f"{len(findings):,} findings), median of {ROUNDS} runs")
    rows = [
        ("baseline: read the file, split lines", base),
        ("decode + json.loads of every line", parse),
        ("read_journal (checked entries, sorted)", read),
        ("verdict(entries)", judge),
        ("read_journal + verdict (the CLI)", both),
    ]
    for label, seconds in rows:
        print(f"  {label:<42} {seconds * 1000:>9.1f} ms   x{seconds / base:>7.1f} baseline"
              f"   {lines / seconds:>12,.0f} lines/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
