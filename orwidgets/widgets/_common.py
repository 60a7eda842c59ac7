"""What every widget shares: colours, number formatting, the policy picker, the notice area,
guarded observers, a debouncing scheduler and the secret-key field.

Light and dark themes: HTML uses JupyterLab's CSS variables (with fallbacks for Voila and the
classic notebook) instead of hard-coded black; figures get a transparent background, mid-grey
text and translucent grid lines, which read on both.

Language: every widget takes ``lang=`` and keeps the :class:`~orwidgets.i18n.Translator` it was
built with (``self._``), so :func:`orwidgets.set_language` changes the widgets made afterwards, not
the ones on the page. The helpers here take that translator as ``_`` (English when left out).
Numbers and money read the same in every language: ``$1,234.56``, ``1,000``, ``-$5.00`` ([inv]
``fmt_usd``/``fmt_count`` below say why); the words around them are translated.
"""

from __future__ import annotations

import asyncio
import functools
import html
import math
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from copy import deepcopy
from typing import Any

import ipywidgets as W
from traitlets import TraitError, Unicode, default

from .._secret import SecretKey, key_from_env
from ..i18n import Translator, translator
from .. import policy as _policy
from ..policy import CURRENT_ALIAS, POLICIES, PolicyVersion, format_usd, get_policy
from . import _plotly_once

__all__ = [
    "ENGLISH",
    "widget_translator",
    "plural_n",
    "html_text",
    "rps_rule_name",
    "paid_rps_sentence",
    "class_label",
    "class_advice",
    "figure_widget",
    "KeyBox",
    "COLORS",
    "CSS",
    "fmt_usd",
    "fmt_usd_fine",
    "fmt_count",
    "fmt_duration",
    "fmt_clock",
    "esc",
    "policy_picker",
    "policy_label",
    "policy_caption",
    "Notice",
    "guarded",
    "set_number",
    "call_later",
    "figure_layout",
    "log_ticks",
    "aligned_ranges",
    "KeyField",
]

#: Chart colours picked to keep contrast on white and on JupyterLab's dark background.
COLORS = {
    "paid": "#3b82c4",
    "marker": "#e4572e",
    "floor": "rgba(240, 170, 40, 0.22)",
    "cap": "rgba(220, 70, 70, 0.18)",
    "need": "#f08c00",
    "balance": "#2f9e44",
    "crossing": "#e4572e",
    "low": "#8c8fa3",
    "high": "#3b82c4",
    "you": "#e4572e",
    "grid": "rgba(128, 128, 128, 0.25)",
    "text": "#8a8a8a",
}

#: CSS values that follow the JupyterLab theme (fallbacks outside Lab).
CSS = {
    "fg": "var(--jp-ui-font-color1, inherit)",
    "muted": "var(--jp-ui-font-color2, #777)",
    "accent": "var(--jp-brand-color1, #1976d2)",
    "warn": "var(--jp-warn-color1, #e68a00)",
    "error": "var(--jp-error-color1, #d32f2f)",
    "ok": "var(--jp-success-color1, #388e3c)",
    "border": "var(--jp-border-color2, #ccc)",
    "code_bg": "var(--jp-layout-color2, rgba(128,128,128,0.08))",
}


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


# --- language ------------------------------------------------------------------------------------

#: English whatever :func:`orwidgets.set_language` says: the helpers' default, for callers that
#: pass no translator (Python code, tests), which then read as they always did.
ENGLISH = Translator("en")


def widget_translator(lang: str | None) -> Translator:
    """The translator a widget keeps: :func:`orwidgets.set_language` first, then ``lang``, then
    ``ORWIDGETS_LANG``, then English (:func:`orwidgets.i18n.get_language`), resolved once, when the
    widget is built."""
    return translator(lang)


def plural_n(count: float | None) -> int:
    """The ``n`` a catalogue's plural rule is given for a count written by :func:`fmt_count`:
    exactly 1 is singular, every other count (0, 2.5, ``None``) plural, as English reads them
    ("1 call", "0 calls", "2.5 calls"). Japanese and Chinese have one form for every ``n``."""
    if count is None:
        return 2
    number = float(count)
    if number == 1:
        return 1
    return int(abs(number)) if number.is_integer() and abs(number) < 2**31 else 2


