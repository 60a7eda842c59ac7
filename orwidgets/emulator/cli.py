"""``orwidgets emulator``: serve the emulator in the foreground and print how to reach it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..policy import DEFAULT_POLICY_ID, policy_choices

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
                        help="chat answer latency in ms: '0', '30' or a range '20-50' (default 20-50)")
    parser.add_argument("--accounts", metavar="FILE", default=None,
                        help="JSON file with extra accounts: a list of {name, balance_usd, "
                             "purchased_usd, management, label, key}")
    parser.add_argument("--seed", type=int, default=0, help="seed of the latency draws (default 0)")
    return parser


def _banner(emu, base_url: str) -> str:
    from .state import DEMO_KEYS

    version = emu.policy
    lines = [
        f"orwidgets OpenRouter emulator, policy {version.id}: {version.title}",
        f"  base URL     {base_url}",
        f"  API base     {base_url}/api/v1   (base_url for the openai SDK or any OpenRouter client)",
        f"  admin token  {emu.admin_token}   (header X-Admin-Token; printed only now)",
        "  demo keys:",
    ]
    for acct in emu.accounts_view():
        name = acct["name"]
        if name is None or name not in emu.demo_keys:
            continue
        lines.append(
            f"    {name:<11} {emu.demo_keys[name]}  balance ${acct['balance_usd']:,.2f}, "
            f"purchased ${acct['purchased_usd']:,.2f}{', management' if acct['management'] else ''}"
        )
    for demo in DEMO_KEYS:
        lines.append(
            f"    {demo.name:<11} {emu.demo_keys[demo.name]}  a key of '{demo.account}': "
            f"${demo.limit_usd:,.2f} {demo.limit_reset} limit, ${demo.spent_today_usd:,.2f} spent"
        )
    lines.append("Ctrl+C stops it.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until interrupted; returns the process exit code."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    # Heavy imports only now: `orwidgets emulator --help` stays instant.
    import uvicorn

    from .app import create_app
    from .server import bind_socket, is_loopback, public_host_message, uvicorn_config

    try:
        app = create_app(policy=args.policy, latency_ms=args.latency_ms,
                         admin_token=args.admin_token, accounts=args.accounts, seed=args.seed)
    except ValueError as exc:
        print(f"orwidgets emulator: {exc}", file=sys.stderr)
        return 2
    if not is_loopback(args.host):
        print(f"warning: {public_host_message(args.host)}", file=sys.stderr)
    try:
        sock = bind_socket(args.host, args.port)
    except (OSError, ValueError) as exc:
        print(f"orwidgets emulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    host, port = sock.getsockname()[:2]
    url_host = f"[{host}]" if ":" in host else host
    print(_banner(app.state.emulator, f"http://{url_host}:{port}"), flush=True)
    server = uvicorn.Server(uvicorn_config(app))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0
