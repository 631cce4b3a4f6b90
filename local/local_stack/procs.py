"""Child processes that never outlive the stack: started here, stopped here, logs prefixed.

Every child watches something the kernel closes when the stack dies, even by SIGKILL: moto and the
emulator their stdin pipe (`watch_stdin_then_exit`), function workers their invocation socket.
(Not PR_SET_PDEATHSIG: it fires when the spawning *thread* ends, e.g. a gateway request thread.)
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from typing import IO, Any

# Environment variables the stack passes to a function worker (see worker.py, which repeats them).
WORKER_FD = "LOCAL_STACK_WORKER_FD"
WORKER_CODE_DIR = "LOCAL_STACK_CODE_DIR"
WORKER_LAYER_DIRS = "LOCAL_STACK_LAYER_DIRS"


def spawn(
    args: Sequence[str],
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    stdout: int | IO[Any] | None = subprocess.PIPE,
    pass_fds: Sequence[int] = (),
) -> subprocess.Popen[bytes]:
    """Start a child in its own process group (Ctrl-C reaches the stack, which then stops it cleanly)."""
    return subprocess.Popen(
        list(args),
        env=env,
        cwd=cwd,
        stdin=subprocess.PIPE,  # closed by the stack at exit; children may watch it for EOF
        stdout=stdout,
        stderr=subprocess.STDOUT if stdout == subprocess.PIPE else None,
        pass_fds=tuple(pass_fds),
        start_new_session=True,
    )


def pump_lines(stream: IO[bytes], prefix: str, sink: Callable[[str], None] | None = None) -> threading.Thread:
    """Copy a child's output line by line to stderr with a `[name]` prefix (thread ends at EOF)."""

    def run() -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if sink is not None:
                sink(line)
            else:
                sys.stderr.write(f"{prefix} {line}\n")
        stream.close()

    thread = threading.Thread(target=run, name=f"pump{prefix}", daemon=True)
    thread.start()
    return thread


def stop(process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """SIGTERM, wait, then SIGKILL the whole process group of a child started by `spawn`."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()


def watch_stdin_then_exit() -> None:
    """In a child: exit as soon as the parent closes our stdin (or dies), so nothing is orphaned."""

    def run() -> None:
        with contextlib.suppress(Exception):
            while sys.stdin.buffer.read(1024):
                pass
        os._exit(0)

    threading.Thread(target=run, name="parent-watch", daemon=True).start()
