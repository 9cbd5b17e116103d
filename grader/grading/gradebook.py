"""The class gradebook: one nbgrader database, written by the grading command only."""

from __future__ import annotations

import warnings

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

from ..course import ASSIGNMENT
from .student import Scores


def merge_student(url: str, student: str, scores: Scores) -> None:
    """Replace `student`'s submission in the gradebook at `url` with these scores.

    scores: (notebook, grade_id) -> (auto_score, manual_score, needs_manual_grade)
    from the worker's private gradebook; cells without scores (notebooks that were
    missing, unreadable or could not be graded) get 0 points, like stock nbgrader
    gives a missing notebook.
    """
    with Gradebook(url) as gradebook, warnings.catch_warnings():
        # nbgrader's add_submission trips SQLAlchemy 2's backref-cascade warning;
        # the rows are written correctly (tests check them through nbgrader export).
        warnings.simplefilter("ignore", SAWarning)
        gradebook.update_or_create_student(student)
        try:
            gradebook.remove_submission(ASSIGNMENT, student)
        except MissingEntry:
            pass
        submission = gradebook.add_submission(ASSIGNMENT, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                found = scores.get((notebook.name, grade.name))
                if found is None:
                    grade.auto_score, grade.needs_manual_grade = 0.0, False
                else:
                    grade.auto_score, grade.manual_score = found[0], found[1]
                    grade.needs_manual_grade = found[2]
        gradebook.db.commit()
