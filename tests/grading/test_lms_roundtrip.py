"""An LMS round trip an instructor can trust, through the real grading (issue 21).

A class downloaded from Moodle and Canvas is graded by `python -m grader grade`;
then, as an instructor's term goes on:

- a TA fixes a grade in Moodle, the class is graded again with nothing new, and
  the new worksheet is uploaded the way Moodle's importer reads it (its stale
  check included): the fix stands;
- a manual score and extra credit are given in the gradebook through nbgrader's
  own Gradebook API (what formgrader does), and `grade --outputs-only` brings them
  into grades.csv, tests.csv, report.html, the student's page and OUT/lms/, as
  `nbgrader export` counts them, grading nobody; a full re-run keeps them;
- a course whose course.toml posts 01 as an LMS assignment of its own and has a
  late policy: the late notebooks cost what the policy says, in the feedback, the
  report, the LMS comment and nbgrader's gradebook, and a download of 01 alone
  marks no other notebook missing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
import subprocess
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning

from grader.course import ASSIGNMENT, NOTEBOOKS
from grader.demo.sample_class import notebook_bytes
from grader.demo.submissions import solved
from grader.grading.grade import grade_class
from grader.output.lms import MOODLE_COLUMNS
from tests.mistake_cases import MISTAKE_CASES
from tests.support import (
    course_copy,
    html_text,
    nbgrader_export,
    read_csv,
    run_cli,
    state_mtimes,
)

pytestmark = pytest.mark.slow

SIG, FWD = NOTEBOOKS[0], NOTEBOOKS[1]
CASES = {case.student: case for case in MISTAKE_CASES}
TURING = f"Alan Turing_21_assignsubmission_file_{SIG}.ipynb"
HOPPER = f"Grace Hopper_22_assignsubmission_file_{SIG}.ipynb"
LOVELACE = f"lovelaceada_11_5001_{SIG}.ipynb"
LOVELACE_FWD = f"lovelaceada_11_5002_{FWD}.ipynb"
COURSE_ASSIGNMENT = "Backpropagation from scratch"  # the repository's [lms]
MOST = 29  # the course's points: the one assignment's Maximum grade


def good(stem: str) -> bytes:
    return notebook_bytes(solved(stem))


def planted(student: str) -> bytes:
    case = CASES[student]
    return notebook_bytes(solved(case.notebook, case.answers()))


def grade(*args: object) -> subprocess.CompletedProcess:
    result = run_cli("grade", *args, "--jobs", 2, "--quiet", timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> tuple[Path, Path]:
    """Moodle's participants 21 (01 in full) and 22 (01 with sigmoid's sign
    flipped) and Canvas's user 11 (01 in full), graded once: (SUBMISSIONS, OUT)."""
    root = tmp_path_factory.mktemp("roundtrip")
    submissions = root / "class"
    submissions.mkdir()
    for name, content in {
        TURING: good(SIG),
        HOPPER: planted("sig-sign"),
        LOVELACE: good(SIG),
    }.items():
        (submissions / name).write_bytes(content)
    grade(submissions, "--out", root / "out")
    return submissions, root / "out"