def html_text(template: str, **fields: str) -> str:
    """A translated sentence as HTML text (not an attribute): its words escaped, its ``{fields}``
    put in as given (each already HTML: an escaped value, a ``<b>`` number). Keeps markup out of
    the catalogues while a translator still moves every field where the sentence needs it."""
    return html.escape(template, quote=False).format(**fields)


# --- text the widgets show from other modules ----------------------------------------------------
#
# Those modules keep their text in English, marked for the catalogues where they write it (the
# msgids are the English text); a widget translates it when it shows it. Where a module offers
# more than the msgid (a rule name with its number, OpenRouter's remedy_hint quoted in English
# with our wording for the other languages), these use it when it is there.


def rps_rule_name(rule: str, _: Translator = ENGLISH) -> str:
    """The name of the rule behind a paid RPS (``RpsAnswer.rule``: ``"rounded up"``,
    ``"cap 500"``) in ``_``'s language; the rule itself stays the id code compares."""
    return _policy.rps_rule_text_in(rule, _.lang)


def paid_rps_sentence(balance_usd: float, version: PolicyVersion,
                      _: Translator = ENGLISH) -> str:
    """:func:`orwidgets.policy.explain_paid_rps`'s sentence for the reader, in ``_``'s
    language."""
    return _policy.explain_paid_rps(balance_usd, version, lang=_.lang).text


def class_label(call_class: Any, _: Translator = ENGLISH) -> str:
    """A :class:`~orwidgets.client.CallClass` label (``429 free per-minute``), translated."""
    return _(call_class.label)


def class_advice(call_class: Any, _: Translator = ENGLISH) -> str:
    """What a client should do after an answer of ``call_class``, in ``_``'s language: where the
    English advice is OpenRouter's own ``remedy_hint`` (never translated), the class gives our
    wording of it for the other languages."""
    return call_class.advice_text().render(_.lang)


# --- formatting ---------------------------------------------------------------------------------


def fmt_usd(value: float | None, _: Translator = ENGLISH) -> str:
    """``$1,234.56``; ``-$0.50`` (the sign before the dollar, everywhere); ``unknown`` (in ``_``'s
    language) for ``None``. A value that rounds to zero cents is ``$0.00``, never ``-$0.00``.

    [inv] The same in every language: OpenRouter bills in US dollars and writes them so; Japanese
    and Chinese developers read ``$10`` and ``-$5.00`` as English does (both glossaries write
    them so, with half-width digits and thousands commas), while Babel's currency format would
    turn Chinese into ``US$10.00`` and the widgets would no longer match the notebooks' text."""
    if value is None:
        return _("unknown")
    return format_usd(value)


def fmt_usd_fine(value: float | None, digits: int = 3, _: Translator = ENGLISH) -> str:
    """:func:`fmt_usd` for amounts that can be fractions of a cent (what one request holds):
    below a dollar, ``digits`` significant digits (``$0.00246``, ``$0.5``); cents (``$0.01``)
    and whole amounts as :func:`fmt_usd` writes them. ``unknown`` for ``None``."""
    if value is None:
        return _("unknown")
    amount = abs(float(value))
    if amount == 0 or amount >= 1 or round(amount, 2) == amount:
        return fmt_usd(value)
    decimals = max(2, digits - 1 - math.floor(math.log10(amount)))
    text = f"{amount:.{decimals}f}".rstrip("0")
    if len(text.split(".")[1]) < 2:
        text = f"{amount:.2f}"
    return f"{'-' if value < 0 else ''}${text}"


