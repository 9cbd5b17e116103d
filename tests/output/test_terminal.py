"""The summary table printed after a run: aligned, within 100 columns, safe."""

from __future__ import annotations

import pytest

from grader.course import NOTEBOOKS
from grader.model import ClassResults, Status, Unmapped
from grader.output.terminal import STUDENT_COLUMNS, summary_table
from grader.output.text import display_width

from .sample import ALICE, BOB, FORWARD, SIGMOID, ZOE, broken, graded, passed


def table_lines(text: str) -> list[str]:
    """The summary's table lines (header and students), before the blank line."""
    return text.split("\n\n", 1)[0].splitlines()


def summary_row(results: ClassResults, student: str) -> list[str]:
    """One student's cells in the summary table."""
    lines = table_lines(summary_table(results))
    return next(line.split() for line in lines if line.split()[0] == student)


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


@pytest.mark.parametrize(
    ("student", "cells"),
    [
        (ALICE, ["1", "1.5", "3", "0", "3", "8.5"]),
        (BOB, ["3", "timeout", "missing", "1", "kernel_died", "4"]),
        (ZOE, ["1", "unreadable", "wrong_assign", "grader_error", "3", "4"]),
    ],
)
def test_summary_table_shows_scores_status_words_and_total(results, student, cells):
    """A score where graded, the status word where not (wrong_assignment
    shortened), then the total."""
    assert summary_row(results, student)[1:] == cells


def test_summary_ends_with_counts_per_status_and_unmapped_files(results):
    """After the table: rows per status in Status order, then unmapped files."""
    tail = summary_table(results).split("\n\n", 1)[1]
    assert " ".join(tail.split()) == (
        "notebooks: ok 11, missing 3, unreadable 2, wrong_assignment 1, timeout 1, "
        "kernel_died 1, grader_error 1 unmapped input files: 2"
    )


def test_summary_shows_a_dash_for_a_notebook_without_a_row():
    """A (student, notebook) the grader produced no row for is "-", not a crash."""
    grade = graded("s", FORWARD, passed("test_forward_values", 3))
    assert summary_row(ClassResults([grade]), "s")[1:] == ["-", "3", "-", "-", "-", "3"]


def test_a_notebook_outside_the_course_gets_the_last_column():
    """An unknown notebook's column comes after the five, headed by its prefix."""
    grades = [
        graded("s", "99_extra", passed("t", 1)),
        graded("s", SIGMOID, passed("t", 1)),
    ]
    header = summary_table(ClassResults(grades)).splitlines()[0].split()
    assert header == ["student", "01", "02", "03", "04", "05", "99", "total"]


def worst_case() -> ClassResults:
    """Long student ids with the longest status words in every notebook."""
    long_id = "a.very.long.student.name@university.example.edu"
    grades = [
        broken(student, notebook, status, "")
        for student, status in [
            (long_id, Status.WRONG_ASSIGNMENT),
            ("李雷" * 20, Status.GRADER_ERROR),
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


@pytest.mark.parametrize("student", ["a" * 30, "李" * 30, "zoë_müller_" * 3])
def test_long_student_ids_are_cut_to_the_column_with_an_ellipsis(student):
    """An id wider than the student column ends in "…" and fits the column."""
    (cell,) = [
        line.rsplit(None, 6)[0]
        for line in table_lines(summary_table(ClassResults([graded(student, SIGMOID)])))
        if not line.startswith("student")
    ]
    assert cell.rstrip().endswith("…")
    assert STUDENT_COLUMNS - 1 <= display_width(cell.rstrip()) <= STUDENT_COLUMNS


def test_summary_replaces_control_characters_in_student_ids():
    """An id with a terminal escape or newline cannot garble the terminal."""
    grade = graded("eve\x1b[2J\nx", SIGMOID, passed("t", 1))
    text = summary_table(ClassResults([grade]))
    assert "\x1b" not in text
    assert "eve\\x1b[2J\\x0ax" in text  # shown as visible escapes


def test_no_submissions_says_so_and_still_counts_unmapped_files():
    """Without rows: one sentence, then the unmapped files if any."""
    assert summary_table(ClassResults([])) == "No submissions: nothing was graded."
    only_unmapped = ClassResults([], [Unmapped("notes.txt", "not a notebook")])
    assert summary_table(only_unmapped).splitlines() == [
        "No submissions: nothing was graded.",
        "unmapped input files: 1",
    ]
