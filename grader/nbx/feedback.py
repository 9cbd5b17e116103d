"""Feedback preprocessors: students see what a hidden test said, never its code."""

from __future__ import annotations

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor


class ShortenTestTracebacks(NbGraderPreprocessor):
    """Reduce errors in graded test cells to 'Name: message'.

    A traceback quotes the lines of the cell that raised, and in a test cell those
    lines are the hidden tests. The message (what to look at) stays.
    """

    def preprocess_cell(self, cell: NotebookNode, resources, index):
        """Shorten the error outputs of one graded, non-answer cell."""
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources
