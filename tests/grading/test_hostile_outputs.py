"""Hostile outputs: students who attack the feedback pages, or read the hidden tests
back from their kernel, graded by the real command in one small class.

A sibling of test_hostile.py, for issue 10's "Outputs". One class is graded once per
module through `python -m grader grade` (sandbox required, small limits):

- good: 01, 04 and 05 solved; every grade is full marks, and its feedback still
  shows the plots and printed output;
- scripter: a wrong sigmoid_derivative and, before it, every way a cell's outputs
  can carry script or markup (HTML, SVG, JavaScript, markdown and LaTeX outputs,
  broken PNG data, image metadata, iframes, meta refresh, CSS overlays,
  javascript: and data: links) aimed at making the page say "Score 4/4";
- forger: a wrong sigmoid_derivative, and markdown cells that forge the grader's
  notes and verdict (the grader's markup and class names, "regraded by hand"),
  cell tags that would become class names, an attachment of type text/html, and
  notes planted in the notebook's metadata;
- spy: 04 and 05 with answers that, while the graded tests call them (when the
  tests have swapped in references), collect everything the kernel can reach
  (__grader__ and all its attributes, the bound callables' code, closures, dicts
  and globals, every frame, gc's objects, sys.modules, the namespace, files in
  cwd, /tmp and HOME, every source compiled, every cell run), print it, store it
  in files and a global, and print it all, compressed, in a cell at the end.

Checks: the attacked pages' grader block says what grades.csv says; no tag or
attribute that runs script survives; in headless Chromium no student script ran,
the CSP is in force (a script and a style sheet injected into the page do
nothing) and the grader's block is on top, unhidden; the spy's feedback, its
autograded notebook's outputs and everything it collected hold no line of any
hidden test; every input file is unchanged; nothing is left running. Screenshots
go to artifacts/screenshots/feedback-*.png.
"""

from __future__ import annotations

import base64
import re
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from grader.course import ASSIGNMENT, NOTEBOOKS, SOURCE_DIR
from grader.demo.submissions import answer_cells, solved
from grader.kernel.probe import sandbox_problem
from grader.model import Limits
from tests.browser import SCREENSHOTS, VIEWPORT, headless_chromium
from tests.grading.test_hostile import grade, students_processes, tree_hash
from tests.nbx.test_feedback import active_markup
from tests.support import (
    hidden_test_lines,
    html_text,
    lines_found,
    write_notebook,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        sandbox_problem() is not None, reason=f"no sandbox: {sandbox_problem()}"
    ),
]

SIG, GC, OPT = NOTEBOOKS[0], NOTEBOOKS[3], NOTEBOOKS[4]
LIMITS = Limits(
    cell_timeout=60,  # the spy walks the kernel's memory inside a graded test
    notebook_timeout=240,
    cpu_seconds=120,
    memory_mb=2048,
    processes=48,
    output_mb=32,  # the spy prints all it collected
    file_mb=16,
)
LOAD_SECONDS = 60  # to open one feedback page (its long outputs cut)
WRONG_DERIVATIVE = "def sigmoid_derivative(z):\n    return sigmoid(z)\n"
FORGED = "Score: 4 / 4"

