"""What the executor writes into a student's cells: its lines, and "not run" marks."""

from __future__ import annotations

import nbformat
from nbformat import NotebookNode

NOT_RUN = "NotRun"


def grader_line(text: str) -> NotebookNode:
    """A line from the grader in a cell's output."""
    return nbformat.v4.new_output("stream", name="stderr", text=f"[grader] {text}\n")


def mark_not_run(cells: list[NotebookNode], detail: str) -> None:
    """Give each code cell an error output saying it did not run, and why (its
    graded test, if it is one, then scores 0)."""
    for cell in cells:
        if cell.cell_type == "code":
            cell.outputs.append(
                NotebookNode(
                    output_type="error",
                    ename=NOT_RUN,
                    evalue=f"not run: {detail}",
                    traceback=[f"{NOT_RUN}: not run: {detail}"],
                )
            )
