"""grades.csv and tests.csv: byte for byte the contract, and what each row holds."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from grader.course import NOTEBOOKS
from grader.model import (
    GRADES_COLUMNS,
    TESTS_COLUMNS,
    ClassResults,
    Identity,
    NotebookGrade,
    Status,
)
from grader.model import TestResult as CellResult
from grader.output import tables
from grader.student_text import CSV, safe_text

from .sample import (
    ALICE,
    BOB,
    EVIL,
    SCRIPT_FAIL,
    SIGMOID,
    ZOE,
    contract_class,
    failed,
    graded,
    passed,
)

GOLDEN = Path(__file__).parents[1] / "files" / "output"


def read_csv(text: str) -> tuple[list[str], list[dict[str, str]]]:
    """A CSV document's header and rows."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    return list(reader.fieldnames or []), list(reader)


# ---------------------------------------------------------------- the contract


@pytest.mark.parametrize(
    ("render", "golden"),
    [(tables.grades_csv, "grades.csv"), (tables.tests_csv, "tests.csv")],
)
def test_csv_files_are_byte_for_byte_what_the_grader_has_always_written(render, golden):
    """The golden files hold what grader/report.py wrote for contract_class before
    the split (quoting, "\\r\\n" line ends, number format, order, defusing), with
    two changes since: student ids are defused like every text column, and control
    characters but newlines and tabs are shown as escapes (a lone "\\r" as "\\x0d":
    it could overwrite a line in a terminal)."""
    assert render(contract_class()).encode("utf-8") == (GOLDEN / golden).read_bytes()


def test_a_small_grades_csv_is_exactly_these_bytes():
    """An independent spelling-out of the format, quoting and line ends included."""
    grade = NotebookGrade(
        "ann",
        SIGMOID,
        2.5,
        4.0,
        Status.TIMEOUT,
        detail='cell 3, "loop"\nstopped',
        source="=ann.ipynb",
        feedback="feedback/ann/01_sigmoid.html",
        tests=[CellResult("test_sigmoid_values", 0.5, 2.0, "-1 != 0")],
    )
    results = ClassResults([grade])
    assert tables.grades_csv(results).encode() == (
        b"student,notebook,score,max_score,status,detail,source,feedback,name\r\n"
        b'ann,01_sigmoid,2.5,4,timeout,"cell 3, ""loop""\nstopped",'
        b"'=ann.ipynb,feedback/ann/01_sigmoid.html,\r\n"
    )
    results.identities["ann"] = Identity("moodle", "7", "Ann O'Neil, =1+1")
    assert (
        tables.grades_csv(results)
        .encode()
        .endswith(b'feedback/ann/01_sigmoid.html,"Ann O\'Neil, =1+1"\r\n')
    )
    assert tables.tests_csv(results).encode() == (
        b"student,notebook,test,points,max_points,message\r\n"
        b"ann,01_sigmoid,test_sigmoid_values,0.5,2,'-1 != 0\r\n"
    )


@pytest.mark.parametrize(
    ("name", "cell"),
    [
        ("Ada Lovelace", "Ada Lovelace"),
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("Ada\x1b[2JLovelace", "Ada\\x1b[2JLovelace"),
        ("", ""),
    ],
)
def test_the_name_column_holds_the_lms_name_defused(name, cell):
    """The name the LMS wrote, beside the id, made safe like every text cell;
    the columns before it are as they always were."""
    grade = NotebookGrade("21", SIGMOID, 1.0, 4.0, Status.OK)
    results = ClassResults([grade], identities={"21": Identity("moodle", "21", name)})
    columns, [row] = read_csv(tables.grades_csv(results))
    assert columns[-1] == "name" and columns[:-1] == list(GRADES_COLUMNS[:-1])
    assert row["name"] == cell


def test_no_submissions_gives_header_only_csv_files():
    """An empty class: each file is its header line and nothing else."""
    empty = ClassResults([])
    assert tables.grades_csv(empty) == ",".join(GRADES_COLUMNS) + "\r\n"
    assert tables.tests_csv(empty) == ",".join(TESTS_COLUMNS) + "\r\n"


# ---------------------------------------------------------------- grades.csv


def test_grades_csv_has_one_row_per_student_and_notebook_with_every_value(results):
    """grades.csv round-trips through DictReader: columns, row count and values."""
    columns, rows = read_csv(tables.grades_csv(results))
    assert columns == list(GRADES_COLUMNS)
    assert len(rows) == len(results.grades) == 20
    by_key = {(grade.student, grade.notebook): grade for grade in results.grades}
    for row in rows:
        grade = by_key[row["student"], row["notebook"]]
        assert float(row["score"]) == grade.score
        assert float(row["max_score"]) == grade.max_score
        for column in ("status", "detail", "source", "feedback"):
            assert row[column] == getattr(grade, column)


def test_grades_csv_is_sorted_by_student_then_course_notebook_order(results):
    """Rows come by student id, then in NOTEBOOKS order (not the input's order)."""
    order = [
        (row["student"], row["notebook"])
        for row in read_csv(tables.grades_csv(results))[1]
    ]
    students = sorted({ALICE, BOB, ZOE, EVIL})
    assert order == [(student, nb) for student in students for nb in NOTEBOOKS]


