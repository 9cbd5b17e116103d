"""The output limit: a notebook's output is counted as it arrives, and what passes
the limit is dropped, so a student who prints a gigabyte never makes the grader
hold it. ResilientExecute (grader.nbx.execute) asks for a verdict on each message.
"""

from __future__ import annotations

from enum import Enum, auto

import nbformat
from nbformat import NotebookNode

from ..inside import wire
from ..kernel.command import MB

# Messages that carry output (or widget state) and count against the output limit.
COUNTED = {
    "stream", "display_data", "execute_result", "error", "update_display_data",
    "comm_open", "comm_msg",
}  # fmt: skip
KEPT_ERROR = 1000  # characters of an error kept once output is over the limit


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


class Verdict(Enum):
    """What to do with one output message."""

    KEEP = auto()  # within the limit (or the grader's own answer)
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

    @property
    def hit(self) -> bool:
        return self.cell is not None

    def sentence(self) -> str:
        return output_sentence(round(self.limit / MB, 2))

    def count(self, msg: dict, cell_index: int) -> Verdict:
        """The verdict on one iopub message of the cell at cell_index."""
        if not self.limit or msg.get("msg_type") not in COUNTED:
            return Verdict.KEEP
        self.used += content_size(msg.get("content")) + sum(
            len(buffer) for buffer in msg.get("buffers") or []
        )
        if self.used <= self.limit or _grader_answer(msg):
            return Verdict.KEEP
        if self.cell is None:
            self.cell = cell_index
            return Verdict.STOP_CELL
        if self.used > 2 * self.limit and not self.killed:
            self.killed = True
            return Verdict.KILL
        return Verdict.DROP

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


def _grader_answer(msg) -> bool:
    """An answer to the grader's trusted tests (grader.inside.wire): never dropped."""
    data = msg.get("content", {}).get("data")
    return (
        msg["msg_type"] == "display_data"
        and isinstance(data, dict)
        and wire.MIME in data
    )
