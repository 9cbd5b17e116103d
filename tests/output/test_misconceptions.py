"""misconceptions.csv and the report's first section: the class's mistakes by name,
counted once per student, from real hidden-test messages (misconception_class)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from grader.catalogue import mistakes_module
from grader.course import COURSE, REPO, SOURCE_DIR
from grader.model import ClassResults, NotebookGrade, Status
from grader.model import TestResult as CellResult
from grader.nbx.findings import findings_of
from grader.nbx.kernel_values import StudentCodeError
from grader.output.html import PLOTTED_MISCONCEPTIONS, TOP_MISCONCEPTIONS
from grader.output.misconceptions import (
    MISCONCEPTIONS_COLUMNS,
    class_misconceptions,
    misconceptions_csv,
)
from tests.support import read_csv

from .misconception_class import notebook, planted_class
from .page import parse
from .sample import report

BWD, SIG = "03_backward_propagation", "01_sigmoid"
CATALOGUE = mistakes_module(SOURCE_DIR).CATALOGUE
VALUES_LINE = "backward_propagation(X[5], y=1.386, random w, forward_dict)"
# (notebook, misconception, students, mistake id), the most common first.
EXPECTED = [
    (BWD, "dw3: the sign is flipped", ("ada", "bob", "eve"), "sign-flipped"),
    (SIG, "the sign in exp is flipped (that is σ(−z))", ("di", "eve"),
     "sigmoid-sign-flipped"),
    (BWD, "1 − tanh instead of 1 − tanh²", ("cy",), "tanh-not-squared"),
    (BWD, VALUES_LINE, ("frank",), ""),
]  # fmt: skip
# With findings as data, frank's failure is a group of the values it gave.
FRANK_GROUP = "unnamed-test_backward_lower-1"
EXPECTED_GROUPED = [
    *EXPECTED[:3],
    (BWD, f"the same wrong dw3 ({FRANK_GROUP})", ("frank",), FRANK_GROUP),
]


@pytest.fixture(scope="module", params=["findings", "messages"])
def results(request) -> ClassResults:
    """The class as the grader records it (findings as data) and as stock nbgrader
    leaves it (messages only): both count the same."""
    return planted_class(findings=request.param == "findings")


@pytest.fixture(scope="module")
def expected(results) -> list[tuple]:
    """EXPECTED, frank's row a group of values where the findings are data."""
    recorded = any(test.findings for g in results.grades for test in g.tests)
    return EXPECTED_GROUPED if recorded else EXPECTED


LABELLER = (
    "sigmoid_derivative raised ValueError: exp: the sign is flipped "
    "(at sigmoid_derivative (line 2): raise ValueError(...))"
)


def test_a_students_own_text_never_counts_as_a_named_mistake():
    """An exception whose text spells a mistake's label ("exp: the sign is
    flipped") counts only as what the grader saw: the function raised."""
    test = CellResult(
        "test_sigmoid_derivative", 0.0, 1.0, f"StudentCodeError: {LABELLER}",
        findings_of(StudentCodeError(LABELLER, "sigmoid_derivative", "ValueError")),
    )  # fmt: skip
    grade = NotebookGrade("mallory", SIG, 3.0, 4.0, Status.OK, tests=[test])
    rows = class_misconceptions(ClassResults([grade]), COURSE)
    assert [(row.label, row.mistake) for row in rows] == [
        ("sigmoid_derivative raised ValueError", None)
    ]
    own = StudentCodeError(LABELLER, "sigmoid_derivative", "exp: the sign is flipped")
    assert findings_of(own)["headline"] == "sigmoid_derivative raised an exception"


def test_only_stock_nbgrader_reads_names_from_the_message():
    """Without findings (the tests ran in the kernel) the message is all there
    is, and it is read (what a student can write there is stock nbgrader's
    limit, README "Tamper-proof tests")."""
    test = CellResult("test_sigmoid_derivative", 0.0, 1.0, LABELLER)
    grade = NotebookGrade("mallory", SIG, 3.0, 4.0, Status.OK, tests=[test])
    (row,) = class_misconceptions(ClassResults([grade]), COURSE)
    assert row.label == "exp: the sign is flipped"


def test_each_misconception_counts_each_student_once(results, expected):
    """Two tests naming dw3's flipped sign count ada once; eve counts in 01 and 03;
    cy's second test finds the same values only "different", which her first test
    named: no row of its own; frank's tripled dw3 matches no known mistake and
    counts under each failing test's first line (stock nbgrader) or in the group
    of the values it gave (the grader's findings); grace's 03 timed out: her
    unnamed failures count nowhere."""
    found = [
        (row.notebook, row.label, row.students, row.mistake_id)
        for row in class_misconceptions(results, COURSE)
    ]  # fmt: skip
    assert found == expected


def test_a_named_mistake_counts_even_where_its_notebook_did_not_finish(results):
    """The hidden tests that did run named it: that is what the student did."""
    timed_out = notebook("hal", BWD, "bwd-sign-dw3", Status.TIMEOUT)
    rows = class_misconceptions(ClassResults([*results.grades, timed_out]), COURSE)
    assert rows[0].label == "dw3: the sign is flipped"
    assert "hal" in rows[0].students


