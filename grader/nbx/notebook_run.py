"""One notebook's run: what the executor keeps while it runs one notebook, made
fresh for each, one object per concern; and what a stop or a death does to them.

ResilientExecute (grader.nbx.execute) runs the cells; a NotebookRun is told when a
cell was stopped at its limit or the kernel died or ignored a stop, and says so in
the cell, in the run's record, to the recovery (what runs next) and to the trusted
tests (which function hung).
"""

from __future__ import annotations

from dataclasses import dataclass

from nbclient.exceptions import CellTimeoutError
from nbformat import NotebookNode

from ..course import Notebook, cell_name, grade_id
from ..kernel.sandbox import KernelDidNotStart
from ..model import Status
from .breaches import death_detail, fatal_breach, survived_breach
from .cell_limits import CellLimits
from .cell_marks import grader_line, mark_not_run
from .kernel_watch import KernelWatch
from .output_limit import OutputLimit
from .recovery import Recovery
from .status import RunRecord, RunRecorder
from .trusted import TrustedTests


@dataclass
class NotebookRun:
    """The state of one notebook's run (ResilientExecute makes one per notebook)."""

    nb: NotebookNode  # the notebook being run (its cells get the grader's lines)
    notebook: Notebook | None  # the course's model of it (None: not the course's)
    notebook_timeout: int  # seconds the whole notebook may run
    cell_limits: CellLimits  # each cell's time limit
    output_limit: OutputLimit  # the notebook's output so far, against its limit
    recovery: Recovery  # what runs after a stop or a death, and restarts
    recorder: RunRecorder  # how the run went, for its RunRecord
    kernel: KernelWatch  # what the executor saw of its kernels
    trusted: TrustedTests | None  # the graded tests run here (None: in the kernel)
    running: int = -1  # the index of the cell running (or that ran last)

    def cell_stopped(self, cell: NotebookNode, index: int) -> None:
        """A cell stopped at its limit (the kernel obeyed): say so there; from now
        on run only what the graded tests need; remember the function that hung."""
        name = cell_name(self.nb, index)
        if not (self.notebook is not None and grade_id(cell) in self.notebook.tests):
            cell.outputs.append(grader_line(self.cell_limits.stopped_line(cell)))
        self.recorder.add(Status.TIMEOUT, self.cell_limits.ran_past(cell, name))
        self.recovery.stopped(name)
        self._suspect(cell, index)

    def kernel_lost(self, error: Exception, start: int) -> int:
        """The kernel died or ignored a stop in a kernel that started at cell
        `start`: record it; the cell to go on from in a new kernel, or past the
        last cell to give up on the rest."""
        index, end = self.running, len(self.nb.cells)
        if 0 <= index < start:  # a cell run again after a death died this time
            return start if self.recovery.replay_died(index) else end
        index = max(index, start)
        status, detail = self._why_lost(error)
        where = f" in cell {cell_name(self.nb, index)}"
        self.recorder.add(status, detail + where)
        if (
            isinstance(error, KernelDidNotStart)
            or self.kernel.killed_for_time
            or not self.recovery.can_restart
        ):
            mark_not_run(self.nb.cells[index:], detail + where)
            return end
        what = "died" if status == Status.KERNEL_DIED else f"was stopped ({status})"
        self.recovery.restart_after(index, f"the kernel {what}{where}")
        cell = self.nb.cells[index]
        if cell.cell_type == "code":
            line = (
                self.cell_limits.replaced_line(cell)
                if isinstance(error, CellTimeoutError)
                else f"{detail} here; a new kernel was started."
            )
            cell.outputs.append(grader_line(line))
        self._suspect(cell, index)
        return index + 1

    def failed(self, error: Exception) -> None:
        """The grader itself failed running a cell: the rest does not run."""
        index = max(self.running, 0)
        detail = f"running cell {cell_name(self.nb, index)} failed: {error!r}"
        self.recorder.add(Status.GRADER_ERROR, detail)
        mark_not_run(self.nb.cells[index:], detail[:300])

    def record(self) -> RunRecord:
        """How the run ended; a limit the kernel survived comes first."""
        record = self.recorder.record()
        status, detail = survived_breach(
            self.nb, self.kernel.outcome(), self.output_limit, record.status,
            record.detail,
        )  # fmt: skip
        findings = dict(self.trusted.findings) if self.trusted is not None else None
        return RunRecord(status, detail, record.seconds, findings)

    def _why_lost(self, error: Exception) -> tuple[Status, str]:
        """Status and sentence for a kernel that died or ignored a stop."""
        if isinstance(error, KernelDidNotStart):
            return Status.KERNEL_DIED, str(error)
        kernel = self.kernel
        outcome = kernel.outcome()
        breach = fatal_breach(self.nb, outcome, self.output_limit, kernel.iopub_cut)
        if breach:
            return breach
        if kernel.killed_for_time:
            return Status.TIMEOUT, (
                f"the notebook ran past its {self.notebook_timeout} s limit"
            )
        if isinstance(error, CellTimeoutError):
            cell = self.nb.cells[max(self.running, 0)]
            return Status.TIMEOUT, self.cell_limits.ignored_stop(cell)
        return Status.KERNEL_DIED, death_detail(outcome)

    def _suspect(self, cell: NotebookNode, index: int) -> None:
        """Tell the trusted tests which of the student's functions hung here."""
        if self.trusted is not None:
            self.trusted.suspect(cell, cell_name(self.nb, index))
