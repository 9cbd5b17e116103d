"""grader.nbx.notebook_run: what a stopped cell, a dead kernel or an ignored stop
does to a notebook's run: the grader's lines in its cells, its record, what runs
next."""

from __future__ import annotations

import nbformat
import pytest
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from grader.kernel.sandbox import KernelDidNotStart
from grader.model import MB, Status
from grader.nbx.cell_limits import CellLimits
from grader.nbx.cell_marks import NOT_RUN
from grader.nbx.kernel_watch import KernelWatch
from grader.nbx.notebook_run import NotebookRun
from grader.nbx.output_limit import OutputLimit
from grader.nbx.recovery import Recovery
from grader.nbx.remote import KernelChannel
from grader.nbx.status import RunRecorder
from grader.nbx.trusted import TrustedTests
from tests.nbx.inprocess import InProcessKernel, tiny_model, tiny_notebook

END = len(tiny_notebook().cells)
DIED = "the kernel died (a crash, os._exit, or out of memory)"


def new_run(tmp_path, restarts: int = 3) -> NotebookRun:
    """A run of tiny_notebook() with 6 s per cell and 1 MB of output, no kernel
    started yet."""
    model, cell_limits = tiny_model(), CellLimits(None, "01_sigmoid", 6, 6)
    channel = KernelChannel(InProcessKernel(), 2)
    return NotebookRun(
        tiny_notebook(), model, 600, cell_limits, OutputLimit(MB),
        Recovery(model, restarts), RunRecorder(), KernelWatch(),
        TrustedTests(model, tmp_path, channel, cell_limits),
    )  # fmt: skip


def grader_lines(cell) -> list[str]:
    return [o.text for o in cell.outputs if o.output_type == "stream"]


def test_a_stopped_check_says_so_and_only_what_the_tests_need_runs_after(tmp_path):
    run = new_run(tmp_path)
    check = run.nb.cells[2]
    check.outputs.append(nbformat.v4.new_output("error", ename="KeyboardInterrupt"))
    run.cell_stopped(check, 2)
    assert grader_lines(check) == [
        "[grader] This cell was stopped at its time limit, 6 s.\n"
    ]
    assert run.record().status == Status.TIMEOUT
    assert run.record().detail == "ran past the 6 s cell limit in #3"
    assert run.recovery.skip_line() == "skipped: cell #3 ran past its time limit"
    assert run.trusted.channel.hung == {"f": "#3"}  # the check calls f


def test_a_stopped_graded_test_gets_no_note_in_its_cell(tmp_path):
    run = new_run(tmp_path)
    run.cell_stopped(run.nb.cells[3], 3)
    assert grader_lines(run.nb.cells[3]) == []
    assert run.record().detail == "ran past the 6 s cell limit in test_f"


def test_a_dead_kernel_goes_on_after_the_cell_in_a_new_one(tmp_path):
    run = new_run(tmp_path)
    run.running = 2
    assert run.kernel_lost(DeadKernelError("died"), 0) == 3
    assert grader_lines(run.nb.cells[2]) == [
        f"[grader] {DIED} here; a new kernel was started.\n"
    ]
    assert run.record().status == Status.KERNEL_DIED
    assert run.record().detail == f"{DIED} in cell #3"
    assert run.recovery.skip_line() == "skipped: the kernel died in cell #3"
    assert run.recovery.replayed(run.nb.cells, 3) == [0, 1]


def test_an_ignored_stop_replaces_the_kernel(tmp_path):
    run = new_run(tmp_path)
    run.running = 4
    assert run.kernel_lost(CellTimeoutError("no reply"), 3) == 5
    assert grader_lines(run.nb.cells[4]) == [
        "[grader] This cell was stopped at its time limit, 6 s; it ignored the "
        "stop, so its kernel was replaced by a new one.\n"
    ]
    assert run.record().detail == (
        "a cell ran past its 6 s limit and ignored the stop in cell #5"
    )
    assert run.recovery.skip_line() == (
        "skipped: the kernel was stopped (timeout) in cell #5"
    )


@pytest.mark.parametrize(
    ("restarts", "error", "killed_for_time", "detail"),
    [
        (0, DeadKernelError("died"), False, DIED),
        (3, KernelDidNotStart("no kernel"), False, "no kernel"),
        (3, DeadKernelError("died"), True, "the notebook ran past its 600 s limit"),
    ],
    ids=["no-restarts-left", "did-not-start", "notebook-timeout"],
)
def test_the_rest_is_not_run_when_no_new_kernel_may_start(
    tmp_path, restarts, error, killed_for_time, detail
):
    run = new_run(tmp_path, restarts)
    run.kernel.killed_for_time = killed_for_time
    run.running = 1
    assert run.kernel_lost(error, 0) == END
    not_run = [
        output.evalue
        for cell in run.nb.cells
        for output in cell.get("outputs", [])
        if output.get("ename") == NOT_RUN
    ]
    assert not_run == [f"not run: {detail} in cell answer_f"] * 4  # code cells
    assert run.record().detail == f"{detail} in cell answer_f"


def test_a_cell_that_dies_again_when_run_again_costs_no_new_sentence(tmp_path):
    run = new_run(tmp_path, restarts=1)
    run.running = 2
    assert run.kernel_lost(DeadKernelError("died"), 0) == 3
    run.running = 1  # answer_f, run again in the new kernel, died there
    assert run.kernel_lost(DeadKernelError("died"), 3) == END
    assert run.record().detail == f"{DIED} in cell #3"


def test_a_failure_of_the_grader_is_its_own_status(tmp_path):
    run = new_run(tmp_path)
    run.running = 3
    run.failed(RuntimeError("boom"))
    assert run.record().status == Status.GRADER_ERROR
    assert run.record().detail == "running cell test_f failed: RuntimeError('boom')"


def test_an_output_limit_the_kernel_survived_comes_first(tmp_path):
    run = new_run(tmp_path)
    run.output_limit.count({"msg_type": "stream", "content": {"text": "x" * MB}}, 2)
    run.cell_stopped(run.nb.cells[2], 2)
    assert run.record().status == Status.OUTPUT_LIMIT
    assert run.record().detail == (
        "printed more than 1 MB of output (the limit) in cell #3; "
        "ran past the 6 s cell limit in #3"
    )
