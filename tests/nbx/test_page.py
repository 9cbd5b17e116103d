"""The feedback page's weight and reading: long text cut as a terminal cuts it
(grader/nbx/page_text.py), plots re-encoded smaller (images.py), code lightly
highlighted (highlight.py), a style sheet of the rules the templates use, and the
student's own page (student_index.py).
"""

from __future__ import annotations

import base64
import html
import io
import re
import struct
import zlib
from pathlib import Path

import matplotlib
import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from grader.course import COURSE
from grader.model import NotebookGrade, Status
from grader.model import TestResult as Result
from grader.nbx.feedback import TEMPLATES
from grader.nbx.highlight import TOKEN_CLASSES, code_html
from grader.nbx.images import MAX_PIXELS, smaller_png
from grader.nbx.markdown import MAX_MARKDOWN_CHARS
from grader.nbx.page_text import (
    HEAD_LINES,
    LINE_HEAD_CHARS,
    LINE_TAIL_CHARS,
    PAGE_TEXT_CHARS,
    TAIL_LINES,
    PageBudget,
    cut_text,
)
from grader.nbx.student_cells import StudentCells, clean_output
from grader.nbx.student_index import student_index
from tests.mistake_cases import MISTAKE_CASES
from tests.nbx.test_feedback import active_markup, graded_test_cell, render
from tests.support import html_text

matplotlib.use("Agg")
from matplotlib import pyplot

new_code, new_markdown = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
DEADLINE_MS = 2_000
STYLE_SHEETS = sorted((TEMPLATES / "feedback" / "static").glob("*.css"))


# --- long text --------------------------------------------------------------------


def numbered(count: int) -> str:
    return "".join(f"line {number}\n" for number in range(1, count + 1))


def test_a_long_output_keeps_its_first_and_last_lines_and_a_count():
    text = numbered(1000)
    cut = cut_text(text).splitlines()
    assert cut[:HEAD_LINES] == [f"line {n}" for n in range(1, HEAD_LINES + 1)]
    assert cut[-TAIL_LINES:] == [f"line {n}" for n in range(981, 1001)]
    assert cut[HEAD_LINES] == (
        "… 940 lines not shown (the whole output is in the graded notebook) …"
    )
    assert len(cut) == HEAD_LINES + 1 + TAIL_LINES


@pytest.mark.parametrize("count", [0, 1, HEAD_LINES + TAIL_LINES])
def test_a_short_output_is_shown_whole(count):
    assert cut_text(numbered(count)) == numbered(count)
    assert cut_text(numbered(count).rstrip("\n")) == numbered(count).rstrip("\n")


def test_a_very_long_line_keeps_its_start_and_end():
    line = "a" * LINE_HEAD_CHARS + "b" * 100_000 + "c" * LINE_TAIL_CHARS
    cut = cut_text(line + "\nnext\n")
    assert cut == (
        f"{'a' * LINE_HEAD_CHARS} … 100,000 characters not shown … "
        f"{'c' * LINE_TAIL_CHARS}\nnext\n"
    )


def test_a_page_shows_a_bounded_share_of_text_then_one_note():
    budget = PageBudget()
    shown = [budget.shown(numbered(60)) for _ in range(1000)]
    kept = [text for text in shown if text is not None]
    assert sum(len(text) for text in kept) < PAGE_TEXT_CHARS + 1_000
    assert kept[-1].startswith("[the rest of the output is not shown")
    assert shown[-1] is None
    assert len(kept) <= PAGE_TEXT_CHARS // len(numbered(60)) + 2


@settings(deadline=DEADLINE_MS, max_examples=30)
@given(st.integers(1, 200_000), st.integers(1, 300), st.booleans())
def test_cutting_is_quick_and_bounded_for_any_shape_of_text(lines, width, newline):
    """Up to 60 MB of text: the cut keeps at most 61 lines of at most ~2,000
    characters each."""
    text = ("x" * width + "\n") * lines if newline else "y" * (lines * width)
    cut = cut_text(text)
    assert cut.count("\n") <= HEAD_LINES + TAIL_LINES + 1
    assert len(cut) <= (HEAD_LINES + TAIL_LINES + 1) * 2_100


# --- the page's copy of the notebook ------------------------------------------------


