"""The operator's command line (`python -m tiktok_publisher.cli`, or `tiktok-publisher`): from `make deploy`
to an app TikTok approves (docs/go-live.md).

    configure      set the TikTok client key and secret (and the JWT, CloudFront keys) in the stack's secret
    portal-values  print what to register in TikTok's developer portal
    check          check the deployment: secret filled, authorizer, OpenAPI, legal pages, schedules
    verify-domain  place TikTok's verification file under the PULL_FROM_URL prefix and check the prefix;
                   or print the DNS TXT record for a domain
    backfill-refresh-due
                   once, after upgrading to the schedule that keeps grants alive: places every active
                   account in the refresh_due index by the current rule (refresh/backfill.py). No TikTok
                   call, no token read; safe to repeat and to run while the service runs. It reads its
                   settings from the environment as the functions do: ACCOUNTS_TABLE (the stack's
                   AccountsTableName output), REFRESH_SHARDS, AWS credentials allowed to Scan and
                   UpdateItem that table; the report is printed as JSON.

Every command works on a stack in AWS (`--stack NAME [--region R]`) or on `make run` (`--local`). Secrets are
read from a prompt, a file or stdin, never from the command line, and never printed. Exit status: 0 done,
1 a check failed, 2 the input or the target cannot be used (the message says what to do).
"""

from __future__ import annotations

import argparse
import getpass
import json
import secrets
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from tiktok_publisher.bootstrap import OperatorPorts, operator_ports, ports
from tiktok_publisher.config import ConfigError
from tiktok_publisher.connect.scopes import DEFAULT_SCOPES
from tiktok_publisher.domain.deployment import Deployment, OperatorError
from tiktok_publisher.golive import checks, portal, secret, verification
from tiktok_publisher.golive.findings import Finding
from tiktok_publisher.legal.pages import scope_purposes
from tiktok_publisher.refresh.backfill import DEFAULT_PAGE_SIZE, BackfillReport, backfill_refresh_due

PROG = "python -m tiktok_publisher.cli"
LOCAL_GATEWAY = "http://127.0.0.1:3000"
PORTAL = "https://developers.tiktok.com/apps/"


def _parser() -> argparse.ArgumentParser:
    target = argparse.ArgumentParser(add_help=False)
    group = target.add_argument_group("target")
    group.add_argument("--stack", help="the CloudFormation stack name (sam deploy's stack_name)")
    group.add_argument("--region", help="its region (default: your AWS configuration's)")
    group.add_argument("--api-url", help="the API's base URL when you serve it on your own domain")
    group.add_argument(
        "--local",
        nargs="?",
        const=LOCAL_GATEWAY,
        metavar="GATEWAY_URL",
        help=f"work on `make run`'s local stack instead (default {LOCAL_GATEWAY})",
    )
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    configure = commands.add_parser("configure", parents=[target], help="fill the stack's secret")
    configure.add_argument("--client-key", help="your TikTok app's client key (Sandbox or Production)")
    source = configure.add_mutually_exclusive_group()
    source.add_argument(
        "--client-secret-stdin", action="store_true", help="read the client secret from stdin"
    )
    source.add_argument("--client-secret-file", type=Path, help="read the client secret from this file")
    configure.add_argument(
        "--generate-jwt-secret", action="store_true", help="generate the HS256 secret your callers' JWTs use"
    )
    configure.add_argument("--cloudfront-key-pair-id", help="CloudFront key pair (public key) id, for pulls")
    configure.add_argument("--cloudfront-private-key-file", type=Path, help="its PEM private key")
    configure.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")

    values = commands.add_parser("portal-values", parents=[target], help="what to register at TikTok")
    values.add_argument("--json", action="store_true")

    check = commands.add_parser("check", parents=[target], help="check the deployment")
    check.add_argument("--json", action="store_true")

    verify = commands.add_parser("verify-domain", parents=[target], help="PULL_FROM_URL verification helper")
    verify.add_argument("--prefix", help="the URL prefix to verify (default: the stack's MediaPullBaseUrl)")
    verify.add_argument(
        "--mode", choices=["s3", "cloudfront"], help="how media is served (default: MediaPullMode)"
    )
    verify.add_argument("--file", type=Path, help="the verification file TikTok gave you for the prefix")
    verify.add_argument(
        "--watch", type=int, default=0, metavar="N", help="re-check the test object N more times (the hour)"
    )
    verify.add_argument(
        "--watch-interval", type=float, default=60, metavar="SECONDS", help="between re-checks (default 60)"
    )
    verify.add_argument("--domain", help="verify a whole domain instead: print its DNS TXT record")
    verify.add_argument("--txt-value", help="the TXT value TikTok shows for --domain")
    verify.add_argument("--dry-run", action="store_true", help="say where the file would go, write nothing")

    backfill = commands.add_parser(
        "backfill-refresh-due", help="place every account in the refresh_due index by the current rule"
    )
    backfill.add_argument("--dry-run", action="store_true", help="count what would move; write nothing")
    backfill.add_argument("--page-size", type=int, default=DEFAULT_PAGE_SIZE, help="rows per scan page")
    return parser