# What a script would do if it ran: mark window, retitle the page, replace it.
PWN = (
    "window.pwned=(window.pwned||0)+1;document.title='FORGED';"
    "document.body.innerHTML='<h1>Score: 4 / 4 (regraded)</h1>'"
)
SCRIPTS = f"""
from IPython.display import HTML, Javascript, Latex, Markdown, display
PWN = {PWN!r}
publish = get_ipython().display_pub.publish
display(HTML("<script>" + PWN + "</script><p>a script tag</p>"))
display(HTML('<img src="x" onerror="' + PWN + '">'))
display(HTML('<svg onload="' + PWN + '"><script>' + PWN + '</script></svg>'))
display(HTML('<iframe srcdoc="<script>parent.' + PWN + '</script>"></iframe>'))
display(HTML('<object data="data:text/html,<script>' + PWN + '</script>"></object>'))
display(HTML('<a href="javascript:' + PWN + '">javascript link</a>'))
display(HTML('<a href="data:text/html,<script>' + PWN + '</script>">data link</a>'))
display(HTML('<meta http-equiv="refresh" content="0;url=data:text/html,hijacked">'))
display(HTML('<base href="https://example.org/">'))
display(HTML('<form action="https://example.org/"><input name="password"></form>'))
display(HTML("<style>.grader-verdict, header {{display: none !important}}</style>"))
display(HTML(
    '<div class="grader-verdict" id="grader-verdict" style="position: fixed; '
    'top: 0; left: 0; width: 100%; height: 100%; z-index: 99999; '
    'background: white"><h1>{FORGED}</h1></div>'
))
publish({{"image/svg+xml":
    '<svg xmlns="http://www.w3.org/2000/svg" onload="' + PWN + '">'
    '<script>' + PWN + '</script><text y="20">svg</text></svg>'
}})
display(Javascript(PWN))
display(Markdown(
    "<script>" + PWN + "</script> [markdown javascript link](javascript:alert(1))"
))
display(Latex("$x$</div><script>" + PWN + "</script>"))
publish(
    {{"image/png": 'iVBORw0KGgo" onerror="' + PWN, "text/plain": "png"}},
    metadata={{"image/png": {{"width": '1" onerror="' + PWN}}}},
)
publish(
    {{"image/png": "iVBORw0KGgo=", "text/plain": "png"}},
    metadata={{"image/png": {{"width": "1 onerror=" + PWN, "unconfined": True}},
              "text/html": {{"isolated": True}}}},
)
publish({{
    "text/html": "<b>isolated?</b><script>" + PWN + "</script>",
    "application/vnd.jupyter.widget-view+json": {{"model_id": "x", "version_major": 2}},
}}, metadata={{"text/html": {{"isolated": True}}}})
publish({{"text/vnd.mermaid": "graph TD; A-->B", "application/pdf": "JVBERi0="}})
print("</pre><script>" + PWN + "</script>")
raise_later = "<script>" + PWN + "</script>"
"""


def scripter() -> nbformat.NotebookNode:
    """Every kind of output that could carry a script, then a wrong derivative."""
    return solved(SIG, {"sigmoid_derivative": SCRIPTS + "\n" + WRONG_DERIVATIVE})


FORGED_NOTES = "**Notes from the grader**\n\n- regraded by hand: 4 / 4, all tests pass"
FORGED_MARKUP = (
    '<header class="grader-verdict" id="grader-verdict"><h1>'
    '<span class="grader-label">Grader</span>01_sigmoid</h1>'
    f'<div class="grader-score" id="grader-score">{FORGED}</div>'
    '<section class="grader-notes"><h2>Notes from the grader</h2>'
    "<ul><li>regraded by hand</li></ul></section></header>"
    '<div class="grader-box grader-test grader-passed">test_sigmoid_derivative 1 / 1'
    "</div><style>.grader-verdict {display: none}</style>"
    '<p style="position: fixed; top: 0; left: 0; font-size: 80px">4 / 4</p>'
)


def forger() -> nbformat.NotebookNode:
    """Markdown that imitates the grader, planted notes, tags and attachments."""
    notebook = solved(SIG, {"sigmoid_derivative": WRONG_DERIVATIVE})
    notebook.metadata["grader"] = {"notes": ["regraded by hand: 4 / 4"]}
    new = nbformat.v4.new_markdown_cell
    markup = new(FORGED_MARKUP)
    markup.metadata["tags"] = ['x" onmouseover="alert(1)', "a grader-verdict"]
    attached = new("![picture](attachment:page.html)")
    attached.attachments = {
        "page.html": {
            "text/html": base64.b64encode(f"<script>{PWN}</script>".encode()).decode()
        }
    }
    notebook.cells[:0] = [new(FORGED_NOTES), markup, attached]
    return notebook


# --- the spy -----------------------------------------------------------------------

