"""Copies found by the real command: five students of the planted class (one pair a
renamed copy) graded with `python -m grader grade`; OUT has similarity.csv, the
report's "Copies" section and the pair's page, which headless Chromium opens from
disk with the network off (axe-core finds no WCAG 2.1 A or AA violation).
Screenshots go to artifacts/screenshots/copies-*.png; UPDATE_DOCS_SCREENSHOT=1 also
rewrites docs/copies-report.png and docs/copies-pair.png, the ones the README shows.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from grader.course import REPO
from grader.demo.submissions import solved
from grader.output.similarity import NEVER_GRADES, SIMILARITY_COLUMNS, page_path
from tests.browser import (
    SCREENSHOTS,
    axe_violations,
    headless_chromium,
    offline_context,
)
from tests.similarity.copies_class import BWD, FWD, class_code
from tests.support import grade_with_cli, html_text, read_csv, write_notebook

pytestmark = [pytest.mark.slow, pytest.mark.browser]

STUDENTS = ("ada", "ada-renamed", "bo", "dee", "cy")
COPY = ("ada", "ada-renamed")
WIDTH = 1280


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    """The five students graded once; OUT."""
    root = tmp_path_factory.mktemp("copies-class")
    code = class_code()
    for student in STUDENTS:
        for stem, grade_id in ((FWD, "forward_propagation"),
                               (BWD, "backward_propagation")):  # fmt: skip
            notebook = solved(stem, {grade_id: code[student][stem]})
            write_notebook(root / "class" / student / f"{stem}.ipynb", notebook)
    return grade_with_cli(root / "class", root / "out")


def test_similarity_csv_flags_the_copy_and_nobody_else(out):
    header, rows = read_csv(out / "similarity.csv")
    assert header == list(SIMILARITY_COLUMNS)
    flagged = [(row["student_a"], row["student_b"]) for row in rows
               if row["flagged"] == "yes"]  # fmt: skip
    assert flagged == [COPY]
    assert f"page {page_path(1)}" in rows[0]["evidence"]
    assert {FWD, BWD} <= set(rows[0]["notebooks"].replace(";", " ").split())


def test_grades_are_the_graders_alone(out):
    _, rows = read_csv(out / "grades.csv")
    scores = {(row["student"], row["notebook"]): row["score"] for row in rows}
    assert scores[("ada", BWD)] == scores[("ada-renamed", BWD)]
    assert NEVER_GRADES in html_text((out / "report.html").read_text())


@pytest.fixture(scope="module")
def browser():
    with headless_chromium() as chromium:
        yield chromium


@pytest.mark.parametrize(
    ("name", "page", "docs"),
    [
        ("report", "report.html", "copies-report.png"),
        ("pair", page_path(1), "copies-pair.png"),
    ],
)
def test_the_section_and_the_pair_page_in_the_browser(out, browser, name, page, docs):
    context, requested = offline_context(
        browser, viewport={"width": WIDTH, "height": 900}
    )
    try:
        tab = context.new_page()
        tab.goto((out / page).as_uri())
        assert axe_violations(tab) == []
        assert requested == []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        screenshot = SCREENSHOTS / f"copies-{name}.png"
        if name == "report":
            section = tab.locator("#copies")
            assert "ada-renamed" in section.inner_text()
            section.screenshot(path=screenshot)
        else:
            marked = tab.locator(".match")
            assert marked.count() > 10
            tab.screenshot(path=screenshot)
        if os.environ.get("UPDATE_DOCS_SCREENSHOT"):
            shutil.copyfile(screenshot, REPO / "docs" / docs)
    finally:
        context.close()
