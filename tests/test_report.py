"""The run's output: grades.csv, tests.csv, the HTML class report, the summary."""

from __future__ import annotations

import base64
import csv
import html
import random
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlsplit

import matplotlib.pyplot as plt
import numpy as np
import pytest

from grader import report
from grader.course import NOTEBOOKS
from grader.report import (
    FailureCount,
    display_width,
    failure_counts,
    first_line,
    format_points,
    summary_table,
    write_class_report,
    write_grades_csv,
    write_tests_csv,
)
from grader.results import (
    GRADER_ERROR,
    GRADES_COLUMNS,
    KERNEL_DIED,
    MISSING,
    OK,
    STATUSES,
    TESTS_COLUMNS,
    TIMEOUT,
    UNREADABLE,
    WRONG_ASSIGNMENT,
    ClassResults,
    NotebookGrade,
    Unmapped,
)
from grader.results import (
    TestResult as CellResult,
)

SIGMOID, FORWARD, BACKWARD, GRADCHECK, OPTIMIZERS = NOTEBOOKS
MAX_SCORES = {SIGMOID: 3, FORWARD: 3, BACKWARD: 3, GRADCHECK: 2, OPTIMIZERS: 3}

ALICE = "alice"
BOB = "bob"
ZOE = "zoë_müller"
EVIL = '<script>alert("id")</script>'

SIGMOID_FAIL = "AssertionError: sigmoid(0) should be 0.5\nexpected 0.5, got 0"
SCRIPT_FAIL = (
    'debug, with, commas\n<script>alert("msg")</script>\n'
    "AssertionError: sigmoid(0) should be 0.5"
)
GRADCHECK_FAIL = "AssertionError: relative difference 0.3 > 1e-7"
COLOURED_GRADCHECK_FAIL = (
    "\x1b[0;31m-----------------\x1b[0m\n\n" + GRADCHECK_FAIL + "\nmore text"
)
FORWARD_FAIL = "ValueError: shapes (3,2) and (3,1) not aligned"


def passed(test: str, points: float) -> CellResult:
    """A test cell that earned all its points."""
    return CellResult(test, points, points)


def failed(test: str, points: float, message: str, earned: float = 0) -> CellResult:
    """A test cell that lost points, with what it printed."""
    return CellResult(test, earned, points, message)


def graded(student: str, notebook: str, *tests: CellResult, feedback=True):
    """An "ok" row whose score is the sum of its tests."""
    return NotebookGrade(
        student,
        notebook,
        score=sum(test.points for test in tests),
        max_score=sum(test.max_points for test in tests),
        status=OK,
        source=f"{student}/{notebook}.ipynb",
        feedback=f"feedback/{student}/{notebook}.html" if feedback else "",
        tests=list(tests),
    )


def broken(student: str, notebook: str, status: str, detail: str, *tests):
    """A row that could not be graded: score 0."""
    return NotebookGrade(
        student,
        notebook,
        score=0,
        max_score=MAX_SCORES[notebook],
        status=status,
        detail=detail,
        source="" if status == MISSING else f"{student}/{notebook}.ipynb",
        tests=list(tests),
    )


