"""A notebook and a kernel small enough to test the executor's parts alone.

`tiny_notebook()` is an nbgrader notebook of six cells (setup, an answer, a check,
a graded test, a plot, markdown). `InProcessKernel` stands in for the executor's
ThrowawayCells (grader.nbx.remote): it runs each throwaway cell in this process,
with the real kernel runtime (grader.inside.runtime) on the IPython surface it
uses, so the channel's own logic is tested in milliseconds. The real kernel, its
sandbox and nbclient are tested end to end in test_execute, test_trusted and the
grading suites.
"""

from __future__ import annotations

import nbclient.exceptions
import nbformat

from grader.course import Notebook
from grader.nbx.cell_limits import STOPPED


def graded(cell, grade_id: str, *, solution=False, grade=False, points=0):
    """`cell` with nbgrader metadata."""
    cell.metadata["nbgrader"] = {
        "grade_id": grade_id, "solution": solution, "grade": grade,
        "locked": not solution, "points": points, "schema_version": 3,
    }  # fmt: skip
    return cell


def tiny_notebook() -> nbformat.NotebookNode:
    """Setup, an answer (f), a check, a graded test, a plot, then markdown."""
    code = nbformat.v4.new_code_cell
    return nbformat.v4.new_notebook(
        cells=[
            graded(code("import numpy as np"), "setup"),
            graded(code("def f(x):\n    return 2 * x"), "answer_f", solution=True),
            code("print(f(1))"),
            graded(code("assert f(2) == 4"), "test_f", grade=True, points=2),
            code("plot(f)"),
            nbformat.v4.new_markdown_cell("The end."),
        ]
    )


def tiny_model() -> Notebook:
    """The course's model of tiny_notebook()."""
    return Notebook("01_sigmoid", tiny_notebook(), None)


class Interrupted(BaseException):
    """Raised by the student's code here: the cell was stopped at its limit
    (BaseException, as KeyboardInterrupt: the runtime does not catch it)."""


class IgnoresStop(BaseException):
    """Raised by the student's code here: the kernel ignored the stop."""


class Dies(BaseException):
    """Raised by the student's code here: the kernel died."""


class InProcessKernel:
    """ThrowawayCells that runs cells here, in `user_ns`.

    deaf: after a stop, the kernel stays busy (even a probe is stopped).
    runs: (code, index, limit) of every cell run, in order.
    """

    def __init__(self, **names) -> None:
        self.user_ns = {"get_ipython": lambda: self, **names}
        self.display_pub = self  # the runtime publishes its answers here
        self.kernel = self  # and asks the grader back with raw_input
        self.deaf = False
        self._busy = False
        self.runs: list[tuple[str, int, float | None]] = []
        self._cell = None
        self._answer = None

    def publish(self, data, metadata) -> None:
        self._cell.outputs.append(
            nbformat.v4.new_output("display_data", data=data, metadata=metadata)
        )

    def raw_input(self, prompt: str) -> str:
        return self._answer(prompt) if self._answer else ""

    def run_throwaway(self, cell, index, limit, answer=None) -> None:
        self.runs.append((cell.source, index, limit))
        self._cell, self._answer = cell, answer
        try:
            if self._busy:
                raise Interrupted
            exec(compile(cell.source, "<cell>", "exec"), self.user_ns)
        except Interrupted:
            self._busy = self.deaf
            cell.outputs.append(
                nbformat.v4.new_output("error", ename=STOPPED, evalue="", traceback=[])
            )
        except IgnoresStop:
            raise nbclient.exceptions.CellTimeoutError("no reply") from None
        except Dies:
            raise nbclient.exceptions.DeadKernelError("Kernel died") from None
        except Exception as error:
            kind = type(error).__name__
            output = nbformat.v4.new_output("error", ename=kind, evalue=str(error))
            cell.outputs.append(output)
        finally:
            self._cell = self._answer = None

    def define(self, source: str) -> None:
        """Run the student's code in the kernel (as a notebook cell would)."""
        exec(compile(source, "<notebook>", "exec"), self.user_ns)
