"""A prepared course, made once: what `nbgrader generate_assignment` makes, cached.

make_course prepares an nbgrader course from a Course: its config and source
copied, then `nbgrader generate_assignment` run in a subprocess (about 15 s) for the
release and a gradebook that holds the assignment. Every new OUT needs one, and so
do the stock baseline and the self-check; the cache keeps each prepared course
once, under a key made of the course's fingerprint and the versions of what
prepares it, in $XDG_CACHE_HOME/backprop-grader (default ~/.cache/backprop-grader).
A changed course has another key, so it is prepared again.

The cache is a folder someone else could write. It is used only when it is a folder
(not a link) owned by this user with no access for anyone else (0700, as it is
made); otherwise courses are prepared without it. An entry is one file, opened
without following links, used only when it is owned by this user, 0600, and its
header names its key and the SHA-256 of the archive that follows; any other entry
(foreign, corrupt, cut short, of another key) is prepared again and replaced.
Entries are written to a temporary file and renamed over the old one, so two runs
at once each read a whole entry or none.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import stat
import zipfile
from importlib.metadata import version
from pathlib import Path

from ..course import CONFIG_NAME, Course
from ..files import tree_files
from .nbgrader_run import run_nbgrader

CACHE_NAME = "backprop-grader"
FORMAT = "1"  # bump when what a prepared course holds changes
MAGIC = b"backprop-grader prepared course\n"
GRADEBOOK = "gradebook.db"
KEEP = 20  # entries kept, the most recently used
# Versions of what makes a prepared course (its release and gradebook).
PREPARERS = ("nbgrader", "nbformat")


def make_course(root: Path, course: Course, *, cached: bool = True) -> Path:
    """Set up a course at `root` (config, source, generated assignment); return root.

    The prepared course has gradebook.db (the assignment, no students) and
    release/. cached: take it from the cache (and put it there when it is not);
    False runs nbgrader whatever the cache holds.
    """
    root.mkdir(parents=True, exist_ok=True)
    cache = PreparedCache.open() if cached else None
    try:
        key = prepared_key(course)
        archive = cache.load(key, course.assignment) if cache else None
        if archive is not None:
            with zipfile.ZipFile(io.BytesIO(archive)) as opened:
                opened.extractall(root)
            return root
        shutil.copy2(course.config_file, root / CONFIG_NAME)
        shutil.copytree(
            course.source_dir,
            root / "source" / course.assignment,
            ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"),
        )
        run_nbgrader(root, "generate_assignment", course.assignment, "--force")
        if cache:
            cache.store(key, pack(root, course.assignment))
        return root
    finally:
        if cache:
            cache.close()


def prepared_key(course: Course) -> str:
    """What a prepared course depends on, as one SHA-256: the course's source and
    config, and the versions of nbgrader and nbformat that prepare it."""
    made_by = {name: version(name) for name in PREPARERS}
    return hashlib.sha256(
        json.dumps(
            [FORMAT, course.assignment, course.fingerprint(), made_by], sort_keys=True
        ).encode()
    ).hexdigest()


def parts(assignment: str) -> tuple[str, ...]:
    """The paths of a prepared course's root that the cache keeps."""
    return (CONFIG_NAME, GRADEBOOK, f"source/{assignment}", f"release/{assignment}")


def pack(root: Path, assignment: str) -> bytes:
    """The prepared course at `root` as a zip archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for part in parts(assignment):
            path = root / part
            if path.is_file():
                archive.write(path, part)
            else:
                for relative, file in tree_files(path):
                    archive.write(file, f"{part}/{relative}")
    return buffer.getvalue()


def cache_folder() -> Path:
    """$XDG_CACHE_HOME/backprop-grader, or ~/.cache/backprop-grader."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / CACHE_NAME


class PreparedCache:
    """The cache folder, opened once (a file descriptor: later changes to its path
    cannot redirect it), and the entries in it."""

    def __init__(self, descriptor: int) -> None:
        self.descriptor = descriptor

    @classmethod
    def open(cls, folder: Path | None = None) -> PreparedCache | None:
        """The cache at `folder` (default cache_folder()), made 0700 if missing;
        None when it cannot be made or is not this user's alone."""
        folder = folder or cache_folder()
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                os.mkdir(folder, 0o700)
            descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            return None
        found = os.fstat(descriptor)
        if found.st_uid != os.geteuid() or stat.S_IMODE(found.st_mode) & 0o077:
            os.close(descriptor)
            return None
        return cls(descriptor)

    def close(self) -> None:
        os.close(self.descriptor)

    def load(self, key: str, assignment: str) -> bytes | None:
        """The archive of the entry for `key`, or None when there is no usable one."""
        try:
            handle = os.open(
                entry_name(key), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK,
                dir_fd=self.descriptor,
            )  # fmt: skip
        except OSError:
            return None
        with os.fdopen(handle, "rb") as file:
            found = os.fstat(file.fileno())
            if (
                not stat.S_ISREG(found.st_mode)
                or found.st_uid != os.geteuid()
                or stat.S_IMODE(found.st_mode) != 0o600
            ):
                return None
            content = file.read()
        archive = verified(content, key, assignment)
        if archive is not None:  # recently used: kept when the cache is pruned
            with contextlib.suppress(OSError):
                os.utime(entry_name(key), dir_fd=self.descriptor, follow_symlinks=False)
        return archive

    def store(self, key: str, archive: bytes) -> None:
        """Write the entry for `key` whole (a temporary file renamed over it); drop
        the least recently used entries beyond KEEP. A cache that cannot be written
        is left as it is."""
        header = json.dumps({"key": key, "sha256": sha256(archive)}).encode()
        temporary = f".{entry_name(key)}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        try:
            handle = os.open(temporary, flags, 0o600, dir_fd=self.descriptor)
            with os.fdopen(handle, "wb") as file:
                file.write(MAGIC + header + b"\n" + archive)
            os.replace(
                temporary, entry_name(key),
                src_dir_fd=self.descriptor, dst_dir_fd=self.descriptor,
            )  # fmt: skip
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=self.descriptor)
            return
        self._prune()

    def _prune(self) -> None:
        """Remove the least recently used entries beyond KEEP."""
        entries = []
        for name in os.listdir(self.descriptor):
            if name.endswith(".course"):
                with contextlib.suppress(OSError):
                    used = os.stat(name, dir_fd=self.descriptor, follow_symlinks=False)
                    entries.append((used.st_mtime, name))
        for _, name in sorted(entries, reverse=True)[KEEP:]:
            with contextlib.suppress(OSError):
                os.unlink(name, dir_fd=self.descriptor)


def entry_name(key: str) -> str:
    """An entry's file name in the cache."""
    return f"{key}.course"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verified(content: bytes, key: str, assignment: str) -> bytes | None:
    """The archive in an entry's content when its header names `key` and the
    archive's SHA-256, and the archive is a whole zip of a prepared course's parts
    (no name outside them); else None."""
    if not content.startswith(MAGIC):
        return None
    header, _, archive = content[len(MAGIC) :].partition(b"\n")
    try:
        named = json.loads(header)
    except ValueError:
        return None
    if not isinstance(named, dict) or named.get("key") != key:
        return None
    if named.get("sha256") != sha256(archive):
        return None
    allowed = parts(assignment)
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as opened:
            names = opened.namelist()
            if opened.testzip() is not None:
                return None
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    for name in names:
        pieces = name.split("/")
        inside = name in allowed or any(name.startswith(f"{p}/") for p in allowed)
        if not inside or {"..", ".", ""} & set(pieces) or "\\" in name:
            return None
    return archive
