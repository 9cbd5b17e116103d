"""An nbgrader Execute preprocessor that is fair to students whose code fails.

Stock nbgrader stops at a dead kernel, deletes the student's autograded folder and
records nothing. ResilientExecute runs every cell with a time limit that fits it (the
answer key's own time for that cell, times CELL_LIMIT_FACTOR, at least
CELL_LIMIT_FLOOR seconds: grader.course; or one fixed --cell-timeout), runs the graded
test cells in the grader (grader.nbx.trusted), keeps output within its limit, and
writes how the run ended to a status file outside the student's folder.

When a cell is stopped at its limit or its kernel dies, the graded tests still run:
after a death the kernel is started again and the setup and answer cells before are
run once more (the cell that died is not); from then on only what the graded tests
need runs (setup, answers, graded tests), and the checks, plots and sliders are
skipped with a note. A function that ran past its limit once is given a short limit
when a graded test calls it again. Each cell that was stopped or died says so, with
the limit and what the answer key needed there.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, Unicode

from ..course import SETUP_CELLS, Course, cell_name, grade_id
from ..kernel.command import MB
from ..kernel.manager import GraderKernelManager
from ..kernel.provisioner import KernelOutcome, SandboxProvisioner
from ..kernel.sandbox import KernelDidNotStart
from ..model import Status
from .cell_limits import CellLimits, hung_functions
from .limits import (
    OutputLimit,
    Verdict,
    death_detail,
    fatal_breach,
    survived_breach,
    trimmed_error,
)
from .notes import grader_note, mark_not_run
from .status import RunRecord, write_record
from .trusted import TrustedTests


class ResilientExecute(Execute):
    """Execute every cell; a cell that hangs or kills its kernel costs only itself
    and the graded tests of what it broke.

    Kernels start through grader.kernel (GraderKernelManager and the sandbox
    provisioner) unless `kernel_manager_class` is configured.
    """

    notebook_timeout = Integer(
        600, help="Seconds the whole notebook may run before its kernel is killed."
    ).tag(config=True)
    course_limits = Bool(
        True,
        help="Limit each cell by the answer key's time for it (grader.course); "
        "False: every cell gets `timeout` seconds.",
    ).tag(config=True)
    hung_call_timeout = Integer(
        2, help="Seconds a graded test gives a function that ran past its limit before."
    ).tag(config=True)
    restarts = Integer(
        3, help="Kernels started again per notebook after a death or an ignored stop."
    ).tag(config=True)
    output_limit = Integer(
        0, help="Bytes of output a notebook may produce (0: no limit)."
    ).tag(config=True)
    status_dir = Unicode(
        "", help="Folder for <notebook>.status.json files; '' writes none."
    ).tag(config=True)
    trusted_source = Unicode(
        "",
        help="Course folder (with source/ASSIGNMENT/) whose graded test cells run in "
        "the grader's process (grader/nbx/trusted.py); '' runs them in the kernel.",
    ).tag(config=True)

    def __init__(self, **kwargs):
        config = kwargs.get("config")
        if config is None or "kernel_manager_class" not in config.ResilientExecute:
            kwargs.setdefault("kernel_manager_class", GraderKernelManager)
        super().__init__(**kwargs)
        self._course = (
            Course(Path(self.trusted_source)) if self.trusted_source else None
        )

    # --- one notebook ---------------------------------------------------------

    def preprocess(self, nb: NotebookNode, resources=None, km=None):
        """Run the notebook as fairly as its code allows; record how it went."""
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        stem = (resources or {}).get("unique_key", "")
        self._start_notebook(stem)
        watchdog = threading.Timer(self.notebook_timeout, self._kill_for_time)
        watchdog.daemon = True
        watchdog.start()
        try:
            start = 0
            while start < len(self.nb.cells):
                start = self._run_in_one_kernel(start, resources)
        except Exception as error:  # never let one notebook sink the student's others
            index = max(self._running_index, 0)
            detail = f"running cell {cell_name(self.nb, index)} failed: {error!r}"
            self._events.append((Status.GRADER_ERROR, detail))
            mark_not_run(self.nb.cells[index:], detail[:300])
        finally:
            watchdog.cancel()
        self.set_widgets_metadata()
        status, detail = Status.OK, ""
        if self._events:
            status = self._events[0][0]
            detail = "; ".join(dict.fromkeys(sentence for _, sentence in self._events))
        status, detail = survived_breach(
            self.nb, self._kernel_outcome(), self._output, status, detail
        )
        self._write_status(resources, status, detail)
        return self.nb, self.resources

    def _start_notebook(self, stem: str) -> None:
        """Forget the previous notebook."""
        self._stem = stem
        self._output = OutputLimit(self.output_limit)
        self._pending: set = set()
        self._km = None
        self._outcome: KernelOutcome | None = None
        self._iopub_cut = False
        self._running_index = -1
        self._killed_for_time = False
        self._graded_only = ""  # why only what the graded tests need runs, if so
        self._skipped: set[int] = set()  # cells not to run again (they died)
        self._events: list[tuple[Status, str]] = []
        self._restarted = 0
        self._seconds: dict[str, float] = {}
        self.limit_override: float | None = None
        self.timeout_func = self._cell_timeout
        known = self._course is not None and stem in self._course.notebooks
        self._notebook = self._course.notebook(stem) if known else None
        fixed = None if self.course_limits else self.timeout
        self.limits = CellLimits(self._course, stem, fixed, self.timeout)
        self._trusted = (
            TrustedTests(self, self._notebook, self._course.source_dir)
            if known
            else None
        )

    def _run_in_one_kernel(self, start: int, resources) -> int:
        """Run the cells from `start` in a new kernel (after a death: the setup and
        answers before `start` first); where to go on, past the last cell when done.
        """
        try:
            with self.setup_kernel():
                reply = self.wait_for_reply(self.kc.kernel_info())
                self.nb.metadata["language_info"] = reply["content"]["language_info"]
                if self._trusted is not None:
                    self._trusted.channel.reset()
                if start:
                    self._replay(start)
                for index in range(start, len(self.nb.cells)):
                    self._run_cell(self.nb.cells[index], resources, index)
            return len(self.nb.cells)
        except (DeadKernelError, CellTimeoutError, KernelDidNotStart) as error:
            return self._after_death(error, start)

    def _run_cell(self, cell: NotebookNode, resources, index: int) -> None:
        """Run one cell, or skip it when only what the graded tests need runs."""
        if self._graded_only and not self._needed(cell):
            if cell.cell_type == "code":
                cell.outputs.append(grader_note(f"skipped: {self._graded_only}"))
            return
        began = time.monotonic()
        self.preprocess_cell(cell, resources, index)
        if cell.cell_type == "code":
            self._seconds[cell_name(self.nb, index)] = time.monotonic() - began
        if self._was_stopped(cell):
            self._record_stop(cell, index)

    def _after_death(self, error: Exception, start: int) -> int:
        """The kernel died or ignored a stop: record it; start again after the cell
        it happened in, or give up on the rest."""
        index = self._running_index
        if 0 <= index < start:  # a cell run again after a death died this time
            self._skipped.add(index)
            self._restarted += 1
            return start if self._restarted <= self.restarts else len(self.nb.cells)
        index = max(index, start)
        status, detail = self._stopped(error)
        where = f" in cell {cell_name(self.nb, index)}"
        self._events.append((status, detail + where))
        final = (
            isinstance(error, KernelDidNotStart)
            or self._killed_for_time
            or self._restarted >= self.restarts
        )
        if final:
            mark_not_run(self.nb.cells[index:], detail + where)
            return len(self.nb.cells)
        self._restarted += 1
        self._skipped.add(index)
        cell = self.nb.cells[index]
        if cell.cell_type == "code":
            if isinstance(error, CellTimeoutError):
                note = (
                    f"This cell was stopped at its time limit, "
                    f"{self.limits.sentence(cell)}; it ignored the stop, so its kernel "
                    "was replaced by a new one."
                )
            else:
                note = f"{detail} here; a new kernel was started."
            cell.outputs.append(grader_note(note))
        self._graded_only = f"the kernel {self._what_happened(status)}{where}"
        self._notify_hung(cell, index)
        return index + 1

    # --- what runs --------------------------------------------------------------

    def _needed(self, cell: NotebookNode) -> bool:
        """Whether the graded tests need the cell: setup, answers, graded tests."""
        if self._notebook is None or cell.cell_type != "code":
            return False
        name = grade_id(cell)
        return (
            name in SETUP_CELLS
            or name in self._notebook.answers
            or name in self._notebook.tests
        )

    def _replay(self, start: int) -> None:
        """In a new kernel: run the setup and answer cells before `start` once more,
        quietly (their recorded outputs stay those of the student's own run)."""
        for index in range(start):
            cell = self.nb.cells[index]
            if index in self._skipped or not self._needed(cell):
                continue
            if self._notebook is not None and grade_id(cell) in self._notebook.tests:
                continue
            self._running_index = index
            quiet = nbformat.v4.new_code_cell(cell.source)
            try:
                self.execute_cell(quiet, index, store_history=False)
            finally:  # nbclient puts the cell it ran at its index: put back ours
                self.nb.cells[index] = cell

    # --- time limits ------------------------------------------------------------

    def _cell_timeout(self, cell: NotebookNode) -> float | None:
        """nbclient's timeout_func: the limit of the cell being run."""
        if self.limit_override is not None:
            return self.limit_override
        return self.limit_of(cell)

    def limit_of(self, cell: NotebookNode) -> float:
        """A cell's time limit in seconds (the trusted tests ask too)."""
        return self.limits.of(cell)

    def _was_stopped(self, cell: NotebookNode) -> bool:
        """Whether the cell was stopped at its time limit (and the kernel obeyed)."""
        return any(
            output.get("ename") == "CellTimeoutError"
            for output in cell.get("outputs", [])
        )

    def _record_stop(self, cell: NotebookNode, index: int) -> None:
        """A cell stopped at its limit: say so there; from now on run only what the
        graded tests need; remember the function that hung."""
        name = cell_name(self.nb, index)
        if not (self._notebook is not None and grade_id(cell) in self._notebook.tests):
            cell.outputs.append(
                grader_note(
                    f"This cell was stopped at its time limit, "
                    f"{self.limits.sentence(cell)}."
                )
            )
        sentence = (
            f"ran past its time limit in cell {name}: {self.limits.sentence(cell)}"
            if self.limits.from_course
            else f"ran past the {self.limit_of(cell):g} s cell limit in {name}"
        )
        self._events.append((Status.TIMEOUT, sentence))
        if not self._graded_only:
            self._graded_only = f"cell {name} ran past its time limit"
        self._notify_hung(cell, index)

    def _notify_hung(self, cell: NotebookNode, index: int) -> None:
        """Tell the trusted tests which of the student's functions hung here: the
        innermost of them in the interrupted cell's traceback."""
        if self._trusted is None:
            return
        for name in hung_functions(cell, self._notebook.answer_names):
            self._trusted.channel.note_hung(name, cell_name(self.nb, index))

    @staticmethod
    def _what_happened(status: Status) -> str:
        return "died" if status == Status.KERNEL_DIED else f"was stopped ({status})"

    # --- the kernel -----------------------------------------------------------

    def preprocess_cell(self, cell, resources, index):
        """Remember which cell is running, then run it (graded tests run here)."""
        self._running_index = index
        try:
            if self._trusted is not None and self._trusted.handles(cell):
                return self._trusted.run(cell, index), resources
            return super().preprocess_cell(cell, resources, index)
        finally:  # also when the cell raised: the kernel still runs until cleanup
            self._note_iopub_cut()

    def create_kernel_manager(self):
        """Keep the kernel manager: what it saw is needed after nbclient drops it."""
        km = super().create_kernel_manager()
        if isinstance(km, GraderKernelManager) and self.output_limit:
            km.max_message = self.output_limit + MB
        self._km = km
        return km

    @property
    def _provisioner(self) -> SandboxProvisioner | None:
        """The provisioner of this notebook's kernel (kept after its shutdown)."""
        provisioner = getattr(getattr(self, "_km", None), "provisioner", None)
        return provisioner if isinstance(provisioner, SandboxProvisioner) else None

    def _kernel_outcome(self) -> KernelOutcome | None:
        """What the sandbox saw of this notebook's (latest) kernel."""
        provisioner = self._provisioner
        return provisioner.outcome() if provisioner and provisioner.kernel else None

    def _stopped(self, error: Exception) -> tuple[Status, str]:
        """Status and sentence for a kernel that died or ignored a stop."""
        if isinstance(error, KernelDidNotStart):
            return Status.KERNEL_DIED, str(error)
        kernel = self._kernel_outcome()
        breach = fatal_breach(self.nb, kernel, self._output, self._iopub_cut)
        if breach:
            return breach
        if self._killed_for_time:
            return Status.TIMEOUT, (
                f"the notebook ran past its {self.notebook_timeout} s limit"
            )
        if isinstance(error, CellTimeoutError):
            cell = self.nb.cells[max(self._running_index, 0)]
            if not self.limits.from_course:
                limit = self.limit_of(cell)
                return Status.TIMEOUT, (
                    f"a cell ran past its {limit:g} s limit and ignored the stop"
                )
            return Status.TIMEOUT, (
                f"ran past its time limit, {self.limits.sentence(cell)}, and ignored "
                "the stop"
            )
        return Status.KERNEL_DIED, death_detail(kernel)

    def _note_iopub_cut(self) -> None:
        """A cut iopub connection while the kernel still runs: it sent a message
        over the limit (when the kernel died, its connection went with it)."""
        kc, provisioner = getattr(self, "kc", None), self._provisioner
        if kc is None or provisioner is None or not hasattr(kc, "iopub_disconnected"):
            return
        if kc.iopub_disconnected() and provisioner.alive():
            self._iopub_cut = True

    def _kill_for_time(self) -> None:
        """Kill the kernel and whatever it started (runs on the watchdog thread)."""
        provisioner = self._provisioner
        if provisioner is None or not provisioner.alive():
            return
        self._killed_for_time = True
        provisioner.kill_now()

    # --- output ---------------------------------------------------------------

    def process_message(self, msg, cell, cell_index):
        """Count output; past the limit drop it, stop the cell, at twice kill it."""
        verdict = self._output.count(msg, cell_index)
        if verdict is Verdict.KEEP:
            return super().process_message(msg, cell, cell_index)
        if verdict is Verdict.STOP_CELL:
            cell.outputs.append(self._output.notice())
            self._stop_cell()
        elif verdict is Verdict.KILL and self._provisioner is not None:
            self._provisioner.kill_now()
        if msg["msg_type"] != "error":
            return None
        return super().process_message(trimmed_error(msg), cell, cell_index)

    def _stop_cell(self) -> None:
        """Interrupt the running cell (a message or signal, as the kernel wants)."""
        km = getattr(self, "km", None)
        if km is None:
            return
        try:
            task = asyncio.ensure_future(km.interrupt_kernel())
        except RuntimeError:
            return
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    # --- the record -----------------------------------------------------------

    def _write_status(self, resources, status: Status, detail: str) -> None:
        """Record how the run ended for the grader (outside the student's folder),
        with each code cell's time."""
        if self.status_dir:
            name = (resources or {}).get("unique_key", "notebook")
            write_record(
                self.status_dir, name, RunRecord(status, detail, self._seconds)
            )
