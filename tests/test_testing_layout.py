"""Imports inside `rekoface.testing` run one way (read from the source with `ast`).

The service (`_fake`) and the botocore adapter (`_transport`) each know only the
`Handler` interface (`_handler`), so another adapter (aiobotocore) can be added without
touching the service, and the service can be read and tested without any transport.
Every import counts, also one inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import rekoface.testing

PACKAGE = Path(rekoface.testing.__file__).parent
NAME = "rekoface.testing"


def imported(module: str) -> set[str]:
    """Everything `module` (a file of the package) imports, as absolute module names."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = f"{NAME}.{base}" if base else NAME
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def siblings(module: str) -> set[str]:
    """The package's own modules that `module` imports (by file name)."""
    files = {path.stem for path in PACKAGE.glob("*.py")}
    prefix = f"{NAME}."
    return {
        name.removeprefix(prefix).split(".")[0]
        for name in imported(module)
        if name.startswith(prefix)
    } & files


#: The service: `_fake` (`FakeService`) and the parts it holds, one concern each.
SERVICE = ("_fake", "_fake_jobs", "_fake_collections", "_fake_faults", "_fake_notifications")
PARTS = (*SERVICE[1:], "_fake_records", "_data")


def test_the_service_imports_no_transport() -> None:
    for module in SERVICE:
        assert siblings(module) & {"_transport", "_fake_rekognition"} == set(), module
        assert not any("botocore" in name for name in imported(module)), module


def test_the_service_parts_never_import_the_service() -> None:
    # `FakeService` holds its parts; a part that reached back would make a circle.
    for module in PARTS:
        assert "_fake" not in siblings(module), module
    assert siblings("_fake") >= set(SERVICE[1:])


def test_the_transport_knows_only_the_handler_interface() -> None:
    assert siblings("_transport") == {"_handler"}
    assert siblings("_handler") == set()


def test_no_import_circle_in_the_package() -> None:
    graph = {path.stem: siblings(path.stem) for path in PACKAGE.glob("*.py")}
    assert graph["_fake_rekognition"] >= {"_fake", "_transport"}  # the one place they meet

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for step in graph[start] - seen:
            if step == goal or reaches(step, goal, seen | {step}):
                return True
        return False

    assert [module for module in graph if reaches(module, module, set())] == []


def test_the_package_imports_nothing_else_of_rekoface() -> None:
    outside = {
        name
        for path in PACKAGE.glob("*.py")
        for name in imported(path.stem)
        if name.split(".")[0] == "rekoface" and not name.startswith(NAME)
    }
    assert outside == set()
