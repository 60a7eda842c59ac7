"""The committed notebooks are built from their MyST sources, and their prose takes its numbers
from policy."""

from __future__ import annotations

import ast
import json
import re
import shutil

import pytest

from nbhelpers import NOTEBOOK_DIR, NOTEBOOK_NAMES, ROOT, nbformat
from orwidgets import policy

#: How the built notebooks spell a dollar sign in prose (see tools/build_notebooks.py).
DOLLAR = "<span>&#36;</span>"


def _read(name: str):
    return nbformat.read(NOTEBOOK_DIR / name, as_version=4)


def _source_cell(builder, name: str, cell_id: str):
    (cell,) = [c for c in builder.sources()[name.removesuffix(".ipynb")] if c.id == cell_id]
    return cell


def _rendered(builder, name: str, cell_id: str) -> str:
    nb = builder.render(builder.sources()[name.removesuffix(".ipynb")])
    (cell,) = [c for c in nb.cells if c.id == cell_id]
    return cell.source


# --- built from text sources, committed, clean ----------------------------------------------------


def test_sources_are_exactly_the_three_english_notebooks(builder):
    assert builder.languages()[0] == "en"
    assert tuple(f"{name}.ipynb" for name in builder.sources("en")) == NOTEBOOK_NAMES
    assert sorted(p.name for p in (ROOT / "notebooks" / "src" / "en").iterdir()) == [
        n.replace(".ipynb", ".md") for n in NOTEBOOK_NAMES
    ]


def test_english_builds_to_the_notebooks_folder_and_other_languages_to_a_subfolder(builder):
    assert builder.output_path("en", "01-tutorial") == NOTEBOOK_DIR / "01-tutorial.ipynb"
    assert builder.output_path("ja", "01-tutorial") == NOTEBOOK_DIR / "ja" / "01-tutorial.ipynb"
    assert builder.output_path("zh", "03-test-your-app") == (
        NOTEBOOK_DIR / "zh" / "03-test-your-app.ipynb"
    )


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_committed_notebook_equals_the_built_one(builder, name):
    expected = builder.build_all()[NOTEBOOK_DIR / name]
    committed = (NOTEBOOK_DIR / name).read_text(encoding="utf-8")
    assert committed == expected, f"{name} is stale: run .venv/bin/python tools/build_notebooks.py"


def test_build_check_mode_passes_on_the_committed_tree(builder):
    assert builder.main(["--check"]) == 0


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_every_cell_keeps_the_id_its_source_names(builder, name):
    source_ids = [c.id for c in builder.sources()[name.removesuffix(".ipynb")]]
    assert [c.id for c in _read(name).cells] == source_ids
    assert len(set(source_ids)) == len(source_ids)


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_every_source_cell_names_its_id_explicitly(name):
    # jupytext alone would give every cell a random id; the builder carries these ones over.
    text = (ROOT / "notebooks" / "src" / "en" / name.replace(".ipynb", ".md")).read_text()
    markers = re.findall(r'^\+\+\+ (\{.*\})$', text, re.MULTILINE)
    code_ids = re.findall(r"^```\{code-cell\} ipython3\n:id: ([\w-]+)$", text, re.MULTILINE)
    ids = [json.loads(m)["id"] for m in markers] + code_ids
    assert sorted(ids) == sorted(c.id for c in _read(name).cells)


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_committed_notebook_has_no_outputs_and_no_widget_state(name):
    nb = _read(name)
    nbformat.validate(nb)
    assert "widgets" not in nb.metadata
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.id


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebook_runs_on_the_python3_kernel(name):
    assert _read(name).metadata.kernelspec.name == "python3"


# --- the builder on a scratch tree (the `scratch` fixture: conftest.py) ---------------------------

_SOURCE = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
---

+++ {{"id": "intro"}}

# Hello

{intro}

