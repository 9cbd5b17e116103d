"""An nbgrader Execute preprocessor that survives dead kernels and hung notebooks.

Stock nbgrader stops at a dead kernel, deletes the student's autograded folder and
records nothing. ResilientExecute instead gives credit for the cells that ran, marks
every cell that did not run with an error (so its tests score 0, not full marks),
runs the graded test cells in the grader (grader.nbx.trusted), keeps output within
its limit, and writes how the run ended to a status file outside the student's
folder.
"""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Integer, Unicode

from ..course import Course, cell_name
from ..kernel.command import MB
from ..kernel.manager import GraderKernelManager
from ..kernel.provisioner import KernelOutcome, SandboxProvisioner
from ..kernel.sandbox import KernelDidNotStart
from ..model import Status
from .limits import (
    OutputLimit,
    Verdict,
    death_detail,
    fatal_breach,
    survived_breach,
    trimmed_error,
)
from .trusted import TrustedTests

NOT_RUN = "NotRun"


def status_path(status_dir: str | Path, notebook: str) -> Path:
    """Where ResilientExecute records how one notebook's run ended."""
    return Path(status_dir) / f"{notebook}.status.json"


class ResilientExecute(Execute):
    """Execute every cell; a dead or killed kernel costs only the cells after it.

    Kernels start through grader.kernel (GraderKernelManager and the sandbox
    provisioner) unless `kernel_manager_class` is configured.
    """

    notebook_timeout = Integer(
        600, help="Seconds the whole notebook may run before its kernel is killed."
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
        """Run the notebook; after a dead or killed kernel, mark the cells not run."""
        self._output = OutputLimit(self.output_limit)
        self._pending: set = set()
        self._km = None
        self._iopub_cut = False
        self._running_index = -1
        self._killed_for_time = False
        stem = (resources or {}).get("unique_key", "")
        self._trusted = (
            TrustedTests(self, self._course.notebook(stem), self._course.source_dir)
            if self._course is not None and stem in self._course.notebooks
            else None
        )
        watchdog = threading.Timer(self.notebook_timeout, self._kill_for_time)
        watchdog.daemon = True
        status, detail = Status.OK, ""
        watchdog.start()
        try:
            nb, resources = super().preprocess(nb, resources, km)
        except (DeadKernelError, CellTimeoutError, KernelDidNotStart) as error:
            index = max(self._running_index, 0)
            status, detail = self._stopped(nb, error)
            detail += f" in cell {cell_name(nb, index)}"
            self._mark_not_run(nb, index, detail)
        except Exception as error:  # never let one notebook sink the student's others
            index = max(self._running_index, 0)
            status = Status.GRADER_ERROR
            detail = f"running cell {cell_name(nb, index)} failed: {error!r}"
            self._mark_not_run(nb, index, detail[:300])
        finally:
            watchdog.cancel()
        if status == Status.OK:
            status, detail = self._cell_timeouts(nb)
        status, detail = survived_breach(
            nb, self._kernel_outcome(), self._output, status, detail
        )
        self._write_status(resources, status, detail)
        return nb, resources

    def _stopped(self, nb: NotebookNode, error: Exception) -> tuple[Status, str]:
        """Status and sentence for a run that ended early."""
        if isinstance(error, KernelDidNotStart):
            return Status.KERNEL_DIED, str(error)
        kernel = self._kernel_outcome()
        breach = fatal_breach(nb, kernel, self._output, self._iopub_cut)
        if breach:
            return breach
        if self._killed_for_time:
            return Status.TIMEOUT, (
                f"the notebook ran past its {self.notebook_timeout} s limit"
            )
        if isinstance(error, CellTimeoutError):
            return Status.TIMEOUT, (
                f"a cell ran past its {self.timeout} s limit and ignored the stop"
            )
        return Status.KERNEL_DIED, death_detail(kernel)

    def preprocess_cell(self, cell, resources, index):
        """Remember which cell is running, then run it (graded tests run here)."""
        self._running_index = index
        try:
            if self._trusted is not None and self._trusted.handles(cell):
                return self._trusted.run(cell, index), resources
            return super().preprocess_cell(cell, resources, index)
        finally:  # also when the cell raised: the kernel still runs until cleanup
            self._note_iopub_cut()

    # --- the kernel -----------------------------------------------------------

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
        """What the sandbox saw of this notebook's kernel (None: not ours)."""
        provisioner = self._provisioner
        return provisioner.outcome() if provisioner and provisioner.kernel else None

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

    @staticmethod
    def _mark_not_run(nb: NotebookNode, first: int, detail: str) -> None:
        """Give each code cell from `first` on an error output saying it did not run."""
        for cell in nb.cells[first:]:
            if cell.cell_type != "code":
                continue
            cell.outputs.append(
                NotebookNode(
                    output_type="error",
                    ename=NOT_RUN,
                    evalue=f"not run: {detail}",
                    traceback=[f"{NOT_RUN}: not run: {detail}"],
                )
            )

    def _cell_timeouts(self, nb: NotebookNode) -> tuple[Status, str]:
        """(timeout, which cells) when a cell was interrupted at its limit, else ok."""
        late = [
            cell_name(nb, index)
            for index, cell in enumerate(nb.cells)
            for output in cell.get("outputs", [])
            if output.get("output_type") == "error"
            and output.get("ename") == "CellTimeoutError"
        ]
        if not late:
            return Status.OK, ""
        return Status.TIMEOUT, (
            f"ran past the {self.timeout} s cell limit in {', '.join(late)}"
        )

    def _write_status(self, resources, status: Status, detail: str) -> None:
        """Record how the run ended for the grader (outside the student's folder)."""
        if not self.status_dir:
            return
        name = (resources or {}).get("unique_key", "notebook")
        path = status_path(self.status_dir, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"status": str(status), "detail": detail}))
