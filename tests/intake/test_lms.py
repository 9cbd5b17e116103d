"""LMS downloads through collect: the id comes from what the LMS wrote, never from
what the student chose (the file's own name, the contents of their zip)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.intake.collect import collect

from .test_names import AMBIGUOUS, STAMP
from .zips import honest

SIG = "01_sigmoid"
FORWARD = "02_forward_propagation"
VICTIMS = {  # victim 99999's own file, as each LMS names it
    "moodle": "Victor Victim_99999_assignsubmission_file_01_sigmoid.ipynb",
    "canvas": "victimvera_99999_70001_01_sigmoid.ipynb",
    "blackboard": f"Backprop_99999_attempt_{STAMP}_01_sigmoid.ipynb",
}


def _write(root: Path, relative: str, content: bytes, mtime: float) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, (mtime, mtime))


@pytest.mark.parametrize("victim", VICTIMS.values(), ids=VICTIMS.keys())
@pytest.mark.parametrize("attack", AMBIGUOUS.values(), ids=AMBIGUOUS.keys())
def test_an_ambiguous_name_never_takes_another_students_place(tmp_path, victim, attack):
    """The victim's own (older) file is graded; the attacker's newer file, whose own
    name holds a second LMS prefix, is listed as ambiguous, not as anyone's."""
    _write(tmp_path, victim, b"victim's own", mtime=1_700_000_000)
    _write(tmp_path, attack, b"attacker's", mtime=1_700_000_100)
    result = collect(tmp_path)
    assert [(s.student, s.notebook, s.content) for s in result.submissions] == [
        ("99999", SIG, b"victim's own")
    ]
    [unmapped] = result.unmapped
    assert unmapped.source == attack
    assert unmapped.reason.startswith("ambiguous name:"), unmapped.reason


@pytest.mark.parametrize(
    ("name", "lms", "lms_id"),
    [
        ("Ada Lovelace_12345_assignsubmission_file_01_sigmoid.ipynb", "moodle",
         "12345"),
        ("lovelaceada_LATE_12345_67890_01_sigmoid-1.ipynb", "canvas", "12345"),
        (f"Backprop_jdoe3_attempt_{STAMP}_01_sigmoid.ipynb", "blackboard", "jdoe3"),
        ("alice_01_sigmoid.ipynb", "", ""),
    ],
)  # fmt: skip
def test_a_submission_keeps_the_lms_and_the_id_it_wrote(tmp_path, name, lms, lms_id):
    """Grades go back to the LMS by the id its import matches on: Moodle's
    participant id, Canvas's user id, Blackboard's user name."""
    _write(tmp_path, name, b"{}", mtime=1_700_000_000)
    [submission] = collect(tmp_path).submissions
    assert (submission.lms, submission.lms_id) == (lms, lms_id)
    assert submission.student == (lms_id or "alice")


@pytest.mark.parametrize(
    "folder",
    [
        "Ada Lovelace_12345_assignsubmission_file",  # Moodle 4.1 and later
        "Ada Lovelace_12345_assignsubmission_file_",  # Moodle 3.1 to 4.0
    ],
)
@pytest.mark.parametrize(
    "inside", ["02_forward_propagation.ipynb", "work/02_forward_propagation.ipynb",
               "alice_02_forward_propagation.ipynb"],
)  # fmt: skip
def test_moodle_folders_give_the_participant_id(tmp_path, folder, inside):
    """ "Download submissions in folders": the folder is Moodle's, the rest the
    student's (their own subfolder and file name)."""
    _write(tmp_path, f"{folder}/{inside}", b"{}", mtime=1_700_000_000)
    result = collect(tmp_path)
    assert result.unmapped == []
    [submission] = result.submissions
    assert (submission.student, submission.notebook) == ("12345", FORWARD)
    assert (submission.lms, submission.lms_id) == ("moodle", "12345")


