"""Hatchling build hook: compile the translations (``.po`` -> ``.mo``) with Babel.

The ``.mo`` files that :mod:`orwidgets.i18n` reads are build products, ignored by git. This hook
makes them whenever a wheel is built, whatever builds it: ``pip install .`` and Binder (a wheel
from the checkout), ``python -m build`` (a wheel from the sdist, which carries the ``.po`` files
and this hook), and ``pip install -e .`` (an editable wheel: the package is imported from the
checkout, so the ``.mo`` files are written next to their ``.po`` files and found there).
``make messages`` compiles them the same way while translators work.

A catalogue Babel cannot read stops the build with the file's name; untranslated and fuzzy
entries are left out of the ``.mo`` (the reader sees English for them), as ``pybabel compile``
does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PACKAGE = "orwidgets"
DOMAIN = "orwidgets"


def compile_catalogues(root: Path) -> list[Path]:
    """Compile every ``orwidgets/locale/<lang>/LC_MESSAGES/orwidgets.po`` under ``root`` into the
    ``.mo`` beside it; return the ``.mo`` paths, sorted."""
    try:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po
    except ImportError as exc:  # building without isolation, in an environment without Babel
        raise RuntimeError(
            "orwidgets' build compiles its translations with Babel: install it (pip install "
            "babel) or build with isolation, where pyproject.toml's build-system brings it"
        ) from exc
    written = []
    for po in sorted((root / PACKAGE / "locale").glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        lang = po.parent.parent.name
        try:
            with po.open("rb") as handle:
                catalogue = read_po(handle, locale=lang, domain=DOMAIN, abort_invalid=True)
        except Exception as exc:  # PoFileError and the locale errors: name the file
            raise RuntimeError(f"{po.relative_to(root)}: {exc}") from exc
        mo = po.with_suffix(".mo")
        with mo.open("wb") as handle:
            write_mo(handle, catalogue, use_fuzzy=False)
        written.append(mo)
    return written


class CustomBuildHook(BuildHookInterface):
    """Runs before every wheel (and editable wheel) is built."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        for mo in compile_catalogues(root):
            # git ignores .mo files, and hatchling leaves out what git ignores unless told
            build_data["artifacts"].append("/" + mo.relative_to(root).as_posix())
