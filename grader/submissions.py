"""Build student submissions: the released notebook with its answer cells filled in."""

from __future__ import annotations

import copy
from functools import cache

import nbformat

from grader.course import RELEASE_DIR, SOURCE_DIR


@cache
def _read(path: str) -> nbformat.NotebookNode:
    """A notebook read once per test session (callers get copies)."""
    return nbformat.read(path, as_version=4)


def _grade_id(cell: nbformat.NotebookNode) -> str | None:
    """The cell's nbgrader grade_id, if it has one."""
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def answer_cells(stem: str) -> dict[str, str]:
    """grade_id -> the instructor's answer (solution cell source) in the source file."""
    source = _read(str(SOURCE_DIR / f"{stem}.ipynb"))
    return {
        _grade_id(cell): cell.source
        for cell in source.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


def solved(stem: str, answers: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """The released notebook with every answer cell filled in, as a student would.

    answers: grade_id -> source that replaces the instructor's answer for that cell.
    """
    notebook = copy.deepcopy(_read(str(RELEASE_DIR / f"{stem}.ipynb")))
    filled = answer_cells(stem) | (answers or {})
    unknown = set(answers or {}) - set(answer_cells(stem))
    if unknown:
        raise KeyError(f"{stem} has no answer cell {sorted(unknown)}")
    for cell in notebook.cells:
        if _grade_id(cell) in filled:
            cell.source = filled[_grade_id(cell)]
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
    return copy.deepcopy(_read(str(RELEASE_DIR / f"{stem}.ipynb")))
