"""Balance to paid requests per second: a log slider, a typed field, the rule, and a chart."""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as W
from traitlets import Bool, HasTraits, Instance, Int, Unicode, default, dlink, link

from ..policy import PAID_RPS_CAP, PolicyVersion, explain_paid_rps, get_policy, paid_rps
from ._common import (
    COLORS,
    CSS,
    Notice,
    esc,
    figure_layout,
    figure_widget,
    fmt_count,
    fmt_usd,
    guarded,
    log_ticks,
    policy_caption,
    policy_picker,
    set_number,
)
from ._model import AccountModel, FiniteFloat, PolicyId

__all__ = ["RPSModel", "RPSExplorer", "SLIDER_MIN_USD", "SLIDER_MAX_USD"]

#: The slider is logarithmic from one cent to $2,000: cents are distinct steps near $0.50 and it
#: still reaches well past the $500 cap and the article's "$1,000 still gets 500". Balances at or
#: below zero (402 territory) are typed in the field.
SLIDER_MIN_USD = 0.01
SLIDER_MAX_USD = 2000.0
#: Exponent step: about 2.3 % per step, i.e. one-cent steps at $0.50, $23 steps at $1,000.
SLIDER_STEP = 0.01
#: The staircase runs this far right so that typed balances beyond the slider stay on the line.
_LINE_END_USD = 10_000_000.0
#: The RPS axis (log): a little below the 1 RPS floor to a little above the 500 cap.
_RPS_AXIS = (0.7, 800.0)


def balance_ticks(top_usd: float) -> dict[str, Any]:
    """Tick values and labels of the balance axis up to ``top_usd``: $0.01, $0.10, $1 ... and the
    $500 where the cap starts, each in full (plotly's own log labels would say "5")."""
    return log_ticks(SLIDER_MIN_USD, top_usd, money=True, extra=(PAID_RPS_CAP,))


class RPSModel(HasTraits):
    """Paid RPS for the account's balance under its policy (no widgets).

    Attributes
    ----------
    rps : int or None
        Paid requests per second, ``None`` where the version has no balance-linked cap.
    rule : str
        The rule that produced it (``"minimum 1"``, ``"rounded up"``, ``"exact"``, ``"cap 500"``,
        ``"no platform cap"``), from :func:`orwidgets.policy.explain_paid_rps`.
    """

    account = Instance(AccountModel, help="The account whose balance sets the rate")
    rps = Int(None, allow_none=True, help="Paid requests per second (None: no platform cap)")
    rule = Unicode("", help="Which rule produced rps")
    text = Unicode("", help="The policy's sentence about this balance")
    blocked = Bool(False, help="Balance at or below $0: paid requests answer 402 first")
    linked = Bool(True, help="Whether this policy links paid RPS to the balance")

    @default("account")
    def _default_account(self) -> AccountModel:
        return AccountModel()

    def __init__(self, account: AccountModel | None = None, **kwargs: Any) -> None:
        super().__init__(**({"account": account} if account is not None else {}), **kwargs)
        self.account.observe(self._update, names=["balance_usd", "policy"])
        self._update()

    def _update(self, change: Any = None) -> None:
        answer = explain_paid_rps(self.account.balance_usd, self.account.policy)
        with self.hold_trait_notifications():
            self.rps = answer.rps
            self.rule = answer.rule
            self.text = answer.text
            self.blocked = answer.blocked
            self.linked = answer.rps is not None


def staircase(version: PolicyVersion, x_min: float = SLIDER_MIN_USD,
              x_max: float = _LINE_END_USD) -> tuple[list[float], list[float]]:
    """Points of the paid-RPS step line: one flat segment per whole dollar up to the cap.

    Each segment ``(a, b]`` takes the value :func:`paid_rps` gives at ``b``, so the line is the
    policy's own function, drawn exactly (no sampling between steps).
    """
    if not version.paid_rps_linked:
        return [], []
    edges = [x_min] + list(range(1, version.paid_rps_cap + 1)) + [x_max]
    xs: list[float] = []
    ys: list[float] = []
    for a, b in zip(edges, edges[1:]):
        y = paid_rps(b, version)
        xs += [a, b]
        ys += [y, y]
    return xs, ys


