"""collect: every student's notebooks found in SUBMISSIONS, everything else listed."""

from __future__ import annotations

import io
import os
import re
import time
import zipfile
from pathlib import Path

import pytest

from grader.intake.collect import collect
from grader.intake.names import safe_student_id
from grader.model import InputError, Unmapped

FORWARD = "02_forward_propagation"
ZIP_TIME = (2024, 5, 17, 14, 30, 0)


def _write(root: Path, relative: str, content: bytes | None = None, mtime=None) -> Path:
    """Create a file (content defaults to one naming it) with an optional mtime."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(relative.encode() if content is None else content)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def _zip_bytes(entries: dict[str, bytes], date_time=ZIP_TIME) -> bytes:
    """A zip archive's bytes holding the entries, all stamped with date_time."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(zipfile.ZipInfo(name, date_time), content)
    return buffer.getvalue()


def _zip(root: Path, relative: str, entries: dict[str, bytes], date_time=ZIP_TIME):
    """Write a zip archive holding the entries into the tree."""
    return _write(root, relative, _zip_bytes(entries, date_time))


def _found(collection) -> list[tuple[str, str, str]]:
    """(student, notebook, source) of every submission, in the order returned."""
    return [(s.student, s.notebook, s.source) for s in collection.submissions]


@pytest.mark.parametrize(
    "relative",
    [
        "alice/02_forward_propagation.ipynb",
        "alice/backprop/02_forward_propagation.ipynb",
        "alice/Copy of 02_forward_propagation.ipynb",
        "alice/02_forward_propagation (1).ipynb",
        "alice/Copy of 02_forward_propagation (2).ipynb",
        "alice/02 Forward Propagation.ipynb",
        "alice/02_FORWARD_PROPAGATION.IPYNB",
        "alice/alice_02_forward_propagation.ipynb",
    ],
)
def test_a_folder_per_student_maps_the_notebook_named_as_released(tmp_path, relative):
    """A student's folder (or one level deeper) holds the notebook, names decorated."""
    _write(tmp_path, relative)
    result = collect(tmp_path)
    assert result.unmapped == []
    [submission] = result.submissions
    assert (submission.student, submission.notebook) == ("alice", FORWARD)
    assert submission.source == relative
    assert submission.content == relative.encode()


@pytest.mark.parametrize(
    ("name", "student"),
    [
        ("alice_02_forward_propagation.ipynb", "alice"),
        ("alice - 02_forward_propagation.ipynb", "alice"),
        ("alice_Copy of 02_forward_propagation (1).ipynb", "alice"),
        ("Ada Lovelace - Copy of 02 forward propagation (1).ipynb",
         safe_student_id("Ada Lovelace")),
        ("a.smith@uni.edu_02_forward_propagation.ipynb", "a.smith@uni.edu"),
        ("s1234567_02_forward_propagation.ipynb", "s1234567"),
        ("Alice Smith_12345_assignsubmission_file_02_forward_propagation.ipynb",
         "12345"),
        ("Participant_777_assignsubmission_file_Copy of 02_forward_propagation.ipynb",
         "777"),
        ("smithalice_12345_67890_02_forward_propagation.ipynb", "12345"),
        ("smithalice_LATE_12345_67890_02_forward_propagation-1.ipynb", "12345"),
        ("backprop_bitdiddle_attempt_2024-01-30-15-00-00_02_forward_propagation.ipynb",
         "bitdiddle"),
    ],
)  # fmt: skip
def test_flat_lms_names_map_to_student_and_notebook(tmp_path, name, student):
    """The default pattern reads the student id and notebook from common LMS names."""
    _write(tmp_path, name)
    result = collect(tmp_path)
    assert result.unmapped == []
    assert _found(result) == [(student, FORWARD, name)]


@pytest.mark.parametrize(
    ("archive", "entry", "student", "source"),
    [
        ("bulk.zip", "alice_02_forward_propagation.ipynb", "alice",
         "bulk.zip:alice_02_forward_propagation.ipynb"),
        ("bulk.zip", "alice/02_forward_propagation.ipynb", "alice",
         "bulk.zip:alice/02_forward_propagation.ipynb"),
        ("bulk.zip", "alice/backprop/Copy of 02_forward_propagation.ipynb", "alice",
         "bulk.zip:alice/backprop/Copy of 02_forward_propagation.ipynb"),
        ("alice/work.zip", "02_forward_propagation.ipynb", "alice",
         "alice/work.zip:02_forward_propagation.ipynb"),
        ("moodle.zip",
         "Ada Smith_12345_assignsubmission_file_/02_forward_propagation.ipynb", "12345",
         "moodle.zip:Ada Smith_12345_assignsubmission_file_/"
         "02_forward_propagation.ipynb"),
    ],
)  # fmt: skip
def test_zip_archives_are_read_in_place(tmp_path, archive, entry, student, source):
    """Zips hold flat LMS files or student folders; a zip's name is no folder."""
    _zip(tmp_path, archive, {entry: b"notebook bytes"})
    result = collect(tmp_path)
    assert result.unmapped == []
    assert _found(result) == [(student, FORWARD, source)]
    assert result.submissions[0].content == b"notebook bytes"


