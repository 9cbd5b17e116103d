"""grader.nbx.breaches: what happened in a run becomes a status and a sentence."""

from __future__ import annotations

import signal

import nbformat
import pytest

from grader.kernel.provisioner import KernelOutcome
from grader.model import MB, Limits, Status
from grader.nbx.breaches import (
    death_detail,
    fatal_breach,
    memory_error_cell,
    process_error_cell,
    survived_breach,
)
from grader.nbx.output_limit import OutputLimit

LIMITS = Limits(cpu_seconds=5, memory_mb=512, processes=32, output_mb=1)


def error(ename: str, evalue: str = "") -> nbformat.NotebookNode:
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[])


def notebook_with(*outputs) -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_code_cell("pass"), nbformat.v4.new_code_cell("x")]
    cells[1].outputs = list(outputs)
    return nbformat.v4.new_notebook(cells=cells)


def kernel(
    died_by=None, cpu=0.0, processes_hit=False, log="", peak=0, oom=False
) -> KernelOutcome:
    """What the sandbox saw of a kernel, as the provisioner reports it."""
    return KernelOutcome(
        sandboxed=True, limits=LIMITS, returncode=-died_by if died_by else 1,
        died_by=died_by, cpu_seconds=cpu, peak_mb=peak, oom_killed=oom,
        process_limit_hit=processes_hit, log=log,
    )  # fmt: skip


def test_memory_and_process_errors_are_found_by_their_exception():
    assert memory_error_cell(notebook_with(error("MemoryError"))) == 1
    assert memory_error_cell(notebook_with(error("_ArrayMemoryError"))) == 1
    assert memory_error_cell(notebook_with(error("ValueError"))) is None
    fork = error("BlockingIOError", "[Errno 11] Resource temporarily unavailable")
    assert process_error_cell(notebook_with(fork)) == 1
    thread = error("RuntimeError", "can't start new thread")
    assert process_error_cell(notebook_with(thread)) == 1
    assert process_error_cell(notebook_with(error("RuntimeError", "other"))) is None


@pytest.mark.parametrize(
    ("outcome", "outputs", "cut", "expected"),
    [
        (kernel(signal.SIGXCPU), (), False, (Status.CPU_LIMIT, "5 s of CPU")),
        (kernel(signal.SIGKILL, cpu=5.1), (), False, (Status.CPU_LIMIT, "5 s of CPU")),
        (kernel(signal.SIGKILL, cpu=1.0), (), False, None),
        (kernel(signal.SIGSEGV), (), False, None),
        (kernel(processes_hit=True), (), False, (Status.PROCESS_LIMIT, "32 proc")),
        (kernel(), (), True, (Status.OUTPUT_LIMIT, "1 MB of output")),
        (kernel(), (error("MemoryError"),), False, (Status.MEMORY_LIMIT, "512 MB")),
        (kernel(log="MemoryError\n"), (), False, (Status.MEMORY_LIMIT, "512 MB")),
        (kernel(signal.SIGABRT, peak=500), (), False, (Status.MEMORY_LIMIT, "512 MB")),
        (kernel(signal.SIGABRT, peak=100), (), False, None),
        (kernel(signal.SIGKILL, oom=True), (), False, (Status.MEMORY_LIMIT, "512 MB")),
        (kernel(), (), False, None),
    ],
    ids=["sigxcpu", "killed-at-cpu", "killed", "segv", "procs", "cut", "memerr",
         "memlog", "abort-at-memory", "abort", "oom-killed", "nothing"],
)  # fmt: skip
def test_fatal_breach_names_the_limit(outcome, outputs, cut, expected):
    breach = fatal_breach(notebook_with(*outputs), outcome, OutputLimit(MB), cut)
    if expected is None:
        assert breach is None
    else:
        assert breach[0] == expected[0]
        assert expected[1] in breach[1]
        assert breach[1].endswith("(the limit)")


def test_a_crash_names_its_signal():
    assert death_detail(kernel(signal.SIGSEGV)) == "the kernel died (a crash: SIGSEGV)"
    assert "os._exit" in death_detail(kernel())
    assert "os._exit" in death_detail(None)


def test_an_exit_code_that_names_no_signal_is_said_as_it_is():
    """A sandboxed kernel's os._exit(200) leaves bwrap with 200, read as signal 72,
    which does not exist: said as it is (it raised, and the notebook became a
    grader_error retried on every run)."""
    assert death_detail(kernel(72)) == ("the kernel died (exit code 200 or signal 72)")


def test_a_survived_breach_becomes_the_status_with_its_cell():
    nb = notebook_with(error("MemoryError"))
    status, detail = survived_breach(nb, kernel(), OutputLimit(0), Status.OK, "")
    assert status == Status.MEMORY_LIMIT
    assert detail == "used more than 512 MB of memory (the limit) in cell #2"
