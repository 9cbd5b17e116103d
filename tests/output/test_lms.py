"""OUT/lms/: the file each LMS's own grade import takes (grader/output/lms.py).

Each format is checked against what that LMS's importer reads (README: "Grades
back into the LMS"): Canvas's header rules and "Name (id)" columns, Moodle's exact
column names and "Participant <id>", Blackboard's quoted values and "|id" column.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import stat
import zipfile
from datetime import UTC, datetime, timedelta, timezone

import pytest

from grader.course import COURSE
from grader.files import write_atomically
from grader.model import ClassResults, Identity, InputError, Lateness, Status
from grader.output.lms import (
    BLACKBOARD_COMMENT,
    CANVAS_COLUMNS,
    MOODLE_COLUMNS,
    GradeStamps,
    LmsSettings,
    lms_files,
)
from grader.output.moodle_feedback import write_moodle_feedback
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
        LmsSettings.from_settings({"lms": settings})


def test_the_courses_own_settings_are_valid():
    assert LmsSettings.from_course(COURSE).assignment


# ---------------------------------------------------------------- in OUT


def test_write_outputs_writes_the_lms_folder_and_removes_stale_files(tmp_path):
    """Owner-only files; an LMS file left by an earlier run for students no longer
    in the class goes, and so does the folder once nothing is left in it."""
    write_outputs(mixed_class(), tmp_path, COURSE, lms=SETTINGS, now=NOW)
    folder = tmp_path / "lms"
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.txt", "blackboard.csv", "canvas.csv", "moodle-feedback.zip",
        "moodle.csv",
    ]  # fmt: skip
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    only_canvas = mixed_class()
    only_canvas.identities = {"11": only_canvas.identities["11"]}
    write_outputs(only_canvas, tmp_path, COURSE, lms=SETTINGS, now=NOW)
    assert sorted(p.name for p in folder.iterdir()) == ["README.txt", "canvas.csv"]
    write_outputs(
        ClassResults(full_marks("alice")), tmp_path, COURSE, lms=SETTINGS, now=NOW
    )
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


# ---------------------------------------------------------------- Moodle's stamps


def stamped(text: str) -> dict[str, tuple[str, str]]:
    """participant -> (grade, "Last modified (grade)") of a worksheet."""
    rows = [dict(zip(MOODLE_COLUMNS, row)) for row in table(text)[1:]]
    return {
        row["Identifier"]: (row["Grade"], row["Last modified (grade)"]) for row in rows
    }


def test_an_unchanged_grade_keeps_its_stamp_and_a_changed_one_moves(tmp_path):
    """Moodle skips a row whose grade it changed after "Last modified (grade)":
    the stamp is when the grader's grade last changed, kept across runs in a file,
    so a re-run with nothing new never claims a newer grade than Moodle's."""
    path = tmp_path / "stamps.json"
    stamps = GradeStamps(path)
    first = lms_files(mixed_class(), SETTINGS, NOW, stamps)
    stamps.save(write_atomically)
    later = NOW + timedelta(days=3)
    again = lms_files(mixed_class(), SETTINGS, later, GradeStamps(path))
    assert stamped(again["moodle.csv"]) == stamped(first["moodle.csv"])
    changed = mixed_class()
    changed.grades = [
        dataclasses.replace(g, score=2.0)
        if (g.student, g.notebook) == ("21", FORWARD)
        else g
        for g in changed.grades
    ]
    moved = stamped(
        lms_files(changed, SETTINGS, later, GradeStamps(path))["moodle.csv"]
    )
    assert moved == {
        "Participant 21": ("11", later.isoformat(timespec="seconds")),
        "Participant 22": ("0", NOW.isoformat(timespec="seconds")),
    }


def test_stamps_a_run_cannot_read_are_made_anew(tmp_path):
    path = tmp_path / "stamps.json"
    path.write_text('{"Backprop|21": {"grade": 12}, "x": [1]}')
    files = lms_files(mixed_class(), SETTINGS, NOW, GradeStamps(path))
    assert {stamp for _, stamp in stamped(files["moodle.csv"]).values()} == {
        NOW.isoformat(timespec="seconds")
    }


# ---------------------------------------------------------------- assignments


PER_NOTEBOOK = LmsSettings.from_settings(
    {
        "lms": {
            "assignments": [
                {"name": "Sigmoid", "notebooks": [SIGMOID],
                 "canvas_assignment_id": "11", "blackboard_column_id": "21"},
                {"name": "The network", "notebooks": [FORWARD, BACKWARD, GRADCHECK],
                 "canvas_assignment_id": "12"},
            ]
        }
    }
)  # fmt: skip


def only_sigmoid(student: str) -> list:
    """A student who handed in 01 alone (3 points of 3)."""
    return [
        graded(student, SIGMOID, passed("t1", 2), passed("t2", 1)),
        *(broken(student, stem, Status.MISSING, "none") for stem in NOTEBOOKS[1:]),
    ]


def per_notebook_class() -> ClassResults:
    """Canvas 11 handed in everything; 13 and Moodle 31 handed in 01 alone."""
    grades = [*full_marks("11"), *only_sigmoid("13"), *only_sigmoid("31")]
    identities = {
        "11": Identity("canvas", "11", "lovelaceada"),
        "13": Identity("canvas", "13", "hopperg"),
        "31": Identity("moodle", "31", "Alan Turing"),
    }
    return ClassResults(grades, identities=identities)


