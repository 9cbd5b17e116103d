"""Classes built in memory for the output tests: hand-made, hostile, synthetic.

No grading runs: every ClassResults here is made of NotebookGrade rows directly.
"""

from __future__ import annotations

import random

from grader.course import COURSE, NOTEBOOKS
from grader.model import ClassResults, NotebookGrade, Status, TestResult, Unmapped
from grader.output.html import report_html
from grader.output.misconceptions import class_misconceptions

SIGMOID, FORWARD, BACKWARD, GRADCHECK, OPTIMIZERS = NOTEBOOKS
MAX_SCORES = {SIGMOID: 3, FORWARD: 3, BACKWARD: 3, GRADCHECK: 2, OPTIMIZERS: 3}

ALICE = "alice"
BOB = "bob"
ZOE = "zoë_müller"
EVIL = '<script>alert("id")</script>'

SIGMOID_FAIL = "AssertionError: sigmoid(0) should be 0.5\nexpected 0.5, got 0"
SCRIPT_FAIL = (
    'debug, with, commas\n<script>alert("msg")</script>\n'
    "AssertionError: sigmoid(0) should be 0.5"
)
GRADCHECK_FAIL = "AssertionError: relative difference 0.3 > 1e-7"
COLOURED_GRADCHECK_FAIL = (
    "\x1b[0;31m-----------------\x1b[0m\n\n" + GRADCHECK_FAIL + "\nmore text"
)
FORWARD_FAIL = "ValueError: shapes (3,2) and (3,1) not aligned"


def passed(test: str, points: float) -> TestResult:
    """A test cell that earned all its points."""
    return TestResult(test, points, points)


def failed(test: str, points: float, message: str, earned: float = 0) -> TestResult:
    """A test cell that lost points, with what it printed."""
    return TestResult(test, earned, points, message)


def graded(
    student: str, notebook: str, *tests: TestResult, feedback: bool = True
) -> NotebookGrade:
    """An "ok" row whose score is the sum of its tests."""
    return NotebookGrade(
        student,
        notebook,
        score=sum(test.points for test in tests),
        max_score=sum(test.max_points for test in tests),
        status=Status.OK,
        source=f"{student}/{notebook}.ipynb",
        feedback=f"feedback/{student}/{notebook}.html" if feedback else "",
        tests=list(tests),
    )


def broken(
    student: str, notebook: str, status: Status, detail: str, *tests: TestResult
) -> NotebookGrade:
    """A row that could not be graded: score 0."""
    return NotebookGrade(
        student,
        notebook,
        score=0,
        max_score=MAX_SCORES[notebook],
        status=status,
        detail=detail,
        source="" if status == Status.MISSING else f"{student}/{notebook}.ipynb",
        tests=list(tests),
    )


