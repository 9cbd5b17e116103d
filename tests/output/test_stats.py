"""What the outputs count: order, totals, statuses, the checks that fail most."""

from __future__ import annotations

import pytest

from grader.course import NOTEBOOKS
from grader.model import ClassResults, Status
from grader.output.stats import (
    FailureCount,
    StatusCount,
    failure_counts,
    format_points,
    grade_table,
    max_total,
    mean_total,
    not_graded,
    not_graded_counts,
    notebook_columns,
    status_counts,
    student_totals,
)

from .sample import (
    ALICE,
    BOB,
    EVIL,
    FORWARD,
    FORWARD_FAIL,
    GRADCHECK,
    GRADCHECK_FAIL,
    NOT_OK_ROWS,
    OPTIMIZERS,
    SIGMOID,
    ZOE,
    failed,
    graded,
    passed,
)


@pytest.mark.parametrize(
    ("value", "written"),
    [(4.0, "4"), (4, "4"), (0.0, "0"), (-0.0, "0"), (2.5, "2.5"), (1 / 3, "0.333")],
)
def test_format_points_writes_plain_numbers_with_at_most_3_decimals(value, written):
    """No ".0", no "-0", fractions rounded to 3 decimals."""
    assert format_points(value) == written


def test_students_and_notebooks_come_in_course_order_then_extra_notebooks():
    """Students sorted; the course's notebooks in order, unknown ones after by name."""
    grades = [
        graded("zed", "99_b", passed("t", 1)),
        graded("amy", "98_a", passed("t", 1)),
        graded("amy", OPTIMIZERS, passed("t", 1)),
        graded("amy", SIGMOID, passed("t", 1)),
    ]
    results = ClassResults(grades)
    assert notebook_columns(results) == [*NOTEBOOKS, "98_a", "99_b"]
    table = grade_table(results)
    assert list(table) == ["amy", "zed"]
    assert list(table["amy"]) == [SIGMOID, OPTIMIZERS, "98_a"]


def test_totals_add_every_row_of_a_student_graded_or_not(results):
    """alice 8.5, bob 4, zoë 4, the hostile id 4; mean 5.125 of 14."""
    assert student_totals(results) == {ALICE: 8.5, BOB: 4, ZOE: 4, EVIL: 4}
    assert mean_total(results) == 5.125
    assert max_total(results) == 14
    assert mean_total(ClassResults([])) is None


def test_status_counts_follow_the_status_enum_order(results):
    """Rows per status, only statuses that occur, in Status's order."""
    assert list(status_counts(results).items()) == [
        (Status.OK, 11),
        (Status.MISSING, 3),
        (Status.UNREADABLE, 2),
        (Status.WRONG_ASSIGNMENT, 1),
        (Status.TIMEOUT, 1),
        (Status.KERNEL_DIED, 1),
        (Status.GRADER_ERROR, 1),
    ]


def test_a_status_outside_the_enum_fails_loudly():
    """A misspelt status is a bug upstream: counting it raises, never drops it."""
    grade = graded("s", SIGMOID, passed("t", 1))
    grade.status = "okay"
    with pytest.raises(ValueError, match="okay"):
        status_counts(ClassResults([grade]))


def test_not_graded_lists_every_other_status_with_notebooks_and_students(results):
    """The rows not "ok", by student; per status, how many notebooks and students."""
    rows = not_graded(results)
    assert len(rows) == NOT_OK_ROWS
    assert [row.student for row in rows] == sorted(row.student for row in rows)
    assert not_graded_counts(results) == [
        StatusCount(Status.MISSING, 3, 2),
        StatusCount(Status.UNREADABLE, 2, 2),
        StatusCount(Status.WRONG_ASSIGNMENT, 1, 1),
        StatusCount(Status.TIMEOUT, 1, 1),
        StatusCount(Status.KERNEL_DIED, 1, 1),
        StatusCount(Status.GRADER_ERROR, 1, 1),
    ]


def test_failure_counts_lists_failed_tests_of_graded_notebooks_most_failed_first(
    results,
):
    """Counts, graded denominators and the most common first line, by count.

    Bob's timed-out 02 carries a failing test: it must count neither as a failure
    nor as graded.
    """
    assert failure_counts(results) == [
        FailureCount(
            SIGMOID,
            "test_sigmoid_values",
            3,
            4,
            "AssertionError: sigmoid(0) should be 0.5",
        ),
        FailureCount(GRADCHECK, "test_gradient_check", 2, 2, GRADCHECK_FAIL),
        FailureCount(FORWARD, "test_forward_values", 1, 2, FORWARD_FAIL),
    ]


def test_failure_counts_breaks_ties_by_notebook_order_then_test_name():
    """Equal counts: course notebook order first, then test name."""
    grades = [
        graded("s", OPTIMIZERS, failed("test_a", 1, "m")),
        graded("s", SIGMOID, failed("test_z", 1, "m"), failed("test_b", 1, "m")),
    ]
    order = [(c.notebook, c.test) for c in failure_counts(ClassResults(grades))]
    assert order == [(SIGMOID, "test_b"), (SIGMOID, "test_z"), (OPTIMIZERS, "test_a")]


@pytest.mark.parametrize(
    ("failed_students", "graded_students", "share"), [(3, 4, 0.75), (0, 0, 0.0)]
)
def test_failure_share_is_failed_over_graded_and_0_when_none_graded(
    failed_students, graded_students, share
):
    """share = failed / graded, 0 when nothing was graded."""
    assert FailureCount(SIGMOID, "t", failed_students, graded_students, "").share == (
        share
    )