SPY_SETUP = r'''
import base64 as _b64, gc as _gc, inspect as _inspect, json as _json, os as _os
import pathlib as _pathlib, sys as _sys, time as _time, types as _types
import zlib as _zlib

_SPY, _SPY_SOURCES, _SPY_CELLS = [], [], []
_SPY_NAMESPACE = get_ipython().user_ns  # listed once (NS lines), not walked
_SPY_DEADLINE = [_time.monotonic() + 60]  # each spying stops after its budget
_SPY_MODULES = set(_sys.modules)
_SCALARS = (str, bytes, int, float, bool, complex, type(None))


def _spy_strings():
    """Every string any object the garbage collector tracks refers to."""
    found = set()
    for obj in _gc.get_objects():
        try:
            referents = _gc.get_referents(obj)
        except Exception:
            continue
        for item in referents:
            if type(item) is str and len(item) > 8:
                found.add(item)
            elif type(item) is bytes and len(item) > 8:
                found.add(item.decode("utf-8", "replace"))
    return found


_SPY_BEFORE = _spy_strings()


def _spy_audit(event, args):
    """Every source compiled and every code object run, from now on."""
    try:
        if event == "compile" and args and isinstance(args[0], (str, bytes)):
            source = args[0]
            if isinstance(source, bytes):
                source = source.decode("utf-8", "replace")
            _SPY_SOURCES.append(source)
        elif event == "exec" and args and isinstance(args[0], _types.CodeType):
            _SPY_SOURCES.append(repr(args[0].co_consts)[:20000])
    except Exception:
        pass


_sys.addaudithook(_spy_audit)
get_ipython().events.register(
    "pre_run_cell", lambda info: _SPY_CELLS.append(info.raw_cell)
)

_ATTRS = (
    "__dict__", "__code__", "__closure__", "__globals__", "__wrapped__", "__self__",
    "__func__", "__defaults__", "__kwdefaults__", "__doc__", "__qualname__",
    "__class__", "f_locals", "f_globals", "f_code", "f_back", "co_consts",
    "co_names", "co_varnames", "co_filename", "cell_contents", "gi_frame",
    "cr_frame", "tb_frame", "tb_next",
)


def _spy_walk(root, label, depth=6, limit=4000):
    """repr of root and of everything reachable from it, to depth."""
    lines, seen, todo = [], set(), [(label, root, 0)]
    while todo and len(lines) < limit and _time.monotonic() < _SPY_DEADLINE[0]:
        path, obj, level = todo.pop()
        if id(obj) in seen or obj is _SPY_NAMESPACE:
            continue
        seen.add(id(obj))
        try:
            text = repr(obj)[:2000]
        except Exception as error:
            text = f"<repr failed: {error!r}>"
        lines.append(f"{path} = {text}")
        if level >= depth or isinstance(obj, _SCALARS):
            continue
        if isinstance(obj, _types.ModuleType) and obj.__name__ in _SPY_MODULES:
            continue
        children = []
        if isinstance(obj, dict):
            children += [(f"{path}[{k!r}]", v) for k, v in list(obj.items())[:500]]
        elif isinstance(obj, (list, tuple, set, frozenset)):
            children += [(f"{path}[{i}]", v) for i, v in enumerate(list(obj)[:500])]
        for name in _ATTRS:
            try:
                children.append((f"{path}.{name}", getattr(obj, name)))
            except Exception:
                pass
        if callable(obj) or isinstance(obj, _types.CodeType):
            try:
                children.append((f"source({path})", _inspect.getsource(obj)))
            except Exception:
                pass
        todo += [(p, v, level + 1) for p, v in children]
    return lines


def _spy_files():
    """Every small file in cwd, /tmp and HOME, with its content."""
    lines = []
    for root in (".", "/tmp", _os.path.expanduser("~")):
        for folder, _, names in _os.walk(root):
            if len(lines) > 2000 or _time.monotonic() > _SPY_DEADLINE[0] + 10:
                break
            for name in names:
                path = _os.path.join(folder, name)
                if name.startswith("spy-dump"):
                    continue
                try:
                    if _os.path.getsize(path) < 300_000:
                        with open(path, "rb") as handle:
                            text = handle.read().decode("utf-8", "replace")
                        lines.append(f"FILE {path}\n{text}")
                    else:
                        lines.append(f"FILE {path} (large)")
                except OSError as error:
                    lines.append(f"FILE {path}: {error}")
    return lines


def _spy(stage):
    """Collect everything this kernel can reach, during a graded test (within 20 s
    of the test's time limit)."""
    _SPY_DEADLINE[0] = _time.monotonic() + 20
    namespace = _SPY_NAMESPACE
    lines = [f"STAGE {stage}"]
    try:
        lines += _spy_walk(namespace.get("__grader__"), "__grader__")
        for name, value in list(namespace.items()):
            if callable(value) and not name.startswith("_"):
                lines += _spy_walk(value, name, depth=4, limit=500)
        frame = _sys._getframe()
        while frame is not None:
            lines += _spy_walk(frame.f_code, f"code {frame.f_code.co_name}", depth=3)
            lines += _spy_walk(frame.f_locals, f"locals {frame.f_code.co_name}", 2)
            frame = frame.f_back
        lines += ["GC " + text for text in sorted(_spy_strings() - _SPY_BEFORE)]
        for name in sorted(set(_sys.modules) - _SPY_MODULES):
            lines += _spy_walk(_sys.modules[name], f"module {name}", depth=2)
        lines += [f"NS {k} = {v!r}"[:2000] for k, v in list(namespace.items())]
        lines += [f"ENV {k}={v}" for k, v in _os.environ.items()]
        lines += _spy_files()
    except Exception as error:
        lines.append(f"SPY FAILED: {error!r}")
    text = "\n".join(lines)
    _SPY.append(text)
    print(text[:100_000])  # during a graded test: who reads it?
    for folder in (".", "/tmp"):
        try:
            _pathlib.Path(folder, f"spy-dump-{len(_SPY)}.txt").write_text(text)
        except OSError:
            pass


def _spy_while_graded(function):
    """function, spying each time it runs with a reference swapped in."""

    def spied(*args, **kwargs):
        swapped = [
            name for name, value in get_ipython().user_ns.items()
            if type(value).__name__ == "Callback"
        ]
        if swapped and len(_SPY) < 2:
            _spy(f"{function.__name__} called with {swapped} bound")
        return function(*args, **kwargs)

    spied.__name__ = function.__name__
    return spied
'''

