"""The policy text the notebook build fills in (``prose_values(lang)``) reads in the notebook's
language: periods, titles and summaries of the versions, the RPS table's rule column, and the joins
of the list of differences (``->`` in English, ``→`` in Japanese and Chinese). English is pinned
as it was; the other languages come from the catalogues."""

from __future__ import annotations

import pytest

from orwidgets import policy

LEGACY, V2025_04 = policy.POLICIES["legacy-2024"], policy.POLICIES["2025-04"]


def test_english_blocks_are_unchanged(builder):
    values = builder.prose_values("en")
    assert values["default_period"] == V2025_04.in_force_text
    assert values["differences"].startswith(
        f"**`legacy-2024`**, in force {LEGACY.in_force_text}. {LEGACY.changes}\n\n"
        f"**`legacy-2024` -> `2025-04`**, in force {V2025_04.in_force_text}. ")
    assert "- free-model requests per day (without top-up): 200 -> **50**" in values["differences"]
    assert "| `2025-04` (the article; default here) | about 2025-04-08 to mid-2025 |" in \
        values["timeline"]
    assert "| \\$1,000 | 500 | cap 500 |" in values["rps_examples"]


@pytest.mark.parametrize("lang", ["ja", "zh"])
def test_translated_blocks_come_from_the_catalogue(builder, lang, msgstr):
    values = builder.prose_values(lang)
    for name in ("default_period", "no_cap_period", "counter_period"):
        assert values[name] != builder.prose_values("en")[name]
    assert values["default_period"] == msgstr(lang, V2025_04.in_force_text)
    first = msgstr(lang, "{version}, in force {period}. {changes}").format(
        version="**`legacy-2024`**", period=msgstr(lang, LEGACY.in_force_text),
        changes=msgstr(lang, LEGACY.changes))
    assert values["differences"].startswith(first + "\n\n")
    step = msgstr(lang, "{before} -> {after}").format(before="`legacy-2024`", after="`2025-04`")
    assert step == "`legacy-2024` → `2025-04`"
    assert f"**{step}**" in values["differences"]
    change = msgstr(lang, "{field}: {old} -> {new}").format(
        field=msgstr(lang, "free-model requests per day (without top-up)"), old="200",
        new="**50**")
    assert f"- {change}\n" in values["differences"]
    assert " -> " not in values["differences"]
    shown = msgstr(lang, "{version} (the article; default here)").format(version="`2025-04`")
    assert f"| {shown} | {values['default_period']} |" in values["timeline"]
    assert f"| {msgstr(lang, 'cap {n}').format(n=500)} |" in values["rps_examples"]
    assert "cap 500" not in values["rps_examples"] and "exact" not in values["rps_examples"]


@pytest.mark.parametrize("lang", ["ja", "zh"])
def test_a_dollar_in_a_translated_summary_is_escaped(builder, lang):
    summary = builder.prose_values(lang)["differences"]
    assert "\\$10" in summary and "$10" not in summary.replace("\\$", "")
