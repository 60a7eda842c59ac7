"""The notebooks' optional real-API cells offer ``orwidgets conform`` (issue #14, point 4).

Each ``real-key-code`` cell, as built into ``notebooks/*.ipynb``, runs in a real kernel whose
environment holds a key, with ``orwidgets.client.OPENROUTER_API_BASE`` pointed at the recorded
OpenRouter on loopback (behind a proxy that counts requests): first as committed (no opt-in:
it reads ``GET /key``, describes the plan and sends nothing more), then opted in (the reader's
``RUN_CONFORM = True``: the plan runs and the report is displayed), then without the key (it
skips). Proxy variables point at a closed port, so anything that tried to leave loopback would fail.
No output may contain the key.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conform_support import SECRET, Proxy, serve
from recorded_openrouter import create_recorded_app

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
OPT_OUT = "RUN_CONFORM = False"
OPT_IN = "RUN_CONFORM = True"
#: The plan without --credits: the six probes, each one request to the target.
PLAN_PATHS = ["/api/v1/models", "/api/v1/key", "/api/v1/chat/completions",
              "/api/v1/chat/completions", "/api/v1/chat/completions", "/api/v1/chat/completions"]


def real_key_source(notebook: str) -> str:
    nb = nbformat.read(NOTEBOOKS / notebook, as_version=4)
    (cell,) = [c for c in nb.cells if c.get("id") == "real-key-code"]
    assert cell.source.count(OPT_OUT) == 1, "the opt-in must be one line the reader changes"
    return cell.source


def outputs_text(cell) -> str:
    """Everything a cell showed: streams, displayed data of every type, errors."""
    return json.dumps(cell.get("outputs", []), ensure_ascii=False)


def stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")


def errors(nb) -> list[str]:
    return [f"{o.get('ename')}: {o.get('evalue')}" for c in nb.cells for o in c.get("outputs", [])
            if o.get("output_type") == "error"]


@pytest.fixture
def target():
    """The recorded OpenRouter behind a counting proxy, on loopback: (API base, proxy)."""
    proxy = Proxy(create_recorded_app())
    with serve(proxy) as base:
        yield base, proxy


def run_cells(sources: list[str], tmp_path: Path, key: str) -> object:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src, id=f"cell-{i}") for i, src in enumerate(sources)]
    env = {k: v for k, v in os.environ.items()
           if k.upper() not in {"OPENROUTER_API_KEY", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                                "NO_PROXY"}}
    env.update({
        "OPENROUTER_API_KEY": key,
        # Anything that tried to leave loopback would meet a closed port.
        "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
        "ALL_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1,localhost",
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "IPYTHONDIR": str(tmp_path / "ipython"),
    })
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env)
    return nb


@pytest.mark.parametrize("notebook", ["01-tutorial.ipynb", "03-test-your-app.ipynb"])
def test_the_real_key_cell_runs_conform_only_after_the_opt_in(notebook, target, tmp_path):
    base, proxy = target
    source = real_key_source(notebook)
    nb = run_cells([
        f"import orwidgets.client\norwidgets.client.OPENROUTER_API_BASE = {base!r}",
        source,
        source.replace(OPT_OUT, OPT_IN),
        "import os\nos.environ.pop('OPENROUTER_API_KEY')\nprint('key gone')",
        source,
    ], tmp_path, SECRET)
    assert errors(nb) == []
    as_committed, opted_in, no_key = nb.cells[1], nb.cells[2], nb.cells[4]

    # As committed (a key, no opt-in): GET /key, then the plan and its cost, and nothing sent.
    said = stdout(as_committed)
    assert "'remaining': 998" in said  # the recorded GET /key's free_model_daily_requests
    assert "will send 6 requests to " + base in said
    assert "Cost: one free-model request of today's quota; no credits." in said
    assert "Not sent. To compare, set RUN_CONFORM = True in this cell and run it again." in said
    assert [s.path for s in proxy.seen[:1]] == ["/api/v1/key"]

    # Opted in: GET /key again, then the plan (one request a probe); the report is displayed.
    assert [s.path for s in proxy.seen] == ["/api/v1/key", "/api/v1/key", *PLAN_PATHS]
    shown = [o for o in opted_in.get("outputs", []) if o.get("output_type") == "display_data"]
    assert len(shown) == 1
    html = shown[0]["data"]["text/html"]
    assert f"No difference: the emulator (2026-08) answers like {base} on 6 probes." in html
    assert "exit_code=0" in shown[0]["data"]["text/plain"]

    # Without a key: one clear line, and nothing more sent.
    assert stdout(no_key).startswith("Skipped: OPENROUTER_API_KEY is not set")
    assert len(proxy.seen) == 2 + len(PLAN_PATHS)
    assert "free_model_daily_requests" not in stdout(no_key)

    for cell in nb.cells:
        assert SECRET not in outputs_text(cell)
