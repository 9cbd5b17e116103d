"""Grading results and settings as data: statuses, grades, a class's results, limits.

Every stage speaks these types: intake reports Unmapped files, a worker returns
NotebookGrades, grading merges them into ClassResults, and output writes them out.
InputError is the one error every stage may raise about what the instructor gave.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from enum import StrEnum

MB = 2**20  # bytes in the MB of the limits and of the sizes the grader reports


class InputError(Exception):
    """What the instructor gave cannot be used (SUBMISSIONS, OUT, --pattern, --db,
    course.toml): the message says what is wrong and what to do (exit code 2)."""


class Status(StrEnum):
    """What happened to one student's notebook; each status says what it means."""

    meaning: str

    def __new__(cls, value: str, meaning: str) -> Status:
        member = str.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        return member

    OK = "ok", "graded; the score is what the tests gave"
    MISSING = "missing", "the student handed in no such notebook"
    UNREADABLE = (
        "unreadable",
        "the file is not a notebook (bad JSON, empty file, wrong format)",
    )
    WRONG_ASSIGNMENT = (
        "wrong_assignment",
        "a notebook, but none of this assignment's cells",
    )
    TIMEOUT = "timeout", "a cell or the whole notebook ran past its time limit"
    KERNEL_DIED = (
        "kernel_died",
        "the kernel crashed (os._exit, segfault, out of memory)",
    )
    CPU_LIMIT = (
        "cpu_limit",
        "the notebook used more CPU time than the limit (its kernel stopped)",
    )
    MEMORY_LIMIT = (
        "memory_limit",
        "the notebook tried to use more memory than the limit",
    )
    PROCESS_LIMIT = (
        "process_limit",
        "the notebook started more processes or threads than the limit",
    )
    OUTPUT_LIMIT = "output_limit", "the notebook printed more than the output limit"
    GRADER_ERROR = "grader_error", "nbgrader itself failed on this notebook"

    @property
    def is_limit(self) -> bool:
        """Whether a limit of the sandbox stopped the notebook's code."""
        return self in (
            Status.CPU_LIMIT,
            Status.MEMORY_LIMIT,
            Status.PROCESS_LIMIT,
            Status.OUTPUT_LIMIT,
        )


GRADES_COLUMNS = (
    "student", "notebook", "score", "max_score",
    "status", "detail", "source", "feedback", "name",
)  # fmt: skip
TESTS_COLUMNS = ("student", "notebook", "test", "points", "max_points", "message")


@dataclass
class TestResult:
    """One graded test cell of one student's notebook."""

    test: str  # the cell's nbgrader grade_id, e.g. "test_forward_values"
    points: float
    max_points: float
    message: str = ""  # what the failing test printed or raised; "" when it passed
    # What the failing test's checks found, as data the grader's trusted tests
    # recorded (grader.nbx.findings): {"found": [[key, mistake id or "", reason],
    # ...], "compared": {key: [expected, got]}, "headline": the grader's words for
    # a failure no check explains}. None when the test passed, or ran where the
    # grader cannot see its checks (stock nbgrader: the message is read instead).
    findings: dict | None = None


