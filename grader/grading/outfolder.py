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
import os
import posixpath
import shutil
import tempfile
import uuid
from pathlib import Path

from ..authoring.prepared import make_course
from ..course import ASSIGNMENT, CONFIG_NAME, Course
from ..files import write_atomically
from ..model import InputError
from ..student_text import LOG, safe_text
from .bundle import CourseBundle
from .gradebook import (
    claim_database,
    copy_gradebook,
    hide_password,
    sqlite_url,
    without_password,
)
from .lock import OutLock
from .student import GRADEBOOK_TEMPLATE, StudentOutcome, log_path

# Bump when a change to the grader changes grades: every student is graded again.
# 2: the course in OUT/.grader/course has its release (workers repair notebooks).
# 3: feedback pages rewritten (math as MathML, a tenth of the weight) and a page
#    per student (feedback/<student>/index.html): every student's are made anew.
GRADER_VERSION = "3"

# Appended to the course config in OUT, where nbgrader's own commands are run too.
OUT_CONFIG = """
# Added by python -m grader: `nbgrader export` here must not overwrite the grader's
# grades.csv (which has one row per student and notebook).
c.ExportPlugin.to = "nbgrader_export.csv"
"""
# With --db: nbgrader's own commands in OUT (export, formgrader) use that database,
# its password never written here.
DB_CONFIG = """
# Added by python -m grader (--db): the class gradebook is in this database. Its
# password is not kept here: PostgreSQL reads it from ~/.pgpass or $PGPASSFILE, or
# set GRADER_DB_URL to the whole URL (as given to --db) before running nbgrader.
import os

c.CourseDirectory.db_url = os.environ.get("GRADER_DB_URL") or {url}
"""
STEPS = ("submitted", "autograded")
# Where a student's files go in OUT: <folder>/<student>/..., nowhere else.
STUDENT_FOLDERS = (*STEPS, "feedback")
# OUT/.grader/MARK says the folder is the grader's: the only kind it rewrites.
MARK = "made-by-python-m-grader"
MARK_TEXT = (
    "This folder is the output of `python -m grader grade`, which rewrites it on\n"
    "every run (source/, submitted/, autograded/, feedback/, the gradebook).\n"
)


class UnsafePath(ValueError):
    """A path for a student's file that is not under that student's own folders
    of OUT (the message says why)."""