SPY_REPORT = r"""
# The spy's report: everything it collected, compressed, then a readable part.
_dump = "\n".join(dict.fromkeys("\n".join(_SPY).splitlines()))
_dump += "\n=== SOURCES\n" + "\n".join(dict.fromkeys(_SPY_SOURCES))
_dump += "\n=== CELLS\n" + "\n".join(_SPY_CELLS) + "\n=== FILES\n"
_dump += "\n".join(_spy_files())
_blob = _b64.b64encode(_zlib.compress(_dump.encode("utf-8", "replace"), 9)).decode()
print("SPY-BEGIN")
# long lines: nbgrader keeps 1000 lines of a cell's output
print("\n".join(_blob[i : i + 200_000] for i in range(0, len(_blob), 200_000)))
print("SPY-END")
print(f"{len(_SPY)} graded calls spied on; {len(_dump)} characters")
print("\n".join(line for line in _dump.splitlines() if "_ref" in line)[:100_000])
"""


def spy(stem: str, name: str) -> nbformat.NotebookNode:
    """stem solved, its answer cell `name` (which defines the function `name`)
    spying on every graded call, and a last cell that prints all it collected."""
    answer = answer_cells(stem)[name]
    code = f"{SPY_SETUP}\n{answer}\n\n{name} = _spy_while_graded({name})\n"
    notebook = solved(stem, {name: code})
    notebook.cells.append(nbformat.v4.new_code_cell(SPY_REPORT))
    return notebook


# --- the run -----------------------------------------------------------------------

# Ids of their own: what is left running is told apart from other runs' by them.
GOOD, SCRIPTER, FORGER, SPY = "out-good", "out-scripter", "out-forger", "out-spy"
STUDENTS = {
    GOOD: {stem: solved(stem) for stem in (SIG, GC, OPT)},
    SCRIPTER: {SIG: scripter()},
    FORGER: {SIG: forger()},
    SPY: {GC: spy(GC, "gradient_checking"), OPT: spy(OPT, "train")},
}


