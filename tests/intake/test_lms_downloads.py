"""LMS downloads as instructors leave them, through collect: nobody merged or
dropped without a word (issue 21). A bulk download unpacked in a folder, Blackboard
user names holding "_" and its receipts, Canvas's anonymous ids, the same number in
two LMSs, and the conflicts an instructor must see."""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import grader.intake.collect as collect_module
from grader.intake.collect import collect

from .test_names import STAMP
from .zips import honest

SIG, FORWARD = "01_sigmoid", "02_forward_propagation"
TIME = 1_700_000_000


def _write(root: Path, relative: str, content: bytes = b"{}", mtime=TIME) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, (mtime, mtime))


def _students(result) -> list[tuple[str, str, str, str]]:
    return [(s.student, s.notebook, s.lms, s.lms_id) for s in result.submissions]


def receipt(user: str, name: str) -> bytes:
    """A Blackboard receipt's text, as its Assignment File Download writes it."""
    return (
        f"Name: {name} ({user})\nAssignment: Backprop\n"
        "Date Submitted: Friday, May 17, 2024 10:00:00 AM CEST\n"
        "Current Mark: Needs Grading\n\nSubmission Field:\n"
        "There is no student submission text data for this assignment.\n\n"
        "Comments:\nName: Mallory (99999)\n\nFiles:\n"
        f"\tOriginal filename: {SIG}.ipynb\n"
        f"\tFilename: Backprop_{user}_attempt_{STAMP}_{SIG}.ipynb\n"
    ).encode()


# ------------------------------------------------ a bulk download in a folder


@pytest.mark.parametrize(
    "folder", ["BP101-submissions", "downloads/BP101-submissions", "Week 2"]
)
def test_an_unpacked_download_in_a_folder_is_a_bulk_download(tmp_path, folder):
    """What a browser that unpacks downloads leaves: each file its student's, none
    dropped (it was one student named after the folder, one file dropped)."""
    _write(tmp_path, f"{folder}/lovelaceada_40101_9001_{SIG}.ipynb", b"ada")
    _write(tmp_path, f"{folder}/hoppergrace_40102_9002_{SIG}.ipynb", b"grace")
    result = collect(tmp_path)
    assert result.unmapped == []
    assert _students(result) == [
        ("40101", SIG, "canvas", "40101"), ("40102", SIG, "canvas", "40102")
    ]  # fmt: skip
    assert [s.content for s in result.submissions] == [b"ada", b"grace"]


def test_moodle_folders_in_an_unpacked_download_are_each_students(tmp_path):
    """A folder holding Moodle's per-student folders is the download, not a
    student: each folder is its participant's."""
    for who, participant in (("Ada Lovelace", 21), ("Grace Hopper", 23)):
        _write(
            tmp_path,
            f"BP101-submissions/{who}_{participant}_assignsubmission_file/{SIG}.ipynb",
        )
    result = collect(tmp_path)
    assert result.unmapped == []
    assert [s.student for s in result.submissions] == ["21", "23"]


def test_a_zip_holding_an_unpacked_download_folder_is_read_the_same(tmp_path):
    names = {
        f"BP101-submissions/lovelaceada_40101_9001_{SIG}.ipynb": b"ada",
        f"BP101-submissions/hoppergrace_40102_9002_{SIG}.ipynb": b"grace",
    }
    (tmp_path / "bulk.zip").write_bytes(honest(names))
    assert [s.student for s in collect(tmp_path).submissions] == ["40101", "40102"]


def test_a_students_folder_holding_their_own_lms_download_stays_theirs(tmp_path):
    """One LMS id in a folder: the student's folder (they downloaded their own
    submission), as before; nobody else's."""
    _write(tmp_path, f"alice/lovelaceada_40101_9001_{SIG}.ipynb")
    _write(tmp_path, f"alice/{FORWARD}.ipynb")
    result = collect(tmp_path)
    assert [(s.student, s.notebook, s.lms) for s in result.submissions] == [
        ("alice", SIG, ""), ("alice", FORWARD, "")
    ]  # fmt: skip


def test_a_folder_inside_a_moodle_students_folder_is_theirs(tmp_path):
    """What a student put in their own (LMS-named) folder is theirs, whatever
    names it holds: never a bulk download."""
    mine = "Mallory Evil_55555_assignsubmission_file/x"
    _write(tmp_path, f"{mine}/lovelaceada_40101_9001_{SIG}.ipynb")
    _write(tmp_path, f"{mine}/hoppergrace_40102_9002_{FORWARD}.ipynb")
    result = collect(tmp_path)
    assert {s.student for s in result.submissions} == {"55555"}


# ------------------------------------------------ Blackboard user names and receipts


