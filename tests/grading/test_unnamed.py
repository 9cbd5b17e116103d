"""Wrong answers no catalogue names, through the real grader (issue 18).

A class of 03 with planted unnamed mistakes: three students tripled dw3, each
written another way (the last digits of their values differ), one quadrupled it,
one raised an exception whose text looks like a group, one flipped dw3's sign (a
named mistake), one handed in the answer key. Graded once with `python -m grader
grade`: misconceptions.csv and the report group the unnamed ones by their values;
`python -m grader mistake-entry` prints the entry that, pasted into a copy of the
course, makes the next run name the tripled dw3. The section is looked at in
headless Chromium; its screenshot is kept in artifacts/screenshots/, and
UPDATE_DOCS_SCREENSHOT=1 also rewrites docs/report-unnamed.png, the one the README
shows.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from grader.course import ASSIGNMENT, CONFIG_NAME, COURSE, REPO
from grader.demo.submissions import solved
from tests.browser import CHROMIUM, SCREENSHOTS, launch_chromium
from tests.mistake_cases import BWD, DW_EXPRESSIONS, MISTAKE_CASES, edit, replace
from tests.output.page import parse
from tests.output.pasting import paste_entry
from tests.support import grade_with_cli, read_csv, run_cli, write_notebook

pytestmark = pytest.mark.slow

DW3 = DW_EXPRESSIONS["dw3"]
LINE = f'"dw3": {DW3},'


def dw3_as(expression: str):
    """03's answers with dw3 computed as `expression`."""
    return edit(BWD, "backward_propagation", LINE, f'"dw3": {expression},')


