"""Fixtures for the notebook tests: the generator module and notebooks executed once per session.

Each notebook runs in a real kernel (nbclient, kernel ``python3``, whose ``python`` resolves to the
interpreter running pytest: the venv's). The kernel gets no ``OPENROUTER_API_KEY``, so real-key
cells must skip and nothing can reach the real API.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import ModuleType

import pytest

from nbhelpers import (CELL_TIMEOUT_S, NOTEBOOK_DIR, PROBE_SOURCE, Executed, kernel_env,
                       load_builder, nbformat)

nbclient = pytest.importorskip("nbclient")

_TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="session")
def builder() -> ModuleType:
    return load_builder()


@pytest.fixture
def scratch(builder, tmp_path, monkeypatch):
    """The builder pointed at an empty tree under tmp_path; returns a writer of sources."""
    monkeypatch.setattr(builder, "ROOT", tmp_path)
    monkeypatch.setattr(builder, "NOTEBOOK_DIR", tmp_path / "notebooks")
    monkeypatch.setattr(builder, "SOURCE_DIR", tmp_path / "notebooks" / "src")

    def write(lang: str, name: str, text: str):
        path = tmp_path / "notebooks" / "src" / lang / f"{name}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def run_notebook(tmp_path_factory) -> Callable[[str], Executed]:
    cache: dict[str, Executed] = {}
    home = tmp_path_factory.mktemp("nbhome")

    def run(name: str) -> Executed:
        if name not in cache:
            nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
            nb.cells.append(nbformat.v4.new_code_cell(PROBE_SOURCE, id="test-probe"))
            client = nbclient.NotebookClient(
                nb,
                timeout=CELL_TIMEOUT_S,
                kernel_name="python3",
                resources={"metadata": {"path": str((NOTEBOOK_DIR / name).parent)}},
            )
            start = time.perf_counter()
            client.execute(env=kernel_env(home))
            seconds = time.perf_counter() - start
            _TIMINGS[name] = seconds
            cache[name] = Executed(name, nb, seconds)
        return cache[name]

    return run


def pytest_terminal_summary(terminalreporter) -> None:
    if _TIMINGS:
        terminalreporter.section("notebook execution times (nbclient, real kernel)")
        for name, seconds in _TIMINGS.items():
            terminalreporter.write_line(f"{name}: {seconds:.1f} s")