@dataclass
class NotebookGrade:
    """One student's result for one released notebook."""

    student: str
    notebook: str  # the released file's stem, e.g. "02_forward_propagation"
    score: float
    max_score: float
    status: Status
    detail: str = ""  # why, in words, when status is not "ok" (or what was repaired)
    source: str = ""  # the file it was graded from, as found in SUBMISSIONS
    feedback: str = ""  # path of the feedback HTML relative to OUT, "" if none
    tests: list[TestResult] = field(default_factory=list)

    @classmethod
    def zero(
        cls,
        student: str,
        notebook: str,
        max_score: float,
        status: Status,
        detail: str,
        source: str = "",
    ) -> NotebookGrade:
        """A row worth nothing: the notebook could not be graded, and why."""
        return cls(student, notebook, 0.0, max_score, status, detail, source)

    def to_row(self, name: str = "") -> dict[str, object]:
        """The grades.csv row; `name` is the student's name as their LMS wrote it
        ("" when none did)."""
        row = {**asdict(self), "name": name}
        return {column: row[column] for column in GRADES_COLUMNS}

    def test_rows(self) -> list[dict[str, object]]:
        """The tests.csv rows, one per graded test cell."""
        return [
            {
                "student": self.student,
                "notebook": self.notebook,
                "test": test.test,
                "points": test.points,
                "max_points": test.max_points,
                "message": test.message,
            }
            for test in self.tests
        ]

    def to_dict(self) -> dict:
        """Plain data (JSON-ready), the inverse of from_dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> NotebookGrade:
        """The grade that to_dict gave."""
        tests = [TestResult(**test) for test in data.get("tests", [])]
        return cls(**{**data, "status": Status(data["status"]), "tests": tests})


# A student's scores in nbgrader's gradebook: (notebook, grade_id) ->
# (auto_score, manual_score, needs_manual_grade).
Scores = dict[tuple[str, str], tuple[float | None, float | None, bool]]


@dataclass
class Unmapped:
    """An input file that could not be assigned to a (student, notebook)."""

    source: str  # as found in SUBMISSIONS, e.g. "bulk.zip:readme.txt"
    reason: str
    # a file that may be a student's work, not graded for a reason the instructor
    # must check: two ids that would be merged into one student, or a dropped copy
    # that is not plainly an older one of the same student's (the summary and the
    # report list these first)
    conflict: bool = False


@dataclass(frozen=True)
class Identity:
    """Who a student is in the LMS their files were downloaded from: what that
    LMS's grade import matches on (README: "Grades back into the LMS"), the name
    it knows them by, and when they handed in."""

    lms: str  # "moodle", "canvas" or "blackboard"
    # Moodle's participant id, Canvas's user id (or anonymous id, "anon_…"),
    # Blackboard's user name: an id within its LMS only
    lms_id: str
    # the name the LMS wrote (Moodle's full name, Canvas's sortable name,
    # Blackboard's receipt's full name; "" when it wrote none)
    name: str = ""
    # when the student last handed in, as the LMS recorded it (the latest of
    # their notebooks' times, ClassResults.submitted_at); None when not known.
    # Timezone-aware; nbgrader's gradebook timestamp for the submission
    submitted_at: datetime | None = None
    late: bool = False  # the LMS itself marked a file late (Canvas's "LATE")


@dataclass(frozen=True)
class Lateness:
    """A notebook handed in after its due date, and the points that cost
    (course.toml's [late] policy; nbgrader's late_submission_penalty)."""

    submitted: datetime  # when the LMS recorded it (time zone aware)
    due: datetime
    penalty: float  # points taken off the notebook's score

    @property
    def days(self) -> int:
        """Days late, each started day counted (1 for a minute late)."""
        seconds = (self.submitted - self.due).total_seconds()
        return max(0, -int(-seconds // 86400))


@dataclass
class ClassResults:
    """Everything one grading run produced."""

    grades: list[NotebookGrade]
    unmapped: list[Unmapped] = field(default_factory=list)
    # student -> their LMS identity, for students whose files an LMS named
    identities: dict[str, Identity] = field(default_factory=dict)
    # (student, notebook) -> when that notebook was handed in, as the LMS
    # recorded it (timezone-aware); absent when no LMS said (a folder per student)
    submitted_at: dict[tuple[str, str], datetime] = field(default_factory=dict)
    # (student, notebook) -> how late it was, for notebooks handed in late
    late: dict[tuple[str, str], Lateness] = field(default_factory=dict)

    @property
    def students(self) -> list[str]:
        """Every student with at least one row, sorted."""
        return sorted({grade.student for grade in self.grades})


@dataclass(frozen=True)
class NoSandbox:
    """Students' code is graded without the sandbox, and why (--sandbox auto)."""

    problem: str  # why the sandbox does not work there
    worker: str = ""  # the Dask worker's address; "" for this machine


@dataclass(frozen=True)
class RefusedWorker:
    """A Dask worker that is never given a student, and why."""

    worker: str
    why: str


RunWarning = NoSandbox | RefusedWorker


@dataclass
class RunReport:
    """What one grading run did: the class's results, and what its summary says
    beside them (grader.output.terminal words it)."""

    results: ClassResults
    warnings: list[RunWarning] = field(default_factory=list)  # as they came
    # students graded without the sandbox they were to have (their worker had
    # none), sorted
    unsandboxed: list[str] = field(default_factory=list)
    # --outputs-only: students a grading run would grade (new or changed files,
    # a grader_error to try again); their last grades are written, if any. Sorted
    not_regraded: list[str] = field(default_factory=list)


def _limit(default: int | None, help: str):
    """A Limits field: its default and the help text its flag shows."""
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Limits:
    """What running one notebook may use (README: "Sandbox and limits").

    Each field is one flag of `python -m grader grade` (cell_timeout is
    --cell-timeout) with the help text given here. The course's notebooks need
    about 2 s of CPU, 400 MB of address space (115 MB resident), 14 threads and
    200 KB of output each; the defaults leave wide room.
    """

    cell_timeout: int | None = _limit(
        None,
        "seconds of wall time per cell, then it is stopped (default: 20 times the "
        "answer key's time for that cell, at least 10 s)",
    )
    notebook_timeout: int = _limit(
        600, "seconds of wall time per notebook (then its kernel is killed)"
    )
    # Above the cell limits, so an endless loop is stopped as a cell timeout (later
    # cells still run); it stops kernels that burn CPU across many cells or in
    # processes they start (each process has this limit).
    cpu_seconds: int = _limit(
        300, "CPU seconds per notebook's kernel, and per process it starts"
    )
    memory_mb: int = _limit(2048, "MB of memory per kernel")
    processes: int = _limit(64, "processes and threads per kernel (with the sandbox)")
    output_mb: int = _limit(5, "MB of output per notebook; the rest is dropped")
    file_mb: int = _limit(
        64, "MB per file the kernel writes, and of its in-memory /tmp"
    )

    @staticmethod
    def flag(name: str) -> str:
        """The command-line flag of a field: cell_timeout -> --cell-timeout."""
        return "--" + name.replace("_", "-")

    @classmethod
    def settings(cls) -> list[tuple[str, int, str]]:
        """(field name, default, help text) of every limit, in order."""
        return [(f.name, f.default, f.metadata["help"]) for f in fields(cls)]
