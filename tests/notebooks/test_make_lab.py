"""``make lab`` opens a working copy of the tutorial, with JupyterLab settings of its own, and never
writes into ``notebooks/`` (tools/lab.py). The browser half: tests/browser/test_browser_make_lab.py.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from nbhelpers import NOTEBOOK_DIR, NOTEBOOK_NAMES, ROOT, nbformat

NEWS_SETTINGS = "@jupyterlab/apputils-extension/notification.jupyterlab-settings"


@pytest.fixture(scope="module")
def lab() -> ModuleType:
    spec = importlib.util.spec_from_file_location("orw_tools_lab", ROOT / "tools" / "lab.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A checkout with the built notebooks (English) and nothing else."""
    (tmp_path / "notebooks").mkdir()
    for name in NOTEBOOK_NAMES:
        shutil.copy2(NOTEBOOK_DIR / name, tmp_path / "notebooks" / name)
    return tmp_path


def _run_all_and_save(path: Path) -> None:
    """What a reader's Run All + Save does to the file: outputs and an execution count."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.execution_count = 1
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran\n")]
    nbformat.write(nb, path)


def _make_n(*args: str, env: dict[str, str] | None = None) -> list[str]:
    # Run as a top-level make even when the suite itself runs under `make test`: a sub-make
    # inherits MAKELEVEL/MAKEFLAGS and prints "Entering/Leaving directory" lines around its output.
    env = dict(os.environ if env is None else env)
    for name in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS"):
        env.pop(name, None)
    return subprocess.run(["make", "--no-print-directory", "-n", *args], cwd=ROOT,
                          capture_output=True, text=True, check=True, env=env).stdout.splitlines()


def test_make_lab_runs_tools_lab_py_and_nothing_that_opens_notebooks_directly():
    out = _make_n("lab")
    assert ".venv/bin/python tools/lab.py --lang en" in out
    assert not [line for line in out if "notebooks/01-tutorial.ipynb" in line]


@pytest.mark.parametrize("target", ["lab", "voila"])
def test_make_checks_nb_lang_before_installing_anything(target):
    out = _make_n(target, "NB_LANG=ja")
    check = out.index("python3 tools/lab.py --check --lang ja")
    install = next(i for i, line in enumerate(out) if "pip install" in line)
    voila = ["--voila "] if target == "voila" else [""]
    assert check < install
    assert out[-1] == f".venv/bin/python tools/lab.py {voila[0]}--lang ja"


def test_the_locale_variables_do_not_choose_the_tutorial():
    env = {**os.environ, "LANG": "ja_JP.UTF-8", "LANGUAGE": "zh_CN", "LC_ALL": "ja_JP.UTF-8"}
    env.pop("NB_LANG", None)
    assert _make_n("lab", env=env)[-1] == ".venv/bin/python tools/lab.py --lang en"
    assert _make_n("voila", env=env)[-1] == ".venv/bin/python tools/lab.py --voila --lang en"


def test_make_refuses_an_unknown_nb_lang_in_one_line_with_exit_2():
    run = subprocess.run(["make", "--no-print-directory", "nb-lang", "NB_LANG=fr"], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.splitlines()[0] == (
        "make lab: NB_LANG: orwidgets speaks en, ja, zh (en English, ja Japanese, zh Simplified "
        "Chinese), not 'fr'"
    )


def test_first_run_copies_every_notebook_and_writes_the_settings(lab, repo):
    done = lab.prepare(lab.plan(repo))
    assert done == [f"copied notebooks/{n} to my-notebooks/{n}" for n in NOTEBOOK_NAMES]
    for name in NOTEBOOK_NAMES:
        assert (repo / "my-notebooks" / name).read_bytes() == (repo / "notebooks" / name).read_bytes()
    settings = repo / ".jupyter-lab" / "user-settings" / NEWS_SETTINGS
    assert json.loads(settings.read_text()) == {"fetchNews": "false", "checkForUpdates": False}
    assert (repo / ".jupyter-lab" / "workspaces").is_dir()


def _first_make_lab_then_save(lab, repo):
    """make lab once, then the reader's Run All + Save: (layout, the copy, its saved bytes)."""
    layout = lab.plan(repo)
    lab.prepare(layout)
    copy = repo / "my-notebooks" / "01-tutorial.ipynb"
    _run_all_and_save(copy)
    return layout, copy, copy.read_bytes()


