"""What each install holds: `make setup` (requirements.txt, what `make demo` and a
grading server get) has everything the grader imports; the tests' and the
maintainer's tools (requirements-dev.txt: torch, playwright, pytest...) come only
with `make setup-dev`, which `make check` and `make test` run."""

from __future__ import annotations

import ast
import sys
from importlib import metadata

from grader.course import REPO
from tests.support import installed_closure, normalized, pins

GRADER = REPO / "grader"


def grader_imports() -> set[str]:
    """Top-level modules the grader's code imports, the standard library aside."""
    found = set()
    for path in GRADER.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"grader"}


def dev_only() -> set[str]:
    """The distributions requirements-dev.txt pins on top of requirements.txt."""
    return set(pins(REPO / "requirements-dev.txt")) - set(
        pins(REPO / "requirements.txt")
    )


def test_the_grader_needs_nothing_the_tests_install():
    """Every module the grader imports comes with requirements.txt's packages."""
    grading = installed_closure(pins(REPO / "requirements.txt"))
    provided = metadata.packages_distributions()
    imported = grader_imports()
    assert {"nbgrader", "nbclient", "jupyter_client", "distributed"} <= imported
    for module in imported:
        assert {normalized(name) for name in provided[module]} & grading, module


def test_the_tests_tools_are_not_part_of_grading():
    """torch, playwright, pytest and the rest of requirements-dev.txt are neither in
    requirements.txt nor pulled in by it."""
    assert {"torch", "playwright", "pytest", "pytest-xdist", "boston"} <= dev_only()
    assert installed_closure(pins(REPO / "requirements.txt")) & dev_only() == set()
