"""grades.csv and tests.csv as text: a contract, byte for byte.

Spreadsheets, LMS imports and scripts read these files, so their columns
(GRADES_COLUMNS, TESTS_COLUMNS), row order (student, then course notebook order;
tests in cell order), number format ("4", "2.5", "0.333"), quoting and "\\r\\n"
line ends (the csv module's defaults) do not change. Every text column (all but
the four numbers) is made safe for a CSV cell (grader.student_text, sink CSV):
control characters shown as escapes (newlines and tabs kept), cut to 32,000
characters with a marker (a spreadsheet cell holds 32,767; Python's csv module
reads 131,072), and text a spreadsheet would run as a formula gets a leading "'".
Students control more of it than it seems: what their code printed, their file
names, their ids (a folder named "-2-3" was computed as -5) and so the feedback
paths.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from ..model import GRADES_COLUMNS, TESTS_COLUMNS, ClassResults, NotebookGrade
from ..student_text import CSV, safe_text
from .stats import format_points, sorted_grades

# The only columns written as they are: numbers the grader formats itself.
NUMBER_COLUMNS = ("score", "max_score", "points", "max_points")


def csv_text(columns: Iterable[str], rows: Iterable[dict[str, object]]) -> str:
    """A CSV document with a header; the csv module quotes commas and newlines, and
    every text cell is made safe for CSV (grader.student_text)."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(columns))
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                key: safe_text(value, CSV)
                if key not in NUMBER_COLUMNS and isinstance(value, str)
                else value
                for key, value in row.items()
            }
        )
    return buffer.getvalue()


def grades_row(grade: NotebookGrade, name: str = "") -> dict[str, object]:
    """A grades.csv row with its scores as plain numbers (`name`: the student's
    name as their LMS wrote it)."""
    row = grade.to_row(name)
    row["score"] = format_points(grade.score)
    row["max_score"] = format_points(grade.max_score)
    return row


def grades_csv(results: ClassResults) -> str:
    """grades.csv: one row per student and notebook, columns GRADES_COLUMNS."""
    rows = [
        grades_row(grade, lms_name(results, grade.student))
        for grade in sorted_grades(results)
    ]
    return csv_text(GRADES_COLUMNS, rows)


def lms_name(results: ClassResults, student: str) -> str:
    """The student's name as their LMS wrote it ("" when none did)."""
    identity = results.identities.get(student)
    return identity.name if identity else ""


def tests_rows(grade: NotebookGrade) -> list[dict[str, object]]:
    """A notebook's tests.csv rows, points as plain numbers, in cell order."""
    rows = grade.test_rows()
    for row in rows:
        row["points"] = format_points(row["points"])
        row["max_points"] = format_points(row["max_points"])
    return rows


def tests_csv(results: ClassResults) -> str:
    """tests.csv: one row per student and graded test cell, columns TESTS_COLUMNS."""
    rows = [row for grade in sorted_grades(results) for row in tests_rows(grade)]
    return csv_text(TESTS_COLUMNS, rows)
