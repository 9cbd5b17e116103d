"""repair: nbgrader metadata the course did not write is removed before grading."""

from __future__ import annotations

import nbformat
import pytest

from grader.course import COURSE, NOTEBOOKS
from grader.demo.submissions import solved
from grader.intake.collect import Submission
from grader.intake.repair import clean_notebooks, strip_foreign_metadata

SIG = NOTEBOOKS[0]
BONUS = {
    "grade": True, "grade_id": "my_bonus", "points": 100, "solution": False,
    "locked": False, "schema_version": 3,
}  # fmt: skip


def with_cell(metadata) -> nbformat.NotebookNode:
    """01 solved, with a cell of the student's own carrying `metadata` as nbgrader's."""
    notebook = solved(SIG)
    cell = nbformat.v4.new_code_cell("print('my own cell')")
    cell.metadata["nbgrader"] = metadata
    notebook.cells.append(cell)
    return notebook


@pytest.mark.parametrize(
    "metadata",
    [BONUS, {**BONUS, "grade_id": ""}, "a string", ["a", "list"], {"points": 5}],
    ids=["graded-100-points", "no-id", "string", "list", "no-grade-id"],
)
def test_a_students_own_cell_loses_its_nbgrader_metadata(metadata):
    notebook = with_cell(metadata)
    changes = strip_foreign_metadata(notebook, COURSE.notebook(SIG))
    assert "nbgrader" not in notebook.cells[-1].metadata
    assert notebook.cells[-1].source == "print('my own cell')"
    assert changes == [
        "nbgrader metadata was removed from 1 cell that is not the course's (a cell "
        "of your own runs, but is not graded)"
    ]


def test_the_graders_own_metadata_is_never_the_students():
    notebook = solved(SIG)
    notebook.metadata["grader"] = {"notes": ["regraded: 4 / 4"], "findings": {}}
    strip_foreign_metadata(notebook, COURSE.notebook(SIG))
    assert "grader" not in notebook.metadata


def test_the_courses_cells_keep_theirs():
    notebook = solved(SIG)
    before = [dict(cell.metadata) for cell in notebook.cells]
    assert strip_foreign_metadata(notebook, COURSE.notebook(SIG)) == []
    assert [dict(cell.metadata) for cell in notebook.cells] == before


def test_clean_notebooks_says_what_changed_and_grades_the_file():
    """The file stays gradeable: its changes say what was removed, nothing more."""
    content = nbformat.writes(with_cell("not even a dict")).encode()
    submission = Submission("mallory", SIG, "mallory/x.ipynb", content, 0.0)
    clean = clean_notebooks("mallory", [submission], COURSE)
    assert clean.ungraded == [] and SIG in clean.notebooks
    assert any("not the course's" in change for change in clean.changes[SIG])
    graded = nbformat.reads(clean.notebooks[SIG], as_version=4)
    assert "nbgrader" not in graded.cells[-1].metadata
