"""Each student's LMS identity, read through collect: the id the LMS's grade import
matches on, the name it wrote, and when it says the student handed in."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from grader.intake.collect import collect
from grader.intake.identity import lms_identities, submission_times
from grader.model import Identity

from .test_names import STAMP
from .zips import honest

SIG = "01_sigmoid"
MTIME = 1_700_000_000  # the file's time: Moodle's time of the upload
MOODLE_TIME = datetime.fromtimestamp(MTIME).astimezone()
ATTEMPT_TIME = datetime.strptime(STAMP, "%Y-%m-%d-%H-%M-%S").astimezone()


def _write(root: Path, relative: str, content: bytes = b"{}") -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, (MTIME, MTIME))


@pytest.mark.parametrize(
    ("relative", "identity"),
    [
        (f"Ada Lovelace_12345_assignsubmission_file_{SIG}.ipynb",
         Identity("moodle", "12345", "Ada Lovelace", MOODLE_TIME)),
        (f"Ada Lovelace_12345_assignsubmission_file/backprop/{SIG}.ipynb",
         Identity("moodle", "12345", "Ada Lovelace", MOODLE_TIME)),
        (f"lovelaceada_LATE_12345_67890_{SIG}-1.ipynb",
         Identity("canvas", "12345", "lovelaceada", None, late=True)),
        (f"lovelaceada_12345_67890_{SIG}.ipynb",
         Identity("canvas", "12345", "lovelaceada")),
        (f"anon_L9G4k_67890_{SIG}.ipynb", Identity("canvas", "anon_L9G4k")),
        (f"LATE_anon_L9G4k_67890_{SIG}.ipynb",
         Identity("canvas", "anon_L9G4k", late=True)),
        (f"Backprop_jdoe3_attempt_{STAMP}_{SIG}.ipynb",
         Identity("blackboard", "jdoe3", "", ATTEMPT_TIME)),
    ],
)  # fmt: skip
def test_an_lms_named_file_gives_its_students_identity(tmp_path, relative, identity):
    """Moodle's full name and its file's time; Canvas's sortable name (none when
    anonymous) and its LATE (Canvas's zip holds no time of submission);
    Blackboard's attempt date (its name is in the receipt)."""
    _write(tmp_path, relative)
    assert lms_identities(collect(tmp_path)) == {identity.lms_id: identity}


def test_a_blackboard_receipt_gives_the_full_name_and_is_not_listed(tmp_path):
    head = "Backprop_ada_l"
    _write(tmp_path, f"{head}_attempt_{STAMP}_{SIG}.ipynb")
    _write(
        tmp_path,
        f"{head}_attempt_{STAMP}.txt",
        b"Name: Ada Lovelace (ada_l)\nAssignment: Backprop\n"
        b"Date Submitted: Friday, May 17, 2024 10:00:00 AM CEST\n",
    )
    collection = collect(tmp_path)
    assert collection.unmapped == []
    assert lms_identities(collection) == {
        "ada_l": Identity("blackboard", "ada_l", "Ada Lovelace", ATTEMPT_TIME)
    }


def test_the_latest_time_of_a_students_notebooks_is_theirs(tmp_path):
    """Each notebook keeps its own time (a late policy applies per notebook)."""
    forward = "02_forward_propagation"
    later = "2024-05-18-09-30-00"
    _write(tmp_path, f"Backprop_jdoe3_attempt_{STAMP}_{SIG}.ipynb")
    _write(tmp_path, f"Backprop_jdoe3_attempt_{later}_{forward}.ipynb")
    collection = collect(tmp_path)
    later_time = datetime.strptime(later, "%Y-%m-%d-%H-%M-%S").astimezone()
    assert lms_identities(collection)["jdoe3"].submitted_at == later_time
    assert submission_times(collection) == {
        ("jdoe3", SIG): ATTEMPT_TIME, ("jdoe3", forward): later_time
    }  # fmt: skip


def test_a_name_inside_a_bulk_zip_is_read_after_the_zips_name(tmp_path):
    """bulk.zip:Grace Hopper_777_… is Grace Hopper's, not "bulk.zip:Grace Hopper"."""
    name = f"Grace Hopper_777_assignsubmission_file_{SIG}.ipynb"
    (tmp_path / "bulk.zip").write_bytes(honest({name: b"{}"}))
    [identity] = lms_identities(collect(tmp_path)).values()
    assert (identity.lms, identity.lms_id, identity.name) == (
        "moodle", "777", "Grace Hopper"
    )  # fmt: skip


def test_students_in_folders_of_their_own_have_no_identity(tmp_path):
    """A folder per student is no LMS's download: nothing to put back, and no
    time of submission (a file's time there is when it was copied)."""
    _write(tmp_path, f"alice/{SIG}.ipynb")
    _write(tmp_path, f"bob_{SIG}.ipynb")
    collection = collect(tmp_path)
    assert lms_identities(collection) == {}
    assert submission_times(collection) == {}


def test_a_colon_in_a_name_is_the_names_own(tmp_path):
    """Only ".zip:" separates a zip from what is in it."""
    _write(tmp_path, f"Ada: Countess_12345_assignsubmission_file_{SIG}.ipynb")
    assert lms_identities(collect(tmp_path)) == {
        "12345": Identity("moodle", "12345", "Ada: Countess", MOODLE_TIME)
    }
