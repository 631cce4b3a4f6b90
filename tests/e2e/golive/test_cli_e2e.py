"""The go-live tool, `python -m tiktok_publisher.cli`, run as an operator runs it, against the local stack:
the portal values, the deployment check, the secret, the PULL_FROM_URL prefix (moto's origin is the local
stack's verified prefix), and a clear error, exit status 2, for each bad input that needs a target (those
that do not: tests/unit/golive/test_cli_inputs.py)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from local_stack import LocalStack
from tiktok_publisher.connect.scopes import DEFAULT_SCOPES
from tiktok_publisher.legal.pages import SCOPE_PURPOSES

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("stack")]
ROOT = Path(__file__).resolve().parents[3]
FAKE_PEM = "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"


def cli(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The tool in its own process, as an operator runs it (no AWS credentials of the test leak in)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "tiktok_publisher.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=environ,
        cwd=ROOT,
        check=False,
    )


def bucket(stack: LocalStack) -> str:
    return stack.function_envs["AccountsFunction"]["MEDIA_BUCKET"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def redirecting_server() -> Iterator[str]:
    """An origin that answers every GET with a 301 to somewhere else (a CDN misconfigured to redirect)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(301)
            self.send_header("Location", "https://elsewhere.example.com" + self.path.split("?", 1)[0])
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(5)


def test_portal_values_are_the_stacks_urls_and_every_scope(local_stack: LocalStack):
    run = cli("portal-values", "--local", local_stack.gateway_url, "--json")

    assert run.returncode == 0, run.stderr
    values = json.loads(run.stdout)
    api = local_stack.gateway_url
    assert values["redirect_uri"] == api + "/v1/oauth/tiktok/callback"
    assert values["webhook_url"] == api + "/v1/webhooks/tiktok"
    assert values["privacy_policy_url"] == api + "/legal/privacy"
    assert values["terms_of_service_url"] == api + "/legal/terms"
    assert values["scopes"] == [{"scope": s, "reason": SCOPE_PURPOSES[s]} for s in DEFAULT_SCOPES]
    assert values["audited"] is False
    text = cli("portal-values", "--local", local_stack.gateway_url)
    assert "Login Kit > Redirect URI" in text.stdout


def test_check_passes_on_the_local_stack(local_stack: LocalStack):
    run = cli("check", "--local", local_stack.gateway_url, "--json")

    assert run.returncode == 0, run.stdout + run.stderr
    findings = {f["check"]: f for f in json.loads(run.stdout)}
    assert all(f["ok"] for f in findings.values()), findings
    assert {"secret filled", "authorizer refuses a bad token", "OpenAPI document served"} <= set(findings)
    assert {"privacy page served", "terms page served"} <= set(findings)
    schedules = {c: f["detail"] for c, f in findings.items() if c.startswith("schedule ")}
    assert len(schedules) == 3
    # The metrics schedule is off by design until the operator sets MetricsEnabled=true.
    assert schedules["schedule tiktok-publisher-local-metrics-snapshots"] == "DISABLED (MetricsEnabled=false)"


