"""No import circles in the service's modules (the GraphQL layer once had ``contract_types`` ↔
``types``): every module imports first in a fresh interpreter, and the graph of the imports
between its modules (``TYPE_CHECKING`` and function-local ones included) has no cycle."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import crm_clients
import crm_clients.graphql

PACKAGE = Path(crm_clients.__file__).parent


def _modules(package: Path, prefix: str) -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages([str(package)], prefix)
                  if ".migrations" not in m.name)


def _path(module: str) -> Path | None:
    """The file of a crm_clients module, None when ``module`` names something else."""
    relative = PACKAGE.joinpath(*module.split(".")[1:])
    for path in (relative / "__init__.py", relative.with_suffix(".py")):
        if path.exists():
            return path
    return None


def _imports(module: str) -> set[str]:
    """The crm_clients modules ``module`` imports, wherever in the file."""
    path = _path(module)
    assert path is not None, module
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("crm_clients."))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("crm_clients"):
            assert node.module is not None
            for alias in node.names:  # ``from package import module`` imports that module
                name = f"{node.module}.{alias.name}"
                found.add(name if _path(name) is not None else node.module)
    return found - {module}


_IMPORT_EACH_FIRST = """
import importlib, sys
for module in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m == "crm_clients" or m.startswith("crm_clients.")]:
        del sys.modules[loaded]
    importlib.import_module(module)
"""


def test_each_graphql_module_imports_first() -> None:
    """Each module imported first, with none of the service's modules loaded before (one
    interpreter, which forgets them between modules: strawberry and SQLAlchemy take seconds)."""
    modules = _modules(Path(crm_clients.graphql.__file__).parent, "crm_clients.graphql.")
    done = subprocess.run([sys.executable, "-c", _IMPORT_EACH_FIRST, *modules],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def test_no_import_cycle() -> None:
    modules = ["crm_clients", *_modules(PACKAGE, "crm_clients.")]
    graph = {m: _imports(m) & set(modules) for m in modules}
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        if module in path:
            pytest.fail("import cycle: " + " → ".join(path[path.index(module):] + (module,)))
        if module in done:
            return
        for imported in sorted(graph[module]):
            visit(imported, (*path, module))
        done.add(module)

    for module in modules:
        visit(module, ())
