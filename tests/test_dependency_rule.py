"""The layering rule of ARCHITECTURE.md, checked on every import statement of each layer.

desktop never imports PySide6 or ui; ui never imports sqlalchemy; server never imports
desktop or ui. Imports inside functions count too: a late import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN: dict[str, tuple[str, ...]] = {
    "desktop": ("PySide6", "ui", "server"),
    "ui": ("sqlalchemy", "server"),
    "server": ("desktop", "ui", "PySide6"),
}


def imported_modules(source: str) -> list[tuple[int, str]]:
    """Every absolute module name a piece of source imports, with its line number."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def violations(layer: str) -> list[str]:
    """Lines in a layer's modules that import a package the layer must not depend on."""
    problems = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        for lineno, module in imported_modules(path.read_text(encoding="utf-8")):
            top = module.split(".")[0]
            if top in FORBIDDEN[layer]:
                problems.append(f"{path.relative_to(ROOT)}:{lineno} imports {module}")
    return problems


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_respects_the_dependency_rule(layer: str) -> None:
    assert (ROOT / layer).is_dir()
    assert violations(layer) == []


def test_scanner_catches_plain_from_and_late_imports() -> None:
    source = (
        "import PySide6.QtCore\n"
        "from sqlalchemy import select\n"
        "def later():\n"
        "    import ui.bridge\n"
        "from . import sibling\n"
    )
    assert [name for _, name in imported_modules(source)] == [
        "PySide6.QtCore",
        "sqlalchemy",
        "ui.bridge",
    ]
