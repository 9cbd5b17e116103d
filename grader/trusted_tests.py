"""Run graded test cells in the grader's process; only the student's code runs remotely.

In stock nbgrader a hidden test runs in the student's kernel, after the student's
code, so that code can replace numpy.isclose, the helper's checks or builtins and
pass every test. Here the test cell's code, taken from the course source (never from
the submission), runs in the grader's own process, with the course's imports and
data. The names the student's answer cells define are looked up in the kernel when
the test reads them: data comes back as a copy, functions as handles that run in the
kernel when called. References, expected values and comparisons never enter the
kernel, so whatever the student's code patched there can only change what their own
functions return.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import inspect
import io
import json
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import nbclient.exceptions
import nbformat
import numpy as np
from nbformat import NotebookNode

from . import kernel_runtime, wire

SETUP_CELL = "setup"
PROBE_SECONDS = 5  # how long a kernel may take to answer after an interrupt


class StudentCodeError(Exception):
    """The student's code raised while a graded test called it."""


class GraderChannelError(Exception):
    """The kernel did not answer a graded test's request."""


class CellTimeoutError(Exception):
    """The student's code ran past the cell time limit inside a graded test."""


@dataclass(frozen=True)
class NotebookTests:
    """What the grader needs from a source notebook to run its graded tests."""

    setup: str  # the setup cell's code, without IPython magics
    tests: dict[str, str]  # grade_id -> graded test cell source
    student_names: frozenset[str]  # names the answer cells bind


@cache
def notebook_tests(path: str) -> NotebookTests:
    """The graded tests, setup code and answer names of one source notebook."""
    notebook = nbformat.read(path, as_version=4)
    setup, tests, names = "", {}, set()
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        if meta.get("grade_id") == SETUP_CELL:
            setup = "\n".join(
                line
                for line in cell.source.splitlines()
                if not line.lstrip().startswith(("%", "!"))
            )
        elif meta.get("solution"):
            names |= _bound_names(cell.source)
        elif meta.get("grade"):
            tests[meta["grade_id"]] = cell.source
    return NotebookTests(setup, tests, frozenset(names))


def _bound_names(source: str) -> set[str]:
    """Top-level names a cell binds (def, class, assignment, import)."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


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


@cache
def _cell_functions(source: str) -> dict[str, str]:
    """name -> source of each top-level function of a test cell, with what it calls."""
    tree = ast.parse(source)
    defs = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    uses = {
        name: {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} & set(defs)
        for name, node in defs.items()
    }
    shipped = {}
    for name in defs:
        needed, todo = set(), [name]
        while todo:
            current = todo.pop()
            if current not in needed:
                needed.add(current)
                todo.extend(uses[current])
        shipped[name] = "\n\n".join(
            ast.get_source_segment(source, defs[n]) for n in defs if n in needed
        )
    return shipped


class KernelObject:
    """Something that lives in the student's kernel; calling it runs it there."""

    def __init__(self, runner: TrustedTests, data: dict, label: str):
        self._runner = runner
        self._key = data["__handle__"]
        self._type = str(data.get("type", "object"))
        self._repr = str(data.get("repr", ""))
        self._callable = bool(data.get("callable"))
        self.label = label

    def __call__(self, *args, **kwargs):
        if not self._callable:
            raise TypeError(f"{self.label} is a {self._type}, not a function")
        return self._runner.call(self, args, kwargs)

    def __repr__(self) -> str:
        return f"<{self._type} from the notebook: {self._repr}>"


class Namespace(dict):
    """A test cell's globals: course names here, the student's names in the kernel."""

    def __init__(self, runner: TrustedTests, base: dict):
        super().__init__(
            (key, value.copy() if isinstance(value, np.ndarray) else value)
            for key, value in base.items()
        )
        self._runner = runner

    def __missing__(self, name: str):
        if name not in self._runner.tests.student_names:
            raise KeyError(name)
        value = self._runner.get(name)
        dict.__setitem__(self, name, value)
        return value

    def __setitem__(self, name: str, value) -> None:
        if name in self._runner.tests.student_names:
            self._runner.set(name, value)
        dict.__setitem__(self, name, value)


