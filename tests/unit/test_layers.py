"""The layers' import rules (``model → http → vendors → store → service → ui/api``),
read from the source with ``ast``: a rule broken here fails with the file and line."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import crmtui
from crmtui.vendors import BUILTIN

PACKAGE = Path(crmtui.__file__).parent
VENDOR_MODULES = {f"crmtui.vendors.{name}" for name in BUILTIN}


def modules(*parts: str) -> list[Path]:
    """The Python files of ``crmtui/<part>`` (a package folder or one module)."""
    found: list[Path] = []
    for part in parts:
        path = PACKAGE / part
        found += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return found


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every module ``path`` imports (``from a import b`` gives ``a`` and ``a.b``), with its
    line, wherever the import is (in a function too)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def broken(paths: list[Path], forbidden: set[str]) -> list[str]:
    return [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
        for path in paths
        for line, module in imports(path)
        if any(under(module, package) for package in forbidden)
    ]


def test_the_rules_see_what_they_look_for() -> None:
    """The checker itself: an import of each forbidden kind is found (no vacuous pass)."""
    tree = PACKAGE / "ui" / "launch.py"
    assert any(under(m, "crmtui.ui") for _, m in imports(tree))
    assert broken([tree], {"crmtui.ui"})
    assert broken([PACKAGE / "vendors" / "__init__.py"], {"crmtui.vendors.base"})


@pytest.mark.parametrize("layer", ["service", "store", "vendors", "http", "model.py", "fields.py"])
def test_the_lower_layers_never_import_the_ui(layer: str) -> None:
    assert broken(modules(layer), {"crmtui.ui", "crmtui.cli", "crmtui.api"}) == []


def test_the_service_never_prints() -> None:
    """The CLI prints; the service tells its listeners (events) or raises."""
    calls = [
        f"{path.name}:{node.lineno}"
        for path in modules("service")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        if node.func.id in ("print", "input")
    ]
    assert calls == []
    assert broken(modules("service"), {"sys.stdout", "sys.stderr"}) == []


def test_no_vendor_module_is_imported_outside_the_vendors_and_sandboxes() -> None:
    """A vendor is reached through ``crmtui.vendors.load`` (the registry), never by name."""
    outside = [
        path
        for path in modules(".")
        if not {"vendors", "sandbox"} & set(path.relative_to(PACKAGE).parts[:1])
    ]
    assert outside and broken(outside, VENDOR_MODULES) == []


def test_the_ui_and_the_notebook_api_use_the_service_not_the_cache_or_adapters() -> None:
    """Screens and ``crmtui.api`` go through the service's public methods; the model,
    the field types and the HTTP errors are shared vocabulary, the store and the
    adapters are not."""
    assert broken(modules("ui", "api.py"), {"crmtui.store", "crmtui.vendors"}) == []


def test_no_class_of_the_service_calls_another_objects_private_members() -> None:
    """``other._x`` across objects (the circle Crm/Outbox/Sync had) is not done: only
    ``self._x`` and ``cls._x``."""
    reached = [
        f"{path.name}:{node.lineno} .{node.attr}"
        for path in modules("service")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
    ]
    assert reached == []


def test_no_test_module_imports_another_test_module() -> None:
    """Shared test code lives in conftest.py fixtures or tests/helpers/, not in a test_*.py
    another test imports (that runs its tests twice and ties files together)."""
    tests = Path(__file__).resolve().parents[1]
    found = [
        f"{path.relative_to(tests.parent)}:{line} imports {module}"
        for path in sorted(tests.rglob("*.py"))
        for line, module in imports(path)
        if module.startswith("tests.")
        and any(part.startswith("test_") or part == "conftest" for part in module.split("."))
    ]
    assert found == []
