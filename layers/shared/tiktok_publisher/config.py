"""Typed settings read from the environment once per container, and secrets from Secrets Manager.

Every function needs only some of the contract's variables, so all fields have defaults or are optional;
a function that needs one asks for it with `settings.require("accounts_table")`, which fails at cold start
with a message naming the environment variable instead of failing later with a KeyError.
"""

from __future__ import annotations

import functools
import threading
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SECRETS_MAX_AGE_SECONDS = 300


class ConfigError(RuntimeError):
    """The environment or a secret is missing or invalid. The message names the variable, never its value."""


class Settings(BaseSettings):
    """The contract's environment variables (snake_case field = UPPER_CASE variable)."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    stage: Literal["local", "dev", "prod"] = "local"
    accounts_table: str | None = None
    posts_table: str | None = None
    oauth_sessions_table: str | None = None
    idempotency_table: str | None = None
    token_key_id: str | None = None
    media_bucket: str | None = None
    publish_queue_url: str | None = None
    event_bus_name: str | None = None
    app_secret_id: str | None = None
    tiktok_api_base: str = "https://open.tiktokapis.com"
    tiktok_auth_base: str = "https://www.tiktok.com"
    oauth_redirect_uri: str | None = None
    # NoDecode: pydantic-settings would otherwise try to JSON-decode a list-typed variable.
    return_to_allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    jwt_audience: str = "tiktok-publisher"
    jwt_issuer: str | None = None
    jwt_tenant_claim: str = "tenant_id"
    jwks_url: str | None = None
    pkce_mode: Literal["hex", "base64url", "off"] = "hex"
    app_audited: bool = False
    media_pull_mode: Literal["none", "s3", "cloudfront"] = "none"
    media_pull_base_url: str | None = None
    refresh_shards: int = Field(default=4, ge=1, le=64)

    @field_validator("return_to_allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip().rstrip("/") for item in value.split(",") if item.strip()]
        return value

    @field_validator(
        "jwt_issuer", "jwks_url", "media_pull_base_url", "oauth_redirect_uri", "app_secret_id", mode="before"
    )
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        # CloudFormation cannot omit a variable conditionally without Fn::If noise: "" means "not set".
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("tiktok_api_base", "tiktok_auth_base", mode="after")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    def require(self, field: str) -> Any:
        """Return the value of `field`, or raise ConfigError naming its environment variable when unset."""
        if field not in type(self).model_fields:
            raise ConfigError(f"unknown setting {field!r}")
        value = getattr(self, field)
        if value is None or value == "" or value == []:
            raise ConfigError(f"environment variable {field.upper()} is required but not set")
        return value


def _validation_message(exc: ValidationError) -> str:
    names = []
    for error in exc.errors():
        loc = error.get("loc") or ("?",)
        # Values are deliberately omitted: a misplaced secret must not end up in a log line.
        names.append(f"{str(loc[0]).upper()} ({error.get('msg', 'invalid')})")
    return "invalid environment variable(s): " + ", ".join(names)


@functools.cache
def get_settings() -> Settings:
    """Settings from the environment, read once per container; ConfigError names any invalid variable."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError(_validation_message(exc)) from None


class AppSecrets(BaseModel):
    """APP_SECRET_ID's JSON. SecretStr keeps values out of repr/str/logs; call get_secret_value() at use."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    client_key: str
    client_secret: SecretStr
    state_signing_key: SecretStr
    jwt_secret: SecretStr
    cloudfront_private_key: SecretStr | None = None
    cloudfront_key_pair_id: str | None = None


_provider_lock = threading.Lock()
_provider: Any = None


def _secrets_provider() -> Any:
    # Powertools Parameters imported lazily: functions that never read secrets do not pay for it.
    global _provider
    with _provider_lock:
        if _provider is None:
            from aws_lambda_powertools.utilities.parameters import SecretsProvider

            from tiktok_publisher.aws import client

            _provider = SecretsProvider(boto3_client=client("secretsmanager"))
        return _provider


def get_secrets() -> AppSecrets:
    """The app secrets, cached by Powertools Parameters for SECRETS_MAX_AGE_SECONDS."""
    secret_id = get_settings().require("app_secret_id")
    try:
        raw = _secrets_provider().get(secret_id, transform="json", max_age=SECRETS_MAX_AGE_SECONDS)
    except Exception as exc:
        # Provider errors may quote the payload on a transform failure: keep only the class name.
        raise ConfigError(f"cannot read secret APP_SECRET_ID ({type(exc).__name__})") from None
    try:
        return AppSecrets.model_validate(raw)
    except ValidationError as exc:
        fields = ", ".join(str(e.get("loc", ("?",))[0]) for e in exc.errors())
        raise ConfigError(f"secret APP_SECRET_ID is missing or has invalid keys: {fields}") from None


def reset_caches() -> None:
    """Forget cached settings and secrets (tests, or after the environment changed)."""
    global _provider
    get_settings.cache_clear()
    with _provider_lock:
        if _provider is not None:
            _provider.clear_cache()
        _provider = None
