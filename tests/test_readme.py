"""The README says true things: its curl examples succeed against the emulator, its links resolve,
and it agrees with the tutorial (see also tests/notebooks for its Python examples)."""

from __future__ import annotations

import asyncio
import re
import shlex
from pathlib import Path

import httpx
import pytest

from orwidgets import policy
from orwidgets.emulator import create_app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
ADMIN = "readme-admin-token"


def _curl_block() -> str:
    section = README.split("### With `curl`", 1)[1]
    (block,) = re.findall(r"```bash\n(.*?)```", section, flags=re.S)[:1]
    return block


def _key_variables(block: str) -> dict[str, str]:
    """``KEY=sk-or-v1-...  # the `free` key ...`` -> {"KEY": "free"}: which demo key each is."""
    return dict(re.findall(r"^(\w+)=sk-or-v1-\.\.\.\s+# the `(\w+)` key", block, flags=re.M))


def _curl_commands(block: str) -> list[list[str]]:
    joined = re.sub(r"\\\n\s*", " ", block)
    return [shlex.split(line) for line in joined.splitlines() if line.startswith("curl ")]


def _as_request(argv: list[str], values: dict[str, str]) -> tuple[str, str, dict[str, str], str | None]:
    method, url, headers, body = None, None, {}, None
    args = iter(argv[1:])
    for arg in args:
        if arg == "-X":
            method = next(args)
        elif arg == "-H":
            name, value = next(args).split(":", 1)
            headers[name.strip()] = value.strip()
        elif arg == "-d":
            body = next(args)
        elif arg.startswith("-"):
            assert set(arg[1:]) <= set("sN"), f"flag {arg} not understood by this test"
        else:
            url = arg
    assert url is not None and url.startswith("$BASE/"), argv

    def fill(text: str) -> str:
        return re.sub(r"\$(\w+)", lambda m: values[m.group(1)], text)

    headers = {k: fill(v) for k, v in headers.items()}
    return method or ("POST" if body is not None else "GET"), fill(url[len("$BASE"):]), headers, body


def test_readme_curl_examples_all_succeed_against_the_emulator():
    block = _curl_block()
    names = _key_variables(block)
    assert names.get("KEY") == "free" and "PAID" in names, names
    app = create_app(latency_ms=0, admin_token=ADMIN)
    keys = app.state.emulator.demo_keys
    values = {"ADMIN": ADMIN, **{var: keys[name] for var, name in names.items()}}
    commands = _curl_commands(block)
    assert len(commands) >= 11

    async def run() -> list[tuple[str, int, str]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
            answers = []
            for argv in commands:
                method, path, headers, body = _as_request(argv, values)
                r = await client.request(method, path, headers=headers, content=body)
                if method == "POST" and path == "/api/v1/keys" and r.status_code == 201:
                    values["HASH"] = r.json()["data"]["hash"]  # what the README tells you to copy
                answers.append((f"{method} {path} {body or ''}", r.status_code,
                                r.headers.get("content-type", "")))
            return answers

    answers = asyncio.run(run())
    failed = [a for a in answers if a[1] >= 400]
    assert failed == [], "README curl examples that fail against the emulator"
    streamed = [a for a in answers if '"stream": true' in a[0]]
    assert streamed and all(a[2].startswith("text/event-stream") for a in streamed), streamed


def test_readme_streaming_example_uses_a_key_that_can_pay():
    block = _curl_block()
    names = _key_variables(block)
    for argv in _curl_commands(block):
        if any('"stream": true' in a for a in argv):
            bearer = next(a for a in argv if a.startswith("Authorization: Bearer $"))
            account = names[bearer.rsplit("$", 1)[1]]
            assert account == "topped_up", f"the streaming example uses the {account!r} key"


# --- links and agreement with the tutorial ----------------------------------------------------------


def _relative_links(text: str) -> list[str]:
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    return [link.split("#")[0] for link in links if not re.match(r"[a-z]+:", link)]


@pytest.mark.parametrize("doc", ["README.md", "docs/article.md"])
def test_every_relative_link_resolves(doc):
    path = ROOT / doc
    missing = [link for link in _relative_links(path.read_text(encoding="utf-8"))
               if link and not (path.parent / link).exists()]
    assert missing == []


def test_readme_points_to_the_description_of_the_article():
    assert "](docs/article.md)" in README


def test_readme_counts_the_kinds_of_429_as_the_tutorial_does():
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / "01-tutorial.ipynb", as_version=4)
    (cell,) = [c for c in nb.cells if c.id == "three-429s"]
    word = re.search(r"^## 7\. (\w+) kinds of `429`", cell.source, flags=re.M).group(1)
    assert f"the {word.lower()} kinds of `429`" in README


def test_readme_lists_every_dated_policy_version():
    for version in policy.POLICIES.values():
        assert f"| `{version.id}`" in README, version.id
        assert version.in_force_text in README, version.id
    assert "holds four dated versions" in README and len(policy.POLICIES) == 4


# --- Test your app: the pytest example and the app in another language --------------------------

pytest_plugins = ["pytester"]


def _section(title: str) -> str:
    return README.split(title, 1)[1].split("\n## ", 1)[0]


def _block(text: str, lang: str) -> str:
    (block,) = re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)[:1]
    return block


_MY_APP = '''
FREE = "meta-llama/llama-3.3-70b-instruct:free"

def summarise(client, text):
    {body}
'''
_WAITS = "return client.chat.completions.create(model=FREE, messages=[{'role': 'user', 'content': text}])"
_HAMMERS = """import openai
    for _ in range(3):  # at once, whatever the answer said
        try:
            return client.chat.completions.create(model=FREE, messages=[{'role': 'user', 'content': text}])
        except openai.RateLimitError:
            pass"""


@pytest.mark.parametrize(("app", "outcome"), [(_WAITS, "passed"), (_HAMMERS, "failed")])
def test_readme_pytest_example_runs_as_it_stands(pytester: pytest.Pytester, app, outcome):
    example = _block(_section("## Test your app: the pytest plugin"), "python")
    assert len(example.strip().splitlines()) <= 12  # "in ten lines", give or take the imports
    pytester.makepyfile(my_app=_MY_APP.format(body=app))
    pytester.makepyfile(test_example="import my_app\n" + example)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(**{outcome: 1})
    if outcome == "failed":
        result.stdout.fnmatch_lines([
            "*[[]retry-before-retry-after] key sk-or-v1-*: sent 2 more requests to "
            "meta-llama/llama-3.3-70b-instruct:free within 0 s of a 429 (upstream_429) whose "
            "Retry-After asked to wait 15 s*"])


def test_readme_app_in_another_language_is_judged_as_it_says(tmp_path):
    import os
    import shutil
    import socket
    import subprocess
    import sys

    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    script = _block(README.split("**From an app in another language**", 1)[1], "bash")
    with socket.socket() as probe:  # the README's port may be taken on a shared machine
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bin_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    run = subprocess.run(["bash", "-c", script.replace("8787", str(port))], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 1, run.stderr  # `orwidgets verdict` found something
    lines = run.stdout.splitlines()
    assert lines[0] == "orwidgets verdict: journal.jsonl: 24 calls from 2 keys"  # + GET /models
    assert lines[1] == "1 finding:"
    assert lines[2].startswith("1. [retry-before-reset] key sk-or-v1-not...emo: sent 2 more "
                               "free-model requests within ")
    assert len((tmp_path / "journal.jsonl").read_text().splitlines()) == 24
