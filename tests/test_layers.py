"""The grader's layers hold: every module imports only what README.md's "How the
grader is built" lets its package import, and only the command line (and the demo
classes) picks the repository's course.

The layers are read from the README's block (one line per package, `name ->` what it
may import), every grader module's imports from its source (the standard library's
ast, every import statement, in functions too).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import grader

GRADER = Path(grader.__file__).parent
README = GRADER.parent / "README.md"
HEADING = "### How the grader is built"
LINE = re.compile(r"^(?P<name>[\w_]+)\s+(?P<kind>->|=)\s*(?P<rest>.*)$")
# What the command line grades and authors: no stage reaches for it.
CHECKOUT_NAMES = {
    "COURSE", "REPO", "SOURCE_DIR", "RELEASE_DIR", "CONFIG_FILE", "START_HERE",
}  # fmt: skip
MAY_PICK_THE_CHECKOUT = {"cli", "demo", "course"}


def readme_layers(text: str) -> dict[str, set[str]]:
    """unit -> the units it may import, from the first ```text block after HEADING
    (a line `foundation = a, b` names a group its name stands for)."""
    section = text[text.index(HEADING) :]
    block = section[section.index("```text\n") + len("```text\n") :]
    block = block[: block.index("```")]
    groups: dict[str, list[str]] = {}
    allowed: dict[str, list[str]] = {}
    for line in block.splitlines():
        found = LINE.match(line.strip())
        if not found:
            continue
        rest = re.sub(r"\(.*?\)", "", found["rest"])  # (a remark)
        names = [n for n in re.split(r"[,\s]+", rest) if n]
        (groups if found["kind"] == "=" else allowed)[found["name"]] = names
    return {
        unit: {m for name in names for m in groups.get(name, [name])}
        for unit, names in allowed.items()
    }


def unit_of(module: str) -> str:
    """The layer unit of a grader module: its package, or a top-level module."""
    return module.split(".")[1]


def module_name(path: Path) -> str:
    relative = path.relative_to(GRADER.parent).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def grader_imports(
    path: Path, module: str, types: bool = True
) -> list[tuple[str, list[str]]]:
    """(the grader module imported, the names taken from it) of every import in the
    file at `path` (the module `module`); relative imports resolved. types: the
    imports under `if TYPE_CHECKING:` too (they never run)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in import_nodes(ast.parse(path.read_text()), types):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
            continue
        if node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        names = [alias.name for alias in node.names]
        if node.level and not node.module:  # from .. import inside
            found += [(f"{target}.{name}", []) for name in names]
        else:
            found.append((target, names))
    return [(name, names) for name, names in found if name.split(".")[0] == "grader"]


def import_nodes(tree: ast.AST, types: bool) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement in `tree`, in functions too; without those under
    `if TYPE_CHECKING:` unless `types`."""
    found = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif (
            isinstance(node, ast.If)
            and not types
            and ast.unparse(node.test).endswith("TYPE_CHECKING")
        ):
            found += import_nodes(ast.Module(body=node.orelse, type_ignores=[]), types)
        else:
            found += import_nodes(node, types)
    return found


def against_the_layers(
    module: str, imports: list[tuple[str, list[str]]], layers: dict[str, set[str]]
) -> list[str]:
    """The imports of `module` that its layer does not allow, in words."""
    unit = unit_of(module)
    wrong = []
    for imported, names in imports:
        if imported == "grader":
            wrong.append(f"{module} imports the grader package itself")
            continue
        target = unit_of(imported)
        if target != unit and target not in layers.get(unit, set()):
            wrong.append(f"{module} ({unit}) imports {imported} ({target})")
        if (
            target == "course"
            and unit not in MAY_PICK_THE_CHECKOUT
            and CHECKOUT_NAMES & set(names)
        ):
            taken = sorted(CHECKOUT_NAMES & set(names))
            wrong.append(f"{module} reaches for the repository's course: {taken}")
    return wrong


MODULES = sorted(set(GRADER.rglob("*.py")) - {GRADER / "__init__.py"})
LAYERS = readme_layers(README.read_text())


def test_the_readme_draws_every_package_and_module_of_the_grader():
    units = {unit_of(module_name(path)) for path in MODULES}
    assert units == set(LAYERS)
    assert all(allowed <= units for allowed in LAYERS.values())


def test_the_layers_have_no_cycle():
    """Each unit imports only units drawn below it: an order exists."""
    placed: list[str] = []
    left = dict(LAYERS)
    while left:
        ready = sorted(u for u, allowed in left.items() if allowed <= set(placed))
        assert ready, f"a cycle among {sorted(left)}"
        placed += ready
        for unit in ready:
            del left[unit]


@pytest.mark.parametrize(
    "path", MODULES, ids=lambda path: str(path.relative_to(GRADER.parent))
)
def test_every_module_imports_only_what_its_layer_allows(path):
    module = module_name(path)
    assert against_the_layers(module, grader_imports(path, module), LAYERS) == []


def test_the_modules_import_no_cycle():
    """Within packages too: no module imports one that imports it back when it
    runs (an import for type checking only is not run)."""
    graph = {
        module_name(path): {
            name for name, _ in grader_imports(path, module_name(path), types=False)
        }
        for path in MODULES
    }
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        if state.get(module) == "done":
            return
        assert state.get(module) != "open", " -> ".join([*trail, module])
        state[module] = "open"
        for imported in graph.get(module, ()):
            if imported in graph:
                visit(imported, [*trail, module])
        state[module] = "done"

    for module in graph:
        visit(module, [])


@pytest.mark.parametrize(
    ("module", "source", "complaint"),
    [
        ("grader.output.lms", "from ..intake.names import X", "imports grader.intake"),
        ("grader.kernel.probe", "from ..grading.grade import X", "(grading)"),
        ("grader.authoring.timing", "from ..grading import outfolder", "(grading)"),
        ("grader.output.write", "from ..course import SOURCE_DIR", "reaches for"),
        ("grader.nbx.config", "import grader.cli", "imports grader.cli"),
        ("grader.model", "from .course import Course", "imports grader.course"),
        (
            "grader.output.write",
            "if TYPE_CHECKING:\n    from ..grading.grade import RunReport",
            "(grading)",
        ),
    ],
)
def test_the_rule_catches_an_import_against_the_layers(
    tmp_path, module, source, complaint
):
    """The check itself: each of these edges would break the order."""
    path = tmp_path / "module.py"
    path.write_text(source + "\n")
    found = against_the_layers(module, grader_imports(path, module), LAYERS)
    assert len(found) == 1 and complaint in found[0], found


def test_the_rule_lets_a_package_use_itself_and_what_is_below():
    path = GRADER / "grading" / "grade.py"
    imports = grader_imports(path, "grader.grading.grade")
    assert ("grader.grading.outfolder", ["OutFolder"]) in imports
    assert ("grader.output.write", ["write_outputs"]) in imports


PACKAGES = sorted(path.parent for path in GRADER.glob("*/__init__.py"))


@pytest.mark.parametrize("package", PACKAGES, ids=lambda path: path.name)
def test_every_package_docstring_names_each_of_its_modules(package):
    """A newcomer finds every module in its package's docstring."""
    docstring = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))
    modules = sorted(path.stem for path in package.glob("*.py"))
    words = set(re.findall(r"\w+", docstring or ""))
    assert [m for m in modules if m != "__init__" and m not in words] == []
