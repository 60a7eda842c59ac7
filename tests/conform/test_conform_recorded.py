"""conform against a "recorded OpenRouter": real 2026 captures replayed on loopback.

What it finds about today's emulator is written in the README (findings against recorded
captures of 2026-10, not a live run); these tests hold what stays true while the emulator
catches up: the captures themselves, and that their statuses and message templates match.
"""

from __future__ import annotations

import json

import pytest
from conform_support import run_cli, serve
from recorded_openrouter import CAPTURES, RECORDED_KEY, capture, create_recorded_app

PLAN_IDS = ["models", "key", "chat_no_key", "chat_unknown_model", "chat_free", "chat_paid"]


@pytest.fixture(scope="module")
def recorded_report():
    with serve(create_recorded_app()) as base:
        result = run_cli("--base-url", base, "--key", RECORDED_KEY, "--policy", "current",
                         "--credits", "--max-calls", "7", "--json")
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
