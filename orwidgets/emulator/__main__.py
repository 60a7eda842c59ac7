"""``python -m orwidgets.emulator [options]``: same as ``orwidgets emulator``."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
