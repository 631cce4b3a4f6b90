"""`python -m local_stack`: run the local stack in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import Any

from .stack import LocalStack


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line (ports default to the contract's local defaults)."""
    parser = argparse.ArgumentParser(prog="python -m local_stack", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("LOCAL_GATEWAY_PORT", "3000")))
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("LOCAL_MOTO_PORT", "4566")))
    parser.add_argument(
        "--emulator-port", type=int, default=int(os.environ.get("LOCAL_EMULATOR_PORT", "8900"))
    )
    parser.add_argument(
        "--schedule-seconds",
        type=float,
        default=None,
        help="seconds between schedule runs (default: each rule's rate; 0: only POST /_local/schedule/NAME)",
    )
    parser.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="template parameter"
    )
    parser.add_argument("--quiet", action="store_true", help="no request and function logs")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Boot, print where everything is, wait for a signal, stop cleanly."""
    args = parse_args(argv)
    params = dict(p.split("=", 1) for p in args.param)
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        del signum, frame
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    stack = LocalStack(
        host=args.host,
        gateway_port=args.port,
        moto_port=args.moto_port,
        emulator_port=args.emulator_port,
        tiktok_api_base=os.environ.get("TIKTOK_API_BASE") or None,
        tiktok_auth_base=os.environ.get("TIKTOK_AUTH_BASE") or None,
        schedule_interval=args.schedule_seconds,
        parameter_overrides=params,
        prewarm=True,
        quiet=args.quiet,
    )
    with stack:
        token = stack.dev_token()
        lines = [
            "",
            "tiktok-publisher local stack is up",
            f"  API gateway     {stack.gateway_url}   (console at /, API under /v1)",
            f"  TikTok          {stack.tiktok_api_base}"
            + ("   (emulator; consent page at /v2/auth/authorize/)" if stack.emulator_url else ""),
            f"  moto (AWS)      {stack.moto_url}",
            f"  admin           {stack.gateway_url}/_local/stack | /_local/deliveries |"
            " POST /_local/invoke/<Function> | POST /_local/schedule/<Name> | POST /_local/token",
            "  dev JWT (tenant demo-tenant, user demo-user, 12 h):",
            f"    {token}",
            f'  try: curl -H "Authorization: Bearer $TOKEN" {stack.gateway_url}/v1/accounts',
            "Ctrl-C stops everything.",
            "",
        ]
        sys.stderr.write("\n".join(lines) + "\n")
        sys.stderr.flush()
        while not stop.wait(0.5):
            pass
        sys.stderr.write("stopping...\n")


if __name__ == "__main__":
    main()