class TrustedTests:
    """Runs one notebook's graded test cells for its client (ResilientExecute)."""

    def __init__(self, client, tests: NotebookTests, source_dir: str):
        self.client = client
        self.tests = tests
        self.source_dir = source_dir
        self._installed = False
        self._requests = 0
        self._index, self._grade_id = 0, ""
        self._busy = ""  # what kept the kernel busy past a timeout, if it still is
        self._namespace: Namespace | None = None

    @classmethod
    def for_notebook(cls, client, source_dir: str, stem: str) -> TrustedTests | None:
        """The runner for a notebook whose source is in source_dir, else None."""
        path = Path(source_dir) / f"{stem}.ipynb"
        if not source_dir or not path.exists():
            return None
        return cls(client, notebook_tests(str(path)), source_dir)

    def handles(self, cell: NotebookNode) -> bool:
        """Whether a cell is one of the source's graded test cells."""
        meta = cell.metadata.get("nbgrader", {})
        return (
            cell.cell_type == "code"
            and bool(meta.get("grade"))
            and not meta.get("solution")
            and meta.get("grade_id") in self.tests.tests
        )

    def run(self, cell: NotebookNode, index: int) -> NotebookNode:
        """Run a graded test cell's source code here; record its output in the cell."""
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        source = self.tests.tests[grade_id]
        self._index, self._grade_id = index, grade_id
        base = _setup_namespace(self.source_dir, self.tests.setup)
        self._namespace = Namespace(self, base)
        printed = io.StringIO()
        cell.outputs = []
        error = None
        try:
            with contextlib.redirect_stdout(printed):
                code = compile(source, f"<graded test {grade_id}>", "exec")
                exec(code, self._namespace)
        except Exception as raised:  # the test failed: that is its verdict
            error = raised
        finally:
            self.client.nb.cells[index] = cell
        if printed.getvalue():
            cell.outputs.append(
                nbformat.v4.new_output("stream", name="stdout", text=printed.getvalue())
            )
        if error is not None:
            name, message = type(error).__name__, str(error)
            cell.outputs.append(
                nbformat.v4.new_output(
                    "error",
                    ename=name,
                    evalue=message,
                    traceback=[f"{name}: {message}"],
                )
            )
        return cell

    def get(self, name: str):
        """The value of one of the student's names, from the kernel."""
        return self._decode(self._request("get", name=name), name)

    def set(self, name: str, value) -> None:
        """Bind one of the student's names in the kernel (tests swap in references)."""
        self._request("set", name=name, value=self._encode(value))

    def call(self, target: KernelObject, args: tuple, kwargs: dict):
        """Call a function in the kernel; mirror what it did to mutable arguments."""
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
            _write_back(original, self._decode(after, target.label))
        for name, after in answer["kwargs"].items():
            if name in kwargs:
                _write_back(kwargs[name], self._decode(after, target.label))
        return self._decode(answer["result"], f"the result of {target.label}")

    def _encode(self, value):
        """A value of the test's, ready to send to the kernel."""
        return wire.encode(value, self._handle_for)

    def _handle_for(self, value) -> dict:
        """A kernel object's handle, or the source of a function the test defined."""
        if isinstance(value, KernelObject):
            return {"__handle__": value._key}
        functions = _cell_functions(self.tests.tests[self._grade_id])
        name = getattr(value, "__name__", "")
        if inspect.isfunction(value) and name in functions:
            return {"__function__": name, "source": functions[name]}
        kind = type(value).__name__
        raise TypeError(f"a graded test cannot send a {kind} to the notebook")

    def _decode(self, data, label: str):
        """A value from the kernel: plain data, or a KernelObject for the rest."""

        def resolve(item: dict):
            if "__handle__" not in item or type(item["__handle__"]) is not int:
                raise wire.WireError(f"unexpected {sorted(item)!r}")
            return KernelObject(self, item, label)

        try:
            return wire.decode(data, resolve)
        except (wire.WireError, RecursionError, ValueError, TypeError) as error:
            raise GraderChannelError(f"{label}: unreadable answer ({error})") from None

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
            self._raise_for_timeout(self._execute(_install_code()), "the grader")
            self._installed = True
        self._requests += 1
        number = self._requests
        text = json.dumps({"op": op, "id": number, **fields})
        cell = self._execute(f"__grader__.request({text!r})")
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
            self._raise_for_timeout(cell, label)
            errors = [o for o in cell.outputs if o.get("output_type") == "error"]
            reason = f"{errors[-1]['ename']}: {errors[-1]['evalue']}" if errors else ""
            raise GraderChannelError(
                f"the notebook's kernel did not answer the grader {reason}".strip()
            )
        if "error" in answer:
            raise _student_error(answer["error"], label)
        return answer.get("value")

    def _raise_for_timeout(self, cell: NotebookNode, what: str) -> None:
        """Raise CellTimeoutError when the cell was stopped at the time limit."""
        if not any(o.get("ename") == "CellTimeoutError" for o in cell.outputs):
            return
        if not self._responds():
            self._busy = what
        raise CellTimeoutError(
            f"{what} ran past the {self.client.timeout} s cell limit"
        )

    def _responds(self) -> bool:
        """Whether the kernel is free again after an interrupted request."""
        limit, self.client.timeout = self.client.timeout, PROBE_SECONDS
        try:
            probe = self._execute("None")
        finally:
            self.client.timeout = limit
        return not any(o.get("output_type") == "error" for o in probe.outputs)

    def _execute(self, code: str) -> NotebookNode:
        """Run code in the kernel as a throwaway cell (not saved in the notebook)."""
        cell = nbformat.v4.new_code_cell(code)
        try:
            self.client.execute_cell(cell, self._index, store_history=False)
        except nbclient.exceptions.CellTimeoutError:
            cell.outputs.append(
                nbformat.v4.new_output("error", ename="CellTimeoutError", evalue="")
            )
        return cell


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
def _install_code() -> str:
    """Code that installs the runtime in the kernel as __grader__."""
    wire_source = inspect.getsource(wire)
    runtime_source = inspect.getsource(kernel_runtime)
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
