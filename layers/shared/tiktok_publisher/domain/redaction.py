"""What counts as a secret, and how it is masked: the rule behind "plaintext tokens never reach logs,
responses, events or errors" (DESIGN.md §4). Pure: the log formatter, the event guard and TikTok errors
use it.

Values of sensitive keys are replaced, and token-looking substrings (TikTok act./rft. tokens, bearer
credentials, JWTs, OAuth codes and verifiers, signed URL query strings) are masked wherever they appear.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"

# Keys whose values are never logged. Matched case-insensitively anywhere in the key ("refresh_token_enc").
_SENSITIVE_KEY = re.compile(
    r"token|secret|passw|verifier|signature|authorization|cookie|credential|session_id|upload_url|key|^code$"
    r"|^(auth|authorization|oauth)_code$",
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
    }
)

_TEXT_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Signed URLs: keep scheme/host/path (useful), drop the whole query string.
    (
        re.compile(
            r"(https?://[^\s?#\"'<>]+)\?[^\s\"'<>]*?(?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token"
            r"|Signature=|Key-Pair-Id=|Policy=|sig=|signature=)[^\s\"'<>]*",
            re.IGNORECASE,
        ),
        r"\1?" + MASK,
    ),
    # TikTok access/refresh/client tokens.
    (re.compile(r"\b(act|rft|clt)\.[^\s\"'&,;)}\]]+"), r"\1." + MASK),
    # Authorization header values.
    (re.compile(r"\b(Bearer|Basic)\s+[^\s\"',;]+", re.IGNORECASE), r"\1 " + MASK),
    # JWTs (header.payload.signature, base64url, header always starts with eyJ).
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), MASK),
    # Query/form parameters carrying secrets (code=, code_verifier=, client_secret=, ...).
    (
        re.compile(
            r"\b(code|code_verifier|client_secret|refresh_token|access_token|id_token|token|state"
            r"|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|Key-Pair-Id|Policy|sig)"
            r"=[^&\s\"',;]+",
            re.IGNORECASE,
        ),
        r"\1=" + MASK,
    ),
    # JSON-ish "key": "value" pairs inside free text (an upstream body quoted in a message).
    (
        re.compile(
            r"([\"'](?:access_token|refresh_token|client_secret|code|code_verifier|token|id_token"
            r"|jwt_secret|state_signing_key|upload_url)[\"']\s*:\s*)[\"'][^\"']*[\"']",
            re.IGNORECASE,
        ),
        r'\1"' + MASK + '"',
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
