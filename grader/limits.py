"""Which limit a notebook's run hit, and how output is kept within its limit.

ResilientExecute mixes LimitChecks in. The kernel's CPU, memory and process limits
are enforced by the kernel manager (grader.sandbox); this class enforces the output
limit while the notebook runs (output past it is dropped, so a student who prints a
gigabyte never makes the grader hold it) and turns what happened into a status and a
sentence naming the limit, for grades.csv and the feedback.
"""

from __future__ import annotations

import asyncio
import signal

import nbformat
from nbformat import NotebookNode
from traitlets import Integer
from traitlets.config import Configurable

from . import wire
from .results import CPU_LIMIT, MEMORY_LIMIT, OUTPUT_LIMIT, PROCESS_LIMIT
from .sandbox import MB, LimitedKernelManager

# Messages that carry output (or widget state) and count against the output limit.
COUNTED = {
    "stream", "display_data", "execute_result", "error", "update_display_data",
    "comm_open", "comm_msg",
}  # fmt: skip
MEMORY_ERRORS = {"MemoryError", "_ArrayMemoryError"}
# Signals a C library may die of when an allocation fails.
CRASHES = {signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS}
# An error kept after the output limit is cut to this many characters.
KEPT_ERROR = 1000


def cpu_sentence(seconds: int) -> str:
    return f"used more than {seconds} s of CPU time (the limit)"


def memory_sentence(megabytes: int) -> str:
    return f"used more than {megabytes} MB of memory (the limit)"


def process_sentence(count: int) -> str:
    return f"started more than {count} processes or threads (the limit)"


def output_sentence(megabytes: float) -> str:
    return f"printed more than {megabytes:g} MB of output (the limit)"


def content_size(value) -> int:
    """Characters (or bytes) of every string in a message's content, nested."""
    if isinstance(value, str | bytes | bytearray | memoryview):
        return len(value)
    if isinstance(value, dict):
        return sum(len(key) + content_size(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return sum(content_size(item) for item in value)
    return 8


def _grader_answer(msg) -> bool:
    """An answer to the grader's trusted tests (grader.wire): never dropped."""
    data = msg.get("content", {}).get("data")
    return (
        msg["msg_type"] == "display_data"
        and isinstance(data, dict)
        and (wire.MIME in data)
    )


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


class LimitChecks(Configurable):
    """Output limit while running; after a run, which limit (if any) was hit."""

    output_limit = Integer(
        0, help="Bytes of output a notebook may produce (0: no limit)."
    ).tag(config=True)

    _km: LimitedKernelManager | None = None
    _output_bytes = 0
    _output_cell: int | None = None
    _output_killed = False
    _pending: set

    def _reset_limits(self) -> None:
        """Forget the previous notebook's counts (call before each run)."""
        self._km = None
        self._output_bytes = 0
        self._output_cell = None
        self._output_killed = False
        self._pending = set()

    def create_kernel_manager(self):
        """Keep the kernel manager: what it saw is needed after nbclient drops it."""
        km = super().create_kernel_manager()
        if isinstance(km, LimitedKernelManager):
            self._km = km
            if self.output_limit:
                km.max_message = self.output_limit + MB
        return km

    # --- output -------------------------------------------------------------------

    def process_message(self, msg, cell, cell_index):
        """Count output; past the limit drop it, stop the cell, at twice kill it."""
        if not self.output_limit or msg.get("msg_type") not in COUNTED:
            return super().process_message(msg, cell, cell_index)
        self._output_bytes += content_size(msg.get("content")) + sum(
            len(buffer) for buffer in msg.get("buffers") or []
        )
        if self._output_bytes <= self.output_limit:
            return super().process_message(msg, cell, cell_index)
        if self._output_cell is None:
            self._output_cell = cell_index
            cell.outputs.append(
                nbformat.v4.new_output(
                    "stream",
                    name="stderr",
                    text=f"\n[grader] This notebook {self._output_words()}: "
                    "further output is dropped and this cell was stopped.\n",
                )
            )
            self._stop_cell()
        elif self._output_bytes > 2 * self.output_limit and not self._output_killed:
            self._output_killed = True  # it went on printing after the stop
            if self._km is not None:
                self._km.kill_now()
        if _grader_answer(msg):
            return super().process_message(msg, cell, cell_index)
        if msg["msg_type"] != "error":
            return None
        content = dict(msg["content"])
        content["evalue"] = content.get("evalue", "")[:KEPT_ERROR]
        content["traceback"] = ["\n".join(content.get("traceback", []))[-KEPT_ERROR:]]
        return super().process_message({**msg, "content": content}, cell, cell_index)

    def _output_words(self) -> str:
        return output_sentence(round(self.output_limit / MB, 2))

    def _stop_cell(self) -> None:
        """Interrupt the running cell (a message or signal, as the kernel wants)."""
        km = getattr(self, "km", None)
        if km is None:
            return
        try:
            task = asyncio.ensure_future(km.interrupt_kernel())
        except RuntimeError:
            return
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    # --- after a run --------------------------------------------------------------

    def _fatal_breach(self, nb: NotebookNode) -> tuple[str, str] | None:
        """(status, sentence) when a limit is why the kernel died or hung."""
        km = self._km
        if self._output_cell is not None or (km and km.iopub_broken()):
            return OUTPUT_LIMIT, self._output_words()
        if km is None:
            return None
        if km.process_limit_hit():
            return PROCESS_LIMIT, process_sentence(km.processes)
        died_by = km.exit_signal()
        if km.cpu_seconds and (
            died_by == signal.SIGXCPU
            or (died_by == signal.SIGKILL and km.kernel_cpu_seconds() >= km.cpu_seconds)
        ):
            return CPU_LIMIT, cpu_sentence(km.cpu_seconds)
        if km.memory_mb and (
            memory_error_cell(nb) is not None
            or "MemoryError" in km.kernel_log()
            or (died_by in CRASHES and km.kernel_peak_mb() >= 0.9 * km.memory_mb)
        ):
            return MEMORY_LIMIT, memory_sentence(km.memory_mb)
        return None

    def _death_detail(self) -> str:
        """Why the kernel died, as far as its exit tells."""
        died_by = self._km.exit_signal() if self._km else None
        if self._km is not None and getattr(self, "_running_index", 0) < 0:
            last = self._km.kernel_log().strip().splitlines()[-1:]
            return "the kernel did not start" + (f": {last[0][:200]}" if last else "")
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

    def _limit_status(
        self, nb: NotebookNode, status: str, detail: str
    ) -> tuple[str, str]:
        """A limit hit in a run the kernel survived: its status, sentence first."""
        if status in (OUTPUT_LIMIT, PROCESS_LIMIT, CPU_LIMIT, MEMORY_LIMIT):
            return status, detail
        km = self._km
        found = None
        if self._output_cell is not None:
            found = OUTPUT_LIMIT, self._output_words(), self._output_cell
        elif (
            km is not None
            and km.sandbox
            and km.processes
            and (km.process_limit_hit() or process_error_cell(nb) is not None)
        ):
            cell = process_error_cell(nb)
            found = PROCESS_LIMIT, process_sentence(km.processes), cell
        elif km is not None and km.memory_mb:
            cell = memory_error_cell(nb)
            if cell is not None:
                found = MEMORY_LIMIT, memory_sentence(km.memory_mb), cell
        if found is None:
            return status, detail
        new_status, sentence, cell = found
        if cell is not None:
            sentence += f" in cell {self._cell_name(nb, cell)}"
        return new_status, "; ".join(filter(None, [sentence, detail]))