def test_blackboard_user_names_with_underscores_are_told_by_the_receipts(tmp_path):
    """ada_l and max_l were read as one user "l": one notebook dropped. The
    receipts say where the user name begins; they are read, never listed."""
    for user, name, content in (
        ("ada_l", "Ada Lovelace", b"ada"), ("max_l", "Max Lamb", b"max")
    ):  # fmt: skip
        _write(tmp_path, f"Backprop_{user}_attempt_{STAMP}_{SIG}.ipynb", content)
        _write(tmp_path, f"Backprop_{user}_attempt_{STAMP}.txt", receipt(user, name))
    result = collect(tmp_path)
    assert result.unmapped == []
    assert _students(result) == [
        ("ada_l", SIG, "blackboard", "ada_l"), ("max_l", SIG, "blackboard", "max_l")
    ]  # fmt: skip
    assert [(s.name, s.content) for s in result.submissions] == [
        ("Ada Lovelace", b"ada"), ("Max Lamb", b"max")
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("assignment", "head"),
    [
        ("Back_prop", "Back_prop_ada_l"),
        ("Back prop", "Back prop_ada_l"),
        ("Back prop", "Back_prop_ada_l"),
    ],
)
def test_blackboard_user_names_are_told_by_the_assignments_name(
    tmp_path, assignment, head
):
    """Without receipts, course.toml's [lms] assignment (spaces and "_" alike)."""
    _write(tmp_path, f"{head}_attempt_{STAMP}_{SIG}.ipynb")
    result = collect(tmp_path, assignments=[assignment])
    assert _students(result) == [("ada_l", SIG, "blackboard", "ada_l")]


@pytest.mark.parametrize(
    ("user", "other"), [("jdoe", "x.y@uni.edu"), ("-mallory", "o.neil-2")]
)
def test_one_underscore_splits_a_blackboard_name_by_itself(tmp_path, user, other):
    for name in (user, other):
        _write(tmp_path, f"Backprop_{name}_attempt_{STAMP}_{SIG}.ipynb")
    assert [s.lms_id for s in collect(tmp_path).submissions] == sorted([user, other])


def test_a_blackboard_name_nothing_splits_is_listed_with_what_to_do(tmp_path):
    name = f"Back_prop_ada_l_attempt_{STAMP}_{SIG}.ipynb"
    _write(tmp_path, name)
    result = collect(tmp_path, assignments=["Another assignment"])
    assert result.submissions == []
    [listed] = result.unmapped
    assert listed.source == name
    assert "receipts" in listed.reason and "[lms] assignment" in listed.reason


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (receipt("victim", "Victor Victim"), "does not end in that user name"),
        (b"Comments: Name: A (ada_l)\n", "first line is not"),
        (b"", "first line is not"),
        (b"Name: Ada (ada l)\n", "first line is not"),
        (b"\xff\xfeN\x00a\x00", "first line is not"),
    ],
)
def test_a_receipt_that_says_nothing_whose_is_listed_and_not_used(tmp_path, text, why):
    """A receipt whose user name does not end its own name (Blackboard wrote both)
    is not believed: the files of that attempt fall back to the assignment's name."""
    head = "Backprop_ada_l"
    _write(tmp_path, f"{head}_attempt_{STAMP}_{SIG}.ipynb")
    _write(tmp_path, f"{head}_attempt_{STAMP}.txt", text)
    result = collect(tmp_path, assignments=["Backprop"])
    assert [s.lms_id for s in result.submissions] == ["ada_l"]
    [listed] = result.unmapped
    assert listed.source == f"{head}_attempt_{STAMP}.txt"
    assert why in listed.reason


# ------------------------------------------------ Canvas's anonymous downloads


def test_canvas_anonymous_downloads_are_graded_under_their_anonymous_id(tmp_path):
    """They were refused with "ask the student", which anonymity forbids."""
    _write(tmp_path, f"anon_L9G4k_9001_{SIG}.ipynb")
    _write(tmp_path, f"LATE_anon_Qm3xZ_9002_{SIG}-1.ipynb")
    result = collect(tmp_path)
    assert result.unmapped == []
    assert _students(result) == [
        ("anon_L9G4k", SIG, "canvas", "anon_L9G4k"),
        ("anon_Qm3xZ", SIG, "canvas", "anon_Qm3xZ"),
    ]
    assert [(s.name, s.late) for s in result.submissions] == [("", False), ("", True)]


# ------------------------------------------------ one id per LMS


def test_the_same_number_in_two_lmss_is_two_students(tmp_path):
    """Moodle participant 12345 and Canvas user 12345 were one student, one file
    dropped as an older duplicate. Each stays in its LMS's namespace."""
    _write(tmp_path, f"Ada Lovelace_12345_assignsubmission_file_{SIG}.ipynb", b"m")
    _write(tmp_path, f"hoppergrace_12345_9001_{SIG}.ipynb", b"c", mtime=TIME + 60)
    _write(tmp_path, f"12345/{FORWARD}.ipynb", b"folder")
    result = collect(tmp_path)
    assert result.unmapped == []
    assert [(s.student, s.lms, s.content) for s in result.submissions] == [
        ("12345", "", b"folder"),
        ("12345~canvas", "canvas", b"c"),
        ("12345~moodle", "moodle", b"m"),
    ]


