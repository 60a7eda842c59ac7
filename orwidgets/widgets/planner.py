"""The depletion planner: a balance spent by traffic, the paid RPS cap falling with it, and the
top-up that keeps the cap above what the business needs.

This is the article's production warning made visible: under the balance-linked versions
(``legacy-2024``, ``2025-04``) the paid cap is the balance in dollars rounded up, so traffic that
spends the balance lowers its own ceiling.

Two kinds of numbers, both shown:

* **forecast** (instant, closed form): when the cap first falls below the need, and the smallest
  top-up that keeps it at or above the need for a chosen period;
* **simulation** (the engine, second by second, through :func:`orwidgets.simulation.simulate`):
  what actually happens, 429s and 402s included. About a second per simulated day, so the view
  runs it debounced for short horizons and on "Simulate" for long ones.

The closed form. Let ``r`` be the needed rate and ``c`` the cost per call. The cap is below ``r``
exactly when ``paid_rps(B) < r``; in the balance-linked range ``paid_rps(B) = ceil(B)``, and
``ceil(B) < r`` holds exactly when ``B <= ceil(r) - 1 =: T``. (If ``ceil(r) <= 1`` the 1 RPS floor
always covers the need; if ``ceil(r)`` exceeds the 500 cap no balance does.) While the need is
served in full the balance after ``t`` seconds is ``B(t) = B0 + X - S(t)`` with spend ``S(t)``
(``r * c * t`` at a constant rate), so the cap stays at or above the need through a period ``P``
exactly when ``B0 + X - S(P) > T``, i.e. ``X > T + S(P) - B0``; the balance falls fastest at the end
of the period, so the end is the binding instant. Without a top-up the crossing is at
``(B0 - T) / (r * c)`` seconds. With an hourly traffic pattern the same holds per hour with that
hour's ``T`` and ``S``. Separately the balance must cover the calls themselves: ``X >= S(P) - B0``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import ipywidgets as W
from traitlets import (
    Bool,
    Enum,
    Float,
    HasTraits,
    Instance,
    Int,
    List,
    TraitError,
    Unicode,
    default,
    dlink,
    link,
    validate,
)

from ..i18n import N_
from ..policy import PolicyVersion, get_policy
from ..simulation import SimulationResult, Traffic, simulate
from ._common import (
    COLORS,
    CSS,
    Notice,
    call_later,
    esc,
    figure_layout,
    figure_widget,
    aligned_ranges,
    fmt_count,
    fmt_duration,
    fmt_usd,
    guarded,
    html_text,
    plural_n,
    policy_caption,
    policy_picker,
    set_number,
    widget_translator,
)
from ._model import AccountModel, FiniteFloat, PolicyId

__all__ = [
    "PATTERNS",
    "PlannerModel",
    "DepletionPlanner",
    "balance_threshold",
    "catalogue_prices",
    "MAX_HORIZON_HOURS",
]

HOUR = 3600
DAY = 24 * HOUR
#: Longest simulation the planner runs (about a second per simulated day).
MAX_HORIZON_HOURS = 168
#: verify_topup() simulates at most this many last hours of a period: the end decides, and two
#: days hold every hour of the daily pattern at least once (about two seconds of work).
VERIFY_WINDOW_HOURS = 48
#: How far ahead the forecast looks for a crossing (it is closed form: cheap).
_LOOKAHEAD_HOURS = 24 * 366
#: Points per trace on the chart: a week of seconds is bucketed down to this many.
MAX_POINTS = 1500

#: Traffic shapes over the UTC day, as a fraction of the needed (peak) rate per hour. The names
#: are the values code gives (``pattern="constant"``); the picker shows them translated.
#: [inv] illustrative shapes, not OpenRouter data.
PATTERNS: dict[str, tuple[float, ...]] = {
    N_("constant"): (1.0,) * 24,
    N_("business hours (09-18 UTC)"): tuple(1.0 if 9 <= h < 18 else 0.2 for h in range(24)),
    N_("daily wave (peak 14:00 UTC)"): tuple(
        round(0.55 - 0.45 * math.cos(2 * math.pi * (h - 14) / 24), 3) for h in range(24)
    ),
}


def balance_threshold(need_rps: float, policy: str | PolicyVersion | None = None) -> float | str:
    """The balance at or below which the paid cap is below ``need_rps``.

    Returns ``"never"`` when the version has no balance-linked cap or its floor already covers the
    need, ``"always"`` when the need is above the version's cap, else ``T = ceil(need) - 1``: the
    cap is below the need exactly when ``balance <= T`` (``paid_rps(B) = ceil(B)`` in that range).
    """
    version = get_policy(policy)
    need = round(float(need_rps), 9)
    if not version.paid_rps_linked:
        return "never"
    whole = math.ceil(need)
    if whole <= version.paid_rps_min:
        return "never"
    if whole > version.paid_rps_cap:
        return "always"
    return float(whole - 1)


def catalogue_prices() -> dict[str, tuple[float, float]]:
    """Paid models of the emulator's catalogue: ``id -> (prompt, completion)`` USD per token.

    Empty when the catalogue cannot be imported (the planner then offers cost per request only).
    """
    try:
        from ..emulator.catalogue import CATALOGUE
    except Exception:  # noqa: BLE001 - optional: the per-request cost still works
        return {}
    return {m.id: (m.prompt_price_usd, m.completion_price_usd) for m in CATALOGUE if not m.free}


def _cents_above(x: float) -> float:
    """Smallest whole-cent amount strictly above ``x``."""
    return (math.floor(round(x * 100, 6)) + 1) / 100


def _cents_at_least(x: float) -> float:
    """Smallest whole-cent amount at or above ``x``."""
    return math.ceil(round(x * 100, 6)) / 100


class PlannerModel(HasTraits):
    """Balance, paid cap and need over time (no widgets).

    Parameters
    ----------
    account : AccountModel
        Start balance, purchases and policy.
    cost_mode : {"per request", "model"}
        Take ``cost_per_request_usd`` as is, or price ``prompt_tokens``/``completion_tokens`` with
        ``model_id``'s catalogue prices.
    needed_rps : float
        Requests per second the business needs at its peak (clamped to 0..10,000).
    pattern : str
        A key of :data:`PATTERNS`: the need over the UTC day (the simulation starts at 00:00 UTC).
    horizon_hours : int
        Simulated hours (1 to :data:`MAX_HORIZON_HOURS`).
    plan_hours : float
        The period the top-up must cover (clamped to 0..8,784, one leap year).
    lang : str, optional
        The language of ``topup_reason`` and ``topup_check`` (the language in force when
        omitted: see :func:`orwidgets.i18n.get_language`).

    Attributes
    ----------
    cost_usd : float
        Cost of one call.
    threshold_usd : float or None
        ``T`` at the peak need (see the module docstring); ``None`` if the cap never limits it.
    crossing_s : float or None
        Forecast seconds until the cap falls below the need (``None``: not within a year).
    topup_usd : float
        Smallest top-up (whole cents) keeping the cap at or above the need, and the balance
        covering the calls, for ``plan_hours``. ``topup_possible`` is false when the need is above
        the cap (no balance helps).
    result : SimulationResult or None
        The last simulation; ``stale`` is true when inputs changed since.
    sim_crossing_s, sim_runout_s : float or None
        From the simulation: end of the first second whose cap is below that second's need, and
        of the first second with a 402.
    """

    account = Instance(AccountModel, help="Start balance, purchases and policy")
    cost_mode = Enum(["per request", "model"], "per request", help="How a call's cost is given")
    cost_per_request_usd = FiniteFloat(0.001, help="Cost of one paid call in USD (>= 0)")
    model_id = Unicode("", help="Catalogue model priced when cost_mode is 'model'")
    prompt_tokens = Int(1000, help="Typical prompt tokens per call (>= 0)")
    completion_tokens = Int(300, help="Typical completion tokens per call (>= 0)")
    needed_rps = FiniteFloat(5.0, help="Paid requests per second the business needs at peak")
    pattern = Enum(list(PATTERNS), "constant", help="Shape of the need over the UTC day")
    horizon_hours = Int(1, help="Hours to simulate (1..168)")
    plan_hours = FiniteFloat(24.0, help="Hours the top-up must keep the cap above the need")

    cost_usd = Float(0.0, help="Derived: cost of one call, USD")
    spend_per_hour_usd = Float(0.0, help="Derived: spend per hour at the peak need, USD")
    threshold_usd = Float(None, allow_none=True,
                          help="Derived: balance at or below which the cap is below the peak need")
    cap_always_short = Bool(False, help="Derived: the need is above the version's cap")
    crossing_s = Float(None, allow_none=True,
                       help="Derived: forecast seconds until the cap falls below the need")
    topup_usd = Float(0.0, help="Derived: top-up keeping the cap above the need for plan_hours")
    topup_possible = Bool(True, help="Derived: whether any balance keeps the cap above the need")
    topup_reason = Unicode("", help="Derived: which condition sets topup_usd")

    result = Instance(SimulationResult, allow_none=True, help="The last simulation")
    stale = Bool(True, help="Inputs changed since the last simulation")
    sim_crossing_s = Float(None, allow_none=True, help="Simulated: cap first below the need")
    sim_runout_s = Float(None, allow_none=True, help="Simulated: first 402 (balance too low)")
    sim_counts = List(help="Simulated: [ok, 429 paid rate, 402] totals")
    topup_check = Unicode("", help="Outcome of verify_topup(), if run")
    revision = Int(0, help="Bumped once after every recomputation: views observe this only")

    _INPUTS = ("cost_mode", "cost_per_request_usd", "model_id", "prompt_tokens",
               "completion_tokens", "needed_rps", "pattern", "horizon_hours", "plan_hours")

    @default("account")
    def _default_account(self) -> AccountModel:
        return AccountModel()

    def __init__(self, account: AccountModel | None = None, *, lang: str | None = None,
                 **kwargs: Any) -> None:
        self._ = widget_translator(lang)
        self.prices = catalogue_prices()
        super().__init__(**({"account": account} if account is not None else {}), **kwargs)
        if not self.model_id and self.prices:
            self.model_id = next(iter(self.prices))
        self.account.observe(self._update, names=["balance_usd", "policy", "purchased_usd"])
        self.observe(self._update, names=list(self._INPUTS))
        self._update()

    # -- validation: clamp, never raise for out-of-range numbers ---------------------------------

    @validate("cost_per_request_usd")
    def _v_cost(self, p):
        return min(100.0, max(0.0, p["value"]))

    @validate("prompt_tokens", "completion_tokens")
    def _v_tokens(self, p):
        return min(10_000_000, max(0, p["value"]))

    @validate("needed_rps")
    def _v_need(self, p):
        return min(10_000.0, max(0.0, p["value"]))

    @validate("horizon_hours")
    def _v_horizon(self, p):
        return min(MAX_HORIZON_HOURS, max(1, p["value"]))

    @validate("plan_hours")
    def _v_plan(self, p):
        return min(float(_LOOKAHEAD_HOURS), max(0.0, p["value"]))

    @validate("model_id")
    def _v_model(self, p):
        if p["value"] and self.prices and p["value"] not in self.prices:
            raise TraitError(f"model_id: {p['value']!r} is not a paid model of the catalogue")
        return p["value"]

    # -- forecast --------------------------------------------------------------------------------

    def rate_at(self, second: float) -> float:
        """The needed rate at ``second`` since 00:00 UTC of the first day."""
        return self.needed_rps * PATTERNS[self.pattern][int(second // HOUR) % 24]

    def traffic(self) -> Traffic:
        shape, need = PATTERNS[self.pattern], self.needed_rps
        rps: Any = need if self.pattern == "constant" else (
            lambda s: need * shape[int(s // HOUR) % 24])
        return Traffic(rps=rps, free_fraction=0.0, cost_per_call_usd=self.cost_usd)

    def _update(self, change: Any = None) -> None:
        version = self.account.version
        if self.cost_mode == "model" and self.model_id in self.prices:
            p, c = self.prices[self.model_id]
            cost = self.prompt_tokens * p + self.completion_tokens * c
        else:
            cost = self.cost_per_request_usd
        b0 = self.account.balance_usd
        peak_t = balance_threshold(self.needed_rps, version)
        crossing = self._forecast_crossing(b0, cost, version)
        topup, possible, reason = self._forecast_topup(b0, cost, version)
        with self.hold_trait_notifications():
            self.cost_usd = cost
            self.spend_per_hour_usd = self.needed_rps * cost * HOUR
            self.threshold_usd = peak_t if isinstance(peak_t, float) else None
            self.cap_always_short = peak_t == "always"
            self.crossing_s = crossing
            self.topup_usd = topup
            self.topup_possible = possible
            self.topup_reason = reason
            self.stale = True
            self.topup_check = ""
        self.revision += 1

    def _day(self, cost: float) -> tuple[list[float], list[float], list[float], float]:
        """Per hour of the UTC day: needed rate, spend per second, spend before the hour; and
        the spend of a whole day (the pattern repeats daily, which keeps the forecast O(24))."""
        rates = [self.needed_rps * f for f in PATTERNS[self.pattern]]
        per_s = [r * cost for r in rates]
        before, total = [], 0.0
        for spend in per_s:
            before.append(total)
            total += spend * HOUR
        return rates, per_s, before, total

    def _spend(self, t: float, per_s: list[float], before: list[float], day: float) -> float:
        """Spend in the first ``t`` seconds if every needed call is served."""
        days, rest = divmod(t, DAY)
        h = min(23, int(rest // HOUR))
        return days * day + before[h] + per_s[h] * (rest - h * HOUR)

    def _forecast_crossing(self, b0: float, cost: float, version: PolicyVersion) -> float | None:
        if self.pattern == "constant":
            t = balance_threshold(self.needed_rps, version)
            if t == "never":
                return None
            if t == "always" or b0 <= t:
                return 0.0
            per_s = self.needed_rps * cost
            return (b0 - t) / per_s if per_s > 0 else None
        rates, per_s, before, day = self._day(cost)
        best: float | None = None
        for h, rate in enumerate(rates):
            t = balance_threshold(rate, version)
            if t == "never":
                continue
            if t == "always":
                candidate = h * HOUR
            else:
                # First day d whose hour h ends at or below T: b0 - d*day - spend to its end <= T.
                over = b0 - before[h] - per_s[h] * HOUR - t
                if over <= 0:
                    d = 0
                elif day > 0:
                    d = math.ceil(round(over / day, 9))
                else:
                    continue
                at_start = b0 - d * day - before[h]
                within = 0.0 if at_start <= t else (at_start - t) / per_s[h]
                candidate = d * DAY + h * HOUR + within
            best = candidate if best is None else min(best, candidate)
        if best is None or best > _LOOKAHEAD_HOURS * HOUR:
            return None
        return best

    def _forecast_topup(self, b0: float, cost: float,
                        version: PolicyVersion) -> tuple[float, bool, str]:
        period = self.plan_hours * HOUR
        rates, per_s, before, day = self._day(cost)
        spent = self._spend(period, per_s, before, day)
        worst_cap: float | None = None  # max over the period's hours of T_h + S(end of hour)
        for h, rate in enumerate(rates):
            if h * HOUR >= period:
                break  # this hour of the day never comes within the period
            t = balance_threshold(rate, version)
            if t == "never":
                continue
            if t == "always":
                return 0.0, False, self._(
                    "A need of {need} RPS is above the {cap} RPS cap: no balance reaches it."
                ).format(need=fmt_count(rate), cap=fmt_count(version.paid_rps_cap))
            # S only grows, so the binding instant is the end of the last such hour in the period.
            last_start = h * HOUR + math.floor((period - h * HOUR - 1e-9) / DAY) * DAY
            end = min(last_start + HOUR, period)
            need = t + self._spend(end, per_s, before, day)
            worst_cap = need if worst_cap is None else max(worst_cap, need)
        cover = _cents_at_least(spent - b0)
        cap = _cents_above(worst_cap - b0) if worst_cap is not None else 0.0
        topup = max(0.0, cover, cap)
        _ = self._
        if topup == 0:
            reason = _("The balance already covers the period.")
        elif cap >= cover:
            reason = _("Keeps the paid cap at or above the need to the end of the period.")
        else:
            reason = _("Keeps the balance above the cost of the calls to the end of the period.")
        return topup, True, reason

    # -- simulation ------------------------------------------------------------------------------

    def simulate(self) -> SimulationResult:
        """Run the engine over ``horizon_hours`` from the account's balance (no top-up)."""
        result = simulate(
            self.traffic(), self.horizon_hours * HOUR,
            balance_usd=self.account.balance_usd,
            purchased_usd=self.account.purchased_usd,
            policy=self.account.policy,
        )
        from ..engine import Reason

        crossing = self._sim_crossing(result)
        runout = result.first_second(lambda i: result.outcomes[Reason.AFFORDABILITY][i] > 0
                                     or result.outcomes[Reason.NEGATIVE_BALANCE][i] > 0)
        with self.hold_trait_notifications():
            self.result = result
            self.sim_crossing_s = crossing
            self.sim_runout_s = None if runout is None else float(runout)
            self.sim_counts = [result.count(Reason.OK), result.count(Reason.PAID_RATE),
                               result.count(Reason.AFFORDABILITY)
                               + result.count(Reason.NEGATIVE_BALANCE)]
            self.stale = False
        self.revision += 1
        return result

    def _sim_crossing(self, result: SimulationResult) -> float | None:
        caps = result.paid_rps_cap
        if self.pattern == "constant":
            i = result.first_cap_below(self.needed_rps)
        else:
            i = result.first_second(lambda j: caps[j] is not None and caps[j] < self.rate_at(j))
        # A second's cap is the one at its end: the crossing happens by the end of second i.
        return None if i is None else float(i + 1)

    def verify_topup(self) -> bool:
        """Check the top-up with the engine; true when the cap never falls below the need and no
        call gets a 402. The outcome text goes to ``topup_check``.

        Periods up to :data:`VERIFY_WINDOW_HOURS` are simulated whole. Longer ones simulate their
        last days only (whole days, so the pattern keeps its phase), starting from the balance
        left after the days before: the end of the period is where the balance is lowest, so that
        is the part that decides.
        """
        from ..engine import Reason

        period = int(round(self.plan_hours * HOUR))
        skip = max(0, math.ceil((period - VERIFY_WINDOW_HOURS * HOUR) / DAY) * DAY)
        _, per_s, before, day = self._day(self.cost_usd)
        start_balance = (self.account.balance_usd + self.topup_usd
                         - self._spend(skip, per_s, before, day))
        seconds = period - skip
        result = simulate(
            self.traffic(), seconds,
            balance_usd=start_balance,
            purchased_usd=self.account.purchased_usd + self.topup_usd,
            policy=self.account.policy,
        )
        crossing = self._sim_crossing(result)
        refused = result.count(Reason.AFFORDABILITY) + result.count(Reason.NEGATIVE_BALANCE)
        ok = crossing is None and refused == 0 and self.topup_possible
        _ = self._
        if not skip:
            what = _("Simulated {span} with {topup} added").format(
                span=fmt_duration(seconds, _), topup=fmt_usd(self.topup_usd))
        else:
            what = _("Simulated the last {span} of {period} with {topup} added").format(
                span=fmt_duration(seconds, _), period=fmt_duration(period, _),
                topup=fmt_usd(self.topup_usd))
        if ok:
            self.topup_check = _("{what}: the cap never fell below the need and no call got a "
                                 "402.").format(what=what)
        else:
            cap_text = (_("the cap stayed at or above the need") if crossing is None
                        else _("cap below the need after {span}").format(
                            span=fmt_duration(crossing, _)))
            self.topup_check = _.ngettext(
                "{what}: {cap}, {n} call refused with 402.",
                "{what}: {cap}, {n} calls refused with 402.", plural_n(refused),
            ).format(what=what, cap=cap_text, n=fmt_count(refused))
        self.revision += 1
        return ok


