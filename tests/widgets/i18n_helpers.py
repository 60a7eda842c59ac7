"""Helpers for the widgets' language tests: a catalogue of our own, a pseudo-language, and the text
a widget shows (every text node, label, option, tab title and chart text of its state).

The pseudo-language marks every text that went through a translator: ``_("Balance")`` gives
``⟦Balance⟧``, and a sentence with fields brackets its words only, never a field:
``_("{n} calls left")`` gives ``{n}⟦ calls left⟧``, so that what a widget puts into a field must be
translated itself or be data. A widget built in it shows, outside the brackets, only data
(numbers, amounts, times, ids, model ids, wire messages): any word left outside is a string that
escaped the catalogue. :func:`unmarked` finds those words.
"""

from __future__ import annotations

import html.parser
import re
import string
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import ipywidgets as W
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from orwidgets import i18n
from orwidgets.policy import ALIASES, POLICIES

OPEN, CLOSE = "⟦", "⟧"


class PseudoTranslator:
    """A translator whose every text comes back bracketed (``⟦text⟧``), in a language the
    widgets accept."""

    def __init__(self, lang: str = "ja") -> None:
        self.lang = lang

    def __call__(self, message: str) -> str:
        try:
            parts = list(string.Formatter().parse(message))
        except ValueError:  # a lone brace: not a template
            return f"{OPEN}{message}{CLOSE}"
        out = []
        for literal, field, spec, conversion in parts:
            plotly = field is not None and literal.endswith("%")  # %{x:,.2f}: a plotly field
            if plotly:
                literal = literal[:-1]
            if literal:
                literal = literal.replace("{", "{{").replace("}", "}}")
                out.append(f"{OPEN}{literal}{CLOSE}")
            if field is not None:
                out.append(("%" if plotly else "") + "{" + field
                           + (f"!{conversion}" if conversion else "")
                           + (f":{spec}" if spec else "") + "}")
        return "".join(out)

    gettext = __call__

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        assert isinstance(n, int), f"ngettext needs a whole n, got {n!r}"
        return self(singular if n == 1 else plural)


def use_pseudo_language(monkeypatch: Any, lang: str = "ja") -> PseudoTranslator:
    """Every non-English translator the library asks for becomes the pseudo-language."""
    pseudo = PseudoTranslator(lang)
    real = i18n._translator_for

    def pick(code: str) -> Any:
        return real(code) if code == i18n.DEFAULT_LANGUAGE else pseudo

    monkeypatch.setattr(i18n, "_translator_for", pick)
    return pseudo


def compile_catalogue(root: Path, lang: str, messages: dict[Any, str]) -> Path:
    """A ``.mo`` of ``messages`` (msgid, or ``(singular, plural)``, -> one translation) for
    ``lang`` under ``root`` (laid out as ``orwidgets/locale``), made with Babel."""
    catalogue = Catalog(locale=lang, domain=i18n.DOMAIN)
    for msgid, text in messages.items():
        catalogue.add(msgid, (text,) if isinstance(msgid, tuple) else text)
    path = root / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.mo"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_mo(handle, catalogue)
    return path


_PO: dict[str, Catalog] = {}


def po_msgstr(lang: str, msgid: str) -> str:
    """The translation the real ``.po`` of ``lang`` holds for ``msgid`` (read with Babel, not
    through orwidgets): what a reader of that language must see."""
    if lang not in _PO:
        path = i18n.LOCALE_DIR / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
        with path.open("rb") as handle:
            _PO[lang] = read_po(handle, locale=lang)
    message = _PO[lang].get(msgid)
    assert message is not None and message.string, f"{lang}: no translation of {msgid!r}"
    return message.string[0] if isinstance(message.string, tuple) else message.string


# --- what a widget shows -------------------------------------------------------------------------

_BLOCK = {"div", "p", "li", "tr", "td", "th", "table", "ul", "br", "pre"}


