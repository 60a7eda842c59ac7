"""Japanese and Chinese markdown that renders as written: three ways CJK prose breaks in the notebooks' renderers
that no English text ever meets (docs/glossary.zh.md, "写法").

- A line break between two Han characters is a soft break, which Chromium (JupyterLab, Voila)
  shows as a space in the middle of a sentence: prose is one line per paragraph.
- CommonMark closes ``**`` only when it is right-flanking; after 。 (punctuation) it must be
  followed by whitespace or punctuation, so ``**句子。**下文`` stays literal asterisks.
- GFM's extended autolink (marked in JupyterLab, GitHub) runs a bare URL on to the next space, so
  ``（https://…）`` swallows the full-width parenthesis and the words after it.

Checked on the built notebooks (placeholders filled), for the languages listed in ``CJK``.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from markdown_it import MarkdownIt

from nbhelpers import NOTEBOOK_DIR, NOTEBOOK_NAMES, nbformat

#: The languages held to these rules (both glossaries state them).
CJK = ["ja", "zh"]

_MD = MarkdownIt("commonmark", {"html": True}).enable("table")
_BARE_URL = re.compile(r"https?://[^\s<]*")


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _inline_runs(markdown: str):
    """The children of every inline token (paragraphs, headings, table cells, list items)."""
    for token in _MD.parse(markdown):
        if token.type == "inline" and token.children:
            yield token.children


def breaks_between_wide_characters(markdown: str) -> list[str]:
    """Each soft line break whose nearest text on both sides is a wide (CJK) character."""
    found = []
    for children in _inline_runs(markdown):
        texts = [(i, c.content) for i, c in enumerate(children)
                 if c.type in ("text", "code_inline") and c.content]
        for i, child in enumerate(children):
            if child.type != "softbreak":
                continue
            before = next((t for j, t in reversed(texts) if j < i), "")
            after = next((t for j, t in texts if j > i), "")
            if before and after and _wide(before[-1]) and _wide(after[0]):
                found.append(f"{before[-12:]}⏎{after[:12]}")
    return found


def unclosed_emphasis(markdown: str) -> list[str]:
    """Text that still shows ``**`` after CommonMark has rendered it (outside code)."""
    return [child.content for children in _inline_runs(markdown) for child in children
            if child.type == "text" and "**" in child.content]


def swallowing_urls(markdown: str) -> list[str]:
    """Bare URLs that an extended autolinker would run on into non-ASCII text."""
    return [url for children in _inline_runs(markdown) for child in children
            if child.type == "text" for url in _BARE_URL.findall(child.content)
            if not url.isascii()]


_CHECKS = [breaks_between_wide_characters, unclosed_emphasis, swallowing_urls]


def _markdown_cells(lang: str):
    for name in NOTEBOOK_NAMES:
        nb = nbformat.read(NOTEBOOK_DIR / lang / name, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                yield f"{lang}/{name}:{cell.id}", cell.source


@pytest.mark.parametrize("check", _CHECKS, ids=lambda check: check.__name__)
@pytest.mark.parametrize("lang", CJK)
def test_cjk_markdown_renders_as_written(lang, check):
    if not (NOTEBOOK_DIR / lang / NOTEBOOK_NAMES[0]).exists():
        pytest.skip(f"notebooks/{lang}/ is not built yet")
    found = [(where, problem) for where, source in _markdown_cells(lang)
             for problem in check(source)]
    assert found == []


@pytest.mark.parametrize(
    ("check", "broken", "fixed"),
    [
        (breaks_between_wide_characters, "免费额度\n与速率限制", "免费额度与速率限制"),
        (breaks_between_wide_characters, "- 每天的免费\n  额度", "- 每天的免费额度"),
        (breaks_between_wide_characters, "**看余额**\n还是", "**看余额**还是"),
        (unclosed_emphasis, "**不需要密钥。**下面", "**不需要密钥**。下面"),
        (swallowing_urls, "打开（https://openrouter.ai/settings/credits），点击",
         "打开（<https://openrouter.ai/settings/credits>），点击"),
    ],
    ids=["paragraph", "list-item", "after-bold", "bold", "url"],
)
def test_each_rule_catches_its_breakage_and_passes_the_fix(check, broken, fixed):
    assert check(broken) != []
    assert check(fixed) == []


def test_latin_text_may_wrap_and_code_may_hold_anything():
    assert breaks_between_wide_characters("OpenRouter API\nkey 与 `x`\n`y`") == []
    assert unclosed_emphasis("`**kwargs` 与 ```a ** b```") == []
    assert swallowing_urls("`https://openrouter.ai/设置` 和 [链接](https://openrouter.ai)") == []
