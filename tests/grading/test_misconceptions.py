"""The class's mistakes by name, through the real command (issue 14).

A small class with planted mistakes (tests/mistake_cases.py's answers, handed in as
notebooks): three students flipped dw3's sign (eve also σ's), two computed σ(−z),
one wrote 1 − tanh, one tripled dw3 (no known mistake: a group of its values).
Graded once with `python -m grader grade`; misconceptions.csv, the report's first
section and the feedback pages must count and name them alike. The report is also
looked at in headless Chromium; its screenshot is kept in artifacts/screenshots/.
"""

from __future__ import annotations

import pytest

from grader.catalogue import mistakes_module
from grader.course import SOURCE_DIR
from grader.demo.submissions import solved
from grader.output.misconceptions import MISCONCEPTIONS_COLUMNS
from tests.browser import CHROMIUM, SCREENSHOTS, launch_chromium
from tests.mistake_cases import BWD, MISTAKE_CASES, SIG
from tests.output.misconception_class import TRIPLED_DW3
from tests.output.page import parse
from tests.support import grade_with_cli, html_text, read_csv, write_notebook

pytestmark = pytest.mark.slow

CASES = {case.student: case for case in MISTAKE_CASES}
CLASS = {  # student -> {notebook: the answers of a planted case}
    "ada": {BWD: CASES["bwd-sign-dw3"].answers},
    "bob": {BWD: CASES["bwd-sign-dw3"].answers},
    "eve": {BWD: CASES["bwd-sign-dw3"].answers, SIG: CASES["sig-sign"].answers},
    "di": {SIG: CASES["sig-sign"].answers},
    "cy": {BWD: CASES["bwd-tanh-prime"].answers},
    "frank": {BWD: TRIPLED_DW3},
    "grace": {SIG: lambda: {}},  # the answer key: nothing to count
}
FRANK = "unnamed-test_backward_lower-1"  # his wrong values: a group of its own
EXPECTED = [  # notebook, misconception, students, mistake id: the most common first
    (BWD, "dw3: the sign is flipped", ["ada", "bob", "eve"], "sign-flipped"),
    (SIG, "the sign in exp is flipped (that is σ(−z))", ["di", "eve"],
     "sigmoid-sign-flipped"),
    (BWD, "1 − tanh instead of 1 − tanh²", ["cy"], "tanh-not-squared"),
    (BWD, f"the same wrong dw3 ({FRANK})", ["frank"], FRANK),
]  # fmt: skip
SCREENSHOT = SCREENSHOTS / "report-misconceptions.png"


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    """The class graded once through the command; its OUT folder."""
    root = tmp_path_factory.mktemp("misconceptions")
    for student, notebooks in CLASS.items():
        for stem, answers in notebooks.items():
            write_notebook(root / "class" / student / f"{stem}.ipynb",
                           solved(stem, answers()))  # fmt: skip
    return grade_with_cli(root / "class", root / "out")


def test_a_class_in_folders_of_its_own_gets_no_lms_files(out):
    """No LMS named these files: there is nothing to put back (OUT/lms/)."""
    assert (out / "grades.csv").exists()
    assert not (out / "lms").exists()


def test_misconceptions_csv_counts_each_student_once_per_misconception(out):
    header, rows = read_csv(out / "misconceptions.csv")
    assert header == list(MISCONCEPTIONS_COLUMNS)
    assert [
        (row["notebook"], row["misconception"], row["student_ids"].split(),
         row["mistake_id"])
        for row in rows
    ] == EXPECTED  # fmt: skip
    assert [int(row["students"]) for row in rows] == [
        len(ids) for _, _, ids, _ in EXPECTED
    ]


def test_the_report_opens_with_the_same_counts(out):
    """Right after the headline: each misconception with its count, share of the
    7 students, notebook, meaning and where it is taught, students collapsed."""
    page = parse((out / "report.html").read_text(encoding="utf-8"))
    sections = [section.attrs.get("id") for section in page.root.find_all("section")]
    assert sections[:2] == ["headline", "misconceptions"]
    section = page.root.by_id("misconceptions")
    rows = section.find_all("table")[0].rows()[1:]
    assert [row[1:5] for row in rows] == [
        [label, notebook, str(len(ids)), f"{100 * len(ids) / 7:.0f}%"]
        for notebook, label, ids, _ in EXPECTED
    ]
    catalogue = mistakes_module(SOURCE_DIR).CATALOGUE
    assert rows[0][5] == (
        f"{catalogue['sign-flipped'].meaning} Taught in: "
        f"{catalogue['sign-flipped'].taught}."
    )
    who = [d for d in section.find_all("details") if d.attrs.get("class") == "who"]
    assert [d.find_all("p")[0].words() for d in who] == [
        ", ".join(ids) for _, _, ids, _ in EXPECTED
    ]
    assert not any("open" in details.attrs for details in who)
    assert section.find_all("img")


@pytest.mark.parametrize(
    ("student", "stem", "test", "label"),
    [
        ("ada", BWD, "test_backward_lower", "dw3: the sign is flipped"),
        ("cy", BWD, "test_backward_upper", "1 − tanh instead of 1 − tanh²"),
        ("di", SIG, "test_sigmoid_values",
         "the sign in exp is flipped (that is σ(−z))"),
    ],
)  # fmt: skip
def test_the_feedback_names_it_at_the_top_of_the_failing_test(
    out, student, stem, test, label
):
    page = (out / "feedback" / student / f"{stem}.html").read_text(encoding="utf-8")
    start = page.index(f'id="grader-test-{test}"')
    box = page[start : page.index("</pre>", start)]
    text = html_text(box)
    assert f"Misconception: {label}." in text
    assert box.index("grader-misconception") < box.index("grader-message")


def test_a_test_that_named_no_mistake_names_none_in_the_feedback(out):
    page = (out / "feedback" / "frank" / f"{BWD}.html").read_text(encoding="utf-8")
    assert 'class="grader-misconception"' not in page
    assert "Misconception:" not in html_text(page)
    assert "dw3: different value" in html_text(page)


@pytest.mark.browser
def test_the_report_in_chromium_shows_the_misconceptions_first(out):
    """Headless Chromium: the section is on the first screen, its chart drawn, the
    students hidden until their row is opened; a screenshot is kept."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make setup-dev`", pytrace=False)
    from playwright.sync_api import expect, sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto((out / "report.html").as_uri())
            heading = page.locator("#misconceptions h2")
            expect(heading).to_have_text("Misconceptions in this class")
            assert heading.bounding_box()["y"] < 1000  # on the first screen
            chart = page.locator("#misconceptions img")
            assert chart.evaluate("image => image.naturalWidth") > 0
            first = page.locator("#misconceptions details.who").first
            expect(first.locator("p.ids")).to_be_hidden()
            first.locator("summary").click()
            expect(first.locator("p.ids")).to_have_text("ada, bob, eve")
            page.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 10_000