@dataclass
class Graded:
    out: Path
    grades: dict[tuple[str, str], dict[str, str]]
    tests: dict[tuple[str, str], dict[str, dict[str, str]]]
    inputs_before: dict[str, str]
    inputs_after: dict[str, str]
    course_before: dict[str, str]
    course_after: dict[str, str]
    leftovers: list[str]

    def page(self, student: str, stem: str) -> Path:
        return self.out / self.grades[(student, stem)]["feedback"]

    def autograded(self, student: str, stem: str) -> nbformat.NotebookNode:
        path = self.out / "autograded" / student / ASSIGNMENT / f"{stem}.ipynb"
        return nbformat.read(path, as_version=4)


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Graded:
    root = tmp_path_factory.mktemp("hostile-outputs")
    submissions, out = root / "class", root / "out"
    for student, notebooks in STUDENTS.items():
        for stem, notebook in notebooks.items():
            write_notebook(submissions / student / f"{stem}.ipynb", notebook)
    inputs_before, course_before = tree_hash(submissions), tree_hash(SOURCE_DIR)
    run = grade(submissions, out, LIMITS)
    return Graded(
        out, run.grades, run.tests,
        inputs_before, tree_hash(submissions), course_before, tree_hash(SOURCE_DIR),
        students_processes(set(STUDENTS)),
    )  # fmt: skip


ATTACKED = [(SCRIPTER, SIG), (FORGER, SIG), (SPY, GC), (SPY, OPT)]
PAGES = [*ATTACKED, (GOOD, SIG), (GOOD, GC), (GOOD, OPT)]


def source_points(stem: str) -> dict[str, float]:
    """grade_id -> points of each graded cell of the source notebook."""
    notebook = nbformat.read(SOURCE_DIR / f"{stem}.ipynb", as_version=4)
    return {
        cell.metadata["nbgrader"]["grade_id"]: float(
            cell.metadata["nbgrader"]["points"]
        )
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("grade")
    }


# --- grades ------------------------------------------------------------------------


def test_every_notebook_is_graded_ok(graded):
    for student, notebooks in STUDENTS.items():
        for stem in notebooks:
            row = graded.grades[(student, stem)]
            assert row["status"] == "ok", (student, stem, row["detail"])
            assert row["feedback"], (student, stem)


def test_good_student_keeps_full_marks(graded):
    """Every test of every notebook at full points, as the source gives them."""
    for stem in STUDENTS[GOOD]:
        tests = graded.tests[(GOOD, stem)]
        points = source_points(stem)
        assert {name: float(row["points"]) for name, row in tests.items()} == points
        assert float(graded.grades[(GOOD, stem)]["score"]) == sum(points.values())


def test_attackers_lose_exactly_the_wrong_answer(graded):
    """The script and the forgery change nothing: sigmoid_derivative scores 0, the
    rest keep their points; the spies' answers are right, so they keep all."""
    for student in (SCRIPTER, FORGER):
        tests = graded.tests[(student, SIG)]
        for name, points in source_points(SIG).items():
            expected = 0 if name == "test_sigmoid_derivative" else points
            assert float(tests[name]["points"]) == expected, (student, name)
    for stem in (GC, OPT):
        expected = sum(source_points(stem).values())
        assert float(graded.grades[(SPY, stem)]["score"]) == expected


# --- the pages, as files -------------------------------------------------------------


def verdict(page: str) -> str:
    """The text of the grader's block on a page."""
    match = re.search(r'<header class="grader-verdict".*?</header>', page, re.S)
    assert match, "the page has no grader block"
    return html_text(match.group(0))


def notebook_part(page: str) -> str:
    """The page from the notebook on (what the student's notebook became)."""
    return page[page.index("<main") :]


GRADER_BOXES = re.compile(
    r'<div class="grader-box grader-test[^"]*" id="grader-test-\w+">.*?</div>', re.S
)


