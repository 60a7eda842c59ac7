"""Python-side cost of one slider change until every dependent view is updated (no frontend).

Two measurements, each next to a baseline measured in the same run:

1. ``RPSExplorer``: the balance slider moves; the model, the readout, the typed field and the
   chart's marker update in place (``batch_update`` on the existing FigureWidget). Baseline: the
   usual ``interact`` approach, which recomputes the readout and builds a new FigureWidget with the
   same traces on every change. Measured twice: without a running loop (the figure refreshes its
   synced state, for views that connect later, after every change) and as in a kernel (a running
   loop coalesces that refresh to one per drag; its one-off cost is printed).
2. ``Dashboard``: the same slider, with all five tabs observing the shared account (RPS, free
   quota, planner forecast, advisor, account panel). The planner's engine simulation is debounced
   in a notebook and is left out (its one-off cost is printed). Baseline: rebuild the three charts
   (RPS, free quota, planner) from scratch on every change.

Medians over N changes (default 1,000; the baselines over fewer, since each costs tens of ms).

    python benchmarks/widgets.py [N] [N_BASELINE]
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from orwidgets.policy import explain_paid_rps, get_policy


def _balances(n: int) -> list[float]:
    """``n`` distinct balances spread over the slider's log range (each change really changes)."""
    lo, hi = math.log10(0.02), math.log10(1900.0)
    return [round(10 ** (lo + (hi - lo) * ((i * 0.618034) % 1.0)), 2) for i in range(n)]


def _median_ms(fn: Callable[[float], Any], values: list[float]) -> float:
    times = []
    for v in values:
        t0 = time.perf_counter_ns()
        fn(v)
        times.append(time.perf_counter_ns() - t0)
    return statistics.median(times) / 1e6


# --- the interact-style baselines ---------------------------------------------------------------


def rebuild_rps(balance: float, policy_id: str) -> tuple[str, Any]:
    """What an ``interact`` callback does: readout and a brand-new figure for this balance."""
    import plotly.graph_objects as go

    from orwidgets.widgets._common import COLORS, figure_layout
    from orwidgets.widgets.rps import _LINE_END_USD, SLIDER_MAX_USD, SLIDER_MIN_USD, staircase

    version = get_policy(policy_id)
    answer = explain_paid_rps(balance, version)
    readout = f'<span class="orw-rps-value">{answer.rps}</span> ({answer.rule}) {answer.text}'
    xs, ys = staircase(version)
    fig = go.FigureWidget(layout=figure_layout(
        xaxis={"type": "log", "range": [math.log10(SLIDER_MIN_USD), math.log10(SLIDER_MAX_USD)]},
        yaxis={"type": "log", "range": [math.log10(0.7), math.log10(800)]}))
    band = [0.5, 0.5, 1e4, 1e4]
    fig.add_scatter(name="floor region", x=[SLIDER_MIN_USD, 1, 1, SLIDER_MIN_USD], y=band,
                    fill="toself", fillcolor=COLORS["floor"], mode="lines")
    fig.add_scatter(name="cap region", x=[500, _LINE_END_USD, _LINE_END_USD, 500], y=band,
                    fill="toself", fillcolor=COLORS["cap"], mode="lines")
    fig.add_scatter(name="paid RPS", x=xs, y=ys, mode="lines")
    fig.add_scatter(name="current balance", x=[balance], y=[answer.rps], mode="markers")
    return readout, fig


def rebuild_dashboard_charts(dash: Any, balance: float) -> list[Any]:
    """Rebuild the three charts of the dashboard from scratch, each with its current data."""
    from orwidgets.widgets.planner import HOUR, _bucket

    dash.account.balance_usd = balance  # the models and readouts still update
    _, rps_fig = rebuild_rps(balance, dash.account.policy)
    quota_fig = dash.quota._make_figure()
    marker = next(t for t in quota_fig.data if t.name == "your quota")
    marker.x, marker.y = [dash.account.policy], [dash.quota.model.daily_quota]
    planner = dash.planner
    plan_fig = planner._make_figure()
    m = planner.model
    if m.result is not None:
        data = _bucket(m.result, m.rate_at)
        traces = {t.name: t for t in plan_fig.data}
        traces["balance"].update(x=data["hours"], y=data["balance"])
        traces["paid RPS cap"].update(x=data["hours"], y=data["cap"])
        traces["needed RPS"].update(x=data["hours"], y=data["need"])
    if m.crossing_s is not None:
        x = m.crossing_s / HOUR
        next(t for t in plan_fig.data if t.name == "forecast crossing").update(
            x=[x, x], y=[0, m.needed_rps * 1.2])
    return [rps_fig, quota_fig, plan_fig]


# --- runs ---------------------------------------------------------------------------------------


