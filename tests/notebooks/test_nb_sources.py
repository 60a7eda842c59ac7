"""The committed notebooks are the generator's output, and their prose takes its numbers from policy."""

from __future__ import annotations

import ast
import re

import pytest

from nbhelpers import NOTEBOOK_DIR, NOTEBOOK_NAMES, nbformat
from orwidgets import policy


def _read(name: str):
    return nbformat.read(NOTEBOOK_DIR / name, as_version=4)


def _rendered(builder, name: str, cell_id: str) -> str:
    nb = builder.render(builder.NOTEBOOKS[name])
    (cell,) = [c for c in nb.cells if c.id == cell_id]
    return cell.source


# --- generated, committed, clean --------------------------------------------------------------


def test_generator_covers_exactly_the_three_notebooks(builder):
    assert tuple(builder.NOTEBOOKS) == NOTEBOOK_NAMES


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_committed_notebook_equals_the_generator_output(builder, name):
    expected = builder.build_all()[name]
    committed = (NOTEBOOK_DIR / name).read_text(encoding="utf-8")
    assert committed == expected, f"{name} is stale: run .venv/bin/python tools/build_notebooks.py"


def test_generator_check_mode_passes_on_the_committed_tree(builder):
    assert builder.main(["--check"]) == 0


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


# --- numbers in prose come from orwidgets.policy ------------------------------------------------

# Every value of a rule that prose could state. A template must name them as {placeholders}.
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
_BARE_NUMBER = re.compile(
    r"(?<![\w.,\-/:])(" + "|".join(re.escape(n) for n in _POLICY_NUMBERS) + r")(?![\w%]|[.,:]\d)"
)


def _templates(builder):
    for name, cells in builder.NOTEBOOKS.items():
        for cell in cells:
            if cell.kind == "md":
                yield name, cell


_HEADING_NUMBER = re.compile(r"^(#+ )\d+\. ", re.MULTILINE)  # "## 10. What the docs say"


def test_prose_templates_type_no_policy_number_themselves(builder):
    typed = [
        (name, cell.id, match.group(0), text[max(0, match.start() - 30) : match.end() + 30])
        for name, cell in _templates(builder)
        for text in [_HEADING_NUMBER.sub(r"\1", cell.source)]
        for match in _BARE_NUMBER.finditer(text)
    ]
    assert typed == [], "use a {placeholder} from prose_values() instead of typing these"


def test_every_placeholder_a_template_uses_is_provided(builder):
    values = builder.prose_values()
    for _, cell in _templates(builder):
        names = {m.group(1) for m in re.finditer(r"(?<!\{)\{(\w+)\}(?!\})", cell.source)}
        assert names <= set(values), f"{cell.id}: unknown {names - set(values)}"


def test_tutorial_tells_the_change_with_policy_numbers(builder):
    text = _rendered(builder, "01-tutorial.ipynb", "free-change")
    assert f"| {policy.FREE_DAILY_LEGACY:,} | **{policy.FREE_DAILY_LOW:,}** |" in text
    assert f"| {policy.FREE_DAILY_LEGACY:,} | **{policy.FREE_DAILY_HIGH:,}** |" in text
    assert f"topped up ${policy.TOPUP_THRESHOLD_USD:g} or more" in text
    assert f"| {policy.FREE_PER_MINUTE} | {policy.FREE_PER_MINUTE} |" in text


def test_tutorial_title_states_the_change(builder):
    text = _rendered(builder, "01-tutorial.ipynb", "title")
    assert f"**{policy.FREE_DAILY_LEGACY:,} a day for\neveryone**" in text
    assert f"**{policy.FREE_DAILY_HIGH:,} a day once you have bought ${policy.TOPUP_THRESHOLD_USD:g}" in text


def test_tutorial_rps_table_is_computed_by_paid_rps(builder):
    text = _rendered(builder, "01-tutorial.ipynb", "rps-explained")
    for balance, shown in ((0.5, "$0.50"), (1.2, "$1.20"), (1000, "$1,000")):
        rps = policy.paid_rps(balance, policy.DEFAULT_POLICY_ID)
        assert f"| {shown} | {rps} |" in text
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
        assert version.changes in text


def test_prose_follows_a_changed_policy_number(builder, monkeypatch):
    # Were OpenRouter to change the high tier, regenerating would change the prose with it.
    monkeypatch.setattr(builder.P, "FREE_DAILY_HIGH", 1234)
    text = _rendered(builder, "01-tutorial.ipynb", "free-change")
    assert "**1,234**" in text and f"**{policy.FREE_DAILY_LOW:,}**" in text


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
    (cell,) = [c for c in builder.NOTEBOOKS["01-tutorial.ipynb"] if c.id == cell_id]
    assert cell.kind == "code" and cell.source.splitlines()[-1].startswith(widget)


# --- public API only, no network ----------------------------------------------------------------

_PUBLIC = {"orwidgets", "orwidgets.emulator", "orwidgets.client"}


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
