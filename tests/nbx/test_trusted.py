"""grader.trusted_tests: graded tests run in the grader, student code in the kernel.

Each student hands in 05_optimizers whose vanilla_update misbehaves only on the
hidden test's input (learning rate 0.03), so the ungraded check cells still pass and
what is pinned down is how a remote call inside a graded test fails: the test that
made the call scores 0 with a message saying why, and the other tests keep their
points unless the kernel can no longer answer.
"""

from __future__ import annotations

import textwrap

import nbformat
import pytest

from grader.course import COURSE
from grader.demo.submissions import answer_cells, solved
from grader.grading.grade import grade_class
from grader.model import Limits, Status

pytestmark = pytest.mark.slow

OPT = "05_optimizers"
CELL_TIMEOUT = 6
VANILLA = "    return np.asarray(w, dtype=float) - learning_rate * np.asarray(grads"
OTHERS = ("test_momentum", "test_adam", "test_momentum_question")


def on_hidden_input(code: str) -> dict[str, str]:
    """The answer cell with `code` run first in vanilla_update at learning rate 0.03."""
    body = textwrap.indent(textwrap.dedent(code).strip(), " " * 8)
    answer = answer_cells(OPT)["updates"]
    assert VANILLA in answer
    return {
        "updates": answer.replace(
            VANILLA, f"    if learning_rate == 0.03:\n{body}\n{VANILLA}", 1
        )
    }


STUDENTS = {
    "key": {},
    "loops": on_hidden_input("while True:\n    pass"),
    "ignores-interrupt": on_hidden_input(
        """
        import signal
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        while True:
            pass
        """
    ),
    "raises": on_hidden_input("return 1 / 0"),
    "returns-an-object": on_hidden_input("return object()"),
    "mutates-w": on_hidden_input("w -= learning_rate * grads\nreturn w"),
    "deletes-momentum": {
        "updates": answer_cells(OPT)["updates"] + "\n\ndel momentum_update\n"
    },
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """student -> (status, detail, {graded cell: (points, max points, message)})."""
    folder = tmp_path_factory.mktemp("trusted")
    for student, answers in STUDENTS.items():
        (folder / "class" / student).mkdir(parents=True)
        notebook = solved(OPT, answers)
        nbformat.write(notebook, folder / "class" / student / f"{OPT}.ipynb")
    limits = Limits(cell_timeout=CELL_TIMEOUT, notebook_timeout=300)
    results = grade_class(
        folder / "class", folder / "out", limits=limits, course=COURSE, progress=False
    ).results
    return {
        row.student: (
            row.status,
            row.detail,
            {t.test: (t.points, t.max_points, t.message) for t in row.tests},
        )
        for row in results.grades
        if row.notebook == OPT
    }


def lost(tests, name) -> str:
    """The message of a test that must have scored 0."""
    points, _, message = tests[name]
    assert points == 0, f"{name} should score 0: {tests[name]}"
    return message


def kept(tests, *names) -> None:
    """Each named test has all its points."""
    for name in names:
        points, max_points, message = tests[name]
        assert points == max_points > 0, f"{name} should keep its points: {message}"


def test_key_gets_full_marks(graded):
    """The instructor's answers pass every graded test run from the grader."""
    status, _, tests = graded["key"]
    assert status == Status.OK
    kept(tests, "test_vanilla", *OTHERS)


def test_interrupted_loop_costs_only_the_test_that_hit_it(graded):
    """A call that runs past the cell limit is interrupted; later tests still run."""
    status, detail, tests = graded["loops"]
    message = lost(tests, "test_vanilla")
    assert f"vanilla_update ran past the {CELL_TIMEOUT} s cell limit" in message
    kept(tests, *OTHERS)
    assert status == Status.TIMEOUT and "test_vanilla" in detail


def test_a_kernel_stuck_past_an_interrupt_is_replaced_and_the_rest_still_run(graded):
    """When the kernel ignores the interrupt, a new kernel replaces it (the setup
    and answers run again there), and the later tests keep their points."""
    status, detail, tests = graded["ignores-interrupt"]
    assert "ran past the" in lost(tests, "test_vanilla")
    kept(tests, *OTHERS)
    assert status == Status.TIMEOUT and "ignored the stop" in detail


def test_exception_in_student_code_is_named_with_its_line(graded):
    """The message names the function, the exception and the student's line."""
    _, _, tests = graded["raises"]
    message = lost(tests, "test_vanilla")
    assert "vanilla_update raised ZeroDivisionError: division by zero" in message
    assert "return 1 / 0" in message
    kept(tests, *OTHERS)


def test_unsendable_result_fails_its_test_only(graded):
    """A result that is not data (here a bare object) fails the check, no crash."""
    _, _, tests = graded["returns-an-object"]
    message = lost(tests, "test_vanilla")
    assert "vanilla_update(w, grads, 0.03): w: expected 9 values, got object" in message
    kept(tests, *OTHERS)


def test_mutated_argument_is_seen_by_the_test(graded):
    """Changing w in place inside the kernel shows up in the test's own copy."""
    _, _, tests = graded["mutates-w"]
    assert "w" in lost(tests, "test_vanilla")
    kept(tests, *OTHERS)


def test_missing_function_is_reported_as_not_defined(graded):
    """A name the answer cell should define but does not fails its test clearly."""
    _, _, tests = graded["deletes-momentum"]
    assert "momentum_update" in lost(tests, "test_momentum")
    assert "not defined" in tests["test_momentum"][2]
    kept(tests, "test_vanilla", "test_momentum_question")
