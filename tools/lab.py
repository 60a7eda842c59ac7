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

Usage (``make lab`` runs exactly this; anything after ``--`` goes to ``jupyter lab``)::

    .venv/bin/python tools/lab.py [--lang en] [--print] [-- --port 8899 ...]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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

__all__ = ["Plan", "plan", "prepare", "lab_argv", "main"]


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
    """The layout for ``lang``; ``ValueError`` if no built notebooks exist for it."""
    result = Plan(Path(root).resolve(), lang)
    if not (result.sources / TUTORIAL).is_file():
        raise ValueError(
            f"no tutorial for language {lang!r}: {result.sources / TUTORIAL} does not exist"
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", default=SOURCE_LANGUAGE, help="the tutorial's language")
    parser.add_argument(
        "--print", action="store_true", help="prepare, print the command line, do not start it"
    )
    parser.add_argument("extra", nargs="*", help="after --: more options for jupyter lab")
    args = parser.parse_args(argv)
    try:
        layout = plan(ROOT, args.lang)
        done = prepare(layout)
    except (ValueError, OSError) as exc:
        print(f"make lab: {exc}", file=sys.stderr)
        return 2
    for line in done:
        print(f"make lab: {line}")
    print(f"make lab: your copies are in {WORK_DIR}/ (git ignores it; what you save stays there)")
    command = lab_argv(layout, args.extra)
    if args.print:
        print(" ".join(command))
        return 0
    sys.stdout.flush()
    os.execv(command[0], command)  # jupyter lab takes over this process (Ctrl+C stops it)
    return 0  # pragma: no cover


if __name__ == "__main__":
    raise SystemExit(main())
