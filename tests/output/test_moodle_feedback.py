"""OUT/lms/moodle-feedback.zip (grader/output/moodle_feedback.py), read back as
Moodle's "Upload multiple feedback files in a zip" reads it.

`moodle_import` is Moodle's own rule (mod/assign/feedback/file/importziplib.php,
is_valid_filename_for_import) in Python: each part of a path split at "_" into at
most five pieces, the second a participant id, the third and fourth a plugin, the
rest of the path the feedback file's name.
"""

from __future__ import annotations

import re
import stat
import zipfile
from pathlib import Path

import pytest

from grader.model import ClassResults, Identity
from grader.output.lms import ZIP_FILE
from grader.output.moodle_feedback import (
    moodle_folder,
    write_moodle_feedback,
)

from .sample import SIGMOID, graded, passed

PHP_NUMERIC = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")
PLUGINS = {("assignsubmission", "file"), ("assignfeedback", "file")}
HOSTILE_NAMES = [
    '=HYPERLINK("http://evil.example","click"), me\n\t"quoted"',
    "Ada_Lovelace_99_assignsubmission_file",  # underscores: another participant?
    "../../etc/passwd",
    "..",
    "C:\\Windows\\evil|name:`x'<b>&",
    "",
    "x" * 500,
]


def moodle_import(path: str, participants: set[int]) -> tuple[int, str] | None:
    """(participant id, feedback file name) that Moodle files a zip entry under,
    None when it ignores the entry."""
    name = path.rsplit("/", 1)[-1]
    if not name or name.startswith((".", "~")):
        return None
    parts = f"/import/{path}".split("/")
    while parts:
        info = parts.pop(0).split("_", 4)
        if len(info) < 4 or not PHP_NUMERIC.fullmatch(info[1]):
            continue
        participant = int(float(info[1]))
        if participant not in participants or (info[2], info[3]) not in PLUGINS:
            continue
        parts.insert(0, info[4] if len(info) == 5 else "")
        return participant, "/".join(parts)
    return None


def moodle_class(names: dict[str, str]) -> ClassResults:
    """One student per participant id, each with one graded notebook."""
    return ClassResults(
        [graded(pid, SIGMOID, passed("t", 1)) for pid in names],
        identities={pid: Identity("moodle", pid, name) for pid, name in names.items()},
    )


def write_pages(out: Path, student: str, *names: str) -> None:
    folder = out / "feedback" / student
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text(f"<title>{student} {name}</title>")


def test_a_folder_is_named_as_moodles_download_names_it():
    assert (
        moodle_folder(Identity("moodle", "21", "Alan Turing"))
        == "Alan Turing_21_assignsubmission_file"
    )


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_any_full_name_gives_a_folder_moodle_files_under_its_participant(name):
    """The id Moodle reads is the participant's, whatever their profile's name
    holds (underscores, slashes, dots, control characters, none)."""
    folder = moodle_folder(Identity("moodle", "42", name))
    assert "/" not in folder and "\\" not in folder and "\n" not in folder
    assert len(folder) < 200
    assert moodle_import(f"{folder}/index.html", {42, 99}) == (42, "/index.html")


def test_each_moodle_students_pages_are_in_their_folder(tmp_path):
    results = moodle_class({"21": "Alan Turing", "22": "Grace Hopper"})
    results.identities["alice"] = Identity("canvas", "7", "alice")
    write_pages(tmp_path, "21", "index.html", f"{SIGMOID}.html")
    write_pages(tmp_path, "22", "index.html")
    write_pages(tmp_path, "alice", "index.html")
    assert write_moodle_feedback(results, tmp_path) == 2
    path = tmp_path / "lms" / ZIP_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        entries = {
            moodle_import(name, {21, 22}): archive.read(name).decode()
            for name in archive.namelist()
        }
    assert entries == {
        (21, "/index.html"): "<title>21 index.html</title>",
        (21, f"/{SIGMOID}.html"): f"<title>21 {SIGMOID}.html</title>",
        (22, "/index.html"): "<title>22 index.html</title>",
    }


def test_a_class_with_no_moodle_student_gets_no_zip_and_a_stale_one_goes(tmp_path):
    write_pages(tmp_path, "21", "index.html")
    write_moodle_feedback(moodle_class({"21": "Alan Turing"}), tmp_path)
    assert (tmp_path / "lms" / ZIP_FILE).exists()
    canvas = ClassResults(
        [graded("7", SIGMOID, passed("t", 1))],
        identities={"7": Identity("canvas", "7", "alice")},
    )
    assert write_moodle_feedback(canvas, tmp_path) == 0
    assert not (tmp_path / "lms" / ZIP_FILE).exists()
