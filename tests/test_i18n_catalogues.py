"""Every string the code marks for translation is in each language's catalogue, translated.

What the code uses is what Babel extracts with the repository's ``babel.cfg`` (the same run as
``make messages``), compared with ``orwidgets/locale/<lang>/LC_MESSAGES/orwidgets.po``: every
msgid present and translated, none fuzzy, and the placeholders (``{name}``, ``%(name)s``) and
code spans (`` `GET /key` ``) of the msgstr exactly those of the msgid. Two more guards keep the
extraction honest: a marked call Babel cannot see (``_()`` inside an f-string) fails, and so does
text the notebook build translates without marking it (``_(label)`` of an unmarked constant).
"""

from __future__ import annotations

import ast
import gettext
import importlib.util
import io
import os
import re
import string
import sys
from collections import Counter
from pathlib import Path

import pytest

babel_extract = pytest.importorskip("babel.messages.extract")
from babel.messages.frontend import parse_mapping_cfg  # noqa: E402
from babel.messages.pofile import read_po  # noqa: E402
from babel.util import pathmatch  # noqa: E402

from orwidgets import i18n  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LOCALE_DIR = ROOT / "orwidgets" / "locale"
TEMPLATE = LOCALE_DIR / "orwidgets.pot"
TRANSLATED = [lang for lang in i18n.LANGUAGES if lang != i18n.DEFAULT_LANGUAGE]
#: The calls orwidgets/i18n.py documents (Babel's default keywords include them all).
MARKERS = {"_": 1, "N_": 1, "gettext": 1, "ngettext": 2}
RUN_MESSAGES = "run `make messages`, then translate (orwidgets/locale/README.md)"


# --- what the code uses ---------------------------------------------------------------------------


def _mapping() -> tuple[list[tuple[str, str]], dict]:
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        return parse_mapping_cfg(handle, str(ROOT / "babel.cfg"))


def extract(root: Path = ROOT) -> dict[str | tuple[str, str], list[str]]:
    """msgid (a ``(singular, plural)`` pair for ngettext) -> where the code uses it."""
    method_map, options_map = _mapping()
    found: dict[str | tuple[str, str], list[str]] = {}
    for filename, lineno, message, _comments, _context in babel_extract.extract_from_dir(
        str(root), method_map, options_map
    ):
        found.setdefault(message, []).append(f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def used() -> dict[str | tuple[str, str], list[str]]:
    return extract()


def _mapped_files() -> list[Path]:
    """The files babel.cfg hands to the Python extractor (Babel's own walk and pattern match)."""
    patterns = [pattern for pattern, method in _mapping()[0] if method == "python"]
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith((".", "_"))]  # as extract_from_dir does
        for name in files:
            relative = (Path(folder) / name).relative_to(ROOT).as_posix()
            if any(pathmatch(pattern, relative) for pattern in patterns):
                found.append(ROOT / relative)
    return sorted(found)


# --- what a catalogue must hold -------------------------------------------------------------------


def placeholders(text: str) -> Counter:
    """``{name}`` fields (str.format) and ``%(name)s`` / ``%s`` conversions, counted."""
    found: Counter = Counter()
    try:
        parsed = string.Formatter().parse(text)
        fields = [f"{{{name}}}" for _, name, _, _ in parsed if name is not None]
    except ValueError:  # a lone brace (JSON in a code span): count the well-formed fields only
        fields = re.findall(r"(?<!\{)\{[A-Za-z_]\w*(?:[!:][^{}]*)?\}(?!\})", text)
    found.update(fields)
    found.update(re.findall(r"%(?:\([A-Za-z_]\w*\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]",
                            text.replace("%%", "")))
    return found


def code_spans(text: str) -> Counter:
    """Inline code (`` `GET /key` ``): identifiers and wire text, never translated."""
    return Counter(re.findall(r"`[^`]+`", text))


