"""The grader's conversation with the runtime in a student's kernel.

Each request is a throwaway cell, `__grader__.request(JSON)`, that the kernel's
runtime (grader/inside/runtime.py) answers with a display message of type
wire.MIME. While a request runs, the kernel may call back: a function the grader
bound in the kernel (a test's reference, swapped in for stage independence) is only
a token there, and calling it sends its arguments to the grader on the stdin channel
(an input_request); the grader runs the function here and answers with an
input_reply. So no code of the grader's ever reaches the kernel.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import secrets
from collections.abc import Callable
from functools import cache, lru_cache
from queue import Empty

import nbclient.exceptions
import nbformat
import numpy as np
from jupyter_core.utils import run_sync
from nbformat import NotebookNode

from ..inside import runtime, wire

PROBE_SECONDS = 5  # how long a kernel may take to answer after an interrupt
STDIN_SLICE = 0.05  # seconds between looks at the stdin channel during a request


class StudentCodeError(Exception):
    """The student's code raised while a graded test called it."""


class GraderChannelError(Exception):
    """The kernel did not answer a graded test's request."""


class CellTimeoutError(Exception):
    """The student's code ran past the cell time limit inside a graded test."""


class KernelObject:
    """Something that lives in the student's kernel; calling it runs it there."""

    def __init__(self, channel: KernelChannel, data: dict, label: str):
        self._channel = channel
        self._key = data["__handle__"]
        self._type = str(data.get("type", "object"))
        self._repr = str(data.get("repr", ""))
        self._callable = bool(data.get("callable"))
        self.label = label

    def __call__(self, *args, **kwargs):
        if not self._callable:
            raise TypeError(f"{self.label} is a {self._type}, not a function")
        return self._channel.call(self, args, kwargs)

    def __repr__(self) -> str:
        return f"<{self._type} from the notebook: {self._repr}>"


@lru_cache(maxsize=256)
def _kernel_type(name: str) -> type[KernelObject]:
    """A KernelObject class named as the object's type in the kernel, so that a
    check saying "got <type>" names what the student's code returned."""
    return type(name, (KernelObject,), {"__module__": "notebook"})