class RPSExplorer(W.VBox):
    """Explore how the balance sets the paid requests per second.

    Parameters
    ----------
    account : AccountModel, optional
        Shared account (a new one if omitted).
    policy, balance_usd : optional
        Initial values written to the account.

    Attributes
    ----------
    policy, balance_usd : linked to the account.
    rps, rule : derived (read them, do not set them).
    model : RPSModel
    figure : plotly.graph_objects.FigureWidget
        Traces ``"paid RPS"`` (the step line), ``"floor region"``, ``"cap region"`` and
        ``"current balance"`` (the marker, x = balance, y = rps).
    """

    policy = PolicyId(help="Policy version id (linked to the account)")
    balance_usd = FiniteFloat(help="Balance in USD (linked to the account)")
    rps = Int(None, allow_none=True, help="Derived: paid requests per second (None: no cap)")
    rule = Unicode("", help="Derived: the rule behind rps")

    def __init__(self, account: AccountModel | None = None, *, policy: str | None = None,
                 balance_usd: float | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.account = account if account is not None else AccountModel()
        if policy is not None:
            self.account.policy = policy
        if balance_usd is not None:
            self.account.balance_usd = balance_usd
        self.model = RPSModel(self.account)
        self._notice = Notice()
        self._drawn_policy: str | None = None
        self._syncing = False

        self._picker = policy_picker(self.account.policy)
        self._caption = W.HTML()
        self._slider = W.FloatLogSlider(
            value=self._slider_value(self.account.balance_usd),
            base=10,
            min=math.log10(SLIDER_MIN_USD),
            max=math.log10(SLIDER_MAX_USD),
            step=SLIDER_STEP,
            description="Balance $",
            # The slider's own readout would show its grid point ($42.66 for a typed $42.30);
            # the typed field beside it shows the exact balance instead.
            readout=False,
            continuous_update=True,
            layout=W.Layout(width="520px"),
        )
        self._slider.add_class("orw-balance-slider")
        self._input = W.FloatText(
            value=self.account.balance_usd, description="or type $", step=0.01,
            layout=W.Layout(width="220px"),
        )
        self._input.add_class("orw-balance-input")
        self._readout = W.HTML()
        self._readout.add_class("orw-rps-readout")
        self.figure = self._make_figure()

        self.children = [
            self._picker,
            self._caption,
            W.HBox([self._slider, self._input]),
            self._readout,
            self._notice.widget,
            self.figure,
        ]
        self.add_class("orw-rps-explorer")

        link((self.account, "policy"), (self, "policy"))
        link((self.account, "balance_usd"), (self, "balance_usd"))
        dlink((self.model, "rps"), (self, "rps"))
        dlink((self.model, "rule"), (self, "rule"))
        link((self.account, "policy"), (self._picker, "value"))

        guard = guarded(self._notice)
        self._slider.observe(guard(self._on_slider), names="value")
        self._input.observe(guard(self._on_input), names="value")
        self.account.observe(guard(self._on_balance), names="balance_usd")
        self.account.observe(guard(self._on_policy), names="policy")
        self._on_policy()

    def __repr__(self) -> str:
        return (
            f"RPSExplorer(policy={self.policy!r}, balance_usd={self.balance_usd!r}, "
            f"rps={self.rps!r})"
        )

    # -- inputs --------------------------------------------------------------------------------

    @staticmethod
    def _slider_value(balance: float) -> float:
        return min(SLIDER_MAX_USD, max(SLIDER_MIN_USD, balance))

    @staticmethod
    def _round_from_slider(value: float) -> float:
        # The slider moves in exponent steps (0.50119...); a balance reads better in cents, and
        # below 10 cents in tenths of a cent so the smallest steps stay distinct.
        return round(value, 2 if value >= 0.1 else 3)

    def _on_slider(self, change: dict[str, Any]) -> None:
        if self._syncing or self._is_snap_of_balance(change["new"]):
            return
        set_number(self.account, "balance_usd", self._round_from_slider(change["new"]),
                   self._notice, "balance")

    def _is_snap_of_balance(self, value: float) -> bool:
        """Whether a value from the slider is only its grid's rounding of the current balance.

        A typed $42.30 goes to the browser, which snaps it to the nearest exponent step ($42.66)
        and sends that back; taking it would overwrite what the reader typed. A real move (a drag,
        an arrow key) lands at least half a step away, a snap strictly less.
        """
        balance = self._slider_value(self.account.balance_usd)
        if value <= 0 or balance <= 0:
            return False
        return abs(math.log10(value) - math.log10(balance)) < SLIDER_STEP / 2

    def _on_input(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        if not set_number(self.account, "balance_usd", change["new"], self._notice, "balance"):
            self._echo_inputs()

    def _on_balance(self, change: Any = None) -> None:
        # The model observed the account first (it registered first), so it is current here.
        self._echo_inputs()
        self._render()
        self._move_marker()

    def _echo_inputs(self) -> None:
        balance = self.account.balance_usd
        self._syncing = True
        try:
            self._input.value = balance
            self._slider.value = self._slider_value(balance)
        finally:
            self._syncing = False

    def _on_policy(self, change: Any = None) -> None:
        self._caption.value = policy_caption(self.account.policy)
        self._redraw_policy()
        self._render()

    # -- outputs -------------------------------------------------------------------------------

    def _render(self, change: Any = None) -> None:
        m = self.model
        if m.rps is None:
            value, unit = "no cap", "on paid requests per second"
        else:
            value = fmt_count(m.rps)
            unit = "paid request per second" if m.rps == 1 else "paid requests per second"
        color = CSS["error"] if m.blocked else CSS["accent"]
        notes = []
        if not m.linked:
            notes.append(
                "Paid models have no balance-linked platform cap today: your balance does not "
                "set a request rate (DDoS protection and the upstream providers still limit "
                "bursts)."
            )
            if self.account.balance_usd < 0:
                notes.append("A negative balance still answers 402 on every model, free models "
                             "included.")
            elif m.blocked:
                notes.append("A balance of $0 answers 402 on paid models; free models still "
                             "answer.")
        note = "".join(f'<div style="color:{CSS["muted"]}">{esc(n)}</div>' for n in notes)
        self._readout.value = (
            f'<div style="color:{CSS["fg"]};font-size:1.05em">'
            f"{esc(fmt_usd(self.account.balance_usd))} &rarr; "
            f'<b><span class="orw-rps-value" style="color:{color};font-size:1.3em">'
            f"{esc(value)}</span></b> {unit} "
            f'<span class="orw-rps-rule" style="color:{CSS["muted"]}">({esc(m.rule)})</span></div>'
            f'<div style="color:{CSS["muted"]}">{esc(m.text)}</div>{note}'
        )

    def _make_figure(self) -> Any:
        fig = figure_widget(
            layout=figure_layout(
                title={"text": "Paid requests per second against balance", "x": 0.02},
                xaxis={"title": {"text": "balance (US$, log scale)"}, "type": "log",
                       "range": [math.log10(SLIDER_MIN_USD), math.log10(SLIDER_MAX_USD)],
                       **balance_ticks(SLIDER_MAX_USD)},
                yaxis={"title": {"text": "paid requests per second (log)"}, "type": "log",
                       "range": [math.log10(_RPS_AXIS[0]), math.log10(_RPS_AXIS[1])],
                       **log_ticks(*_RPS_AXIS, extra=(PAID_RPS_CAP,))},
            )
        )
        fill = {"mode": "lines", "fill": "toself", "line": {"width": 0}, "hoverinfo": "skip"}
        fig.add_scatter(name="floor region", fillcolor=COLORS["floor"], **fill)
        fig.add_scatter(name="cap region", fillcolor=COLORS["cap"], **fill)
        fig.add_scatter(name="paid RPS", mode="lines", line={"color": COLORS["paid"], "width": 2},
                        hovertemplate="$%{x:,.2f} → %{y} RPS<extra></extra>")
        fig.add_scatter(name="current balance", mode="markers",
                        marker={"color": COLORS["marker"], "size": 13, "line": {"width": 1.5,
                                "color": "white"}},
                        hovertemplate="$%{x:,.2f} → %{y} RPS<extra>current balance</extra>")
        fig.sync_state()  # the traces added above, for views that connect later
        return fig

    def _trace(self, name: str) -> Any:
        return next(t for t in self.figure.data if t.name == name)

    def _redraw_policy(self) -> None:
        """Redraw the policy-dependent traces, only when the policy actually changed."""
        version = get_policy(self.account.policy)
        if self._drawn_policy == version.id:
            return
        xs, ys = staircase(version)
        linked = version.paid_rps_linked
        lo, hi = 0.5, 1e4  # y extent of the shaded bands (beyond the axis range)
        floor_x = [SLIDER_MIN_USD, version.paid_rps_min, version.paid_rps_min, SLIDER_MIN_USD]
        cap_x = [version.paid_rps_cap, _LINE_END_USD, _LINE_END_USD, version.paid_rps_cap]
        with self.figure.batch_update():
            line = self._trace("paid RPS")
            line.x, line.y = xs, ys
            floor, cap = self._trace("floor region"), self._trace("cap region")
            floor.x, floor.y = floor_x, [lo, lo, hi, hi]
            cap.x, cap.y = cap_x, [lo, lo, hi, hi]
            floor.visible = cap.visible = linked
            self.figure.layout.annotations = (
                [] if linked else [{
                    "text": f"Under '{version.id}' paid models have no balance-linked platform cap",
                    "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5, "showarrow": False,
                    "font": {"size": 14, "color": COLORS["text"]},
                }]
            )
            self._move_marker_locked()
        self._drawn_policy = version.id

    def _move_marker(self) -> None:
        with self.figure.batch_update():
            self._move_marker_locked()

    def _move_marker_locked(self) -> None:
        balance = self.account.balance_usd
        marker = self._trace("current balance")
        marker.x = [balance]
        marker.y = [self.model.rps]
        # Keep a typed balance beyond the slider on the chart.
        top = max(SLIDER_MAX_USD, balance * 1.5)
        if self.figure.layout.xaxis.range[1] != math.log10(top):
            self.figure.layout.xaxis.update(range=[math.log10(SLIDER_MIN_USD), math.log10(top)],
                                            **balance_ticks(top))
