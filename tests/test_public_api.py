"""The public surface: one table of names, seen the same by users, `__all__` and type checkers."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import rekoface
from rekoface import errors

INIT = Path(rekoface.__file__)


def _type_checking_imports() -> dict[str, str]:
    """Name -> module of the ``if TYPE_CHECKING:`` re-exports in rekoface/__init__.py."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom), ast.unparse(statement)
                for alias in statement.names:
                    assert alias.asname is None, ast.unparse(statement)
                    found[alias.name] = str(statement.module)
    return found


def test_type_checkers_see_exactly_the_lazy_table() -> None:
    assert _type_checking_imports() == rekoface._LAZY


def test_all_lists_the_lazy_table_the_errors_and_the_version() -> None:
    eager = {name for name in errors.__all__ if name[0].isupper()}  # classes, not helpers
    assert sorted(rekoface.__all__) == rekoface.__all__
    assert set(rekoface.__all__) == set(rekoface._LAZY) | eager | {"__version__"}


@pytest.mark.parametrize("name", sorted(rekoface._LAZY))
def test_every_lazy_name_loads_from_its_module(name: str) -> None:
    module = importlib.import_module(f"rekoface.{rekoface._LAZY[name]}")
    assert getattr(rekoface, name) is getattr(module, name)


def test_a_typo_is_an_attribute_error_that_names_it() -> None:
    with pytest.raises(AttributeError, match="FaceSerchClient"):
        rekoface.FaceSerchClient  # type: ignore[attr-defined]  # noqa: B018


def test_import_rekoface_loads_no_lazy_module() -> None:
    code = (
        "import sys, rekoface; "
        "print(sorted(m for m in sys.modules if m.startswith(('rekoface.', 'attrs', 'tenacity'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['rekoface.errors']"
