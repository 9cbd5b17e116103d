"""What the outputs count: row order, totals, statuses, the checks that fail most,
student ids that look alike.

Every output (CSV, report, terminal table) orders and sums a class the same way,
so these live here once, with how a score is written.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter
from dataclasses import dataclass

from ..course import NOTEBOOKS
from ..model import ClassResults, Lateness, NotebookGrade, Status
from .text import first_line

NO_SUBMISSIONS = "No submissions: nothing was graded."


def format_points(value: float) -> str:
    """A score as a plain number: "4", "2.5", "0.333" (at most 3 decimals)."""
    text = f"{float(value):.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def late_summary(lateness: Lateness) -> str:
    """What handing a notebook in late cost: "2 days late: -0.6"."""
    days = "1 day" if lateness.days == 1 else f"{lateness.days} days"
    return f"{days} late: -{format_points(lateness.penalty)}"


def notebook_order(notebook: str) -> tuple[int, str]:
    """Sort key: released notebooks in course order, anything else after by name."""
    if notebook in NOTEBOOKS:
        return NOTEBOOKS.index(notebook), ""
    return len(NOTEBOOKS), notebook


def notebook_columns(results: ClassResults) -> list[str]:
    """The released notebooks, then any other notebook named in the results."""
    extra = {grade.notebook for grade in results.grades} - set(NOTEBOOKS)
    return [*NOTEBOOKS, *sorted(extra)]


def short_name(notebook: str) -> str:
    """A notebook's column header: "01_sigmoid" -> "01"."""
    return notebook.split("_", 1)[0]


def sorted_grades(results: ClassResults) -> list[NotebookGrade]:
    """Every row, by student then course notebook order."""
    return sorted(
        results.grades,
        key=lambda grade: (grade.student, notebook_order(grade.notebook)),
    )


def grade_table(results: ClassResults) -> dict[str, dict[str, NotebookGrade]]:
    """student -> notebook -> that student's row, students sorted."""
    table: dict[str, dict[str, NotebookGrade]] = {}
    for grade in sorted_grades(results):
        table.setdefault(grade.student, {})[grade.notebook] = grade
    return table


def student_totals(results: ClassResults) -> dict[str, float]:
    """student -> sum of the scores of all that student's rows, less the late
    penalties (results.late)."""
    totals: dict[str, float] = {}
    for grade in results.grades:
        totals[grade.student] = totals.get(grade.student, 0.0) + grade.score
    for (student, _), lateness in results.late.items():
        if student in totals:
            totals[student] -= lateness.penalty
    return totals


def mean_total(results: ClassResults) -> float | None:
    """The mean of the students' totals; None without students."""
    totals = student_totals(results)
    return statistics.fmean(totals.values()) if totals else None


def notebook_max_scores(results: ClassResults) -> dict[str, float]:
    """notebook -> its max score (the largest max_score any row reports)."""
    maxima: dict[str, float] = {}
    for grade in results.grades:
        maxima[grade.notebook] = max(maxima.get(grade.notebook, 0.0), grade.max_score)
    return maxima


def max_total(results: ClassResults) -> float:
    """The most a student can score: the notebooks' max scores added up."""
    return sum(notebook_max_scores(results).values())


def status_counts(results: ClassResults) -> dict[Status, int]:
    """status -> number of rows, in Status order, only statuses that occur.

    A status that is not a Status is a bug upstream: it raises ValueError.
    """
    counts = Counter(Status(grade.status) for grade in results.grades)
    return {status: counts[status] for status in Status if counts[status]}


def not_graded(results: ClassResults) -> list[NotebookGrade]:
    """Rows whose status is not "ok", by student then notebook."""
    return [grade for grade in sorted_grades(results) if grade.status != Status.OK]


@dataclass(frozen=True)
class StatusCount:
    """How many notebooks (and of how many students) ended with one status."""

    status: Status
    notebooks: int
    students: int


def not_graded_counts(results: ClassResults) -> list[StatusCount]:
    """Every status but "ok" that occurs, in Status order, with its counts."""
    students: dict[Status, set[str]] = {}
    for grade in not_graded(results):
        students.setdefault(Status(grade.status), set()).add(grade.student)
    return [
        StatusCount(status, count, len(students[status]))
        for status, count in status_counts(results).items()
        if status != Status.OK
    ]


@dataclass(frozen=True)
class FailureCount:
    """How many graded students lost points on one test cell, and what it said."""

    notebook: str
    test: str
    failed: int  # students whose test earned less than max_points
    graded: int  # students whose notebook was graded ("ok") with this test
    message: str  # the most common first line of the failing students' messages

    @property
    def share(self) -> float:
        """Failed students as a fraction of the graded ones."""
        return self.failed / self.graded if self.graded else 0.0


def failure_counts(results: ClassResults) -> list[FailureCount]:
    """Tests that graded students failed, most failures first.

    Only notebooks with status "ok" count: a notebook that timed out or could not
    be read says nothing about the test. Ties go by notebook order, then test name.
    """
    graded: Counter[tuple[str, str]] = Counter()
    lines: dict[tuple[str, str], Counter[str]] = {}
    for grade in sorted_grades(results):
        if grade.status != Status.OK:
            continue
        for test in grade.tests:
            key = (grade.notebook, test.test)
            graded[key] += 1
            if test.points < test.max_points:
                lines.setdefault(key, Counter())[first_line(test.message)] += 1
    counts = [
        FailureCount(
            notebook,
            test,
            failed=sum(messages.values()),
            graded=graded[notebook, test],
            message=messages.most_common(1)[0][0],
        )
        for (notebook, test), messages in lines.items()
    ]
    return sorted(
        counts,
        key=lambda count: (-count.failed, notebook_order(count.notebook), count.test),
    )


# Student ids that look alike. Intake keeps every id apart (an id that had to be
# changed to be a safe folder name ends in "~" and 8 hex digits); a reader may still
# take two of them for one student. The key is what a reader sees: the readable part,
# accents dropped, case folded, separators left out, and letters or digits a reader
# confuses made one (Unicode's confusables for ASCII, in part).
HASH_SUFFIX = re.compile(r"~[0-9a-f]{8}$")
ID_SEPARATORS = re.compile(r"[\s._@'~-]+")
ASCII_LOOKALIKES = (("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"), ("i", "l"))


def lookalike_key(student: str) -> str:
    """What an id looks like: "José", "Jose~1a2b3c4d" and "j0se" have one key."""
    text = unicodedata.normalize("NFKD", HASH_SUFFIX.sub("", student).casefold())
    text = ID_SEPARATORS.sub(
        "", "".join(c for c in text if not unicodedata.combining(c))
    )
    for confused, seen in ASCII_LOOKALIKES:
        text = text.replace(confused, seen)
    return text


def lookalike_groups(results: ClassResults) -> list[list[tuple[str, str]]]:
    """Groups of different student ids that look alike, each id with the file it
    was graded from (how the name was handed in); groups by key, ids sorted."""
    sources: dict[str, str] = {}
    for grade in sorted_grades(results):
        if not sources.get(grade.student):
            sources[grade.student] = grade.source
    groups: dict[str, list[tuple[str, str]]] = {}
    for student in sorted(sources):
        groups.setdefault(lookalike_key(student), []).append(
            (student, sources[student])
        )
    return [group for _, group in sorted(groups.items()) if len(group) > 1]
