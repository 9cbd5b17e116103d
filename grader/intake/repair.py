"""A student's handed-in files made gradeable: normalized, checked, repaired.

Each file is normalized (grader.intake.normalize); a notebook that has none of its
own answer or test cells is another notebook handed in under this one's name; deleted
nbgrader cells are restored and duplicated ones de-duplicated.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field

import nbformat

from ..course import Course, Notebook, grade_id
from ..model import NotebookGrade, Status
from .collect import Submission
from .normalize import UnreadableNotebook, normalize


@dataclass
class CleanNotebooks:
    """One student's gradeable notebooks, and the rows of the files that are not."""

    student: str
    notebooks: dict[str, str] = field(default_factory=dict)  # stem -> notebook JSON
    sources: dict[str, str] = field(default_factory=dict)  # stem -> file it came from
    changes: dict[str, list[str]] = field(default_factory=dict)  # stem -> what was done
    ungraded: list[NotebookGrade] = field(default_factory=list)

    def refuse(
        self, item: Submission, course: Course, status: Status, detail: str
    ) -> None:
        """A file that cannot be graded: a row worth nothing, saying why."""
        stem = item.notebook
        row = NotebookGrade.zero(
            self.student, stem, course.max_score(stem), status, detail, item.source
        )
        self.ungraded.append(row)


def clean_notebooks(
    student: str, submissions: list[Submission], course: Course
) -> CleanNotebooks:
    """Normalize and repair a student's files; refuse unreadable and wrong ones."""
    clean = CleanNotebooks(student)
    for item in submissions:
        stem = item.notebook
        try:
            normalized = normalize(item.content, item.source)
        except UnreadableNotebook as error:
            clean.refuse(item, course, Status.UNREADABLE, str(error))
            continue
        notebook = course.notebook(stem)
        stripped = strip_foreign_metadata(normalized.notebook, notebook)
        ids = {grade_id(cell) for cell in normalized.notebook.cells}
        if not ids & notebook.own_ids:
            detail = (
                f"none of the answer or test cells of {stem} are in this file: "
                "another notebook?"
            )
            clean.refuse(item, course, Status.WRONG_ASSIGNMENT, detail)
            continue
        repairs = repair_cells(normalized.notebook, notebook)
        clean.sources[stem] = item.source
        clean.notebooks[stem] = nbformat.writes(normalized.notebook)
        clean.changes[stem] = [*normalized.changes, *stripped, *repairs]
    return clean


def strip_foreign_metadata(
    notebook: nbformat.NotebookNode, course_notebook: Notebook
) -> list[str]:
    """Remove nbgrader metadata the course did not write, in place; what was done.

    A cell whose grade_id is none of the released notebook's (or whose nbgrader
    metadata is not even a dict) is the student's own: it runs as a plain cell,
    worth nothing. nbgrader would fail the whole notebook on a graded cell its
    gradebook does not know: the student's 0 became a grader_error, retried on
    every run. The notebook's own "grader" metadata (where the grader keeps its
    notes and findings, grader.nbx.grades) is the grader's alone: removed too."""
    notebook.metadata.pop("grader", None)
    course_ids = {grade_id(cell) for cell in course_notebook.released.cells}
    course_ids -= {"", None}
    foreign = [
        cell
        for cell in notebook.cells
        if "nbgrader" in cell.metadata
        and not (
            isinstance(cell.metadata["nbgrader"], dict) and grade_id(cell) in course_ids
        )
    ]
    for cell in foreign:
        del cell.metadata["nbgrader"]
    if not foreign:
        return []
    cells = "1 cell that is" if len(foreign) == 1 else f"{len(foreign)} cells that are"
    return [
        f"nbgrader metadata was removed from {cells} not the course's (a cell of "
        "your own runs, but is not graded)"
    ]


def repair_cells(
    notebook: nbformat.NotebookNode, course_notebook: Notebook
) -> list[str]:
    """Restore deleted nbgrader cells and de-duplicate copied ones, in place.

    A deleted cell comes back as released, after the nearest cell that precedes it in
    the release; nbgrader then refills test and read-only cells from the gradebook. Of
    cells sharing one grade_id, the first keeps it (nbgrader's DeduplicateIds rule);
    the copies stay as plain cells. Returns what was done, in words.
    """
    changes = []
    released = course_notebook.released.cells
    seen: set[str] = set()
    duplicated: list[str] = []
    for cell in notebook.cells:
        name = grade_id(cell)
        if name in seen:
            del cell.metadata["nbgrader"]
            duplicated.append(name)
        elif name:
            seen.add(name)
    if duplicated:
        names = ", ".join(sorted(set(duplicated)))
        changes.append(
            f"duplicated cells were de-duplicated: {names} (the first copy keeps "
            "its nbgrader id; every copy still runs)"
        )
    restored = []
    for position, cell in enumerate(released):
        name = grade_id(cell)
        if not name or name in seen:
            continue
        earlier = {grade_id(c) for c in released[:position]}
        index = 0
        for current, existing in enumerate(notebook.cells):
            if grade_id(existing) in earlier:
                index = current + 1
        copy = deepcopy(cell)
        copy.id = nbformat.v4.new_code_cell().id
        notebook.cells.insert(index, copy)
        seen.add(name)
        if name in course_notebook.own_ids:
            restored.append(name)
    if restored:
        changes.append(f"deleted graded cells were restored: {', '.join(restored)}")
    return changes
