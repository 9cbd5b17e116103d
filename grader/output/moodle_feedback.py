"""OUT/lms/moodle-feedback.zip: the feedback pages, back to students through Moodle.

Moodle's assignment takes a whole class's feedback files in one zip (View all
submissions > Grading action > "Upload multiple feedback files in a zip"): one
folder per participant, named as its "download submissions in folders" names them,
"Full Name_<participant id>_assignsubmission_file". Moodle's importer
(mod/assign/feedback/file/importziplib.php, is_valid_filename_for_import) splits
each part of a path at "_" into at most five pieces, takes the second as the
participant id and the third and fourth as the plugin; what follows the folder is
the feedback file's name. Each Moodle student's folder holds their index.html and
their notebooks' pages, as in OUT/feedback/<student>/.

The full name is the student's own (their Moodle profile's), so it is written as
Moodle writes it: "_" as spaces, without the characters Moodle's clean_filename
drops (control characters, & < > " ` | ' : \\ /); the id is the participant id
intake read, digits only. Deflate's fastest level halves the zip (the pages' text
shrinks, their PNGs hardly) for about 4 ms of CPU per student.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from ..files import atomic_file
from ..model import ClassResults, Identity, Status
from .lms import LMS_FOLDER, LmsSettings, zip_name

FEEDBACK_FOLDER = "feedback"
PLUGIN = "assignsubmission_file"  # the plugin whose download names the folders
NOT_IN_A_NAME = re.compile(r"[\x00-\x1f\x7f&<>\"`|':\\/]")
MAX_NAME_CHARS = 100
PARTICIPANT = "Participant"  # Moodle's name for a participant it does not show


def moodle_folder(identity: Identity) -> str:
    """A participant's folder in the zip: "Full Name_<id>_assignsubmission_file"."""
    name = NOT_IN_A_NAME.sub("", identity.name.replace("_", " ")).strip()
    name = name[:MAX_NAME_CHARS].strip(" .") or PARTICIPANT
    return f"{name}_{identity.lms_id}_{PLUGIN}"


def moodle_students(
    results: ClassResults, notebooks: tuple[str, ...] | None = None
) -> dict[str, Identity]:
    """student -> identity, for the students Moodle named, by student id; with
    `notebooks`, only those who handed in one of them."""
    handed_in = {
        grade.student
        for grade in results.grades
        if notebooks is None
        or (grade.notebook in notebooks and grade.status != Status.MISSING)
    }
    return {
        student: identity
        for student, identity in sorted(results.identities.items())
        if identity.lms == "moodle"
        and identity.lms_id.isdigit()
        and student in handed_in
    }


def write_moodle_feedback(
    results: ClassResults, out: Path, settings: LmsSettings | None = None
) -> int:
    """Write OUT/lms/'s feedback zips for a class Moodle named: one per LMS
    assignment (`settings`' columns; default: one of every notebook), each
    Moodle student who handed in one of its notebooks with their
    OUT/feedback/<student>/*.html in their folder; remove the zips an earlier run
    left that this class no longer has. Returns the students whose pages are in
    any of them."""
    settings = settings or LmsSettings()
    folder = Path(out) / LMS_FOLDER
    written: set[str] = set()
    names = set()
    for assignment in settings.columns:
        students = moodle_students(results, assignment.notebooks)
        if not students:
            continue
        name = zip_name(assignment, settings)
        names.add(name)
        written |= _write_zip(folder / name, students, Path(out))
    stale = set(folder.glob("moodle-feedback*.zip")) if folder.is_dir() else set()
    for path in stale:
        if path.name not in names:
            path.unlink(missing_ok=True)
    return len(written)


def _write_zip(path: Path, students: dict[str, Identity], out: Path) -> set[str]:
    """One zip of these students' pages; the students who have any."""
    written = set()
    with (
        atomic_file(path) as file,
        zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zip_,
    ):
        for student, identity in students.items():
            pages = sorted((out / FEEDBACK_FOLDER / student).glob("*.html"))
            folder = moodle_folder(identity)
            for page in pages:
                zip_.write(page, f"{folder}/{page.name}")
            if pages:
                written.add(student)
    return written
