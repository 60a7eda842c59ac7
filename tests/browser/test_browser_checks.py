"""The browser tests' own checks, on texts made here: they must catch what they are for (no
browser needed; they live beside ``orw_browser.py``, which they test)."""

from __future__ import annotations

import importlib.util
import re
from typing import Any

import orw_browser as ob
import pytest

#: A Japanese table as the tutorial writes one (section 4's worked examples), with the bare
#: dollars that once turned a table into a formula (issue 13): what lies between two of them is
#: swallowed by the math renderer and never shown as text.
TABLE = """残高と RPS の例です。

| 残高 | 有料 RPS | ルール |
|---:|---:|---|
| $0.50 | 1 | 最低 1 |
| $1.20 | 2 | 切り上げ |
| $1,000 | 500 | 上限 500 |
"""


def test_japanese_and_chinese_runs_become_character_pairs_and_latin_stays_words() -> None:
    assert ob.text_tokens("OpenRouter とは、無料枠です。RPSは5ドル") == [
        "OpenRouter", "とは", "無料", "料枠", "枠で", "です", "RPS", "は", "5", "ドル"]
    assert ob.text_tokens("余额 $42.30 → 每秒 43 个") == [
        "余额", "42", "30", "每秒", "43", "个"]
    english = "Drag the slider, type a balance: $0.50 buys 1 RPS."
    assert ob.text_tokens(english) == ob.words(english)


def test_a_table_shown_whole_has_nothing_missing() -> None:
    shown = ob.markdown_text(TABLE)
    assert ob.missing_words(TABLE, shown) == []
    # innerText joins table cells with tabs and adds JupyterLab's heading anchors: no matter.
    assert ob.missing_words(TABLE, shown.replace("\n| ", "\t") + "¶") == []


def test_a_table_collapsed_into_a_formula_is_caught() -> None:
    shown = ob.markdown_text(TABLE)
    first, second = shown.index("$"), shown.index("$", shown.index("$") + 1)
    swallowed = shown[:first] + shown[second + 1:]  # "$0.50 | 1 | 最低 1 | $" is math now
    missing = ob.missing_words(TABLE, swallowed)
    assert {"最低", "0", "50"} <= set(missing), missing


def test_a_lost_row_is_caught_even_when_its_words_appear_elsewhere() -> None:
    shown = ob.markdown_text(TABLE)
    without_row = shown.replace("$1,000", "").replace("上限 500", "")
    assert ob.missing_words(TABLE, without_row) == sorted(["上限", "1", "000", "500"])


def test_a_phrase_lost_inside_a_sentence_is_named_by_its_characters() -> None:
    source = "残高が \\$0 以下だと、レートを調べるまでもなく、有料モデルへのリクエストは `402` になります。"
    shown = ob.markdown_text(source).replace("レートを調べるまでもなく、", "")
    assert ob.missing_words(source, shown) == sorted(ob.text_tokens("レートを調べるまでもなく"))


@pytest.fixture(scope="module")
def ja() -> ob.Catalogue:
    return ob.Catalogue("ja")


def test_the_catalogue_is_the_po_file_the_translators_edit(ja: ob.Catalogue) -> None:
    po = ja.path.read_text(encoding="utf-8")
    msgstr = re.search(r'^msgid "Balance \$"\nmsgstr "(.+)"$', po, re.MULTILINE)
    assert msgstr and ja("Balance $") == msgstr.group(1) != "Balance $"
    assert ja("a text no catalogue has") == "a text no catalogue has"
    assert "Balance $" in ja.english_texts()


def test_english_left_names_english_labels_and_sentences(ja: ob.Catalogue) -> None:
    labels = ["Balance $", ja("Balance $"), "topped up 10+ credits", "2025-04", "RPS", "$42.30",
              "meta-llama/llama-3.3-70b-instruct:free"]
    text = (f"{ja('Balance $')} Daily free-model quota: 50 requests per UTC day, and 20 per "
            "minute. Rate limit exceeded: free-models-per-min.")
    assert ob.english_left(labels, text, ja) == [
        "label 'Balance $' is the English 'Balance $'",
        "label 'topped up 10+ credits' is the English 'topped up {threshold}+ credits'",
        "text has the English 'requests per UTC day, and' (of 'Daily free-model quota: "
        "{quota} requests per UTC day, and {per_minute} per minute.')",
    ]


def test_english_left_is_quiet_on_a_translated_widget(ja: ob.Catalogue) -> None:
    label = ja("topped up {threshold}+ credits").format(threshold="10")
    text = ja.ngettext(
        "Daily free-model quota: {quota} request per UTC day, and {per_minute} per minute.",
        "Daily free-model quota: {quota} requests per UTC day, and {per_minute} per minute.",
        1000).format(quota="1,000", per_minute="20")
    assert ob.english_left([label, ja("Balance $")], f"{label}\n{text}", ja) == []


# --- benchmarks/browser.py's command line ---------------------------------------------------------


@pytest.fixture(scope="module")
def bench() -> Any:
    spec = importlib.util.spec_from_file_location("orw_bench_browser",
                                                  ob.REPO / "benchmarks" / "browser.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_measures_english_beside_each_language_asked_for(bench: Any) -> None:
    assert bench.parse_args([]).langs == ["en"]
    assert bench.parse_args(["--langs", "ja,zh"]).langs == ["en", "ja", "zh"]
    assert bench.parse_args(["--langs", "zh, en,zh"]).langs == ["en", "zh"]


def test_the_benchmark_refuses_a_language_it_has_no_tutorial_for(bench: Any, capsys: Any) -> None:
    with pytest.raises(SystemExit) as exited:
        bench.parse_args(["--langs", "en,fr"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith("--langs takes en, ja, zh, not fr")


def test_paired_ratios_pair_each_round(bench: Any) -> None:
    assert bench.paired_ratios([2.0, 3.0, 4.0], [1.0, 2.0, 0.0]) == [2.0, 1.5]
