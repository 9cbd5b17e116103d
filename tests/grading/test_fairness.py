"""Fair under failure, through the real command with the default time limits.

A student whose function never returns (a CPU loop, a sleep, a sleep that ignores
the interrupt) or kills its kernel loses only the tests of that function: the later
notebooks, whose graded tests swap in correct earlier functions, keep their points,
and each stopped cell says which limit stopped it and what the answer key needed.
A correct student whose functions are five times slower than the answer key's keeps
full marks. How long such students take to grade is measured by
benchmarks/failure_cost.py (README: "Fair under failure").
"""

from __future__ import annotations

import pytest

from grader.course import NOTEBOOKS
from grader.demo.failures import OWN_FAILURE, STUDENTS
from grader.kernel.probe import sandbox_problem
from tests.support import html_text, read_csv, run_cli, write_notebook

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        sandbox_problem() is not None, reason=f"no sandbox: {sandbox_problem()}"
    ),
]

SIG, FWD, BWD, GC, OPT = NOTEBOOKS
OWN = OWN_FAILURE


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class graded once with default limits: (grades, tests) by student."""
    root = tmp_path_factory.mktemp("fairness")
    for student, build in STUDENTS.items():
        for stem, notebook in build().items():
            write_notebook(root / "class" / student / f"{stem}.ipynb", notebook)
    result = run_cli(
        "grade", root / "class", "--out", root / "out", "--jobs", "2", "--quiet",
        "--sandbox", "required", timeout=1800,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    _, grades = read_csv(root / "out" / "grades.csv")
    _, tests = read_csv(root / "out" / "tests.csv")
    return (
        root / "out",
        {(row["student"], row["notebook"]): row for row in grades},
        {(row["student"], row["notebook"], row["test"]): row for row in tests},
    )


@pytest.mark.parametrize("student", ["correct", "slow"])
def test_correct_work_keeps_full_marks_even_five_times_slower(graded, student):
    _, grades, _ = graded
    for stem in NOTEBOOKS:
        row = grades[(student, stem)]
        assert row["status"] == "ok", row["detail"]
        assert row["score"] == row["max_score"], (stem, row)


@pytest.mark.parametrize("student", sorted(OWN))
def test_only_the_failing_functions_tests_lose_points(graded, student):
    """Its own notebook's tests of that function score 0; the later notebooks,
    which swap in correct earlier functions, keep every point."""
    _, grades, tests = graded
    stem, status = OWN[student]
    own = grades[(student, stem)]
    assert own["status"] == status, own["detail"]
    lost = [
        name for (who, nb, name), row in tests.items()
        if (who, nb) == (student, stem) and float(row["points"]) == 0
    ]  # fmt: skip
    assert lost, own
    for later in NOTEBOOKS[NOTEBOOKS.index(stem) + 1 :]:
        if (student, later) not in grades or grades[(student, later)]["status"] == (
            "missing"
        ):
            continue
        row = grades[(student, later)]
        assert row["score"] == row["max_score"], (later, row["detail"])


@pytest.mark.parametrize("student", ["looper", "sleeper", "deaf"])
def test_a_stopped_cell_says_which_limit_and_what_the_answer_key_needed(
    graded, student
):
    out, grades, _ = graded
    row = grades[(student, FWD)]
    assert "ran past its time limit" in row["detail"]
    assert "in cell check_forward" in row["detail"]
    assert "the answer key needs" in row["detail"]
    page = html_text((out / row["feedback"]).read_text())
    assert "This cell was stopped at its time limit, 10 s (the answer key needs" in (
        page
    )
    assert "skipped: " in page and "check_forward" in page


def test_a_crashing_function_restarts_the_kernel_and_says_so(graded):
    out, grades, _ = graded
    row = grades[("crasher", GC)]
    assert row["status"] == "kernel_died", row["detail"]
    page = html_text((out / row["feedback"]).read_text())
    assert "the kernel died" in page
    assert "skipped: the kernel died in cell" in page