def test_each_lms_assignment_gets_its_notebooks_points_and_id():
    """Canvas: a column per assignment ("Name (id)"), each with its own points;
    05 is in no assignment, so no column counts it."""
    files = lms_files(per_notebook_class(), PER_NOTEBOOK, NOW)
    rows = table(files["canvas.csv"])
    assert rows[0][5:] == ["Sigmoid (11)", "The network (12)"]
    assert rows[1][5:] == ["3", "8"]
    assert [row[1:2] + row[5:] for row in rows[2:]] == [
        ["11", "3", "8"],
        ["13", "3", ""],  # nothing of the network handed in: no grade, not 0
    ]
    assert (
        "Not sent to the LMS (in no [[lms.assignments]]): 05_optimizers"
        in (files["README.txt"])
    )


def test_a_download_of_one_notebooks_assignment_marks_no_other_missing():
    """Moodle: one worksheet per assignment; the student who handed in 01 alone is
    in Sigmoid's, with a comment about 01 only, and in no other."""
    files = lms_files(per_notebook_class(), PER_NOTEBOOK, NOW)
    assert sorted(files) == ["README.txt", "canvas.csv", "moodle-sigmoid.csv"]
    row = dict(zip(MOODLE_COLUMNS, table(files["moodle-sigmoid.csv"])[1]))
    assert (row["Identifier"], row["Grade"], row["Maximum grade"]) == (
        "Participant 31", "3", "3",
    )  # fmt: skip
    assert row["Feedback comments"] == "Total 3/3: 01 3/3."
    assert "missing" not in files["moodle-sigmoid.csv"]


def test_blackboard_gets_a_grade_and_comment_column_per_assignment():
    results = per_notebook_class()
    results.identities = {"bb": Identity("blackboard", "bb")}
    results.grades = full_marks("bb")
    rows = table(lms_files(results, PER_NOTEBOOK, NOW)["blackboard.csv"])
    assert rows[0][4:] == [
        "Sigmoid [Total Pts: 3 Score] |21", f"{BLACKBOARD_COMMENT} (Sigmoid)",
        "The network [Total Pts: 8 Score]", f"{BLACKBOARD_COMMENT} (The network)",
    ]  # fmt: skip
    assert rows[1][4:] == [
        "3", "Total 3/3: 01 3/3.", "8", "Total 8/8: 02 3/3, 03 3/3, 04 2/2.",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("assignments", "says"),
    [
        ([{"name": "A", "notebooks": ["06_rnn"]}], "not a notebook of the course"),
        (
            [{"name": "A", "notebooks": [SIGMOID]},
             {"name": "B", "notebooks": [SIGMOID]}],
            "goes to one LMS assignment",
        ),
        ([{"name": "A"}], "needs notebooks"),
        ([{"name": "A|1", "notebooks": [SIGMOID]}], "name must be"),
        ([{"name": "A", "notebooks": [SIGMOID], "canvas_assignment_id": "x"}],
         "canvas_assignment_id must be"),
        ([{"name": "A", "notebooks": [SIGMOID], "points": 3}], "unknown keys"),
        (
            [{"name": "Part A", "notebooks": [SIGMOID]},
             {"name": "part-a", "notebooks": [FORWARD]}],
            "a name of its own",
        ),
        ([], "one or more tables"),
    ],
)  # fmt: skip
def test_lms_assignments_the_grader_would_misread_are_refused(assignments, says):
    with pytest.raises(InputError, match=r"course.toml \[") as error:
        LmsSettings.from_settings({"lms": {"assignments": assignments}})
    assert says in str(error.value)


def test_one_assignment_keys_beside_a_list_are_refused():
    with pytest.raises(InputError, match="beside"):
        LmsSettings.from_settings(
            {"lms": {"assignment": "X",
                     "assignments": [{"name": "A", "notebooks": [SIGMOID]}]}}
        )  # fmt: skip


# ---------------------------------------------------------------- late


def test_a_late_notebooks_penalty_comes_off_the_total_and_is_in_the_comment():
    results = mixed_class()
    due = datetime(2026, 11, 20, 23, 59, tzinfo=UTC)
    results.late = {
        ("21", FORWARD): Lateness(due + timedelta(hours=30), due, 0.6),
    }
    rows = [
        dict(zip(MOODLE_COLUMNS, row))
        for row in table(lms_files(results, SETTINGS, NOW)["moodle.csv"])[1:]
    ]
    assert rows[0]["Grade"] == "11.4"
    assert rows[0]["Feedback comments"] == (
        "Total 11.4/14: 01 1/3 (timeout), 02 3/3 (2 days late: -0.6), 03 3/3, "
        "04 2/2, 05 3/3."
    )


def test_moodle_gets_a_feedback_zip_per_assignment_its_students_handed_in(tmp_path):
    """Moodle's participant ids are each assignment's own: the pages of those who
    handed in 01 go in Sigmoid's zip; no zip for an assignment nobody handed in,
    and none left from a run with one assignment."""
    (tmp_path / "lms").mkdir()
    (tmp_path / "lms" / "moodle-feedback.zip").write_bytes(b"an earlier run's")
    page = tmp_path / "feedback" / "31" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text("<p>31</p>")
    assert write_moodle_feedback(per_notebook_class(), tmp_path, PER_NOTEBOOK) == 1
    assert sorted(path.name for path in (tmp_path / "lms").iterdir()) == [
        "moodle-feedback-sigmoid.zip"
    ]
    with zipfile.ZipFile(tmp_path / "lms" / "moodle-feedback-sigmoid.zip") as archive:
        assert archive.namelist() == ["Alan Turing_31_assignsubmission_file/index.html"]
