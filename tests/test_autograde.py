"""End to end through real nbgrader: what each kind of submission scores.

The grader's `grade_class` (hidden tests run in the grader's process,
grader/nbx/trusted.py) grades every submission below:
- the untouched release (0 everywhere) and the instructor's answers (full marks);
- the catalogued mistakes students really make (tests/mistake_cases.py): each loses
  exactly the graded cells it should, with a message that names the mistake by the
  catalogue's name (read back with backprop_helper.mistakes.recognise), and keeps
  the rest of its credit;
- correct answers written differently (pure Python, vectorized, lists): full marks;
- correct work next to wrong functions pasted from earlier notebooks: full marks;
- work that overwrites the arrays a graded test hands it: what the same work scores
  without the overwrite.

Stock `nbgrader autograde` (hidden tests run in the student's kernel) grades, with
the same expectations, what only it can show: that the course works in nbgrader's
own pipeline, notebook by notebook: the untouched release, the answer key, one
mistake case per notebook, one student with wrong pasted earlier work, and the
students who overwrite a test's inputs (in the student's kernel, where stock runs
the tests, nothing else shows what that does). What each hidden test does in the
student's namespace with every other case is run in this process by
tests/test_notebooks.py (the same cases, the tests run as stock nbgrader runs them).
"""

from __future__ import annotations

from collections import Counter

import nbformat
import pytest
from backprop_helper.mistakes import recognise

from grader.authoring import stock as stock_autograde
from grader.authoring.prepared import make_course
from grader.course import COURSE, NOTEBOOKS
from grader.demo.submissions import solved, untouched
from grader.grading.grade import grade_class
from tests.mistake_cases import (
    CORRECT_VARIANTS,
    INPUT_OVERWRITES,
    MISTAKE_CASES,
    STAGE_INDEPENDENCE,
    variant_answers,
)

pytestmark = pytest.mark.slow


ENGINES = ("stock", "grader")
# What stock nbgrader grades: one mistake case per notebook (the first listed),
# one student who pasted wrong earlier work (three wrong functions, in 05).
STOCK_CASES = [
    next(case for case in MISTAKE_CASES if case.notebook == stem) for stem in NOTEBOOKS
]
STOCK_STAGE_INDEPENDENCE = [("stage-05", "05_optimizers")]


def all_submissions(engine: str) -> dict[str, dict[str, object]]:
    """student -> {notebook stem -> notebook} for every case `engine` grades."""
    stock = engine == "stock"
    found = {
        "key": {stem: solved(stem) for stem in NOTEBOOKS},
        "blank": {stem: untouched(stem) for stem in NOTEBOOKS},
    }
    for case in STOCK_CASES if stock else MISTAKE_CASES:
        found[case.student] = {case.notebook: solved(case.notebook, case.answers())}
    for (student, stem), answers in {} if stock else CORRECT_VARIANTS.items():
        found[student] = {stem: solved(stem, variant_answers(answers))}
    for student, stem in STOCK_STAGE_INDEPENDENCE if stock else STAGE_INDEPENDENCE:
        answers = STAGE_INDEPENDENCE[(student, stem)]
        found[student] = {stem: solved(stem, answers())}
    for case in INPUT_OVERWRITES:
        found[case.student] = {case.notebook: solved(case.notebook, case.answers())}
        found[case.honest] = {
            case.notebook: solved(case.notebook, case.honest_answers())
        }
    return found


def engine_cases(grader_cases, stock_cases, ids=str) -> list:
    """(engine, case) parameters: every case for the grader, `stock_cases` for stock
    nbgrader; each engine's in an xdist group of its own, so that the two classes
    are graded at once, each once, on two workers."""
    return [
        pytest.param(
            engine, case, id=f"{engine}-{ids(case)}",
            marks=pytest.mark.xdist_group(f"autograde-{engine}"),
        )
        for engine, cases in (("stock", stock_cases), ("grader", grader_cases))
        for case in cases
    ]  # fmt: skip


def grade_with_stock(folder, submissions):
    """Stock `nbgrader autograde` in a scratch course: student -> stem -> result.
    Its kernels get the grader's shell channel (sliced_shell): with nbclient's own,
    a slider cell now and then waits out its whole time limit for a reply that
    has come (nbclient #312), which costs minutes and proves nothing here."""
    root = make_course(folder, COURSE)
    for student, notebooks in submissions.items():
        stock_autograde.submit(root, student, notebooks)
    stock_autograde.autograde(root, sliced_shell=True)
    return {student: stock_autograde.results(root, student) for student in submissions}


