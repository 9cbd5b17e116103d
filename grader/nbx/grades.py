"""What a graded notebook says: its grades from nbgrader's gradebook, each test's
message from the autograded file, and the grader's notes on top of it."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbgrader.api import Gradebook, MissingEntry

from ..course import grade_id
from ..model import NotebookGrade, Scores, TestResult
from .findings import empty
from .status import RunRecord

# notebook metadata: {"notes": [...], "findings": {grade_id: ...}}, by add_notes:
# the grader's record of one notebook for its feedback page
GRADER_KEY = "grader"


def cell_messages(autograded: Path) -> dict[str, str]:
    """grade_id -> what that graded cell printed or raised in the autograded file."""
    if not autograded.exists():
        return {}
    notebook = nbformat.read(autograded, as_version=4)
    return {
        grade_id(cell): cell_message(cell)
        for cell in notebook.cells
        if cell.cell_type == "code" and grade_id(cell)
    }


def cell_message(cell: NotebookNode) -> str:
    """What a code cell printed or raised: its streams' text and 'Name: message'."""
    parts = [
        output.text
        if output.output_type == "stream"
        else f"{output.ename}: {output.evalue}"
        for output in cell.get("outputs", [])
        if output.output_type in ("stream", "error")
    ]
    return "".join(parts).strip()


def add_notes(
    autograded: Path, notes: list[str], findings: dict[str, dict] | None = None
) -> None:
    """Record the grader's notes (why a run stopped, repairs made) and what the
    failing tests found (grader.nbx.findings; None: the tests ran in the kernel)
    for the feedback.

    They go into the autograded notebook's metadata, never into a cell: the
    feedback page renders them in the grader's own block (grader.nbx.feedback),
    where a student's markdown cannot imitate them. Any value already under the
    key is replaced, even with no notes.
    """
    if not autograded.exists():
        return
    notebook = nbformat.read(autograded, as_version=4)
    record: dict = {"notes": [str(note) for note in notes]}
    if findings is not None:
        record["findings"] = findings
    notebook.metadata[GRADER_KEY] = record
    nbformat.write(notebook, autograded)


def notebook_grade(
    gradebook: Gradebook,
    assignment: str,
    student: str,
    stem: str,
    autograded: Path,
    run: RunRecord,
) -> NotebookGrade | None:
    """The grade nbgrader recorded for one notebook (None: it recorded none), with
    how its run ended."""
    try:
        notebook = gradebook.find_submission_notebook(stem, assignment, student)
    except MissingEntry:
        return None
    messages = cell_messages(autograded / f"{stem}.ipynb")
    order = {name: index for index, name in enumerate(messages)}
    tests = [
        _test_result(grade, messages.get(grade.name, ""), run)
        for grade in sorted(notebook.grades, key=lambda g: order.get(g.name, 0))
    ]
    return NotebookGrade(
        student, stem, float(notebook.score), float(notebook.max_score), run.status,
        run.detail, tests=tests,
    )  # fmt: skip


def _test_result(grade, message: str, run: RunRecord) -> TestResult:
    """One test's result; a failing one with what it found, when the grader ran it
    (a test that failed without running, or without a check, found nothing)."""
    if grade.score >= grade.max_score:
        return TestResult(grade.name, float(grade.score), float(grade.max_score))
    findings = None
    if run.findings is not None:
        findings = run.findings.get(grade.name) or empty()
    return TestResult(
        grade.name, float(grade.score), float(grade.max_score), message, findings
    )


def gradebook_scores(gradebook: Gradebook, assignment: str, student: str) -> Scores:
    """(notebook, grade_id) -> (auto_score, manual_score, needs_manual_grade) of
    every graded cell of the student's submission."""
    found = {}
    try:
        submission = gradebook.find_submission(assignment, student)
    except MissingEntry:
        return {}
    for notebook in submission.notebooks:
        if not notebook.grades or all(g.auto_score is None for g in notebook.grades):
            continue
        for grade in notebook.grades:
            found[(notebook.name, grade.name)] = (
                grade.auto_score,
                grade.manual_score,
                bool(grade.needs_manual_grade),
            )
    return found
