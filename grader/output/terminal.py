"""The summary table `python -m grader grade` prints after a run.

One line per student with each notebook's score (or status word) and the total,
then the number of notebooks per status. It fits a 100-column terminal; student
ids show their control characters as visible escapes (grader.student_text), so no
id can move the cursor or clear the screen.
"""

from __future__ import annotations

import textwrap

from ..model import ClassResults, NotebookGrade, Status
from ..student_text import TERMINAL, safe_text
from .stats import (
    NO_SUBMISSIONS,
    format_points,
    grade_table,
    lookalike_groups,
    notebook_columns,
    short_name,
    status_counts,
    student_totals,
)
from .text import display_width, shorten

TERMINAL_COLUMNS = 100  # the summary table fits this wide a terminal
STUDENT_COLUMNS = 20  # widest student id in the table before it is cut
# Status words in the table, shortened so the notebook columns fit 100 characters.
STATUS_LABELS = {Status.WRONG_ASSIGNMENT: "wrong_assign"}


def summary_table(results: ClassResults) -> str:
    """The plain-text table printed after a run, then counts per status.

    One row per student, one column per notebook ("01".."05": score, or the status
    word when not graded), a total column; columns aligned.
    """
    table = student_lines(results) if results.grades else [NO_SUBMISSIONS]
    if results.unmapped:
        table.append(f"unmapped input files: {len(results.unmapped)}")
    lookalikes = len(lookalike_groups(results))
    if lookalikes:
        groups = "groups" if lookalikes > 1 else "group"
        table.append(
            f"student ids that look alike: {lookalikes} {groups} (see report.html)"
        )
    return "\n".join(table)


def student_lines(results: ClassResults) -> list[str]:
    """The aligned header and student lines, a blank line, the status counts."""
    notebooks = notebook_columns(results)
    totals = student_totals(results)
    lines = [["student", *(short_name(notebook) for notebook in notebooks), "total"]]
    for student, by_notebook in grade_table(results).items():
        lines.append(
            [
                shorten(safe_text(student, TERMINAL), STUDENT_COLUMNS),
                *(summary_cell(by_notebook.get(notebook)) for notebook in notebooks),
                format_points(totals[student]),
            ]
        )
    widths = [
        max(display_width(line[i]) for line in lines) for i in range(len(lines[0]))
    ]
    table = [aligned_line(line, widths) for line in lines]
    return [*table, "", *counts_lines(results)]


def summary_cell(grade: NotebookGrade | None) -> str:
    """A notebook's cell in the table: score, status word or "-"."""
    if grade is None:
        return "-"
    if grade.status != Status.OK:
        return STATUS_LABELS.get(grade.status, str(grade.status))
    return format_points(grade.score)


def counts_lines(results: ClassResults) -> list[str]:
    """E.g. "notebooks: ok 12, missing 2, timeout 1", wrapped to the terminal."""
    counts = ", ".join(f"{status} {n}" for status, n in status_counts(results).items())
    return textwrap.wrap(
        f"notebooks: {counts}", width=TERMINAL_COLUMNS, subsequent_indent="  "
    )


def aligned_line(cells: list[str], widths: list[int]) -> str:
    """One table line: the first cell flush left, the others flush right."""
    padded = [
        pad(cell, width, right=index > 0)
        for index, (cell, width) in enumerate(zip(cells, widths))
    ]
    return "  ".join(padded)


def pad(text: str, width: int, right: bool) -> str:
    """`text` padded with spaces to `width` columns, flush right or left."""
    spaces = " " * (width - display_width(text))
    return spaces + text if right else text + spaces
