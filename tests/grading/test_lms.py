"""Grades back into the LMS, through the real command (issue 14).

One class downloaded the way each LMS names its files, mixed with a student who
handed in a folder of her own, graded once with `python -m grader grade`; then the
files of each LMS alone, graded into a copy of that OUT
(nothing is graded again: the files are the same). The LMS files are read back:
ids and totals against grades.csv, a 0 and a comment for a student with nothing
gradable, student text defused, a file only for the LMSs the class came from.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest

from grader.course import COURSE, NOTEBOOKS
from grader.demo.sample_class import notebook_bytes
from grader.demo.submissions import solved
from grader.output.lms import (
    BLACKBOARD_COLUMNS,
    BLACKBOARD_COMMENT,
    CANVAS_COLUMNS,
    MOODLE_COLUMNS,
    LmsSettings,
)
from tests.mistake_cases import MISTAKE_CASES
from tests.output.test_moodle_feedback import moodle_import
from tests.support import read_csv, run_cli

pytestmark = pytest.mark.slow

SIG, BWD = NOTEBOOKS[0], NOTEBOOKS[2]
STAMP = "2026-11-20-10-00-00"
CASES = {case.student: case for case in MISTAKE_CASES}
HOSTILE = '=HYPERLINK("https:evil.example","x"), "q"\tme\nnext line'
WRONG_ASSIGNMENT = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])


def good(stem: str) -> bytes:
    return notebook_bytes(solved(stem))


def planted(student: str) -> bytes:
    case = CASES[student]
    return notebook_bytes(solved(case.notebook, case.answers()))


def moodle_zip() -> bytes:
    """Moodle's "download submissions in folders", zipped: Grace Hopper's folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            f"Grace Hopper_23_assignsubmission_file/{SIG}.ipynb", good(SIG)
        )
    return buffer.getvalue()


FILES = {  # lms -> {file name in SUBMISSIONS: its bytes}
    "canvas": {
        f"lovelaceada_11_5001_{SIG}.ipynb": good(SIG),
        f"lovelaceada_11_5002_{BWD}.ipynb": planted("bwd-sign-dw3"),
        f"hopperg_LATE_12_5003_{SIG}-1.ipynb": b'{"broken": ',
    },
    "moodle": {
        f"Alan Turing_21_assignsubmission_file_{SIG}.ipynb": planted("sig-sign"),
        f"{HOSTILE}_22_assignsubmission_file_{SIG}.ipynb": good(SIG),
        "moodle_folders.zip": moodle_zip(),
        f"Empty Person_24_assignsubmission_file_{SIG}.ipynb": b"",
    },
    "blackboard": {
        f"Backprop_jdoe_attempt_{STAMP}_{SIG}.ipynb": good(SIG),
        f"Backprop_-mallory_attempt_{STAMP}_{SIG}.ipynb": planted("sig-derivative"),
        f"Backprop_nobody_attempt_{STAMP}_{SIG}.ipynb": notebook_bytes(
            WRONG_ASSIGNMENT
        ),
    },
    "": {f"alice/{SIG}.ipynb": good(SIG)},
}
STUDENTS = {  # lms -> the student ids it names, as grades.csv has them
    "canvas": ["11", "12"],
    "moodle": ["21", "22", "23", "24"],
    "blackboard": ["-mallory", "jdoe", "nobody"],
}
NOTHING_GRADABLE = {"12", "24", "nobody"}
SETTINGS = LmsSettings.from_course(COURSE)  # the repository's, as the command


def write_class(folder: Path, lms_names: list[str]) -> None:
    for lms in lms_names:
        for name, content in FILES[lms].items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)


