"""Tests import what they share from tests/support, never from a conftest: conftest files hold
fixtures (which may call into tests/support), and a helper has one home that any test reaches.

ruff's banned-api (TID251, pyproject.toml) flags such an import where it is written; it
matches module names, so it needs every conftest listed and does not see relative imports.
These checks cover both: any import of a conftest, and a conftest missing from the list.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def conftest_modules() -> set[str]:
    return {
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in TESTS.rglob("conftest.py")
    }


def imports_of_a_conftest(path: Path) -> list[str]:
    """`file:line  import` for each import of a conftest module in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom):
            modules = [node.module or ""]
            if not node.module:  # `from . import conftest`
                modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        if any(module.split(".")[-1] == "conftest" for module in modules):
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            found.append(f"{where}  {ast.unparse(node)}")
    return found


def test_no_module_imports_from_a_conftest():
    found = [line for path in sorted(TESTS.rglob("*.py")) for line in imports_of_a_conftest(path)]
    assert found == [], "move what these import to tests/support:\n" + "\n".join(found)


def test_ruff_bans_every_conftest_module():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    banned = config["tool"]["ruff"]["lint"]["flake8-tidy-imports"]["banned-api"]
    missing = sorted(conftest_modules() - set(banned))
    assert missing == [], f"add to banned-api in pyproject.toml: {missing}"
    assert "TID251" in config["tool"]["ruff"]["lint"]["select"]
