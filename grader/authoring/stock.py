"""Grade submissions with stock, sequential `nbgrader autograde` in a scratch course.

The baseline the grader is compared against (tests: the mistake cases, the untouched
release, the answer key; benchmarks: speed), and the engine of `selfcheck`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from ..course import ASSIGNMENT, HELPER_PACKAGE
from ..kernel.channels import CLIENT_CLASS
from ..model import NotebookGrade, Status, TestResult
from ..nbx.grades import cell_messages
from .nbgrader_run import run_nbgrader


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


# Stock nbgrader with the grader's fix for nbclient issue #312 (grader.kernel.channels).
SLICED_SHELL = f"--AsyncKernelManager.client_class={CLIENT_CLASS}"
GRADER_PARENT = Path(__file__).resolve().parents[2]  # where `grader` is imported from


def autograde(root: Path, timeout: float = 3600, sliced_shell: bool = False) -> str:
    """Run `nbgrader autograde` for every submitted student; return nbgrader's log.

    sliced_shell: give nbgrader's kernels grader.kernel.channels' shell channel, so
    that nbclient's lost-reply stalls count for neither side of a speed comparison."""
    extra = [SLICED_SHELL] if sliced_shell else []
    return run_nbgrader(
        root, "autograde", ASSIGNMENT, "--force", *extra, timeout=timeout,
        importable=GRADER_PARENT if sliced_shell else None,
    )  # fmt: skip


def results(root: Path, student: str) -> dict[str, NotebookGrade]:
    """The gradebook's results for one student: notebook stem -> its grade."""
    found: dict[str, NotebookGrade] = {}
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
            found[notebook.name] = NotebookGrade(
                student, notebook.name, float(submitted.score),
                float(submitted.max_score), Status.OK,
                tests=[
                    TestResult(grade.name, float(grade.score), float(grade.max_score),
                               messages.get(grade.name, ""))
                    for grade in submitted.grades
                ],
            )  # fmt: skip
    return found
