"""OUT/lms/: the file each LMS's own grade import takes (grader/output/lms.py).

Each format is checked against what that LMS's importer reads (README: "Grades
back into the LMS"): Canvas's header rules and "Name (id)" columns, Moodle's exact
column names and "Participant <id>", Blackboard's quoted values and "|id" column.
"""

from __future__ import annotations

import csv
import io
import re
import stat
from datetime import datetime, timedelta, timezone

import pytest

from grader.intake.errors import InputError
from grader.model import ClassResults, Identity, Status
from grader.output.lms import (
    BLACKBOARD_COMMENT,
    CANVAS_COLUMNS,
    MOODLE_COLUMNS,
    LmsSettings,
    lms_files,
)
from grader.output.write import write_outputs

from .sample import (
    BACKWARD,
    FORWARD,
    GRADCHECK,
    OPTIMIZERS,
    SIGMOID,
    broken,
    failed,
    graded,
    passed,
)

NOW = datetime(2026, 11, 30, 14, 5, 9, tzinfo=timezone(timedelta(hours=1)))
SETTINGS = LmsSettings(
    "Backprop", canvas_assignment_id="4567", blackboard_column_id="98"
)
HOSTILE_NAME = '=HYPERLINK("http://evil.example","click"), me\n\t"quoted"'
NOTEBOOKS = (SIGMOID, FORWARD, BACKWARD, GRADCHECK, OPTIMIZERS)


def full_marks(student: str, *, lost: float = 0) -> list:
    """Five graded notebooks (14 points in all), 01 short by `lost` points."""
    return [
        graded(student, SIGMOID, passed("t1", 2), failed("t2", 1, "x", 1 - lost)),
        graded(student, FORWARD, passed("t", 3)),
        graded(student, BACKWARD, passed("t", 3)),
        graded(student, GRADCHECK, passed("t", 2)),
        graded(student, OPTIMIZERS, passed("t", 3)),
    ]


def nothing_gradable(student: str) -> list:
    """01 unreadable, 02 not this assignment, the rest missing: no notebook ran."""
    return [
        broken(student, SIGMOID, Status.UNREADABLE, "not JSON"),
        broken(student, FORWARD, Status.WRONG_ASSIGNMENT, "another course"),
        *(broken(student, stem, Status.MISSING, "none") for stem in NOTEBOOKS[2:]),
    ]


def mixed_class() -> ClassResults:
    """Canvas: 11 (13.5 points) and 12 (nothing gradable); Moodle: 21 (hostile
    name, 01 timed out after 1 point) and 22 (nothing gradable); Blackboard: jdoe
    and -mallory; alice handed in a folder of her own."""
    timed_out = full_marks("21")
    timed_out[0] = broken("21", SIGMOID, Status.TIMEOUT, "cell 3", passed("t1", 1))
    timed_out[0].score = 1
    grades = [
        *full_marks("11", lost=0.5), *nothing_gradable("12"),
        *timed_out, *nothing_gradable("22"),
        *full_marks("jdoe"), *full_marks("-mallory"), *full_marks("alice"),
    ]  # fmt: skip
    identities = {
        "11": Identity("canvas", "11", "lovelaceada"),
        "12": Identity("canvas", "12", "hopper"),
        "21": Identity("moodle", "21", HOSTILE_NAME),
        "22": Identity("moodle", "22", "Bob Nobody"),
        "jdoe": Identity("blackboard", "jdoe"),
        "-mallory": Identity("blackboard", "-mallory"),
    }
    return ClassResults(grades, identities=identities)


