"""What the report's "Wrong answers no catalogue names" section shows of each
unnamed group (grader.output.unnamed): plain values for the template, which
escapes them (the answer cell is a student's text, its lines the answer key lacks
marked)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ..course import Course
from .unnamed import UnnamedGroup, answer_cell

TOP_GROUPS = 12  # the largest groups shown; all are in misconceptions.csv
VALUES_SHOWN = 12  # wrong values shown per group


@dataclass(frozen=True)
class UnnamedCard:
    """One group as the report shows it."""

    group_id: str
    notebook: str
    test: str
    what: str  # the check's title
    count: int
    students: str  # comma-separated
    values: list[tuple[str, str, str]]  # (key, expected, got) of wrong values
    more_values: int  # wrong values not shown
    cell: list[tuple[str, bool]]  # the first student's answer cell, cut, line by
    # line: (line, whether the answer key has no such line); [] when unreadable
    cell_of: str  # whose it is


def number_text(value: float) -> str:
    """A compared number for the page: 6 significant digits, "nan", "inf"."""
    return f"{value:.6g}" if math.isfinite(value) else repr(value)


def marked_lines(cell: str, answer_key: str) -> list[tuple[str, bool]]:
    """The cell's lines, each marked when the answer key has no such line (spaces
    at either end aside; blank lines never)."""
    known = {line.strip() for line in answer_key.splitlines()}
    return [
        (line, bool(line.strip()) and line.strip() not in known)
        for line in cell.splitlines()
    ]


def unnamed_cards(
    groups: list[UnnamedGroup], out: Path, course: Course, top: int = TOP_GROUPS
) -> list[UnnamedCard]:
    """The `top` largest groups, each with its wrong values and the answer cell of
    its first student (read from OUT's autograded notebook)."""
    cards = []
    for group in groups[:top]:
        wrong = group.wrong_values
        notebook = course.notebook(group.notebook)
        answer_key = notebook.answers.get(notebook.answer_of_test.get(group.test), "")
        cards.append(
            UnnamedCard(
                group.group_id, group.notebook, group.test, group.what, group.count,
                ", ".join(group.students),
                [(key, number_text(want), number_text(got))
                 for key, want, got in wrong[:VALUES_SHOWN]],
                max(0, len(wrong) - VALUES_SHOWN),
                marked_lines(answer_cell(out, course, group), answer_key),
                group.students[0],
            )
        )  # fmt: skip
    return cards