def class_results() -> ClassResults:
    """Four students, most statuses, hostile text; rows deliberately shuffled."""
    grades = [
        graded(
            ALICE,
            SIGMOID,
            failed("test_sigmoid_values", 2, SIGMOID_FAIL),
            passed("test_sigmoid_shape", 1),
        ),
        graded(
            ALICE, FORWARD, failed("test_forward_values", 3, FORWARD_FAIL, earned=1.5)
        ),
        graded(ALICE, BACKWARD, passed("test_backward_values", 3)),
        graded(ALICE, GRADCHECK, failed("test_gradient_check", 2, GRADCHECK_FAIL)),
        graded(
            ALICE, OPTIMIZERS, passed("test_adam_step", 2), passed("test_momentum", 1)
        ),
        graded(
            BOB,
            SIGMOID,
            passed("test_sigmoid_values", 2),
            passed("test_sigmoid_shape", 1),
        ),
        broken(
            BOB,
            FORWARD,
            Status.TIMEOUT,
            "cell 7 ran past 60 s",
            failed("test_forward_values", 3, "TimeoutError"),
        ),
        broken(BOB, BACKWARD, Status.MISSING, "no 03_backward_propagation.ipynb"),
        graded(
            BOB,
            GRADCHECK,
            failed("test_gradient_check", 2, COLOURED_GRADCHECK_FAIL, earned=1),
        ),
        broken(BOB, OPTIMIZERS, Status.KERNEL_DIED, "kernel died, exit code -9"),
        graded(
            ZOE,
            SIGMOID,
            failed("test_sigmoid_values", 2, SCRIPT_FAIL),
            passed("test_sigmoid_shape", 1),
        ),
        broken(ZOE, FORWARD, Status.UNREADABLE, "not JSON: <script>alert(1)</script>"),
        broken(
            ZOE, BACKWARD, Status.WRONG_ASSIGNMENT, "cells of another, older course"
        ),
        broken(ZOE, GRADCHECK, Status.GRADER_ERROR, "Traceback:\nKeyError: 'x', \"y\""),
        graded(
            ZOE,
            OPTIMIZERS,
            passed("test_adam_step", 2),
            passed("test_momentum", 1),
            feedback=False,
        ),
        graded(
            EVIL,
            SIGMOID,
            failed("test_sigmoid_values", 2, SIGMOID_FAIL),
            passed("test_sigmoid_shape", 1),
        ),
        graded(EVIL, FORWARD, passed("test_forward_values", 3)),
        broken(EVIL, BACKWARD, Status.MISSING, "no such file"),
        broken(EVIL, GRADCHECK, Status.UNREADABLE, "empty file"),
        broken(EVIL, OPTIMIZERS, Status.MISSING, "no such file"),
    ]
    random.Random(7).shuffle(grades)
    unmapped = [
        Unmapped("bulk.zip:readme.txt", "not a notebook"),
        Unmapped("stray, <b>odd</b>.ipynb", "no student id in the name"),
    ]
    return ClassResults(grades, unmapped)


NOT_OK_ROWS = 9  # every broken(...) row above
MEAN_TOTAL = "5.125"  # alice 8.5, bob 4, zoë 4, evil 4


def contract_class() -> ClassResults:
    """class_results plus every case the CSV contract has a rule for.

    Formula starts in each free-text column and in a student id (defused too),
    quotes, commas, CR/LF inside cells, scores that need rounding, a
    negative zero, a notebook outside the course, the statuses class_results lacks.
    The golden files tests/output/files/{grades,tests}.csv hold what
    grader/report.py wrote for this class before the output stage was split out.
    """
    results = class_results()
    odd = '=1+1, "quoted"\r\nnext line\rcr'
    results.grades += [
        NotebookGrade(
            "=cmd|' /C calc'!A0",
            SIGMOID,
            score=1 / 3,
            max_score=3,
            status=Status.OK,
            detail="+detail",
            source="-source.ipynb",
            feedback="feedback/=cmd/01_sigmoid.html",
            tests=[
                TestResult("test_sigmoid_values", 1 / 3, 2, "@SUM(A1:A9)"),
                TestResult("test_sigmoid_shape", -0.0, 1, "\ttabbed"),
                TestResult("test_sigmoid_grad", 0.1 + 0.2, 1, "\rcarriage"),
            ],
        ),
        NotebookGrade(
            "mallory",
            "99_extra",
            score=2.0005,
            max_score=1e3,
            status=Status.OK,
            detail=odd,
            source='bulk.zip:mallory, "m".ipynb',
            tests=[TestResult("test_extra", 2.0005, 1e3, odd)],
        ),
        broken("mallory", SIGMOID, Status.CPU_LIMIT, "CPU limit of 300 s"),
        broken("mallory", FORWARD, Status.MEMORY_LIMIT, "MemoryError past 2048 MB"),
        broken("mallory", BACKWARD, Status.PROCESS_LIMIT, "fork failed: 64 processes"),
        broken("mallory", GRADCHECK, Status.OUTPUT_LIMIT, "printed more than 5 MB"),
    ]
    random.Random(11).shuffle(results.grades)
    return results


