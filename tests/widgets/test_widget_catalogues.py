"""The real catalogues reach every widget: built in Japanese and in Chinese, a widget shows the
translations ``orwidgets/locale/<lang>/LC_MESSAGES/orwidgets.po`` holds (read with Babel, never
typed here), and no text it shows is still the English msgid of a string that has a translation.

The second check walks every state of every widget (``widget_states.SHOWN``, the states the
pseudo-language test walks); the first names a few texts per widget that a reader sees first.
"""

from __future__ import annotations

from functools import lru_cache

import pytest
from i18n_helpers import html_text, po_msgstr, shown_texts
from widget_states import SHOWN, every_rule_broken

from orwidgets import i18n
from orwidgets.i18n import translate
from orwidgets.widgets import AccountModel

LANGS = ["ja", "zh"]


@pytest.fixture(params=LANGS)
def lang(request, monkeypatch):
    """A language, with nothing else choosing one: the widgets are built with ``lang=``."""
    monkeypatch.delenv(i18n.ENV_VAR, raising=False)
    i18n.set_language(None)
    yield request.param
    i18n.set_language(None)


@lru_cache(maxsize=None)
def translated(lang: str) -> dict[str, str]:
    """English text -> its translation, for every msgid of the ``.po`` (singular and plural) that
    is whole text (no ``{field}``) and reads differently in ``lang``."""
    from babel.messages.pofile import read_po

    with (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.po").open("rb") as handle:
        catalogue = read_po(handle, locale=lang)
    found = {}
    for message in catalogue:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        text = message.string[0] if isinstance(message.string, tuple) else message.string
        for msgid in ids:
            if msgid and "{" not in msgid and text and text != msgid:
                found[msgid] = text
    return found


def english_left(texts: list[tuple[str, str]], lang: str) -> list[str]:
    """Texts (whole, or one line of them) that are an English msgid translated in ``lang``."""
    english = translated(lang)
    found = []
    for where, text in texts:
        for piece in {text.strip(), *(line.strip() for line in text.splitlines())}:
            if piece in english:
                found.append(f"{where}: {piece!r} (in {lang}: {english[piece]!r})")
    return found


def shows(lang: str, msgid: str) -> str:
    """What a reader of ``lang`` must see for ``msgid``: the ``.po``'s translation, which the
    compiled catalogue the widgets read gives too."""
    expected = po_msgstr(lang, msgid)
    assert translate(msgid, lang) == expected, f"{lang}: the .mo is stale (make messages)"
    return expected


# --- nothing left in English -----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SHOWN))
def test_no_text_a_widget_shows_is_left_in_english(lang, name):
    for state, widget, _data in SHOWN[name](lang):
        assert widget.lang == lang, state
        assert english_left(shown_texts(widget), lang) == [], state


def test_the_check_finds_an_english_label():
    msgid = "Simulate"
    assert english_left([("button", msgid)], "ja") == [
        f"button: 'Simulate' (in ja: {po_msgstr('ja', msgid)!r})"]
    assert english_left([("html", f"{po_msgstr('zh', msgid)}\n{msgid}\n")], "zh") != []
    assert english_left([("button", po_msgstr("ja", msgid))], "ja") == []


# --- what a reader sees first, per widget ---------------------------------------------------------


def test_the_free_quota_explorer(lang):
    from orwidgets.widgets import FreeQuotaExplorer

    widget = FreeQuotaExplorer(AccountModel(balance_usd=-1.0), lang=lang)
    assert widget._pace.description == shows(lang, "my calls per hour")
    assert widget.figure.layout.yaxis.title.text == shows(lang, "requests per day")
    assert widget.figure.data[-1].name == shows(lang, "your quota")
    assert widget.figure.data[-1].meta == "your quota"  # the name code finds it by
    assert shows(lang, "a balance below $0 answers 402, free models included") in str(
        widget.figure.data[-1].hovertext)


def test_the_rps_explorer_and_its_in_flight_view(lang):
    from orwidgets.widgets import RPSExplorer

    widget = RPSExplorer(lang=lang)
    assert widget._slider.description == shows(lang, "Balance $")
    assert widget._input.description == shows(lang, "or type $")
    assert widget.figure.layout.title.text == shows(lang, "Paid requests per second against balance")
    widget.policy = "2026-08"
    assert widget.figure.layout.title.text == shows(lang, "In-flight spending budget against balance")
    assert widget._controls["prompt_tokens"].description == shows(lang, "prompt tokens")


def test_the_depletion_planner(lang):
    from orwidgets.widgets import DepletionPlanner

    widget = DepletionPlanner(scheduler=lambda delay, fn: None, lang=lang)
    assert widget._run.description == shows(lang, "Simulate")
    assert widget._verify.description == shows(lang, "Check with simulation")
    assert widget.figure.layout.title.text == shows(lang, "Balance and paid RPS cap over time")


def test_the_top_up_advisor(lang):
    from orwidgets.widgets import TopUpAdvisor

    widget = TopUpAdvisor(free_calls_per_day=5000, lang=lang)
    assert widget._free.description == shows(lang, "free calls a day")
    assert widget._rps.description == shows(lang, "needed paid RPS")
    assert widget.verdict == "worth it, but not enough alone"  # the id, in English
    assert shows(lang, widget.verdict) in html_text(widget._readout.value)


def test_the_account_panel(lang):
    from orwidgets.widgets import AccountPanel

    widget = AccountPanel(lang=lang)
    assert widget._refresh.description == shows(lang, "Read account")
    assert widget._target.description == shows(lang, "read from")
    with pytest.raises(ValueError) as error:
        AccountPanel(demo_account="nope", lang=lang)
    head = shows(lang, "demo_account: {name} is not an emulator demo account; choose one of "
                       "{names}").split("{name}")[0]
    assert str(error.value).startswith(head)


def test_live_calls_and_a_scenario_by_its_english_label(lang):
    from orwidgets.client import PRESETS
    from orwidgets.emulator import create_app
    from orwidgets.widgets import LiveCalls

    widget = LiveCalls(create_app(latency_ms=0), account=AccountModel(), key_env=None, lang=lang)
    assert widget._run_button.description == shows(lang, "Run")
    assert widget.figure.layout.title.text == shows(lang, "One point per call")
    minute = next(p for p in PRESETS if p.key == "minute")
    widget.preset = minute.label  # the English label picks it in every language
    assert widget._preset.label == shows(lang, minute.label)


def test_the_journal_timeline_and_its_findings(lang):
    from orwidgets.verdict import verdict
    from orwidgets.widgets import JournalTimeline

    calls = every_rule_broken()
    widget = JournalTimeline(calls, lang=lang)
    assert widget.figure.layout.title.text == shows(lang, "Calls over time")
    names = {trace.meta: trace.name for trace in widget.figure.data}
    assert names["wait"] == shows(lang, "asked to wait")
    assert names["broke"] == shows(lang, "ignored a limit")
    assert names["upstream_429"] == shows(lang, "429 upstream provider (injected)")
    summary = html_text(widget._summary.value)
    findings = verdict(calls, lang=lang)
    assert len(findings) == 5
    for finding, english in zip(findings, verdict(calls, lang="en")):
        assert finding.message != english.message  # the verdict's own translation ...
        assert finding.message in summary  # ... is what the widget lists
        assert english.message not in summary


def test_the_dashboard_and_every_tab(lang):
    from orwidgets.widgets import Dashboard
    from orwidgets.widgets.dashboard import TAB_TITLES

    widget = Dashboard(planner={"scheduler": lambda delay, fn: None}, lang=lang)
    assert widget.titles == tuple(shows(lang, title) for title in TAB_TITLES)
    assert {tab.lang for tab in widget.children} == {lang}
    assert widget.quota._pace.description == shows(lang, "my calls per hour")