def fmt_count(value: float | None, _: Translator = ENGLISH) -> str:
    """``1,000``, ``2.5``, ``0.33`` (thousands separators, at most two decimals, no trailing
    zeros); ``unknown`` for ``None``. Every count and rate a widget prints goes through here, so
    "1000" never stands beside "1,000". [inv] The same in every language (Babel's
    ``format_decimal`` writes ``1,000`` for ``ja`` and ``zh`` too)."""
    if value is None:
        return _("unknown")
    number = float(value)
    if number.is_integer():
        return f"{int(number):,}"
    text = f"{number:,.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def fmt_duration(seconds: float | None, _: Translator = ENGLISH) -> str:
    """``45 s``, ``20 min``, ``3 h 05 min``, ``2 d 04 h`` (``45 秒``, ``3 小时 05 分`` ...);
    ``never`` for ``None``."""
    if seconds is None:
        return _("never")
    s = max(0, int(round(seconds)))
    if s < 60:
        return _("{s} s").format(s=s)
    minutes, sec = divmod(s, 60)
    if minutes < 60:
        if sec:
            return _("{m} min {s} s").format(m=minutes, s=f"{sec:02d}")
        return _("{m} min").format(m=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("{h} h {m} min").format(h=hours, m=f"{minutes:02d}")
    days, hours = divmod(hours, 24)
    return _("{d} d {h} h").format(d=days, h=f"{hours:02d}")


def fmt_clock(seconds_of_day: float) -> str:
    """``HH:MM`` for seconds after 00:00 (wrapped to one day)."""
    s = int(math.floor(seconds_of_day)) % 86_400
    return f"{s // 3600:02d}:{(s % 3600) // 60:02d}"


# --- policy picker and caption -------------------------------------------------------------------


def policy_label(version: str | PolicyVersion, _: Translator = ENGLISH) -> str:
    """The picker's name of a version: its id and title (``2025-04: 50 a day, ...``), and
    ``[current]`` on the version ``current`` names; :attr:`PolicyVersion.label` in English."""
    v = get_policy(version)
    if v.is_current:
        return _("{id}: {title} [{alias}]").format(id=v.id, title=_(v.title), alias=CURRENT_ALIAS)
    return _("{id}: {title}").format(id=v.id, title=_(v.title))


def policy_picker(value: str, _: Translator = ENGLISH,
                  description: str | None = None) -> W.Dropdown:
    """A dropdown over :data:`orwidgets.policy.POLICIES` (labels carry the title); the values are
    the version ids, in every language."""
    picker = W.Dropdown(
        options=[(policy_label(v, _), v.id) for v in POLICIES.values()],
        value=get_policy(value).id,  # "current" selects the dated version it names
        description=_("Policy") if description is None else description,
        style={"description_width": "initial"},
        layout=W.Layout(width="auto", max_width="640px"),
    )
    picker.add_class("orw-policy-picker")
    return picker


def policy_caption(policy: str | PolicyVersion, _: Translator = ENGLISH) -> str:
    """HTML naming the version and its period, once (every widget shows it under its picker).

    The picker above already reads "id: title", so the caption adds what it does not say: the
    period, as the version's own ``in_force_text`` ("about 2025-04-08 to mid-2025"). It used to
    repeat the title and give the period twice (that text and the approximate ISO dates)."""
    v = get_policy(policy)
    fields = {"id": f'<b style="color:{CSS["fg"]}">{esc(v.id)}</b>',
              "period": esc(_(v.in_force_text))}
    if v.is_current:
        text = html_text(_("Rules: {id} (what {current} names), in force {period}."),
                         current=f"<code>{esc(CURRENT_ALIAS)}</code>", **fields)
    else:
        text = html_text(_("Rules: {id}, in force {period}."), **fields)
    return f'<span class="orw-policy-caption" style="color:{CSS["muted"]}">{text}</span>'


# --- notices and guarded observers ---------------------------------------------------------------


class Notice:
    """A small message area inside a widget: clamped values, explanations, caught errors.

    ``_`` is the widget's translator: :func:`set_number` and :func:`guarded` write their messages
    with it."""

    def __init__(self, _: Translator = ENGLISH) -> None:
        self._ = _
        self.widget = W.HTML("", layout=W.Layout(min_height="0"))
        self.widget.add_class("orw-notice")
        self.text = ""
        self.level = ""

    def show(self, text: str, level: str = "warn") -> None:
        self.text, self.level = text, level
        color = CSS.get(level, CSS["warn"])
        self.widget.value = (
            f'<div class="orw-notice-{level}" style="color:{color};'
            f'border-left:3px solid {color};padding:2px 8px;margin:2px 0">{esc(text)}</div>'
        )

    def clear(self) -> None:
        self.text, self.level = "", ""
        self.widget.value = ""


def guarded(notice: Notice) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap an observer so an exception is shown in ``notice`` instead of vanishing.

    JupyterLab drops prints and tracebacks raised in widget callbacks; here the message lands in
    the widget and the full traceback stays in ``notice.last_traceback`` for debugging.
    """

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - shown to the reader, never re-raised
                notice.last_traceback = traceback.format_exc()  # type: ignore[attr-defined]
                notice.show(notice._("Something went wrong: {error}").format(
                    error=f"{type(exc).__name__}: {exc}"), "error")
                return None

        return inner

    return wrap


def set_number(
    owner: Any, name: str, value: Any, notice: Notice, label: str | None = None
) -> bool:
    """Set ``owner.name = value`` from a typed field; explain bad values, report clamps.

    ``label`` names the field as the reader sees it (translated by the caller); the messages are
    in the notice's language. Returns ``True`` when the value was taken (possibly clamped),
    ``False`` when it was refused (the previous value stays).
    """
    _ = notice._
    label = label or name
    try:
        number = float(value)
    except (TypeError, ValueError):
        notice.show(_("{field}: {value} is not a number; kept {kept}.").format(
            field=label, value=repr(value), kept=repr(getattr(owner, name))))
        return False
    if not math.isfinite(number):
        notice.show(_("{field}: {value} is not a finite number; kept {kept}.").format(
            field=label, value=repr(value), kept=repr(getattr(owner, name))))
        return False
    current = getattr(owner, name)
    if isinstance(current, int) and not isinstance(current, bool):
        number = int(round(number))
    try:
        setattr(owner, name, number)
    except TraitError as exc:
        notice.show(_("{field}: {error}").format(field=label, error=exc))
        return False
    taken = getattr(owner, name)
    if taken != number:
        notice.show(_("{field}: {value} is out of range; clamped to {taken}.").format(
            field=label, value=fmt_count(number, _), taken=fmt_count(taken, _)))
    else:
        notice.clear()
    return True


# --- scheduling ----------------------------------------------------------------------------------


class _Done:
    def cancel(self) -> None:
        pass


def call_later(delay_s: float, fn: Callable[[], None]) -> Any:
    """Run ``fn`` after ``delay_s`` on the running event loop (a Jupyter kernel has one); without
    a running loop (plain Python, tests, benchmarks) run it now. Returns a handle with
    ``cancel()``."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        fn()
        return _Done()
    return loop.call_later(delay_s, fn)


# --- figures -------------------------------------------------------------------------------------


_FIGURE_CLASS: Any = None
#: Seconds a figure waits before refreshing its synced state after an update (see figure_widget).
FIGURE_SYNC_DELAY_S = 0.25


def figure_widget(**kwargs: Any) -> Any:
    """A plotly ``FigureWidget`` whose synced state follows every ``batch_update``.

    plotly sends later changes as one-off restyle/relayout messages and refreshes the synced
    ``_widget_data``/``_widget_layout`` only when the figure itself is displayed, which never
    happens for a figure inside a ``VBox``. A view that connects later (Voila connects after the
    whole notebook ran; a page reload) would then draw the figure as it was built, with no traces.
    Refreshing that state after each batch makes every new view draw the figure as it is; existing
    views ignore it (the front end's handler for a new ``_widget_data`` does nothing).

    Its front end is plotly's, sent and evaluated once per page rather than once per figure
    (:mod:`orwidgets.widgets._plotly_once`): the figure sends a small loader, and the kernel's one
    carrier widget sends plotly's module. The carrier goes out before plotly is even imported, so
    the page evaluates the module while the kernel spends its seconds on that import.
    """
    global _FIGURE_CLASS
    _plotly_once.carrier()
    if _FIGURE_CLASS is None:
        import plotly.graph_objects as go

        loader = _plotly_once.figure_esm(str(go.FigureWidget._esm))

        class SyncedFigureWidget(go.FigureWidget):
            if loader is not None:
                _esm = loader
                # Names the carrier for the loader (_plotly_once.CARRIER_TRAIT).
                _orw_plotly_module = Unicode().tag(sync=True)

                @default("_orw_plotly_module")
                def _name_the_carrier(self) -> str:
                    return _plotly_once.carrier_ref()

            @contextmanager
            def batch_update(self):  # type: ignore[override]
                with super().batch_update():
                    yield
                # In a kernel, a drag's many updates share one state refresh a moment later;
                # without a running loop (tests, benchmarks, worker threads) it happens now.
                if not getattr(self, "_sync_pending", False):
                    self._sync_pending = True
                    call_later(FIGURE_SYNC_DELAY_S, self._sync_later)

            def _sync_later(self) -> None:
                self._sync_pending = False
                self.sync_state()

            def sync_state(self) -> None:
                # Deep copies: plotly changes nested values in place, and a shallow copy would
                # compare equal to the last state sent, so the change would never go out.
                self._widget_layout = deepcopy(self._layout_obj._props)
                self._widget_data = deepcopy(self._data)

        _FIGURE_CLASS = SyncedFigureWidget
    return _FIGURE_CLASS(**kwargs)


def figure_layout(**overrides: Any) -> dict[str, Any]:
    """A plotly layout that reads on light and dark themes (transparent, mid-grey, thin grid)."""
    axis = {
        "gridcolor": COLORS["grid"],
        "zerolinecolor": COLORS["grid"],
        "linecolor": COLORS["grid"],
        "color": COLORS["text"],
        "tickformat": ",",  # 1,000 on the axis as in the text beside it, never 1000
    }
    layout: dict[str, Any] = {
        "template": "none",
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": COLORS["text"], "size": 12},
        "margin": {"l": 60, "r": 20, "t": 40, "b": 70},
        "height": 360,
        "legend": {"orientation": "h", "y": -0.3, "bgcolor": "rgba(0,0,0,0)"},
        "xaxis": dict(axis),
        "yaxis": dict(axis),
    }
    for key, value in overrides.items():
        if key in ("xaxis", "yaxis") and isinstance(value, dict):
            layout[key] = {**layout[key], **value}
        else:
            layout[key] = value
    return layout


def log_ticks(low: float, high: float, *, money: bool = False,
              extra: tuple[float, ...] = ()) -> dict[str, Any]:
    """Explicit ticks for a log axis from ``low`` to ``high``: every power of ten, plus ``extra``
    (the 500 RPS cap), each labelled in full.

    plotly's own log-axis labels shorten the in-between ticks to their first digit, so the 500 cap
    read "5" and $0.02 read "2". Give these as ``tickvals``/``ticktext`` instead."""
    marks = [v for v in extra if low <= v <= high]
    values: set[float] = set(marks)
    exponent = math.ceil(math.log10(low) - 1e-9)
    while 10.0 ** exponent <= high * (1 + 1e-9):
        power = round(10.0 ** exponent, 12)
        # A power of ten right beside an extra mark ($1,000 next to $500) would crowd its label.
        if all(abs(math.log10(power / mark)) > math.log10(2.5) for mark in marks):
            values.add(power)
        exponent += 1
    ticks = sorted(values)
    if money:
        text = [fmt_usd_fine(v, 1) if v < 0.01 else f"${v:,.2f}" if v < 1 else f"${v:,.0f}"
                for v in ticks]
    else:
        text = [fmt_count(v) for v in ticks]
    return {"tickmode": "array", "tickvals": ticks, "ticktext": text}


_NICE_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)


