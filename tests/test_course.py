"""grader.course: one model of the course's notebooks, each read once."""

from __future__ import annotations

import shutil

import pytest

from grader.course import COURSE, NOTEBOOKS, Course, bound_names

POINTS = {
    "01_sigmoid": 4, "02_forward_propagation": 5, "03_backward_propagation": 6,
    "04_gradient_checking": 4,
}  # fmt: skip


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_a_notebook_knows_its_cells_by_role(stem):
    notebook = COURSE.notebook(stem)
    assert notebook.tests and notebook.answers
    assert set(notebook.tests) <= set(notebook.points)
    assert not set(notebook.tests) & set(notebook.answers)
    assert notebook.own_ids == set(notebook.tests) | set(notebook.answers)
    assert set(notebook.tests) <= notebook.locked_ids
    assert "import" in notebook.setup and "%" not in notebook.setup
    assert notebook.released is not None
    assert COURSE.notebook(stem) is notebook, "parsed once"


@pytest.mark.parametrize("stem, points", POINTS.items())
def test_points_add_up_per_notebook(stem, points):
    assert COURSE.max_score(stem) == points


def test_answer_names_are_what_the_answer_cells_define():
    assert {"sigmoid", "sigmoid_derivative"} <= COURSE.notebook(
        "01_sigmoid"
    ).answer_names
    assert bound_names("def f():\n    pass\nx, (y, z) = 1, (2, 3)\nclass C: ...") == {
        "f",
        "x",
        "y",
        "z",
        "C",
    }


def test_an_unknown_notebook_is_a_key_error():
    with pytest.raises(KeyError, match="not a notebook of backprop"):
        COURSE.notebook("06_transformers")


def test_the_fingerprint_changes_with_the_source(tmp_path):
    """Grades are reused only with the same course: any byte of source/ counts."""
    root = tmp_path / "course"
    shutil.copytree(COURSE.source_dir, root / "source" / "backprop")
    shutil.copy2(COURSE.config_file, root / "nbgrader_config.py")
    copy = Course(root)
    before = copy.fingerprint()
    assert before == COURSE.fingerprint()
    (root / "source" / "backprop" / "backprop_helper" / "extra.py").write_text("x = 1")
    assert Course(root).fingerprint() != before
