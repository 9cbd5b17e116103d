"""grader/inside: code shipped into a sandbox or kernel imports only the standard
library and numpy, and nothing of the grader's."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import grader.inside

INSIDE = Path(grader.inside.__file__).parent
ALLOWED = set(sys.stdlib_module_names) | {"numpy", "__future__"}


def imported_modules(path: Path) -> list[str]:
    """The top-level package of every import statement, "." for relative ones."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append("." if node.level else node.module.split(".")[0])
    return found


@pytest.mark.parametrize(
    "path", sorted(INSIDE.glob("*.py")), ids=lambda path: path.name
)
def test_shipped_code_imports_only_the_standard_library_and_numpy(path):
    outside = sorted(set(imported_modules(path)) - ALLOWED)
    assert not outside, f"{path.name} imports {outside}"


def test_the_rule_catches_a_grader_or_third_party_import(tmp_path):
    """The check itself: these imports would break code sent into a sandbox."""
    shipped = tmp_path / "shipped.py"
    shipped.write_text("import json\nfrom grader import model\nimport IPython\n"
                       "from . import wire\n")  # fmt: skip
    assert sorted(set(imported_modules(shipped)) - ALLOWED) == [
        ".",
        "IPython",
        "grader",
    ]
