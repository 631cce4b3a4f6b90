"""Load a function's handler in-process and call it with a Lambda-like context (shared test support)."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def load_function(name: str) -> ModuleType:
    """functions/<name>/app.py as a module (each function's file is called app.py, hence unique names)."""
    module_name = f"_fn_{name}_app"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "functions" / name / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    if hasattr(module, "lambda_handler"):
        # Runs as that function for the AWS call recorder (tests/fixtures/iam.py): its calls are checked
        # against the function's IAM grants.
        from tests.fixtures.iam import as_function

        module.lambda_handler = as_function(name, module.lambda_handler)
    return module


@dataclass
class LambdaContext:
    """What handlers read of Lambda's context object."""

    function_name: str = "test-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/test"
    log_stream_name: str = "test"
    remaining_ms: int = 300_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms
