"""``make lab``: open the tutorial in JupyterLab without writing into the repository's files.

The notebooks in ``notebooks/`` are build products checked in without outputs (``tests/notebooks``
fails otherwise). A reader who runs them and saves, or lets JupyterLab autosave, would write
outputs and megabytes of widget state into them. So ``make lab`` opens a **working copy**:

- ``my-notebooks/`` (git ignores it) holds a copy of each notebook, made the first time. What a
  reader saves stays there, outputs and edits included, from one ``make lab`` to the next.
- When a notebook in ``notebooks/`` changes (a ``git pull``), a copy the reader never saved is
  replaced by the new one; a copy the reader did save is first moved to
  ``my-notebooks/previous/<name>-<UTC time>.ipynb``, never thrown away. A line says so.
- JupyterLab's user settings and workspaces live in ``.jupyter-lab/`` (git ignores it too), never
  in the user's ``~/.jupyter``; the settings start with the "Jupyter news" question answered
  (no toast over the widgets) and no update check.
- The server's default URL is the tutorial's copy, so the URL JupyterLab prints and the browser
  it opens land on the tutorial, not on the file browser. The server's root is the repository:
  ``my-notebooks/`` sits at the depth of ``notebooks/``, so relative links (``../docs/...``) work
  in both.

**Languages.** ``make lab NB_LANG=ja`` (or ``zh``; ``en`` by default) opens that language's
tutorial, ``notebooks/<lang>/01-tutorial.ipynb``, through its own working copies in
``my-notebooks/<lang>/``, and starts JupyterLab with ``ORWIDGETS_LANG`` set to the language, so
the kernels it starts (which inherit the server's environment) make widgets in that language.
``make voila NB_LANG=ja`` serves the same notebook with Voila (no working copy: Voila never
saves). The variable is ``NB_LANG``, not ``LANG`` or ``LANGUAGE``: those are the locale's.
``--check`` refuses an unknown language, or one whose tutorial is not built yet, in one line with
exit status 2; it needs only the standard library, so ``make`` runs it before installing anything.

Usage (``make lab`` runs exactly this; anything after ``--`` goes to ``jupyter lab``)::

    .venv/bin/python tools/lab.py [--lang en] [--print] [-- --port 8899 ...]
    .venv/bin/python tools/lab.py --voila [--lang en] [--print] [-- --port 8866 ...]
    python3 tools/lab.py --check --lang ja
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import importlib.util
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
I18N = ROOT / "orwidgets" / "i18n.py"  # the languages orwidgets speaks, and how they are spelled
SOURCE_LANGUAGE = "en"  # builds to notebooks/; other languages to notebooks/<lang>/
TUTORIAL = "01-tutorial.ipynb"
WORK_DIR = "my-notebooks"
LAB_DIR = ".jupyter-lab"
MANIFEST = ".copied-from.json"  # name -> sha256 of the notebooks/ file each copy was made from
PREVIOUS = "previous"

#: Settings written when absent (a reader's own later changes to them are kept). Keys as in
#: JupyterLab's schemas; see shared/reference/browser-and-binder.md.
LAB_SETTINGS: dict[str, dict[str, object]] = {
    # "Would you like to get notified about official Jupyter news?": answered no, no toast.
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}

__all__ = ["Plan", "plan", "prepare", "lab_argv", "voila_argv", "kernel_env", "main"]


@functools.lru_cache(maxsize=1)
def _i18n() -> ModuleType:
    """``orwidgets/i18n.py`` on its own (standard library only), so that the language is checked
    the package's way before anything is installed."""
    spec = importlib.util.spec_from_file_location("_orwidgets_i18n", I18N)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Plan:
    """Where ``make lab`` keeps things for one language, relative to a repository root."""

    root: Path
    lang: str

    @property
    def sources(self) -> Path:
        """The built notebooks this language's copies come from."""
        base = self.root / "notebooks"
        return base if self.lang == SOURCE_LANGUAGE else base / self.lang

    @property
    def work(self) -> Path:
        base = self.root / WORK_DIR
        return base if self.lang == SOURCE_LANGUAGE else base / self.lang

    @property
    def tutorial(self) -> Path:
        return self.work / TUTORIAL

    @property
    def settings(self) -> Path:
        return self.root / LAB_DIR / "user-settings"

    @property
    def workspaces(self) -> Path:
        return self.root / LAB_DIR / "workspaces"


