"""Who imports whom among the domain packages: one way only (DESIGN.md, rule 14).

The inventory builds on the catalog (a product's stock lives on its document), so the
catalog never imports the inventory; the cart uses both. Until import-linter checks this,
this test does, from the source.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
CHECKED = ("catalog", "inventory", "cart")


def _imports(package: str) -> list[tuple[str, str, bool]]:
    """(module, imported app package, at module level) for every `app.*` import."""
    found = []
    for path in sorted((APP / package).rglob("*.py")):
        tree = ast.parse(path.read_text())
        top = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] == "app" and len(parts) > 1:
                    found.append((path.name, parts[1], id(node) in top))
    return found


def _package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in APP.iterdir():
        if path.is_dir() and (path / "__init__.py").exists():
            graph[path.name] = {
                target for _, target, _ in _imports(path.name) if target != path.name
            }
    return graph


def test_the_catalog_does_not_import_the_inventory():
    assert [m for m, target, _ in _imports("catalog") if target == "inventory"] == []


@pytest.mark.parametrize("package", CHECKED)
def test_no_import_inside_a_function(package):
    assert [(m, target) for m, target, top in _imports(package) if not top] == []


@pytest.mark.parametrize("package", CHECKED)
def test_no_cycle_through_the_package(package):
    graph = _package_graph()
    seen, todo = set(), list(graph[package])
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(graph.get(current, ()))
    assert package not in seen
