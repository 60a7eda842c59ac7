"""Balance to paid requests per second: a log slider, a typed field, the rule, and a chart.

Under a version with the in-flight spending budget (``2026-08``) the balance no longer sets a
request rate; it sets the budget instead. The explorer then shows the budget the balance buys
(``min(fraction x balance, ceiling)``, none from the threshold on), what one request of a size the
reader picks holds (a catalogue model, its ``max_tokens`` or none: the completion cap), and how many
such requests fit at once, all from the engine (:func:`orwidgets.simulation.in_flight_fit`); the
chart draws the budget against the balance.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import ipywidgets as W
from traitlets import (
    Bool,
    Float,
    HasTraits,
    Instance,
    Int,
    TraitError,
    Unicode,
    default,
    dlink,
    link,
    observe,
    validate,
)

from ..engine import Reason, Request
from ..i18n import N_, Translator
from ..policy import (
    IN_FLIGHT_DEFAULTS,
    PAID_RPS_CAP,
    InFlightParams,
    PolicyVersion,
    explain_paid_rps,
    get_policy,
    paid_rps,
)
from ..simulation import in_flight_fit
from ._common import (
    COLORS,
    CSS,
    ENGLISH,
    Notice,
    esc,
    figure_layout,
    figure_widget,
    fmt_count,
    fmt_usd,
    fmt_usd_fine,
    guarded,
    html_text,
    log_ticks,
    paid_rps_sentence,
    plural_n,
    policy_caption,
    policy_picker,
    rps_rule_name,
    set_number,
    widget_translator,
)
from ._model import AccountModel, FiniteFloat, PolicyId

__all__ = ["RPSModel", "InFlightModel", "RPSExplorer", "SLIDER_MIN_USD", "SLIDER_MAX_USD",
           "emulator_in_flight", "paid_models"]

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


#: The largest max_tokens and prompt the in-flight view takes (typed values are clamped).
MAX_TOKENS_FIELD = 1_000_000
MAX_PROMPT_TOKENS = 10_000_000
#: Where the in-flight numbers come from, as the view says it (English: the view translates it).
DEFAULTS_SOURCE = N_("orwidgets' defaults (OpenRouter publishes none but Retry-After) [inv]")
EMULATOR_SOURCE = N_("the emulator's (GET /_emulator/in_flight)")
GIVEN_SOURCE = N_("given in Python")


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


@lru_cache(maxsize=1)
def paid_models() -> dict[str, Any]:
    """The emulator catalogue's paid models by id (free models are never held against the
    budget). Imported on first use: the catalogue lives in the emulator package."""
    from ..emulator.catalogue import CATALOGUE

    return {m.id: m for m in CATALOGUE if not m.free}


@lru_cache(maxsize=1)
def default_prompt_tokens() -> int:
    """The tokens the emulator counts for the client's default prompt (``"Say OK."``): the prompt
    of every demo in the tutorial, so the view's numbers match what they get."""
    from ..client._http import DEFAULT_MESSAGES
    from ..emulator.chat import estimate_tokens

    return max(1, estimate_tokens(sum(len(m["content"]) for m in DEFAULT_MESSAGES)))


def _default_model() -> str:
    from ..emulator.catalogue import DEFAULT_PAID_MODEL

    return DEFAULT_PAID_MODEL


def emulator_in_flight(emulator: Any, timeout: float = 10.0,
                       _: Translator = ENGLISH) -> InFlightParams:
    """An emulator's current in-flight numbers, from its ``GET /_emulator/in_flight``.

    ``emulator``: a handle from :func:`orwidgets.emulator.start` or an app from
    :func:`orwidgets.emulator.create_app` (asked in memory). Raises ``RuntimeError`` naming the
    cause (in ``_``'s language) when it cannot be read.
    """
    from ..client import BackgroundJob
    from ..client._presets import EmulatorAdmin
    from .livecalls import _EmulatorTarget

    target = _EmulatorTarget.of(emulator, _)

    async def read(cancel: Any) -> dict[str, Any]:
        async with EmulatorAdmin(target.root, target.admin_token,
                                 transport=target.transport()) as admin:
            return await admin.in_flight()

    job = BackgroundJob(read, name="orwidgets-in-flight").start()
    if not job.wait(timeout):
        raise RuntimeError(_("GET /_emulator/in_flight: no answer in {seconds} s").format(
            seconds=f"{timeout:g}"))
    if job.error is not None:
        raise RuntimeError(f"GET /_emulator/in_flight: {job.error}") from job.error
    return IN_FLIGHT_DEFAULTS.updated(job.result)


