"""The language a reader sees: widget labels, readouts, notices, chart text and policy titles.

Text a reader sees goes through gettext catalogues (``orwidgets/locale/<lang>/LC_MESSAGES/
orwidgets.po``, compiled to ``.mo`` by Babel as part of the build). OpenRouter's wire messages
(``error.message``, headers, JSON) are never translated.

Which language: :func:`set_language` first, then a widget's ``lang=`` argument, then the
``ORWIDGETS_LANG`` environment variable, then English, in that order of precedence.

In code, mark text with a translator's call so that ``pybabel extract`` finds it::

    _ = translator(lang)          # a Translator: _("text"), _.ngettext("one", "many", n)
    label = _("Balance (USD)")
    LABEL = N_("Top up")          # module-level constant: marked now, translated when shown

What Babel extracts (``babel.cfg``, ``make messages``) are the literal arguments of ``_``,
``N_``, ``gettext`` and ``ngettext`` (singular and plural), whether called as a name or as an
attribute (``_.ngettext``). Keep the call out of f-strings (Babel cannot see inside them) and pass
``_`` a literal or a variable holding ``N_``-marked text; placeholders are ``str.format`` fields
(``_("{n} calls").format(n=n)``), so a translator can move them. ``tests/test_i18n_catalogues.py``
fails when a catalogue lacks a string the code uses; ``orwidgets/locale/README.md`` is the
translators' guide.
"""

from __future__ import annotations

import gettext as _gettext
import os
import threading
import warnings
from functools import lru_cache
from pathlib import Path

__all__ = [
    "LANGUAGES",
    "DEFAULT_LANGUAGE",
    "ENV_VAR",
    "DOMAIN",
    "LOCALE_DIR",
    "Translator",
    "N_",
    "Text",
    "catalogue_path",
    "get_language",
    "normalize_language",
    "set_language",
    "translator",
    "translate",
    "exact_translator",
]

#: The languages orwidgets speaks: English, Japanese, Simplified Chinese.
LANGUAGES = ("en", "ja", "zh")
DEFAULT_LANGUAGE = "en"
ENV_VAR = "ORWIDGETS_LANG"
DOMAIN = "orwidgets"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

# Spellings people use for the same language (BCP 47 and POSIX locale forms).
_SPELLINGS = {
    "en": "en", "en-us": "en", "en-gb": "en", "english": "en",
    "ja": "ja", "ja-jp": "ja", "jp": "ja", "japanese": "ja",
    "zh": "zh", "zh-cn": "zh", "zh-hans": "zh", "zh-hans-cn": "zh", "zh-sg": "zh",
    "chinese": "zh",
}

_lock = threading.Lock()
_chosen: str | None = None
_warned_env: set[str] = set()
_warned_missing: set[str] = set()


def normalize_language(value: object, name: str = "lang") -> str:
    """``"ja"``, ``"ja_JP.UTF-8"``, ``"zh-Hans"`` ... -> one of :data:`LANGUAGES`.

    Raises ``ValueError`` naming the parameter for anything else (Traditional Chinese included:
    orwidgets has only Simplified Chinese).
    """
    if not isinstance(value, str):
        raise ValueError(f"{name}: expected a language code such as 'ja', got {value!r}")
    key = value.strip().split(".")[0].replace("_", "-").lower()
    try:
        return _SPELLINGS[key]
    except KeyError:
        raise ValueError(
            f"{name}: orwidgets speaks {', '.join(LANGUAGES)} (en English, ja Japanese, zh "
            f"Simplified Chinese), not {value!r}"
        ) from None


def set_language(lang: str | None) -> str:
    """Choose the language of every widget made from now on; ``None`` forgets the choice.

    Returns the language now in force (what :func:`get_language` gives).
    """
    global _chosen
    resolved = None if lang is None else normalize_language(lang)
    with _lock:
        _chosen = resolved
    return get_language()


def _from_env() -> str | None:
    raw = os.environ.get(ENV_VAR, "").strip()
    if not raw:
        return None
    try:
        return normalize_language(raw, ENV_VAR)
    except ValueError as exc:
        if raw not in _warned_env:  # say it once, then carry on in English: nothing is lost
            _warned_env.add(raw)
            warnings.warn(f"{exc}; using English", stacklevel=3)
        return None


def get_language(lang: str | None = None) -> str:
    """The language in force: :func:`set_language`, else ``lang``, else ``ORWIDGETS_LANG``,
    else English. A ``lang`` that is not a language raises ``ValueError``."""
    given = None if lang is None else normalize_language(lang)
    with _lock:
        chosen = _chosen
    return chosen or given or _from_env() or DEFAULT_LANGUAGE


