"""Logger (with redaction), Tracer and Metrics, created once; and the fixed decorator stacking for handlers.

Handlers use:

    from tiktok_publisher.observability import instrument_handler, logger

    @instrument_handler                      # API Gateway HTTP API correlation id by default
    def lambda_handler(event, context): ...

which is, outermost first:
    @logger.inject_lambda_context(correlation_id_path=..., clear_state=True)
    @metrics.log_metrics(capture_cold_start_metric=True)
    @tracer.capture_lambda_handler(capture_response=False)
Logger outermost so everything below logs with the request's context; metrics flush even when the handler
raises; the tracer never records responses (they can hold presigned URLs).

Redaction happens in the formatter, on the final structured record, so it covers the message, `extra`
keys, appended keys and exception text alike: values of sensitive keys are replaced, and token-looking
substrings (TikTok act./rft. tokens, bearer credentials, JWTs, OAuth codes and verifiers, signed URL
query strings) are masked wherever they appear.

Tracer and Metrics are created on first access (module __getattr__): importing this module for the logger
alone does not pay for the X-Ray SDK.
"""

from __future__ import annotations

import functools
import os
import re
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics, Tracer

MASK = "***"
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "tiktok-publisher")
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "TikTokPublisher")

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


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools JSON formatter that redacts the complete record just before serialization."""

    def serialize(self, log: dict[str, Any]) -> str:  # type: ignore[override]
        return super().serialize(log=redact(log))


logger = Logger(service=SERVICE, logger_formatter=RedactingFormatter(), utc=True)

_lazy: dict[str, Any] = {}


def _tracer() -> Tracer:
    if "tracer" not in _lazy:
        from aws_lambda_powertools import Tracer

        _lazy["tracer"] = Tracer(service=SERVICE)
    return _lazy["tracer"]  # type: ignore[no-any-return]


def _metrics() -> Metrics:
    if "metrics" not in _lazy:
        from aws_lambda_powertools import Metrics

        _lazy["metrics"] = Metrics(service=SERVICE, namespace=METRICS_NAMESPACE)
    return _lazy["metrics"]  # type: ignore[no-any-return]


def __getattr__(name: str) -> Any:
    # PEP 562: `from tiktok_publisher.observability import tracer` builds the Tracer on first use only.
    if name == "tracer":
        return _tracer()
    if name == "metrics":
        return _metrics()
    raise AttributeError(name)


F = TypeVar("F", bound=Callable[..., Any])

# Warm invocations of handlers without business metrics would warn on every call (the cold-start metric is
# only sent once): noise in logs, not a problem.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

API_GATEWAY_HTTP_CORRELATION = "requestContext.requestId"


def instrument_handler(
    fn: F | None = None, *, correlation_id_path: str | None = API_GATEWAY_HTTP_CORRELATION
) -> Any:
    """Apply the project's decorator stack (see module docstring) to a Lambda handler.

    Use bare for API Gateway handlers, or pass `correlation_id_path` (a JMESPath, or None) for other triggers.
    """

    def wrap(handler: F) -> F:
        traced = _tracer().capture_lambda_handler(capture_response=False)(handler)
        measured = _metrics().log_metrics(capture_cold_start_metric=True)(traced)
        logged = logger.inject_lambda_context(correlation_id_path=correlation_id_path, clear_state=True)(
            measured
        )
        return functools.wraps(handler)(logged)  # type: ignore[return-value]

    if fn is not None:
        return wrap(fn)
    return wrap


handler_decorators = instrument_handler
