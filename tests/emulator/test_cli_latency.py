"""``--latency-ms`` and ``parse_latency``: "-5" is minus five milliseconds (refused), not 5."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from orwidgets.emulator import create_app
from orwidgets.emulator.cli import main as cli_main
from orwidgets.emulator.state import parse_latency

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("text", "expected"), [("20-50", (20.0, 50.0)), ("30", (30.0, 30.0)),
                                                ("0", (0.0, 0.0)), (" 20 - 50 ", (20.0, 50.0)),
                                                ("20,50", (20.0, 50.0)), ("0.5", (0.5, 0.5)),
                                                ("1e3", (1000.0, 1000.0))])
def test_ranges_and_single_values_still_parse(text, expected):
    assert parse_latency(text) == expected


@pytest.mark.parametrize("text", ["-5", " -5", "-5-10", "20--5", "-0.5"])
def test_negative_text_is_refused_not_read_as_positive(text):
    with pytest.raises(ValueError) as info:
        parse_latency(text)
    assert str(info.value) == f"latency_ms: must be 0 or more milliseconds, got {text!r}"


@pytest.mark.parametrize("spec", [-5, (-5, 10), [-1, -1]])
def test_negative_numbers_are_refused(spec):
    with pytest.raises(ValueError, match="must be 0 or more milliseconds"):
        parse_latency(spec)


@pytest.mark.parametrize("text", ["fast", "", "5-", "20-50-80", "--5"])
def test_text_that_is_not_one_or_two_numbers_is_refused(text):
    with pytest.raises(ValueError, match=r"expected '30' or '20-50'"):
        parse_latency(text)


def test_create_app_refuses_a_negative_latency_text():
    with pytest.raises(ValueError, match="must be 0 or more"):
        create_app(latency_ms="-5")


# ("--latency-ms -5-10" never reaches us: argparse takes "-5-10" for an option and exits 2.)
@pytest.mark.parametrize("argv", [["--latency-ms", "-5"], ["--latency-ms=-5"],
                                  ["--latency-ms=-5-10"], ["--latency-ms", "-0.5"]])
def test_cli_refuses_a_negative_latency_with_one_line_and_exit_2(argv, capsys):
    assert cli_main([*argv, "--port", "0"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    value = argv[-1].split("=")[-1]
    assert err == (f"orwidgets emulator: --latency-ms: must be 0 or more milliseconds, "
                   f"got {value!r}\n")


def test_cli_as_a_process_exits_2_without_a_traceback():
    proc = subprocess.run([sys.executable, "-m", "orwidgets", "emulator", "--latency-ms", "-5",
                           "--port", "0"], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        "orwidgets emulator: --latency-ms: must be 0 or more milliseconds, got '-5'"]
