"""Emulator benchmark: throughput against a bare Starlette endpoint, and RPS enforcement precision.

Run: ``.venv/bin/python benchmarks/emulator.py`` (``make bench`` runs it too; ``--quick`` halves the
durations). Everything stays on 127.0.0.1 and is bounded in time (about a minute in all).

1. Throughput of ``POST /api/v1/chat/completions`` with the in-flight budget on (latency 0,
   policy ``2026-08``, a paid account with a small balance, $20: a budget of $10 that holds every
   call while it runs and its cost for 120 s after, all admitted) against a bare Starlette endpoint
   that reads the same request and answers a JSON body of the same size, under the same uvicorn
   settings (:func:`orwidgets.emulator.server.uvicorn_config`), measured with the same closed-loop
   load generator in the same run, alternating A/B; the best of each is reported with the ratio.
   The same emulator under ``2025-07`` (the same rules without the budget, switched through the
   admin API) runs in the same rounds, so the budget's own cost shows too.
   Goals: ratio >= 0.9 with the budget on, and well above 1,000 req/s.
   The journal: the emulator above records every answer in memory (its default); two more
   emulators in the same rounds, one started with ``--no-journal`` and one with ``--journal FILE``
   (every answer also written and flushed to a file), give its cost. Goal: journal on / off
   >= 0.9.
2. Enforcement precision under ``2025-04``: a paid account whose balance buys 50 RPS, then one
   that buys 500 RPS, at offered loads of 0.5x, 1x, 2x and 5x the limit (open loop, paced). The
   emulator stamps each admitted answer with ``created`` (its clock's second), so admitted requests
   are counted per server second; the first and last (partial) seconds are left out. Goals: never
   above the limit; at 1x and above, at least 95% of it.

Processes: each server runs in its own process (uvicorn, one event loop), the load generator in
another (raw HTTP/1.1 keep-alive over asyncio streams), so neither steals the other's interpreter.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ADMIN = "bench-admin-token"
PAID_MODEL = "qwen/qwen3-32b"  # cheap: the balance (hence the RPS) barely moves during a run
CHAT_BODY = json.dumps({
    "model": PAID_MODEL,
    "messages": [{"role": "user", "content": "Say hello."}],
    "max_tokens": 64,
}).encode()


# --- servers (child processes) -------------------------------------------------------------------


def serve_bare(body_size: int) -> None:
    """A bare Starlette endpoint answering a JSON body of ``body_size`` bytes."""
    sys.path.insert(0, str(ROOT))
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from orwidgets.emulator.server import bind_socket, uvicorn_config

    payload: dict[str, Any] = {"id": "gen-0", "object": "chat.completion", "padding": ""}
    base = len(json.dumps(payload, separators=(",", ":")).encode())
    payload["padding"] = "x" * max(0, body_size - base)

    async def endpoint(request):
        await request.body()
        return JSONResponse(payload)

    app = Starlette(routes=[Route("/api/v1/chat/completions", endpoint, methods=["POST"])])
    sock = bind_socket("127.0.0.1", 0)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    uvicorn.Server(uvicorn_config(app)).run(sockets=[sock])


def start_server(kind: str, body_size: int = 0, policy: str = "current",
                 extra: tuple[str, ...] = ()) -> tuple[subprocess.Popen, int]:
    if kind == "bare":
        cmd = [sys.executable, __file__, "--serve-bare", str(body_size)]
    else:
        cmd = [sys.executable, "-m", "orwidgets.emulator", "--port", "0", "--latency-ms", "0",
               "--policy", policy, "--admin-token", ADMIN, *extra]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env, cwd=ROOT)
    deadline = time.monotonic() + 20
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("PORT "):
            return proc, int(line.split()[1])
        if "base URL" in line:
            return proc, int(line.rsplit(":", 1)[1])
    proc.kill()
    raise RuntimeError(f"{kind} server did not start")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- load generator (child process) --------------------------------------------------------------


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    i = lower.find(b"content-length:")
    length = int(lower[i + 15: lower.find(b"\r\n", i)]) if i >= 0 else 0
    body = await reader.readexactly(length) if length else b""
    return status, lower, body


async def _load(port: int, key: str, connections: int, duration: float, rate: float | None) -> dict[str, Any]:
    request = (
        b"POST /api/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer " + key.encode() + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(CHAT_BODY)).encode() + b"\r\n\r\n" + CHAT_BODY
    )
    loop = asyncio.get_running_loop()
    statuses: Counter[int] = Counter()
    admitted_by_second: Counter[int] = Counter()
    rejected_by_second: Counter[int] = Counter()
    next_slot = 0
    t0 = loop.time() + 0.05
    stop_at = t0 + duration
    total_slots = int(rate * duration) if rate else None

    async def worker() -> None:
        nonlocal next_slot
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while True:
                slot = next_slot
                next_slot += 1
                if rate is not None:
                    if slot >= total_slots:  # type: ignore[operator]
                        return
                    delay = t0 + slot / rate - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                elif loop.time() >= stop_at:
                    return
                writer.write(request)
                status, head, body = await _read_response(reader)
                statuses[status] += 1
                if rate is None:  # throughput: count only, the same work for every server
                    continue
                if status == 200:  # "created" is the emulator's second of the decision
                    j = body.find(b'"created":')
                    if j >= 0:
                        admitted_by_second[int(body[j + 10: body.find(b",", j)])] += 1
                elif status == 429:  # a paid-rate 429 resets at the start of the next second
                    j = head.find(b"x-ratelimit-reset:")
                    if j >= 0:
                        rejected_by_second[int(head[j + 18: head.find(b"\r\n", j)]) // 1000 - 1] += 1
        finally:
            writer.close()

    await asyncio.sleep(max(0.0, t0 - loop.time()))
    started = loop.time()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = loop.time() - started
    return {"elapsed": elapsed, "statuses": dict(statuses),
            "admitted_by_second": {str(k): v for k, v in sorted(admitted_by_second.items())},
            "rejected_by_second": {str(k): v for k, v in sorted(rejected_by_second.items())}}


def run_load(port: int, key: str, connections: int, duration: float, rate: float | None = None) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--load",
           json.dumps({"port": port, "key": key, "connections": connections, "duration": duration,
                       "rate": rate})]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"load generator failed: {out.stderr[-2000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["statuses"] = {int(k): v for k, v in result["statuses"].items()}
    return result


# --- admin helpers (stdlib HTTP) ------------------------------------------------------------------


def admin(port: int, method: str, path: str, body: dict | None = None) -> Any:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=data, headers={"X-Admin-Token": ADMIN, "Content-Type": "application/json"})
    resp = conn.getresponse()
    payload = json.loads(resp.read())
    conn.close()
    if resp.status >= 300:
        raise RuntimeError(f"{method} {path}: {resp.status} {payload}")
    return payload


def one_chat(port: int, key: str) -> tuple[int, bytes]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/api/v1/chat/completions", body=CHAT_BODY,
                 headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, body


# --- the two measurements ------------------------------------------------------------------------


#: The account of the throughput runs: under the $100 threshold, so the budget ($10) applies and
#: holds every call; it stays far from full even at 10,000 calls a second.
SMALL_BALANCE_USD = 20.0


def _paid_account(port: int) -> dict[str, Any]:
    return admin(port, "POST", "/_emulator/accounts",
                 {"balance_usd": SMALL_BALANCE_USD, "purchased_usd": SMALL_BALANCE_USD})


def throughput(duration: float, connections: int, rounds: int = 3) -> dict[str, Any]:
    """The five servers (bare; the emulator with the budget, and without; the emulator without a
    journal, and with one written to a file), ``rounds`` times."""
    servers: list[subprocess.Popen] = []
    journal_dir = tempfile.TemporaryDirectory(prefix="orw-bench-")
    journal_file = Path(journal_dir.name) / "journal.jsonl"
    try:
        emu, emu_port = start_server("emulator", policy="2026-08")
        servers.append(emu)
        acct = _paid_account(emu_port)
        status, body = one_chat(emu_port, acct["key"])
        assert status == 200, (status, body)
        size = len(body)
        bare, bare_port = start_server("bare", body_size=size)
        servers.append(bare)
        s2, b2 = one_chat(bare_port, "unused")
        assert s2 == 200 and abs(len(b2) - size) <= 2, (s2, len(b2), size)
        off, off_port = start_server("emulator", policy="2026-08", extra=("--no-journal",))
        to_file, file_port = start_server("emulator", policy="2026-08",
                                          extra=("--journal", str(journal_file)))
        servers += [off, to_file]
        off_key, file_key = _paid_account(off_port)["key"], _paid_account(file_port)["key"]
        results: dict[str, list[float]] = {name: [] for name in (
            "bare", "emulator", "no_budget", "journal_off", "journal_file")}
        order = [("bare", bare_port, "unused", None),
                 ("emulator", emu_port, acct["key"], "2026-08"),
                 ("no_budget", emu_port, acct["key"], "2025-07"),
                 ("journal_off", off_port, off_key, None),
                 ("journal_file", file_port, file_key, None)]
        # warm each, then alternate so that background noise hits all alike
        for _, port, key, _ in order[:2] + order[3:]:
            run_load(port, key, connections, 0.5)
        for i in range(rounds):
            # each round starts with another server, so that none always follows the same one
            shift = i % len(order)
            for name, port, key, policy in order[shift:] + order[:shift]:
                if policy is not None:
                    admin(port, "PUT", "/_emulator/policy", {"policy": policy})
                r = run_load(port, key, connections, duration)
                ok = r["statuses"].get(200, 0)
                assert ok == sum(r["statuses"].values()), r["statuses"]
                results[name].append(ok / r["elapsed"])
        admin(emu_port, "PUT", "/_emulator/policy", {"policy": "2026-08"})
        account = next(a for a in admin(emu_port, "GET", "/_emulator/accounts")["data"]
                       if a["account_id"] == acct["account_id"])
        recorded = admin(emu_port, "GET", "/_emulator/journal?limit=1")
    finally:
        for proc in servers:
            stop_server(proc)
        file_lines = journal_file.read_bytes().count(b"\n") if journal_file.exists() else 0
        journal_dir.cleanup()
    best = {k: max(v) for k, v in results.items()}

    def pairs(a: str, b: str) -> float:  # the median of the same rounds' ratios
        return statistics.median(x / y for x, y in zip(results[a], results[b]))

    return {"rounds": rounds, "body_bytes": size, "runs": results, "bare_rps": best["bare"],
            "emulator_rps": best["emulator"], "no_budget_rps": best["no_budget"],
            "journal_off_rps": best["journal_off"], "journal_file_rps": best["journal_file"],
            "ratio": best["emulator"] / best["bare"],
            "pair_ratio_median": pairs("emulator", "bare"),
            "budget_ratio": best["emulator"] / best["no_budget"],
            "journal_ratio": best["emulator"] / best["journal_off"],
            "journal_pair_median": pairs("emulator", "journal_off"),
            "file_ratio": best["journal_file"] / best["journal_off"],
            "file_pair_median": pairs("journal_file", "journal_off"),
            "journal_total": recorded["total"], "journal_dropped": recorded["dropped"],
            "file_lines": file_lines,
            "in_flight": account["in_flight"], "balance_usd": account["balance_usd"]}


def record_cost(n: int = 200_000) -> float:
    """Microseconds the chat route spends recording one answer in the journal (in this process,
    the same call the route makes: a mostly ordered stream of entries with one key)."""
    sys.path.insert(0, str(ROOT))
    from orwidgets.emulator.chat import ChatInput, _record, _Seen
    from orwidgets.journal import Journal

    journal = Journal()
    seen = _Seen()
    seen.chat = ChatInput(PAID_MODEL, 10, 1, 64, False)
    seen.key, seen.account = "sk-or-v1-" + "0" * 64, "acct_x"
    t0 = time.time()
    start = time.perf_counter()
    for i in range(n):
        _record(journal, t0 + i * 1e-4, seen, 200, "ok", None, None)
    return (time.perf_counter() - start) / n * 1e6


def precision(duration: float, limits: tuple[int, ...], factors: tuple[float, ...]) -> list[dict[str, Any]]:
    emu, port = start_server("emulator", policy="2025-04")
    rows = []
    try:
        for limit in limits:
            # balance limit - 0.5 buys exactly `limit` RPS (rounded up) and stays there while spent
            acct = admin(port, "POST", "/_emulator/accounts",
                         {"balance_usd": limit - 0.5, "purchased_usd": limit - 0.5})
            for factor in factors:
                rate = limit * factor
                connections = max(4, min(128, int(rate / 40) + 4))
                r = run_load(port, acct["key"], connections, duration, rate=rate)
                per_second = {int(k): v for k, v in r["admitted_by_second"].items()}
                refused = {int(k): v for k, v in r["rejected_by_second"].items()}
                seconds = sorted(set(per_second) | set(refused))
                inner = range(seconds[0] + 1, seconds[-1]) if len(seconds) > 2 else range(0)
                full = [per_second.get(s, 0) for s in inner]
                answered = [per_second.get(s, 0) + refused.get(s, 0) for s in inner]
                sent = sum(r["statuses"].values())
                rows.append({
                    "limit": limit, "factor": factor, "target_rps": rate,
                    "offered_rps": sent / r["elapsed"],
                    "statuses": r["statuses"],
                    "max_admitted": max(per_second.values()) if per_second else 0,
                    "min_full_second": min(full) if full else None,
                    "mean_full_second": statistics.fmean(full) if full else None,
                    # seconds in which the machine delivered fewer requests than the limit
                    "machine_limited": sum(1 for a in answered if a < limit),
                    # seconds with a 429 but fewer than `limit` admitted: an enforcement error
                    "early_refusals": sum(1 for s in inner if refused.get(s, 0) and per_second.get(s, 0) < limit),
                    "full_seconds": len(full),
                })
    finally:
        stop_server(emu)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs (noisier)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--serve-bare", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--load", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare is not None:
        serve_bare(args.serve_bare)
        return 0
    if args.load is not None:
        cfg = json.loads(args.load)
        print(json.dumps(asyncio.run(_load(**cfg))))
        return 0

    tput_s, prec_s = (1.5, 3.0) if args.quick else (2.5, 4.0)
    print(f"emulator benchmark on {os.cpu_count()} CPU(s), loopback, uvicorn "
          f"({'httptools' if _has_httptools() else 'h11'}), latency 0; figures are noisy on a shared machine")
    t = throughput(tput_s, args.connections, rounds=3 if args.quick else 5)
    print("\n1. Throughput, POST /api/v1/chat/completions vs a bare Starlette endpoint "
          f"(same {t['body_bytes']}-byte JSON body, {args.connections} keep-alive connections, "
          f"{tput_s:g} s per run, best of {t['rounds']} rounds of the five; emulator under 2026-08, a "
          f"${SMALL_BALANCE_USD:g} paid account: the in-flight budget on)")
    print(f"   bare endpoint (baseline):    {t['bare_rps']:8.0f} req/s   runs: "
          + ", ".join(f"{x:.0f}" for x in t["runs"]["bare"]))
    print(f"   emulator, budget on:         {t['emulator_rps']:8.0f} req/s   runs: "
          + ", ".join(f"{x:.0f}" for x in t["runs"]["emulator"]))
    print(f"   emulator, 2025-07 (no budget): {t['no_budget_rps']:6.0f} req/s   runs: "
          + ", ".join(f"{x:.0f}" for x in t["runs"]["no_budget"]))
    ok_ratio = t["ratio"] >= 0.9
    ok_abs = t["emulator_rps"] > 1000
    held = t["in_flight"]
    print(f"   ratio emulator/bare: {t['ratio']:.2f} (best/best), {t['pair_ratio_median']:.2f} (median of "
          f"the rounds' pairs)  (goal >= 0.90: {'met' if ok_ratio else 'NOT met'}; "
          f"> 1,000 req/s: {'met' if ok_abs else 'NOT met'})")
    print(f"   budget on / budget off: {t['budget_ratio']:.2f}; at the end the account held "
          f"${held['held_usd']:.4f} of its ${held['budget_usd']:.4f} budget (balance "
          f"${t['balance_usd']:.4f})")
    print(f"   emulator, --no-journal:      {t['journal_off_rps']:8.0f} req/s   runs: "
          + ", ".join(f"{x:.0f}" for x in t["runs"]["journal_off"]))
    print(f"   emulator, --journal FILE:    {t['journal_file_rps']:8.0f} req/s   runs: "
          + ", ".join(f"{x:.0f}" for x in t["runs"]["journal_file"]))
    ok_journal = t["journal_ratio"] >= 0.9
    print(f"   journal in memory / off: {t['journal_ratio']:.2f} (best/best), "
          f"{t['journal_pair_median']:.2f} (median of the rounds' pairs)  (goal >= 0.90: "
          f"{'met' if ok_journal else 'NOT met'}); in memory and a file / off: "
          f"{t['file_ratio']:.2f}, {t['file_pair_median']:.2f}")
    print(f"   the journals held {t['journal_total']:,} entries in memory (dropped "
          f"{t['journal_dropped']:,} beyond the newest 200,000); the file got {t['file_lines']:,} "
          "lines")
    cost = record_cost()
    per_answer = 1e6 / t["journal_off_rps"]
    print(f"   recording one answer takes {cost:.1f} us in process: {cost / per_answer:.1%} of the "
          f"{per_answer:.0f} us an answer takes at the --no-journal throughput (the runs above "
          "also carry this shared machine's noise)")

    rows = precision(prec_s, (50, 500), (0.5, 1.0, 2.0, 5.0))
    print(f"\n2. Paid RPS enforcement precision, policy 2025-04, {prec_s:g} s per point "
          "(admitted per server second; first/last partial seconds excluded)")
    print("   limit  load  target   offered  max/s  min/s  mean/s  statuses                  "
          "machine-limited s  verdict")
    all_ok = True
    machine_bound = False
    for r in rows:
        limit = r["limit"]
        never_above = r["max_admitted"] <= limit
        floor = r["min_full_second"] is None or r["factor"] < 1.0 or r["min_full_second"] >= 0.95 * limit
        exact = r["early_refusals"] == 0
        if never_above and exact and floor:
            verdict = "ok"
        elif never_above and exact and r["machine_limited"]:
            verdict = "ok (machine could not offer the load)"
            machine_bound = True
        else:
            verdict = "MISSED"
            all_ok = False
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items()))
        mean = f"{r['mean_full_second']:.1f}" if r["mean_full_second"] is not None else "-"
        low = r["min_full_second"] if r["min_full_second"] is not None else "-"
        print(f"   {limit:5d}  {r['factor']:3g}x  {r['target_rps']:6.0f}  {r['offered_rps']:8.0f}  "
              f"{r['max_admitted']:5d}  {low:>5}  {mean:>6}  {statuses:<24}  "
              f"{r['machine_limited']}/{r['full_seconds']:<15}  {verdict}")
    print("   never above the limit, and no 429 in a second that admitted fewer than the limit: "
          f"{'met' if all_ok else 'NOT met'}; >= 95% of the limit from 1x: "
          + ("met" if all_ok and not machine_bound else
             "met where the machine offered the load (see machine-limited seconds)" if all_ok else "NOT met"))
    return 0


def _has_httptools() -> bool:
    try:
        import httptools  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    raise SystemExit(main())