def problems(used: dict, po_text: str, lang: str, where: str) -> list[str]:
    """What keeps a catalogue from covering ``used``, one line each (empty: nothing)."""
    catalogue = read_po(io.StringIO(po_text), locale=lang)
    found = []
    for msgid in used:
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        message = catalogue.get(key)
        shown = repr(key)
        if message is None:
            found.append(f"{where}: missing {shown}")
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(forms):
            found.append(f"{where}: untranslated {shown}")
            continue
        if message.fuzzy:
            found.append(f"{where}: fuzzy (check it, then delete the fuzzy flag) {shown}")
        source = msgid[-1] if isinstance(msgid, tuple) else msgid  # ja/zh: one plural form
        for form in forms:
            if placeholders(form) != placeholders(source):
                found.append(
                    f"{where}: placeholders differ in {shown}: "
                    f"{sorted(placeholders(source).elements())} -> "
                    f"{sorted(placeholders(form).elements())}"
                )
            if code_spans(form) != code_spans(source):
                found.append(
                    f"{where}: code spans differ in {shown}: "
                    f"{sorted(code_spans(source).elements())} -> "
                    f"{sorted(code_spans(form).elements())}"
                )
    return found


def _po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "orwidgets.po"


# --- the real catalogues --------------------------------------------------------------------------


def test_extraction_finds_what_the_notebook_build_and_the_presets_mark(used):
    # If babel.cfg stopped covering a file, the completeness test below would pass on nothing.
    assert "paid RPS" in used and "`GET /key` shape" in used  # tools/build_notebooks.py
    assert "negative balance blocks free models" in used  # orwidgets/client/_presets.py (N_)
    files = {where.split(":")[0] for places in used.values() for where in places}
    assert {"tools/build_notebooks.py", "orwidgets/client/_presets.py"} <= files


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_string_the_code_uses_is_translated(used, lang):
    path = _po_path(lang)
    assert path.is_file(), f"no catalogue for {lang}: {RUN_MESSAGES}"
    where = path.relative_to(ROOT).as_posix()
    found = problems(used, path.read_text(encoding="utf-8"), lang, where)
    assert found == [], RUN_MESSAGES


def test_the_template_lists_exactly_what_the_code_uses(used):
    with TEMPLATE.open("rb") as handle:
        template = {m.id for m in read_po(handle) if m.id}
    ids = {m if isinstance(m, str) else m for m in used}
    assert sorted(map(str, template ^ ids)) == [], f"orwidgets.pot is stale: {RUN_MESSAGES}"


def test_no_marked_text_hides_from_babel(used):
    """``_("x")`` inside an f-string (or any spot Babel's tokenizer skips) would never reach a
    catalogue: every literal argument of a marker call, found by ``ast``, must be extracted."""
    ids = {m[0] if isinstance(m, tuple) else m for m in used}
    hidden = []
    for path in _mapped_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in MARKERS or not node.args:
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                if first.value not in ids:
                    hidden.append(f"{path.relative_to(ROOT)}:{node.lineno}: {first.value!r}")
    assert hidden == [], "move these calls out of the f-string (Babel cannot see them)"


