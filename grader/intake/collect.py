"""Find every student's notebooks in a SUBMISSIONS folder, however they were handed in.

Layouts found anywhere in SUBMISSIONS (and inside zip archives, read where they are):

- a folder per student, the notebooks named as released, possibly one folder deeper
  (nbgrader's submitted layout): `alice/02_forward_propagation.ipynb`,
  `alice/backprop/02_forward_propagation.ipynb`; the first folder is the student,
  unless Moodle named it ("Full Name_12345_assignsubmission_file/"): then the
  student is Moodle's participant 12345;
- flat files named by an LMS bulk download (grader.intake.names), at the top or
  in a folder whose files an LMS named for two or more students (the download,
  unpacked there): such a folder is no student's, wherever it lies;
- zip archives holding either of these; a zip's own name is not a folder level, so
  `bulk.zip:alice/02_forward_propagation.ipynb` belongs to alice, unless an LMS
  named the zip as a student's upload ("Full Name_12345_assignsubmission_file_
  work.zip"): everything in it is then that student's, as if in their folder.

An LMS's id is an id within that LMS: an id two LMSs (or an LMS and a folder) both
write is two students, each LMS's "<id>~<lms>". Blackboard's receipts are read
(grader.intake.blackboard), never listed. A merge of two ids into one student, or a
dropped copy that is not plainly an older one by the same id, is listed as a
conflict the instructor sees.

The student id always comes from what the instructor or the LMS named (a folder, the
LMS's prefix of a name), never from a name the student chose; a name that cannot
say whose it is is listed as unmapped with the reason. Nothing is extracted,
written, moved or modified: files are opened read-only, within limits, links never
followed (grader.intake.walk).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from ..course import NOTEBOOKS
from ..model import InputError, Unmapped
from .blackboard import (
    Receipt,
    attempt_of,
    attempt_time,
    read_receipt,
    receipt_key,
    unresolved,
    user_name,
)
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
CANVAS_LATE = "LATE_"


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
    # the student's name as the LMS wrote it (Moodle's full name, Canvas's
    # sortable name, a Blackboard receipt's name; "" when it wrote none)
    name: str = ""


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
    name: str = ""  # the name the LMS wrote for the student ("" if none)
    submitted_at: datetime | None = None
    late: bool = False
    # the folder whose files an LMS named (a bulk download) it was read from, or
    # None (a student's own folder)
    download: tuple[str, ...] | None = None


@dataclass(frozen=True)
class _Candidate:
    """A notebook file found, read (content) or refused (why)."""

    parts: tuple[str, ...]
    source: str
    modified: float
    content: bytes | None
    refused: str = ""


@dataclass(frozen=True)
class _Context:
    """What placing a file needs beyond its own name."""

    notebooks: Sequence[str]
    pattern: re.Pattern[str]
    receipts: dict[tuple[str, str], Receipt]
    assignments: tuple[str, ...]


def collect(
    folder: Path | str,
    notebooks: Sequence[str] = NOTEBOOKS,
    pattern: str | re.Pattern[str] = DEFAULT_PATTERN,
    *,
    limits: ReadLimits = DEFAULT_LIMITS,
    assignments: Sequence[str] = (),
) -> Collection:
    """Every student's notebooks in `folder`, and every other file as Unmapped.

    Everything that is not graded is listed as Unmapped with a reason (non-notebooks,
    hidden files, unknown or ambiguous names, links, FIFOs and devices, unreadable
    zips, files over a limit, older duplicates), except the contents of
    `.ipynb_checkpoints` and `__MACOSX` folders, which are skipped silently, and
    Blackboard's receipts, which are read (grader.intake.blackboard). A hidden
    folder (e.g. `.git`) is listed once, not searched.
    A folder whose files an LMS named for two or more students is a bulk download
    wherever it lies: its files are placed as if at the top.
    Of two files for the same student and notebook the newer one is kept (ties: the
    lexicographically last source); the other is listed as a duplicate. A file that
    may be a student's work and was not graded for a reason the instructor must
    check (two ids that would share a student, a dropped copy that differs from
    the kept one but is no older, or comes from another download) is listed as a
    conflict (Unmapped.conflict).
    assignments: the LMS's names of the assignment (course.toml's [lms]), which
    tell where a Blackboard user name begins.
    Raises InputError if `folder` is missing, a file, or holds no files at all.
    """
    root = _checked_folder(Path(folder))
    regexp = compiled_pattern(pattern)
    candidates: list[_Candidate] = []
    receipts: dict[tuple[str, str], Receipt] = {}
    receipt_folders: list[tuple[str, ...]] = []
    unmapped: list[Unmapped] = []
    anything = False
    for found in walk(root, limits, lambda name: _zip_is_folder(name, regexp)):
        anything = True
        if isinstance(found, Unmapped):
            unmapped.append(found)
            continue
        name = found.parts[-1]
        if not name.startswith(".") and receipt_key(name):
            receipt = _read_receipt(found)
            if isinstance(receipt, str):
                unmapped.append(Unmapped(found.source, receipt))
            else:
                receipts[(receipt.head, receipt.attempt)] = receipt
                receipt_folders.append(found.parts[:-1])
            continue
        problem = _not_a_notebook(name)
        if problem:
            unmapped.append(Unmapped(found.source, problem))
            continue
        candidates.append(_read(found))
    if not anything:
        raise InputError(
            f"{root} holds no files (not counting .ipynb_checkpoints and __MACOSX): "
            "copy the students' notebooks into it (a folder per student, or the "
            "LMS download and its zips)"
        )
    context = _Context(notebooks, regexp, receipts, tuple(assignments))
    downloads = _downloads(candidates, receipts, receipt_folders, regexp)
    placed: list[tuple[_Candidate, _Place]] = []
    for candidate in candidates:
        place = _place(candidate.parts, downloads, context)
        if isinstance(place, str):
            unmapped.append(Unmapped(candidate.source, place))
        else:
            placed.append((candidate, place))
    kept, more = _kept(_within_their_lms(placed))
    return Collection(
        submissions=sorted(kept.values(), key=lambda s: (s.student, s.notebook)),
        unmapped=sorted(unmapped + more, key=lambda u: (u.source, u.reason)),
    )


def _read(found: Found) -> _Candidate:
    """A notebook file found, read now (a walk's files are readable only while it
    is at them), or refused and why."""
    try:
        content, refused = found.read(), ""
    except Refused as error:
        content, refused = None, str(error)
    except ZIP_READ_ERRORS as error:
        content, refused = None, f"cannot be read ({error})"
    return _Candidate(found.parts, found.source, found.modified, content, refused)


def _read_receipt(found: Found) -> Receipt | str:
    """A Blackboard receipt, read, or why it cannot be (grader.intake.blackboard)."""
    try:
        content = found.read()
    except Refused as error:
        return str(error)
    except ZIP_READ_ERRORS as error:
        return f"cannot be read ({error})"
    return read_receipt(found.parts[-1], content)


def _not_a_notebook(name: str) -> str:
    """Why a file is no notebook to grade ("" when it may be one)."""
    if name.startswith("."):
        return "hidden file, not a notebook"
    if not name.lower().endswith(NOTEBOOK_SUFFIX):
        return "not a notebook: only .ipynb files are graded"
    return ""


def _downloads(
    candidates: list[_Candidate],
    receipts: dict[tuple[str, str], Receipt],
    receipt_folders: list[tuple[str, ...]],
    pattern: re.Pattern[str],
) -> set[tuple[str, ...]]:
    """The folders whose files an LMS named for two or more students (bulk
    downloads unpacked there), outside any folder an LMS named for one student."""
    named: dict[tuple[str, ...], set[tuple[str, str]]] = defaultdict(set)
    for candidate in candidates:
        parts = candidate.parts
        for depth in range(len(parts)):
            entry, last = parts[depth], depth == len(parts) - 1
            reading = read_name(entry, pattern) if last else read_owner(entry, pattern)
            if isinstance(reading, NameReading) and reading.lms:
                named[parts[:depth]].add(
                    (reading.lms, reading.prefix + reading.student_id)
                )
            if not last and reading is not None:
                break  # inside one student's folder or zip: theirs, whatever it holds
    for (head, _), folder in zip(receipts, receipt_folders, strict=True):
        if folder:
            named[folder].add(("blackboard", head))
    return {folder for folder, owners in named.items() if len(owners) > 1 and folder}


def _place(
    parts: tuple[str, ...], downloads: set[tuple[str, ...]], context: _Context
) -> _Place | str:
    """Whose notebook the file is and which, or the reason it is not one."""
    start = max((len(f) for f in downloads if parts[: len(f)] == f), default=0)
    download = parts[:start] if start else None
    parts = parts[start:]
    name, folders = parts[-1], parts[:-1]
    if len(folders) > MAX_FOLDER_DEPTH:
        return (
            "too deep in folders: expected STUDENT/NOTEBOOK.ipynb or "
            "STUDENT/ASSIGNMENT/NOTEBOOK.ipynb"
        )
    if folders:
        place = _place_in_folder(folders[0], name, context)
    else:
        place = _place_flat(name, context)
    if isinstance(place, _Place) and place.lms:
        place = replace(place, download=download or ())
    return place


def _within_their_lms(
    placed: list[tuple[_Candidate, _Place]],
) -> list[tuple[_Candidate, _Place]]:
    """The places with each LMS's ids in a namespace of their own: an id that two
    LMSs (or an LMS and a folder) both write stays apart in each, as
    "<id>~<lms>" ("12345~moodle", "12345~canvas"; "~" is in no kept id, and no
    LMS's name is 8 hex digits, the hashed ids' tail)."""
    identities: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for _, place in placed:
        identities[place.student].add((place.lms, place.raw_id))
    shared = {student for student, ids in identities.items() if len(ids) > 1}
    return [
        (candidate, replace(place, student=f"{place.student}~{place.lms}"))
        if place.student in shared and place.lms
        else (candidate, place)
        for candidate, place in placed
    ]


def _kept(
    placed: list[tuple[_Candidate, _Place]],
) -> tuple[dict[tuple[str, str], Submission], list[Unmapped]]:
    """The newest file of each student's notebook, and the rest listed with why."""
    kept: dict[tuple[str, str], tuple[Submission, _Place]] = {}
    unmapped: list[Unmapped] = []
    folders_of: dict[str, tuple[str, str]] = {}  # student -> (lms, id) it is for
    dropped: list[tuple[_Candidate, _Place]] = []
    for candidate, place in placed:
        clash = folders_of.setdefault(place.student, (place.lms, place.raw_id))
        if clash != (place.lms, place.raw_id):
            unmapped.append(
                Unmapped(candidate.source, _same_folder(place, clash), conflict=True)
            )
            continue
        key = (place.student, place.notebook)
        newest = kept.get(key)
        if newest and _age(newest[0]) > (candidate.modified, candidate.source):
            dropped.append((candidate, place))
            continue
        if candidate.content is None:
            unmapped.append(Unmapped(candidate.source, candidate.refused))
            continue
        if newest:
            older = newest[0]
            dropped.append(
                (
                    _Candidate((), older.source, older.modified, older.content),
                    newest[1],
                )
            )
        kept[key] = (_submission(candidate, place), place)
    for candidate, place in dropped:
        winner, winner_place = kept[(place.student, place.notebook)]
        unmapped.append(_duplicate(candidate, place, winner, winner_place))
    return {key: submission for key, (submission, _) in kept.items()}, unmapped