def test_misconceptions_csv_has_the_named_columns_first(results, expected, tmp_path):
    path = tmp_path / "misconceptions.csv"
    path.write_text(misconceptions_csv(class_misconceptions(results, COURSE)))
    header, rows = read_csv(path)
    assert header[:3] == ["notebook", "misconception", "students"]
    assert header == list(MISCONCEPTIONS_COLUMNS)
    assert [
        (row["notebook"], row["misconception"], int(row["students"]),
         tuple(row["student_ids"].split()), row["mistake_id"])
        for row in rows
    ] == [(n, m, len(s), s, i) for n, m, s, i in expected]  # fmt: skip


def test_a_first_line_a_student_printed_is_defused(tmp_path):
    """The first line of a failing test can be what the student's code printed."""
    grade = notebook("mallory", BWD, "tripled-dw3", findings=False)
    for test in grade.tests:
        test.message = '=HYPERLINK("http://x","y"), "q"\n' + test.message
    text = misconceptions_csv(class_misconceptions(ClassResults([grade]), COURSE))
    path = tmp_path / "m.csv"
    path.write_text(text)
    _, rows = read_csv(path)
    assert [row["misconception"] for row in rows] == [
        '\'=HYPERLINK("http://x","y"), "q"'
    ]


def test_the_catalogue_is_read_without_the_helpers_plots_and_widgets():
    """Loading mistakes.py by path imports no part of backprop_helper itself."""
    code = (
        "import sys; from grader.catalogue import mistakes_module; "
        f"mistakes_module({str(SOURCE_DIR)!r}); "
        "print(sorted(m for m in sys.modules if m.startswith(('backprop_helper', "
        "'matplotlib', 'ipywidgets'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "[]"


# ---------------------------------------------------------------- the report


@pytest.fixture(scope="module")
def page(results):
    return parse(report(results))


def test_the_report_opens_with_the_misconceptions(page):
    """Right after the headline figures, then the unnamed wrong answers, before
    the score distribution."""
    sections = [s.attrs.get("id") for s in page.root.find_all("section")]
    assert sections[:4] == ["headline", "misconceptions", "unnamed", "distribution"]
    assert page.root.find_all("nav")[0].find_all("a")[0].attrs["href"] == (
        "#misconceptions"
    )


def test_each_row_gives_count_share_notebook_meaning_and_where_it_is_taught(
    page, expected
):
    section = page.root.by_id("misconceptions")
    (table,) = section.find_all("table")
    rows = table.rows()[1:]
    students = 7
    assert [(row[1], row[2], row[3], row[4]) for row in rows] == [
        (label, notebook, str(len(ids)), f"{100 * len(ids) / students:.0f}%")
        for notebook, label, ids, _ in expected
    ]
    for row, (_, _, _, mistake_id) in zip(rows, expected):
        if mistake_id in CATALOGUE:
            mistake = CATALOGUE[mistake_id]
            assert row[5] == f"{mistake.meaning} Taught in: {mistake.taught}."
        else:
            assert row[5].startswith("No known mistake matched")


def test_the_students_of_each_misconception_are_listed_collapsed(page, expected):
    section = page.root.by_id("misconceptions")
    who = [d for d in section.find_all("details") if d.attrs.get("class") == "who"]
    assert len(who) == len(expected)
    for details, (_, _, ids, _) in zip(who, expected):
        assert "open" not in details.attrs
        assert details.find_all("p")[0].words() == ", ".join(ids)


def test_the_misconceptions_are_drawn_as_a_chart(page):
    (image,) = page.root.by_id("misconceptions").find_all("img")
    assert image.attrs["src"].startswith("data:image/png;base64,")


def test_a_class_no_test_failed_says_so():
    grade = notebook("ada", SIG, "sig-sign")
    for test in grade.tests:
        test.points, test.message = test.max_points, ""
    section = parse(report(ClassResults([grade]))).root.by_id("misconceptions")
    assert "recognised no misconception" in section.words()
    assert not section.find_all("img")


def test_a_large_class_shows_the_top_rows_and_collapses_the_rest():
    """5,000 students, 60 misconceptions: TOP_MISCONCEPTIONS rows open, the rest
    and every list of students collapsed, a chart of the top ones; the page stays
    a few MB."""
    grades = []
    for number in range(5000):
        grade = notebook(f"s{number:04}", BWD, "bwd-sign-dw3")
        grade.tests.append(
            CellResult("test_extra", 0, 1, f"SomeError: case {number % 60}")
        )
        grades.append(grade)
    html = report(ClassResults(grades))
    assert len(html) < 4_000_000
    section = parse(html).root.by_id("misconceptions")
    tables = section.find_all("table")
    assert len(tables[0].rows()) == 1 + TOP_MISCONCEPTIONS
    assert len(tables[1].rows()) == 1 + 61 - TOP_MISCONCEPTIONS
    assert tables[0].rows()[1][1:5] == ["dw3: the sign is flipped", BWD, "5000", "100%"]
    for details in section.find_all("details"):
        assert "open" not in details.attrs
    assert PLOTTED_MISCONCEPTIONS < TOP_MISCONCEPTIONS
