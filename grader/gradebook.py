"""The class gradebook: one nbgrader SQLite database, written by one process only."""

from __future__ import annotations

import warnings
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

from .course import ASSIGNMENT


def _url(path: Path) -> str:
    """An SQLAlchemy URL for a gradebook file."""
    return f"sqlite:///{path}"


def merge_student(master: Path, private: Path | None, student: str) -> None:
    """Replace `student`'s submission in `master` with the one in `private`.

    private: a worker's gradebook holding that student's autograded submission, or
    None when nothing could be graded (every notebook then scores 0).
    Notebooks the worker did not grade (missing, unreadable) get 0 points, like stock
    nbgrader gives a missing notebook.
    """
    with Gradebook(_url(master)) as gradebook, warnings.catch_warnings():
        # nbgrader's add_submission trips SQLAlchemy 2's backref-cascade warning;
        # the rows are written correctly (tests check them through nbgrader export).
        warnings.simplefilter("ignore", SAWarning)
        gradebook.update_or_create_student(student)
        try:
            gradebook.remove_submission(ASSIGNMENT, student)
        except MissingEntry:
            pass
        submission = gradebook.add_submission(ASSIGNMENT, student)
        graded = _graded_scores(private, student) if private else {}
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                scores = graded.get((notebook.name, grade.name))
                if scores is None:
                    grade.auto_score, grade.needs_manual_grade = 0.0, False
                else:
                    grade.auto_score, grade.manual_score = scores[0], scores[1]
                    grade.needs_manual_grade = scores[2]
        gradebook.db.commit()


def _graded_scores(
    private: Path, student: str
) -> dict[tuple[str, str], tuple[float | None, float | None, bool]]:
    """(notebook, grade_id) -> (auto_score, manual_score, needs_manual_grade)."""
    found = {}
    with Gradebook(_url(private)) as gradebook:
        try:
            submission = gradebook.find_submission(ASSIGNMENT, student)
        except MissingEntry:
            return {}
        for notebook in submission.notebooks:
            if not notebook.grades or all(
                g.auto_score is None for g in notebook.grades
            ):
                continue
            for grade in notebook.grades:
                found[(notebook.name, grade.name)] = (
                    grade.auto_score,
                    grade.manual_score,
                    bool(grade.needs_manual_grade),
                )
    return found


def students_in(master: Path) -> list[str]:
    """Every student with a submission in the gradebook."""
    with Gradebook(_url(master)) as gradebook:
        assignment = gradebook.find_assignment(ASSIGNMENT)
        return sorted(submission.student_id for submission in assignment.submissions)
