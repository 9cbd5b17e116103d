"""The release: fresh, free of solutions and hidden tests; committed notebooks clean."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import nbformat
import pytest

from grader.authoring.release import stale_release_files
from grader.course import COURSE, NOTEBOOKS, RELEASE_DIR, REPO, SOURCE_DIR
from tests.support import installed_closure, normalized, pins

SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)
GIT_NOTEBOOKS = sorted(
    path.relative_to(REPO)
    for folder in ("source", "release", "notebooks")
    for path in (REPO / folder).rglob("*.ipynb")
    if ".ipynb_checkpoints" not in path.parts
)


def _read(path: Path) -> nbformat.NotebookNode:
    """A notebook from disk."""
    return nbformat.read(path, as_version=4)


COMPUTES = re.compile(r" [-+*/] |\*\*|np\.")


def _meaningful_lines(code: str) -> set[str]:
    """Lines that give an answer away: they compute (arithmetic or numpy calls)."""
    lines = {line.strip() for line in code.splitlines()}
    return {
        line for line in lines if not line.startswith("#") and COMPUTES.search(line)
    }


def _regions(pattern: re.Pattern, stem: str) -> str:
    """All text inside `pattern`'s regions in one source notebook's code cells."""
    cells = _read(SOURCE_DIR / f"{stem}.ipynb").cells
    return "\n".join(
        region for cell in cells for region in pattern.findall(cell.source)
    )


def _released_texts() -> dict[str, str]:
    """Every released text a student receives: notebook cells and helper modules."""
    texts = {}
    for stem in NOTEBOOKS:
        notebook = _read(RELEASE_DIR / f"{stem}.ipynb")
        texts[f"{stem}.ipynb"] = "\n".join(cell.source for cell in notebook.cells)
    for module in (RELEASE_DIR / "backprop_helper").glob("*.py"):
        texts[f"backprop_helper/{module.name}"] = module.read_text()
    return texts


def test_release_is_what_generate_assignment_produces_now():
    """The committed release equals a fresh `nbgrader generate_assignment` run."""
    assert stale_release_files(COURSE) == []


def test_release_holds_every_notebook_and_the_helper():
    """Students get the five notebooks, the helper package and its data."""
    names = {path.name for path in RELEASE_DIR.iterdir()}
    assert names == {f"{stem}.ipynb" for stem in NOTEBOOKS} | {"backprop_helper"}
    assert (RELEASE_DIR / "backprop_helper" / "data.npy").is_file()


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_source_notebook_has_answers_and_hidden_tests_to_strip(stem):
    """Guards the leak tests below: every source notebook has both kinds of region."""
    assert _meaningful_lines(_regions(SOLUTION, stem))
    assert _meaningful_lines(_regions(HIDDEN, stem))


@pytest.mark.parametrize("stem", NOTEBOOKS)
@pytest.mark.parametrize("kind", [SOLUTION, HIDDEN], ids=["solution", "hidden-tests"])
def test_no_released_file_contains_a_line_of_the_answers(stem, kind):
    """No line of a solution or hidden test appears in any released file."""
    secret = _meaningful_lines(_regions(kind, stem))
    leaks = {
        name: sorted(secret & _meaningful_lines(text))
        for name, text in _released_texts().items()
    }
    assert {name: lines for name, lines in leaks.items() if lines} == {}


def test_release_has_no_region_markers():
    """The markers themselves are gone: nbgrader stripped every region."""
    for name, text in _released_texts().items():
        assert "BEGIN SOLUTION" not in text, name
        assert "HIDDEN TESTS" not in text, name


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_release_keeps_nbgrader_metadata_and_points(stem):
    """Graded cells keep their ids and points, so autograde can restore them."""

    def graded(path: Path) -> dict[str, float]:
        cells = _read(path).cells
        meta = [cell.metadata.get("nbgrader", {}) for cell in cells]
        return {m["grade_id"]: m["points"] for m in meta if m.get("grade")}

    source_points = graded(SOURCE_DIR / f"{stem}.ipynb")
    assert source_points and all(points > 0 for points in source_points.values())
    assert graded(RELEASE_DIR / f"{stem}.ipynb") == source_points


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_source_cells_are_well_formed_for_nbgrader(stem):
    """Unique grade ids; graded and read-only cells locked; answers editable."""
    cells = _read(SOURCE_DIR / f"{stem}.ipynb").cells
    meta = [cell.metadata["nbgrader"] for cell in cells if "nbgrader" in cell.metadata]
    ids = [m["grade_id"] for m in meta]
    assert len(ids) == len(set(ids))
    for m in meta:
        assert m["locked"] is (not m["solution"]), m["grade_id"]
        if m["grade"]:
            assert not m["solution"], f"{m['grade_id']}: tests are never answers"


@pytest.mark.parametrize("path", GIT_NOTEBOOKS, ids=str)
def test_notebooks_in_git_carry_no_outputs(path):
    """No outputs or execution counts in any committed notebook."""
    for cell in _read(REPO / path).cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("path", GIT_NOTEBOOKS, ids=str)
def test_notebooks_in_git_are_valid_nbformat(path):
    """Every committed notebook validates against the nbformat schema."""
    nbformat.validate(_read(REPO / path))


# --- what students install ---------------------------------------------------------

STUDENTS_REQUIREMENTS = REPO / "requirements-students.txt"
INSTRUCTOR_TOOLS = {"nbgrader"}  # with its JupyterLab/Notebook extensions


def _imported_modules() -> set[str]:
    """Top-level modules the released notebooks and the helper import."""
    sources = [
        "\n".join(
            line
            for line in cell.source.splitlines()
            if not line.lstrip().startswith(("%", "!"))
        )
        for stem in NOTEBOOKS
        for cell in _read(RELEASE_DIR / f"{stem}.ipynb").cells
        if cell.cell_type == "code"
    ]
    sources += [
        path.read_text() for path in (RELEASE_DIR / "backprop_helper").glob("*.py")
    ]
    found = set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"backprop_helper"}


def test_students_requirements_are_pinned_as_the_course_is():
    """requirements-students.txt pins exactly what requirements.txt pins."""
    students, grading = pins(STUDENTS_REQUIREMENTS), pins(REPO / "requirements.txt")
    assert students
    assert {name: grading.get(name) for name in students} == students


def test_students_install_pulls_in_no_instructor_tools():
    """Installing what students need brings no nbgrader (nor its lab extensions)."""
    closure = installed_closure(pins(STUDENTS_REQUIREMENTS))
    assert closure & INSTRUCTOR_TOOLS == set()
    assert {"jupyterlab", "notebook", "ipykernel"} <= closure


def test_students_install_has_everything_the_notebooks_import():
    """Every module the notebooks and the helper import comes with the students'
    install (the helper wheel for Colab asks for the same, unpinned)."""
    from importlib import metadata

    provided = metadata.packages_distributions()
    closure = installed_closure(pins(STUDENTS_REQUIREMENTS))
    imported = _imported_modules()
    assert {"numpy", "matplotlib", "ipywidgets", "tqdm", "IPython"} <= imported
    for module in imported:
        assert {normalized(name) for name in provided[module]} & closure, module
