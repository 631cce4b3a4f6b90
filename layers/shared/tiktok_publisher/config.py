"""Typed settings read from the environment once per container, and secrets from Secrets Manager.

Every function needs only some of the contract's variables, so all fields have defaults or are optional;
a function that needs one asks for it with `settings.require("accounts_table")`, which fails at cold start
with a message naming the environment variable instead of failing later with a KeyError.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import threading
import types
import typing
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from tiktok_publisher.app_secrets import AppSecrets

SECRETS_MAX_AGE_SECONDS = 300
# A signing key (JWT HS256, OAuth state, upload ids) shorter than this is refused: HMAC-SHA256 wants a key as
# long as its output, and a short one can be brute-forced offline from a single signed value.
MIN_SIGNING_KEY_BYTES = 32
# What a template or a README puts where a real value belongs; a key that says so is public. Only phrases a
# generated key cannot plausibly contain (a 64-character random key holds "todo" about once in 15,000 keys, so
# short words count only as the whole value).
_PLACEHOLDER = re.compile(
    r"FILL[\s_-]*(AFTER|IN|ME)|CHANGE[\s_-]*ME|PLACEHOLDER|REPLACE[\s_-]*(ME|THIS)|EXAMPLE"
    r"|YOUR[\s_-]+\w*(KEY|SECRET)|^\s*(TODO|TBD|X{3,}|SECRET|PASSWORD)\s*$",
    re.IGNORECASE,
)
# Log key + value the template's metric filters count (UnusableSecretAlarm): a function refusing to run with
# a missing, placeholder or short secret pages someone instead of failing quietly.
ALARM_KEY = "alarm"
UNUSABLE_SECRET = "unusable_secret"


class ConfigError(RuntimeError):
    """The environment or a secret is missing or invalid. The message names the variable, never its value."""


class UnusableSecret(ConfigError):
    """A secret is missing, still a placeholder, or too short to sign with: the function fails closed.

    `alarm` is what the handler stack logs under ALARM_KEY (observability.instrument_handler, resolver)."""

    alarm = UNUSABLE_SECRET


@dataclasses.dataclass(frozen=True)
class Settings:
    """The contract's environment variables (snake_case field = UPPER_CASE variable).

    A stdlib dataclass rather than a pydantic-settings model on purpose: every function reads it at cold
    start, and importing pydantic-settings costs ~100 ms there (≈50% of a boto3-only cold start, measured
    by `make bench`), for parsing that fits in `_parse` below.
    """

    stage: Literal["local", "dev", "prod"] = "local"
    accounts_table: str | None = None
    posts_table: str | None = None
    oauth_sessions_table: str | None = None
    idempotency_table: str | None = None
    pacing_table: str | None = None
    token_key_id: str | None = None
    media_bucket: str | None = None
    publish_queue_url: str | None = None
    event_bus_name: str | None = None
    app_secret_id: str | None = None
    jwt_secret_id: str | None = None
    state_secret_id: str | None = None
    upload_secret_id: str | None = None
    tiktok_api_base: str = "https://open.tiktokapis.com"
    tiktok_auth_base: str = "https://www.tiktok.com"
    oauth_redirect_uri: str | None = None
    return_to_allowed_origins: list[str] = dataclasses.field(default_factory=list)
    jwt_audience: str = "tiktok-publisher"
    jwt_issuer: str | None = None
    jwt_tenant_claim: str = "tenant_id"
    jwks_url: str | None = None
    jwt_max_lifetime_seconds: int = 24 * 3600
    pkce_mode: Literal["hex", "base64url"] = "hex"  # PKCE is always on (TIKTOK-API.md §1)
    app_audited: bool = False
    media_pull_mode: Literal["none", "s3", "cloudfront"] = "none"
    media_pull_base_url: str | None = None
    refresh_shards: int = 4
    rate_limits_table: str | None = None
    # Per-tenant allowances per minute (template StageConfig); 0 = no limit.
    rate_limit_uploads_per_minute: int = 0
    rate_limit_posts_per_minute: int = 0
    tenants_table: str | None = None
    # Post history lives this many days (Posts table TTL); the privacy policy states it.
    post_retention_days: int | None = None
    # What the legal pages say (the console function's own variables).
    company_name: str | None = None
    contact_email: str | None = None
    product_url: str | None = None
    legal_effective_date: str | None = None
    log_retention_days: int | None = None
    # Origins, besides https://*.tiktokapis.com, that an init's upload_url may point at: local configuration
    # only (the emulator); never set in a deployment.
    tiktok_upload_origins: list[str] = dataclasses.field(default_factory=list)
    # After the post (docs/metrics.md): off unless the operator enables it (template parameter
    # MetricsEnabled), which also adds video.list and user.info.stats to the scopes the connect flow asks for.
    metrics_enabled: bool = False
    metrics_table: str | None = None
    metrics_post_interval_s: int = 3600
    metrics_account_interval_s: int = 21600
    metrics_post_window_days: int = 30
    metrics_history_days: int = 90
    webhook_endpoints_table: str | None = None
    webhook_deliveries_table: str | None = None
    webhook_queue_url: str | None = None
    # The local stack only (a test receiver on 127.0.0.1): refused at cold start on any other stage.
    webhook_allow_loopback: bool = False

    @classmethod
    def from_env(cls, environ: typing.Mapping[str, str] | None = None) -> Settings:
        """Read every field from its UPPER_CASE variable; ConfigError names each invalid one."""
        environ = os.environ if environ is None else environ
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        problems: list[str] = []
        for field in dataclasses.fields(cls):
            raw = environ.get(field.name.upper())
            if raw is None:
                continue
            try:
                values[field.name] = _parse(field.name, raw, hints[field.name])
            except ValueError as exc:
                # Values are deliberately omitted: a misplaced secret must not end up in a log line.
                problems.append(f"{field.name.upper()} ({exc})")
        if values.get("webhook_allow_loopback") and values.get("stage", "local") != "local":
            # Fail closed: loopback webhooks would let a tenant reach the function's own host.
            problems.append("WEBHOOK_ALLOW_LOOPBACK (only allowed when STAGE is local)")
        if problems:
            raise ConfigError("invalid environment variable(s): " + ", ".join(problems))
        return cls(**values)

    def require(self, field: str) -> Any:
        """Return the value of `field`, or raise ConfigError naming its environment variable when unset."""
        if field not in {f.name for f in dataclasses.fields(self)}:
            raise ConfigError(f"unknown setting {field!r}")
        value = getattr(self, field)
        if value is None or value == "" or value == []:
            raise ConfigError(f"environment variable {field.upper()} is required but not set")
        return value


# Bounds of the whole-number settings, checked at cold start.
_INT_RANGES: dict[str, tuple[int, int]] = {
    "refresh_shards": (1, 64),
    # A caller token valid for longer than a week is a long-lived credential, not a session.
    "jwt_max_lifetime_seconds": (60, 7 * 24 * 3600),
    "rate_limit_uploads_per_minute": (0, 100_000),
    "rate_limit_posts_per_minute": (0, 100_000),
    # Reading one item more than once a minute would only spend TikTok's rate limits.
    "metrics_post_interval_s": (60, 30 * 86400),
    "metrics_account_interval_s": (60, 30 * 86400),
    "metrics_post_window_days": (1, 365),
    "metrics_history_days": (1, 1095),
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _parse(name: str, raw: str, hint: Any) -> Any:
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) and type(None) in args:
        # CloudFormation cannot omit a variable without Fn::If noise: "" means "not set".
        return _parse(name, raw, args[0]) if raw.strip() else None
    if typing.get_origin(hint) is Literal:
        if raw.strip() not in args:
            raise ValueError(f"must be one of {', '.join(args)}")
        return raw.strip()
    if hint is bool:
        lowered = raw.strip().lower()
        if lowered not in _TRUE | _FALSE:
            raise ValueError("must be true or false")
        return lowered in _TRUE
    if hint is int:
        try:
            number = int(raw.strip())
        except ValueError:
            raise ValueError("must be a whole number") from None
        low, high = _INT_RANGES.get(name, (0, 2**31))
        if not low <= number <= high:
            raise ValueError(f"must be between {low} and {high}")
        return number
    if typing.get_origin(hint) is list:
        return [item.strip().rstrip("/") for item in raw.split(",") if item.strip()]
    value = raw.strip()
    return value.rstrip("/") if name.endswith("_base") else value


@functools.cache
def get_settings() -> Settings:
    """Settings from the environment, read once per container; ConfigError names any invalid variable."""
    return Settings.from_env()


def __getattr__(name: str) -> Any:
    # AppSecrets is a pydantic model: imported only by code that reads secrets, never at cold start.
    if name == "AppSecrets":
        from tiktok_publisher.app_secrets import AppSecrets

        return AppSecrets
    raise AttributeError(name)


_provider_lock = threading.Lock()
_provider: Any = None


def _secrets_provider() -> Any:
    # Powertools Parameters and botocore imported lazily: functions that never read secrets do not pay for it.
    global _provider
    with _provider_lock:
        if _provider is None:
            from aws_lambda_powertools.utilities.parameters import SecretsProvider
            from botocore.config import Config

            # Tight timeouts, as every client of the package (adapters/aws.py): a slow Secrets Manager fails
            # inside the Lambda timeout. boto3 honours AWS_ENDPOINT_URL (the local stack) by itself.
            _provider = SecretsProvider(
                boto_config=Config(connect_timeout=2, read_timeout=10, retries={"mode": "standard"})
            )
        return _provider


def get_secrets() -> AppSecrets:
    """The app secrets, cached by Powertools Parameters for SECRETS_MAX_AGE_SECONDS."""
    secret_id = get_settings().require("app_secret_id")
    try:
        raw = _secrets_provider().get(secret_id, transform="json", max_age=SECRETS_MAX_AGE_SECONDS)
    except Exception as exc:
        # Provider errors may quote the payload on a transform failure: keep only the class name.
        raise ConfigError(f"cannot read secret APP_SECRET_ID ({type(exc).__name__})") from None
    # pydantic only here (cold start): the authorizer and functions that never read secrets skip it.
    from pydantic import ValidationError

    from tiktok_publisher.app_secrets import AppSecrets

    try:
        secrets = AppSecrets.model_validate(raw)
    except ValidationError as exc:
        fields = ", ".join(str(e.get("loc", ("?",))[0]) for e in exc.errors())
        raise ConfigError(f"secret APP_SECRET_ID is missing or has invalid keys: {fields}") from None
    unfilled = [
        name
        for name, value in (
            ("client_key", secrets.client_key),
            ("client_secret", secrets.client_secret.get_secret_value()),
        )
        if not value or _PLACEHOLDER.search(value)
    ]
    if unfilled:
        # The webhook would verify signatures with a public placeholder: refuse, do not run half-configured.
        raise UnusableSecret(
            f"secret APP_SECRET_ID still holds a placeholder for {', '.join(unfilled)}: fill in the TikTok "
            "app's credentials (README, Deploy)"
        )
    return secrets


def check_signing_key(value: str | bytes | None, variable: str) -> bytes:
    """The key's bytes, or UnusableSecret when it is missing, a placeholder or under MIN_SIGNING_KEY_BYTES."""
    raw = value.encode("utf-8") if isinstance(value, str) else (value or b"")
    if not raw.strip():
        raise UnusableSecret(f"secret {variable} is empty")
    if _PLACEHOLDER.search(raw.decode("utf-8", "replace")):
        raise UnusableSecret(f"secret {variable} still holds a placeholder, not a generated key")
    if len(raw) < MIN_SIGNING_KEY_BYTES:
        raise UnusableSecret(f"secret {variable} is shorter than {MIN_SIGNING_KEY_BYTES} bytes")
    return raw


def get_signing_key(field: str) -> bytes:
    """The signing key stored (as the whole secret string) in the secret named by setting `field`
    (jwt_secret_id, state_secret_id, upload_secret_id); UnusableSecret when unreadable or weak."""
    variable = field.upper()
    secret_id = get_settings().require(field)
    try:
        raw = _secrets_provider().get(secret_id, max_age=SECRETS_MAX_AGE_SECONDS)
    except Exception as exc:
        raise UnusableSecret(f"cannot read secret {variable} ({type(exc).__name__})") from None
    return check_signing_key(raw, variable)


def reset_caches() -> None:
    """Forget cached settings and secrets (tests, or after the environment changed)."""
    global _provider
    get_settings.cache_clear()
    with _provider_lock:
        if _provider is not None:
            _provider.clear_cache()
        _provider = None
