"""Find every student's notebooks in a SUBMISSIONS folder, however they were handed in.

Layouts found anywhere in SUBMISSIONS (and inside zip archives, read in memory):

- a folder per student, the notebooks named as released, possibly one folder deeper
  (nbgrader's submitted layout): `alice/02_forward_propagation.ipynb`,
  `alice/backprop/02_forward_propagation.ipynb`; the first folder is the student;
- flat files named by an LMS bulk download (grader.intake.names);
- zip archives holding either of these; a zip's own name is not a folder level, so
  `bulk.zip:alice/02_forward_propagation.ipynb` belongs to alice.

Nothing is extracted, written, moved or modified: files are opened read-only
(grader.intake.walk).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..course import NOTEBOOKS
from ..model import Unmapped
from .errors import InputError
from .names import (
    DEFAULT_PATTERN,
    NOTEBOOK_SUFFIX,
    compiled_pattern,
    released_stem,
    safe_student_id,
    undecorated,
)
from .walk import ZIP_READ_ERRORS, Found, walk

MAX_FOLDER_DEPTH = 2  # STUDENT/NOTEBOOK.ipynb or STUDENT/ASSIGNMENT/NOTEBOOK.ipynb
MAX_NOTEBOOK_BYTES = 100 * 2**20


@dataclass(frozen=True)
class Submission:
    """One student's handed-in file for one released notebook."""

    student: str  # safe as a folder name (see safe_student_id)
    notebook: str  # released stem, e.g. "02_forward_propagation"
    source: str  # relative to SUBMISSIONS: "alice/02_….ipynb" or "bulk.zip:alice_02_…"
    content: bytes  # the file's raw bytes
    modified: float  # POSIX timestamp (file mtime or zip entry time)


@dataclass
class Collection:
    """Every submission found, and every file that is not one."""

    submissions: list[Submission]  # sorted by (student, notebook)
    unmapped: list[Unmapped]  # sorted by source


