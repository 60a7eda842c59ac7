"""Live test calls: real HTTP requests to the emulator (or the real API), drawn as they come back.

The calls run in a background thread with its own asyncio event loop, so the widget does not need
the kernel's loop to keep running between cells (it does not in Colab), and the kernel stays free
while a run goes on. The thread updates the widgets itself, at most every
:data:`FLUSH_INTERVAL_S` (ipykernel's comm messages may be sent from any thread), and every error
of a run lands in the status line instead of vanishing.

The API key never lives in a widget trait: the password box is emptied the moment a value arrives
and the key is kept as a :class:`~orwidgets._secret.SecretKey` in Python memory.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timezone
from typing import Any

import httpx
import ipywidgets as W
from traitlets import Bool, Enum, Float, Int, TraitError, Unicode, link, observe, validate

from .._secret import SecretKey, key_from_env
from ..client import (
    DEFAULT_REAL_API_CAP,
    OPENROUTER_API_BASE,
    PRESETS,
    AsyncOpenRouterClient,
    BackgroundJob,
    CallClass,
    CallResult,
    EmulatorAdmin,
    LoadRun,
    RealApiCapExceeded,
    RealApiNotConfirmed,
    check_real_api,
    get_preset,
    is_loopback,
    run_load,
    run_preset,
)
from ..client._presets import FREE_MODEL, PAID_MODEL, PresetRun, emulator_root
from ..policy import (
    DEFAULT_POLICY_ID,
    FREE_DAILY_HIGH,
    FREE_DAILY_LOW,
    get_policy,
    is_free_model,
)
from ..i18n import N_, Translator
from ._common import (
    CSS,
    ENGLISH,
    KeyBox,
    class_advice,
    class_label,
    esc,
    figure_layout,
    figure_widget,
    fmt_count,
    html_text,
    plural_n,
    policy_caption,
    policy_picker,
    widget_translator,
)
from ._model import PolicyId

__all__ = ["LiveCalls", "CUSTOM", "FLUSH_INTERVAL_S", "REAL_API_WARNING", "EMPTY_CHART_TEXT"]

#: The preset picker's first entry: run the settings below instead of a scenario (the value code
#: gives, in English; the picker shows it translated, as it shows the scenarios' labels).
CUSTOM = N_("custom: the settings below")
#: Widgets are updated from the worker at most this often (figure updates are the costly part).
FLUSH_INTERVAL_S = 0.1
#: Calls a custom run may ask for (the emulator is fast; a notebook plot is not).
MAX_COUNT = 20_000
MAX_CONCURRENCY = 1000
MIN_RATE, MAX_RATE = 0.1, 5000.0
MAX_CAP = 1000
#: What the real-API target warns (a template: the quotas come from the policy), and in English.
REAL_API_TEMPLATE = N_(
    "Real API: every call to a free model, rejected or not, counts toward today's free quota "
    "({low} or {high} a day); a per-day 429 means stop until 00:00 UTC. Paid models spend "
    "credits."
)
REAL_API_WARNING = REAL_API_TEMPLATE.format(low=f"{FREE_DAILY_LOW:,}", high=f"{FREE_DAILY_HIGH:,}")
#: What the chart says before the first run: two lines (and in English, as the chart has it).
EMPTY_CHART_LINES = (N_("No calls yet: pick a scenario (or the settings) and press Run."),
                     N_("Each call then appears here as a point: when it was sent, how long it "
                        "took."))
EMPTY_CHART_TEXT = "<br>".join(EMPTY_CHART_LINES)
_FRESH = "fresh"
#: The emulator's demo keys a custom run may use (the README's tables say what each shows).
_DEMO_NAMES = ("free", "topped_up", "five", "negative", "management", "small", "team", "member")
_IN_MEMORY_BASE = "http://127.0.0.1"

def _call_line(result: CallResult, _: Translator = ENGLISH) -> str:
    """``HTTP 429 free per-minute: Rate limit exceeded: ...``: the status once, then the message
    (OpenRouter's, as it came; the class label in ``_``'s language).

    A class label already starts with its status ("429 free per-minute"), so the status is not
    printed twice; labels without one ("other HTTP error") get it in front."""
    label = class_label(result.call_class, _)
    if result.status is None:
        head = label
    elif label.startswith(f"{result.status} "):
        head = f"HTTP {label}"
    else:
        head = _("HTTP {status} ({label})").format(status=result.status, label=label)
    message = (result.message or "").strip()
    return _("{answer}: {message}").format(answer=head, message=message) if message else head


def _utc(ms: str) -> str | None:
    """``2026-01-02 00:00:00`` (UTC) for a header value in Unix milliseconds (None if it is
    not)."""
    try:
        seconds = int(ms) / 1000
        return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _pretty_result(result: CallResult, *, emulator: bool = False,
                   _: Translator = ENGLISH) -> str:
    """The last error as text: status line, headers, then the body pretty-printed. Headers and
    body are the answer's, as they came; the notes beside them are in ``_``'s language.

    ``X-RateLimit-Reset`` (Unix ms) gets its UTC time beside it. Against the emulator that time is
    the emulator's clock, which the tutorial moves to 23:59:55; the web server's own ``date``
    header is real time, so beside it the two contradicted each other: it is left out, and says
    so."""
    lines = [_call_line(result, _)]
    if result.headers:
        lines.append("")
        dropped = False
        for name, value in result.headers.items():
            if emulator and name.lower() == "date":
                dropped = True
                continue
            when = _utc(value) if name.lower() == "x-ratelimit-reset" else None
            if when is None:
                lines.append(f"{name}: {value}")
                continue
            note = (_("(= {when} UTC, emulator clock)") if emulator else _("(= {when} UTC)"))
            lines.append(f"{name}: {value}   " + note.format(when=when))
        if dropped:
            lines.append(_("(date header left out: it is the web server's real time, while the "
                           "emulator answers by its own clock)"))
    if result.body is not None:
        lines.append("")
        if isinstance(result.body, Mapping):
            lines.append(json.dumps(result.body, indent=2, ensure_ascii=False))
        else:
            lines.append(str(result.body))
    return "\n".join(lines)


class LiveCalls(W.VBox):
    """Fire real requests and watch 200, 402 and 429 come back.

    Parameters
    ----------
    emulator : EmulatorHandle or starlette app, optional
        The emulator to call: a handle from :func:`orwidgets.emulator.start`, or an app from
        :func:`orwidgets.emulator.create_app` (called in memory). ``None``: the in-kernel emulator,
        started on the first run.
    account : AccountModel, optional
        Shared account: the policy follows it, and "fresh account" runs copy its balance and
        purchases.
    policy : str, optional
        Policy version id (default: the account's, else the article's).
    api_key : SecretKey or str, optional
        Key for the real API. Otherwise ``OPENROUTER_API_KEY`` (see ``key_env``), otherwise the
        password box.
    key_env : str or None
        Environment variable to read the key from (``None``: never read the environment).
    real_base_url : str
        Where "real API" runs go (default :data:`~orwidgets.client.OPENROUTER_API_BASE`).
    confirm_real_api : bool
        Pre-tick the confirmation for the next real-API run.
    real_api_cap : int
        Most calls per run to a non-loopback address (default 25).
    real_transport : httpx.AsyncBaseTransport, optional
        Transport for real-API runs (tests).
    lang : {"en", "ja", "zh"}, optional
        The language of its text (:func:`orwidgets.set_language` wins, then this, then
        ``ORWIDGETS_LANG``); kept for the widget's life. Answers (bodies, headers, messages) are
        shown as they came.

    Attributes
    ----------
    policy, target, preset, model, count, mode, concurrency, rate, real_api_cap, running, status
        Plain (unsynced) traits mirroring the controls; ``preset`` is a scenario's English label
        (or :data:`CUSTOM`) in every language, ``status`` the status line in the widget's.
    last_run : LoadRun or None
        The record of the last run (every :class:`~orwidgets.client.CallResult`).
    figure : plotly.graph_objects.FigureWidget
        One trace per :class:`~orwidgets.client.CallClass` (named by its label, in the widget's
        language; its ``meta`` is the English label): x = seconds since the run started, y =
        latency in ms.
    """

    policy = PolicyId(DEFAULT_POLICY_ID, help="Policy version id (an alias such as 'current' is "
                                              "stored as the dated id it names)")
    target = Enum(["emulator", "openrouter"], "emulator", help="Where the calls go")
    preset = Unicode(CUSTOM, help="A preset label, or CUSTOM for the settings below")
    model = Unicode(FREE_MODEL, help="Model id for custom runs")
    count = Int(21, help="Calls in a custom run")
    mode = Enum(["concurrency", "rate"], "concurrency", help="Pace by concurrency or by rate")
    concurrency = Int(10, help="Most calls in flight (mode 'concurrency')")
    rate = Float(50.0, help="Calls per second (mode 'rate')")
    real_api_cap = Int(DEFAULT_REAL_API_CAP, help="Most calls per run to a non-loopback address")
    running = Bool(False, help="A run is going on")
    status = Unicode("", help="The status line's text")

    def __init__(
        self,
        emulator: Any = None,
        *,
        account: Any = None,
        policy: str | None = None,
        api_key: SecretKey | str | None = None,
        key_env: str | None = "OPENROUTER_API_KEY",
        real_base_url: str = OPENROUTER_API_BASE,
        confirm_real_api: bool = False,
        real_api_cap: int = DEFAULT_REAL_API_CAP,
        real_transport: httpx.AsyncBaseTransport | None = None,
        lang: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._ = widget_translator(lang)
        self.lang = self._.lang
        self.account = account
        self._emulator = emulator
        self._real_base_url = real_base_url
        self._real_transport = real_transport
        self._key: SecretKey | None = None
        self._key_source = ""
        self._job: BackgroundJob[Any] | None = None
        self._models_job: BackgroundJob[Any] | None = None
        self._lowered_to: int | None = None  # a real-API run's count, lowered to the cap
        self._lock = threading.Lock()
        self._pending: list[CallResult] = []
        self._run: LoadRun | None = None
        self._run_start = 0.0
        self._series: dict[CallClass, tuple[list[float], list[float], list[list[str]]]] = {}
        self._last_error: CallResult | None = None
        self.last_traceback: str | None = None
        self.last_run: LoadRun | None = None
        self.real_api_cap = real_api_cap
        if api_key is not None:
            self._key = api_key if isinstance(api_key, SecretKey) else SecretKey(api_key)
            self._key_source = self._("given in Python")
        elif key_env:
            self._key = key_from_env(key_env)
            self._key_source = (self._("from {variable}").format(variable=key_env)
                                if self._key is not None else "")
        if account is not None:
            if policy is not None:
                account.policy = policy
            self.policy = account.policy
        elif policy is not None:
            self.policy = policy
        elif emulator is not None:
            self.policy = self._emulator_policy(emulator) or DEFAULT_POLICY_ID

        self._build(confirm_real_api)
        if account is not None:
            link((account, "policy"), (self, "policy"))
        if emulator is not None:
            self._load_models_in_background()

    # -- construction --------------------------------------------------------------------------

    @staticmethod
    def _emulator_policy(emulator: Any) -> str | None:
        emu = getattr(emulator, "emulator", None) or getattr(getattr(emulator, "state", None),
                                                             "emulator", None)
        policy = getattr(emu, "policy", None)
        return getattr(policy, "id", None)

    def _build(self, confirm_real_api: bool) -> None:
        _ = self._
        self._policy_picker = policy_picker(self.policy, _)
        self._caption = W.HTML(policy_caption(self.policy, _))
        self._target = W.ToggleButtons(
            options=[(_("in-kernel emulator"), "emulator"),
                     (_("OpenRouter (real API)"), "openrouter")],
            value=self.target, description=_("Target"), style={"button_width": "auto"},
        )
        self._target.add_class("orw-target")

        # Key: never a synced value (see _take_key).
        self._key_input = KeyBox(value="", placeholder=_("paste your key (kept in memory only)"),
                                  description=_("API key"), layout=W.Layout(width="360px"))
        self._key_input.add_class("orw-key-input")
        self._key_status = W.HTML()
        self._key_status.add_class("orw-key-status")
        # flex 0 0 auto: a long key status beside it (in Japanese, in Lab's narrower notebook)
        # must wrap, not shrink the button until its label is cut off.
        self._key_forget = W.Button(description=_("Forget key"),
                                    layout=W.Layout(width="auto", flex="0 0 auto"))
        self._key_input.observe(self._take_key, names="value")
        self._key_forget.on_click(self._safe(lambda _: self.forget_key()))
        self._key_row = W.HBox([self._key_input, self._key_forget, self._key_status])

        self._warning = W.HTML(
            f'<div style="color:{CSS["warn"]};border-left:3px solid {CSS["warn"]};'
            f'padding:2px 8px">{esc(self._real_api_warning())}</div>'
        )
        self._warning.add_class("orw-real-warning")
        self._confirm = W.Checkbox(
            value=bool(confirm_real_api), indent=False,
            description=_("I understand: send this run to the real API"),
            layout=W.Layout(width="auto"),
        )
        self._confirm.add_class("orw-confirm")
        # Descriptions take their own width ("initial"): the default 80 px cut "cap per run".
        label = {"description_width": "initial"}
        self._cap = W.BoundedIntText(value=self.real_api_cap, min=1, max=MAX_CAP,
                                     description=_("cap per run"), style=label,
                                     # apart from the checkbox's sentence, which it is not part of
                                     layout=W.Layout(width="200px", margin="0 0 0 24px"))
        self._cap.add_class("orw-cap")
        self._real_box = W.VBox([self._key_row, self._warning, W.HBox([self._confirm, self._cap])])

        # The values are the English labels, which code picks a scenario by in every language.
        self._preset = W.Dropdown(options=[(_(name), name)
                                           for name in [CUSTOM] + [p.label for p in PRESETS]],
                                  value=CUSTOM, description=_("Scenario"),
                                  layout=W.Layout(width="520px"),
                                  style={"description_width": "initial"})
        self._preset.add_class("orw-preset")
        self._preset_note = W.HTML()
        self._preset_note.add_class("orw-preset-note")

        self._model = W.Dropdown(options=self._model_options([]), value=self.model,
                                 description=_("Model"), style=label,
                                 layout=W.Layout(width="580px"))
        self._model.add_class("orw-model")
        self._load_models = W.Button(description=_("Load models"), layout=W.Layout(width="auto"),
                                     tooltip=_("GET /models of the target"))
        self._load_models.add_class("orw-load-models")
        self._account_pick = W.Dropdown(options=self._account_options(), value="demo:free",
                                        description=_("Account"), style=label,
                                        layout=W.Layout(width="580px"))
        self._account_pick.add_class("orw-account")
        self._count = W.BoundedIntText(value=self.count, min=1, max=MAX_COUNT,
                                       description=_("Calls"),
                                       style=label, layout=W.Layout(width="160px"))
        self._count.add_class("orw-count-input")
        self._mode = W.ToggleButtons(options=[(_("concurrency"), "concurrency"),
                                              (_("rate /s"), "rate")],
                                     value=self.mode, style={"button_width": "auto"})
        self._mode.add_class("orw-mode")
        self._concurrency = W.BoundedIntText(value=self.concurrency, min=1, max=MAX_CONCURRENCY,
                                             description=_("in flight"), style=label,
                                             layout=W.Layout(width="160px"))
        self._concurrency.add_class("orw-concurrency")
        self._rate = W.BoundedFloatText(value=self.rate, min=MIN_RATE, max=MAX_RATE, step=1.0,
                                        description=_("calls/s"), style=label,
                                        layout=W.Layout(width="160px"))
        self._rate.add_class("orw-rate")
        self._custom_box = W.VBox([
            W.HBox([self._model, self._load_models]),
            self._account_pick,
            W.HBox([self._count, self._mode, self._concurrency, self._rate]),
        ])

        self._run_button = W.Button(description=_("Run"), button_style="primary", icon="play")
        self._run_button.add_class("orw-run")
        self._stop_button = W.Button(description=_("Stop"), icon="stop", disabled=True)
        self._stop_button.add_class("orw-stop")
        self._progress = W.IntProgress(value=0, min=0, max=1, layout=W.Layout(width="220px"))
        self._progress.add_class("orw-progress")
        self._status = W.HTML()
        self._status.add_class("orw-status")
        self._counts = W.HTML()
        self._counts.add_class("orw-counts")
        self._error_box = W.HTML()
        self._error_box.add_class("orw-last-error")
        self.figure = self._make_figure()

        self.children = [
            self._policy_picker, self._caption, self._target, self._real_box,
            self._preset, self._preset_note, self._custom_box,
            W.HBox([self._run_button, self._stop_button, self._progress]),
            self._status, self._counts, self.figure, self._error_box,
        ]
        self.add_class("orw-livecalls")

        for name, control in (("policy", self._policy_picker), ("target", self._target),
                              ("preset", self._preset), ("count", self._count),
                              ("mode", self._mode), ("concurrency", self._concurrency),
                              ("rate", self._rate), ("real_api_cap", self._cap)):
            link((self, name), (control, "value"))
        self._model.observe(self._safe(self._on_model_pick), names="value")
        self._run_button.on_click(self._safe(lambda _: self.run()))
        self._stop_button.on_click(self._safe(lambda _: self.stop()))
        self._load_models.on_click(self._safe(lambda _: self._load_models_in_background()))
        self._show_key()
        self._on_layout()
        self._set_status(_("ready"), "muted")

    def _real_api_warning(self) -> str:
        return self._(REAL_API_TEMPLATE).format(low=fmt_count(FREE_DAILY_LOW),
                                                high=fmt_count(FREE_DAILY_HIGH))

    def _make_figure(self) -> Any:
        # Before the first run: no axes, a sentence saying what will appear (an empty grid
        # looked like a broken chart). _reset_display turns the axes on.
        _ = self._
        fig = figure_widget(layout=figure_layout(
            title={"text": _("One point per call"), "x": 0.01},
            xaxis={"title": {"text": _("seconds since the run started")}, "visible": False},
            yaxis={"title": {"text": _("latency (ms)")}, "rangemode": "tozero", "visible": False},
            height=320,
            annotations=[{
                "text": "<br>".join(esc(_(line)) for line in EMPTY_CHART_LINES),
                "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
                "showarrow": False, "font": {"size": 14},
            }],
        ))
        for call_class in CallClass:
            fig.add_scatter(
                x=[], y=[], mode="markers", name=class_label(call_class, _),
                meta=call_class.label, showlegend=False,
                marker={"color": call_class.color, "size": 7},
                customdata=[],
                hovertemplate="%{customdata[0]}<br>%{customdata[1]}<extra>%{fullData.name}</extra>",
            )
        fig.sync_state()  # the traces added above, for views that connect later
        return fig

    def _model_options(self, catalogue: list[Mapping[str, Any]]) -> list[tuple[str, str]]:
        _ = self._
        options: list[tuple[str, str]] = []
        for entry in catalogue:
            model_id = str(entry.get("id", ""))
            if not model_id:
                continue
            try:
                per_m = float(entry.get("pricing", {}).get("completion", "0")) * 1e6
            except (TypeError, ValueError):
                per_m = 0.0
            if is_free_model(model_id):
                label = _("{model} (free)").format(model=model_id)
            else:
                label = _("{model} ({price}/M output tokens)").format(model=model_id,
                                                                       price=f"${per_m:,.2f}")
            options.append((label, model_id))
        if not options:
            options = [(_("{model} (free)").format(model=FREE_MODEL), FREE_MODEL),
                       (_("{model} (paid)").format(model=PAID_MODEL), PAID_MODEL)]
        options.sort(key=lambda o: (not is_free_model(o[1]), o[1]))
        return options

    def _account_options(self) -> list[tuple[str, str]]:
        _ = self._
        options = [(_("emulator demo account '{name}'").format(name=name), f"demo:{name}")
                   for name in _DEMO_NAMES]
        if self.account is not None:
            fresh = _("a fresh account like the account model (balance and purchases)")
        else:
            fresh = _("a fresh account: $0, never topped up")
        return options + [(fresh, _FRESH)]

    # -- the key -------------------------------------------------------------------------------

    def _take_key(self, change: dict[str, Any]) -> None:
        value = change["new"]
        if not value:
            return
        # Empty the synced value before anything else can fail: the key must not stay there.
        self._key_input.value = ""
        try:
            self._key = SecretKey(value)
            self._key_source = self._("typed (kept in Python memory only)")
        except ValueError:  # (only blank text gets here: the box sends strings)
            text = self._("The key you pasted is empty; nothing was kept.")
            self._key_status.value = f'<span style="color:{CSS["error"]}">{esc(text)}</span>'
            return
        self._show_key()

    def set_key(self, key: SecretKey | str) -> None:
        """Give the real-API key from Python."""
        self._key = key if isinstance(key, SecretKey) else SecretKey(key)
        self._key_source = self._("given in Python")
        self._show_key()

    def forget_key(self) -> None:
        self._key = None
        self._key_source = ""
        self._show_key()

    @property
    def has_key(self) -> bool:
        return self._key is not None

    def _show_key(self) -> None:
        _ = self._
        if self._key is None:
            text = _("no key: set {variable} or paste one").format(variable="OPENROUTER_API_KEY")
        else:
            text = _("key {key} ({source})").format(key=self._key.masked, source=self._key_source)
        self._key_status.value = f'<span style="color:{CSS["muted"]}">{esc(text)}</span>'

    def __repr__(self) -> str:
        key = self._key.masked if self._key is not None else "<no key>"
        return (f"LiveCalls(target={self.target!r}, policy={self.policy!r}, "
                f"preset={self.preset!r}, key={key}, running={self.running!r})")

    # -- reacting to the controls --------------------------------------------------------------

    @validate("policy")
    def _check_policy(self, proposal: dict[str, Any]) -> str:
        try:
            return get_policy(proposal["value"]).id
        except ValueError as exc:
            raise TraitError(str(exc)) from None

    @validate("preset")
    def _check_preset(self, proposal: dict[str, Any]) -> str:
        value = proposal["value"]
        if value == CUSTOM:
            return value
        try:
            return get_preset(value).label
        except KeyError as exc:
            raise TraitError(str(exc.args[0])) from None

    @validate("real_api_cap")
    def _check_cap(self, proposal: dict[str, Any]) -> int:
        return min(MAX_CAP, max(1, int(proposal["value"])))

    # Out-of-range numbers are clamped (the controls show the clamped value), never refused.
    @validate("count")
    def _check_count(self, proposal: dict[str, Any]) -> int:
        return min(MAX_COUNT, max(1, int(proposal["value"])))

    @validate("concurrency")
    def _check_concurrency(self, proposal: dict[str, Any]) -> int:
        return min(MAX_CONCURRENCY, max(1, int(proposal["value"])))

    @validate("rate")
    def _check_rate(self, proposal: dict[str, Any]) -> float:
        value = float(proposal["value"])
        if not math.isfinite(value):
            raise TraitError(f"rate: expected a finite number of calls per second, got {value!r}")
        return min(MAX_RATE, max(MIN_RATE, value))

    @observe("policy", "target", "preset", "mode")
    def _on_layout(self, change: Any = None) -> None:
        if not hasattr(self, "_caption"):
            return
        self._caption.value = self._policy_caption()
        real = self.target == "openrouter"
        self._real_box.layout.display = None if real else "none"
        self._account_pick.layout.display = "none" if real else None
        is_preset = self.preset != CUSTOM
        self._custom_box.layout.display = "none" if is_preset else None
        self._concurrency.layout.display = None if self.mode == "concurrency" else "none"
        self._rate.layout.display = None if self.mode == "rate" else "none"
        if is_preset:
            self._preset_note.value = self._preset_html(get_preset(self.preset), real)
        else:
            self._preset_note.value = ""

    def _preset_html(self, preset: Any, real: bool) -> str:
        """A scenario's note: what happens, and what each class should count under the version
        it runs under."""
        _ = self._
        counts = self._expected_counts(preset.expected(self.policy))
        under = preset.runs_under(self.policy).id
        head = esc(_("Expected under {policy}:").format(policy=under))
        if preset.policy is not None and under != self.policy:
            line = _("{expected} {counts}. (This scenario needs {policy}: it switches the emulator "
                     "to it, and back to the version it found when it ends.)")
        else:
            line = _("{expected} {counts}.")
        note = (esc(preset.describe(_)) + "<br>"
                + html_text(line, expected=f"<b>{head}</b>", counts=esc(counts),
                            policy=esc(under)))
        if real:
            only = esc(_("Scenarios run against the emulator only: switch the target back to run "
                         "one."))
            note += f'<br><span style="color:{CSS["warn"]}">{only}</span>'
        return f'<div style="color:{CSS["muted"]};line-height:1.4">{note}</div>'

    def _expected_counts(self, counts: Mapping[CallClass, int]) -> str:
        """``200 ok: 20, 429 free per-minute: 1``, in the widget's language."""
        _ = self._
        return _(", ").join(_("{label}: {n}").format(label=class_label(c, _), n=fmt_count(n))
                            for c, n in counts.items())

    def _policy_caption(self) -> str:
        return policy_caption(self.policy, self._)

    def _on_model_pick(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.model = change["new"]

    @observe("model")
    def _on_model(self, change: Any) -> None:
        if hasattr(self, "_model") and change["new"] in [v for _, v in self._model.options]:
            self._model.value = change["new"]

    # -- public API ----------------------------------------------------------------------------

    @property
    def results(self) -> list[CallResult]:
        """Every answer of the current (or last) run."""
        return list(self._run.results) if self._run is not None else []

    @property
    def counts(self) -> dict[CallClass, int]:
        return self._run.counts if self._run is not None else {}

    def run(
        self,
        preset: str | None = None,
        *,
        wait: bool = False,
        timeout: float | None = None,
        confirm_real_api: bool | None = None,
    ) -> bool:
        """Start a run (what the Run button does); returns whether it started.

        Parameters
        ----------
        preset:
            A preset label or key (default: the picker's choice; :data:`CUSTOM` for the settings).
        wait:
            Block until the run ends (scripts and tests; the button never waits).
        confirm_real_api:
            Confirm a run to a non-loopback address (same as ticking the box).
        """
        if self.running:
            self._set_status(self._("a run is going on: press Stop first"), "warn")
            return False
        if preset is not None:
            self.preset = preset if preset == CUSTOM else get_preset(preset).label
        if confirm_real_api is not None:
            self._confirm.value = bool(confirm_real_api)
        try:
            factory, requested = self._plan()
        except _Refused as refused:
            self._set_status(str(refused), "error")
            return False
        self._reset_display(requested)
        self.running = True
        self._run_button.disabled = True
        self._stop_button.disabled = False
        self._set_status(self._running_text(0, requested), "fg")
        self._job = BackgroundJob(factory, on_done=self._finish, name="orwidgets-livecalls")
        self._job.start()
        if wait:
            self.wait(timeout)
        return True

    def stop(self) -> None:
        """Stop the run: no new calls go out; calls in flight are abandoned."""
        if self._job is not None:
            self._job.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the current run has finished and the widgets show it."""
        return self._job.wait(timeout) if self._job is not None else True

    # -- planning a run ------------------------------------------------------------------------

    def _plan(self) -> tuple[Callable[[threading.Event], Awaitable[Any]], int]:
        self._lowered_to = None
        if self.target == "openrouter":
            return self._plan_real()
        if self.preset != CUSTOM:
            preset = get_preset(self.preset)
            requested = preset.calls(self.policy)
            policy = self.policy

            async def preset_job(cancel: threading.Event) -> Any:
                target = await asyncio.to_thread(self._resolve_emulator)
                run = PresetRun(requested=requested, offered_rate=None, concurrency=50)
                self._run = run
                return await self._with_flusher(run_preset(
                    preset, target.root, target.admin_token, transport=target.transport(),
                    policy=policy, cancel=cancel, on_result=self._on_result, run=run,
                ))

            return preset_job, requested

        count, model = self.count, self.model
        rate, concurrency = self._pace()
        choice, policy = self._account_pick.value, self.policy
        fresh = self._fresh_account()

        async def custom_job(cancel: threading.Event) -> Any:
            target = await asyncio.to_thread(self._resolve_emulator)
            transport = target.transport()
            async with EmulatorAdmin(target.root, target.admin_token, transport=target.transport()) as admin:
                if await admin.policy() != policy:
                    await admin.set_policy(policy)
                if choice == _FRESH:
                    _, key = await admin.create_account(*fresh, label="LiveCalls")
                else:
                    key = target.keys[choice.split(":", 1)[1]]
            run = LoadRun(requested=count, offered_rate=rate, concurrency=concurrency or 0)
            self._run = run
            return await self._with_flusher(run_load(
                target.root + "/api/v1", model, count, rate=rate, concurrency=concurrency,
                api_key=key, transport=transport, cancel=cancel, on_result=self._on_result, run=run,
            ))

        return custom_job, count

    def _pace(self) -> tuple[float | None, int | None]:
        if self.mode == "rate":
            return float(self.rate), None
        return None, int(self.concurrency)

    def _fresh_account(self) -> tuple[float, float]:
        if self.account is not None:
            return float(self.account.balance_usd), float(self.account.purchased_usd)
        return 0.0, 0.0

    def _plan_real(self) -> tuple[Callable[[threading.Event], Awaitable[Any]], int]:
        _ = self._
        if self.preset != CUSTOM:
            raise _Refused(_("not sent: scenarios run against the emulator only; switch the "
                             "target to the in-kernel emulator, or pick '{custom}'").format(
                                 custom=_(CUSTOM)))
        if self._key is None:
            raise _Refused(_("not sent: no API key (set {variable} or paste one)").format(
                variable="OPENROUTER_API_KEY"))
        base = self._real_base_url
        count = self.count
        cap = self.real_api_cap
        lowered = None
        if not is_loopback(base) and count > cap:
            self.count = count = lowered = cap
        try:
            check_real_api(base, confirmed=self._confirm.value is True, count=count, cap=cap)
        except RealApiNotConfirmed:
            raise _Refused(_("not sent: tick 'I understand' first. {warning}").format(
                warning=self._real_api_warning())) from None
        except RealApiCapExceeded as exc:
            raise _Refused(_("not sent: {error}").format(error=exc)) from None
        model = self.model
        rate, concurrency = self._pace()
        key = self._key
        transport = self._real_transport
        confirmed = self._confirm.value is True
        self._lowered_to = lowered

        async def real_job(cancel: threading.Event) -> Any:
            run = LoadRun(requested=count, offered_rate=rate, concurrency=concurrency or 0)
            self._run = run
            async with AsyncOpenRouterClient(base, key, transport=transport,
                                             max_connections=concurrency or 10) as client:
                return await self._with_flusher(run_load(
                    client, model, count, rate=rate, concurrency=concurrency, cancel=cancel,
                    on_result=self._on_result, confirm_real_api=confirmed, real_api_cap=cap,
                    run=run,
                ))

        return real_job, count

    def _resolve_emulator(self) -> _EmulatorTarget:
        """The emulator to call (started here, in the worker thread, when none was given)."""
        if self._emulator is None:
            from ..emulator import start

            self._emulator = start()
        return _EmulatorTarget.of(self._emulator, self._)

    # -- the worker side -----------------------------------------------------------------------

    async def _with_flusher(self, work: Awaitable[Any]) -> Any:
        async def flush_every() -> None:
            while True:
                await asyncio.sleep(FLUSH_INTERVAL_S)
                self._flush()

        flusher = asyncio.ensure_future(flush_every())
        try:
            return await work
        finally:
            flusher.cancel()
            await asyncio.gather(flusher, return_exceptions=True)

    def _on_result(self, result: CallResult) -> None:
        with self._lock:
            self._pending.append(result)

    def _reset_display(self, requested: int) -> None:
        with self._lock:
            self._pending = []
            self._series = {}
            self._last_error = None
            self._run = None
            self._run_start = time.time()
        self.last_traceback = None
        self._progress.max = max(1, requested)
        self._progress.value = 0
        self._counts.value = ""
        self._error_box.value = ""
        with self.figure.batch_update():
            for trace in self.figure.data:
                trace.x, trace.y, trace.customdata = [], [], []
                trace.showlegend = False
            self.figure.layout.annotations = []
            self.figure.layout.xaxis.visible = self.figure.layout.yaxis.visible = True

    def _flush(self) -> None:
        """Move results that arrived since the last flush onto the widgets (worker thread)."""
        with self._lock:
            batch, self._pending = self._pending, []
            run = self._run
        if not batch:
            return
        _ = self._
        start = run.started_at if run is not None and run.started_at else self._run_start
        changed: set[CallClass] = set()
        no_answer, ok = _("no answer"), _("OK")
        for result in batch:
            xs, ys, custom = self._series.setdefault(result.call_class, ([], [], []))
            xs.append(round(max(0.0, result.sent_at - start), 4))
            ys.append(round(result.latency_s * 1000, 2))
            status = no_answer if result.status is None else f"HTTP {result.status}"
            custom.append([status, esc((result.message or ok).strip()[:160])])
            changed.add(result.call_class)
            if not result.ok:
                self._last_error = result
        with self.figure.batch_update():
            for index, call_class in enumerate(CallClass):
                if call_class in changed:
                    xs, ys, custom = self._series[call_class]
                    trace = self.figure.data[index]
                    trace.x, trace.y, trace.customdata = list(xs), list(ys), [list(c) for c in custom]
                    trace.showlegend = True
        finished = sum(len(s[0]) for s in self._series.values())
        self._progress.value = min(finished, self._progress.max)
        self._render_counts()
        self._render_last_error()
        if self.running:
            self._set_status(self._running_text(finished, self._progress.max), "fg")

    def _render_counts(self) -> None:
        _ = self._
        items = []
        for call_class in CallClass:
            series = self._series.get(call_class)
            if not series:
                continue
            count = html_text(
                _("{label}: {n}"), label=esc(class_label(call_class, _)),
                n=(f'<b><span class="orw-count" data-class="{call_class.value}">'
                   f"{fmt_count(len(series[0]))}</span></b>"))
            items.append(
                f'<span class="orw-count-item" style="margin-right:14px;white-space:nowrap">'
                f'<span style="color:{call_class.color}">&#9679;</span> {count}</span>'
            )
        self._counts.value = f'<div style="color:{CSS["fg"]}">{"".join(items)}</div>'

    def _render_last_error(self) -> None:
        result = self._last_error
        if result is None:
            return
        _ = self._
        head = esc(_("Last error ({label}): {advice}").format(
            label=class_label(result.call_class, _), advice=class_advice(result.call_class, _)))
        answer = esc(_pretty_result(result, emulator=self.target == "emulator", _=_))
        self._error_box.value = (
            f'<div style="color:{CSS["muted"]};line-height:1.4">{head}</div>'
            f'<pre style="background:{CSS["code_bg"]};color:{CSS["fg"]};padding:6px;'
            f'max-height:260px;overflow:auto;white-space:pre-wrap;line-height:1.35">{answer}</pre>'
        )

    def _finish(self, job: BackgroundJob[Any]) -> None:
        """End of a run, in the worker thread: final flush, then the status line says how it went."""
        try:
            self._flush()
        except Exception:
            self.last_traceback = traceback.format_exc()
        run = job.result if isinstance(job.result, LoadRun) else self._run
        self.last_run = run
        self.running = False
        self._run_button.disabled = False
        self._stop_button.disabled = True
        if self.target == "openrouter":
            self._confirm.value = False  # every real-API burst needs its own confirmation
        _ = self._
        if job.error is not None:
            self.last_traceback = "".join(traceback.format_exception(job.error))
            self._set_status(self._error_text(job.error), "error")
            return
        if run is None:
            self._set_status(_("error: the run produced no record"), "error")
            return
        n, seconds = plural_n(run.finished), f"{run.duration_s:.2f}"
        if run.duration_s > 0 and run.finished:
            took = _.ngettext("{n} call in {s} s ({rate} calls/s)",
                              "{n} calls in {s} s ({rate} calls/s)", n)
        else:
            took = _.ngettext("{n} call in {s} s", "{n} calls in {s} s", n)
        took = took.format(n=fmt_count(run.finished), s=seconds,
                           rate=f"{run.achieved_rate:,.0f}" if run.duration_s > 0 else "")
        if run.cancelled:
            self._set_status(_("stopped: {took}").format(took=took), "warn")
            return
        text = _("done: {took}").format(took=took)
        if self._lowered_to is not None:
            text = _.ngettext("{status} (count lowered to the cap of {n} call a run)",
                              "{status} (count lowered to the cap of {n} calls a run)",
                              plural_n(self._lowered_to)).format(
                status=text, n=fmt_count(self._lowered_to))
        level = "ok"
        if isinstance(run, PresetRun) and run.expected:
            if run.matches_expected:
                text = _("{status}; exactly what the policy predicts").format(status=text)
            else:
                text = _("{status}; expected {counts} (another client using the emulator at the "
                         "same time changes the counts)").format(
                    status=text, counts=self._expected_counts(run.expected))
                level = "warn"
        self._set_status(text, level)

    def _running_text(self, finished: int, requested: int) -> str:
        return self._.ngettext("running: {finished} of {n} call", "running: {finished} of {n} calls",
                               plural_n(requested)).format(finished=fmt_count(finished),
                                                           n=fmt_count(requested))

    def _error_text(self, exc: BaseException) -> str:
        """An error the status line shows: the exception's own words (Python's or a library's)."""
        return self._("error: {error}").format(error=f"{type(exc).__name__}: {exc}")

    def _set_status(self, text: str, level: str = "fg") -> None:
        color = CSS.get(level, CSS["fg"])
        self.status = text
        self._status.value = f'<div style="color:{color}">{esc(text)}</div>'

    def _safe(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap a callback so that an error shows in the status line instead of vanishing."""

        def inner(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - shown to the reader
                self.last_traceback = traceback.format_exc()
                self._set_status(self._error_text(exc), "error")
                return None

        return inner

    # -- models --------------------------------------------------------------------------------

    def _load_models_in_background(self) -> None:
        """``GET /models`` of the target in a worker thread; the picker updates when it answers."""
        real = self.target == "openrouter"

        async def fetch(cancel: threading.Event) -> list[Mapping[str, Any]]:
            if real:
                async with AsyncOpenRouterClient(self._real_base_url, None,
                                                 transport=self._real_transport) as client:
                    result = await client.list_models()
            else:
                target = await asyncio.to_thread(self._resolve_emulator)
                async with AsyncOpenRouterClient(target.root + "/api/v1", None,
                                                 transport=target.transport()) as client:
                    result = await client.list_models()
            if not result.ok or not isinstance(result.body, Mapping):
                raise RuntimeError(self._("GET /models: {answer}").format(
                    answer=_call_line(result, self._)))
            return list(result.body.get("data") or [])

        run_before = self._job

        def done(job: BackgroundJob[list[Mapping[str, Any]]]) -> None:
            if job.error is not None:
                # A run started since has its own outcome in the status line (often the same
                # cause): that says more than this, and must not be overwritten by it.
                if not self.running and self._job is run_before:
                    self._set_status(self._("could not load models: {error}").format(
                        error=job.error), "warn")
                return
            options = self._model_options(job.result or [])
            current = self.model
            self._model.options = options
            ids = [v for _, v in options]
            self._model.value = current if current in ids else ids[0]

        self._models_job = BackgroundJob(fetch, on_done=done, name="orwidgets-livecalls-models")
        self._models_job.start()


class _Refused(Exception):
    """A run that must not start; the message says why (shown in the status line)."""


class _EmulatorTarget:
    """Where the emulator is and how to reach it (a running server, or an app in memory)."""

    def __init__(self, root: str, admin_token: str, keys: Mapping[str, str], app: Any = None):
        self.root = root
        self.admin_token = admin_token
        self.keys = keys
        self._app = app

    def transport(self) -> httpx.AsyncBaseTransport | None:
        return httpx.ASGITransport(app=self._app) if self._app is not None else None

    @classmethod
    def of(cls, emulator: Any, _: Translator = ENGLISH) -> _EmulatorTarget:
        emu = getattr(getattr(emulator, "state", None), "emulator", None)
        if emu is not None:  # a starlette app from create_app(): called in memory
            return cls(_IN_MEMORY_BASE, emu.admin_token, emu.demo_keys, app=emulator)
        base = getattr(emulator, "base_url", None)
        token = getattr(emulator, "admin_token", None)
        if not base or not token:
            raise TypeError(_("emulator: expected a handle from `orwidgets.emulator.start()` or "
                              "an app from `create_app()`"))
        return cls(emulator_root(base), token, dict(getattr(emulator, "keys", {}) or {}))
