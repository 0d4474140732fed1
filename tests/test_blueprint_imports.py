"""No blueprint imports another: what two of them share lives in webapp/forms,
webapp/htmx.py, webapp/i18n.py or a service."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

WEBAPP = Path(__file__).resolve().parent.parent / "webapp"
BLUEPRINTS = ("admin", "member", "partner", "api")


def _imported_modules(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names)


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_a_blueprint_imports_no_other_blueprint(blueprint):
    others = tuple(f"webapp.{b}" for b in BLUEPRINTS if b != blueprint)
    wrong = sorted(f"{path.relative_to(WEBAPP)}: {module}"
                   for path in (WEBAPP / blueprint).rglob("*.py")
                   for module in _imported_modules(path)
                   if module in others or module.startswith(tuple(f"{o}." for o in others)))
    assert wrong == []
