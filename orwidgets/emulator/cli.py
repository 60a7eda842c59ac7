"""``orwidgets emulator``: serve the emulator in the foreground and print how to reach it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..policy import DEFAULT_POLICY_ID, IN_FLIGHT_DEFAULTS, format_usd, policy_choices

__all__ = ["main", "build_parser", "DEFAULT_PORT"]

#: [inv] the CLI's default port (any free port: pass --port 0).
DEFAULT_PORT = 8787


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orwidgets emulator",
        description="Serve a local OpenRouter emulator (no key, no network). See the README.",
    )
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface to listen on (default 127.0.0.1; anything else is reachable "
                             "from other machines)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"TCP port (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--policy", choices=policy_choices(), default=DEFAULT_POLICY_ID,
                        help=f"policy version (default {DEFAULT_POLICY_ID}; 'current' is the "
                             "newest)")
    parser.add_argument("--admin-token", default=None,
                        help="X-Admin-Token value for the admin API (default: random, printed once)")
    parser.add_argument("--latency-ms", default="20-50",
                        help="chat answer latency in ms, 0 or more: '0', '30' or a range '20-50' "
                             "(default 20-50)")
    parser.add_argument("--accounts", metavar="FILE", default=None,
                        help="JSON file with extra accounts: a list of {name, balance_usd, "
                             "purchased_usd, management, label, key}")
    parser.add_argument("--seed", type=int, default=0, help="seed of the latency draws (default 0)")
    journal = parser.add_mutually_exclusive_group()
    journal.add_argument("--journal", metavar="FILE", default=None,
                         help="also write the journal of answers to FILE, one JSON line per "
                              "answer, flushed at once (an existing file is replaced); judge it "
                              "with `orwidgets verdict FILE`")
    journal.add_argument("--no-journal", action="store_true",
                         help="record no journal at all (GET /_emulator/journal answers 404)")
    for field, kind, what in _IN_FLIGHT_FLAGS:
        parser.add_argument(
            "--in-flight-" + field.replace("_", "-"), dest="in_flight_" + field, type=kind,
            default=None, metavar=kind.__name__.upper(),
            help=f"in-flight budget (2026-08 on): {what} (default {getattr(IN_FLIGHT_DEFAULTS, field):g})",
        )
    return parser


#: The in-flight budget's numbers as CLI flags: field, type, what it is.
_IN_FLIGHT_FLAGS = (
    ("fraction", float, "share of the balance it may hold"),
    ("ceiling_usd", float, "it never goes above this many dollars"),
    ("threshold_usd", float, "from this balance on it does not apply"),
    ("settle_s", float, "seconds a finished call's cost stays held"),
    ("completion_cap_tokens", int, "completion tokens an estimate counts at most"),
    ("retry_after_s", int, "Retry-After of its 402"),
)


def _in_flight(args: argparse.Namespace) -> dict[str, float | int]:
    return {field: getattr(args, "in_flight_" + field) for field, _, _ in _IN_FLIGHT_FLAGS
            if getattr(args, "in_flight_" + field) is not None}


def _flag_message(text: str) -> str:
    """An in-flight field's or the journal's error, named by its flag (``fraction: ...`` ->
    ``--in-flight-fraction: ...``, ``journal: ...`` -> ``--journal: ...``)."""
    field = text.split(":", 1)[0]
    if any(field == name for name, _, _ in _IN_FLIGHT_FLAGS):
        return "--in-flight-" + field.replace("_", "-") + text[len(field):]
    if field == "journal":
        return "--" + text
    return text


def _banner(emu, base_url: str) -> str:
    from .state import DEMO_KEYS

    version = emu.policy
    lines = [
        f"orwidgets OpenRouter emulator, policy {version.id}: {version.title}",
        f"  base URL     {base_url}",
        f"  API base     {base_url}/api/v1   (base_url for the openai SDK or any OpenRouter client)",
        f"  admin token  {emu.admin_token}   (header X-Admin-Token; printed only now)",
        f"  in-flight    {_in_flight_line(emu.in_flight)}",
        f"  journal      {_journal_line(emu.journal)}",
        "  demo keys:",
    ]
    for acct in emu.accounts_view():
        name = acct["name"]
        if name is None or name not in emu.demo_keys:
            continue
        lines.append(
            f"    {name:<11} {emu.demo_keys[name]}  balance {format_usd(acct['balance_usd'])}, "
            f"purchased {format_usd(acct['purchased_usd'])}"
            f"{', management' if acct['management'] else ''}"
        )
    for demo in DEMO_KEYS:
        lines.append(
            f"    {demo.name:<11} {emu.demo_keys[demo.name]}  a key of '{demo.account}': "
            f"${demo.limit_usd:,.2f} {demo.limit_reset} limit, ${demo.spent_today_usd:,.2f} spent"
        )
    lines.append("Ctrl+C stops it.")
    return "\n".join(lines)


def _journal_line(journal) -> str:
    if journal is None:
        return "off (--no-journal)"
    where = f"in memory and in {journal.sink_name}" if journal.sink_name else "in memory"
    return f"{where}: GET /_emulator/journal, GET /_emulator/verdict"


def _in_flight_line(params) -> str:
    return (f"budget {params.fraction:g} x balance up to ${params.ceiling_usd:,.2f}, below a "
            f"${params.threshold_usd:,.2f} balance; settles {params.settle_s:g} s; "
            f"{params.completion_cap_tokens} tokens at most; Retry-After {params.retry_after_s} s "
            "(under 2026-08)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until interrupted; returns the process exit code."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    from .state import parse_latency

    try:
        # Before anything starts: "-5" is minus five milliseconds (refused), not 5.
        args.latency_ms = parse_latency(args.latency_ms)
    except ValueError as exc:
        print(f"orwidgets emulator: --latency-ms{str(exc).removeprefix('latency_ms')}",
              file=sys.stderr)
        return 2
    # Heavy imports only now: `orwidgets emulator --help` stays instant.
    import uvicorn

    from .app import create_app
    from .server import bind_socket, is_loopback, public_host_message, uvicorn_config

    try:
        app = create_app(policy=args.policy, latency_ms=args.latency_ms,
                         admin_token=args.admin_token, accounts=args.accounts, seed=args.seed,
                         in_flight=_in_flight(args),
                         journal=False if args.no_journal else args.journal)
    except ValueError as exc:
        print(f"orwidgets emulator: {_flag_message(str(exc))}", file=sys.stderr)
        return 2
    emu = app.state.emulator
    try:
        if not is_loopback(args.host):
            print(f"warning: {public_host_message(args.host)}", file=sys.stderr)
        try:
            sock = bind_socket(args.host, args.port)
        except (OSError, ValueError) as exc:
            print(f"orwidgets emulator: cannot listen on {args.host}:{args.port}: {exc}",
                  file=sys.stderr)
            return 1
        host, port = sock.getsockname()[:2]
        url_host = f"[{host}]" if ":" in host else host
        print(_banner(emu, f"http://{url_host}:{port}"), flush=True)
        server = uvicorn.Server(uvicorn_config(app))
        try:
            server.run(sockets=[sock])
        except KeyboardInterrupt:
            pass
        finally:
            sock.close()
    finally:
        emu.close()  # the journal file: every line was flushed as written, now it is closed
    if emu.journal is not None and emu.journal.sink_error:
        print(f"orwidgets emulator: {emu.journal.sink_error}", file=sys.stderr)
        return 1
    return 0
