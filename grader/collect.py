"""Find every student's notebooks in a SUBMISSIONS folder, however they were handed in.

Layouts found anywhere in SUBMISSIONS (and inside zip archives, read in memory):

- a folder per student, the notebooks named as released, possibly one folder deeper
  (nbgrader's submitted layout): `alice/02_forward_propagation.ipynb`,
  `alice/backprop/02_forward_propagation.ipynb`; the first folder is the student;
- flat files named by an LMS bulk download, mapped to (student, notebook) by a regular
  expression with named groups `student_id` and `file_id`, nbgrader's ZipCollect
  convention (`FileNameCollectorPlugin.named_regexp`, matched with `re.match` at the
  start of the file's name; DEFAULT_PATTERN describes the shapes it knows);
- zip archives holding either of these; a zip's own name is not a folder level, so
  `bulk.zip:alice/02_forward_propagation.ipynb` belongs to alice.

Colab's download decorations ("Copy of …", " (1)") and Canvas's resubmission suffix
("-1") are stripped from a notebook's name; names match the released stems
case-insensitively, with spaces and underscores interchangeable.

Nothing is extracted, written, moved or modified: files are opened read-only.
"""

from __future__ import annotations

import io
import os
import re
import time
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .course import NOTEBOOKS
from .results import Unmapped

# How a flat file name says whose notebook it is. Shapes it maps (student id chosen):
#   alice_02_forward_propagation.ipynb                         -> alice
#   Ada Lovelace - Copy of 02_forward_propagation (1).ipynb    -> Ada_Lovelace
#   Alice Smith_12345_assignsubmission_file_02_….ipynb         -> 12345 (Moodle)
#   smithalice_12345_67890_02_….ipynb, smithalice_LATE_12345_67890_02_…-1.ipynb
#                                                              -> 12345 (Canvas)
#   backprop_bitdiddle_attempt_2024-01-30-15-00-00_02_….ipynb  -> bitdiddle (Blackboard)
# Moodle and Canvas: the LMS's numeric id (Moodle's participant id, Canvas's user id),
# which stays the same when a name is spelled differently and is what their grade
# imports match on; Blackboard: the user name. Otherwise the id is everything before
# the first "_" or " - ". `file_id` keeps Colab's decorations; they are stripped later.
DEFAULT_PATTERN = r"""(?xi)
^
(?:
    (?P<moodle>.*_)(?=\d+_assignsubmission_)    # Moodle: "Full Name_"
  | (?P<canvas>[^_]+_(?:late_)?)(?=\d+_\d+_)    # Canvas: "lastfirst_" and "LATE_"
  | (?P<blackboard>.*_)(?=[^_]+_attempt_\d)      # Blackboard: "Assignment Name_"
)?
(?P<student_id>[^_]+?)
(?(moodle)_assignsubmission_[^_]+_
 |(?(canvas)_\d+_
  |(?(blackboard)_attempt_[\d-]+_
   |(?:\s+-\s+|_))))
(?P<file_id>.+?)
(?:\.ipynb)?$
"""

NOTEBOOK_SUFFIX = ".ipynb"
ZIP_SUFFIX = ".zip"
SKIPPED_FOLDERS = ("__MACOSX", ".ipynb_checkpoints")  # never listed: editor/OS debris
MAX_FOLDER_DEPTH = 2  # STUDENT/NOTEBOOK.ipynb or STUDENT/ASSIGNMENT/NOTEBOOK.ipynb
MAX_NOTEBOOK_BYTES = 100 * 2**20
COPY_PREFIX = re.compile(r"^(?:copy of|copia de|copie de|kopie von|cópia de)\s+", re.I)
COPY_SUFFIX = re.compile(r"(?:\s*\(\d+\)|-\d+|\s+-\s+copy|\s+copy)$", re.I)
UNSAFE_ID_CHARACTERS = re.compile(r"[^A-Za-z0-9._@-]")
ZIP_READ_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    RuntimeError,  # encrypted entry
    NotImplementedError,  # unsupported compression
    zlib.error,
    EOFError,
    OSError,
)


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


class InputError(Exception):
    """SUBMISSIONS as a whole is unusable: missing, not a folder, or without files."""


@dataclass(frozen=True)
class _Found:
    """A file found on disk or in a zip, not yet read (read() works for a zip entry
    only while the walk is at it: the zip is closed when the walk moves on)."""

    parts: tuple[str, ...]  # folders on disk and inside zips, then the file name
    source: str
    modified: float
    size: int
    read: Callable[[], bytes]


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
    for found in _walk(root):
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


def compiled_pattern(pattern: str | re.Pattern[str]) -> re.Pattern[str]:
    """The pattern compiled; InputError unless it has groups student_id and file_id."""
    try:
        regexp = re.compile(pattern) if isinstance(pattern, str) else pattern
    except re.error as error:
        message = f"the file name pattern is not a regular expression: {error}"
        raise InputError(message) from error
    missing = {"student_id", "file_id"} - set(regexp.groupindex)
    if missing:
        raise InputError(
            "the file name pattern needs the named groups (?P<student_id>…) and "
            f"(?P<file_id>…); it lacks {', '.join(sorted(missing))}"
        )
    return regexp


