"""LMS downloads as an instructor leaves them, through the real command (issue 21):
nobody merged or dropped without a word, and what the LMS knows kept.

One class: a Canvas download unpacked in a sub-folder, Blackboard users whose names
hold "_" (one with the receipt Blackboard writes, one told by course.toml's
assignment name), a Canvas anonymous download, participant 12345 in Moodle and
user 12345 in Canvas, and one student's file in two unpacked downloads that
differ. Graded once with `python -m grader grade`; grades.csv, the LMS files, the
report, the summary, the feedback pages and nbgrader's gradebook read back.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from grader.course import ASSIGNMENT, COURSE, NOTEBOOKS
from grader.demo.sample_class import notebook_bytes
from grader.demo.submissions import solved
from grader.grading.gradebook import sqlite_url
from grader.output.lms import LmsSettings
from tests.support import read_csv, run_cli

pytestmark = pytest.mark.slow

SIG = NOTEBOOKS[0]
STAMP = "2026-11-20-10-00-00"
MTIME = 1_790_000_000
BROKEN = b'{"broken": '  # unreadable: graded without a kernel
ASSIGNMENT_NAME = LmsSettings.from_course(COURSE).assignment  # course.toml's
RECEIPT = (
    "Name: Ada Lovelace (ada_l)\nAssignment: {assignment}\n"
    "Date Submitted: Friday, November 20, 2026 10:00:00 AM UTC\n"
    "Current Mark: Needs Grading\n\nSubmission Field:\nThere is no student "
    "submission text data for this assignment.\n\nComments:\nName: Max (max_l)\n\n"
    "Files:\n\tOriginal filename: {sig}.ipynb\n\tFilename: {file}\n"
)
BLACKBOARD_ADA = f"{ASSIGNMENT_NAME}_ada_l_attempt_{STAMP}"


def good() -> bytes:
    return notebook_bytes(solved(SIG))


FILES = {  # file in SUBMISSIONS -> (bytes, mtime)
    f"BP101-submissions/lovelaceada_40101_5001_{SIG}.ipynb": (good(), MTIME),
    f"BP101-submissions/hoppergrace_40102_5002_{SIG}.ipynb": (BROKEN, MTIME),
    f"{BLACKBOARD_ADA}_{SIG}.ipynb": (good(), MTIME),
    f"{BLACKBOARD_ADA}.txt": (
        RECEIPT.format(
            assignment=ASSIGNMENT_NAME, sig=SIG, file=f"{BLACKBOARD_ADA}_{SIG}.ipynb"
        ).encode(),
        MTIME,
    ),
    f"{ASSIGNMENT_NAME}_max_l_attempt_{STAMP}_{SIG}.ipynb": (BROKEN, MTIME),
    f"anon_L9G4k_5003_{SIG}.ipynb": (BROKEN, MTIME),
    f"Ada Lovelace_12345_assignsubmission_file_{SIG}.ipynb": (good(), MTIME),
    f"turingalan_12345_5004_{SIG}.ipynb": (BROKEN, MTIME),
    f"download-1/lovelaceada_40301_6001_{SIG}.ipynb": (BROKEN + b"1", MTIME),
    f"download-1/hoppergrace_40302_6002_{SIG}.ipynb": (BROKEN, MTIME),
    f"download-2/lovelaceada_40301_6003_{SIG}.ipynb": (BROKEN + b"2", MTIME + 60),
    f"download-2/hoppergrace_40302_6004_{SIG}.ipynb": (BROKEN, MTIME + 60),
}
NAMES = {  # student in grades.csv -> the name column
    "12345~canvas": "turingalan",
    "12345~moodle": "Ada Lovelace",
    "40101": "lovelaceada",
    "40102": "hoppergrace",
    "40301": "lovelaceada",
    "40302": "hoppergrace",
    "ada_l": "Ada Lovelace",
    "anon_L9G4k": "",
    "max_l": "",
}
CONFLICT = f"download-1/lovelaceada_40301_6001_{SIG}.ipynb"


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> tuple[Path, str]:
    """OUT and what the command printed."""
    root = tmp_path_factory.mktemp("lms-intake")
    submissions = root / "submissions"
    for name, (content, mtime) in FILES.items():
        path = submissions / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        os.utime(path, (mtime, mtime))
    out = root / "out"
    result = run_cli(
        "grade", submissions, "--out", out, "--jobs", 2, "--quiet", timeout=900
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out, result.stdout


def test_nobody_is_merged_and_the_names_are_kept_in_grades_csv(graded):
    out, _ = graded
    header, rows = read_csv(out / "grades.csv")
    assert header[-1] == "name"
    assert {row["student"]: row["name"] for row in rows} == NAMES


def test_each_lms_file_has_its_students_by_their_own_ids(graded):
    out, _ = graded
    _, canvas = read_csv(out / "lms" / "canvas.csv")
    assert [row["ID"] for row in canvas[1:]] == [
        "12345", "40101", "40102", "40301", "40302", "anon_L9G4k"
    ]  # fmt: skip
    _, moodle = read_csv(out / "lms" / "moodle.csv")
    assert [row["Identifier"] for row in moodle] == ["Participant 12345"]
    _, blackboard = read_csv(out / "lms" / "blackboard.csv")
    assert [row["Username"] for row in blackboard] == ["ada_l", "max_l"]


def test_the_conflict_is_in_the_summary_and_the_report_and_the_receipt_nowhere(
    graded,
):
    out, printed = graded
    assert "CHECK: 1 file(s) may be a student's work" in printed
    assert f"{CONFLICT}: duplicate of download-2/" in printed
    report = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="conflicts"' in report and CONFLICT in report
    assert f"{BLACKBOARD_ADA}.txt" not in printed + report


def test_the_gradebook_has_names_ids_and_times(graded):
    out, _ = graded
    with Gradebook(sqlite_url(out / "gradebook.db")) as gradebook:
        ada = gradebook.find_student("ada_l")
        assert (ada.first_name, ada.last_name, ada.lms_user_id) == (
            "Ada", "Lovelace", "ada_l"
        )  # fmt: skip
        attempt = datetime.strptime(STAMP, "%Y-%m-%d-%H-%M-%S").astimezone()
        assert gradebook.find_submission(ASSIGNMENT, "ada_l").timestamp == (
            attempt.astimezone(UTC).replace(tzinfo=None)
        )
        moodle = gradebook.find_submission(ASSIGNMENT, "12345~moodle")
        assert moodle.timestamp == datetime.fromtimestamp(MTIME, UTC).replace(
            tzinfo=None
        )
        assert gradebook.find_submission(ASSIGNMENT, "anon_L9G4k").timestamp is None


def test_the_feedback_pages_name_the_student(graded):
    out, _ = graded
    folder = out / "feedback" / "ada_l"
    assert "Feedback for Ada Lovelace (ada_l)" in (folder / "index.html").read_text(
        encoding="utf-8"
    )
    page = (folder / f"{SIG}.html").read_text(encoding="utf-8")
    assert "Student: Ada Lovelace (ada_l)" in page