def _update_tutorial(repo) -> Path:
    """What a `git pull` that changes the tutorial does to notebooks/."""
    source = repo / "notebooks" / "01-tutorial.ipynb"
    source.write_text(source.read_text().replace("by hand", "by hand, updated"))
    return source


def test_what_a_reader_saved_stays_from_one_make_lab_to_the_next(lab, repo):
    layout, copy, saved = _first_make_lab_then_save(lab, repo)
    assert lab.prepare(layout) == []
    assert copy.read_bytes() == saved
    assert not (repo / "my-notebooks" / "previous").exists()


def test_a_new_tutorial_replaces_a_copy_the_reader_never_saved(lab, repo):
    layout = lab.plan(repo)
    lab.prepare(layout)
    source = _update_tutorial(repo)
    assert lab.prepare(layout) == ["copied notebooks/01-tutorial.ipynb to my-notebooks/01-tutorial.ipynb"]
    assert (repo / "my-notebooks" / "01-tutorial.ipynb").read_bytes() == source.read_bytes()
    assert not (repo / "my-notebooks" / "previous").exists()


def test_a_new_tutorial_moves_a_saved_copy_aside_instead_of_losing_it(lab, repo):
    layout, copy, saved = _first_make_lab_then_save(lab, repo)
    source = _update_tutorial(repo)
    done = lab.prepare(layout, now=86_400 + 3_600 + 60 + 1)  # 1970-01-02 01:01:01 UTC
    kept = repo / "my-notebooks" / "previous" / "01-tutorial-19700102-010101.ipynb"
    assert done == [
        "01-tutorial.ipynb changed in notebooks/: your copy is now "
        "my-notebooks/previous/01-tutorial-19700102-010101.ipynb",
        "copied notebooks/01-tutorial.ipynb to my-notebooks/01-tutorial.ipynb",
    ]
    assert kept.read_bytes() == saved
    assert copy.read_bytes() == source.read_bytes()


def test_a_copy_of_unknown_origin_is_kept_aside_too(lab, repo):
    layout = lab.plan(repo)
    lab.prepare(layout)
    (repo / "my-notebooks" / ".copied-from.json").unlink()
    done = lab.prepare(layout, now=0)
    assert len(done) == 2 * len(NOTEBOOK_NAMES)
    assert sorted(p.name for p in (repo / "my-notebooks" / "previous").iterdir()) == [
        n.replace(".ipynb", "-19700101-000000.ipynb") for n in NOTEBOOK_NAMES
    ]


def test_settings_a_reader_changed_are_not_overwritten(lab, repo):
    settings = repo / ".jupyter-lab" / "user-settings" / NEWS_SETTINGS
    settings.parent.mkdir(parents=True)
    settings.write_text('{"fetchNews": "true"}')
    lab.prepare(lab.plan(repo))
    assert settings.read_text() == '{"fetchNews": "true"}'


@pytest.mark.parametrize("as_root", [True, False])
def test_jupyter_lab_command_opens_the_copy_with_the_repository_settings(lab, repo, as_root):
    argv = lab.lab_argv(lab.plan(repo), ["--no-browser"], as_root=as_root)
    assert Path(argv[0]).name == "jupyter" and argv[1] == "lab"
    assert ("--allow-root" in argv) is as_root
    assert [a for a in argv[2:] if a != "--allow-root"] == [
        f"--ServerApp.root_dir={repo.resolve()}",
        "--LabApp.default_url=/lab/tree/my-notebooks/01-tutorial.ipynb",
        f"--LabApp.user_settings_dir={repo.resolve() / '.jupyter-lab' / 'user-settings'}",
        f"--LabApp.workspaces_dir={repo.resolve() / '.jupyter-lab' / 'workspaces'}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--no-browser",
    ]
    assert not any(".jupyter/" in a and str(repo) not in a for a in argv)


def _with_japanese(repo: Path) -> Path:
    """What the build makes once the Japanese sources exist: notebooks/ja/ (English copies here)."""
    shutil.copytree(repo / "notebooks", repo / "ja")
    (repo / "ja").rename(repo / "notebooks" / "ja")
    return repo


def test_another_language_gets_its_own_copies_and_url(lab, repo):
    layout = lab.plan(_with_japanese(repo), "ja_JP.UTF-8")
    assert layout.lang == "ja"
    lab.prepare(layout)
    assert (repo / "my-notebooks" / "ja" / "01-tutorial.ipynb").exists()
    assert "--LabApp.default_url=/lab/tree/my-notebooks/ja/01-tutorial.ipynb" in lab.lab_argv(layout)


