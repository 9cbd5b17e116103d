"""An nbgrader Execute preprocessor that is fair to students whose code fails.

Stock nbgrader stops at a dead kernel, deletes the student's autograded folder and
records nothing. ResilientExecute runs every cell with a time limit that fits it
(grader.nbx.cell_limits), runs the graded test cells in the grader
(grader.nbx.trusted), keeps output within its limit (grader.nbx.output_limit), and
writes how the run ended to a status file outside the student's folder
(grader.nbx.status), naming the limit it hit (grader.nbx.breaches).

When a cell is stopped at its limit or its kernel dies, the graded tests still run:
a new kernel goes on after the cell (grader.nbx.recovery says what runs again and
what is skipped). A function that ran past its limit once is given a short limit
when a graded test calls it again. Each cell that was stopped or died says so, with
the limit and what the answer key needed there. What one notebook's run keeps is
one NotebookRun (grader.nbx.notebook_run), made fresh for each notebook.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path
from queue import Empty

import nbformat
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, Unicode

from ..catalogue import contracts_module
from ..course import Course, cell_name
from ..kernel.manager import GraderKernelManager
from ..kernel.sandbox import KernelDidNotStart
from ..model import MB, Limits
from .cell_limits import CellLimits, stopped_at_limit
from .cell_marks import grader_line
from .kernel_watch import KernelWatch
from .notebook_run import NotebookRun
from .output_limit import OutputLimit, Verdict, trimmed_error
from .recovery import Recovery
from .references import Contract
from .remote import KernelChannel
from .status import RunRecorder, write_record
from .trusted import TrustedTests

STDIN_SLICE = 0.05  # seconds between looks at the stdin channel during a request


def course_contract(source_dir: Path) -> Contract | None:
    """The course's contracts.check_call (None: the course states none)."""
    try:
        return contracts_module(source_dir).check_call
    except FileNotFoundError:
        return None


