"""The local stack: moto's server with the resources of template.yaml, the TikTok emulator, one worker
process per Lambda environment, and an API Gateway (HTTP API, payload 2.0) on 127.0.0.1:3000.

`python -m local_stack` runs it (`make run`); tests use `LocalStack` as a context manager.
"""

from .functions import InvocationResult
from .stack import DEFAULT_JWT_SECRET, LocalStack

__all__ = ["DEFAULT_JWT_SECRET", "InvocationResult", "LocalStack"]
