"""similarity.csv, the report's "Copies" section and the pair pages: the contract's
columns and order, hostile ids and code shown as text (escaped, defused, bounded),
the pages of an earlier run replaced."""

from __future__ import annotations

import numpy as np
import pytest

from grader.course import COURSE
from grader.output.html import report_html
from grader.output.misconceptions import class_misconceptions
from grader.output.similarity import (
    LINE_CHARS,
    NEVER_GRADES,
    PAGE_LINES,
    SIMILARITY_COLUMNS,
    SIMILARITY_FILE,
    copies_section,
    page_path,
    write_copies,
)
from grader.similarity.copies import CopiesReport, find_copies
from tests.output.page import parse
from tests.output.sample import class_results
from tests.similarity.copies_class import BWD, FWD, class_code
from tests.support import html_text, read_csv

FORMULA = '=HYPERLINK("http://evil.example","x")'
MARKUP = "<b>bold</b>"
SCRIPT = '"</pre><script>alert(1)</script>"'
BIDI = "\u202e"


def hostile_class() -> dict[str, dict[str, str]]:
    """The planted class, with a pair whose ids and code are hostile: ada's work
    copied by FORMULA, both with a script, a bidi override and a huge line, and
    MARKUP handing in a copy of bo's with 1,000 extra lines."""
    code = class_code()
    extra = f"\n    note = {SCRIPT}  # {BIDI}\n    wide = {'1 + ' * 200}1\n"
    ada = {stem: text + extra for stem, text in code["ada-renamed"].items()}
    code["ada"] = {stem: text + extra for stem, text in code["ada"].items()}
    del code["ada-renamed"]
    code[FORMULA] = ada
    bo = code.pop("bo-reordered")
    code[MARKUP] = {**bo, BWD: bo[BWD] + "\n    pass" * 1000}
    return code


@pytest.fixture(scope="module")
def report() -> CopiesReport:
    return find_copies(hostile_class(), np.empty(0, dtype=np.uint64))


@pytest.fixture(scope="module")
def out(report, tmp_path_factory):
    folder = tmp_path_factory.mktemp("copies")
    (folder / "similarity").mkdir()
    (folder / "similarity" / "pair-0099.html").write_text("stale")
    write_copies(report, folder)
    return folder


def test_similarity_csv_has_the_contracts_columns_most_similar_first(out, report):
    header, rows = read_csv(out / SIMILARITY_FILE)
    assert header == list(SIMILARITY_COLUMNS)
    values = [float(row["similarity"]) for row in rows]
    assert values == sorted(values, reverse=True) and min(values) >= report.floor
    assert {row["flagged"] for row in rows} == {"yes", "no"}
    flagged = [row for row in rows if row["flagged"] == "yes"]
    assert all(float(row["similarity"]) >= report.flag_at for row in flagged)
    assert all(row["evidence"].endswith(".html") for row in flagged)
    assert all(FWD in row["notebooks"] or BWD in row["notebooks"] for row in flagged)


def test_a_student_id_a_spreadsheet_would_run_is_defused(out):
    _, rows = read_csv(out / SIMILARITY_FILE)
    ids = {row["student_a"] for row in rows} | {row["student_b"] for row in rows}
    assert "'" + FORMULA in ids
    assert not any(name.startswith("=") for name in ids)


def test_each_flagged_pair_has_a_page_and_stale_pages_are_gone(out, report):
    pages = sorted(path.name for path in (out / "similarity").iterdir())
    assert pages == [
        page_path(rank).split("/")[1] for rank in range(1, len(report.flagged) + 1)
    ]


def pair_page(out, report, student: str) -> str:
    rank = next(
        rank
        for rank, pair in enumerate(report.flagged, 1)
        if student in (pair.student_a, pair.student_b)
    )
    return (out / page_path(rank)).read_text()


def test_hostile_code_is_shown_as_text_on_the_page(out, report):
    page = pair_page(out, report, FORMULA)
    assert "<script" not in page and "</pre><script>" not in page
    assert "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert BIDI not in page and "\\u202e" in page
    assert "1 + " * 200 not in page  # the long line, cut
    parsed = parse(page)
    assert parsed.problems == [] and parsed.unclosed == []
    assert NEVER_GRADES in html_text(page)


def test_the_page_marks_the_same_regions_on_both_sides(out, report):
    page = parse(pair_page(out, report, FORMULA))
    sides = [e for e in page.root.iter() if e.attrs.get("class") == "side"]
    assert len(sides) == 6  # three notebooks, two students each
    numbers = [
        {tag.text() for tag in side.iter() if tag.attrs.get("class") == "tag"} - {""}
        for side in sides
    ]
    for first, second in zip(numbers[::2], numbers[1::2], strict=True):
        assert first and first == second


def test_a_long_answer_is_cut_on_the_page(out, report):
    page = pair_page(out, report, MARKUP)
    assert "more lines not shown" in page
    assert page.count('class="no"') <= 4 * PAGE_LINES
    assert MARKUP not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    assert LINE_CHARS < 1000


def test_the_report_lists_flagged_pairs_and_groups_and_says_grades_stand(report):
    results = class_results()
    html = report_html(
        results,
        class_misconceptions(results, COURSE),
        copies=copies_section(report),
    )
    page = parse(html)
    assert page.problems == [] and page.unclosed == []
    section = page.root.by_id("copies")
    text = section.text()
    assert NEVER_GRADES.split(":")[0] in text
    links = [a.attrs["href"] for a in section.find_all("a")]
    assert links == [page_path(rank) for rank in range(1, len(report.flagged) + 1)]
    assert MARKUP in text and section.find_all("b") == []
    assert "cy, cy-comprehended, cy-disguised" in text


def test_without_copies_the_report_has_no_section():
    results = class_results()
    html = report_html(results, [])
    assert 'id="copies"' not in html and 'href="#copies"' not in html