# ---------------------------------------------------------------- synthetic classes

# (test, points, common failure messages) per notebook: the course's shape.
SYNTHETIC_TESTS = {
    SIGMOID: [
        ("test_sigmoid_values", 2, ["AssertionError: sigmoid(0) should be 0.5"]),
        ("test_sigmoid_derivative", 2, ["AssertionError: derivative at 0 is 0.25"]),
    ],
    FORWARD: [
        ("test_forward_keys", 1, ["KeyError: 'dy_pred'"]),
        ("test_forward_values", 2, ["AssertionError: tanh: 1 - tanh instead of tanh"]),
        ("test_forward_uses_arguments", 2, ["AssertionError: reads the global x"]),
    ],
    BACKWARD: [
        ("test_backward_dw1_dw2", 2, ["AssertionError: dw1: the sign is flipped"]),
        (
            "test_backward_dw3_dw5",
            2,
            ["AssertionError: dw4: 1 − tanh instead of 1 − tanh²", "TypeError: x"],
        ),
        ("test_backward_no_mutation", 2, ["AssertionError: forward_dict changed"]),
    ],
    GRADCHECK: [
        ("test_gradient_check_value", 2, ["AssertionError: one-sided differences"]),
        ("test_gradient_check_keeps_w", 2, ["AssertionError: w was changed"]),
    ],
    OPTIMIZERS: [
        ("test_vanilla", 1, ["AssertionError: step has the wrong sign"]),
        ("test_momentum", 2, ["AssertionError: momentum forgets its velocity"]),
        ("test_adam", 3, ["AssertionError: bias correction ignores t"]),
        ("test_question", 1, ["AssertionError: answer is not one of a, b, c"]),
    ],
}
# How often a notebook ends each way (the rest is "ok").
SYNTHETIC_STATUSES = [
    (Status.MISSING, 0.06, "no such notebook in the submission"),
    (Status.UNREADABLE, 0.01, "not JSON: Expecting value: line 1 column 1"),
    (Status.TIMEOUT, 0.01, "cell 12 ran past 120 s and was interrupted"),
    (Status.KERNEL_DIED, 0.005, "the kernel died (exit code -9)"),
    (Status.MEMORY_LIMIT, 0.003, "MemoryError: the notebook passed 2048 MB"),
    (Status.WRONG_ASSIGNMENT, 0.003, "none of this assignment's cells"),
]


def synthetic_class(students: int, seed: int = 0) -> ClassResults:
    """A class of `students` with realistic mistakes, statuses and a few strays."""
    rng = random.Random(seed)
    grades = []
    for number in range(students):
        student = f"student{number:05}"
        skill = rng.random()
        for notebook, tests in SYNTHETIC_TESTS.items():
            max_score = sum(points for _, points, _ in tests)
            roll, threshold = rng.random(), 0.0
            for status, chance, detail in SYNTHETIC_STATUSES:
                threshold += chance
                if roll < threshold:
                    grade = NotebookGrade(
                        student, notebook, 0, max_score, status, detail
                    )
                    grade.source = "" if status == Status.MISSING else f"{student}.zip"
                    grades.append(grade)
                    break
            else:
                results = [
                    passed(test, points)
                    if rng.random() < 0.55 + 0.45 * skill
                    else failed(test, points, rng.choice(messages))
                    for test, points, messages in tests
                ]
                grades.append(graded(student, notebook, *results))
    unmapped = [
        Unmapped(f"bulk.zip:stray_{n}.txt", "not a notebook")
        for n in range(students // 200)
    ]
    return ClassResults(grades, unmapped)


def report(results: ClassResults) -> str:
    """The class report, its mistakes named by the repository's catalogue."""
    return report_html(results, class_misconceptions(results, COURSE))
