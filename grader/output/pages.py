"""Where a student's own feedback page lies in OUT (the page the report links and
the student opens first; grader.nbx.student_index writes it)."""

from __future__ import annotations

INDEX_PAGE = "index.html"


def index_path(student: str) -> str:
    """The student's page, relative to OUT."""
    return f"feedback/{student}/{INDEX_PAGE}"