def table(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return lms_files(mixed_class(), SETTINGS, NOW)


def test_one_file_per_lms_the_class_came_from(files):
    assert sorted(files) == ["README.txt", "blackboard.csv", "canvas.csv", "moodle.csv"]
    only_moodle = mixed_class()
    only_moodle.identities = {
        student: identity
        for student, identity in only_moodle.identities.items()
        if identity.lms == "moodle"
    }
    assert sorted(lms_files(only_moodle, SETTINGS, NOW)) == ["README.txt", "moodle.csv"]


def test_a_class_of_folders_gets_no_lms_file():
    assert lms_files(ClassResults(full_marks("alice")), SETTINGS, NOW) == {}


# ---------------------------------------------------------------- Canvas


def test_canvas_header_is_what_its_gradebook_import_requires(files):
    """Canvas's GradebookImporter: column 0 holds "Student", 1 "ID", then "SIS
    User ID", "SIS Login ID", and the last student column "Section"; an
    assignment column "Title (id)" is matched by the id."""
    header = table(files["canvas.csv"])[0]
    assert header == [*CANVAS_COLUMNS, "Backprop (4567)"]
    assert "Student" in header[0] and "ID" in header[1]
    assert re.search(r"SIS\s+User\s+ID", header[2])
    assert re.search(r"SIS\s+Login\s+ID", header[3])
    assert "Section" in header[4]
    assert re.fullmatch(r"(.*)\s\((\d+)\)", header[5]).groups() == ("Backprop", "4567")


def test_canvas_rows_are_keyed_by_the_user_id_with_the_total(files):
    """A Points Possible row first (a new assignment's points), then one row per
    Canvas student: the one with nothing gradable gets 0, not a missing row."""
    rows = table(files["canvas.csv"])[1:]
    assert rows[0] == ["Points Possible", "", "", "", "", "14"]
    assert [(row[0], row[1], row[5]) for row in rows[1:]] == [
        ("lovelaceada", "11", "13.5"),
        ("hopper", "12", "0"),
    ]


def test_canvas_without_an_assignment_id_names_the_column_only():
    files = lms_files(mixed_class(), LmsSettings("Backprop"), NOW)
    assert table(files["canvas.csv"])[0][5] == "Backprop"
    assert "NO ASSIGNMENT ID" in files["README.txt"]


# ---------------------------------------------------------------- Moodle


def test_moodle_worksheet_has_moodles_columns_in_moodles_order(files):
    """The importer finds Identifier, Grade and "Last modified (grade)" by their
    exact English names, and Feedback comments by the plugin's."""
    assert table(files["moodle.csv"])[0] == list(MOODLE_COLUMNS)
    for name in ("Identifier", "Grade", "Maximum grade", "Last modified (grade)",
                 "Feedback comments"):  # fmt: skip
        assert name in MOODLE_COLUMNS


def test_moodle_rows_are_keyed_by_participant_with_grade_and_comment(files):
    rows = [dict(zip(MOODLE_COLUMNS, row)) for row in table(files["moodle.csv"])[1:]]
    assert [
        (row["Identifier"], row["Grade"], row["Maximum grade"]) for row in rows
    ] == [
        ("Participant 21", "12", "14"),
        ("Participant 22", "0", "14"),
    ]
    assert rows[0]["Feedback comments"] == (
        "Total 12/14: 01 1/3 (timeout), 02 3/3, 03 3/3, 04 2/2, 05 3/3."
    )
    assert rows[1]["Feedback comments"] == (
        "No notebook could be graded, so the total is 0/14: 01 unreadable, "
        "02 wrong_assignment, 03 missing, 04 missing, 05 missing."
    )
    # When the grades were given, so Moodle keeps a grade changed in it since.
    assert {row["Last modified (grade)"] for row in rows} == {
        "2026-11-30T14:05:09+01:00"
    }


def test_student_text_is_defused_and_on_one_line(files):
    """A full name a spreadsheet would run, with quotes, a newline and a tab: one
    line, a leading ', the quotes kept as text."""
    name = table(files["moodle.csv"])[1][1]
    assert name == "'" + HOSTILE_NAME.replace("\n", " ").replace("\t", " ")
    assert files["moodle.csv"].count("\r\n") == 3  # header and two rows


# ---------------------------------------------------------------- Blackboard


def test_blackboard_every_value_is_quoted_and_its_column_carries_the_id(files):
    """Blackboard: comma-separated values must be in quotes; a column is matched
    by the id after "|"."""
    lines = files["blackboard.csv"].split("\r\n")[:-1]
    assert all(re.fullmatch(r'"[^"]*"(,"[^"]*")*', line) for line in lines)
    header = table(files["blackboard.csv"])[0]
    assert header == [
        "Last Name", "First Name", "Username", "Student ID",
        "Backprop [Total Pts: 14 Score] |98", BLACKBOARD_COMMENT,
    ]  # fmt: skip


def test_blackboard_rows_are_keyed_by_username(files):
    rows = table(files["blackboard.csv"])[1:]
    assert [(row[2], row[4]) for row in rows] == [("'-mallory", "14"), ("jdoe", "14")]
    assert "'-mallory'" in files["README.txt"]  # the instructor is told why


def test_blackboard_without_a_column_id_makes_a_new_column():
    files = lms_files(mixed_class(), LmsSettings("Backprop"), NOW)
    assert table(files["blackboard.csv"])[0][4] == "Backprop [Total Pts: 14 Score]"
    assert "NO COLUMN ID" in files["README.txt"]


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize(
    "settings",
    [
        {"canvas_assignment_id": "abc"},
        {"blackboard_column_id": "_123_1"},
        {"assignment": "Backprop |98"},
        {"assignment": "two\nlines"},
        {"assignment": " "},
        {"assignment_id": "4567"},
    ],
)
def test_a_setting_the_lms_would_misread_is_refused_with_its_name(settings):
    with pytest.raises(InputError, match=r"course.toml \[lms\]"):
        LmsSettings.from_course({"lms": settings})


def test_the_courses_own_settings_are_valid():
    assert LmsSettings.from_course().assignment


# ---------------------------------------------------------------- in OUT


def test_write_outputs_writes_the_lms_folder_and_removes_stale_files(tmp_path):
    """Owner-only files; an LMS file left by an earlier run for students no longer
    in the class goes, and so does the folder once nothing is left in it."""
    write_outputs(mixed_class(), tmp_path, lms=SETTINGS, now=NOW)
    folder = tmp_path / "lms"
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.txt", "blackboard.csv", "canvas.csv", "moodle-feedback.zip",
        "moodle.csv",
    ]  # fmt: skip
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    only_canvas = mixed_class()
    only_canvas.identities = {"11": only_canvas.identities["11"]}
    write_outputs(only_canvas, tmp_path, lms=SETTINGS, now=NOW)
    assert sorted(p.name for p in folder.iterdir()) == ["README.txt", "canvas.csv"]
    write_outputs(ClassResults(full_marks("alice")), tmp_path, lms=SETTINGS, now=NOW)
    assert not folder.exists()


def test_a_student_the_grader_failed_on_gets_no_grade_rather_than_0():
    """grader_error is the grader's failure: an empty grade (Canvas, Moodle and
    Blackboard skip it) and a comment, and README.txt says who."""
    results = mixed_class()
    failed = broken("11", BACKWARD, Status.GRADER_ERROR, "worker killed")
    results.grades = [
        failed if (g.student, g.notebook) == ("11", BACKWARD) else g
        for g in results.grades
    ]
    files = lms_files(results, SETTINGS, NOW)
    row = table(files["canvas.csv"])[2]
    assert row[1] == "11" and row[5] == ""
    assert "NOT GRADED YET (1)" in files["README.txt"]
    results.identities["11"] = Identity("moodle", "11", "Ada")
    moodle = lms_files(results, SETTINGS, NOW)["moodle.csv"]
    row = dict(zip(MOODLE_COLUMNS, table(moodle)[1]))
    assert row["Identifier"] == "Participant 11" and row["Grade"] == ""
    assert row["Feedback comments"].startswith("Not graded yet: the grader failed")
    assert "03 grader_error" in row["Feedback comments"]
