"""``orwidgets.i18n.Text`` and ``translate``: text made before the reader's language is known,
rendered in any language later; English when ``str()``-ed, whatever language is in force."""

from __future__ import annotations

import pytest

from orwidgets import i18n
from orwidgets.i18n import N_, Text, set_language, translate

pytestmark = pytest.mark.usefixtures("clean_language")


def test_english_is_the_msgid_with_its_fields():
    text = Text(N_("{n} finding:"), n=3)  # a msgid the verdict uses
    assert str(text) == text.render("en") == "3 finding:"


def test_another_language_comes_from_its_catalogue(msgstr):
    text = Text(N_("no answer ({error})"), error="timeout")
    assert text.render("ja") == msgstr("ja", "no answer ({error})").format(error="timeout")
    assert text.render("zh") == msgstr("zh", "no answer ({error})").format(error="timeout")
    assert text.render("ja") != str(text)


def test_nested_text_renders_in_the_same_language(msgstr):
    inner = Text(N_("{s} s"), s="40")
    outer = Text(N_("no answer ({error})"), error=inner)
    assert str(outer) == "no answer (40 s)"
    seconds = msgstr("ja", "{s} s").format(s="40")
    expected = msgstr("ja", "no answer ({error})").format(error=seconds)
    assert outer.render("ja") == expected


def test_anything_with_a_render_method_is_a_field():
    class Shown:
        def render(self, lang: str) -> str:
            return f"<{lang}>"

    assert Text(N_("no answer ({error})"), error=Shown()).render("zh").count("<zh>") == 1
    assert str(Text(N_("no answer ({error})"), error=Shown())) == "no answer (<en>)"


@pytest.mark.parametrize(("n", "english"), [(1, "1 finding:"), (2, "2 findings:")])
def test_plural_forms_follow_the_number(n, english, msgstr):
    text = Text.ngettext("{n} finding:", "{n} findings:", n, n=n)
    assert str(text) == english
    assert text.render("ja") == msgstr("ja", "{n} finding:").format(n=n)  # one form in Japanese


def test_an_english_override_is_used_verbatim_only_in_english(msgstr):
    wire = "Wait for the daily reset"  # OpenRouter's remedy_hint: never in a catalogue
    text = Text(N_("Wait for the daily reset (X-RateLimit-Reset)."), english=wire)
    assert str(text) == wire
    assert text.render("zh") == msgstr("zh", "Wait for the daily reset (X-RateLimit-Reset).")


def test_render_and_str_ignore_the_language_in_force(msgstr):
    set_language("ja")
    text = Text(N_("{s} s"), s="5")
    assert str(text) == "5 s" and text.render("en") == "5 s"
    assert translate("network error", "en") == "network error"
    assert translate("network error", "zh") == msgstr("zh", "network error")


def test_a_text_needs_a_msgid_and_a_known_language():
    with pytest.raises(ValueError, match="msgid"):
        Text("")
    with pytest.raises(ValueError, match="lang"):
        Text(N_("no key")).render("fr")


def test_equal_texts_are_equal_and_their_repr_is_english():
    assert Text(N_("{s} s"), s="1") == Text(N_("{s} s"), s="1") != Text(N_("{s} s"), s="2")
    assert repr(Text(N_("{s} s"), s="1")) == "Text('1 s')"
    assert i18n.Text is Text
