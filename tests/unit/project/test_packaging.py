"""Reproducible builds: the virtualenv and the Lambda layer install exactly what uv.lock pins, with hashes."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
UV = ROOT / ".venv" / "bin" / "uv"
# The Makefile's `make lock` exports, without -o (to stdout).
EXPORT = [str(UV), "export", "--frozen", "--no-emit-project", "--format", "requirements-txt", "--quiet"]
_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)")


def _requirements(text: str) -> list[str]:
    # The export's header records the command that wrote it (with -o FILE): compare what is installed.
    return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _export(*extra: str) -> str:
    result = subprocess.run([*EXPORT, *extra], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_layer_requirements_are_the_lock_export_of_the_runtime_dependencies() -> None:
    # Given the layer's requirements.txt and a fresh export of uv.lock without the dev extras
    layer = (ROOT / "layers/shared/requirements.txt").read_text()
    # Then they are the same pins and hashes (`make lock` writes one from the other)
    assert _requirements(layer) == _requirements(_export("--no-dev"))


def test_the_virtualenv_installs_the_lock_export_with_the_dev_extras() -> None:
    dev = (ROOT / "requirements/dev.txt").read_text()
    assert _requirements(dev) == _requirements(_export("--all-extras"))
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r requirements/dev.txt" in makefile
    assert "--no-deps -e ." in makefile


def test_every_pin_has_hashes_and_the_lock_matches_pyproject() -> None:
    layer = (ROOT / "layers/shared/requirements.txt").read_text()
    pins = [line for line in layer.splitlines() if _PIN.match(line)]
    assert pins
    assert layer.count("--hash=sha256:") >= len(pins)
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    project = next(p for p in lock["package"] if p["name"] == "tiktok-publisher")
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    locked = {d["name"] for d in project["dependencies"]}
    names = {re.split(r"[\[<>=!~ ]", d, maxsplit=1)[0].lower() for d in declared}
    # uv.lock was resolved from this pyproject.toml: the same runtime dependencies (uv lock --check does the
    # full comparison, but needs the index; this one runs offline).
    assert {n.replace("_", "-") for n in names} == locked


def test_floors_are_past_the_published_advisories() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    versions = {p["name"]: tuple(int(x) for x in p["version"].split(".")[:3]) for p in lock["package"]}
    assert versions["requests"] >= (2, 32, 4)  # CVE-2024-47081
    assert versions["pyjwt"] >= (2, 10, 1)  # CVE-2024-53861
    declared = " ".join(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    assert "requests>=2.32.5" in declared
    assert "pyjwt[crypto]>=2.10.1" in declared


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci/run").read_text()
    commands = [line.strip() for line in ci.splitlines() if line.strip() and not line.startswith("#")]

    assert commands[-1] == "make test"
    assert "make test" in (ROOT / "README.md").read_text()
