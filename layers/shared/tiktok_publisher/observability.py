"""Logger (with redaction), Tracer and Metrics, created once; and the fixed decorator stacking for handlers.

Handlers use:

    from tiktok_publisher.observability import instrument_handler, logger

    @instrument_handler                      # API Gateway HTTP API correlation id by default
    def lambda_handler(event, context): ...

which is, outermost first:
    @logger.inject_lambda_context(correlation_id_path=..., clear_state=True)
    @metrics.log_metrics(capture_cold_start_metric=True)
    @tracer.capture_lambda_handler(capture_response=False)   (only with TRACE_SUBSEGMENTS=true, see below)
Logger outermost so everything below logs with the request's context; metrics flush even when the handler
raises; the tracer never records responses (they can hold presigned URLs).

Redaction happens in the formatter, on the final structured record, so it covers the message, `extra`
keys, appended keys and exception text alike: values of sensitive keys are replaced, and token-looking
substrings (TikTok act./rft. tokens, bearer credentials, JWTs, OAuth codes and verifiers, signed URL
query strings) are masked wherever they appear.

Tracer and Metrics are created on first access (module __getattr__): importing this module for the logger
alone does not pay for the X-Ray SDK.

Tracing: every function runs with Lambda's active tracing (template.yaml Globals `Tracing: Active`), so X-Ray
records each invocation with its initialization, duration and errors, and the trace id reaches the logs,
without any SDK in the function. The X-Ray SDK behind Powertools Tracer costs about 200 ms of imports at cold
start (as much as boto3 itself), so the handler stack adds `capture_lambda_handler` only when
TRACE_SUBSEGMENTS=true asks for the SDK's extras (a subsegment per AWS and TikTok call, annotations).
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from tiktok_publisher.domain.redaction import redact

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics, Tracer

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "tiktok-publisher")
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "TikTokPublisher")


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


def count(name: str, value: float = 1) -> None:
    """Add `value` to the Count metric `name` (flushed by the handler's log_metrics)."""
    _metrics().add_metric(name=name, unit="Count", value=value)


F = TypeVar("F", bound=Callable[..., Any])

# Warm invocations of handlers without business metrics would warn on every call (the cold-start metric is
# only sent once): noise in logs, not a problem.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

API_GATEWAY_HTTP_CORRELATION = "requestContext.requestId"


def sdk_tracing() -> bool:
    """Whether handlers load Powertools Tracer (the X-Ray SDK) on top of Lambda's active tracing."""
    return os.environ.get("TRACE_SUBSEGMENTS", "").strip().lower() in ("1", "true", "yes", "on")


def instrument_handler(
    fn: F | None = None, *, correlation_id_path: str | None = API_GATEWAY_HTTP_CORRELATION
) -> Any:
    """Apply the project's decorator stack (see module docstring) to a Lambda handler.

    Use bare for API Gateway handlers, or pass `correlation_id_path` (a JMESPath, or None) for other triggers.
    """

    def wrap(handler: F) -> F:
        traced = handler
        if sdk_tracing():
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