def bench_rps(n: int, n_base: int) -> tuple[float, float]:
    from orwidgets.widgets import RPSExplorer

    explorer = RPSExplorer(balance_usd=10.0)
    slider = explorer._slider
    marker = next(t for t in explorer.figure.data if t.name == "current balance")

    def change(v: float) -> None:
        slider.value = v

    _median_ms(change, _balances(20))  # warm-up
    values = _balances(n)
    ours = _median_ms(change, values)
    # Every dependent view must show the last value.
    last = values[-1]
    assert explorer.balance_usd == last and explorer._input.value == last
    assert tuple(marker.x) == (last,) and tuple(marker.y) == (explorer.rps,)
    assert f">{explorer.rps}</span>" in explorer._readout.value

    rebuild_rps(1.0, "2025-04")  # warm-up
    base = _median_ms(lambda v: rebuild_rps(v, "2025-04"), _balances(n_base))
    return ours, base


def bench_rps_in_kernel(n: int) -> tuple[float, float]:
    """As in a kernel: a running loop, so the figures' synced-state refresh is coalesced (one per
    drag, a moment later). Returns the per-change median and the cost of that one refresh."""
    from orwidgets.widgets import RPSExplorer, _common

    pending: list[Callable[[], None]] = []

    class _Later:
        def cancel(self) -> None:
            pass

    def later(delay: float, fn: Callable[[], None]) -> _Later:
        pending.append(fn)  # the loop would run it once the drag pauses
        return _Later()

    saved = _common.call_later
    _common.call_later = later
    try:
        explorer = RPSExplorer(balance_usd=10.0)
        slider = explorer._slider

        def change(v: float) -> None:
            slider.value = v

        _median_ms(change, _balances(20))
        while pending:  # let the warm-up's refresh happen, as the loop would
            pending.pop()()
        ours = _median_ms(change, _balances(n))
        assert len(pending) == 1, "one refresh for the whole drag"
        t0 = time.perf_counter_ns()
        pending.pop()()
        refresh_ms = (time.perf_counter_ns() - t0) / 1e6
        marker = next(t for t in explorer.figure._widget_data if t["name"] == "current balance")
        assert list(marker["x"]) == [explorer.balance_usd]
    finally:
        _common.call_later = saved
    return ours, refresh_ms


def bench_dashboard(n: int, n_base: int) -> tuple[float, float, float]:
    from orwidgets.widgets import AccountModel, Dashboard

    pending: list[Any] = []

    class _Later:
        def cancel(self) -> None:
            pass

    def later(delay: float, fn: Callable[[], None]) -> _Later:
        pending[:] = [fn]  # the debounced simulation: kept, not run, during the drag
        return _Later()

    dash = Dashboard(AccountModel(balance_usd=10.0, purchased_usd=0.0),
                     planner={"scheduler": later}, show_live_calls=False)
    t0 = time.perf_counter()
    dash.planner.run_simulation()
    sim_ms = (time.perf_counter() - t0) * 1e3
    slider = dash.rps._slider

    def change(v: float) -> None:
        slider.value = v

    _median_ms(change, _balances(20))
    values = _balances(n)
    ours = _median_ms(change, values)
    last = values[-1]
    assert dash.planner._balance.value == last and dash.planner.balance_usd == last
    assert dash.quota.model.quota_by_balance is not None

    rebuild_dashboard_charts(dash, 1.0)
    base = _median_ms(lambda v: rebuild_dashboard_charts(dash, v), _balances(n_base))
    return ours, base, sim_ms


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else 1000
    n_base = int(args[1]) if len(args) > 1 else 200

    ours, base = bench_rps(n, n_base)
    row = "  {:<41} median {:8.3f} ms over {:,} changes"
    print("RPSExplorer: one balance-slider change until readout, field and marker are updated")
    print(row.format("in place (batch_update):", ours, n))
    print(row.format("baseline, rebuild the figure (interact):", base, n_base))
    print(f"  ratio baseline / in place: {base / ours:.1f}x")
    kernel, refresh_ms = bench_rps_in_kernel(n)
    print(row.format("in place, as in a kernel (see below):", kernel, n))
    print(f"  ratio baseline / in place in a kernel: {base / kernel:.1f}x; the figure's synced-state"
          f" refresh, once per drag: {refresh_ms:.3f} ms")

    ours, base, sim_ms = bench_dashboard(n, n_base)
    print("Dashboard: the same slider, all five tabs following the shared account")
    print(row.format("in place (all tabs):", ours, n))
    print(row.format("baseline, rebuild the 3 charts:", base, n_base))
    print(f"  ratio baseline / in place: {base / ours:.1f}x")
    print(f"  (planner's debounced engine simulation of 1 hour, run once: {sim_ms:.0f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