def class_results() -> ClassResults:
    """Four students, every status, hostile text; rows deliberately shuffled."""
    grades = [
        graded(
            ALICE,
            SIGMOID,
            failed("test_sigmoid_values", 2, SIGMOID_FAIL),
            passed("test_sigmoid_shape", 1),
        ),
        graded(
            ALICE, FORWARD, failed("test_forward_values", 3, FORWARD_FAIL, earned=1.5)
        ),
        graded(ALICE, BACKWARD, passed("test_backward_values", 3)),
        graded(ALICE, GRADCHECK, failed("test_gradient_check", 2, GRADCHECK_FAIL)),
        graded(
            ALICE, OPTIMIZERS, passed("test_adam_step", 2), passed("test_momentum", 1)
        ),
        graded(
            BOB,
            SIGMOID,
            passed("test_sigmoid_values", 2),
            passed("test_sigmoid_shape", 1),
        ),
        broken(
            BOB,
            FORWARD,
            TIMEOUT,
            "cell 7 ran past 60 s",
            failed("test_forward_values", 3, "TimeoutError"),
        ),
        broken(BOB, BACKWARD, MISSING, "no 03_backward_propagation.ipynb"),
        graded(
            BOB,
            GRADCHECK,
            failed("test_gradient_check", 2, COLOURED_GRADCHECK_FAIL, earned=1),
        ),
        broken(BOB, OPTIMIZERS, KERNEL_DIED, "kernel died, exit code -9"),
        graded(
            ZOE,
            SIGMOID,
            failed("test_sigmoid_values", 2, SCRIPT_FAIL),
            passed("test_sigmoid_shape", 1),
        ),
        broken(ZOE, FORWARD, UNREADABLE, "not JSON: <script>alert(1)</script>"),
        broken(ZOE, BACKWARD, WRONG_ASSIGNMENT, "cells of another, older course"),
        broken(ZOE, GRADCHECK, GRADER_ERROR, "Traceback:\nKeyError: 'x', \"y\""),
        graded(
            ZOE,
            OPTIMIZERS,
            passed("test_adam_step", 2),
            passed("test_momentum", 1),
            feedback=False,
        ),
        graded(
            EVIL,
            SIGMOID,
            failed("test_sigmoid_values", 2, SIGMOID_FAIL),
            passed("test_sigmoid_shape", 1),
        ),
        graded(EVIL, FORWARD, passed("test_forward_values", 3)),
        broken(EVIL, BACKWARD, MISSING, "no such file"),
        broken(EVIL, GRADCHECK, UNREADABLE, "empty file"),
        broken(EVIL, OPTIMIZERS, MISSING, "no such file"),
    ]
    random.Random(7).shuffle(grades)
    unmapped = [
        Unmapped("bulk.zip:readme.txt", "not a notebook"),
        Unmapped("stray, <b>odd</b>.ipynb", "no student id in the name"),
    ]
    return ClassResults(grades, unmapped)


NOT_OK_ROWS = 9  # every broken(...) row above
MEAN_TOTAL = "5.125"  # alice 8.5, bob 4, zoë 4, evil 4


@pytest.fixture(scope="module")
def results() -> ClassResults:
    """The hand-built class."""
    return class_results()


@pytest.fixture(scope="module")
def html_report(tmp_path_factory, results) -> str:
    """The class report written for the hand-built class, as text."""
    path = tmp_path_factory.mktemp("report") / "report.html"
    write_class_report(results, path)
    return path.read_text(encoding="utf-8")


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """A CSV file's header and rows."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def section(page: str, section_id: str) -> str:
    """The inside of the report's <section id=...>."""
    match = re.search(
        rf'<section[^>]*id="{section_id}"[^>]*>(.*?)</section>', page, re.S
    )
    assert match, f"no section {section_id}"
    return match.group(1)