def collect(
    folder: Path | str,
    notebooks: Sequence[str] = NOTEBOOKS,
    pattern: str | re.Pattern[str] = DEFAULT_PATTERN,
) -> Collection:
    """Every student's notebooks in `folder`, and every other file as Unmapped.

    Everything that is not graded is listed as Unmapped with a reason (non-notebooks,
    hidden files, unknown names, unreadable zips, older duplicates), except the
    contents of `.ipynb_checkpoints` and `__MACOSX` folders, which are skipped
    silently. A hidden folder (e.g. `.git`) is listed once, not searched.
    Of two files for the same student and notebook the newer one is kept (ties: the
    lexicographically last source); the other is listed as a duplicate.
    Raises InputError if `folder` is missing, a file, or holds no files at all.
    """
    root = _checked_folder(Path(folder))
    regexp = compiled_pattern(pattern)
    candidates: list[Submission] = []
    unmapped: list[Unmapped] = []
    anything = False
    for found in walk(root):
        anything = True
        if isinstance(found, Unmapped):
            unmapped.append(found)
            continue
        placed = _place(found, notebooks, regexp)
        if isinstance(placed, Unmapped):
            unmapped.append(placed)
        else:
            candidates.append(placed)
    if not anything:
        raise InputError(
            f"{root} holds no files (not counting .ipynb_checkpoints and __MACOSX): "
            "copy the students' notebooks into it (a folder per student, or the "
            "LMS download and its zips)"
        )
    kept, duplicates = _newest_per_student_notebook(candidates)
    return Collection(
        submissions=sorted(kept, key=lambda s: (s.student, s.notebook)),
        unmapped=sorted(unmapped + duplicates, key=lambda u: (u.source, u.reason)),
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


def _place(
    found: Found, notebooks: Sequence[str], pattern: re.Pattern[str]
) -> Submission | Unmapped:
    """The file as a Submission, or Unmapped with the reason it is not one."""
    name = found.parts[-1]
    if name.startswith("."):
        return Unmapped(found.source, "hidden file, not a notebook")
    if not name.lower().endswith(NOTEBOOK_SUFFIX):
        return Unmapped(found.source, "not a notebook: only .ipynb files are graded")
    folders = found.parts[:-1]
    if len(folders) > MAX_FOLDER_DEPTH:
        return Unmapped(
            found.source,
            "too deep in folders: expected STUDENT/NOTEBOOK.ipynb or "
            "STUDENT/ASSIGNMENT/NOTEBOOK.ipynb",
        )
    placed = (
        _place_in_folder(folders[0], name, notebooks, pattern)
        if folders
        else _place_flat(name, notebooks, pattern)
    )
    if isinstance(placed, str):
        return Unmapped(found.source, placed)
    student, notebook = placed
    if found.size > MAX_NOTEBOOK_BYTES:
        return Unmapped(found.source, f"too large to grade ({found.size >> 20} MB)")
    try:
        content = found.read()
    except ZIP_READ_ERRORS as error:
        return Unmapped(found.source, f"cannot be read ({error})")
    return Submission(student, notebook, found.source, content, found.modified)


def _place_in_folder(
    folder: str, name: str, notebooks: Sequence[str], pattern: re.Pattern[str]
) -> tuple[str, str] | str:
    """(student, notebook) for a notebook in a student's folder, or why not.

    The student is the folder's name, unless folder and file name together match
    the pattern (Moodle's per-submission folders, "Full Name_12345_assignsubmission_
    file_/02_….ipynb"), so that the id is the same as for Moodle's flat files.
    """
    notebook = released_stem(name, notebooks) or _stem_from_pattern(
        name, notebooks, pattern
    )
    if notebook is None:
        return _unknown_notebook(undecorated(name), notebooks)
    joined = pattern.match(folder + name)
    if (
        joined
        and joined.group("student_id")
        and joined.end("student_id") <= len(folder)
        and _stem_from_pattern(folder + name, notebooks, pattern) == notebook
    ):
        student = safe_student_id(joined.group("student_id"))
        if student:
            return student, notebook
    student = safe_student_id(folder)
    if not student:
        return f"the folder name {folder!r} leaves no usable student id"
    return student, notebook


def _stem_from_pattern(
    name: str, notebooks: Sequence[str], pattern: re.Pattern[str]
) -> str | None:
    """The released notebook named by the pattern's file_id in `name`, if any."""
    match = pattern.match(name)
    if not match or not match.group("file_id"):
        return None
    return released_stem(match.group("file_id"), notebooks)


def _place_flat(
    name: str, notebooks: Sequence[str], pattern: re.Pattern[str]
) -> tuple[str, str] | str:
    """(student, notebook) for a file outside any folder, from its name, or why not."""
    notebook = released_stem(name, notebooks)
    if notebook is not None:
        return (
            f"no student: put it in a folder named after the student "
            f"(STUDENT/{notebook}.ipynb) or name it STUDENT_{notebook}.ipynb"
        )
    match = pattern.match(name)
    if not match or not match.group("student_id") or not match.group("file_id"):
        return (
            "the name does not say whose notebook it is: expected the student id "
            f"and the notebook name, e.g. alice_{notebooks[0]}.ipynb (or a folder "
            "per student)"
        )
    student = safe_student_id(match.group("student_id"))
    if not student:
        return f"the name gives no usable student id ({match.group('student_id')!r})"
    notebook = released_stem(match.group("file_id"), notebooks)
    if notebook is None:
        return _unknown_notebook(undecorated(match.group("file_id")), notebooks)
    return student, notebook


def _unknown_notebook(name: str, notebooks: Sequence[str]) -> str:
    """The reason for a notebook name that is none of the released ones."""
    return f"{name!r} is not a notebook of this assignment ({', '.join(notebooks)})"


def _newest_per_student_notebook(
    candidates: list[Submission],
) -> tuple[list[Submission], list[Unmapped]]:
    """The newest file per (student, notebook); the others as duplicates."""
    newest: dict[tuple[str, str], Submission] = {}
    for candidate in sorted(candidates, key=lambda s: (s.modified, s.source)):
        newest[(candidate.student, candidate.notebook)] = candidate
    duplicates = []
    for candidate in candidates:
        kept = newest[(candidate.student, candidate.notebook)]
        if candidate is not kept:
            when = "older" if candidate.modified < kept.modified else "same time"
            duplicates.append(
                Unmapped(candidate.source, f"duplicate of {kept.source}, {when}")
            )
    return list(newest.values()), duplicates