def plan(root: Path = ROOT, lang: str = SOURCE_LANGUAGE) -> Plan:
    """The layout for ``lang`` (``ja_JP``, ``zh-CN``... are understood); ``ValueError`` for a
    language orwidgets does not speak, or one whose tutorial is not built yet."""
    root = Path(root).resolve()
    i18n = _i18n()
    lang = i18n.normalize_language(lang, "NB_LANG")
    result = Plan(root, lang)
    if not (result.sources / TUTORIAL).is_file():
        tutorial = (result.sources / TUTORIAL).relative_to(root)
        raise ValueError(
            f"NB_LANG={lang}: the tutorial in this language is not written yet ({tutorial} does "
            f"not exist; its sources go in notebooks/src/{lang}/); NB_LANG={SOURCE_LANGUAGE} "
            "opens the English one"
        )
    return result


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def prepare(layout: Plan, now: float | None = None) -> list[str]:
    """Bring the working copies and the lab settings up to date; return what was done, one line
    each (nothing when every copy was already current). ``now`` (Unix seconds, default the
    clock) names a copy moved aside."""
    done: list[str] = []
    layout.work.mkdir(parents=True, exist_ok=True)
    manifest_path = layout.work / MANIFEST
    try:
        manifest: dict[str, str] = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    for source in sorted(layout.sources.glob("*.ipynb")):
        copy = layout.work / source.name
        fresh = _sha256(source)
        if copy.exists():
            copied_from = manifest.get(source.name)
            if copied_from == fresh:
                continue  # up to date: the reader's copy as they left it
            if _sha256(copy) != copied_from:  # the reader saved it: keep it aside
                keep = layout.work / PREVIOUS / f"{source.stem}-{stamp}{source.suffix}"
                keep.parent.mkdir(exist_ok=True)
                copy.replace(keep)
                done.append(
                    f"{source.name} changed in {source.parent.relative_to(layout.root)}/: your "
                    f"copy is now {keep.relative_to(layout.root)}"
                )
        shutil.copyfile(source, copy)
        manifest[source.name] = fresh
        done.append(f"copied {source.relative_to(layout.root)} to {copy.relative_to(layout.root)}")
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", "utf-8")
    for relative, values in LAB_SETTINGS.items():
        path = layout.settings / relative
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values, indent=2) + "\n", encoding="utf-8")
    layout.workspaces.mkdir(parents=True, exist_ok=True)
    return done


def _jupyter() -> str:
    """The venv's ``jupyter`` (beside this interpreter), else whichever is on PATH."""
    here = Path(sys.executable).parent / "jupyter"
    return str(here) if here.exists() else (shutil.which("jupyter") or "jupyter")


def lab_argv(layout: Plan, extra: list[str] | None = None, as_root: bool | None = None) -> list[str]:
    """The ``jupyter lab`` command line for ``layout`` (``--allow-root`` when run as root:
    Jupyter refuses root otherwise, and containers and CI machines run as root)."""
    if as_root is None:
        as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    tutorial_url = "/lab/tree/" + layout.tutorial.relative_to(layout.root).as_posix()
    return [
        _jupyter(), "lab",
        *(["--allow-root"] if as_root else []),
        f"--ServerApp.root_dir={layout.root}",
        f"--LabApp.default_url={tutorial_url}",
        f"--LabApp.user_settings_dir={layout.settings}",
        f"--LabApp.workspaces_dir={layout.workspaces}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        *(extra or []),
    ]  # fmt: skip


def voila_argv(layout: Plan, extra: list[str] | None = None) -> list[str]:
    """The ``voila`` command line that serves ``layout``'s tutorial itself (run from the
    repository root, where Voila reads ``voila.json``)."""
    here = Path(sys.executable).parent / "voila"
    voila = str(here) if here.exists() else (shutil.which("voila") or "voila")
    return [voila, (layout.sources / TUTORIAL).relative_to(layout.root).as_posix(), *(extra or [])]


def kernel_env(layout: Plan, base: dict[str, str] | None = None) -> dict[str, str]:
    """The server's environment: ``base`` (default ``os.environ``) with ``ORWIDGETS_LANG`` set to
    the tutorial's language, which every kernel the server starts inherits."""
    env = dict(os.environ if base is None else base)
    env[_i18n().ENV_VAR] = layout.lang
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", default=SOURCE_LANGUAGE,
                        help="the tutorial's language: en, ja or zh (make: NB_LANG=...)")
    parser.add_argument("--voila", action="store_true",
                        help="serve the tutorial with Voila instead (make voila)")
    parser.add_argument("--check", action="store_true",
                        help="only check the language (exit 2 with one line if it cannot open)")
    parser.add_argument(
        "--print", action="store_true", help="prepare, print the command line, do not start it"
    )
    parser.add_argument("extra", nargs="*", help="after --: more options for jupyter lab / voila")
    args = parser.parse_args(argv)
    name = "make voila" if args.voila else "make lab"
    try:
        layout = plan(ROOT, args.lang)
        if args.check:
            return 0
        done = [] if args.voila else prepare(layout)
    except (ValueError, OSError) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    for line in done:
        print(f"{name}: {line}")
    if not args.voila:
        print(f"{name}: your copies are in {WORK_DIR}/ (git ignores it; what you save stays there)")
    print(f"{name}: widgets speak {layout.lang} (ORWIDGETS_LANG={layout.lang} for the kernels)")
    command = voila_argv(layout, args.extra) if args.voila else lab_argv(layout, args.extra)
    if args.print:
        print(" ".join(command))
        return 0
    sys.stdout.flush()
    os.chdir(layout.root)
    # jupyter lab (or voila) takes over this process (Ctrl+C stops it)
    os.execve(command[0], command, kernel_env(layout))
    return 0  # pragma: no cover


if __name__ == "__main__":
    raise SystemExit(main())
