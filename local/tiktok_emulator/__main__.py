"""`python -m tiktok_emulator --port 8900 [--config file.json]`: run the emulator in the foreground."""

from __future__ import annotations

import argparse
import contextlib
import logging
from typing import Any

from .config import EmulatorConfig, TestAccount
from .emulator import Emulator
from .server import EmulatorServer


def _account(spec: str) -> TestAccount:
    """NAME[:private][:banned][:nocomment][:noduet][:nostitch][:maxsec=N]"""
    name, *flags = spec.split(":")
    options: dict[str, Any] = {}
    for flag in flags:
        if flag.startswith("maxsec="):
            options["max_video_post_duration_sec"] = int(flag.split("=", 1)[1])
        else:
            key = {
                "private": "private",
                "banned": "banned",
                "nocomment": "comment_disabled",
                "noduet": "duet_disabled",
                "nostitch": "stitch_disabled",
            }.get(flag)
            if key is None:
                raise argparse.ArgumentTypeError(f"unknown account flag {flag!r}")
            options[key] = True
    return TestAccount(name, **options)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(prog="python -m tiktok_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--config", help="JSON or YAML file with EmulatorConfig keys")
    parser.add_argument("--client-key")
    parser.add_argument("--client-secret")
    parser.add_argument("--redirect-uri", action="append", help="registered redirect URI (repeatable)")
    parser.add_argument(
        "--verified-prefix", action="append", help="verified URL prefix or domain (repeatable)"
    )
    parser.add_argument(
        "--account", action="append", type=_account, help="NAME[:private][:banned]... (repeatable)"
    )
    parser.add_argument("--audited", action="store_true", help="behave as an audited app")
    parser.add_argument("--sandbox", action="store_true", help="behave as a sandbox app (see README)")
    parser.add_argument(
        "--target-user", action="append", help="sandbox target user, by account name (repeatable)"
    )
    parser.add_argument("--processing-delay", type=float, help="seconds from transfer to final status")
    parser.add_argument("--webhook-url")
    parser.add_argument("--data-dir", help="where received media is written (default: a temp dir)")
    parser.add_argument("--quiet", action="store_true", help="no request log")
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> EmulatorConfig:
    """Config file first, then flags on top."""
    config = EmulatorConfig.load(args.config) if args.config else EmulatorConfig()
    patch: dict[str, Any] = {}
    flags = {
        "client_key": args.client_key,
        "client_secret": args.client_secret,
        "redirect_uris": args.redirect_uri,
        "verified_url_prefixes": args.verified_prefix,
        "processing_delay": args.processing_delay,
        "webhook_url": args.webhook_url,
        "data_dir": args.data_dir,
        "audited": True if args.audited else None,
        "sandbox": True if args.sandbox else None,
        "sandbox_target_users": args.target_user,
    }
    patch.update({k: v for k, v in flags.items() if v is not None})
    if args.account:
        patch["accounts"] = [vars(a) for a in args.account]
        if config.default_account not in {a.name for a in args.account}:
            patch["default_account"] = args.account[0].name
    return config.patched(patch) if patch else config


def main(argv: list[str] | None = None) -> None:
    """Run until interrupted."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = build_config(args)
    server = EmulatorServer(Emulator(config), args.host, args.port, quiet=args.quiet)
    print(f"TikTok emulator on {server.base_url} (client_key {config.client_key})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