class ResilientExecute(Execute):
    """Execute every cell; a cell that hangs or kills its kernel costs only itself
    and the graded tests of what it broke.

    Kernels start through grader.kernel (GraderKernelManager and the sandbox
    provisioner) unless `kernel_manager_class` is configured.
    """

    notebook_timeout = Integer(
        Limits.notebook_timeout,
        help="Seconds the whole notebook may run before its kernel is killed.",
    ).tag(config=True)
    course_cell_limits = Bool(
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
    reference_memory_mb = Integer(
        0,
        help="MB of memory a graded test's reference may use when the student's "
        "code calls it back (grader/nbx/references.py; 0: no limit).",
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
        self._run: NotebookRun | None = None

    # --- one notebook ---------------------------------------------------------

    def preprocess(self, nb: NotebookNode, resources=None, km=None):
        """Run the notebook as fairly as its code allows; record how it went."""
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        run = self._run = self._start((resources or {}).get("unique_key", ""))
        self.timeout_func = run.cell_limits.timeout
        watchdog = threading.Timer(self.notebook_timeout, run.kernel.kill_for_time)
        watchdog.daemon = True
        watchdog.start()
        try:
            start = 0
            while start < len(self.nb.cells):
                start = self._run_in_one_kernel(start, resources)
        except Exception as error:  # never let one notebook sink the student's others
            run.failed(error)
        finally:
            watchdog.cancel()
        self.set_widgets_metadata()
        record = run.record()
        if self.status_dir:
            name = (resources or {}).get("unique_key", "notebook")
            write_record(self.status_dir, name, record)
        return self.nb, self.resources

    def _start(self, stem: str) -> NotebookRun:
        """A fresh run for the notebook `stem`."""
        course = self._course
        known = course is not None and stem in course.notebooks
        notebook = course.notebook(stem) if known else None
        fixed = None if self.course_cell_limits else self.timeout
        cell_limits = CellLimits(course, stem, fixed, self.timeout)
        trusted = None
        if notebook is not None:
            channel = KernelChannel(
                self, self.hung_call_timeout, self.reference_memory_mb,
                course_contract(course.source_dir),
            )  # fmt: skip
            trusted = TrustedTests(notebook, course.source_dir, channel, cell_limits)
        return NotebookRun(
            self.nb, notebook, self.notebook_timeout, cell_limits,
            OutputLimit(self.output_limit), Recovery(notebook, self.restarts),
            RunRecorder(), KernelWatch(), trusted,
        )  # fmt: skip

    def _run_in_one_kernel(self, start: int, resources) -> int:
        """Run the cells from `start` in a new kernel (after a death: the setup and
        answers before `start` first); where to go on, past the last cell when done.
        """
        run = self._run
        try:
            with self.setup_kernel():
                reply = self.wait_for_reply(self.kc.kernel_info())
                self.nb.metadata["language_info"] = reply["content"]["language_info"]
                if run.trusted is not None:
                    run.trusted.new_kernel()
                for index in run.recovery.replayed(self.nb.cells, start):
                    self._replay(index)
                for index in range(start, len(self.nb.cells)):
                    self._run_cell(self.nb.cells[index], resources, index)
            return len(self.nb.cells)
        except (DeadKernelError, CellTimeoutError, KernelDidNotStart) as error:
            return run.kernel_lost(error, start)

    def _run_cell(self, cell: NotebookNode, resources, index: int) -> None:
        """Run one cell, or skip it when only what the graded tests need runs."""
        run = self._run
        if not run.recovery.runs(cell):
            if cell.cell_type == "code":
                cell.outputs.append(grader_line(run.recovery.skip_line()))
            return
        began = time.monotonic()
        self.preprocess_cell(cell, resources, index)
        if cell.cell_type == "code":
            run.recorder.time(cell_name(self.nb, index), time.monotonic() - began)
        if stopped_at_limit(cell):
            run.cell_stopped(cell, index)

    def _replay(self, index: int) -> None:
        """In a new kernel: run a setup or answer cell once more, quietly (its
        recorded outputs stay those of the student's own run)."""
        cell = self.nb.cells[index]
        self._run.running = index
        quiet = nbformat.v4.new_code_cell(cell.source)
        try:
            self.execute_cell(quiet, index, store_history=False)
        finally:  # nbclient puts the cell it ran at its index: put back ours
            self.nb.cells[index] = cell

    # --- the kernel (nbclient's hooks) ------------------------------------------

    def preprocess_cell(self, cell, resources, index):
        """Remember which cell is running, then run it (graded tests run here)."""
        run = self._run
        run.running = index
        try:
            if run.trusted is not None and run.trusted.handles(cell):
                try:
                    return run.trusted.run(cell, index), resources
                finally:  # nbclient put the test's throwaway cells at its index
                    self.nb.cells[index] = cell
            return super().preprocess_cell(cell, resources, index)
        finally:  # also when the cell raised: the kernel still runs until cleanup
            run.kernel.note_iopub(self.kc)

    def create_kernel_manager(self):
        """Keep the kernel manager: what it saw is needed after nbclient drops it."""
        km = super().create_kernel_manager()
        if isinstance(km, GraderKernelManager) and self.output_limit:
            km.max_message = self.output_limit + MB
        self._run.kernel.km = km
        return km

    def process_message(self, msg, cell, cell_index):
        """Count output; past the limit drop it, stop the cell, at twice kill it."""
        run = self._run
        verdict = run.output_limit.count(msg, cell_index)
        if verdict is Verdict.KEEP:
            return super().process_message(msg, cell, cell_index)
        if verdict is Verdict.ANSWER:  # the channel's, never the cell's
            return None
        if verdict is Verdict.STOP_CELL:
            cell.outputs.append(run.output_limit.notice())
            run.kernel.interrupt(self.km)
        elif verdict is Verdict.KILL:
            run.kernel.kill()
        if msg["msg_type"] != "error":
            return None
        return super().process_message(trimmed_error(msg), cell, cell_index)

    # --- cells run aside (grader.nbx.remote.ThrowawayCells) ---------------------

    def run_throwaway(
        self,
        cell: NotebookNode,
        index: int,
        limit: float | None,
        answer: Callable[[str], str] | None = None,
        request: int | None = None,
    ) -> dict | None:
        """Run `cell` in the kernel as cell `index`, not saved in the notebook,
        within `limit` seconds; answer(prompt) answers each input_request. With
        `request`, the output limit takes the runtime's answer to that request
        (grader.nbx.output_limit): returned, None when none came."""
        output_limit = self._run.output_limit
        if request is not None:
            output_limit.await_answer(request)
        try:
            with self._run.cell_limits.aside(limit):
                if answer is None:
                    self.execute_cell(cell, index, store_history=False)
                else:
                    run_sync(self._execute_answering)(cell, index, answer)
        finally:
            taken = output_limit.take_answer()
        return taken if request is not None else None

    async def _execute_answering(
        self, cell: NotebookNode, index: int, answer: Callable[[str], str]
    ) -> None:
        """Execute a cell while answering the kernel's input requests."""
        kc = self.kc
        kc.allow_stdin = True
        answering = asyncio.ensure_future(_answer_stdin(kc, answer))
        try:
            await self.async_execute_cell(cell, index, store_history=False)
        finally:
            answering.cancel()
            kc.allow_stdin = False
            try:
                await answering
            except asyncio.CancelledError:
                pass


async def _answer_stdin(kc, answer: Callable[[str], str]) -> None:
    """Answer each input_request of the kernel with answer(prompt)."""
    while True:
        try:
            message = await kc.get_stdin_msg(timeout=STDIN_SLICE)
        except Empty:
            continue
        if message.get("msg_type") != "input_request":
            continue
        kc.input(answer(str(message.get("content", {}).get("prompt", ""))))