def catalogue_path(lang: str) -> Path:
    """Where the compiled catalogue (``.mo``) of ``lang`` is read from; the build makes it from
    the ``.po`` beside it (``hatch_build.py``)."""
    return LOCALE_DIR / normalize_language(lang) / "LC_MESSAGES" / f"{DOMAIN}.mo"


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (module-level constants)."""
    return message


class Translator:
    """Translate text into one language; call it like ``_("text")``.

    Attributes
    ----------
    lang:
        One of :data:`LANGUAGES`.
    """

    def __init__(self, lang: str) -> None:
        self.lang = normalize_language(lang)
        if self.lang == DEFAULT_LANGUAGE:
            self._catalogue: _gettext.NullTranslations = _gettext.NullTranslations()
            return
        compiled = catalogue_path(self.lang)
        if not compiled.is_file() and self.lang not in _warned_missing:
            # A checkout used without installing it: say why the text stays English, once.
            _warned_missing.add(self.lang)
            warnings.warn(
                f"orwidgets has no compiled catalogue for {self.lang!r} ({compiled} is missing): "
                "showing English; `pip install -e .` or `make messages` compiles it",
                stacklevel=2,
            )
        self._catalogue = _gettext.translation(
            DOMAIN, localedir=str(LOCALE_DIR), languages=[self.lang], fallback=True
        )

    def __call__(self, message: str) -> str:
        return self._catalogue.gettext(message)

    gettext = __call__

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalogue.ngettext(singular, plural, n)

    def __repr__(self) -> str:
        return f"Translator({self.lang!r})"


@lru_cache(maxsize=None)
def _translator_for(lang: str) -> Translator:
    return Translator(lang)


def translator(lang: str | None = None) -> Translator:
    """The :class:`Translator` for the language in force (see :func:`get_language`)."""
    return _translator_for(get_language(lang))


def exact_translator(lang: str) -> Translator:
    """The :class:`Translator` of exactly ``lang`` (no precedence applies, unlike
    :func:`translator`): for code that has already chosen the language."""
    return _translator_for(normalize_language(lang))


def translate(message: str, lang: str) -> str:
    """``message`` (an ``N_``-marked msgid) in exactly ``lang``: no precedence applies (compare
    :func:`translator`, which lets :func:`set_language` win). English gives ``message`` itself."""
    return _translator_for(normalize_language(lang))(message)


class Text:
    """A sentence to show later, in whatever language is asked for then.

    Library code that makes text for people before it knows the reader's language (a retry
    helper's reason, a verdict's finding) keeps it as a ``Text``: an ``N_``-marked msgid and its
    named fields, rendered on demand. ``str(text)`` is English, for logs, exceptions and
    assertions; :meth:`render` gives any language. A field may be another ``Text``, or anything
    with a ``render(lang)`` method, rendered in the same language; or anything ``str()`` can show
    (numbers come preformatted: a translator sees only ``{name}``)::

        why = Text(N_("Gave up after {n} attempts."), n=5)
        line = Text(N_("{answer}. {why}"), answer=result_text, why=why)
        str(line), line.render("ja")

    ``Text.ngettext("{n} call", "{n} calls", n, n=n)`` picks the plural form of the language
    (Babel extracts it as a plural pair). ``english=`` gives the English rendering verbatim where it
    must not come from the msgid: OpenRouter's own wire text (a ``remedy_hint``), which never goes
    through a catalogue, with the msgid in our own words for the other languages.
    """

    __slots__ = ("msgid", "plural", "n", "fields", "english")

    def __init__(self, msgid: str, /, *, english: str | None = None, **fields: object) -> None:
        if not isinstance(msgid, str) or not msgid:
            raise ValueError(f"msgid: expected marked text, got {msgid!r}")
        self.msgid = msgid
        self.plural: str | None = None
        self.n: int | None = None
        self.fields = fields
        self.english = english

    @classmethod
    def ngettext(cls, singular: str, plural: str, n: int, /, **fields: object) -> Text:
        """The singular or plural form for ``n``, in the language asked for at rendering."""
        text = cls(singular, **fields)
        text.plural, text.n = plural, int(n)
        return text

    def render(self, lang: str) -> str:
        """This text in exactly ``lang`` (no precedence: pass what :func:`get_language` chose)."""
        lang = normalize_language(lang)
        if lang == DEFAULT_LANGUAGE and self.english is not None:
            return self.english
        _ = _translator_for(lang)
        if self.plural is not None and self.n is not None:
            template = _.ngettext(self.msgid, self.plural, self.n)
        else:
            template = _(self.msgid)
        if not self.fields:
            return template
        values = {name: value.render(lang) if callable(getattr(value, "render", None)) else value
                  for name, value in self.fields.items()}
        return template.format(**values)

    def __str__(self) -> str:
        return self.render(DEFAULT_LANGUAGE)

    def __repr__(self) -> str:
        return f"Text({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Text):
            return NotImplemented
        return (self.msgid, self.plural, self.n, self.fields, self.english) == (
            other.msgid, other.plural, other.n, other.fields, other.english)

    def __hash__(self) -> int:
        return hash((self.msgid, self.plural, self.n, self.english))
