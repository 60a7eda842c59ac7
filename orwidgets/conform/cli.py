"""``orwidgets conform``: probe an OpenRouter API and print what differs from the emulator.

Exit status: 0 nothing differs, 1 something differs, 2 usage error or no comparison (target
unreachable, key refused, not confirmed). Errors are one line on stderr, never a traceback.

The plan and the report are in English unless ``--lang`` (or ``ORWIDGETS_LANG``) chooses Japanese
or Chinese; ``--json`` keeps its keys, ids and labels, and its sentences follow ``--lang``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import IO, Any, NoReturn

from ..client import OPENROUTER_API_BASE
from ..policy import policy_choices

__all__ = ["main", "build_parser"]

_PROG = "orwidgets conform"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} ('{self.prog} --help' lists the options)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=_PROG,
        description=(
            "Send a small plan of requests (at most --max-calls) to an OpenRouter API and the "
            "same plan to the emulator inside this process, and list every difference: status, "
            "JSON structure, error.message, error.metadata, rate-limit headers. The plan costs "
            "one free-model request of today's quota. See the README."
        ),
    )
    parser.add_argument("--base-url", default=OPENROUTER_API_BASE,
                        help=f"the API to probe (default {OPENROUTER_API_BASE}); a loopback "
                             "address needs no confirmation")
    parser.add_argument("--key", default=None,
                        help="API key (default: the OPENROUTER_API_KEY environment variable, "
                             "which keeps it out of the process list); never printed")
    parser.add_argument("--policy", choices=policy_choices(), default="current",
                        help="the emulator's policy version to compare with (default current, "
                             "the newest)")
    parser.add_argument("--max-calls", type=int, default=6,
                        help="hard cap on requests to the target (default 6, the whole plan); "
                             "probes beyond it are skipped and listed")
    parser.add_argument("--credits", action="store_true",
                        help="also read GET /credits (free) to shape the emulator account from "
                             "the real purchases and balance; one more call")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds to wait for each answer (default 30)")
    parser.add_argument("--yes", action="store_true",
                        help="do not ask before sending requests to a non-loopback address")
    parser.add_argument("--json", action="store_true",
                        help="print the report as JSON (the same facts as the text)")
    parser.add_argument("--lang", default=None, metavar="LANG",
                        help="language of the plan and the report: en, ja or zh (default: the "
                             "ORWIDGETS_LANG environment variable, else English)")
    return parser


def _confirmation(stdin: IO[str], stderr: IO[str], *, ask: bool, lang: str = "en") -> Any:
    """Says the plan (how many calls, what they cost) on stderr; asks unless ``ask`` is off."""
    from ..i18n import N_, translate

    def confirm(plan: str) -> bool:
        print(plan, file=stderr)
        if not ask:
            return True
        # [inv] the answer stays y / yes in every language (what a terminal user types).
        print(translate(N_("Send them? [y/N]"), lang), end=" ", file=stderr, flush=True)
        answer = stdin.readline()
        return answer.strip().lower() in {"y", "yes"}

    return confirm


def run(argv: Sequence[str], *, stdin: IO[str], stdout: IO[str], stderr: IO[str],
        transport: Any = None) -> int:
    """The command, with its streams (and the target's transport) given: tests drive it so."""
    from ..client import is_loopback
    from ..i18n import N_, get_language, translate
    from ._check import check, describe_plan

    args = build_parser().parse_args(list(argv))
    try:
        lang = get_language(args.lang)
    except ValueError as exc:
        print(f"{_PROG}: --{exc}", file=stderr)
        return 2
    try:
        # Only consulted for a non-loopback target, before its first request.
        confirm = _confirmation(stdin, stderr, ask=not args.yes, lang=lang)
        if not args.yes and not is_loopback(args.base_url) \
                and not getattr(stdin, "isatty", lambda: False)():
            print(describe_plan(args.base_url, args.max_calls, args.credits, args.policy, lang),
                  file=stderr)
            refused = translate(N_("stdin is not interactive, so nobody can confirm these "
                                   "requests to a non-loopback address: pass --yes"), lang)
            print(f"{_PROG}: {refused}", file=stderr)
            return 2
        report = check(args.key,  # None: check() reads OPENROUTER_API_KEY
                       base_url=args.base_url, policy=args.policy, max_calls=args.max_calls,
                       confirm=confirm, credits=args.credits, timeout=args.timeout,
                       transport=transport, lang=lang)
    except ValueError as exc:
        print(f"{_PROG}: {exc}", file=stderr)
        return 2
    if args.json:
        print(report.to_json_text(), file=stdout)
    elif report.error is None:
        print(report, file=stdout)
    if report.error is not None:
        print(f"{_PROG}: {report.error}", file=stderr)
    return report.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    try:
        return run(sys.argv[1:] if argv is None else argv,
                   stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr)
    except KeyboardInterrupt:
        print(f"{_PROG}: interrupted", file=sys.stderr)
        return 130