def copy_of(out: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "out"
    shutil.copytree(out, copy, symlinks=True)
    return copy


# ------------------------------------------------------------ Moodle's importer


@dataclass(frozen=True)
class MoodleGrade:
    """A participant's grade in Moodle: its value and when it last changed."""

    grade: float
    modified: dt.datetime
    comment: str = ""


def worksheet(out: Path, name: str = "moodle.csv") -> list[dict[str, str]]:
    text = (out / "lms" / name).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(MOODLE_COLUMNS)
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def moodle_upload(
    rows: list[dict[str, str]],
    moodle: dict[int, MoodleGrade],
    at: dt.datetime,
    maximum: float,
) -> dict[int, MoodleGrade]:
    """Moodle's grade book after "Upload grading worksheet" at `at`, as
    assignfeedback_offline's process_import_grades decides each row: a grade
    equal to Moodle's, empty or negative, out of range, or stale (Moodle's grade
    changed more than 60 s after the row's "Last modified (grade)", which PHP's
    strtotime reads) is skipped; so is a stale row's feedback comment."""
    after = dict(moodle)
    for row in rows:
        participant = int(row["Identifier"].removeprefix("Participant "))
        modified = dt.datetime.fromisoformat(row["Last modified (grade)"])
        current = moodle.get(participant)
        grade = float(row["Grade"]) if row["Grade"] != "" else None
        stale = current is not None and current.modified > modified + dt.timedelta(
            seconds=60
        )
        if stale:
            continue
        comment = row["Feedback comments"]
        if grade is None or grade < 0 or grade > maximum:
            continue
        if current is not None and current.grade == grade:
            after[participant] = replace(current, comment=comment)
            continue
        after[participant] = MoodleGrade(grade, at, comment)
    return after


def shift_stamps(out: Path, by: dt.timedelta) -> None:
    """Move every kept "Last modified (grade)" by `by`: as if the run that
    changed those grades had run then."""
    path = out / ".grader" / "lms-stamps.json"
    stamps = json.loads(path.read_text())
    for value in stamps.values():
        value["stamp"] = (dt.datetime.fromisoformat(value["stamp"]) + by).isoformat()
    path.write_text(json.dumps(stamps))


def test_a_rerun_leaves_a_grade_fixed_in_moodle_since_as_the_ta_fixed_it(
    graded, tmp_path
):
    """Graded two days ago and uploaded; a TA fixed 22's grade in Moodle
    yesterday; today's re-run (nothing new) keeps each grade's stamp, so the
    upload skips 22's row and the fix stands."""
    submissions, first = graded
    out = copy_of(first, tmp_path)
    shift_stamps(out, -dt.timedelta(days=2))
    now = dt.datetime.now().astimezone()
    uploaded = moodle_upload(
        worksheet(first), {}, now - dt.timedelta(days=2, hours=-1), MOST
    )
    graded_22 = scores(first)[("22", SIG)]
    assert {p: g.grade for p, g in uploaded.items()} == {21: 4.0, 22: graded_22}
    fixed = dict(uploaded)
    fixed[22] = MoodleGrade(3.25, now - dt.timedelta(days=1), "fixed by a TA")

    grade(submissions, "--out", out)
    rows = worksheet(out)
    kept = json.loads((out / ".grader" / "lms-stamps.json").read_text())
    assert [row["Last modified (grade)"] for row in rows] == [
        kept[f"{COURSE_ASSIGNMENT}|21"]["stamp"],
        kept[f"{COURSE_ASSIGNMENT}|22"]["stamp"],
    ]
    assert all(
        dt.datetime.fromisoformat(row["Last modified (grade)"])
        < now - dt.timedelta(days=1)
        for row in rows
    )
    after = moodle_upload(rows, fixed, now, MOST)
    assert after[22] == fixed[22]  # the TA's fix and comment stand
    assert after[21].grade == 4.0
    # What the grader wrote before: every row stamped with the run's time. The
    # same upload would have overwritten the fix.
    stamped_now = [
        {**row, "Last modified (grade)": now.isoformat(timespec="seconds")}
        for row in rows
    ]
    assert moodle_upload(stamped_now, fixed, now, MOST)[22].grade == graded_22


# ------------------------------------------------------------ formgrader's grades


def give_manual_grades(out: Path) -> None:
    """What formgrader does: participant 21 loses a point of test_sigmoid_values
    by hand and earns half a point of extra credit on test_sigmoid_derivative."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gradebook:
            values = gradebook.find_grade("test_sigmoid_values", SIG, ASSIGNMENT, "21")
            values.manual_score = 1.0
            derivative = gradebook.find_grade(
                "test_sigmoid_derivative", SIG, ASSIGNMENT, "21"
            )
            derivative.extra_credit = 0.5
            gradebook.db.commit()


def exported(out: Path) -> dict[str, dict[str, str]]:
    """`nbgrader export` in OUT: student -> their row."""
    return {row["student_id"]: row for row in nbgrader_export(out)}


def scores(out: Path) -> dict[tuple[str, str], float]:
    _, rows = read_csv(out / "grades.csv")
    return {(row["student"], row["notebook"]): float(row["score"]) for row in rows}


def test_grades_given_in_formgrader_reach_every_file_without_grading_anyone(
    graded, tmp_path
):
    """`grade --outputs-only`: 4 - 1 + 0.5 = 3.5 for 21's 01 in grades.csv (as
    `nbgrader export` counts it), the test's point in tests.csv, the report, the
    student's page and Moodle's worksheet (its stamp moved, 22's not); nobody
    graded. A full re-run after it grades nobody and keeps the gradebook's."""
    submissions, first = graded
    out = copy_of(first, tmp_path)
    states = state_mtimes(out)
    stamps_before = {row["Identifier"]: row for row in worksheet(out)}
    give_manual_grades(out)

    result = grade(submissions, "--out", out, "--outputs-only")
    assert state_mtimes(out) == states  # nobody graded
    assert "NOTE: --outputs-only" not in result.stdout  # every file as graded
    assert scores(out)[("21", SIG)] == 3.5
    assert scores(out)[("22", SIG)] == scores(first)[("22", SIG)]
    _, tests = read_csv(out / "tests.csv")
    assert {
        row["test"]: float(row["points"]) for row in tests if row["student"] == "21"
    } == {"test_sigmoid_values": 1.0, "test_sigmoid_arrays": 1.0,
          "test_sigmoid_derivative": 1.0}  # fmt: skip
    assert float(exported(out)["21"]["score"]) == 3.5
    rows = {row["Identifier"]: row for row in worksheet(out)}
    assert rows["Participant 21"]["Grade"] == "3.5"
    assert rows["Participant 21"]["Feedback comments"].startswith(
        "Total 3.5/29: 01 3.5/4, 02 missing"
    )
    assert (
        rows["Participant 21"]["Last modified (grade)"]
        > stamps_before["Participant 21"]["Last modified (grade)"]
    )
    assert rows["Participant 22"] == stamps_before["Participant 22"]
    page = html_text((out / "feedback" / "21" / "index.html").read_text())
    assert "Total: 3.5 / 29" in page
    assert "3.5" in html_text((out / "report.html").read_text())

    grade(submissions, "--out", out)
    assert state_mtimes(out) == states
    assert scores(out)[("21", SIG)] == 3.5


def test_outputs_only_names_students_whose_files_are_new(graded, tmp_path):
    """A file handed in since the last run is not graded by --outputs-only: the
    note says who, and the files keep what was graded."""
    submissions, first = graded
    out = copy_of(first, tmp_path)
    newer = tmp_path / "class"
    shutil.copytree(submissions, newer)
    (newer / f"Ada Byron_23_assignsubmission_file_{SIG}.ipynb").write_bytes(good(SIG))
    result = grade(newer, "--out", out, "--outputs-only")
    assert "--outputs-only: 1 student(s) have new or changed files" in result.stdout
    assert "not graded: 23;" in result.stdout
    assert "23" not in {student for student, _ in scores(out)}


# ------------------------------------------------------------ assignments, late

DUE = dt.datetime(2026, 11, 20, 23, 59, tzinfo=dt.UTC)
COURSE_TOML = f"""
[[lms.assignments]]
name = "Sigmoid"
notebooks = ["{SIG}"]
canvas_assignment_id = "4001"

[[lms.assignments]]
name = "The network"
notebooks = {json.dumps(list(NOTEBOOKS[1:]))}
canvas_assignment_id = "4002"

[late]
due = {DUE.isoformat()}
penalty = "per_day"
percent_per_day = 10
"""


@pytest.fixture(scope="module")
def per_notebook(tmp_path_factory) -> Path:
    """A copy of the course posting 01 and the rest as two LMS assignments, 10% of
    a notebook's points off per day late; a class graded with it: 21's 01 an hour
    late, 22's on time, Canvas 11's 01 on time and 02 a day and a minute late."""
    root = tmp_path_factory.mktemp("per-notebook")
    course = course_copy(root / "course", COURSE_TOML)
    submissions = root / "class"
    submissions.mkdir()
    for name, content, when in [
        (TURING, good(SIG), DUE + dt.timedelta(hours=1)),
        (HOPPER, good(SIG), DUE - dt.timedelta(hours=1)),
        (LOVELACE, good(SIG), DUE - dt.timedelta(days=1)),
        (LOVELACE_FWD, good(FWD), DUE + dt.timedelta(days=1, minutes=1)),
    ]:
        (submissions / name).write_bytes(content)
        os.utime(submissions / name, (when.timestamp(), when.timestamp()))
    out = root / "out"
    grade_class(submissions, out, course=course, workers=2, progress=False)
    return out


def test_a_late_notebook_costs_its_share_in_every_output(per_notebook):
    out = per_notebook
    rows = {row["Identifier"]: row for row in worksheet(out, "moodle-sigmoid.csv")}
    assert rows["Participant 21"]["Grade"] == "3.6"  # 4 less 10% of 4
    assert rows["Participant 21"]["Feedback comments"] == (
        "Total 3.6/4: 01 4/4 (1 day late: -0.4)."
    )
    assert rows["Participant 22"]["Grade"] == "4"
    page = html_text((out / "feedback" / "21" / "index.html").read_text())
    assert "Late: handed in 2026-11-21 00:59 UTC, due 2026-11-20 23:59 UTC" in page
    assert "Total: 3.6 / 29" in page
    report = html_text((out / "report.html").read_text())
    assert "1 day late: -0.4" in report
    assert "days late" not in report  # Canvas's download holds no time
    export = exported(out)
    assert export["21"]["timestamp"].startswith("2026-11-21 00:59")
    assert float(export["21"]["late_submission_penalty"]) == pytest.approx(0.4)
    assert float(export["21"]["score"]) == pytest.approx(3.6)
    assert export["22"]["late_submission_penalty"] in ("0.0", "")
    assert export["22"]["duedate"].startswith("2026-11-20 23:59")


def test_each_lms_assignment_gets_its_notebooks_and_none_is_marked_missing(
    per_notebook,
):
    """Moodle's download of 01 alone: one worksheet, for Sigmoid, no "missing";
    Canvas: a column per assignment by id, each with its own points; 11's 02,
    whose file is dated after the due date, is not late: a Canvas download holds
    no time of submission (intake reads none), and days cannot be counted."""
    out = per_notebook
    assert sorted(path.name for path in (out / "lms").iterdir()) == [
        "README.txt", "canvas.csv", "moodle-feedback-sigmoid.zip",
        "moodle-sigmoid.csv",
    ]  # fmt: skip
    assert "missing" not in (out / "lms" / "moodle-sigmoid.csv").read_text()
    header, rows = read_csv(out / "lms" / "canvas.csv")
    assert header[5:] == ["Sigmoid (4001)", "The network (4002)"]
    assert [list(row.values())[1:2] + list(row.values())[5:] for row in rows] == [
        ["", "4", "25"],  # Points Possible
        ["11", "4", "5"],  # Canvas gives no time of submission: not late
    ]
