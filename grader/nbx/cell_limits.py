"""Each cell's time limit, where it comes from and how a stop is told, and which
function hung a cell.

A cell may take CELL_LIMIT_FACTOR times the answer key's time for it and at least
CELL_LIMIT_FLOOR seconds (grader.course); a cell the answer key does not have gets
the notebook's largest limit. With a fixed limit (--cell-timeout), every cell gets
that. A cell the grader runs aside (a graded test's request) has a limit of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from nbformat import NotebookNode

from ..course import CELL_LIMIT_FACTOR, CELL_LIMIT_FLOOR, Course, grade_id

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
FRAME = re.compile(r"\bin (\w+)\b")
# The error nbgrader's Execute records in a cell stopped at its time limit
# (Execute.error_on_timeout); a graded test whose call was stopped records it too.
STOPPED = "CellTimeoutError"


def stopped_at_limit(cell: NotebookNode) -> bool:
    """Whether the cell was stopped at its time limit (and the kernel obeyed)."""
    return any(output.get("ename") == STOPPED for output in cell.get("outputs", []))


class CellLimits:
    """The time limits of one notebook's cells.

    fixed: seconds for every cell, or None for the course's limits (when the
    course has measured times; else `fallback` seconds).
    """

    def __init__(
        self, course: Course | None, stem: str, fixed: float | None, fallback: float
    ) -> None:
        known = course is not None and stem in course.notebooks
        self._seconds = course.cell_limits(stem) if known and fixed is None else {}
        self._reference = course.reference_seconds(stem) if known else {}
        self.fixed = fixed if fixed is not None or self._seconds else fallback
        self._aside: float | None = None  # the limit of a cell run aside, meanwhile

    @property
    def from_course(self) -> bool:
        """Whether the limits come from the answer key's times."""
        return bool(self._seconds)

    def of(self, cell: NotebookNode) -> float:
        """A cell's limit in seconds."""
        if not self._seconds:
            return self.fixed
        return self._seconds.get(grade_id(cell), max(self._seconds.values()))

    def timeout(self, cell: NotebookNode) -> float | None:
        """nbclient's timeout_func: the running cell's limit (while a cell runs
        aside, that cell's own)."""
        return self._aside if self._aside is not None else self.of(cell)

    @contextmanager
    def aside(self, limit: float | None) -> Iterator[None]:
        """Meanwhile the running cell has `limit` seconds (None: its own limit)."""
        previous, self._aside = self._aside, limit
        try:
            yield
        finally:
            self._aside = previous

    def sentence(self, cell: NotebookNode) -> str:
        """The cell's limit, and where it comes from."""
        reference = self._reference.get(grade_id(cell) or "")
        if not self._seconds or reference is None:
            return f"{self.of(cell):g} s"
        return (
            f"{self.of(cell):g} s (the answer key needs {reference:.2g} s here; a cell "
            f"may take {CELL_LIMIT_FACTOR} times that, at least {CELL_LIMIT_FLOOR:g} s)"
        )

    # --- what is said of a stopped cell -----------------------------------------

    def stopped_line(self, cell: NotebookNode) -> str:
        """The grader's line in a cell stopped at its limit."""
        return f"This cell was stopped at its time limit, {self.sentence(cell)}."

    def replaced_line(self, cell: NotebookNode) -> str:
        """The grader's line in a cell that ignored the stop (its kernel was
        replaced)."""
        return (
            f"This cell was stopped at its time limit, {self.sentence(cell)}; it "
            "ignored the stop, so its kernel was replaced by a new one."
        )

    def ran_past(self, cell: NotebookNode, name: str) -> str:
        """The run's sentence for cell `name`, stopped at its limit."""
        if self.from_course:
            return f"ran past its time limit in cell {name}: {self.sentence(cell)}"
        return f"ran past the {self.of(cell):g} s cell limit in {name}"

    def ignored_stop(self, cell: NotebookNode) -> str:
        """The run's sentence for a cell that ran past its limit and went on."""
        if not self.from_course:
            return f"a cell ran past its {self.of(cell):g} s limit and ignored the stop"
        return f"ran past its time limit, {self.sentence(cell)}, and ignored the stop"


def hung_functions(cell: NotebookNode, names: frozenset[str]) -> list[str]:
    """The student's functions to suspect of hanging a stopped cell: the innermost
    of them in its interrupted traceback, else (a kernel that ignored the stop left
    none) those the cell calls; a short limit costs nothing to a function that
    returns at once."""
    frames = [
        found
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
        for line in output.get("traceback", [])
        for found in FRAME.findall(ANSI.sub("", line))
        if found in names
    ]
    return frames[-1:] or sorted(
        name for name in names if re.search(rf"\b{name}\s*\(", cell.source)
    )