def handed_in_by(submissions) -> dict[tuple[str, str], str]:
    """(case's student, stem) -> the student of the graded class who hands it in.

    A case of one notebook shares a student with the cases of the other notebooks
    (the k-th case of each notebook goes to `together-k`): each notebook still runs
    in a kernel of its own and is graded on its own, while the class has as many
    students as the notebook with the most cases has cases (a student costs a
    sandbox, a fork server and a gradebook of its own). Whole students (the key,
    the blank release) keep theirs.
    """
    taken: Counter[str] = Counter()
    owner = {}
    for student, notebooks in submissions.items():
        for stem in notebooks:
            if len(notebooks) > 1:
                owner[(student, stem)] = student
                continue
            taken[stem] += 1
            owner[(student, stem)] = f"together-{taken[stem]}"
    return owner


def grade_with_grader(folder, submissions):
    """The grader's grade_class on a folder per student: student -> stem -> result."""
    owner = handed_in_by(submissions)
    for (student, stem), graded_as in owner.items():
        (folder / "class" / graded_as).mkdir(parents=True, exist_ok=True)
        path = folder / "class" / graded_as / f"{stem}.ipynb"
        nbformat.write(submissions[student][stem], path)
    results = grade_class(
        folder / "class", folder / "out", course=COURSE, progress=False
    ).results
    rows = {(row.student, row.notebook): row for row in results.grades}
    found: dict = {student: {} for student in submissions}
    for (student, stem), graded_as in owner.items():
        found[student][stem] = rows[(graded_as, stem)]
    return found


def results_by_test(grade) -> dict:
    """grade_id -> TestResult of one graded notebook."""
    return {test.test: test for test in grade.tests}


@pytest.fixture(scope="module")
def stock_class(tmp_path_factory):
    """What stock nbgrader grades, graded in one run of `nbgrader autograde`."""
    return grade_with_stock(tmp_path_factory.mktemp("stock"), all_submissions("stock"))


@pytest.fixture(scope="module")
def grader_class(tmp_path_factory):
    """Every submission of this module, graded in one run of grade_class."""
    folder = tmp_path_factory.mktemp("grader")
    return grade_with_grader(folder, all_submissions("grader"))


@pytest.fixture
def graded(request, engine):
    """The class the test's engine graded. (Not an indirect parameter of one module
    fixture: pytest makes such a fixture again for each parameter set.)"""
    return request.getfixturevalue(f"{engine}_class")


@pytest.mark.parametrize(("engine", "stem"), engine_cases(NOTEBOOKS, NOTEBOOKS))
def test_untouched_release_scores_zero(graded, stem):
    """A release notebook handed in as received earns nothing."""
    result = graded["blank"][stem]
    assert result.max_score > 0
    assert result.score == 0, {t.test: t.points for t in result.tests}


@pytest.mark.parametrize(
    ("engine", "case"),
    engine_cases(MISTAKE_CASES, STOCK_CASES, ids=lambda case: case.student),
)
def test_a_mistake_case_loses_its_points_and_says_why(graded, case):
    """The mistake costs exactly its graded cells; the message names it."""
    cells = results_by_test(graded[case.student][case.notebook])
    scores = {gid: (cell.points, cell.max_points) for gid, cell in cells.items()}
    for gid, (score, max_score) in scores.items():
        if gid in case.lost:
            assert score == 0, f"{gid} should lose its points: {scores}"
        else:
            assert score == max_score, f"{gid} should keep its points: {cells[gid]}"
    message = cells[case.lost[0]].message
    named = {
        (found.mistake.id, found.key) for found in recognise(message) if found.mistake
    }
    assert any(
        mistake == case.mistake and (not case.key or key == case.key)
        for mistake, key in named
    ), (case.mistake, case.key, message)


KEY = [("key", stem) for stem in NOTEBOOKS]


@pytest.mark.parametrize(
    ("engine", "full_marks"),
    engine_cases(
        [*KEY, *CORRECT_VARIANTS, *STAGE_INDEPENDENCE],
        [*KEY, *STOCK_STAGE_INDEPENDENCE],
        ids="-".join,
    ),
)
def test_correct_work_gets_full_marks(graded, full_marks):
    """Full marks for: the answer key submitted into the release; correct answers
    written differently (scalar or vectorized, numpy or pure Python, lists or arrays);
    correct work in a later notebook next to wrong pasted work from earlier ones."""
    student, stem = full_marks
    result = graded[student][stem]
    failing = {t.test: t.message for t in result.tests if t.points < t.max_points}
    assert not failing and result.score == result.max_score > 0


@pytest.mark.parametrize(
    ("engine", "case"),
    engine_cases(INPUT_OVERWRITES, INPUT_OVERWRITES, ids=lambda case: case.student),
)
def test_overwriting_the_tests_inputs_gains_no_point(graded, case):
    """Overwriting in place the arrays a graded test hands in (the data made to fit
    what the answer returns) scores what the same answer without the overwrite
    scores, test by test: expected values never come from what the student's code
    can touch."""

    def points(student: str) -> dict[str, float]:
        return {test.test: test.points for test in graded[student][case.notebook].tests}

    honest = points(case.honest)
    assert all(honest[gid] == 0 for gid in case.lost), honest
    assert points(case.student) == honest