STOLEN = {  # a student's own zip, named by the LMS, holding files named as others'
    VICTIMS["moodle"]: b"zip: moodle name",
    "99999/02_forward_propagation.ipynb": b"zip: victim's folder",
    "03_backward_propagation.ipynb": b"zip: plain",
}


@pytest.mark.parametrize(
    ("zip_name", "owner", "lms"),
    [
        ("Mallory Evil_55555_assignsubmission_file_work.zip", "55555", "moodle"),
        ("evilmallory_55555_70002_work.zip", "55555", "canvas"),
        (f"Backprop_mallory_attempt_{STAMP}_work.zip", "mallory", "blackboard"),
    ],
)
@pytest.mark.parametrize("inside_bulk", [False, True], ids=["on-disk", "in-bulk-zip"])
def test_everything_in_a_students_lms_zip_is_theirs(
    tmp_path, zip_name, owner, lms, inside_bulk
):
    """The zip's name is the LMS's, its contents the student's: they count as the
    student's folder, whatever their names claim."""
    _write(tmp_path, VICTIMS["moodle"], b"victim's own", mtime=1_600_000_000)
    student_zip = honest(STOLEN)
    if inside_bulk:
        _write(tmp_path, "bulk.zip", honest({zip_name: student_zip}), 1_700_000_000)
        prefix = f"bulk.zip:{zip_name}"
    else:
        _write(tmp_path, zip_name, student_zip, mtime=1_700_000_000)
        prefix = zip_name
    result = collect(tmp_path)
    assert result.unmapped == []
    got = {
        (s.student, s.notebook): (s.content, s.source, s.lms)
        for s in result.submissions
    }
    assert got == {
        ("99999", SIG): (b"victim's own", VICTIMS["moodle"], "moodle"),
        (owner, SIG): (b"zip: moodle name", f"{prefix}:{VICTIMS['moodle']}", lms),
        (owner, FORWARD): (
            b"zip: victim's folder",
            f"{prefix}:99999/02_forward_propagation.ipynb",
            lms,
        ),
        (owner, "03_backward_propagation"): (
            b"zip: plain",
            f"{prefix}:03_backward_propagation.ipynb",
            lms,
        ),
    }


@pytest.mark.parametrize(
    "name",
    [
        AMBIGUOUS["moodle-in-moodle"].replace(".ipynb", ".zip"),
        AMBIGUOUS["canvas-in-canvas"].replace(".ipynb", ".zip"),
        # A Canvas user who named themselves "evil_99999" (Canvas writes a name
        # ending in "_<digits>" as it is) uploads work.zip as user 55555:
        "evil_99999_55555_66666_work.zip",
    ],
    ids=["moodle-in-moodle", "canvas-in-canvas", "canvas-name-ending-in-an-id"],
)
def test_a_zip_with_an_ambiguous_lms_name_is_listed_not_opened(tmp_path, name):
    """Whose zip it is cannot be told: listed with the reason, its files unread."""
    _write(tmp_path, name, honest(STOLEN), mtime=1_700_000_000)
    result = collect(tmp_path)
    assert result.submissions == []
    [unmapped] = result.unmapped
    assert unmapped.source == name
    assert unmapped.reason.startswith("ambiguous name:")


def test_a_bulk_zip_named_by_the_lms_is_opened_as_a_folder_of_flat_files(tmp_path):
    """Moodle's and Canvas's whole-class downloads are no student's: their flat
    names are read one by one."""
    canvas = "victimvera_88888_70001_01_sigmoid.ipynb"
    _write(tmp_path, "CS101-Backprop-42.zip",
           honest({VICTIMS["moodle"]: b"m", canvas: b"c"}), 1_700_000_000)  # fmt: skip
    _write(tmp_path, "cs101-backprop_submissions.zip",
           honest({"alice_01_sigmoid.ipynb": b"a"}), 1_700_000_000)  # fmt: skip
    students = sorted(s.student for s in collect(tmp_path).submissions)
    assert students == ["88888", "99999", "alice"]