def _load_builder():
    path = ROOT / "tools" / "build_notebooks.py"
    spec = importlib.util.spec_from_file_location("orw_build_notebooks_i18n", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_notebook_build_translates_only_marked_text(used, monkeypatch):
    """The generated blocks pass some text through ``_(variable)``: each must be marked where it is
    written (``N_``), or no catalogue can ever hold it."""
    builder = _load_builder()
    asked: list[str] = []

    class Recording(builder.Translator):
        def __call__(self, message: str) -> str:
            asked.append(message)
            return super().__call__(message)

    monkeypatch.setattr(builder, "Translator", Recording)
    builder.prose_values("ja")
    ids = {m[0] if isinstance(m, tuple) else m for m in used}
    assert len(asked) > 20
    assert sorted(set(asked) - ids) == []


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_compiled_catalogue_the_widgets_read_matches_its_po(lang):
    mo = _po_path(lang).with_suffix(".mo")
    assert mo.is_file(), (
        f"{mo.relative_to(ROOT)} is missing: `make messages` or `pip install -e .` compiles it"
    )
    with _po_path(lang).open("rb") as handle:
        catalogue = read_po(handle, locale=lang)
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [m.id for m in catalogue if m.id and isinstance(m.id, str) and m.string
             and not m.fuzzy and compiled.gettext(m.id) != m.string]
    assert stale == [], f"{mo.relative_to(ROOT)} is older than its .po: run `make messages`"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_a_translator_reads_the_catalogue(lang):
    with _po_path(lang).open("rb") as handle:
        expected = read_po(handle, locale=lang).get("paid RPS").string
    assert expected and expected != "paid RPS"
    assert i18n.Translator(lang)("paid RPS") == expected
    assert i18n.Translator("en")("paid RPS") == "paid RPS"


# --- the checker catches each kind of gap (a tiny catalogue of its own) ---------------------------

_HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
_USED = {"Balance": ["x.py:1"], "{low} for everyone": ["x.py:2"], "`GET /key` shape": ["x.py:3"],
         "%(n)s calls": ["x.py:4"]}


def _po(*entries: str) -> str:
    return _HEADER + "\n".join(entries)


_GOOD = [
    'msgid "Balance"\nmsgstr "残高"\n',
    'msgid "{low} for everyone"\nmsgstr "全員 {low}"\n',
    'msgid "`GET /key` shape"\nmsgstr "`GET /key` の形式"\n',
    'msgid "%(n)s calls"\nmsgstr "%(n)s 回"\n',
]


def test_checker_accepts_a_complete_catalogue():
    assert problems(_USED, _po(*_GOOD), "ja", "t.po") == []


@pytest.mark.parametrize(
    ("index", "entry", "expected"),
    [
        (0, "", "t.po: missing 'Balance'"),
        (0, 'msgid "Balance"\nmsgstr ""\n', "t.po: untranslated 'Balance'"),
        (0, '#, fuzzy\nmsgid "Balance"\nmsgstr "残高"\n',
         "t.po: fuzzy (check it, then delete the fuzzy flag) 'Balance'"),
        (1, 'msgid "{low} for everyone"\nmsgstr "全員 {lo}"\n',
         "t.po: placeholders differ in '{low} for everyone': ['{low}'] -> ['{lo}']"),
        (1, 'msgid "{low} for everyone"\nmsgstr "全員"\n',
         "t.po: placeholders differ in '{low} for everyone': ['{low}'] -> []"),
        (2, 'msgid "`GET /key` shape"\nmsgstr "`キーを取得` の形式"\n',
         "t.po: code spans differ in '`GET /key` shape': ['`GET /key`'] -> ['`キーを取得`']"),
        (3, 'msgid "%(n)s calls"\nmsgstr "%(count)s 回"\n',
         "t.po: placeholders differ in '%(n)s calls': ['%(n)s'] -> ['%(count)s']"),
    ],
    ids=["missing", "untranslated", "fuzzy", "renamed-field", "dropped-field", "code-span",
         "percent-field"],
)
def test_checker_names_each_kind_of_gap(index, entry, expected):
    entries = list(_GOOD)
    entries[index] = entry
    assert problems(_USED, _po(*entries), "ja", "t.po") == [expected]


def test_checker_handles_plurals_and_a_lone_brace():
    used = {("{n} call", "{n} calls"): ["x.py:1"], 'JSON `{"a": 1}` {x}': ["x.py:2"]}
    good = _po('msgid "{n} call"\nmsgid_plural "{n} calls"\nmsgstr[0] "{n} 回"\n',
               'msgid "JSON `{\\"a\\": 1}` {x}"\nmsgstr "JSON `{\\"a\\": 1}` {x} です"\n')
    assert problems(used, good, "ja", "t.po") == []
    bad = good.replace('msgstr[0] "{n} 回"', 'msgstr[0] ""')
    assert problems(used, bad, "ja", "t.po") == ["t.po: untranslated '{n} call'"]
