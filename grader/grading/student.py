"""Grade one student: the per-student stage, wherever it runs.

A StudentJob holds everything needed (the student's normalized notebooks, the
limits, the course as bytes) and grade_student returns a StudentOutcome that is data
only (grades, the files for OUT, the gradebook's scores, nbgrader's log), so the
stage runs the same in a local worker process or on a Dask worker elsewhere. Each
student is graded in a private nbgrader course in a temporary folder, with its own
copy of the gradebook (nbgrader's SQLite gradebook is not safe for concurrent
writers), and its kernels in one StudentSandbox (grader.kernel).
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from sqlalchemy.exc import SAWarning
from traitlets.config import Config

from ..course import ASSIGNMENT, CONFIG_NAME, Course
from ..files import tree_files
from ..intake.collect import Submission
from ..intake.repair import CleanNotebooks, clean_notebooks
from ..kernel.probe import sandbox_problem
from ..kernel.sandbox import StudentSandbox
from ..model import Limits, NotebookGrade, Scores, Status
from ..nbx.config import grading_config
from ..nbx.grades import add_notes, gradebook_scores, notebook_grade
from ..nbx.status import read_record
from ..nbx.student_index import student_index
from ..output.pages import index_path
from .bundle import CourseBundle

GRADEBOOK_TEMPLATE = "gradebook.template.db"
NOT_HANDED_IN = "no file for this notebook was found"


def log_path(student: str) -> str:
    """Where nbgrader's log of a student is kept, relative to OUT."""
    return f".grader/logs/{student}.log"


@dataclass
class StudentJob:
    """What a worker needs to grade one student (the course comes with the job or,
    sent once per worker, as grade_student's `bundle`)."""

    student: str
    submissions: list[Submission]  # the student's files as handed in
    limits: Limits = field(default_factory=Limits)
    sandbox: bool = False  # run kernels in bubblewrap (grader.kernel)
    fork: bool = True  # fork them from a warm server per student
    # --sandbox auto on a cluster: a worker without a working sandbox grades
    # without it (the outcome says so) instead of failing.
    sandbox_fallback: bool = False
    bundle: CourseBundle | None = None


@dataclass
class StudentOutcome:
    """A worker's answer: one grade per notebook handed in, and what goes to OUT."""

    student: str
    grades: list[NotebookGrade]
    files: dict[str, bytes]  # path relative to OUT -> content
    scores: Scores  # the gradebook's (notebook, grade_id) -> scores
    log: str = ""  # what nbgrader logged
    sandboxed: bool = False  # whether its kernels ran in the sandbox


def grade_student(
    job: StudentJob, bundle: CourseBundle | None = None, scratch: str | None = None
) -> StudentOutcome:
    """Clean the student's files, then autograde and make feedback for them in a
    private course (a temporary folder, in `scratch` when given)."""
    bundle = bundle or job.bundle
    if bundle is None:
        raise ValueError("grade_student needs the course: in the job or as `bundle`")
    course_root = bundle.folder(scratch)
    course = Course(course_root)
    clean = clean_notebooks(job.student, job.submissions, course)
    sandbox = job.sandbox and not (job.sandbox_fallback and sandbox_problem())
    if not clean.notebooks:
        outcome = StudentOutcome(job.student, clean.ungraded, {}, {})
    else:
        with tempfile.TemporaryDirectory(prefix="grader-student-", dir=scratch) as temp:
            root = _prepare(job.student, clean.notebooks, course_root, Path(temp))
            config = grading_config(root, course_root, job.limits)
            config.FeedbackPage.student_name = lms_name(job.submissions)
            with StudentSandbox(job.limits, sandbox=sandbox, fork=job.fork):
                outcome = _grade(job.student, clean, course, root, config)
        outcome.grades += clean.ungraded
    outcome.sandboxed = sandbox
    _add_index(outcome, course, lms_name(job.submissions))
    return outcome


def lms_name(submissions: list[Submission]) -> str:
    """The student's name as their LMS wrote it ("" when none did)."""
    return next((item.name for item in submissions if item.name), "")


def course_rows(
    student: str, graded: list[NotebookGrade], course: Course
) -> list[NotebookGrade]:
    """One row per notebook of the course, in order: the graded ones, the rest
    as missing."""
    by_stem = {grade.notebook: grade for grade in graded}
    return [
        by_stem.get(stem)
        or NotebookGrade.zero(
            student, stem, course.max_score(stem), Status.MISSING, NOT_HANDED_IN
        )
        for stem in course.notebooks
    ]


