"""Settings from the environment and the secrets model."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from tiktok_publisher import config
from tiktok_publisher.config import AppSecrets, ConfigError, Settings, get_settings

CONTRACT_VARS = [
    "STAGE",
    "ACCOUNTS_TABLE",
    "POSTS_TABLE",
    "OAUTH_SESSIONS_TABLE",
    "IDEMPOTENCY_TABLE",
    "TOKEN_KEY_ID",
    "MEDIA_BUCKET",
    "PUBLISH_QUEUE_URL",
    "EVENT_BUS_NAME",
    "APP_SECRET_ID",
    "TIKTOK_API_BASE",
    "TIKTOK_AUTH_BASE",
    "OAUTH_REDIRECT_URI",
    "RETURN_TO_ALLOWED_ORIGINS",
    "JWT_AUDIENCE",
    "JWT_ISSUER",
    "JWT_TENANT_CLAIM",
    "JWKS_URL",
    "PKCE_MODE",
    "APP_AUDITED",
    "MEDIA_PULL_MODE",
    "MEDIA_PULL_BASE_URL",
    "REFRESH_SHARDS",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in CONTRACT_VARS:
        monkeypatch.delenv(name, raising=False)
    config.reset_caches()
    yield
    config.reset_caches()


def test_defaults_follow_the_contract() -> None:
    settings = get_settings()

    assert settings.stage == "local"
    assert settings.tiktok_api_base == "https://open.tiktokapis.com"
    assert settings.tiktok_auth_base == "https://www.tiktok.com"
    assert settings.jwt_audience == "tiktok-publisher"
    assert settings.jwt_tenant_claim == "tenant_id"
    assert settings.jwt_issuer is None
    assert settings.jwks_url is None
    assert settings.pkce_mode == "hex"
    assert settings.app_audited is False
    assert settings.media_pull_mode == "none"
    assert settings.refresh_shards == 4
    assert settings.return_to_allowed_origins == []


def test_require_names_the_missing_variable() -> None:
    settings = get_settings()

    with pytest.raises(ConfigError, match="ACCOUNTS_TABLE"):
        settings.require("accounts_table")


def test_require_returns_a_set_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCOUNTS_TABLE", "accounts-dev")

    assert get_settings().require("accounts_table") == "accounts-dev"


def test_require_rejects_unknown_field_names() -> None:
    with pytest.raises(ConfigError, match="unknown setting"):
        get_settings().require("accounts_tabel")


def test_invalid_value_names_the_variable_but_not_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PKCE_MODE", "sha1-super-secret-value")

    with pytest.raises(ConfigError) as caught:
        get_settings()

    assert "PKCE_MODE" in str(caught.value)
    assert "sha1-super-secret-value" not in str(caught.value)


def test_invalid_number_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFRESH_SHARDS", "many")

    with pytest.raises(ConfigError, match="REFRESH_SHARDS"):
        get_settings()


def test_origins_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETURN_TO_ALLOWED_ORIGINS", " https://app.example.com, https://admin.example.com/ ,,")

    assert get_settings().return_to_allowed_origins == [
        "https://app.example.com",
        "https://admin.example.com",
    ]


def test_single_origin_is_a_one_item_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETURN_TO_ALLOWED_ORIGINS", "http://127.0.0.1:3000")

    assert get_settings().return_to_allowed_origins == ["http://127.0.0.1:3000"]


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("True", True), ("1", True), ("false", False), ("0", False)]
)
def test_bool_parsing(monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("APP_AUDITED", raw)

    assert get_settings().app_audited is expected


def test_bool_garbage_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_AUDITED", "perhaps")

    with pytest.raises(ConfigError, match="APP_AUDITED"):
        get_settings()


def test_blank_optional_values_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    # CloudFormation parameters default to "" rather than absent.
    monkeypatch.setenv("JWT_ISSUER", "")
    monkeypatch.setenv("JWKS_URL", "  ")
    monkeypatch.setenv("MEDIA_PULL_BASE_URL", "")

    settings = get_settings()

    assert settings.jwt_issuer is None
    assert settings.jwks_url is None
    assert settings.media_pull_base_url is None


def test_base_urls_lose_trailing_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIKTOK_API_BASE", "http://127.0.0.1:8900/")

    assert get_settings().tiktok_api_base == "http://127.0.0.1:8900"


def test_settings_are_cached_until_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    first = get_settings()
    monkeypatch.setenv("STAGE", "prod")

    assert get_settings() is first
    config.reset_caches()
    assert get_settings().stage == "prod"


def test_settings_are_immutable() -> None:
    settings = Settings()

    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.stage = "prod"  # type: ignore[misc]


def test_secrets_never_show_in_repr_or_str() -> None:
    secrets = AppSecrets(
        client_key="ck-visible",
        client_secret="cs-hidden-1",
        state_signing_key="ssk-hidden-2",
        jwt_secret="jwt-hidden-3",
        cloudfront_private_key="-----BEGIN RSA PRIVATE KEY-----hidden-4",
    )

    shown = repr(secrets) + str(secrets) + repr(secrets.model_dump())
    for hidden in ("cs-hidden-1", "ssk-hidden-2", "jwt-hidden-3", "hidden-4"):
        assert hidden not in shown
    assert secrets.client_secret.get_secret_value() == "cs-hidden-1"


def test_get_secrets_requires_the_secret_id() -> None:
    with pytest.raises(ConfigError, match="APP_SECRET_ID"):
        config.get_secrets()
