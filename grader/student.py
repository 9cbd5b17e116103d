"""Grade one student in a private nbgrader course: autograde, then feedback.

Each worker process grades whole students, each in its own course folder with its own
copy of the gradebook, because nbgrader's SQLite gradebook is not safe for concurrent
writers. The main process merges the results into the class gradebook afterwards.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)
from sqlalchemy.exc import SAWarning
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from . import forkserver
from .course import ASSIGNMENT, notebook_points
from .execute import ResilientExecute, status_path
from .feedback import ShortenTestTracebacks
from .results import GRADER_ERROR, OK, NotebookGrade, TestResult
from .sandbox import MB


@dataclass
class Limits:
    """What running one notebook may use (README: "Sandbox and limits").

    The course's notebooks need about 2 s of CPU, 400 MB of address space (115 MB
    resident), 14 threads and 200 KB of output each; the defaults leave wide room.
    """

    cell_timeout: int = 120  # s of wall time per cell (then it is interrupted)
    notebook_timeout: int = 600  # s of wall time per notebook (then it is killed)
    # Above the cell limit, so an endless loop is stopped as a cell timeout (later
    # cells still run); it stops kernels that burn CPU across many cells or in
    # processes they start (each process has this limit).
    cpu_seconds: int = 300
    memory_mb: int = 2048  # address space of each kernel process
    processes: int = 64  # processes and threads in the sandbox
    output_mb: int = 5  # output of one notebook, as the grader receives it
    file_mb: int = 64  # largest file; size of the in-memory /tmp and scratch layer


@dataclass
class StudentJob:
    """What a worker needs to grade one student."""

    student: str
    course: Path  # the class course folder (config, source, gradebook template)
    workdir: Path  # a private, empty-able folder for this student's nbgrader course
    notebooks: dict[str, str]  # stem -> normalized notebook JSON
    sources: dict[str, str]  # stem -> where the file came from
    notes: dict[str, list[str]] = field(default_factory=dict)  # stem -> repairs made
    limits: Limits = field(default_factory=Limits)
    sandbox: bool = False  # run kernels in bubblewrap (grader.sandbox)
    fork_kernels: bool = True  # fork them from a warm server (grader.forkserver)


@dataclass
class StudentOutcome:
    """A worker's answer: one grade per notebook it graded, and where its files are."""

    student: str
    grades: list[NotebookGrade]
    workdir: Path
    log: str = ""


