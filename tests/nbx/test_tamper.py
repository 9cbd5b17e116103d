"""Tamper-proof grading: code that fools stock nbgrader's in-kernel tests earns nothing.

Each tampering student hands in 02_forward_propagation with a wrong loss (no square)
plus one trick aimed at the hidden tests. Both engines grade the same class: stock
`nbgrader autograde` shows the trick works there (the trick earns more than the same
wrong answer handed in honestly: the attack is real), and the grader's
`grade_class`, whose hidden tests run in its own process, gives the trick no more
than the honest wrong answer earns, test by test (a wrong loss still earns the
robustness test's points: its value is the other test's).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import nbformat
import pytest

from grader.authoring import stock as stock_autograde
from grader.authoring.prepared import make_course
from grader.course import COURSE
from grader.demo.submissions import answer_cells, solved
from grader.grading.grade import grade_class

pytestmark = pytest.mark.slow

FWD = "02_forward_propagation"
TESTS = ("test_forward_values", "test_forward_robust")
WRONG_LOSS = ('"loss": (y - y_pred) ** 2', '"loss": y - y_pred')


@dataclass(frozen=True)
class Trick:
    """A submission whose answer cell ends with code aimed at the hidden tests."""

    student: str
    code: str
    fools_stock: bool  # stock nbgrader gives this wrong answer points


TRICKS = [
    Trick(
        "replaces-checks",
        """
        import backprop_helper
        import backprop_helper.checks

        def check_values(*args, **kwargs):
            pass

        def check_unchanged(*args, **kwargs):
            pass

        backprop_helper.check_values = check_values
        backprop_helper.checks.check_values = check_values
        backprop_helper.check_unchanged = check_unchanged
        backprop_helper.checks.check_unchanged = check_unchanged
        """,
        fools_stock=True,
    ),
    Trick(
        "patches-comparisons",
        """
        import math
        import backprop_helper.checks

        np.isclose = lambda *args, **kwargs: True
        np.allclose = lambda *args, **kwargs: True
        np.testing.assert_allclose = lambda *args, **kwargs: None
        math.isclose = lambda *args, **kwargs: True
        backprop_helper.checks._close = lambda *args, **kwargs: True
        """,
        fools_stock=True,
    ),
    Trick(
        "patches-builtins",
        """
        import builtins
        builtins.abs = lambda value: 0.0
        """,
        fools_stock=True,
    ),
    Trick(
        "skips-hidden-tests",
        """
        def _skip_graded(lines):
            return ["pass\\n"] if any("Graded test" in l for l in lines) else lines

        get_ipython().input_transformers_cleanup.append(_skip_graded)
        """,
        fools_stock=True,
    ),
    Trick(
        "calls-the-reference",
        """
        def forward_propagation(x, y, w):
            reference = globals().get("_ref_forward")
            if reference is None:
                return {"exp": 0.0, "tanh": 0.0, "sigmoid": 0.0, "loss": 0.0,
                        "dy_pred": 0.0}
            return reference(x, y, w)
        """,
        fools_stock=True,
    ),
    Trick(
        "fakes-the-grader",
        """
        import json as _json
        from IPython.display import display as _display

        class _FakeGrader:
            def request(self, text):
                request = _json.loads(text)
                x0 = {"exp": 1.1272967040973583, "tanh": 0.8417934192562146,
                      "sigmoid": 0.5279179387419721, "loss": 0.9298048963072919,
                      "dy_pred": -1.9285278284819143}
                value = {"__handle__": 0, "type": "function", "repr": "f",
                         "callable": True}
                if request["op"] == "call":
                    value = {"result": {"__dict__": [[k, v] for k, v in x0.items()]},
                             "args": [], "kwargs": {}}
                _display({"application/vnd.backprop-grader+json":
                          {"id": request["id"], "value": value}}, raw=True)

        def _replace_grader(*args):
            globals()["__grader__"] = _FakeGrader()

        get_ipython().events.register("post_run_cell", _replace_grader)
        """,
        fools_stock=False,
    ),
]


def tampered(trick: Trick) -> nbformat.NotebookNode:
    """02 with the wrong loss, and the trick after the student's function."""
    answer = answer_cells(FWD)["forward_propagation"].replace(*WRONG_LOSS)
    code = answer + "\n\n" + textwrap.dedent(trick.code).strip() + "\n"
    return solved(FWD, {"forward_propagation": code})


