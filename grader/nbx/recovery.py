"""After a cell is stopped or its kernel dies: what still runs, what runs again in
a new kernel, and when to give up.

From the first stop or death on, only what the graded tests need runs (the setup,
the answers, the graded tests); the checks, plots and sliders are skipped with a
line saying so. A new kernel runs the setup and answer cells before the cell it
starts at once more (a cell that died is not run again), and at most `restarts` new
kernels are started per notebook.
"""

from __future__ import annotations

from nbformat import NotebookNode

from ..course import SETUP_CELLS, Notebook, grade_id


class Recovery:
    """One notebook's recovery from stops and deaths.

    notebook: the course's model of the notebook (None: not one of the course's,
    so nothing counts as needed by the graded tests).
    """

    def __init__(self, notebook: Notebook | None, restarts: int) -> None:
        self.notebook = notebook
        self.restarts = restarts
        self.restarted = 0  # new kernels started so far
        self.skipped: set[int] = set()  # cells not to run again (they died)
        self.graded_only = ""  # why only what the graded tests need runs, if so

    def needed(self, cell: NotebookNode) -> bool:
        """Whether the graded tests need the cell: setup, answers, graded tests."""
        if self.notebook is None or cell.cell_type != "code":
            return False
        name = grade_id(cell)
        return (
            name in SETUP_CELLS
            or name in self.notebook.answers
            or name in self.notebook.tests
        )

    def runs(self, cell: NotebookNode) -> bool:
        """Whether to run the cell now (else it is skipped with skip_line)."""
        return not self.graded_only or self.needed(cell)

    def skip_line(self) -> str:
        """The grader's line in a skipped code cell."""
        return f"skipped: {self.graded_only}"

    def replayed(self, cells: list[NotebookNode], start: int) -> list[int]:
        """The cells before `start` that a new kernel runs again: the setup and
        answers, except those that died."""
        return [
            index
            for index, cell in enumerate(cells[:start])
            if index not in self.skipped
            and self.needed(cell)
            and grade_id(cell) not in self.notebook.tests
        ]

    def stopped(self, name: str) -> None:
        """Cell `name` was stopped at its limit (its kernel obeyed)."""
        if not self.graded_only:
            self.graded_only = f"cell {name} ran past its time limit"

    @property
    def can_restart(self) -> bool:
        """Whether another new kernel may be started."""
        return self.restarted < self.restarts

    def restart_after(self, index: int, why: str) -> None:
        """The cell at `index` killed its kernel (or ignored a stop): a new kernel
        goes on after it; from now on only what the graded tests need runs."""
        self.restarted += 1
        self.skipped.add(index)
        self.graded_only = why

    def replay_died(self, index: int) -> bool:
        """The cell at `index`, run again in a new kernel, died there too: it is not
        run again; whether yet another kernel may try."""
        self.skipped.add(index)
        self.restarted += 1
        return self.restarted <= self.restarts