```{{code-cell}} ipython3
:id: code
print({{"json": 1}})
```
"""


def test_build_writes_each_language_where_it_belongs(builder, scratch, tmp_path, capsys):
    scratch("en", "01-x", _SOURCE.format(intro="{{ daily_low }} a day."))
    scratch("ja", "01-x", _SOURCE.format(intro="1日{{ daily_low }}回。"))
    assert builder.languages() == ["en", "ja"]
    assert builder.main([]) == 0
    en = nbformat.read(tmp_path / "notebooks" / "01-x.ipynb", as_version=4)
    ja = nbformat.read(tmp_path / "notebooks" / "ja" / "01-x.ipynb", as_version=4)
    assert [c.id for c in en.cells] == [c.id for c in ja.cells] == ["intro", "code"]
    assert en.cells[0].source == f"# Hello\n\n{policy.FREE_DAILY_LOW:,} a day."
    assert ja.cells[0].source == f"# Hello\n\n1日{policy.FREE_DAILY_LOW:,}回。"
    assert en.cells[1].source == 'print({"json": 1})'
    assert builder.main(["--check"]) == 0


def test_check_fails_on_a_stale_notebook_and_on_one_without_a_source(builder, scratch, tmp_path,
                                                                      capsys):
    scratch("en", "01-x", _SOURCE.format(intro="text"))
    builder.main([])
    built = tmp_path / "notebooks" / "01-x.ipynb"
    built.write_text(built.read_text().replace("Hello", "Hi"))
    assert builder.main(["--check"]) == 1
    assert "out of date (run tools/build_notebooks.py): notebooks/01-x.ipynb" in capsys.readouterr().err
    builder.main([])
    shutil.copy(built, tmp_path / "notebooks" / "99-old.ipynb")
    assert builder.main(["--check"]) == 1
    assert "no source builds these (delete them or add a source): notebooks/99-old.ipynb" in (
        capsys.readouterr().err
    )


def test_a_cell_without_an_id_is_refused_with_one_clear_line(builder, scratch, capsys):
    scratch("en", "01-x", _SOURCE.format(intro="text").replace('+++ {"id": "intro"}\n\n', ""))
    assert builder.main(["--check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("build_notebooks: notebooks/src/en/01-x.md: cell 1 ('# Hello") and (
        "needs an explicit id" in err
    )
    assert len(err.strip().splitlines()) == 1


def test_a_duplicate_id_is_refused(builder, scratch):
    scratch("en", "01-x", _SOURCE.format(intro="text").replace(":id: code", ":id: intro"))
    with pytest.raises(ValueError, match="duplicate cell id 'intro'"):
        builder.build_all()


def test_an_unknown_placeholder_is_refused(builder, scratch):
    scratch("en", "01-x", _SOURCE.format(intro="{{ daily_lo }} a day"))
    with pytest.raises(ValueError, match=r"src/en/01-x.md:intro: unknown placeholder '\{\{ daily_lo \}\}'"):
        builder.build_all()


def test_a_malformed_placeholder_is_refused(builder, scratch):
    scratch("en", "01-x", _SOURCE.format(intro="{{ daily-low }} a day"))
    with pytest.raises(ValueError, match="is not a placeholder"):
        builder.build_all()


# --- no prose renders as math ---------------------------------------------------------------------
# A pair of bare `$` in markdown is typeset as LaTeX by JupyterLab, Notebook 7, Voila and GitHub.
# Sources write `\$`; the build turns it into a dollar no renderer pairs. Any bare `$` fails.


def test_builder_spells_the_dollar_sign_as_the_tests_expect(builder):
    assert builder.DOLLAR_AS_TEXT == DOLLAR


def test_no_markdown_cell_of_any_source_has_an_unescaped_dollar(builder):
    bare = [
        (where, cell.id, line)
        for where, cell in _templates(builder)
        for line in builder.bare_dollars(cell.source)
    ]
    assert bare == [], "write \\$ for a dollar sign in a source's markdown"


def test_readme_has_no_unescaped_dollar_outside_code(builder):
    # GitHub reads it as it is: it must spell the dollar sign as the built notebooks do.
    assert builder.bare_dollars((ROOT / "README.md").read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_built_markdown_keeps_no_dollar_sign_outside_code(builder, name):
    for cell in _read(name).cells:
        if cell.cell_type == "markdown":
            prose = "".join(p for code, p in builder._text_segments(cell.source) if not code)
            assert "$" not in prose, cell.id


def test_generated_blocks_follow_the_dollar_rule(builder):
    for name, value in builder.prose_values().items():
        assert builder.bare_dollars(value) == [], name


@pytest.mark.parametrize(
    ("source", "built"),
    [
        ("| \\$0.50 | 1 |\n| \\$1.20 | 2 |", f"| {DOLLAR}0.50 | 1 |\n| {DOLLAR}1.20 | 2 |"),
        ("-\\$5.00 and **\\$10**", f"-{DOLLAR}5.00 and **{DOLLAR}10**"),
        ("`$KEY` and \\$5, ``a`$b`` too", f"`$KEY` and {DOLLAR}5, ``a`$b`` too"),
        ("text\n\n```bash\necho $HOME $PATH\n```\n\\$1", f"text\n\n```bash\necho $HOME $PATH\n```\n{DOLLAR}1"),
        ("no dollar at all", "no dollar at all"),
    ],
    ids=["table", "bold-and-negative", "code-spans", "fenced-code", "none"],
)
def test_escaped_dollars_become_text_and_code_keeps_its_own(builder, source, built):
    assert builder.dollars_as_text(source) == built


@pytest.mark.parametrize(
    "source", ["costs $5 and $10", "| $0.50 | 1 |", "a \\\\$5 (escaped backslash, bare dollar)",
               "`unclosed $5"],
)
def test_a_bare_dollar_is_refused(builder, source):
    assert builder.bare_dollars(source) != []
    with pytest.raises(ValueError, match=r"write a dollar sign as \\\$"):
        builder.dollars_as_text(source, "here")


# --- numbers in prose come from orwidgets.policy ------------------------------------------------

# Every value of a rule that prose could state. A source must name them as {{ placeholders }}.
_POLICY_NUMBERS = sorted(
    {
        f"{n:,}"
        for n in (
            policy.FREE_PER_MINUTE,
            policy.FREE_DAILY_LEGACY,
            policy.FREE_DAILY_LOW,
            policy.FREE_DAILY_HIGH,
            policy.PAID_RPS_CAP,
            int(policy.TOPUP_THRESHOLD_USD),
        )
    }
    | {str(policy.FREE_DAILY_HIGH)},
    key=len,
    reverse=True,
)
# A number standing alone: not part of a date, a version, an amount like $0.50 or a longer number.
# ASCII neighbours only: in Japanese and Chinese a number stands right beside words ("1日50回").
_BARE_NUMBER = re.compile(
    r"(?<![A-Za-z0-9_.,\-/:])(" + "|".join(re.escape(n) for n in _POLICY_NUMBERS)
    + r")(?![A-Za-z0-9_%]|[.,:]\d)"
)


def _templates(builder):
    for lang in builder.languages():
        for name, cells in builder.sources(lang).items():
            for cell in cells:
                if cell.kind == "md":
                    yield f"{lang}/{name}", cell


_HEADING_NUMBER = re.compile(r"^(#+ )\d+\. ", re.MULTILINE)  # "## 10. What the docs say"
# "see section 10", "第 10 節", "第10节", "10 節" (ja/zh section references)
_SECTION_REFERENCE = re.compile(r"\b([Ss]ections? )\d+\b|(第\s*)\d+(?=\s*[節节章])|\d+(?=\s*[節节])")


def _typed_numbers(markdown: str) -> list[tuple[str, str]]:
    """(number, its context) for each rule's number typed in ``markdown`` itself."""
    text = _SECTION_REFERENCE.sub(lambda m: m.group(1) or m.group(2) or "",
                                  _HEADING_NUMBER.sub(r"\1", markdown))
    return [(m.group(0), text[max(0, m.start() - 30) : m.end() + 30])
            for m in _BARE_NUMBER.finditer(text)]


