"""Filling the stack's app secret without hand-editing it: the TikTok client key and secret, the caller JWT
secret, the CloudFront signing key. The generated state signing key is kept; values are never returned, only
which fields changed. Logic only (the secret is a port)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from tiktok_publisher.domain.deployment import Deployment
from tiktok_publisher.golive.findings import OperatorError
from tiktok_publisher.ports import SecretDocuments

# The template's placeholder (template.yaml AppSecret) for what the operator fills after deploying.
PLACEHOLDER = "FILL_AFTER_DEPLOY"
REQUIRED = ("client_key", "client_secret", "state_signing_key")
_CLIENT_KEY = re.compile(r"^[A-Za-z0-9_-]{4,128}$")


@dataclass(frozen=True)
class SecretChange:
    """What to set; None leaves a field as it is."""

    client_key: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    jwt_secret: str | None = field(default=None, repr=False)
    cloudfront_key_pair_id: str | None = None
    cloudfront_private_key: str | None = field(default=None, repr=False)

    def values(self) -> dict[str, str]:
        return {
            name: value
            for name, value in (
                ("client_key", self.client_key),
                ("client_secret", self.client_secret),
                ("jwt_secret", self.jwt_secret),
                ("cloudfront_key_pair_id", self.cloudfront_key_pair_id),
                ("cloudfront_private_key", self.cloudfront_private_key),
            )
            if value is not None
        }


@dataclass(frozen=True)
class SecretReport:
    """Field names only: what was set, and what was left as it was."""

    secret_id: str
    changed: tuple[str, ...]
    kept: tuple[str, ...]
    written: bool


def validate(change: SecretChange) -> None:
    """OperatorError for a value TikTok (or the product) could never accept, naming the field."""
    values = change.values()
    if not values:
        raise OperatorError(
            "nothing to set: give --client-key, a client secret, --generate-jwt-secret or the CloudFront key"
        )
    if change.client_key is not None and not _CLIENT_KEY.match(change.client_key):
        raise OperatorError("client_key must be the app's client key (letters, digits, - and _ only)")
    for name in ("client_secret", "jwt_secret"):
        value = values.get(name)
        if value is not None and (not value.strip() or value != value.strip() or value == PLACEHOLDER):
            raise OperatorError(f"{name} is empty, has surrounding spaces or is the placeholder")
    if change.cloudfront_private_key is not None and "-----BEGIN" not in change.cloudfront_private_key:
        raise OperatorError(
            "cloudfront_private_key must be a PEM private key (-----BEGIN ... PRIVATE KEY-----)"
        )
    if (change.cloudfront_private_key is None) != (change.cloudfront_key_pair_id is None):
        raise OperatorError("the CloudFront key pair id and private key go together: give both")


def secret_id_of(deployment: Deployment) -> str:
    secret_id = deployment.resource("AppSecret") or deployment.outputs.get("AppSecretArn")
    if not secret_id:
        raise OperatorError(
            f"stack {deployment.stack_name} has no AppSecret: is it a tiktok-publisher stack?"
        )
    return secret_id


def configure(
    deployment: Deployment, change: SecretChange, *, secrets: SecretDocuments, dry_run: bool
) -> SecretReport:
    """Merge `change` into the stack's secret (nothing else changes); with dry_run, only say what would."""
    validate(change)
    secret_id = secret_id_of(deployment)
    current = secrets.read(secret_id)
    values = change.values()
    changed = tuple(sorted(name for name, value in values.items() if current.get(name) != value))
    kept = tuple(sorted(name for name in current if name not in values))
    if changed and not dry_run:
        secrets.write(secret_id, {**current, **values})
    return SecretReport(secret_id, changed, kept, written=bool(changed) and not dry_run)


def unfilled(values: Mapping[str, object], *, jwks: bool) -> list[str]:
    """Fields of the secret still missing or holding the placeholder (jwt_secret matters without JWKS)."""
    needed = [*REQUIRED, *(() if jwks else ("jwt_secret",))]
    return [
        name for name in needed if not isinstance(values.get(name), str) or values[name] in ("", PLACEHOLDER)
    ]