def test_configure_fills_the_secret_without_printing_it(local_stack: LocalStack, tmp_path: Path):
    secrets = local_stack.client("secretsmanager")
    before = json.loads(secrets.get_secret_value(SecretId=local_stack.app_secret_id)["SecretString"])

    # A dry run says what would change and changes nothing
    dry = cli(
        "configure", "--local", local_stack.gateway_url, "--client-key", "sbawreplacement1",
        "--client-secret-stdin", "--dry-run", stdin="a-new-client-secret-value\n",
    )  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    assert "would set: client_key, client_secret" in dry.stdout
    assert json.loads(secrets.get_secret_value(SecretId=local_stack.app_secret_id)["SecretString"]) == before
    assert "a-new-client-secret-value" not in dry.stdout + dry.stderr

    # A real write (the CloudFront signing key: nothing on the local stack uses it) merges into the secret
    pem = tmp_path / "cloudfront.pem"
    pem.write_text(FAKE_PEM)
    run = cli(
        "configure", "--local", local_stack.gateway_url, "--cloudfront-key-pair-id", "K2JCJMDEHXQW5F",
        "--cloudfront-private-key-file", str(pem),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "set: cloudfront_key_pair_id, cloudfront_private_key" in run.stdout
    assert "BEGIN PRIVATE KEY" not in run.stdout + run.stderr
    after = json.loads(secrets.get_secret_value(SecretId=local_stack.app_secret_id)["SecretString"])
    assert after == {**before, "cloudfront_key_pair_id": "K2JCJMDEHXQW5F", "cloudfront_private_key": FAKE_PEM}


def test_verify_domain_places_the_file_and_checks_the_prefix(local_stack: LocalStack, tmp_path: Path):
    # Given TikTok's verification file for the prefix the local stack pulls from (moto's origin)
    prefix = f"{local_stack.moto_url}/{bucket(local_stack)}/"
    token = tmp_path / "tiktokP4qR7sT2.txt"
    token.write_text("tiktok-developers-site-verification=P4qR7sT2")

    run = cli("verify-domain", "--local", local_stack.gateway_url, "--prefix", prefix, "--file", str(token),
              "--watch", "1", "--watch-interval", "0.2")  # fmt: skip

    # Then every check passes: the file is served under the prefix, the test object over the worker's URLs
    assert run.returncode == 0, run.stdout + run.stderr
    checks = (
        "verification file served", "served without redirect", "Content-Type", "ranged GET",
        "URL valid for the hour TikTok may take", "verified at TikTok", "still served after 0.2 s",
    )  # fmt: skip
    for check in checks:
        assert f"ok    {check}" in run.stdout, run.stdout
    s3 = local_stack.client("s3")
    body = s3.get_object(Bucket=bucket(local_stack), Key=token.name)["Body"].read()
    assert body == token.read_bytes()
    # And the test object is gone again
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket(local_stack)).get("Contents", [])]
    assert not [k for k in keys if "tiktok-publisher-probe-" in k]
    # And a dry run only says where the file would go
    dry = cli("verify-domain", "--local", local_stack.gateway_url, "--prefix", prefix, "--file", str(token),
              "--dry-run")  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    assert f"would place {token.name} at s3://{bucket(local_stack)}/{token.name}" in dry.stdout


# ------------------------------------------------------------------ a clear error for each bad input


def _refused(run: subprocess.CompletedProcess[str], *phrases: str) -> None:
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.startswith("error: "), run.stderr
    for phrase in phrases:
        assert phrase in run.stderr, run.stderr
    assert "Traceback" not in run.stderr


def test_a_missing_stack(local_stack: LocalStack):
    moto = {"AWS_ENDPOINT_URL": local_stack.moto_url, "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing"}  # fmt: skip

    _refused(cli("check", "--stack", "no-such-stack", "--region", "us-east-1", env=moto),
             "stack 'no-such-stack' not found in us-east-1", "make deploy")  # fmt: skip
    _refused(
        cli("check", "--local", f"http://127.0.0.1:{closed_port()}"), "no local stack answers", "make run"
    )


def test_an_unreachable_prefix(local_stack: LocalStack):
    prefix = f"http://127.0.0.1:{closed_port()}/{bucket(local_stack)}/"

    _refused(cli("verify-domain", "--local", local_stack.gateway_url, "--prefix", prefix),
             "cannot reach", "Connection refused")  # fmt: skip


def test_a_redirecting_url(local_stack: LocalStack, redirecting_server: str):
    prefix = f"{redirecting_server}/{bucket(local_stack)}/"

    run = cli("verify-domain", "--local", local_stack.gateway_url, "--prefix", prefix)

    _refused(run, "answered 301, a redirect to https://elsewhere.example.com/", "TikTok follows no redirects")


def test_a_prefix_the_media_urls_are_not_under(local_stack: LocalStack):
    run = cli(
        "verify-domain", "--local", local_stack.gateway_url, "--prefix", f"{local_stack.moto_url}/other/"
    )

    _refused(run, "not under the media URLs' root")


def test_no_prefix_and_no_pull_domain(local_stack: LocalStack):
    _refused(cli("verify-domain", "--local", local_stack.gateway_url), "no prefix")
