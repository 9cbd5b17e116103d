"""The course: where it lives, and one model of its notebooks, each parsed once.

A Course is a folder laid out as an nbgrader course (nbgrader_config.py,
source/ASSIGNMENT/, optionally release/ASSIGNMENT/): the repository itself, or the
copy the grader keeps in OUT. `Course.notebook(stem)` answers every question about
one notebook (its cells and their roles, points, setup code, hidden tests, the names
its answer cells bind); cell roles come from nbgrader's own `nbgrader.utils`.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import nbformat
from nbgrader.utils import is_grade, is_locked, is_solution

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = "backprop"
HELPER_PACKAGE = "backprop_helper"
CONFIG_NAME = "nbgrader_config.py"
NOTEBOOKS = (
    "01_sigmoid",
    "02_forward_propagation",
    "03_backward_propagation",
    "04_gradient_checking",
    "05_optimizers",
)
SETUP_CELL = "setup"  # the grade_id of the cell with the course's imports and data
# Cells a notebook needs run before its answers and graded tests (the Colab install,
# the imports and data).
SETUP_CELLS = ("colab_setup", SETUP_CELL)
# The answer key's time per cell, measured by `python -m grader release`
# (grader.authoring.timing), in the assignment's source folder; not released.
TIMES_FILE = "cell_times.json"
# A cell may take this many times the answer key's time for it, and at least FLOOR s.
CELL_LIMIT_FACTOR = 20
CELL_LIMIT_FLOOR = 10.0
SOURCE_DIR = REPO / "source" / ASSIGNMENT
RELEASE_DIR = REPO / "release" / ASSIGNMENT
# The ungraded tour, outside the assignment (it opens with the Colab setup cell too).
START_HERE = REPO / "notebooks" / "00_start_here.ipynb"
CONFIG_FILE = REPO / CONFIG_NAME
COURSE_FILE = REPO / "course.toml"


def course_settings() -> dict:
    """The course's online addresses from course.toml (see the comments there)."""
    with COURSE_FILE.open("rb") as file:
        return tomllib.load(file)


def grade_id(cell: nbformat.NotebookNode) -> str | None:
    """A cell's nbgrader grade_id, or None for a plain cell."""
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def cell_name(notebook: nbformat.NotebookNode, index: int) -> str:
    """A cell's nbgrader grade_id, or its position (#1 is the first cell)."""
    return grade_id(notebook.cells[index]) or f"#{index + 1}"


def is_test(cell: nbformat.NotebookNode) -> bool:
    """A graded test cell: graded and not an answer (nbgrader runs it to grade)."""
    return cell.cell_type == "code" and is_grade(cell) and not is_solution(cell)


@dataclass(frozen=True)
class Notebook:
    """One notebook of the course, read from its source (and release) once."""

    stem: str
    source: nbformat.NotebookNode  # shared: copy before changing
    released: nbformat.NotebookNode | None  # None when the course has no release

    @cached_property
    def points(self) -> dict[str, float]:
        """grade_id -> points of each graded cell, in cell order."""
        return {
            grade_id(cell): float(cell.metadata["nbgrader"].get("points", 0))
            for cell in self.source.cells
            if is_grade(cell)
        }

    @property
    def max_score(self) -> float:
        """The points the notebook is worth."""
        return sum(self.points.values())

    @cached_property
    def tests(self) -> dict[str, str]:
        """grade_id -> source of each graded test cell, in cell order."""
        return {
            grade_id(cell): cell.source for cell in self.source.cells if is_test(cell)
        }

    @cached_property
    def answers(self) -> dict[str, str]:
        """grade_id -> the instructor's answer (source) of each answer cell."""
        return {
            grade_id(cell): cell.source
            for cell in self.source.cells
            if is_solution(cell)
        }

    @cached_property
    def own_ids(self) -> frozenset[str]:
        """The grade_ids of the answer and test cells: what makes a file this
        notebook (the read-only cells, such as `setup`, are shared by all)."""
        return frozenset(self.answers) | frozenset(self.tests)

    @cached_property
    def locked_ids(self) -> frozenset[str]:
        """The grade_ids of cells nbgrader restores from the source when grading."""
        return frozenset(
            grade_id(cell) for cell in self.source.cells if is_locked(cell)
        )

    @cached_property
    def setup(self) -> str:
        """The setup cell's code without IPython magics and shell lines."""
        for cell in self.source.cells:
            if cell.cell_type == "code" and grade_id(cell) == SETUP_CELL:
                return "\n".join(
                    line
                    for line in cell.source.splitlines()
                    if not line.lstrip().startswith(("%", "!"))
                )
        return ""

    def answer_key(self) -> nbformat.NotebookNode:
        """The released notebook with the instructor's answers filled in: the
        answer key as a student would hand it in (a copy)."""
        notebook = copy.deepcopy(self.released)
        for cell in notebook.cells:
            if grade_id(cell) in self.answers:
                cell.source = self.answers[grade_id(cell)]
        return notebook

    @cached_property
    def answer_names(self) -> frozenset[str]:
        """The top-level names the answer cells bind (def, class, assignment)."""
        names: set[str] = set()
        for source in self.answers.values():
            names |= bound_names(source)
        return frozenset(names)


