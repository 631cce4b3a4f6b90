"""The go-live tool's logic with small in-memory ports: the secret merge, the deployment checks, the prefix
rules and the DNS record. (The same code against the local stack: tests/e2e/golive/test_cli_e2e.py.)"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import pytest

from tiktok_publisher.domain.deployment import Deployment, OperatorError, Resource, WebAnswer
from tiktok_publisher.golive import checks, portal, secret, verification

DEPLOYMENT = Deployment(
    stack_name="tp-prod",
    region="eu-west-1",
    api_url="https://api.acme.example",
    parameters={
        "CompanyName": "Acme",
        "OAuthRedirectUri": "",
        "MediaPullMode": "none",
        "AppAudited": "false",
    },
    outputs={},
    resources={
        "AppSecret": Resource("arn:secret", "AWS::SecretsManager::Secret"),
        "RefreshFunctionRefreshSchedule": Resource("tp-refresh", "AWS::Events::Rule"),
        "DispatchFunctionDispatchSchedule": Resource("tp-dispatch", "AWS::Events::Rule"),
        "RefreshFunctionRefreshContinuation": Resource("tp-continue", "AWS::Events::Rule"),
    },
)


class Secrets:
    def __init__(self, values: dict[str, Any]) -> None:
        self.values = dict(values)
        self.writes = 0

    def read(self, secret_id: str) -> dict[str, Any]:
        return dict(self.values)

    def write(self, secret_id: str, values: Mapping[str, Any]) -> None:
        self.values = dict(values)
        self.writes += 1


PLACEHOLDERS = {
    "client_key": "FILL_AFTER_DEPLOY",
    "client_secret": "FILL_AFTER_DEPLOY",
    "jwt_secret": "FILL_AFTER_DEPLOY",
    "state_signing_key": "generated",
}


def test_configure_merges_and_reports_names_only():
    store = Secrets(PLACEHOLDERS)
    change = secret.SecretChange(client_key="sbawabc123", client_secret="s3cret")

    report = secret.configure(DEPLOYMENT, change, secrets=store, dry_run=False)

    assert store.values == {**PLACEHOLDERS, "client_key": "sbawabc123", "client_secret": "s3cret"}
    assert report.changed == ("client_key", "client_secret")
    assert report.kept == ("jwt_secret", "state_signing_key")
    assert "s3cret" not in repr(report) + repr(change)
    # The same request twice writes nothing the second time
    again = secret.configure(DEPLOYMENT, change, secrets=store, dry_run=False)
    assert (again.changed, again.written, store.writes) == ((), False, 1)


def test_dry_run_writes_nothing():
    store = Secrets(PLACEHOLDERS)

    report = secret.configure(
        DEPLOYMENT, secret.SecretChange(client_key="sbawabc123"), secrets=store, dry_run=True
    )

    assert (report.changed, report.written, store.writes) == (("client_key",), False, 0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (secret.SecretChange(), "nothing to set"),
        (secret.SecretChange(client_key="has space"), "client_key must be"),
        (secret.SecretChange(client_secret=" padded "), "client_secret is empty, has surrounding spaces"),
        (secret.SecretChange(client_secret="FILL_AFTER_DEPLOY"), "is the placeholder"),
        (secret.SecretChange(cloudfront_key_pair_id="K1", cloudfront_private_key="not pem"), "PEM"),
        (secret.SecretChange(cloudfront_key_pair_id="K1"), "go together"),
    ],
)
def test_values_that_cannot_work_are_refused(change, message):
    with pytest.raises(OperatorError, match=message):
        secret.configure(DEPLOYMENT, change, secrets=Secrets(PLACEHOLDERS), dry_run=False)


def test_unfilled_fields_and_jwks():
    # Issue 11: the JWT key is generated in its own secret, never filled in the app secret.
    assert secret.unfilled(PLACEHOLDERS, jwks=False) == ["client_key", "client_secret"]
    assert secret.unfilled({**PLACEHOLDERS, "client_key": "k", "client_secret": "s"}, jwks=True) == []


def test_portal_values_use_the_registered_redirect_uri_when_set():
    values = portal.portal_values(DEPLOYMENT, [("video.publish", "why")])
    assert values.redirect_uri == "https://api.acme.example/v1/oauth/tiktok/callback"
    assert values.redirect_uri_registered is False

    params = {**DEPLOYMENT.parameters, "OAuthRedirectUri": "https://api.acme.example/cb"}
    registered = portal.portal_values(Deployment("s", "r", "https://x", params), [])
    assert (registered.redirect_uri, registered.redirect_uri_registered) == (
        "https://api.acme.example/cb",
        True,
    )


class Web:
    def __init__(self, answers: dict[str, WebAnswer]) -> None:
        self.answers = answers

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> WebAnswer:
        return self.answers.get(url, WebAnswer(url, 404))


class Rules:
    def __init__(self, states: dict[str, str]) -> None:
        self.states = states

    def state(self, rule_name: str) -> str | None:
        return self.states.get(rule_name)


def test_check_says_what_to_fix():
    api = DEPLOYMENT.api_url
    web = Web({
        f"{api}/v1/accounts": WebAnswer(f"{api}/v1/accounts", 200),
        f"{api}/v1/openapi.json": WebAnswer("", 200, body=b'{"paths": {"/v1/accounts": {}}}'),
        f"{api}/legal/privacy": WebAnswer("", 503, body=b"not configured"),
        f"{api}/legal/terms": WebAnswer("", 200, body=b"Acme video.publish"),
    })  # fmt: skip

    findings = checks.check_deployment(
        DEPLOYMENT,
        secrets=Secrets(PLACEHOLDERS),
        web=web,
        rules=Rules({"tp-refresh": "ENABLED", "tp-dispatch": "DISABLED"}),
        scopes=("video.publish",),
    )

    by_name = {f.check: f for f in findings}
    assert not by_name["secret filled"].ok
    assert "client_key, client_secret" in by_name["secret filled"].detail  # issue 11: no jwt_secret in it
    assert not by_name["authorizer refuses a bad token"].ok  # a 200 for a bad token
    assert by_name["OpenAPI document served"].ok
    assert not by_name["privacy page served"].ok
    assert by_name["terms page served"].ok
    assert by_name["schedule tp-refresh"].ok
    assert not by_name["schedule tp-dispatch"].ok
    assert "schedule tp-continue" not in by_name  # not a schedule
    assert not by_name["OAuthRedirectUri set"].ok


@pytest.mark.parametrize(
    ("prefix", "local", "expected"),
    [
        ("https://media.acme.example/tiktok", False, "https://media.acme.example/tiktok/"),
        ("https://media.acme.example", False, "https://media.acme.example/"),
        ("http://127.0.0.1:4566/bucket/", True, "http://127.0.0.1:4566/bucket/"),
    ],
)
def test_prefixes_tiktok_can_pull_from(prefix, local, expected):
    assert verification.check_prefix(prefix, local=local) == expected


@pytest.mark.parametrize(
    ("prefix", "local", "message"),
    [
        ("http://media.acme.example/", False, "plain http"),
        ("http://media.acme.example/", True, "plain http"),
        ("http://127.0.0.1:4566/b/", False, "plain http"),
        ("media.acme.example/tiktok/", False, "not a URL prefix"),
        ("https://media.acme.example/?v=1", False, "no query string"),
    ],
)
def test_prefixes_tiktok_would_never_pull_from(prefix, local, message):
    with pytest.raises(OperatorError, match=message):
        verification.check_prefix(prefix, local=local)


class Signer:
    """S3 path-style URLs on the prefix's origin, like the worker's presigned GETs."""

    enabled = True

    def __init__(self, root: str) -> None:
        self.root = root

    def url_for(self, key: str, *, now: float) -> str:
        return f"{self.root}{quote(key)}?X-Amz-Expires=10800&X-Amz-Signature=abc"


def test_placement_maps_the_prefix_to_bucket_keys():
    signer = Signer("https://media.acme.example/bucket/")

    assert verification.placement("https://media.acme.example/bucket/", signer, now=0).prefix_key == ""
    assert verification.placement("https://media.acme.example/bucket/tt/", signer, now=0).prefix_key == "tt/"
    with pytest.raises(OperatorError, match="not under the media URLs' root"):
        verification.placement("https://media.acme.example/", signer, now=0)


def test_lifetime_of_signed_urls():
    assert verification.lifetime("https://x/k?X-Amz-Expires=10800&X-Amz-Signature=s", now=0) == 10800
    assert (
        verification.lifetime("https://d.cloudfront.net/k?Expires=1700007200&Signature=s", now=1700000000)
        == 7200
    )
    assert verification.lifetime("https://x/k", now=0) is None


def test_dns_record():
    assert verification.dns_record("Media.Acme.Example.", '"v=abc"') == {
        "name": "media.acme.example", "type": "TXT", "value": "v=abc", "ttl": "300",
    }  # fmt: skip
    for bad in ("https://acme.example", "acme", "acme.example/path", "-acme.example"):
        with pytest.raises(OperatorError, match="not a domain name"):
            verification.dns_record(bad, "v")
    with pytest.raises(OperatorError, match="TXT value is empty"):
        verification.dns_record("acme.example", "  ")


@pytest.mark.parametrize(
    ("enabled", "state", "ok"),
    [
        ("false", "DISABLED", True),
        ("false", "ENABLED", False),
        ("true", "ENABLED", True),
        ("true", "DISABLED", False),
    ],
)
def test_the_metrics_schedule_is_checked_against_its_switch(enabled: str, state: str, ok: bool):
    # Given a stack whose metrics schedule runs only with MetricsEnabled=true (issue 15)
    resources = {
        **DEPLOYMENT.resources,
        "MetricsFunctionMetricsSchedule": Resource("tp-metrics", "AWS::Events::Rule"),
    }
    deployment = Deployment(
        "tp-prod", "eu-west-1", DEPLOYMENT.api_url, {**DEPLOYMENT.parameters, "MetricsEnabled": enabled}, {},
        resources,
    )  # fmt: skip
    rules = Rules({"tp-refresh": "ENABLED", "tp-dispatch": "ENABLED", "tp-metrics": state})

    findings = {f.check: f for f in checks._schedules(deployment, rules)}

    # Then the rule must be in the state the switch asks for, and the others stay required
    assert findings["schedule tp-metrics"].ok is ok
    assert findings["schedule tp-refresh"].ok
    assert findings["schedule tp-dispatch"].ok
