"""Choosing the reader's language: set_language, then lang=, then ORWIDGETS_LANG, then English."""

from __future__ import annotations

import pytest

from orwidgets import i18n
from orwidgets.i18n import get_language, normalize_language, set_language, translator


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    monkeypatch.delenv(i18n.ENV_VAR, raising=False)
    set_language(None)
    yield
    set_language(None)


def test_english_by_default():
    assert get_language() == "en"
    assert translator()("Balance") == "Balance"


@pytest.mark.parametrize("spelling, lang", [
    ("ja", "ja"), ("ja_JP.UTF-8", "ja"), ("JA-jp", "ja"), ("zh", "zh"), ("zh-CN", "zh"),
    ("zh_Hans", "zh"), ("en-US", "en"),
])
def test_common_spellings_are_understood(spelling, lang):
    assert normalize_language(spelling) == lang


@pytest.mark.parametrize("bad", ["fr", "zh-TW", "", 3, None])
def test_an_unknown_language_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="lang"):
        normalize_language(bad)


def test_precedence_set_language_then_lang_then_env(monkeypatch):
    monkeypatch.setenv(i18n.ENV_VAR, "zh")
    assert get_language() == "zh"
    assert get_language("ja") == "ja"          # lang= beats the environment
    set_language("en")
    assert get_language("ja") == "en"          # set_language beats lang=
    set_language(None)
    assert get_language() == "zh"


def test_a_bad_environment_value_warns_and_falls_back_to_english(monkeypatch):
    monkeypatch.setenv(i18n.ENV_VAR, "klingon")
    i18n._warned_env.discard("klingon")
    with pytest.warns(UserWarning, match="ORWIDGETS_LANG"):
        assert get_language() == "en"


def test_set_language_refuses_nonsense_and_keeps_the_old_choice():
    set_language("ja")
    with pytest.raises(ValueError):
        set_language("xx")
    assert get_language() == "ja"


def test_package_exports_the_language_functions():
    import orwidgets

    assert orwidgets.set_language is set_language and orwidgets.get_language is get_language


def test_a_missing_catalogue_warns_once_and_shows_english(monkeypatch, tmp_path):
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    monkeypatch.setattr(i18n, "_warned_missing", set())
    missing = tmp_path / "ja" / "LC_MESSAGES" / "orwidgets.mo"
    assert i18n.catalogue_path("ja_JP") == missing
    with pytest.warns(UserWarning) as caught:
        assert i18n.Translator("ja")("paid RPS") == "paid RPS"
    assert [str(w.message) for w in caught] == [
        f"orwidgets has no compiled catalogue for 'ja' ({missing} is missing): showing English; "
        "`pip install -e .` or `make messages` compiles it"
    ]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second one in the same process stays quiet
        assert i18n.Translator("ja")("paid RPS") == "paid RPS"


def test_english_needs_no_catalogue(monkeypatch, tmp_path):
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert i18n.Translator("en")("paid RPS") == "paid RPS"
