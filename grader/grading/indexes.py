"""Each student's page (feedback/<student>/index.html), made again from the final
grades: the gradebook's scores (a manual score or extra credit given in formgrader)
and the late penalties, which the worker that made it first could not know."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from ..course import Course
from ..files import write_atomically
from ..model import ClassResults, Lateness, NotebookGrade
from ..nbx.student_index import student_index
from ..output.pages import index_path


def rewrite_student_pages(results: ClassResults, out: Path, course: Course) -> int:
    """Write each student's index.html (the course as graded names the mistakes)
    where a worker made their feedback folder; returns how many were written."""
    rows: dict[str, list[NotebookGrade]] = defaultdict(list)
    for grade in results.grades:
        rows[grade.student].append(grade)
    late: dict[str, dict[str, Lateness]] = defaultdict(dict)
    for (student, stem), lateness in results.late.items():
        late[student][stem] = lateness
    written = 0
    for student, grades in sorted(rows.items()):
        page = out / index_path(student)
        if not page.parent.is_dir():
            continue
        by_stem = {grade.notebook: grade for grade in grades}
        ordered = [by_stem[stem] for stem in course.notebooks if stem in by_stem]
        pages = {grade.notebook for grade in ordered if grade.feedback}
        identity = results.identities.get(student)
        name = identity.name if identity else ""
        write_atomically(
            page,
            student_index(
                student, ordered, pages, course, name=name, late=late[student]
            ),
        )
        written += 1
    return written