class TagCollector(HTMLParser):
    """Records every start tag with its attributes and checks tags are balanced."""

    VOID = frozenset({"meta", "img", "br", "hr", "link", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.problems: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        """Remember the tag; expect a closing tag unless it is void."""
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        """The closing tag must match the innermost open one."""
        if not self.open or self.open.pop() != tag:
            self.problems.append(f"unexpected </{tag}>")


def parse(page: str) -> TagCollector:
    """The report's tags, parsed."""
    collector = TagCollector()
    collector.feed(page)
    collector.close()
    return collector


# ---------------------------------------------------------------- grades.csv


def test_grades_csv_has_one_row_per_student_and_notebook_with_every_value(
    tmp_path, results
):
    """grades.csv round-trips through DictReader: columns, row count and values."""
    path = tmp_path / "grades.csv"
    write_grades_csv(results, path)
    columns, rows = read_csv(path)
    assert columns == list(GRADES_COLUMNS)
    assert len(rows) == len(results.grades) == 20
    by_key = {(grade.student, grade.notebook): grade for grade in results.grades}
    for row in rows:
        grade = by_key[row["student"], row["notebook"]]
        assert float(row["score"]) == grade.score
        assert float(row["max_score"]) == grade.max_score
        for column in ("status", "detail", "source", "feedback"):
            assert row[column] == getattr(grade, column)


def test_grades_csv_is_sorted_by_student_then_course_notebook_order(tmp_path, results):
    """Rows come by student id, then in NOTEBOOKS order (not alphabetical input)."""
    path = tmp_path / "grades.csv"
    write_grades_csv(results, path)
    order = [(row["student"], row["notebook"]) for row in read_csv(path)[1]]
    students = sorted({ALICE, BOB, ZOE, EVIL})
    assert order == [(student, nb) for student in students for nb in NOTEBOOKS]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (4.0, "4"),
        (4, "4"),
        (0.0, "0"),
        (2.5, "2.5"),
        (1 / 3, "0.333"),
        (0.1 + 0.2, "0.3"),
    ],
)
def test_scores_are_written_as_plain_numbers(tmp_path, value, written):
    """Whole scores without ".0", fractions rounded to 3 decimals, in both CSVs."""
    grade = graded(ALICE, SIGMOID, failed("test_sigmoid_values", 2, "x", value))
    write_grades_csv(ClassResults([grade]), tmp_path / "grades.csv")
    write_tests_csv(ClassResults([grade]), tmp_path / "tests.csv")
    assert read_csv(tmp_path / "grades.csv")[1][0]["score"] == written
    assert read_csv(tmp_path / "tests.csv")[1][0]["points"] == written
    assert format_points(value) == written


# ---------------------------------------------------------------- tests.csv


def test_tests_csv_has_one_row_per_test_cell_and_keeps_multiline_messages(
    tmp_path, results
):
    """tests.csv round-trips: columns, one row per test, messages with , and \\n."""
    path = tmp_path / "tests.csv"
    write_tests_csv(results, path)
    columns, rows = read_csv(path)
    assert columns == list(TESTS_COLUMNS)
    expected = [
        (grade.student, grade.notebook, test.test, test.message)
        for grade in results.grades
        for test in grade.tests
    ]
    got = [
        (row["student"], row["notebook"], row["test"], row["message"]) for row in rows
    ]
    assert sorted(got) == sorted(expected)
    assert len(rows) == 18
    assert SCRIPT_FAIL in {row["message"] for row in rows}


def test_tests_csv_keeps_cell_order_within_a_notebook(tmp_path, results):
    """A notebook's tests appear in the order the grader listed them."""
    path = tmp_path / "tests.csv"
    write_tests_csv(results, path)
    alice_sigmoid = [
        row["test"]
        for row in read_csv(path)[1]
        if (row["student"], row["notebook"]) == (ALICE, SIGMOID)
    ]
    assert alice_sigmoid == ["test_sigmoid_values", "test_sigmoid_shape"]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t"])
def test_csv_defuses_student_text_a_spreadsheet_would_run(tmp_path, start):
    """A message or detail that starts like a formula is written with a leading ',
    so a spreadsheet shows it as text; numbers and ids are left alone."""
    text = f'{start}HYPERLINK("http://evil.example", "click")'
    grade = NotebookGrade(ALICE, SIGMOID, 1.0, 3.0, OK, text, text)
    grade.tests = [CellResult("test_sigmoid_values", 0.0, 1.0, text)]
    results = ClassResults([grade], [])
    write_grades_csv(results, tmp_path / "grades.csv")
    write_tests_csv(results, tmp_path / "tests.csv")
    (row,) = read_csv(tmp_path / "grades.csv")[1]
    (test,) = read_csv(tmp_path / "tests.csv")[1]
    assert row["detail"] == row["source"] == test["message"] == "'" + text
    assert (row["student"], row["score"], test["points"]) == (ALICE, "1", "0")


# ---------------------------------------------------------------- atomic writes

WRITERS = [write_grades_csv, write_tests_csv, write_class_report]


@pytest.mark.parametrize("write", WRITERS)
def test_writers_replace_an_existing_file_and_leave_no_temp_file(
    tmp_path, results, write
):
    """An old output is replaced whole; only the target is left in the folder."""
    path = tmp_path / "out" / "file"
    path.parent.mkdir()
    path.write_text("old contents")
    write(results, path)
    assert "old contents" not in path.read_text(encoding="utf-8")
    assert [p.name for p in path.parent.iterdir()] == ["file"]


