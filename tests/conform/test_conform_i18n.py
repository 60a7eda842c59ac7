"""``orwidgets conform`` in the reader's language: the plan, the report's sentences, its text and
HTML follow ``lang=`` / ``--lang`` / the language in force (English by default); ids, labels in
the JSON, statuses and OpenRouter's messages stay as they are. Expected texts come from the
catalogues."""

from __future__ import annotations

import pytest
from conform_support import change_json, run_cli

from orwidgets.conform import PLAN, UNAFFORDABLE_MAX_TOKENS, check, describe_plan
from orwidgets.conform._probe import Answer
from orwidgets.conform._check import infer_account
from orwidgets.i18n import set_language
from orwidgets.policy import get_policy

pytestmark = pytest.mark.usefixtures("clean_language")

REMOTE = "https://openrouter.example/api/v1"
KEY_LABEL = "GET /key"


@pytest.mark.parametrize("lang", ["ja", "zh"])
def test_the_plan_reads_in_the_language_asked_for(lang, msgstr):
    lines = describe_plan(REMOTE, lang=lang).splitlines()
    first = msgstr(lang, "orwidgets conform will send {n} request to {base} (--max-calls "
                         "{max_calls}):")
    assert lines[0] == first.format(n=6, base=REMOTE, max_calls=6)
    assert lines[1].startswith("  1. " + msgstr(lang, "GET /models (no key)"))
    assert lines[1].endswith(msgstr(lang, "free: reads the public catalogue"))
    paid = msgstr(lang, "POST /chat/completions, paid model, max_tokens {max_tokens}").format(
        max_tokens=UNAFFORDABLE_MAX_TOKENS)
    assert lines[6].startswith(f"  6. {paid}")
    assert msgstr(lang, "Cost: one free-model request of today's quota; no credits.") in lines
    assert lines[-1] == msgstr(lang, "The same plan then runs against an emulator (policy "
                                     "{policy}) inside this process: nothing more goes out."
                               ).format(policy=get_policy("current").id)


def test_the_plans_columns_line_up_in_terminal_columns_with_wide_characters():
    from orwidgets.conform._check import _width

    lines = describe_plan(REMOTE, lang="ja").splitlines()[1:7]
    costs = [PLAN[i].cost_in("ja") for i in range(6)]
    starts = {_width(line[: len(line) - len(cost)]) for line, cost in zip(lines, costs)}
    assert len(starts) == 1  # every cost starts in the same terminal column
    assert _width("無料") == 4 and _width("GET") == 3


def test_the_plan_follows_the_language_in_force_and_english_is_unchanged(msgstr):
    english = describe_plan(REMOTE).splitlines()
    assert english[0] == f"orwidgets conform will send 6 requests to {REMOTE} (--max-calls 6):"
    width = max(len(p.label) for p in PLAN)  # the text as it was: padded to the longest label
    assert english[1:7] == [f"  {i}. {p.label:<{width}}  {p.cost}" for i, p in enumerate(PLAN, 1)]
    set_language("zh")
    assert describe_plan(REMOTE).splitlines()[-2] == msgstr(
        "zh", "Cost: one free-model request of today's quota; no credits.")


@pytest.mark.parametrize("lang", ["ja", "zh"])
def test_a_report_reads_in_its_language_and_keeps_its_data(proxied, lang, msgstr):
    base, proxy, emu = proxied

    def drop(body):
        del body["data"]["include_byok_in_limit"]
        return body

    proxy.alter = change_json("/key", drop)
    report = check(emu.demo_keys["free"], base_url=base, lang=lang)
    assert (report.exit_code, report.lang) == (1, lang)
    (difference,) = report.differences
    assert (difference.probe, difference.kind, difference.path) == \
        (KEY_LABEL, "structure", "data.include_byok_in_limit")
    assert difference.text == msgstr(
        lang, "`{label}`: the emulator has {where} ({types}), the real answer has none").format(
        label=KEY_LABEL, where="`data.include_byok_in_limit`", types="boolean")
    text = str(report)
    assert msgstr(lang, "{probe}: real {real}, emulator {emulator}").format(
        probe=KEY_LABEL, real=200, emulator=200) in text
    assert text.splitlines()[-1] == report.summary() == msgstr(
        lang, "{n} difference in {probes} of {total} probes between {target} and the emulator "
              "({policy}).").format(n=1, probes=1, total=6, target=base, policy="2026-08")
    assert report.inferred[0] == msgstr(lang, "management key: no (GET /key is_management_key)")
    markup = report._repr_html_()
    assert f"<th>{msgstr(lang, 'probe')}</th>" in markup and "<th>error.message</th>" in markup
    as_json = report.to_json()
    assert as_json["plan"] == [p.label for p in PLAN]  # ids and labels stay English
    assert as_json["summary"] == report.summary()