def test_an_id_alone_in_its_lms_keeps_its_plain_folder(tmp_path):
    _write(tmp_path, f"Ada Lovelace_12345_assignsubmission_file_{SIG}.ipynb")
    _write(tmp_path, f"hoppergrace_777_9001_{SIG}.ipynb")
    assert [s.student for s in collect(tmp_path).submissions] == ["12345", "777"]


# ------------------------------------------------ conflicts the instructor sees


def test_two_ids_that_would_share_a_student_are_a_conflict(tmp_path, monkeypatch):
    """The folder name two ids would share (here made to collide) is given to the
    first; the other's files are listed as a conflict, never merged."""
    monkeypatch.setattr(collect_module, "safe_student_id", str.lower)
    _write(tmp_path, f"Alice/{SIG}.ipynb", b"upper")
    _write(tmp_path, f"alice/{FORWARD}.ipynb", b"lower")
    result = collect(tmp_path)
    assert [s.content for s in result.submissions] == [b"upper"]
    [listed] = result.unmapped
    assert listed.conflict and "merged into one student" in listed.reason


def test_a_changed_file_from_another_download_is_a_conflict(tmp_path):
    """Two unpacked downloads of one class: a file that changed between them is
    graded from the newer one, and the older is listed as a conflict to check; an
    unchanged one is a plain duplicate."""
    downloads = (("first", TIME, b"old"), ("second", TIME + 60, b"new"))
    for folder, mtime, ada in downloads:
        _write(tmp_path, f"{folder}/lovelaceada_40101_9001_{SIG}.ipynb", ada, mtime)
        _write(tmp_path, f"{folder}/hoppergrace_40102_9002_{SIG}.ipynb", b"s", mtime)
    result = collect(tmp_path)
    assert [s.source for s in result.submissions] == [
        f"second/lovelaceada_40101_9001_{SIG}.ipynb",
        f"second/hoppergrace_40102_9002_{SIG}.ipynb",
    ]
    conflicts = {u.source: u.conflict for u in result.unmapped}
    assert conflicts == {
        f"first/lovelaceada_40101_9001_{SIG}.ipynb": True,
        f"first/hoppergrace_40102_9002_{SIG}.ipynb": False,
    }


def test_an_older_copy_by_the_same_lms_id_is_a_plain_duplicate(tmp_path):
    _write(tmp_path, f"lovelaceada_40101_9001_{SIG}.ipynb", b"old")
    _write(tmp_path, f"lovelaceada_40101_9003_{SIG}-1.ipynb", b"new", TIME + 60)
    [listed] = collect(tmp_path).unmapped
    assert not listed.conflict and listed.reason.endswith(", older")


def test_a_differing_copy_of_the_same_time_is_a_conflict(tmp_path):
    _write(tmp_path, f"lovelaceada_40101_9001_{SIG}.ipynb", b"one")
    _write(tmp_path, f"lovelaceada_40101_9003_{SIG}-1.ipynb", b"two")
    [listed] = collect(tmp_path).unmapped
    assert listed.conflict and "same time" in listed.reason


# ---------------------------------------------------------------- property

FOLDERS = st.sampled_from(
    ["", "BP101-submissions/", "alice/", "Mallory Evil_55555_assignsubmission_file/",
     "dl/x/", "Backprop_ada_l_attempt_2024-05-17-10-00-00_work/"]
)  # fmt: skip
FILE_NAMES = st.sampled_from(
    [f"lovelaceada_40101_9001_{SIG}.ipynb", f"hoppergrace_40102_9002_{SIG}.ipynb",
     f"anon_L9G4k_9003_{SIG}.ipynb",
     f"Ada Lovelace_21_assignsubmission_file_{SIG}.ipynb",
     f"Backprop_ada_l_attempt_{STAMP}_{SIG}.ipynb", f"{SIG}.ipynb",
     f"victimvera_99999_9004_{FORWARD}.ipynb", f"alice_{FORWARD}.ipynb"]
)  # fmt: skip


def _owners(relative: str) -> set[str]:
    """Every id a file's path could honestly give: a folder's name, or an id an
    LMS wrote in the file's name or a folder's."""
    owners = set()
    for part in relative.split("/"):
        owners.add(part)
        for piece in part.replace(" ", "_").split("_"):
            owners.add(piece)
        owners.add(part.split("_attempt_")[0].split("_", 1)[-1])
        if part.startswith("anon_"):
            owners.add("_".join(part.split("_")[:2]))
    return owners


@settings(max_examples=40, deadline=timedelta(seconds=5))
@given(st.lists(st.tuples(FOLDERS, FILE_NAMES), min_size=1, max_size=8, unique=True))
def test_any_mix_of_downloads_and_folders_places_each_file_by_a_name_it_holds(files):
    """collect never raises on such a mix; each file graded belongs to an id its
    own path holds (a folder, or an LMS's prefix), never to an id only another
    file names, and every file is either graded or listed."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for where, name in files:
            _write(root, where + name)
        result = collect(root)
    sources = {s.source for s in result.submissions} | {
        u.source for u in result.unmapped
    }
    assert sources == {where + name for where, name in files}
    for submission in result.submissions:
        student = submission.student.split("~")[0]
        assert student in _owners(submission.source), submission
