"""Command line: ``orwidgets <command> [options]`` (also ``python -m orwidgets``).

Each command lives in its own module with ``build_parser()`` and ``main(argv)``; this file only
dispatches, so ``orwidgets --help`` stays instant and lists every command with its options.
"""

from __future__ import annotations

import importlib
import sys

#: command -> (module with build_parser() and main(argv), one line on what it does)
COMMANDS: dict[str, tuple[str, str]] = {
    "emulator": ("orwidgets.emulator.cli", "serve a local OpenRouter emulator (no key, no network)"),
    "conform": ("orwidgets.conform.cli", "diff the real OpenRouter API against the emulator"),
    "verdict": ("orwidgets.verdict_cli", "judge a client from the emulator's journal (JSON lines)"),
}


def _usage() -> str:
    lines = ["usage: orwidgets <command> [options]", "", "commands:"]
    for name, (module, summary) in COMMANDS.items():
        lines.append(f"  {name:<10} {summary}")
        usage = importlib.import_module(module).build_parser().format_usage().strip()
        usage = usage.removeprefix("usage: ")
        lines.extend("      " + line.strip() for line in usage.splitlines())
    lines += ["", "'orwidgets <command> --help' explains each option. See the README."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(_usage(), file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    entry = COMMANDS.get(args[0])
    if entry is None:
        print(f"orwidgets: unknown command {args[0]!r}; choose one of {', '.join(COMMANDS)} "
              "(orwidgets --help lists them)", file=sys.stderr)
        return 2
    return importlib.import_module(entry[0]).main(args[1:])


if __name__ == "__main__":
    raise SystemExit(main())