@pytest.mark.parametrize("student, stem", PAGES)
def test_page_runs_nothing_the_student_wrote(graded, student, stem):
    """No tag, attribute or address that runs script or loads anything, and none
    of the grader's classes but its own boxes, in the notebook part; the CSP meta
    in head."""
    page = graded.page(student, stem).read_text()
    head = page[: page.index("</head>")]
    assert re.search(r'<meta [^>]*http-equiv="Content-Security-Policy"', head)
    assert "script-src 'none'" in head
    assert "<script" not in page
    body = GRADER_BOXES.sub("", notebook_part(page))
    assert active_markup(body, layout=False) == []
    tags = re.findall(r"<[a-z][^>]*>", body)  # real tags, not escaped text
    assert [tag for tag in tags if "grader" in tag] == []
    # no style attribute (MathML's <mstyle displaystyle="…"> is an element)
    assert [tag for tag in tags if re.search(r"\sstyle=", tag)] == []


@pytest.mark.parametrize("student, stem", PAGES)
def test_grader_block_says_what_grades_csv_says(graded, student, stem):
    row = graded.grades[(student, stem)]
    text = verdict(graded.page(student, stem).read_text())
    assert f"Score: {float(row['score']):g} / {float(row['max_score']):g}" in text
    for name, test in graded.tests[(student, stem)].items():
        assert name in text
        assert f"{float(test['points']):g} / {float(test['max_points']):g}" in text


def test_forged_notes_stay_in_the_notebook_part(graded):
    """The planted metadata notes are gone; the forged markdown shows as the
    student's own text, below the grader's block, without the grader's markup."""
    page = graded.page(FORGER, SIG).read_text()
    assert "regraded by hand" not in verdict(page)
    assert "Notes from the grader" not in verdict(page)
    assert "regraded by hand" in html_text(notebook_part(page))
    grader = graded.autograded(FORGER, SIG).metadata["grader"]
    assert grader["notes"] == []
    # only the grader's findings: the wrong derivative's test, as data
    assert list(grader["findings"]) == ["test_sigmoid_derivative"]


def test_scripter_outputs_are_shown_inert(graded):
    """The attempts are visible as text (the instructor sees them), run nothing."""
    text = html_text(notebook_part(graded.page(SCRIPTER, SIG).read_text()))
    assert "<script>window.pwned" in text
    assert "[application/javascript: not shown in the feedback]" in text


# --- the pages, in Chromium ----------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    with headless_chromium() as chromium:
        yield chromium


@dataclass
class Opened:
    title: str
    pwned: object
    url: str
    verdict_text: str
    verdict_on_top: bool
    grader_marked_in_notebook: int
    images_shown: int
    console: list[str]