OWN_TEXT = "unnamed-test_backward_lower-1: dw3 = 0.0312"
CLASS = {  # student -> the answers of their 03
    "ada": dw3_as(f"3 * ({DW3})"),
    "bob": dw3_as("dz * (3 * c) * np.cos(w[2] * x[2]) * x[2]"),
    "cy": dw3_as(f"3 * {DW3}"),
    "di": dw3_as(f"4 * ({DW3})"),
    "eve": replace(BWD, "backward_propagation", f"""
        def backward_propagation(x, y, w, forward_dict):
            raise ValueError({OWN_TEXT!r})
        """),
    "fay": next(
        case.answers for case in MISTAKE_CASES if case.student == "bwd-sign-dw3"
    ),
    "gus": lambda: {},
}  # fmt: skip
TRIPLED = "unnamed-test_backward_lower-1"
QUADRUPLED = "unnamed-test_backward_lower-2"
EXPECTED = [  # misconception, students, mistake id: the most common first
    (f"the same wrong dw3 ({TRIPLED})", "ada bob cy", TRIPLED),
    ("dw3: the sign is flipped", "fay", "sign-flipped"),
    ("backward_propagation raised ValueError", "eve", ""),
    (f"the same wrong dw3 ({QUADRUPLED})", "di", QUADRUPLED),
]
NEW_NAME = "dw3 three times too large"
SCREENSHOT = SCREENSHOTS / "report-unnamed.png"
DOCS_SCREENSHOT = REPO / "docs" / "report-unnamed.png"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class graded once through the command: (its folder, OUT)."""
    root = tmp_path_factory.mktemp("unnamed")
    for student, answers in CLASS.items():
        write_notebook(root / "class" / student / f"{BWD}.ipynb",
                       solved(BWD, answers()))  # fmt: skip
    return root, grade_with_cli(root / "class", root / "out")


def test_the_same_unnamed_mistake_is_one_row_of_misconceptions_csv(graded):
    """Three students with the tripled dw3 are one group despite float noise; the
    quadrupled dw3 another; the exception's text forms none; the named mistake
    stays named."""
    _, out = graded
    _, rows = read_csv(out / "misconceptions.csv")
    assert [
        (row["misconception"], row["student_ids"], row["mistake_id"]) for row in rows
    ] == EXPECTED
    assert [int(row["students"]) for row in rows] == [3, 1, 1, 1]
    values = {
        group["group_id"]: [v for k, _, v in group["compared"] if k == "dw3"]
        for group in json.loads((out / "unnamed-mistakes.json").read_text())
    }
    assert set(values) == {TRIPLED, QUADRUPLED}


def test_the_report_shows_the_values_and_the_first_students_answer_cell(graded):
    _, out = graded
    html = (out / "report.html").read_text(encoding="utf-8")
    section = parse(html).root.by_id("unnamed")
    card = section.by_id(TRIPLED)
    assert "3 students · 03_backward_propagation · test_backward_lower" in (
        card.words()
    )
    (header, row) = card.find_all("table")[0].rows()
    assert header == ["key", "expected", "got"] and row[0] == "dw3"
    assert float(row[2]) == pytest.approx(3 * float(row[1]), rel=1e-4)
    (cell,) = card.find_all("pre")
    assert f'"dw3": 3 * ({DW3}),' in cell.text()  # ada's, as she wrote it
    marked = [mark.text().strip() for mark in cell.find_all("mark")]
    assert marked == [f'"dw3": 3 * ({DW3}),']  # the line the answer key lacks
    assert OWN_TEXT not in section.text()
    assert [card.attrs["id"] for card in section.find_all("div")] == [
        TRIPLED, QUADRUPLED
    ]  # fmt: skip


def test_the_pasted_entry_names_the_mistake_in_the_next_run(graded):
    """mistake-entry's output pasted into a copy of the course: the next run
    names the tripled dw3 for its three students; the quadrupled one is now the
    test's only group."""
    root, out = graded
    printed = run_cli(
        "mistake-entry", out, TRIPLED, "--id", "dw3-tripled", "--name", NEW_NAME
    )
    assert printed.returncode == 0, printed.stderr
    course = root / "course"
    course.mkdir()
    shutil.copy2(COURSE.config_file, course / CONFIG_NAME)
    shutil.copytree(COURSE.source_dir, course / "source" / ASSIGNMENT)
    paste_entry(course / "source" / ASSIGNMENT / "backprop_helper" / "mistakes.py",
                printed.stdout)  # fmt: skip
    again = root / "again"
    for student in ("ada", "bob", "cy", "di"):
        shutil.copytree(root / "class" / student, again / student)
    code = (
        "import sys; from pathlib import Path\n"
        "from grader.course import Course\n"
        "from grader.grading.grade import grade_class\n"
        "grade_class(Path(sys.argv[1]), Path(sys.argv[2]), course=Course("
        "Path(sys.argv[3])), workers=2, progress=False)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(again), str(root / "out2"), str(course)],
        cwd=REPO, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    _, rows = read_csv(root / "out2" / "misconceptions.csv")
    assert [
        (row["misconception"], row["student_ids"], row["mistake_id"]) for row in rows
    ] == [
        (NEW_NAME, "ada bob cy", "dw3-tripled"),
        (f"the same wrong dw3 ({TRIPLED})", "di", TRIPLED),
    ]


@pytest.mark.browser
def test_the_section_in_chromium(graded):
    """Headless Chromium: the section's cards, values and answer cell shown, the
    students hidden until opened; a screenshot of the section is kept."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make setup-dev`", pytrace=False)
    from playwright.sync_api import expect, sync_playwright

    _, out = graded
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto((out / "report.html").as_uri())
            section = page.locator("#unnamed")
            expect(section.locator("h2")).to_have_text(
                "Wrong answers no catalogue names"
            )
            card = section.locator(f"[id='{TRIPLED}']")
            expect(card.locator("pre.cell")).to_be_visible()
            expect(card.locator("details.who p.ids")).to_be_hidden()
            card.locator("details.who summary").click()
            expect(card.locator("details.who p.ids")).to_have_text("ada, bob, cy")
            # a viewport taller than the section: captured whole, without the
            # scrolling that would move the tables' sticky headers
            page.set_viewport_size({"width": 1200, "height": 2400})
            section.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 10_000
    if os.environ.get("UPDATE_DOCS_SCREENSHOT"):
        shutil.copyfile(SCREENSHOT, DOCS_SCREENSHOT)
