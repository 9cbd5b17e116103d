"""The OUT folder: an nbgrader course the grader fills, one student at a time.

OUT is an nbgrader course folder (nbgrader_config.py, source/, gradebook.db,
submitted/, autograded/) so nbgrader's own export and formgrader work there, plus
grades.csv, tests.csv, report.html and feedback/<student>/<notebook>.html. The
grader's bookkeeping lives in OUT/.grader/: the course as graded (config, source,
an empty gradebook), per-student state, and nbgrader's log of each student.
The grading command is the only process that writes here.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

from ..authoring.release import make_course
from ..course import CONFIG_NAME, Course
from ..files import write_atomically
from .bundle import CourseBundle
from .student import GRADEBOOK_TEMPLATE, StudentOutcome, log_path

# Bump when a change to the grader changes grades: every student is graded again.
GRADER_VERSION = "1"

# Appended to the course config in OUT, where nbgrader's own commands are run too.
OUT_CONFIG = """
# Added by python -m grader: `nbgrader export` here must not overwrite the grader's
# grades.csv (which has one row per student and notebook).
c.ExportPlugin.to = "nbgrader_export.csv"
"""
STEPS = ("submitted", "autograded")


class OutFolder:
    """Paths of OUT, and the writes the grading command makes there."""

    def __init__(self, out: Path) -> None:
        self.root = out
        self.bookkeeping = out / ".grader"
        self.course = self.bookkeeping / "course"
        self.state = self.bookkeeping / "state"
        self.gradebook = out / "gradebook.db"

    def prepare(self, course: Course) -> CourseBundle:
        """Make OUT an nbgrader course for this assignment; the course as bytes.

        When the course changed since the last run, the gradebook and every
        student's state are rebuilt from scratch (old grades would mix two versions
        of the tests).
        """
        fingerprint = hashlib.sha256(
            (course.fingerprint() + GRADER_VERSION).encode()
        ).hexdigest()
        stamp = self.bookkeeping / "course.sha256"
        template = self.course / GRADEBOOK_TEMPLATE
        if not (
            stamp.exists() and stamp.read_text() == fingerprint and template.exists()
        ):
            self._rebuild(course)
            write_atomically(stamp, fingerprint)
        return CourseBundle.of(self.course, fingerprint)

    def _rebuild(self, course: Course) -> None:
        """A fresh course in OUT (and its copy in OUT/.grader/course)."""
        out = self.root
        for stale in ("gradebook.db", "source", "release", *STEPS):
            path = out / stale
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        shutil.rmtree(self.bookkeeping, ignore_errors=True)
        shutil.rmtree(out / "feedback", ignore_errors=True)
        with tempfile.TemporaryDirectory() as scratch:
            made = make_course(Path(scratch), course)
            self.course.mkdir(parents=True)
            shutil.copy2(made / "gradebook.db", self.course / GRADEBOOK_TEMPLATE)
            shutil.copy2(made / "gradebook.db", self.gradebook)
            shutil.copy2(course.config_file, self.course / CONFIG_NAME)
            (out / CONFIG_NAME).write_text(course.config_file.read_text() + OUT_CONFIG)
            shutil.copytree(made / "source", self.course / "source")
            shutil.copytree(made / "source", out / "source")

    def install(self, student: str, outcome: StudentOutcome | None) -> None:
        """Replace a student's files in OUT with the ones a worker sent."""
        for step in STEPS:
            shutil.rmtree(self.root / step / student, ignore_errors=True)
        shutil.rmtree(self.root / "feedback" / student, ignore_errors=True)
        if outcome is None:
            return
        for relative, content in outcome.files.items():
            target = self.root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        if outcome.log:
            write_atomically(self.root / log_path(student), outcome.log)

    def feedback(self, student: str, stem: str) -> str:
        """The feedback page of a student's notebook relative to OUT, "" if none."""
        page = self.root / "feedback" / student / f"{stem}.html"
        return str(page.relative_to(self.root)) if page.exists() else ""
