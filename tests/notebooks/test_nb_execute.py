"""Every notebook runs top to bottom in a real kernel, with no key and no network.

Expected values come from ``orwidgets.policy``; each notebook is executed once per session (see
conftest) and the execution times are printed in the terminal summary.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from nbhelpers import NOTEBOOK_DIR, NOTEBOOK_NAMES
from orwidgets import policy
from orwidgets.client import CallClass

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def _has_widget_view(cell) -> bool:
    return any(WIDGET_MIME in out.get("data", {}) for out in cell.get("outputs", []))


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebook_runs_top_to_bottom_in_the_venv_kernel(run_notebook, name):
    executed = run_notebook(name)
    assert os.path.realpath(executed.probe_executable()) == os.path.realpath(sys.executable)
    errors = [
        (cell.get("id"), out.get("ename"))
        for cell in executed.nb.cells
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert errors == []


@pytest.mark.parametrize("name", ["01-tutorial.ipynb", "03-test-your-app.ipynb"])
def test_real_key_cell_skips_cleanly_without_a_key(run_notebook, name):
    assert run_notebook(name).stdout("real-key-code").startswith("Skipped: OPENROUTER_API_KEY is not set")


@pytest.mark.parametrize("cell_id", ["quota-explorer", "rps-explorer", "livecalls", "planner",
                                     "advisor", "account-panel"])
def test_tutorial_widget_cell_displays_a_widget(run_notebook, cell_id):
    assert _has_widget_view(run_notebook("01-tutorial.ipynb").cell(cell_id))


def test_gallery_displays_every_widget(run_notebook):
    executed = run_notebook("02-embed-gallery.ipynb")
    shown = [c.get("id") for c in executed.nb.cells if _has_widget_view(c)]
    for cell_id in ("rps-code", "quota-code", "planner-code", "advisor-code", "linked-code",
                    "live-code", "panel-code", "dashboard-code"):
        assert cell_id in shown


def test_tutorial_burst_gets_the_per_minute_429_after_the_free_minute(run_notebook):
    out = run_notebook("01-tutorial.ipynb").stdout("scripted-429-code")
    per_minute = policy.FREE_PER_MINUTE
    assert out.splitlines()[0] == "statuses: " + str([200] * per_minute + [429])
    assert f"call {per_minute + 1}: 429 {policy.MESSAGES.free_per_minute!r}" in out
    assert f"X-RateLimit-Limit: {per_minute}, X-RateLimit-Remaining: 0" in out
    assert "(= 2025-05-01 12:01:00 UTC)" in out  # the next whole minute
    assert f'"limit_source": "{policy.LimitSource.FREE_PER_MINUTE.value}"' in out


def test_tutorial_negative_balance_gets_402_on_a_free_model(run_notebook):
    out = run_notebook("01-tutorial.ipynb").stdout("scripted-402-code")
    assert f"negative balance, free model: 402 {policy.MESSAGES.negative_balance!r}" in out
    assert "max_tokens=2,000,000: 402 'This request requires more credits, or fewer max_tokens." in out


def test_tutorial_retry_helper_waits_out_the_minute(run_notebook):
    out = run_notebook("01-tutorial.ipynb").stdout("retry-per-minute")
    assert f"per minute: waited for X-RateLimit-Reset -> {CallClass.OK.label}" in out


def test_tutorial_retry_helper_gives_up_on_the_daily_cap(run_notebook):
    out = run_notebook("01-tutorial.ipynb").stdout("retry-per-day")
    quota = policy.FREE_DAILY_LOW
    assert (f"{quota} free calls today, then call {quota + 1}: "
            f"429 {policy.MESSAGES.free_per_day_low!r}") in out
    assert "per day: with_retries gave up after 1 call" in out


def test_tutorial_retry_helper_backs_off_on_upstream_429(run_notebook):
    out = run_notebook("01-tutorial.ipynb").stdout("retry-upstream")
    assert CallClass.UPSTREAM.label in out
    assert out.rstrip().endswith(f"-> {CallClass.OK.label}")


def test_test_your_app_sees_the_midnight_reset(run_notebook):
    out = run_notebook("03-test-your-app.ipynb").stdout("midnight-code")
    assert f"{policy.FREE_DAILY_LOW} OK, then 429: {policy.MESSAGES.free_per_day_low}" in out
    assert "2025-05-02 00:00:00+00:00" in out  # X-RateLimit-Reset is the next 00:00 UTC
    assert out.rstrip().endswith("after midnight: 200")


def test_test_your_app_handler_reads_the_per_minute_reset(run_notebook):
    out = run_notebook("03-test-your-app.ipynb").stdout("handler")
    assert f"call {policy.FREE_PER_MINUTE + 1}: 429 -> per-minute cap: wait until 12:01:00 UTC" in out


def test_tutorial_paid_burst_above_rps_gets_the_paid_rate_429(run_notebook):
    out = run_notebook("01-tutorial.ipynb").stdout("scripted-paid-rate-code")
    rps = policy.paid_rps(5.0, policy.DEFAULT_POLICY_ID)  # the demo account "five"
    sent = 8
    assert out.splitlines()[0] == str({CallClass.OK.label: rps, CallClass.PAID_RATE.label: sent - rps})
    assert f"429 {policy.MESSAGES.paid_rate!r}, X-RateLimit-Limit: {rps}" in out


def test_test_your_app_shows_the_402_on_a_free_model(run_notebook):
    out = run_notebook("03-test-your-app.ipynb").stdout("handle-402-code")
    assert out.strip() == f"402 {policy.MESSAGES.negative_balance}"


def test_test_your_app_retry_helper_wraps_the_openai_sdk(run_notebook):
    out = run_notebook("03-test-your-app.ipynb").stdout("with-retries-code")
    assert out.startswith(f"{CallClass.FREE_PER_MINUTE.label}: waiting")
    assert "then: " in out
    assert (f"{CallClass.NEGATIVE_BALANCE.label}: gave up after 1 call, not retried: "
            f"{CallClass.NEGATIVE_BALANCE.advice}") in out


# --- what the cells print reads well (issue 13) ------------------------------------------------------

#: Printing mistakes that crept in once, each with what it looked like.
_SLOPPY = [
    (re.compile(r"\$-\d"), "a minus sign after the dollar sign ($-5.00)"),
    (re.compile(r"HTTP (\d{3}): \1\b"), "the status twice (HTTP 402: 402 ...)"),
    (re.compile(r"\b1 (calls|requests|paid requests)\b"), "a plural after 1"),
]


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_printed_text_has_none_of_the_old_formatting_slips(run_notebook, name):
    executed = run_notebook(name)
    for cell in executed.nb.cells:
        if cell.cell_type != "code":
            continue
        out = executed.stdout(cell.id)
        for pattern, what in _SLOPPY:
            assert not pattern.search(out), f"{name}:{cell.id} prints {what}: {out!r}"


@pytest.mark.parametrize("cell_id", ["emulator-start", "depletion-sim", "policies-compared"])
def test_tutorial_prints_counts_with_thousands_separators(run_notebook, cell_id):
    out = run_notebook("01-tutorial.ipynb").stdout(cell_id)
    # a number of 4 or more digits standing alone (not a port, a date, a version id or an amount)
    bare = re.findall(r"(?<![\w.:/,$-])\d{4,}(?![\w.:/,-])", out)
    assert bare == [], f"{cell_id} prints {bare}"
    if cell_id != "depletion-sim":
        assert f"{policy.FREE_DAILY_HIGH:,}" in out


_SHOW_LAST = """
import ast, sys
tree = ast.parse(sys.stdin.read())
last = ast.Expression(tree.body.pop().value)
namespace = {}
exec(compile(tree, "example", "exec"), namespace)
shown = eval(compile(last, "example", "eval"), namespace)
print(type(shown).__name__, [type(child).__name__ for child in shown.children])
"""


def test_readme_embed_example_runs():
    # The README's embed example must keep working as the API moves.
    # A subprocess, because the example starts the in-kernel emulator.
    text = (NOTEBOOK_DIR.parent / "README.md").read_text(encoding="utf-8")
    section = text.split("### Embed a widget in your notebook", 1)[1]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)[:1]
    assert len(blocks) == 1 and len(blocks[0].strip().splitlines()) <= 10
    env = {k: v for k, v in os.environ.items() if k != "OPENROUTER_API_KEY"}
    done = subprocess.run([sys.executable, "-c", _SHOW_LAST], input=blocks[0], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "VBox ['RPSExplorer', 'FreeQuotaExplorer', 'LiveCalls']"


def test_readme_badges_open_the_tutorial_in_lab_and_voila():
    text = (NOTEBOOK_DIR.parent / "README.md").read_text(encoding="utf-8")
    base = "https://mybinder.org/v2/gh/orwidgets/orwidgets/main?urlpath="
    assert f"{base}lab/tree/notebooks/01-tutorial.ipynb" in text
    assert f"{base}voila/render/notebooks/01-tutorial.ipynb" in text


def test_test_your_app_judges_three_clients_of_one_scenario(run_notebook):
    executed = run_notebook("03-test-your-app.ipynb")
    rows = {line[:26].strip(): line[26:] for line in
            executed.stdout("three-clients-code").splitlines()[1:]}
    assert list(rows) == ["naive loop", "openai SDK, own retries", "with_retries"]
    # calls, refused, then the findings of each client
    assert re.search(r"retry-before-retry-after: \d+, retry-before-reset: \d+$", rows["naive loop"])
    assert re.search(r"\s{3}retry-before-reset: \d+$", rows["openai SDK, own retries"])
    calls, refused, found = rows["with_retries"].split(maxsplit=2)
    # 22 texts: one upstream 429 and one per-minute 429 waited out, every text answered
    assert (int(calls), int(refused), found) == (24, 2, "none")
    finding = executed.stdout("three-clients-finding")
    assert "openai SDK, own retries: [retry-before-reset] sent " in finding
    assert "whose Retry-After asked to wait 2.0 s" in finding
    assert _has_widget_view(executed.cell("timeline-code"))