def test_a_notebook_outside_the_course_sorts_after_the_course_notebooks():
    """Rows for an unknown notebook come after the five, not in name order."""
    grades = [
        graded("s", "00_extra", passed("t", 1)),
        graded("s", SIGMOID, passed("t", 1)),
    ]
    notebooks = [
        row["notebook"] for row in read_csv(tables.grades_csv(ClassResults(grades)))[1]
    ]
    assert notebooks == [SIGMOID, "00_extra"]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (4.0, "4"),
        (4, "4"),
        (0.0, "0"),
        (-0.0, "0"),
        (2.5, "2.5"),
        (1 / 3, "0.333"),
        (0.1 + 0.2, "0.3"),
    ],
)
def test_scores_are_written_as_plain_numbers(value, written):
    """Whole scores without ".0", fractions rounded to 3 decimals, in both CSVs."""
    results = ClassResults(
        [graded(ALICE, SIGMOID, failed("test_sigmoid_values", 2, "x", value))]
    )
    assert read_csv(tables.grades_csv(results))[1][0]["score"] == written
    assert read_csv(tables.tests_csv(results))[1][0]["points"] == written


# ---------------------------------------------------------------- tests.csv


def test_tests_csv_has_one_row_per_test_cell_and_keeps_multiline_messages(results):
    """tests.csv round-trips: columns, one row per test, messages with , and \\n."""
    columns, rows = read_csv(tables.tests_csv(results))
    assert columns == list(TESTS_COLUMNS)
    expected = [  # messages as the CSV sink shows them (control characters)
        (grade.student, grade.notebook, test.test, safe_text(test.message, CSV))
        for grade in results.grades
        for test in grade.tests
    ]
    got = [
        (row["student"], row["notebook"], row["test"], row["message"]) for row in rows
    ]
    assert sorted(got) == sorted(expected)
    assert len(rows) == 18
    assert SCRIPT_FAIL in {row["message"] for row in rows}


def test_tests_csv_keeps_cell_order_within_a_notebook(results):
    """A notebook's tests appear in the order the grader listed them."""
    alice_sigmoid = [
        row["test"]
        for row in read_csv(tables.tests_csv(results))[1]
        if (row["student"], row["notebook"]) == (ALICE, SIGMOID)
    ]
    assert alice_sigmoid == ["test_sigmoid_values", "test_sigmoid_shape"]


# ---------------------------------------------------------------- formula defusing


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_defuses_student_text_a_spreadsheet_would_run(start):
    """A message, detail or source that starts like a formula gets a leading ', so a
    spreadsheet shows it as text (a carriage return is shown as an escape, which
    no spreadsheet runs); scores are left alone."""
    text = f'{start}HYPERLINK("http://evil.example", "click")'
    grade = NotebookGrade(ALICE, SIGMOID, 1.0, 3.0, Status.OK, text, text)
    grade.tests = [CellResult("test_sigmoid_values", 0.0, 1.0, text)]
    results = ClassResults([grade], [])
    (row,) = read_csv(tables.grades_csv(results))[1]
    (test,) = read_csv(tables.tests_csv(results))[1]
    shown = "\\x0d" + text[1:] if start == "\r" else "'" + text
    assert row["detail"] == row["source"] == test["message"] == shown
    assert (row["student"], row["score"], test["points"]) == (ALICE, "1", "0")


@pytest.mark.parametrize("student", ["@SUM(A1)", "-2-3", "=cmd|' /C calc'!A0", "+1"])
def test_csv_defuses_a_student_id_a_spreadsheet_would_run(student):
    """Ids are the students' own folder or file names: `-2-3` was written as it is
    and a spreadsheet computed -5. Every text column is defused, in both files; the
    feedback path holds the id too."""
    grade = NotebookGrade(
        student, SIGMOID, 1.0, 3.0, Status.OK, feedback=f"{student}/{SIGMOID}.html",
        tests=[CellResult("test_sigmoid_values", 1.0, 1.0)],
    )  # fmt: skip
    results = ClassResults([grade])
    (row,) = read_csv(tables.grades_csv(results))[1]
    (test,) = read_csv(tables.tests_csv(results))[1]
    assert row["student"] == test["student"] == "'" + student
    assert row["feedback"] == f"'{student}/{SIGMOID}.html"


@pytest.mark.parametrize("column", ["notebook", "test", "status"])
def test_csv_defuses_every_text_column_numbers_excepted(column):
    """The rule has no exceptions to remember: every column but the four numbers."""
    grade = NotebookGrade("ann", "=nb", -1.0, 3.0, Status.OK)
    grade.tests = [CellResult("=test", -1.0, 1.0)]
    row = {**tables.grades_row(grade), "status": "=status"}
    (written,) = read_csv(tables.csv_text(list(row), [row]))[1]
    (test,) = read_csv(tables.tests_csv(ClassResults([grade])))[1]
    assert {**written, **test}[column] == "'=" + column.replace("notebook", "nb")
    assert (written["score"], test["points"]) == ("-1", "-1")
