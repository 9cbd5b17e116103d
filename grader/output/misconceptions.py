"""The class's mistakes by name: what misconceptions.csv and the report count.

The hidden tests name the mistakes they recognise from the course's catalogue
(grader.catalogue), so a failing test's message says which misconception cost the
points. A class is counted once per student and misconception: two students who
flipped the sign of dw3 count 2 under "dw3: the sign is flipped", whichever of
03's tests named it and how often.

- A named mistake counts under its label, in the notebook whose test named it:
  the mistake ids the grader's run of the test found, as data (TestResult.findings);
  a student's own text (an exception spelling "exp: the sign is flipped") names
  none. Only a test the grader did not run itself (stock nbgrader: findings None)
  is read from its message (recognise()).
- A failing test that names no mistake counts under its own message (the first
  line), if its notebook was graded ("ok": a timeout's or a crash's message says
  how the run ended, not what the student misunderstood), unless every value it
  found wrong was named on the same key by another of that notebook's tests (03's
  second test finds dw6 "different value" where the first named the mistake).
  In the class, such a test whose check compared values counts instead in a group
  of the students who gave the same wrong values (grader.output.unnamed: mistake
  id unnamed-<test>-<n>); a student's own page still shows its first line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..catalogue import Named, base_key, named_found, named_in, recognised
from ..course import Course
from ..model import ClassResults, NotebookGrade, Status, TestResult
from .stats import notebook_order, sorted_grades
from .tables import csv_text
from .text import first_line
from .unnamed import Answer, UnnamedGroup, answer_of, group_answers

MISCONCEPTIONS_COLUMNS = (
    "notebook", "misconception", "students", "student_ids", "mistake_id",
)  # fmt: skip
ID_SEPARATOR = " "  # student ids hold no spaces (grader.intake.names.safe_student_id)


@dataclass(frozen=True)
class Misconception:
    """One misconception in one notebook, and the students who showed it."""

    notebook: str
    label: str  # the mistake's label, or the failing test's first line
    students: tuple[str, ...]  # sorted
    mistake: Named | None = None  # None: no known mistake matched
    group: UnnamedGroup | None = None  # the same wrong values, no mistake named

    @property
    def count(self) -> int:
        return len(self.students)

    @property
    def mistake_id(self) -> str:
        """The catalogue's id, the unnamed group's, or ""."""
        if self.mistake:
            return self.mistake.mistake_id
        return self.group.group_id if self.group else ""

    def to_row(self) -> dict[str, object]:
        """The misconceptions.csv row."""
        return {
            "notebook": self.notebook,
            "misconception": self.label,
            "students": self.count,
            "student_ids": ID_SEPARATOR.join(self.students),
            "mistake_id": self.mistake_id,
        }


def notebook_misconceptions(
    grade: NotebookGrade, course: Course
) -> dict[str, Named | None]:
    """label -> the Named mistake (None: a failing test's own message) of one
    student's notebook, in the order its tests show them (the course's catalogue
    names them)."""
    found, unnamed = _notebook_findings(grade, course)
    for line, _ in unnamed:
        found.setdefault(line, None)
    return found


def _notebook_findings(
    grade: NotebookGrade, course: Course
) -> tuple[dict[str, Named | None], list[tuple[str, Answer | None]]]:
    """(label -> Named mistake, in test order; the failing tests that named none
    and count: (first line, the Answer to group by its values, or None))."""
    source_dir = course.source_dir
    found: dict[str, Named | None] = {}
    named_keys: set[str] = set()
    unnamed: list[tuple[str, set[str], TestResult]] = []  # first line, keys wrong
    for test in grade.tests:
        if test.points >= test.max_points:
            continue
        named, keys = test_findings(test, source_dir)
        for mistake in named:
            found.setdefault(mistake.label, mistake)
        if named:
            named_keys.update(keys)
        else:
            headline = (test.findings or {}).get("headline")
            unnamed.append((headline or first_line(test.message), keys, test))
    if grade.status != Status.OK:
        return found, []
    return found, [
        (line, answer_of(grade, test))
        for line, keys, test in unnamed
        if not (keys and keys <= named_keys)
    ]


def test_findings(test: TestResult, source_dir: Path) -> tuple[list[Named], set[str]]:
    """The known mistakes a failing test found, and the keys it found wrong (those
    of its named mistakes, or all when it named none): from the findings the grader
    recorded, or read from the message for a test it did not run."""
    if test.findings is None:  # stock nbgrader: the message is all there is
        read = recognised(test.message, source_dir)
        named = named_in(read)
        found = [(r.key, bool(r.mistake)) for r in read]
    else:
        entries = test.findings.get("found", [])
        named = named_found(entries, source_dir)
        found = [(key, bool(mistake_id)) for key, mistake_id, _ in entries]
    keys = {
        base_key(key, source_dir)
        for key, is_named in found
        if key and (is_named or not named)
    }
    return named, keys


def class_misconceptions(results: ClassResults, course: Course) -> list[Misconception]:
    """Every misconception shown by at least one student, the most common first
    (ties: course notebook order, then named before unnamed, then label); the
    graded course's catalogue names them, and the unnamed failures whose checks
    compared values count in groups of the same wrong values."""
    students: dict[tuple[str, str], set[str]] = {}
    mistakes: dict[tuple[str, str], Named | None] = {}
    answers: list[Answer] = []
    for grade in sorted_grades(results):
        found, unnamed = _notebook_findings(grade, course)
        for line, answer in unnamed:
            if answer is None:
                found.setdefault(line, None)
            else:
                answers.append(answer)
        for label, mistake in found.items():
            key = (grade.notebook, label)
            students.setdefault(key, set()).add(grade.student)
            mistakes.setdefault(key, mistake)
    rows = [
        Misconception(notebook, label, tuple(sorted(names)), mistakes[notebook, label])
        for (notebook, label), names in students.items()
    ] + [
        Misconception(group.notebook, group.label, group.students, group=group)
        for group in group_answers(answers)
    ]
    return sorted(
        rows,
        key=lambda row: (
            -row.count, notebook_order(row.notebook), row.mistake is None, row.label
        ),
    )  # fmt: skip


def misconceptions_csv(misconceptions: list[Misconception]) -> str:
    """misconceptions.csv: one row per misconception, columns
    MISCONCEPTIONS_COLUMNS; text defused like grades.csv's (the first line of a
    failing test may be what a student's code printed)."""
    return csv_text(MISCONCEPTIONS_COLUMNS, [row.to_row() for row in misconceptions])
