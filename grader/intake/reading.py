"""What a walk of SUBMISSIONS may read and what it finds: the limits, a file found,
a file refused and why, the totals one walk's zips have used so far.

The limits are checked in grader.intake.walk (folders and files on disk) and
grader.intake.zips (archives); the reasons they give are worded here once.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from dataclasses import dataclass

from ..model import MB

ZIP_SUFFIX = ".zip"
SKIPPED_FOLDERS = ("__MACOSX", ".ipynb_checkpoints")  # never listed: editor/OS debris
CHUNK = 256 * 1024  # bytes inflated or read at a time
LINK = "a symbolic link, not followed: copy the file itself there"
KINDS = {
    stat.S_IFIFO: "FIFO",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFSOCK: "socket",
}


@dataclass(frozen=True)
class ReadLimits:
    """How much SUBMISSIONS may make the grader read (README: "Grading a class")."""

    file_bytes: int = 100 * MB  # one file read (a notebook)
    archive_bytes: int = 1024 * MB  # a zip inside a zip
    ratio: int = 200  # inflated : compressed, for members inflating past ratio_floor
    ratio_floor: int = MB
    entries: int = 20_000  # in one zip
    zip_depth: int = 3  # zips inside zips (bulk.zip > student.zip > work.zip)
    folder_depth: int = 16  # folders below SUBMISSIONS on disk
    total_entries: int = 200_000  # in all zips together
    total_bytes: int = 8 * 1024 * MB  # inflated from all zips together


DEFAULT_LIMITS = ReadLimits()


class Refused(Exception):
    """A file not read, and why (the message is the reason listed)."""


@dataclass(frozen=True)
class Found:
    """A file found on disk or in a zip, not yet read (read() works only while the
    walk is at it: the folder or zip is closed when the walk moves on). read()
    raises Refused when the file is over a limit or not what it was listed as."""

    parts: tuple[str, ...]  # folders on disk and inside zips, then the file name
    source: str
    modified: float
    size: int  # as listed: the folder's or the zip header's word for it
    read: Callable[[], bytes]


@dataclass
class WalkState:
    """One walk's limits, what its zips have used so far, and how zips are placed."""

    limits: ReadLimits
    zip_is_folder: Callable[[str], bool | str]
    entries: int = 0
    inflated: int = 0

    def count_entries(self, entries: int) -> None:
        self.entries += entries
        if self.entries > self.limits.total_entries:
            raise Refused(
                f"not opened: the zips in SUBMISSIONS hold more than "
                f"{self.limits.total_entries} entries in all (the limit)"
            )

    def inflate(self, size: int, *, declared: bool = False) -> None:
        """Count `size` bytes inflated (or only check there is room for the size a
        header declares)."""
        if self.inflated + size > self.limits.total_bytes:
            raise Refused(
                f"not read: the zips in SUBMISSIONS inflate to more than "
                f"{size_text(self.limits.total_bytes)} in all (the limit)"
            )
        if not declared:
            self.inflated += size


def too_large(limit: int, declared: str = "") -> str:
    return f"{declared}larger than {size_text(limit)} (the limit): not read"


def size_text(size: int) -> str:
    """A size as people read it: "3072 MB", "1.5 MB", "600 KB", "12 bytes"."""
    if size >= MB:
        return f"{size / MB:.{0 if size % MB == 0 or size >= 10 * MB else 1}f} MB"
    return f"{size // 1024} KB" if size >= 1024 else f"{size} bytes"


def not_regular(mode: int) -> str:
    kind = KINDS.get(stat.S_IFMT(mode), "special file")
    return f"a {kind}, not a regular file: not read"
