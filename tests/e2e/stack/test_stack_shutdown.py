"""`python -m local_stack` boots, answers, and stops on SIGTERM leaving no process behind."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from local_stack import LocalStack

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("stack")]


def _alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _wait_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [p for p in pids if _alive(p)]
        if not alive:
            return []
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


def test_cli_boots_prints_a_token_and_stops_cleanly_on_sigterm() -> None:
    # Given the stack started as `make run` does, on free ports
    cli = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local_stack",
            "--port",
            "0",
            "--moto-port",
            "0",
            "--emulator-port",
            "0",
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if k not in ("TIKTOK_API_BASE", "TIKTOK_AUTH_BASE")},
    )
    lines: queue.Queue[str] = queue.Queue()
    assert cli.stderr is not None
    threading.Thread(target=lambda: [lines.put(line) for line in cli.stderr], daemon=True).start()
    output: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while not any("Ctrl-C" in line for line in output):
            assert time.monotonic() < deadline, "".join(output)
            assert cli.poll() is None, "".join(output)
            try:
                output.append(lines.get(timeout=1))
            except queue.Empty:
                continue
        text = "".join(output)
        gateway = re.search(r"API gateway\s+(http://127\.0\.0\.1:\d+)", text)
        assert gateway, text
        token = re.search(r"^\s+(eyJ[\w-]+\.[\w-]+\.[\w-]+)\s*$", text, re.MULTILINE)
        assert token, text
        # When it serves a request (a function environment starts) ...
        response = requests.get(
            f"{gateway.group(1)}/v1/accounts",
            headers={"Authorization": f"Bearer {token.group(1)}"},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        children = _children(cli.pid)
        assert len(children) >= 3  # moto, the emulator, function environments
        # ... and then gets SIGTERM
        cli.send_signal(signal.SIGTERM)
        assert cli.wait(timeout=30) == 0
        # Then every child is gone
        assert _wait_gone(children, 10) == []
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait(timeout=10)


def test_stop_ends_every_child_process() -> None:
    # Given a running stack with a warm function environment
    stack = LocalStack(quiet=True)
    with stack:
        assert requests.get(f"{stack.gateway_url}/", timeout=60).status_code == 200
        pids = stack.pids()
        assert len(pids) >= 3
    # When it stops, then nothing is left, and a second stop is harmless
    assert _wait_gone(pids, 10) == []
    stack.stop()
    with pytest.raises(RuntimeError):
        stack.invoke("console", {})