def grading_config(
    root: Path,
    course_config: Path,
    limits: Limits,
    sandbox: bool = False,
    sockets: Path | None = None,
) -> Config:
    """The course's nbgrader config, pointed at root, with the grader's pipeline;
    kernels' Unix sockets go in sockets (default root/ipc)."""
    config = PyFileConfigLoader(
        course_config.name, str(course_config.parent)
    ).load_config()
    config.CourseDirectory.root = str(root)
    config.Autograde.autograde_preprocessors = [
        ResilientExecute,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
    # Deleted cells are restored before nbgrader runs (grade.repair_cells): nbgrader
    # 0.9's add_missing_cells fails after read-only cells and on de-duplicated ones.
    config.OverwriteCells.add_missing_cells = False
    config.ResilientExecute.timeout = limits.cell_timeout
    config.ResilientExecute.notebook_timeout = limits.notebook_timeout
    config.ResilientExecute.status_dir = str(root / "status")
    # Graded tests run here, not in the student's kernel (grader/trusted_tests.py).
    source = course_config.parent / "source" / ASSIGNMENT
    config.ResilientExecute.trusted_source = str(source)
    # The notebook has run: stop its kernel at once instead of waiting for it.
    config.ResilientExecute.shutdown_kernel = "immediate"
    # Feedback shows each hidden test's message, not its code.
    config.GenerateFeedback.preprocessors = [
        GetGrades,
        ClearHiddenTests,
        ShortenTestTracebacks,
        CSSHTMLHeaderPreprocessor,
    ]
    # Unix sockets, not TCP ports, between kernel and grader.
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = str((sockets or root / "ipc") / "kernel")
    # The kernel's sandbox and limits (ResilientExecute uses LimitedKernelManager).
    config.ResilientExecute.output_limit = limits.output_mb * MB
    config.LimitedKernelManager.sandbox = sandbox
    config.LimitedKernelManager.cpu_seconds = limits.cpu_seconds
    config.LimitedKernelManager.memory_mb = limits.memory_mb
    config.LimitedKernelManager.processes = limits.processes
    config.LimitedKernelManager.disk_mb = limits.file_mb
    return config


def _prepare(job: StudentJob) -> Path:
    """Lay out the private course: config, source, gradebook, submitted notebooks."""
    root = job.workdir
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    shutil.copy2(job.course / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(job.course / "source", root / "source")
    shutil.copy2(job.course / "gradebook.template.db", root / "gradebook.db")
    submitted = root / "submitted" / job.student / ASSIGNMENT
    submitted.mkdir(parents=True)
    for stem, text in job.notebooks.items():
        (submitted / f"{stem}.ipynb").write_text(text, encoding="utf-8")
    return root


def cell_messages(autograded: Path) -> dict[str, str]:
    """grade_id -> what that graded cell printed or raised in the autograded file."""
    if not autograded.exists():
        return {}
    notebook = nbformat.read(autograded, as_version=4)
    found = {}
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type != "code" or not grade_id:
            continue
        parts = [
            output.text
            if output.output_type == "stream"
            else f"{output.ename}: {output.evalue}"
            for output in cell.get("outputs", [])
            if output.output_type in ("stream", "error")
        ]
        found[grade_id] = "".join(parts).strip()
    return found


def _add_notes(autograded: Path, notes: list[str]) -> None:
    """Put the grader's notes (repairs made to the file) on top of the notebook."""
    if not notes or not autograded.exists():
        return
    notebook = nbformat.read(autograded, as_version=4)
    text = "**Notes from the grader**\n\n" + "\n".join(f"- {note}" for note in notes)
    notebook.cells.insert(0, nbformat.v4.new_markdown_cell(text))
    nbformat.write(notebook, autograded)


def _run_notes(root: Path, stem: str) -> list[str]:
    """Why a notebook's run stopped early (a limit, a crash), for its feedback."""
    path = status_path(root / "status", stem)
    if not path.exists():
        return []
    run = json.loads(path.read_text())
    if run["status"] == OK or not run["detail"]:
        return []
    return [f"{run['detail']} (status: {run['status']})"]


def _read_grades(job: StudentJob, root: Path) -> list[NotebookGrade]:
    """One NotebookGrade per submitted notebook, from the private gradebook."""
    grades = []
    autograded = root / "autograded" / job.student / ASSIGNMENT
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        for stem in job.notebooks:
            status_file = status_path(root / "status", stem)
            try:
                notebook = gradebook.find_submission_notebook(
                    stem, ASSIGNMENT, job.student
                )
            except MissingEntry:
                notebook = None
            if notebook is None or not status_file.exists():
                grades.append(_failed(job, stem, "nbgrader could not grade this file"))
                continue
            run = json.loads(status_file.read_text())
            messages = cell_messages(autograded / f"{stem}.ipynb")
            order = {grade_id: index for index, grade_id in enumerate(messages)}
            tests = [
                TestResult(
                    grade.name,
                    float(grade.score),
                    float(grade.max_score),
                    ""
                    if grade.score >= grade.max_score
                    else messages.get(grade.name, ""),
                )
                for grade in sorted(notebook.grades, key=lambda g: order.get(g.name, 0))
            ]
            notes = job.notes.get(stem, [])
            detail = "; ".join(filter(None, [run["detail"], *notes]))
            grades.append(
                NotebookGrade(
                    job.student,
                    stem,
                    float(notebook.score),
                    float(notebook.max_score),
                    run["status"],
                    detail,
                    job.sources.get(stem, ""),
                    tests=tests,
                )
            )
    return grades


def _failed(job: StudentJob, stem: str, detail: str) -> NotebookGrade:
    """A zero for a notebook nbgrader itself failed on."""
    source = job.sources.get(stem, "")
    points = notebook_points(stem)
    return NotebookGrade(job.student, stem, 0.0, points, GRADER_ERROR, detail, source)


def grade_student(job: StudentJob) -> StudentOutcome:
    """Autograde and make feedback for one student in a private course (worker side)."""
    root = _prepare(job)
    # Unix socket paths must stay under 108 bytes: OUT may be deep, the temp dir is not.
    with tempfile.TemporaryDirectory(prefix="grader-kernels-") as scratch:
        sockets = Path(scratch) / "ipc"
        sockets.mkdir()
        config = grading_config(
            root, job.course / "nbgrader_config.py", job.limits, job.sandbox, sockets
        )
        config.LimitedKernelManager.fork_kernels = job.fork_kernels
        # One fork server for this student's kernels, stopped however grading ends.
        with forkserver.session():
            return _grade(job, root, config)


def _grade(job: StudentJob, root: Path, config: Config) -> StudentOutcome:
    """Autograde, then make feedback, in the private course at root."""
    coursedir = CourseDirectory(config=config)
    api = NbGraderAPI(coursedir=coursedir, config=config)
    # nbgrader's gradebook trips SQLAlchemy 2's backref-cascade warning; harmless.
    warnings.simplefilter("ignore", SAWarning)
    result = api.autograde(ASSIGNMENT, job.student, force=True, create=True)
    log = result.get("log", "") + result.get("error", "")
    grades = _read_grades(job, root)
    autograded = root / "autograded" / job.student / ASSIGNMENT
    for stem in job.notebooks:
        notes = [*_run_notes(root, stem), *job.notes.get(stem, [])]
        _add_notes(autograded / f"{stem}.ipynb", notes)
    if any(grade.status != GRADER_ERROR for grade in grades):
        feedback = api.generate_feedback(ASSIGNMENT, job.student, force=True)
        log += feedback.get("log", "") + feedback.get("error", "")
    if not result.get("success", False) and all(g.status == OK for g in grades):
        log += "\nnbgrader reported a failure but every notebook has a grade."
    return StudentOutcome(job.student, grades, root, log)
