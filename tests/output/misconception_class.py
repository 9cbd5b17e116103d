"""A class built from real hidden-test messages, for the misconception tests.

Each student's notebook holds the messages the course's graded tests print for
planted mistakes (tests/mistake_cases.py), run here by tests/notebook_code.run_cells:
no grading, but the same text tests.csv would hold, and what the tests found as
data, as the grader records it (grader.nbx.findings; None: as stock nbgrader, the
message only).
"""

from __future__ import annotations

from functools import cache

from grader.model import ClassResults, NotebookGrade, Status, TestResult
from grader.nbx.findings import findings_of
from tests.mistake_cases import BWD, DW_EXPRESSIONS, MISTAKE_CASES, SIG, Answers, edit
from tests.notebook_code import code_cells, run_cells

CASES = {case.student: case for case in MISTAKE_CASES}
# dw3 three times too large: no known mistake matches ("dw3: different value").
TRIPLED_DW3 = edit(
    BWD, "backward_propagation", f'"dw3": {DW_EXPRESSIONS["dw3"]},',
    f'"dw3": 3 * ({DW_EXPRESSIONS["dw3"]}),',
)  # fmt: skip


@cache
def graded_tests(
    stem: str, answers_of: str, findings: bool = True
) -> tuple[TestResult, ...]:
    """The graded test cells of a notebook with the answers of a planted case
    (or "tripled-dw3"), as TestResults with the messages they printed (and, with
    `findings`, what they found, as data)."""
    answers: Answers = TRIPLED_DW3 if answers_of == "tripled-dw3" else (
        CASES[answers_of].answers
    )  # fmt: skip
    runs = run_cells(stem, answers(), hidden=True)
    tests = []
    for grade_id, meta, _ in code_cells(stem):
        if meta.get("grade") and not meta.get("solution"):
            run, points = runs[grade_id], float(meta["points"])
            earned = points if run.error is None else 0.0
            found = findings_of(run.error) if findings and run.error else None
            tests.append(TestResult(grade_id, earned, points, run.message, found))
    return tuple(tests)


def notebook(
    student: str,
    stem: str,
    answers_of: str,
    status: Status = Status.OK,
    findings: bool = True,
) -> NotebookGrade:
    """One student's notebook graded with a planted case's messages (and what its
    tests found, with `findings`)."""
    tests = [
        TestResult(**vars(test)) for test in graded_tests(stem, answers_of, findings)
    ]
    return NotebookGrade(
        student, stem, sum(t.points for t in tests), sum(t.max_points for t in tests),
        status, tests=tests,
    )  # fmt: skip


def planted_class(findings: bool = True) -> ClassResults:
    """Seven students: three flipped dw3's sign (eve in 01 too), two σ(−z), one
    1 − tanh, one tripled dw3 (no known mistake), and grace, whose 03 timed out
    with the tripled dw3 (its message says nothing about what she misunderstood).
    findings: the tests' findings as data (the grader's engine), or only their
    messages (stock nbgrader)."""
    cases = [
        ("ada", BWD, "bwd-sign-dw3", Status.OK),
        ("bob", BWD, "bwd-sign-dw3", Status.OK),
        ("eve", BWD, "bwd-sign-dw3", Status.OK),
        ("eve", SIG, "sig-sign", Status.OK),
        ("di", SIG, "sig-sign", Status.OK),
        ("cy", BWD, "bwd-tanh-prime", Status.OK),
        ("frank", BWD, "tripled-dw3", Status.OK),
        ("grace", BWD, "tripled-dw3", Status.TIMEOUT),
    ]
    return ClassResults([notebook(*case, findings=findings) for case in cases])
