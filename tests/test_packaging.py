"""Ready to publish: the sdist and wheel build, pass ``twine check``, and the wheel works installed.

How the clean venv gets its dependencies without the internet: the wheel goes in with
``pip install --no-deps --no-index`` (pip of this test venv, run against the clean interpreter
with ``--python``), and a ``.pth`` file in the clean venv adds a folder of symbolic links to every
entry of this venv's site-packages **except orwidgets' own** (its editable ``.pth`` and its
``dist-info``). So the dependencies are the same files the suite runs with, nothing is
downloaded, and the only orwidgets the clean venv can import, or whose entry points (the
``orwidgets`` command, the ``pytest11`` plugin) it can find, is the one from the built wheel: the
test checks exactly that before it runs the CLI, imports every widget and runs a small pytest
project that uses the plugin's fixtures.
"""

from __future__ import annotations

import gettext
import io
import os
import pathlib
import subprocess
import sys
import sysconfig
import tarfile
import textwrap
import zipfile

import pytest

import orwidgets
from orwidgets.i18n import DEFAULT_LANGUAGE, LANGUAGES

TRANSLATED = [lang for lang in LANGUAGES if lang != DEFAULT_LANGUAGE]
ROOT = pathlib.Path(__file__).resolve().parents[1]
VERSION = orwidgets.__version__

pytestmark = pytest.mark.slow


def _run(*args: str | os.PathLike, cwd: os.PathLike | None = None, env: dict | None = None,
         check: bool = True) -> subprocess.CompletedProcess:
    run = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=300)
    if check and run.returncode != 0:
        pytest.fail(f"{' '.join(map(str, args))} exited {run.returncode}\n{run.stdout}\n{run.stderr}")
    return run


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """``python -m build`` (sdist, then the wheel built from that sdist), offline."""
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT)
    return out


def _only(folder: pathlib.Path, pattern: str) -> pathlib.Path:
    [path] = folder.glob(pattern)
    return path


def test_twine_accepts_both(dist):
    run = _run(sys.executable, "-m", "twine", "check", "--strict", *sorted(dist.iterdir()))
    assert run.stdout.count("PASSED") == 2


def test_the_wheel_holds_the_package_its_entry_points_and_license(dist):
    wheel = _only(dist, f"orwidgets-{VERSION}-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        info = f"orwidgets-{VERSION}.dist-info"
        entry_points = zf.read(f"{info}/entry_points.txt").decode()
        metadata = zf.read(f"{info}/METADATA").decode()
    assert "orwidgets/py.typed" in names
    assert "orwidgets/pytest_plugin.py" in names and "orwidgets/journal.py" in names
    assert f"{info}/licenses/LICENSE" in names
    assert {n.split("/")[0] for n in names} == {"orwidgets", info}  # no tests/, notebooks/, ...
    assert not [n for n in names if n.endswith(".pyc")]
    assert "[pytest11]\norwidgets = orwidgets.pytest_plugin" in entry_points
    assert "[console_scripts]\norwidgets = orwidgets.__main__:main" in entry_points
    assert f"\nVersion: {VERSION}\n" in metadata
    assert "\nLicense-Expression: BSD-3-Clause\n" in metadata


def test_the_sdist_holds_what_a_source_build_needs(dist):
    sdist = _only(dist, f"orwidgets-{VERSION}.tar.gz")
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    assert {"README.md", "LICENSE", "pyproject.toml", "PKG-INFO", "orwidgets/__init__.py",
            "orwidgets/_version.py", "orwidgets/py.typed"} <= names
    assert not [n for n in names if n.startswith(("tests/", "notebooks/", "benchmarks/"))]
    # what a wheel built from it needs to compile the translations: the hook and the catalogues
    assert {"hatch_build.py", "babel.cfg", "orwidgets/locale/orwidgets.pot",
            *(f"orwidgets/locale/{lang}/LC_MESSAGES/orwidgets.po" for lang in TRANSLATED)} <= names
    assert not [n for n in names if n.endswith(".mo")]  # build products, made from the .po


def _po_translation(lang: str, msgid: str) -> str:
    """``msgid``'s translation as the checkout's catalogue has it (read with Babel)."""
    from babel.messages.pofile import read_po

    with (ROOT / "orwidgets" / "locale" / lang / "LC_MESSAGES" / "orwidgets.po").open("rb") as f:
        return read_po(f, locale=lang).get(msgid).string


def test_the_wheel_carries_the_compiled_catalogues_and_not_their_sources(dist):
    wheel = _only(dist, f"orwidgets-{VERSION}-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        compiled = {lang: gettext.GNUTranslations(io.BytesIO(
            zf.read(f"orwidgets/locale/{lang}/LC_MESSAGES/orwidgets.mo"))) for lang in TRANSLATED}
    assert [n for n in names if "/locale/" in n] == sorted(
        f"orwidgets/locale/{lang}/LC_MESSAGES/orwidgets.mo" for lang in TRANSLATED)
    for lang, catalogue in compiled.items():
        assert catalogue.gettext("paid RPS") == _po_translation(lang, "paid RPS") != "paid RPS"


