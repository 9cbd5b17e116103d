"""What the grade command prints: the summary table (aligned, within 100 columns,
safe), a large class's problem students, the notices and the warnings."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.course import NOTEBOOKS
from grader.model import (
    ClassResults,
    NoSandbox,
    NotebookGrade,
    RefusedWorker,
    RunReport,
    Status,
    Unmapped,
)
from grader.output.terminal import (
    STUDENT_COLUMNS,
    SUMMARY_STUDENTS,
    UNSANDBOXED_NAMED,
    notices,
    run_summary,
    summary_table,
    warning_text,
)
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


OUT = Path("/grading/out")


def large_class(size: int) -> ClassResults:
    """`size` students s000.. with 01 only: s007 timed out, s003 missed it, the
    others scored their number modulo 5 (out of 4)."""
    grades = []
    for number in range(size):
        student = f"s{number:03d}"
        if number == 7:
            grades.append(broken(student, SIGMOID, Status.TIMEOUT, "stopped"))
        elif number == 3:
            grades.append(broken(student, SIGMOID, Status.MISSING, "no file"))
        else:
            score = float(number % 5)
            grades.append(NotebookGrade(student, SIGMOID, score, 4.0, Status.OK))
    return ClassResults(grades)


def summary_students(text: str) -> list[str]:
    """The students in a printed summary's table, in its order."""
    return [line.split()[0] for line in table_lines(text.split("\n", 1)[1])[1:]]


def test_a_class_up_to_the_cap_is_summarised_whole():
    results = large_class(SUMMARY_STUDENTS)
    text = run_summary(RunReport(results), OUT)
    assert text.startswith(summary_table(results) + "\n")


def test_a_larger_class_shows_its_problem_students_then_the_lowest_totals():
    """Past SUMMARY_STUDENTS: a sentence saying so and where everyone is, the
    students with a notebook not ok (missing is not a problem) first, then the
    lowest totals, ties by id; the counts are the whole class's."""
    results = large_class(SUMMARY_STUDENTS + 10)
    text = run_summary(RunReport(results), OUT)
    first = text.splitlines()[0]
    assert first.startswith(f"{SUMMARY_STUDENTS + 10} students; below, the ")
    assert f"{OUT / 'grades.csv'}, {OUT / 'report.html'}" in first
    shown = summary_students(text)
    assert shown == sorted(shown)
    size = SUMMARY_STUDENTS + 10
    total = {f"s{n:03d}": 0 if n in (3, 7) else n % 5 for n in range(size)}
    lowest = sorted(set(total) - {"s007"}, key=lambda s: (total[s], s))
    assert set(shown) == {"s007", *lowest[: SUMMARY_STUDENTS - 1]}
    assert f"notebooks: ok {SUMMARY_STUDENTS + 8}, missing 1, timeout 1" in text


def test_the_summary_ends_with_where_the_outputs_are():
    lines = run_summary(RunReport(large_class(2)), OUT).splitlines()
    assert lines[-6:] == [
        f"grades:   {OUT}/grades.csv",
        f"tests:    {OUT}/tests.csv",
        f"feedback: {OUT}/feedback/<student>/index.html (a page per student, "
        "linking one per notebook)",
        f"report:   {OUT}/report.html",
        f"copies:   {OUT}/similarity.csv (evidence to read; no grade changed)",
        f"gradebook (nbgrader export / formgrader from {OUT}): gradebook.db",
    ]
    with_db = run_summary(RunReport(large_class(2)), OUT, "postgresql://u@h/db")
    assert with_db.endswith(f"from {OUT}): postgresql://u@h/db")


def test_unmapped_files_are_listed_up_to_the_cap():
    unmapped = [Unmapped(f"f{n}.txt", "no student id") for n in range(45)]
    text = run_summary(RunReport(ClassResults(large_class(2).grades, unmapped)), OUT)
    assert "\n\n45 file(s) could not be matched to a student:\n" in text
    assert text.count(": no student id") == SUMMARY_STUDENTS
    assert f"  … all of them in {OUT}/report.html" in text


def test_notices_name_refused_and_unsandboxed_workers_and_students():
    """A notice per refused worker and per worker without a sandbox, in the order
    they came, then the students graded without it (the first ones named); this
    machine's own missing sandbox was a warning, not a notice."""
    students = [f"s{n:02d}" for n in range(UNSANDBOXED_NAMED + 5)]
    report = RunReport(
        ClassResults([]),
        [NoSandbox("no bwrap"), RefusedWorker("tcp://a:1", "another course"),
         NoSandbox("no bwrap there", "tcp://b:2")],
        students,
    )  # fmt: skip
    assert notices(report) == [
        "refused worker tcp://a:1: another course",
        "worker tcp://b:2 has no sandbox (no bwrap there): its students were "
        "graded without it",
        f"{len(students)} student(s) graded WITHOUT the sandbox (their worker has "
        f"none): {', '.join(students[:UNSANDBOXED_NAMED])}",
    ]
    text = run_summary(report, OUT)
    assert "\n\nNOTE: refused worker tcp://a:1: another course\n" in text


@pytest.mark.parametrize(
    ("warning", "first_line"),
    [
        (NoSandbox("bwrap not found"), "WARNING: grading WITHOUT a sandbox: bwrap "
         "not found."),
        (NoSandbox("no bwrap", "tcp://b:2"), "WARNING: worker tcp://b:2 grades "
         "WITHOUT a sandbox: no bwrap."),
    ],
)  # fmt: skip
def test_grading_without_the_sandbox_is_a_loud_warning(warning, first_line):
    """Between two rules of 78 '!', after a blank line, so that it is not missed."""
    lines = warning_text(warning).split("\n")
    assert lines[0] == "" and lines[1] == lines[-1] == "!" * 78
    assert lines[2] == first_line
    assert "--sandbox required" in lines[-2]


def test_a_refused_worker_is_one_plain_line():
    assert warning_text(RefusedWorker("tcp://a:1", "why")) == (
        "refused worker tcp://a:1: why"
    )


def test_conflicts_are_printed_loud_before_the_unmapped_files():
    """Nobody merged or dropped without a word: the summary says CHECK, between
    rules of '!', and names each file, its text made safe."""
    conflict = Unmapped("dl/\x1b[2Jx.ipynb", "duplicate of …, same time (…)", True)
    results = ClassResults(
        [graded("1", SIGMOID, passed("t", 1))],
        [Unmapped("notes.txt", "not a notebook"), conflict],
    )
    text = run_summary(RunReport(results), OUT)
    check = text.index("CHECK: 1 file(s) may be a student's work")
    assert text.rindex("!" * 78, 0, check) < check < text.index("notes.txt")
    assert "dl/\\x1b[2Jx.ipynb: duplicate of …, same time (…)" in text
    assert "\x1b" not in text
