"""The package version, in one place: ``pyproject.toml`` reads it from here (hatch's dynamic
version) and ``orwidgets.__version__`` re-exports it."""

__version__ = "0.1.0"
