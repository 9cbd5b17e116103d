"""What was graded from which inputs: the resume cache in OUT/.grader/state/.

A student is recorded as done only after their files and gradebook rows are in
OUT, so a run that is killed half-way and started again grades the rest; a re-run
grades only students whose inputs (files, course, limits, sandbox) changed, and
students whose grading failed (grader_error): each failure's cause is kept, and a
student whose grading failed the same way twice in a row is not tried again until
their inputs change.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from ..files import write_atomically
from ..intake.collect import Submission
from ..model import Limits, NotebookGrade, Status, TestResult


def student_key(
    submissions: list[Submission],
    bundle_fingerprint: str,
    limits: Limits,
    sandbox: bool,
) -> str:
    """What a student's grades depend on: their files, the course, the limits.

    Each file is named and hashed on its own, so no two sets of files share a key
    (one file's bytes cannot pass for the end of one file and the next)."""
    files = [
        [item.notebook, hashlib.sha256(item.content).hexdigest()]
        for item in sorted(submissions, key=lambda s: s.notebook)
    ]
    inputs = {
        "course": bundle_fingerprint,
        "limits": asdict(limits),
        "sandbox": sandbox,
        "files": files,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def failure_cause(grades: list[NotebookGrade]) -> str:
    """Why grading failed ("" when no notebook is a grader_error)."""
    return "; ".join(
        f"{grade.notebook}: {grade.detail}"
        for grade in grades
        if grade.status == Status.GRADER_ERROR
    )


@dataclass
class Saved:
    """A student's saved grades and the causes of failed attempts that led here."""

    grades: list[NotebookGrade]
    failures: list[str] = field(default_factory=list)  # oldest first

    @property
    def settled(self) -> bool:
        """Whether these grades stand: no grader_error, or the same failure twice."""
        cause = failure_cause(self.grades)
        if not cause:
            return True
        return len(self.failures) >= 2 and self.failures[-1] == self.failures[-2]


class StateStore:
    """Saved grades per student, each valid for one key."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, student: str) -> Path:
        return self.folder / f"{student}.json"

    def load(self, student: str, key: str | None) -> Saved | None:
        """What was saved from exactly these inputs, else None; key None: what
        was saved last, whatever the inputs were (--outputs-only)."""
        path = self._path(student)
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(state, dict) or (key is not None and state.get("key") != key):
            return None
        return Saved(
            [NotebookGrade.from_dict(grade) for grade in state["grades"]],
            list(state.get("failures", [])),
        )

    def save(
        self,
        student: str,
        key: str,
        grades: list[NotebookGrade],
        failures: list[str] | None = None,
    ) -> None:
        """Record a student as done: the last step of grading a student.

        failures: the causes of this and earlier failed attempts (grader_error).
        """
        payload = {
            "key": key,
            "grades": [_plain(grade) for grade in grades],
            "failures": failures or [],
        }
        write_atomically(self._path(student), json.dumps(payload))


def _plain(grade: NotebookGrade) -> dict:
    """grade.to_dict(), without dataclasses.asdict's deep copies (a few ms per
    student on the coordinator)."""
    plain = {name: getattr(grade, name) for name in GRADE_FIELDS}
    plain["status"] = str(grade.status)
    plain["tests"] = [
        {name: getattr(test, name) for name in TEST_FIELDS} for test in grade.tests
    ]
    return plain


GRADE_FIELDS = [f.name for f in fields(NotebookGrade)]
TEST_FIELDS = [f.name for f in fields(TestResult)]