#: Spans narrower than this are drawn as flat: dollars and requests below a nano-unit are float
#: noise, and steps that small underflow (hypothesis found 5e-324).
_FLAT_SPAN = 1e-9


def _nice_step(raw: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten that is at least ``raw`` (> 0)."""
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in _NICE_STEPS:
        step = factor * power
        if step >= raw * (1 - 1e-12):
            return step
    return 10.0 * power  # pragma: no cover - _NICE_STEPS ends at 10


def aligned_ranges(left: tuple[float, float], right: tuple[float, float],
                   intervals: tuple[int, ...] = (4, 5, 6)) -> tuple[dict[str, Any], dict[str, Any]]:
    """Axis settings for two y axes drawn over one grid.

    ``left`` and ``right`` are the (lowest, highest) values each axis must show. Both axes get the
    same number of intervals (one of ``intervals``) of a round step (1, 2, 2.5, 5 x 10^n) and put
    zero on the same gridline, so every gridline of one axis is also a round value of the other:
    a reader reads both curves against one grid. Of the layouts that fit, the one leaving the
    least empty height wins. Returns the two axes' ``range``/``tick0``/``dtick``/``tickformat``."""

    def need(span: tuple[float, float]) -> tuple[float, float]:
        lo, hi = min(0.0, span[0]), max(0.0, span[1])
        if hi - lo <= _FLAT_SPAN:  # nothing to show (or float dust): a unit axis
            return lo, lo + 1.0
        pad = (hi - lo) * 0.04  # a line at the very top or bottom would hide in the frame
        return (lo - pad if lo < 0 else lo), (hi + pad if hi > 0 else hi)

    spans = [need(left), need(right)]
    best: tuple[float, int, int, list[float]] | None = None
    for count in intervals:
        for below in range(0, count):  # intervals below zero, shared by both axes
            above = count - below
            if below == 0 and any(lo < 0 for lo, _ in spans):
                continue
            steps = [_nice_step(max(hi / above, (-lo / below) if below else 0.0))
                     for lo, hi in spans]
            # Waste: the share of each axis's height that shows no data.
            waste = sum(1 - (hi - lo) / (step * count) for (lo, hi), step in zip(spans, steps))
            if best is None or waste < best[0] - 1e-12:
                best = (waste, count, below, steps)
    assert best is not None  # one interval below zero always fits
    _, count, below, steps = best
    return tuple(  # type: ignore[return-value]
        {"range": [-below * step, (count - below) * step], "tick0": 0.0, "dtick": step,
         "tickmode": "linear", "rangemode": "normal", "autorange": False,
         "tickformat": f",.{_decimals(step)}f"}
        for step in steps
    )


def _decimals(step: float) -> int:
    """Decimals a tick label needs to show multiples of ``step`` exactly (0.25 -> 2)."""
    for digits in range(0, 12):
        if abs(round(step, digits) - step) < 1e-12 * max(1.0, step):
            return digits
    return 12  # pragma: no cover


# --- the API key field ---------------------------------------------------------------------------


class KeyBox(W.Password):
    """A password box whose value never echoes back over the comm.

    ipywidgets 8 echoes every value a browser sends back to all frontends (``echo_update``); for a
    key that would put it on the wire a second time. Here it only ever passes through: observers
    move it into Python memory and empty the box.
    """

    value = Unicode("", help="Emptied as soon as a key arrives (the key moves to Python memory)").tag(
        sync=True, echo_update=False
    )


class KeyField:
    """Where a reader gives an API key without it ever living in widget state.

    ``OPENROUTER_API_KEY`` wins when set. Otherwise a password box: the moment a value arrives
    from the browser it is moved into a :class:`~orwidgets._secret.SecretKey` in Python memory and
    the box is emptied again, so neither the synced trait nor a saved notebook keeps it.
    """

    def __init__(self, env_name: str = "OPENROUTER_API_KEY",
                 on_change: Callable[[], None] | None = None, _: Translator = ENGLISH) -> None:
        self._ = _
        self._env_name = env_name
        self._key: SecretKey | None = key_from_env(env_name)
        self.from_env = self._key is not None
        self._on_change = on_change
        self.box = KeyBox(
            value="",
            placeholder=_("paste your key (kept in memory only)"),
            description=_("API key"),
            layout=W.Layout(width="360px"),
        )
        self.box.add_class("orw-key-input")
        self.status = W.HTML()
        self.status.add_class("orw-key-status")
        self.box.observe(self._take, names="value")
        self._show()
        self.widget = W.HBox([self.box, self.status]) if not self.from_env else self.status

    @property
    def key(self) -> SecretKey | None:
        """The key typed or given, else ``OPENROUTER_API_KEY`` if it was set since."""
        return self._key if self._key is not None else key_from_env(self._env_name)

    def set_key(self, key: SecretKey | str) -> None:
        """Give a key from Python (it never touches the password box)."""
        self._key = key if isinstance(key, SecretKey) else SecretKey(key)
        self._show()

    def clear(self) -> None:
        if not self.from_env:
            self._key = None
            self._show()

    def _take(self, change: dict[str, Any]) -> None:
        value = change["new"]
        if not value:
            return
        # Clear the synced value first: even if SecretKey refuses it, it must not stay there.
        self.box.value = ""
        try:
            self._key = SecretKey(value)
        except ValueError:  # (only blank text gets here: the box sends strings)
            self._key = None
            text = self._("The key you pasted is empty; nothing was kept.")
            self.status.value = f'<span style="color:{CSS["error"]}">{esc(text)}</span>'
            return
        self._show()
        if self._on_change is not None:
            self._on_change()

    def _show(self) -> None:
        _ = self._
        if self._key is None:
            text = _("no key given")
        elif self.from_env:
            text = _("key {key} (from {variable})").format(key=self._key.masked,
                                                         variable=self._env_name)
        else:
            text = _("key {key} (in memory)").format(key=self._key.masked)
        self.status.value = f'<span style="color:{CSS["muted"]}">{esc(text)}</span>'