def stream(text: str, name: str = "stdout") -> nbformat.NotebookNode:
    return nbformat.v4.new_output("stream", name=name, text=text)


def test_outputs_are_cut_on_the_page_only():
    """The page's copy of a 5 MB output is cut; the cell the grader keeps (the
    autograded notebook's) is not touched by clean_output."""
    output = stream(numbered(500_000))
    cleaned = clean_output(output)
    assert len(cleaned.text) < 5_000
    assert "lines not shown" in cleaned.text
    assert output.text == numbered(500_000)


def test_a_huge_error_message_and_traceback_are_cut():
    error = nbformat.v4.new_output(
        "error", ename="E", evalue="v" * 1_000_000, traceback=["t"] * 100_000
    )
    cleaned = clean_output(error)
    assert len(cleaned.evalue) < 3_000
    assert len("".join(cleaned.traceback)) < 5_000


def test_long_markup_outputs_show_as_their_text():
    html = "<table>" + "<tr><td>1</td></tr>" * 20_000 + "</table>"
    cleaned = clean_output(
        nbformat.v4.new_output("display_data", data={"text/html": html})
    )
    assert list(cleaned.data) == ["text/plain"]
    assert cleaned.data["text/plain"].startswith("[A text/html output of 380,015")


def test_a_long_markdown_cell_is_shown_as_text_and_renders_quickly():
    r"""mistune's math rules are quadratic in unclosed \( delimiters: a cell over
    MAX_MARKDOWN_CHARS is not parsed as markdown."""
    source = r"\\( a " * 200_000
    cell = new_markdown(source)
    cleaned, _ = StudentCells().preprocess_cell(cell, {}, 0)
    assert cleaned.cell_type == "raw"
    assert len(source) > MAX_MARKDOWN_CHARS
    page = render(nbformat.v4.new_notebook(cells=[new_markdown(source)]))
    assert "A markdown cell of 1,200,000 characters" in html_text(page)


