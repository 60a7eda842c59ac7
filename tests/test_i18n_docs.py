"""What a Japanese or Chinese reader is handed: the README in their language with Binder badges
that open their tutorial, a glossary of the terms, and CI that can draw their characters."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from orwidgets.i18n import DEFAULT_LANGUAGE, LANGUAGES

ROOT = Path(__file__).resolve().parents[1]
TRANSLATED = [lang for lang in LANGUAGES if lang != DEFAULT_LANGUAGE]
READMES = {"ja": "README.ja.md", "zh": "README.zh-CN.md"}
BINDER = "https://mybinder.org/v2/gh/orwidgets/orwidgets/main?urlpath="
PENDING = "<!-- translation-pending"
#: The terms a reader meets, each of which every glossary must give (its first column).
TERMS = ("rate limit", "free quota", "credits", "top up", "balance", "purchases", "daily quota",
         "per-minute limit", "key", "management key", "in-flight budget", "settlement", "retry",
         "backoff", "upstream provider", "emulator", "policy version", "widget")


@pytest.fixture(scope="module")
def builder():
    spec = importlib.util.spec_from_file_location("orw_build_notebooks_docs",
                                                  ROOT / "tools" / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def _relative_links(text: str) -> list[str]:
    return [link.split("#")[0] for link in re.findall(r"\]\(([^)\s]+)\)", text)
            if not re.match(r"[a-z]+:", link)]


# --- the READMEs ----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_readme_in_each_language_has_binder_badges_to_its_tutorial(lang):
    text = _read(READMES[lang])
    assert f"{BINDER}lab/tree/notebooks/{lang}/01-tutorial.ipynb" in text
    assert f"{BINDER}voila/render/notebooks/{lang}/01-tutorial.ipynb" in text
    assert f"make lab NB_LANG={lang}" in text and f"make voila NB_LANG={lang}" in text
    assert f'set_language("{lang}")' in text and f"ORWIDGETS_LANG={lang}" in text


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_pending_note_stays_exactly_while_the_language_has_no_notebooks(builder, lang):
    has_sources = bool(builder.sources(lang))
    text = _read(READMES[lang])
    assert (PENDING in text) is not has_sources, (
        "remove the translation-pending note now that the notebooks exist" if has_sources
        else "the badges open nothing yet: keep the translation-pending note"
    )


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_relative_link_of_a_language_readme_resolves(lang):
    missing = [link for link in _relative_links(_read(READMES[lang]))
               if link and not (ROOT / link).exists()]
    assert missing == []


@pytest.mark.parametrize("name", [*READMES.values(), "docs/glossary.ja.md", "docs/glossary.zh.md"])
def test_no_dollar_renders_as_math(builder, name):
    assert builder.bare_dollars(_read(name)) == []


def test_the_english_readme_points_to_each_language():
    text = _read("README.md")
    for name in [*READMES.values(), "docs/glossary.ja.md", "docs/glossary.zh.md"]:
        assert f"]({name})" in text


# --- the glossaries -------------------------------------------------------------------------------


def _rows(text: str) -> dict[str, str]:
    """First column -> second column of the glossary's term table."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 3 and not set(cells[0]) <= set("-: "):
            for english in cells[0].split(" / "):
                rows[english] = cells[1]
    return rows


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_glossary_names_every_term_a_reader_meets(lang):
    rows = _rows(_read(f"docs/glossary.{lang}.md"))
    assert [term for term in TERMS if not rows.get(term)] == []


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_glossary_says_what_stays_in_english_and_which_sources_it_checked(lang):
    text = _read(f"docs/glossary.{lang}.md")
    for kept in ("RPS / RPM / RPD", "`max_tokens`", "`Retry-After`", "`402`", "`429`"):
        assert kept in text
    assert "OpenRouter" in text and "ai.google.dev" in text  # the sources are named


def test_the_glossaries_choose_the_words_the_catalogues_use():
    ja, zh = _rows(_read("docs/glossary.ja.md")), _rows(_read("docs/glossary.zh.md"))
    assert (ja["rate limit"], ja["free quota"], ja["credits"], ja["top up"]) == (
        "レート制限", "無料枠", "クレジット", "チャージ（する）")
    assert (zh["rate limit"], zh["free quota"], zh["credits"], zh["top up"]) == (
        "速率限制", "免费额度", "积分（credits）", "充值")
    for lang, balance in (("ja", "残高"), ("zh", "余额")):
        po = _read(f"orwidgets/locale/{lang}/LC_MESSAGES/orwidgets.po")
        assert f'msgid "balance"\nmsgstr "{balance}"' in po


def test_japanese_prose_is_in_desu_masu_style():
    text = _read("docs/glossary.ja.md") + _read("README.ja.md")
    plain = [line for line in text.splitlines()
             if re.search(r"(である|だ)。\s*$", line) and not line.startswith(("|", "    "))]
    assert plain == []


# --- CI can draw the characters -------------------------------------------------------------------


def test_ci_installs_the_cjk_fonts_beside_chromium():
    install = [line for line in _read(".ci/run").splitlines() if "apt-get install" in line]
    assert len(install) == 1 and {"chromium", "fonts-noto-cjk"} <= set(install[0].split())
