"""Student ids that look alike: kept apart by intake, listed for the instructor."""

from __future__ import annotations

import pytest

from grader.intake.names import safe_student_id
from grader.model import ClassResults, NotebookGrade, Status
from grader.output.stats import lookalike_groups
from grader.output.terminal import summary_table

from .page import parse
from .sample import SIGMOID, report

JOSE = safe_student_id("José")
CYRILLIC_ALICE = safe_student_id("Аlice")  # Cyrillic А


def row(student: str, source: str) -> NotebookGrade:
    return NotebookGrade(student, SIGMOID, 1, 4, Status.OK, source=source)


def lookalike_class() -> ClassResults:
    return ClassResults(
        [
            row("Jose", "Jose/01_sigmoid.ipynb"),
            row(JOSE, "José/01_sigmoid.ipynb"),
            row("alice", "alice/01_sigmoid.ipynb"),
            row(CYRILLIC_ALICE, "Аlice/01_sigmoid.ipynb"),
            row("bob", "bob/01_sigmoid.ipynb"),
            row("carol", "carol/01_sigmoid.ipynb"),
        ]
    )


def test_ids_that_differ_only_by_accents_or_look_alike_letters_are_grouped():
    """Each group: the ids and the file each was graded from (the name as handed in)."""
    assert lookalike_groups(lookalike_class()) == [
        [
            (CYRILLIC_ALICE, "Аlice/01_sigmoid.ipynb"),
            ("alice", "alice/01_sigmoid.ipynb"),
        ],
        [("Jose", "Jose/01_sigmoid.ipynb"), (JOSE, "José/01_sigmoid.ipynb")],
    ]


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("ada.lovelace", "ada_lovelace"),
        ("Bob", "bob"),
        ("s1234", "sl234"),
        ("corn", "com"),
        ("O'Neil", "ONeil"),
    ],
)
def test_case_separators_and_ascii_look_alikes_count_too(one, other):
    grades = [row(safe_student_id(one), ""), row(safe_student_id(other), "")]
    assert len(lookalike_groups(ClassResults(grades))) == 1


def test_different_ids_are_not_grouped():
    grades = [row(student, "") for student in ["12345", "12346", "alice", "alicia"]]
    assert lookalike_groups(ClassResults(grades)) == []


def test_the_report_lists_them_in_a_section_of_their_own():
    page = parse(report(lookalike_class()))
    section = page.root.by_id("lookalikes")
    rows = [
        [cell.words() for cell in tr.iter() if cell.tag == "td"]
        for tr in section.find_all("tr")
        if not tr.find_all("th")
    ]
    assert rows == [
        ["1", CYRILLIC_ALICE, "Аlice/01_sigmoid.ipynb"],
        ["1", "alice", "alice/01_sigmoid.ipynb"],
        ["2", "Jose", "Jose/01_sigmoid.ipynb"],
        ["2", JOSE, "José/01_sigmoid.ipynb"],
    ]
    assert "check that each is a different student" in section.words()
    headline = page.root.by_id("headline").words()
    assert "2 groups of student ids look alike" in headline


def test_the_report_says_when_no_ids_look_alike():
    page = parse(report(ClassResults([row("alice", ""), row("bob", "")])))
    assert "No two student ids look alike." in page.root.by_id("lookalikes").words()


def test_the_terminal_summary_points_to_the_report():
    assert "student ids that look alike: 2 groups (see report.html)" in summary_table(
        lookalike_class()
    )
    assert "look alike" not in summary_table(ClassResults([row("alice", "")]))
