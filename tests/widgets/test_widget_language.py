"""Every widget speaks the reader's language: the three ways to choose it, a widget keeping the
language it was built with, and no text a widget shows escaping the catalogue.

Choosing the language runs against a tiny catalogue of our own (compiled here with Babel, read
through a patched ``LOCALE_DIR``), so these tests say nothing about the real translations; the
pseudo-language marks every text that went through a translator (``⟦...⟧``), so that a word
outside the marks is a string the catalogue never sees.
"""

from __future__ import annotations

import re

import pytest
from i18n_helpers import (
    compile_catalogue,
    html_text,
    shown_texts,
    unmarked,
    use_pseudo_language,
)
from widget_states import SHOWN, every_rule_broken

from orwidgets import i18n
from orwidgets.policy import POLICIES
from orwidgets.verdict import RULES
from orwidgets.widgets import AccountModel, FreeQuotaExplorer
from orwidgets.widgets._common import fmt_duration, fmt_usd, policy_caption, policy_picker

#: The tiny catalogues: a few of the widgets' msgids, translated so that a test can tell them
#: apart from English and from each other (and from the real catalogues).
TINY = {
    "ja": {"my calls per hour": "[ja] 1 時間の呼び出し", "Policy": "[ja] ポリシー",
           ("{n} call", "{n} calls"): "[ja] {n} 回", "{s} s": "{s} [ja]秒",
           "Free quota": "[ja] 無料枠", "Calls over time": "[ja] 呼び出しの時系列",
           RULES["retry-before-reset"]: "[ja] リセット前の再試行"},
    "zh": {"my calls per hour": "[zh] 每小时调用", "Policy": "[zh] 规则版本",
           ("{n} call", "{n} calls"): "[zh] {n} 次", "{s} s": "{s} [zh]秒",
           "Free quota": "[zh] 免费额度", "Calls over time": "[zh] 调用时间线",
           RULES["retry-before-reset"]: "[zh] 重置前重试"},
}


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """The tiny catalogues in place of the real ones; no language chosen, no ORWIDGETS_LANG."""
    for lang, messages in TINY.items():
        compile_catalogue(tmp_path, lang, messages)
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    monkeypatch.delenv(i18n.ENV_VAR, raising=False)
    i18n._translator_for.cache_clear()
    i18n.set_language(None)
    yield
    i18n.set_language(None)
    i18n._translator_for.cache_clear()


@pytest.fixture
def pseudo(monkeypatch):
    monkeypatch.delenv(i18n.ENV_VAR, raising=False)
    i18n.set_language(None)
    use_pseudo_language(monkeypatch)
    yield
    i18n.set_language(None)


def pace_label(widget: FreeQuotaExplorer) -> str:
    return widget._pace.description


# --- choosing the language -----------------------------------------------------------------------


def test_english_by_default(tiny):
    assert pace_label(FreeQuotaExplorer()) == "my calls per hour"
    assert FreeQuotaExplorer().lang == "en"


@pytest.mark.parametrize("lang", ["ja", "zh"])
def test_the_lang_argument_chooses_the_catalogue(tiny, lang):
    widget = FreeQuotaExplorer(lang=lang)
    assert widget.lang == lang
    assert pace_label(widget) == TINY[lang]["my calls per hour"]
    assert widget._picker.description == TINY[lang]["Policy"]


def test_set_language_wins_over_the_lang_argument(tiny):
    i18n.set_language("zh")
    assert pace_label(FreeQuotaExplorer(lang="ja")) == TINY["zh"]["my calls per hour"]


def test_the_environment_chooses_when_nothing_else_does(tiny, monkeypatch):
    monkeypatch.setenv(i18n.ENV_VAR, "zh")
    assert pace_label(FreeQuotaExplorer()) == TINY["zh"]["my calls per hour"]
    # ... and the lang argument comes before it.
    assert pace_label(FreeQuotaExplorer(lang="ja")) == TINY["ja"]["my calls per hour"]


def test_a_widget_keeps_the_language_it_was_built_with(tiny):
    i18n.set_language("ja")
    widget = FreeQuotaExplorer(calls_per_hour=1)
    i18n.set_language("zh")
    widget.calls_per_hour = 3  # re-renders the pace sentence
    assert pace_label(widget) == TINY["ja"]["my calls per hour"]
    later = FreeQuotaExplorer()
    assert pace_label(later) == TINY["zh"]["my calls per hour"]


def test_the_helpers_write_in_the_translator_they_are_given(tiny):
    ja = i18n.translator("ja")
    assert fmt_duration(45, ja) == "45 [ja]秒"
    assert fmt_duration(45) == "45 s"  # English when none is given
    assert fmt_usd(None, ja) == "unknown"  # not in the tiny catalogue: English
    assert policy_picker("2025-04", ja).description == "[ja] ポリシー"


def quiet_dashboard(**kwargs):
    from orwidgets.widgets import Dashboard

    return Dashboard(planner={"scheduler": lambda delay, fn: None, **kwargs.pop("planner", {})},
                     **kwargs)


