"""Which limit a notebook's run hit: a status and a sentence naming it.

The kernel's CPU, memory and process limits are enforced by its sandbox
(grader.kernel), the output limit by grader.nbx.output_limit while the notebook
runs. After a run, what the sandbox saw (grader.kernel.provisioner.KernelOutcome),
the output limit and the notebook's errors become a status and a sentence naming
the limit, for grades.csv and the feedback (ResilientExecute, grader.nbx.execute).
"""

from __future__ import annotations

import signal

from nbformat import NotebookNode

from ..course import cell_name
from ..kernel.provisioner import KernelOutcome
from ..model import Status
from .output_limit import OutputLimit

MEMORY_ERRORS = {"MemoryError", "_ArrayMemoryError"}
# Signals a C library may die of when an allocation fails.
CRASHES = {signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS}


def cpu_sentence(seconds: int) -> str:
    return f"used more than {seconds} s of CPU time (the limit)"


def memory_sentence(megabytes: int) -> str:
    return f"used more than {megabytes} MB of memory (the limit)"


def process_sentence(count: int) -> str:
    return f"started more than {count} processes or threads (the limit)"


def _errors(nb: NotebookNode):
    """(cell index, ename, evalue) of every error output."""
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                yield index, output.get("ename", ""), str(output.get("evalue", ""))


def memory_error_cell(nb: NotebookNode) -> int | None:
    """The first cell that raised MemoryError (an allocation past the limit)."""
    return next((i for i, name, _ in _errors(nb) if name in MEMORY_ERRORS), None)


def process_error_cell(nb: NotebookNode) -> int | None:
    """The first cell whose fork or new thread was refused (the process limit)."""
    for index, name, value in _errors(nb):
        if name == "BlockingIOError" and "Resource temporarily unavailable" in value:
            return index
        if name == "RuntimeError" and "can't start new thread" in value:
            return index
    return None


def fatal_breach(
    nb: NotebookNode,
    kernel: KernelOutcome | None,
    output: OutputLimit,
    iopub_cut: bool,
) -> tuple[Status, str] | None:
    """(status, sentence) when a limit is why the kernel died or hung."""
    if output.hit or iopub_cut:
        return Status.OUTPUT_LIMIT, output.sentence()
    if kernel is None:
        return None
    limits = kernel.limits
    if kernel.process_limit_hit:
        return Status.PROCESS_LIMIT, process_sentence(limits.processes)
    died_by = kernel.died_by
    if limits.cpu_seconds and (
        died_by == signal.SIGXCPU
        or (died_by == signal.SIGKILL and kernel.cpu_seconds >= limits.cpu_seconds)
    ):
        return Status.CPU_LIMIT, cpu_sentence(limits.cpu_seconds)
    if limits.memory_mb and (
        kernel.oom_killed
        or memory_error_cell(nb) is not None
        or "MemoryError" in kernel.log
        or (died_by in CRASHES and kernel.peak_mb >= 0.9 * limits.memory_mb)
    ):
        return Status.MEMORY_LIMIT, memory_sentence(limits.memory_mb)
    return None


def death_detail(kernel: KernelOutcome | None) -> str:
    """Why the kernel died, as far as its exit tells."""
    died_by = kernel.died_by if kernel else None
    if died_by is None:
        return "the kernel died (a crash, os._exit, or out of memory)"
    name = signal.Signals(died_by).name
    what = {
        signal.SIGSEGV: "a crash",
        signal.SIGBUS: "a crash",
        signal.SIGABRT: "an abort",
        signal.SIGKILL: "killed",
    }.get(died_by, "a signal")
    return f"the kernel died ({what}: {name})"


def survived_breach(
    nb: NotebookNode,
    kernel: KernelOutcome | None,
    output: OutputLimit,
    status: Status,
    detail: str,
) -> tuple[Status, str]:
    """A limit hit in a run the kernel survived: its status, sentence first."""
    if status.is_limit:
        return status, detail
    found = None
    limits = kernel.limits if kernel else None
    if output.hit:
        found = Status.OUTPUT_LIMIT, output.sentence(), output.cell
    elif (
        kernel is not None
        and kernel.sandboxed
        and limits.processes
        and (kernel.process_limit_hit or process_error_cell(nb) is not None)
    ):
        cell = process_error_cell(nb)
        found = Status.PROCESS_LIMIT, process_sentence(limits.processes), cell
    elif limits is not None and limits.memory_mb:
        cell = memory_error_cell(nb)
        if cell is not None:
            found = Status.MEMORY_LIMIT, memory_sentence(limits.memory_mb), cell
    if found is None:
        return status, detail
    new_status, sentence, cell = found
    if cell is not None:
        sentence += f" in cell {cell_name(nb, cell)}"
    return new_status, "; ".join(filter(None, [sentence, detail]))
