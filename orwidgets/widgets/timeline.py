"""The journal as a timeline: one mark per call, coloured by its class, with the waits the answers
asked for and the calls that ignored them.

>>> JournalTimeline(emu)                                   # doctest: +SKIP
>>> JournalTimeline({"naive": naive_calls, "with_retries": good_calls})   # doctest: +SKIP

Each row is a run (when given a mapping of name to entries) or a key (a journal, the keys told
apart by their masked form). A horizontal bar from a refused call runs to the time its answer
asked the client to wait for (``Retry-After``, else ``X-RateLimit-Reset``): a mark on that bar is
a request that came back too early, and the calls the verdict names as breaking a rule get a red
ring. Only chat completions are drawn, as the verdict judges only them.

Its text is in the language it was built in (``lang=``; see :func:`orwidgets.i18n.get_language`):
title, axes, legend, hover text, summary and the verdict's findings. Data stays as it came: row
names, masked keys, model ids, header names, rule ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import ipywidgets as W
from traitlets import Dict, Int, List, Unicode

from ..client import CallClass
from ..i18n import N_, Translator
from ..journal import Entry, Journal
from ..verdict import RULES, Finding, verdict
from ._common import (
    CSS,
    ENGLISH,
    esc,
    figure_layout,
    figure_widget,
    fmt_count,
    html_text,
    plural_n,
    widget_translator,
)
from ._common import class_label as _call_class_label

__all__ = ["JournalTimeline", "journal_class", "class_color", "class_label"]

#: Journal classes that are not a :class:`~orwidgets.client.CallClass` id, and the class whose
#: colour and label they take (fault kinds and the emulator's own answers).
_SAME_AS: dict[str, CallClass] = {
    "upstream_429": CallClass.UPSTREAM,
    "mid_stream_429": CallClass.UPSTREAM,
    "http_502": CallClass.HTTP_ERROR,
    "http_503": CallClass.HTTP_ERROR,
    "hang": CallClass.TIMEOUT,
    "slow": CallClass.TIMEOUT,
    "no_auth": CallClass.UNAUTHORIZED,
    "unknown_key": CallClass.UNAUTHORIZED,
    "management_only": CallClass.FORBIDDEN,
}
#: How a fault kind reads in the legend (the call class' own label says what kind of answer);
#: English msgids, translated when shown.
_LABELS = {
    "upstream_429": N_("429 upstream provider (injected)"),
    "mid_stream_429": N_("200, then 429 mid-stream (injected)"),
    "http_502": N_("502 provider error (injected)"),
    "http_503": N_("503 provider error (injected)"),
    "hang": N_("408 hang, client gave up (injected)"),
    "slow": N_("408 slow, client gave up (injected)"),
    "no_auth": N_("401 no key"),
    "unknown_key": N_("401 unknown key"),
    "management_only": N_("403 management keys only"),
    "invalid_request": N_("400 invalid request"),
    "unknown_model": N_("400 unknown model"),
    "too_large": N_("413 body too large"),
    "server_error": N_("500 emulator error"),
}
#: The chart's title when none is given, and the row of the calls made without a key.
DEFAULT_TITLE = N_("Calls over time")
NO_KEY = N_("no key")
WAIT_COLOR = "rgba(128, 128, 128, 0.35)"
BROKE_COLOR = "#d62728"
#: A wait that runs far past the last call (a per-day 429 waits until midnight) is cut here,
#: beyond the last call: this share of the calls' span, at least this many seconds.
_WAIT_TAIL_SHARE, _WAIT_TAIL_MIN_S = 0.25, 5.0


def journal_class(entry: Any) -> CallClass:
    """The :class:`~orwidgets.client.CallClass` whose colour and advice an entry's class takes."""
    cls = entry.call_class if not isinstance(entry, str) else entry
    if cls in _SAME_AS:
        return _SAME_AS[cls]
    try:
        return CallClass(cls)
    except ValueError:
        return CallClass.HTTP_ERROR


def class_color(call_class: str) -> str:
    """The colour of a journal class (the call class' colour, the same in every widget)."""
    return journal_class(call_class).color


def class_label(call_class: str, _: Translator = ENGLISH) -> str:
    """The legend text of a journal class, in ``_``'s language (English when left out)."""
    label = _LABELS.get(call_class)
    if label is not None:
        return _(label)
    return _call_class_label(journal_class(call_class), _)