def _venv_with_our_dependencies(root: pathlib.Path) -> pathlib.Path:
    """A venv under ``root`` whose dependencies are this venv's files, orwidgets' own excepted."""
    venv = root / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    site = pathlib.Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
                        .stdout.strip())
    deps = root / "deps"
    deps.mkdir()
    ours = ("orwidgets", "_editable_impl_orwidgets", "__editable__.orwidgets", "_orwidgets")
    for folder in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}:
        for entry in os.scandir(folder):
            if not entry.name.startswith(ours) and not (deps / entry.name).exists():
                (deps / entry.name).symlink_to(entry.path)
    (site / "_orwidgets_test_dependencies.pth").write_text(f"{deps}\n", encoding="utf-8")
    return venv


@pytest.fixture(scope="module")
def clean_venv(dist, tmp_path_factory) -> pathlib.Path:
    """A venv with the built wheel installed (not editable); dependencies as the module says."""
    venv = _venv_with_our_dependencies(tmp_path_factory.mktemp("clean"))
    wheel = _only(dist, "*.whl")
    _run(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--no-deps",
         "--no-index", "--no-cache-dir", "--quiet", wheel)
    return venv


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def test_the_clean_venv_sees_only_the_wheels_orwidgets(clean_venv, tmp_path):
    code = textwrap.dedent("""
        import importlib.metadata as md, json, orwidgets
        dists = [d for d in md.distributions() if d.metadata["Name"] == "orwidgets"]
        plugins = [ep.value for ep in md.entry_points(group="pytest11") if ep.name == "orwidgets"]
        print(json.dumps([orwidgets.__file__, orwidgets.__version__, len(dists), plugins]))
    """)
    run = _run(clean_venv / "bin" / "python", "-c", code, cwd=tmp_path, env=_clean_env())
    path, version, count, plugins = __import__("json").loads(run.stdout)
    assert path.startswith(str(clean_venv)) and path.endswith("site-packages/orwidgets/__init__.py")
    assert (version, count, plugins) == (VERSION, 1, ["orwidgets.pytest_plugin"])


def test_the_installed_cli_runs(clean_venv, tmp_path):
    cli = clean_venv / "bin" / "orwidgets"
    top = _run(cli, "--help", cwd=tmp_path, env=_clean_env())
    assert "orwidgets emulator" in top.stdout and "orwidgets verdict" in top.stdout
    emulator = _run(cli, "emulator", "--help", cwd=tmp_path, env=_clean_env())
    assert emulator.stdout.startswith("usage: orwidgets emulator")


def test_every_widget_imports_from_the_wheel(clean_venv, tmp_path):
    code = textwrap.dedent("""
        import orwidgets.widgets as widgets
        for name in widgets.__all__:
            getattr(widgets, name)
        print(len(widgets.__all__), widgets.__file__)
    """)
    run = _run(clean_venv / "bin" / "python", "-c", code, cwd=tmp_path, env=_clean_env())
    count, path = run.stdout.split()
    assert int(count) >= 8 and path.startswith(str(clean_venv))