def safe_student_id(raw: str) -> str:
    """The id made safe as a folder name ("" if nothing usable is left).

    Accents are dropped (José -> Jose), path separators and runs of whitespace become
    "_", characters outside [A-Za-z0-9._@-] are removed, and so are leading dots
    and underscores (nbgrader ignores folders starting with a dot).
    """
    text = unicodedata.normalize("NFKD", raw)
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = re.sub(r"[\s/\\]+", "_", text.strip())
    return UNSAFE_ID_CHARACTERS.sub("", text).lstrip("._").rstrip("_")


def released_stem(name: str, notebooks: Sequence[str] = NOTEBOOKS) -> str | None:
    """The released notebook a (possibly Colab-decorated) name stands for, if any."""
    wanted = _name_key(_undecorated(name))
    return next((stem for stem in notebooks if _name_key(stem) == wanted), None)


def _undecorated(name: str) -> str:
    """The name without extension, "Copy of " prefixes and " (1)"/"-1" suffixes."""
    name = name.strip()
    if name.lower().endswith(NOTEBOOK_SUFFIX):
        name = name[: -len(NOTEBOOK_SUFFIX)]
    previous = None
    while previous != name:
        previous = name
        name = COPY_SUFFIX.sub("", COPY_PREFIX.sub("", name)).strip()
    return name


def _name_key(name: str) -> str:
    """How names are compared: case-insensitive, spaces and underscores alike."""
    return re.sub(r"[\s_]+", "_", name.strip()).casefold()


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


def _walk(root: Path) -> Iterator[_Found | Unmapped]:
    """Every file under root, zips opened; hidden folders reported, not entered."""
    for directory, folders, files in os.walk(root):
        here = Path(directory).relative_to(root).parts
        for name in sorted(folders):
            if name in SKIPPED_FOLDERS:
                folders.remove(name)
            elif name.startswith("."):
                folders.remove(name)
                source = "/".join((*here, name)) + "/"
                yield Unmapped(source, "hidden folder, not searched")
        folders.sort()
        for name in sorted(files):
            yield from _disk_file(Path(directory) / name, (*here, name))


def _disk_file(path: Path, parts: tuple[str, ...]) -> Iterator[_Found | Unmapped]:
    """A file on disk as _Found, or the entries of the zip it is."""
    source = "/".join(parts)
    try:
        stat = path.stat()
    except OSError as error:
        yield Unmapped(source, f"cannot be read: {error.strerror or error}")
        return
    if not path.name.lower().endswith(ZIP_SUFFIX):
        yield _Found(parts, source, stat.st_mtime, stat.st_size, path.read_bytes)
        return
    try:
        with zipfile.ZipFile(path) as archive:
            yield from _zip_entries(archive, parts[:-1], source)
    except ZIP_READ_ERRORS as error:
        yield Unmapped(
            source, f"not a readable zip archive ({error}): download it again"
        )


def _zip_entries(
    archive: zipfile.ZipFile, folders: tuple[str, ...], prefix: str
) -> Iterator[_Found | Unmapped]:
    """The files in an open zip (zips inside it opened too), read lazily."""
    hidden_reported: set[str] = set()
    for info in sorted(archive.infolist(), key=lambda info: info.filename):
        inner = [
            p for p in info.filename.replace("\\", "/").split("/") if p not in ("", ".")
        ]
        if info.is_dir() or not inner or any(p in SKIPPED_FOLDERS for p in inner[:-1]):
            continue
        source = f"{prefix}:{'/'.join(inner)}"
        hidden = next((i for i, p in enumerate(inner[:-1]) if p.startswith(".")), None)
        if hidden is not None:
            folder = f"{prefix}:{'/'.join(inner[: hidden + 1])}/"
            if folder not in hidden_reported:
                hidden_reported.add(folder)
                yield Unmapped(folder, "hidden folder, not searched")
            continue
        parts = (*folders, *inner)
        if inner[-1].lower().endswith(ZIP_SUFFIX):
            yield from _nested_zip(archive, info, parts[:-1], source)
            continue
        yield _Found(
            parts, source, _zip_time(info), info.file_size, _reader(archive, info)
        )


def _nested_zip(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    folders: tuple[str, ...],
    source: str,
) -> Iterator[_Found | Unmapped]:
    """The entries of a zip stored inside another zip, read into memory."""
    try:
        with zipfile.ZipFile(io.BytesIO(archive.read(info))) as inner:
            yield from _zip_entries(inner, folders, source)
    except ZIP_READ_ERRORS as error:
        yield Unmapped(
            source, f"not a readable zip archive ({error}): download it again"
        )


def _reader(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], bytes]:
    """A function that reads one zip entry's bytes."""
    return lambda: archive.read(info)


def _zip_time(info: zipfile.ZipInfo) -> float:
    """A zip entry's date_time (local time, as zip stores it) as a POSIX timestamp."""
    try:
        return time.mktime((*info.date_time, 0, 0, -1))
    except (OverflowError, ValueError):
        return 0.0


def _place(
    found: _Found, notebooks: Sequence[str], pattern: re.Pattern[str]
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
        return _unknown_notebook(_undecorated(name), notebooks)
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
        return _unknown_notebook(_undecorated(match.group("file_id")), notebooks)
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
