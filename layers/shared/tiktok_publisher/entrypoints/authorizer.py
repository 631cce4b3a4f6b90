"""Caller authentication for the HTTP API's Lambda REQUEST authorizer (payload 2.0, simple responses).

`Authorization: Bearer <JWT>`, verified with HS256 and the jwt_secret from Secrets Manager, or, when
JWKS_URL is set, RS256 with keys from that JWKS (PyJWKClient, cached per container). Exactly one algorithm
is accepted per configuration: an HS256 token against an RS256 setup (the classic "public key as HMAC
secret" confusion) and `alg: none` are refused before any key is looked up.

Failures raise Unauthorized with a machine reason in `details["reason"]`; the authorizer logs the reason
and answers `isAuthorized: false` with nothing else, so a caller learns nothing about why.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt

from tiktok_publisher.config import ConfigError, get_secrets, get_settings
from tiktok_publisher.domain.errors import Unauthorized
from tiktok_publisher.observability import logger

if TYPE_CHECKING:
    # AppSecrets is a pydantic model: the authorizer never imports pydantic at cold start.
    from tiktok_publisher.config import AppSecrets, Settings

LEEWAY_SECONDS = 30
JWKS_CACHE_SECONDS = 300
_BEARER = re.compile(r"^\s*Bearer\s+([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*)\s*$", re.IGNORECASE)
# tenant_id becomes part of DynamoDB keys ("{tenant_id}#{open_id}"): no separators, bounded length.
_TENANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@\-]{0,127}$")
_MAX_TOKEN_LENGTH = 8192


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the tenant every read and write is keyed by, and the user within it."""

    tenant_id: str
    user_id: str


def _deny(reason: str) -> Unauthorized:
    return Unauthorized("unauthorized", details={"reason": reason})


def bearer_token(header: str | None) -> str:
    """The JWT from an `Authorization: Bearer ...` header value; Unauthorized when malformed."""
    if not header:
        raise _deny("missing_header")
    if len(header) > _MAX_TOKEN_LENGTH:
        raise _deny("malformed_header")
    match = _BEARER.match(header)
    if not match:
        raise _deny("malformed_header")
    return match.group(1)


_jwks_lock = threading.Lock()
_jwks_clients: dict[str, jwt.PyJWKClient] = {}


def jwks_client_for(url: str) -> jwt.PyJWKClient:
    """A container-wide PyJWKClient per URL (keys cached; refetched on an unknown kid)."""
    with _jwks_lock:
        client = _jwks_clients.get(url)
        if client is None:
            client = jwt.PyJWKClient(url, cache_keys=True, lifespan=JWKS_CACHE_SECONDS, timeout=3)
            _jwks_clients[url] = client
        return client


def reset_jwks_clients() -> None:
    """Forget cached JWKS clients (tests)."""
    with _jwks_lock:
        _jwks_clients.clear()


def verify_jwt(
    token: str,
    *,
    settings: Settings,
    secrets: AppSecrets | None,
    jwks_client: jwt.PyJWKClient | None = None,
) -> Principal:
    """Verify signature, exp, nbf, aud, iss (when JWT_ISSUER is set), sub and the tenant claim.

    `secrets` is needed only for HS256 (no JWKS_URL). Raises Unauthorized (reason in details) on any failure.
    """
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        raise _deny("malformed_token")
    expected_alg = "RS256" if settings.jwks_url else "HS256"
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise _deny("malformed_token") from None
    if header.get("alg") != expected_alg:
        raise _deny("alg_not_allowed")

    key: Any
    if expected_alg == "RS256":
        client = jwks_client or jwks_client_for(str(settings.jwks_url))
        try:
            key = client.get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError:
            raise _deny("jwks_unavailable") from None
        except jwt.PyJWTError:
            raise _deny("unknown_key") from None
    else:
        if secrets is None:
            raise _deny("no_secret")
        key = secrets.jwt_secret.get_secret_value()
        if not key:
            raise _deny("no_secret")

    options: Any = {"require": ["exp", "sub"], "verify_aud": True}
    if settings.jwt_issuer:
        options["require"].append("iss")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[expected_alg],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer or None,
            leeway=LEEWAY_SECONDS,
            options=options,
        )
    except jwt.ExpiredSignatureError:
        raise _deny("expired") from None
    except jwt.ImmatureSignatureError:
        raise _deny("not_yet_valid") from None
    except jwt.InvalidAudienceError:
        raise _deny("wrong_audience") from None
    except jwt.InvalidIssuerError:
        raise _deny("wrong_issuer") from None
    except jwt.InvalidSignatureError:
        raise _deny("bad_signature") from None
    except jwt.MissingRequiredClaimError as exc:
        raise _deny(f"missing_{exc.claim}") from None
    except jwt.PyJWTError:
        raise _deny("invalid_token") from None

    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip():
        raise _deny("missing_sub")
    tenant = claims.get(settings.jwt_tenant_claim)
    if not isinstance(tenant, str) or not tenant:
        raise _deny("missing_tenant")
    if not _TENANT_ID.match(tenant):
        raise _deny("bad_tenant")
    return Principal(tenant_id=tenant, user_id=subject)


def _authorization_header(event: Mapping[str, Any]) -> str | None:
    headers = event.get("headers") or {}
    for name, value in headers.items():
        if isinstance(name, str) and name.lower() == "authorization":
            return str(value)
    sources = event.get("identitySource") or []
    return str(sources[0]) if sources else None


def authorize_request(event: Mapping[str, Any]) -> dict[str, Any]:
    """Lambda REQUEST authorizer (payload 2.0, simple response) for one API Gateway event."""
    try:
        token = bearer_token(_authorization_header(event))
        settings = get_settings()
        secrets = None if settings.jwks_url else get_secrets()
        principal = verify_jwt(token, settings=settings, secrets=secrets)
    except Unauthorized as exc:
        logger.info("caller denied", extra={"reason": exc.details.get("reason", "unknown")})
        return {"isAuthorized": False}
    except ConfigError as exc:
        # Misconfiguration must fail closed, loudly in logs, silently to the caller.
        logger.error("authorizer misconfigured", extra={"reason": "config_error", "error": str(exc)})
        return {"isAuthorized": False}
    logger.append_keys(tenant_id=principal.tenant_id)
    logger.info("caller authorized", extra={"user_id": principal.user_id})
    return {"isAuthorized": True, "context": {"tenant_id": principal.tenant_id, "user_id": principal.user_id}}


# Logger only: an authorizer runs before every request, so it skips the tracer/metrics stack to stay cheap;
# its verdicts are visible in API Gateway's own metrics and the reason codes in these logs.
@logger.inject_lambda_context(correlation_id_path="requestContext.requestId", clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer {"isAuthorized": bool, "context": {"tenant_id", "user_id"}}; never why a caller was denied."""
    return authorize_request(event)