def test_a_small_project_uses_the_plugin_from_the_wheel(clean_venv, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\naddopts = --strict-markers -p no:cacheprovider\n")
    (project / "test_app.py").write_text(textwrap.dedent("""
        import httpx
        import openai
        import pytest

        FREE = "meta-llama/llama-3.3-70b-instruct:free"

        @pytest.mark.openrouter(policy="2026-08",
                                accounts=[{"name": "rich", "balance_usd": 50, "purchased_usd": 50}])
        def test_openai_sdk_without_arguments(openrouter_env):
            reply = openai.OpenAI(max_retries=0).chat.completions.create(
                model=FREE, messages=[{"role": "user", "content": "hi"}])
            assert reply.choices[0].message.content
            assert openrouter_env.policy == "2026-08" and "rich" in openrouter_env.keys

        def test_the_21st_free_call_in_a_minute(openrouter_emulator):
            emu = openrouter_emulator
            emu.clock.set(1767268800)  # the start of a minute: all 21 calls land in it
            headers = {"Authorization": "Bearer " + emu.keys["free"]}
            body = {"model": FREE, "messages": [{"role": "user", "content": "hi"}]}
            codes = [httpx.post(emu.api_base + "/chat/completions", headers=headers, json=body)
                     .status_code for _ in range(21)]
            assert codes == [200] * 20 + [429]
    """))
    run = _run(clean_venv / "bin" / "python", "-m", "pytest", "-v", cwd=project, env=_clean_env(),
               check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"orwidgets-{VERSION}" in run.stdout  # the header's list of plugins
    assert "2 passed" in run.stdout


_SPEAK = "from orwidgets.i18n import Translator; import orwidgets, sys; " \
         "sys.stdout.buffer.write((orwidgets.__file__ + '\\n' + " \
         "'\\n'.join(Translator(l)('paid RPS') for l in sys.argv[1:])).encode())"


def test_the_installed_wheel_speaks_every_language(clean_venv, tmp_path):
    run = _run(clean_venv / "bin" / "python", "-c", _SPEAK, *TRANSLATED, cwd=tmp_path,
               env=_clean_env())
    path, *said = run.stdout.splitlines()
    assert path.startswith(str(clean_venv))
    assert said == [_po_translation(lang, "paid RPS") for lang in TRANSLATED]


@pytest.fixture(scope="module")
def editable(tmp_path_factory) -> tuple[pathlib.Path, pathlib.Path]:
    """``pip install -e`` of a copy of the checkout's files (no .mo among them), offline:
    (the venv, the copy)."""
    root = tmp_path_factory.mktemp("editable")
    listed = _run("git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", cwd=ROOT)
    copy = root / "checkout"
    for name in filter(None, listed.stdout.split("\0")):
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            (copy / name).write_bytes((ROOT / name).read_bytes())
    assert not list(copy.glob("orwidgets/locale/**/*.mo"))
    venv = _venv_with_our_dependencies(root)
    _run(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--no-deps",
         "--no-index", "--no-build-isolation", "--no-cache-dir", "--quiet", "-e", copy)
    return venv, copy


def test_an_editable_install_compiles_the_catalogues_where_it_imports_them(editable, tmp_path):
    venv, copy = editable
    for lang in TRANSLATED:
        assert (copy / "orwidgets" / "locale" / lang / "LC_MESSAGES" / "orwidgets.mo").is_file()
    run = _run(venv / "bin" / "python", "-c", _SPEAK, *TRANSLATED, cwd=tmp_path, env=_clean_env())
    path, *said = run.stdout.splitlines()
    assert path == str(copy / "orwidgets" / "__init__.py")
    assert said == [_po_translation(lang, "paid RPS") for lang in TRANSLATED]
