"""The feedback page: the grader's verdict on top, the student's notebook below, inert.

Students' notebooks are written by people the instructor does not control, and
the feedback page shows what they wrote and what their code displayed. So:

- every piece of HTML that comes from the notebook (markdown cells, HTML and
  markdown outputs, raw cells) goes through one allowlist sanitizer
  (`student_html`, bleach): no script, style, class, id, form, frame or event
  attribute survives, and links and images keep only safe addresses;
- outputs keep only the kinds the page can show inertly (`StudentCells`):
  JavaScript and widget views become a short note, SVG is shown as an image
  (an SVG image never runs scripts), PNG/JPEG must be real base64, and the
  metadata a student's code attached to an output (image sizes, file names,
  "isolated", "unconfined") is dropped or checked;
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

import base64
import binascii
import re
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

import bleach
from jinja2 import pass_environment
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbformat import NotebookNode
from nbgrader.preprocessors import ClearHiddenTests, GetGrades, NbGraderPreprocessor
from traitlets.config import Config

from ..course import is_test
from .grades import NOTES_KEY, cell_message

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


# --- what the student's HTML may keep ---------------------------------------------

ALLOWED_TAGS = frozenset(
    """a abbr b blockquote br caption code col colgroup dd del details div dl dt em
    figcaption figure h1 h2 h3 h4 h5 h6 hr i img ins kbd li ol p pre q s samp small
    span strong sub summary sup table tbody td tfoot th thead tr u ul var""".split()
)
IMAGE_DATA_URL = re.compile(
    r"data:image/(png|jpeg|gif|webp|svg\+xml)(;[a-z0-9=.+-]+)*(;base64)?,", re.I
)
SAFE_HREF = re.compile(r"(https?://|mailto:|#)", re.I)
MAX_IMAGE_SIDE = 4000  # pixels; a bigger width or height attribute is dropped


def _image_side(value: str) -> bool:
    return value.isdigit() and 0 < int(value) <= MAX_IMAGE_SIDE


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    """Which attributes survive (bleach calls this for each one): no class, id,
    style or event handler anywhere; safe addresses only."""
    if tag == "a":
        return name == "title" or (name == "href" and bool(SAFE_HREF.match(value)))
    if tag == "img":
        if name == "src":
            return bool(IMAGE_DATA_URL.match(value))
        if name in ("width", "height"):
            return _image_side(value)
        return name in ("alt", "title")
    if tag in ("td", "th"):
        return name in ("colspan", "rowspan") and value.isdigit()
    if tag == "ol":
        return name == "start" and value.isdigit()
    return tag == "abbr" and name == "title"


_CLEANER = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=_allowed_attribute,
    # bleach checks the scheme of href/src first; _allowed_attribute narrows it
    # (data: only for images, never for links).
    protocols=frozenset({"http", "https", "mailto", "data"}),
    strip=False,  # a forbidden tag is shown as text: the instructor sees the attempt
    strip_comments=True,
)


def student_html(html: str) -> str:
    """HTML that came from a student's notebook, made inert (a Jinja filter)."""
    return _CLEANER.clean(str(html))


@pass_environment
def template_source(environment, name: str) -> str:
    """The text of a file next to the templates (a stylesheet), for inlining."""
    return environment.loader.get_source(environment, name)[0]


# --- outputs --------------------------------------------------------------------

SHOWN_AS_IS = ("text/plain", "text/latex")  # the template escapes them
SANITIZED = ("text/html", "text/markdown")  # the template runs student_html on them
IMAGES = ("image/png", "image/jpeg")
SVG = "image/svg+xml"  # shown as <img src="data:...">, where it cannot run scripts
WIDGET = "application/vnd.jupyter.widget-view+json"


class StudentCells(NbGraderPreprocessor):
    """Keep only what the feedback page can show inertly of each cell.

    A cell's metadata keeps only nbgrader's (tags would become class names). In
    code cells' outputs, dropped: JavaScript, widget views (a note says so when
    nothing else is left), any other mime type, and every output metadata but a
    checked image size. Images must be valid base64. Streams and errors are text,
    escaped by the template. (An NbGraderPreprocessor: enabled by default, as
    nbgrader registers GenerateFeedback's preprocessors without enabling them.)
    """

    def preprocess_cell(self, cell: NotebookNode, resources, index):
        """Clean one cell's metadata and outputs."""
        cell.metadata = NotebookNode(
            {key: cell.metadata[key] for key in ("nbgrader",) if key in cell.metadata}
        )
        if cell.cell_type == "code":
            cell.outputs = [clean_output(output) for output in cell.get("outputs", [])]
        return cell, resources


def clean_output(output: NotebookNode) -> NotebookNode:
    """One output, reduced to what the page may show."""
    kind = output.get("output_type")
    if kind == "stream":
        name = output.get("name") if output.get("name") == "stderr" else "stdout"
        return NotebookNode(output_type="stream", name=name, text=_text(output.text))
    if kind == "error":
        return NotebookNode(
            output_type="error",
            ename=_text(output.get("ename", "")),
            evalue=_text(output.get("evalue", "")),
            traceback=[_text(line) for line in output.get("traceback", [])],
        )
    if kind not in ("display_data", "execute_result"):
        return NotebookNode(output_type="stream", name="stdout", text="")
    data, kept, metadata = output.get("data", {}), {}, {}
    for mime, value in data.items():
        if mime in (*SHOWN_AS_IS, *SANITIZED, SVG):
            kept[mime] = _text(value)
        elif mime in IMAGES and _is_base64(value):
            kept[mime] = _text(value)
            size = _image_size(output.get("metadata", {}).get(mime, {}))
            if size:
                metadata[mime] = size
    dropped = sorted(set(data) - set(kept))
    if dropped and not set(kept) - {"text/plain"}:
        what = "an interactive widget" if WIDGET in data else ", ".join(dropped)
        kept = {"text/plain": f"[{what}: not shown in the feedback]"}
    cleaned = NotebookNode(output_type=kind, data=kept, metadata=metadata)
    if kind == "execute_result":
        cleaned.execution_count = output.get("execution_count")
    return cleaned


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

    def preprocess(self, nb: NotebookNode, resources: dict):
        """Collect the verdict of the whole notebook."""
        grades = resources.get("nbgrader", {})
        tests = [
            TestVerdict(
                cell.metadata.nbgrader["grade_id"],
                float(cell.metadata.nbgrader.get("score") or 0),
                float(cell.metadata.nbgrader.get("points") or 0),
                cell_message(cell),
            )
            for cell in nb.cells
            if is_test(cell)
        ]
        nonce = secrets.token_urlsafe(18)
        resources[RESOURCES_KEY] = {
            "notebook": str(grades.get("notebook", "")),
            "student": str(grades.get("student", "")),
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
    notes = nb.metadata.get(NOTES_KEY, {}).get("notes", [])
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
        CSSHTMLHeaderPreprocessor,  # the code cells' highlighting styles
    ]
    config.HTMLExporter.template_name = TEMPLATE_NAME
    config.HTMLExporter.extra_template_basedirs = [str(TEMPLATES)]
    config.HTMLExporter.exclude_anchor_links = True  # headings keep no ids anyway
    config.HTMLExporter.filters = {
        "student_html": f"{__name__}.student_html",
        "template_source": f"{__name__}.template_source",
    }
