"""The output limit: a notebook's output is counted as it arrives, and what passes
the limit is dropped, so a student who prints a gigabyte never makes the grader
hold it. ResilientExecute (grader.nbx.execute) asks for a verdict on each message.

The one output the limit does not count is the answer the grader waits for: while a
throwaway cell makes a request of the grader's runtime in the kernel, the first
display of type wire.MIME that answers that request (its id), at most ANSWER_BYTES,
is taken for the channel (grader.nbx.remote) and never recorded. Any other display
of that type, in any cell, is output like any other: its type earns it nothing.
"""

from __future__ import annotations

from enum import Enum, auto

import nbformat
from nbformat import NotebookNode

from ..inside import wire
from ..model import MB

# Messages that carry output (or widget state) and count against the output limit.
COUNTED = {
    "stream", "display_data", "execute_result", "error", "update_display_data",
    "comm_open", "comm_msg",
}  # fmt: skip
KEPT_ERROR = 1000  # characters of an error kept once output is over the limit
ANSWER_BYTES = 8 * MB  # the largest answer the grader takes from its runtime


def output_sentence(megabytes: float) -> str:
    return f"printed more than {megabytes:g} MB of output (the limit)"


def content_size(value) -> int:
    """Characters (or bytes) of every string in a message's content, nested (8 for
    anything else); iterative, so no nesting depth overflows the stack."""
    size, pending = 0, [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str | bytes | bytearray | memoryview):
            size += len(item)
        elif isinstance(item, dict):
            size += sum(len(key) if isinstance(key, str) else 8 for key in item)
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
        else:
            size += 8
    return size


class Verdict(Enum):
    """What to do with one output message."""

    KEEP = auto()  # within the limit
    ANSWER = auto()  # the answer the grader waits for: taken, not recorded
    DROP = auto()  # over the limit: not recorded
    STOP_CELL = auto()  # the first message over the limit: drop it, stop the cell
    KILL = auto()  # twice the limit: the kernel went on printing after the stop


class OutputLimit:
    """Counts one notebook's output against its limit (0: no limit)."""

    def __init__(self, limit_bytes: int) -> None:
        self.limit = limit_bytes
        self.used = 0
        self.cell: int | None = None  # the cell where the limit was passed
        self.killed = False
        self._awaited: int | None = None  # the request whose answer is awaited
        self._answer: dict | None = None  # its answer, once it came

    @property
    def hit(self) -> bool:
        return self.cell is not None

    def sentence(self) -> str:
        return output_sentence(round(self.limit / MB, 2))

    def await_answer(self, request: int) -> None:
        """The running cell asks the grader's runtime request `request`: take the
        first answer to it (grader.nbx.remote)."""
        self._awaited, self._answer = request, None

    def take_answer(self) -> dict | None:
        """The awaited answer (None when none came); stop waiting for one."""
        answer, self._awaited, self._answer = self._answer, None, None
        return answer

    def count(self, msg: dict, cell_index: int) -> Verdict:
        """The verdict on one iopub message of the cell at cell_index."""
        if self._awaited is not None and self._answers(msg):
            return Verdict.ANSWER
        if not self.limit or msg.get("msg_type") not in COUNTED:
            return Verdict.KEEP
        self.used += content_size(msg.get("content")) + sum(
            len(buffer) for buffer in msg.get("buffers") or []
        )
        if self.used <= self.limit:
            return Verdict.KEEP
        if self.cell is None:
            self.cell = cell_index
            return Verdict.STOP_CELL
        if self.used > 2 * self.limit and not self.killed:
            self.killed = True
            return Verdict.KILL
        return Verdict.DROP

    def _answers(self, msg: dict) -> bool:
        """Whether msg is the awaited answer (then it is kept as the answer): a
        display of wire.MIME alone, a dict with the awaited id, within
        ANSWER_BYTES."""
        content = msg.get("content")
        data = content.get("data") if type(content) is dict else None
        if msg.get("msg_type") != "display_data" or type(data) is not dict:
            return False
        answer = data.get(wire.MIME)
        if type(answer) is not dict or answer.get("id") != self._awaited:
            return False
        if msg.get("buffers") or content_size(answer) > ANSWER_BYTES:
            return False
        self._answer, self._awaited = answer, None
        return True

    def notice(self) -> NotebookNode:
        """The stderr line the cell that passed the limit shows."""
        return nbformat.v4.new_output(
            "stream",
            name="stderr",
            text=f"\n[grader] This notebook {self.sentence()}: "
            "further output is dropped and this cell was stopped.\n",
        )


def trimmed_error(msg: dict) -> dict:
    """An error message over the output limit, cut to KEPT_ERROR characters."""
    content = dict(msg["content"])
    content["evalue"] = content.get("evalue", "")[:KEPT_ERROR]
    content["traceback"] = ["\n".join(content.get("traceback", []))[-KEPT_ERROR:]]
    return {**msg, "content": content}