def grade(submissions: Path, out: Path, jobs: int = 2) -> None:
    result = run_cli(
        "grade", submissions, "--out", out, "--jobs", jobs, "--quiet", timeout=900
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def classes(tmp_path_factory) -> dict[str, Path]:
    """ "mixed" (every LMS and a folder), then each LMS's files alone ("canvas",
    "moodle", "blackboard"): name -> OUT."""
    root = tmp_path_factory.mktemp("lms")
    write_class(root / "mixed", list(FILES))
    grade(root / "mixed", root / "out-mixed")
    outs = {"mixed": root / "out-mixed"}
    for lms in STUDENTS:
        submissions = root / f"only-{lms}"
        for name in FILES[lms]:  # the same files, the same times: nothing regraded
            source, target = root / "mixed" / name, submissions / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        out = root / f"out-{lms}"
        shutil.copytree(root / "out-mixed", out, symlinks=True)
        grade(submissions, out, jobs=1)  # nobody to grade: one idle worker is enough
        outs[lms] = out
    return outs


def totals(out: Path) -> dict[str, float]:
    """student -> the sum of their scores in grades.csv (ids as it writes them:
    "-mallory" defused as "'-mallory")."""
    _, rows = read_csv(out / "grades.csv")
    sums: dict[str, float] = {}
    for row in rows:
        sums[row["student"]] = sums.get(row["student"], 0.0) + float(row["score"])
    return sums


def lms_rows(out: Path, lms: str) -> tuple[list[str], list[dict[str, str]]]:
    return read_csv(out / "lms" / f"{lms}.csv")


LMS_FILES = {
    "canvas": ["canvas.csv"],
    "moodle": ["moodle-feedback.zip", "moodle.csv"],
    "blackboard": ["blackboard.csv"],
}


def test_the_mixed_class_gets_a_file_for_each_lms_it_came_from(classes):
    assert sorted(p.name for p in (classes["mixed"] / "lms").iterdir()) == sorted(
        ["README.txt", *(name for names in LMS_FILES.values() for name in names)]
    )


@pytest.mark.parametrize("lms", ["canvas", "moodle", "blackboard"])
def test_a_class_from_one_lms_gets_that_lms_file_only(classes, lms):
    """And its rows are the mixed class's rows of that LMS (Moodle's time of
    grading aside)."""
    folder = classes[lms] / "lms"
    assert sorted(p.name for p in folder.iterdir()) == ["README.txt", *LMS_FILES[lms]]
    alone, mixed = lms_rows(classes[lms], lms), lms_rows(classes["mixed"], lms)
    drop = "Last modified (grade)"
    assert [{k: v for k, v in row.items() if k != drop} for row in alone[1]] == [
        {k: v for k, v in row.items() if k != drop} for row in mixed[1]
    ]


def test_canvas_ids_and_totals_match_grades_csv(classes):
    out = classes["mixed"]
    header, rows = lms_rows(out, "canvas")
    assert header == [*CANVAS_COLUMNS, SETTINGS.canvas_column]
    assert rows[0]["Student"] == "Points Possible"
    assert rows[0][SETTINGS.canvas_column] == "29"
    sums = totals(out)
    assert [(row["ID"], float(row[SETTINGS.canvas_column])) for row in rows[1:]] == [
        (student, sums[student]) for student in STUDENTS["canvas"]
    ]
    assert [row["Student"] for row in rows[1:]] == ["lovelaceada", "hopperg"]
    # 01 in full; 03 with dw3's sign flipped loses only the test of dw3's branch
    # (03 is graded per branch since its tests were split: 8 of 10, not 4)
    lost = CASES["bwd-sign-dw3"].lost
    points = COURSE.notebook(BWD).points
    assert sums["11"] == (
        COURSE.max_score(SIG) + COURSE.max_score(BWD) - sum(points[t] for t in lost)
    )
    assert (sums["11"], lost) == (8, ("test_backward_lower",))


def test_moodle_ids_totals_and_comments_match_grades_csv(classes):
    out = classes["mixed"]
    header, rows = lms_rows(out, "moodle")
    assert header == list(MOODLE_COLUMNS)
    sums = totals(out)
    assert [(row["Identifier"], float(row["Grade"])) for row in rows] == [
        (f"Participant {student}", sums[student]) for student in STUDENTS["moodle"]
    ]
    assert {row["Maximum grade"] for row in rows} == {"29"}
    assert rows[2]["Full name"] == "Grace Hopper"  # from the zipped folder's name
    assert rows[0]["Feedback comments"] == (
        f"Total {sums['21']:g}/29: 01 {sums['21']:g}/4, 02 missing, 03 missing, "
        "04 missing, 05 missing."
    )
    assert all(row["Last modified (grade)"] for row in rows)


def test_blackboard_usernames_and_totals_match_grades_csv(classes):
    out = classes["mixed"]
    header, rows = lms_rows(out, "blackboard")
    assert header == [
        *BLACKBOARD_COLUMNS, SETTINGS.blackboard_column(29), BLACKBOARD_COMMENT
    ]  # fmt: skip
    sums = totals(out)
    column = SETTINGS.blackboard_column(29)
    assert [(row["Username"], float(row[column])) for row in rows] == [
        ("'-mallory", sums["'-mallory"]), ("jdoe", 4.0), ("nobody", 0.0)
    ]  # fmt: skip
    text = (out / "lms" / "blackboard.csv").read_text(encoding="utf-8")
    assert all(line.startswith('"') for line in text.splitlines())
    assert "'-mallory'" in (out / "lms" / "README.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("lms", ["canvas", "moodle", "blackboard"])
def test_a_student_with_nothing_gradable_gets_0_not_a_missing_row(classes, lms):
    """Canvas takes no comments; Moodle and Blackboard say why it is 0."""
    _, rows = lms_rows(classes["mixed"], lms)
    key = {"canvas": "ID", "moodle": "Identifier", "blackboard": "Username"}[lms]
    for row in rows:
        student = row[key].removeprefix("Participant ")
        if student not in NOTHING_GRADABLE:
            continue
        values = list(row.values())
        if lms == "canvas":
            assert values[-1] == "0"
            continue
        grade = row["Grade"] if lms == "moodle" else values[4]
        comment = row.get("Feedback comments") or row[BLACKBOARD_COMMENT]
        assert grade == "0"
        assert comment.startswith("No notebook could be graded, so the total is 0/29")
        assert "01 " in comment and ("unreadable" in comment or "wrong" in comment)


def test_student_text_comes_out_defused_on_one_line(classes):
    """A Moodle full name with a formula, quotes, a comma, a tab and a newline."""
    _, rows = lms_rows(classes["mixed"], "moodle")
    name = rows[1]["Full name"]
    assert name == "'" + HOSTILE.replace("\t", " ").replace("\n", " ")
    text = (classes["mixed"] / "lms" / "moodle.csv").read_text(encoding="utf-8")
    assert text.count("\n") == 1 + len(STUDENTS["moodle"])


def test_moodle_feedback_zip_holds_each_moodle_students_pages(classes):
    """One folder per Moodle participant, named as Moodle's download names it
    (Moodle's importer reads the participant id from it), with the student's
    index.html and notebook pages as OUT/feedback has them; nobody else's."""
    out = classes["mixed"]
    with zipfile.ZipFile(out / "lms" / "moodle-feedback.zip") as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    participants = {int(student) for student in STUDENTS["moodle"]}
    found = {}
    for name, content in entries.items():
        participant, page = moodle_import(name, participants)
        found[(str(participant), page.lstrip("/"))] = content
    expected = {
        (student, page.name): page.read_bytes()
        for student in STUDENTS["moodle"]
        for page in (out / "feedback" / student).glob("*.html")
    }
    assert found == expected
    assert {page for _, page in found} >= {"index.html", f"{SIG}.html"}
    assert "Grace Hopper_23_assignsubmission_file/index.html" in entries
    assert f"Alan Turing_21_assignsubmission_file/{SIG}.html" in entries


def test_the_readme_says_where_each_file_is_uploaded(classes):
    readme = (classes["mixed"] / "lms" / "README.txt").read_text(encoding="utf-8")
    for step in (
        "Grades > Import",
        "Upload grading worksheet",
        "Work Offline > Upload",
        "Upload multiple feedback files in a zip > moodle-feedback.zip",
    ):
        assert step in readme
