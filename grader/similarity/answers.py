"""What counts: the code of each student's answer cells, and the course's own code
that is subtracted from it (the released template's and the answer key's).

Answer cells are the course's nbgrader solution cells, found by their grade_id in
the student's notebook; IPython magics and shell lines are dropped (not Python).
Everything here is read from a student's file: a notebook that is not JSON, cells
that are not cells, sources that are not text count as no code; each notebook's
answer code is cut to MAX_CODE_CHARS.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..course import Course, grade_id
from .winnowing import all_kgrams

MAX_CODE_CHARS = 40_000  # one student's answer code in one notebook, at most
MAX_NOTEBOOK_BYTES = 50_000_000  # a bigger file is not read


def cell_text(source: object) -> str:
    """A cell's source as text ("" when it is neither text nor a list of text)."""
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    return ""


def python_lines(text: str) -> str:
    """`text` without IPython magics and shell lines (% and ! at a line's start)."""
    return "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith(("%", "!"))
    )


def answer_code(cells: object, answer_ids: Iterable[str]) -> str:
    """The code of the answer cells among `cells` (a notebook's "cells"), in cell
    order, separated by a blank line; cut to MAX_CODE_CHARS."""
    wanted = set(answer_ids)
    if not isinstance(cells, list):
        return ""
    parts = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        metadata = cell.get("metadata")
        nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
        if not isinstance(nbgrader, dict) or nbgrader.get("grade_id") not in wanted:
            continue
        parts.append(python_lines(cell_text(cell.get("source"))))
    return "\n\n".join(parts)[:MAX_CODE_CHARS]


def notebook_answers(path: Path, answer_ids: Iterable[str]) -> str:
    """The answer code in the notebook at `path` ("" when it is missing, too big or
    not a notebook)."""
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            return ""
        notebook = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return ""
    if not isinstance(notebook, dict):
        return ""
    return answer_code(notebook.get("cells"), answer_ids)


def class_code(
    notebooks: dict[str, dict[str, Path]], course: Course
) -> dict[str, dict[str, str]]:
    """student -> {notebook: answer code} from each student's notebook files
    (`notebooks`: student -> {notebook stem: path}); notebooks without answer code
    are left out."""
    ids = {stem: list(course.notebook(stem).answers) for stem in course.notebooks}
    code: dict[str, dict[str, str]] = {}
    for student, paths in notebooks.items():
        found = {
            stem: text
            for stem, path in paths.items()
            if stem in ids and (text := notebook_answers(path, ids[stem])).strip()
        }
        code[student] = found
    return code


def course_boilerplate(course: Course) -> np.ndarray:
    """Every k-gram of the course's own code in the answer cells: the released
    template's and the answer key's, cell by cell and as a notebook's whole."""
    found = []
    for stem in course.notebooks:
        notebook = course.notebook(stem)
        texts = [python_lines(text) for text in notebook.answers.values()]
        if notebook.released is not None:
            released = [
                python_lines(cell.source)
                for cell in notebook.released.cells
                if grade_id(cell) in notebook.answers
            ]
            texts += [*released, "\n\n".join(released)]
        texts.append("\n\n".join(python_lines(t) for t in notebook.answers.values()))
        found += [all_kgrams(text) for text in texts]
    return np.unique(np.concatenate(found)) if found else np.empty(0, np.uint64)
