"""Grade submissions with stock, sequential `nbgrader autograde` in a scratch course.

Used by the tests (planted mistakes, untouched release, source = full marks) and as
the baseline that faster grading is compared against.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from .channels import CLIENT_CLASS
from .course import ASSIGNMENT, HELPER_PACKAGE, REPO
from .nbgrader_run import run_nbgrader
from .student import cell_messages


@dataclass
class CellResult:
    """One graded test cell of one submitted notebook."""

    grade_id: str
    score: float
    max_score: float
    message: str


@dataclass
class NotebookResult:
    """One student's notebook: its score and each graded cell's result."""

    student: str
    notebook: str
    score: float
    max_score: float
    cells: dict[str, CellResult] = field(default_factory=dict)


def submit(
    root: Path, student: str, notebooks: dict[str, nbformat.NotebookNode]
) -> Path:
    """Place a student's notebooks (stem -> notebook) and the released helper."""
    folder = root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    for stem, notebook in notebooks.items():
        nbformat.write(notebook, folder / f"{stem}.ipynb")
    helper = root / "release" / ASSIGNMENT / HELPER_PACKAGE
    shutil.copytree(helper, folder / HELPER_PACKAGE, dirs_exist_ok=True)
    return folder


# Stock nbgrader with the grader's fix for nbclient issue #312 (grader.channels).
SLICED_SHELL = f"--AsyncKernelManager.client_class={CLIENT_CLASS}"


def autograde(root: Path, timeout: float = 3600, sliced_shell: bool = False) -> str:
    """Run `nbgrader autograde` for every submitted student; return nbgrader's log.

    sliced_shell: give nbgrader's kernels grader.channels' shell channel, so that
    nbclient's lost-reply stalls count for neither side of a speed comparison."""
    extra = [SLICED_SHELL] if sliced_shell else []
    return run_nbgrader(
        root, "autograde", ASSIGNMENT, "--force", *extra, timeout=timeout,
        importable=REPO if sliced_shell else None,
    )  # fmt: skip


def results(root: Path, student: str) -> dict[str, NotebookResult]:
    """The gradebook's results for one student: notebook stem -> NotebookResult."""
    found: dict[str, NotebookResult] = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        assignment = gradebook.find_assignment(ASSIGNMENT)
        for notebook in assignment.notebooks:
            try:
                submitted = gradebook.find_submission_notebook(
                    notebook.name, ASSIGNMENT, student
                )
            except MissingEntry:
                continue
            autograded = root / "autograded" / student / ASSIGNMENT
            messages = cell_messages(autograded / f"{notebook.name}.ipynb")
            result = NotebookResult(
                student, notebook.name, submitted.score, submitted.max_score
            )
            for grade in submitted.grades:
                result.cells[grade.name] = CellResult(
                    grade.name,
                    grade.score,
                    grade.max_score,
                    messages.get(grade.name, ""),
                )
            found[notebook.name] = result
    return found