def test_the_dashboard_builds_every_tab_in_its_language(tiny):
    dash = quiet_dashboard(lang="ja", planner={"lang": "zh"})
    assert dash.lang == "ja"
    assert {tab.lang for tab in dash.children} == {"ja"}  # the planner's own lang is overridden
    assert dash.titles[1] == TINY["ja"]["Free quota"]
    assert pace_label(dash.quota) == TINY["ja"]["my calls per hour"]
    assert dash.rps._picker.description == TINY["ja"]["Policy"]


def test_the_dashboard_and_its_tabs_follow_set_language_and_the_environment(tiny, monkeypatch):
    monkeypatch.setenv(i18n.ENV_VAR, "zh")
    dash = quiet_dashboard()
    assert {tab.lang for tab in dash.children} | {dash.lang} == {"zh"}
    assert dash.titles[1] == TINY["zh"]["Free quota"]
    i18n.set_language("ja")
    later = quiet_dashboard(lang="zh")
    assert {tab.lang for tab in later.children} | {later.lang} == {"ja"}
    assert pace_label(later.quota) == TINY["ja"]["my calls per hour"]
    assert dash.titles[1] == TINY["zh"]["Free quota"]  # the one built before keeps its language


def test_the_timeline_keeps_its_language_and_its_findings_too(tiny):
    from orwidgets.widgets import JournalTimeline

    i18n.set_language("ja")
    timeline = JournalTimeline(every_rule_broken()[:23], lang="zh")  # a per-minute finding
    assert timeline.lang == "ja"
    assert timeline.figure.layout.title.text == TINY["ja"]["Calls over time"]
    [(rule, finding)] = finding_cells(timeline)
    assert rule == "retry-before-reset" and finding.startswith("sent 2 more free-model requests")
    # Set later, another language wins inside verdict(): the rule's description in the widget's
    # own language stands in for the finding's sentence.
    i18n.set_language("zh")
    timeline.refresh()
    assert finding_cells(timeline) == [("retry-before-reset", TINY["ja"][RULES[rule]])]
    assert timeline.figure.layout.title.text == TINY["ja"]["Calls over time"]
    assert JournalTimeline(title="Mine", lang="ja").figure.layout.title.text == "Mine"


def finding_cells(timeline) -> list[tuple[str, str]]:
    """(rule id, sentence) of each finding listed under the timeline's summary."""
    cells = re.findall(r'class="orw-timeline-finding"[^>]*>(.*?)</td>', timeline._summary.value)
    return [tuple(html_text(cell).split(": ", 1)) for cell in cells]


# --- nothing escapes the catalogue ---------------------------------------------------------------


def test_the_policy_picker_and_caption_are_translated(pseudo):
    _ = i18n.translator("ja")
    for pid in POLICIES:
        picker = policy_picker(pid, _)
        assert unmarked(shown_texts(picker)) == []
        assert unmarked([("caption", html_text(policy_caption(pid, _)))]) == []


def test_the_check_finds_a_word_outside_the_marks_and_passes_data():
    assert unmarked([("a", "⟦Balance⟧: $1,234.50 → 5 (2025-04, 09:30 UTC)")]) != []
    assert unmarked([("a", "⟦Balance⟧: $1,234.50 → 5 (2025-04, 09:30)")]) == []
    assert unmarked([("a", "⟦Rules: 2025-04, in force ⟦about 2025⟧.⟧ openai/gpt-4o-mini")]) == []
    assert unmarked([("a", "⟦unclosed text")]) != []
    assert unmarked([("a", "⟦x⟧ Rate limit exceeded")], data=["Rate limit exceeded"]) == []


def test_every_widget_has_its_pseudo_language_states():
    """A widget added to ``orwidgets.widgets`` fails here until its states are in SHOWN."""
    import ipywidgets as W

    import orwidgets
    import orwidgets.widgets as widgets

    def widget_classes(module):
        return {name for name in module.__all__
                if isinstance(value := getattr(module, name), type) and issubclass(value, W.Widget)}

    assert widget_classes(widgets) == set(SHOWN)
    assert widget_classes(orwidgets) <= set(SHOWN)


@pytest.mark.parametrize("name", sorted(SHOWN))
def test_no_text_a_widget_shows_escapes_the_catalogue(pseudo, name):
    seen = 0
    for state, widget, data in SHOWN[name]("ja"):
        assert widget.lang == "ja", state
        texts = shown_texts(widget)
        assert texts, state
        assert unmarked(texts, data) == [], state
        seen += 1
    assert seen >= 3


def test_the_errors_a_widget_raises_at_the_reader_are_translated(pseudo):
    from orwidgets.emulator import DEMO_ACCOUNTS
    from orwidgets.widgets import AccountPanel, JournalTimeline

    with pytest.raises(ValueError) as bad_demo:
        AccountPanel(demo_account="nope", lang="ja")
    with pytest.raises(TypeError) as bad_source:
        JournalTimeline(42, lang="ja")
    names = [demo.name for demo in DEMO_ACCOUNTS] + ["member"]
    assert unmarked([("demo_account", str(bad_demo.value))], ["'nope'", *names]) == []
    assert unmarked([("source", str(bad_source.value))], ["int"]) == []
