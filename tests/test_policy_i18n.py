"""The policy's reader-facing text through the catalogues: a version's title, period and summary
are msgids (the widgets call ``_(version.title)``), the RPS rules keep their English ids and show
a translated name, and ``explain_paid_rps`` speaks the language asked for. English stays as it
was; OpenRouter's wire messages are never in a catalogue."""

from __future__ import annotations

import dataclasses

import pytest

from orwidgets import policy
from orwidgets.i18n import Translator, set_language
from orwidgets.policy import POLICIES, explain_paid_rps, rps_rule_text

pytestmark = pytest.mark.usefixtures("clean_language")

TEXT_FIELDS = ("title", "in_force_text", "changes")


@pytest.mark.parametrize("version", list(POLICIES.values()), ids=list(POLICIES))
@pytest.mark.parametrize("lang", ["ja", "zh"])
def test_each_versions_text_is_a_msgid_the_widgets_can_translate(version, lang, msgstr):
    for name in TEXT_FIELDS:
        english = getattr(version, name)
        assert Translator(lang)(english) == msgstr(lang, english) != english, name


def test_wire_messages_are_never_in_a_catalogue():
    ja = Translator("ja")
    wire = [v for v in dataclasses.asdict(policy.MESSAGES).values()]
    assert all(ja(text) == text for text in wire)


@pytest.mark.parametrize(("balance", "version", "rule", "msgid", "n"), [
    (0.5, "2025-04", "minimum 1", "minimum {n}", "1"),
    (1.2, "2025-04", "rounded up", "rounded up", None),
    (5, "2025-04", "exact", "exact", None),
    (1000, "2025-04", "cap 500", "cap {n}", "500"),
    (42, "current", "no platform cap", "no platform cap", None),
])
def test_a_rule_keeps_its_id_and_shows_a_translated_name(balance, version, rule, msgid, n, msgstr):
    english = explain_paid_rps(balance, version)
    assert (english.rule, english.rule_text) == (rule, rule)
    for lang in ("ja", "zh"):
        shown = msgstr(lang, msgid).format(n=n) if n else msgstr(lang, msgid)
        answer = explain_paid_rps(balance, version, lang=lang)
        assert (answer.rule, answer.rule_text, answer.rps) == (rule, shown, english.rps)
        assert rps_rule_text(rule, lang) == shown


def test_an_unknown_rule_is_a_clear_error():
    with pytest.raises(ValueError, match="not an RPS rule: 'minimum one'"):
        rps_rule_text("minimum one", "ja")


def test_the_english_sentences_are_unchanged():
    assert explain_paid_rps(1.2).text == "$1.20 buys 2 paid requests per second (rounded up)."
    assert explain_paid_rps(0.5).text == "$0.50 buys 1 paid request per second (minimum 1)."
    assert explain_paid_rps(-5.0).text == (
        "-$5.00 buys 1 paid request per second (minimum 1). But a balance at or below $0 answers "
        "402 on paid models first.")
    assert explain_paid_rps(42, "current").text == (
        "Under '2026-08' paid models have no balance-linked platform request cap (only DDoS "
        "protection and upstream providers limit them).")


@pytest.mark.parametrize("lang", ["ja", "zh"])
def test_the_sentence_comes_from_the_catalogue_with_the_numbers_in_it(lang, msgstr):
    rounded = msgstr(lang, "rounded up")
    plural = "{balance} buys {rps} paid request per second ({rule})."
    assert explain_paid_rps(1.2, lang=lang).text == msgstr(lang, plural).format(
        balance="$1.20", rps="2", rule=rounded)
    blocked = ("{balance} buys {rps} paid request per second ({rule}). But a balance at or below "
               "$0 answers 402 on paid models first.")
    assert explain_paid_rps(-5.0, lang=lang).text == msgstr(lang, blocked).format(
        balance="-$5.00", rps="1", rule=msgstr(lang, "minimum {n}").format(n="1"))
    no_cap = ("Under '{policy}' paid models have no balance-linked platform request cap (only DDoS "
              "protection and upstream providers limit them).")
    assert explain_paid_rps(42, "2025-07", lang=lang).text == \
        msgstr(lang, no_cap).format(policy="2025-07")


def test_the_language_in_force_is_the_default_and_set_language_wins(msgstr):
    set_language("zh")
    assert explain_paid_rps(5).rule_text == msgstr("zh", "exact")
    assert explain_paid_rps(5, lang="ja").rule_text == msgstr("zh", "exact")  # precedence
    set_language(None)
    assert explain_paid_rps(5).text == "$5.00 buys 5 paid requests per second (exact)."
