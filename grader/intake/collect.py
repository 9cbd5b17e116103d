"""Find every student's notebooks in a SUBMISSIONS folder, however they were handed in.

Layouts found anywhere in SUBMISSIONS (and inside zip archives, read where they are):

- a folder per student, the notebooks named as released, possibly one folder deeper
  (nbgrader's submitted layout): `alice/02_forward_propagation.ipynb`,
  `alice/backprop/02_forward_propagation.ipynb`; the first folder is the student,
  unless Moodle named it ("Full Name_12345_assignsubmission_file/"): then the
  student is Moodle's participant 12345;
- flat files named by an LMS bulk download (grader.intake.names);
- zip archives holding either of these; a zip's own name is not a folder level, so
  `bulk.zip:alice/02_forward_propagation.ipynb` belongs to alice, unless an LMS
  named the zip as a student's upload ("Full Name_12345_assignsubmission_file_
  work.zip"): everything in it is then that student's, as if in their folder.

The student id always comes from what the instructor or the LMS named (a folder, the
LMS's prefix of a name), never from a name the student chose; a name that cannot
say whose it is is listed as unmapped with the reason. Nothing is extracted,
written, moved or modified: files are opened read-only, within limits, links never
followed (grader.intake.walk).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from ..course import NOTEBOOKS
from ..model import InputError, Unmapped
from .names import (
    DEFAULT_PATTERN,
    NOTEBOOK_SUFFIX,
    NameReading,
    compiled_pattern,
    read_name,
    read_owner,
    released_stem,
    safe_student_id,
    undecorated,
)
from .reading import DEFAULT_LIMITS, Found, ReadLimits, Refused
from .walk import walk
from .zips import ZIP_READ_ERRORS

MAX_FOLDER_DEPTH = 2  # STUDENT/NOTEBOOK.ipynb or STUDENT/ASSIGNMENT/NOTEBOOK.ipynb


@dataclass(frozen=True)
class Submission:
    """One student's handed-in file for one released notebook."""

    student: str  # safe as a folder name (see safe_student_id)
    notebook: str  # released stem, e.g. "02_forward_propagation"
    source: str  # relative to SUBMISSIONS: "alice/02_….ipynb" or "bulk.zip:alice_02_…"
    content: bytes  # the file's raw bytes
    modified: float  # POSIX timestamp (file mtime or zip entry time)
    # Which LMS named the file (or its folder or zip), and the id it wrote there:
    # what that LMS's grade import matches on (Moodle's participant id, Canvas's
    # user id, Blackboard's user name). "" and "" for a folder per student or a
    # name no LMS wrote. `student` is safe_student_id(lms_id) when lms is set.
    lms: str = ""  # "moodle", "canvas", "blackboard" or ""
    lms_id: str = ""
    # When the LMS recorded the file as handed in (timezone-aware), None when no
    # LMS said (a folder per student); late: the LMS marked it late itself.
    submitted_at: datetime | None = None
    late: bool = False


@dataclass
class Collection:
    """Every submission found, and every file that is not one."""

    submissions: list[Submission]  # sorted by (student, notebook)
    unmapped: list[Unmapped]  # sorted by source


@dataclass(frozen=True)
class _Place:
    """Whose file it is and which notebook, before it is read."""

    student: str
    notebook: str
    raw_id: str  # the id as written (a folder's name, an LMS's id), NFC
    lms: str = ""
    lms_id: str = ""


