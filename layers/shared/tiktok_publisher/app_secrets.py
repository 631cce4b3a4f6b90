"""The app secret's JSON (APP_SECRET_ID in Secrets Manager), as a model that keeps values out of logs.

It holds the TikTok app's credentials (and the optional CloudFront signing key) only: the JWT, OAuth state and
upload-id signing keys are secrets of their own (JWT_SECRET_ID, STATE_SECRET_ID, UPLOAD_SECRET_ID), so each
function's role reads only the keys it uses (template.yaml) and the webhook, which parses untrusted bodies,
cannot read the authorizer's key.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, SecretStr


class AppSecrets(BaseModel):
    """SecretStr keeps values out of repr/str/logs; call get_secret_value() at the point of use."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    client_key: str
    client_secret: SecretStr
    cloudfront_private_key: SecretStr | None = None
    cloudfront_key_pair_id: str | None = None
