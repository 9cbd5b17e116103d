"""Grading results as data: one record per student and notebook, one per graded test."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# What `status` can say about one student's notebook.
OK = "ok"  # graded; the score is what the tests gave
MISSING = "missing"  # the student handed in no such notebook
UNREADABLE = "unreadable"  # not a notebook (bad JSON, empty file, wrong format)
WRONG_ASSIGNMENT = "wrong_assignment"  # a notebook, but none of this assignment's cells
TIMEOUT = "timeout"  # a cell or the whole notebook ran past its time limit
KERNEL_DIED = "kernel_died"  # the kernel crashed (os._exit, segfault, out of memory)
GRADER_ERROR = "grader_error"  # nbgrader itself failed on this notebook
# A limit of the sandbox (grader.sandbox, grader.limits) stopped the notebook's code.
CPU_LIMIT = "cpu_limit"  # the kernel used more CPU time than allowed (it is killed)
MEMORY_LIMIT = "memory_limit"  # an allocation past the memory limit failed
PROCESS_LIMIT = "process_limit"  # too many processes or threads (the extras killed)
OUTPUT_LIMIT = "output_limit"  # too much output (the rest dropped, the cell stopped)
STATUSES = (
    OK,
    MISSING,
    UNREADABLE,
    WRONG_ASSIGNMENT,
    TIMEOUT,
    KERNEL_DIED,
    CPU_LIMIT,
    MEMORY_LIMIT,
    PROCESS_LIMIT,
    OUTPUT_LIMIT,
    GRADER_ERROR,
)

GRADES_COLUMNS = (
    "student", "notebook", "score", "max_score",
    "status", "detail", "source", "feedback",
)  # fmt: skip
TESTS_COLUMNS = ("student", "notebook", "test", "points", "max_points", "message")


@dataclass
class TestResult:
    """One graded test cell of one student's notebook."""

    test: str  # the cell's nbgrader grade_id, e.g. "test_forward_values"
    points: float
    max_points: float
    message: str = ""  # what the failing test printed or raised; "" when it passed


@dataclass
class NotebookGrade:
    """One student's result for one released notebook."""

    student: str
    notebook: str  # the released file's stem, e.g. "02_forward_propagation"
    score: float
    max_score: float
    status: str  # one of STATUSES
    detail: str = ""  # why, in words, when status is not "ok" (or what was repaired)
    source: str = ""  # the file it was graded from, as found in SUBMISSIONS
    feedback: str = ""  # path of the feedback HTML relative to OUT, "" if none
    tests: list[TestResult] = field(default_factory=list)

    def to_row(self) -> dict[str, object]:
        """The grades.csv row."""
        row = asdict(self)
        return {column: row[column] for column in GRADES_COLUMNS}

    def test_rows(self) -> list[dict[str, object]]:
        """The tests.csv rows, one per graded test cell."""
        return [
            {"student": self.student, "notebook": self.notebook, **asdict(test)}
            for test in self.tests
        ]

    @classmethod
    def from_dict(cls, data: dict) -> NotebookGrade:
        """Inverse of dataclasses.asdict (used to reload saved results)."""
        tests = [TestResult(**test) for test in data.get("tests", [])]
        return cls(**{**data, "tests": tests})


@dataclass
class Unmapped:
    """An input file that could not be assigned to a (student, notebook)."""

    source: str  # as found in SUBMISSIONS, e.g. "bulk.zip:readme.txt"
    reason: str


@dataclass
class ClassResults:
    """Everything one grading run produced."""

    grades: list[NotebookGrade]
    unmapped: list[Unmapped] = field(default_factory=list)

    @property
    def students(self) -> list[str]:
        """Every student with at least one row, sorted."""
        return sorted({grade.student for grade in self.grades})
