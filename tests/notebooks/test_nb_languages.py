"""The notebooks in Japanese and Chinese: built from ``notebooks/src/<lang>/`` to
``notebooks/<lang>/``, clean, runnable, and never behind English (tools/build_notebooks.py's
``drift``).

Until a language has its first source, its tests skip and say so; a language with some sources
is held to all of them (a partial translation fails). A tiny fixture language proves that the
drift check catches each way a translation can fall behind.
"""

from __future__ import annotations

import os
import sys

import pytest

from nbhelpers import NOTEBOOK_DIR, NOTEBOOK_NAMES, ROOT, nbformat
from orwidgets import policy
from orwidgets.i18n import DEFAULT_LANGUAGE, LANGUAGES

TRANSLATED = [lang for lang in LANGUAGES if lang != DEFAULT_LANGUAGE]
NAMES = {"ja": "Japanese", "zh": "Simplified Chinese"}


def _skip_without_sources(builder, lang: str) -> None:
    if not builder.sources(lang):
        pytest.skip(
            f"notebooks/src/{lang}/ has no sources yet: the {NAMES[lang]} notebooks are still to "
            "be written (issue 12); once one exists, every check here applies to the language"
        )


# --- the real languages ---------------------------------------------------------------------------


def test_every_language_is_english_or_has_a_place_to_wait(builder):
    assert builder.languages()[0] == "en"
    assert set(builder.languages()) <= set(LANGUAGES)
    assert set(builder.languages_without_sources()) <= set(TRANSLATED)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translation_follows_english(builder, lang):
    _skip_without_sources(builder, lang)
    assert builder.drift(lang) == []


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translated_notebooks_are_built_committed_and_clean(builder, lang):
    _skip_without_sources(builder, lang)
    built = {path: text for path, text in builder.build_all().items() if path.parent.name == lang}
    assert sorted(p.name for p in built) == sorted(NOTEBOOK_NAMES)
    for path, text in built.items():
        assert path.is_file() and path.read_text(encoding="utf-8") == text, (
            f"{path.relative_to(ROOT)} is stale: run .venv/bin/python tools/build_notebooks.py"
        )
        nb = nbformat.reads(text, as_version=4)
        assert all(c.outputs == [] for c in nb.cells if c.cell_type == "code")
        assert nb.metadata.kernelspec.name == "python3" and "widgets" not in nb.metadata


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("lang", TRANSLATED)
@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_translated_notebook_runs_top_to_bottom(builder, run_notebook, lang, name):
    _skip_without_sources(builder, lang)
    executed = run_notebook(f"{lang}/{name}")
    assert os.path.realpath(executed.probe_executable()) == os.path.realpath(sys.executable)
    errors = [(cell.get("id"), out.get("ename")) for cell in executed.nb.cells
              for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert errors == []


# --- a fixture language: each kind of drift, caught ---------------------------------------------

_HEAD = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
---
"""

_EN = _HEAD + """
+++ {"id": "title"}

# The title

{{ daily_low }} a day; see [the article](../docs/article.md).

## Part one

```{code-cell} ipython3
:id: setup
import orwidgets
from orwidgets import RPSExplorer

need = 20  # calls a second
print(f"Sending {need} calls with orwidgets {orwidgets.__version__}")
calls = f"{need} call" + ("s" if need != 1 else "")
```

+++ {"id": "explain"}

Drag the balance.

```{code-cell} ipython3
:id: widget
RPSExplorer(balance_usd=5.0)
```
"""

#: A faithful translation: its prose, comments, printed text, f-string order, an added note, the
#: language line and deeper links are its own; everything else is English's.
_JA = _HEAD + """
+++ {"id": "title"}

# タイトル

1 日 {{ daily_low }} 回です。[記事](../../docs/article.md)をご覧ください。

## 第 1 部

+++ {"id": "ja-note"}

訳注です。

```{code-cell} ipython3
:id: setup
import orwidgets
orwidgets.set_language("ja")
from orwidgets import RPSExplorer

need = 20  # 1 秒あたりの呼び出し数
print(f"orwidgets {orwidgets.__version__} で毎秒 {need} 回送ります")
calls = f"{need} 回" + ("" if need != 1 else "")
```

+++ {"id": "explain"}

残高をドラッグしてください。

```{code-cell} ipython3
:id: widget
RPSExplorer(balance_usd=5.0)
```
"""

_JA_WIDGET_CELL = '```{code-cell} ipython3\n:id: widget\nRPSExplorer(balance_usd=5.0)\n```\n'


@pytest.fixture
def tree(scratch, tmp_path):
    """English and a faithful Japanese translation of two notebooks, ``docs/article.md`` beside."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "article.md").write_text("the article\n", encoding="utf-8")
    for name in ("01-x", "02-y"):
        scratch("en", name, _EN)
        scratch("ja", name, _JA)
    return scratch


def test_a_faithful_translation_does_not_drift(builder, tree):
    assert builder.drift("ja") == []
    assert builder.drift("en") == []


def test_a_language_without_sources_has_nothing_to_drift_and_is_named(builder, tree):
    assert builder.drift("zh") == []
    assert builder.languages_without_sources() == ["zh"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('+++ {"id": "explain"}\n\n残高をドラッグしてください。\n\n', "",
         ["src/ja/01-x.md: lacks the markdown cell 'explain'"]),
        (_JA_WIDGET_CELL, "",
         ["src/ja/01-x.md: lacks the code cell 'widget'",
          "src/ja/01-x.md: calls RPSExplorer 0 time(s), English 1"]),
        (_JA_WIDGET_CELL, _JA_WIDGET_CELL.replace("RPSExplorer(balance_usd=5.0)", "None"),
         ["src/ja/01-x.md: code cell 'widget' differs from English beyond comments and printed "
          "text: English 'RPSExplorer(balance_usd=5.0)', here 'None'",
          "src/ja/01-x.md: calls RPSExplorer 0 time(s), English 1"]),
        ("need = 20  #", "need = 21  #",
         ["src/ja/01-x.md: code cell 'setup' differs from English beyond comments and printed "
          "text: English 'need = 20', here 'need = 21'"]),
        ('orwidgets.set_language("ja")', 'orwidgets.set_language("zh")',
         ["src/ja/01-x.md: code cell 'setup' differs from English beyond comments and printed "
          "text: English 'nothing', here \"orwidgets.set_language('zh')\""]),
        ("{{ daily_low }}", "50", ["src/ja/01-x.md: cell 'title' lacks {{ daily_low }}"]),
        ("## 第 1 部", "第 1 部", ["src/ja/01-x.md: cell 'title' has headings [1] (levels), "
                                "English [1, 2]"]),
        ('+++ {"id": "explain"}', '+++ {"id": "explain", "tags": ["hide"]}',
         ["src/ja/01-x.md: cell 'explain' metadata {'tags': ['hide']} differs from English's {}"]),
        ('+++ {"id": "ja-note"}\n\n訳注です。\n',
         '```{code-cell} ipython3\n:id: ja-note\nprint("訳注")\n```\n',
         ["src/ja/01-x.md: code cell 'ja-note' is not in English (a translation adds no code)"]),
        ('+++ {"id": "explain"}\n\n残高をドラッグしてください。\n\n' + _JA_WIDGET_CELL,
         _JA_WIDGET_CELL + '\n+++ {"id": "explain"}\n\n残高をドラッグしてください。\n',
         ["src/ja/01-x.md: cells out of English's order: 'widget' where English has 'explain'"]),
        ('+++ {"id": "explain"}\n\n残高をドラッグしてください。\n',
         '```{code-cell} ipython3\n:id: explain\npass\n```\n',
         ["src/ja/01-x.md: cell 'explain' is code, English has markdown"]),
        ("(../../docs/article.md)", "(../docs/article.md)",
         ["src/ja/01-x.md: cell 'title' links to ../docs/article.md, which does not exist from "
          "notebooks/ja/"]),
        ("need = 20  #", "need = (20  #",
         ["src/ja/01-x.md: code cell 'setup' does not parse: '(' was never closed (line 5)"]),
    ],
    ids=["section", "code-cell", "widget", "code", "language-line", "placeholder", "heading",
         "metadata", "added-code", "order", "kind", "link", "syntax"],
)
def test_each_kind_of_drift_is_named(builder, tree, old, new, expected):
    assert old in _JA
    tree("ja", "01-x", _JA.replace(old, new))
    assert builder.drift("ja") == expected


