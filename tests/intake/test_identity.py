"""Each student's LMS identity, read through collect: the id the LMS's grade import
matches on, and the name it wrote before it."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.intake.collect import collect
from grader.intake.identity import lms_identities
from grader.model import Identity

from .test_names import STAMP
from .zips import honest

SIG = "01_sigmoid"


def _write(root: Path, relative: str, content: bytes = b"{}") -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


@pytest.mark.parametrize(
    ("relative", "identity"),
    [
        (f"Ada Lovelace_12345_assignsubmission_file_{SIG}.ipynb",
         Identity("moodle", "12345", "Ada Lovelace")),
        (f"Ada Lovelace_12345_assignsubmission_file/backprop/{SIG}.ipynb",
         Identity("moodle", "12345", "Ada Lovelace")),
        (f"lovelaceada_LATE_12345_67890_{SIG}-1.ipynb",
         Identity("canvas", "12345", "lovelaceada")),
        (f"Backprop_jdoe3_attempt_{STAMP}_{SIG}.ipynb",
         Identity("blackboard", "jdoe3", "")),
    ],
)  # fmt: skip
def test_an_lms_named_file_gives_its_students_identity(tmp_path, relative, identity):
    """Moodle's full name, Canvas's sortable name; Blackboard writes none."""
    _write(tmp_path, relative)
    assert lms_identities(collect(tmp_path)) == {identity.lms_id: identity}


def test_a_name_inside_a_bulk_zip_is_read_after_the_zips_name(tmp_path):
    """bulk.zip:Grace Hopper_777_… is Grace Hopper's, not "bulk.zip:Grace Hopper"."""
    name = f"Grace Hopper_777_assignsubmission_file_{SIG}.ipynb"
    (tmp_path / "bulk.zip").write_bytes(honest({name: b"{}"}))
    assert lms_identities(collect(tmp_path)) == {
        "777": Identity("moodle", "777", "Grace Hopper")
    }


def test_students_in_folders_of_their_own_have_no_identity(tmp_path):
    """A folder per student is no LMS's download: nothing to put back."""
    _write(tmp_path, f"alice/{SIG}.ipynb")
    _write(tmp_path, f"bob_{SIG}.ipynb")
    assert lms_identities(collect(tmp_path)) == {}


def test_a_colon_in_a_name_is_the_names_own(tmp_path):
    """Only ".zip:" separates a zip from what is in it."""
    _write(tmp_path, f"Ada: Countess_12345_assignsubmission_file_{SIG}.ipynb")
    assert lms_identities(collect(tmp_path)) == {
        "12345": Identity("moodle", "12345", "Ada: Countess")
    }