def test_a_zip_inside_a_zip_is_read_too(tmp_path):
    """A student's zip inside the bulk zip is opened in memory, its source chained."""
    inner = _zip_bytes({"02_forward_propagation.ipynb": b"inner"})
    _zip(tmp_path, "bulk.zip", {"alice/alice.zip": inner})
    result = collect(tmp_path)
    source = "bulk.zip:alice/alice.zip:02_forward_propagation.ipynb"
    assert _found(result) == [("alice", FORWARD, source)]


def test_modified_is_the_file_mtime_or_the_zip_entry_time(tmp_path):
    """Files carry their mtime; zip entries their stored date_time (local time)."""
    _write(tmp_path, "alice/02_forward_propagation.ipynb", mtime=1_700_000_000)
    _zip(tmp_path, "bulk.zip", {"bob_02_forward_propagation.ipynb": b"{}"})
    times = {s.student: s.modified for s in collect(tmp_path).submissions}
    assert times == {
        "alice": 1_700_000_000,
        "bob": time.mktime((*ZIP_TIME, 0, 0, -1)),
    }


def test_moodle_folder_per_submission_gives_the_same_id_as_its_flat_files(tmp_path):
    """Moodle's "Name_12345_assignsubmission_file_/" folders map to student 12345."""
    _write(tmp_path, "Ada Smith_12345_assignsubmission_file_/01_sigmoid.ipynb")
    _write(
        tmp_path, "Ada Smith_12345_assignsubmission_file_02_forward_propagation.ipynb"
    )
    result = collect(tmp_path)
    assert [(s.student, s.notebook) for s in result.submissions] == [
        ("12345", "01_sigmoid"),
        ("12345", FORWARD),
    ]


@pytest.mark.parametrize(
    ("relative", "reason"),
    [
        (".DS_Store", "hidden file, not a notebook"),
        ("alice/.DS_Store", "hidden file, not a notebook"),
        ("alice/notes.txt", "not a notebook: only .ipynb files are graded"),
        ("alice/backprop_helper/__init__.py", "not a notebook"),
        ("alice/homework.ipynb", "'homework' is not a notebook of this assignment"),
        ("02_forward_propagation.ipynb", "no student: put it in a folder named after"),
        ("Copy of 01_sigmoid (1).ipynb", "no student: put it in a folder named after"),
        ("untitled.ipynb", "the name does not say whose notebook it is"),
        ("alice_06_extra.ipynb", "'06_extra' is not a notebook of this assignment"),
        ("alice_Copy of 06_extra (1).ipynb", "'06_extra' is not a notebook"),
        ("a/b/c/02_forward_propagation.ipynb", "too deep in folders"),
        ("???/02_forward_propagation.ipynb", "the folder name '???' leaves no usable"),
        ("+++ - 02_forward_propagation.ipynb", "the name gives no usable student id"),
    ],
)
def test_files_that_are_not_submissions_are_listed_with_a_reason(
    tmp_path, relative, reason
):
    """Non-notebooks, unknown names and misplaced files become Unmapped, with why."""
    _write(tmp_path, relative)
    result = collect(tmp_path)
    assert result.submissions == []
    [unmapped] = result.unmapped
    assert unmapped.source == relative
    assert unmapped.reason.startswith(reason)


def test_a_corrupt_zip_is_listed_not_fatal(tmp_path):
    """A zip that cannot be opened is Unmapped; the other files are still collected."""
    _write(tmp_path, "bulk.zip", b"PK\x03\x04 this is not really a zip")
    _write(tmp_path, "bob/02_forward_propagation.ipynb")
    result = collect(tmp_path)
    assert [s.student for s in result.submissions] == ["bob"]
    [unmapped] = result.unmapped
    assert unmapped.source == "bulk.zip"
    assert unmapped.reason.startswith("not a readable zip archive")


