"""Build student submissions: the released notebook with its answer cells filled in.

Used by the sample class, the benchmarks and the tests.
"""

from __future__ import annotations

import copy

import nbformat

from ..course import COURSE, grade_id


def answer_cells(stem: str) -> dict[str, str]:
    """grade_id -> the instructor's answer (solution cell source) in the source file."""
    return dict(COURSE.notebook(stem).answers)


def _released(stem: str) -> nbformat.NotebookNode:
    """A copy of the released notebook, as a student receives it."""
    return copy.deepcopy(COURSE.notebook(stem).released)


def solved(stem: str, answers: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """The released notebook with every answer cell filled in, as a student would.

    answers: grade_id -> source that replaces the instructor's answer for that cell.
    """
    notebook = _released(stem)
    filled = answer_cells(stem) | (answers or {})
    unknown = set(answers or {}) - set(answer_cells(stem))
    if unknown:
        raise KeyError(f"{stem} has no answer cell {sorted(unknown)}")
    for cell in notebook.cells:
        if grade_id(cell) in filled:
            cell.source = filled[grade_id(cell)]
    return notebook


def with_edits(
    stem: str, grade_id: str, *replacements: tuple[str, str]
) -> nbformat.NotebookNode:
    """The solved notebook with each (old, new) replacement made in one answer cell."""
    answer = answer_cells(stem)[grade_id]
    for old, new in replacements:
        if old not in answer:
            raise ValueError(f"{stem}/{grade_id}: the answer has no {old!r} to replace")
        answer = answer.replace(old, new)
    return solved(stem, {grade_id: answer})


def untouched(stem: str) -> nbformat.NotebookNode:
    """The released notebook exactly as a student receives it."""
    return _released(stem)
