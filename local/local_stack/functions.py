"""Lambda functions as pools of long-lived worker processes, one environment per process.

Like Lambda: an environment handles one invocation at a time; a concurrent invocation gets another
environment (a new cold start) up to `max_concurrency`; an invocation that outlives the function's
timeout kills its environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from . import procs
from .procs import WORKER_CODE_DIR, WORKER_FD, WORKER_LAYER_DIRS


@dataclass
class InvocationResult:
    """The outcome of one invocation: a JSON payload, or a Lambda-style function error."""

    request_id: str
    payload: Any = None
    error: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """True when the handler returned (no function error)."""
        return self.error is None


class _Worker:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_prefix: str, quiet: bool) -> None:
        parent, child = socket.socketpair()
        env = dict(env, **{WORKER_FD: str(child.fileno())})
        self.process = procs.spawn(argv, env=env, pass_fds=[child.fileno()])
        child.close()
        self.conn = Connection(parent.detach())
        self.name = name
        assert self.process.stdout is not None
        procs.pump_lines(self.process.stdout, log_prefix, (lambda _line: None) if quiet else None)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.close()
        procs.stop(self.process, timeout=3)


class FunctionPool:
    """The execution environments of one function."""

    def __init__(
        self,
        logical_id: str,
        physical_name: str,
        handler: str,
        code_dir: str,
        layer_dirs: list[str],
        env: dict[str, str],
        timeout: int,
        memory_size: int,
        max_concurrency: int = 4,
        quiet: bool = False,
    ) -> None:
        self.logical_id = logical_id
        self.physical_name = physical_name
        self.handler = handler
        self.code_dir = code_dir
        self.layer_dirs = layer_dirs
        self.env = env
        self.timeout = timeout
        self.memory_size = memory_size
        self.max_concurrency = max_concurrency
        self.quiet = quiet
        self.arn = (
            f"arn:aws:lambda:{env.get('AWS_REGION', 'us-east-1')}:123456789012:function:{physical_name}"
        )
        self._idle: list[_Worker] = []
        self._all: list[_Worker] = []
        self._cond = threading.Condition()
        self._closed = False
        self.cold_starts = 0

    def _process_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT")}
        env.update(self.env)
        env.update(
            {
                WORKER_CODE_DIR: self.code_dir,
                WORKER_LAYER_DIRS: os.pathsep.join(self.layer_dirs),
                "_HANDLER": self.handler,
                "LAMBDA_TASK_ROOT": self.code_dir,
                "AWS_LAMBDA_FUNCTION_NAME": self.physical_name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_size),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
                "PYTHONUNBUFFERED": "1",
                "PYTHONDONTWRITEBYTECODE": "1",
                "TZ": "UTC",
            }
        )
        return env

    def _spawn(self) -> _Worker:
        self.cold_starts += 1
        worker = _Worker(
            self.logical_id,
            [sys.executable, "-m", "local_stack.worker"],
            self._process_env(),
            f"[{self.logical_id}]",
            self.quiet,
        )
        self._all.append(worker)
        return worker

    def prewarm(self) -> None:
        """Start one environment now so the first invocation does not pay the process start."""
        with self._cond:
            if not self._all and not self._closed:
                self._idle.append(self._spawn())

    def _acquire(self, deadline: float) -> _Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError(f"{self.logical_id}: the stack is stopping")
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive():
                        return worker
                    self._all.remove(worker)
                if len(self._all) < self.max_concurrency:
                    return self._spawn()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{self.logical_id}: no free environment")
                self._cond.wait(min(remaining, 0.5))

    def _release(self, worker: _Worker, healthy: bool) -> None:
        with self._cond:
            if healthy and not self._closed and worker.alive():
                self._idle.append(worker)
            else:
                if worker in self._all:
                    self._all.remove(worker)
                threading.Thread(target=worker.stop, daemon=True).start()
            self._cond.notify()

    def invoke(self, event: Any, request_id: str | None = None) -> InvocationResult:
        """Run the handler with `event` in a free environment and wait for its result."""
        request_id = request_id or str(uuid.uuid4())
        started = time.monotonic()
        worker = self._acquire(started + self.timeout + 30)
        deadline_epoch = time.time() + self.timeout
        context = {
            "function_name": self.physical_name,
            "invoked_function_arn": self.arn,
            "memory_limit_in_mb": self.memory_size,
            "aws_request_id": request_id,
            "deadline_epoch": deadline_epoch,
            "log_group_name": self.env.get("AWS_LAMBDA_LOG_GROUP_NAME", f"/aws/lambda/{self.physical_name}"),
            "trace_id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
        }
        healthy = False
        try:
            worker.conn.send({"event": event, "context": context})
            if not worker.conn.poll(self.timeout):
                return InvocationResult(
                    request_id,
                    error={
                        "errorType": "Sandbox.Timedout",
                        "errorMessage": f"Task timed out after {self.timeout:.2f} seconds",
                    },
                )
            reply = worker.conn.recv()
            healthy = True
        except (EOFError, OSError) as exc:
            code = worker.process.poll()
            return InvocationResult(
                request_id,
                error={
                    "errorType": "Runtime.ExitError",
                    "errorMessage": f"environment exited ({code}): {exc}",
                },
            )
        finally:
            self._release(worker, healthy)
        if reply["ok"]:
            return InvocationResult(request_id, payload=json.loads(reply["payload"]))
        return InvocationResult(request_id, error=reply["error"])

    def recycle(self) -> None:
        """Stop the idle environments: the next invocation starts cold (and reads its secrets again), as
        after a new deployment of the function."""
        with self._cond:
            idle = list(self._idle)
            self._idle.clear()
            for worker in idle:
                self._all.remove(worker)
        for worker in idle:
            worker.stop()

    def close(self) -> None:
        """Stop every environment of this function."""
        with self._cond:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._cond.notify_all()
        for worker in workers:
            worker.stop()

    def pids(self) -> list[int]:
        """Process ids of the live environments (tests check none survive a stop)."""
        with self._cond:
            return [w.process.pid for w in self._all if w.alive()]
