"""``orwidgets verdict FILE``: judge a journal written by the emulator, from an app in any language.

Exit status: 0 when the client respected every limit, 1 when there are findings, 2 when the input
cannot be read (a missing file, a bad line: one line on stderr naming it, no traceback).

The report is in English unless ``--lang`` (or ``ORWIDGETS_LANG``) chooses Japanese or Chinese;
rule ids, class ids and the calls listed stay as they are, and so does ``--json``'s structure (its
``message`` texts follow ``--lang``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orwidgets verdict",
        description="Judge how a client handled OpenRouter's limits, from the emulator's "
                    "JSON-lines journal. Exit 0: clean, 1: findings, 2: unreadable input.",
    )
    parser.add_argument("file", metavar="FILE",
                        help="journal file (JSON lines, as the emulator writes it); '-' reads stdin")
    parser.add_argument("--json", action="store_true",
                        help="print the findings as one JSON object instead of a report")
    parser.add_argument("--show", type=int, default=None, metavar="N",
                        help="calls listed under each finding in the report (default 6)")
    parser.add_argument("--lang", default=None, metavar="LANG",
                        help="language of the report: en, ja or zh (default: the ORWIDGETS_LANG "
                             "environment variable, else English)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    from .i18n import Text, get_language
    from .journal import JournalError, read_journal
    from .verdict import SHOWN_CALLS, format_findings, verdict, verdict_json

    if args.show is not None and args.show < 0:
        print("orwidgets verdict: --show: expected a whole number >= 0", file=sys.stderr)
        return 2
    try:
        lang = get_language(args.lang)
    except ValueError as exc:
        print(f"orwidgets verdict: --{exc}", file=sys.stderr)
        return 2
    try:
        if args.file == "-":
            entries = read_journal(sys.stdin.buffer, name="<stdin>")
        else:
            entries = read_journal(args.file)
    except JournalError as exc:
        print(f"orwidgets verdict: {exc}", file=sys.stderr)
        return 2
    findings = verdict(entries, lang)
    keys = len({e.key_id if e.key_id is not None else e.key for e in entries})
    if args.json:
        # The same object as GET /_emulator/verdict, and the file it judged.
        json.dump({"file": args.file, **verdict_json(entries, findings)}, sys.stdout,
                  ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        head = Text.ngettext("{file}: {calls} calls from {keys} key",
                             "{file}: {calls} calls from {keys} keys", keys,
                             file=args.file, calls=format(len(entries), ","),
                             keys=format(keys, ","))
        print(f"orwidgets verdict: {head.render(lang)}")
        print(format_findings(findings, shown=SHOWN_CALLS if args.show is None else args.show,
                              lang=lang))
    return 1 if findings else 0