class InFlightModel(HasTraits):
    """The in-flight budget of the account's balance, and how many requests of one size fit in it
    at once (no widgets).

    The numbers come from the engine and the policy, never worked out here: the budget from
    :meth:`~orwidgets.policy.InFlightParams.budget_usd`, what one request holds from
    :meth:`~orwidgets.engine.Request.estimate_pusd`, and how many start at once from
    :func:`~orwidgets.simulation.in_flight_fit` (the engine deciding them on a fresh account).

    Parameters
    ----------
    account : AccountModel
        Balance and policy.
    params : InFlightParams
        The budget's numbers (default :data:`~orwidgets.policy.IN_FLIGHT_DEFAULTS`).
    model_id : str
        A paid model of the emulator's catalogue.
    no_max_tokens : bool
        The request gives no ``max_tokens``: the estimate counts the completion cap, and the
        affordability check the model's maximum output.
    max_tokens : int
        The request's ``max_tokens`` otherwise (clamped to 1..1,000,000).
    prompt_tokens : int
        Its prompt (clamped to 0..10,000,000; default: the tutorial's short prompt).

    Attributes
    ----------
    applies : bool
        Whether the account's version has the in-flight budget (the rest is computed only then).
    budget_usd : float or None
        The budget the balance buys; ``None`` at or above the threshold.
    estimate_usd, estimate_tokens, max_cost_usd
        What one request holds, the completion tokens that counts, and its maximum cost (what the
        balance must cover first).
    fit : int or None
        Such requests the budget holds at once; ``None`` when the budget does not limit them.
    first, refused : str
        The engine's reason for the first request (``"ok"``, ``"affordability"``,
        ``"weight_exceeds_budget"``, ``"negative_balance"``) and for the first that does not fit
        (``"in_flight_budget_exhausted"``; ``""`` when none is refused).
    """

    account = Instance(AccountModel, help="Balance and policy")
    params = Instance(InFlightParams, help="The in-flight budget's numbers")
    params_source = Unicode(DEFAULTS_SOURCE, help="Where params come from, in words")
    model_id = Unicode(help="A paid catalogue model")
    no_max_tokens = Bool(True, help="The request gives no max_tokens (the estimate counts the cap)")
    max_tokens = Int(1000, help="The request's max_tokens when it gives one")
    prompt_tokens = Int(help="The request's prompt tokens")

    applies = Bool(False, help="Derived: the version has the in-flight budget")
    budget_usd = Float(None, allow_none=True, help="Derived: the budget (None: none applies)")
    estimate_usd = Float(0.0, help="Derived: what one request holds")
    estimate_tokens = Int(0, help="Derived: completion tokens the estimate counts")
    max_cost_usd = Float(0.0, help="Derived: one request's maximum cost")
    fit = Int(None, allow_none=True, help="Derived: requests that fit at once (None: no limit)")
    first = Unicode("", help="Derived: the engine's reason for the first request")
    refused = Unicode("", help="Derived: the reason for the first that does not fit")

    @default("account")
    def _default_account(self) -> AccountModel:
        return AccountModel()

    @default("params")
    def _default_params(self) -> InFlightParams:
        return IN_FLIGHT_DEFAULTS

    @default("model_id")
    def _default_model_id(self) -> str:
        return _default_model()

    @default("prompt_tokens")
    def _default_prompt_tokens(self) -> int:
        return default_prompt_tokens()

    def __init__(self, account: AccountModel | None = None, **kwargs: Any) -> None:
        self._ready = False
        super().__init__(**({"account": account} if account is not None else {}), **kwargs)
        self.account.observe(self._update, names=["balance_usd", "policy"])
        self._ready = True
        self._update()

    @validate("model_id")
    def _check_model(self, proposal: dict[str, Any]) -> str:
        value = proposal["value"]
        if value not in paid_models():
            raise TraitError(f"model_id: {value!r} is not a paid model of the catalogue "
                             f"({', '.join(paid_models())}); free models are never held")
        return value

    @validate("max_tokens")
    def _clamp_max_tokens(self, proposal: dict[str, Any]) -> int:
        return min(MAX_TOKENS_FIELD, max(1, int(proposal["value"])))

    @validate("prompt_tokens")
    def _clamp_prompt(self, proposal: dict[str, Any]) -> int:
        return min(MAX_PROMPT_TOKENS, max(0, int(proposal["value"])))

    @property
    def model(self) -> Any:
        """The catalogue entry of :attr:`model_id`."""
        return paid_models()[self.model_id]

    def request(self) -> Request:
        """The request as the engine sees it. Nothing of its answer is charged yet (completion
        tokens 0): OpenRouter charges when a request ends, and the question is how many start."""
        model = self.model
        return Request(
            free=False, prompt_tokens=self.prompt_tokens,
            max_tokens=model.max_completion_tokens if self.no_max_tokens else self.max_tokens,
            completion_tokens=0, prompt_price=model.prompt_price_usd,
            completion_price=model.completion_price_usd, max_tokens_given=not self.no_max_tokens,
        )

    @observe("params", "model_id", "no_max_tokens", "max_tokens", "prompt_tokens")
    def _update(self, change: Any = None) -> None:
        if not self._ready:
            return  # constructing: __init__ updates once at its end
        version = get_policy(self.account.policy)
        if not version.in_flight_budget:
            self.applies = False
            return
        request = self.request()
        answer = in_flight_fit(self.account.balance_usd, request, version, self.params)
        with self.hold_trait_notifications():
            self.estimate_tokens = self.params.estimate_tokens(
                None if self.no_max_tokens else self.max_tokens)
            self.estimate_usd = answer.estimate_usd
            self.max_cost_usd = request.max_cost_usd
            self.budget_usd = answer.budget_usd
            self.fit = answer.fit
            self.first = answer.first.value
            self.refused = answer.refused.value if answer.refused is not None else ""
            self.applies = True


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