def _submission(candidate: _Candidate, place: _Place) -> Submission:
    """The submission a placed file makes (Moodle's time: the file's own)."""
    submitted_at = place.submitted_at
    if place.lms == "moodle":
        submitted_at = datetime.fromtimestamp(candidate.modified).astimezone()
    return Submission(
        place.student, place.notebook, candidate.source, candidate.content or b"",
        candidate.modified, place.lms, place.lms_id, submitted_at, place.late,
        place.name,
    )  # fmt: skip


def _duplicate(
    item: _Candidate, place: _Place, winner: Submission, winner_place: _Place
) -> Unmapped:
    """A file not kept for a newer one of the same student's notebook; for files
    an LMS named, a conflict when they differ and it is not plainly older, or came
    from another download (a student's own folder holds only their files)."""
    older = item.modified < winner.modified
    when = "older" if older else "same time"
    reason = f"duplicate of {winner.source}, {when}"
    differs = item.content is None or item.content != winner.content
    elsewhere = place.download != winner_place.download
    if place.lms and differs and (not older or elsewhere):
        why = "not older" if not older else "from another download"
        reason += (
            f" ({why}, and the files differ: the one it duplicates was graded; "
            "check that it is the student's last)"
        )
        return Unmapped(item.source, reason, conflict=True)
    return Unmapped(item.source, reason)


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


