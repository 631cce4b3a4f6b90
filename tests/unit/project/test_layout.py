"""The layout is the architecture (ARCHITECTURE.md): handlers are thin, and only call into their entrypoint.

import-linter (pyproject.toml, run by `make lint` and `make test`) checks the package's layers; the handlers
in functions/ are not a package, so this test reads them itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
HANDLERS = sorted(ROOT.glob("functions/*/app.py"))
# The console's static files sit beside its handler, so it also needs pathlib to find them.
STANDARD_LIBRARY_ALLOWED = {"console": {"pathlib"}}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("handler", HANDLERS, ids=lambda p: p.parent.name)
def test_a_handler_imports_its_entrypoint_and_nothing_else(handler: Path) -> None:
    name = handler.parent.name
    allowed = {f"tiktok_publisher.entrypoints.{name}"} | STANDARD_LIBRARY_ALLOWED.get(name, set())
    assert _imports(handler) <= allowed
    assert f"tiktok_publisher.entrypoints.{name}" in _imports(handler)
    assert (ROOT / "layers/shared/tiktok_publisher/entrypoints" / f"{name}.py").is_file()


def test_every_handler_is_short() -> None:
    for handler in HANDLERS:
        assert len(handler.read_text(encoding="utf-8").splitlines()) <= 15, handler