def bound_names(source: str) -> set[str]:
    """Top-level names a cell binds (def, class, assignment)."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


class Course:
    """An nbgrader course folder with this assignment; notebooks parsed on demand,
    once each."""

    def __init__(self, root: Path = REPO, assignment: str = ASSIGNMENT) -> None:
        self.root = Path(root)
        self.assignment = assignment
        self.source_dir = self.root / "source" / assignment
        self.release_dir = self.root / "release" / assignment
        self.config_file = self.root / CONFIG_NAME
        self.notebooks = NOTEBOOKS
        self._parsed: dict[str, Notebook] = {}

    def notebook(self, stem: str) -> Notebook:
        """One notebook of the course (KeyError for a stem it does not have)."""
        if stem not in self.notebooks:
            raise KeyError(f"{stem} is not a notebook of {self.assignment}")
        if stem not in self._parsed:
            released = self.release_dir / f"{stem}.ipynb"
            self._parsed[stem] = Notebook(
                stem,
                nbformat.read(self.source_dir / f"{stem}.ipynb", as_version=4),
                nbformat.read(released, as_version=4) if released.exists() else None,
            )
        return self._parsed[stem]

    def max_score(self, stem: str) -> float:
        """The points one notebook is worth."""
        return self.notebook(stem).max_score

    @cached_property
    def measured(self) -> dict:
        """The answer key's times (TIMES_FILE): {"source": hash, "seconds": {stem:
        {cell: seconds}}}; empty when the course was never measured."""
        path = self.source_dir / TIMES_FILE
        return json.loads(path.read_text()) if path.exists() else {}

    def reference_seconds(self, stem: str) -> dict[str, float]:
        """cell (grade_id) -> seconds the answer key needed for it, as measured."""
        return dict(self.measured.get("seconds", {}).get(stem, {}))

    def cell_limits(self, stem: str) -> dict[str, float]:
        """cell -> its time limit: CELL_LIMIT_FACTOR times the answer key's time,
        at least CELL_LIMIT_FLOOR seconds."""
        return {
            cell: max(CELL_LIMIT_FLOOR, CELL_LIMIT_FACTOR * seconds)
            for cell, seconds in self.reference_seconds(stem).items()
        }

    def source_hash(self) -> str:
        """SHA-256 over what the answer key's times depend on: the source folder's
        files but the times file itself."""
        return self._hash(exclude=TIMES_FILE, config=False)

    def fingerprint(self) -> str:
        """SHA-256 over the source folder's files (paths and bytes) and the config:
        grades made with one course are only reused with the same fingerprint."""
        return self._hash(exclude=None, config=True)

    def _hash(self, exclude: str | None, config: bool) -> str:
        digest = hashlib.sha256()
        for path in sorted(self.source_dir.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                relative = str(path.relative_to(self.source_dir))
                if relative == exclude:
                    continue
                digest.update(relative.encode() + b"\0")
                digest.update(path.read_bytes())
        if config:
            digest.update(self.config_file.read_bytes())
        return digest.hexdigest()


# The repository's own course, for the tools that author and grade it.
COURSE = Course()
