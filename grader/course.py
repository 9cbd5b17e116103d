"""The course: where it lives, and one model of its notebooks, each parsed once.

A Course is a folder laid out as an nbgrader course (nbgrader_config.py,
source/ASSIGNMENT/, optionally release/ASSIGNMENT/ and course.toml): the repository
itself, or the copy the grader keeps in OUT. `Course.notebook(stem)` answers every
question about one notebook (its cells and their roles, points, setup code, hidden
tests, the names its answer cells bind); cell roles come from nbgrader's own
`nbgrader.utils`.

Every stage is given the Course it works on. COURSE, the repository's own, and the
paths below it (SOURCE_DIR, RELEASE_DIR, CONFIG_FILE) are for the command line,
the demo classes, the tests and the benchmarks: no stage reaches for them (a test,
tests/test_layers.py, checks).
"""

from __future__ import annotations

import ast
import copy
import json
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import nbformat
from nbgrader.utils import is_grade, is_locked, is_solution

from .files import tree_hash

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
SETTINGS_NAME = "course.toml"  # where the course lives online, its LMS columns
# The ungraded tour, outside the assignment (it opens with the Colab setup cell too).
START_HERE_NAME = "notebooks/00_start_here.ipynb"


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
    def answer_of_test(self) -> dict[str, str]:
        """test grade_id -> the grade_id of the answer cell it grades: the nearest
        answer cell above it (05's test_adam grades the cell of the three updates)."""
        answered, last = {}, None
        for cell in self.source.cells:
            if is_solution(cell):
                last = grade_id(cell)
            elif is_test(cell) and last is not None:
                answered[grade_id(cell)] = last
        return answered

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

    def __init__(self, root: Path, assignment: str = ASSIGNMENT) -> None:
        self.root = Path(root)
        self.assignment = assignment
        self.source_dir = self.root / "source" / assignment
        self.release_dir = self.root / "release" / assignment
        self.config_file = self.root / CONFIG_NAME
        self.settings_file = self.root / SETTINGS_NAME
        self.start_here = self.root / START_HERE_NAME
        self.notebooks = NOTEBOOKS
        self._parsed: dict[str, Notebook] = {}

    def settings(self) -> dict:
        """The course's course.toml (see the comments there): where it lives
        online, its LMS columns; {} when it has none. Read each time."""
        if not self.settings_file.is_file():
            return {}
        with self.settings_file.open("rb") as file:
            return tomllib.load(file)

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
        """The answer key's times (TIMES_FILE): {"notebooks": {stem: {"source":
        timing_fingerprint(stem), "seconds": {cell: seconds}}}}; empty when the
        course was never measured."""
        path = self.source_dir / TIMES_FILE
        return json.loads(path.read_text()) if path.exists() else {}

    def reference_seconds(self, stem: str) -> dict[str, float]:
        """cell (grade_id) -> seconds the answer key needed for it, as measured."""
        entry = self.measured.get("notebooks", {}).get(stem, {})
        return dict(entry.get("seconds", {}))

    def timing_fingerprint(self, stem: str) -> str:
        """SHA-256 over what a notebook's answer-key times depend on: the helper
        package it imports and the notebook itself."""
        digest = tree_hash(self.source_dir / HELPER_PACKAGE)
        digest.update(f"\0{stem}.ipynb\0".encode())
        digest.update((self.source_dir / f"{stem}.ipynb").read_bytes())
        return digest.hexdigest()

    def cell_limits(self, stem: str) -> dict[str, float]:
        """cell -> its time limit: CELL_LIMIT_FACTOR times the answer key's time,
        at least CELL_LIMIT_FLOOR seconds."""
        return {
            cell: max(CELL_LIMIT_FLOOR, CELL_LIMIT_FACTOR * seconds)
            for cell, seconds in self.reference_seconds(stem).items()
        }

    def fingerprint(self) -> str:
        """SHA-256 over the source folder's files (paths and bytes) and the config:
        grades made with one course are only reused with the same fingerprint."""
        digest = tree_hash(self.source_dir)
        digest.update(self.config_file.read_bytes())
        return digest.hexdigest()


# The repository's own course, and its folders: what the command line grades and
# authors (and the demo classes, the tests and the benchmarks use).
COURSE = Course(REPO)
SOURCE_DIR = COURSE.source_dir
RELEASE_DIR = COURSE.release_dir
CONFIG_FILE = COURSE.config_file
START_HERE = COURSE.start_here
