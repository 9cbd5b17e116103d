"""The feedback page: the grader's verdict on top, the student's notebook below, inert.

Students' notebooks are written by people the instructor does not control, and
the feedback page shows what they wrote and what their code displayed. So:

- every piece of HTML that comes from the notebook (markdown cells with their
  math converted to MathML, HTML, markdown and LaTeX outputs) goes through one
  allowlist sanitizer (grader.nbx.sanitize.student_html, bleach): no script,
  style, class, id, form, frame or event attribute survives, and links and
  images keep only safe addresses; code is escaped by the highlighter
  (grader.nbx.highlight), text by the template;
- outputs keep only the kinds the page can show inertly (`StudentCells`):
  JavaScript and widget views become a short note, SVG is shown as an image
  (an SVG image never runs scripts), PNG/JPEG must be real base64, and the
  metadata a student's code attached to an output (image sizes, file names,
  "isolated", "unconfined") is dropped or checked; long text is cut as a
  terminal cuts it and plots are re-encoded smaller (grader.nbx.page_text,
  grader.nbx.images), on the page only;
- the page carries a Content-Security-Policy that forbids every script and every
  style but the page's own (`FeedbackPage.csp`), so that whatever the sanitizer
  might miss still cannot run or restyle the page;
- the score, each graded test's result and the grader's notes come from the
  gradebook and the grader's own records (`FeedbackPage`), and the template
  renders them, autoescaped, in a block outside the notebook with markup that
  student content cannot produce (the sanitizer strips every class).

Students see what a hidden test said, never its code: ClearHiddenTests removes it
and ShortenTestTracebacks the traceback lines that would quote it.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from jinja2 import pass_environment
from nbformat import NotebookNode
from nbgrader.preprocessors import ClearHiddenTests, GetGrades, NbGraderPreprocessor
from traitlets import Unicode
from traitlets.config import Config

from ..course import is_test
from ..student_text import HTML, safe_text
from .grades import GRADER_KEY, cell_message
from .highlight import code_html
from .markdown import markdown_math
from .page_text import cut_text
from .sanitize import student_html
from .student_cells import StudentCells

TEMPLATES = Path(__file__).parent / "templates"
# nbgrader's API asks for the template "feedback" by name (NbGraderAPI.generate_feedback
# sets HTMLExporter.template_name): extra_template_basedirs makes that name ours.
TEMPLATE_NAME = "feedback"
RESOURCES_KEY = "grader_feedback"


class ShortenTestTracebacks(NbGraderPreprocessor):
    """Reduce errors in graded test cells to 'Name: message'.

    A traceback quotes the lines of the cell that raised, and in a test cell those
    lines are the hidden tests. The message (what to look at) stays.
    """

    def preprocess_cell(self, cell: NotebookNode, resources, index):
        """Shorten the error outputs of one graded, non-answer cell."""
        if is_test(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources


@pass_environment
def template_source(environment, name: str) -> str:
    """The text of a file next to the templates (a stylesheet), for inlining."""
    return environment.loader.get_source(environment, name)[0]


# --- the grader's verdict ----------------------------------------------------------


@dataclass(frozen=True)
class TestVerdict:
    """What the grader says about one graded test cell of this notebook.

    The template renders it in the summary on top and above the test's cell (the
    place for anything more a failing test should tell, such as the mistake it
    recognised).
    """

    name: str  # the test cell's grade_id
    score: float
    points: float
    message: str  # what the test said ("" when it passed)

    @property
    def passed(self) -> bool:
        return self.score >= self.points


def csp(nonce: str) -> str:
    """The page's Content-Security-Policy: no script at all, no network, and only
    the page's own style sheets (by nonce). Images only as data: URLs (plots)."""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'none'",
            f"style-src-elem 'nonce-{nonce}'",
            "style-src-attr 'none'",
            "img-src data:",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


class FeedbackPage(NbGraderPreprocessor):
    """Gather what the grader says on the page (after GetGrades): the score, each
    graded test's result and message, the grader's notes; and the page's CSP.

    Goes into resources[RESOURCES_KEY] for the template. Notes come from the
    notebook's metadata, where grader.nbx.grades.add_notes put them (the
    autograded notebook's metadata is the grader's: nbgrader clears the
    student's). A cell's own "grader" metadata is never read.
    """

    student_name = Unicode(
        "", help="The student's name as their LMS wrote it, shown beside the id"
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict):
        """Collect the verdict of the whole notebook."""
        grades = resources.get("nbgrader", {})
        tests = [
            TestVerdict(
                cell.metadata.nbgrader["grade_id"],
                float(cell.metadata.nbgrader.get("score") or 0),
                float(cell.metadata.nbgrader.get("points") or 0),
                safe_text(cut_text(cell_message(cell)), HTML),
            )
            for cell in nb.cells
            if is_test(cell)
        ]
        nonce = secrets.token_urlsafe(18)
        resources[RESOURCES_KEY] = {
            "notebook": str(grades.get("notebook", "")),
            "student": str(grades.get("student", "")),
            "name": safe_text(self.student_name, HTML),
            "score": float(grades.get("score") or 0),
            "max_score": float(grades.get("max_score") or 0),
            "late_penalty": float(grades.get("late_penalty") or 0),
            "notes": grader_notes(nb),
            "tests": [asdict(test) | {"passed": test.passed} for test in tests],
            "by_test": {
                test.name: asdict(test) | {"passed": test.passed} for test in tests
            },
            "nonce": nonce,
            "csp": csp(nonce),
        }
        return nb, resources


def grader_notes(nb: NotebookNode) -> list[str]:
    """The notes add_notes left in the notebook's metadata (strings only)."""
    notes = nb.metadata.get(GRADER_KEY, {}).get("notes", [])
    return [str(note) for note in notes] if isinstance(notes, list) else []


def configure_feedback(config: Config) -> None:
    """nbgrader's GenerateFeedback with the grader's preprocessors and page."""
    # Order matters: GetGrades fills in the scores FeedbackPage reads; hidden tests
    # and their traceback lines go before anything reads a test cell's text.
    config.GenerateFeedback.preprocessors = [
        GetGrades,
        ClearHiddenTests,
        ShortenTestTracebacks,
        StudentCells,
        FeedbackPage,
    ]
    config.HTMLExporter.template_name = TEMPLATE_NAME
    config.HTMLExporter.extra_template_basedirs = [str(TEMPLATES)]
    config.HTMLExporter.exclude_anchor_links = True  # headings keep no ids anyway
    # Filters by import path (traitlets imports them wherever the page is made).
    config.HTMLExporter.filters = {
        function.__name__: f"{function.__module__}.{function.__name__}"
        for function in (student_html, markdown_math, code_html, template_source)
    }
