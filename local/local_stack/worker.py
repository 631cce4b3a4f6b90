"""`python -m local_stack.worker`: one Lambda execution environment for one function.

The process gets exactly the function's environment (as Lambda would), imports the handler once
(the cold start) and then serves invocations one at a time over a socket inherited from the stack.
An exception in the handler becomes a Lambda-style error result and the environment stays warm.
The process exits when the stack closes the socket or dies.
"""

from __future__ import annotations

import importlib
import json
import os
import socket
import sys
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

# Kept here and in procs.py alike: importing anything else of local_stack would slow every cold start.
WORKER_FD = "LOCAL_STACK_WORKER_FD"
WORKER_CODE_DIR = "LOCAL_STACK_CODE_DIR"
WORKER_LAYER_DIRS = "LOCAL_STACK_LAYER_DIRS"


class LambdaContext:
    """The subset of the Lambda context object that handlers and Powertools read."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.function_name: str = data["function_name"]
        self.function_version: str = data.get("function_version", "$LATEST")
        self.invoked_function_arn: str = data["invoked_function_arn"]
        self.memory_limit_in_mb: int = int(data["memory_limit_in_mb"])
        self.aws_request_id: str = data["aws_request_id"]
        self.log_group_name: str = data.get("log_group_name", f"/aws/lambda/{self.function_name}")
        self.log_stream_name: str = data.get("log_stream_name", "local")
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = float(data["deadline_epoch"])

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the stack kills this invocation."""
        return max(0, int((self._deadline - time.time()) * 1000))


def _error(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


class Runtime:
    """Imports the handler lazily (so a missing app.py is an invoke error, not a dead worker)."""

    def __init__(self, handler: str) -> None:
        self.handler_name = handler
        self.handler: Any = None

    def load(self) -> Any:
        """The handler callable (imported on first use, like Lambda's init phase)."""
        if self.handler is None:
            module_name, _, attr = self.handler_name.rpartition(".")
            module = importlib.import_module(module_name)
            self.handler = getattr(module, attr)
        return self.handler

    def invoke(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run one invocation; never raises."""
        try:
            handler = self.load()
        except Exception as exc:
            sys.modules.pop(self.handler_name.rpartition(".")[0], None)
            return {"ok": False, "error": _error(exc, f"Runtime.ImportModuleError: {type(exc).__name__}")}
        context = LambdaContext(request["context"])
        os.environ["_X_AMZN_TRACE_ID"] = request["context"].get("trace_id", "")
        try:
            result = handler(request["event"], context)
        except Exception as exc:
            traceback.print_exc()
            return {"ok": False, "error": _error(exc)}
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        try:
            return {"ok": True, "payload": json.dumps(result)}
        except (TypeError, ValueError) as exc:
            return {"ok": False, "error": _error(exc, "Runtime.MarshalError")}


def main() -> None:
    """Serve invocations until the stack goes away."""
    fd = int(os.environ.pop(WORKER_FD))
    code_dir = os.environ.pop(WORKER_CODE_DIR)
    layers = [p for p in os.environ.pop(WORKER_LAYER_DIRS, "").split(os.pathsep) if p]
    conn = Connection(socket.socket(fileno=fd).detach())
    # Lambda: the code in /var/task (cwd, first on the path), then the layers' /opt/python.
    os.chdir(code_dir)
    sys.path[:0] = [code_dir, *layers]
    runtime = Runtime(os.environ.get("_HANDLER", "app.lambda_handler"))
    try:  # the init phase; a failure is reported by the first invocation instead
        runtime.load()
    except Exception:
        sys.modules.pop(runtime.handler_name.rpartition(".")[0], None)
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            break
        conn.send(runtime.invoke(request))


if __name__ == "__main__":
    main()
