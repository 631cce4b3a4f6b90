"""The app secret's JSON (APP_SECRET_ID in Secrets Manager), as a model that keeps values out of logs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, SecretStr


class AppSecrets(BaseModel):
    """SecretStr keeps values out of repr/str/logs; call get_secret_value() at the point of use."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    client_key: str
    client_secret: SecretStr
    state_signing_key: SecretStr
    jwt_secret: SecretStr
    cloudfront_private_key: SecretStr | None = None
    cloudfront_key_pair_id: str | None = None