#: The chart's traces: the in-flight view's (drawn under versions with the budget, hidden
#: otherwise) and the RPS view's. Each name is the trace's ``meta`` as written here, and its
#: ``name`` in the widget's language.
_BUDGET_TRACES = (N_("no budget region"), N_("in-flight budget"), N_("ceiling"), N_("threshold"),
                  N_("one request's estimate"))
_RPS_TRACES = (N_("floor region"), N_("cap region"), N_("paid RPS"))
MARKER = N_("current balance")
#: The marker's hover text in each view (plotly's %{...} fields stay as they are).
_MARKER_HOVER = {
    "rps": N_("$%{x:,.2f} → %{y} RPS"),
    "budget": N_("$%{x:,.2f} → budget $%{y:,.4f}"),
    "no budget": N_("$%{x:,.2f}: no in-flight budget"),
}
#: What the first refused request gets, in words (the engine's reason is the wire's).
_REFUSALS = {
    Reason.AFFORDABILITY.value: N_(
        "the balance does not cover one request's maximum cost: 402 \"can only afford M\" before "
        "the budget is looked at"),
    Reason.WEIGHT_EXCEEDS_BUDGET.value: N_(
        "one request holds more than the whole budget: 402 weight_exceeds_budget. Retrying "
        "cannot help: lower max_tokens or the prompt, or add credits"),
    Reason.NEGATIVE_BALANCE.value: N_("a negative balance answers 402 on every model"),
}


