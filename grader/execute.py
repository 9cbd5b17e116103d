"""An nbgrader Execute preprocessor that survives dead kernels and hung notebooks.

Stock nbgrader stops at a dead kernel, deletes the student's autograded folder and
records nothing. ResilientExecute instead gives credit for the cells that ran, marks
every cell that did not run with an error (so its tests score 0, not full marks), and
writes why to a status file outside the student's folder.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Integer, Unicode

from .limits import LimitChecks
from .results import GRADER_ERROR, KERNEL_DIED, OK, TIMEOUT
from .sandbox import LimitedKernelManager
from .trusted_tests import TrustedTests

NOT_RUN = "NotRun"


def status_path(status_dir: str | Path, notebook: str) -> Path:
    """Where ResilientExecute records how one notebook's run ended."""
    return Path(status_dir) / f"{notebook}.status.json"


class ResilientExecute(LimitChecks, Execute):
    """Execute every cell; a dead or killed kernel costs only the cells after it.

    The kernel runs under grader.sandbox.LimitedKernelManager unless
    `kernel_manager_class` is configured; LimitChecks (grader.limits) enforces the
    output limit and names the limit a notebook hit.
    """

    notebook_timeout = Integer(
        600, help="Seconds the whole notebook may run before its kernel is killed."
    ).tag(config=True)

    status_dir = Unicode(
        "", help="Folder for <notebook>.status.json files; '' writes none."
    ).tag(config=True)

    trusted_source = Unicode(
        "",
        help="Folder of the source notebooks: their graded test cells run in the "
        "grader's process (grader/trusted_tests.py); '' runs them in the kernel.",
    ).tag(config=True)

    def __init__(self, **kwargs):
        config = kwargs.get("config")
        if config is None or "kernel_manager_class" not in config.ResilientExecute:
            kwargs.setdefault("kernel_manager_class", LimitedKernelManager)
        super().__init__(**kwargs)

    def preprocess(self, nb: NotebookNode, resources=None, km=None):
        """Run the notebook; after a dead or killed kernel, mark the cells not run."""
        self._reset_limits()
        self._running_index = -1
        stem = (resources or {}).get("unique_key", "")
        self._trusted = TrustedTests.for_notebook(self, self.trusted_source, stem)
        self._killed_for_time = False
        watchdog = threading.Timer(self.notebook_timeout, self._kill_kernel)
        watchdog.daemon = True
        status, detail = OK, ""
        watchdog.start()
        try:
            nb, resources = super().preprocess(nb, resources, km)
        except (DeadKernelError, CellTimeoutError) as error:
            index = max(self._running_index, 0)
            breach = self._fatal_breach(nb)
            if breach:
                status, detail = breach
            elif self._killed_for_time:
                status = TIMEOUT
                detail = f"the notebook ran past its {self.notebook_timeout} s limit"
            elif isinstance(error, CellTimeoutError):
                status = TIMEOUT
                detail = (
                    f"a cell ran past its {self.timeout} s limit and ignored the stop"
                )
            else:
                status = KERNEL_DIED
                detail = self._death_detail()
            detail += f" in cell {self._cell_name(nb, index)}"
            self._mark_not_run(nb, index, detail)
        except Exception as error:  # never let one notebook sink the student's others
            index = max(self._running_index, 0)
            status = GRADER_ERROR
            detail = f"running cell {self._cell_name(nb, index)} failed: {error!r}"
            self._mark_not_run(nb, index, detail[:300])
        finally:
            watchdog.cancel()
        if status == OK:
            status, detail = self._cell_timeouts(nb)
        status, detail = self._limit_status(nb, status, detail)
        self._write_status(resources, status, detail)
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        """Remember which cell is running, then run it (graded tests run here)."""
        self._running_index = index
        if self._trusted is not None and self._trusted.handles(cell):
            return self._trusted.run(cell, index), resources
        return super().preprocess_cell(cell, resources, index)

    def _kill_kernel(self) -> None:
        """Kill the kernel and whatever it started (runs on the watchdog thread)."""
        km = getattr(self, "km", None)
        process = getattr(getattr(km, "provisioner", None), "process", None)
        if process is None or process.poll() is not None:
            return
        self._killed_for_time = True
        if isinstance(km, LimitedKernelManager):
            km.kill_now()  # a forked kernel's pid is the server's to signal
            return
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            process.kill()

    @staticmethod
    def _cell_name(nb: NotebookNode, index: int) -> str:
        """A cell's nbgrader grade_id, or its position."""
        cell = nb.cells[index]
        return cell.metadata.get("nbgrader", {}).get("grade_id") or f"#{index + 1}"

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

    def _cell_timeouts(self, nb: NotebookNode) -> tuple[str, str]:
        """(timeout, which cells) when a cell was interrupted at its limit, else ok."""
        late = [
            self._cell_name(nb, index)
            for index, cell in enumerate(nb.cells)
            for output in cell.get("outputs", [])
            if output.get("output_type") == "error"
            and output.get("ename") == "CellTimeoutError"
        ]
        if not late:
            return OK, ""
        return TIMEOUT, f"ran past the {self.timeout} s cell limit in {', '.join(late)}"

    def _write_status(self, resources, status: str, detail: str) -> None:
        """Record how the run ended for the grader (outside the student's folder)."""
        if not self.status_dir:
            return
        name = (resources or {}).get("unique_key", "notebook")
        path = status_path(self.status_dir, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"status": status, "detail": detail}))