def test_the_kernels_get_the_language_through_orwidgets_lang(lab, repo):
    layout = lab.plan(_with_japanese(repo), "ja")
    env = lab.kernel_env(layout, {"PATH": "/bin", "ORWIDGETS_LANG": "zh", "LANG": "C.UTF-8"})
    assert env == {"PATH": "/bin", "ORWIDGETS_LANG": "ja", "LANG": "C.UTF-8"}
    assert lab.kernel_env(lab.plan(repo, "en"), {})["ORWIDGETS_LANG"] == "en"


def test_voila_serves_the_languages_tutorial_itself(lab, repo, monkeypatch, capsys):
    monkeypatch.setattr(lab, "ROOT", _with_japanese(repo))
    assert lab.main(["--voila", "--lang", "ja", "--print", "--", "--port=8866"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "make voila: widgets speak ja (ORWIDGETS_LANG=ja for the kernels)"
    assert Path(lines[1].split()[0]).name == "voila"
    assert lines[1].split()[1:] == ["notebooks/ja/01-tutorial.ipynb", "--port=8866"]
    assert not (repo / "my-notebooks").exists()  # Voila never saves: no working copy


def test_main_prints_what_it_did_and_the_command(lab, repo, monkeypatch, capsys):
    monkeypatch.setattr(lab, "ROOT", repo)
    assert lab.main(["--print", "--", "--port=8899"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == [f"make lab: copied notebooks/{n} to my-notebooks/{n}" for n in NOTEBOOK_NAMES]
    assert lines[3] == (
        "make lab: your copies are in my-notebooks/ (git ignores it; what you save stays there)"
    )
    assert lines[4] == "make lab: widgets speak en (ORWIDGETS_LANG=en for the kernels)"
    assert lines[5].endswith(" --port=8899") and "--LabApp.default_url=" in lines[5]


def test_a_language_not_built_yet_is_one_clear_line_and_exit_2(lab, repo, monkeypatch, capsys):
    monkeypatch.setattr(lab, "ROOT", repo)
    assert lab.main(["--lang", "zh", "--print"]) == 2
    assert capsys.readouterr().err == (
        "make lab: NB_LANG=zh: the tutorial in this language is not written yet "
        "(notebooks/zh/01-tutorial.ipynb does not exist; its sources go in notebooks/src/zh/); "
        "NB_LANG=en opens the English one\n"
    )
    assert not (repo / "my-notebooks").exists()


@pytest.mark.parametrize("voila", [[], ["--voila"]])
def test_an_unknown_language_is_one_clear_line_and_exit_2(lab, repo, monkeypatch, capsys, voila):
    monkeypatch.setattr(lab, "ROOT", repo)
    assert lab.main([*voila, "--lang", "zh-TW", "--print"]) == 2
    name = "make voila" if voila else "make lab"
    assert capsys.readouterr().err == (
        f"{name}: NB_LANG: orwidgets speaks en, ja, zh (en English, ja Japanese, zh Simplified "
        "Chinese), not 'zh-TW'\n"
    )


def test_check_only_checks(lab, repo, monkeypatch, capsys):
    monkeypatch.setattr(lab, "ROOT", repo)
    assert lab.main(["--check", "--lang", "en"]) == 0
    assert capsys.readouterr() == ("", "")
    assert not (repo / "my-notebooks").exists()


def test_the_check_runs_on_the_standard_library_alone(tmp_path):
    # make runs it with the system python3, before the venv exists: no orwidgets import.
    def check(lang):
        run = subprocess.run([sys.executable, "-I", "-S", str(ROOT / "tools" / "lab.py"),
                              "--check", "--lang", lang], cwd=tmp_path, capture_output=True,
                             text=True)
        return run.returncode, run.stdout, run.stderr

    assert (ROOT / "notebooks" / "ja" / "01-tutorial.ipynb").is_file()
    assert check("ja_JP") == (0, "", "")  # a locale spelling, normalised without orwidgets
    assert check("zh-TW") == (2, "", "make lab: NB_LANG: orwidgets speaks en, ja, zh (en English, "
                              "ja Japanese, zh Simplified Chinese), not 'zh-TW'\n")


def test_git_ignores_the_working_copies_and_the_lab_settings():
    paths = ["my-notebooks/01-tutorial.ipynb", "my-notebooks/previous/x.ipynb",
             ".jupyter-lab/user-settings/x.jupyterlab-settings"]
    result = subprocess.run(["git", "check-ignore", *paths], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.stdout.split() == paths