def test_a_zip_entry_that_fails_its_checksum_is_listed(tmp_path):
    """An entry whose bytes are damaged (bad CRC) is Unmapped with the error."""
    content = b"x" * 200
    with zipfile.ZipFile(tmp_path / "stored.zip", "w", zipfile.ZIP_STORED) as stored:
        stored.writestr("alice_02_forward_propagation.ipynb", content)
    archive = bytearray((tmp_path / "stored.zip").read_bytes())
    archive[archive.index(content) + 10] ^= 0xFF
    (tmp_path / "stored.zip").write_bytes(bytes(archive))
    [unmapped] = collect(tmp_path).unmapped
    assert unmapped.source == "stored.zip:alice_02_forward_propagation.ipynb"
    assert unmapped.reason.startswith("cannot be read (Bad CRC-32")


def test_hidden_folders_are_listed_once_and_not_searched(tmp_path):
    """A hidden folder (e.g. .git) is one Unmapped entry; its files are not listed."""
    _write(tmp_path, ".git/config")
    _write(tmp_path, ".git/objects/ab/cdef")
    _zip(tmp_path, "bulk.zip", {".hidden/a.ipynb": b"", ".hidden/b.ipynb": b""})
    result = collect(tmp_path)
    assert result.unmapped == [
        Unmapped(".git/", "hidden folder, not searched"),
        Unmapped("bulk.zip:.hidden/", "hidden folder, not searched"),
    ]


def test_checkpoints_and_macos_resource_forks_are_skipped_silently(tmp_path):
    """.ipynb_checkpoints and __MACOSX contents are neither graded nor listed."""
    _write(tmp_path, "alice/02_forward_propagation.ipynb")
    _write(tmp_path, "alice/.ipynb_checkpoints/02_forward_propagation-checkpoint.ipynb")
    _write(tmp_path, "__MACOSX/alice/._02_forward_propagation.ipynb")
    _zip(
        tmp_path,
        "bulk.zip",
        {
            "bob/02_forward_propagation.ipynb": b"{}",
            "__MACOSX/bob/._02_forward_propagation.ipynb": b"\x00\x05",
            "bob/.ipynb_checkpoints/02_forward_propagation-checkpoint.ipynb": b"{}",
        },
    )
    result = collect(tmp_path)
    assert result.unmapped == []
    assert [(s.student, s.source) for s in result.submissions] == [
        ("alice", "alice/02_forward_propagation.ipynb"),
        ("bob", "bulk.zip:bob/02_forward_propagation.ipynb"),
    ]


@pytest.mark.parametrize("newer", ["Copy of 02_forward_propagation.ipynb",
                                   "02_forward_propagation (1).ipynb"])  # fmt: skip
def test_of_two_files_for_one_notebook_the_newer_is_kept(tmp_path, newer):
    """Duplicates: the newest file wins, whatever its name; the other is listed."""
    names = ["Copy of 02_forward_propagation.ipynb", "02_forward_propagation (1).ipynb"]
    [older] = [name for name in names if name != newer]
    _write(tmp_path, f"alice/{older}", mtime=1_700_000_000)
    _write(tmp_path, f"alice/{newer}", mtime=1_700_000_100)
    result = collect(tmp_path)
    assert _found(result) == [("alice", FORWARD, f"alice/{newer}")]
    assert result.unmapped == [
        Unmapped(f"alice/{older}", f"duplicate of alice/{newer}, older")
    ]


def test_a_newer_zip_entry_beats_an_older_file(tmp_path):
    """Duplicates across folder and zip compare file mtime with entry time."""
    _write(tmp_path, "alice/02_forward_propagation.ipynb", mtime=1_000_000_000)
    _zip(tmp_path, "bulk.zip", {"alice_02_forward_propagation.ipynb": b"newer"})
    result = collect(tmp_path)
    assert [s.content for s in result.submissions] == [b"newer"]
    assert result.unmapped == [
        Unmapped(
            "alice/02_forward_propagation.ipynb",
            "duplicate of bulk.zip:alice_02_forward_propagation.ipynb, older",
        )
    ]


def test_duplicates_with_the_same_time_keep_the_last_source(tmp_path):
    """A tie in time keeps the lexicographically last source."""
    _write(tmp_path, "alice/02_forward_propagation (1).ipynb", mtime=1_700_000_000)
    _write(tmp_path, "alice/Copy of 02_forward_propagation.ipynb", mtime=1_700_000_000)
    result = collect(tmp_path)
    kept = "alice/Copy of 02_forward_propagation.ipynb"
    assert _found(result) == [("alice", FORWARD, kept)]
    assert result.unmapped == [
        Unmapped(
            "alice/02_forward_propagation (1).ipynb", f"duplicate of {kept}, same time"
        )
    ]


