"""``orwidgets emulator --journal FILE`` / ``--no-journal``: the file an app in any language is
judged by, written line by line while the server runs, closed on exit; and bad paths refused."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from orwidgets.emulator import DEFAULT_FREE_MODEL
from orwidgets.emulator.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "cli-journal-token"
KEY = "sk-or-v1-" + "0" * 62 + "c1"


def emulator(*args: str) -> tuple[subprocess.Popen, str]:
    """``orwidgets emulator --port 0 ...`` as a process; returns it and its base URL."""
    proc = subprocess.Popen([sys.executable, "-m", "orwidgets", "emulator", "--port", "0",
                             "--latency-ms", "0", "--admin-token", ADMIN, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    banner = []
    for line in proc.stdout:  # type: ignore[union-attr]
        banner.append(line)
        if line.startswith("Ctrl+C"):
            break
    base = next(line.split()[-1] for line in banner if "base URL" in line)
    proc.banner = "".join(banner)  # type: ignore[attr-defined]
    return proc, base


def stop(proc: subprocess.Popen) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, err


def curl_chat(base: str, key: str, times: int) -> list[str]:
    """A client in another language: curl, one call after another, never waiting."""
    body = json.dumps({"model": DEFAULT_FREE_MODEL, "messages": [{"role": "user", "content": "hi"}]})
    codes = []
    for _ in range(times):
        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                              base + "/api/v1/chat/completions", "-H", f"Authorization: Bearer {key}",
                              "-H", "Content-Type: application/json", "-d", body],
                             capture_output=True, text=True, check=True, timeout=30)
        codes.append(out.stdout)
    return codes


needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


# --- refused before anything starts -------------------------------------------------------------


@pytest.mark.parametrize(("where", "why"), [("missing/dir/journal.jsonl", "No such file or directory"),
                                            (".", "Is a directory")])
def test_a_journal_path_that_cannot_be_written_is_one_line_and_exit_2(tmp_path, capsys, where, why):
    path = tmp_path / where
    assert cli_main(["--port", "0", "--journal", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"orwidgets emulator: --journal: cannot write {path}: {why}\n"


def test_the_process_says_so_without_a_traceback(tmp_path):
    out = subprocess.run([sys.executable, "-m", "orwidgets", "emulator", "--journal",
                          str(tmp_path / "nowhere" / "j.jsonl")], capture_output=True, text=True,
                         cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert out.returncode == 2
    assert out.stderr.startswith("orwidgets emulator: --journal: cannot write ")
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def test_journal_and_no_journal_together_are_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        cli_main(["--journal", "j.jsonl", "--no-journal"])
    assert info.value.code == 2
    assert "argument --no-journal: not allowed with argument --journal" in capsys.readouterr().err


# --- a run -------------------------------------------------------------------------------------


@needs_curl
def test_the_file_grows_line_by_line_and_the_verdicts_agree(tmp_path):
    path = tmp_path / "journal.jsonl"
    accounts = tmp_path / "keys.json"
    accounts.write_text(json.dumps([{"name": "ci", "key": KEY}]))
    proc, base = emulator("--accounts", str(accounts), "--journal", str(path))
    try:
        assert f"journal      in memory and in {path}: GET /_emulator/journal" in proc.banner
        admin = {"X-Admin-Token": ADMIN}
        httpx.post(base + "/_emulator/clock", json={"now": "2026-01-01T12:00:00Z"}, headers=admin)
        assert curl_chat(base, KEY, 3) == ["200"] * 3
        assert len(path.read_text().splitlines()) == 3  # flushed as written, the server still up
        assert curl_chat(base, KEY, 20) == ["200"] * 17 + ["429"] * 3
        assert len(path.read_text().splitlines()) == 23
        served = httpx.get(base + "/_emulator/verdict", headers=admin).json()
    finally:
        code, err = stop(proc)
    assert (code, err) == (0, "")
    judged = subprocess.run([sys.executable, "-m", "orwidgets", "verdict", "--json", str(path)],
                            capture_output=True, text=True, cwd=ROOT, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert judged.returncode == 1
    assert json.loads(judged.stdout) == {"file": str(path), **served}
    assert [f["rule"] for f in served["findings"]] == ["retry-before-reset"]
    assert served["findings"][0]["count"] == 2


def test_no_journal_keeps_none(tmp_path):
    proc, base = emulator("--no-journal")
    try:
        assert "journal      off (--no-journal)" in proc.banner
        r = httpx.get(base + "/_emulator/journal", headers={"X-Admin-Token": ADMIN})
        assert r.status_code == 404
    finally:
        assert stop(proc)[0] == 0


def test_without_a_file_the_journal_is_in_memory(tmp_path):
    proc, base = emulator()
    try:
        assert "journal      in memory: GET /_emulator/journal, GET /_emulator/verdict" in proc.banner
        httpx.get(base + "/api/v1/models")
        body = httpx.get(base + "/_emulator/journal", headers={"X-Admin-Token": ADMIN}).json()
        assert [(e["path"], e["status"]) for e in body["data"]] == [("/api/v1/models", 200)]
    finally:
        assert stop(proc)[0] == 0