def _add_index(outcome: StudentOutcome, course: Course, name: str = "") -> None:
    """The student's own page (feedback/<student>/index.html) among the files."""
    student = outcome.student
    folder_prefix = f"feedback/{student}/"
    pages = {
        Path(path).stem for path in outcome.files if path.startswith(folder_prefix)
    }
    page = student_index(
        student,
        course_rows(student, outcome.grades, course),
        pages,
        course,
        name,
    )
    outcome.files[index_path(student)] = page.encode("utf-8")


def _prepare(
    student: str, notebooks: dict[str, str], course_folder: Path, root: Path
) -> Path:
    """Lay out the private course: config, source, gradebook, submitted notebooks."""
    shutil.copy2(course_folder / CONFIG_NAME, root / CONFIG_NAME)
    shutil.copytree(course_folder / "source", root / "source")
    shutil.copy2(course_folder / GRADEBOOK_TEMPLATE, root / "gradebook.db")
    submitted = root / "submitted" / student / ASSIGNMENT
    submitted.mkdir(parents=True)
    for stem, text in notebooks.items():
        (submitted / f"{stem}.ipynb").write_text(text, encoding="utf-8")
    return root


def _grade(
    student: str, clean: CleanNotebooks, course: Course, root: Path, config: Config
) -> StudentOutcome:
    """Autograde, then make feedback, in the private course at root."""
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    # nbgrader's gradebook trips SQLAlchemy 2's backref-cascade warning; harmless.
    warnings.simplefilter("ignore", SAWarning)
    result = api.autograde(ASSIGNMENT, student, force=True, create=True)
    log = result.get("log", "") + result.get("error", "")
    autograded = root / "autograded" / student / ASSIGNMENT
    grades = []
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        for stem in clean.notebooks:
            run = read_record(root / "status", stem)
            grade = run and notebook_grade(
                gradebook, ASSIGNMENT, student, stem, autograded, run
            )
            if grade is None:
                grades.append(_failed(clean, course, stem, log))
                continue
            changes = clean.changes.get(stem, [])
            grade.detail = "; ".join(filter(None, [grade.detail, *changes]))
            grade.source = clean.sources.get(stem, "")
            grades.append(grade)
            why = (
                [f"{run.detail} (status: {run.status})"]
                if run.status != Status.OK and run.detail
                else []
            )
            add_notes(autograded / f"{stem}.ipynb", [*why, *changes], run.findings)
        scores = gradebook_scores(gradebook, ASSIGNMENT, student)
    if any(grade.status != Status.GRADER_ERROR for grade in grades):
        feedback = api.generate_feedback(ASSIGNMENT, student, force=True)
        log += feedback.get("log", "") + feedback.get("error", "")
    if not result.get("success", False) and all(g.status == Status.OK for g in grades):
        log += "\nnbgrader reported a failure but every notebook has a grade."
    return StudentOutcome(student, grades, _files(root, student), scores, log)


def _failed(
    clean: CleanNotebooks, course: Course, stem: str, log: str
) -> NotebookGrade:
    """A zero for a notebook nbgrader itself failed on, with the last error it
    logged (the cause, compared between attempts)."""
    errors = [
        line.strip()
        for line in log.splitlines()
        if "ERROR" in line or "Error" in line or "Exception" in line
    ]
    cause = f": {errors[-1][:200]}" if errors else ""
    return NotebookGrade(
        clean.student, stem, 0.0, course.max_score(stem), Status.GRADER_ERROR,
        f"nbgrader could not grade this file{cause} (its log: "
        f"{log_path(clean.student)})", clean.sources.get(stem, ""),
    )  # fmt: skip


def _files(root: Path, student: str) -> dict[str, bytes]:
    """What goes to OUT: submitted/ and autograded/ of the student, and the feedback
    pages as OUT/feedback/<student>/<notebook>.html."""
    files = {}
    for step in ("submitted", "autograded"):
        for relative, path in tree_files(root / step / student):
            files[f"{step}/{student}/{relative}"] = path.read_bytes()
    for page in sorted((root / "feedback" / student / ASSIGNMENT).glob("*.html")):
        files[f"feedback/{student}/{page.name}"] = page.read_bytes()
    return files
