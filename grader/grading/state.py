"""What was graded from which inputs: the resume cache in OUT/.grader/state/.

A student is recorded as done only after their files and gradebook rows are in
OUT, so a run that is killed half-way and started again grades the rest; a re-run
grades only students whose inputs (files, course, limits, sandbox) changed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from ..files import write_atomically
from ..intake.collect import Submission
from ..model import Limits, NotebookGrade


def student_key(
    submissions: list[Submission], course_hash: str, limits: Limits, sandbox: bool
) -> str:
    """What a student's grades depend on: their files, the course, the limits."""
    digest = hashlib.sha256(course_hash.encode())
    digest.update(json.dumps(asdict(limits), sort_keys=True).encode())
    digest.update(b"sandbox" if sandbox else b"no sandbox")
    for item in sorted(submissions, key=lambda s: s.notebook):
        digest.update(item.notebook.encode() + b"\0" + item.content)
    return digest.hexdigest()


class StateStore:
    """Saved grades per student, each valid for one key."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, student: str) -> Path:
        return self.folder / f"{student}.json"

    def load(self, student: str, key: str) -> list[NotebookGrade] | None:
        """The saved grades when they were made from exactly these inputs, else None."""
        path = self._path(student)
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(state, dict) or state.get("key") != key:
            return None
        return [NotebookGrade.from_dict(grade) for grade in state["grades"]]

    def save(self, student: str, key: str, grades: list[NotebookGrade]) -> None:
        """Record a student as done: the last step of grading a student."""
        payload = {"key": key, "grades": [grade.to_dict() for grade in grades]}
        write_atomically(self._path(student), json.dumps(payload, indent=1))
