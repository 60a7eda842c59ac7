"""Helpers shared by the notebook tests (a plain module: test files cannot import a conftest)."""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
BUILDER_PATH = ROOT / "tools" / "build_notebooks.py"
NOTEBOOK_NAMES = ("01-tutorial.ipynb", "02-embed-gallery.ipynb", "03-test-your-app.ipynb")

#: Appended to every executed copy (never to the files): proves which interpreter ran the kernel.
PROBE_SOURCE = "import sys\nprint('KERNEL-EXECUTABLE=' + sys.executable)"
CELL_TIMEOUT_S = 180


@dataclass
class Executed:
    name: str
    nb: object  # nbformat.NotebookNode, outputs filled
    seconds: float

    def cell(self, cell_id: str):
        for cell in self.nb.cells:
            if cell.get("id") == cell_id:
                return cell
        raise KeyError(f"{self.name}: no cell with id {cell_id!r}")

    def stdout(self, cell_id: str) -> str:
        return "".join(
            out.get("text", "")
            for out in self.cell(cell_id).get("outputs", [])
            if out.get("output_type") == "stream" and out.get("name") == "stdout"
        )

    def probe_executable(self) -> str:
        text = "".join(out.get("text", "") for out in self.nb.cells[-1].get("outputs", []))
        for line in text.splitlines():
            if line.startswith("KERNEL-EXECUTABLE="):
                return line.split("=", 1)[1]
        raise AssertionError(f"{self.name}: the probe cell printed nothing")


def load_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("orw_build_notebooks", BUILDER_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def kernel_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "OPENROUTER_API_KEY"}
    # Jupyter writes runtime files under HOME; keep them out of the user's.
    env["JUPYTER_RUNTIME_DIR"] = str(home / "runtime")
    env["IPYTHONDIR"] = str(home / "ipython")
    env["MPLBACKEND"] = "agg"
    return env
