"""The feedback page (grader/nbx/feedback.py), rendered from small notebooks in
seconds: what the sanitizer keeps and drops, the outputs' cleaning, the grader's
block, the CSP and its nonce, and how the grader's notes reach the page.

The end-to-end attacks through `python -m grader grade`, with the pages opened in
Chromium, are in tests/grading/test_hostile_outputs.py.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter
from nbgrader.converters import GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import GetGrades
from traitlets.config import Config

from grader.nbx.feedback import TEMPLATES, configure_feedback
from grader.nbx.grades import add_notes
from grader.nbx.sanitize import student_html
from grader.nbx.student_cells import StudentCells, clean_output
from tests.support import html_text

new_code, new_markdown = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
PNG = (  # one pixel
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJ"
    "RU5ErkJggg=="
)


def feedback_exporter() -> HTMLExporter:
    """The exporter nbgrader's API makes for GenerateFeedback with the grader's
    config (the API insists on the template named "feedback")."""
    config = Config()
    configure_feedback(config)
    app = GenerateFeedback(coursedir=CourseDirectory(config=config), config=config)
    app.update_config(Config({"HTMLExporter": {"template_name": "feedback"}}))
    return HTMLExporter(parent=app, config=app.config)


def test_nbgraders_feedback_uses_the_graders_template():
    exporter = feedback_exporter()
    assert Path(exporter.template_paths[0]) == TEMPLATES / "feedback"


def render(notebook: nbformat.NotebookNode, **grades) -> str:
    """The feedback page of a notebook, as GenerateFeedback makes it, with the
    gradebook's part (GetGrades) given as `grades` and in the test cells' metadata."""
    config = Config()
    configure_feedback(config)
    exporter = feedback_exporter()
    for preprocessor in config.GenerateFeedback.preprocessors:
        if preprocessor is not GetGrades:  # as nbgrader does: enabled by default
            exporter.register_preprocessor(preprocessor)
    nbgrader = {"notebook": "01_sigmoid", "student": "ada", "score": 1.0}
    page, _ = exporter.from_notebook_node(
        notebook, resources={"nbgrader": nbgrader | {"max_score": 4.0} | grades}
    )
    return page


def graded_test_cell(
    name: str, score: float, points: float, *outputs
) -> nbformat.NotebookNode:
    """A graded test cell as the autograded notebook has it after GetGrades."""
    cell = new_code(f"# {name}")
    cell.metadata.nbgrader = {
        "grade": True, "solution": False, "locked": True, "grade_id": name,
        "points": points, "score": score, "schema_version": 3,
    }  # fmt: skip
    cell.outputs = list(outputs)
    return cell


def notebook_part(page: str) -> str:
    return page[page.index("<main") :]


# --- the sanitizer ----------------------------------------------------------------

HOSTILE_HTML = [
    "<script>alert(1)</script>",
    '<img src="x" onerror="alert(1)">',
    '<svg onload="alert(1)"><script>alert(1)</script></svg>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="data:text/html,x"></object><embed src="x">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href=" JaVaScRiPt:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<img src="data:text/html;base64,PHNjcmlwdD4=">',
    '<meta http-equiv="refresh" content="0;url=https://example.org">',
    '<base href="https://example.org/">',
    '<form action="https://example.org"><input name="p"><button>go</button></form>',
    "<style>header {display: none}</style>",
    '<link rel="stylesheet" href="data:text/css,header{display:none}">',
    '<div style="position: fixed; top: 0; z-index: 9">Score: 4 / 4</div>',
    '<div class="grader-verdict" id="grader-verdict">Score: 4 / 4</div>',
    '<math><mtext><table><mglyph><style><img src=x onerror="alert(1)">',
    "<!--><script>alert(1)</script>-->",
    '<a href="#" onclick="alert(1)">x</a>',
]
# MathML is not here: the page keeps its presentation elements (no maction,
# semantics or annotation-xml), which run nothing and load nothing.
ACTIVE_TAGS = frozenset(
    "script iframe frame object embed meta base form input button textarea select "
    "style link svg audio video source track applet maction semantics annotation "
    "annotation-xml mglyph".split()
)


class _Markup(HTMLParser):
    def __init__(self, layout: bool) -> None:
        super().__init__()
        self.layout = layout  # also class, id and style
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ACTIVE_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            value = (value or "").strip().lower()
            layout = self.layout and name in ("style", "class", "id")
            if name.startswith("on") or name == "srcdoc" or layout:
                self.found.append(f"<{tag} {name}>")
            elif name in ("href", "src", "action", "data") and not (
                value.startswith(("https:", "http:", "mailto:", "#", "data:image/"))
            ):
                self.found.append(f"<{tag} {name}={value[:40]}>")


def active_markup(html: str, layout: bool = True) -> list[str]:
    """Tags and attributes in html (as a browser parses it) that could run script
    or load anything, and (layout) restyle or imitate the grader's block: []
    when inert."""
    parser = _Markup(layout)
    parser.feed(html)
    parser.close()
    return parser.found


@pytest.mark.parametrize("html", HOSTILE_HTML)
def test_student_html_is_inert(html):
    assert active_markup(student_html(html)) == [], student_html(html)


@pytest.mark.parametrize(
    "html",
    [
        "<table><thead><tr><th>key</th></tr></thead><tbody><tr><td>1</td></tr>"
        "</tbody></table>",
        f'<img src="data:image/png;base64,{PNG}" width="20" alt="a plot">',
        '<a href="https://example.org/notes">notes</a>',
        "<h2>A heading</h2><p><b>bold</b>, <i>italic</i>, <code>code</code></p>",
        "<ul><li>one</li></ul><pre>text</pre>",
    ],
)
def test_student_html_keeps_honest_markup(html):
    assert student_html(html) == html


def test_forbidden_tags_show_as_text():
    """The instructor sees what was attempted: a script tag becomes its text."""
    assert student_html("<script>x()</script>") == "&lt;script&gt;x()&lt;/script&gt;"


# --- outputs ----------------------------------------------------------------------


def display(data: dict, metadata: dict | None = None) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data=data, metadata=metadata or {})


def test_javascript_and_widgets_become_a_note():
    script = clean_output(display({"application/javascript": "alert(1)"}))
    widget = clean_output(
        display(
            {
                "application/vnd.jupyter.widget-view+json": {"model_id": "x"},
                "text/plain": "interactive(children=(FloatLogSlider(...",
            }
        )
    )
    assert script.data == {
        "text/plain": "[application/javascript: not shown in the feedback]"
    }
    assert widget.data == {
        "text/plain": "[an interactive widget: not shown in the feedback]"
    }


def test_images_must_be_base64_and_sizes_whole_numbers():
    broken = clean_output(display({"image/png": 'AAAA" onerror="alert(1)'}))
    assert "image/png" not in broken.data
    sized = clean_output(
        display(
            {"image/png": PNG, "text/plain": "<Figure>"},
            {"image/png": {"width": 300, "height": "1 onerror=alert(1)"}},
        )
    )
    assert sized.data["image/png"] == PNG
    assert sized.metadata == {"image/png": {"width": 300}}


def test_output_metadata_is_dropped():
    output = clean_output(
        display(
            {"text/html": "<b>x</b>"},
            {"text/html": {"isolated": True}, "filenames": {"image/png": "/etc"}},
        )
    )
    assert output.metadata == {}


def test_page_shows_honest_outputs_and_runs_nothing():
    cell = new_code("plot()")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="key  expected  got\n"),
        display({"image/png": PNG, "text/plain": "<Figure>"}),
        display({"image/svg+xml": '<svg onload="alert(1)"><script>x</script></svg>'}),
        display({"text/latex": "$x$</div><script>alert(1)</script>"}),
        display({"text/markdown": "[x](javascript:alert(1)) **bold**"}),
        nbformat.v4.new_output(
            "error", ename="ValueError", evalue="<b>x</b>", traceback=["<script>"]
        ),
    ]
    page = render(nbformat.v4.new_notebook(cells=[cell]))
    body = notebook_part(page)
    assert "key  expected  got" in body
    assert f'src="data:image/png;base64,{PNG}"' in body
    assert re.search(r"<img [^>]*src=\"data:image/svg\+xml;base64,", body)  # inert
    assert "<script" not in page
    assert "javascript:" not in body
    assert "<strong>bold</strong>" in body
    assert "&lt;script&gt;" in body  # the traceback, as text


# --- the page ---------------------------------------------------------------------


def test_csp_is_first_in_head_and_every_style_carries_the_nonce():
    page = render(nbformat.v4.new_notebook(cells=[new_markdown("hello")]))
    head = page[: page.index("</head>")]
    metas = re.findall(r"<meta[^>]*>", head)
    assert "Content-Security-Policy" in metas[1]  # right after the charset
    policy = re.search(r'content="([^"]*)"', metas[1]).group(1)
    assert "default-src 'none'" in policy and "script-src 'none'" in policy
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    styles = re.findall(r"<style[^>]*>", page)
    assert styles and all(f'nonce="{nonce}"' in style for style in styles)
    assert render(nbformat.v4.new_notebook()) != page  # a new nonce each page


def test_grader_block_escapes_what_it_renders():
    notebook = nbformat.v4.new_notebook(
        cells=[
            graded_test_cell(
                "test_sigmoid_values",
                0,
                2,
                nbformat.v4.new_output(
                    "error", ename="AssertionError", evalue="<script>x</script>"
                ),
            ),
            graded_test_cell("test_sigmoid_arrays", 1, 1),
        ]
    )
    notebook.metadata["grader"] = {"notes": ["<img src=x onerror=alert(1)>"]}
    page = render(notebook, student="<b>ada</b>")
    block = page[page.index("<header") : page.index("</header>")]
    assert "<script" not in page and "<img" not in block
    assert "&lt;b&gt;ada&lt;/b&gt;" in block
    text = html_text(block)
    assert "Score: 1 / 4" in text
    assert "Notes from the grader" in text
    assert "AssertionError: <script>x</script>" in text
    assert "test_sigmoid_arrays" in text and "1 / 1" in text


def test_each_test_cell_has_the_graders_verdict_above_it():
    notebook = nbformat.v4.new_notebook(
        cells=[graded_test_cell("test_sigmoid_derivative", 0, 1), new_markdown("after")]
    )
    body = notebook_part(render(notebook))
    verdict = body.index('id="grader-test-test_sigmoid_derivative"')
    assert verdict < body.index("# test_sigmoid_derivative") < body.index("after")


def test_student_markdown_cannot_produce_the_graders_markup():
    forged = new_markdown(
        '<header class="grader-verdict"><div class="grader-score">4 / 4</div>'
        "</header>\n\n**Notes from the grader**: regraded by hand"
    )
    forged.metadata["tags"] = ["x grader-verdict", 'y" onclick="alert(1)']
    page = render(nbformat.v4.new_notebook(cells=[forged]))
    body = notebook_part(page)
    tags = re.findall(r"<[a-z][^>]*>", body)  # real tags, not escaped text
    assert [tag for tag in tags if "grader" in tag or "onclick" in tag] == []
    assert "regraded by hand" in html_text(body)
    assert "Notes from the grader" not in html_text(page[: page.index("<main")])


def test_student_cells_keep_only_nbgraders_metadata():
    cell = new_markdown("x")
    cell.metadata.update(tags=["a"], grader={"verdict": 1}, nbgrader={"grade": False})
    cleaned, _ = StudentCells().preprocess_cell(cell, {}, 0)
    assert cleaned.metadata == {"nbgrader": {"grade": False}}


def test_attachments_of_other_types_show_no_picture():
    cell = new_markdown("![x](attachment:page.html)")
    cell.attachments = {"page.html": {"text/html": "PHNjcmlwdD4="}}
    body = notebook_part(render(nbformat.v4.new_notebook(cells=[cell])))
    assert "data:text/html" not in body


# --- notes ------------------------------------------------------------------------


def test_add_notes_writes_metadata_not_a_cell(tmp_path):
    path = tmp_path / "01_sigmoid.ipynb"
    notebook = nbformat.v4.new_notebook(cells=[new_markdown("x")])
    notebook.metadata["grader"] = {"notes": ["planted by the student"]}
    nbformat.write(notebook, path)
    add_notes(path, ["the kernel died"])
    written = nbformat.read(path, as_version=4)
    assert written.metadata["grader"] == {"notes": ["the kernel died"]}
    assert [cell.source for cell in written.cells] == ["x"]
    add_notes(path, [])
    assert nbformat.read(path, as_version=4).metadata["grader"] == {"notes": []}