def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    """Run one command; the exit status."""
    out = out or sys.stdout
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "backfill-refresh-due":
        if args.page_size < 1:
            parser.error("--page-size must be at least 1")
        return _backfill(args, out)
    try:
        if args.command == "verify-domain" and args.domain:
            return _dns(args, out)
        if not args.local and not args.stack:
            raise OperatorError("which stack? give --stack NAME (and --region), or --local for `make run`")
        # Input is checked before any AWS call: a bad value fails at once, saying what to give instead.
        if args.command == "verify-domain" and args.prefix:
            verification.check_prefix(args.prefix, local=args.local is not None)
        if args.command == "configure":
            args.change = _secret_change(args, stdin or sys.stdin)
            secret.validate(args.change)
        ports = operator_ports(
            stack_name=args.stack, region=args.region, local_gateway=args.local, api_url=args.api_url
        )
        deployment = ports.deployments.describe()
        command = {
            "configure": _configure,
            "portal-values": _portal,
            "check": _check,
            "verify-domain": _verify,
        }
        return command[args.command](args, ports, deployment, out, stdin or sys.stdin)
    except (OperatorError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # AWS credentials missing, expired, ...: say so, never a traceback with values
        name = type(exc).__name__
        if name in (
            "NoCredentialsError",
            "NoRegionError",
            "ProfileNotFound",
            "ClientError",
            "EndpointConnectionError",
        ):
            print(f"error: AWS refused or could not be reached ({name}): {exc}", file=sys.stderr)
            return 2
        raise


# ---------------------------------------------------------------------- backfill-refresh-due


def _backfill_progress(report: BackfillReport) -> None:
    if report.pages % 50 == 0:
        print(f"... {report.scanned} rows scanned, {report.moved} moved", file=sys.stderr, flush=True)


def _backfill(args: argparse.Namespace, out: TextIO) -> int:
    wired = ports(secrets=False)  # the backfill reads no token and needs no app secret
    report = backfill_refresh_due(
        wired.refresh_keys,
        shards=wired.settings.refresh_shards,
        dry_run=args.dry_run,
        page_size=args.page_size,
        progress=_backfill_progress,
    )
    print(json.dumps({"command": args.command, **report.as_dict()}, indent=2), file=out)
    return 0


# ---------------------------------------------------------------------- configure


def _client_secret(args: argparse.Namespace, stdin: TextIO) -> str | None:
    if args.client_secret_stdin:
        return stdin.readline().rstrip("\r\n")
    if args.client_secret_file:
        try:
            return args.client_secret_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise OperatorError(f"cannot read {args.client_secret_file}: {exc.strerror}") from None
    if args.client_key and stdin.isatty():
        return getpass.getpass("TikTok client secret (not shown): ")
    return None


def _secret_change(args: argparse.Namespace, stdin: TextIO) -> secret.SecretChange:
    pem = None
    if args.cloudfront_private_key_file:
        try:
            pem = args.cloudfront_private_key_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise OperatorError(f"cannot read {args.cloudfront_private_key_file}: {exc.strerror}") from None
    return secret.SecretChange(
        client_key=args.client_key,
        client_secret=_client_secret(args, stdin),
        jwt_secret=secrets.token_urlsafe(48) if args.generate_jwt_secret else None,
        cloudfront_key_pair_id=args.cloudfront_key_pair_id,
        cloudfront_private_key=pem,
    )


def _configure(
    args: argparse.Namespace, ports: OperatorPorts, deployment: Deployment, out: TextIO, stdin: TextIO
) -> int:
    report = secret.configure(deployment, args.change, secrets=ports.secrets, dry_run=args.dry_run)
    verb = "would set" if args.dry_run else "set"
    print(f"secret {report.secret_id}", file=out)
    print(f"  {verb}: {', '.join(report.changed) or 'nothing (already these values)'}", file=out)
    print(f"  unchanged: {', '.join(report.kept) or '-'}", file=out)
    if args.generate_jwt_secret and report.written:
        print(
            "  jwt_secret was generated: read it from Secrets Manager for whoever signs your callers' JWTs",
            file=out,
        )
    return 0


# ---------------------------------------------------------------------- portal-values


def _portal(
    args: argparse.Namespace, ports: OperatorPorts, deployment: Deployment, out: TextIO, stdin: TextIO
) -> int:
    values = portal.portal_values(deployment, scope_purposes(DEFAULT_SCOPES))
    if args.json:
        print(json.dumps(values.as_dict(), indent=2), file=out)
        return 0
    print(f"TikTok developer portal ({PORTAL}), app of stack {deployment.stack_name}:", file=out)
    print(f"  Login Kit > Redirect URI        {values.redirect_uri}", file=out)
    if not values.redirect_uri_registered and not deployment.local:
        print("      then deploy again with OAuthRedirectUri set to it", file=out)
    print(f"  Webhooks > Callback URL         {values.webhook_url}", file=out)
    print(f"  App details > Privacy policy    {values.privacy_policy_url}", file=out)
    print(f"  App details > Terms of service  {values.terms_of_service_url}", file=out)
    print("  Products: Login Kit, Content Posting API (Direct Post on), Webhooks", file=out)
    print("  Scopes, and why (paste into the review form):", file=out)
    for scope, why in values.scopes:
        print(f"    {scope:<18} {why}", file=out)
    if values.pull_prefix:
        print(f"  URL properties > URL prefix     {values.pull_prefix}   (verify-domain)", file=out)
    else:
        print(
            "  URL properties: none needed yet (FILE_UPLOAD); see verify-domain for PULL_FROM_URL", file=out
        )
    print(
        f"  Audit: {'audited (AppAudited=true)' if values.audited else 'not yet (sandbox limits apply)'}",
        file=out,
    )
    return 0


# ---------------------------------------------------------------------- check


def _report(findings: list[Finding], out: TextIO, *, as_json: bool) -> int:
    failed = [f for f in findings if not f.ok]
    if as_json:
        print(
            json.dumps([{"check": f.check, "ok": f.ok, "detail": f.detail} for f in findings], indent=2),
            file=out,
        )
    else:
        for f in findings:
            print(f"  {'ok  ' if f.ok else 'FAIL'}  {f.check}: {f.detail}", file=out)
        print(f"{len(findings) - len(failed)} of {len(findings)} checks passed", file=out)
    return 1 if failed else 0


def _check(
    args: argparse.Namespace, ports: OperatorPorts, deployment: Deployment, out: TextIO, stdin: TextIO
) -> int:
    if not args.json:
        print(f"stack {deployment.stack_name} ({deployment.api_url})", file=out)
    findings = checks.check_deployment(
        deployment, secrets=ports.secrets, web=ports.web, rules=ports.rules, scopes=DEFAULT_SCOPES
    )
    return _report(findings, out, as_json=args.json)


# ---------------------------------------------------------------------- verify-domain


def _dns(args: argparse.Namespace, out: TextIO) -> int:
    if not args.txt_value:
        raise OperatorError("--domain needs --txt-value: the value TikTok shows for it under URL properties")
    record = verification.dns_record(args.domain, args.txt_value)
    print(f"Add this record at the DNS provider of {record['name']}:", file=out)
    print(f'  name   {record["name"]}   ("@" if your provider asks for a name inside the zone)', file=out)
    print(f"  type   {record['type']}", file=out)
    print(f'  value  "{record["value"]}"', file=out)
    print(f"  TTL    {record['ttl']} (or your provider's default)", file=out)
    print(
        f"Then check it answers (dig +short TXT {record['name']}) and press Verify in the portal.", file=out
    )
    print(
        "A verified domain covers its subdomains; TikTok still pulls only over https, with no redirect.",
        file=out,
    )
    return 0


def _verify(
    args: argparse.Namespace, ports: OperatorPorts, deployment: Deployment, out: TextIO, stdin: TextIO
) -> int:
    params = deployment.parameters
    mode = (
        args.mode or (params.get("MediaPullMode") if params.get("MediaPullMode") != "none" else None) or "s3"
    )
    prefix = args.prefix or params.get("MediaPullBaseUrl")
    if not prefix:
        raise OperatorError("no prefix: give --prefix https://... (or deploy with MediaPullBaseUrl set)")
    prefix = verification.check_prefix(prefix, local=deployment.local)
    bucket = deployment.resource("MediaBucket") or deployment.outputs.get("MediaBucketName")
    if not bucket:
        raise OperatorError(f"stack {deployment.stack_name} has no MediaBucket")
    base = params.get("MediaPullBaseUrl") if args.prefix is None or mode == "cloudfront" else None
    pull = ports.pull(mode, base or _base_for(prefix, mode, bucket), bucket, deployment.resource("AppSecret"))
    file = None
    if args.file:
        try:
            file = (args.file.name, args.file.read_bytes())
        except OSError as exc:
            raise OperatorError(f"cannot read {args.file}: {exc.strerror}") from None
    if args.dry_run:
        where = verification.placement(prefix, pull, now=time.time())
        print(f"prefix {prefix} ({mode}) = s3://{bucket}/{where.prefix_key}", file=out)
        if file:
            print(
                f"  would place {file[0]} at s3://{bucket}/{where.prefix_key}{file[0]} ({prefix}{file[0]})",
                file=out,
            )
        print(
            "  would check a test object there: https, no redirect, ranged GET, Content-Type, 1 h URL",
            file=out,
        )
        return 0
    print(f"prefix {prefix} ({mode}, bucket {bucket})", file=out)
    findings = verification.verify_prefix(
        prefix,
        media=ports.media(bucket),
        pull=pull,
        web=ports.web,
        local=deployment.local,
        now=time.time(),
        verification_file=file,
        url_properties=ports.url_properties,
        watch=max(0, args.watch),
        watch_interval=max(0.0, args.watch_interval),
        pause=time.sleep,
    )
    status = _report(findings, out, as_json=False)
    if status == 0:
        print(
            "Now press Verify in the portal (URL properties); TikTok may take a while to fetch the file.",
            file=out,
        )
    return status


def _base_for(prefix: str, mode: str, bucket: str) -> str:
    """The signer's base URL for a prefix given on the command line: for s3 pulls, the prefix's origin with
    the bucket (path-style, as the worker signs); for CloudFront, the distribution's origin."""
    origin = prefix.split("/", 3)
    root = f"{origin[0]}//{origin[2]}"
    return f"{root}/{bucket}" if mode == "s3" else root