def _place_in_folder(folder: str, name: str, context: _Context) -> _Place | str:
    """A notebook in a student's folder (or an LMS-named zip): the student is the
    folder's, the notebook the file's name, whoever it names."""
    notebooks, pattern = context.notebooks, context.pattern
    notebook = released_stem(name, notebooks) or _stem_from_pattern(
        name, notebooks, pattern
    )
    if notebook is None:
        return _unknown_notebook(undecorated(name), notebooks)
    owner = read_owner(folder, pattern)
    if isinstance(owner, str):
        return owner
    if owner is not None:
        return _lms_place(owner, notebook, folder, context)
    student = safe_student_id(folder)
    if not student:
        return f"the folder name {folder!r} leaves no usable student id"
    return _Place(student, notebook, unicodedata.normalize("NFC", folder))


def _place_flat(name: str, context: _Context) -> _Place | str:
    """A file outside any folder: whose and which notebook from its name, or why not."""
    notebooks = context.notebooks
    notebook = released_stem(name, notebooks)
    if notebook is not None:
        return (
            f"no student: put it in a folder named after the student "
            f"(STUDENT/{notebook}.ipynb) or name it STUDENT_{notebook}.ipynb"
        )
    reading = read_name(name, context.pattern, notebooks)
    if isinstance(reading, str):
        return reading
    notebook = released_stem(reading.file_id, notebooks)
    if notebook is None:
        return _unknown_notebook(undecorated(reading.file_id), notebooks)
    if reading.lms:
        return _lms_place(reading, notebook, name, context)
    student = safe_student_id(reading.student_id)
    if not student:
        return f"the name gives no usable student id ({reading.student_id!r})"
    return _Place(student, notebook, unicodedata.normalize("NFC", reading.student_id))