@settings(deadline=DEADLINE_MS * 5, max_examples=10)
@given(st.sampled_from([r"\\( a ", r"\begin{x} ", "$ \\$ ", "{", "<b>", "`"]))
def test_a_markdown_cell_just_under_the_cap_renders_within_the_deadline(piece):
    source = piece * (MAX_MARKDOWN_CHARS // len(piece))
    page = render(nbformat.v4.new_notebook(cells=[new_markdown(source)]))
    assert active_markup(page[page.index("<main") :], layout=False) == []


# --- plots ---------------------------------------------------------------------------


def plot_png() -> str:
    """A matplotlib figure as Jupyter's inline backend stores it (base64 PNG)."""
    figure, axes = pyplot.subplots(figsize=(8, 4.5), dpi=100)
    for power in range(1, 6):
        axes.plot([x / 10 for x in range(50)], [(x / 10) ** power for x in range(50)])
    axes.set_title("Losses per epoch")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    pyplot.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def test_a_plot_is_a_third_of_its_weight_with_the_same_pixels_size():
    original = plot_png()
    smaller = smaller_png(original)
    assert len(smaller) < len(original) / 2
    before = Image.open(io.BytesIO(base64.b64decode(original)))
    after = Image.open(io.BytesIO(base64.b64decode(smaller)))
    assert after.size == before.size
    assert after.format == "PNG" and after.mode == "P"


def png_header(width: int, height: int) -> bytes:
    """A PNG signature and IHDR chunk claiming a size, then one tiny IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr
    chunk += struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    data = zlib.compress(b"\x00" * 16)
    idat = struct.pack(">I", len(data)) + b"IDAT" + data
    idat += struct.pack(">I", zlib.crc32(b"IDAT" + data))
    return b"\x89PNG\r\n\x1a\n" + chunk + idat


@pytest.mark.parametrize(
    "raw",
    [
        png_header(100_000, 100_000),  # a decompression bomb's header: not decoded
        png_header(2000, MAX_PIXELS // 2000 + 1),
        png_header(10, 10),  # truncated image data
        b"GIF89a" + b"\x00" * 100,
        b"\x89PNG\r\n\x1a\n",
    ],
)
def test_an_image_not_to_decode_is_left_as_it_is(raw):
    data = base64.b64encode(raw).decode()
    assert smaller_png(data) == data


# --- code ----------------------------------------------------------------------------


def test_code_is_escaped_and_only_what_helps_reading_is_coloured():
    source = 'def f(x):  # <b>\n    return "</pre><script>" + str(1)\n'
    written = code_html(source)
    assert "<script>" not in written and "<b>" not in written
    assert html_text(written) == source
    spans = re.findall(r'<span class="([a-z]+)">', written)
    assert spans == ["k", "f", "c", "k", "s", "b", "m"]


def test_a_run_of_one_kind_is_one_span():
    assert code_html("# one\n# two\n") == '<span class="c"># one\n# two\n</span>'


# --- the style sheet -----------------------------------------------------------------


def template_texts() -> str:
    return "\n".join(
        path.read_text(encoding="utf-8") for path in TEMPLATES.rglob("*.j2")
    )


@pytest.mark.parametrize("sheet", STYLE_SHEETS, ids=lambda path: path.name)
def test_every_class_the_style_sheet_styles_is_one_the_templates_write(sheet):
    """No rule for markup the pages never have (the sheet is hand-kept)."""
    css = re.sub(r"/\*.*?\*/", "", sheet.read_text(encoding="utf-8"), flags=re.S)
    selectors = " ".join(re.findall(r"([^{}]+)\{", css))
    classes = set(re.findall(r"\.([a-zA-Z][\w-]*)", selectors))
    written = template_texts()
    highlighted = {name for _, name in TOKEN_CLASSES if name}
    unused = sorted(
        name for name in classes - highlighted if not re.search(rf"\b{name}\b", written)
    )
    assert unused == []


def test_the_pages_style_is_small():
    assert sum(path.stat().st_size for path in STYLE_SHEETS) < 8_000


# --- the student's page --------------------------------------------------------------


def test_the_students_page_names_scores_and_misconceptions(tmp_path):
    """Hostile text escaped; each notebook's score and link; the misconception a
    hidden test named with its meaning and where it is taught."""
    case = next(case for case in MISTAKE_CASES if case.student == "bwd-sign-dw3")
    message = "dw3: the sign is flipped"
    grades = [
        NotebookGrade("<b>x</b>", "01_sigmoid", 4, 4, Status.OK,
                      tests=[Result("t", 4, 4)]),
        NotebookGrade("<b>x</b>", "02_forward_propagation", 0, 5, Status.TIMEOUT,
                      "<script>cell 3</script>"),
        NotebookGrade("<b>x</b>", case.notebook, 2, 6, Status.OK,
                      tests=[Result("test_backward_values", 0, 4, message),
                             Result("test_backward_robust", 2, 2)]),
    ]  # fmt: skip
    page = student_index("<b>x</b>", grades, {"01_sigmoid", case.notebook}, COURSE)
    assert "<b>x</b>" not in page and "<script>" not in page
    text = html_text(page)
    assert "Feedback for <b>x</b>" in text and "Total: 6 / 15" in text
    assert '<a href="01_sigmoid.html">01_sigmoid</a>' in page
    assert "02_forward_propagation.html" not in page  # no page: no link
    assert "timeout: a cell or the whole notebook ran past its time limit" in text
    assert "1 of 2 graded tests lost points" in text
    assert "dw3: the sign is flipped" in text
    assert "Where the notebook teaches it" in text
    head = html.unescape(page[: page.index("</head>")])
    assert "script-src 'none'" in head and "default-src 'none'" in head
    assert Path(TEMPLATES / "student" / "index.html.j2").exists()


@pytest.mark.parametrize(
    ("name", "heading"),
    [
        ("", "Feedback for 21"),
        ("Ada <i>Lovelace</i>", "Feedback for Ada <i>Lovelace</i> (21)"),
    ],
)
def test_the_students_page_names_them_as_their_lms_does(name, heading):
    """The name the LMS wrote, beside the id, escaped like every value."""
    grades = [NotebookGrade("21", "01_sigmoid", 4, 4, Status.OK)]
    page = student_index("21", grades, set(), COURSE, name)
    assert "<i>" not in page
    assert heading in html_text(page)


def test_graded_test_boxes_cut_a_huge_message():
    cell = graded_test_cell(
        "test_x", 0, 1, stream("noise\n" * 100_000), stream("the end\n")
    )
    page = render(nbformat.v4.new_notebook(cells=[cell]))
    assert len(page) < 100_000
    assert "lines not shown" in page
