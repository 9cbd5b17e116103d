"""What a graded notebook says: its grades from nbgrader's gradebook, each test's
message from the autograded file, and the grader's notes on top of it."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from ..course import grade_id
from ..model import NotebookGrade, Status, TestResult
from .execute import status_path


def cell_messages(autograded: Path) -> dict[str, str]:
    """grade_id -> what that graded cell printed or raised in the autograded file."""
    if not autograded.exists():
        return {}
    notebook = nbformat.read(autograded, as_version=4)
    found = {}
    for cell in notebook.cells:
        name = grade_id(cell)
        if cell.cell_type != "code" or not name:
            continue
        parts = [
            output.text
            if output.output_type == "stream"
            else f"{output.ename}: {output.evalue}"
            for output in cell.get("outputs", [])
            if output.output_type in ("stream", "error")
        ]
        found[name] = "".join(parts).strip()
    return found


def run_status(status_dir: Path, stem: str) -> tuple[Status, str] | None:
    """How the notebook's run ended (ResilientExecute's record), if it ran."""
    path = status_path(status_dir, stem)
    if not path.exists():
        return None
    run = json.loads(path.read_text())
    return Status(run["status"]), run["detail"]


def add_notes(autograded: Path, notes: list[str]) -> None:
    """Put the grader's notes (why a run stopped, repairs made) on top of the file."""
    if not notes or not autograded.exists():
        return
    notebook = nbformat.read(autograded, as_version=4)
    text = "**Notes from the grader**\n\n" + "\n".join(f"- {note}" for note in notes)
    notebook.cells.insert(0, nbformat.v4.new_markdown_cell(text))
    nbformat.write(notebook, autograded)


def notebook_grade(
    gradebook: Gradebook,
    assignment: str,
    student: str,
    stem: str,
    autograded: Path,
    run: tuple[Status, str],
) -> NotebookGrade | None:
    """The grade nbgrader recorded for one notebook (None: it recorded none)."""
    try:
        notebook = gradebook.find_submission_notebook(stem, assignment, student)
    except MissingEntry:
        return None
    messages = cell_messages(autograded / f"{stem}.ipynb")
    order = {name: index for index, name in enumerate(messages)}
    tests = [
        TestResult(
            grade.name,
            float(grade.score),
            float(grade.max_score),
            "" if grade.score >= grade.max_score else messages.get(grade.name, ""),
        )
        for grade in sorted(notebook.grades, key=lambda g: order.get(g.name, 0))
    ]
    status, detail = run
    return NotebookGrade(
        student, stem, float(notebook.score), float(notebook.max_score), status,
        detail, tests=tests,
    )  # fmt: skip


def gradebook_scores(
    gradebook: Gradebook, assignment: str, student: str
) -> dict[tuple[str, str], tuple[float | None, float | None, bool]]:
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
