"""feedback/<student>/index.html: one page per student, the first a student opens.

Each notebook's score (or why it was not graded) with a link to its page, the
total, and the misconceptions the hidden tests found, with what each means and
where the notebook teaches it (the course's catalogue, the names the class report
counts: grader.output.misconceptions.notebook_misconceptions). Made on the worker
with the notebooks' pages, from the same grades as grades.csv; every value is
escaped by the template (Jinja2's autoescape), and the page has the notebook
pages' Content-Security-Policy and style sheet (grader.css).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timezone

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ..course import Course
from ..model import Lateness, NotebookGrade, Status
from ..output.misconceptions import notebook_misconceptions
from ..output.stats import format_points, late_summary
from ..student_text import HTML, safe_text
from .feedback import TEMPLATES, csp

TEMPLATE = "student/index.html.j2"
STYLE_SHEET = TEMPLATES / "feedback" / "static" / "grader.css"

ENVIRONMENT = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,  # every {{ }} is HTML-escaped, in text and in attributes
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class Found:
    """A misconception a failing test named, or a failing test's own first line."""

    label: str
    meaning: str = ""  # "" for a test no known mistake matched
    taught: str = ""


@dataclass(frozen=True)
class NotebookRow:
    """One notebook on the student's page."""

    notebook: str
    score: str  # "4 / 4"
    passed: bool  # full marks
    status: str  # "" when graded; else the status and what it means
    detail: str
    failed: int  # graded tests that lost points
    tests: int
    page: str  # the notebook's feedback page, relative to the index; "" if none
    found: list[Found] = field(default_factory=list)
    late: str = ""  # when it was handed in and what that cost; "" when on time


def late_text(lateness: Lateness) -> str:
    """A late notebook in words: "handed in 2026-11-21 10:00 UTC, due
    2026-11-20 23:59 UTC: 1 day late: -0.4"."""
    return (
        f"handed in {_when(lateness.submitted)}, due {_when(lateness.due)}: "
        f"{late_summary(lateness)}"
    )


def _when(moment) -> str:
    """A time in UTC, to the minute."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def notebook_row(
    grade: NotebookGrade,
    page: str,
    course: Course,
    lateness: Lateness | None = None,
) -> NotebookRow:
    """What the page says about one notebook."""
    found = [
        Found(label, named.meaning, named.taught) if named else Found(label)
        for label, named in notebook_misconceptions(grade, course).items()
    ]
    status = (
        "" if grade.status == Status.OK else f"{grade.status}: {grade.status.meaning}"
    )
    return NotebookRow(
        grade.notebook,
        f"{format_points(grade.score)} / {format_points(grade.max_score)}",
        grade.score >= grade.max_score,
        status,
        grade.detail,
        sum(test.points < test.max_points for test in grade.tests),
        len(grade.tests),
        page,
        found,
        late_text(lateness) if lateness else "",
    )


def student_index(
    student: str,
    grades: list[NotebookGrade],
    pages: set[str],
    course: Course,
    name: str = "",
    late: dict[str, Lateness] | None = None,
) -> str:
    """The student's page: `grades` holds one row per notebook of the course, in
    order; `pages` the notebooks that have a feedback page; `course` the course as
    graded (its catalogue of mistakes); `name` the student's name as their LMS
    wrote it ("" when none), shown beside the id; `late` notebook -> its
    Lateness, for the notebooks handed in late (their penalties come off the
    total)."""
    late = late or {}
    rows = [
        notebook_row(
            grade,
            f"{grade.notebook}.html" if grade.notebook in pages else "",
            course,
            late.get(grade.notebook),
        )
        for grade in grades
    ]
    penalties = sum(lateness.penalty for lateness in late.values())
    nonce = secrets.token_urlsafe(18)
    return ENVIRONMENT.get_template(TEMPLATE).render(
        student=student,
        name=safe_text(name, HTML),
        rows=rows,
        total=format_points(sum(grade.score for grade in grades) - penalties),
        most=format_points(sum(grade.max_score for grade in grades)),
        named=any(found.meaning for row in rows for found in row.found),
        unnamed=any(not found.meaning for row in rows for found in row.found),
        nonce=nonce,
        csp=csp(nonce),
        style=STYLE_SHEET.read_text(encoding="utf-8"),
    )