def _clock(unix_s: float) -> str:
    """``12:01:00.000``: a time of day (UTC) to the millisecond."""
    return datetime.fromtimestamp(unix_s, timezone.utc).strftime("%H:%M:%S.%f")[:-3]


def _wait_until(entry: Entry) -> float | None:
    """When the answer said the client may come back (``None``: it said nothing)."""
    if entry.status == 200:
        return None
    if entry.retry_after is not None:
        return entry.time + entry.retry_after
    if entry.rate_limit_reset is not None:
        return entry.rate_limit_reset / 1000
    return None


Source = Any  # a Journal, a sequence of entries, a mapping of name -> entries, or a handle


class JournalTimeline(W.VBox):
    """One mark per call of a journal, coloured by class; the waits asked for and the calls that
    ignored them.

    Parameters
    ----------
    source:
        A :class:`~orwidgets.journal.Journal` (or anything with a ``journal``: the emulator's
        handle, the pytest fixture), a sequence of entries (one row per key), or a mapping of
        run name to entries (one row per run, each from its own first call). Set it again with
        :meth:`show`; :meth:`refresh` re-reads a journal that grew.
    title:
        The chart's title, shown as given; ``"Calls over time"`` in the widget's language when
        omitted.
    lang : {"en", "ja", "zh"}, optional
        The language of its text (see :func:`orwidgets.i18n.get_language`: a language set with
        :func:`orwidgets.set_language` wins, then this, then ``ORWIDGETS_LANG``); kept for the
        widget's life, the verdict's findings included.

    Attributes
    ----------
    rows : list of str
        The row labels, top to bottom (run names, masked keys, and "no key" in the widget's
        language for calls made without one).
    calls, refused, broke : int
        Calls drawn, calls not answered 200 ``ok``, and calls that broke a rule of the verdict.
    findings : dict
        Row label -> the rule ids of its findings (a rule once per finding).
    figure : plotly.graph_objects.FigureWidget
        ``"asked to wait"`` (a bar per wait, ``None`` between bars; drawn first, under the
        marks), a trace per journal class present (named by its label, ``meta`` its class id),
        and ``"ignored a limit"`` (red rings); the ``meta`` of the first and last is ``"wait"``
        and ``"broke"``, in every language, the names in the widget's.
    """

    rows = List(Unicode(), help="Derived: the row labels, top to bottom")
    calls = Int(0, help="Derived: calls drawn")
    refused = Int(0, help="Derived: calls not answered 200 ok")
    broke = Int(0, help="Derived: calls that broke a rule of the verdict")
    findings = Dict(help="Derived: row label -> rule ids of its findings")

    def __init__(self, source: Source = None, *, title: str | None = None,
                 lang: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._ = _ = widget_translator(lang)
        self.lang = _.lang
        self._title = _(DEFAULT_TITLE) if title is None else title
        self._source: Source = None
        self._summary = W.HTML()
        self._summary.add_class("orw-timeline-summary")
        self._refresh = W.Button(description=_("Refresh"), icon="refresh",
                                 tooltip=_("Read the journal again (calls made since)"),
                                 layout=W.Layout(width="auto", display="none"))
        self._refresh.add_class("orw-timeline-refresh")
        self._refresh.on_click(lambda _b: self.refresh())
        self.figure = figure_widget(layout=figure_layout(
            title={"text": self._title, "x": 0.02},
            xaxis={"title": {"text": _("seconds since the first call")}, "tickformat": ",~r"},
            yaxis={"type": "category", "autorange": "reversed", "title": {"text": ""}},
            margin={"l": 150, "r": 20, "t": 40, "b": 80},
        ))
        self.figure.sync_state()
        self.children = [W.HBox([self._refresh]), self.figure, self._summary]
        self.add_class("orw-journal-timeline")
        self.show(source)

    def __repr__(self) -> str:
        return (f"JournalTimeline(rows={len(self.rows)}, calls={self.calls}, "
                f"refused={self.refused}, broke={self.broke})")

    # -- input ---------------------------------------------------------------------------------

    def show(self, source: Source) -> None:
        """Draw ``source`` (see the class); ``None`` draws nothing."""
        self._source = source
        live = isinstance(source, Journal) or isinstance(getattr(source, "journal", None), Journal)
        self._refresh.layout.display = None if live else "none"
        self.refresh()

    def refresh(self) -> None:
        """Read the source again and redraw."""
        self._draw(self._rows_of(self._source))

    def _entries(self, value: Any) -> list[Entry]:
        journal = getattr(value, "journal", None)
        if isinstance(journal, Journal):
            value = journal
        if isinstance(value, Journal):
            return value.entries()
        if isinstance(value, Iterable) and not isinstance(value, (str, bytes, Mapping)):
            return sorted(value, key=lambda e: e.time)
        raise TypeError(self._("JournalTimeline: expected a Journal, entries, or a mapping of "
                               "name to entries, got {type}").format(type=type(value).__name__))

    def _rows_of(self, source: Source) -> list[tuple[str, list[Entry], float | None]]:
        """``(label, chat entries, time zero or None for the shared one)`` per row."""
        if source is None:
            return []
        if isinstance(source, Mapping):
            rows = []
            for name, value in source.items():
                chat = [e for e in self._entries(value) if e.is_chat]
                rows.append((str(name), chat, chat[0].time if chat else None))
            return rows
        by_key: dict[str, list[Entry]] = {}
        no_key = self._(NO_KEY)
        for e in self._entries(source):
            if e.is_chat:
                by_key.setdefault(e.key or no_key, []).append(e)
        return [(label, chat, None) for label, chat in by_key.items()]

    # -- drawing -------------------------------------------------------------------------------

    def _draw(self, rows: Sequence[tuple[str, list[Entry], float | None]]) -> None:
        _ = self._
        starts = [chat[0].time for _label, chat, _zero in rows if chat]
        shared_zero = min(starts) if starts else 0.0
        per_class: dict[str, dict[str, list[Any]]] = {}
        waits_x: list[float | None] = []
        waits_y: list[str | None] = []
        waits_text: list[str | None] = []
        broke_x: list[float] = []
        broke_y: list[str] = []
        broke_text: list[str] = []
        judged_by_row: dict[str, list[Finding]] = {}
        xs: list[float] = []
        wait_ends: list[float] = []
        calls = refused = 0
        for label, chat, zero in rows:
            zero = shared_zero if zero is None else zero
            judged: list[Finding] = verdict(chat, lang=self.lang)
            judged_by_row[label] = judged
            ignoring = {id(c): f.rule for f in judged for c in f.calls[1:]}
            for e in chat:
                x = e.time - zero
                xs.append(x)
                calls += 1
                refused += not (e.status == 200 and e.call_class == "ok")
                points = per_class.setdefault(e.call_class, {"x": [], "y": [], "text": []})
                points["x"].append(x)
                points["y"].append(label)
                points["text"].append(self._hover(label, e, x))
                until = _wait_until(e)
                if until is not None and until > e.time:
                    end = until - zero
                    wait_ends.append(end)
                    waits_x += [x, end, None]
                    waits_y += [label, label, None]
                    why = (_("Retry-After {seconds} s").format(seconds=f"{e.retry_after:g}")
                           if e.retry_after is not None else "X-RateLimit-Reset")
                    text = _("{row}: asked to wait until {time} UTC ({why})").format(
                        row=esc(label), time=_clock(until), why=esc(why))
                    waits_text += [text, text, None]
                if id(e) in ignoring:
                    broke_x.append(x)
                    broke_y.append(label)
                    broke_text.append(_("{row}: broke {rule} at {time} UTC").format(
                        row=esc(label), rule=ignoring[id(e)], time=_clock(e.time)))
        with self.figure.batch_update():
            self.figure.data = ()
            # The bars first: the marks of the calls are drawn over them.
            self.figure.add_scatter(
                name=_("asked to wait"), meta="wait", mode="lines", x=waits_x, y=waits_y,
                text=waits_text, hovertemplate="%{text}<extra></extra>", connectgaps=False,
                line={"color": WAIT_COLOR, "width": 4},
            )
            for cls, points in per_class.items():
                self.figure.add_scatter(
                    name=class_label(cls, _), meta=cls, mode="markers", x=points["x"],
                    y=points["y"], text=points["text"], hovertemplate="%{text}<extra></extra>",
                    marker={"color": class_color(cls), "size": 10,
                            "line": {"width": 1, "color": "white"}},
                )
            self.figure.add_scatter(
                name=_("ignored a limit"), meta="broke", mode="markers", x=broke_x, y=broke_y,
                text=broke_text, hovertemplate="%{text}<extra></extra>",
                marker={"symbol": "circle-open", "size": 17, "color": BROKE_COLOR,
                        "line": {"width": 2.5, "color": BROKE_COLOR}},
            )
            self.figure.layout.xaxis.range = self._x_range(xs, wait_ends)
            self.figure.layout.xaxis.title.text = (
                _("seconds since the run's first call (emulator clock)")
                if any(zero is not None for _label, _chat, zero in rows)
                else _("seconds since the first call (emulator clock)"))
            self.figure.layout.height = 170 + 46 * max(1, len(rows))
        with self.hold_trait_notifications():
            self.rows = [label for label, _chat, _zero in rows]
            self.calls, self.refused = calls, refused
            self.broke = len(broke_x)
            self.findings = {label: [f.rule for f in judged]
                             for label, judged in judged_by_row.items()}
        self._summary.value = self._summary_html(rows, judged_by_row)

    @staticmethod
    def _x_range(xs: list[float], wait_ends: list[float]) -> list[float]:
        if not xs:
            return [0.0, 1.0]
        low, high = min(xs), max(xs)
        tail = max(_WAIT_TAIL_MIN_S, _WAIT_TAIL_SHARE * (high - low))
        right = max([high] + [min(end, high + tail) for end in wait_ends])
        pad = max(0.5, 0.03 * (right - low))
        return [low - pad, right + pad]

    def _hover(self, label: str, e: Entry, x: float) -> str:
        _ = self._
        # A class label says its status ("429 free per-minute") except the catch-alls
        # ("other HTTP error"): those get the status in front.
        answer = class_label(e.call_class, _)
        if not class_label(e.call_class).startswith(f"{e.status} "):
            answer = f"{e.status} {answer}"
        model = e.model or _("no model")
        if e.max_tokens is not None:
            model = _("{model}, max_tokens {max_tokens}").format(
                model=model, max_tokens=fmt_count(e.max_tokens, _))
        parts = [f"<b>{esc(label)}</b>",
                 esc(_("{time} UTC (+{seconds} s)").format(time=_clock(e.time),
                                                           seconds=f"{x:,.2f}")),
                 esc(answer), esc(model)]
        if e.retry_after is not None:
            parts.append(esc(_("Retry-After {seconds} s").format(seconds=f"{e.retry_after:g}")))
        if e.rate_limit_reset is not None:
            parts.append(esc(_("X-RateLimit-Reset {time} UTC").format(
                time=_clock(e.rate_limit_reset / 1000))))
        return "<br>".join(parts)

    def _finding_text(self, finding: Finding) -> str:
        """A finding's sentence in the widget's language. :func:`~orwidgets.verdict.verdict` lets
        a language set later with :func:`orwidgets.set_language` win over the one asked for; then
        the rule's one-line description stands in, so the widget keeps its language."""
        if finding.lang == self.lang:
            return finding.message
        return self._(RULES[finding.rule])

    def _summary_html(self, rows: Sequence[tuple[str, list[Entry], float | None]],
                      judged: Mapping[str, list[Finding]]) -> str:
        _ = self._
        if not rows:
            empty = _("No calls to show yet.")
            return f'<div style="color:{CSS["muted"]}">{esc(empty)}</div>'
        lines = []
        for label, chat, _zero in rows:
            refused = sum(1 for e in chat if not (e.status == 200 and e.call_class == "ok"))
            found = judged.get(label, [])
            rules = sorted({f.rule for f in found})
            if not found:
                verdict_text = _("no findings")
            else:
                verdict_text = _.ngettext("{n} finding: {rules}", "{n} findings: {rules}",
                                          plural_n(len(found))).format(
                    n=fmt_count(len(found), _), rules=", ".join(rules))
            calls = _.ngettext("{n} call, {refused} refused", "{n} calls, {refused} refused",
                               plural_n(len(chat))).format(n=fmt_count(len(chat), _),
                                                           refused=fmt_count(refused, _))
            color = CSS["ok"] if not found else CSS["error"]
            lines.append(
                f'<tr><td style="padding-right:12px"><b>{esc(label)}</b></td>'
                f"<td>{esc(calls)}</td>"
                f'<td style="padding-left:12px;color:{color}" class="orw-timeline-verdict">'
                f"{esc(verdict_text)}</td></tr>"
            )
            for finding in found:
                sentence = html_text(_("{rule}: {finding}"), rule=f"<b>{esc(finding.rule)}</b>",
                                     finding=esc(self._finding_text(finding)))
                lines.append(
                    f'<tr><td></td><td colspan="2" class="orw-timeline-finding" '
                    f'style="color:{CSS["muted"]};padding-bottom:4px">{sentence}</td></tr>'
                )
        return f'<table style="color:{CSS["fg"]}">{"".join(lines)}</table>'