def test_an_error_reads_in_the_report_language(msgstr):
    report = check("sk-or-v1-x", base_url=REMOTE, lang="ja")  # not confirmed: nothing sent
    assert report.error == msgstr(
        "ja", "not confirmed: {n} requests to {base} spend one free-model request of today's "
              "quota; confirm first (--yes, or confirm=True)").format(n=6, base=REMOTE)
    assert str(report).endswith(msgstr("ja", "no comparison: {error}").format(error=report.error))


def test_the_message_comparison_keeps_its_json_value_and_shows_a_word(proxied, msgstr):
    base, proxy, emu = proxied
    report = check(emu.demo_keys["free"], base_url=base, lang="zh")
    unknown = next(p for p in report.probes if p.id == "chat_unknown_model")
    assert unknown.message == "exact"
    assert unknown.headline().endswith(
        msgstr("zh", "; error.message: {comparison}").format(
            comparison=msgstr("zh", "exact match")) + msgstr("zh", "; no difference"))
    assert msgstr("zh", "exact match") != msgstr("zh", "exact")  # the RPS rule is another word


@pytest.mark.parametrize("lang", ["ja", "zh"])
def test_inferences_read_in_the_language(lang, msgstr):
    key = Answer(status=200, body={"data": {"is_free_tier": True, "usage": 0}}, is_json=True)
    _, notes = infer_account(key, None, None, get_policy("current"), lang)
    assert notes == [
        msgstr(lang, "management key: no (GET /key is_management_key)"),
        msgstr(lang, "purchased {purchased}: GET /key says is_free_tier true (never paid)")
        .format(purchased="$0.00"),
        msgstr(lang, "balance {balance}: purchases minus the key's usage ({usage}) [inv: other "
                     "keys of the account may have spent more]").format(balance="$0.00",
                                                                       usage="$0.00"),
    ]


@pytest.mark.parametrize("lang", ["ja", "zh"])
def test_the_command_takes_lang(proxied, lang, msgstr):
    base, proxy, emu = proxied
    result = run_cli("--base-url", base, "--key", emu.demo_keys["free"], "--lang", lang)
    assert (result.code, result.err) == (0, "")
    assert result.out.splitlines()[-1] == msgstr(
        lang, "No difference: the emulator ({policy}) answers like {target} on {n} probe."
    ).format(policy="2026-08", target=base, n=6)


def test_the_command_asks_in_the_language_and_still_takes_y():
    from conform_support import Proxy
    import httpx

    from orwidgets.emulator import create_app

    app = create_app(policy="current", latency_ms=0)
    proxy = Proxy(app)
    result = run_cli("--base-url", REMOTE, "--key", app.state.emulator.demo_keys["free"],
                     "--lang", "zh", stdin="y\n", tty=True,
                     transport=httpx.ASGITransport(app=proxy))
    assert result.code == 0, result.err
    assert "要发送吗？[y/N] " in result.err and len(proxy.seen) == 6


def test_an_unknown_language_is_one_line_and_exit_2():
    result = run_cli("--base-url", REMOTE, "--lang", "klingon")
    assert (result.code, result.out) == (2, "")
    assert result.err == ("orwidgets conform: --lang: orwidgets speaks en, ja, zh (en English, "
                          "ja Japanese, zh Simplified Chinese), not 'klingon'\n")