def test_prose_templates_type_no_policy_number_themselves(builder):
    typed = [(name, cell.id, *found) for name, cell in _templates(builder)
             for found in _typed_numbers(cell.source)]
    assert typed == [], "use a {{ placeholder }} from prose_values() instead of typing these"


@pytest.mark.parametrize(
    ("text", "numbers"),
    [(f"1日{policy.FREE_DAILY_LOW}回まで", [str(policy.FREE_DAILY_LOW)]),
     (f"每天 {policy.FREE_DAILY_HIGH:,} 次", [f"{policy.FREE_DAILY_HIGH:,}"]),
     (f"{policy.FREE_PER_MINUTE} requests a minute", [str(policy.FREE_PER_MINUTE)]),
     ("第 10 節と第10节、10 節、section 10 を参照", []),
     ("## 10. 今日のルール", []),
     ("2025-04-08 と v1.20、\\$0.50", [])],
    ids=["ja", "zh", "en", "section-references", "heading", "dates-and-amounts"],
)
def test_a_typed_number_is_found_in_every_language(text, numbers):
    assert [number for number, _ in _typed_numbers(text)] == numbers


def test_every_placeholder_a_template_uses_is_provided(builder):
    values = builder.prose_values()
    for _, cell in _templates(builder):
        names = {m.group(1) for m in re.finditer(r"\{\{\s*(\w+)\s*\}\}", cell.source)}
        assert names <= set(values), f"{cell.id}: unknown {names - set(values)}"


