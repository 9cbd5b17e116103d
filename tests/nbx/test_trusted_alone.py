"""grader.nbx.trusted alone: a graded test cell runs here against a kernel in this
process (tests.nbx.inprocess); what it records is what the executor reads."""

from __future__ import annotations

import nbformat
import pytest
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from grader.nbx.cell_limits import CellLimits, stopped_at_limit
from grader.nbx.remote import KernelChannel
from grader.nbx.trusted import TrustedTests
from tests.nbx.inprocess import Dies, InProcessKernel, Interrupted, tiny_model

TEST_CELL = 3  # tiny_notebook()'s graded test, test_f: assert f(2) == 4


def trusted_with(kernel: InProcessKernel, tmp_path, seconds: float = 6) -> tuple:
    """TrustedTests for tiny_notebook() with every cell limited to `seconds`."""
    cell_limits = CellLimits(None, "01_sigmoid", seconds, seconds)
    channel = KernelChannel(kernel, 2)
    return TrustedTests(tiny_model(), tmp_path, channel, cell_limits), channel


def run_test(trusted: TrustedTests) -> nbformat.NotebookNode:
    cell = tiny_model().source.cells[TEST_CELL]
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="old")]
    return trusted.run(cell, TEST_CELL)


def test_only_the_courses_graded_test_cells_are_handled(tmp_path):
    trusted, _ = trusted_with(InProcessKernel(), tmp_path)
    cells = tiny_model().source.cells
    assert [trusted.handles(cell) for cell in cells] == [
        False, False, False, True, False, False,
    ]  # fmt: skip


def test_a_passing_test_leaves_no_output_and_its_requests_get_its_limit(tmp_path):
    kernel = InProcessKernel()
    kernel.define("def f(x):\n    return 2 * x")
    trusted, _ = trusted_with(kernel, tmp_path, seconds=7)
    assert run_test(trusted).outputs == []
    assert {(index, limit) for _, index, limit in kernel.runs} == {(TEST_CELL, 7)}


def test_a_failing_test_records_its_error_as_name_and_message(tmp_path):
    kernel = InProcessKernel()
    kernel.define("def f(x):\n    return x")
    trusted = trusted_with(kernel, tmp_path)[0]
    (error,) = run_test(trusted).outputs
    assert (error.ename, error.evalue, error.traceback) == (
        "AssertionError",
        "",
        ["AssertionError: "],
    )
    # what it found, as data: no check's finding, no words of the grader's
    assert trusted.findings == {
        "test_f": {"found": [], "compared": {}, "what": "", "headline": ""}
    }
    kernel.define("def f(x):\n    raise ValueError('exp: the sign is flipped')")
    run_test(trusted)
    assert trusted.findings["test_f"]["headline"] == "f raised ValueError"
    kernel.define("def f(x):\n    return 2 * x")
    assert run_test(trusted).outputs == [] and trusted.findings == {}


def test_a_call_stopped_at_its_limit_is_recorded_as_a_stopped_cell(tmp_path):
    """The executor reads the cell as nbgrader's stopped cell: the run's status
    becomes timeout, with the function's sentence in the test's message."""
    cell = run_test(trusted_with(InProcessKernel(f=stops), tmp_path)[0])
    assert stopped_at_limit(cell)
    assert cell.outputs[-1].evalue == "f ran past the 6 s cell limit"
    assert cell.outputs[-1].traceback == [
        "CellTimeoutError: f ran past the 6 s cell limit"
    ]


def dies(x):
    raise Dies


def stops(x):
    raise Interrupted


def test_a_kernel_that_died_or_will_not_stop_is_the_executors_to_replace(tmp_path):
    with pytest.raises(DeadKernelError, match="during graded test test_f"):
        run_test(trusted_with(InProcessKernel(f=dies), tmp_path)[0])
    deaf = InProcessKernel(f=stops)
    deaf.deaf = True
    with pytest.raises(CellTimeoutError, match="ignored the stop in graded test"):
        run_test(trusted_with(deaf, tmp_path)[0])


def test_the_functions_that_hung_a_cell_get_the_short_limit(tmp_path):
    kernel = InProcessKernel()
    kernel.define("def f(x):\n    return 2 * x")
    trusted, channel = trusted_with(kernel, tmp_path)
    stopped = nbformat.v4.new_code_cell("print(f(1))")
    trusted.suspect(stopped, "#3")
    assert channel.hung == {"f": "#3"}
    run_test(trusted)
    # the runtime's install, then reading f and calling it: both about f
    assert [limit for _, _, limit in kernel.runs] == [6, 2, 2]
