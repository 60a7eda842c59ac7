"""``orwidgets verdict FILE``: the report, ``--json``, and exit 0 / 1 / 2 without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from orwidgets.__main__ import main
from orwidgets.engine import minute_reset_ms

T0 = 1_767_268_800.0  # 2026-01-01T12:00:00Z
FREE = "meta-llama/llama-3.3-70b-instruct:free"


def line(t: float, status: int = 200, cls: str = "ok", key_id: str = "a1", **extra) -> str:
    obj = {"time": T0 + t, "key": "sk-or-v1-abc...xyz", "key_id": key_id, "model": FREE,
           "status": status, "class": cls, **extra}
    return json.dumps(obj)


def hammering() -> list[str]:
    reset = minute_reset_ms(T0 + 20)
    return [line(0)] + [line(20 + i, 429, "free_per_minute", rate_limit_reset=reset) for i in range(3)]


def write(tmp_path, lines: list[str]):
    path = tmp_path / "journal.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_clean_journal_exits_0_with_a_report(tmp_path, capsys):
    path = write(tmp_path, [line(0), line(1, key_id="b2")])
    assert main(["verdict", str(path)]) == 0
    out = capsys.readouterr().out
    assert out == (f"orwidgets verdict: {path}: 2 calls from 2 keys\n"
                   "no findings: the client respected every limit the verdict checks\n")


def test_findings_exit_1_and_are_listed(tmp_path, capsys):
    path = write(tmp_path, hammering())
    assert main(["verdict", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"orwidgets verdict: {path}: 4 calls from 1 key"
    assert out[1] == "1 finding:"
    assert out[2].startswith("1. [retry-before-reset] key sk-or-v1-abc...xyz: sent 2 more "
                             "free-model requests within 2.0 s of a per-minute 429")
    assert len(out) == 3 + 3  # the 429 and the two requests after it


def test_show_limits_the_calls_listed(tmp_path, capsys):
    assert main(["verdict", "--show", "1", str(write(tmp_path, hammering()))]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "     ... and 2 more"


def test_json_output(tmp_path, capsys):
    path = write(tmp_path, hammering())
    assert main(["verdict", "--json", str(path)]) == 1
    data = json.loads(capsys.readouterr().out)
    assert (data["file"], data["calls"], data["keys"]) == (str(path), 4, 1)
    [finding] = data["findings"]
    assert (finding["rule"], finding["count"], len(finding["calls"])) == ("retry-before-reset", 2, 3)
    assert finding["calls"][0]["class"] == "free_per_minute"


def test_stdin(monkeypatch, capsys):
    import io

    data = ("\n".join(hammering()) + "\n").encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert main(["verdict", "-"]) == 1
    assert capsys.readouterr().out.startswith("orwidgets verdict: -: 4 calls from 1 key")


@pytest.mark.parametrize(("content", "message"), [
    (None, "orwidgets verdict: {path}: no such file"),
    ('{"time": 1, "status": 200, "class": "ok"}\n{"time": 2, "status":\n',
     "orwidgets verdict: {path}, line 2: not valid JSON (Expecting value, column 22)"),
    ('{"time": 1, "status": 200, "class": "ok"}\n{"time": 2}\n',
     "orwidgets verdict: {path}, line 2: 'status' is missing"),
])
def test_bad_input_exits_2_with_one_line_and_no_traceback(tmp_path, content, message):
    path = tmp_path / "journal.jsonl"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "orwidgets", "verdict", str(path)],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr == message.format(path=path) + "\n"
    assert run.stdout == ""


def test_a_directory_and_a_negative_show_exit_2(tmp_path, capsys):
    assert main(["verdict", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"orwidgets verdict: {tmp_path}: is a directory, not a journal file\n"
    assert main(["verdict", "--show", "-1", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "orwidgets verdict: --show: expected a whole number >= 0\n"


def test_no_file_is_a_usage_error():
    run = subprocess.run([sys.executable, "-m", "orwidgets", "verdict"], capture_output=True, text=True)
    assert run.returncode == 2
    assert "the following arguments are required: FILE" in run.stderr
    assert "Traceback" not in run.stderr


def test_orwidgets_help_lists_the_command():
    run = subprocess.run([sys.executable, "-m", "orwidgets", "--help"], capture_output=True, text=True)
    assert run.returncode == 0
    assert "verdict    judge a client from the emulator's journal (JSON lines)" in run.stdout
    assert "orwidgets verdict [-h] [--json] [--show N] [--lang LANG] FILE" in run.stdout
