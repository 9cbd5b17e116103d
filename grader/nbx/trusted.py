"""Run graded test cells in the grader's process; only the student's code runs remotely.

In stock nbgrader a hidden test runs in the student's kernel, after the student's
code, so that code can replace numpy.isclose, the helper's checks or builtins and
pass every test. Here the test cell's code, taken from the course source (never from
the submission), runs in the grader's own process, with the course's imports and
data. The names the student's answer cells define are looked up in the kernel when
the test reads them: data comes back as a copy, functions as handles that run in the
kernel when called (grader.nbx.remote). References, expected values and comparisons
never enter the kernel, so whatever the student's code patched there can only change
what their own functions return.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import sys
from functools import cache
from pathlib import Path

import nbformat
import numpy as np
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

from ..course import Notebook, grade_id, is_test
from .cell_limits import STOPPED, CellLimits, hung_functions
from .remote import CallTimedOut, KernelChannel


@cache
def _setup_namespace(source_dir: str, setup: str) -> dict:
    """The course's imports and data, run once per process in the grader."""
    if source_dir not in sys.path:
        sys.path.insert(0, source_dir)
    namespace = {"__builtins__": builtins, "__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(setup, "<course setup>", "exec"), namespace)
    for value in namespace.values():
        if isinstance(value, np.ndarray):
            value.flags.writeable = False  # each test gets its own copy
    return namespace


class Namespace(dict):
    """A test cell's globals: course names here, the student's names in the kernel."""

    def __init__(self, channel: KernelChannel, student_names: frozenset, base: dict):
        super().__init__(
            (key, value.copy() if isinstance(value, np.ndarray) else value)
            for key, value in base.items()
        )
        self._channel = channel
        self._student_names = student_names

    def __missing__(self, name: str):
        if name not in self._student_names:
            raise KeyError(name)
        value = self._channel.get(name)
        dict.__setitem__(self, name, value)
        return value

    def __setitem__(self, name: str, value) -> None:
        if name in self._student_names:
            self._channel.set(name, value)
        dict.__setitem__(self, name, value)


class TrustedTests:
    """Runs one notebook's graded test cells, for its executor (ResilientExecute).

    notebook: the course's model of the notebook (its tests, setup, answer names).
    source_dir: the folder the course's helper package is imported from.
    channel: the requests to the notebook's kernel.
    cell_limits: each cell's time limit (a test's requests get its cell's).
    """

    def __init__(
        self,
        notebook: Notebook,
        source_dir: Path,
        channel: KernelChannel,
        cell_limits: CellLimits,
    ) -> None:
        self.notebook = notebook
        self.source_dir = str(source_dir)
        self.channel = channel
        self.cell_limits = cell_limits

    def handles(self, cell: NotebookNode) -> bool:
        """Whether a cell is one of the source's graded test cells."""
        return is_test(cell) and grade_id(cell) in self.notebook.tests

    def new_kernel(self) -> None:
        """The notebook's kernel was replaced: nothing of ours is in the new one."""
        self.channel.reset()

    def suspect(self, cell: NotebookNode, where: str) -> None:
        """The cell `where` was stopped or killed its kernel: later tests give the
        student's functions that hung it a short limit (grader.nbx.cell_limits)."""
        for name in hung_functions(cell, self.notebook.answer_names):
            self.channel.note_hung(name, where)

    def run(self, cell: NotebookNode, index: int) -> NotebookNode:
        """Run a graded test cell's source code here; record its output in the cell.

        A call stopped at its limit is recorded as nbgrader records a cell stopped
        at its limit (cell_limits.STOPPED)."""
        name = grade_id(cell)
        source = self.notebook.tests[name]
        self.channel.begin(index, name, self.cell_limits.of(cell))
        base = _setup_namespace(self.source_dir, self.notebook.setup)
        namespace = Namespace(self.channel, self.notebook.answer_names, base)
        printed = io.StringIO()
        cell.outputs = []
        error = None
        try:
            with contextlib.redirect_stdout(printed):
                exec(compile(source, f"<graded test {name}>", "exec"), namespace)
        except Exception as raised:  # the test failed: that is its verdict
            error = raised
        finally:
            self.channel.callbacks.forget()
        if printed.getvalue():
            cell.outputs.append(
                nbformat.v4.new_output("stream", name="stdout", text=printed.getvalue())
            )
        if error is not None:
            kind = STOPPED if isinstance(error, CallTimedOut) else type(error).__name__
            message = str(error)
            cell.outputs.append(
                nbformat.v4.new_output(
                    "error",
                    ename=kind,
                    evalue=message,
                    traceback=[f"{kind}: {message}"],
                )
            )
        # The kernel is gone or will not stop: the executor starts a new one.
        if self.channel.dead:
            raise DeadKernelError(f"the kernel died during graded test {name}")
        if self.channel.stuck:
            raise CellTimeoutError(f"the kernel ignored the stop in graded test {name}")
        return cell
