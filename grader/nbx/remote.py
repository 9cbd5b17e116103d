"""The grader's conversation with the runtime in a student's kernel.

Each request is a throwaway cell, `__grader__.request(JSON)`, that the kernel's
runtime (grader/inside/runtime.py) answers with a display message of type
wire.MIME, within a time limit: the graded test cell's, or a short one for a
function that ran past its limit before. While a request runs, the kernel may call
back the test's own functions (grader.nbx.callbacks). The channel runs its cells
through the notebook's executor (ThrowawayCells), and needs nothing else of it.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from functools import cache
from typing import Protocol

import nbclient.exceptions
import nbformat
from nbformat import NotebookNode

from ..inside import runtime, wire
from .callbacks import Callbacks
from .cell_limits import STOPPED, stopped_at_limit
from .kernel_values import (
    GraderChannelError,
    KernelObject,
    decode,
    student_error,
    write_back,
)

PROBE_SECONDS = 5  # how long a kernel may take to answer after an interrupt


class CallTimedOut(Exception):
    """The student's code ran past its time limit inside a graded test."""


class ThrowawayCells(Protocol):
    """What the channel needs of the notebook's executor."""

    def run_throwaway(
        self,
        cell: NotebookNode,
        index: int,
        limit: float | None,
        answer: Callable[[str], str] | None = None,
    ) -> None:
        """Run `cell` in the notebook's kernel as cell `index` (not saved in the
        notebook) within `limit` seconds, answering each input_request meanwhile
        with answer(prompt) when given. nbclient's CellTimeoutError when the kernel
        ignored the stop, DeadKernelError when it died."""


