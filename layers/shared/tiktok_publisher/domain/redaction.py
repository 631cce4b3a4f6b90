"""What counts as a secret, and how it is masked: the rule behind "plaintext tokens never reach logs,
responses, events or errors" (DESIGN.md §4). Pure: the log formatter, the event guard and TikTok errors
use it.

Values of sensitive keys are replaced, and token-looking substrings are masked wherever they appear:
TikTok act./rft./clt. tokens, `upload_token=` of TikTok's upload URLs, bearer and AWS SigV4 Authorization
values, JWTs, OAuth codes, states, nonces and verifiers (as parameters, JSON pairs or free text such as
"code abc123"), AWS access key ids, and the query of any signed URL (SigV2, SigV4, CloudFront).
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"

# Keys whose values are never logged. Matched case-insensitively anywhere in the key ("refresh_token_enc").
_SENSITIVE_KEY = re.compile(
    r"token|secret|passw|verifier|signature|authorization|cookie|credential|session_id|upload_url|key|nonce"
    r"|^code$|^(auth|authorization|oauth)_code$|^state$|^oauth_state$|^policy$|^x-amz-",
    re.IGNORECASE,
)
# Keys that match the pattern above but are diagnostic, not secret (an error code, a KMS key id...).
_SAFE_KEYS = frozenset(
    {
        "token_type",
        "token_kind",
        "client_key",
        "key_id",
        "kms_key_id",
        "token_key_id",
        "s3_key",
        "object_key",
        "account_key",
        "idempotency_key",
        "partition_key",
        "sort_key",
        "key_count",
        "x-amz-date",
        "x-amz-algorithm",
    }
)
# Parameter names (query, form, header attributes) whose values are credentials.
_SECRET_PARAMS = (
    r"[\w.-]*(?:token|secret|signature|credential|verifier|password|nonce)|code|state|sig|policy|key-pair-id"
    r"|X-Amz-Security-Token|(?:__Host-)?tiktok-connect"
)

_TEXT_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Signed URLs: keep scheme/host/path (useful), drop the whole query string.
    (
        re.compile(
            r"(https?://[^\s?#\"'<>]+)\?[^\s\"'<>]*?(?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token"
            r"|Signature=|Key-Pair-Id=|Policy=|sig=|signature=|upload_token=|token=)[^\s\"'<>]*",
            re.IGNORECASE,
        ),
        r"\1?" + MASK,
    ),
    # TikTok access/refresh/client tokens.
    (re.compile(r"\b(act|rft|clt)\.[^\s\"'&,;)}\]]+"), r"\1." + MASK),
    # Authorization header values: bearer/basic, and SigV4's Credential=..., Signature=... attributes.
    (re.compile(r"\b(Bearer|Basic)\s+[^\s\"',;]+", re.IGNORECASE), r"\1 " + MASK),
    (re.compile(r"\b(AWS4-HMAC-SHA256)\s+[^\"'\n]+", re.IGNORECASE), r"\1 " + MASK),
    # Cookie headers quoted whole (the connect flow's browser-binding nonce, any session cookie).
    (re.compile(r"\b((?:Set-)?Cookie)(\s*:\s*)[^\"'\n]+", re.IGNORECASE), r"\1\2" + MASK),
    # AWS access key ids (long-term AKIA, temporary ASIA).
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), MASK),
    # JWTs (header.payload.signature, base64url, header always starts with eyJ).
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), MASK),
    # Query/form/cookie parameters carrying secrets (code=, state=, upload_token=, client_secret=, ...).
    (
        re.compile(r"(?<![\w.-])(" + _SECRET_PARAMS + r")=[^&\s\"',;]+", re.IGNORECASE),
        r"\1=" + MASK,
    ),
    # JSON-ish "key": "value" pairs inside free text (an upstream body quoted in a message).
    (
        re.compile(
            r"([\"'](?:access_token|refresh_token|client_secret|code|code_verifier|token|id_token|state|nonce"
            r"|jwt_secret|state_signing_key|upload_url|upload_token|policy|x-amz-signature|x-amz-credential"
            r"|authorize_url)[\"']\s*:\s*)[\"'][^\"']*[\"']",
            re.IGNORECASE,
        ),
        r'\1"' + MASK + '"',
    ),
    # Free text naming a credential, then its value: "code abc123", "state: Zx9...", "nonce 4f2a...". Only
    # values with a digit and 6+ characters: "status code 500" and "error code invalid_grant" stay readable.
    (
        re.compile(
            r"\b(code|state|nonce|verifier|token|secret)(\s*[:=]?\s+)(?=[^\s\"',;]*\d)[A-Za-z0-9._~+/%-]{6,}",
            re.IGNORECASE,
        ),
        r"\1\2" + MASK,
    ),
)


def is_sensitive_key(key: str) -> bool:
    """True when a structured field named `key` must never be logged as is."""
    lowered = key.lower()
    if lowered in _SAFE_KEYS or lowered.endswith("_key_id"):
        return False
    return bool(_SENSITIVE_KEY.search(lowered))


def redact_text(text: str) -> str:
    """Mask token-looking substrings (tokens, bearer values, JWTs, codes, signed URL queries) in `text`."""
    for pattern, replacement in _TEXT_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def looks_like_secret(text: str) -> bool:
    """True when `text` contains something redact_text would mask."""
    return redact_text(text) != text


def redact(value: Any, _depth: int = 0) -> Any:
    """Redact a structured value recursively: sensitive keys masked, strings scrubbed."""
    if _depth > 20:
        return MASK
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            k: (
                MASK
                if isinstance(k, str) and is_sensitive_key(k) and v is not None
                else redact(v, _depth + 1)
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(v, _depth + 1) for v in value]
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    if value is None or isinstance(value, bool | int | float):
        return value
    # Arbitrary objects are serialized with str() by Powertools: scrub that text too.
    return redact_text(str(value))
