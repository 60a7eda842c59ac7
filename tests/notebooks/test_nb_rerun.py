"""The tutorial survives what a reader does: play with LiveCalls, then Run All again (same kernel).

LiveCalls' scenarios create accounts through the emulator's admin API and move its clock; the
tutorial's cells must still run (a browser test found a cell that did not)."""

from __future__ import annotations

import copy
import os

import nbformat
import pytest
from nbclient import NotebookClient

from nbhelpers import CELL_TIMEOUT_S, NOTEBOOK_DIR

pytestmark = pytest.mark.slow

PLAY = """
from orwidgets import LiveCalls
played = LiveCalls(emu)
for preset in ("21 free calls in one minute", "paid burst above your RPS"):
    played.run(preset, wait=True, timeout=60)
print("PLAYED", played._status.value)
"""


def test_tutorial_runs_again_after_livecalls_scenarios():
    nb = nbformat.read(NOTEBOOK_DIR / "01-tutorial.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    play = nbformat.v4.new_code_cell(PLAY)
    nb.cells = copy.deepcopy(code) + [play] + copy.deepcopy(code)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i}"
    env_key = os.environ.pop("OPENROUTER_API_KEY", None)
    try:
        NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(NOTEBOOK_DIR)}}).execute()
    finally:
        if env_key is not None:
            os.environ["OPENROUTER_API_KEY"] = env_key
    errors = [(i, o["ename"], o["evalue"]) for i, c in enumerate(nb.cells)
              for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert errors == []
    played = "".join(o.get("text", "") for o in nb.cells[len(code)].outputs)
    assert "PLAYED" in played and "done" in played