class RPSExplorer(W.VBox):
    """Explore how the balance sets the paid requests per second, or, under a version with the
    in-flight spending budget, the budget and how many requests of a chosen size fit in it.

    Parameters
    ----------
    account : AccountModel, optional
        Shared account (a new one if omitted).
    policy, balance_usd : optional
        Initial values written to the account.
    emulator : EmulatorHandle or starlette app, optional
        Read the in-flight numbers from this emulator (``GET /_emulator/in_flight``) whenever
        the view switches to a version with the budget (and on :meth:`refresh_in_flight`).
    in_flight : InFlightParams or dict, optional
        The in-flight numbers to use instead (default
        :data:`~orwidgets.policy.IN_FLIGHT_DEFAULTS`, our own [inv] values).
    lang : {"en", "ja", "zh"}, optional
        The language of its text (:func:`orwidgets.set_language` wins, then this, then
        ``ORWIDGETS_LANG``); kept for the widget's life.

    Attributes
    ----------
    policy, balance_usd : linked to the account.
    rps, rule : derived (read them, do not set them).
    model : RPSModel
    in_flight : InFlightModel
        The budget view's model: pick the request's size there (``model_id``, ``no_max_tokens``,
        ``max_tokens``, ``prompt_tokens``) or in the controls.
    figure : plotly.graph_objects.FigureWidget
        Traces ``"paid RPS"`` (the step line), ``"floor region"``, ``"cap region"``; under a
        version with the budget instead ``"in-flight budget"``, ``"ceiling"``, ``"threshold"``,
        ``"no budget region"`` and ``"one request's estimate"``; and ``"current balance"`` (the
        marker, x = balance, y = rps or the budget; at the top of the chart where no budget
        applies). These are the traces' ``meta``; their ``name`` is in the widget's language.
    """

    policy = PolicyId(help="Policy version id (linked to the account)")
    balance_usd = FiniteFloat(help="Balance in USD (linked to the account)")
    rps = Int(None, allow_none=True, help="Derived: paid requests per second (None: no cap)")
    rule = Unicode("", help="Derived: the rule behind rps")

    def __init__(self, account: AccountModel | None = None, *, policy: str | None = None,
                 balance_usd: float | None = None, emulator: Any = None,
                 in_flight: InFlightParams | dict[str, Any] | None = None,
                 lang: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._ = _ = widget_translator(lang)
        self.lang = _.lang
        self.account = account if account is not None else AccountModel()
        if policy is not None:
            self.account.policy = policy
        if balance_usd is not None:
            self.account.balance_usd = balance_usd
        self._emulator = emulator
        self._notice = Notice(_)
        params = IN_FLIGHT_DEFAULTS.updated(in_flight) if in_flight is not None else None
        self.model = RPSModel(self.account)
        self.in_flight = InFlightModel(
            self.account, **({"params": params, "params_source": GIVEN_SOURCE}
                             if params is not None else {}))
        self._drawn: tuple[Any, ...] | None = None
        self._marker_style = "rps"
        self._syncing = False

        self._picker = policy_picker(self.account.policy, _)
        self._caption = W.HTML()
        self._slider = W.FloatLogSlider(
            value=self._slider_value(self.account.balance_usd),
            base=10,
            min=math.log10(SLIDER_MIN_USD),
            max=math.log10(SLIDER_MAX_USD),
            step=SLIDER_STEP,
            description=_("Balance $"),
            # The slider's own readout would show its grid point ($42.66 for a typed $42.30);
            # the typed field beside it shows the exact balance instead.
            readout=False,
            continuous_update=True,
            layout=W.Layout(width="520px"),
        )
        self._slider.add_class("orw-balance-slider")
        self._input = W.FloatText(
            value=self.account.balance_usd, description=_("or type $"), step=0.01,
            style={"description_width": "initial"}, layout=W.Layout(width="220px"),
        )
        self._input.add_class("orw-balance-input")
        self._readout = W.HTML()
        self._readout.add_class("orw-rps-readout")
        # The in-flight view's controls are built the first time a version with the budget is
        # shown (they list the emulator's catalogue, which the article's view never needs).
        self._in_flight_box = W.VBox(layout=W.Layout(display="none"))
        self._in_flight_box.add_class("orw-in-flight")
        self._in_flight_readout = W.HTML()
        self._in_flight_readout.add_class("orw-in-flight-readout")
        self._controls: dict[str, W.Widget] = {}
        self.figure = self._make_figure()

        self.children = [
            self._picker,
            self._caption,
            W.HBox([self._slider, self._input]),
            self._readout,
            self._in_flight_box,
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
        self.in_flight.observe(guard(self._on_request), names=[
            "params", "model_id", "no_max_tokens", "max_tokens", "prompt_tokens"])
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
                   self._notice, self._("balance"))

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
        if not set_number(self.account, "balance_usd", change["new"], self._notice,
                          self._("balance")):
            self._echo_inputs()

    def _on_balance(self, change: Any = None) -> None:
        # The models observed the account first (they registered first), so they are current.
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
        self._caption.value = policy_caption(self.account.policy, self._)
        if get_policy(self.account.policy).in_flight_budget:
            self._build_controls()
            if self._emulator is not None:
                self.refresh_in_flight()
        self._in_flight_box.layout.display = None if self.in_flight.applies else "none"
        self._redraw_policy()
        self._render()

    def _on_request(self, change: Any = None) -> None:
        """The request's size or the numbers changed: readout, estimate line and marker."""
        self._sync_controls()
        self._render()
        self._redraw_policy()
        self._move_marker()

    def refresh_in_flight(self) -> InFlightParams | None:
        """Read the in-flight numbers from the emulator given at construction again (after a
        ``PUT /_emulator/in_flight``, say); returns them (``None`` without an emulator, or when
        they could not be read: the notice says why, and the view keeps its numbers)."""
        if self._emulator is None:
            return None
        _ = self._
        try:
            params = emulator_in_flight(self._emulator, _=_)
        except (RuntimeError, TypeError, ValueError) as exc:
            self._notice.show(_("in-flight numbers: {error}; showing {source} instead.").format(
                error=exc, source=_(self.in_flight.params_source)))
            return None
        with self.in_flight.hold_trait_notifications():
            self.in_flight.params_source = EMULATOR_SOURCE
            self.in_flight.params = params
        return params

    # -- the request's size (built on first use) -------------------------------------------------

    def _build_controls(self) -> None:
        if self._controls:
            return
        _ = self._
        label = {"description_width": "initial"}
        options = [(_("{model} ({price}/M output tokens)").format(
                        model=m.id, price=f"${m.completion_price_usd * 1e6:,.2f}"), m.id)
                   for m in paid_models().values()]
        model = W.Dropdown(options=options, value=self.in_flight.model_id,
                           description=_("Request: model"), style=label,
                           layout=W.Layout(width="660px"))  # ja labels: the longest
        model.add_class("orw-in-flight-model")
        no_max = W.Checkbox(value=self.in_flight.no_max_tokens, indent=False,
                            description=_("no max_tokens"), layout=W.Layout(width="auto"))
        no_max.add_class("orw-no-max-tokens")
        max_tokens = W.BoundedIntText(value=self.in_flight.max_tokens, min=1,
                                      max=MAX_TOKENS_FIELD, description=_("or max_tokens"),
                                      style=label, layout=W.Layout(width="200px"))
        max_tokens.add_class("orw-max-tokens")
        prompt = W.BoundedIntText(value=self.in_flight.prompt_tokens, min=0,
                                  max=MAX_PROMPT_TOKENS, description=_("prompt tokens"),
                                  style=label, layout=W.Layout(width="220px"))
        prompt.add_class("orw-prompt-tokens")
        self._controls = {"model_id": model, "no_max_tokens": no_max, "max_tokens": max_tokens,
                          "prompt_tokens": prompt}
        self._control_names = {"max_tokens": "max_tokens", "prompt_tokens": _("prompt tokens")}
        guard = guarded(self._notice)
        for name, control in self._controls.items():
            control.observe(guard(lambda change, name=name: self._on_control(name, change)),
                            names="value")
        self._in_flight_box.children = [
            model, W.HBox([no_max, max_tokens, prompt]), self._in_flight_readout]
        self._sync_controls()

    def _on_control(self, name: str, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        if name in ("model_id", "no_max_tokens"):
            setattr(self.in_flight, name, change["new"])
        elif not set_number(self.in_flight, name, change["new"], self._notice,
                            self._control_names[name]):
            self._sync_controls()

    def _sync_controls(self) -> None:
        if not self._controls:
            return
        self._syncing = True
        try:
            for name, control in self._controls.items():
                control.value = getattr(self.in_flight, name)
            self._controls["max_tokens"].disabled = self.in_flight.no_max_tokens
        finally:
            self._syncing = False

    # -- outputs -------------------------------------------------------------------------------

    def _render(self, change: Any = None) -> None:
        _ = self._
        m = self.model
        color = CSS["error"] if m.blocked else CSS["accent"]
        balance = esc(fmt_usd(self.account.balance_usd))
        rule = (f'<span class="orw-rps-rule" style="color:{CSS["muted"]}">'
                + esc(_("({rule})").format(rule=rps_rule_name(m.rule, _))) + "</span>")
        if m.rps is None:
            value = esc(_("no cap"))
            line = _("{balance} → {value} on paid requests per second {rule}")
        else:
            value = esc(fmt_count(m.rps))
            line = _.ngettext("{balance} → {value} paid request per second {rule}",
                              "{balance} → {value} paid requests per second {rule}",
                              plural_n(m.rps))
        value = (f'<b><span class="orw-rps-value" style="color:{color};font-size:1.3em">'
                 f"{value}</span></b>")
        notes = []
        if not m.linked:
            if self.in_flight.applies:
                notes.append(_(
                    "Paid models have no request-rate cap: your balance sets the in-flight "
                    "spending budget instead, what your running paid requests may hold at once "
                    "(below)."
                ))
            else:
                notes.append(_(
                    "Paid models have no balance-linked platform cap today: your balance does "
                    "not set a request rate (DDoS protection and the upstream providers still "
                    "limit bursts)."
                ))
            if self.account.balance_usd < 0:
                notes.append(_("A negative balance still answers 402 on every model, free models "
                               "included."))
            elif m.blocked:
                notes.append(_("A balance of $0 answers 402 on paid models; free models still "
                               "answer."))
        note = "".join(f'<div style="color:{CSS["muted"]}">{esc(n)}</div>' for n in notes)
        sentence = ""
        if not self.in_flight.applies:  # (under a version with the budget, the notes say it)
            sentence = (f'<div style="color:{CSS["muted"]}">'
                        f"{esc(paid_rps_sentence(self.account.balance_usd, self.account.version, _))}"
                        "</div>")
        self._readout.value = (
            f'<div style="color:{CSS["fg"]};font-size:1.05em">'
            + html_text(line, balance=balance, value=value, rule=rule) + "</div>"
            + sentence + note
        )
        if self.in_flight.applies:
            self._in_flight_readout.value = self._in_flight_html()

    def _in_flight_html(self) -> str:
        _ = self._
        f = self.in_flight
        p = f.params
        fg, muted = CSS["fg"], CSS["muted"]
        balance = fmt_usd(self.account.balance_usd)
        rule = esc(_("({rule})").format(rule=_(
            "{fraction} × the balance, at most {ceiling}; none from a balance of {threshold} on"
        ).format(fraction=fmt_count(p.fraction), ceiling=fmt_usd(p.ceiling_usd),
                 threshold=fmt_usd(p.threshold_usd))))
        if f.budget_usd is None:
            none = esc(_("none"))
            budget = html_text(
                _("{none}: {balance} is at or above the threshold"),
                none=f'<span class="orw-budget-value" style="color:{CSS["ok"]}">{none}</span>',
                balance=esc(balance))
        else:
            budget = (f'<span class="orw-budget-value" style="color:{CSS["accent"]}">'
                      f"{esc(fmt_usd_fine(f.budget_usd))}</span>")
        model = f.model
        if f.no_max_tokens:
            counted = _("no max_tokens: the per-request cap")
        elif f.max_tokens > p.completion_cap_tokens:
            counted = _("max_tokens {n}, cut to the cap").format(n=fmt_count(f.max_tokens))
        else:
            counted = _("its max_tokens")
        estimate = html_text(
            _("One request holds {estimate} while it runs: {prompt} × {prompt_price}/M + "
              "{completion} ({counted}) × {completion_price}/M."),
            estimate=(f'<b><span class="orw-estimate-value">'
                      f"{esc(fmt_usd_fine(f.estimate_usd))}</span></b>"),
            prompt=esc(_.ngettext("{n} prompt token", "{n} prompt tokens",
                                  plural_n(f.prompt_tokens)).format(n=fmt_count(f.prompt_tokens))),
            prompt_price=esc(fmt_usd_fine(model.prompt_price_usd * 1e6)),
            completion=esc(_.ngettext("{n} completion token", "{n} completion tokens",
                                      plural_n(f.estimate_tokens)).format(
                                          n=fmt_count(f.estimate_tokens))),
            counted=esc(counted),
            completion_price=esc(fmt_usd_fine(model.completion_price_usd * 1e6)))
        if f.first != Reason.OK.value:
            why = _REFUSALS.get(f.first)
            if f.first != Reason.AFFORDABILITY.value:
                line = _("{zero} fit: {why}.")
            elif f.no_max_tokens:
                line = _("{zero} fit: {why}. (Its maximum cost is {cost}: without max_tokens the "
                         "check counts the model's maximum output, {tokens} tokens.)")
            else:
                line = _("{zero} fit: {why}. (Its maximum cost is {cost}.)")
            verdict = html_text(
                line, zero=f'<span class="orw-fit-value" style="color:{CSS["error"]}">0</span>',
                why=esc(_(why) if why is not None else f.first),
                cost=esc(fmt_usd_fine(f.max_cost_usd)),
                tokens=esc(fmt_count(model.max_completion_tokens)))
        elif f.fit is None:
            any_number = esc(_("Any number"))
            verdict = html_text(
                _("{any} of them may run at once: no in-flight budget applies (each still needs "
                  "the balance to cover its maximum cost)."),
                any=f'<span class="orw-fit-value">{any_number}</span>')
        else:
            verdict = html_text(
                _.ngettext(
                    "{fit} fits at once; request {next} gets 402 in_flight_budget_exhausted with "
                    "Retry-After: {retry_after} s. It is transient, not 'out of credits': wait, "
                    "then resend (the budget frees as running requests end and settle, {settle} s "
                    "after).",
                    "{fit} fit at once; request {next} gets 402 in_flight_budget_exhausted with "
                    "Retry-After: {retry_after} s. It is transient, not 'out of credits': wait, "
                    "then resend (the budget frees as running requests end and settle, {settle} s "
                    "after).", plural_n(f.fit)),
                fit=(f'<b><span class="orw-fit-value" style="color:{CSS["accent"]};'
                     f'font-size:1.2em">{esc(fmt_count(f.fit))}</span></b>'),
                next=esc(fmt_count(f.fit + 1)), retry_after=esc(fmt_count(p.retry_after_s)),
                settle=esc(fmt_count(p.settle_s)))
        return (
            f'<div style="color:{fg};font-size:1.05em">'
            + html_text(_("{balance} → in-flight budget {budget} {rule}"), balance=esc(balance),
                        budget=f"<b>{budget}</b>", rule=f'<span style="color:{muted}">{rule}</span>')
            + f'</div><div style="color:{fg}">{estimate}</div>'
            f'<div style="color:{fg}">{verdict}</div>'
            f'<div class="orw-in-flight-source" style="color:{muted}">'
            + esc(_("In-flight numbers: {source}.").format(source=_(f.params_source)))
            + "</div>"
        )

    def _hover(self, style: str, name: str | None = MARKER) -> str:
        """A hover template: the point in a view's words, then the trace's name (``None``:
        none). plotly's ``%{...}`` fields are not HTML: escaping leaves them whole."""
        extra = "" if name is None else esc(self._(name))
        return esc(self._(_MARKER_HOVER[style])) + "<extra>" + extra + "</extra>"

    def _make_figure(self) -> Any:
        _ = self._
        fig = figure_widget(
            layout=figure_layout(
                title={"text": _("Paid requests per second against balance"), "x": 0.02},
                xaxis={"title": {"text": _("balance (US$, log scale)")}, "type": "log",
                       "range": [math.log10(SLIDER_MIN_USD), math.log10(SLIDER_MAX_USD)],
                       **balance_ticks(SLIDER_MAX_USD)},
                yaxis={"title": {"text": _("paid requests per second (log)")}, "type": "log",
                       "range": [math.log10(_RPS_AXIS[0]), math.log10(_RPS_AXIS[1])],
                       **log_ticks(*_RPS_AXIS, extra=(PAID_RPS_CAP,))},
            )
        )

        def add(name: str, **kwargs: Any) -> None:
            fig.add_scatter(name=_(name), meta=name, **kwargs)

        fill = {"mode": "lines", "fill": "toself", "line": {"width": 0}, "hoverinfo": "skip"}
        add("floor region", fillcolor=COLORS["floor"], **fill)
        add("cap region", fillcolor=COLORS["cap"], **fill)
        add("paid RPS", mode="lines", line={"color": COLORS["paid"], "width": 2},
            hovertemplate=self._hover("rps", None))
        # The in-flight view's traces, empty and hidden until a version with the budget is shown.
        hidden = {"visible": False}
        add("no budget region", fillcolor=COLORS["floor"], **fill, **hidden)
        add("in-flight budget", mode="lines", line={"color": COLORS["paid"], "width": 2},
            hovertemplate=self._hover("budget", None), **hidden)
        add("ceiling", mode="lines",
            line={"color": COLORS["cap"].replace("0.18", "0.9"), "width": 1.5, "dash": "dash"},
            hoverinfo="skip", **hidden)
        add("threshold", mode="lines",
            line={"color": COLORS["need"], "width": 1.5, "dash": "dash"}, hoverinfo="skip",
            **hidden)
        add("one request's estimate", mode="lines",
            line={"color": COLORS["low"], "width": 1.5, "dash": "dot"},
            hovertemplate=esc(_("one request holds $%{y:,.5f}")) + "<extra></extra>", **hidden)
        add(MARKER, mode="markers",
            marker={"color": COLORS["marker"], "size": 13, "line": {"width": 1.5,
                    "color": "white"}},
            hovertemplate=self._hover("rps"))
        fig.sync_state()  # the traces added above, for views that connect later
        return fig

    def _trace(self, name: str) -> Any:
        return next(t for t in self.figure.data if t.meta == name)

    def _x_top(self) -> float:
        """The balance axis's right end: the slider's, or further for a typed balance (and a
        threshold) beyond it."""
        top = max(SLIDER_MAX_USD, self.account.balance_usd * 1.5)
        if self.in_flight.applies:
            top = max(top, self.in_flight.params.threshold_usd * 1.5)
        return top

    def _budget_axis(self) -> tuple[float, float]:
        """The in-flight view's y range (USD): the budget at the slider's left end and the
        estimate, to above the ceiling."""
        p, f = self.in_flight.params, self.in_flight
        low_budget = p.budget_usd(SLIDER_MIN_USD) or p.ceiling_usd
        low = max(1e-9, min(low_budget, f.estimate_usd or low_budget) / 2)
        high = max(p.ceiling_usd, f.estimate_usd) * 2.5
        return low, high

    def _redraw_policy(self) -> None:
        """Redraw the policy-dependent traces, only when what they show actually changed."""
        version = get_policy(self.account.policy)
        budget = self.in_flight.applies
        key: tuple[Any, ...] = (version.id, budget)
        if budget:
            key += (self.in_flight.params, self.in_flight.estimate_usd)
        if self._drawn == key:
            return
        with self.figure.batch_update():
            for name in _RPS_TRACES:
                self._trace(name).visible = not budget
            for name in _BUDGET_TRACES:
                self._trace(name).visible = budget
            if budget:
                self._draw_budget()
            else:
                self._draw_rps(version)
            self._move_marker_locked()
        self._drawn = key

    def _draw_rps(self, version: PolicyVersion) -> None:
        _ = self._
        xs, ys = staircase(version)
        linked = version.paid_rps_linked
        lo, hi = 0.5, 1e4  # y extent of the shaded bands (beyond the axis range)
        floor_x = [SLIDER_MIN_USD, version.paid_rps_min, version.paid_rps_min, SLIDER_MIN_USD]
        cap_x = [version.paid_rps_cap, _LINE_END_USD, _LINE_END_USD, version.paid_rps_cap]
        line = self._trace("paid RPS")
        line.x, line.y = xs, ys
        floor, cap = self._trace("floor region"), self._trace("cap region")
        floor.x, floor.y = floor_x, [lo, lo, hi, hi]
        cap.x, cap.y = cap_x, [lo, lo, hi, hi]
        floor.visible = cap.visible = linked
        self.figure.layout.title.text = _("Paid requests per second against balance")
        self.figure.layout.yaxis.title.text = _("paid requests per second (log)")
        self.figure.layout.yaxis.update(
            range=[math.log10(_RPS_AXIS[0]), math.log10(_RPS_AXIS[1])],
            **log_ticks(*_RPS_AXIS, extra=(PAID_RPS_CAP,)))
        self.figure.layout.annotations = (
            [] if linked else [{
                "text": esc(_("Under '{policy}' paid models have no balance-linked platform "
                              "cap").format(policy=version.id)),
                "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5, "showarrow": False,
                "font": {"size": 14, "color": COLORS["text"]},
            }]
        )

    def _draw_budget(self) -> None:
        """The budget against the balance: the policy's own function at its corners (a straight
        line on log axes up to the ceiling, flat to the threshold, none beyond)."""
        _ = self._
        p = self.in_flight.params
        low, high = self._budget_axis()
        knee = p.ceiling_usd / p.fraction  # where fraction x balance reaches the ceiling
        end = p.threshold_usd
        xs = sorted({SLIDER_MIN_USD, min(knee, end)} | ({end} if knee < end else set()))
        xs = [x for x in xs if x <= end]
        # The budget up to (not at) the threshold: the line ends where the budget stops.
        ys = [p.budget_usd(x if x < end else math.nextafter(end, 0)) for x in xs]
        line = self._trace("in-flight budget")
        line.x, line.y = xs, ys
        far = _LINE_END_USD
        none = self._trace("no budget region")
        none.x, none.y = [end, far, far, end], [low / 10, low / 10, high * 10, high * 10]
        ceiling = self._trace("ceiling")
        ceiling.x, ceiling.y = [SLIDER_MIN_USD / 10, far], [p.ceiling_usd, p.ceiling_usd]
        threshold = self._trace("threshold")
        threshold.x, threshold.y = [end, end], [low / 10, high * 10]
        estimate = self._trace("one request's estimate")
        est = self.in_flight.estimate_usd
        estimate.x, estimate.y = [SLIDER_MIN_USD / 10, far], [est, est]
        self.figure.layout.title.text = _("In-flight spending budget against balance")
        self.figure.layout.yaxis.title.text = _("in-flight budget (US$, log)")
        self.figure.layout.yaxis.update(
            range=[math.log10(low), math.log10(high)],
            **log_ticks(low, high, money=True, extra=(p.ceiling_usd,)))
        text = {"showarrow": False, "font": {"size": 11, "color": COLORS["text"]}}
        self.figure.layout.annotations = [
            {"text": esc(_("ceiling {amount}").format(amount=fmt_usd(p.ceiling_usd))),
             "xref": "paper", "x": 0.01, "xanchor": "left", "y": math.log10(p.ceiling_usd),
             "yanchor": "bottom", **text},
            {"text": esc(_("threshold {amount}: no budget").format(
                amount=fmt_usd(p.threshold_usd))), "x": math.log10(end),
             "xanchor": "left", "yref": "paper", "y": 0.5, "yanchor": "middle", **text},
        ]

    def _move_marker(self) -> None:
        with self.figure.batch_update():
            self._move_marker_locked()

    def _move_marker_locked(self) -> None:
        balance = self.account.balance_usd
        marker = self._trace(MARKER)
        marker.x = [balance]
        style = "rps"
        if self.in_flight.applies:
            budget = self.in_flight.budget_usd
            # No budget at or above the threshold: the marker sits at the top, pointing up.
            marker.y = [budget if budget is not None else self._budget_axis()[1] / 1.5]
            style = "budget" if budget is not None else "no budget"
        else:
            marker.y = [self.model.rps]
        if style != self._marker_style:  # (plotly checks every property set: only on a change)
            marker.marker.symbol = "triangle-up" if style == "no budget" else "circle"
            marker.hovertemplate = self._hover(style)
            self._marker_style = style
        # Keep a typed balance beyond the slider on the chart.
        top = self._x_top()
        if self.figure.layout.xaxis.range[1] != math.log10(top):
            self.figure.layout.xaxis.update(range=[math.log10(SLIDER_MIN_USD), math.log10(top)],
                                            **balance_ticks(top))
