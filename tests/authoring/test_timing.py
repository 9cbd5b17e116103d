"""grader.authoring.timing and grader.course: each cell's time limit comes from the
answer key's own time for it, measured when the course is released."""

from __future__ import annotations

import json
import shutil

import pytest

from grader.authoring.timing import stale_times
from grader.course import (
    CELL_LIMIT_FACTOR,
    CELL_LIMIT_FLOOR,
    COURSE,
    NOTEBOOKS,
    TIMES_FILE,
    Course,
    grade_id,
)


@pytest.fixture
def course_copy(tmp_path) -> Course:
    """A copy of the course's source and config, to change."""
    shutil.copytree(COURSE.source_dir, tmp_path / "source" / COURSE.assignment)
    shutil.copy2(COURSE.config_file, tmp_path / COURSE.config_file.name)
    return Course(tmp_path)


def test_the_committed_times_were_measured_for_the_committed_source():
    """`python -m grader release` measures again whenever the source changed."""
    assert stale_times(COURSE) == []


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_every_code_cell_of_the_answer_key_has_a_time(stem):
    notebook = COURSE.notebook(stem).answer_key()
    code = {grade_id(cell) for cell in notebook.cells if cell.cell_type == "code"}
    assert code <= set(COURSE.reference_seconds(stem))
    assert all(seconds >= 0 for seconds in COURSE.reference_seconds(stem).values())


def test_a_cell_may_take_twenty_times_the_answer_keys_time_and_at_least_10_s(
    course_copy,
):
    times = course_copy.source_dir / TIMES_FILE
    record = json.loads(times.read_text())
    record["seconds"]["01_sigmoid"] = {"fast": 0.01, "slow": 2.0}
    times.write_text(json.dumps(record))
    assert Course(course_copy.root).cell_limits("01_sigmoid") == {
        "fast": CELL_LIMIT_FLOOR,
        "slow": CELL_LIMIT_FACTOR * 2.0,
    }
    assert (CELL_LIMIT_FACTOR, CELL_LIMIT_FLOOR) == (20, 10.0)


def test_times_of_another_version_of_the_source_are_stale(course_copy):
    assert stale_times(course_copy) == []
    notebook = course_copy.source_dir / "01_sigmoid.ipynb"
    notebook.write_text(notebook.read_text().replace("sigmoid", "sigmoid ", 1))
    assert stale_times(Course(course_copy.root)) == [
        f"{TIMES_FILE} was measured for another version of the source"
    ]
    (course_copy.source_dir / TIMES_FILE).unlink()
    assert "missing" in stale_times(Course(course_copy.root))[0]
