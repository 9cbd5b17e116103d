"""grader.nbx.cell_limits: each cell's time limit, what a stop says, and which of
the student's functions hung a cell."""

from __future__ import annotations

import json

import nbformat
import pytest

from grader.course import Course
from grader.nbx.cell_limits import STOPPED, CellLimits, hung_functions, stopped_at_limit
from tests.nbx.inprocess import tiny_notebook

SETUP, ANSWER, CHECK, TEST, PLOT, _ = tiny_notebook().cells


@pytest.fixture
def measured(tmp_path) -> CellLimits:
    """Limits from a course whose answer key needs 0.01 s for answer_f, 1.5 s for
    test_f (cell limits: the 10 s floor, 20 times 1.5 s)."""
    source = tmp_path / "source" / "backprop"
    source.mkdir(parents=True)
    seconds = {"answer_f": 0.01, "test_f": 1.5}
    times = {"notebooks": {"01_sigmoid": {"seconds": seconds}}}
    (source / "cell_times.json").write_text(json.dumps(times))
    return CellLimits(Course(tmp_path), "01_sigmoid", None, 30)


def test_the_course_limits_each_cell_by_the_answer_keys_time(measured):
    assert measured.from_course
    assert [measured.of(cell) for cell in (ANSWER, TEST, CHECK)] == [10, 30, 30]
    assert measured.sentence(TEST) == (
        "30 s (the answer key needs 1.5 s here; a cell may take 20 times that, "
        "at least 10 s)"
    )
    assert measured.sentence(CHECK) == "30 s"  # the answer key has no such cell


@pytest.mark.parametrize(
    ("course", "fixed"), [(None, 7), (None, None), ("unmeasured", None)]
)
def test_a_fixed_limit_or_no_measured_times_gives_every_cell_the_same(
    tmp_path, course, fixed
):
    known = Course(tmp_path) if course else None
    cell_limits = CellLimits(known, "01_sigmoid", fixed, 12)
    assert not cell_limits.from_course
    assert {cell_limits.of(cell) for cell in (ANSWER, TEST, CHECK)} == {fixed or 12}
    assert cell_limits.ran_past(TEST, "test_f") == (
        f"ran past the {fixed or 12} s cell limit in test_f"
    )


def test_a_cell_run_aside_has_its_own_limit_meanwhile(measured):
    assert measured.timeout(ANSWER) == 10
    with measured.aside(2):
        assert measured.timeout(ANSWER) == 2
        with measured.aside(None):
            assert measured.timeout(ANSWER) == 10
        assert measured.timeout(ANSWER) == 2
    assert measured.timeout(ANSWER) == 10


def test_what_a_stop_says(measured):
    key = "(the answer key needs 1.5 s here; a cell may take 20 times that, at least"
    assert measured.stopped_line(TEST).startswith(
        "This cell was stopped at its time limit, 30 s " + key
    )
    assert measured.replaced_line(TEST).endswith(
        "10 s); it ignored the stop, so its kernel was replaced by a new one."
    )
    assert measured.ran_past(TEST, "test_f").startswith(
        "ran past its time limit in cell test_f: 30 s " + key
    )
    assert measured.ignored_stop(TEST).endswith("10 s), and ignored the stop")
    fixed = CellLimits(None, "01_sigmoid", 7, 7)
    assert fixed.ignored_stop(TEST) == (
        "a cell ran past its 7 s limit and ignored the stop"
    )


def test_a_cell_is_stopped_when_it_holds_the_stopped_error():
    cell = nbformat.v4.new_code_cell("f()")
    assert not stopped_at_limit(cell)
    cell.outputs.append(nbformat.v4.new_output("error", ename=STOPPED, evalue=""))
    assert stopped_at_limit(cell)


def test_the_innermost_student_function_in_the_traceback_hung_the_cell():
    cell = nbformat.v4.new_code_cell("g(f(1))")
    cell.outputs.append(
        nbformat.v4.new_output(
            "error",
            ename="KeyboardInterrupt",
            evalue="",
            traceback=[
                "\x1b[0;31mKeyboardInterrupt\x1b[0m",
                "Cell \x1b[0;32mIn[3], line 1\x1b[0m, in \x1b[0;36mg\x1b[0m(x)",
                "Cell \x1b[0;32mIn[2], line 4\x1b[0m, in \x1b[0;36mf\x1b[0m(x)",
                "File numpy/core.py:10, in sum(a)",
            ],
        )
    )
    assert hung_functions(cell, frozenset({"f", "g", "h"})) == ["f"]


def test_without_a_traceback_the_functions_the_cell_calls_are_suspects():
    cell = nbformat.v4.new_code_cell("g(f(1)) + h\nfh(2)")
    assert hung_functions(cell, frozenset({"f", "g", "h"})) == ["f", "g"]
