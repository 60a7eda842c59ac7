"""conform against a "recorded OpenRouter": real 2026 captures replayed on loopback.

What it finds about today's emulator is written in the README (findings against recorded
captures of 2026-10, not a live run). These tests pin it: the captures say where they come from,
the statuses and message templates match, and the comparison finds exactly the deliberate
differences of ``recorded_openrouter.DELIBERATE``, each of which the README shows: a change that
reopens a gap (or closes a deliberate one) fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conform_support import run_cli, serve
from recorded_openrouter import (CAPTURES, DELIBERATE, RECORDED_ARGS, RECORDED_KEY, capture,
                                 create_recorded_app)

README = Path(__file__).resolve().parents[2] / "README.md"

PLAN_IDS = ["models", "key", "chat_no_key", "chat_unknown_model", "chat_free", "chat_paid"]


@pytest.fixture(scope="module")
def recorded_report():
    with serve(create_recorded_app()) as base:
        result = run_cli("--base-url", base, "--key", RECORDED_KEY, *RECORDED_ARGS, "--json")
    assert result.code in (0, 1), result.err
    return result.json()


@pytest.mark.parametrize("path", sorted(CAPTURES.glob("*.json")), ids=lambda p: p.stem)
def test_every_capture_says_where_it_comes_from(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    assert {"source", "status", "headers", "body"} <= set(data)
    assert "[OBS]" in data["source"]


def test_the_recorded_server_replays_the_captures(recorded_report):
    statuses = {p["id"]: p["real_status"] for p in recorded_report["probes"]}
    assert statuses == {name: capture(name)["status"] for name in [*PLAN_IDS, "credits"]}


def test_the_emulator_answers_every_probe_of_the_plan_with_openrouters_status(recorded_report):
    probes = {p["id"]: p for p in recorded_report["probes"]}
    assert [probes[i]["emulator_status"] for i in PLAN_IDS] == \
        [probes[i]["real_status"] for i in PLAN_IDS]


def test_real_messages_match_the_emulators_by_template(recorded_report):
    probes = {p["id"]: p for p in recorded_report["probes"]}
    # the captured 402 asked 16384 tokens and could afford 9862: the numbers are masked
    assert probes["chat_paid"]["message"] == "same template"
    assert probes["chat_unknown_model"]["message"] == "exact"


def test_the_account_is_shaped_from_the_recorded_credits(recorded_report):
    assert recorded_report["account"] == {"balance_usd": 10.0, "purchased_usd": 10.0,
                                          "management": False}
    assert recorded_report["models"]["real"] == {
        "free": "meta-llama/llama-3.1-8b-instruct:free", "paid": "meta-llama/llama-3.1-8b-instruct"}


def test_the_comparison_finds_only_the_deliberate_differences(recorded_report):
    found = [(p["id"], d["kind"], d["path"])
             for p in recorded_report["probes"] for d in p["differences"]]
    assert found == list(DELIBERATE)
    assert recorded_report["exit_code"] == 1


def test_the_readme_shows_every_difference_the_comparison_finds(recorded_report):
    readme = README.read_text(encoding="utf-8")
    assert "recorded captures of 2026-10, not a live run" in readme
    for probe in recorded_report["probes"]:
        for difference in probe["differences"]:
            assert difference["text"] in readme


def test_the_plan_without_credits_finds_no_difference():
    """The six probes of the default plan: today's emulator answers like the captures."""
    with serve(create_recorded_app()) as base:
        result = run_cli("--base-url", base, "--key", RECORDED_KEY, "--policy", "current")
    assert result.code == 0, result.out + result.err
    assert result.out.rstrip().endswith("on 6 probes.")


def test_the_readmes_sample_report_is_what_conform_prints_today():
    """The README explains the report with the recorded captures against ``2025-07``."""
    with serve(create_recorded_app()) as base:
        result = run_cli("--base-url", base, "--key", RECORDED_KEY, *RECORDED_ARGS,
                         "--policy", "2025-07")
    assert result.code == 1, result.err
    port = base.split(":")[2].split("/")[0]
    sample = result.out.replace(f"127.0.0.1:{port}", "127.0.0.1:38949")
    assert "```\n" + sample + "```\n" in README.read_text(encoding="utf-8")