#: The chart's traces: (name, how it is drawn). The name is the trace's ``meta``, and its
#: ``name`` in the widget's language.
_TRACES: tuple[tuple[str, dict[str, Any]], ...] = (
    (N_("balance"), {"mode": "lines", "line": {"color": COLORS["balance"]}}),
    (N_("paid RPS cap"), {"mode": "lines", "yaxis": "y2",
                          "line": {"color": COLORS["paid"], "shape": "hv"}}),
    (N_("needed RPS"), {"mode": "lines", "yaxis": "y2",
                        "line": {"color": COLORS["need"], "dash": "dash", "shape": "hv"}}),
    (N_("cap below need"), {"mode": "markers", "yaxis": "y2",
                            "marker": {"color": COLORS["crossing"], "size": 12, "symbol": "x"}}),
    (N_("forecast crossing"), {"mode": "lines", "yaxis": "y2",
                               "line": {"color": COLORS["crossing"], "dash": "dot", "width": 1}}),
)


def _bucket(result: SimulationResult, need: Callable[[float], float]) -> dict[str, list[Any]]:
    """Down-sample per-second series to at most MAX_POINTS (balance at bucket end, the lowest cap
    and the highest need in the bucket, so dips stay visible)."""
    n = len(result.seconds)
    size = max(1, math.ceil(n / MAX_POINTS))
    hours, balance, cap, needs = [], [], [], []
    for lo in range(0, n, size):
        hi = min(n, lo + size)
        hours.append(hi / HOUR)
        balance.append(result.balance_usd[hi - 1])
        caps = [c for c in result.paid_rps_cap[lo:hi] if c is not None]
        cap.append(min(caps) if caps else None)
        needs.append(max(need(i) for i in range(lo, hi, max(1, (hi - lo) // 4))))
    return {"hours": hours, "balance": balance, "cap": cap, "need": needs}


class DepletionPlanner(W.VBox):
    """Plan a balance for production traffic: when does the paid cap fall below the need, and
    what top-up keeps it above?

    Parameters
    ----------
    account : AccountModel, optional
        Shared account (its balance is the starting balance).
    auto_simulate_hours : int
        Horizons up to this many hours re-simulate by themselves (debounced); longer ones wait for
        the Simulate button. Default 24 (about a second of work).
    debounce_s : float
        Pause after the last change before an automatic simulation.
    scheduler : callable, optional
        ``scheduler(delay_s, fn) -> handle with cancel()``; default: the kernel's event loop, or
        at once when no loop runs (scripts, tests).
    lang : {"en", "ja", "zh"}, optional
        The language of its text (:func:`orwidgets.set_language` wins, then this, then
        ``ORWIDGETS_LANG``); kept for the widget's life.
    **inputs
        Initial values for :class:`PlannerModel` inputs (``needed_rps=20``, ...).

    Attributes
    ----------
    policy, balance_usd : linked to the account.
    needed_rps, crossing_s, topup_usd : linked to / derived from the model.
    model : PlannerModel
    figure : plotly.graph_objects.FigureWidget
        Traces ``"balance"`` (y, US$), ``"paid RPS cap"``, ``"needed RPS"`` (y2), the markers
        ``"cap below need"`` (simulated) and ``"forecast crossing"`` (closed form): each trace's
        ``meta``; its ``name`` is in the widget's language.
    """

    policy = PolicyId(help="Policy version id (linked to the account)")
    balance_usd = FiniteFloat(help="Starting balance, USD (linked to the account)")
    needed_rps = FiniteFloat(help="Needed paid RPS at peak (linked to the model)")
    crossing_s = Float(None, allow_none=True, help="Derived: forecast seconds to the crossing")
    topup_usd = Float(help="Derived: top-up keeping the cap above the need for the period")

    def __init__(self, account: AccountModel | None = None, *, auto_simulate_hours: int = 24,
                 debounce_s: float = 0.4,
                 scheduler: Callable[[float, Callable[[], None]], Any] | None = None,
                 lang: str | None = None, **inputs: Any) -> None:
        layout_kwargs = {k: inputs.pop(k) for k in ("layout",) if k in inputs}
        super().__init__(**layout_kwargs)
        self._ = _ = widget_translator(lang)
        self.lang = _.lang
        self.account = account if account is not None else AccountModel()
        self.model = PlannerModel(self.account, lang=self.lang, **inputs)
        self.auto_simulate_hours = auto_simulate_hours
        self.debounce_s = debounce_s
        self._schedule = scheduler or call_later
        self._pending: Any = None
        self._drawn_result: SimulationResult | None = None
        self._spans: dict[str, list[float]] | None = None
        self._notice = Notice(_)
        self._syncing = False
        m = self.model

        self._picker = policy_picker(self.account.policy, _)
        self._caption = W.HTML()
        style = {"description_width": "initial"}
        self._balance = W.FloatText(value=self.account.balance_usd,
                                    description=_("start balance $"),
                                    style=style, layout=W.Layout(width="210px"))
        # The buttons say what they choose (a separate "cost" description sat on a line of its
        # own); "auto" widths and no shrinking keep both labels whole and side by side.
        self._cost_mode = W.ToggleButtons(options=[(_("cost per request"), "per request"),
                                                   (_("cost by model"), "model")],
                                          value=m.cost_mode, style={"button_width": "auto"},
                                          layout=W.Layout(width="auto", flex="0 0 auto"))
        self._cost_mode.add_class("orw-cost-mode")
        self._cost = W.FloatText(value=m.cost_per_request_usd, description=_("$ per request"),
                                 step=0.0001, style=style, layout=W.Layout(width="210px"))
        models = list(m.prices)
        unavailable = _("(catalogue unavailable)")
        self._model = W.Dropdown(options=models or [unavailable],
                                 value=m.model_id or (models[0] if models else unavailable),
                                 description=_("model"), style=style, disabled=not models,
                                 layout=W.Layout(width="320px"))
        self._model.add_class("orw-planner-model")
        self._prompt = W.IntText(value=m.prompt_tokens, description=_("prompt tokens"), style=style,
                                 layout=W.Layout(width="190px"))
        self._completion = W.IntText(value=m.completion_tokens,
                                     description=_("completion tokens"),
                                     style=style, layout=W.Layout(width="210px"))
        self._need = W.FloatText(value=m.needed_rps, description=_("needed RPS (peak)"),
                                 style=style, layout=W.Layout(width="200px"))
        self._pattern = W.Dropdown(options=[(_(name), name) for name in PATTERNS],
                                   value=m.pattern, description=_("traffic"), style=style,
                                   layout=W.Layout(width="340px"))
        hours = sorted({1, 6, 24, 72, 168, m.horizon_hours})
        self._horizon = W.Dropdown(options=[(self._span_label(h), h) for h in hours],
                                   value=m.horizon_hours, description=_("simulate"), style=style,
                                   layout=W.Layout(width="200px"))
        self._plan = W.FloatText(value=m.plan_hours, description=_("keep the cap for (hours)"),
                                 style=style, layout=W.Layout(width="230px"))
        self._run = W.Button(description=_("Simulate"), icon="play", button_style="primary",
                             layout=W.Layout(width="auto"))
        self._run.add_class("orw-simulate")
        self._apply = W.Button(description=_("Apply top-up"), icon="plus",
                               tooltip=_("Add the suggested top-up to the account"),
                               layout=W.Layout(width="auto"))
        self._apply.add_class("orw-apply-topup")
        self._verify = W.Button(description=_("Check with simulation"), icon="check",
                                layout=W.Layout(width="auto"))
        self._verify.add_class("orw-verify-topup")
        self._readout = W.HTML()
        self._readout.add_class("orw-planner-readout")
        self._status = W.HTML()
        self._status.add_class("orw-planner-status")
        self.figure = self._make_figure()
        self._cost_box = W.HBox()

        self.children = [
            self._picker, self._caption,
            W.HBox([self._balance, self._need, self._pattern]),
            W.HBox([self._cost_mode, self._cost_box]),
            W.HBox([self._horizon, self._plan, self._run]),
            self._readout,
            W.HBox([self._apply, self._verify]),
            self._status, self._notice.widget, self.figure,
        ]
        self.add_class("orw-planner")

        link((self.account, "policy"), (self, "policy"))
        link((self.account, "balance_usd"), (self, "balance_usd"))
        link((m, "needed_rps"), (self, "needed_rps"))
        dlink((m, "crossing_s"), (self, "crossing_s"))
        dlink((m, "topup_usd"), (self, "topup_usd"))
        link((self.account, "policy"), (self._picker, "value"))

        guard = guarded(self._notice)
        for widget, owner, name, label in (
            (self._balance, self.account, "balance_usd", _("start balance")),
            (self._cost, m, "cost_per_request_usd", _("cost per request")),
            (self._prompt, m, "prompt_tokens", _("prompt tokens")),
            (self._completion, m, "completion_tokens", _("completion tokens")),
            (self._need, m, "needed_rps", _("needed RPS")),
            (self._plan, m, "plan_hours", _("period")),
        ):
            widget.observe(guard(self._number_handler(owner, name, label)), names="value")
        self._cost_mode.observe(guard(self._on_choice("cost_mode")), names="value")
        self._pattern.observe(guard(self._on_choice("pattern")), names="value")
        self._horizon.observe(guard(self._on_choice("horizon_hours")), names="value")
        if models:
            self._model.observe(guard(self._on_choice("model_id")), names="value")
        self._run.on_click(guard(lambda _b: self.run_simulation()))
        self._apply.on_click(guard(lambda _b: self.apply_topup()))
        self._verify.on_click(guard(lambda _b: self._on_verify()))
        # The model recomputes on account and input changes and bumps `revision` once.
        m.observe(guard(self._on_model_change), names="revision")
        self._render()
        self._maybe_simulate()

    def _span_label(self, hours: int) -> str:
        """``1 hour``, ``6 hours``, ``3 days``: a simulation's length as the picker names it."""
        if hours % 24 == 0:
            return self._.ngettext("{n} day", "{n} days", plural_n(hours // 24)).format(
                n=hours // 24)
        return self._.ngettext("{n} hour", "{n} hours", plural_n(hours)).format(n=hours)

    def __repr__(self) -> str:
        m = self.model
        return (
            f"DepletionPlanner(policy={self.policy!r}, balance_usd={self.balance_usd!r}, "
            f"needed_rps={m.needed_rps!r}, cost_usd={m.cost_usd!r}, crossing_s={m.crossing_s!r}, "
            f"topup_usd={m.topup_usd!r})"
        )

    # -- inputs --------------------------------------------------------------------------------

    def _number_handler(self, owner: Any, name: str, label: str) -> Callable[[dict], None]:
        def handler(change: dict[str, Any]) -> None:
            if not self._syncing:
                set_number(owner, name, change["new"], self._notice, label)
                self._echo()
        return handler

    def _on_choice(self, name: str) -> Callable[[dict], None]:
        def handler(change: dict[str, Any]) -> None:
            if not self._syncing:
                setattr(self.model, name, change["new"])
        return handler

    def _echo(self) -> None:
        m = self.model
        self._syncing = True
        try:
            self._balance.value = self.account.balance_usd
            self._cost.value = m.cost_per_request_usd
            self._prompt.value = m.prompt_tokens
            self._completion.value = m.completion_tokens
            self._need.value = m.needed_rps
            self._plan.value = m.plan_hours
            self._cost_mode.value = m.cost_mode
            self._pattern.value = m.pattern
            if m.horizon_hours in [v for _, v in self._horizon.options]:
                self._horizon.value = m.horizon_hours
        finally:
            self._syncing = False

    def _on_model_change(self, change: Any = None) -> None:
        if self.model.result is not self._drawn_result:
            self._draw_result()
        self._render()
        self._maybe_simulate()

    # -- actions ---------------------------------------------------------------------------------

    def _maybe_simulate(self) -> None:
        if not self.model.stale or self.model.horizon_hours > self.auto_simulate_hours:
            return
        if self._pending is not None:
            self._pending.cancel()
        self._pending = self._schedule(self.debounce_s, self._auto_run)

    def _auto_run(self) -> None:
        self._pending = None
        guarded(self._notice)(self.run_simulation)()

    def run_simulation(self) -> SimulationResult:
        """Simulate now and redraw the chart (what the Simulate button does)."""
        text = esc(self._("simulating..."))
        self._status.value = f'<span style="color:{CSS["muted"]}">{text}</span>'
        return self.model.simulate()

    def apply_topup(self) -> None:
        """Add the suggested top-up to the shared account (balance and purchases)."""
        if self.model.topup_usd > 0:
            self.account.topup(self.model.topup_usd)

    def _on_verify(self) -> None:
        text = esc(self._("checking..."))
        self._status.value = f'<span style="color:{CSS["muted"]}">{text}</span>'
        self.model.verify_topup()

    # -- outputs -------------------------------------------------------------------------------

    def _render(self) -> None:
        _ = self._
        m, acct = self.model, self.account
        version = acct.version
        self._echo()
        self._caption.value = policy_caption(version, _)
        self._cost_box.children = ([self._cost] if m.cost_mode == "per request"
                                   else [self._model, self._prompt, self._completion])
        fg, muted, warn = CSS["fg"], CSS["muted"], CSS["warn"]
        need = fmt_count(m.needed_rps)
        lines = [
            f'<div style="color:{fg}">' + html_text(
                _("One call costs {cost}; at {need} RPS that is {spend} an hour."),
                cost=f"<b>{esc(fmt_usd_precise(m.cost_usd))}</b>", need=esc(need),
                spend=esc(fmt_usd(m.spend_per_hour_usd))) + "</div>"
        ]
        if not version.paid_rps_linked:
            lines.append(f'<div style="color:{muted}">' + esc(_(
                "Under '{policy}' paid models have no balance-linked platform cap: the balance "
                "limits you only when it can no longer pay for calls (402)."
            ).format(policy=version.id)) + "</div>")
        elif m.cap_always_short:
            lines.append(f'<div style="color:{warn}">' + esc(_(
                "{need} RPS is above the {cap} RPS cap: no balance reaches it."
            ).format(need=need, cap=fmt_count(version.paid_rps_cap))) + "</div>")
        elif m.threshold_usd is None:
            lines.append(f'<div style="color:{muted}">' + esc(_(
                "{need} RPS is within the {floor} RPS floor: the cap never falls below it."
            ).format(need=need, floor=fmt_count(version.paid_rps_min))) + "</div>")
        else:
            if m.crossing_s is None:
                when = _("never (within a year)")
            elif m.crossing_s == 0:
                when = _("already now")
            else:
                when = _("after {span}").format(span=fmt_duration(m.crossing_s, _))
            lines.append(f'<div class="orw-crossing" style="color:{fg}">' + html_text(
                _("The cap falls below {need} RPS once the balance is at or below {threshold}: "
                  "forecast {when}."),
                need=esc(need), threshold=esc(fmt_usd(m.threshold_usd)),
                when=f"<b>{esc(when)}</b>") + "</div>")
        if m.topup_possible:
            goal = (_("To hold it for {period}: top up {topup}.") if version.paid_rps_linked
                    else _("To keep paying for the calls for {period}: top up {topup}."))
            lines.append(
                f'<div class="orw-topup" style="color:{fg}">' + html_text(
                    goal, period=esc(fmt_duration(m.plan_hours * HOUR, _)),
                    topup=f'<b><span class="orw-topup-usd">{esc(fmt_usd(m.topup_usd))}</span></b>')
                + f' <span style="color:{muted}">{esc(m.topup_reason)}</span></div>')
        else:
            lines.append(f'<div style="color:{warn}">{esc(m.topup_reason)}</div>')
        self._readout.value = "".join(lines)
        self._apply.disabled = not (m.topup_possible and m.topup_usd > 0)
        self._render_status()
        self._draw_forecast()

    def _render_status(self) -> None:
        _ = self._
        m = self.model
        parts = []
        if m.result is None:
            parts.append(_("not simulated yet"))
        else:
            ok, rate, refused = m.sim_counts
            cross = (_("the cap stayed above the need") if m.sim_crossing_s is None
                     else _("cap below the need after {span}").format(
                         span=fmt_duration(m.sim_crossing_s, _)))
            parts.append(_("simulated {span}: {ok} served, {throttled} throttled by the paid rate "
                           "(429), {refused} refused (402); {crossing}").format(
                span=fmt_duration(len(m.result.seconds), _), ok=fmt_count(ok),
                throttled=fmt_count(rate), refused=fmt_count(refused), crossing=cross))
            if m.stale:
                parts.append(_("inputs changed since: press Simulate")
                             if m.horizon_hours > self.auto_simulate_hours else _("updating..."))
        if m.topup_check:
            parts.append(m.topup_check)
        text = esc(_("; ").join(parts))
        self._status.value = f'<div style="color:{CSS["muted"]}">{text}</div>'

    def _make_figure(self) -> Any:
        _ = self._
        fig = figure_widget(layout=figure_layout(
            title={"text": _("Balance and paid RPS cap over time"), "x": 0.02},
            xaxis={"title": {"text": _("hours from 00:00 UTC")}},
            # Both y axes share one grid (see _align_axes): the right axis draws no lines of its
            # own, its round ticks sit on the left axis's gridlines.
            yaxis={"title": {"text": _("balance (US$)")}, "tickprefix": "$"},
            yaxis2={"title": {"text": _("requests per second")}, "overlaying": "y",
                    "side": "right", "gridcolor": "rgba(0,0,0,0)",
                    "zerolinecolor": COLORS["grid"], "color": COLORS["text"]},
            margin={"l": 60, "r": 60, "t": 40, "b": 50},
        ))
        for name, kwargs in _TRACES:
            fig.add_scatter(name=_(name), meta=name, **kwargs)
        fig.sync_state()  # the traces added above, for views that connect later
        return fig

    def _trace(self, name: str) -> Any:
        return next(t for t in self.figure.data if t.meta == name)

    def _draw_result(self) -> None:
        m = self.model
        result = m.result
        self._drawn_result = result
        if result is None:
            return
        data = _bucket(result, m.rate_at)
        need_y = [m.rate_at(0)] + data["need"]
        mark_y: list[float] = []
        if m.sim_crossing_s is not None:
            mark_y = [result.paid_rps_cap[int(m.sim_crossing_s) - 1]]
        # What the y axes must show (plotly's traces cannot be read back inside a batch).
        self._spans = {"balance": list(data["balance"]),
                       "rates": [v for v in data["cap"] + need_y + mark_y if v is not None]}
        with self.figure.batch_update():
            self._trace("balance").update(x=data["hours"], y=data["balance"])
            self._trace("paid RPS cap").update(x=data["hours"], y=data["cap"])
            self._trace("needed RPS").update(x=[0.0] + data["hours"], y=need_y)
            mark = self._trace("cap below need")
            mark.update(x=[m.sim_crossing_s / HOUR] if mark_y else [], y=mark_y)
            self._draw_forecast_locked()

    def _draw_forecast(self) -> None:
        with self.figure.batch_update():
            self._draw_forecast_locked()

    def _draw_forecast_locked(self) -> None:
        """The forecast line, and both y axes on one grid: the same number of round steps with
        zero on the same gridline, so the balance and the rates read against the same lines."""
        m = self.model
        spans = self._spans or {"balance": [self.account.balance_usd], "rates": []}
        balance = spans["balance"] or [self.account.balance_usd]
        rates = spans["rates"] + [m.needed_rps]
        left, right = aligned_ranges((min(balance), max(balance)), (min(rates), max(rates)))
        self.figure.layout.yaxis.update(**left)
        self.figure.layout.yaxis2.update(**right)
        line = self._trace("forecast crossing")
        if m.crossing_s is None or m.crossing_s > m.horizon_hours * HOUR:
            line.update(x=[], y=[])
        else:
            x = m.crossing_s / HOUR
            line.update(x=[x, x], y=list(right["range"]))  # the full height of the chart


def fmt_usd_precise(value: float) -> str:
    """Costs per call are fractions of a cent: show enough digits."""
    if value == 0 or abs(value) >= 0.01:
        return fmt_usd(value)
    return f"${value:.6f}".rstrip("0")