def check_student_path(student: str, relative: str) -> None:
    """UnsafePath unless `relative` is a normalized relative path under one of
    the student's own folders of OUT (<submitted|autograded|feedback>/<student>/
    ...): no absolute path, no '..' or '.', no empty part, no NUL."""
    parts = relative.split("/")
    if (
        not relative
        or "\0" in relative
        or relative.startswith("/")
        or posixpath.normpath(relative) != relative
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise UnsafePath(f"{relative[:200]!r} is not a plain relative path")
    if len(parts) < 3 or parts[0] not in STUDENT_FOLDERS or parts[1] != student:
        raise UnsafePath(
            f"{relative[:200]!r} is not under {student}'s own folders of OUT "
            f"({', '.join(f'{folder}/{student}/' for folder in STUDENT_FOLDERS)})"
        )


class OutFolder:
    """Paths of OUT, and the writes the grading command makes there."""

    def __init__(self, out: Path) -> None:
        self.root = out
        self.bookkeeping = out / ".grader"
        self.course_folder = self.bookkeeping / "course"  # the course as graded
        self.state = self.bookkeeping / "state"
        self.gradebook = out / "gradebook.db"
        self.db_url = sqlite_url(self.gradebook)  # prepare() sets the one in use

    def check_place(self, submissions: Path) -> None:
        """InputError unless OUT may be written: apart from SUBMISSIONS, and either
        new, empty or made by the grader (anything else, such as a course folder,
        would have its release/, source/ and config replaced)."""
        out, inputs = self.root.resolve(), Path(submissions).resolve()
        if out == inputs or inputs in out.parents:
            raise InputError(
                f"--out {self.root} is inside the submissions folder {submissions}: "
                "the grader would read its own output as submissions. Choose an "
                "OUT folder outside SUBMISSIONS."
            )
        if out in inputs.parents:
            raise InputError(
                f"the submissions folder {submissions} is inside --out {self.root}, "
                "which the grader rewrites. Move the submissions out of it, or "
                "choose another OUT folder."
            )
        if out.exists() and not out.is_dir():
            raise InputError(f"--out {self.root} is a file, not a folder")
        entries = {entry.name for entry in out.iterdir()} if out.is_dir() else set()
        if entries - {".grader"} and not self._is_graders():
            raise InputError(
                f"--out {self.root} is a folder with files that the grader did not "
                "make (it rewrites source/, release/, nbgrader_config.py and the "
                "gradebook in OUT). Give a new or empty folder, or one a previous "
                "`python -m grader grade` made."
            )

    def _is_graders(self) -> bool:
        """Made by the grader: its mark, or (older grader versions) its stamp."""
        return (self.bookkeeping / MARK).is_file() or (
            self.bookkeeping / "course.sha256"
        ).is_file()

    def claim(self) -> OutLock:
        """Make OUT (marked as the grader's) and take its lock, or raise: InputError
        when OUT cannot be written, OutInUse when another run holds it."""
        lock = OutLock(self.bookkeeping / "lock")
        try:
            self.bookkeeping.mkdir(parents=True, exist_ok=True)
            lock.acquire()
        except OSError as error:
            raise InputError(
                f"cannot write to --out {self.root}: "
                f"{error.strerror or error} ({error.filename or self.root}). "
                "OUT must be a folder the grader can write."
            ) from None
        try:
            if not (self.bookkeeping / MARK).is_file():
                write_atomically(self.bookkeeping / MARK, MARK_TEXT)
            probe = self.root / f".grader-write-check-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            lock.release()
            raise InputError(
                f"cannot write to --out {self.root}: {error.strerror or error}. "
                "OUT must be a folder the grader can write."
            ) from None
        return lock

    def prepare(
        self, course: Course, db: str | None = None, *, rebuild: bool = True
    ) -> CourseBundle:
        """Make OUT an nbgrader course for this assignment, its gradebook in `db`
        (a database URL; default OUT/gradebook.db); the course as bytes.

        When the course changed since the last run, the gradebook and every
        student's state are rebuilt from scratch (old grades would mix two versions
        of the tests); so are they when the gradebook moves to another database.
        rebuild False (--outputs-only): InputError instead of either.
        """
        fingerprint = hashlib.sha256(
            (course.fingerprint() + GRADER_VERSION).encode()
        ).hexdigest()
        stamp = self.bookkeeping / "course.sha256"
        template = self.course_folder / GRADEBOOK_TEMPLATE
        where = hashlib.sha256(
            (fingerprint + (hide_password(db) if db else "OUT/gradebook.db")).encode()
        ).hexdigest()
        db_stamp = self.bookkeeping / "gradebook.sha256"
        current = (
            stamp.exists() and stamp.read_text() == fingerprint and template.exists()
        )
        if not rebuild and not (
            current and db_stamp.exists() and db_stamp.read_text() == where
        ):
            raise InputError(
                f"--outputs-only: {self.root} was not graded with this course and "
                "gradebook (the course changed, --db differs, or nobody was graded "
                "there yet); run the grade command without --outputs-only"
            )
        if not current:
            self._rebuild(course)
            write_atomically(stamp, fingerprint)
        if not (self.bookkeeping / MARK).is_file():
            write_atomically(self.bookkeeping / MARK, MARK_TEXT)
        self.db_url = db or sqlite_url(self.gradebook)
        # OUT's own gradebook is named as such, so that a moved OUT keeps its state;
        # a database by its URL without the password (never kept in OUT).
        same = db_stamp.exists() and db_stamp.read_text() == where
        owner = {"out_id": self._out_id(), "out": str(self.root)}
        if db is not None:  # one OUT's class per database
            claim_database(db, owner, adopt=same)
        if not same:
            if db is None:
                self.gradebook.unlink(missing_ok=True)
                _private_file(self.gradebook)
            copy_gradebook(sqlite_url(template), self.db_url, owner)
            shutil.rmtree(self.state, ignore_errors=True)  # no student is in it yet
            write_atomically(db_stamp, where)
        if db is None:
            os.chmod(self.gradebook, 0o600)  # it holds grades (OUTs made before too)
        config = course.config_file.read_text() + OUT_CONFIG
        if db is not None:
            config += DB_CONFIG.format(url=repr(without_password(db)))
        path = self.root / CONFIG_NAME
        if not path.exists() or path.read_text() != config:
            write_atomically(path, config)
        return CourseBundle.of(self.course_folder, fingerprint)

    def _out_id(self) -> str:
        """This OUT's own id (made once, kept when OUT moves): what a database
        records as the OUT whose class it holds."""
        path = self.bookkeeping / "out-id"
        if not path.is_file():
            write_atomically(path, uuid.uuid4().hex)
        return path.read_text().strip()

    def _rebuild(self, course: Course) -> None:
        """A fresh course in OUT (and its copy in OUT/.grader/course)."""
        out = self.root
        for stale in ("gradebook.db", "source", "release", *STEPS):
            path = out / stale
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        # The bookkeeping but its mark and the lock this run holds.
        for stale in ("course", "state", "logs", "gradebook.sha256"):
            path = self.bookkeeping / stale
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        shutil.rmtree(out / "feedback", ignore_errors=True)
        with tempfile.TemporaryDirectory() as scratch:
            made = make_course(Path(scratch), course)
            self.course_folder.mkdir(parents=True)
            shutil.copy2(made / "gradebook.db", self.course_folder / GRADEBOOK_TEMPLATE)
            shutil.copy2(course.config_file, self.course_folder / CONFIG_NAME)
            shutil.copytree(made / "source", self.course_folder / "source")
            shutil.copytree(made / "release", self.course_folder / "release")
            shutil.copytree(made / "source", out / "source")

    def install(self, student: str, outcome: StudentOutcome | None) -> None:
        """Replace a student's files in OUT with the ones a worker sent: each under
        the student's own folders (UnsafePath otherwise, before anything is
        written), readable by the owner only (they hold grades), never through a
        link."""
        if outcome is not None:
            for relative in outcome.files:
                check_student_path(student, relative)
        for folder in STUDENT_FOLDERS:
            if (self.root / folder).is_symlink():
                raise UnsafePath(f"OUT/{folder} is a link; OUT is the grader's alone")
            shutil.rmtree(self.root / folder / student, ignore_errors=True)
        if outcome is None:
            return
        root = str(self.root)
        made: set[str] = set()
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
        for relative, content in outcome.files.items():
            target = os.path.join(root, relative)
            folder = os.path.dirname(target)
            if folder not in made:  # one mkdir per folder, not per file
                os.makedirs(folder, exist_ok=True)
                made.add(folder)
            with open(os.open(target, flags, 0o600), "wb") as file:
                file.write(content)
        if outcome.log:
            log = safe_text(outcome.log, LOG)  # student text: an instructor reads it
            write_atomically(self.root / log_path(student), log)

    def submitted(self, student: str, stem: str) -> Path:
        """Where a student's notebook as handed in (and cleaned) is kept in OUT."""
        return self.root / "submitted" / student / ASSIGNMENT / f"{stem}.ipynb"

    def feedback(self, student: str, stem: str) -> str:
        """The feedback page of a student's notebook relative to OUT, "" if none."""
        page = self.root / "feedback" / student / f"{stem}.html"
        return str(page.relative_to(self.root)) if page.exists() else ""


def _private_file(path: Path) -> None:
    """An empty file readable by its owner only (SQLite then writes into it)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600))