@pytest.mark.parametrize("write", WRITERS)
def test_a_failed_write_keeps_the_old_file_and_removes_the_temp_file(
    tmp_path, results, write, monkeypatch
):
    """When the final rename fails, the previous output stays as it was."""
    path = tmp_path / "file"
    path.write_text("old contents")

    def refuse(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(report.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write(results, path)
    assert path.read_text() == "old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


# ---------------------------------------------------------------- failing checks


def test_failure_counts_lists_failed_tests_of_graded_notebooks_most_failed_first(
    results,
):
    """Counts, graded denominators and the most common first line, by count.

    Bob's timed-out 02 carries a failing test: it must count neither as a failure
    nor as graded.
    """
    assert failure_counts(results) == [
        FailureCount(
            SIGMOID,
            "test_sigmoid_values",
            3,
            4,
            "AssertionError: sigmoid(0) should be 0.5",
        ),
        FailureCount(GRADCHECK, "test_gradient_check", 2, 2, GRADCHECK_FAIL),
        FailureCount(FORWARD, "test_forward_values", 1, 2, FORWARD_FAIL),
    ]


def test_failure_counts_breaks_ties_by_notebook_order_then_test_name():
    """Equal counts: course notebook order first, then test name."""
    grades = [
        graded("s", OPTIMIZERS, failed("test_a", 1, "m")),
        graded("s", SIGMOID, failed("test_z", 1, "m"), failed("test_b", 1, "m")),
    ]
    order = [(c.notebook, c.test) for c in failure_counts(ClassResults(grades))]
    assert order == [(SIGMOID, "test_b"), (SIGMOID, "test_z"), (OPTIMIZERS, "test_a")]


def test_failure_counts_share_is_failed_over_graded():
    """share = failed / graded, 0 when nothing was graded."""
    assert FailureCount(SIGMOID, "t", 3, 4, "").share == 0.75
    assert FailureCount(SIGMOID, "t", 0, 0, "").share == 0.0


@pytest.mark.parametrize(
    ("message", "line"),
    [
        ("AssertionError: wrong\nsecond line", "AssertionError: wrong"),
        ("\n\n   \n  ValueError: bad  \n", "ValueError: bad"),
        ("\x1b[0;31m------\x1b[0m\n\x1b[1mKeyError\x1b[0m: 'w'", "KeyError: 'w'"),
        ("=====\n____\nTimeout", "Timeout"),
        ("", "(no message)"),
        ("----\n\n", "(no message)"),
    ],
)
def test_first_line_skips_colour_codes_blank_lines_and_rules(message, line):
    """The line shown for a failure is the first one with words in it."""
    assert first_line(message) == line


# ---------------------------------------------------------------- HTML report


@pytest.mark.parametrize(
    ("scores", "max_score"),
    [([0, 1, 3, 3], 3), ([0, 1.5, 3], 3), ([0.25, 2, 1.75], 2), ([0, 20, 40], 40)],
)
def test_histogram_bars_are_centred_on_the_scores(scores, max_score):
    """Whole, half and quarter points each sit in the middle of their own bar."""
    edges = report.score_bins(scores, max_score)
    for score in scores:
        index = np.searchsorted(edges, score, side="right") - 1
        assert (edges[index] + edges[index + 1]) / 2 == pytest.approx(score)


def test_histogram_of_arbitrary_scores_has_20_bins_covering_them():
    """Scores off any small grid get 20 equal bins from 0 to the max."""
    edges = report.score_bins([0.1234, 2.71828, 9.999], 10)
    assert len(edges) == 21
    assert (edges[0], edges[-1]) == (0, 10)


def test_report_shows_at_most_15_failing_checks(tmp_path):
    """A class failing 20 different checks gets the top 15 in the table."""
    tests = [failed(f"test_{n:02}", 1, "m") for n in range(20)]
    page_path = tmp_path / "report.html"
    write_class_report(ClassResults([graded("s", SIGMOID, *tests)]), page_path)
    body = section(page_path.read_text(encoding="utf-8"), "failures")
    assert body.count("<tr>") == 1 + 15
    assert "test_14" in body
    assert "test_15" not in body


def test_a_notebook_outside_the_course_gets_the_last_column(tmp_path):
    """Rows for an unknown notebook sort after the five and show up, not crash."""
    grades = [
        graded("s", "99_extra", passed("t", 1)),
        graded("s", SIGMOID, passed("t", 1)),
    ]
    results = ClassResults(grades)
    write_grades_csv(results, tmp_path / "grades.csv")
    notebooks = [row["notebook"] for row in read_csv(tmp_path / "grades.csv")[1]]
    assert notebooks == [SIGMOID, "99_extra"]
    header = summary_table(results).splitlines()[0].split()
    assert header == ["student", "01", "02", "03", "04", "05", "99", "total"]


@pytest.mark.parametrize(
    "section_id",
    ["headline", "distribution", "failures", "not-graded", "unmapped", "totals"],
)
def test_report_has_every_section(html_report, section_id):
    """Each of the report's sections is there, with a non-empty body."""
    assert section(html_report, section_id).strip()


def test_report_headline_counts_students_graded_and_not_graded(html_report):
    """Students, graded and ungraded notebooks, mean total out of the max total."""
    text = re.sub(r"<[^>]+>", "|", section(html_report, "headline"))
    assert "|4|students" in text
    assert f"|{20 - NOT_OK_ROWS}|notebooks graded" in text
    assert f"|{NOT_OK_ROWS}|notebooks could not be graded (3 students)" in text
    assert f"|{MEAN_TOTAL} / 14|mean total score" in text
    assert "|2|unmapped input files" in text


def test_report_escapes_every_student_string(html_report):
    """No student text becomes markup: ids, messages, details and file names."""
    assert "<script" not in html_report.lower()
    assert "<b>odd" not in html_report
    assert "&lt;script&gt;alert(&quot;id&quot;)&lt;/script&gt;" in html_report
    assert "not JSON: &lt;script&gt;alert(1)&lt;/script&gt;" in html_report
    assert "stray, &lt;b&gt;odd&lt;/b&gt;.ipynb" in html_report
    assert f"{html.escape(EVIL)}/{GRADCHECK}.ipynb" in html_report
    assert ZOE in html_report


def test_report_is_well_formed(html_report):
    """Every opened tag is closed in order: escaping left no stray markup."""
    parsed = parse(html_report)
    assert parsed.problems == []
    assert parsed.open == []


def test_report_embeds_its_plots_as_png(html_report):
    """Two plots (distribution, failures), both inline PNG data."""
    sources = [attrs["src"] for tag, attrs in parse(html_report).tags if tag == "img"]
    assert len(sources) == 2
    for source in sources:
        assert source.startswith("data:image/png;base64,")
        png = base64.b64decode(source.removeprefix("data:image/png;base64,"))
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert b"http" not in png  # matplotlib's default Software tag has a URL


def test_report_references_nothing_outside_itself(html_report):
    """No URL, stylesheet, script or font to fetch; links are relative paths."""
    assert "http://" not in html_report
    assert "https://" not in html_report
    for needle in ("<link", "<script", "@import", "url("):
        assert needle not in html_report.lower()
    for tag, attrs in parse(html_report).tags:
        for name in ("href", "src"):
            if name in attrs and not attrs[name].startswith("data:image/png"):
                parts = urlsplit(attrs[name])
                assert (parts.scheme, parts.netloc) == ("", ""), (tag, attrs)


def test_report_lists_every_notebook_that_could_not_be_graded(html_report, results):
    """One row per non-"ok" row, with its status, and each status explained."""
    body = section(html_report, "not-graded")
    assert body.count("<tr>") == 1 + NOT_OK_ROWS
    for status in (MISSING, UNREADABLE, WRONG_ASSIGNMENT, TIMEOUT, KERNEL_DIED):
        meaning = html.escape(report.STATUS_MEANINGS[status])
        assert f"<dt>{status}</dt><dd>{meaning}</dd>" in body
    assert "<dt>ok</dt>" not in body
    assert "cell 7 ran past 60 s" in body


def test_every_status_has_an_explanation():
    """The legend can explain whatever status the grader writes."""
    assert set(STATUSES) <= set(report.STATUS_MEANINGS)


def test_report_failure_table_shows_count_share_and_message(html_report):
    """The most failed check comes first with 3 of 4 graded and its first line."""
    rows = section(html_report, "failures").split("<tr>")
    assert "test_sigmoid_values" in rows[2]
    assert ">3<" in rows[2]
    assert "75% of 4" in rows[2]
    assert "AssertionError: sigmoid(0) should be 0.5" in rows[2]
    assert "expected 0.5" not in rows[2]


def test_report_links_each_feedback_file_by_its_relative_path(html_report, results):
    """Links for every non-empty feedback path, percent-encoded, none for ""."""
    hrefs = {attrs["href"] for tag, attrs in parse(html_report).tags if tag == "a"}
    expected = {quote(grade.feedback) for grade in results.grades if grade.feedback}
    assert hrefs == expected
    assert f"feedback/{ZOE}/{OPTIMIZERS}.html" not in html_report
    assert quote(f"feedback/{EVIL}/{SIGMOID}.html") in hrefs


def test_report_totals_show_scores_status_words_and_totals(html_report):
    """Bob's row: 3, timeout, missing, 1, kernel_died, total 4."""
    body = section(html_report, "totals")
    bob = next(row for row in body.split("<tr>") if f"<td>{BOB}</td>" in row)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", bob)
    words = [re.sub(r"<[^>]+>", "", cell) for cell in cells]
    assert words[:7] == [BOB, "3", TIMEOUT, MISSING, "1", KERNEL_DIED, "4"]


def test_report_creates_no_pyplot_figures(tmp_path, results):
    """Writing the report leaves pyplot's list of open figures as it was."""
    figure = plt.figure()
    before = plt.get_fignums()
    try:
        write_class_report(results, tmp_path / "report.html")
        assert plt.get_fignums() == before
    finally:
        plt.close(figure)


def test_report_survives_dollar_signs_in_test_names(tmp_path):
    """A "$" in a test name is drawn literally, not parsed as (broken) mathtext."""
    grade = graded("s", SIGMOID, failed("test_$cost", 1, "m"))
    write_class_report(ClassResults([grade]), tmp_path / "report.html")
    assert "test_$cost" in (tmp_path / "report.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------- no submissions


def test_no_submissions_still_writes_valid_files_with_a_note(tmp_path):
    """Empty results: header-only CSVs, a report and summary that say so."""
    empty = ClassResults([])
    write_grades_csv(empty, tmp_path / "grades.csv")
    write_tests_csv(empty, tmp_path / "tests.csv")
    write_class_report(empty, tmp_path / "report.html")
    assert read_csv(tmp_path / "grades.csv") == (list(GRADES_COLUMNS), [])
    assert read_csv(tmp_path / "tests.csv") == (list(TESTS_COLUMNS), [])
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "No submissions" in page
    assert parse(page).problems == []
    assert "No submissions" in summary_table(empty)


def test_no_submissions_report_still_lists_unmapped_files(tmp_path):
    """If every input file was unmappable, the report says which ones."""
    only_unmapped = ClassResults([], [Unmapped("notes.txt", "not a notebook")])
    write_class_report(only_unmapped, tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "No submissions" in page
    assert "notes.txt" in section(page, "unmapped")


# ---------------------------------------------------------------- summary table


def table_lines(text: str) -> list[str]:
    """The summary's table lines (header and students), before the blank line."""
    return text.split("\n\n", 1)[0].splitlines()


def test_summary_table_is_aligned(results):
    """Header and student lines have the same width; columns line up."""
    lines = table_lines(summary_table(results))
    assert len(lines) == 1 + 4
    assert len({display_width(line) for line in lines}) == 1
    assert lines[0].split() == ["student", "01", "02", "03", "04", "05", "total"]


@pytest.mark.parametrize("column", ["01", "02", "03", "04", "05", "total"])
def test_summary_numbers_and_statuses_are_flush_right_under_their_header(
    results, column
):
    """Each cell ends in the same column as its header (no trailing spaces)."""
    lines = table_lines(summary_table(results))
    end = lines[0].index(f" {column}") + len(column)
    for line in lines[1:]:
        assert line[end] != " "
        assert end + 1 == len(line) or line[end + 1] == " "


def summary_row(results: ClassResults, student: str) -> list[str]:
    """One student's cells in the summary table."""
    lines = table_lines(summary_table(results))
    return next(line.split() for line in lines if line.split()[0] == student)


@pytest.mark.parametrize(
    ("student", "cells"),
    [
        (ALICE, ["1", "1.5", "3", "0", "3", "8.5"]),
        (BOB, ["3", TIMEOUT, MISSING, "1", KERNEL_DIED, "4"]),
        (ZOE, ["1", UNREADABLE, "wrong_assign", GRADER_ERROR, "3", "4"]),
    ],
)
def test_summary_table_shows_scores_status_words_and_total(results, student, cells):
    """A score where graded, the status word where not, then the total."""
    assert summary_row(results, student)[1:] == cells


def test_summary_ends_with_counts_per_status_and_unmapped_files(results):
    """After the table: rows per status in STATUSES order, then unmapped files."""
    tail = summary_table(results).split("\n\n", 1)[1]
    assert " ".join(tail.split()) == (
        "notebooks: ok 11, missing 3, unreadable 2, wrong_assignment 1, timeout 1, "
        "kernel_died 1, grader_error 1 unmapped input files: 2"
    )


def test_summary_shows_a_dash_for_a_notebook_without_a_row():
    """A (student, notebook) the grader produced no row for is "-", not a crash."""
    grade = graded("s", FORWARD, passed("test_forward_values", 3))
    assert summary_row(ClassResults([grade]), "s")[1:] == ["-", "3", "-", "-", "-", "3"]


def worst_case() -> ClassResults:
    """Long student ids with the longest status words in every notebook."""
    long_id = "a.very.long.student.name@university.example.edu"
    grades = [
        broken(student, notebook, status, "")
        for student, status in [
            (long_id, WRONG_ASSIGNMENT),
            ("李雷" * 20, GRADER_ERROR),
        ]
        for notebook in NOTEBOOKS
    ]
    grades += [graded(f"s{n}", SIGMOID, passed("t", 999.125)) for n in range(999)]
    return ClassResults(grades)


def test_summary_fits_a_100_column_terminal_in_the_worst_case():
    """Every line fits in 100 columns, table and counts alike."""
    lines = summary_table(worst_case()).splitlines()
    assert max(display_width(line) for line in lines) <= 100
    assert len({display_width(line) for line in table_lines("\n".join(lines))}) == 1


def test_summary_replaces_control_characters_in_student_ids():
    """An id with a terminal escape or newline cannot garble the terminal."""
    grade = graded("eve\x1b[2J\nx", SIGMOID, passed("t", 1))
    text = summary_table(ClassResults([grade]))
    assert "\x1b" not in text
    assert "eve?[2J?x" in text


@pytest.mark.parametrize(
    ("text", "width"),
    [("abc", 3), ("zoë", 3), ("zoe\u0308", 3), ("李雷", 4), ("", 0)],
)
def test_display_width_counts_terminal_columns(text, width):
    """Wide East Asian characters take 2 columns, combining marks none."""
    assert display_width(text) == width


@pytest.mark.parametrize("text", ["a" * 30, "李" * 30, "zoë_müller_" * 3])
def test_long_student_ids_are_cut_to_the_column_with_an_ellipsis(text):
    """Ids longer than the student column end in "…" and fit it exactly or less."""
    cut = report.shorten(text, report.STUDENT_COLUMNS)
    assert cut.endswith("…")
    assert report.STUDENT_COLUMNS - 1 <= display_width(cut) <= report.STUDENT_COLUMNS