def collect(
    folder: Path | str,
    notebooks: Sequence[str] = NOTEBOOKS,
    pattern: str | re.Pattern[str] = DEFAULT_PATTERN,
    *,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> Collection:
    """Every student's notebooks in `folder`, and every other file as Unmapped.

    Everything that is not graded is listed as Unmapped with a reason (non-notebooks,
    hidden files, unknown or ambiguous names, links, FIFOs and devices, unreadable
    zips, files over a limit, older duplicates), except the contents of
    `.ipynb_checkpoints` and `__MACOSX` folders, which are skipped silently. A hidden
    folder (e.g. `.git`) is listed once, not searched.
    Of two files for the same student and notebook the newer one is kept (ties: the
    lexicographically last source); the other is listed as a duplicate and not read.
    Raises InputError if `folder` is missing, a file, or holds no files at all.
    """
    root = _checked_folder(Path(folder))
    regexp = compiled_pattern(pattern)
    kept: dict[tuple[str, str], Submission] = {}
    dropped: list[Submission] = []  # older duplicates, their bytes not kept
    unmapped: list[Unmapped] = []
    folders_of: dict[str, str] = {}  # student folder -> the id it was made from
    anything = False
    for found in walk(root, limits, lambda name: _zip_is_folder(name, regexp)):
        anything = True
        if isinstance(found, Unmapped):
            unmapped.append(found)
            continue
        place = _place(found, notebooks, regexp)
        if isinstance(place, str):
            unmapped.append(Unmapped(found.source, place))
            continue
        clash = folders_of.setdefault(place.student, place.raw_id)
        if clash != place.raw_id:
            unmapped.append(Unmapped(found.source, _same_folder(place, clash)))
            continue
        key = (place.student, place.notebook)
        newest = kept.get(key)
        candidate = Submission(
            place.student, place.notebook, found.source, b"", found.modified,
            place.lms, place.lms_id,
        )  # fmt: skip
        if newest and _age(newest) > _age(candidate):
            dropped.append(candidate)
            continue
        try:
            content = found.read()
        except Refused as refused:
            unmapped.append(Unmapped(found.source, str(refused)))
            continue
        except ZIP_READ_ERRORS as error:
            unmapped.append(Unmapped(found.source, f"cannot be read ({error})"))
            continue
        if newest:
            dropped.append(newest)
        kept[key] = replace(candidate, content=content)
    if not anything:
        raise InputError(
            f"{root} holds no files (not counting .ipynb_checkpoints and __MACOSX): "
            "copy the students' notebooks into it (a folder per student, or the "
            "LMS download and its zips)"
        )
    return Collection(
        submissions=sorted(kept.values(), key=lambda s: (s.student, s.notebook)),
        unmapped=sorted(
            unmapped + _duplicates(dropped, kept), key=lambda u: (u.source, u.reason)
        ),
    )


def _checked_folder(folder: Path) -> Path:
    """The folder, or InputError saying why it cannot hold submissions."""
    if not folder.exists():
        raise InputError(f"{folder} does not exist: give the folder of submissions")
    if not folder.is_dir():
        raise InputError(
            f"{folder} is a file, not a folder: put it (a zip too) in a folder "
            "and give that folder"
        )
    return folder


def _zip_is_folder(name: str, pattern: re.Pattern[str]) -> bool | str:
    """A zip an LMS named as a student's upload is that student's folder (True);
    any other zip's entries lie where it lies (False); a str: ambiguous, not read."""
    owner = read_owner(name, pattern)
    return owner if isinstance(owner, str) else owner is not None


def _place(
    found: Found, notebooks: Sequence[str], pattern: re.Pattern[str]
) -> _Place | str:
    """Whose notebook the file is and which, or the reason it is not one."""
    name = found.parts[-1]
    if name.startswith("."):
        return "hidden file, not a notebook"
    if not name.lower().endswith(NOTEBOOK_SUFFIX):
        return "not a notebook: only .ipynb files are graded"
    folders = found.parts[:-1]
    if len(folders) > MAX_FOLDER_DEPTH:
        return (
            "too deep in folders: expected STUDENT/NOTEBOOK.ipynb or "
            "STUDENT/ASSIGNMENT/NOTEBOOK.ipynb"
        )
    if folders:
        return _place_in_folder(folders[0], name, notebooks, pattern)
    return _place_flat(name, notebooks, pattern)


def _place_in_folder(
    folder: str, name: str, notebooks: Sequence[str], pattern: re.Pattern[str]
) -> _Place | str:
    """A notebook in a student's folder (or an LMS-named zip): the student is the
    folder's, the notebook the file's name, whoever it names."""
    notebook = released_stem(name, notebooks) or _stem_from_pattern(
        name, notebooks, pattern
    )
    if notebook is None:
        return _unknown_notebook(undecorated(name), notebooks)
    owner = read_owner(folder, pattern)
    if isinstance(owner, str):
        return owner
    if owner is not None:
        return _lms_place(owner, notebook)
    student = safe_student_id(folder)
    if not student:
        return f"the folder name {folder!r} leaves no usable student id"
    return _Place(student, notebook, unicodedata.normalize("NFC", folder))


def _place_flat(
    name: str, notebooks: Sequence[str], pattern: re.Pattern[str]
) -> _Place | str:
    """A file outside any folder: whose and which notebook from its name, or why not."""
    notebook = released_stem(name, notebooks)
    if notebook is not None:
        return (
            f"no student: put it in a folder named after the student "
            f"(STUDENT/{notebook}.ipynb) or name it STUDENT_{notebook}.ipynb"
        )
    reading = read_name(name, pattern, notebooks)
    if isinstance(reading, str):
        return reading
    notebook = released_stem(reading.file_id, notebooks)
    if notebook is None:
        return _unknown_notebook(undecorated(reading.file_id), notebooks)
    if reading.lms:
        return _lms_place(reading, notebook)
    student = safe_student_id(reading.student_id)
    if not student:
        return f"the name gives no usable student id ({reading.student_id!r})"
    return _Place(student, notebook, unicodedata.normalize("NFC", reading.student_id))


def _lms_place(reading: NameReading, notebook: str) -> _Place | str:
    """The place of a file an LMS named: the id it wrote, and which LMS."""
    student = safe_student_id(reading.student_id)
    if not student:
        return f"the name gives no usable student id ({reading.student_id!r})"
    raw = unicodedata.normalize("NFC", reading.student_id)
    return _Place(student, notebook, raw, reading.lms, reading.student_id)


def _stem_from_pattern(
    name: str, notebooks: Sequence[str], pattern: re.Pattern[str]
) -> str | None:
    """The released notebook named by the pattern's file_id in `name`, if any."""
    reading = read_name(name, pattern, notebooks)
    return (
        None if isinstance(reading, str) else released_stem(reading.file_id, notebooks)
    )


def _unknown_notebook(name: str, notebooks: Sequence[str]) -> str:
    """The reason for a notebook name that is none of the released ones."""
    return f"{name!r} is not a notebook of this assignment ({', '.join(notebooks)})"


def _same_folder(place: _Place, other: str) -> str:
    """The reason two different ids cannot both have the folder `place.student`."""
    return (
        f"the student id {place.raw_id!r} gives the same folder name as "
        f"{other!r} ({place.student}): rename one of them"
    )


def _age(submission: Submission) -> tuple[float, str]:
    """Which of two files for one notebook is kept: the newer, then the last source."""
    return submission.modified, submission.source


def _duplicates(
    dropped: list[Submission], kept: dict[tuple[str, str], Submission]
) -> list[Unmapped]:
    """The files not kept, each listed as a duplicate of the one that was."""
    listed = []
    for item in dropped:
        winner = kept[(item.student, item.notebook)]  # dropped only for a kept one
        when = "older" if item.modified < winner.modified else "same time"
        listed.append(Unmapped(item.source, f"duplicate of {winner.source}, {when}"))
    return listed