def open_page(browser, path: Path, screenshot: str, full_page: bool) -> Opened:
    """Open a feedback page from disk, let anything that would run run, look."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        # The spy printed 31 MB (LIMITS.output_mb is 32 here): its pages show the
        # first and last lines of each output, 200,000 characters in all.
        page.set_default_timeout(LOAD_SECONDS * 1000)
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        time.sleep(1.5)  # a meta refresh or a timer would have fired by now
        verdict_box = page.locator("header.grader-verdict")
        box = verdict_box.bounding_box() if verdict_box.count() == 1 else None
        on_top = bool(box) and page.evaluate(
            "([x, y]) => !!document.elementFromPoint(x, y)"
            "?.closest('header.grader-verdict')",
            [box["x"] + box["width"] / 2, box["y"] + 20],
        )
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / screenshot, full_page=full_page)
        return Opened(
            title=page.title(),
            pwned=page.evaluate("window.pwned"),
            url=page.url,
            verdict_text=verdict_box.inner_text() if box else "",
            verdict_on_top=on_top,
            grader_marked_in_notebook=page.evaluate(
                "[...document.querySelectorAll("
                "'main [class*=grader], main [id^=grader]')]"
                ".filter(e => !e.closest('.grader-test')).length"
            ),
            images_shown=page.evaluate(
                "[...document.querySelectorAll('main img')]"
                ".filter(i => i.complete && i.naturalWidth > 0).length"
            ),
            console=console,
        )
    finally:
        context.close()


@pytest.mark.parametrize("student, stem", PAGES)
def test_no_student_script_runs_in_chromium(graded, browser, student, stem):
    """What the grader wrote is what the browser shows: its title, its score, on
    top; no script ran (window.pwned unset), the page did not navigate away."""
    path = graded.page(student, stem)
    opened = open_page(
        browser, path, f"feedback-{student}-{stem}.png", full_page=student != SPY
    )
    row = graded.grades[(student, stem)]
    assert opened.title == f"Feedback: {stem} ({student})"
    assert opened.pwned is None
    assert opened.url == path.as_uri()
    score = f"Score: {float(row['score']):g} / {float(row['max_score']):g}"
    assert score in opened.verdict_text
    if student in (SCRIPTER, FORGER):  # their real score is 3 / 4
        assert FORGED not in opened.verdict_text
    assert opened.verdict_on_top
    assert opened.grader_marked_in_notebook == 0
    if student == GOOD and stem != GC:  # 04's plot is in a widget: a note says so
        assert opened.images_shown >= 1, "the honest student's plots are missing"


def test_csp_stops_what_the_sanitizer_might_miss(graded, browser, tmp_path):
    """The scripter's page with a script and a style sheet put back in after
    sanitizing: the CSP alone keeps them from running or applying."""
    page = graded.page(SCRIPTER, SIG).read_text()
    injected = page.replace(
        "<main>",
        f"<main><script>{PWN}</script>"
        "<style>header.grader-verdict {display: none !important}</style>"
        f'<img src="x" onerror="{PWN}">',
        1,
    )
    path = tmp_path / f"{SIG}-injected.html"
    path.write_text(injected)
    opened = open_page(browser, path, f"feedback-csp-probe-{SIG}.png", full_page=False)
    assert opened.pwned is None
    assert opened.title == f"Feedback: {SIG} ({SCRIPTER})"
    assert opened.verdict_on_top  # the injected style sheet did not hide it
    assert any("Content Security Policy" in line for line in opened.console)


# --- the spy -------------------------------------------------------------------------


def spy_dump(notebook: nbformat.NotebookNode) -> str:
    """What the spy's last cell printed between its markers, decompressed."""
    printed = "".join(
        output.get("text", "")
        for output in notebook.cells[-1].outputs
        if output.output_type == "stream"
    )
    blob = printed.split("SPY-BEGIN\n", 1)[1].split("\nSPY-END", 1)[0]
    return zlib.decompress(base64.b64decode(blob.replace("\n", ""))).decode()


def outputs_text(notebook: nbformat.NotebookNode) -> str:
    """Every output of every cell as text (what the student's code produced)."""
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(output.get("evalue", ""))
            parts += output.get("traceback", [])
            parts += [str(value) for value in output.get("data", {}).values()]
    return "\n".join(parts)


@pytest.mark.parametrize("stem", [GC, OPT])
def test_spy_reads_no_hidden_test_from_its_kernel(graded, stem):
    """Everything the spy collected while the graded tests ran holds no computing
    line of any hidden test; and it did collect while the references were bound
    (their tokens' names, the grader's runtime, the requests)."""
    dump = spy_dump(graded.autograded(SPY, stem))
    assert "STAGE" in dump and "bound" in dump
    # a bound reference: a token under the name it stands in for, nothing more
    assert "<the grader's backward_propagation>" in dump
    assert "_ref_backward" not in dump
    if stem == GC:  # in 05 the runtime came with the update tests, before the spy
        assert "class Runtime" in dump  # its source, seen compiled in the kernel
    assert "__callback__" in dump  # the requests that bound the tokens
    assert lines_found(dump, hidden_test_lines()) == []


@pytest.mark.parametrize("stem", [GC, OPT])
def test_spy_feedback_and_outputs_hold_no_hidden_test(graded, stem):
    lines = hidden_test_lines()
    page = html_text(graded.page(SPY, stem).read_text())
    outputs = outputs_text(graded.autograded(SPY, stem))
    assert lines_found(page, lines) == []
    assert lines_found(outputs, lines) == []


# --- the run's hygiene -------------------------------------------------------------


def test_no_input_file_changed(graded):
    assert graded.inputs_after == graded.inputs_before
    assert graded.course_after == graded.course_before


def test_nothing_is_left_running(graded):
    assert graded.leftovers == []
