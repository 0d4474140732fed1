"""The code's shape, checked: which layer may import which, and how big a module
or a function may grow. Read from the source with `ast`, so nothing is imported."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLUEPRINTS = ("webapp.admin", "webapp.member", "webapp.partner", "webapp.api")
# generated OpenAPI schema data: long by nature, read by nobody as code
LONG_FUNCTIONS_ALLOWED = {("webapp/api/openapi_schemas.py", "schemas"), ("webapp/api/openapi.py", "_paths")}


def _modules(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def _dotted(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, absolute, including imports inside functions."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:
                package = _dotted(path).split(".")
                keep = len(package) - node.level + (path.name == "__init__.py")
                base = ".".join(package[:keep] + [node.module])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _offenders(folder: str, banned: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _modules(folder)
        for name in sorted(_imports(path))
        if any(name == b or name.startswith(b + ".") for b in banned)
    ]


def test_models_import_no_service_and_no_view():
    assert _offenders("webapp/models", ("webapp.services", "webapp.jobs", *BLUEPRINTS)) == []


def test_services_import_no_view_no_job_and_no_request_state():
    banned = ("webapp.jobs", *BLUEPRINTS, "flask.request", "flask.current_app", "flask_login")
    assert _offenders("webapp/services", banned) == []


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_no_blueprint_imports_another(blueprint):
    others = tuple(b for b in BLUEPRINTS if b != blueprint)
    assert _offenders(blueprint.replace(".", "/"), others) == []


def test_jobs_import_no_view():
    assert _offenders("webapp/jobs", BLUEPRINTS) == []


def test_no_module_over_600_lines():
    long = [f"{p.relative_to(ROOT)}: {n}" for p in _modules("webapp", "games")
            if (n := len(p.read_text().splitlines())) > 600]
    assert long == []


def test_no_function_over_60_lines():
    long = []
    for path in _modules("webapp", "games", "bench"):
        rel = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = node.end_lineno - node.lineno + 1
                if size > 60 and (rel, node.name) not in LONG_FUNCTIONS_ALLOWED:
                    long.append(f"{rel}:{node.lineno} {node.name} ({size} lines)")
    assert long == []


def test_a_size_check_can_fail(tmp_path):
    """The checks above read real trees: prove the reader sees a long function."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n" + "    x = 1\n" * 70)
    node = ast.parse(module.read_text()).body[0]
    assert node.end_lineno - node.lineno + 1 == 71
