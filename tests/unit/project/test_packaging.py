"""The Lambda layer installs what the package declares: the two dependency lists cannot drift."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_layer_requirements_equal_the_runtime_dependencies() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    layer = [
        line.strip()
        for line in (ROOT / "layers/shared/requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    assert sorted(layer) == sorted(declared)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci/run").read_text()
    commands = [line.strip() for line in ci.splitlines() if line.strip() and not line.startswith("#")]

    assert commands[-1] == "make test"
    assert "make test" in (ROOT / "README.md").read_text()
