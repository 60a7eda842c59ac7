"""The verdict in the reader's language: findings are made in the language in force (English by
default, so pytest assertions and the CLI stay English), ``lang=`` and ``--lang`` choose another;
rule ids, class ids and the calls listed never change. Expected texts come from the catalogues."""

from __future__ import annotations

import json

import pytest

from orwidgets.__main__ import main
from orwidgets.engine import day_reset_ms, minute_reset_ms
from orwidgets.i18n import Translator, set_language
from orwidgets.journal import Entry
from orwidgets.verdict import RULES, assert_resilient, format_findings, verdict, verdict_json

pytestmark = pytest.mark.usefixtures("clean_language")

T0 = 1_767_268_800.0  # 2026-01-01T12:00:00Z, 12 h before midnight
FREE = "meta-llama/llama-3.3-70b-instruct:free"
MINUTE = ("sent {n} more free-model request within {span} of a per-minute 429 whose reset was "
          "{reset} away; wait until X-RateLimit-Reset (every refused attempt also counts toward "
          "the daily quota)")


def call(t: float, status: int = 200, cls: str = "ok", **extra) -> Entry:
    fields = {"model": FREE, "max_tokens": None, "key": "sk-or-v1-k1...xyz", "key_id": "k1",
              "path": "/api/v1/chat/completions", "retry_after": None, "rate_limit_reset": None,
              **extra}
    return Entry(time=T0 + t, status=status, call_class=cls, **fields)


def hammering() -> list[Entry]:
    reset = minute_reset_ms(T0 + 20)
    return [call(0)] + [call(20 + i / 2, 429, "free_per_minute", rate_limit_reset=reset)
                        for i in range(4)]


@pytest.mark.parametrize("lang", ["ja", "zh"])
def test_a_finding_reads_in_the_language_asked_for(lang, msgstr):
    english, translated = verdict(hammering())[0], verdict(hammering(), lang=lang)[0]
    assert english.message.startswith("sent 3 more free-model requests within 1.5 s")
    seconds = msgstr(lang, "{s} s")
    assert translated.message == msgstr(lang, MINUTE).format(
        n=3, span=seconds.format(s="1.5"), reset=seconds.format(s="40"))
    assert (translated.rule, translated.count, translated.calls, translated.lang) == \
        (english.rule, english.count, english.calls, lang)
    assert str(translated) == msgstr(lang, "[{rule}] key {key}: {message}").format(
        rule="retry-before-reset", key="sk-or-v1-k1...xyz", message=translated.message)
    keyless = verdict([call(0, key=None, key_id=None), *[
        call(20 + i / 2, 429, "free_per_minute", key=None, key_id=None,
             rate_limit_reset=minute_reset_ms(T0 + 20)) for i in range(2)]], lang=lang)[0]
    assert str(keyless) == msgstr(lang, "[{rule}] no key: {message}").format(
        rule="retry-before-reset", message=keyless.message)


def test_findings_follow_the_language_in_force_when_made(msgstr):
    set_language("ja")
    made_in_japanese = verdict(hammering())
    set_language(None)
    assert made_in_japanese[0].message.startswith(msgstr("ja", MINUTE).split("{")[0])
    assert verdict(hammering())[0].message.startswith("sent 3 more")
    assert made_in_japanese[0].lang == "ja"  # it keeps the language it was made in


def test_every_rule_and_every_duration_has_its_words(msgstr):
    reset = day_reset_ms(T0 + 7320)  # 14:02 UTC: 9 h 58 min before the daily reset
    journal = [
        call(7320, 429, "free_per_day_low", rate_limit_reset=reset),
        call(7321, 429, "free_per_day_low"),
        call(10, 402, "negative_balance", model="openai/gpt-4o", max_tokens=5),
        call(11, 402, "negative_balance", model="openai/gpt-4o", max_tokens=5),
        call(30, 429, "upstream", model="x/y", retry_after=200.0), call(31, 200, model="x/y"),
    ]
    found = {f.rule: f for f in verdict(journal, lang="zh")}
    assert set(found) == {"retry-after-daily-limit", "retry-of-terminal-error",
                          "retry-before-retry-after"}
    day = found["retry-after-daily-limit"].message
    assert msgstr("zh", "{h} h {m} min").format(h=9, m=58) in day
    what = msgstr("zh", "a {status} ({call_class}) without Retry-After").format(
        status=402, call_class="negative_balance")
    tokens = msgstr("zh", "max_tokens {max_tokens}").format(max_tokens=5)
    assert what in found["retry-of-terminal-error"].message
    assert tokens in found["retry-of-terminal-error"].message
    assert msgstr("zh", "{m} min {s} s").format(m=3, s=20) in \
        found["retry-before-retry-after"].message


def test_the_report_and_the_assertion_speak_the_findings_language(msgstr):
    findings = verdict(hammering(), lang="zh")
    text = format_findings(findings)
    assert text.splitlines()[0] == msgstr("zh", "{n} finding:").format(n=1)
    assert format_findings([], lang="ja") == msgstr(
        "ja", "no findings: the client respected every limit the verdict checks")
    with pytest.raises(AssertionError) as info:
        assert_resilient(hammering(), lang="ja")
    assert str(info.value).startswith(
        msgstr("ja", "the client did not respect OpenRouter's limits: {findings}").split("{")[0])


def test_json_keeps_its_ids_and_the_messages_follow_the_language(msgstr):
    body = verdict_json(hammering(), lang="ja")
    assert list(body["rules"]) == list(RULES) and body["count"] == 1
    finding = body["findings"][0]
    assert finding["rule"] == "retry-before-reset"
    assert finding["message"] == verdict(hammering(), lang="ja")[0].message


def test_the_rule_descriptions_are_msgids():
    ja = Translator("ja")
    assert all(ja(text) != text for text in RULES.values())


def _journal(tmp_path) -> str:
    path = tmp_path / "journal.jsonl"
    path.write_text("".join(json.dumps({**e.to_json(), "class": e.call_class}) + "\n"
                            for e in hammering()), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("lang", ["ja", "zh"])
def test_the_command_takes_lang(tmp_path, capsys, lang, msgstr):
    path = _journal(tmp_path)
    assert main(["verdict", "--lang", lang, path]) == 1
    out = capsys.readouterr().out.splitlines()
    head = msgstr(lang, "{file}: {calls} calls from {keys} key").format(file=path, calls=5, keys=1)
    assert out[0] == f"orwidgets verdict: {head}"
    assert out[1] == msgstr(lang, "{n} finding:").format(n=1)
    assert out[2].startswith("1. [retry-before-reset] ")


def test_the_command_stays_english_without_lang_and_follows_the_environment(tmp_path, capsys,
                                                                             monkeypatch, msgstr):
    path = _journal(tmp_path)
    assert main(["verdict", path]) == 1
    assert capsys.readouterr().out.splitlines()[1] == "1 finding:"
    monkeypatch.setenv("ORWIDGETS_LANG", "zh")
    assert main(["verdict", path]) == 1
    assert capsys.readouterr().out.splitlines()[1] == msgstr("zh", "{n} finding:").format(n=1)
    assert main(["verdict", "--lang", "en", path]) == 1  # --lang beats the environment
    assert capsys.readouterr().out.splitlines()[1] == "1 finding:"


def test_an_unknown_language_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["verdict", "--lang", "fr", _journal(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("orwidgets verdict: --lang: orwidgets speaks en, ja, zh (en English, "
                            "ja Japanese, zh Simplified Chinese), not 'fr'\n")