def test_tutorial_tells_the_change_with_policy_numbers(builder):
    text = _rendered(builder, "01-tutorial.ipynb", "free-change")
    assert f"| {policy.FREE_DAILY_LEGACY:,} | **{policy.FREE_DAILY_LOW:,}** |" in text
    assert f"| {policy.FREE_DAILY_LEGACY:,} | **{policy.FREE_DAILY_HIGH:,}** |" in text
    assert f"topped up {DOLLAR}{policy.TOPUP_THRESHOLD_USD:g} or more" in text
    assert f"| {policy.FREE_PER_MINUTE} | {policy.FREE_PER_MINUTE} |" in text


def _flat(text: str) -> str:
    """Line breaks and runs of spaces as single spaces (prose is wrapped anywhere)."""
    return " ".join(text.split())


def test_tutorial_title_states_the_change(builder):
    text = _flat(_rendered(builder, "01-tutorial.ipynb", "title"))
    assert f"**{policy.FREE_DAILY_LEGACY:,} a day for everyone**" in text
    assert (
        f"**{policy.FREE_DAILY_HIGH:,} a day once you have bought {DOLLAR}"
        f"{policy.TOPUP_THRESHOLD_USD:g}"
    ) in text


def test_tutorial_rps_table_is_computed_by_paid_rps(builder):
    text = _rendered(builder, "01-tutorial.ipynb", "rps-explained")
    for balance, shown in ((0.5, "0.50"), (1.2, "1.20"), (1000, "1,000")):
        rps = policy.paid_rps(balance, policy.DEFAULT_POLICY_ID)
        assert f"| {DOLLAR}{shown} | {rps} |" in text
    assert f"never below **{policy.PAID_RPS_MIN}** and never above **{policy.PAID_RPS_CAP}**" in text


def test_tutorial_quotes_the_exact_429_messages(builder):
    text = _rendered(builder, "01-tutorial.ipynb", "three-429s")
    for message in (
        policy.MESSAGES.free_per_minute,
        policy.MESSAGES.free_per_day_low,
        policy.MESSAGES.free_per_day_high,
        policy.MESSAGES.upstream,
        policy.MESSAGES.paid_rate,
    ):
        assert f'`"{message}"`' in text
    assert policy.LimitSource.PAID_RATE.value in text and "[inv]" in text


def test_tutorial_timeline_lists_every_policy_version(builder):
    text = _rendered(builder, "01-tutorial.ipynb", "current-docs")
    for version in policy.POLICIES.values():
        assert f"| `{version.id}`" in text
        assert version.in_force_text in text
        assert version.changes.replace("$", DOLLAR) in text


def test_prose_follows_a_changed_policy_number(builder, monkeypatch):
    # Were OpenRouter to change the high tier, regenerating would change the prose with it.
    monkeypatch.setattr(builder.P, "FREE_DAILY_HIGH", 1234)
    text = _rendered(builder, "01-tutorial.ipynb", "free-change")
    assert "**1,234**" in text and f"**{policy.FREE_DAILY_LOW:,}**" in text


# --- the text agrees with itself and with the versions (issue 13) ---------------------------------


def _md_cells_in_order(builder, name="01-tutorial.ipynb"):
    nb = builder.render(builder.sources()[name.removesuffix(".ipynb")])
    return [c for c in nb.cells if c.cell_type == "markdown"]


def test_intro_does_not_date_the_balance_linked_rps_to_the_article(builder):
    # legacy-2024, before the article's change, already had the per-credit paid RPS.
    assert policy.get_policy("legacy-2024").paid_rps_linked
    text = _flat(_rendered(builder, "01-tutorial.ipynb", "title"))
    assert "came to follow your balance" not in text
    assert "Paid models kept the speed limit they already had" in text