class KernelChannel:
    """Requests to one notebook's kernel, through its executor (an nbclient client).

    index: the notebook cell the requests are made for (outputs are discarded).
    """

    def __init__(self, client) -> None:
        self.client = client
        self.index = 0
        self.limit: float | None = None  # seconds per request (the test cell's limit)
        self.cell = ""  # the graded test cell the requests are made for
        self.hung: dict[str, str] = {}  # function -> the cell where it ran too long
        self._requests = 0
        self._callbacks: dict[str, Callable] = {}
        self._in_callback = False
        self.reset()

    def reset(self) -> None:
        """A new kernel: nothing installed in it, nothing pending."""
        self._installed = False
        self._busy = ""  # what kept the kernel busy past a timeout, if it still is
        self.dead = False  # the kernel died during a request
        self.stuck = False  # the kernel ignored the stop after a request's limit
        self._callbacks.clear()

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
        if self._in_callback:
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
            _write_back(original, self.decode(after, target.label))
        for name, after in answer["kwargs"].items():
            if name in kwargs:
                _write_back(kwargs[name], self.decode(after, target.label))
        return self.decode(answer["result"], f"the result of {target.label}")

    def forget_callbacks(self) -> None:
        """Revoke every callback bound so far (at the end of each test)."""
        self._callbacks.clear()

    # --- values ---------------------------------------------------------------

    def _encode(self, value):
        """A value of the test's, ready to send to the kernel."""
        return wire.encode(value, self._handle_for)

    def _handle_for(self, value) -> dict:
        """A kernel object's handle, or a callback token for a test's function."""
        if isinstance(value, KernelObject):
            return {"__handle__": value._key}
        if inspect.isfunction(value):
            token = secrets.token_hex(16)
            self._callbacks[token] = value
            return {"__callback__": token, "name": value.__name__}
        kind = type(value).__name__
        raise TypeError(f"a graded test cannot send a {kind} to the notebook")

    def decode(self, data, label: str):
        """A value from the kernel: plain data, or a KernelObject for the rest."""

        def resolve(item: dict):
            if "__handle__" not in item or type(item["__handle__"]) is not int:
                raise wire.WireError(f"unexpected {sorted(item)!r}")
            return _kernel_type(str(item.get("type", "object")))(self, item, label)

        try:
            return wire.decode(data, resolve)
        except (wire.WireError, RecursionError, ValueError, TypeError) as error:
            raise GraderChannelError(f"{label}: unreadable answer ({error})") from None

    # --- requests -------------------------------------------------------------

    def _request(self, op: str, label: str = "", **fields):
        """Send one request to the kernel's runtime; its answer's value, or raise.

        label: what the request is about, for messages (default: the name it reads
        or binds)."""
        label = label or fields.get("name", "the code")
        if self._busy:
            raise CellTimeoutError(
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
            raise _student_error(answer["error"], label)
        return answer.get("value")

    def _limit_for(self, label: str) -> float | None:
        """Seconds a request about `label` may take: the test cell's limit, or a
        short one for a function that ran past its limit before."""
        limit = self.limit or getattr(self.client, "timeout", None)
        if label in self.hung:
            short = getattr(self.client, "hung_call_timeout", PROBE_SECONDS)
            limit = min(limit, short) if limit else short
        return limit

    def _raise_for_timeout(
        self, cell: NotebookNode, what: str, limit: float | None
    ) -> None:
        """Raise CellTimeoutError when the request was stopped at its time limit."""
        if not any(o.get("ename") == "CellTimeoutError" for o in cell.outputs):
            return
        before = self.hung.get(what)
        self.hung.setdefault(what, self.cell or f"#{self.index + 1}")
        if not self._responds():
            self._busy = what
            self.stuck = True
        if before:
            raise CellTimeoutError(
                f"{what} ran past its time limit again ({limit:g} s now: it had "
                f"already run past its limit in cell {before})"
            )
        raise CellTimeoutError(f"{what} ran past the {limit:g} s cell limit")

    def _responds(self) -> bool:
        """Whether the kernel is free again after an interrupted request."""
        probe = self.execute("None", "the kernel", PROBE_SECONDS)
        return not any(o.get("output_type") == "error" for o in probe.outputs)

    def execute(
        self, code: str, label: str, limit: float | None, answer_callbacks=False
    ) -> NotebookNode:
        """Run code in the kernel as a throwaway cell (not saved in the notebook),
        within `limit` seconds, answering the kernel's callbacks meanwhile when
        asked to. GraderChannelError when the kernel died."""
        cell = nbformat.v4.new_code_cell(code)
        previous = getattr(self.client, "limit_override", None)
        self.client.limit_override = limit
        try:
            if answer_callbacks:
                run_sync(self._execute_answering)(cell)
            else:
                self.client.execute_cell(cell, self.index, store_history=False)
        except nbclient.exceptions.CellTimeoutError:
            cell.outputs.append(
                nbformat.v4.new_output("error", ename="CellTimeoutError", evalue="")
            )
        except nbclient.exceptions.DeadKernelError:
            self.dead = True
            raise GraderChannelError(
                f"the kernel died while the graded test ran {label}"
            ) from None
        finally:
            self.client.limit_override = previous
        return cell

    async def _execute_answering(self, cell: NotebookNode) -> None:
        """Execute a cell while answering the kernel's input requests."""
        kc = self.client.kc
        kc.allow_stdin = True
        answering = asyncio.ensure_future(self._answer_stdin(kc))
        try:
            await self.client.async_execute_cell(cell, self.index, store_history=False)
        finally:
            answering.cancel()
            kc.allow_stdin = False
            try:
                await answering
            except asyncio.CancelledError:
                pass

    async def _answer_stdin(self, kc) -> None:
        """Answer each input_request: a callback runs here; anything else gets ""."""
        while True:
            try:
                message = await kc.get_stdin_msg(timeout=STDIN_SLICE)
            except Empty:
                continue
            if message.get("msg_type") != "input_request":
                continue
            prompt = str(message.get("content", {}).get("prompt", ""))
            kc.input(self._callback_answer(prompt))

    def _callback_answer(self, prompt: str) -> str:
        """The input_reply for one input_request: a callback's result, or ""."""
        if not prompt.startswith(runtime.CALLBACK_PREFIX):
            return ""  # the student's own input(): there is no one to answer
        try:
            request = json.loads(prompt[len(runtime.CALLBACK_PREFIX) :])
            function = self._callbacks[str(request["callback"])]
            label = f"the grader's {function.__name__}"
            args = self.decode(request["args"], label)
            kwargs = self.decode(request["kwargs"], label)
            if type(args) is not list or type(kwargs) is not dict:
                raise GraderChannelError(f"{label}: malformed arguments")
        except (ValueError, KeyError, TypeError, GraderChannelError):
            return json.dumps({"error": "not a callback of this test"})
        self._in_callback = True
        try:
            value = function(*args, **kwargs)
            answer = {"value": wire.encode(value, _unsendable)}
        except Exception as error:  # the reference itself failed on these arguments
            answer = {"error": f"{type(error).__name__}: {error}"[:500]}
        finally:
            self._in_callback = False
        return json.dumps(answer)


def _unsendable(value) -> dict:
    raise TypeError(f"a reference cannot return a {type(value).__name__}")


def _student_error(error: dict, label: str) -> Exception:
    """The exception a graded test sees when the student's code raised."""
    name = str(error.get("ename", "Error"))
    message = str(error.get("evalue", ""))
    where = error.get("where") or []
    lines = "; ".join(str(line) for line in where[-2:] if isinstance(line, str))
    text = f"{label} raised {name}: {message}"
    return StudentCodeError(f"{text} (at {lines})" if lines else text)


def _write_back(original, after) -> None:
    """Make a test's argument reflect what the student's function did to its copy."""
    if after is None:
        return
    if isinstance(original, np.ndarray) and isinstance(after, np.ndarray):
        if original.shape == after.shape and original.flags.writeable:
            original[...] = after
    elif type(original) is list and type(after) is list:
        original[:] = after
    elif type(original) is dict and type(after) is dict:
        original.clear()
        original.update(after)


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