def _lms_place(
    reading: NameReading, notebook: str, written: str, context: _Context
) -> _Place | str:
    """The place of a file an LMS named (`written`: the name it wrote, a file's,
    a folder's or a zip's): the id it wrote, and which LMS, the name and time it
    gives. A Blackboard user name is told by grader.intake.blackboard."""
    lms_id, name, submitted_at = reading.student_id, "", None
    if reading.lms == "blackboard":
        head = reading.prefix + reading.student_id
        attempt = attempt_of(written)
        user = user_name(head, attempt, context.receipts, context.assignments)
        if user is None:
            return unresolved(head)
        receipt = context.receipts.get((head, attempt))
        lms_id, name = user, receipt.name if receipt else ""
        submitted_at = attempt_time(attempt)
    else:
        name = reading.prefix.removesuffix(CANVAS_LATE).removesuffix("_")
    student = safe_student_id(lms_id)
    if not student:
        return f"the name gives no usable student id ({lms_id!r})"
    raw = unicodedata.normalize("NFC", lms_id)
    name = unicodedata.normalize("NFC", name).strip()
    late = reading.lms == "canvas" and CANVAS_LATE in reading.prefix
    return _Place(student, notebook, raw, reading.lms, lms_id, name, submitted_at, late)


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


def _same_folder(place: _Place, other: tuple[str, str]) -> str:
    """The reason two different ids cannot both have the folder `place.student`."""
    lms, raw = other
    return (
        f"the student id {_id_text(place.lms, place.raw_id)} gives the same folder "
        f"name as {_id_text(lms, raw)} ({place.student}), so they would be "
        "merged into one student: rename one of them"
    )


def _id_text(lms: str, raw: str) -> str:
    """An id as the messages name it: "'12345' (Moodle)", "'alice'"."""
    return f"{raw!r} ({lms.capitalize()})" if lms else repr(raw)


def _age(submission: Submission) -> tuple[float, str]:
    """Which of two files for one notebook is kept: the newer, then the last source."""
    return submission.modified, submission.source