class _Text(html.parser.HTMLParser):
    """Text content of an HTML fragment; block elements start a new line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(value: str) -> str:
    parser = _Text()
    parser.feed(value)
    parser.close()
    return "".join(parser.parts)


def walk(widget: Any) -> Iterator[Any]:
    yield widget
    for child in getattr(widget, "children", ()) or ():
        yield from walk(child)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def figure_texts(fig: Any) -> Iterator[tuple[str, str]]:
    layout = fig.layout
    if layout.title.text:
        yield "title", layout.title.text
    for axis in ("xaxis", "yaxis", "yaxis2"):
        obj = getattr(layout, axis, None)
        if obj is not None and obj.title.text:
            yield f"{axis}.title", obj.title.text
    for note in layout.annotations or ():
        if note.text:
            yield "annotation", html_text(note.text)
    for trace in fig.data:
        yield f"trace {trace.meta!r}.name", trace.name or ""
        for attr in ("hovertemplate", "hovertext", "text"):
            for text in _strings(getattr(trace, attr, None)):
                yield f"trace {trace.meta!r}.{attr}", html_text(text)
        for text in _strings(getattr(trace, "customdata", None)):
            yield f"trace {trace.meta!r}.customdata", html_text(text)


def shown_texts(root: Any) -> list[tuple[str, str]]:
    """``(where, text)`` for every text a reader can see in ``root`` and its children."""
    found: list[tuple[str, str]] = []
    for w in walk(root):
        kind = type(w).__name__
        for attr in ("description", "placeholder", "tooltip"):
            value = getattr(w, attr, None)
            if isinstance(value, str) and value:
                found.append((f"{kind}.{attr}", value))
        if isinstance(w, (W.HTML, W.HTMLMath)):
            found.append((f"{kind}.value", html_text(w.value)))
        elif isinstance(w, W.Label):
            found.append((f"{kind}.value", w.value))
        for label in getattr(w, "_options_labels", ()) or ():
            found.append((f"{kind} option", label))
        if isinstance(w, W.Tab):
            found += [("tab title", t) for t in w.titles]
        if hasattr(w, "_widget_layout") and hasattr(w, "data"):  # a plotly FigureWidget
            found += [(f"figure {where}", text) for where, text in figure_texts(w)]
    # (an HTML widget's placeholder is a zero-width space nobody sees)
    return [(where, text) for where, text in found if text.strip().strip("\u200b")]


# --- what must not be there ----------------------------------------------------------------------

_DATA = [
    r"\bhttps?://\S+",  # a URL
    r"\b(?:GET|POST|PUT|PATCH|DELETE) /[^\s()]*",  # an endpoint: GET /api/v1/key
    r"%\{[^}]*\}",  # plotly's template fields
    r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b",  # an environment variable: OPENROUTER_API_KEY
    r"\bHTTP\b",  # HTTP 429: the protocol and a status, the same in every language
    r"sk-or-[\w.*-]+",  # a masked key
    r"\b[\w.-]+/[\w.:-]+",  # model ids, paths, URLs
    r"-?\$?\d[\d,]*(?:\.\d+)?(?:e-?\d+)?%?",  # numbers, amounts, times, dates
]
_POLICY_IDS = sorted([*POLICIES, *ALIASES], key=len, reverse=True)


def strip_marked(text: str) -> str:
    """``text`` without its ``⟦...⟧`` parts (nested ones included); an unclosed bracket keeps
    what follows it (it is not marked)."""
    marked = [False] * len(text)
    opened: list[int] = []
    for index, char in enumerate(text):
        if char == OPEN:
            opened.append(index)
        elif char == CLOSE and opened:
            start = opened.pop()
            marked[start:index + 1] = [True] * (index + 1 - start)
    # Each marked run becomes one space, so the words on either side stay words.
    out, hiding = [], False
    for char, hidden in zip(text, marked):
        if hidden and not hiding:
            out.append(" ")
        elif not hidden:
            out.append(char)
        hiding = hidden
    return "".join(out)


def unmarked(texts: Iterable[tuple[str, str]], data: Iterable[str] = ()) -> list[str]:
    """The texts with words outside the pseudo-language's brackets, once data is taken out:
    ``data`` (wire messages, row names ...), policy ids, and the patterns above."""
    allowed = sorted(set(data), key=len, reverse=True)
    found = []
    for where, text in texts:
        rest = strip_marked(text)
        for value in allowed:
            rest = rest.replace(value, " ")
        for value in _POLICY_IDS:  # whole words only: "current" is an id, not in "currently"
            rest = re.sub(rf"(?<![\w-]){re.escape(value)}(?![\w-])", " ", rest)
        for pattern in _DATA:
            rest = re.sub(pattern, " ", rest)
        if re.search(r"[^\W\d_]", rest):
            found.append(f"{where}: {text!r} (left: {' '.join(rest.split())!r})")
    return found