def test_section_7_announces_as_many_kinds_of_429_as_its_table_lists(builder):
    text = _rendered(builder, "01-tutorial.ipynb", "three-429s")
    word = re.search(r"^## 7\. (\w+) kinds of `429`", text, flags=re.MULTILINE).group(1)
    rows = [line for line in text.splitlines() if line.startswith("| ")][1:]  # minus the header
    assert {"Three": 3, "Four": 4, "Five": 5}[word] == len(rows)
    assert not re.search(r"\b(a|the) (fourth|fifth)\b", text)


def test_the_article_is_described_where_the_tutorial_first_cites_it(builder):
    first = next(c for c in _md_cells_in_order(builder) if "article" in c.source)
    text = _flat(first.source)
    assert "](../docs/article.md)" in text
    for fact in ("Chinese-language blog post of spring 2025", "untitled, unsigned Japanese translation"):
        assert fact in text
    assert (NOTEBOOK_DIR / ".." / "docs" / "article.md").resolve().is_file()


def test_docs_article_says_what_is_known_and_renders_no_math(builder):
    text = _flat((ROOT / "docs" / "article.md").read_text(encoding="utf-8"))
    for fact in ("no title, no author, no date and no address", "Chinese-speaking",
                 "Japanese copy only", "spring 2025"):
        assert fact in text
    assert builder.bare_dollars(text) == []


def test_management_key_is_explained_where_the_prose_first_names_it(builder):
    first = next(c for c in _md_cells_in_order(builder) if "management key" in c.source.lower())
    text = _flat(first.source)
    assert "manage API keys through the API" in text and "It cannot call models" in text


_BASE_URL_ALIASES = ("OPENROUTER_BASE_URL", "OPENAI_BASE_URL")


def test_one_environment_variable_name_for_the_base_url(builder):
    documents = {f"{n}.md": cells for n, cells in builder.sources().items()}
    for name, cells in documents.items():
        for cell in cells:
            if cell.kind == "code":
                used = set(re.findall(r"(?:environ\.get|getenv|setenv)\(\s*\"(\w+)\"", cell.source))
                assert used <= {"OPENROUTER_API_KEY", "OPENROUTER_API_BASE"}, (name, cell.id)
                assert not any(alias in cell.source for alias in _BASE_URL_ALIASES), (name, cell.id)
        prose = [c.source for c in cells if c.kind == "md"]
        for alias in _BASE_URL_ALIASES:
            naming = [p for p in prose if alias in p]
            assert len(naming) <= 1 and all("OPENROUTER_API_BASE" in p for p in naming), alias
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for alias in _BASE_URL_ALIASES:
        # Named only where the README says our name beside it (the client section) or lists what
        # the pytest plugin sets: never as the name our own examples use.
        # Code may show what the SDK reads; prose must pair the alias with our name.
        prose = "".join(p for code, p in builder._text_segments(readme) if not code)
        paragraphs = [p for p in prose.split("\n\n") if alias in p]
        assert all("OPENROUTER_API_BASE" in p for p in paragraphs), alias
    # notebook 03 uses the name in its code and says the other names exist
    code_03 = "\n".join(c.source for c in builder.sources()["03-test-your-app"] if c.kind == "code")
    assert '"OPENROUTER_API_BASE"' in code_03


def _version_with_free_counter() -> policy.PolicyVersion:
    return next(v for v in policy.POLICIES.values() if v.key_shape == "2026")


def test_faq_dates_the_free_request_counter_to_the_version_that_reports_it(builder):
    counter = _version_with_free_counter()
    faq = _flat(_rendered(builder, "01-tutorial.ipynb", "faq"))
    assert f"since late 2026 (version `{counter.id}` here" in faq
    assert "added to the API in late 2026" not in faq
    versions = _flat(_rendered(builder, "01-tutorial.ipynb", "current-docs"))
    bullets = {m.group(1): m.group(2) for m in re.finditer(r"- \*\*`([\w-]+)`\*\*(.*?)(?= - \*\*`|$)", versions)}
    assert "`free_model_daily_requests`" in bullets[counter.id]
    for version_id, bullet in bullets.items():
        if version_id != counter.id:
            assert "`free_model_daily_requests`" not in bullet, version_id


def test_emulator_reports_the_free_request_counter_under_that_version_only():
    import asyncio

    import httpx

    from orwidgets.emulator import create_app

    async def key_fields(version_id: str) -> set[str]:
        app = create_app(policy=version_id, latency_ms=0)
        key = app.state.emulator.demo_keys["free"]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e") as c:
            r = await c.get("/api/v1/key", headers={"Authorization": f"Bearer {key}"})
        return set(r.json()["data"])

    for version in policy.POLICIES.values():
        has = "free_model_daily_requests" in asyncio.run(key_fields(version.id))
        assert has is (version.key_shape == "2026"), version.id