def test_a_partial_language_drifts_and_one_extra_notebook_too(builder, tree, tmp_path):
    (tmp_path / "notebooks" / "src" / "ja" / "02-y.md").rename(
        tmp_path / "notebooks" / "src" / "ja" / "03-z.md")
    assert builder.drift("ja") == [
        "src/ja: lacks 02-y.md (English has it)",
        "src/ja/03-z.md: no English source has this name",
    ]


def test_check_fails_on_drift_and_names_the_languages_still_waiting(builder, tree, capsys):
    assert builder.main([]) == 0
    out = capsys.readouterr().out
    assert ("build_notebooks: no sources yet for zh (notebooks/src/zh/): nothing to build for "
            "them") in out
    assert "wrote notebooks/ja/01-x.ipynb" in out and "wrote notebooks/01-x.ipynb" in out
    assert builder.main(["--check"]) == 0
    tree("ja", "01-x", _JA.replace("{{ daily_low }}", "50"))
    builder.main([])
    assert builder.main(["--check"]) == 1
    assert "drift: src/ja/01-x.md: cell 'title' lacks {{ daily_low }}" in capsys.readouterr().err


def test_the_built_translation_fills_placeholders_from_policy(builder, tree, tmp_path):
    builder.main([])
    nb = nbformat.read(tmp_path / "notebooks" / "ja" / "01-x.ipynb", as_version=4)
    assert nb.cells[0].source.splitlines()[2] == (
        f"1 日 {policy.FREE_DAILY_LOW:,} 回です。[記事](../../docs/article.md)をご覧ください。"
    )
    assert [c.id for c in nb.cells] == ["title", "ja-note", "setup", "explain", "widget"]


@pytest.mark.parametrize("folder", ["fr", "zh-CN", "JA"])
def test_a_folder_for_a_language_orwidgets_does_not_speak_is_one_clear_line(builder, tree, folder,
                                                                             capsys):
    tree(folder, "01-x", _JA)
    assert builder.main(["--check"]) == 2
    assert capsys.readouterr().err == (
        f"build_notebooks: notebooks/src/{folder}: not a language folder; orwidgets speaks en, "
        "ja, zh (folders named exactly so)\n"
    )


def test_code_shape_keeps_code_and_drops_what_a_translation_may_change(builder):
    english = 'x = 1  # one\nprint("a", x, f"{x:>3} b")\ns = f"{x} c" + ("s" if x else "")\n'
    japanese = '"""説明"""\nx = 1\nprint("あ", x, f"い {x:>3}")\ns = f"{x} う" + ("" if x else "")\n'
    assert builder.code_shape(japanese, "ja") == builder.code_shape(english)
    assert builder.code_shape("d = {'a': 1}") != builder.code_shape("d = {'b': 1}")  # data stays
    assert builder.code_shape('h.get("retry-after")') != builder.code_shape('h.get("x")')
    assert builder.code_shape("%time x = 1\n# 計測") == builder.code_shape("%time x = 1")
    assert builder.code_shape("%time x = 1") != builder.code_shape("%time x = 2")
