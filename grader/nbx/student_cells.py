"""What of each cell of a student's notebook the feedback page may show.

StudentCells runs in GenerateFeedback on the page's copy of the autograded
notebook (the file keeps every output): metadata, outputs and long text reduced to
what the page shows inertly and quickly (grader.nbx.feedback has the whole list of
what makes the page safe).
"""

from __future__ import annotations

import base64
import binascii
import re

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

from .images import smaller_png
from .markdown import MAX_MARKDOWN_CHARS
from .page_text import PageBudget, cut_text
from .sanitize import MAX_IMAGE_SIDE

TEXT = ("text/plain",)  # the template escapes it
SANITIZED = ("text/html", "text/markdown", "text/latex")  # through student_html
IMAGES = ("image/png", "image/jpeg")
SVG = "image/svg+xml"  # shown as <img src="data:...">, where it cannot run scripts
WIDGET = "application/vnd.jupyter.widget-view+json"
MAX_HTML_CHARS = 100_000  # an HTML output longer than this shows as its text
MARKUP_NOTE = (
    "[{what} of {size:,} characters: too long for this page, shown as its "
    "text; the whole output is in the graded notebook]\n"
)


class StudentCells(NbGraderPreprocessor):
    """Keep only what the feedback page can show inertly of each cell.

    A cell's metadata keeps only nbgrader's (tags would become class names). In
    code cells' outputs, dropped: JavaScript, widget views (a note says so when
    nothing else is left), any other mime type, and every output metadata but a
    checked image size. Images must be valid base64; PNGs are re-encoded smaller.
    Streams and errors are text, escaped by the template, cut as a terminal cuts
    them, at most grader.nbx.page_text.PAGE_TEXT_CHARS of them per page. A markdown
    cell longer than MAX_MARKDOWN_CHARS is shown as its (cut) text. (An
    NbGraderPreprocessor: enabled by default, as nbgrader registers
    GenerateFeedback's preprocessors without enabling them.)
    """

    def preprocess(self, nb: NotebookNode, resources: dict):
        """Clean every cell, with one budget of text for the page."""
        self.budget = PageBudget()
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: NotebookNode, resources, index):
        """Clean one cell's metadata and outputs."""
        cell.metadata = NotebookNode(
            {key: cell.metadata[key] for key in ("nbgrader",) if key in cell.metadata}
        )
        budget = getattr(self, "budget", None) or PageBudget()
        if cell.cell_type == "markdown" and len(cell.source) > MAX_MARKDOWN_CHARS:
            note = MARKUP_NOTE.format(what="A markdown cell", size=len(cell.source))
            cell = NotebookNode(
                cell_type="raw",
                metadata=cell.metadata,
                source=note + (budget.shown(cell.source) or ""),
            )
        elif cell.cell_type == "code":
            outputs = (
                clean_output(output, budget) for output in cell.get("outputs", [])
            )
            cell.outputs = [output for output in outputs if output is not None]
        return cell, resources


def clean_output(
    output: NotebookNode, budget: PageBudget | None = None
) -> NotebookNode | None:
    """One output, reduced to what the page may show (None: nothing, the page has
    shown all the text it shows)."""
    budget = budget or PageBudget()
    kind = output.get("output_type")
    if kind == "stream":
        name = output.get("name") if output.get("name") == "stderr" else "stdout"
        text = budget.shown(_text(output.get("text", "")))
        if text is None:
            return None
        return NotebookNode(output_type="stream", name=name, text=text)
    if kind == "error":
        traceback = "\n".join(_text(line) for line in output.get("traceback", []))
        shown = budget.shown(traceback)
        return NotebookNode(
            output_type="error",
            ename=cut_text(_text(output.get("ename", ""))),
            evalue=cut_text(_text(output.get("evalue", ""))),
            traceback=[] if shown is None else [shown],
        )
    if kind not in ("display_data", "execute_result"):
        return None
    data, kept, metadata = output.get("data", {}), {}, {}
    for mime, value in data.items():
        if mime in TEXT:
            text = budget.shown(_text(value))
            if text is not None:
                kept[mime] = text
        elif mime in (*SANITIZED, SVG):
            kept[mime] = _text(value)
        elif mime in IMAGES and _is_base64(value):
            image = _text(value)
            kept[mime] = smaller_png(image) if mime == "image/png" else image
            size = _image_size(output.get("metadata", {}).get(mime, {}))
            if size:
                metadata[mime] = size
    dropped = sorted(set(data) - set(kept))
    if dropped and not set(kept) - {"text/plain"}:
        what = "an interactive widget" if WIDGET in data else ", ".join(dropped)
        kept = {"text/plain": f"[{what}: not shown in the feedback]"}
    kept = _markup_shown(kept, budget)
    if not kept:
        return None
    cleaned = NotebookNode(output_type=kind, data=kept, metadata=metadata)
    if kind == "execute_result":
        cleaned.execution_count = output.get("execution_count")
    return cleaned


def _markup_shown(kept: dict[str, str], budget: PageBudget) -> dict[str, str]:
    """HTML, markdown or LaTeX too long for the page becomes its text, cut."""
    limits = {"text/html": MAX_HTML_CHARS, "text/markdown": MAX_MARKDOWN_CHARS,
              "text/latex": MAX_MARKDOWN_CHARS}  # fmt: skip
    for mime, limit in limits.items():
        if mime in kept and len(kept[mime]) > limit:
            note = MARKUP_NOTE.format(what=f"A {mime} output", size=len(kept[mime]))
            return {"text/plain": note + (budget.shown(kept[mime]) or "")}
    return kept


def _text(value) -> str:
    """A string field of an output (nbformat allows a list of lines)."""
    if isinstance(value, list):
        return "".join(str(line) for line in value)
    return str(value)


def _is_base64(value) -> bool:
    """Strict base64 (line breaks allowed): nothing that could leave an attribute."""
    try:
        base64.b64decode(re.sub(r"\s", "", _text(value)), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _image_size(metadata) -> dict[str, int]:
    """width/height of an image output's metadata, if whole numbers in range."""
    if not isinstance(metadata, dict):
        return {}
    return {
        key: value
        for key in ("width", "height")
        if type(value := metadata.get(key)) is int and 0 < value <= MAX_IMAGE_SIDE
    }