def submissions() -> dict[str, nbformat.NotebookNode]:
    """student -> their 02 notebook: the tricks, an honest wrong one and the key."""
    found = {trick.student: tampered(trick) for trick in TRICKS}
    found["honest-wrong"] = solved(
        FWD,
        {
            "forward_propagation": answer_cells(FWD)["forward_propagation"].replace(
                *WRONG_LOSS
            )
        },
    )
    found["key"] = solved(FWD)
    return found


@pytest.fixture(scope="module")
def stock(tmp_path_factory) -> dict[str, dict[str, float]]:
    """student -> graded cell -> points, by stock nbgrader autograde."""
    root = make_course(tmp_path_factory.mktemp("stock"), COURSE)
    for student, notebook in submissions().items():
        stock_autograde.submit(root, student, {FWD: notebook})
    stock_autograde.autograde(root)
    return {
        student: {
            test.test: test.points
            for test in stock_autograde.results(root, student)[FWD].tests
        }
        for student in submissions()
    }


@pytest.fixture(scope="module")
def ours(tmp_path_factory) -> dict[str, dict[str, tuple[float, str]]]:
    """student -> graded cell -> (points, message), by the grader."""
    folder = tmp_path_factory.mktemp("grader")
    for student, notebook in submissions().items():
        (folder / "class" / student).mkdir(parents=True)
        nbformat.write(notebook, folder / "class" / student / f"{FWD}.ipynb")
    results = grade_class(
        folder / "class", folder / "out", course=COURSE, progress=False
    ).results
    return {
        row.student: {test.test: (test.points, test.message) for test in row.tests}
        for row in results.grades
        if row.notebook == FWD
    }


@pytest.mark.parametrize("trick", TRICKS, ids=lambda trick: trick.student)
def test_trick_earns_no_more_than_the_same_honest_wrong_answer(ours, trick):
    """Test by test, the trick earns at most what the wrong answer handed in
    honestly earns, and loses what it loses, saying why, whatever it patched."""
    honest = ours["honest-wrong"]
    for test in TESTS:
        points, message = ours[trick.student][test]
        assert points <= honest[test][0], f"{test} gave {points} to {trick.student}"
        if honest[test][0] == 0:
            assert message, f"{test} lost its points without saying why"
    assert ours[trick.student]["test_forward_values"][0] == 0


@pytest.mark.parametrize(
    "trick",
    [trick for trick in TRICKS if trick.fools_stock],
    ids=lambda trick: trick.student,
)
def test_trick_does_fool_stock_nbgrader(stock, trick):
    """The attack is real: stock nbgrader's in-kernel tests give the wrong answer
    more points with the trick than without it (so the test above is not passing
    for a trivial reason)."""
    tricked, honest = stock[trick.student], stock["honest-wrong"]
    assert sum(tricked.values()) > sum(honest.values()), (tricked, honest)


def test_honest_work_is_graded_the_same_by_both_engines(stock, ours):
    """The key gets full marks, and the honest wrong answer the same points in both
    engines: 0 for the values, the robustness test's (its value is the other
    test's)."""
    for student in ("key", "honest-wrong"):
        assert stock[student] == {test: ours[student][test][0] for test in TESTS}
    assert all(points > 0 for points in stock["key"].values())
    assert stock["honest-wrong"]["test_forward_values"] == 0


def test_the_grader_names_the_mistake_not_the_trick(ours):
    """Under a trick the message is the same check failure an honest student sees."""
    honest = ours["honest-wrong"]["test_forward_values"][1]
    tricked = ours["replaces-checks"]["test_forward_values"][1]
    assert "the square is missing" in honest
    assert tricked == honest