class KernelChannel:
    """Requests to one notebook's kernel, for its graded tests.

    cells: runs the requests (the notebook's executor).
    hung_limit: seconds a request about a function that ran past its limit before
    may take.
    """

    def __init__(self, cells: ThrowawayCells, hung_limit: float) -> None:
        self.cells = cells
        self.hung_limit = hung_limit
        self.index = 0  # the notebook cell the requests are made for
        self.limit: float | None = None  # seconds per request (the test cell's limit)
        self.cell = ""  # the graded test cell the requests are made for
        self.hung: dict[str, str] = {}  # function -> the cell where it ran too long
        self._requests = 0
        self.callbacks = Callbacks(self.decode)
        self.reset()

    def reset(self) -> None:
        """A new kernel: nothing installed in it, nothing pending."""
        self._installed = False
        self._busy = ""  # what kept the kernel busy past a timeout, if it still is
        self.dead = False  # the kernel died during a request
        self.stuck = False  # the kernel ignored the stop after a request's limit
        self.callbacks.forget()

    def begin(self, index: int, cell: str, limit: float | None) -> None:
        """Requests from now on are for graded test `cell`, the notebook's cell at
        `index`, each within `limit` seconds."""
        self.index, self.cell, self.limit = index, cell, limit

    def note_hung(self, label: str, where: str) -> None:
        """`label` ran past its limit in cell `where`: later calls get a short one."""
        self.hung.setdefault(label, where)

    # --- what tests do --------------------------------------------------------

    def get(self, name: str):
        """The value of one of the student's names, from the kernel."""
        return self.decode(self._request("get", name=name), name)

    def set(self, name: str, value) -> None:
        """Bind one of the student's names in the kernel (tests swap in references:
        functions of the test's own are bound as callbacks to the grader)."""
        self._request("set", name=name, value=self._encode(value))

    def call(self, target: KernelObject, args: tuple, kwargs: dict):
        """Call a function in the kernel; mirror what it did to mutable arguments."""
        if self.callbacks.running:
            raise GraderChannelError(
                f"{target.label} cannot be called while the kernel waits for the grader"
            )
        answer = self._request(
            "call",
            target={"__handle__": target._key},
            args=self._encode(list(args)),
            kwargs=self._encode(dict(kwargs)),
            label=target.label,
        )
        if type(answer) is not dict or not {"result", "args", "kwargs"} <= set(answer):
            raise GraderChannelError(f"{target.label}: a malformed answer")
        for original, after in zip(args, answer["args"]):
            write_back(original, self.decode(after, target.label))
        for name, after in answer["kwargs"].items():
            if name in kwargs:
                write_back(kwargs[name], self.decode(after, target.label))
        return self.decode(answer["result"], f"the result of {target.label}")

    # --- values ---------------------------------------------------------------

    def _encode(self, value):
        """A value of the test's, ready to send to the kernel."""
        return wire.encode(value, self._handle_for)

    def _handle_for(self, value) -> dict:
        """A kernel object's handle, or a callback token for a test's function."""
        if isinstance(value, KernelObject):
            return {"__handle__": value._key}
        if inspect.isfunction(value):
            return self.callbacks.token(value)
        kind = type(value).__name__
        raise TypeError(f"a graded test cannot send a {kind} to the notebook")

    def decode(self, data, label: str):
        """A value from the kernel: plain data, or a KernelObject for the rest."""
        return decode(data, label, self)

    # --- requests -------------------------------------------------------------

    def _request(self, op: str, label: str = "", **fields):
        """Send one request to the kernel's runtime; its answer's value, or raise.

        label: what the request is about, for messages (default: the name it reads
        or binds)."""
        label = label or fields.get("name", "the code")
        if self._busy:
            raise CallTimedOut(
                f"not run: the notebook was still busy with {self._busy}"
            )
        if not self._installed:
            limit = self._limit_for("the grader")
            cell = self.execute(install_code(), "the grader", limit)
            self._raise_for_timeout(cell, "the grader", limit)
            self._installed = True
        self._requests += 1
        number = self._requests
        text = json.dumps({"op": op, "id": number, **fields})
        limit = self._limit_for(label)
        cell = self.execute(
            f"__grader__.request({text!r})", label, limit, answer_callbacks=True
        )
        answers = [
            json.loads(json.dumps(output["data"][wire.MIME]))  # plain dicts, not nodes
            for output in cell.outputs
            if output.get("output_type") == "display_data"
            and wire.MIME in output.get("data", {})
        ]
        answer = next(
            (a for a in reversed(answers) if type(a) is dict and a.get("id") == number),
            None,
        )
        if answer is None:
            self._raise_for_timeout(cell, label, limit)
            errors = [o for o in cell.outputs if o.get("output_type") == "error"]
            reason = f"{errors[-1]['ename']}: {errors[-1]['evalue']}" if errors else ""
            raise GraderChannelError(
                f"the notebook's kernel did not answer the grader {reason}".strip()
            )
        if "error" in answer:
            raise student_error(answer["error"], label)
        return answer.get("value")

    def _limit_for(self, label: str) -> float | None:
        """Seconds a request about `label` may take: the test cell's limit, or a
        short one for a function that ran past its limit before."""
        limit = self.limit
        if label in self.hung:
            limit = min(limit, self.hung_limit) if limit else self.hung_limit
        return limit

    def _raise_for_timeout(
        self, cell: NotebookNode, what: str, limit: float | None
    ) -> None:
        """Raise CallTimedOut when the request was stopped at its time limit."""
        if not stopped_at_limit(cell):
            return
        before = self.hung.get(what)
        self.hung.setdefault(what, self.cell or f"#{self.index + 1}")
        if not self._responds():
            self._busy = what
            self.stuck = True
        if before:
            raise CallTimedOut(
                f"{what} ran past its time limit again ({limit:g} s now: it had "
                f"already run past its limit in cell {before})"
            )
        raise CallTimedOut(f"{what} ran past the {limit:g} s cell limit")

    def _responds(self) -> bool:
        """Whether the kernel is free again after an interrupted request."""
        probe = self.execute("None", "the kernel", PROBE_SECONDS)
        return not any(o.get("output_type") == "error" for o in probe.outputs)

    def execute(
        self, code: str, label: str, limit: float | None, answer_callbacks=False
    ) -> NotebookNode:
        """Run code in the kernel as a throwaway cell within `limit` seconds,
        answering the kernel's callbacks meanwhile when asked to; the cell, with a
        STOPPED error when the kernel ignored the stop. GraderChannelError when the
        kernel died."""
        cell = nbformat.v4.new_code_cell(code)
        answer = self.callbacks.answer if answer_callbacks else None
        try:
            self.cells.run_throwaway(cell, self.index, limit, answer)
        except nbclient.exceptions.CellTimeoutError:
            cell.outputs.append(
                nbformat.v4.new_output("error", ename=STOPPED, evalue="")
            )
        except nbclient.exceptions.DeadKernelError:
            self.dead = True
            raise GraderChannelError(
                f"the kernel died while the graded test ran {label}"
            ) from None
        return cell


@cache
def install_code() -> str:
    """Code that installs the runtime in the kernel as __grader__."""
    wire_source = inspect.getsource(wire)
    runtime_source = inspect.getsource(runtime)
    return (
        "def __grader_install(wire_source, runtime_source):\n"
        "    import types\n"
        "    wire = types.ModuleType('grader_wire')\n"
        "    exec(compile(wire_source, '<grader wire>', 'exec'), wire.__dict__)\n"
        "    runtime = types.ModuleType('grader_runtime')\n"
        "    exec(compile(runtime_source, '<grader runtime>', 'exec'), "
        "runtime.__dict__)\n"
        "    return runtime.Runtime(wire, get_ipython())\n"
        f"__grader__ = __grader_install({wire_source!r}, {runtime_source!r})\n"
        "del __grader_install\n"
    )
