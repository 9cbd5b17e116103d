"""A class built from real hidden-test messages, for the misconception tests.

Each student's notebook holds the messages the course's graded tests print for
planted mistakes (tests/planted.py), run here by tests/notebook_code.run_cells:
no grading, but the same text tests.csv would hold.
"""

from __future__ import annotations

from functools import cache

from grader.model import ClassResults, NotebookGrade, Status, TestResult
from tests.notebook_code import code_cells, run_cells
from tests.planted import BWD, DW_EXPRESSIONS, PLANTED, SIG, Answers, edit

CASES = {case.student: case for case in PLANTED}
# dw3 three times too large: no known mistake matches ("dw3: different value").
TRIPLED_DW3 = edit(
    BWD, "backward_propagation", f'"dw3": {DW_EXPRESSIONS["dw3"]},',
    f'"dw3": 3 * ({DW_EXPRESSIONS["dw3"]}),',
)  # fmt: skip


@cache
def graded_tests(stem: str, answers_of: str) -> tuple[TestResult, ...]:
    """The graded test cells of a notebook with the answers of a planted case
    (or "tripled-dw3"), as TestResults with the messages they printed."""
    answers: Answers = TRIPLED_DW3 if answers_of == "tripled-dw3" else (
        CASES[answers_of].answers
    )  # fmt: skip
    runs = run_cells(stem, answers(), hidden=True)
    tests = []
    for grade_id, meta, _ in code_cells(stem):
        if meta.get("grade") and not meta.get("solution"):
            run, points = runs[grade_id], float(meta["points"])
            earned = points if run.error is None else 0.0
            tests.append(TestResult(grade_id, earned, points, run.message))
    return tuple(tests)


def notebook(
    student: str, stem: str, answers_of: str, status: Status = Status.OK
) -> NotebookGrade:
    """One student's notebook graded with a planted case's messages."""
    tests = [TestResult(**vars(test)) for test in graded_tests(stem, answers_of)]
    return NotebookGrade(
        student, stem, sum(t.points for t in tests), sum(t.max_points for t in tests),
        status, tests=tests,
    )  # fmt: skip


def planted_class() -> ClassResults:
    """Seven students: three flipped dw3's sign (eve in 01 too), two σ(−z), one
    1 − tanh, one tripled dw3 (no known mistake), and grace, whose 03 timed out
    with the tripled dw3 (its message says nothing about what she misunderstood)."""
    return ClassResults(
        [
            notebook("ada", BWD, "bwd-sign-dw3"),
            notebook("bob", BWD, "bwd-sign-dw3"),
            notebook("eve", BWD, "bwd-sign-dw3"),
            notebook("eve", SIG, "sig-sign"),
            notebook("di", SIG, "sig-sign"),
            notebook("cy", BWD, "bwd-tanh-prime"),
            notebook("frank", BWD, "tripled-dw3"),
            notebook("grace", BWD, "tripled-dw3", Status.TIMEOUT),
        ]
    )
