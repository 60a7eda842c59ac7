"""Command line: ``orwidgets emulator [options]`` (also ``python -m orwidgets.emulator``)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print("usage: orwidgets emulator [--host H] [--port P] [--policy ID] [--admin-token T]\n"
              "                          [--latency-ms MS] [--accounts FILE]\n\n"
              "Serves a local OpenRouter emulator (see README).")
        return 0 if args else 2
    if args[0] == "emulator":
        from .emulator.cli import main as emulator_main

        return emulator_main(args[1:])
    print(f"orwidgets: unknown command {args[0]!r} (try: orwidgets emulator --help)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
