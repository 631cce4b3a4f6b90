"""`sam validate --lint` and `sam build` on template.yaml, as CI and `make build` run them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _sam() -> str:
    sam = os.environ.get("SAM_CLI") or str(ROOT / ".venv-sam" / "bin" / "sam")
    assert Path(sam).is_file() or shutil.which(sam), f"SAM CLI not found at {sam} (make builds it)"
    return sam


def _env() -> dict[str, str]:
    """sam build needs the Lambda runtime's interpreter (python3.13) on PATH."""
    env = dict(os.environ, SAM_CLI_TELEMETRY="0")
    pyenv_root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=False).stdout.strip()
    candidates = [Path(pyenv_root or Path.home() / ".pyenv") / "versions" / "3.13.0" / "bin"]
    env["PATH"] = os.pathsep.join([*(str(c) for c in candidates if c.is_dir()), env.get("PATH", "")])
    return env


def _run(args: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout, check=False
    )


def test_sam_validate_lint() -> None:
    result = _run([_sam(), "validate", "--lint", "--template", "template.yaml"], ROOT, 300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


@pytest.mark.timeout(900)
def test_sam_build_packages_every_function_and_the_layer(tmp_path: Path) -> None:
    build_dir = tmp_path / "build"
    result = _run(
        [
            _sam(), "build", "--template", "template.yaml", "--build-dir", str(build_dir),
            "--cache-dir", str(tmp_path / "cache"), "--parallel",
        ],
        ROOT,
        880,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    built = json.dumps(sorted(p.name for p in build_dir.iterdir()))
    for name in (
        "AuthorizerFunction", "OAuthStartFunction", "OAuthCallbackFunction", "AccountsFunction",
        "PublishFunction", "PublishWorkerFunction", "RefreshFunction", "DispatchFunction", "S3UploadFunction",
        "WebhookFunction", "ConsoleFunction",
    ):  # fmt: skip
        assert (build_dir / name).is_dir(), built
    layer = next(p for p in build_dir.iterdir() if p.name.startswith("SharedLayer"))
    # The layer holds the package and its dependencies, for arm64 Linux.
    assert (layer / "python" / "tiktok_publisher" / "__init__.py").is_file()
    assert (layer / "python" / "aws_lambda_powertools").is_dir()
    assert list((layer / "python").glob("pydantic_core/*aarch64*.so")), "expected arm64 wheels"
