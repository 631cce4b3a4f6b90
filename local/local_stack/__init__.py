"""The local stack: moto's server with the resources of template.yaml, the TikTok emulator, one worker
process per Lambda environment, and an API Gateway (HTTP API, payload 2.0) on 127.0.0.1:3000.

`python -m local_stack` runs it (`make run`); tests use `LocalStack` as a context manager.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEFAULT_JWT_SECRET", "InvocationResult", "LocalStack"]


def __getattr__(name: str) -> Any:
    # Lazy: function workers run `python -m local_stack.worker` and must not pay for importing the
    # stack (samtranslator, boto3...) in their cold start.
    if name in ("LocalStack", "DEFAULT_JWT_SECRET"):
        from . import stack

        return getattr(stack, name)
    if name == "InvocationResult":
        from .functions import InvocationResult

        return InvocationResult
    raise AttributeError(name)
