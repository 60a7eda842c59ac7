"""The journal as a timeline: one mark per call, coloured by its class, with the waits the answers
asked for and the calls that ignored them.

>>> JournalTimeline(emu)                                   # doctest: +SKIP
>>> JournalTimeline({"naive": naive_calls, "with_retries": good_calls})   # doctest: +SKIP

Each row is a run (when given a mapping of name to entries) or a key (a journal, the keys told
apart by their masked form). A horizontal bar from a refused call runs to the time its answer
asked the client to wait for (``Retry-After``, else ``X-RateLimit-Reset``): a mark on that bar is
a request that came back too early, and the calls the verdict names as breaking a rule get a red
ring. Only chat completions are drawn, as the verdict judges only them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import ipywidgets as W
from traitlets import Dict, Int, List, Unicode

from ..client import CallClass
from ..journal import Entry, Journal
from ..verdict import Finding, verdict
from ._common import CSS, esc, figure_layout, figure_widget, fmt_count, fmt_plural

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
#: How a fault kind reads in the legend (the call class' own label says what kind of answer).
_LABELS = {
    "upstream_429": "429 upstream provider (injected)",
    "mid_stream_429": "200, then 429 mid-stream (injected)",
    "http_502": "502 provider error (injected)",
    "http_503": "503 provider error (injected)",
    "hang": "408 hang, client gave up (injected)",
    "slow": "408 slow, client gave up (injected)",
    "no_auth": "401 no key",
    "unknown_key": "401 unknown key",
    "management_only": "403 management keys only",
    "invalid_request": "400 invalid request",
    "unknown_model": "400 unknown model",
    "too_large": "413 body too large",
    "server_error": "500 emulator error",
}
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


def class_label(call_class: str) -> str:
    """The legend text of a journal class."""
    return _LABELS.get(call_class) or journal_class(call_class).label


def _utc(unix_s: float) -> str:
    return datetime.fromtimestamp(unix_s, timezone.utc).strftime("%H:%M:%S.%f")[:-3] + " UTC"


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
        The chart's title.

    Attributes
    ----------
    rows : list of str
        The row labels, top to bottom.
    calls, refused, broke : int
        Calls drawn, calls not answered 200 ``ok``, and calls that broke a rule of the verdict.
    findings : dict
        Row label -> the rule ids of its findings (a rule once per finding).
    figure : plotly.graph_objects.FigureWidget
        ``"asked to wait"`` (a bar per wait, ``None`` between bars; drawn first, under the
        marks), a trace per journal class present (named by its label, ``meta`` its class id),
        and ``"ignored a limit"`` (red rings).
    """

    rows = List(Unicode(), help="Derived: the row labels, top to bottom")
    calls = Int(0, help="Derived: calls drawn")
    refused = Int(0, help="Derived: calls not answered 200 ok")
    broke = Int(0, help="Derived: calls that broke a rule of the verdict")
    findings = Dict(help="Derived: row label -> rule ids of its findings")

    def __init__(self, source: Source = None, *, title: str = "Calls over time",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._title = title
        self._source: Source = None
        self._summary = W.HTML()
        self._summary.add_class("orw-timeline-summary")
        self._refresh = W.Button(description="Refresh", icon="refresh",
                                 tooltip="Read the journal again (calls made since)",
                                 layout=W.Layout(width="110px", display="none"))
        self._refresh.add_class("orw-timeline-refresh")
        self._refresh.on_click(lambda _: self.refresh())
        self.figure = figure_widget(layout=figure_layout(
            title={"text": title, "x": 0.02},
            xaxis={"title": {"text": "seconds since the first call"}, "tickformat": ",~r"},
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

    @staticmethod
    def _entries(value: Any) -> list[Entry]:
        journal = getattr(value, "journal", None)
        if isinstance(journal, Journal):
            value = journal
        if isinstance(value, Journal):
            return value.entries()
        if isinstance(value, Iterable) and not isinstance(value, (str, bytes, Mapping)):
            return sorted(value, key=lambda e: e.time)
        raise TypeError("JournalTimeline: expected a Journal, entries, or a mapping of name to "
                        f"entries, got {type(value).__name__}")

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
        for e in self._entries(source):
            if e.is_chat:
                by_key.setdefault(e.key or "no key", []).append(e)
        return [(label, chat, None) for label, chat in by_key.items()]

    # -- drawing -------------------------------------------------------------------------------

    def _draw(self, rows: Sequence[tuple[str, list[Entry], float | None]]) -> None:
        starts = [chat[0].time for _, chat, _ in rows if chat]
        shared_zero = min(starts) if starts else 0.0
        per_class: dict[str, dict[str, list[Any]]] = {}
        waits_x: list[float | None] = []
        waits_y: list[str | None] = []
        waits_text: list[str | None] = []
        broke_x: list[float] = []
        broke_y: list[str] = []
        broke_text: list[str] = []
        findings: dict[str, list[str]] = {}
        xs: list[float] = []
        wait_ends: list[float] = []
        calls = refused = 0
        for label, chat, zero in rows:
            zero = shared_zero if zero is None else zero
            judged: list[Finding] = verdict(chat)
            findings[label] = [f.rule for f in judged]
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
                    why = (f"Retry-After {e.retry_after:g} s" if e.retry_after is not None
                           else "X-RateLimit-Reset")
                    waits_text += [f"{label}: asked to wait until {_utc(until)} ({why})"] * 2 + [None]
                if id(e) in ignoring:
                    broke_x.append(x)
                    broke_y.append(label)
                    broke_text.append(f"{label}: broke {ignoring[id(e)]} at {_utc(e.time)}")
        with self.figure.batch_update():
            self.figure.data = ()
            # The bars first: the marks of the calls are drawn over them.
            self.figure.add_scatter(
                name="asked to wait", meta="wait", mode="lines", x=waits_x, y=waits_y,
                text=waits_text, hovertemplate="%{text}<extra></extra>", connectgaps=False,
                line={"color": WAIT_COLOR, "width": 4},
            )
            for cls, points in per_class.items():
                self.figure.add_scatter(
                    name=class_label(cls), meta=cls, mode="markers", x=points["x"], y=points["y"],
                    text=points["text"], hovertemplate="%{text}<extra></extra>",
                    marker={"color": class_color(cls), "size": 10,
                            "line": {"width": 1, "color": "white"}},
                )
            self.figure.add_scatter(
                name="ignored a limit", meta="broke", mode="markers", x=broke_x, y=broke_y,
                text=broke_text, hovertemplate="%{text}<extra></extra>",
                marker={"symbol": "circle-open", "size": 17, "color": BROKE_COLOR,
                        "line": {"width": 2.5, "color": BROKE_COLOR}},
            )
            self.figure.layout.xaxis.range = self._x_range(xs, wait_ends)
            self.figure.layout.xaxis.title.text = (
                "seconds since the run's first call (emulator clock)"
                if any(zero is not None for _, _, zero in rows)
                else "seconds since the first call (emulator clock)")
            self.figure.layout.height = 170 + 46 * max(1, len(rows))
        with self.hold_trait_notifications():
            self.rows = [label for label, _, _ in rows]
            self.calls, self.refused = calls, refused
            self.broke = len(broke_x)
            self.findings = findings
        self._summary.value = self._summary_html(rows, findings)

    @staticmethod
    def _x_range(xs: list[float], wait_ends: list[float]) -> list[float]:
        if not xs:
            return [0.0, 1.0]
        low, high = min(xs), max(xs)
        tail = max(_WAIT_TAIL_MIN_S, _WAIT_TAIL_SHARE * (high - low))
        right = max([high] + [min(end, high + tail) for end in wait_ends])
        pad = max(0.5, 0.03 * (right - low))
        return [low - pad, right + pad]

    @staticmethod
    def _hover(label: str, e: Entry, x: float) -> str:
        parts = [f"<b>{esc(label)}</b>", f"{_utc(e.time)} (+{x:,.2f} s)",
                 f"{e.status} {esc(class_label(e.call_class))}",
                 esc(e.model or "no model") + ("" if e.max_tokens is None
                                               else f", max_tokens {e.max_tokens:,}")]
        if e.retry_after is not None:
            parts.append(f"Retry-After {e.retry_after:g} s")
        if e.rate_limit_reset is not None:
            parts.append(f"X-RateLimit-Reset {_utc(e.rate_limit_reset / 1000)}")
        return "<br>".join(parts)

    @staticmethod
    def _summary_html(rows: Sequence[tuple[str, list[Entry], float | None]],
                      findings: Mapping[str, list[str]]) -> str:
        if not rows:
            return f'<div style="color:{CSS["muted"]}">No calls to show yet.</div>'
        lines = []
        for label, chat, _ in rows:
            refused = sum(1 for e in chat if not (e.status == 200 and e.call_class == "ok"))
            rules = findings.get(label, [])
            verdict_text = ("no findings" if not rules else
                            fmt_plural(len(rules), "finding") + ": " + ", ".join(sorted(set(rules))))
            color = CSS["ok"] if not rules else CSS["error"]
            lines.append(
                f'<tr><td style="padding-right:12px"><b>{esc(label)}</b></td>'
                f"<td>{fmt_plural(len(chat), 'call')}, {fmt_count(refused)} refused</td>"
                f'<td style="padding-left:12px;color:{color}" class="orw-timeline-verdict">'
                f"{esc(verdict_text)}</td></tr>"
            )
        return f'<table style="color:{CSS["fg"]}">{"".join(lines)}</table>'