def test_submissions_are_sorted_by_student_then_notebook(tmp_path):
    """The order is (student, notebook), whatever the order on disk."""
    for relative in [
        "zoe/03_backward_propagation.ipynb",
        "zoe/01_sigmoid.ipynb",
        "bob_05_optimizers.ipynb",
        "Bob/01_sigmoid.ipynb",
        "bob/02_forward_propagation.ipynb",
    ]:
        _write(tmp_path, relative)
    result = collect(tmp_path)
    assert [(s.student, s.notebook) for s in result.submissions] == [
        ("Bob", "01_sigmoid"),
        ("bob", FORWARD),
        ("bob", "05_optimizers"),
        ("zoe", "01_sigmoid"),
        ("zoe", "03_backward_propagation"),
    ]


def _snapshot(root: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file and folder under root: bytes (files), mode and mtime in ns."""
    return {
        str(path.relative_to(root)): (
            path.read_bytes() if path.is_file() else b"",
            path.stat().st_mode,
            path.stat().st_mtime_ns,
        )
        for path in sorted(root.rglob("*"))
    }


def test_the_submissions_folder_is_never_modified(tmp_path):
    """collect creates, changes and moves nothing (not even next to zips)."""
    _write(tmp_path, "alice/Copy of 02_forward_propagation (1).ipynb", mtime=1e9)
    _write(tmp_path, "alice/02_forward_propagation.ipynb", mtime=2e9)
    _write(tmp_path, "notes.txt")
    _zip(tmp_path, "bulk.zip", {"bob/01_sigmoid.ipynb": b"{}", "bob/x.txt": b"x"})
    _write(tmp_path, "broken.zip", b"not a zip")
    before = _snapshot(tmp_path)
    result = collect(tmp_path)
    assert len(result.submissions) == 2 and len(result.unmapped) == 4
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda root: root / "missing", "does not exist"),
        (lambda root: _write(root, "bulk.zip", _zip_bytes({})),
         "is a file, not a folder"),
        (lambda root: root, "holds no files"),
        (lambda root: (root / "alice" / "backprop").mkdir(parents=True) or root,
         "holds no files"),
        (lambda root: _write(root, "alice/.ipynb_checkpoints/a.ipynb").parents[2],
         "holds no files"),
    ],
    ids=["missing", "a-file", "empty", "only-empty-folders", "only-checkpoints"],
)  # fmt: skip
def test_unusable_input_raises_input_error_saying_what_to_do(tmp_path, make, message):
    """A missing path, a file, or a folder without files is an InputError."""
    folder = make(tmp_path)
    with pytest.raises(InputError, match=message) as raised:
        collect(folder)
    assert str(folder) in str(raised.value)


def test_a_folder_without_any_mappable_notebook_is_not_an_input_error(tmp_path):
    """Files that are all unmapped are returned as such; the caller decides."""
    _write(tmp_path, "readme.txt")
    _write(tmp_path, "untitled.ipynb")
    result = collect(tmp_path)
    assert result.submissions == []
    assert [u.source for u in result.unmapped] == ["readme.txt", "untitled.ipynb"]


@pytest.mark.parametrize("compiled", [False, True], ids=["str", "compiled"])
def test_a_custom_pattern_maps_flat_names(tmp_path, compiled):
    """The pattern can be any regex with student_id and file_id, as str or compiled."""
    pattern = r"(?P<file_id>\d\d_[a-z_]+?)__(?P<student_id>[a-z]+)\.ipynb"
    _write(tmp_path, "02_forward_propagation__alice.ipynb")
    _write(tmp_path, "alice_01_sigmoid.ipynb")
    result = collect(tmp_path, pattern=re.compile(pattern) if compiled else pattern)
    assert _found(result) == [("alice", FORWARD, "02_forward_propagation__alice.ipynb")]
    assert [u.source for u in result.unmapped] == ["alice_01_sigmoid.ipynb"]


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (r"(?P<student_id>\w+)_(?P<notebook>\w+)", "lacks file_id"),
        (r"(\w+)_(\w+)", "lacks file_id, student_id"),
        (r"(?P<student_id>[a-z", "not a regular expression"),
    ],
)
def test_a_pattern_without_both_groups_is_an_input_error(tmp_path, pattern, message):
    """A pattern nbgrader could not use either is refused before anything is read."""
    _write(tmp_path, "alice_02_forward_propagation.ipynb")
    with pytest.raises(InputError, match=message):
        collect(tmp_path, pattern=pattern)


def test_only_the_given_notebooks_are_collected(tmp_path):
    """`notebooks` limits what counts as a released notebook."""
    _write(tmp_path, "alice/01_sigmoid.ipynb")
    _write(tmp_path, "alice/02_forward_propagation.ipynb")
    result = collect(tmp_path, notebooks=["01_sigmoid"])
    assert [s.notebook for s in result.submissions] == ["01_sigmoid"]
    assert result.unmapped[0].reason.startswith("'02_forward_propagation' is not")
