"""binder/ agrees with pyproject.toml, with the venv the browser tests ran, and with the notebooks."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import re

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from nbhelpers import NOTEBOOK_DIR, NOTEBOOK_NAMES, ROOT, nbformat

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

BINDER = ROOT / "binder"

#: Packages whose Python side must match a JavaScript side shipped in a wheel: a mismatch breaks
#: widget rendering in JupyterLab or Voila, so Binder must get what the browser tests verified.
FRONTEND_COUPLED = ("jupyterlab", "ipywidgets", "jupyterlab_widgets", "plotly", "anywidget", "voila")


def _pins() -> dict[str, Version]:
    pins = {}
    for line in (BINDER / "requirements.txt").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or line == ".":
            continue
        req = Requirement(line)
        (spec,) = req.specifier  # exactly one clause
        assert spec.operator == "==", f"binder pin must be exact: {line!r}"
        pins[canonicalize_name(req.name)] = Version(spec.version)
    return pins


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _runtime_requirements() -> list[Requirement]:
    project = _pyproject()["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    reqs += [Requirement(r) for r in project["optional-dependencies"].get("lab", [])]
    return [r for r in reqs if canonicalize_name(r.name) != "orwidgets"]


def test_runtime_pins_python_312_which_pyproject_allows():
    runtime = (BINDER / "runtime.txt").read_text().strip()
    assert runtime == "python-3.12"
    requires = SpecifierSet(_pyproject()["project"]["requires-python"])
    assert Version("3.12") in requires


def test_requirements_install_the_package_from_the_repo_root():
    lines = [line.strip() for line in (BINDER / "requirements.txt").read_text().splitlines()]
    assert "." in lines


def test_binder_uses_only_requirements_and_runtime():
    # A Dockerfile or environment.yml would take precedence over requirements.txt in repo2docker.
    shadowing = {"Dockerfile", "environment.yml", "Pipfile", "Project.toml", "default.nix"}
    assert not shadowing & {p.name for p in BINDER.iterdir()}
    assert not (ROOT / ".binder").exists(), "binder/ and .binder/ must not both exist"


@pytest.mark.parametrize("req", _runtime_requirements(), ids=lambda r: r.name)
def test_every_runtime_dependency_is_pinned_within_pyproject_range(req):
    pins = _pins()
    name = canonicalize_name(req.name)
    assert name in pins, f"{req.name} is a dependency in pyproject.toml but not pinned in binder/"
    assert req.specifier.contains(pins[name], prereleases=True), (
        f"binder pins {req.name}=={pins[name]}, outside pyproject's {req.specifier}"
    )


@pytest.mark.parametrize("name", FRONTEND_COUPLED)
def test_frontend_coupled_pin_equals_the_tested_install(name):
    try:
        installed = Version(metadata.version(name))
    except metadata.PackageNotFoundError:
        pytest.skip(f"{name} is not installed here")
    assert _pins()[canonicalize_name(name)] == installed


def test_pinned_jupyterlab_widgets_satisfies_pinned_ipywidgets():
    pins = _pins()
    if Version(metadata.version("ipywidgets")) != pins["ipywidgets"]:
        pytest.skip("installed ipywidgets differs from the pin; its metadata says nothing about it")
    for line in metadata.requires("ipywidgets") or []:
        req = Requirement(line)
        if canonicalize_name(req.name) == "jupyterlab-widgets" and req.marker is None:
            assert req.specifier.contains(pins["jupyterlab-widgets"])
            return
    pytest.fail("ipywidgets declares no jupyterlab_widgets requirement")


def _imported_top_modules() -> set[str]:
    modules = set()
    for name in NOTEBOOK_NAMES:
        nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.Import):
                    modules.update(a.name.split(".")[0] for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    modules.add(node.module.split(".")[0])
    return modules


def test_every_third_party_module_a_notebook_imports_is_pinned_for_binder():
    pins = _pins()
    import sys

    third_party = {
        m for m in _imported_top_modules() if m not in sys.stdlib_module_names and m != "orwidgets"
    }
    distributions = metadata.packages_distributions()
    for module in sorted(third_party):
        dists = {canonicalize_name(d) for d in distributions.get(module, [module])}
        assert dists & set(pins), f"notebooks import {module!r}, which binder/ does not pin"


def test_voila_server_extension_ships_enabled_in_its_wheel():
    # The Binder "open as a Voila app" link needs voila's server extension on; the voila wheel
    # enables it through a jupyter_server_config.d file, so no postBuild step is needed.
    files = metadata.files("voila") or []
    configs = [f for f in files if re.search(r"jupyter_server_config\.d/voila\.json$", str(f))]
    assert configs, "voila's wheel no longer enables its server extension: add a postBuild"


def test_voila_renders_progressively_from_the_repository_root():
    # Voila (standalone from `make voila`, or the server extension Binder's urlpath=voila/...
    # opens) reads voila.json from the working directory, the repository root. Progressive
    # rendering makes the FigureWidgets arrive one cell at a time; all at once, anywidget's fixed
    # 2 s to load plotly's module is too short for some (tests/browser shows it).
    import json

    # Notebook 7's JupyterLab extension (Binder's image has it; the test extra too) and jupytext's
    # (the lab extra opens the MyST sources with it) cannot load in Voila and only throw there.
    config = json.loads((ROOT / "voila.json").read_text())
    assert config == {"VoilaConfiguration": {
        "progressive_rendering": True,
        "extension_denylist": ["@jupyter-notebook/lab-extension", "jupyterlab-jupytext"],
    }}
