"""The feedback page names the mistakes at the top of each failing test
(grader/nbx/mistake_names.py), from real hidden-test messages: a mistake case's
graded tests run here (tests/notebook_code.run_cells), their output rendered as
nbgrader's feedback renders it."""

from __future__ import annotations

from functools import cache

import nbformat
import pytest
from nbgrader.preprocessors import GetGrades
from traitlets.config import Config

from grader.catalogue import mistakes_module
from grader.course import REPO, SOURCE_DIR
from grader.nbx.feedback import FeedbackPage, configure_feedback
from grader.nbx.findings import findings_of
from grader.nbx.grades import GRADER_KEY
from grader.nbx.kernel_values import StudentCodeError
from grader.nbx.mistake_names import NameMistakes, configure_mistake_names
from tests.mistake_cases import MISTAKE_CASES
from tests.notebook_code import CellRun, run_cells
from tests.support import html_text

from .test_feedback import feedback_exporter, graded_test_cell, notebook_part

CASES = {case.student: case for case in MISTAKE_CASES}


@cache
def hidden_runs(student: str) -> dict[str, CellRun]:
    """The graded tests of one mistake case, run here: grade_id -> CellRun."""
    case = CASES[student]
    return run_cells(case.notebook, case.answers(), hidden=True)


def cell_of(run: CellRun, points: float) -> nbformat.NotebookNode:
    """A graded test cell as the autograded notebook has it: what it printed, then
    the error it raised (score 0), or nothing (full points)."""
    outputs = []
    if run.printed:
        outputs.append(
            nbformat.v4.new_output("stream", name="stdout", text=run.printed)
        )
    if run.error is not None:
        outputs.append(
            nbformat.v4.new_output(
                "error", ename=type(run.error).__name__, evalue=str(run.error),
                traceback=[],
            )
        )  # fmt: skip
    score = 0 if run.error is not None else points
    return graded_test_cell(run.grade_id, score, points, *outputs)


def render(notebook: nbformat.NotebookNode) -> str:
    """The feedback page with the grader's preprocessors, NameMistakes too."""
    config = Config()
    configure_feedback(config)
    configure_mistake_names(config, REPO)
    exporter = feedback_exporter()
    exporter.update_config(config)
    for preprocessor in config.GenerateFeedback.preprocessors:
        if preprocessor is not GetGrades:
            exporter.register_preprocessor(preprocessor)
    nbgrader = {"notebook": "03", "student": "ada", "score": 0.0, "max_score": 6.0}
    page, _ = exporter.from_notebook_node(notebook, resources={"nbgrader": nbgrader})
    return page


def verdict_box(page: str, test: str) -> str:
    """The grader's box above one test cell (its HTML)."""
    body = notebook_part(page)
    start = body.rindex("<div", 0, body.index(f'id="grader-test-{test}"'))
    return body[start : body.index('<div class="cell"', start)]


def test_configured_right_after_feedback_page_with_the_courses_catalogue():
    config = Config()
    configure_feedback(config)
    configure_mistake_names(config, REPO)
    preprocessors = list(config.GenerateFeedback.preprocessors)
    assert preprocessors[preprocessors.index(FeedbackPage) + 1] is NameMistakes
    assert config.NameMistakes.source_dir == str(SOURCE_DIR)
    configure_mistake_names(config, REPO)  # once only
    assert list(config.GenerateFeedback.preprocessors).count(NameMistakes) == 1


@pytest.mark.parametrize(
    ("student", "test", "mistake_id", "label"),
    [
        ("bwd-tanh-prime", "test_backward_upper", "tanh-not-squared",
         "1 − tanh instead of 1 − tanh²"),
        ("bwd-sign-dw3", "test_backward_lower", "sign-flipped",
         "dw3: the sign is flipped"),
        ("sig-sign", "test_sigmoid_values", "sigmoid-sign-flipped",
         "the sign in exp is flipped (that is σ(−z))"),
    ],
)  # fmt: skip
def test_a_failing_test_names_its_misconception_above_its_message(
    student, test, mistake_id, label
):
    """The name the class report counts, what it means, where it is taught: at the
    top of the failing test's box, before the test's own message."""
    run = hidden_runs(student)[test]
    assert run.error is not None
    page = render(nbformat.v4.new_notebook(cells=[cell_of(run, 4)]))
    box = html_text(verdict_box(page, test))
    mistake = mistakes_module(SOURCE_DIR).CATALOGUE[mistake_id]
    named = f"Misconception: {label}. {mistake.meaning}"
    assert named in box
    assert f"Where the notebook teaches it: {mistake.taught}." in box
    assert box.index(named) < box.index(str(run.error).split(":")[0])


def test_passing_tests_and_failures_no_mistake_matched_name_none():
    """A test that passed names nothing; nor does one whose message names no known
    mistake (it keeps its message)."""
    runs = hidden_runs("bwd-tanh-prime")
    passed = cell_of(CellRun("test_backward_robust", "", None), 2)
    unknown = graded_test_cell(
        "test_backward_other", 0, 2,
        nbformat.v4.new_output("error", ename="ZeroDivisionError",
                               evalue="division by zero", traceback=[]),
    )  # fmt: skip
    failing = cell_of(runs["test_backward_upper"], 2)
    page = render(nbformat.v4.new_notebook(cells=[failing, passed, unknown]))
    assert "Misconception:" in verdict_box(page, "test_backward_upper")
    assert "Misconception:" not in verdict_box(page, "test_backward_robust")
    other = html_text(verdict_box(page, "test_backward_other"))
    assert "Misconception:" not in other and "division by zero" in other


def test_a_key_a_students_output_wrote_is_escaped():
    """A ratio slip's label carries the key the message names, text a student's
    code may have printed: it is shown as text, never as markup."""
    hostile = '<img src=x onerror="alert(1)">'
    cell = graded_test_cell(
        "test_backward_values", 0, 4,
        nbformat.v4.new_output(
            "error", ename="CheckFailed",
            evalue=f"backward_propagation(x): {hostile}: the sign is flipped",
            traceback=[],
        ),
    )  # fmt: skip
    box = verdict_box(
        render(nbformat.v4.new_notebook(cells=[cell])), "test_backward_values"
    )
    assert "<img" not in box
    assert f"Misconception: {hostile}: the sign is flipped." in html_text(box)


def test_the_findings_the_grader_recorded_name_the_misconceptions():
    """With the grader's findings in the notebook's metadata (add_notes), the page
    names what the tests found, not what their messages spell: a student's
    exception text spelling a mistake's label names nothing."""
    spelled = graded_test_cell(
        "test_sigmoid_derivative", 0, 1,
        nbformat.v4.new_output(
            "error", ename="StudentCodeError",
            evalue="sigmoid_derivative raised ValueError: exp: the sign is flipped",
            traceback=[],
        ),
    )  # fmt: skip
    run = hidden_runs("bwd-tanh-prime")["test_backward_upper"]
    found = cell_of(run, 2)
    notebook = nbformat.v4.new_notebook(cells=[spelled, found])
    notebook.metadata[GRADER_KEY] = {
        "notes": [],
        "findings": {
            "test_sigmoid_derivative": findings_of(
                StudentCodeError("x", "sigmoid_derivative", "ValueError")
            ),
            "test_backward_upper": findings_of(run.error),
        },
    }
    page = render(notebook)
    assert "Misconception:" not in verdict_box(page, "test_sigmoid_derivative")
    assert "Misconception: 1 − tanh instead of 1 − tanh²" in html_text(
        verdict_box(page, "test_backward_upper")
    )