def test_section_10_describes_every_version_and_current_as_the_newest(builder):
    text = _flat(_rendered(builder, "01-tutorial.ipynb", "current-docs"))
    newest = list(policy.POLICIES)[-1]
    assert policy.resolve_policy_id("current") == newest
    assert f"`current` names the newest, today's `{newest}`" in text
    assert "What the current docs say" not in text


def test_todays_rules_has_its_section_between_the_versions_and_the_real_key(builder):
    ids = [c.id for c in builder.sources()["01-tutorial"]]
    assert ids.index("current-docs") < ids.index("todays-rules") < ids.index("real-key")
    text = _flat(_rendered(builder, "01-tutorial.ipynb", "todays-rules"))
    assert text.startswith("## 11. Today's rules") and "in_flight_budget_exhausted" in text


# --- what the tutorial must cover ---------------------------------------------------------------


@pytest.mark.parametrize(
    "topic",
    [
        "Settings > Credits",  # where to see balance
        "free_model_daily_requests",  # free requests left
        "00:00 UTC",  # when the day resets
        "X-RateLimit-Reset",
        "expire",  # credits expiring
        "refund",
        "Alipay",
        "WeChat Pay",
        "crypto",
        "Add Credits",  # topping up
        "usage.cost",  # free calls don't spend the balance
        "negative balance",  # 402 on a free model
        "max_tokens",  # the affordability 402
        "More keys",  # account-wide
        "shared daily pool",  # 429 on the first request
        "upstream",
        "every retry counts",
        "credits\npurchased",  # $10 and still 50
    ],
)
def test_faq_answers(builder, topic):
    assert topic in _rendered(builder, "01-tutorial.ipynb", "faq")


def test_tutorial_states_the_balance_versus_purchases_discrepancy(builder):
    text = _rendered(builder, "01-tutorial.ipynb", "balance-or-purchases")
    assert "*balance*" in text and "*credits\npurchased*" in text
    assert "orwidgets models the purchase rule" in text


@pytest.mark.parametrize(
    "cell_id, widget", [("quota-explorer", "FreeQuotaExplorer("), ("rps-explorer", "RPSExplorer("),
                        ("livecalls", "LiveCalls(")],
)
def test_tutorial_shows_the_widgets_the_browser_tests_look_for(builder, cell_id, widget):
    cell = _source_cell(builder, "01-tutorial.ipynb", cell_id)
    assert cell.kind == "code" and cell.source.splitlines()[-1].startswith(widget)


# --- public API only, no network ----------------------------------------------------------------

_PUBLIC = {"orwidgets", "orwidgets.emulator", "orwidgets.client", "orwidgets.conform", "orwidgets.i18n"}


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebooks_import_only_the_public_api(name):
    for cell in _read(name).cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [node.module or ""]
                if node.module == "orwidgets":
                    assert all(not a.name.startswith("_") for a in node.names), cell.id
                if node.module == "orwidgets.emulator":
                    assert [a.name for a in node.names] == ["start"], cell.id
            else:
                continue
            for mod in mods:
                if mod.split(".")[0] == "orwidgets":
                    assert mod in _PUBLIC, f"{name}:{cell.id} imports private {mod}"


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_real_api_is_reached_only_under_a_key_check(name):
    guard = 'if not os.environ.get("OPENROUTER_API_KEY"):'
    for cell in _read(name).cells:
        if cell.cell_type != "code":
            continue
        uses = [m.start() for m in re.finditer(r"openrouter\.ai|[(=]\s*OPENROUTER_API_BASE", cell.source)]
        if uses:
            assert guard in cell.source, f"{name}:{cell.id} reaches the real API without a key check"
            assert cell.source.index(guard) < min(uses), f"{name}:{cell.id}"


def _printed_names(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name):
                    names.add(sub.id)
                if isinstance(sub, ast.Subscript) and "environ" in ast.unparse(sub.value):
                    names.add("os.environ[...]")
    return names


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebooks_never_print_a_key(name):
    for cell in _read(name).cells:
        if cell.cell_type == "code":
            assert not _printed_names(cell.source) & {"KEY", "key", "os.environ[...]"}, cell.id
