"""Feedback a student reads in seconds (issue 23), through the real command and in
headless Chromium with the network off.

A correct student and a failing one (a typical mistake in each notebook) are
graded once with `python -m grader grade`. Their pages, the index first, are
opened as a student opens them, from disk: formulas are MathML (no "$" left in
the text), nothing is wider than a 1280-pixel screen unless it scrolls inside its
own box, axe-core finds no WCAG 2.1 A or AA violation (the class report neither),
no request leaves the page, and the correct student's five pages weigh at most
400 KB in all. Screenshots go to artifacts/screenshots/feedback-page-*.png;
UPDATE_DOCS_SCREENSHOT=1 also rewrites docs/feedback.png, the one the README shows.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from grader.course import NOTEBOOKS, REPO
from grader.demo.sample_class import with_mistake
from grader.demo.submissions import solved
from tests.browser import (
    SCREENSHOTS,
    axe_violations,
    headless_chromium,
    offline_context,
)
from tests.support import grade_with_cli, read_csv, write_notebook

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CORRECT, FAILING = "correct", "failing"
MISTAKES = ("sigmoid-sign", "loss-no-square", "dw3-sign", "one-sided", "adam-no-t")
WIDTH = 1280  # a laptop's screen
MAX_PAGES_BYTES = 400_000  # a correct student's five notebook pages in all
PAGES = ["index", *NOTEBOOKS]
DOCS_SCREENSHOT = REPO / "docs" / "feedback.png"
DOCS_PAGE = (FAILING, NOTEBOOKS[2])  # 03: its derivatives, from this heading on
DOCS_HEADING = "Local derivatives"


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    """The two students graded once; OUT."""
    root = tmp_path_factory.mktemp("feedback-pages")
    for stem in NOTEBOOKS:
        write_notebook(root / "class" / CORRECT / f"{stem}.ipynb", solved(stem))
    for mistake in MISTAKES:
        stem, notebook = with_mistake(mistake)
        write_notebook(root / "class" / FAILING / f"{stem}.ipynb", notebook)
    return grade_with_cli(root / "class", root / "out")


@pytest.fixture(scope="module")
def browser():
    with headless_chromium() as chromium:
        yield chromium


def page_path(out: Path, student: str, page: str) -> Path:
    return out / "feedback" / student / f"{page}.html"


def test_a_correct_students_five_pages_weigh_at_most_400_kb(out):
    sizes = {stem: page_path(out, CORRECT, stem).stat().st_size for stem in NOTEBOOKS}
    assert sum(sizes.values()) <= MAX_PAGES_BYTES, sizes
    assert page_path(out, CORRECT, "index").stat().st_size < 20_000


# What the page shows, measured in the browser: formulas, text outside code that
# still looks like TeX, what sticks out of a 1280-pixel screen.
MEASURE = """() => {
  const main = document.querySelector('main');
  const copy = main.cloneNode(true);
  copy.querySelectorAll('pre.code').forEach(code => code.remove());
  const scrolls = element => {
    for (let box = element.parentElement; box; box = box.parentElement) {
      const style = getComputedStyle(box);
      if (['auto', 'scroll'].includes(style.overflowX)
          && box.getBoundingClientRect().right <= innerWidth) return true;
    }
    return false;
  };
  const wide = [...document.querySelectorAll('table, pre, math, img')]
    .filter(e => e.getBoundingClientRect().right > innerWidth + 0.5 && !scrolls(e))
    .map(e => e.outerHTML.slice(0, 120));
  return {
    formulas: main.querySelectorAll('math').length,
    dollars: copy.textContent.split('$').length - 1,
    pageWidth: document.documentElement.scrollWidth,
    wide: wide,
    images: [...main.querySelectorAll('img')]
      .filter(i => !(i.complete && i.naturalWidth > 0)).length,
  };
}"""


@pytest.mark.parametrize("student", [CORRECT, FAILING])
@pytest.mark.parametrize("page", PAGES)
def test_the_page_in_chromium_offline(out, browser, student, page):
    """MathML, no TeX left, nothing wider than the screen but what scrolls in its
    box, every picture drawn, no WCAG 2.1 A/AA violation, no request made."""
    context, requested = offline_context(
        browser, viewport={"width": WIDTH, "height": 900}
    )
    try:
        tab = context.new_page()
        tab.goto(page_path(out, student, page).as_uri())
        tab.wait_for_load_state("load")
        if page != "index":
            shown = tab.evaluate(MEASURE)
            assert shown["formulas"] > 0
            assert shown["dollars"] == 0
            assert shown["pageWidth"] <= WIDTH
            assert shown["wide"] == []
            assert shown["images"] == 0
        assert axe_violations(tab) == []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        screenshot = SCREENSHOTS / f"feedback-page-{student}-{page}.png"
        tab.screenshot(path=screenshot, full_page=page == "index")
        if (student, page) == DOCS_PAGE:
            math_screenshot(tab)
    finally:
        context.close()
    assert requested == []


def math_screenshot(tab) -> None:
    """03's derivatives as the page draws them (the README's picture)."""
    tab.set_viewport_size({"width": WIDTH, "height": 1000})
    tab.locator("h2", has_text=DOCS_HEADING).evaluate("e => e.scrollIntoView()")
    screenshot = SCREENSHOTS / "feedback-page-math.png"
    tab.screenshot(path=screenshot)
    if os.environ.get("UPDATE_DOCS_SCREENSHOT"):
        shutil.copyfile(screenshot, DOCS_SCREENSHOT)


def test_the_index_links_to_each_notebooks_page(out, browser):
    """From the student's page to a notebook's page and back, by clicking."""
    context, requested = offline_context(browser)
    try:
        tab = context.new_page()
        tab.goto(page_path(out, FAILING, "index").as_uri())
        _, rows = read_csv(out / "grades.csv")
        total = sum(float(row["score"]) for row in rows if row["student"] == FAILING)
        assert f"Total: {total:g} / 29" in tab.inner_text("main")
        assert "dw3: the sign is flipped" in tab.inner_text("main")
        tab.get_by_role("link", name=NOTEBOOKS[2]).click()
        tab.wait_for_load_state("load")
        assert tab.url == page_path(out, FAILING, NOTEBOOKS[2]).as_uri()
        tab.get_by_role("link", name="all five notebooks").click()
        tab.wait_for_load_state("load")
        assert tab.url == page_path(out, FAILING, "index").as_uri()
    finally:
        context.close()
    assert requested == []


def test_the_class_report_passes_axe(out, browser):
    context, requested = offline_context(
        browser, viewport={"width": WIDTH, "height": 900}
    )
    try:
        tab = context.new_page()
        tab.goto((out / "report.html").as_uri())
        tab.wait_for_load_state("load")
        assert axe_violations(tab) == []
    finally:
        context.close()
    assert requested == []
